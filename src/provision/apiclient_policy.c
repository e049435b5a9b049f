/*
 * apiclient_policy — the pure half of the OpenAPI client (include/plprov/apiclient.h): product
 * facts, error-body parsing, error classification, back-off arithmetic and redaction.
 *
 * No I/O, no clock, no randomness: the client (apiclient.c) feeds these functions what the server
 * answered and the numbers it drew, so every retry decision can be tested as a table. The code
 * families follow docs/alicloud-api.md §6 and terraform-provider-alicloud's NeedRetry: families
 * (prefixes, suffixes, substrings) rather than exhaustive lists, because products keep adding codes
 * (Throttling.User, Throttling.Api, ...), with an explicit list only for the odd busy codes.
 */
#include "plprov/apiclient.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- products ---------------------------------------------------------------------------- */

struct product {
    const char *name;    /* also the host prefix: <name>.<region>.aliyuncs.com */
    const char *version; /* API version */
    enum prov_sign_style style;
    int roa;  /* 1: REST style (method + path), 0: RPC (Action) */
    int form; /* RPC parameters in a form body rather than the query string */
};

static const struct product PRODUCTS[PROV_API_PRODUCT_COUNT] = {
    [PROV_API_SLB] = {"slb", "2014-05-15", PROV_SIGN_V3, 0, 0},
    [PROV_API_NLB] = {"nlb", "2022-04-30", PROV_SIGN_V3, 0, 1},
    [PROV_API_PRIVATELINK] = {"privatelink", "2020-04-15", PROV_SIGN_V3, 0, 0},
    [PROV_API_ELASTICSEARCH] = {"elasticsearch", "2017-06-13", PROV_SIGN_V2_ROA, 1, 0},
};

static const struct product *product_of(enum prov_api_product p)
{
    return (unsigned)p < PROV_API_PRODUCT_COUNT ? &PRODUCTS[p] : NULL;
}

const char *prov_api_product_name(enum prov_api_product p)
{
    return product_of(p) ? product_of(p)->name : "unknown";
}

const char *prov_api_product_version(enum prov_api_product p)
{
    return product_of(p) ? product_of(p)->version : NULL;
}

enum prov_sign_style prov_api_product_style(enum prov_api_product p)
{
    return product_of(p) ? product_of(p)->style : PROV_SIGN_V3;
}

int prov_api_product_is_roa(enum prov_api_product p)
{
    return product_of(p) ? product_of(p)->roa : 0;
}

int prov_api_product_form_body(enum prov_api_product p)
{
    return product_of(p) ? product_of(p)->form : 0;
}

/* ---- error bodies ------------------------------------------------------------------------ */

/* Copies at most size-1 bytes, control characters turned into spaces (log and terminal safety). */
static void copy_clean(char *dst, size_t size, const char *src, size_t n)
{
    size_t i;

    if (n >= size)
        n = size - 1;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)src[i];

        dst[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    dst[i] = '\0';
}

/* The first member of o among the names, as text (strings as is, integers in decimal). */
static void member(const json_t *o, const char *const *names, char *dst, size_t size)
{
    for (; *names != NULL; names++) {
        const json_t *v = json_object_get(o, *names);
        char num[32];

        if (json_is_string(v)) {
            copy_clean(dst, size, json_string_value(v), json_string_length(v));
            return;
        }
        if (json_is_integer(v)) {
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
            copy_clean(dst, size, num, strlen(num));
            return;
        }
    }
}

static void from_json_object(const json_t *o, struct prov_api_error *out)
{
    static const char *const code[] = {"Code", "code", "errorCode", "ErrorCode", NULL};
    static const char *const msg[] = {"Message",      "message", "errorMessage",
                                      "ErrorMessage", "msg",     NULL};
    static const char *const rid[] = {"RequestId", "requestId", "request_id", NULL};
    static const char *const host[] = {"HostId", "hostId", NULL};

    member(o, code, out->code, sizeof(out->code));
    member(o, msg, out->message, sizeof(out->message));
    member(o, rid, out->request_id, sizeof(out->request_id));
    member(o, host, out->host_id, sizeof(out->host_id));
}

/* <Tag>text</Tag> anywhere in body; entities are left as they are. */
static void xml_tag(const char *body, size_t len, const char *tag, char *dst, size_t size)
{
    char open[40], close[40];
    const char *a, *b, *end = body + len;
    size_t on = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
    size_t cn = (size_t)snprintf(close, sizeof(close), "</%s>", tag);

    a = memmem(body, len, open, on);
    if (a == NULL)
        return;
    a += on;
    b = memmem(a, (size_t)(end - a), close, cn);
    if (b != NULL)
        copy_clean(dst, size, a, (size_t)(b - a));
}

int prov_api_parse_error(const char *body, size_t len, struct prov_api_error *out)
{
    json_t *root;

    memset(out, 0, sizeof(*out));
    if (body == NULL || len == 0)
        return -1;
    root = json_loadb(body, len, 0, NULL);
    if (json_is_object(root)) {
        const json_t *nested = json_object_get(root, "Error");

        if (!json_is_object(nested))
            nested = json_object_get(root, "error");
        from_json_object(root, out);
        if (out->code[0] == '\0' && json_is_object(nested))
            from_json_object(nested, out);
    } else if (root == NULL && memmem(body, len, "<Code>", 6) != NULL) {
        xml_tag(body, len, "Code", out->code, sizeof(out->code));
        xml_tag(body, len, "Message", out->message, sizeof(out->message));
        xml_tag(body, len, "RequestId", out->request_id, sizeof(out->request_id));
        xml_tag(body, len, "HostId", out->host_id, sizeof(out->host_id));
    }
    json_decref(root);
    if (out->code[0] == '\0') {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

/* ---- classification ---------------------------------------------------------------------- */

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int in_list(const char *code, const char *const *list)
{
    for (; list != NULL && *list != NULL; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

static int is_auth_code(const char *code)
{
    static const char *const exact[] = {"SignatureDoesNotMatch", "IncompleteSignature",
                                        "UnauthorizedOperation", "SignatureMethodNotSupported",
                                        "MissingSecurityToken",  NULL};

    return in_list(code, exact) || starts(code, "InvalidAccessKeyId") ||
           starts(code, "InvalidAccessKeySecret") || starts(code, "InvalidSecurityToken") ||
           starts(code, "InvalidSignature") || starts(code, "Forbidden") ||
           starts(code, "NoPermission") || strstr(code, ".NoPermission") != NULL ||
           starts(code, "InvalidAuthorization");
}

static int is_clock_code(const char *code)
{
    return strcmp(code, "InvalidTimeStamp.Expired") == 0 ||
           strcmp(code, "RequestTimeTooSkewed") == 0;
}

/* Codes of the NotFound family that name a mistake in the request, not a missing resource. */
static int is_request_not_found(const char *code)
{
    return starts(code, "InvalidAction") || starts(code, "InvalidVersion") ||
           starts(code, "InvalidApi");
}

int prov_api_code_is_not_found(const char *code)
{
    return code != NULL && strstr(code, "NotFound") != NULL && !is_auth_code(code) &&
           !is_request_not_found(code);
}

static int is_dependency_code(const char *code)
{
    return strstr(code, "Dependence") != NULL || starts(code, "DependencyViolation");
}

/* Throttling, busy and lock families plus the doc's per-product list (§6). */
static int is_retry_code(const char *code)
{
    static const char *const exact[] = {
        "ServiceUnavailable",
        "InternalError",
        "UnknownError",
        "SignatureNonceUsed", /* re-signed with a new nonce, as the doc says */
        "IncorrectStatus.serverGroup",
        "ServiceIsConfiguring",
        "OperationFailed.ListenerStatusNotSupport",
        "OperationFailed.TokenIsProcessing",
        "EndpointServiceOperationDenied",
        "ConcurrentCallNotSupported",
        "EndpointConnectionOperationDenied",
        NULL,
    };

    return in_list(code, exact) || strstr(code, "Throttling") != NULL ||
           strstr(code, "Busy") != NULL || ends(code, "Lock") || ends(code, "Locked");
}

#define STATUS_RETRY_MESSAGE \
    "The current status of the resource does not support this operation, please retry again."

enum prov_api_kind prov_api_classify(long http_status, const char *code, const char *message,
                                     const char *const *extra_retry)
{
    if (code == NULL || code[0] == '\0') {
        if (http_status >= 200 && http_status < 300)
            return PROV_API_OK;
        if (http_status == 404)
            return PROV_API_NOT_FOUND;
        if (http_status == 401 || http_status == 403)
            return PROV_API_AUTH;
        if (http_status == 429 || (http_status >= 500 && http_status < 600))
            return PROV_API_RETRYABLE;
        if (http_status >= 400 && http_status < 500)
            return PROV_API_CLIENT;
        return PROV_API_RESPONSE;
    }
    if (strcmp(code, "DryRunOperation") == 0)
        return PROV_API_DRY_RUN_OK;
    if (is_auth_code(code))
        return PROV_API_AUTH;
    if (is_clock_code(code))
        return PROV_API_CLOCK_SKEW;
    if (in_list(code, extra_retry))
        return PROV_API_RETRYABLE;
    if (prov_api_code_is_not_found(code))
        return PROV_API_NOT_FOUND;
    if (is_dependency_code(code))
        return PROV_API_DEPENDENCY;
    if (is_retry_code(code) || (message != NULL && strcmp(message, STATUS_RETRY_MESSAGE) == 0))
        return PROV_API_RETRYABLE;
    if (starts(code, "InvalidParameter") || starts(code, "MissingParameter") ||
        strcmp(code, "IdempotentParameterMismatch") == 0)
        return PROV_API_CLIENT;
    if (http_status == 429 || (http_status >= 500 && http_status < 600))
        return PROV_API_RETRYABLE;
    return PROV_API_CLIENT;
}

int prov_api_kind_is_retryable(enum prov_api_kind k)
{
    return k == PROV_API_RETRYABLE || k == PROV_API_TRANSPORT;
}

const char *prov_api_kind_name(enum prov_api_kind k)
{
    static const char *const names[] = {
        [PROV_API_OK] = "ok",
        [PROV_API_RETRYABLE] = "retryable",
        [PROV_API_TRANSPORT] = "transport",
        [PROV_API_NOT_FOUND] = "not-found",
        [PROV_API_AUTH] = "auth",
        [PROV_API_CLOCK_SKEW] = "clock-skew",
        [PROV_API_CLIENT] = "client",
        [PROV_API_DEPENDENCY] = "dependency",
        [PROV_API_RESPONSE] = "response",
        [PROV_API_LOCAL] = "local",
        [PROV_API_DRY_RUN_OK] = "dry-run-ok",
    };

    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

/* ---- back-off ---------------------------------------------------------------------------- */

long prov_api_backoff_ms(const struct prov_api_retry_policy *p, unsigned retry, uint32_t rnd)
{
    long base =
        p != NULL && p->base_delay_ms > 0 ? p->base_delay_ms : PROV_API_DEFAULT_BASE_DELAY_MS;
    long cap = p != NULL && p->max_delay_ms > 0 ? p->max_delay_ms : PROV_API_DEFAULT_MAX_DELAY_MS;
    long d = base < cap ? base : cap, half;

    for (unsigned i = 1; i < retry && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;
    half = d / 2;
    return half + (long)(rnd % (uint32_t)(d - half + 1));
}

/* ---- redaction --------------------------------------------------------------------------- */

/* Replaces every occurrence of needle in s (size bytes available) by PROV_API_REDACTED. */
static void replace_all(char *s, size_t size, const char *needle)
{
    size_t nlen = strlen(needle), rlen = strlen(PROV_API_REDACTED), out = 0;
    char *tmp, *p = s, *hit;

    if (nlen == 0 || strstr(s, needle) == NULL)
        return;
    tmp = malloc(size);
    if (tmp == NULL) { /* cannot rebuild: blank the whole text rather than leak */
        snprintf(s, size, "%s", PROV_API_REDACTED);
        return;
    }
    while ((hit = strstr(p, needle)) != NULL) {
        size_t keep = (size_t)(hit - p);

        if (out + keep + rlen >= size)
            break;
        memcpy(tmp + out, p, keep);
        memcpy(tmp + out + keep, PROV_API_REDACTED, rlen);
        out += keep + rlen;
        p = hit + nlen;
    }
    if (hit != NULL) { /* ran out of room: stop before the remaining occurrence */
        size_t keep = (size_t)(hit - p);

        if (keep > size - 1 - out)
            keep = size - 1 - out;
        memcpy(tmp + out, p, keep);
        out += keep;
    } else {
        size_t rest = strlen(p);

        if (rest > size - 1 - out)
            rest = size - 1 - out;
        memcpy(tmp + out, p, rest);
        out += rest;
    }
    tmp[out] = '\0';
    memcpy(s, tmp, out + 1);
    OPENSSL_cleanse(tmp, size);
    free(tmp);
}

void prov_api_redact(char *s, size_t size, const char *secret)
{
    size_t n, enc_size;
    char *once = NULL, *twice = NULL;

    if (s == NULL || size == 0 || secret == NULL || strlen(secret) < 8)
        return;
    n = strlen(secret);
    replace_all(s, size, secret);
    enc_size = prov_sign_percent_encoded_len(secret, n) + 1;
    once = malloc(enc_size);
    if (once != NULL && prov_sign_percent_encode(secret, n, once, enc_size) == 0) {
        replace_all(s, size, once);
        enc_size = prov_sign_percent_encoded_len(once, strlen(once)) + 1;
        twice = malloc(enc_size);
        if (twice != NULL && prov_sign_percent_encode(once, strlen(once), twice, enc_size) == 0)
            replace_all(s, size, twice);
    }
    if (once != NULL)
        OPENSSL_cleanse(once, strlen(once));
    if (twice != NULL)
        OPENSSL_cleanse(twice, strlen(twice));
    free(once);
    free(twice);
}
