/*
 * test_prov_verify — unit tests of `verify` (src/provision/verify.c): the cloud-side rows of both
 * topologies from hand-built configs and actual states (nlb-ip through prov_verify_fixture.c;
 * clb-ecs with the CLB listener and health reads answered through the apiclient's transport
 * hook), the rendered table and JSON, and prov_secret_read from the environment and from files.
 * The Elasticsearch REST rows are tested in test_prov_verify_es.c (same binary).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prov_verify_fixture.h"

TestSuite(prov_verify, .timeout = 10);

/* ---- nlb-ip cloud-side rows ------------------------------------------------------------------ */

Test(prov_verify, whitelist_needs_the_exact_entry, .init = nlb_setup)
{
    static const struct {
        const char *list;
        int ok;
    } cases[] = {
        {EP_DOMAIN ":9200", 1},
        {"  " EP_DOMAIN ":9200  ,x:1", 1},
        {"a:1,\t" EP_DOMAIN ":9200", 1},
        {"EP-1.epsrv-1.cn-hangzhou.privatelink.aliyuncs.com:9200", 1},
        {"", 0},
        {"other.example:9200", 0},
        {EP_DOMAIN ":92001", 0},
        {"x" EP_DOMAIN ":9200", 0},
        {EP_DOMAIN ":9200x,y", 0},
        {EP_DOMAIN, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        nlb_setup();
        SET(act.es.reindex_whitelist, cases[i].list);
        cr_assert_eq(run(), cases[i].ok ? 0 : 1, "%s", cases[i].list);
        if (!cases[i].ok) {
            assert_failed_at("es whitelist", "missing " EP_DOMAIN ":9200");
            cr_assert_eq(fake.seen_count, 0);
        }
    }
}

Test(prov_verify, pending_connection_fails_es_connection, .init = nlb_setup)
{
    SET(act.connections[0].status, "Pending");
    SET(act.endpoint.connection_status, "Pending");
    cr_assert_eq(run(), 1);
    assert_failed_at("es connection", "Pending");
    cr_assert_eq(fake.seen_count, 0);
}

Test(prov_verify, connected_on_either_side_is_enough, .init = nlb_setup)
{
    SET(act.connections[0].status, "Pending");
    cr_assert_eq(run(), 0, "%s", last_row()->detail);
}

Test(prov_verify, inactive_nlb_and_stopped_listener_stop_early, .init = nlb_setup)
{
    SET(act.nlb.status, "Provisioning");
    cr_assert_eq(run(), 1);
    assert_failed_at("nlb", "Provisioning");
    cr_assert_eq(rep.count, 1);

    nlb_setup();
    SET(act.listener.status, "Stopped");
    cr_assert_eq(run(), 1);
    assert_failed_at("nlb listener", "Stopped");

    nlb_setup();
    act.lb_found = 0;
    act.lb_error = 1;
    act.error_count = 1;
    SET(act.errors[0], "ListLoadBalancers: Forbidden.RAM");
    cr_assert_eq(run(), 1);
    assert_failed_at("nlb", "Forbidden.RAM");
}

Test(prov_verify, unknown_topology_is_one_failed_row, .init = common_setup)
{
    cr_assert_eq(run(), 1);
    assert_failed_at("topology", "none");
}

/* ---- clb-ecs through the apiclient's transport hook ------------------------------------------ */

struct clbfake {
    uint16_t ports[4];
    const char *status_body[4]; /* DescribeLoadBalancerTCPListenerAttribute answer per port */
    long status_http[4];
    const char *health_body[4]; /* DescribeHealthStatus answer per port */
    int calls;
};

static struct clbfake clbfake;
static struct prov_creds creds;
static struct prov_apiclient *client;

static int clb_transport(void *ctx, const struct prov_http_request *req,
                         struct prov_http_response *resp)
{
    struct clbfake *f = ctx;
    const char *action = NULL, *p = strstr(req->url, "ListenerPort=");
    const char *body = "{}";
    unsigned port = p != NULL ? (unsigned)strtoul(p + 13, NULL, 10) : 0;
    size_t i;

    f->calls++;
    for (i = 0; i < req->header_count; i++) {
        if (strncmp(req->headers[i], "x-acs-action: ", 14) == 0) {
            action = req->headers[i] + 14;
        }
    }
    cr_assert_not_null(action);
    resp->status = 200;
    for (i = 0; i < 4; i++) {
        if (f->ports[i] != port) {
            continue;
        }
        if (strcmp(action, "DescribeLoadBalancerTCPListenerAttribute") == 0) {
            body = f->status_body[i];
            resp->status = f->status_http[i] != 0 ? f->status_http[i] : 200;
        } else if (strcmp(action, "DescribeHealthStatus") == 0) {
            body = f->health_body[i];
        }
    }
    cr_assert_eq(prov_http_response_set_body(resp, body, strlen(body)), 0);
    return 0;
}

static void clb_setup(void)
{
    struct prov_api_options o;
    enum prov_api_product p;
    char err[PROV_API_ERROR_BYTES];

    common_setup();
    memset(&clbfake, 0, sizeof(clbfake));
    cfg.topology = PROV_TOPOLOGY_CLB_ECS;
    cfg.listener_ports[0] = 389;
    cfg.listener_ports[1] = 3128;
    cfg.listener_port_count = 2;
    SET(cfg.ecs_instances[0], "i-1");
    SET(cfg.ecs_instances[1], "i-2");
    cfg.ecs_instance_count = 2;
    act.lb_found = 1;
    SET(act.clb.lb.id, "lb-1");
    SET(act.clb.lb.status, "active");
    SET(act.clb.lb.address, "10.0.0.5");
    clbfake.ports[0] = 389;
    clbfake.ports[1] = 3128;
    clbfake.status_body[0] = "{\"ListenerPort\":389,\"Status\":\"running\"}";
    clbfake.status_body[1] = "{\"ListenerPort\":3128,\"Status\":\"running\"}";
    clbfake.health_body[0] =
        "{\"BackendServers\":{\"BackendServer\":[{\"ServerId\":\"i-1\",\"ListenerPort\":389,"
        "\"Port\":389,\"ServerHealthStatus\":\"normal\"},{\"ServerId\":\"i-2\",\"ListenerPort\":"
        "389,\"Port\":389,\"ServerHealthStatus\":\"abnormal\"}]}}";
    clbfake.health_body[1] =
        "{\"BackendServers\":{\"BackendServer\":[{\"ServerId\":\"i-1\",\"ListenerPort\":3128,"
        "\"Port\":3128,\"ServerHealthStatus\":\"normal\"},{\"ServerId\":\"i-2\",\"ListenerPort\":"
        "3128,\"Port\":3128,\"ServerHealthStatus\":\"normal\"}]}}";

    memset(&o, 0, sizeof(o));
    prov_creds_init(&creds);
    SET(creds.access_key_id, "testid");
    SET(creds.access_key_secret, "testsecret");
    o.region_id = "cn-hangzhou";
    for (p = PROV_API_SLB; p < PROV_API_PRODUCT_COUNT; p++) {
        o.product[p].base_url = "http://127.0.0.1:8080";
    }
    o.retry.max_attempts = 1;
    o.hooks.transport = clb_transport;
    o.hooks.ctx = &clbfake;
    client = prov_api_new(&o, &creds, err, sizeof(err));
    cr_assert_not_null(client, "%s", err);
}

static void clb_teardown(void)
{
    prov_api_free(client);
    prov_creds_cleanup(&creds);
}

static int run_clb(void)
{
    return prov_verify_run(client, &cfg, &act, &sec, &opt, &rep);
}

Test(prov_verify, clb_success, .init = clb_setup, .fini = clb_teardown)
{
    static const char *const hops[] = {"clb",
                                       "clb listener 389",
                                       "clb backends 389",
                                       "clb listener 3128",
                                       "clb backends 3128",
                                       "endpoint service",
                                       "es connection"};
    size_t i;

    cr_assert_eq(run_clb(), 0, "%s", last_row()->detail);
    cr_assert(rep.ok);
    cr_assert_eq(rep.count, 7);
    for (i = 0; i < 7; i++) {
        cr_assert_str_eq(rep.checks[i].hop, hops[i]);
    }
    cr_assert_eq(rep.source_count, -1);
    cr_assert_eq(fake.seen_count, 0, "clb-ecs makes no ES REST call");
    cr_assert(strstr(rep.checks[2].detail, "1 of 2 backends normal") != NULL, "%s",
              rep.checks[2].detail);
    cr_assert(strstr(rep.checks[2].detail, "i-1 normal, i-2 abnormal") != NULL, "%s",
              rep.checks[2].detail);
    cr_assert(strstr(rep.checks[2].detail, "not normal: i-2") != NULL, "%s", rep.checks[2].detail);
    cr_assert(strstr(rep.checks[4].detail, "not normal") == NULL, "%s", rep.checks[4].detail);
    assert_no_secrets();
}

Test(prov_verify, clb_listener_not_running_fails, .init = clb_setup, .fini = clb_teardown)
{
    clbfake.status_body[1] = "{\"Status\":\"stopped\"}";
    cr_assert_eq(run_clb(), 1);
    assert_failed_at("clb listener 3128", "stopped");
    cr_assert_eq(rep.count, 4);
}

Test(prov_verify, clb_listener_missing_fails, .init = clb_setup, .fini = clb_teardown)
{
    clbfake.status_http[0] = 404;
    clbfake.status_body[0] = "{\"Code\":\"InvalidParameter.NotFound\",\"Message\":\"no\","
                             "\"RequestId\":\"r\"}";
    cr_assert_eq(run_clb(), 1);
    assert_failed_at("clb listener 389", "no TCP listener");
}

Test(prov_verify, clb_listener_read_error_fails_with_the_code, .init = clb_setup,
     .fini = clb_teardown)
{
    clbfake.status_http[0] = 403;
    clbfake.status_body[0] = "{\"Code\":\"Forbidden.RAM\",\"Message\":\"no\",\"RequestId\":\"r9\"}";
    cr_assert_eq(run_clb(), 1);
    assert_failed_at("clb listener 389", "Forbidden.RAM");
}

Test(prov_verify, clb_backends_none_normal_fails_naming_each, .init = clb_setup,
     .fini = clb_teardown)
{
    clbfake.health_body[0] =
        "{\"BackendServers\":{\"BackendServer\":[{\"ServerId\":\"i-1\",\"ListenerPort\":389,"
        "\"ServerHealthStatus\":\"abnormal\"},{\"ServerId\":\"i-9\",\"ListenerPort\":389,"
        "\"ServerHealthStatus\":\"unavailable\"}]}}";
    cr_assert_eq(run_clb(), 1);
    assert_failed_at("clb backends 389", "0 of 2 backends normal");
    cr_assert(strstr(last_row()->detail, "i-1 abnormal, i-2 absent") != NULL, "%s",
              last_row()->detail);
    cr_assert(strstr(last_row()->detail, "not normal: i-1, i-2") != NULL, "%s", last_row()->detail);
}

Test(prov_verify, clb_not_found_or_inactive_stops_before_any_call, .init = clb_setup,
     .fini = clb_teardown)
{
    act.lb_found = 0;
    cr_assert_eq(run_clb(), 1);
    assert_failed_at("clb", "no CLB named plrelay");
    cr_assert_eq(clbfake.calls, 0);

    act.lb_found = 1;
    SET(act.clb.lb.status, "inactive");
    cr_assert_eq(run_clb(), 1);
    assert_failed_at("clb", "want active");
    cr_assert_eq(clbfake.calls, 0);
}

Test(prov_verify, clb_service_and_connection_rows, .init = clb_setup, .fini = clb_teardown)
{
    SET(act.service.status, "Creating");
    cr_assert_eq(run_clb(), 1);
    assert_failed_at("endpoint service", "Creating");

    act.service_found = 0;
    cr_assert_eq(run_clb(), 1);
    assert_failed_at("endpoint service", "lb-1");

    SET(act.service.status, "Active");
    act.service_found = 1;
    act.endpoint_found = 0;
    cr_assert_eq(run_clb(), 1);
    assert_failed_at("es connection", "no private connection");
}

/* ---- rendering ------------------------------------------------------------------------------- */

Test(prov_verify, render_text_ok_and_failed, .init = nlb_setup)
{
    char *text = NULL;

    cr_assert_eq(run(), 0);
    cr_assert_eq(prov_verify_render(&rep, 0, &text), 0);
    cr_assert(strstr(text, "HOP") == text, "%s", text);
    cr_assert(strstr(text, "\ncounts equal ") != NULL, "%s", text);
    cr_assert(strlen(text) > 11 && strcmp(text + strlen(text) - 11, "verify: ok\n") == 0, "%s",
              text);
    free(text);

    nlb_setup();
    route("POST", REINDEX, 200, "{\"timed_out\":true,\"failures\":[]}");
    cr_assert_eq(run(), 1);
    cr_assert_eq(prov_verify_render(&rep, 0, &text), 0);
    cr_assert(strstr(text, "NO ") != NULL, "%s", text);
    cr_assert(strstr(text, "\nverify: FAILED at reindex\n") != NULL, "%s", text);
    free(text);
}

Test(prov_verify, render_json_both_outcomes, .init = nlb_setup)
{
    char *text = NULL;
    json_t *doc, *checks;

    cr_assert_eq(run(), 0);
    cr_assert_eq(prov_verify_render(&rep, 1, &text), 0);
    doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc, "%s", text);
    cr_assert(json_is_true(json_object_get(doc, "ok")));
    cr_assert(json_is_null(json_object_get(doc, "failed_hop")));
    cr_assert_eq(json_integer_value(json_object_get(doc, "source_count")), 42);
    cr_assert_eq(json_integer_value(json_object_get(doc, "dest_count")), 42);
    checks = json_object_get(doc, "checks");
    cr_assert_eq(json_array_size(checks), 9);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(checks, 0), "hop")), "nlb");
    cr_assert(json_is_true(json_object_get(json_array_get(checks, 0), "ok")));
    cr_assert(json_is_string(json_object_get(json_array_get(checks, 0), "detail")));
    json_decref(doc);
    free(text);

    nlb_setup();
    route("GET", ES "/plrelay-verify-src/_count", 503, "");
    cr_assert_eq(run(), 1);
    cr_assert_eq(prov_verify_render(&rep, 1, &text), 0);
    doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc, "%s", text);
    cr_assert(json_is_false(json_object_get(doc, "ok")));
    cr_assert_str_eq(json_string_value(json_object_get(doc, "failed_hop")), "local count");
    cr_assert_eq(json_integer_value(json_object_get(doc, "source_count")), 42);
    cr_assert(json_is_null(json_object_get(doc, "dest_count")));
    checks = json_object_get(doc, "checks");
    cr_assert(json_is_false(json_object_get(json_array_get(checks, 7), "ok")));
    json_decref(doc);
    free(text);
}

Test(prov_verify, render_survives_bad_bytes_in_a_hand_built_report)
{
    struct prov_verify_report r;
    char *text = NULL;
    json_t *doc;

    memset(&r, 0, sizeof(r));
    r.source_count = r.dest_count = -1;
    r.count = 1;
    SET(r.checks[0].hop, "x\x01y");
    memset(r.checks[0].detail, 'a', sizeof(r.checks[0].detail)); /* no NUL at all */
    r.checks[0].detail[10] = '\xff';
    r.checks[0].detail[sizeof(r.checks[0].detail) - 2] = '\xe2';
    cr_assert_eq(prov_verify_render(&r, 1, &text), 0);
    doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc, "%s", text);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "failed_hop")), "x y");
    json_decref(doc);
    free(text);
    cr_assert_eq(prov_verify_render(&r, 0, &text), 0);
    cr_assert(strstr(text, "verify: FAILED at x y\n") != NULL, "%s", text);
    free(text);
}

/* ---- prov_secret_read ------------------------------------------------------------------------ */

static char tmpdir[64];

static void secret_setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/plprov-verify-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void secret_teardown(void)
{
    static const char *const names[] = {"a", "b", "c", "d", "e"};
    char path[128];
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
    unsetenv("PLPROV_TEST_VERIFY_PW");
}

static const char *write_file(const char *name, const char *text, mode_t mode)
{
    static char path[128];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    cr_assert_eq(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

Test(prov_verify, secret_from_env, .init = secret_setup, .fini = secret_teardown)
{
    char *s = NULL, err[256];

    cr_assert_eq(setenv("PLPROV_TEST_VERIFY_PW", "from-env", 1), 0);
    cr_assert_eq(prov_secret_read("PLPROV_TEST_VERIFY_PW", "/nonexistent", &s, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_str_eq(s, "from-env");
    prov_secret_free(s);

    unsetenv("PLPROV_TEST_VERIFY_PW");
    cr_assert_eq(prov_secret_read("PLPROV_TEST_VERIFY_PW", NULL, &s, err, sizeof(err)), -1);
    cr_assert_null(s);
    cr_assert(strstr(err, "PLPROV_TEST_VERIFY_PW") != NULL, "%s", err);
}

Test(prov_verify, secret_from_file_strips_one_newline, .init = secret_setup,
     .fini = secret_teardown)
{
    char *s = NULL, err[256];

    cr_assert_eq(prov_secret_read(NULL, write_file("a", "pw-one\n", 0600), &s, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_str_eq(s, "pw-one");
    prov_secret_free(s);
    cr_assert_eq(prov_secret_read("", write_file("b", "pw-two", 0400), &s, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_str_eq(s, "pw-two");
    prov_secret_free(s);
    cr_assert_eq(prov_secret_read(NULL, write_file("c", "pw-3\n\n", 0600), &s, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_str_eq(s, "pw-3\n");
    prov_secret_free(s);
}

Test(prov_verify, secret_file_readable_by_others_is_refused, .init = secret_setup,
     .fini = secret_teardown)
{
    char *s = NULL, err[256];

    cr_assert_eq(prov_secret_read(NULL, write_file("d", "leaky-pw\n", 0644), &s, err, sizeof(err)),
                 -1);
    cr_assert_null(s);
    cr_assert(strstr(err, "0644") != NULL, "%s", err);
    cr_assert(strstr(err, "leaky-pw") == NULL, "%s", err);
    cr_assert_eq(prov_secret_read(NULL, write_file("e", "", 0600), &s, err, sizeof(err)), -1);
    cr_assert(strstr(err, "empty") != NULL, "%s", err);
    cr_assert_eq(prov_secret_read(NULL, tmpdir, &s, err, sizeof(err)), -1);
}

Test(prov_verify, secret_both_empty_is_null)
{
    char *s = (char *)"x", err[64];

    cr_assert_eq(prov_secret_read(NULL, NULL, &s, err, sizeof(err)), 0);
    cr_assert_null(s);
    s = (char *)"x";
    cr_assert_eq(prov_secret_read("", "", &s, err, sizeof(err)), 0);
    cr_assert_null(s);
    prov_secret_free(NULL);
}
