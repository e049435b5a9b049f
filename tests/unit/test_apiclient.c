/*
 * test_apiclient — unit tests of src/provision/apiclient.c, apiclient_build.c and
 * apiclient_policy.c (include/plprov/apiclient.h).
 *
 * The pure policy is tested as tables: error bodies of every product's shape, classification,
 * the NotFound family, back-off growth and cap, redaction. The client is driven through its hooks:
 * a scripted transport (answers in order, every request recorded), a fake monotonic clock that
 * advances only when the client sleeps, a fixed wall clock and a controlled random source. So the
 * retry tests assert the exact waits, the attempt count and that the ClientToken is the same on
 * every attempt while the nonce is not — without a socket or a real second passing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plprov/apiclient.h"

TestSuite(apiclient, .timeout = 10);

#define ID "testid"
#define SECRET "testsecret-never-shown"
#define TOKEN "STS-token-0123456789/+=abc"
#define UNIX_NOW INT64_C(1698315752) /* 2023-10-26T10:22:32Z */
#define BASE "http://127.0.0.1:8080"

/* ---- fakes ------------------------------------------------------------------------------- */

struct step {
    long status;                    /* HTTP status, when failure is PROV_HTTP_OK */
    const char *body;               /* answer body */
    const char *date;               /* Date header or NULL */
    enum prov_http_failure failure; /* transport failure instead of an answer */
};

#define MAX_CALLS 16

struct fake {
    const struct step *steps;
    size_t nsteps;
    size_t calls;
    char method[MAX_CALLS][16];
    char url[MAX_CALLS][2048];
    char headers[MAX_CALLS][4096]; /* all lines, '\n'-joined */
    char body[MAX_CALLS][2048];
    long sleeps[MAX_CALLS];
    size_t nsleeps;
    int64_t now_ms;
    uint32_t jitter;
    unsigned char counter;
};

static int fake_transport(void *ctx, const struct prov_http_request *req,
                          struct prov_http_response *resp)
{
    struct fake *f = ctx;
    const struct step *s;
    size_t i = f->calls++;
    size_t len = 0;

    cr_assert(i < MAX_CALLS && i < f->nsteps, "unexpected request #%zu", i + 1);
    snprintf(f->method[i], sizeof(f->method[i]), "%s", req->method);
    snprintf(f->url[i], sizeof(f->url[i]), "%s", req->url);
    for (size_t h = 0; h < req->header_count; h++)
        len += (size_t)snprintf(f->headers[i] + len, sizeof(f->headers[i]) - len, "%s\n",
                                req->headers[h]);
    snprintf(f->body[i], sizeof(f->body[i]), "%.*s", (int)req->body_bytes,
             req->body ? (const char *)req->body : "");
    s = &f->steps[i];
    if (s->failure != PROV_HTTP_OK) {
        resp->failure = s->failure;
        snprintf(resp->error, sizeof(resp->error), "%s: simulated",
                 prov_http_failure_name(s->failure));
        return -1;
    }
    resp->status = s->status;
    if (s->date != NULL)
        snprintf(resp->date, sizeof(resp->date), "%s", s->date);
    if (s->body != NULL)
        cr_assert_eq(prov_http_response_set_body(resp, s->body, strlen(s->body)), 0);
    return 0;
}

static int64_t fake_now(void *ctx)
{
    return ((struct fake *)ctx)->now_ms;
}

static int64_t fake_unix(void *ctx)
{
    (void)ctx;
    return UNIX_NOW;
}

static void fake_sleep(void *ctx, long ms)
{
    struct fake *f = ctx;

    cr_assert(f->nsleeps < MAX_CALLS);
    f->sleeps[f->nsleeps++] = ms;
    f->now_ms += ms;
}

static int fake_random(void *ctx, void *buf, size_t n)
{
    struct fake *f = ctx;

    if (n == sizeof(uint32_t)) { /* the jitter draw */
        memcpy(buf, &f->jitter, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++) /* nonces: different on every draw */
        ((unsigned char *)buf)[i] = (unsigned char)(f->counter + i);
    f->counter = (unsigned char)(f->counter + 101);
    return 0;
}

static struct prov_creds creds_of(const char *token)
{
    struct prov_creds c;

    prov_creds_init(&c);
    snprintf(c.access_key_id, sizeof(c.access_key_id), "%s", ID);
    snprintf(c.access_key_secret, sizeof(c.access_key_secret), "%s", SECRET);
    snprintf(c.security_token, sizeof(c.security_token), "%s", token ? token : "");
    snprintf(c.description, sizeof(c.description), "test credentials");
    return c;
}

static struct prov_api_options options_of(struct fake *f)
{
    struct prov_api_options o;

    memset(&o, 0, sizeof(o));
    for (int p = 0; p < PROV_API_PRODUCT_COUNT; p++)
        o.product[p].base_url = BASE;
    o.retry.max_attempts = 6;
    o.retry.base_delay_ms = 100;
    o.retry.max_delay_ms = 1000;
    o.retry.deadline_ms = 60000;
    o.hooks =
        (struct prov_api_hooks){fake_now, fake_unix, fake_sleep, fake_random, fake_transport, f};
    return o;
}

static const struct prov_sign_kv CREATE_PARAMS[] = {
    {"RegionId", "cn-hangzhou"},
    {"ClientToken", "tok-create-1"},
    {"LoadBalancerName", "relay lb"},
};

static const struct prov_api_call CREATE = {
    .product = PROV_API_SLB,
    .action = "CreateLoadBalancer",
    .params = CREATE_PARAMS,
    .param_count = 3,
};

#define OK_BODY "{\"RequestId\":\"RID-OK\",\"LoadBalancerId\":\"lb-1\"}"
#define THROTTLED                                                                             \
    {                                                                                         \
        400,                                                                                  \
            "{\"RequestId\":\"RID-T\",\"HostId\":\"slb.aliyuncs.com\",\"Code\":\"Throttling." \
            "User\","                                                                         \
            "\"Message\":\"Request was denied due to user flow control.\"}",                  \
            NULL, PROV_HTTP_OK                                                                \
    }

/* Runs one call against the script; returns prov_api_call's value. */
static int run(struct fake *f, const struct step *steps, size_t n, struct prov_api_options *o,
               const struct prov_creds *c, const struct prov_api_call *call,
               struct prov_api_result *res, char *err, size_t err_size)
{
    struct prov_apiclient *client;
    int rc;

    f->steps = steps;
    f->nsteps = n;
    client = prov_api_new(o, c, err, err_size);
    cr_assert_not_null(client, "%s", err);
    rc = prov_api_call(client, call, res, err, err_size);
    prov_api_free(client);
    return rc;
}

/* The value of header `name` in a '\n'-joined block of "name: value" lines, or NULL. */
static const char *header_value(const char *headers, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);

    for (const char *line = headers; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);

        if (len > n + 1 && strncmp(line, name, n) == 0 && line[n] == ':' && line[n + 1] == ' ') {
            snprintf(out, size, "%.*s", (int)(len - n - 2), line + n + 2);
            return out;
        }
        line += len + (nl ? 1 : 0);
    }
    return NULL;
}

/* ---- error bodies ------------------------------------------------------------------------ */

Test(apiclient, parse_error_reads_the_rpc_shape)
{
    static const char b[] = "{\"RequestId\":\"6BE5\",\"HostId\":\"ecs.aliyuncs.com\","
                            "\"Code\":\"InvalidImageId.NotFound\",\"Message\":\"gone\","
                            "\"Recommend\":\"https://x\"}";
    struct prov_api_error e;

    cr_assert_eq(prov_api_parse_error(b, strlen(b), &e), 0);
    cr_assert_str_eq(e.code, "InvalidImageId.NotFound");
    cr_assert_str_eq(e.message, "gone");
    cr_assert_str_eq(e.request_id, "6BE5");
    cr_assert_str_eq(e.host_id, "ecs.aliyuncs.com");
}

Test(apiclient, parse_error_reads_the_roa_shapes)
{
    static const char *const bodies[] = {
        "{\"RequestId\":\"R1\",\"Code\":\"InstanceNotFound\",\"Message\":\"m\"}",
        "{\"requestId\":\"R1\",\"code\":\"InstanceNotFound\",\"message\":\"m\"}",
        "{\"RequestId\":\"R1\",\"Error\":{\"Code\":\"InstanceNotFound\",\"Message\":\"m\"}}",
        "<?xml version=\"1.0\"?><Error><RequestId>R1</RequestId><HostId>h</HostId>"
        "<Code>InstanceNotFound</Code><Message>m</Message></Error>",
    };
    struct prov_api_error e;

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        cr_assert_eq(prov_api_parse_error(bodies[i], strlen(bodies[i]), &e), 0, "case %zu", i);
        cr_assert_str_eq(e.code, "InstanceNotFound", "case %zu", i);
        cr_assert_str_eq(e.message, "m", "case %zu", i);
        if (i != 2)
            cr_assert_str_eq(e.request_id, "R1", "case %zu", i);
    }
}

Test(apiclient, parse_error_takes_integer_codes_and_cleans_control_characters)
{
    static const char b[] = "{\"code\":403,\"message\":\"line1\\nline2\\u001b[31m\"}";
    struct prov_api_error e;

    cr_assert_eq(prov_api_parse_error(b, strlen(b), &e), 0);
    cr_assert_str_eq(e.code, "403");
    cr_assert_str_eq(e.message, "line1 line2 [31m");
}

Test(apiclient, parse_error_without_a_code_returns_minus_one)
{
    static const char *const bodies[] = {"",   "not json",        "{\"Message\":\"no code\"}",
                                         "[]", "{\"Code\":\"\"}", "<html>502</html>"};
    struct prov_api_error e;

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        cr_assert_eq(prov_api_parse_error(bodies[i], strlen(bodies[i]), &e), -1, "case %zu", i);
        cr_assert_str_eq(e.code, "");
        cr_assert_str_eq(e.message, "");
    }
    cr_assert_eq(prov_api_parse_error(NULL, 0, &e), -1);
}

/* ---- classification ---------------------------------------------------------------------- */

Test(apiclient, classify_follows_the_doc_table)
{
    static const struct {
        long status;
        const char *code;
        const char *message;
        enum prov_api_kind kind;
    } rows[] = {
        {400, "Throttling", "", PROV_API_RETRYABLE},
        {400, "Throttling.User", "", PROV_API_RETRYABLE},
        {400, "Throttling.Api", "", PROV_API_RETRYABLE},
        {400, "Rejected.Throttling", "", PROV_API_RETRYABLE},
        {503, "ServiceUnavailable", "", PROV_API_RETRYABLE},
        {500, "InternalError", "", PROV_API_RETRYABLE},
        {500, "SomethingNew", "", PROV_API_RETRYABLE},
        {502, "", "", PROV_API_RETRYABLE},
        {429, "", "", PROV_API_RETRYABLE},
        {400, "SystemBusy", "", PROV_API_RETRYABLE},
        {400, "OperationBusy", "", PROV_API_RETRYABLE},
        {409, "Conflict.Lock", "", PROV_API_RETRYABLE},
        {400, "EndpointServiceLocked", "", PROV_API_RETRYABLE},
        {400, "IncorrectStatus.serverGroup", "", PROV_API_RETRYABLE},
        {400, "ServiceIsConfiguring", "", PROV_API_RETRYABLE},
        {400, "OperationFailed.ListenerStatusNotSupport", "", PROV_API_RETRYABLE},
        {400, "OperationFailed.TokenIsProcessing", "", PROV_API_RETRYABLE},
        {400, "EndpointServiceOperationDenied", "", PROV_API_RETRYABLE},
        {400, "ConcurrentCallNotSupported", "", PROV_API_RETRYABLE},
        {400, "EndpointConnectionOperationDenied", "", PROV_API_RETRYABLE},
        {400, "SignatureNonceUsed", "", PROV_API_RETRYABLE},
        {400, "IncorrectStatus",
         "The current status of the resource does not support this operation, please retry "
         "again.",
         PROV_API_RETRYABLE},
        {400, "SignatureDoesNotMatch", "", PROV_API_AUTH},
        {400, "IncompleteSignature", "", PROV_API_AUTH},
        {404, "InvalidAccessKeyId.NotFound", "", PROV_API_AUTH},
        {400, "InvalidAccessKeyId.Inactive", "", PROV_API_AUTH},
        {400, "InvalidSecurityToken.Expired", "", PROV_API_AUTH},
        {403, "Forbidden.RAM", "", PROV_API_AUTH},
        {403, "Forbidden", "", PROV_API_AUTH},
        {403, "NoPermission", "", PROV_API_AUTH},
        {403, "Nlb.NoPermission", "", PROV_API_AUTH},
        {403, "", "", PROV_API_AUTH},
        {400, "InvalidTimeStamp.Expired", "", PROV_API_CLOCK_SKEW},
        {404, "InvalidLoadBalancerId.NotFound", "", PROV_API_NOT_FOUND},
        {404, "ResourceNotFound.JobId", "", PROV_API_NOT_FOUND},
        {400, "EndpointServiceNotFound", "", PROV_API_NOT_FOUND},
        {404, "InstanceNotFound", "", PROV_API_NOT_FOUND},
        {404, "", "", PROV_API_NOT_FOUND},
        {404, "InvalidAction.NotFound", "", PROV_API_CLIENT},
        {400, "EndpointServiceConnectionDependence", "", PROV_API_DEPENDENCY},
        {400, "DependencyViolation.Listener", "", PROV_API_DEPENDENCY},
        {400, "InvalidParameter", "", PROV_API_CLIENT},
        {400, "InvalidParameter.ZoneId", "", PROV_API_CLIENT},
        {400, "MissingParameter", "", PROV_API_CLIENT},
        {400, "IdempotentParameterMismatch", "", PROV_API_CLIENT},
        {400, "QuotaExceeded", "", PROV_API_CLIENT},
        {400, "", "", PROV_API_CLIENT},
        {400, "DryRunOperation", "", PROV_API_DRY_RUN_OK},
        {302, "", "", PROV_API_RESPONSE},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        cr_expect_eq(prov_api_classify(rows[i].status, rows[i].code, rows[i].message, NULL),
                     rows[i].kind, "%ld %s: got %s, want %s", rows[i].status, rows[i].code,
                     prov_api_kind_name(
                         prov_api_classify(rows[i].status, rows[i].code, rows[i].message, NULL)),
                     prov_api_kind_name(rows[i].kind));
}

Test(apiclient, classify_honours_the_call_s_extra_retry_codes)
{
    static const char *const extra[] = {"IncorrectStatus.loadBalancer", "Custom.NotFound", NULL};

    cr_assert_eq(prov_api_classify(400, "IncorrectStatus.loadBalancer", "", NULL), PROV_API_CLIENT);
    cr_assert_eq(prov_api_classify(400, "IncorrectStatus.loadBalancer", "", extra),
                 PROV_API_RETRYABLE);
    cr_assert_eq(prov_api_classify(404, "Custom.NotFound", "", extra), PROV_API_RETRYABLE);
    cr_assert_eq(prov_api_classify(400, "SignatureDoesNotMatch", "", extra), PROV_API_AUTH);
}

Test(apiclient, not_found_is_a_code_family)
{
    cr_assert(prov_api_code_is_not_found("InvalidVSwitchId.NotFound"));
    cr_assert(prov_api_code_is_not_found("EndpointConnectionNotFound"));
    cr_assert(prov_api_code_is_not_found("ResourceNotFound.JobId"));
    cr_assert(!prov_api_code_is_not_found("InvalidAccessKeyId.NotFound"));
    cr_assert(!prov_api_code_is_not_found("InvalidAction.NotFound"));
    cr_assert(!prov_api_code_is_not_found("Throttling"));
    cr_assert(!prov_api_code_is_not_found(NULL));
}

/* ---- back-off ---------------------------------------------------------------------------- */

Test(apiclient, backoff_doubles_then_caps_with_jitter_inside_half_to_full)
{
    struct prov_api_retry_policy p = {0, 100, 1000, 0};
    static const long full[] = {100, 200, 400, 800, 1000, 1000, 1000};

    for (unsigned r = 1; r <= 7; r++) {
        long d = full[r - 1];

        cr_assert_eq(prov_api_backoff_ms(&p, r, 0), d / 2, "retry %u", r);
        cr_assert_eq(prov_api_backoff_ms(&p, r, (uint32_t)(d - d / 2)), d, "retry %u", r);
        for (uint32_t rnd = 0; rnd < 5000; rnd += 37) {
            long w = prov_api_backoff_ms(&p, r, rnd);

            cr_assert(w >= d / 2 && w <= d, "retry %u rnd %u: %ld", r, rnd, w);
        }
    }
    cr_assert_eq(prov_api_backoff_ms(&p, 1000, UINT32_MAX) <= 1000, 1);
}

Test(apiclient, backoff_defaults_apply_to_zero_fields)
{
    cr_assert_eq(prov_api_backoff_ms(NULL, 1, 0), PROV_API_DEFAULT_BASE_DELAY_MS / 2);
    cr_assert_eq(prov_api_backoff_ms(NULL, 30, 0), PROV_API_DEFAULT_MAX_DELAY_MS / 2);
}

/* ---- the retry loop ---------------------------------------------------------------------- */

Test(apiclient, throttled_twice_then_success_keeps_the_client_token)
{
    static const struct step steps[] = {THROTTLED, THROTTLED, {200, OK_BODY, NULL, PROV_HTTP_OK}};
    struct fake f = {.jitter = 7};
    struct prov_creds c = creds_of(NULL);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES], n0[64], n1[64], n2[64];

    cr_assert_eq(run(&f, steps, 3, &o, &c, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(res.kind, PROV_API_OK);
    cr_assert_eq(res.attempts, 3);
    cr_assert_str_eq(res.request_id, "RID-OK");
    cr_assert_str_eq(json_string_value(json_object_get(res.json, "LoadBalancerId")), "lb-1");
    cr_assert_eq(f.calls, 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert(strstr(f.url[i], "ClientToken=tok-create-1") != NULL, "%s", f.url[i]);
    cr_assert_str_eq(f.url[0], f.url[2]); /* identical parameters */
    cr_assert_not_null(header_value(f.headers[0], "x-acs-signature-nonce", n0, sizeof(n0)));
    cr_assert_not_null(header_value(f.headers[1], "x-acs-signature-nonce", n1, sizeof(n1)));
    cr_assert_not_null(header_value(f.headers[2], "x-acs-signature-nonce", n2, sizeof(n2)));
    cr_assert_str_neq(n0, n1);
    cr_assert_str_neq(n1, n2);
    cr_assert_eq(f.nsleeps, 2);
    cr_assert_eq(f.sleeps[0], prov_api_backoff_ms(&o.retry, 1, 7));
    cr_assert_eq(f.sleeps[1], prov_api_backoff_ms(&o.retry, 2, 7));
    cr_assert_eq(f.sleeps[0], 57); /* 100/2 + 7 */
    cr_assert_eq(f.sleeps[1], 107);
    prov_api_result_cleanup(&res);
}

Test(apiclient, busy_5xx_and_transport_failures_are_retried)
{
    static const struct step steps[] = {
        {503, "{\"Code\":\"ServiceUnavailable\",\"Message\":\"m\",\"RequestId\":\"r\"}", NULL,
         PROV_HTTP_OK},
        {0, NULL, NULL, PROV_HTTP_TIMEOUT},
        {0, NULL, NULL, PROV_HTTP_CONNECT},
        {409, "{\"Code\":\"Conflict.Lock\",\"Message\":\"m\",\"RequestId\":\"r\"}", NULL,
         PROV_HTTP_OK},
        {502, "<html>bad gateway</html>", NULL, PROV_HTTP_OK},
        {200, OK_BODY, NULL, PROV_HTTP_OK},
    };
    struct fake f = {0};
    struct prov_creds c = creds_of(NULL);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    cr_assert_eq(run(&f, steps, 6, &o, &c, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(res.attempts, 6);
    cr_assert_eq(f.nsleeps, 5);
    prov_api_result_cleanup(&res);
}

Test(apiclient, gives_up_at_max_attempts_with_action_code_message_and_request_id)
{
    static const struct step steps[] = {THROTTLED, THROTTLED, THROTTLED};
    struct fake f = {0};
    struct prov_creds c = creds_of(NULL);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    o.retry.max_attempts = 3;
    cr_assert_eq(run(&f, steps, 3, &o, &c, &CREATE, &res, err, sizeof(err)), -1);
    cr_assert_eq(res.kind, PROV_API_RETRYABLE);
    cr_assert_eq(res.attempts, 3);
    cr_assert_eq(f.nsleeps, 2);
    cr_assert_str_eq(res.code, "Throttling.User");
    cr_assert_str_eq(res.request_id, "RID-T");
    cr_assert_str_eq(err, "CreateLoadBalancer (slb): Throttling.User: Request was denied due to "
                          "user flow control. [RequestId RID-T, HTTP 400, 3 attempts]");
    prov_api_result_cleanup(&res);
}

Test(apiclient, the_deadline_stops_retries_before_a_wait_that_would_cross_it)
{
    static const struct step steps[] = {THROTTLED, THROTTLED, THROTTLED};
    struct fake f = {0};
    struct prov_creds c = creds_of(NULL);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    o.retry.base_delay_ms = 800; /* waits 400, then 800: 400 + 800 > 1000 */
    o.retry.max_delay_ms = 10000;
    o.retry.deadline_ms = 1000;
    cr_assert_eq(run(&f, steps, 3, &o, &c, &CREATE, &res, err, sizeof(err)), -1);
    cr_assert_eq(f.calls, 2);
    cr_assert_eq(f.nsleeps, 1);
    cr_assert_eq(f.sleeps[0], 400);
    prov_api_result_cleanup(&res);
}

Test(apiclient, final_errors_are_not_retried)
{
    static const struct {
        long status;
        const char *body;
        enum prov_api_kind kind;
    } rows[] = {
        {400, "{\"Code\":\"SignatureDoesNotMatch\",\"Message\":\"m\",\"RequestId\":\"r\"}",
         PROV_API_AUTH},
        {403, "{\"Code\":\"Forbidden.RAM\",\"Message\":\"m\",\"RequestId\":\"r\"}", PROV_API_AUTH},
        {400, "{\"Code\":\"InvalidParameter\",\"Message\":\"m\",\"RequestId\":\"r\"}",
         PROV_API_CLIENT},
        {400, "{\"Code\":\"IdempotentParameterMismatch\",\"Message\":\"m\",\"RequestId\":\"r\"}",
         PROV_API_CLIENT},
        {404, "{\"Code\":\"InvalidLoadBalancerId.NotFound\",\"Message\":\"m\",\"RequestId\":\"r\"}",
         PROV_API_NOT_FOUND},
        {400,
         "{\"Code\":\"EndpointServiceConnectionDependence\",\"Message\":\"m\",\"RequestId\":\"r\"}",
         PROV_API_DEPENDENCY},
        {400, "{\"Code\":\"DryRunOperation\",\"Message\":\"m\",\"RequestId\":\"r\"}",
         PROV_API_DRY_RUN_OK},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct step steps[1] = {{rows[i].status, rows[i].body, NULL, PROV_HTTP_OK}};
        struct fake f = {0};
        struct prov_creds c = creds_of(NULL);
        struct prov_api_options o = options_of(&f);
        struct prov_api_result res;
        char err[PROV_API_ERROR_BYTES];

        cr_assert_eq(run(&f, steps, 1, &o, &c, &CREATE, &res, err, sizeof(err)), -1);
        cr_assert_eq(res.kind, rows[i].kind, "row %zu: %s", i, err);
        cr_assert_eq(f.calls, 1, "row %zu", i);
        cr_assert_eq(f.nsleeps, 0, "row %zu", i);
        cr_assert(strstr(err, "[RequestId r, HTTP ") != NULL, "%s", err);
        prov_api_result_cleanup(&res);
    }
}

Test(apiclient, auth_errors_name_the_credential_source_never_the_secret)
{
    static const struct step steps[] = {
        {400, "{\"Code\":\"SignatureDoesNotMatch\",\"Message\":\"nope\",\"RequestId\":\"r\"}", NULL,
         PROV_HTTP_OK}};
    struct fake f = {0};
    struct prov_creds c = creds_of(NULL);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    cr_assert_eq(run(&f, steps, 1, &o, &c, &CREATE, &res, err, sizeof(err)), -1);
    cr_assert(strstr(err, "credentials used: test credentials") != NULL, "%s", err);
    cr_assert_null(strstr(err, SECRET));
    prov_api_result_cleanup(&res);
}

Test(apiclient, clock_skew_is_re_signed_once_then_reported_with_the_offset)
{
    static const struct step steps[] = {
        {400, "{\"Code\":\"InvalidTimeStamp.Expired\",\"Message\":\"expired\",\"RequestId\":\"r\"}",
         "Thu, 26 Oct 2023 10:37:32 GMT", PROV_HTTP_OK},
        {400, "{\"Code\":\"InvalidTimeStamp.Expired\",\"Message\":\"expired\",\"RequestId\":\"r\"}",
         "Thu, 26 Oct 2023 10:37:32 GMT", PROV_HTTP_OK},
    };
    struct fake f = {0};
    struct prov_creds c = creds_of(NULL);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    cr_assert_eq(run(&f, steps, 2, &o, &c, &CREATE, &res, err, sizeof(err)), -1);
    cr_assert_eq(res.kind, PROV_API_CLOCK_SKEW);
    cr_assert_eq(f.calls, 2);
    cr_assert_eq(f.nsleeps, 0);
    cr_assert_eq(res.skew_known, 1);
    cr_assert_eq(res.skew_s, 900);
    cr_assert(strstr(err, "this machine's clock is 900 s behind the server's") != NULL, "%s", err);
    cr_assert(strstr(err, "NTP") != NULL, "%s", err);
    prov_api_result_cleanup(&res);
}

Test(apiclient, tls_failures_and_oversized_bodies_are_not_retried)
{
    static const enum prov_http_failure fails[] = {PROV_HTTP_TLS, PROV_HTTP_TOO_LARGE};
    static const enum prov_api_kind kinds[] = {PROV_API_TRANSPORT, PROV_API_RESPONSE};

    for (size_t i = 0; i < 2; i++) {
        struct step steps[1] = {{0, NULL, NULL, fails[i]}};
        struct fake f = {0};
        struct prov_creds c = creds_of(NULL);
        struct prov_api_options o = options_of(&f);
        struct prov_api_result res;
        char err[PROV_API_ERROR_BYTES];

        cr_assert_eq(run(&f, steps, 1, &o, &c, &CREATE, &res, err, sizeof(err)), -1);
        cr_assert_eq(res.kind, kinds[i]);
        cr_assert_eq(f.calls, 1);
        cr_assert(strstr(err, "no answer from " BASE) != NULL, "%s", err);
        prov_api_result_cleanup(&res);
    }
}

Test(apiclient, success_bodies_must_be_json_and_may_be_empty)
{
    static const struct step bad[] = {{200, "{\"RequestId\": ", NULL, PROV_HTTP_OK}};
    static const struct step empty[] = {{204, " \r\n", NULL, PROV_HTTP_OK}};
    struct fake f = {0}, g = {0};
    struct prov_creds c = creds_of(NULL);
    struct prov_api_options o = options_of(&f), p = options_of(&g);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    cr_assert_eq(run(&f, bad, 1, &o, &c, &CREATE, &res, err, sizeof(err)), -1);
    cr_assert_eq(res.kind, PROV_API_RESPONSE);
    cr_assert(strstr(err, "is not JSON") != NULL, "%s", err);
    prov_api_result_cleanup(&res);
    cr_assert_eq(run(&g, empty, 1, &p, &c, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    cr_assert_null(res.json);
    prov_api_result_cleanup(&res);
}

Test(apiclient, the_token_is_redacted_from_server_messages)
{
    static const struct step steps[] = {
        {400,
         "{\"Code\":\"SignatureDoesNotMatch\",\"RequestId\":\"r\",\"Message\":\"server string "
         "to sign is:POST&%2F&SecurityToken%3DSTS-token-0123456789%252F%252B%253Dabc raw " TOKEN
         "\"}",
         NULL, PROV_HTTP_OK}};
    struct fake f = {0};
    struct prov_creds c = creds_of(TOKEN);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    cr_assert_eq(run(&f, steps, 1, &o, &c, &CREATE, &res, err, sizeof(err)), -1);
    cr_assert_null(strstr(res.message, TOKEN));
    cr_assert_null(strstr(res.message, "0123456789%252F"), "%s", res.message);
    cr_assert_null(strstr(err, TOKEN));
    cr_assert(strstr(err, "SecurityToken%3D<redacted> raw <redacted>") != NULL, "%s", err);
    prov_api_result_cleanup(&res);
}

/* ---- wire forms -------------------------------------------------------------------------- */

Test(apiclient, slb_v3_puts_parameters_in_the_query_and_signs_the_host)
{
    static const struct step steps[] = {{200, OK_BODY, NULL, PROV_HTTP_OK}};
    struct fake f = {0};
    struct prov_creds c = creds_of(TOKEN);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES], v[512];

    cr_assert_eq(run(&f, steps, 1, &o, &c, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(f.method[0], "POST");
    cr_assert_str_eq(f.url[0], BASE "/?ClientToken=tok-create-1&LoadBalancerName=relay%20lb"
                                    "&RegionId=cn-hangzhou");
    cr_assert_str_eq(header_value(f.headers[0], "host", v, sizeof(v)), "127.0.0.1:8080");
    cr_assert_str_eq(header_value(f.headers[0], "x-acs-action", v, sizeof(v)),
                     "CreateLoadBalancer");
    cr_assert_str_eq(header_value(f.headers[0], "x-acs-version", v, sizeof(v)), "2014-05-15");
    cr_assert_str_eq(header_value(f.headers[0], "x-acs-date", v, sizeof(v)),
                     "2023-10-26T10:22:32Z");
    cr_assert_str_eq(header_value(f.headers[0], "x-acs-security-token", v, sizeof(v)), TOKEN);
    cr_assert(strncmp(header_value(f.headers[0], "authorization", v, sizeof(v)),
                      "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;",
                      67) == 0,
              "%s", v);
    cr_assert(strstr(f.headers[0], "User-Agent: plrelay-provision/") != NULL);
    cr_assert_str_eq(f.body[0], "");
    prov_api_result_cleanup(&res);
}

Test(apiclient, nlb_v3_sends_a_form_body_whose_hash_is_signed)
{
    static const struct step steps[] = {{200, OK_BODY, NULL, PROV_HTTP_OK}};
    static const struct prov_sign_kv params[] = {{"RegionId", "cn-hangzhou"},
                                                 {"ZoneMappings.1.ZoneId", "cn-hangzhou-i"}};
    struct prov_api_call call = {.product = PROV_API_NLB,
                                 .action = "CreateLoadBalancer",
                                 .params = params,
                                 .param_count = 2};
    struct fake f = {0};
    struct prov_creds c = creds_of(NULL);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES], v[512], hash[PROV_SIGN_SHA256_HEX_BYTES];

    cr_assert_eq(run(&f, steps, 1, &o, &c, &call, &res, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(f.url[0], BASE "/");
    cr_assert_str_eq(f.body[0], "RegionId=cn-hangzhou&ZoneMappings.1.ZoneId=cn-hangzhou-i");
    cr_assert_str_eq(header_value(f.headers[0], "content-type", v, sizeof(v)),
                     "application/x-www-form-urlencoded");
    cr_assert_eq(prov_sign_sha256_hex(f.body[0], strlen(f.body[0]), hash), 0);
    cr_assert_str_eq(header_value(f.headers[0], "x-acs-content-sha256", v, sizeof(v)), hash);
    cr_assert(strstr(header_value(f.headers[0], "authorization", v, sizeof(v)),
                     "content-type;host;") != NULL,
              "%s", v);
    prov_api_result_cleanup(&res);
}

Test(apiclient, elasticsearch_roa_sends_method_path_query_and_json_body)
{
    static const struct step steps[] = {
        {200, "{\"RequestId\":\"r\",\"Result\":{}}", NULL, PROV_HTTP_OK}};
    static const struct prov_sign_kv q[] = {{"clientToken", "tok-es"},
                                            {"updateStrategy", "normal"}};
    struct prov_api_call call = {.product = PROV_API_ELASTICSEARCH,
                                 .action = "UpdateInstanceSettings",
                                 .method = "PATCH",
                                 .path = "/openapi/instances/es-cn-1/instance-settings",
                                 .params = q,
                                 .param_count = 2,
                                 .body_json = "{\"esConfig\":{\"a\":\"b\"}}"};
    struct fake f = {0};
    struct prov_creds c = creds_of(TOKEN);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES], v[512], md5[32];

    cr_assert_eq(run(&f, steps, 1, &o, &c, &call, &res, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(f.method[0], "PATCH");
    cr_assert_str_eq(f.url[0], BASE "/openapi/instances/es-cn-1/instance-settings"
                                    "?clientToken=tok-es&updateStrategy=normal");
    cr_assert_str_eq(f.body[0], "{\"esConfig\":{\"a\":\"b\"}}");
    cr_assert_str_eq(header_value(f.headers[0], "content-type", v, sizeof(v)), "application/json");
    cr_assert_eq(prov_sign_content_md5(f.body[0], strlen(f.body[0]), md5, sizeof(md5)), 0);
    cr_assert_str_eq(header_value(f.headers[0], "content-md5", v, sizeof(v)), md5);
    cr_assert_str_eq(header_value(f.headers[0], "x-acs-accesskey-id", v, sizeof(v)), ID);
    cr_assert_str_eq(header_value(f.headers[0], "x-acs-security-token", v, sizeof(v)), TOKEN);
    cr_assert(
        strncmp(header_value(f.headers[0], "authorization", v, sizeof(v)), "acs testid:", 11) == 0,
        "%s", v);
    prov_api_result_cleanup(&res);
}

Test(apiclient, v2_rpc_adds_format_json_and_the_signature_parameter)
{
    static const struct step steps[] = {{200, OK_BODY, NULL, PROV_HTTP_OK}};
    struct fake f = {0};
    struct prov_creds c = creds_of(TOKEN);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    o.product[PROV_API_SLB].override_style = 1;
    o.product[PROV_API_SLB].style = PROV_SIGN_V2_RPC;
    cr_assert_eq(run(&f, steps, 1, &o, &c, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    cr_assert(strstr(f.url[0], "&Format=JSON&") != NULL, "%s", f.url[0]);
    cr_assert(strstr(f.url[0], "&SecurityToken=STS-token-0123456789%2F%2B%3Dabc&") != NULL, "%s",
              f.url[0]);
    cr_assert(strstr(f.url[0], "&Signature=") != NULL, "%s", f.url[0]);
    cr_assert_null(strstr(f.headers[0], "authorization"));
    prov_api_result_cleanup(&res);
}

/* ---- options and bad calls --------------------------------------------------------------- */

Test(apiclient, endpoints_must_be_http_or_https_without_a_path)
{
    static const char *const bad[] = {"ftp://127.0.0.1", "http://127.0.0.1/prefix",
                                      "http://127.0.0.1/?a=b", "http://user@127.0.0.1",
                                      "not a url"};
    struct fake f = {0};
    struct prov_creds c = creds_of(NULL);
    char err[PROV_API_ERROR_BYTES];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct prov_api_options o = options_of(&f);

        o.product[PROV_API_NLB].base_url = bad[i];
        cr_assert_null(prov_api_new(&o, &c, err, sizeof(err)), "%s", bad[i]);
        cr_assert(strstr(err, "endpoint") != NULL, "%s", err);
    }
}

Test(apiclient, default_endpoints_are_regional_https_and_need_a_region)
{
    static const struct step steps[] = {{200, OK_BODY, NULL, PROV_HTTP_OK}};
    struct fake f = {0};
    struct prov_creds c = creds_of(NULL);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES], v[128];

    o.product[PROV_API_SLB].base_url = NULL;
    cr_assert_null(prov_api_new(&o, &c, err, sizeof(err)));
    cr_assert(strstr(err, "slb: no endpoint") != NULL, "%s", err);
    o.region_id = "cn-hangzhou";
    cr_assert_eq(run(&f, steps, 1, &o, &c, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    cr_assert(strncmp(f.url[0], "https://slb.cn-hangzhou.aliyuncs.com/?", 38) == 0, "%s", f.url[0]);
    cr_assert_str_eq(header_value(f.headers[0], "host", v, sizeof(v)),
                     "slb.cn-hangzhou.aliyuncs.com");
    prov_api_result_cleanup(&res);
}

Test(apiclient, malformed_calls_fail_locally_without_sending)
{
    static const struct prov_sign_kv dup[] = {{"RegionId", "a"}, {"RegionId", "b"}};
    struct prov_api_call calls[] = {
        {.product = PROV_API_SLB, .action = NULL},
        {.product = PROV_API_SLB, .action = "Bad Action"},
        {.product = PROV_API_SLB, .action = "X", .body_json = "{}"},
        {.product = PROV_API_SLB, .action = "X", .method = "GET"},
        {.product = PROV_API_ELASTICSEARCH, .action = "X", .method = "GET"},
        {.product = PROV_API_ELASTICSEARCH, .action = "X", .method = "GET", .path = "rel"},
        {.product = PROV_API_SLB, .action = "X", .params = dup, .param_count = 2},
        {.product = (enum prov_api_product)9, .action = "X"},
    };

    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        struct fake f = {0};
        struct prov_creds c = creds_of(NULL);
        struct prov_api_options o = options_of(&f);
        struct prov_api_result res;
        char err[PROV_API_ERROR_BYTES] = "";

        cr_assert_eq(run(&f, NULL, 0, &o, &c, &calls[i], &res, err, sizeof(err)), -1, "call %zu",
                     i);
        cr_assert_eq(res.kind, PROV_API_LOCAL, "call %zu", i);
        cr_assert_eq(f.calls, 0, "call %zu", i);
        cr_assert_neq(err[0], '\0', "call %zu", i);
    }
}

Test(apiclient, a_style_that_does_not_fit_the_product_is_refused)
{
    struct fake f = {0};
    struct prov_creds c = creds_of(NULL);
    struct prov_api_options o = options_of(&f);
    char err[PROV_API_ERROR_BYTES];

    o.product[PROV_API_ELASTICSEARCH].override_style = 1;
    o.product[PROV_API_ELASTICSEARCH].style = PROV_SIGN_V2_RPC;
    cr_assert_null(prov_api_new(&o, &c, err, sizeof(err)));
    o = options_of(&f);
    o.product[PROV_API_SLB].override_style = 1;
    o.product[PROV_API_SLB].style = PROV_SIGN_V2_ROA;
    cr_assert_null(prov_api_new(&o, &c, err, sizeof(err)));
    cr_assert(strstr(err, "does not fit") != NULL, "%s", err);
}

/* ---- dry run and redaction --------------------------------------------------------------- */

static char *dry_run(struct prov_api_options *o, const struct prov_creds *c,
                     const struct prov_api_call *call)
{
    struct prov_apiclient *client;
    char err[PROV_API_ERROR_BYTES], *text = NULL;

    client = prov_api_new(o, c, err, sizeof(err));
    cr_assert_not_null(client, "%s", err);
    cr_assert_eq(prov_api_dry_run(client, call, &text, err, sizeof(err)), 0, "%s", err);
    prov_api_free(client);
    return text;
}

Test(apiclient, dry_run_v3_redacts_authorization_and_token_and_sends_nothing)
{
    struct fake f = {0};
    struct prov_creds c = creds_of(TOKEN);
    struct prov_api_options o = options_of(&f);
    char *text = dry_run(&o, &c, &CREATE);

    cr_assert_eq(f.calls, 0);
    cr_assert(strncmp(text, "POST " BASE "/?ClientToken=tok-create-1&", 47) == 0, "%s", text);
    cr_assert(strstr(text, "\nauthorization: <redacted>\n") != NULL, "%s", text);
    cr_assert(strstr(text, "\nx-acs-security-token: <redacted>\n") != NULL, "%s", text);
    cr_assert(strstr(text, "\nx-acs-action: CreateLoadBalancer\n") != NULL, "%s", text);
    cr_assert_null(strstr(text, TOKEN));
    cr_assert_null(strstr(text, SECRET));
    cr_assert_null(strstr(text, "Signature="));
    free(text);
}

Test(apiclient, dry_run_v2_rpc_redacts_signature_and_token_parameters)
{
    static const struct prov_sign_kv params[] = {{"RegionId", "cn-hangzhou"}};
    struct prov_api_call call = {
        .product = PROV_API_NLB, .action = "ListLoadBalancers", .params = params, .param_count = 1};
    struct fake f = {0};
    struct prov_creds c = creds_of(TOKEN);
    struct prov_api_options o = options_of(&f);
    char *text;

    o.product[PROV_API_NLB].override_style = 1;
    o.product[PROV_API_NLB].style = PROV_SIGN_V2_RPC;
    text = dry_run(&o, &c, &call);
    cr_assert(strstr(text, "&SecurityToken=<redacted>&") != NULL, "%s", text);
    cr_assert(strstr(text, "&Signature=<redacted>") != NULL, "%s", text);
    cr_assert(strstr(text, "Action=ListLoadBalancers") != NULL, "%s", text);
    cr_assert_null(strstr(text, "STS-token-0123456789"));
    free(text);
}

Test(apiclient, redact_replaces_raw_and_percent_encoded_forms)
{
    char s[256];

    snprintf(s, sizeof(s), "a %s b %s c %s", TOKEN, "STS-token-0123456789%2F%2B%3Dabc",
             "STS-token-0123456789%252F%252B%253Dabc");
    prov_api_redact(s, sizeof(s), TOKEN);
    cr_assert_str_eq(s, "a <redacted> b <redacted> c <redacted>");
    snprintf(s, sizeof(s), "short abc");
    prov_api_redact(s, sizeof(s), "abc"); /* too short to be a secret: left alone */
    cr_assert_str_eq(s, "short abc");
    snprintf(s, 20, "x 0123456789abcdef");
    prov_api_redact(s, 20, "0123456789abcdef");
    cr_assert_str_eq(s, "x <redacted>");
}

/* ---- credentials refresh ------------------------------------------------------------------ */

struct refresher {
    struct prov_creds fresh; /* what the next refresh hands out */
    int fail;                /* 1: the refresh fails */
    unsigned calls;
};

static int fake_refresh(void *ctx, const struct prov_creds **creds, char *err, size_t err_size)
{
    struct refresher *r = ctx;

    r->calls++;
    if (r->fail) {
        snprintf(err, err_size, "metadata service unreachable (simulated)");
        return -1;
    }
    *creds = &r->fresh;
    return 0;
}

static struct prov_creds sts_expiring_in(int64_t seconds, const char *id, const char *token)
{
    struct prov_creds c = creds_of(token);

    snprintf(c.access_key_id, sizeof(c.access_key_id), "%s", id);
    c.source = PROV_CREDS_SOURCE_ECS_RAM_ROLE;
    c.expiration_unix_s = UNIX_NOW + seconds;
    return c;
}

#define OK_STEP                          \
    {                                    \
        200, OK_BODY, NULL, PROV_HTTP_OK \
    }

Test(apiclient, credentials_expiring_within_five_minutes_are_refreshed_before_signing)
{
    static const struct step steps[] = {OK_STEP, OK_STEP};
    struct fake f = {.steps = steps, .nsteps = 2};
    struct refresher r = {.fresh = sts_expiring_in(6 * 3600, "STS.fresh", "fresh-token-0123")};
    struct prov_creds old = sts_expiring_in(299, "STS.old", "old-token-0123456");
    struct prov_api_options o = options_of(&f);
    struct prov_apiclient *client;
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES], tok[128];

    o.refresh = (struct prov_api_refresh){fake_refresh, &r, 0};
    client = prov_api_new(&o, &old, err, sizeof(err));
    cr_assert_not_null(client, "%s", err);
    cr_assert_eq(prov_api_call(client, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    prov_api_result_cleanup(&res);
    cr_assert_eq(r.calls, 1);
    cr_assert(strstr(f.headers[0], "Credential=STS.fresh,") != NULL, "%s", f.headers[0]);
    cr_assert_str_eq(header_value(f.headers[0], "x-acs-security-token", tok, sizeof(tok)),
                     "fresh-token-0123");
    cr_assert_eq(prov_api_call(client, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    prov_api_result_cleanup(&res);
    cr_assert_eq(r.calls, 1, "fresh credentials are not refreshed again");
    prov_api_free(client);
}

Test(apiclient, credentials_far_from_expiry_and_long_term_keys_are_never_refreshed)
{
    static const struct step steps[] = {OK_STEP, OK_STEP};
    struct fake f = {0};
    struct refresher r = {.fail = 1};
    struct prov_creds sts = sts_expiring_in(301, "STS.old", "old-token-0123456");
    struct prov_creds ak = creds_of(NULL);
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    o.refresh = (struct prov_api_refresh){fake_refresh, &r, 0};
    cr_assert_eq(run(&f, steps, 1, &o, &sts, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    prov_api_result_cleanup(&res);
    f.calls = 0;
    cr_assert_eq(run(&f, steps, 1, &o, &ak, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    prov_api_result_cleanup(&res);
    cr_assert_eq(r.calls, 0);
}

Test(apiclient, a_failed_refresh_keeps_valid_credentials_and_asks_again_a_minute_later)
{
    static const struct step steps[] = {OK_STEP, OK_STEP, OK_STEP};
    struct fake f = {.steps = steps, .nsteps = 3};
    struct refresher r = {.fail = 1};
    struct prov_creds old = sts_expiring_in(120, "STS.old", "old-token-0123456");
    struct prov_api_options o = options_of(&f);
    struct prov_apiclient *client;
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    o.refresh = (struct prov_api_refresh){fake_refresh, &r, 0};
    client = prov_api_new(&o, &old, err, sizeof(err));
    cr_assert_not_null(client, "%s", err);
    cr_assert_eq(prov_api_call(client, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    prov_api_result_cleanup(&res);
    cr_assert_eq(r.calls, 1);
    cr_assert(strstr(f.headers[0], "Credential=STS.old,") != NULL, "%s", f.headers[0]);
    f.now_ms += PROV_API_REFRESH_RETRY_MS - 1;
    cr_assert_eq(prov_api_call(client, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    prov_api_result_cleanup(&res);
    cr_assert_eq(r.calls, 1, "no second refresh within the hold-off");
    f.now_ms += 1;
    cr_assert_eq(prov_api_call(client, &CREATE, &res, err, sizeof(err)), 0, "%s", err);
    prov_api_result_cleanup(&res);
    cr_assert_eq(r.calls, 2);
    prov_api_free(client);
}

Test(apiclient, expired_credentials_that_cannot_be_refreshed_fail_without_sending)
{
    struct fake f = {0};
    struct refresher r = {.fail = 1};
    struct prov_creds old = sts_expiring_in(-10, "STS.old", "old-token-0123456");
    struct prov_api_options o = options_of(&f);
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];

    o.refresh = (struct prov_api_refresh){fake_refresh, &r, 0};
    cr_assert_eq(run(&f, NULL, 0, &o, &old, &CREATE, &res, err, sizeof(err)), -1);
    cr_assert_eq(res.kind, PROV_API_LOCAL);
    cr_assert_eq(f.calls, 0);
    cr_assert_eq(r.calls, 1);
    cr_assert(strstr(err, "expired 10 s ago") != NULL, "%s", err);
    cr_assert(strstr(err, "metadata service unreachable") != NULL, "%s", err);
    cr_assert(strstr(err, "test credentials") != NULL, "%s", err);
    cr_assert(strstr(err, SECRET) == NULL && strstr(err, "old-token") == NULL, "%s", err);
}
