/*
 * log — the levelled error log (stderr) and the per-session context that goes with it.
 *
 * One write(2) per line so lines from several worker threads never interleave. The level is a
 * process-wide setting (an atomic), changed at start and on reload. The access log, one JSON
 * line per session, lives in accesslog.h.
 */
#ifndef PLRELAY_LOG_H
#define PLRELAY_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "plrelay/config.h"

#define PLR_LOG_LINE_MAX 2048 /* longer messages are truncated with "..." */

void plr_log_set_level(enum plr_log_level level);
enum plr_log_level plr_log_get_level(void);
int plr_log_enabled(enum plr_log_level level);

/* Write "2026-11-28T09:27:21.123Z [level] message\n" to stderr when level is enabled. */
void plr_log(enum plr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void plr_log_v(enum plr_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Route libevent's own messages (evdns nameserver failures, …) through plr_log. */
void plr_log_capture_libevent(void);

/* Format the current UTC time as ISO 8601 with milliseconds into buf (>= 32 bytes). */
void plr_log_timestamp(char *buf, size_t buf_len);

/* Append `s` JSON-escaped (no quotes added) to dst[*pos..cap); never overflows, always
 * NUL-terminates; bytes that are not printable ASCII become \u00XX. */
void plr_log_json_escape(char *dst, size_t cap, size_t *pos, const char *s);

/* The same for len raw bytes, which may contain NUL (PROXY protocol TLV ids). */
void plr_log_json_escape_bytes(char *dst, size_t cap, size_t *pos, const uint8_t *s, size_t len);

#endif
