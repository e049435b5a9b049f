/*
 * http — one bounded HTTP exchange with libcurl (include/plprov/http.h).
 *
 * Every safety setting is applied on every exchange, after curl_easy_reset, so nothing from an
 * earlier exchange on a reused handle can leak into the next one: protocols http/https only, no
 * redirects, TLS peer and host verification on, connect and total timeouts, a body ceiling
 * enforced both by Content-Length (CURLOPT_MAXFILESIZE_LARGE) and by the write callback. Request
 * headers and response bodies may hold an Authorization value, a security token or a secret, so
 * the copies curl keeps (the header list) and the bodies this module grows are cleansed before
 * they are freed. curl's own default headers that would change what was signed are suppressed
 * ("Expect:", and "Content-Type:" when the caller set none).
 */
#include "plprov/http.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct prov_http {
    CURL *curl;
};

/* Body accumulator with a hard ceiling. */
struct sink {
    char *p;
    size_t len;
    size_t cap;
    size_t max;
    int too_large;
    int oom;
};

/* Captured response headers. */
struct hdrs {
    char request_id[PROV_HTTP_REQUEST_ID_BYTES];
    char date[PROV_HTTP_DATE_BYTES];
};

int prov_http_global_init(void)
{
    static int done;

    if (done)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    done = 1;
    return 0;
}

struct prov_http *prov_http_new(void)
{
    struct prov_http *h;

    if (prov_http_global_init() != 0)
        return NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        free(h);
        return NULL;
    }
    return h;
}

void prov_http_free(struct prov_http *h)
{
    if (h == NULL)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

void prov_http_response_init(struct prov_http_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->failure = PROV_HTTP_OK;
}

void prov_http_response_cleanup(struct prov_http_response *resp)
{
    if (resp == NULL)
        return;
    if (resp->body != NULL) {
        OPENSSL_cleanse(resp->body, resp->body_bytes);
        free(resp->body);
    }
    prov_http_response_init(resp);
}

int prov_http_response_set_body(struct prov_http_response *resp, const void *data, size_t len)
{
    char *p = malloc(len + 1);

    if (p == NULL)
        return -1;
    if (len > 0)
        memcpy(p, data, len);
    p[len] = '\0';
    if (resp->body != NULL) {
        OPENSSL_cleanse(resp->body, resp->body_bytes);
        free(resp->body);
    }
    resp->body = p;
    resp->body_bytes = len;
    return 0;
}

const char *prov_http_failure_name(enum prov_http_failure f)
{
    switch (f) {
    case PROV_HTTP_OK:
        return "ok";
    case PROV_HTTP_CONNECT:
        return "could not connect";
    case PROV_HTTP_TIMEOUT:
        return "timed out";
    case PROV_HTTP_TOO_LARGE:
        return "response body too large";
    case PROV_HTTP_TLS:
        return "TLS verification failed";
    case PROV_HTTP_IO:
        return "transfer failed";
    case PROV_HTTP_BAD_REQUEST:
        return "request not sendable";
    }
    return "unknown failure";
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct sink *s = userp;
    size_t n = size * nmemb;

    if (n > s->max - s->len) {
        s->too_large = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *p;

        while (cap < s->len + n + 1)
            cap *= 2;
        p = malloc(cap);
        if (p == NULL) {
            s->oom = 1;
            return 0;
        }
        if (s->p != NULL) {
            memcpy(p, s->p, s->len);
            OPENSSL_cleanse(s->p, s->cap);
            free(s->p);
        }
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
    return n;
}

/* Copies the value of a "Name: value\r\n" line into out when the name matches. */
static void take_header(const char *line, size_t n, const char *name, char *out, size_t out_size)
{
    size_t name_len = strlen(name);
    size_t end;

    if (n <= name_len || strncasecmp(line, name, name_len) != 0 || line[name_len] != ':')
        return;
    line += name_len + 1;
    n -= name_len + 1;
    while (n > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    end = n;
    while (end > 0 && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' '))
        end--;
    if (end >= out_size)
        end = out_size - 1;
    memcpy(out, line, end);
    out[end] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct hdrs *h = userp;
    size_t n = size * nmemb;

    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) /* a new response (after 1xx): start over */
        memset(h, 0, sizeof(*h));
    take_header(data, n, "x-acs-request-id", h->request_id, sizeof(h->request_id));
    take_header(data, n, "date", h->date, sizeof(h->date));
    return n;
}

static void free_header_list(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l != NULL; l = l->next)
        OPENSSL_cleanse(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

static int has_header(const struct prov_http_request *req, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < req->header_count; i++)
        if (strncasecmp(req->headers[i], name, n) == 0 && req->headers[i][n] == ':')
            return 1;
    return 0;
}

static int fail(struct prov_http_response *resp, enum prov_http_failure f, const char *detail)
{
    resp->failure = f;
    resp->status = 0;
    snprintf(resp->error, sizeof(resp->error), "%s: %s", prov_http_failure_name(f), detail);
    return -1;
}

/* Header list for curl: the caller's lines plus the suppressions; NULL when out of memory. */
static struct curl_slist *build_headers(const struct prov_http_request *req, int *oom)
{
    struct curl_slist *list = NULL, *next;

    *oom = 0;
    for (size_t i = 0; i < req->header_count; i++) {
        if (strpbrk(req->headers[i], "\r\n") != NULL)
            goto bad;
        next = curl_slist_append(list, req->headers[i]);
        if (next == NULL)
            goto bad;
        list = next;
    }
    next = curl_slist_append(list, "Expect:");
    if (next == NULL)
        goto bad;
    list = next;
    if (!has_header(req, "content-type")) {
        next = curl_slist_append(list, "Content-Type:");
        if (next == NULL)
            goto bad;
        list = next;
    }
    return list;
bad:
    *oom = 1;
    free_header_list(list);
    return NULL;
}

static void set_method(CURL *c, const struct prov_http_request *req)
{
    int has_body_method = strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
                          strcmp(req->method, "PATCH") == 0;

    if (strcmp(req->method, "GET") == 0 && req->body_bytes == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        return;
    }
    if (strcmp(req->method, "POST") == 0)
        curl_easy_setopt(c, CURLOPT_POST, 1L);
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    if (has_body_method || req->body_bytes > 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body != NULL ? (const char *)req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_bytes);
    }
}

static void set_safety(CURL *c, const struct prov_http_request *req, size_t max_body)
{
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
    if (req->no_proxy)
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
}

static enum prov_http_failure map_curl_error(CURLcode rc, const struct sink *s)
{
    if (s->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return PROV_HTTP_TOO_LARGE;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return PROV_HTTP_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return PROV_HTTP_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return PROV_HTTP_TLS;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return PROV_HTTP_BAD_REQUEST;
    default:
        return PROV_HTTP_IO;
    }
}

static int scheme_ok(const char *url)
{
    return url != NULL &&
           (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

int prov_http_exchange(struct prov_http *h, const struct prov_http_request *req,
                       struct prov_http_response *resp)
{
    struct prov_http *tmp = NULL;
    struct curl_slist *headers = NULL;
    struct sink sink = {0};
    struct hdrs got = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc;
    int oom = 0, ret = -1;
    long status = 0;

    prov_http_response_init(resp);
    if (req == NULL || req->method == NULL || !scheme_ok(req->url))
        return fail(resp, PROV_HTTP_BAD_REQUEST, "the URL must start with http:// or https://");
    if (req->header_count > PROV_HTTP_MAX_HEADERS || req->connect_timeout_ms <= 0 ||
        req->timeout_ms <= 0)
        return fail(resp, PROV_HTTP_BAD_REQUEST, "too many headers or no timeout");
    if (h == NULL) {
        tmp = prov_http_new();
        if (tmp == NULL)
            return fail(resp, PROV_HTTP_BAD_REQUEST, "libcurl could not be initialised");
        h = tmp;
    }
    headers = build_headers(req, &oom);
    if (oom) {
        fail(resp, PROV_HTTP_BAD_REQUEST, "bad header line or out of memory");
        goto cleanup;
    }
    sink.max = req->max_response_bytes ? req->max_response_bytes : PROV_HTTP_DEFAULT_MAX_BODY;

    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_URL, req->url);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &got);
    set_safety(h->curl, req, sink.max);
    set_method(h->curl, req);

    rc = curl_easy_perform(h->curl);
    if (rc != CURLE_OK || sink.oom) {
        fail(resp, sink.oom ? PROV_HTTP_IO : map_curl_error(rc, &sink),
             sink.oom    ? "out of memory"
             : errbuf[0] ? errbuf
                         : curl_easy_strerror(rc));
        goto cleanup;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    resp->body = sink.p;
    resp->body_bytes = sink.len;
    sink.p = NULL;
    memcpy(resp->request_id, got.request_id, sizeof(resp->request_id));
    memcpy(resp->date, got.date, sizeof(resp->date));
    ret = 0;
cleanup:
    if (h != NULL && h->curl != NULL) /* drop curl's pointers into our stack and list */
        curl_easy_reset(h->curl);
    free_header_list(headers);
    if (sink.p != NULL) {
        OPENSSL_cleanse(sink.p, sink.cap);
        free(sink.p);
    }
    prov_http_free(tmp);
    return ret;
}

int prov_http_curl_transport(void *ctx, const struct prov_http_request *req,
                             struct prov_http_response *resp)
{
    return prov_http_exchange(ctx, req, resp);
}
