/*
 * plrelay-provision — the provisioner's command line. Everything real lives in the plprov library
 * (provconfig, essettings, inspect, plan, the typed reads, apiclient, creds); this file turns argv
 * into a config load, a credential resolution, library calls, and one print of what they built.
 * It also reads an optional relay config with the relay's own loader (plrelay_core), so
 * `es-settings` sees the routes exactly as plrelay will.
 *
 * Output contract: human text by default; with --json, stdout holds exactly one JSON document
 * whatever the outcome. Failures always go to stderr as text too; a run that fails before a
 * command printed its own document ends with {"ok":false,"command","exit","error","errors"}
 * (struct cli below), so a machine never has to parse stderr.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
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

/* One run's outcome. Errors are printed on stderr at once and, with --json, collected for the
 * closing document that cli_finish prints when the command printed none of its own. */
struct cli {
    const struct args *a;
    json_t *errors; /* array of strings; NULL when out of memory (stderr still has them) */
    char *doc;      /* with --json: the command's own document, printed by cli_finish */
    int printed;    /* with --json: a document went to stdout */
};

/* Adds one message to the collected errors, bytes outside ASCII replaced when the text is not
 * valid UTF-8 (a server's message could be anything). */
static void cli_note(struct cli *cli, const char *text)
{
    json_t *v;
    char safe[PROV_API_ERROR_BYTES + 256];
    size_t i;

    if (cli->errors == NULL) {
        return;
    }
    v = json_string(text);
    if (v == NULL) {
        snprintf(safe, sizeof(safe), "%s", text);
        for (i = 0; safe[i] != '\0'; i++) {
            if ((unsigned char)safe[i] >= 0x80 || (unsigned char)safe[i] < 0x20) {
                safe[i] = '?';
            }
        }
        v = json_string(safe);
    }
    json_array_append_new(cli->errors, v);
}

static void cli_error(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "plrelay-provision: <message>" on stderr, and the message kept for --json. */
static void cli_error(struct cli *cli, const char *fmt, ...)
{
    char text[PROV_API_ERROR_BYTES + 256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    fprintf(stderr, "plrelay-provision: %s\n", text);
    cli_note(cli, text);
}

/* A command's own output: text at once, on stdout or stderr; a JSON document (to_stdout) is kept
 * for cli_finish, which knows the exit code. */
static void cli_print(struct cli *cli, const char *out, int to_stdout)
{
    if (cli->a->json && to_stdout && cli->doc == NULL) {
        cli->doc = strdup(out);
        if (cli->doc != NULL) {
            return;
        }
    }
    fputs(out, to_stdout ? stdout : stderr);
    if (cli->a->json && to_stdout) {
        fputc('\n', stdout);
        cli->printed = 1;
    }
}

/* The closing fields of a failed run, each added where doc has none: "ok" false, "command",
 * "exit", "error" (the first message: the cause; later ones are consequences) and "errors" (all
 * of them in order). Messages are the ones the CLI collected, else the command's own: status
 * keeps its failed reads in "errors", apply and destroy their failure in "error". */
static void add_outcome(const struct cli *cli, json_t *doc, int rc)
{
    json_t *errors = cli->errors, *own = json_object_get(doc, "errors");
    json_t *one = json_object_get(doc, "error"), *single = NULL;

    if (json_array_size(errors) == 0 && json_is_array(own)) {
        errors = own;
    } else if (json_array_size(errors) == 0 && json_is_string(one)) {
        errors = single = json_pack("[O]", one);
    }
    if (json_object_get(doc, "ok") == NULL) {
        json_object_set_new(doc, "ok", json_boolean(rc == EXIT_OK));
    }
    if (json_object_get(doc, "command") == NULL && cli->a->command != NULL) {
        json_object_set_new(doc, "command", json_string(cli->a->command));
    }
    json_object_set_new(doc, "exit", json_integer(rc));
    if (one == NULL && json_array_size(errors) > 0) {
        json_object_set(doc, "error", json_array_get(errors, 0));
    }
    if (own == NULL) {
        json_object_set_new(doc, "errors", errors != NULL ? json_copy(errors) : json_array());
    }
    json_decref(single);
}

/* With --json: the one document on stdout. A command's own document is printed as built when the
 * run succeeded or found a difference (exit 0, 4); a failed run (exit 1, 2, 3) always carries the
 * add_outcome fields, in a document of its own when the command built none. */
static void cli_finish(struct cli *cli, int rc)
{
    json_t *doc = NULL;
    char *text = NULL;

    if (!cli->a->json || cli->printed) {
        return;
    }
    if (cli->doc != NULL && (rc == EXIT_OK || rc == EXIT_DIFF)) {
        puts(cli->doc);
        cli->printed = 1;
        return;
    }
    doc = cli->doc != NULL ? json_loads(cli->doc, 0, NULL) : json_object();
    if (doc == NULL && cli->doc != NULL) {
        puts(cli->doc); /* not an object we can add to: as it was */
        cli->printed = 1;
        return;
    }
    if (doc != NULL) {
        add_outcome(cli, doc, rc);
        text = json_dumps(doc, JSON_COMPACT);
    }
    if (text != NULL) {
        puts(text);
    } else {
        printf("{\"ok\":false,\"exit\":%d,\"error\":\"out of memory\",\"errors\":[]}\n", rc);
    }
    cli->printed = 1;
    free(text);
    json_decref(doc);
}

static void usage(FILE *out)
{
    fprintf(
        out,
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
        "      --json               machine-readable output: one JSON document on stdout\n"
        "                           whatever the outcome; a failed run (exit 1-3) has\n"
        "                           \"ok\": false, \"command\", \"exit\", \"error\", \"errors\"\n"
        "      --yes                do not ask before changing anything (apply, destroy);\n"
        "                           required when stdin is not a terminal\n"
        "      --dry-run            print the calls apply/destroy would make (secrets\n"
        "                           redacted) and send no write\n"
        "  -h, --help               print this help\n"
        "\n"
        "Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET\n"
        "(/ ALIBABA_CLOUD_SECURITY_TOKEN), then ~/.aliyun/config.json, then the ECS RAM role\n"
        "from the metadata service ([provider] metadata_endpoint); STS credentials are\n"
        "fetched again when they expire within 5 minutes. Never on the command line.\n"
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

static int cmd_es_settings(struct cli *cli, const struct prov_config *cfg)
{
    const struct args *a = cli->a;
    struct prov_essettings_route *routes = NULL;
    struct prov_essettings_input in = {cfg, NULL, NULL, 0};
    char domain[PROV_ESSETTINGS_DOMAIN_BYTES], err[PROV_API_ERROR_BYTES], *out = NULL;
    int rc;

    rc = prov_essettings_state_domain(cfg->state_file, domain, sizeof(domain), err, sizeof(err));
    if (rc < 0) {
        cli_error(cli, "%s", err);
        return EXIT_USAGE;
    }
    in.endpoint_domain = rc == 0 ? domain : NULL;
    if (a->relay_config != NULL) {
        if (load_relay_routes(a->relay_config, &routes, &in.route_count) != 0) {
            cli_error(cli, "cannot use the relay config %s", a->relay_config);
            return EXIT_USAGE;
        }
        in.routes = routes;
    }
    rc = prov_essettings_render(&in, a->json, &out, err, sizeof(err));
    free(routes);
    if (rc != 0) {
        cli_error(cli, "%s", err);
        return EXIT_API;
    }
    cli_print(cli, out, 1);
    free(out);
    return EXIT_OK;
}

static void set_endpoint(struct prov_api_options *o, enum prov_api_product p, const char *url)
{
    o->product[p].base_url = url[0] != '\0' ? url : NULL;
}

/* Credentials and a client for cfg. ref (zeroed by the caller) owns the credentials and is the
 * client's refresh source: STS credentials are re-resolved before they expire, since one wait
 * of apply can outlast them. Release with prov_creds_refresher_cleanup after the client. */
static int open_client(struct cli *cli, const struct prov_config *cfg,
                       struct prov_creds_refresher *ref, struct prov_apiclient **client)
{
    struct prov_api_options ao;
    char err[PROV_API_ERROR_BYTES];

    ref->opt.metadata_url = cfg->metadata_endpoint[0] != '\0' ? cfg->metadata_endpoint : NULL;
    if (prov_creds_resolve(&ref->opt, &ref->current, err, sizeof(err)) != 0) {
        cli_error(cli, "no credentials: %s", err);
        return EXIT_CREDS;
    }
    memset(&ao, 0, sizeof(ao));
    ao.region_id = cfg->region;
    set_endpoint(&ao, PROV_API_SLB, cfg->endpoint_slb);
    set_endpoint(&ao, PROV_API_NLB, cfg->endpoint_nlb);
    set_endpoint(&ao, PROV_API_PRIVATELINK, cfg->endpoint_privatelink);
    set_endpoint(&ao, PROV_API_ELASTICSEARCH, cfg->endpoint_elasticsearch);
    ao.refresh.fn = prov_creds_refresh;
    ao.refresh.ctx = ref;
    *client = prov_api_new(&ao, ref->current, err, sizeof(err));
    if (*client == NULL) {
        cli_error(cli, "%s", err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Reads every hop into actual; on failure each read error goes to the report. 0 or -1. */
static int read_actual(struct cli *cli, struct prov_apiclient *client,
                       const struct prov_config *cfg, struct prov_actual *actual)
{
    size_t i;

    if (prov_inspect_read(client, cfg, actual) == 0) {
        return 0;
    }
    for (i = 0; i < actual->error_count; i++) {
        cli_error(cli, "%s", actual->errors[i]);
    }
    return -1;
}

/* status and plan: read the actual state, then render one or the other. */
static int cmd_read(struct cli *cli, const struct prov_config *cfg, int is_plan)
{
    const struct args *a = cli->a;
    struct prov_creds_refresher ref;
    struct prov_apiclient *client = NULL;
    struct prov_actual *actual = calloc(1, sizeof(*actual));
    struct prov_plan *plan = calloc(1, sizeof(*plan));
    char *out = NULL;
    int rc, healthy = 0, read_ok;

    memset(&ref, 0, sizeof(ref));
    if (actual == NULL || plan == NULL) {
        cli_error(cli, "out of memory");
        rc = EXIT_API;
        goto cleanup;
    }
    rc = open_client(cli, cfg, &ref, &client);
    if (rc != EXIT_OK) {
        goto cleanup;
    }
    if (is_plan) {
        if (read_actual(cli, client, cfg, actual) != 0) {
            cli_error(cli, "cannot plan without reading every hop");
            rc = EXIT_API;
            goto cleanup;
        }
        prov_plan_build(cfg, actual, plan);
        rc = prov_plan_render(plan, a->json, &out) == 0 ? (plan->count == 0 ? EXIT_OK : EXIT_DIFF)
                                                        : EXIT_API;
    } else {
        /* status shows a hop it could not read as a row (and in "errors" with --json) */
        read_ok = prov_inspect_read(client, cfg, actual) == 0;
        rc = prov_inspect_render(cfg, actual, a->json, &out, &healthy) == 0
                 ? (!read_ok  ? EXIT_API
                    : healthy ? EXIT_OK
                              : EXIT_DIFF)
                 : EXIT_API;
    }
    if (out != NULL) {
        cli_print(cli, out, 1);
    } else {
        cli_error(cli, "out of memory");
    }
cleanup:
    free(out);
    free(plan);
    free(actual);
    prov_api_free(client);
    prov_creds_refresher_cleanup(&ref);
    return rc;
}

/* Asks on a terminal; without one, --yes is required. 1 to go on. */
static int confirm(struct cli *cli, const char *what)
{
    const struct args *a = cli->a;
    char line[16];

    if (a->yes || a->dry_run) {
        return 1;
    }
    if (!isatty(STDIN_FILENO)) {
        cli_error(cli, "%s changes cloud resources: pass --yes (or --dry-run)", what);
        return 0;
    }
    fprintf(stderr, "%s: go on? [y/N] ", what);
    if (fgets(line, sizeof(line), stdin) == NULL || (line[0] != 'y' && line[0] != 'Y')) {
        cli_error(cli, "%s cancelled", what);
        return 0;
    }
    return 1;
}

/* apply and destroy. */
static int cmd_change(struct cli *cli, const struct prov_config *cfg, int is_destroy)
{
    const struct args *a = cli->a;
    const char *name = is_destroy ? "destroy" : "apply";
    struct prov_creds_refresher ref;
    struct prov_apiclient *client = NULL;
    struct prov_state *st = NULL;
    struct prov_run run;
    char err[PROV_API_ERROR_BYTES], *out = NULL;
    int rc, ok;

    memset(&run, 0, sizeof(run));
    memset(&ref, 0, sizeof(ref));
    if (prov_state_load(cfg, &st, err, sizeof(err)) != 0) {
        cli_error(cli, "%s", err);
        return EXIT_USAGE;
    }
    rc = open_client(cli, cfg, &ref, &client);
    if (rc != EXIT_OK) {
        goto cleanup;
    }
    if (!confirm(cli, name)) {
        rc = EXIT_USAGE;
        goto cleanup;
    }
    if (prov_run_init(&run, client, cfg, st) != 0) {
        cli_error(cli, "%s: out of memory setting up the run; nothing was changed", name);
        rc = EXIT_API;
        goto cleanup;
    }
    run.dry_run = a->dry_run;
    run.tty = isatty(STDERR_FILENO);
    run.out = a->json ? stderr : stdout; /* stdout holds exactly one JSON document */
    ok = (is_destroy ? prov_destroy(&run) : prov_apply(&run)) == 0;
    rc = ok ? EXIT_OK : EXIT_API;
    if (run.unrecorded > 0) {
        cli_error(cli,
                  "%s: %zu of %zu calls made could not be recorded (out of memory); the report "
                  "below is incomplete: run `status`",
                  name, run.unrecorded, prov_run_calls(&run));
        rc = EXIT_API;
    }
    if (prov_run_render(&run, name, ok, a->json, &out) == 0) {
        cli_print(cli, out, ok || a->json);
    } else {
        cli_error(cli, "%s %s, but its report could not be built (out of memory): run `status`",
                  name, ok ? "finished" : "failed");
        rc = EXIT_API;
    }
cleanup:
    free(out);
    prov_run_cleanup(&run);
    prov_state_free(st);
    prov_api_free(client);
    prov_creds_refresher_cleanup(&ref);
    return rc;
}

/* The ES and remote passwords verify needs: only nlb-ip's reindex check uses them, clb-ecs
 * checks hops through the OpenAPI alone. 0, or an exit code. */
static int read_secrets(struct cli *cli, const struct prov_config *cfg, char **es, char **remote)
{
    char err[PROV_API_ERROR_BYTES];

    if (cfg->topology != PROV_TOPOLOGY_NLB_IP) {
        return EXIT_OK;
    }
    if (prov_secret_read(cfg->es_password_env, cfg->es_password_file, es, err, sizeof(err)) != 0 ||
        prov_secret_read(cfg->verify_remote_password_env, cfg->verify_remote_password_file, remote,
                         err, sizeof(err)) != 0) {
        cli_error(cli, "%s", err);
        return EXIT_CREDS;
    }
    return EXIT_OK;
}

static int cmd_verify(struct cli *cli, const struct prov_config *cfg)
{
    struct prov_creds_refresher ref;
    struct prov_apiclient *client = NULL;
    struct prov_actual *actual = calloc(1, sizeof(*actual));
    struct prov_verify_report *report = calloc(1, sizeof(*report));
    struct prov_verify_options vo;
    struct prov_verify_secrets vs;
    char *es_pw = NULL, *remote_pw = NULL, *out = NULL;
    int rc;

    memset(&vo, 0, sizeof(vo));
    memset(&ref, 0, sizeof(ref));
    if (actual == NULL || report == NULL) {
        cli_error(cli, "out of memory");
        rc = EXIT_API;
        goto cleanup;
    }
    rc = read_secrets(cli, cfg, &es_pw, &remote_pw);
    if (rc == EXIT_OK) {
        rc = open_client(cli, cfg, &ref, &client);
    }
    if (rc != EXIT_OK) {
        goto cleanup;
    }
    if (read_actual(cli, client, cfg, actual) != 0) {
        cli_error(cli, "verify: cannot read every hop");
        rc = EXIT_API;
        goto cleanup;
    }
    vs.es_password = es_pw;
    vs.remote_password = remote_pw;
    rc = prov_verify_run(client, cfg, actual, &vs, &vo, report);
    rc = rc == 0 ? EXIT_OK : rc == 1 ? EXIT_DIFF : EXIT_API;
    if (prov_verify_render(report, cli->a->json, &out) == 0) {
        cli_print(cli, out, 1);
    } else {
        cli_error(cli, "verify: cannot build the report (out of memory)");
        rc = EXIT_API;
    }
cleanup:
    free(out);
    prov_secret_free(es_pw);
    prov_secret_free(remote_pw);
    free(report);
    free(actual);
    prov_api_free(client);
    prov_creds_refresher_cleanup(&ref);
    return rc;
}

/* Config errors: the text as it always was on stderr, each one kept for --json. */
static void report_config_errors(struct cli *cli, const struct prov_config_errors *errs)
{
    char line[PROV_CONFIG_PATH_BYTES + PROV_CONFIG_REASON_BYTES + 32];
    char *text = NULL;
    size_t need, i;

    need = prov_config_errors_format(errs, NULL, 0) + 1;
    text = malloc(need);
    if (text != NULL) {
        prov_config_errors_format(errs, text, need);
        fputs(text, stderr);
    }
    free(text);
    for (i = 0; i < errs->count; i++) {
        if (errs->items[i].line > 0) {
            snprintf(line, sizeof(line), "%s:%d: %s", errs->file, errs->items[i].line,
                     errs->items[i].reason);
        } else {
            snprintf(line, sizeof(line), "%s: %s", errs->file, errs->items[i].reason);
        }
        cli_note(cli, line);
    }
    if (errs->count == 0) {
        cli_note(cli, "invalid configuration");
    }
}

static int run_command(struct cli *cli, const struct prov_config *cfg)
{
    const char *c = cli->a->command;

    if (strcmp(c, "es-settings") == 0) {
        return cmd_es_settings(cli, cfg);
    }
    if (strcmp(c, "status") != 0 && strcmp(c, "plan") != 0 && strcmp(c, "apply") != 0 &&
        strcmp(c, "destroy") != 0 && strcmp(c, "verify") != 0) {
        cli_error(cli, "unknown command \"%s\"", c);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (prov_http_global_init() != 0) {
        cli_error(cli, "cannot initialise libcurl");
        return EXIT_API;
    }
    if (strcmp(c, "apply") == 0 || strcmp(c, "destroy") == 0) {
        return cmd_change(cli, cfg, strcmp(c, "destroy") == 0);
    }
    if (strcmp(c, "verify") == 0) {
        return cmd_verify(cli, cfg);
    }
    return cmd_read(cli, cfg, strcmp(c, "plan") == 0);
}

int main(int argc, char **argv)
{
    struct args a;
    struct cli cli;
    struct prov_config *cfg = NULL;
    struct prov_config_errors *errs = NULL;
    int rc = EXIT_USAGE;

    memset(&a, 0, sizeof(a));
    memset(&cli, 0, sizeof(cli));
    cli.a = &a;
    cli.errors = json_array();
    if (parse_args(argc, argv, &a) != 0) {
        usage(stderr);
        cli_note(&cli, "bad command line (see --help)");
        goto cleanup;
    }
    cfg = calloc(1, sizeof(*cfg));
    errs = calloc(1, sizeof(*errs));
    if (cfg == NULL || errs == NULL) {
        cli_error(&cli, "out of memory");
        goto cleanup;
    }
    if (prov_config_load(a.config, cfg, errs) != 0) {
        report_config_errors(&cli, errs);
        goto cleanup;
    }
    rc = run_command(&cli, cfg);
cleanup:
    cli_finish(&cli, rc);
    free(cli.doc);
    json_decref(cli.errors);
    free(errs);
    free(cfg);
    return rc;
}
