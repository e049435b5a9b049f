/*
 * apiclient — one Alibaba Cloud OpenAPI call: build the request for a product, sign it
 * (plprov/sign.h), send it (plprov/http.h), parse the JSON answer, and retry what is transient.
 *
 * Products and their wire forms (docs/alicloud-api.md §1, §2):
 *   SLB/CLB 2014-05-15, PrivateLink 2020-04-15  RPC, POST, parameters in the query string, V3
 * signed NLB 2022-04-30                              RPC, POST, parameters in a form body, V3
 * signed Elasticsearch 2017-06-13                    ROA, method + path + JSON body, V2 ROA
 * (HMAC-SHA1) The style is per product and may be overridden (V2 RPC for the RPC products, V3 for
 * ROA).
 *
 * Retries (doc §6): throttling (Throttling*, *.Throttling, Rejected.Throttling), busy and lock
 * codes
 * (*Busy*, *Lock, *Locked, the per-product list of the doc), HTTP 5xx and 429, and transport
 * failures (cannot connect, timed out) are retried with exponential back-off and jitter, inside an
 * attempt limit and an overall deadline. Each attempt is signed afresh (new nonce and timestamp)
 * over the SAME parameters, so a ClientToken the caller put in them is the same on every attempt.
 * Signature, credential, permission, parameter, not-found and dependency errors are never retried.
 * A request time the server calls expired (InvalidTimeStamp.Expired) is re-signed once, then
 * reported as clock skew with the server's Date when it sent one. "Not found" is recognised by code
 * family (*.NotFound, *NotFound*), never by a list of exact codes.
 *
 * Messages: every failure fills the caller's err buffer with the action, the product, Code,
 * Message, RequestId, HTTP status and attempt count. The security token (raw or percent-encoded)
 * is replaced by "<redacted>" in any text this module builds from a server answer, and requests
 * shown by prov_api_dry_run have Authorization, Signature and the security token redacted.
 *
 * Ownership: the client borrows the credentials (the caller keeps them alive; with a refresh hook,
 * struct prov_api_refresh below, the client asks for new ones before they expire);
 * the caller owns results (prov_api_result_cleanup). A client is used by one thread at a time.
 */
#ifndef PLPROV_APICLIENT_H
#define PLPROV_APICLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "plprov/creds.h"
#include "plprov/http.h"
#include "plprov/sign.h"

#define PROV_API_CODE_BYTES 128        /* error Code kept, NUL included */
#define PROV_API_MESSAGE_BYTES 512     /* error Message kept, NUL included */
#define PROV_API_REQUEST_ID_BYTES 128  /* RequestId kept, NUL included */
#define PROV_API_ERROR_BYTES 1024      /* suggested size of the caller's err buffer */
#define PROV_API_MAX_PARAMS 512        /* parameters per call */
#define PROV_API_MAX_BODY (1u << 20)   /* request body ceiling */
#define PROV_API_REDACTED "<redacted>" /* what replaces a secret value in any output */

#define PROV_API_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define PROV_API_DEFAULT_TIMEOUT_MS 30000L
#define PROV_API_DEFAULT_MAX_RESPONSE (4u << 20) /* 4 MiB */
#define PROV_API_DEFAULT_MAX_ATTEMPTS 8u
#define PROV_API_DEFAULT_BASE_DELAY_MS 500L
#define PROV_API_DEFAULT_MAX_DELAY_MS 30000L
#define PROV_API_DEFAULT_DEADLINE_MS 300000L /* 5 min per call, all attempts included */

/* The products this client knows. */
enum prov_api_product {
    PROV_API_SLB = 0,           /* Classic Load Balancer (Slb 2014-05-15) */
    PROV_API_NLB = 1,           /* Network Load Balancer (Nlb 2022-04-30) */
    PROV_API_PRIVATELINK = 2,   /* PrivateLink (Privatelink 2020-04-15) */
    PROV_API_ELASTICSEARCH = 3, /* Elasticsearch (elasticsearch 2017-06-13, ROA) */
    PROV_API_PRODUCT_COUNT = 4  /* number of products, not a product */
};

/* What a call ended with. The retryable kinds are returned only when retries ran out. */
enum prov_api_kind {
    PROV_API_OK = 0,          /* HTTP 2xx, body parsed */
    PROV_API_RETRYABLE = 1,   /* throttling, busy, lock, 5xx, 429 (retried until the limits) */
    PROV_API_TRANSPORT = 2,   /* could not connect, timed out, TLS (connect/timeout retried) */
    PROV_API_NOT_FOUND = 3,   /* *.NotFound / *NotFound* family, or 404 without a code */
    PROV_API_AUTH = 4,        /* signature, AccessKey, token, permission (401/403) */
    PROV_API_CLOCK_SKEW = 5,  /* InvalidTimeStamp.Expired after one re-signed attempt */
    PROV_API_CLIENT = 6,      /* parameters, IdempotentParameterMismatch, any other 4xx */
    PROV_API_DEPENDENCY = 7,  /* *Dependence*, DependencyViolation*: resolve in order, no retry */
    PROV_API_RESPONSE = 8,    /* body too large, not JSON, unexpected status (3xx, 1xx) */
    PROV_API_LOCAL = 9,       /* bad call, signing failed, no credentials, out of memory */
    PROV_API_DRY_RUN_OK = 10, /* the server's DryRunOperation answer: the call would succeed */
};

/* Back-off and limits. Zero fields take the PROV_API_DEFAULT_* values. */
struct prov_api_retry_policy {
    unsigned max_attempts; /* attempts in all, the first included; 1 disables retries */
    long base_delay_ms;    /* wait before the first retry (before jitter) */
    long max_delay_ms;     /* cap of any one wait */
    long deadline_ms;      /* no retry starts after this long since the first attempt */
};

/* Test and embedding hooks; NULL members take the real clock, sleep, RNG and libcurl. */
typedef int64_t (*prov_api_now_ms_fn)(void *ctx); /* monotonic milliseconds */
typedef int64_t (*prov_api_unix_s_fn)(void *ctx); /* wall clock, for signing */
typedef void (*prov_api_sleep_ms_fn)(void *ctx, long ms);
typedef int (*prov_api_random_fn)(void *ctx, void *buf, size_t n); /* 0 ok, -1 failed */

struct prov_api_hooks {
    prov_api_now_ms_fn now_ms;
    prov_api_unix_s_fn unix_s;
    prov_api_sleep_ms_fn sleep_ms;
    prov_api_random_fn random; /* nonces and jitter */
    prov_http_transport_fn transport;
    void *ctx; /* passed to every hook above */
};

/* Credentials refresh. STS credentials (metadata service, profile mode EcsRamRole) carry an
 * expiration, and one apply can wait for an hour: before each attempt is signed, credentials that
 * expire within margin_s of the wall clock (hooks.unix_s) are re-resolved through fn. fn returns 0
 * with *creds pointing to the credentials to use from then on (the caller owns them and may free
 * the previous ones inside fn: the client drops its pointer), or -1 with err set. When fn fails,
 * or hands back credentials that still expire within the margin (the source has not rotated them
 * yet), the client keeps signing with what it has and asks again no sooner than
 * PROV_API_REFRESH_RETRY_MS later; a call made after the expiration itself fails with
 * PROV_API_LOCAL, naming the credentials and why the refresh failed. */
#define PROV_API_REFRESH_MARGIN_S 300L   /* default margin: 5 min */
#define PROV_API_REFRESH_RETRY_MS 60000L /* hold-off between refreshes that did not help */

typedef int (*prov_api_refresh_fn)(void *ctx, const struct prov_creds **creds, char *err,
                                   size_t err_size);

struct prov_api_refresh {
    prov_api_refresh_fn fn; /* NULL: never refresh */
    void *ctx;
    long margin_s; /* 0: PROV_API_REFRESH_MARGIN_S */
};

/* Per-product settings. */
struct prov_api_product_options {
    const char *base_url; /* "https://slb.cn-hangzhou.aliyuncs.com" or "http://127.0.0.1:PORT";
                           * scheme, host and optional port only. NULL: https regional host */
    int override_style;   /* 1: use `style` below instead of the product's default */
    enum prov_sign_style style; /* V2 RPC is allowed for RPC products, V3 or V2 ROA for ROA */
};

struct prov_api_options {
    const char *region_id; /* needed only for default base URLs */
    struct prov_api_product_options product[PROV_API_PRODUCT_COUNT];
    long connect_timeout_ms;   /* 0: PROV_API_DEFAULT_CONNECT_TIMEOUT_MS */
    long timeout_ms;           /* 0: PROV_API_DEFAULT_TIMEOUT_MS, per attempt */
    size_t max_response_bytes; /* 0: PROV_API_DEFAULT_MAX_RESPONSE */
    struct prov_api_retry_policy retry;
    const char *ca_file;    /* NULL: the system's CA store */
    const char *user_agent; /* NULL: "plrelay-provision/<version>" */
    struct prov_api_hooks hooks;
    struct prov_api_refresh refresh;
};

/* One call. Every pointer is borrowed for the duration of the call. */
struct prov_api_call {
    enum prov_api_product product;
    const char *action; /* "CreateLoadBalancer"; always required (messages, x-acs-action) */
    const char *method; /* ROA: "GET", "POST", "PATCH", "DELETE"; RPC: NULL (POST) */
    const char *path;   /* ROA raw path "/openapi/instances/es-1/vpc-endpoints"; RPC: NULL */
    /* RPC: the action's parameters, flattened (Servers.1.ServerId), including RegionId and any
     * ClientToken. ROA: the query parameters (ClientToken, dryRun, page, ...). No duplicates, no
     * empty values (sign.h). They are identical on every attempt. */
    const struct prov_sign_kv *params;
    size_t param_count;
    const char *body_json; /* ROA: JSON body, sent as application/json; RPC: must be NULL */
    const char *const *retry_codes; /* NULL-terminated extra codes to retry for this call only */
};

/* Outcome of prov_api_call. Initialise with prov_api_result_init; release with
 * prov_api_result_cleanup. */
struct prov_api_result {
    enum prov_api_kind kind;
    long http_status;                           /* last HTTP status, 0 when none arrived */
    char code[PROV_API_CODE_BYTES];             /* error Code, "" on success */
    char message[PROV_API_MESSAGE_BYTES];       /* error Message (token redacted), "" on success */
    char request_id[PROV_API_REQUEST_ID_BYTES]; /* RequestId of the last answer, when known */
    unsigned attempts;                          /* requests sent */
    json_t *json;   /* success: the parsed body (owned; NULL when the body was empty) */
    int skew_known; /* 1 when skew_s was measured from the server's Date header */
    int64_t skew_s; /* server time minus local time, seconds */
};

/* Error fields pulled out of an answer's body. */
struct prov_api_error {
    char code[PROV_API_CODE_BYTES];
    char message[PROV_API_MESSAGE_BYTES];
    char request_id[PROV_API_REQUEST_ID_BYTES];
    char host_id[PROV_API_CODE_BYTES];
};

struct prov_apiclient;

/* A client; NULL on bad options (err says which) or out of memory. creds is borrowed. */
struct prov_apiclient *prov_api_new(const struct prov_api_options *opt,
                                    const struct prov_creds *creds, char *err, size_t err_size);

/* Releases the client; NULL accepted. */
void prov_api_free(struct prov_apiclient *c);

/* Replaces the borrowed credentials (after a refresh). */
void prov_api_set_creds(struct prov_apiclient *c, const struct prov_creds *creds);

/* Performs the call with retries. 0: res->kind is PROV_API_OK and res->json holds the body.
 * -1: res->kind says why, res->code/message/request_id hold the server's fields when it answered,
 * and err holds the one-line message. res is reset on entry. */
int prov_api_call(struct prov_apiclient *c, const struct prov_api_call *call,
                  struct prov_api_result *res, char *err, size_t err_size);

/* The request prov_api_call would send first, as text: "METHOD URL\n", the header lines, a blank
 * line and the body; Authorization, Signature and the security token replaced by
 * PROV_API_REDACTED. *text is heap-allocated (free()). 0, or -1 with err set. Sends nothing. */
int prov_api_dry_run(struct prov_apiclient *c, const struct prov_api_call *call, char **text,
                     char *err, size_t err_size);

void prov_api_result_init(struct prov_api_result *res);
void prov_api_result_cleanup(struct prov_api_result *res);

/* ---- the policy, as pure functions (src/provision/apiclient_policy.c) ---------------------- */

/* Product facts: "slb", "2014-05-15", default style, 1 when RPC parameters go in a form body. */
const char *prov_api_product_name(enum prov_api_product p);
const char *prov_api_product_version(enum prov_api_product p);
enum prov_sign_style prov_api_product_style(enum prov_api_product p);
int prov_api_product_is_roa(enum prov_api_product p);
int prov_api_product_form_body(enum prov_api_product p);

/* Pulls Code, Message, RequestId and HostId out of an error body: JSON with either capitalisation
 * (Code/code, Message/message, RequestId/requestId; the RPC and the ROA shapes), a nested
 * {"Error": {...}} object, or the XML <Error> form. Control characters become spaces.
 * 0 when a Code was found, -1 otherwise (every field then ""). */
int prov_api_parse_error(const char *body, size_t len, struct prov_api_error *out);

/* Classifies an answer that is not a success. extra_retry is NULL or NULL-terminated. */
enum prov_api_kind prov_api_classify(long http_status, const char *code, const char *message,
                                     const char *const *extra_retry);

/* 1 for the code families meaning "does not exist" (*.NotFound, *NotFound*), except credential
 * codes such as InvalidAccessKeyId.NotFound (PROV_API_AUTH) and the gateway's codes for a wrong
 * request such as InvalidAction.NotFound / InvalidVersion.NotFound (PROV_API_CLIENT). */
int prov_api_code_is_not_found(const char *code);

/* 1 when a failure of this kind is worth another attempt (RETRYABLE, TRANSPORT). */
int prov_api_kind_is_retryable(enum prov_api_kind k);

/* Short name of a kind: "ok", "retryable", "transport", "not-found", ... */
const char *prov_api_kind_name(enum prov_api_kind k);

/* Wait before retry number `retry` (1 = after the first attempt): with
 * d = min(base * 2^(retry-1), max) and h = d/2, returns h + (rnd mod (d - h + 1)), a value within
 * [d/2, d] ("equal jitter": growth stays visible, concurrent clients spread out). Zero policy
 * fields take the defaults. */
long prov_api_backoff_ms(const struct prov_api_retry_policy *p, unsigned retry, uint32_t rnd);

/* Replaces every occurrence of secret (raw and percent-encoded) in s by PROV_API_REDACTED, in
 * place, keeping s NUL-terminated within size. No-op when secret is NULL or shorter than 8. */
void prov_api_redact(char *s, size_t size, const char *secret);

#endif
