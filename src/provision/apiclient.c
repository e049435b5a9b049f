/*
 * apiclient — sends and retries one OpenAPI call (include/plprov/apiclient.h).
 *
 * One attempt is: build and sign the request (apiclient_build.c: fresh nonce and timestamp,
 * identical parameters), exchange it through the transport (libcurl unless a test replaced it),
 * then judge the answer with the pure policy of apiclient_policy.c. The retry loop around it owns
 * the clock, the sleeps and the jitter, all through replaceable hooks so that the tests drive
 * back-off without waiting. This file also owns the client's lifecycle: endpoint URLs are checked
 * and normalised once, at creation, and the Host header that gets signed is derived from them.
 */
#include "plprov/apiclient.h"
#include "apiclient_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef PLRELAY_VERSION
#define PLRELAY_VERSION "0"
#endif

/* ---- small helpers ----------------------------------------------------------------------- */

void prov_api_errf(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

void prov_api_wipe_free(void *p, size_t n)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, n);
    free(p);
}

static int64_t real_now_ms(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_unix_s(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

static void real_sleep_ms(void *ctx, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    (void)ctx;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int real_random(void *ctx, void *buf, size_t n)
{
    (void)ctx;
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

const char *prov_api_token(const struct prov_apiclient *c)
{
    return c->creds != NULL && c->creds->security_token[0] != '\0' ? c->creds->security_token
                                                                   : NULL;
}

/* ---- client ------------------------------------------------------------------------------ */

static void fill_hooks(struct prov_apiclient *c)
{
    struct prov_api_hooks *h = &c->opt.hooks;

    if (h->now_ms == NULL)
        h->now_ms = real_now_ms;
    if (h->unix_s == NULL)
        h->unix_s = real_unix_s;
    if (h->sleep_ms == NULL)
        h->sleep_ms = real_sleep_ms;
    if (h->random == NULL)
        h->random = real_random;
}

/* Checks a base URL and derives the normalised base and the Host header value. 0 or -1. */
static int parse_base(const char *url, char *base, size_t base_size, char *host, size_t host_size,
                      char *err, size_t err_size)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL;
    int rc = -1;

    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
        prov_api_errf(err, err_size, "endpoint '%.200s' is not a valid URL", url);
        goto cleanup;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        prov_api_errf(err, err_size, "endpoint '%.200s': only http:// and https:// are allowed",
                      url);
        goto cleanup;
    }
    if ((path != NULL && strcmp(path, "/") != 0 && path[0] != '\0') || query != NULL ||
        user != NULL) {
        prov_api_errf(
            err, err_size,
            "endpoint '%.200s' must be scheme://host[:port] only (no path, query or user)", url);
        goto cleanup;
    }
    if ((size_t)snprintf(host, host_size, "%s%s%s", h, port ? ":" : "", port ? port : "") >=
            host_size ||
        (size_t)snprintf(base, base_size, "%s://%s%s%s", scheme, h, port ? ":" : "",
                         port ? port : "") >= base_size) {
        prov_api_errf(err, err_size, "endpoint '%.200s' is too long", url);
        goto cleanup;
    }
    rc = 0;
cleanup:
    curl_free(user);
    curl_free(query);
    curl_free(path);
    curl_free(port);
    curl_free(h);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

static int region_ok(const char *r)
{
    if (r == NULL || r[0] == '\0' || strlen(r) > 64)
        return 0;
    for (; *r != '\0'; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
            return 0;
    return 1;
}

static int setup_product(struct prov_apiclient *c, enum prov_api_product p, char *err,
                         size_t err_size)
{
    const struct prov_api_product_options *po = &c->opt.product[p];
    char url[HOST_BYTES];

    if (po->base_url != NULL) {
        snprintf(url, sizeof(url), "%s", po->base_url);
    } else if (region_ok(c->opt.region_id)) {
        snprintf(url, sizeof(url), "https://%s.%s.aliyuncs.com", prov_api_product_name(p),
                 c->opt.region_id);
    } else {
        prov_api_errf(err, err_size, "%s: no endpoint: set a valid region or the endpoint URL",
                      prov_api_product_name(p));
        return -1;
    }
    if (parse_base(url, c->base[p], sizeof(c->base[p]), c->host[p], sizeof(c->host[p]), err,
                   err_size) != 0)
        return -1;
    c->style[p] = po->override_style ? po->style : prov_api_product_style(p);
    if (prov_api_product_is_roa(p) ? c->style[p] == PROV_SIGN_V2_RPC
                                   : c->style[p] == PROV_SIGN_V2_ROA) {
        prov_api_errf(err, err_size, "%s: signature style %d does not fit a %s product",
                      prov_api_product_name(p), (int)c->style[p],
                      prov_api_product_is_roa(p) ? "REST (ROA)" : "RPC");
        return -1;
    }
    return 0;
}

struct prov_apiclient *prov_api_new(const struct prov_api_options *opt,
                                    const struct prov_creds *creds, char *err, size_t err_size)
{
    static const struct prov_api_options defaults;
    struct prov_apiclient *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        prov_api_errf(err, err_size, "API client: out of memory");
        return NULL;
    }
    c->opt = opt != NULL ? *opt : defaults;
    c->creds = creds;
    fill_hooks(c);
    for (int p = 0; p < PROV_API_PRODUCT_COUNT; p++)
        if (setup_product(c, (enum prov_api_product)p, err, err_size) != 0)
            goto fail;
    snprintf(c->user_agent, sizeof(c->user_agent), "%s",
             c->opt.user_agent ? c->opt.user_agent : "plrelay-provision/" PLRELAY_VERSION);
    c->ca_file = c->opt.ca_file != NULL ? strdup(c->opt.ca_file) : NULL;
    c->opt.ca_file = c->ca_file;
    c->opt.user_agent = NULL;
    c->opt.region_id = NULL;
    for (int p = 0; p < PROV_API_PRODUCT_COUNT; p++)
        c->opt.product[p].base_url = NULL; /* c->base holds the normalised copies */
    if (c->opt.hooks.transport == NULL)
        c->http = prov_http_new();
    if ((opt != NULL && opt->ca_file != NULL && c->ca_file == NULL) ||
        (c->opt.hooks.transport == NULL && c->http == NULL)) {
        prov_api_errf(err, err_size, "API client: out of memory or libcurl unusable");
        goto fail;
    }
    return c;
fail:
    prov_api_free(c);
    return NULL;
}

void prov_api_free(struct prov_apiclient *c)
{
    if (c == NULL)
        return;
    prov_http_free(c->http);
    free(c->ca_file);
    free(c);
}

void prov_api_set_creds(struct prov_apiclient *c, const struct prov_creds *creds)
{
    c->creds = creds;
    c->refresh_after_ms = 0;
    c->refresh_error[0] = '\0';
}

void prov_api_result_init(struct prov_api_result *res)
{
    memset(res, 0, sizeof(*res));
}

void prov_api_result_cleanup(struct prov_api_result *res)
{
    if (res == NULL)
        return;
    json_decref(res->json);
    prov_api_result_init(res);
}

/* ---- credentials refresh ----------------------------------------------------------------- */

/* Before an attempt is signed: re-resolves credentials that expire within the margin (apiclient.h,
 * struct prov_api_refresh). 0 to go on, -1 (err set) when the credentials have expired and no
 * fresh ones could be had. */
static int refresh_creds(struct prov_apiclient *c, char *err, size_t err_size)
{
    const struct prov_api_refresh *r = &c->opt.refresh;
    long margin = r->margin_s > 0 ? r->margin_s : PROV_API_REFRESH_MARGIN_S;
    int64_t now_s = c->opt.hooks.unix_s(c->opt.hooks.ctx);
    int64_t now_ms = c->opt.hooks.now_ms(c->opt.hooks.ctx);
    const struct prov_creds *fresh = c->creds;
    char why[sizeof(c->refresh_error)];

    if (r->fn == NULL || c->creds == NULL || !prov_creds_expires_within(c->creds, now_s, margin))
        return 0;
    if (c->refresh_after_ms == 0 || now_ms >= c->refresh_after_ms) {
        why[0] = '\0';
        if (r->fn(r->ctx, &fresh, why, sizeof(why)) == 0 && fresh != NULL) {
            c->creds = fresh;
            c->refresh_error[0] = '\0';
        } else {
            snprintf(c->refresh_error, sizeof(c->refresh_error), "%s",
                     why[0] != '\0' ? why : "no credentials");
        }
        c->refresh_after_ms = prov_creds_expires_within(c->creds, now_s, margin)
                                  ? now_ms + PROV_API_REFRESH_RETRY_MS
                                  : 0;
    }
    if (c->creds->expiration_unix_s > now_s)
        return 0; /* still valid: sign with them, refresh again later */
    prov_api_errf(err, err_size,
                  "the credentials (%.200s) expired %lld s ago and could not be refreshed: %s",
                  c->creds->description, (long long)(now_s - c->creds->expiration_unix_s),
                  c->refresh_error[0] != '\0' ? c->refresh_error
                                              : "the source handed out the same credentials");
    return -1;
}

/* ---- judging one answer ------------------------------------------------------------------ */

/* Fills res from a completed exchange and returns its kind; *retry says whether another attempt
 * may help. */
static enum prov_api_kind judge(struct prov_apiclient *c, const struct prov_api_call *call,
                                const struct prov_http_response *r, struct prov_api_result *res,
                                int *retry)
{
    struct prov_api_error e;
    time_t server;

    *retry = 0;
    res->http_status = r->status;
    snprintf(res->request_id, sizeof(res->request_id), "%s", r->request_id);
    if (r->date[0] != '\0' && (server = curl_getdate(r->date, NULL)) != (time_t)-1) {
        res->skew_known = 1;
        res->skew_s = (int64_t)server - c->opt.hooks.unix_s(c->opt.hooks.ctx);
    }
    if (r->status >= 200 && r->status < 300) {
        size_t i = 0;

        while (i < r->body_bytes && strchr(" \t\r\n", r->body[i]) != NULL)
            i++;
        if (i == r->body_bytes)
            return PROV_API_OK;
        res->json = json_loadb(r->body, r->body_bytes, JSON_DECODE_ANY, NULL);
        if (res->json == NULL) {
            snprintf(res->message, sizeof(res->message), "the answer (HTTP %ld) is not JSON",
                     r->status);
            return PROV_API_RESPONSE;
        }
        if (json_is_string(json_object_get(res->json, "RequestId")))
            snprintf(res->request_id, sizeof(res->request_id), "%s",
                     json_string_value(json_object_get(res->json, "RequestId")));
        return PROV_API_OK;
    }
    if (prov_api_parse_error(r->body, r->body_bytes, &e) == 0) {
        memcpy(res->code, e.code, sizeof(res->code));
        memcpy(res->message, e.message, sizeof(res->message));
        if (e.request_id[0] != '\0')
            memcpy(res->request_id, e.request_id, sizeof(res->request_id));
        prov_api_redact(res->message, sizeof(res->message), prov_api_token(c));
    } else if (r->status >= 400) {
        snprintf(res->message, sizeof(res->message), "HTTP %ld with no error code in the body",
                 r->status);
    } else {
        snprintf(res->message, sizeof(res->message), "unexpected HTTP status %ld", r->status);
    }
    res->kind = prov_api_classify(r->status, res->code, res->message, call->retry_codes);
    *retry = prov_api_kind_is_retryable(res->kind);
    return res->kind;
}

static enum prov_api_kind judge_failure(const struct prov_http_response *r,
                                        struct prov_api_result *res, int *retry)
{
    res->http_status = 0;
    snprintf(res->message, sizeof(res->message), "%s", r->error);
    switch (r->failure) {
    case PROV_HTTP_CONNECT:
    case PROV_HTTP_TIMEOUT:
    case PROV_HTTP_IO:
        *retry = 1;
        return PROV_API_TRANSPORT;
    case PROV_HTTP_TLS:
        *retry = 0;
        return PROV_API_TRANSPORT;
    case PROV_HTTP_TOO_LARGE:
        *retry = 0;
        return PROV_API_RESPONSE;
    case PROV_HTTP_OK:
    case PROV_HTTP_BAD_REQUEST:
        break;
    }
    *retry = 0;
    return PROV_API_LOCAL;
}

/* ---- the call ---------------------------------------------------------------------------- */

static int exchange(struct prov_apiclient *c, const struct prov_api_built *b,
                    struct prov_http_response *resp)
{
    struct prov_http_request req = {0};

    req.method = b->method;
    req.url = b->url;
    req.headers = b->lines;
    req.header_count = b->nlines;
    req.body = (const uint8_t *)b->body;
    req.body_bytes = b->body_bytes;
    req.connect_timeout_ms = c->opt.connect_timeout_ms > 0 ? c->opt.connect_timeout_ms
                                                           : PROV_API_DEFAULT_CONNECT_TIMEOUT_MS;
    req.timeout_ms = c->opt.timeout_ms > 0 ? c->opt.timeout_ms : PROV_API_DEFAULT_TIMEOUT_MS;
    req.max_response_bytes =
        c->opt.max_response_bytes ? c->opt.max_response_bytes : PROV_API_DEFAULT_MAX_RESPONSE;
    req.ca_file = c->ca_file;
    prov_http_response_init(resp);
    if (c->opt.hooks.transport != NULL)
        return c->opt.hooks.transport(c->opt.hooks.ctx, &req, resp);
    return prov_http_exchange(c->http, &req, resp);
}

static void format_error(const struct prov_apiclient *c, const struct prov_api_call *call,
                         const struct prov_api_result *res, char *err, size_t err_size)
{
    const char *prod = prov_api_product_name(call->product);
    char where[400] = "", hint[320] = "";

    if (res->http_status > 0)
        snprintf(where, sizeof(where), "RequestId %s, HTTP %ld, %u attempt%s",
                 res->request_id[0] ? res->request_id : "(none)", res->http_status, res->attempts,
                 res->attempts == 1 ? "" : "s");
    else
        snprintf(where, sizeof(where), "no answer from %s, %u attempt%s", c->base[call->product],
                 res->attempts, res->attempts == 1 ? "" : "s");
    if (res->kind == PROV_API_CLOCK_SKEW && res->skew_known)
        snprintf(hint, sizeof(hint),
                 "; the server rejected the request time: this machine's clock is %lld s %s the "
                 "server's; synchronise it (NTP) and retry",
                 (long long)(res->skew_s < 0 ? -res->skew_s : res->skew_s),
                 res->skew_s > 0 ? "behind" : "ahead of");
    else if (res->kind == PROV_API_CLOCK_SKEW)
        snprintf(hint, sizeof(hint),
                 "; the server rejected the request time: check this "
                 "machine's clock (NTP)");
    else if (res->kind == PROV_API_AUTH && c->creds != NULL)
        snprintf(hint, sizeof(hint), "; credentials used: %.250s", c->creds->description);
    if (res->code[0] != '\0')
        prov_api_errf(err, err_size, "%s (%s): %s: %s [%s]%s", call->action, prod, res->code,
                      res->message[0] ? res->message : "(no message)", where, hint);
    else
        prov_api_errf(err, err_size, "%s (%s): %s [%s]%s", call->action, prod, res->message, where,
                      hint);
}

int prov_api_call(struct prov_apiclient *c, const struct prov_api_call *call,
                  struct prov_api_result *res, char *err, size_t err_size)
{
    unsigned max =
        c->opt.retry.max_attempts ? c->opt.retry.max_attempts : PROV_API_DEFAULT_MAX_ATTEMPTS;
    long deadline =
        c->opt.retry.deadline_ms > 0 ? c->opt.retry.deadline_ms : PROV_API_DEFAULT_DEADLINE_MS;
    int skew_retried = 0, retry = 0;
    int64_t start;

    prov_api_result_init(res);
    if (prov_api_check_call(c, call, err, err_size) != 0) {
        res->kind = PROV_API_LOCAL;
        return -1;
    }
    start = c->opt.hooks.now_ms(c->opt.hooks.ctx);
    for (unsigned attempt = 1;; attempt++) {
        struct prov_http_response resp;
        struct prov_api_built b;
        uint32_t rnd = 0;
        long delay;

        if (refresh_creds(c, err, err_size) != 0) {
            json_decref(res->json);
            prov_api_result_init(res);
            res->kind = PROV_API_LOCAL;
            res->attempts = attempt - 1;
            return -1;
        }
        if (prov_api_build(c, call, &b, err, err_size) != 0) {
            res->kind = PROV_API_LOCAL;
            return -1;
        }
        json_decref(res->json);
        prov_api_result_init(res);
        res->attempts = attempt;
        if (exchange(c, &b, &resp) == 0)
            res->kind = judge(c, call, &resp, res, &retry);
        else
            res->kind = judge_failure(&resp, res, &retry);
        prov_http_response_cleanup(&resp);
        prov_api_built_free(&b);
        if (res->kind == PROV_API_OK)
            return 0;
        if (res->kind == PROV_API_CLOCK_SKEW && !skew_retried && attempt < max) {
            skew_retried = 1; /* re-sign once: the clock may have been stepped meanwhile */
            continue;
        }
        if (!retry || attempt >= max)
            break;
        c->opt.hooks.random(c->opt.hooks.ctx, &rnd, sizeof(rnd));
        delay = prov_api_backoff_ms(&c->opt.retry, attempt, rnd);
        if (c->opt.hooks.now_ms(c->opt.hooks.ctx) - start + delay > deadline)
            break;
        c->opt.hooks.sleep_ms(c->opt.hooks.ctx, delay);
    }
    format_error(c, call, res, err, err_size);
    return -1;
}

int prov_api_dry_run(struct prov_apiclient *c, const struct prov_api_call *call, char **text,
                     char *err, size_t err_size)
{
    struct prov_api_built b;

    *text = NULL;
    if (prov_api_check_call(c, call, err, err_size) != 0 ||
        prov_api_build(c, call, &b, err, err_size) != 0)
        return -1;
    *text = prov_api_render(c, &b,
                            !prov_api_product_is_roa(call->product) &&
                                prov_api_product_form_body(call->product));
    prov_api_built_free(&b);
    if (*text == NULL) {
        prov_api_errf(err, err_size, "%s: out of memory", call->action);
        return -1;
    }
    return 0;
}
