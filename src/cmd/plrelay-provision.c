/*
 * plrelay-provision — the provisioner's command line. Everything real lives in the plprov library
 * (provconfig, essettings, inspect, plan, the typed reads, apiclient, creds); this file turns argv
 * into a config load, a credential resolution, library calls, and one print of what they built.
 * It also reads an optional relay config with the relay's own loader (plrelay_core), so
 * `es-settings` sees the routes exactly as plrelay will.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plprov/apiclient.h"
#include "plprov/apply.h"
#include "plprov/creds.h"
#include "plprov/essettings.h"
#include "plprov/inspect.h"
#include "plprov/plan.h"
#include "plprov/provconfig.h"
#include "plprov/state.h"
#include "plprov/verify.h"
#include "plrelay/config.h"

/* Exit codes, also in usage(). */
#define EXIT_OK 0    /* done; status healthy; plan in sync */
#define EXIT_API 1   /* an API call failed (the failing action is printed) */
#define EXIT_USAGE 2 /* bad command line or invalid configuration */
#define EXIT_CREDS 3 /* no usable credentials */
#define EXIT_DIFF 4  /* plan: changes pending; status/verify: a hop is missing or not working */

struct args {
    const char *config, *relay_config, *command;
    int json, yes, dry_run;
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: plrelay-provision -c FILE <command> [--json] [--yes] [--dry-run]\n"
            "                         [--relay-config RELAY.ini]\n"
            "\n"
            "Builds, inspects and tears down the private connection from an Alibaba Cloud\n"
            "Elasticsearch cluster to plrelay (topology clb-ecs) or to another cluster\n"
            "(topology nlb-ip) through PrivateLink. See conf/provision-*.example.ini.\n"
            "\n"
            "Commands:\n"
            "  status        read every hop (load balancer, listeners, backends, endpoint\n"
            "                service, connections, ES instance and endpoint) into one table\n"
            "  plan          print the ordered steps apply would take (nothing if in sync)\n"
            "  es-settings   print the Elasticsearch settings matching the path and a relay\n"
            "                config (--relay-config); the endpoint domain comes from the state\n"
            "                file, or a placeholder when unknown. Makes no API call.\n"
            "  apply         create what is missing, in order, and wait for each hop to work;\n"
            "                every create's ClientToken is saved in the state file first, so\n"
            "                an interrupted apply resumes without duplicates\n"
            "  verify        nlb-ip: reindex [verify] source_index from the remote cluster\n"
            "                through the endpoint domain and compare _count on both sides;\n"
            "                clb-ecs: healthy backends on every listener, connection Connected\n"
            "  destroy       tear everything down in reverse order; not found counts as done\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE        provisioning config (required)\n"
            "  -r, --relay-config FILE  plrelay's config, for es-settings\n"
            "      --json               machine-readable output (one JSON document)\n"
            "      --yes                do not ask before changing anything (apply, destroy);\n"
            "                           required when stdin is not a terminal\n"
            "      --dry-run            print the calls apply/destroy would make (secrets\n"
            "                           redacted) and send no write\n"
            "  -h, --help               print this help\n"
            "\n"
            "Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET\n"
            "(/ ALIBABA_CLOUD_SECURITY_TOKEN), then ~/.aliyun/config.json, then the ECS RAM role\n"
            "from the metadata service. Never on the command line.\n"
            "\n"
            "Exit status:\n"
            "  0  done; status: every hop healthy; plan: in sync\n"
            "  1  an API call failed or a wait timed out (the hop, action, Code, Message and\n"
            "     RequestId are printed)\n"
            "  2  bad command line, invalid configuration (every error as file:line), or a\n"
            "     state file that belongs to another path or is in use by another run\n"
            "  3  no usable credentials\n"
            "  4  plan: changes pending; status: a hop is missing or not in its working state;\n"
            "     verify: a check failed (the failing hop is named)\n"
            "\n"
            "apply and destroy print each call as it is made and one line per status wait\n"
            "(a rewritten progress line on a terminal). Passwords for verify come from\n"
            "[elasticsearch] password_env / password_file and [verify] remote_password_env /\n"
            "remote_password_file, never from this file or the command line.\n");
}

static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"relay-config", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"yes", no_argument, NULL, 'y'},
        {"dry-run", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "c:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'r':
            a->relay_config = optarg;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'y':
            a->yes = 1;
            break;
        case 'n':
            a->dry_run = 1;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_OK);
        default:
            return -1;
        }
    }
    if (optind != argc - 1 || a->config == NULL) {
        return -1;
    }
    a->command = argv[optind];
    return 0;
}

/* The relay's routes, reduced to what es-settings needs. *out is heap (free()). */
static int load_relay_routes(const char *path, struct prov_essettings_route **out, size_t *count)
{
    struct plr_config_errors *errs = calloc(1, sizeof(*errs));
    struct plr_config *rc = NULL;
    size_t i;
    int ret = -1;

    *out = NULL;
    *count = 0;
    if (errs == NULL) {
        goto cleanup;
    }
    rc = plr_config_load(path, errs);
    if (rc == NULL) {
        plr_config_errors_print(errs, 2);
        goto cleanup;
    }
    *out = calloc(rc->route_count + 1, sizeof(**out));
    if (*out == NULL) {
        goto cleanup;
    }
    for (i = 0; i < rc->route_count; i++) {
        const struct plr_route_config *r = &rc->routes[i];
        struct prov_essettings_route *e = &(*out)[i];
        snprintf(e->name, sizeof(e->name), "%s", r->name);
        e->is_connect = r->mode == PLR_MODE_CONNECT;
        e->listen_port = r->listen_count > 0 ? r->listen[0].port : 0;
        e->upstream_port = r->upstream_count > 0 ? r->upstreams[0].port : 0;
    }
    *count = rc->route_count;
    ret = 0;
cleanup:
    plr_config_unref(rc);
    free(errs);
    return ret;
}

static int cmd_es_settings(const struct args *a, const struct prov_config *cfg)
{
    struct prov_essettings_route *routes = NULL;
    struct prov_essettings_input in = {cfg, NULL, NULL, 0};
    char domain[PROV_ESSETTINGS_DOMAIN_BYTES], err[PROV_API_ERROR_BYTES], *out = NULL;
    int rc;

    rc = prov_essettings_state_domain(cfg->state_file, domain, sizeof(domain), err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "plrelay-provision: %s\n", err);
        return EXIT_USAGE;
    }
    in.endpoint_domain = rc == 0 ? domain : NULL;
    if (a->relay_config != NULL) {
        if (load_relay_routes(a->relay_config, &routes, &in.route_count) != 0) {
            fprintf(stderr, "plrelay-provision: cannot use the relay config %s\n", a->relay_config);
            return EXIT_USAGE;
        }
        in.routes = routes;
    }
    rc = prov_essettings_render(&in, a->json, &out, err, sizeof(err));
    free(routes);
    if (rc != 0) {
        fprintf(stderr, "plrelay-provision: %s\n", err);
        return EXIT_API;
    }
    fputs(out, stdout);
    if (a->json) {
        fputc('\n', stdout);
    }
    free(out);
    return EXIT_OK;
}

static void set_endpoint(struct prov_api_options *o, enum prov_api_product p, const char *url)
{
    o->product[p].base_url = url[0] != '\0' ? url : NULL;
}

/* Credentials and a client for cfg. */
static int open_client(const struct prov_config *cfg, struct prov_creds **creds,
                       struct prov_apiclient **client)
{
    struct prov_creds_options co;
    struct prov_api_options ao;
    char err[PROV_API_ERROR_BYTES];

    memset(&co, 0, sizeof(co));
    co.metadata_url = cfg->metadata_endpoint[0] != '\0' ? cfg->metadata_endpoint : NULL;
    if (prov_creds_resolve(&co, creds, err, sizeof(err)) != 0) {
        fprintf(stderr, "plrelay-provision: no credentials: %s\n", err);
        return EXIT_CREDS;
    }
    memset(&ao, 0, sizeof(ao));
    ao.region_id = cfg->region;
    set_endpoint(&ao, PROV_API_SLB, cfg->endpoint_slb);
    set_endpoint(&ao, PROV_API_NLB, cfg->endpoint_nlb);
    set_endpoint(&ao, PROV_API_PRIVATELINK, cfg->endpoint_privatelink);
    set_endpoint(&ao, PROV_API_ELASTICSEARCH, cfg->endpoint_elasticsearch);
    *client = prov_api_new(&ao, *creds, err, sizeof(err));
    if (*client == NULL) {
        fprintf(stderr, "plrelay-provision: %s\n", err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* status and plan: read the actual state, then render one or the other. */
static int cmd_read(const struct args *a, const struct prov_config *cfg, int is_plan)
{
    struct prov_creds *creds = NULL;
    struct prov_apiclient *client = NULL;
    struct prov_actual *actual = calloc(1, sizeof(*actual));
    struct prov_plan *plan = calloc(1, sizeof(*plan));
    char *out = NULL;
    size_t i;
    int rc, healthy = 0, read_ok;

    if (actual == NULL || plan == NULL) {
        fprintf(stderr, "plrelay-provision: out of memory\n");
        rc = EXIT_API;
        goto cleanup;
    }
    rc = open_client(cfg, &creds, &client);
    if (rc != EXIT_OK) {
        goto cleanup;
    }
    read_ok = prov_inspect_read(client, cfg, actual) == 0;
    if (is_plan) {
        if (!read_ok) {
            for (i = 0; i < actual->error_count; i++) {
                fprintf(stderr, "plrelay-provision: %s\n", actual->errors[i]);
            }
            fprintf(stderr, "plrelay-provision: cannot plan without reading every hop\n");
            rc = EXIT_API;
            goto cleanup;
        }
        prov_plan_build(cfg, actual, plan);
        rc = prov_plan_render(plan, a->json, &out) == 0 ? (plan->count == 0 ? EXIT_OK : EXIT_DIFF)
                                                        : EXIT_API;
    } else {
        rc = prov_inspect_render(cfg, actual, a->json, &out, &healthy) == 0
                 ? (!read_ok  ? EXIT_API
                    : healthy ? EXIT_OK
                              : EXIT_DIFF)
                 : EXIT_API;
    }
    if (out != NULL) {
        fputs(out, stdout);
        if (a->json) {
            fputc('\n', stdout);
        }
    } else {
        fprintf(stderr, "plrelay-provision: out of memory\n");
    }
cleanup:
    free(out);
    free(plan);
    free(actual);
    prov_api_free(client);
    prov_creds_free(creds);
    return rc;
}

/* Asks on a terminal; without one, --yes is required. 1 to go on. */
static int confirm(const struct args *a, const char *what)
{
    char line[16];

    if (a->yes || a->dry_run) {
        return 1;
    }
    if (!isatty(STDIN_FILENO)) {
        fprintf(stderr,
                "plrelay-provision: %s changes cloud resources: pass --yes (or --dry-run)\n", what);
        return 0;
    }
    fprintf(stderr, "%s: go on? [y/N] ", what);
    if (fgets(line, sizeof(line), stdin) == NULL || (line[0] != 'y' && line[0] != 'Y')) {
        fprintf(stderr, "plrelay-provision: %s cancelled\n", what);
        return 0;
    }
    return 1;
}

/* apply and destroy. */
static int cmd_change(const struct args *a, const struct prov_config *cfg, int is_destroy)
{
    const char *name = is_destroy ? "destroy" : "apply";
    struct prov_creds *creds = NULL;
    struct prov_apiclient *client = NULL;
    struct prov_state *st = NULL;
    struct prov_run run;
    char err[PROV_API_ERROR_BYTES], *out = NULL;
    int rc, ok;

    memset(&run, 0, sizeof(run));
    if (prov_state_load(cfg, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "plrelay-provision: %s\n", err);
        return EXIT_USAGE;
    }
    rc = open_client(cfg, &creds, &client);
    if (rc != EXIT_OK) {
        goto cleanup;
    }
    if (!confirm(a, name)) {
        rc = EXIT_USAGE;
        goto cleanup;
    }
    if (prov_run_init(&run, client, cfg, st) != 0) {
        rc = EXIT_API;
        goto cleanup;
    }
    run.dry_run = a->dry_run;
    run.tty = isatty(STDERR_FILENO);
    run.out = a->json ? stderr : stdout; /* stdout holds exactly one JSON document */
    ok = (is_destroy ? prov_destroy(&run) : prov_apply(&run)) == 0;
    if (prov_run_render(&run, name, ok, a->json, &out) == 0) {
        fputs(out, ok || a->json ? stdout : stderr);
        if (a->json) {
            fputc('\n', stdout);
        }
    }
    rc = ok ? EXIT_OK : EXIT_API;
cleanup:
    free(out);
    prov_run_cleanup(&run);
    prov_state_free(st);
    prov_api_free(client);
    prov_creds_free(creds);
    return rc;
}

/* The ES and remote passwords verify needs. 0, or an exit code. */
static int read_secrets(const struct prov_config *cfg, char **es, char **remote)
{
    char err[PROV_API_ERROR_BYTES];

    if (prov_secret_read(cfg->es_password_env, cfg->es_password_file, es, err, sizeof(err)) != 0 ||
        prov_secret_read(cfg->verify_remote_password_env, cfg->verify_remote_password_file, remote,
                         err, sizeof(err)) != 0) {
        fprintf(stderr, "plrelay-provision: %s\n", err);
        return EXIT_CREDS;
    }
    return EXIT_OK;
}

static int cmd_verify(const struct args *a, const struct prov_config *cfg)
{
    struct prov_creds *creds = NULL;
    struct prov_apiclient *client = NULL;
    struct prov_actual *actual = calloc(1, sizeof(*actual));
    struct prov_verify_report *report = calloc(1, sizeof(*report));
    struct prov_verify_options vo;
    struct prov_verify_secrets vs;
    char *es_pw = NULL, *remote_pw = NULL, *out = NULL;
    size_t i;
    int rc;

    memset(&vo, 0, sizeof(vo));
    if (actual == NULL || report == NULL) {
        rc = EXIT_API;
        goto cleanup;
    }
    rc = read_secrets(cfg, &es_pw, &remote_pw);
    if (rc == EXIT_OK) {
        rc = open_client(cfg, &creds, &client);
    }
    if (rc != EXIT_OK) {
        goto cleanup;
    }
    if (prov_inspect_read(client, cfg, actual) != 0) {
        for (i = 0; i < actual->error_count; i++) {
            fprintf(stderr, "plrelay-provision: %s\n", actual->errors[i]);
        }
        fprintf(stderr, "plrelay-provision: verify: cannot read every hop\n");
        rc = EXIT_API;
        goto cleanup;
    }
    vs.es_password = es_pw;
    vs.remote_password = remote_pw;
    rc = prov_verify_run(client, cfg, actual, &vs, &vo, report);
    if (prov_verify_render(report, a->json, &out) == 0) {
        fputs(out, stdout);
        if (a->json) {
            fputc('\n', stdout);
        }
    }
    rc = rc == 0 ? EXIT_OK : rc == 1 ? EXIT_DIFF : EXIT_API;
cleanup:
    free(out);
    prov_secret_free(es_pw);
    prov_secret_free(remote_pw);
    free(report);
    free(actual);
    prov_api_free(client);
    prov_creds_free(creds);
    return rc;
}

int main(int argc, char **argv)
{
    struct args a;
    struct prov_config *cfg = NULL;
    struct prov_config_errors *errs = NULL;
    char *text = NULL;
    size_t need;
    int rc = EXIT_USAGE;

    memset(&a, 0, sizeof(a));
    if (parse_args(argc, argv, &a) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    cfg = calloc(1, sizeof(*cfg));
    errs = calloc(1, sizeof(*errs));
    if (cfg == NULL || errs == NULL) {
        fprintf(stderr, "plrelay-provision: out of memory\n");
        goto cleanup;
    }
    if (prov_config_load(a.config, cfg, errs) != 0) {
        need = prov_config_errors_format(errs, NULL, 0) + 1;
        text = malloc(need);
        if (text != NULL) {
            prov_config_errors_format(errs, text, need);
            fputs(text, stderr);
        }
        goto cleanup;
    }
    if (strcmp(a.command, "es-settings") == 0) {
        rc = cmd_es_settings(&a, cfg);
    } else if (strcmp(a.command, "status") == 0 || strcmp(a.command, "plan") == 0 ||
               strcmp(a.command, "apply") == 0 || strcmp(a.command, "destroy") == 0 ||
               strcmp(a.command, "verify") == 0) {
        if (prov_http_global_init() != 0) {
            fprintf(stderr, "plrelay-provision: cannot initialise libcurl\n");
            rc = EXIT_API;
            goto cleanup;
        }
        if (strcmp(a.command, "apply") == 0 || strcmp(a.command, "destroy") == 0) {
            rc = cmd_change(&a, cfg, strcmp(a.command, "destroy") == 0);
        } else if (strcmp(a.command, "verify") == 0) {
            rc = cmd_verify(&a, cfg);
        } else {
            rc = cmd_read(&a, cfg, strcmp(a.command, "plan") == 0);
        }
    } else {
        fprintf(stderr, "plrelay-provision: unknown command \"%s\"\n", a.command);
        usage(stderr);
    }
cleanup:
    free(text);
    free(errs);
    free(cfg);
    return rc;
}
