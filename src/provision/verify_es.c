/*
 * verify_es — the data-plane rows of `verify` on topology nlb-ip (include/plprov/verify.h, doc
 * §4.6): the remote _count, a reindex from remote through the private path, the local _count, and
 * their comparison. Plain Elasticsearch REST over plprov/http.h, not the OpenAPI.
 *
 * Secrets: the passwords go into exactly two kinds of buffer, the "Authorization: Basic" header
 * line and the reindex body, and both are built here in heap memory this file owns and cleanses
 * (OPENSSL_cleanse) before freeing. That is why the reindex body is assembled from pieces rather
 * than dumped whole by jansson: a json_t holding the password would be freed uncleansed. Jansson
 * escapes every other string of the body and parses every answer.
 *
 * Elasticsearch failures arrive as {"error":{"type":..,"reason":..},"status":N}; a row's detail
 * carries the HTTP status, type and reason, then the request line (method and URL, which never
 * hold credentials) so the failing hop is named.
 */
#include "verify_int.h"

#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ES_CONNECT_TIMEOUT_MS 5000L        /* when the options give none */
#define ES_CALL_TIMEOUT_MS 30000L          /* _count and DELETE */
#define ES_SMALL_RESPONSE_BYTES (1u << 20) /* _count and DELETE answers */
#define ES_REINDEX_RESPONSE_BYTES (4u << 20)
#define ES_URL_BYTES 1024
#define ES_INDEX_BYTES (3 * PROV_CONFIG_ID_BYTES) /* a percent-encoded index name */

/* Where the ES REST calls go. */
struct es_http {
    prov_http_transport_fn fn;
    void *ctx;
    struct prov_http *own; /* the libcurl handle made here when the options gave no transport */
    const char *ca_file;
    long connect_timeout_ms;
};

/* One REST call. */
struct es_req {
    const char *method;
    const char *url;
    const char *user;     /* with password: HTTP Basic */
    const char *password; /* NULL: no Authorization header */
    const char *body;     /* JSON, or NULL */
    size_t body_bytes;
    long timeout_ms;
    size_t max_response_bytes;
    long ok_status; /* a non-2xx status that also counts as success (404 for DELETE), or 0 */
};

static int oom(struct prov_verify_report *r, const char *hop)
{
    prov_verify_row(r, hop, 0, "out of memory");
    return -1;
}

/* ---- requests -------------------------------------------------------------------------------- */

/* "Authorization: Basic base64(user:password)" in heap memory, or NULL (out of memory). The
 * caller cleanses and frees it. */
static char *basic_header(const char *user, const char *password)
{
    static const char prefix[] = "Authorization: Basic ";
    size_t ul = strlen(user), pl = strlen(password), n = ul + 1 + pl;
    unsigned char *plain;
    char *line;

    if (n > INT_MAX / 2) {
        return NULL;
    }
    plain = malloc(n);
    line = malloc(sizeof(prefix) + 4 * ((n + 2) / 3));
    if (plain == NULL || line == NULL) {
        free(plain);
        free(line);
        return NULL;
    }
    memcpy(plain, user, ul);
    plain[ul] = ':';
    memcpy(plain + ul + 1, password, pl);
    memcpy(line, prefix, sizeof(prefix) - 1);
    EVP_EncodeBlock((unsigned char *)line + sizeof(prefix) - 1, plain, (int)n);
    OPENSSL_cleanse(plain, n);
    free(plain);
    return line;
}

static void free_secret(char *s, size_t n)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, n);
        free(s);
    }
}

/* One exchange; 0 when an answer arrived, -1 with resp->failure set, -2 out of memory. */
static int es_exchange(struct es_http *h, const struct es_req *q, struct prov_http_response *resp)
{
    const char *headers[3];
    struct prov_http_request req;
    char *auth = NULL;
    size_t nh = 0;
    int rc;

    headers[nh++] = "Accept: application/json";
    if (q->body != NULL) {
        headers[nh++] = "Content-Type: application/json";
    }
    if (q->password != NULL) {
        auth = basic_header(q->user, q->password);
        if (auth == NULL) {
            return -2;
        }
        headers[nh++] = auth;
    }
    memset(&req, 0, sizeof(req));
    req.method = q->method;
    req.url = q->url;
    req.headers = headers;
    req.header_count = nh;
    req.body = (const uint8_t *)q->body;
    req.body_bytes = q->body_bytes;
    req.connect_timeout_ms = h->connect_timeout_ms;
    req.timeout_ms = q->timeout_ms;
    req.max_response_bytes = q->max_response_bytes;
    req.ca_file = h->ca_file;
    rc = h->fn(h->ctx, &req, resp);
    if (auth != NULL) {
        free_secret(auth, strlen(auth));
    }
    return rc == 0 ? 0 : -1;
}

/* The detail of a non-2xx answer: status, then the ES error's type and reason when it is the
 * {"error":{"type","reason"},"status"} shape, a string error, or the start of the body. */
static void error_detail(const struct es_req *q, const struct prov_http_response *resp,
                         char *detail, size_t size)
{
    json_t *j = resp->body != NULL ? json_loadb(resp->body, resp->body_bytes, 0, NULL) : NULL;
    json_t *e = json_object_get(j, "error");
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *reason = json_string_value(json_object_get(e, "reason"));

    if (type != NULL || reason != NULL) {
        snprintf(detail, size, "HTTP %ld: %s: %s (%s %s)", resp->status,
                 type != NULL ? type : "error", reason != NULL ? reason : "(no reason)", q->method,
                 q->url);
    } else if (json_is_string(e)) {
        snprintf(detail, size, "HTTP %ld: %s (%s %s)", resp->status, json_string_value(e),
                 q->method, q->url);
    } else if (resp->body != NULL && resp->body_bytes > 0) {
        snprintf(detail, size, "HTTP %ld: %.160s (%s %s)", resp->status, resp->body, q->method,
                 q->url);
    } else {
        snprintf(detail, size, "HTTP %ld, empty body (%s %s)", resp->status, q->method, q->url);
    }
    json_decref(j);
}

/* One call and its verdict. 0: success, *json holds the JSON object of a 2xx answer (NULL for an
 * ok_status answer) and *status the HTTP status; 1: failed, detail says why (2: the same, because
 * the transport timed out); -1: out of memory. */
static int es_call(struct es_http *h, const struct es_req *q, long *status, json_t **json,
                   char *detail, size_t size)
{
    struct prov_http_response resp;
    int rc;

    *json = NULL;
    *status = 0;
    prov_http_response_init(&resp);
    rc = es_exchange(h, q, &resp);
    if (rc == -2) {
        prov_http_response_cleanup(&resp);
        return -1;
    }
    if (rc != 0) {
        const char *name = prov_http_failure_name(resp.failure);
        int named = strncmp(resp.error, name, strlen(name)) == 0; /* http.c's own text */
        snprintf(detail, size, "%s%s%s (%s %s)", named ? "" : name,
                 !named && resp.error[0] != '\0' ? ": " : "", resp.error, q->method, q->url);
        rc = resp.failure == PROV_HTTP_TIMEOUT ? 2 : 1;
        prov_http_response_cleanup(&resp);
        return rc;
    }
    *status = resp.status;
    rc = 0;
    if (resp.status < 200 || resp.status > 299) {
        if (q->ok_status == 0 || resp.status != q->ok_status) {
            error_detail(q, &resp, detail, size);
            rc = 1;
        }
    } else {
        *json = resp.body != NULL ? json_loadb(resp.body, resp.body_bytes, 0, NULL) : NULL;
        if (!json_is_object(*json)) {
            json_decref(*json);
            *json = NULL;
            snprintf(detail, size, "HTTP %ld: the answer is not a JSON object (%s %s)", resp.status,
                     q->method, q->url);
            rc = 1;
        }
    }
    prov_http_response_cleanup(&resp);
    return rc;
}

/* ---- URLs and bodies ------------------------------------------------------------------------- */

/* Percent-encodes every byte but the RFC 3986 unreserved ones. 0, or -1 when it does not fit. */
static int url_encode(const char *s, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            if (o + 1 >= size) {
                return -1;
            }
            out[o++] = (char)ch;
        } else {
            if (o + 3 >= size) {
                return -1;
            }
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

/* base (trailing '/' dropped) + "/" + encoded index + suffix. 0, or -1 when too long. */
static int index_url(const char *base, const char *index, const char *suffix, char *out,
                     size_t size)
{
    char enc[ES_INDEX_BYTES];
    size_t blen = strlen(base);
    int n;

    while (blen > 0 && base[blen - 1] == '/') {
        blen--;
    }
    if (url_encode(index, enc, sizeof(enc)) != 0) {
        return -1;
    }
    n = snprintf(out, size, "%.*s/%s%s", (int)blen, base, enc, suffix);
    return n >= 0 && (size_t)n < size ? 0 : -1;
}

/* <es url>: [elasticsearch] url, else <protocol>://<domain>:<port> from DescribeInstance. */
static int es_base_url(const struct prov_config *cfg, const struct prov_actual *a, char *out,
                       size_t size)
{
    size_t n;

    if (cfg->es_url[0] != '\0') {
        snprintf(out, size, "%s", cfg->es_url);
    } else if (!a->es_found || a->es.domain[0] == '\0') {
        return -1;
    } else {
        snprintf(out, size, "%s://%s:%ld",
                 strcasecmp(a->es.protocol, "HTTPS") == 0 ? "https" : "http", a->es.domain,
                 a->es.port > 0 ? a->es.port : (long)PROV_CONFIG_ES_PORT);
    }
    n = strlen(out);
    while (n > 0 && out[n - 1] == '/') {
        out[--n] = '\0';
    }
    return 0;
}

/* s as a JSON string literal with quotes, in heap memory the caller cleanses: written here so
 * that no jansson value ever holds a password. */
static char *json_quote_secret(const char *s, size_t *out_len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s), o = 0;
    char *q = malloc(6 * n + 3);

    if (q == NULL) {
        return NULL;
    }
    q[o++] = '"';
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            q[o++] = '\\';
            q[o++] = (char)ch;
        } else if (ch < 0x20) {
            memcpy(q + o, "\\u00", 4);
            q[o + 4] = hex[ch >> 4];
            q[o + 5] = hex[ch & 15];
            o += 6;
        } else {
            q[o++] = (char)ch;
        }
    }
    q[o++] = '"';
    q[o] = '\0';
    *out_len = o;
    return q;
}

/* A non-secret string as a JSON literal (jansson escaping), heap, or NULL. */
static char *json_quote(const char *s)
{
    json_t *j = json_string(s);
    char *q = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

    json_decref(j);
    return q;
}

/* The _reindex body (doc §4.6). Heap, *len its length; the caller cleanses it. NULL when out of
 * memory or a name is not valid UTF-8. Credentials are left out when there is no password. */
static char *reindex_body(const char *host, const char *user, const char *password, const char *src,
                          const char *dest, size_t *len)
{
    static const char fmt[] = "{\"source\":{\"remote\":{\"host\":%s%s%s%s%s},\"index\":%s},"
                              "\"dest\":{\"index\":%s}}";
    char *h = json_quote(host), *u = password != NULL ? json_quote(user) : NULL;
    char *s = json_quote(src), *d = json_quote(dest), *p = NULL, *body = NULL;
    size_t plen = 0;
    int n;

    if (h == NULL || s == NULL || d == NULL || (password != NULL && u == NULL)) {
        goto cleanup;
    }
    if (password != NULL && (p = json_quote_secret(password, &plen)) == NULL) {
        goto cleanup;
    }
    n = snprintf(NULL, 0, fmt, h, u != NULL ? ",\"username\":" : "", u != NULL ? u : "",
                 p != NULL ? ",\"password\":" : "", p != NULL ? p : "", s, d);
    if (n < 0 || (body = malloc((size_t)n + 1)) == NULL) {
        goto cleanup;
    }
    snprintf(body, (size_t)n + 1, fmt, h, u != NULL ? ",\"username\":" : "", u != NULL ? u : "",
             p != NULL ? ",\"password\":" : "", p != NULL ? p : "", s, d);
    *len = (size_t)n;
cleanup:
    free_secret(p, plen);
    free(h);
    free(u);
    free(s);
    free(d);
    return body;
}

static const char *es_user(const struct prov_config *cfg)
{
    return cfg->es_username[0] != '\0' ? cfg->es_username : "elastic";
}

static const char *remote_user(const struct prov_config *cfg)
{
    return cfg->verify_remote_username[0] != '\0' ? cfg->verify_remote_username : "elastic";
}

/* ---- the rows -------------------------------------------------------------------------------- */

static long long json_int(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* "<type> on document <id>: <reason>" for one entry of the reindex answer's failures[]: bulk
 * failures carry "cause", search (remote) failures carry "reason". */
static void failure_text(const json_t *f, char *out, size_t size)
{
    const json_t *cause = json_object_get(f, "cause");
    const char *type, *reason, *id = json_string_value(json_object_get(f, "id"));

    if (cause == NULL) {
        cause = json_object_get(f, "reason");
    }
    type = json_string_value(json_object_get(cause, "type"));
    reason = json_is_string(cause) ? json_string_value(cause)
                                   : json_string_value(json_object_get(cause, "reason"));
    snprintf(out, size, "%s%s%s: %s", type != NULL ? type : "failure",
             id != NULL ? " on document " : "", id != NULL ? id : "",
             reason != NULL ? reason : "(no reason)");
}

/* GET <base>/<index>/_count into *count; the row is `hop`. */
static int count_row(struct es_http *h, const char *hop, const char *base, const char *index,
                     const char *user, const char *password, long *count,
                     struct prov_verify_report *r)
{
    char url[ES_URL_BYTES], detail[PROV_VERIFY_DETAIL_BYTES];
    struct es_req q = {.method = "GET",
                       .url = url,
                       .user = user,
                       .password = password,
                       .timeout_ms = ES_CALL_TIMEOUT_MS,
                       .max_response_bytes = ES_SMALL_RESPONSE_BYTES};
    json_t *j = NULL;
    long status;
    long long n;
    int rc;

    if (index_url(base, index, "/_count", url, sizeof(url)) != 0) {
        return prov_verify_row(r, hop, 0, "URL of index %s on %s is too long", index, base);
    }
    rc = es_call(h, &q, &status, &j, detail, sizeof(detail));
    if (rc < 0) {
        return oom(r, hop);
    }
    if (rc > 0) {
        return prov_verify_row(r, hop, 0, "%s", detail);
    }
    n = json_int(j, "count");
    json_decref(j);
    if (n < 0 || n > LONG_MAX) {
        return prov_verify_row(r, hop, 0, "HTTP %ld: the answer has no count (GET %s)", status,
                               url);
    }
    *count = (long)n;
    return prov_verify_row(r, hop, 1, "%lld documents in %s (GET %s)", n, index, url);
}

/* DELETE <es url>/<dest> when dest is ours (PROV_CONFIG_VERIFY_DEST_PREFIX); 404 is fine. Fills
 * note with what was done for the reindex row. 0, 1 (row added) or -1. */
static int empty_dest(struct es_http *h, const char *base, const char *dest, const char *user,
                      const char *password, char *note, size_t note_size,
                      struct prov_verify_report *r)
{
    char url[ES_URL_BYTES], detail[PROV_VERIFY_DETAIL_BYTES];
    struct es_req q = {.method = "DELETE",
                       .url = url,
                       .user = user,
                       .password = password,
                       .timeout_ms = ES_CALL_TIMEOUT_MS,
                       .max_response_bytes = ES_SMALL_RESPONSE_BYTES,
                       .ok_status = 404};
    json_t *j = NULL;
    long status;
    int rc;

    if (strncmp(dest, PROV_CONFIG_VERIFY_DEST_PREFIX, strlen(PROV_CONFIG_VERIFY_DEST_PREFIX)) !=
        0) {
        snprintf(note, note_size, "; %s kept: not a %s* index, so it was not emptied first", dest,
                 PROV_CONFIG_VERIFY_DEST_PREFIX);
        return 0;
    }
    if (index_url(base, dest, "", url, sizeof(url)) != 0) {
        return prov_verify_row(r, "reindex", 0, "URL of index %s on %s is too long", dest, base);
    }
    rc = es_call(h, &q, &status, &j, detail, sizeof(detail));
    json_decref(j);
    if (rc < 0) {
        return oom(r, "reindex");
    }
    if (rc > 0) {
        return prov_verify_row(r, "reindex", 0, "could not delete %s first: %s", dest, detail);
    }
    snprintf(note, note_size, "; %s %s first", dest, status == 404 ? "did not exist" : "deleted");
    return 0;
}

/* The verdict on a 2xx reindex answer. */
static int reindex_verdict(const json_t *j, const char *host, const char *dest, const char *note,
                           long long *total, struct prov_verify_report *r)
{
    const json_t *failures = json_object_get(j, "failures");
    char first[PROV_VERIFY_DETAIL_BYTES];

    *total = json_int(j, "total");
    if (json_is_true(json_object_get(j, "timed_out"))) {
        return prov_verify_row(r, "reindex", 0,
                               "the cluster answered timed_out: true (total %lld, created %lld)",
                               *total, json_int(j, "created"));
    }
    if (json_array_size(failures) > 0) {
        failure_text(json_array_get(failures, 0), first, sizeof(first));
        return prov_verify_row(r, "reindex", 0, "%zu failures (total %lld), first: %s",
                               json_array_size(failures), *total, first);
    }
    return prov_verify_row(r, "reindex", 1,
                           "total %lld, created %lld, updated %lld from %s into %s%s", *total,
                           json_int(j, "created"), json_int(j, "updated"), host, dest, note);
}

static int reindex_row(struct es_http *h, const struct prov_config *cfg,
                       const struct prov_actual *a, const struct prov_verify_secrets *s,
                       const char *base, const char *dest, long long *total,
                       struct prov_verify_report *r)
{
    const char *user = es_user(cfg);
    char url[ES_URL_BYTES], host[512], detail[PROV_VERIFY_DETAIL_BYTES];
    char note[PROV_VERIFY_DETAIL_BYTES] = "";
    long timeout_s =
        cfg->verify_timeout_s > 0 ? cfg->verify_timeout_s : PROV_CONFIG_DEFAULT_VERIFY_S;
    struct es_req q = {.method = "POST",
                       .url = url,
                       .user = user,
                       .password = s->es_password,
                       .timeout_ms = timeout_s * 1000L,
                       .max_response_bytes = ES_REINDEX_RESPONSE_BYTES};
    size_t body_len = 0;
    char *body;
    json_t *j = NULL;
    long status;
    int rc;

    rc = empty_dest(h, base, dest, user, s->es_password, note, sizeof(note), r);
    if (rc != 0) {
        return rc;
    }
    snprintf(url, sizeof(url), "%s/_reindex?wait_for_completion=true&refresh=true", base);
    snprintf(host, sizeof(host), "%s://%s:%u",
             cfg->verify_remote_scheme[0] != '\0' ? cfg->verify_remote_scheme : "http",
             a->endpoint.domain, (unsigned)cfg->nlb_listener_port);
    body = reindex_body(host, remote_user(cfg), s->remote_password, cfg->verify_source_index, dest,
                        &body_len);
    if (body == NULL) {
        return oom(r, "reindex");
    }
    q.body = body;
    q.body_bytes = body_len;
    rc = es_call(h, &q, &status, &j, detail, sizeof(detail));
    free_secret(body, body_len);
    if (rc < 0) {
        return oom(r, "reindex");
    }
    if (rc > 0) {
        return prov_verify_row(r, "reindex", 0, "from %s: %s%s", host, detail,
                               rc == 2 ? "; the task may still run on the cluster (GET "
                                         "_tasks?actions=*reindex)"
                                       : "");
    }
    rc = reindex_verdict(j, host, dest, note, total, r);
    json_decref(j);
    return rc;
}

int prov_verify_es(const struct prov_config *cfg, const struct prov_actual *a,
                   const struct prov_verify_secrets *s, const struct prov_verify_options *o,
                   struct prov_verify_report *r)
{
    const char *src = cfg->verify_source_index;
    char dest[PROV_CONFIG_ID_BYTES + 32];
    char remote[PROV_CONFIG_URL_BYTES], base[PROV_CONFIG_URL_BYTES];
    struct es_http h = {.fn = o->transport,
                        .ctx = o->transport_ctx,
                        .ca_file = o->ca_file,
                        .connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
                                                                        : ES_CONNECT_TIMEOUT_MS};
    long long total = -1;
    int rc;

    if (src[0] == '\0') {
        return prov_verify_row(r, "reindex", 0,
                               "no source index: set [verify] source_index to an index of the "
                               "remote cluster to copy through the private path");
    }
    snprintf(dest, sizeof(dest), "%s", cfg->verify_dest_index);
    if (dest[0] == '\0') {
        snprintf(dest, sizeof(dest), "%s%s", PROV_CONFIG_VERIFY_DEST_PREFIX, src);
    }
    snprintf(remote, sizeof(remote), "%s", cfg->verify_remote_url);
    if (remote[0] == '\0' && cfg->target_ip[0] != '\0') {
        snprintf(remote, sizeof(remote), "http://%s:%u", cfg->target_ip,
                 (unsigned)(cfg->target_port > 0 ? cfg->target_port : PROV_CONFIG_ES_PORT));
    }
    if (remote[0] == '\0') {
        return prov_verify_row(r, "remote count", 0, "no remote URL: set [verify] remote_url");
    }
    if (h.fn == NULL) {
        h.own = prov_http_new();
        if (h.own == NULL) {
            prov_verify_row(r, "verify", 0, "cannot start the HTTP client (libcurl)");
            return -1;
        }
        h.fn = prov_http_curl_transport;
        h.ctx = h.own;
    }
    rc = count_row(&h, "remote count", remote, src, remote_user(cfg), s->remote_password,
                   &r->source_count, r);
    if (rc == 0 && es_base_url(cfg, a, base, sizeof(base)) != 0) {
        rc = prov_verify_row(r, "reindex", 0,
                             "no Elasticsearch URL: DescribeInstance of %s gave no domain; set "
                             "[elasticsearch] url",
                             cfg->es_instance_id);
    }
    if (rc == 0) {
        rc = reindex_row(&h, cfg, a, s, base, dest, &total, r);
    }
    if (rc == 0) {
        rc = count_row(&h, "local count", base, dest, es_user(cfg), s->es_password, &r->dest_count,
                       r);
    }
    if (rc == 0) {
        rc = prov_verify_row(r, "counts equal", r->source_count == r->dest_count,
                             "remote %s: %ld, local %s: %ld (reindex total %lld)", src,
                             r->source_count, dest, r->dest_count, total);
    }
    prov_http_free(h.own);
    return rc;
}
