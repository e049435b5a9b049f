/*
 * accesslog — one JSON line per finished session.
 *
 * The sink is stderr, a file opened O_APPEND, or nothing ("off"). Each record is formatted into
 * one buffer and written with a single write(2), so lines from several workers never mix.
 * Strings are JSON-escaped; a record never exceeds PLR_ACCESSLOG_LINE_MAX bytes.
 */
#ifndef PLRELAY_ACCESSLOG_H
#define PLRELAY_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

#define PLR_ACCESSLOG_LINE_MAX 2048

struct plr_accesslog;

/* What one session reports when it ends. Strings may be "" but not NULL. */
struct plr_access_record {
    const char *route;
    const char *client;        /* "ip:port" of the peer that connected to us */
    const char *upstream;      /* configured "host:port", "" if none was chosen */
    const char *upstream_addr; /* resolved "ip:port" last tried, "" if none */
    unsigned attempts;         /* connect attempts made */
    uint64_t bytes_in;         /* client → upstream */
    uint64_t bytes_out;        /* upstream → client */
    double connect_ms;         /* accept → upstream connected; -1 when never connected */
    double duration_ms;        /* accept → end */
    int status;                /* 200 400 403 500 502 503 504 */
    const char *reason;        /* termination reason, e.g. "client_eof", "upstream_timeout" */
    /* Ingress (PROXY protocol); NULL / 0 when absent. Ids are raw bytes, escaped on output. */
    const char *real_client; /* "ip:port" from the PROXY header, else the client */
    const uint8_t *vpc_id;
    size_t vpc_id_len;
    const uint8_t *endpoint_id;
    size_t endpoint_id_len;
    const uint8_t *endpoint_service_id;
    size_t endpoint_service_id_len;
    const char *detail; /* human detail: the rule that denied, the header defect */
};

/* "stderr", "off" or a path (created 0640, appended). NULL with err filled on failure. */
struct plr_accesslog *plr_accesslog_open(const char *target, char *err, size_t err_len);
void plr_accesslog_write(struct plr_accesslog *log, const struct plr_access_record *rec);
/* 0 for "off" (or NULL): callers skip building the record, which formats addresses. */
int plr_accesslog_enabled(const struct plr_accesslog *log);
void plr_accesslog_close(struct plr_accesslog *log); /* accepts NULL */

/* Format rec as one JSON line (with '\n') into buf; returns its length. Exposed for tests. */
size_t plr_accesslog_format(const struct plr_access_record *rec, char *buf, size_t buf_len);

#endif
