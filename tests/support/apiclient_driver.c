/*
 * apiclient_driver — a tiny CLI over plprov's creds + apiclient, for the integration tests that
 * run it against tests/support/emulator.py.
 *
 *   apiclient_driver [options] PRODUCT ACTION [Name=Value ...]
 *     PRODUCT      slb | nlb | privatelink | elasticsearch
 *     --endpoint URL          base URL for every product (the emulator serves all four)
 *     --method M --path P --body JSON      REST (Elasticsearch) calls
 *     --style v3|rpc|roa      override the called product's signature style
 *     --timeout-ms N --connect-timeout-ms N --max-response-bytes N
 *     --max-attempts N --base-delay-ms N --max-delay-ms N --deadline-ms N
 *     --profile PATH          also try this aliyun CLI profile file (default: profile skipped)
 *     --metadata URL          also try the ECS metadata service at URL (default: skipped, so a
 *                             test never reaches 100.100.100.200)
 *     --dry-run               print the request that would be sent, send nothing
 *     --creds-only            print which credential source was used, send nothing
 *
 * Credentials come from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN),
 * never from argv. Output: one JSON object on stdout — {"ok":true,"attempts":N,"http_status":S,
 * "request_id":R,"body":{...}} or {"ok":false,"kind":K,"code":C,"message":M,"request_id":R,
 * "attempts":N,"http_status":S,"error":E}. Exit 0 ok, 1 the call failed, 2 usage or credentials.
 */
#include "plprov/apiclient.h"
#include "plprov/creds.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 64

struct args {
    const char *endpoint, *method, *path, *body, *style, *profile, *metadata;
    const char *product, *action;
    long timeout_ms, connect_timeout_ms, max_response, max_attempts, base_delay, max_delay,
        deadline;
    int dry_run, creds_only;
    struct prov_sign_kv params[MAX_PARAMS];
    size_t nparams;
};

static int usage(const char *why)
{
    fprintf(stderr,
            "apiclient_driver: %s (see the comment atop tests/support/apiclient_driver.c)\n", why);
    return 2;
}

static int parse_long(const char *s, long *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    static const char *const num_names[] = {
        "--timeout-ms",    "--connect-timeout-ms", "--max-response-bytes", "--max-attempts",
        "--base-delay-ms", "--max-delay-ms",       "--deadline-ms"};
    long *nums[] = {&a->timeout_ms, &a->connect_timeout_ms, &a->max_response, &a->max_attempts,
                    &a->base_delay, &a->max_delay,          &a->deadline};
    const char **strs[] = {&a->endpoint, &a->method,  &a->path,    &a->body,
                           &a->style,    &a->profile, &a->metadata};
    static const char *const str_names[] = {"--endpoint", "--method",  "--path",    "--body",
                                            "--style",    "--profile", "--metadata"};
    int i = 1;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        int known = 0;

        if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "--creds-only") == 0) {
            *(argv[i][2] == 'd' ? &a->dry_run : &a->creds_only) = 1;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
            if (strcmp(argv[i], num_names[k]) == 0) {
                if (parse_long(argv[i + 1], nums[k]) != 0)
                    return -1;
                known = 1;
            }
        for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
            if (strcmp(argv[i], str_names[k]) == 0) {
                *strs[k] = argv[i + 1];
                known = 1;
            }
        if (!known)
            return -1;
        i++;
    }
    if (a->creds_only)
        return 0;
    if (argc - i < 2)
        return -1;
    a->product = argv[i++];
    a->action = argv[i++];
    for (; i < argc; i++) {
        char *eq = strchr(argv[i], '=');

        if (eq == NULL || a->nparams == MAX_PARAMS)
            return -1;
        *eq = '\0';
        a->params[a->nparams++] = (struct prov_sign_kv){argv[i], eq + 1};
    }
    return 0;
}

static int product_of(const char *name, enum prov_api_product *out)
{
    for (int p = 0; p < PROV_API_PRODUCT_COUNT; p++)
        if (strcmp(name, prov_api_product_name((enum prov_api_product)p)) == 0) {
            *out = (enum prov_api_product)p;
            return 0;
        }
    return -1;
}

static void options_of(const struct args *a, enum prov_api_product target,
                       struct prov_api_options *o)
{
    memset(o, 0, sizeof(*o));
    o->region_id = "cn-hangzhou";
    for (int p = 0; p < PROV_API_PRODUCT_COUNT; p++) {
        o->product[p].base_url = a->endpoint;
        if (a->style != NULL && p == (int)target) {
            o->product[p].override_style = 1;
            o->product[p].style = strcmp(a->style, "rpc") == 0   ? PROV_SIGN_V2_RPC
                                  : strcmp(a->style, "roa") == 0 ? PROV_SIGN_V2_ROA
                                                                 : PROV_SIGN_V3;
        }
    }
    o->timeout_ms = a->timeout_ms;
    o->connect_timeout_ms = a->connect_timeout_ms;
    o->max_response_bytes = (size_t)a->max_response;
    o->retry.max_attempts = (unsigned)a->max_attempts;
    o->retry.base_delay_ms = a->base_delay;
    o->retry.max_delay_ms = a->max_delay;
    o->retry.deadline_ms = a->deadline;
}

static void print_result(int rc, const struct prov_api_result *res, const char *err)
{
    json_t *o = json_object();
    char *text;

    json_object_set_new(o, "ok", json_boolean(rc == 0));
    json_object_set_new(o, "kind", json_string(prov_api_kind_name(res->kind)));
    json_object_set_new(o, "attempts", json_integer(res->attempts));
    json_object_set_new(o, "http_status", json_integer(res->http_status));
    json_object_set_new(o, "request_id", json_string(res->request_id));
    if (rc == 0) {
        json_object_set(o, "body", res->json != NULL ? res->json : json_null());
    } else {
        json_object_set_new(o, "code", json_string(res->code));
        json_object_set_new(o, "message", json_string(res->message));
        json_object_set_new(o, "error", json_string(err));
    }
    text = json_dumps(o, JSON_COMPACT);
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(o);
}

int main(int argc, char **argv)
{
    struct args a = {0};
    struct prov_creds_options co = {0};
    struct prov_creds *creds = NULL;
    struct prov_api_options opt;
    struct prov_apiclient *client = NULL;
    struct prov_api_call call = {0};
    struct prov_api_result res;
    char err[PROV_API_ERROR_BYTES];
    char *text = NULL;
    int rc = 2;

    prov_api_result_init(&res);
    if (parse_args(argc, argv, &a) != 0)
        return usage("bad arguments");
    if (!a.creds_only && product_of(a.product, &call.product) != 0)
        return usage("unknown product");
    co.profile_path = a.profile;
    co.metadata_url = a.metadata;
    co.skip =
        (a.profile ? 0 : PROV_CREDS_SKIP_PROFILE) | (a.metadata ? 0 : PROV_CREDS_SKIP_METADATA);
    if (prov_creds_resolve(&co, &creds, err, sizeof(err)) != 0) {
        fprintf(stderr, "apiclient_driver: %s\n", err);
        return 2;
    }
    if (a.creds_only) {
        printf("{\"source\":\"%s\",\"description\":\"%s\",\"sts\":%s}\n",
               prov_creds_source_name(creds->source), creds->description,
               creds->security_token[0] ? "true" : "false");
        rc = 0;
        goto cleanup;
    }
    options_of(&a, call.product, &opt);
    client = prov_api_new(&opt, creds, err, sizeof(err));
    if (client == NULL) {
        fprintf(stderr, "apiclient_driver: %s\n", err);
        goto cleanup;
    }
    call.action = a.action;
    call.method = a.method;
    call.path = a.path;
    call.body_json = a.body;
    call.params = a.params;
    call.param_count = a.nparams;
    if (a.dry_run) {
        rc = prov_api_dry_run(client, &call, &text, err, sizeof(err)) == 0 ? 0 : 1;
        if (rc == 0)
            fputs(text, stdout);
        else
            fprintf(stderr, "apiclient_driver: %s\n", err);
        goto cleanup;
    }
    rc = prov_api_call(client, &call, &res, err, sizeof(err)) == 0 ? 0 : 1;
    print_result(rc, &res, err);
cleanup:
    free(text);
    prov_api_result_cleanup(&res);
    prov_api_free(client);
    prov_creds_free(creds);
    return rc;
}
