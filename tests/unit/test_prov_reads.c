/*
 * test_prov_reads — unit tests of the typed reads (src/provision/clb.c, nlb.c, privatelink.c,
 * es.c over readutil.c) through the apiclient's transport hook: each wrapper sends its action with
 * the expected parameters, parses both the wrapped ({"X":{"Y":[...]}}) and bare list shapes,
 * returns 1 on a NotFound answer and -1 with the server's Code on other errors.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "plprov/clb.h"
#include "plprov/es.h"
#include "plprov/nlb.h"
#include "plprov/privatelink.h"

TestSuite(prov_reads, .timeout = 10);

struct canned {
    long status;
    const char *body;
    char seen[4096]; /* URL, headers and body of the last request */
};

static int canned_transport(void *ctx, const struct prov_http_request *req,
                            struct prov_http_response *resp)
{
    struct canned *c = ctx;
    size_t used, i;

    used = (size_t)snprintf(c->seen, sizeof(c->seen), "%s %s\n", req->method, req->url);
    for (i = 0; i < req->header_count && used < sizeof(c->seen); i++) {
        used += (size_t)snprintf(c->seen + used, sizeof(c->seen) - used, "%s\n", req->headers[i]);
    }
    if (used < sizeof(c->seen)) {
        snprintf(c->seen + used, sizeof(c->seen) - used, "%.*s", (int)req->body_bytes,
                 req->body != NULL ? (const char *)req->body : "");
    }
    resp->status = c->status;
    cr_assert_eq(prov_http_response_set_body(resp, c->body, strlen(c->body)), 0);
    return 0;
}

static struct canned canned;
static struct prov_creds creds;
static struct prov_apiclient *client;
static char err[PROV_API_ERROR_BYTES];

static void setup(void)
{
    struct prov_api_options o;
    enum prov_api_product p;

    memset(&o, 0, sizeof(o));
    memset(&canned, 0, sizeof(canned));
    prov_creds_init(&creds);
    snprintf(creds.access_key_id, sizeof(creds.access_key_id), "testid");
    snprintf(creds.access_key_secret, sizeof(creds.access_key_secret), "testsecret");
    o.region_id = "cn-hangzhou";
    for (p = PROV_API_SLB; p < PROV_API_PRODUCT_COUNT; p++) {
        o.product[p].base_url = "http://127.0.0.1:8080";
    }
    o.retry.max_attempts = 1;
    o.hooks.transport = canned_transport;
    o.hooks.ctx = &canned;
    client = prov_api_new(&o, &creds, err, sizeof(err));
    cr_assert_not_null(client, "%s", err);
}

static void teardown(void)
{
    prov_api_free(client);
    prov_creds_cleanup(&creds);
}

static void answer(long status, const char *body)
{
    canned.status = status;
    canned.body = body;
}

Test(prov_reads, clb_describe_load_balancers_by_name, .init = setup, .fini = teardown)
{
    struct prov_clb_lb lbs[2];
    size_t n = 9;
    answer(200, "{\"RequestId\":\"r\",\"LoadBalancers\":{\"LoadBalancer\":[{\"LoadBalancerId\":"
                "\"lb-1\",\"LoadBalancerName\":\"plrelay\",\"LoadBalancerStatus\":\"active\","
                "\"Address\":\"10.0.0.5\"},{\"LoadBalancerId\":\"lb-2\"},{\"LoadBalancerId\":"
                "\"lb-3\"}]}}");
    cr_assert_eq(prov_clb_describe_load_balancers(client, "cn-hangzhou", "plrelay", lbs, 2, &n, err,
                                                  sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(lbs[0].id, "lb-1");
    cr_assert_str_eq(lbs[0].status, "active");
    cr_assert_str_eq(lbs[0].address, "10.0.0.5");
    cr_assert(strstr(canned.seen, "x-acs-action: DescribeLoadBalancers") != NULL, "%s",
              canned.seen);
    cr_assert(strstr(canned.seen, "LoadBalancerName=plrelay") != NULL, "%s", canned.seen);
}

Test(prov_reads, clb_attribute_listeners_and_backends, .init = setup, .fini = teardown)
{
    struct prov_clb_attribute a;
    answer(200, "{\"LoadBalancerId\":\"lb-1\",\"LoadBalancerStatus\":\"active\","
                "\"ListenerPortsAndProtocol\":{\"ListenerPortAndProtocol\":[{\"ListenerPort\":389,"
                "\"ListenerProtocol\":\"tcp\"},{\"ListenerPort\":\"3128\",\"ListenerProtocol\":"
                "\"tcp\"},{\"ListenerPort\":0}]},\"BackendServers\":{\"BackendServer\":["
                "{\"ServerId\":\"i-1\",\"Weight\":50,\"Type\":\"ecs\"}]}}");
    cr_assert_eq(prov_clb_describe_attribute(client, "cn-hangzhou", "lb-1", &a, err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(a.listener_count, 2);
    cr_assert_eq(a.listeners[1].port, 3128);
    cr_assert_eq(a.backend_count, 1);
    cr_assert_str_eq(a.backends[0].server_id, "i-1");
    cr_assert_eq(a.backends[0].weight, 50);
}

Test(prov_reads, clb_not_found_is_1, .init = setup, .fini = teardown)
{
    struct prov_clb_attribute a;
    answer(404, "{\"Code\":\"InvalidLoadBalancerId.NotFound\",\"Message\":\"gone\","
                "\"RequestId\":\"r1\"}");
    cr_assert_eq(prov_clb_describe_attribute(client, "cn-hangzhou", "lb-x", &a, err, sizeof(err)),
                 1);
    cr_assert(strstr(err, "InvalidLoadBalancerId.NotFound") != NULL, "%s", err);
}

Test(prov_reads, other_errors_are_minus_1_with_the_code, .init = setup, .fini = teardown)
{
    struct prov_nlb_lb lbs[1];
    size_t n;
    answer(403, "{\"Code\":\"Forbidden.RAM\",\"Message\":\"no\",\"RequestId\":\"r2\"}");
    cr_assert_eq(
        prov_nlb_list_load_balancers(client, "cn-hangzhou", "x", lbs, 1, &n, err, sizeof(err)), -1);
    cr_assert(strstr(err, "Forbidden.RAM") != NULL && strstr(err, "r2") != NULL, "%s", err);
}

Test(prov_reads, nlb_lists, .init = setup, .fini = teardown)
{
    struct prov_nlb_lb lbs[2];
    struct prov_nlb_server_group sg[2];
    struct prov_nlb_listener l[2];
    size_t n;
    answer(200, "{\"LoadBalancers\":[{\"LoadBalancerId\":\"nlb-1\",\"LoadBalancerStatus\":"
                "\"Active\",\"DNSName\":\"nlb-1.x\",\"ZoneMappings\":[{\"ZoneId\":\"a\"},"
                "{\"ZoneId\":\"b\"}]}]}");
    cr_assert_eq(
        prov_nlb_list_load_balancers(client, "cn-hangzhou", "n", lbs, 2, &n, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(n, 1);
    cr_assert_eq(lbs[0].zone_count, 2);
    cr_assert_str_eq(lbs[0].zones[1], "b");
    cr_assert(strstr(canned.seen, "LoadBalancerNames.1=n") != NULL, "%s", canned.seen);
    answer(200, "{\"ServerGroups\":[{\"ServerGroupId\":\"sgp-1\",\"ServerGroupStatus\":"
                "\"Available\",\"ServerGroupType\":\"Ip\",\"ServerCount\":1}]}");
    cr_assert_eq(
        prov_nlb_list_server_groups(client, "cn-hangzhou", "n", sg, 2, &n, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(sg[0].server_count, 1);
    cr_assert_str_eq(sg[0].type, "Ip");
    answer(200, "{\"Listeners\":[{\"ListenerId\":\"lsn-1@9200\",\"ListenerPort\":9200,"
                "\"ListenerStatus\":\"Running\"}]}");
    cr_assert_eq(
        prov_nlb_list_listeners(client, "cn-hangzhou", "nlb-1", l, 2, &n, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(l[0].port, 9200);
    cr_assert(strstr(canned.seen, "LoadBalancerIds.1=nlb-1") != NULL, "%s", canned.seen);
}

Test(prov_reads, privatelink_services_and_connections, .init = setup, .fini = teardown)
{
    struct prov_pl_service s[1];
    struct prov_pl_connection k[2];
    size_t n;
    answer(200, "{\"Services\":[{\"ServiceId\":\"epsrv-1\",\"ServiceStatus\":\"Active\","
                "\"AutoAcceptEnabled\":true}]}");
    cr_assert_eq(prov_pl_list_services(client, "cn-hangzhou", "lb-1", s, 1, &n, err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(s[0].auto_accept, 1);
    cr_assert(strstr(canned.seen, "ResourceId=lb-1") != NULL, "%s", canned.seen);
    answer(200, "{\"Connections\":[{\"EndpointId\":\"ep-1\",\"ConnectionStatus\":\"Pending\"},"
                "{\"EndpointId\":\"ep-2\",\"ConnectionStatus\":\"Connected\",\"Bandwidth\":100}]}");
    cr_assert_eq(
        prov_pl_list_connections(client, "cn-hangzhou", "epsrv-1", k, 2, &n, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(k[0].status, "Pending");
    cr_assert_eq(k[0].bandwidth, -1);
    cr_assert_eq(k[1].bandwidth, 100);
}

Test(prov_reads, es_instance_whitelist_string_or_list, .init = setup, .fini = teardown)
{
    struct prov_es_instance i;
    struct prov_es_endpoint e[1];
    size_t n;
    answer(200, "{\"Result\":{\"instanceId\":\"es-1\",\"status\":\"active\",\"port\":9200,"
                "\"networkConfig\":{\"vpcId\":\"vpc-1\"},\"esConfig\":{\"reindex.remote."
                "whitelist\":[\"a:9200\",\"b:9200\"]}}}");
    cr_assert_eq(prov_es_describe_instance(client, "es-1", &i, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(i.reindex_whitelist, "a:9200,b:9200");
    cr_assert_str_eq(i.vpc_id, "vpc-1");
    cr_assert(strstr(canned.seen, "GET http://127.0.0.1:8080/openapi/instances/es-1") != NULL, "%s",
              canned.seen);
    cr_assert(strstr(canned.seen, "authorization: acs testid:") != NULL, "%s", canned.seen);
    answer(200, "{\"Result\":[{\"endpointId\":\"ep-1\",\"serviceId\":\"epsrv-1\","
                "\"endpointDomain\":\"ep-1.d\",\"connectionStatus\":\"Connected\"}]}");
    cr_assert_eq(prov_es_list_vpc_endpoints(client, "es-1", e, 1, &n, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_str_eq(e[0].domain, "ep-1.d");
    cr_assert(strstr(canned.seen, "/openapi/instances/es-1/vpc-endpoints?") != NULL, "%s",
              canned.seen);
}
