/*
 * log — levelled error log to stderr.
 *
 * Each line is formatted into a stack buffer and written with a single write(2), so lines from
 * several worker threads never interleave and no lock is needed. The level is one atomic.
 */
#include "plrelay/log.h"
#include "plrelay/fileio.h"

#include <errno.h>
#include <event2/event.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = PLR_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void plr_log_set_level(enum plr_log_level level)
{
    atomic_store(&log_level, (int)level);
}

enum plr_log_level plr_log_get_level(void)
{
    return (enum plr_log_level)atomic_load(&log_level);
}

int plr_log_enabled(enum plr_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void plr_log_timestamp(char *buf, size_t buf_len)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, buf_len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
}

void plr_log_v(enum plr_log_level level, const char *fmt, va_list ap)
{
    char line[PLR_LOG_LINE_MAX];
    char ts[40];
    int errno_saved = errno;

    if (!plr_log_enabled(level))
        return;
    plr_log_timestamp(ts, sizeof(ts));
    int head = snprintf(line, sizeof(line), "%s [%s] ", ts, level_names[level]);
    if (head < 0)
        return;
    errno = errno_saved; /* keep %m meaningful */
    int body = vsnprintf(line + head, sizeof(line) - (size_t)head, fmt, ap);
    size_t len = (size_t)head + (body < 0 ? 0 : (size_t)body);
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2;
        memcpy(line + len - 3, "...", 3);
    }
    line[len++] = '\n';
    plr_write_all(STDERR_FILENO, line, len);
    errno = errno_saved;
}

void plr_log(enum plr_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    plr_log_v(level, fmt, ap);
    va_end(ap);
}

void plr_log_json_escape_bytes(char *dst, size_t cap, size_t *pos, const uint8_t *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t p = *pos;

    if (cap == 0)
        return;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        char esc[7];
        size_t n;

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else if (c < 0x20 || c >= 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            n = 6;
        } else {
            esc[0] = (char)c;
            n = 1;
        }
        if (p + n >= cap)
            break;
        memcpy(dst + p, esc, n);
        p += n;
    }
    dst[p < cap ? p : cap - 1] = '\0';
    *pos = p;
}

void plr_log_json_escape(char *dst, size_t cap, size_t *pos, const char *s)
{
    plr_log_json_escape_bytes(dst, cap, pos, (const uint8_t *)s, strlen(s));
}

/* libevent (and evdns) messages go through our log with our format, never raw to stderr. */
static void on_libevent_log(int severity, const char *msg)
{
    enum plr_log_level level = PLR_LOG_DEBUG;

    if (severity == EVENT_LOG_ERR)
        level = PLR_LOG_ERROR;
    else if (severity == EVENT_LOG_WARN)
        level = PLR_LOG_WARN;
    else if (severity == EVENT_LOG_MSG)
        level = PLR_LOG_INFO;
    plr_log(level, "libevent: %s", msg);
}

void plr_log_capture_libevent(void)
{
    event_set_log_callback(on_libevent_log);
}
