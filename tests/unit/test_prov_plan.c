/*
 * test_prov_plan — unit tests of src/provision/plan.c (include/plprov/plan.h) and of the status
 * rendering in src/provision/inspect.c: hand-built actual states (nothing, half built, fully
 * built) against both topologies give the expected ordered steps, an empty plan when in sync, and
 * a status table whose rows say which hop is missing.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plprov/inspect.h"
#include "plprov/plan.h"

TestSuite(prov_plan, .timeout = 10);

#define BASE "[provider]\nregion = cn-hangzhou\n[elasticsearch]\ninstance_id = es-cn-test\n"
#define CLB                                                                        \
    BASE "[path]\ntopology = clb-ecs\nvpc_id = vpc-1\n[clb]\nvswitch_id = vsw-1\n" \
         "ecs_instances = i-1, i-2\nlistener_ports = 389, 3128\n"
#define NLB                                                                             \
    BASE "[path]\ntopology = nlb-ip\nvpc_id = vpc-1\n[nlb]\nzones = a:vsw-1, b:vsw-2\n" \
         "target_ip = 10.0.0.9\n"
#define DOMAIN "ep-1.epsrv-1.cn-hangzhou.privatelink.aliyuncs.com"

static struct prov_config cfg;
static struct prov_config_errors errs;
static struct prov_actual act;
static struct prov_plan plan;

static void load(const char *text)
{
    cr_assert_eq(prov_config_load_string("x.ini", text, &cfg, &errs), 0);
    memset(&act, 0, sizeof(act));
}

static const char *actions(void)
{
    static char buf[4096];
    size_t i, used = 0;
    buf[0] = '\0';
    for (i = 0; i < plan.count; i++) {
        int n = snprintf(buf + used, sizeof(buf) - used, "%s%s", i > 0 ? " " : "",
                         plan.steps[i].action);
        used += (size_t)n;
    }
    return buf;
}

static void built_common(void)
{
    act.service_found = 1;
    snprintf(act.service.id, sizeof(act.service.id), "epsrv-1");
    snprintf(act.service.status, sizeof(act.service.status), "Active");
    act.connection_count = 1;
    snprintf(act.connections[0].endpoint_id, sizeof(act.connections[0].endpoint_id), "ep-1");
    snprintf(act.connections[0].status, sizeof(act.connections[0].status), "Connected");
    act.es_found = 1;
    snprintf(act.es.status, sizeof(act.es.status), "active");
    act.endpoint_found = 1;
    snprintf(act.endpoint.id, sizeof(act.endpoint.id), "ep-1");
    snprintf(act.endpoint.service_id, sizeof(act.endpoint.service_id), "epsrv-1");
    snprintf(act.endpoint.domain, sizeof(act.endpoint.domain), DOMAIN);
    snprintf(act.endpoint.connection_status, sizeof(act.endpoint.connection_status), "Connected");
}

static void built_clb(void)
{
    act.lb_found = 1;
    snprintf(act.clb.lb.id, sizeof(act.clb.lb.id), "lb-1");
    snprintf(act.clb.lb.status, sizeof(act.clb.lb.status), "active");
    act.clb.listener_count = 2;
    act.clb.listeners[0].port = 389;
    act.clb.listeners[1].port = 3128;
    act.clb.backend_count = 2;
    snprintf(act.clb.backends[0].server_id, sizeof(act.clb.backends[0].server_id), "i-1");
    snprintf(act.clb.backends[1].server_id, sizeof(act.clb.backends[1].server_id), "i-2");
    built_common();
}

Test(prov_plan, clb_from_nothing_is_every_step_in_order)
{
    load(CLB);
    prov_plan_build(&cfg, &act, &plan);
    cr_assert_str_eq(actions(),
                     "CreateLoadBalancer CreateLoadBalancerTCPListener StartLoadBalancerListener "
                     "CreateLoadBalancerTCPListener StartLoadBalancerListener AddBackendServers "
                     "AddBackendServers CreateVpcEndpointService CreateVpcEndpoint "
                     "EnableVpcEndpointConnection");
}

Test(prov_plan, clb_fully_built_is_in_sync)
{
    char *out = NULL;
    int healthy = 0;
    load(CLB);
    built_clb();
    prov_plan_build(&cfg, &act, &plan);
    cr_assert_eq(plan.count, 0, "%s", actions());
    cr_assert_eq(prov_plan_render(&plan, 0, &out), 0);
    cr_assert(strstr(out, "in sync") != NULL, "%s", out);
    free(out);
    cr_assert_eq(prov_inspect_render(&cfg, &act, 0, &out, &healthy), 0);
    cr_assert_eq(healthy, 1, "%s", out);
    free(out);
}

Test(prov_plan, clb_missing_listener_backend_and_pending_connection)
{
    char *out = NULL;
    int healthy = 1;
    load(CLB);
    built_clb();
    act.clb.listener_count = 1;
    act.clb.backend_count = 1;
    snprintf(act.connections[0].status, sizeof(act.connections[0].status), "Pending");
    prov_plan_build(&cfg, &act, &plan);
    cr_assert_str_eq(actions(), "CreateLoadBalancerTCPListener StartLoadBalancerListener "
                                "AddBackendServers EnableVpcEndpointConnection");
    cr_assert(strstr(plan.steps[0].detail, "3128") != NULL);
    cr_assert(strstr(plan.steps[2].detail, "i-2") != NULL);
    cr_assert_eq(prov_inspect_render(&cfg, &act, 0, &out, &healthy), 0);
    cr_assert_eq(healthy, 0);
    cr_assert(strstr(out, "listener 3128") != NULL && strstr(out, "not found") != NULL, "%s", out);
    cr_assert(strstr(out, "not attached") != NULL, "%s", out);
    free(out);
}

Test(prov_plan, clb_stopped_listener_and_disconnected_connection_are_planned)
{
    char *out = NULL;
    int healthy = 1;
    load(CLB);
    built_clb();
    snprintf(act.clb.listeners[0].status, sizeof(act.clb.listeners[0].status), "running");
    snprintf(act.clb.listeners[1].status, sizeof(act.clb.listeners[1].status), "stopped");
    snprintf(act.endpoint.connection_status, sizeof(act.endpoint.connection_status),
             "Disconnected");
    snprintf(act.connections[0].status, sizeof(act.connections[0].status), "Disconnected");
    prov_plan_build(&cfg, &act, &plan);
    cr_assert_str_eq(actions(), "StartLoadBalancerListener EnableVpcEndpointConnection");
    cr_assert(strstr(plan.steps[0].detail, "3128 (stopped)") != NULL, "%s", plan.steps[0].detail);
    cr_assert_eq(prov_inspect_render(&cfg, &act, 0, &out, &healthy), 0);
    cr_assert_eq(healthy, 0);
    cr_assert(strstr(out, "stopped") != NULL, "%s", out);
    free(out);
}

Test(prov_plan, nlb_stale_server_is_removed_after_the_target_is_added)
{
    load(NLB);
    act.lb_found = act.sg_found = act.listener_found = 1;
    snprintf(act.nlb.status, sizeof(act.nlb.status), "Active");
    snprintf(act.sg.status, sizeof(act.sg.status), "Available");
    act.sg.server_count = 1;
    act.server_count = 1;
    snprintf(act.servers[0].server_id, sizeof(act.servers[0].server_id), "10.0.0.8");
    act.servers[0].port = 9200;
    snprintf(act.listener.status, sizeof(act.listener.status), "Running");
    act.listener.port = 9200;
    built_common();
    snprintf(act.es.reindex_whitelist, sizeof(act.es.reindex_whitelist), DOMAIN ":9200");
    prov_plan_build(&cfg, &act, &plan);
    cr_assert_str_eq(actions(), "AddServersToServerGroup RemoveServersFromServerGroup");
    cr_assert(strstr(plan.steps[1].detail, "10.0.0.8") != NULL, "%s", plan.steps[1].detail);
    snprintf(act.servers[0].server_id, sizeof(act.servers[0].server_id), "10.0.0.9");
    prov_plan_build(&cfg, &act, &plan);
    cr_assert_eq(plan.count, 0, "%s", actions());
}

Test(prov_plan, whitelist_entries_are_compared_whole)
{
    load(NLB);
    act.lb_found = act.sg_found = act.listener_found = 1;
    act.sg.server_count = 1;
    act.listener.port = 9200;
    built_common();
    snprintf(act.es.reindex_whitelist, sizeof(act.es.reindex_whitelist), DOMAIN ":92001");
    prov_plan_build(&cfg, &act, &plan);
    cr_assert_str_eq(actions(), "UpdateInstanceSettings", "a longer port is another entry");
}

Test(prov_plan, auto_accept_skips_the_enable_step)
{
    load(CLB "[endpoint_service]\nauto_accept = true\n");
    prov_plan_build(&cfg, &act, &plan);
    cr_assert(strstr(actions(), "EnableVpcEndpointConnection") == NULL, "%s", actions());
}

Test(prov_plan, nlb_from_nothing_and_whitelist)
{
    load(NLB);
    prov_plan_build(&cfg, &act, &plan);
    cr_assert_str_eq(actions(), "CreateLoadBalancer CreateServerGroup AddServersToServerGroup "
                                "CreateListener CreateVpcEndpointService CreateVpcEndpoint "
                                "EnableVpcEndpointConnection UpdateInstanceSettings");
    cr_assert(strstr(plan.steps[2].detail, "10.0.0.9 port 9200") != NULL);
}

Test(prov_plan, nlb_built_but_whitelist_missing)
{
    char *out = NULL;
    json_t *doc;
    int healthy = 1;
    load(NLB);
    act.lb_found = act.sg_found = act.listener_found = 1;
    snprintf(act.nlb.status, sizeof(act.nlb.status), "Active");
    snprintf(act.sg.status, sizeof(act.sg.status), "Available");
    act.sg.server_count = 1;
    snprintf(act.listener.status, sizeof(act.listener.status), "Running");
    act.listener.port = 9200;
    built_common();
    prov_plan_build(&cfg, &act, &plan);
    cr_assert_str_eq(actions(), "UpdateInstanceSettings");
    cr_assert(strstr(plan.steps[0].detail, DOMAIN ":9200") != NULL, "%s", plan.steps[0].detail);
    snprintf(act.es.reindex_whitelist, sizeof(act.es.reindex_whitelist), "a:1," DOMAIN ":9200");
    prov_plan_build(&cfg, &act, &plan);
    cr_assert_eq(plan.count, 0, "%s", actions());
    cr_assert_eq(prov_plan_render(&plan, 1, &out), 0);
    doc = json_loads(out, 0, NULL);
    cr_assert(json_is_true(json_object_get(doc, "in_sync")), "%s", out);
    json_decref(doc);
    free(out);
    cr_assert_eq(prov_inspect_render(&cfg, &act, 1, &out, &healthy), 0);
    cr_assert_eq(healthy, 1, "%s", out);
    doc = json_loads(out, 0, NULL);
    cr_assert_not_null(doc, "%s", out);
    cr_assert_geq(json_array_size(json_object_get(doc, "hops")), 7, "%s", out);
    json_decref(doc);
    free(out);
}
