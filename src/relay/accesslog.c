/*
 * accesslog — formatting and writing the per-session JSON line.
 *
 * Field names are stable (operators parse them); new fields are only ever added.
 */
#include "plrelay/accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plrelay/log.h"

struct plr_accesslog {
    int fd;      /* -1 when off */
    int owns_fd; /* 1 when we opened a file */
};

struct plr_accesslog *plr_accesslog_open(const char *target, char *err, size_t err_len)
{
    struct plr_accesslog *log = calloc(1, sizeof(*log));

    if (log == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    log->fd = -1;
    if (strcmp(target, "off") == 0)
        return log;
    if (strcmp(target, "stderr") == 0) {
        log->fd = STDERR_FILENO;
        return log;
    }
    log->fd = open(target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (log->fd == -1) {
        snprintf(err, err_len, "access_log: cannot open %s: %s", target, strerror(errno));
        free(log);
        return NULL;
    }
    log->owns_fd = 1;
    return log;
}

void plr_accesslog_close(struct plr_accesslog *log)
{
    if (log == NULL)
        return;
    if (log->owns_fd)
        close(log->fd);
    free(log);
}

static void put_raw(char *buf, size_t cap, size_t *pos, const char *s)
{
    size_t n = strlen(s);

    if (*pos + n >= cap)
        n = *pos < cap ? cap - 1 - *pos : 0;
    memcpy(buf + *pos, s, n);
    *pos += n;
    buf[*pos] = '\0';
}

static void put_str_field(char *buf, size_t cap, size_t *pos, const char *key, const char *val)
{
    put_raw(buf, cap, pos, key);
    put_raw(buf, cap, pos, "\"");
    plr_log_json_escape(buf, cap, pos, val);
    put_raw(buf, cap, pos, "\"");
}

static void put_bytes_field(char *buf, size_t cap, size_t *pos, const char *key, const uint8_t *val,
                            size_t len)
{
    put_raw(buf, cap, pos, key);
    put_raw(buf, cap, pos, "\"");
    if (val != NULL)
        plr_log_json_escape_bytes(buf, cap, pos, val, len);
    put_raw(buf, cap, pos, "\"");
}

size_t plr_accesslog_format(const struct plr_access_record *rec, char *buf, size_t buf_len)
{
    char ts[40], num[160];
    size_t pos = 0;

    buf[0] = '\0';
    plr_log_timestamp(ts, sizeof(ts));
    put_str_field(buf, buf_len, &pos, "{\"time\":", ts);
    put_str_field(buf, buf_len, &pos, ",\"route\":", rec->route);
    put_str_field(buf, buf_len, &pos, ",\"client\":", rec->client);
    put_str_field(buf, buf_len, &pos, ",\"upstream\":", rec->upstream);
    put_str_field(buf, buf_len, &pos, ",\"upstream_addr\":", rec->upstream_addr);
    snprintf(num, sizeof(num),
             ",\"attempts\":%u,\"bytes_in\":%llu,\"bytes_out\":%llu,\"connect_ms\":%.3f,"
             "\"duration_ms\":%.3f,\"status\":%d",
             rec->attempts, (unsigned long long)rec->bytes_in, (unsigned long long)rec->bytes_out,
             rec->connect_ms, rec->duration_ms, rec->status);
    put_raw(buf, buf_len, &pos, num);
    put_str_field(buf, buf_len, &pos, ",\"reason\":", rec->reason);
    put_str_field(buf, buf_len, &pos,
                  ",\"real_client\":", rec->real_client != NULL ? rec->real_client : rec->client);
    put_bytes_field(buf, buf_len, &pos, ",\"vpc_id\":", rec->vpc_id, rec->vpc_id_len);
    put_bytes_field(buf, buf_len, &pos, ",\"endpoint_id\":", rec->endpoint_id,
                    rec->endpoint_id_len);
    put_bytes_field(buf, buf_len, &pos, ",\"endpoint_service_id\":", rec->endpoint_service_id,
                    rec->endpoint_service_id_len);
    put_str_field(buf, buf_len, &pos, ",\"detail\":", rec->detail != NULL ? rec->detail : "");
    put_raw(buf, buf_len, &pos, "}\n");
    if (buf[pos - 1] != '\n') { /* truncated: still end the line */
        buf[pos - 1] = '\n';
    }
    return pos;
}

int plr_accesslog_enabled(const struct plr_accesslog *log)
{
    return log != NULL && log->fd != -1;
}

void plr_accesslog_write(struct plr_accesslog *log, const struct plr_access_record *rec)
{
    char line[PLR_ACCESSLOG_LINE_MAX];
    size_t len;

    if (log == NULL || log->fd == -1)
        return;
    len = plr_accesslog_format(rec, line, sizeof(line));
    /* One write per line; a short write on a full disk loses the line's tail, not others. */
    while (write(log->fd, line, len) == -1 && errno == EINTR)
        ;
}
