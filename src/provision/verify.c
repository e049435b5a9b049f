/*
 * verify — the cloud-side rows of `verify`, the report's rendering and the secret reader
 * (include/plprov/verify.h). The Elasticsearch REST rows of topology nlb-ip live in verify_es.c.
 *
 * The rows follow the hops a byte takes: load balancer → listener(s) → backends (CLB health) →
 * endpoint service → ES-side connection → (nlb-ip) the reindex whitelist and the data-plane check.
 * Most hops were already read by prov_inspect_read; only the CLB listener status and backend
 * health are read here, through the typed reads of clb.h. Verify stops at the first failed row so
 * the last row always names the broken hop. As a backstop, every row is passed through
 * prov_api_redact with both passwords before verify returns, whatever a server echoed.
 */
#include "plprov/verify.h"
#include "plprov/es.h"
#include "verify_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX_BYTES 4096 /* longest password accepted from a variable or a file */

/* ---- rows ----------------------------------------------------------------------------------- */

/* Length of the UTF-8 sequence starting at s[0] (2..4), with the allowed range of its second
 * byte, or 0 for a byte that cannot start one. Overlongs and surrogates are refused, as jansson
 * refuses them. */
static size_t utf8_lead(unsigned char ch, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xbf;
    if (ch >= 0xc2 && ch <= 0xdf) {
        return 2;
    }
    if (ch >= 0xe0 && ch <= 0xef) {
        *lo = ch == 0xe0 ? 0xa0 : 0x80;
        *hi = ch == 0xed ? 0x9f : 0xbf;
        return 3;
    }
    if (ch >= 0xf0 && ch <= 0xf4) {
        *lo = ch == 0xf0 ? 0x90 : 0x80;
        *hi = ch == 0xf4 ? 0x8f : 0xbf;
        return 4;
    }
    return 0;
}

void prov_verify_printable(char *s)
{
    size_t i = 0, len = strlen(s), n, k;
    unsigned char lo, hi, ch;

    while (i < len) {
        ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f) {
            s[i++] = ' ';
            continue;
        }
        if (ch < 0x80) {
            i++;
            continue;
        }
        n = utf8_lead(ch, &lo, &hi);
        for (k = 1; n > 0 && k < n && i + k < len; k++) {
            unsigned char c = (unsigned char)s[i + k];
            if (k == 1 ? (c < lo || c > hi) : (c & 0xc0) != 0x80) {
                break;
            }
        }
        if (n > 0 && k < n && i + k == len) {
            s[i] = '\0'; /* a sequence cut by truncation: drop it */
            return;
        }
        if (n == 0 || k < n) {
            s[i++] = '?';
            continue;
        }
        i += n;
    }
}

int prov_verify_row(struct prov_verify_report *r, const char *hop, int ok, const char *fmt, ...)
{
    struct prov_verify_check *c;
    va_list ap;

    if (r->count >= PROV_VERIFY_MAX_CHECKS) {
        c = &r->checks[PROV_VERIFY_MAX_CHECKS - 1];
        snprintf(c->hop, sizeof(c->hop), "verify");
        c->ok = 0;
        snprintf(c->detail, sizeof(c->detail), "more than %d checks: the rest were not run",
                 PROV_VERIFY_MAX_CHECKS);
        return 1;
    }
    c = &r->checks[r->count++];
    snprintf(c->hop, sizeof(c->hop), "%s", hop);
    c->ok = ok != 0;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
    prov_verify_printable(c->hop);
    prov_verify_printable(c->detail);
    return c->ok ? 0 : 1;
}

static int out_of_memory(struct prov_verify_report *r)
{
    prov_verify_row(r, "verify", 0, "out of memory");
    return -1;
}

/* What the detail of a hop says when inspect did not find it: a read error, or plain absence. */
static const char *first_error(const struct prov_actual *a)
{
    return a->error_count > 0 ? a->errors[0] : "no answer";
}

static const char *or_none(const char *s)
{
    return s[0] != '\0' ? s : "(none)";
}

/* ---- hops shared by both topologies --------------------------------------------------------- */

static int check_service(const struct prov_actual *a, const char *lb_id,
                         struct prov_verify_report *r)
{
    int ok;

    if (!a->service_found) {
        if (a->service_error) {
            return prov_verify_row(r, "endpoint service", 0, "could not be read: %s",
                                   first_error(a));
        }
        return prov_verify_row(r, "endpoint service", 0,
                               "no endpoint service has %s as its resource (run apply)", lb_id);
    }
    ok = strcmp(a->service.status, "Active") == 0;
    return prov_verify_row(r, "endpoint service", ok, "%s %s%s", a->service.id,
                           or_none(a->service.status), ok ? "" : ", want Active");
}

static int check_connection(const struct prov_config *cfg, const struct prov_actual *a,
                            struct prov_verify_report *r)
{
    const char *cs = prov_inspect_connection_status(a);
    const char *es = a->endpoint.connection_status;
    int ok;

    if (!a->endpoint_found) {
        if (a->es_error) {
            return prov_verify_row(r, "es connection", 0, "could not be read: %s", first_error(a));
        }
        return prov_verify_row(r, "es connection", 0,
                               "%s has no private connection to %s (run apply)",
                               cfg->es_instance_id, a->service.id);
    }
    ok = strcmp(cs, "Connected") == 0 || strcmp(es, "Connected") == 0;
    return prov_verify_row(r, "es connection", ok, "%s %s, domain %s%s", a->endpoint.id,
                           ok ? "Connected" : or_none(cs[0] != '\0' ? cs : es),
                           or_none(a->endpoint.domain),
                           ok ? "" : ", want Connected (apply accepts a Pending connection)");
}

/* ---- clb-ecs --------------------------------------------------------------------------------- */

static int check_clb(const struct prov_config *cfg, const struct prov_actual *a,
                     struct prov_verify_report *r)
{
    int ok;

    if (!a->lb_found) {
        if (a->lb_error) {
            return prov_verify_row(r, "clb", 0, "could not be read: %s", first_error(a));
        }
        return prov_verify_row(r, "clb", 0, "no CLB named %s in %s (run apply)", cfg->name,
                               cfg->region);
    }
    ok = strcmp(a->clb.lb.status, "active") == 0;
    return prov_verify_row(r, "clb", ok, "%s %s, address %s%s", a->clb.lb.id,
                           or_none(a->clb.lb.status), or_none(a->clb.lb.address),
                           ok ? "" : ", want active");
}

static int check_clb_listener(struct prov_apiclient *c, const struct prov_config *cfg,
                              const struct prov_actual *a, uint16_t port,
                              struct prov_verify_report *r)
{
    char hop[PROV_VERIFY_HOP_BYTES], status[32], err[PROV_API_ERROR_BYTES];
    int rc, ok;

    snprintf(hop, sizeof(hop), "clb listener %u", (unsigned)port);
    rc = prov_clb_listener_status(c, cfg->region, a->clb.lb.id, port, status, sizeof(status), err,
                                  sizeof(err));
    if (rc < 0) {
        return prov_verify_row(r, hop, 0, "%s", err);
    }
    if (rc == 1) {
        return prov_verify_row(r, hop, 0, "%s has no TCP listener on %u (run apply)", a->clb.lb.id,
                               (unsigned)port);
    }
    ok = strcmp(status, "running") == 0;
    return prov_verify_row(r, hop, ok, "tcp %u %s%s", (unsigned)port, or_none(status),
                           ok ? "" : ", want running");
}

/* Appends printf text at *len in buf[size], keeping it NUL-terminated; silently stops at the end
 * (prov_verify_row truncates the same way). */
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*len + 1 >= size) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        *len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
    }
}

/* The status of server_id in this listener's health rows, "absent" when it has none. */
static const char *health_of(const struct prov_clb_health *h, size_t n, uint16_t port,
                             const char *server_id)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if ((h[i].listener_port == 0 || h[i].listener_port == port) &&
            strcmp(h[i].server_id, server_id) == 0) {
            return or_none(h[i].status);
        }
    }
    return "absent";
}

static int check_clb_backends(struct prov_apiclient *c, const struct prov_config *cfg,
                              const struct prov_actual *a, uint16_t port, struct prov_clb_health *h,
                              struct prov_verify_report *r)
{
    char hop[PROV_VERIFY_HOP_BYTES], err[PROV_API_ERROR_BYTES], list[PROV_VERIFY_DETAIL_BYTES];
    char bad[PROV_VERIFY_DETAIL_BYTES];
    size_t n = 0, i, rows = 0, normal = 0, len = 0, bad_len = 0;
    int rc;

    snprintf(hop, sizeof(hop), "clb backends %u", (unsigned)port);
    rc = prov_clb_describe_health(c, cfg->region, a->clb.lb.id, port, h, PROV_CLB_MAX_HEALTH, &n,
                                  err, sizeof(err));
    if (rc < 0) {
        return prov_verify_row(r, hop, 0, "%s", err);
    }
    for (i = 0; rc == 0 && i < n; i++) {
        if (h[i].listener_port == 0 || h[i].listener_port == port) {
            rows++;
            normal += strcasecmp(h[i].status, "normal") == 0; /* names UNCONFIRMED */
        }
    }
    list[0] = bad[0] = '\0';
    for (i = 0; i < cfg->ecs_instance_count; i++) {
        const char *st = rc == 0 ? health_of(h, n, port, cfg->ecs_instances[i]) : "absent";
        append(list, sizeof(list), &len, "%s%s %s", i > 0 ? ", " : "", cfg->ecs_instances[i], st);
        if (strcasecmp(st, "normal") != 0) {
            append(bad, sizeof(bad), &bad_len, "%s%s", bad_len > 0 ? ", " : "",
                   cfg->ecs_instances[i]);
        }
    }
    return prov_verify_row(r, hop, normal > 0, "%zu of %zu backends normal: %s%s%s%s", normal, rows,
                           len > 0 ? list : "(no ECS instances configured)",
                           bad_len > 0 ? "; not normal: " : "", bad,
                           normal > 0 ? "" : " (no backend passes the health check)");
}

static int verify_clb(struct prov_apiclient *c, const struct prov_config *cfg,
                      const struct prov_actual *a, struct prov_verify_report *r)
{
    struct prov_clb_health *health;
    size_t i;
    int rc;

    rc = check_clb(cfg, a, r);
    if (rc != 0) {
        return rc;
    }
    if (c == NULL && cfg->listener_port_count > 0) {
        return prov_verify_row(r, "clb listener", 0, "no OpenAPI client to read listeners with");
    }
    health = calloc(PROV_CLB_MAX_HEALTH, sizeof(*health));
    if (health == NULL) {
        return out_of_memory(r);
    }
    for (i = 0; rc == 0 && i < cfg->listener_port_count; i++) {
        rc = check_clb_listener(c, cfg, a, cfg->listener_ports[i], r);
        if (rc == 0) {
            rc = check_clb_backends(c, cfg, a, cfg->listener_ports[i], health, r);
        }
    }
    free(health);
    if (rc == 0) {
        rc = check_service(a, a->clb.lb.id, r);
    }
    return rc != 0 ? rc : check_connection(cfg, a, r);
}

/* ---- nlb-ip ---------------------------------------------------------------------------------- */

static int check_nlb(const struct prov_config *cfg, const struct prov_actual *a,
                     struct prov_verify_report *r)
{
    int ok;

    if (!a->lb_found) {
        if (a->lb_error) {
            return prov_verify_row(r, "nlb", 0, "could not be read: %s", first_error(a));
        }
        return prov_verify_row(r, "nlb", 0, "no NLB named %s in %s (run apply)", cfg->name,
                               cfg->region);
    }
    ok = strcmp(a->nlb.status, "Active") == 0;
    return prov_verify_row(r, "nlb", ok, "%s %s%s%s%s", a->nlb.id, or_none(a->nlb.status),
                           a->nlb.dns_name[0] != '\0' ? ", dns " : "", a->nlb.dns_name,
                           ok ? "" : ", want Active");
}

static int check_nlb_listener(const struct prov_config *cfg, const struct prov_actual *a,
                              struct prov_verify_report *r)
{
    int ok;

    if (!a->listener_found) {
        return prov_verify_row(r, "nlb listener", 0, "%s has no listener on TCP %u (run apply)",
                               a->nlb.id, (unsigned)cfg->nlb_listener_port);
    }
    ok = strcmp(a->listener.status, "Running") == 0;
    return prov_verify_row(r, "nlb listener", ok, "%s TCP %u %s%s", a->listener.id,
                           (unsigned)cfg->nlb_listener_port, or_none(a->listener.status),
                           ok ? "" : ", want Running");
}

/* 1 when the comma-separated list holds want as one entry (spaces around entries ignored, host
 * names compared without case). */
static int check_whitelist(const struct prov_config *cfg, const struct prov_actual *a,
                           struct prov_verify_report *r)
{
    char want[320];

    if (!a->es_found) {
        return prov_verify_row(r, "es whitelist", 0, "%s could not be read: %s",
                               cfg->es_instance_id,
                               a->es_error ? first_error(a) : "DescribeInstance found nothing");
    }
    snprintf(want, sizeof(want), "%s:%u", a->endpoint.domain, (unsigned)cfg->nlb_listener_port);
    if (prov_es_whitelist_has(a->es.reindex_whitelist, want)) {
        return prov_verify_row(r, "es whitelist", 1, "reindex.remote.whitelist holds %s", want);
    }
    return prov_verify_row(
        r, "es whitelist", 0, "reindex.remote.whitelist = %s: missing %s (run apply)",
        a->es.reindex_whitelist[0] != '\0' ? a->es.reindex_whitelist : "(empty)", want);
}

static int verify_nlb(const struct prov_config *cfg, const struct prov_actual *a,
                      const struct prov_verify_secrets *s, const struct prov_verify_options *o,
                      struct prov_verify_report *r)
{
    int rc = check_nlb(cfg, a, r);

    if (rc == 0) {
        rc = check_nlb_listener(cfg, a, r);
    }
    if (rc == 0) {
        rc = check_service(a, a->nlb.id, r);
    }
    if (rc == 0) {
        rc = check_connection(cfg, a, r);
    }
    if (rc == 0) {
        rc = check_whitelist(cfg, a, r);
    }
    return rc != 0 ? rc : prov_verify_es(cfg, a, s, o, r);
}

int prov_verify_run(struct prov_apiclient *c, const struct prov_config *cfg,
                    const struct prov_actual *a, const struct prov_verify_secrets *s,
                    const struct prov_verify_options *o, struct prov_verify_report *out)
{
    static const struct prov_verify_secrets no_secrets;
    static const struct prov_verify_options no_options;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    out->source_count = -1;
    out->dest_count = -1;
    s = s != NULL ? s : &no_secrets;
    o = o != NULL ? o : &no_options;
    switch (cfg->topology) {
    case PROV_TOPOLOGY_CLB_ECS:
        rc = verify_clb(c, cfg, a, out);
        break;
    case PROV_TOPOLOGY_NLB_IP:
        rc = verify_nlb(cfg, a, s, o, out);
        break;
    default:
        rc = prov_verify_row(out, "topology", 0, "[path] topology is %s: want clb-ecs or nlb-ip",
                             prov_config_topology_name(cfg->topology));
        break;
    }
    for (i = 0; i < out->count; i++) {
        prov_api_redact(out->checks[i].detail, sizeof(out->checks[i].detail), s->es_password);
        prov_api_redact(out->checks[i].detail, sizeof(out->checks[i].detail), s->remote_password);
    }
    out->ok = rc == 0;
    return rc;
}

/* ---- rendering ------------------------------------------------------------------------------ */

static const char *failed_hop(const struct prov_verify_report *r)
{
    size_t i;

    for (i = 0; i < r->count && i < PROV_VERIFY_MAX_CHECKS; i++) {
        if (!r->checks[i].ok) {
            return r->checks[i].hop;
        }
    }
    return NULL;
}

/* A printable, valid UTF-8 copy of a row field (the report may be hand-built). */
static void clean_copy(char *dst, size_t size, const char *src, size_t src_size)
{
    snprintf(dst, size, "%.*s", (int)strnlen(src, src_size), src);
    prov_verify_printable(dst);
}

static int render_text(const struct prov_verify_report *r, const char *failed, int ok, char **out)
{
    size_t n = r->count < PROV_VERIFY_MAX_CHECKS ? r->count : PROV_VERIFY_MAX_CHECKS;
    size_t cap = 128 + (n + 1) * (PROV_VERIFY_HOP_BYTES + PROV_VERIFY_DETAIL_BYTES + 16);
    size_t len = 0, i;
    char hop[PROV_VERIFY_HOP_BYTES], detail[PROV_VERIFY_DETAIL_BYTES], fail_hop[64];
    char *buf = malloc(cap);

    if (buf == NULL) {
        return -1;
    }
    buf[0] = '\0';
    append(buf, cap, &len, "%-22s %-3s %s\n", "HOP", "OK", "DETAIL");
    for (i = 0; i < n; i++) {
        clean_copy(hop, sizeof(hop), r->checks[i].hop, sizeof(r->checks[i].hop));
        clean_copy(detail, sizeof(detail), r->checks[i].detail, sizeof(r->checks[i].detail));
        append(buf, cap, &len, "%-22s %-3s %s\n", hop, r->checks[i].ok ? "yes" : "NO", detail);
    }
    if (ok) {
        append(buf, cap, &len, "verify: ok\n");
    } else if (failed != NULL) {
        clean_copy(fail_hop, sizeof(fail_hop), failed, PROV_VERIFY_HOP_BYTES);
        append(buf, cap, &len, "verify: FAILED at %s\n", fail_hop);
    } else {
        append(buf, cap, &len, "verify: FAILED\n");
    }
    *out = buf;
    return 0;
}

static json_t *count_or_null(long n)
{
    return n >= 0 ? json_integer(n) : json_null();
}

static int render_json(const struct prov_verify_report *r, const char *failed, int ok, char **out)
{
    size_t n = r->count < PROV_VERIFY_MAX_CHECKS ? r->count : PROV_VERIFY_MAX_CHECKS, i;
    char hop[PROV_VERIFY_HOP_BYTES], detail[PROV_VERIFY_DETAIL_BYTES];
    json_t *checks = json_array(), *doc = NULL;
    int rc = -1;

    if (checks == NULL) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        clean_copy(hop, sizeof(hop), r->checks[i].hop, sizeof(r->checks[i].hop));
        clean_copy(detail, sizeof(detail), r->checks[i].detail, sizeof(r->checks[i].detail));
        if (json_array_append_new(checks, json_pack("{s:s, s:b, s:s}", "hop", hop, "ok",
                                                    r->checks[i].ok != 0, "detail", detail)) != 0) {
            goto cleanup;
        }
    }
    if (failed != NULL) {
        clean_copy(hop, sizeof(hop), failed, PROV_VERIFY_HOP_BYTES);
    }
    doc = json_pack("{s:b, s:o, s:o, s:o, s:O}", "ok", ok, "failed_hop",
                    failed != NULL ? json_string(hop) : json_null(), "source_count",
                    count_or_null(r->source_count), "dest_count", count_or_null(r->dest_count),
                    "checks", checks);
    if (doc == NULL) {
        goto cleanup;
    }
    *out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    rc = *out != NULL ? 0 : -1;
cleanup:
    json_decref(doc);
    json_decref(checks);
    return rc;
}

int prov_verify_render(const struct prov_verify_report *r, int json, char **out)
{
    const char *failed = failed_hop(r);
    int ok = r->ok && failed == NULL;

    *out = NULL;
    return json ? render_json(r, failed, ok, out) : render_text(r, failed, ok, out);
}

/* ---- secrets --------------------------------------------------------------------------------- */

static int secret_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int secret_err(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && err_size > 0) {
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Reads at most max bytes of fd into buf; -1 on a read error (errno set). */
static ssize_t read_all(int fd, char *buf, size_t max)
{
    size_t got = 0;
    ssize_t n;

    while (got < max) {
        n = read(fd, buf + got, max - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static int secret_from_file(const char *file, char **out, char *err, size_t err_size)
{
    struct stat st;
    char *buf = NULL;
    ssize_t n;
    size_t len;
    int fd, rc = -1;

    fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return secret_err(err, err_size, "%s: cannot open: %s", file, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        secret_err(err, err_size, "%s: cannot stat: %s", file, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        secret_err(err, err_size, "%s: not a regular file", file);
        goto cleanup;
    }
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        secret_err(err, err_size,
                   "%s: permissions %04o let group or others read the password; refusing it "
                   "(run: chmod 600 %s)",
                   file, (unsigned)(st.st_mode & 07777), file);
        goto cleanup;
    }
    buf = malloc(SECRET_MAX_BYTES + 2);
    if (buf == NULL) {
        secret_err(err, err_size, "%s: out of memory", file);
        goto cleanup;
    }
    n = read_all(fd, buf, SECRET_MAX_BYTES + 1);
    if (n < 0) {
        secret_err(err, err_size, "%s: cannot read: %s", file, strerror(errno));
        goto cleanup;
    }
    len = (size_t)n;
    if (len > SECRET_MAX_BYTES) {
        secret_err(err, err_size, "%s: longer than %d bytes", file, SECRET_MAX_BYTES);
        goto cleanup;
    }
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
        if (len > 0 && buf[len - 1] == '\r') {
            len--;
        }
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        secret_err(err, err_size, "%s: holds a NUL byte", file);
    } else if (len == 0) {
        secret_err(err, err_size, "%s: is empty", file);
    } else {
        *out = buf;
        buf = NULL;
        rc = 0;
    }
cleanup:
    if (buf != NULL) {
        OPENSSL_cleanse(buf, SECRET_MAX_BYTES + 2);
        free(buf);
    }
    close(fd);
    return rc;
}

int prov_secret_read(const char *env_name, const char *file, char **out, char *err, size_t err_size)
{
    const char *v;

    *out = NULL;
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    if (env_name != NULL && env_name[0] != '\0') {
        v = getenv(env_name);
        if (v == NULL) {
            return secret_err(err, err_size, "environment variable %s is not set", env_name);
        }
        if (v[0] == '\0') {
            return secret_err(err, err_size, "environment variable %s is empty", env_name);
        }
        if (strlen(v) > SECRET_MAX_BYTES) {
            return secret_err(err, err_size, "environment variable %s: longer than %d bytes",
                              env_name, SECRET_MAX_BYTES);
        }
        *out = strdup(v);
        return *out != NULL ? 0 : secret_err(err, err_size, "out of memory");
    }
    if (file != NULL && file[0] != '\0') {
        return secret_from_file(file, out, err, err_size);
    }
    return 0;
}

void prov_secret_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}
