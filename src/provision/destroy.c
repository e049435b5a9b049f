/*
 * destroy — tear the private path down in reverse order (include/plprov/apply.h). Every hop is
 * found the way apply finds it (by name, by the load balancer, by the service), so a path built
 * by hand with the same names is torn down too; "not found" counts as done, and an asynchronous
 * delete is waited for before the next hop.
 */
#include <stdio.h>
#include <string.h>

#include "apply_int.h"
#include "readutil_int.h"

/* One delete: OK and NOT_FOUND are success; DEPENDENCY is returned for the caller to resolve. */
static int del(struct prov_run *run, const struct prov_api_call *call, const char *hop,
               const char *detail, char *job, size_t job_size)
{
    json_t *json = NULL;
    int rc = prov_run_write(run, call, hop, detail, NULL, &json);

    if (job != NULL) {
        snprintf(job, job_size, "%s", rc == PROV_RUN_OK ? prov_run_id(json, "JobId") : "");
    }
    json_decref(json);
    if (rc == PROV_RUN_FAILED) {
        return prov_run_fail(run, hop, "%s", run->err);
    }
    return rc == PROV_RUN_DEPENDENCY ? PROV_RUN_DEPENDENCY : PROV_RUN_OK;
}

static int del_wait_job(struct prov_run *run, const struct prov_api_call *call, const char *hop,
                        const char *detail)
{
    char job[PROV_NLB_ID_BYTES], what[400];
    int rc = del(run, call, hop, detail, job, sizeof(job));

    if (rc == PROV_RUN_DEPENDENCY) {
        return prov_run_fail(run, hop, "%s: %s", call->action, run->err);
    }
    if (rc != PROV_RUN_OK) {
        return -1;
    }
    snprintf(what, sizeof(what), "%s job of %.300s", call->action, detail);
    return job[0] != '\0' ? prov_wait_job(run, hop, what, job) : 0;
}

/* ---- ES side ----------------------------------------------------------------------------- */

static int destroy_whitelist(struct prov_run *run, const char *domain)
{
    char entry[300];

    if (domain[0] == '\0') {
        return 0;
    }
    snprintf(entry, sizeof(entry), "%s:%u", domain, (unsigned)run->cfg->nlb_listener_port);
    if (prov_whitelist_change(run, entry, 0, "unwhitelist") != 0) {
        return -1;
    }
    prov_state_set(run->st, "whitelist", "entry", NULL);
    return 0;
}

struct endpoint_ctx {
    const char *service;
    const char *endpoint;
};

static int endpoint_gone_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    static struct prov_es_endpoint eps[32];
    struct endpoint_ctx *e = ctx;
    size_t n = 0, i;

    if (prov_es_list_vpc_endpoints(run->c, run->cfg->es_instance_id, eps, 32, &n, run->err,
                                   sizeof(run->err)) < 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(eps[i].id, e->endpoint) == 0) {
            snprintf(status, size, "%s", eps[i].connection_status);
            return 0;
        }
    }
    return 1;
}

/* Deletes every ES-side endpoint of this instance that points at the service. */
static int destroy_endpoints(struct prov_run *run, const char *service, char *domain,
                             size_t domain_size)
{
    static struct prov_es_endpoint eps[32];
    char path[300], token[PROV_STATE_TOKEN_BYTES], detail[200];
    struct prov_sign_kv q[1];
    size_t n = 0, i;
    int rc;

    rc = prov_es_list_vpc_endpoints(run->c, run->cfg->es_instance_id, eps, 32, &n, run->err,
                                    sizeof(run->err));
    if (rc == 1) {
        return 0;
    }
    if (rc != 0) {
        return prov_run_fail(run, "es connection", "%s", run->err);
    }
    for (i = 0; i < n; i++) {
        struct endpoint_ctx e = {service, eps[i].id};
        if (strcmp(eps[i].service_id, service) != 0) {
            continue;
        }
        if (domain[0] == '\0') {
            snprintf(domain, domain_size, "%s", eps[i].domain);
        }
        if (prov_run_token(run, "endpoint_delete", token) != 0) {
            return -1;
        }
        q[0].name = "ClientToken";
        q[0].value = token;
        snprintf(path, sizeof(path), "/openapi/instances/%.128s/vpc-endpoints/%.128s",
                 run->cfg->es_instance_id, eps[i].id);
        snprintf(detail, sizeof(detail), "ES endpoint %.128s", eps[i].id);
        const struct prov_api_call call = {
            PROV_API_ELASTICSEARCH, "DeleteVpcEndpoint", "DELETE", path, q, 1, NULL, NULL};
        if (del(run, &call, "es connection", detail, NULL, 0) != PROV_RUN_OK) {
            return -1;
        }
        prov_state_set(run->st, "endpoint_delete", "client_token", NULL);
        if (prov_run_wait(run, "es connection", "the ES endpoint to be deleted",
                          run->cfg->wait_timeout_s, endpoint_gone_probe, &e) != 0) {
            return -1;
        }
    }
    prov_state_set(run->st, "endpoint", "id", NULL);
    prov_state_set(run->st, "endpoint", "client_token", NULL);
    return 0;
}

/* ---- endpoint service -------------------------------------------------------------------- */

static int connection_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    struct endpoint_ctx *e = ctx;
    struct prov_pl_connection conns[PROV_INSPECT_MAX_CONNECTIONS];
    size_t n = 0, i;
    int rc = prov_pl_list_connections(run->c, run->cfg->region, e->service, conns,
                                      PROV_INSPECT_MAX_CONNECTIONS, &n, run->err, sizeof(run->err));

    if (rc != 0) {
        return rc == 1 ? 1 : -1;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(conns[i].endpoint_id, e->endpoint) == 0) {
            snprintf(status, size, "%s", conns[i].status);
            return strcmp(conns[i].status, "Disconnected") == 0;
        }
    }
    return 1;
}

/* The service refused to go while connections live: disconnect each, in order. */
static int disconnect_all(struct prov_run *run, const char *service)
{
    struct prov_pl_connection conns[PROV_INSPECT_MAX_CONNECTIONS];
    size_t n = 0, i;
    char detail[320];

    if (prov_pl_list_connections(run->c, run->cfg->region, service, conns,
                                 PROV_INSPECT_MAX_CONNECTIONS, &n, run->err,
                                 sizeof(run->err)) < 0) {
        return prov_run_fail(run, "endpoint service", "%s", run->err);
    }
    for (i = 0; i < n; i++) {
        struct endpoint_ctx e = {service, conns[i].endpoint_id};
        struct kvs k = {0};
        if (strcmp(conns[i].status, "Disconnected") == 0) {
            continue;
        }
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "ServiceId", service);
        prov_kvs_add(&k, "EndpointId", conns[i].endpoint_id);
        snprintf(detail, sizeof(detail), "connection of %.128s (%.128s)", conns[i].endpoint_id,
                 conns[i].status);
        const struct prov_api_call call =
            prov_rpc(PROV_API_PRIVATELINK, "DisableVpcEndpointConnection", &k);
        if (del(run, &call, "endpoint service", detail, NULL, 0) != PROV_RUN_OK) {
            return -1;
        }
        if (prov_run_wait(run, "endpoint service", "the connection to be Disconnected",
                          run->cfg->wait_timeout_s, connection_probe, &e) != 0) {
            return -1;
        }
    }
    return 0;
}

static int service_gone_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    int rc = prov_service_status(run, ctx, status, size);

    return rc < 0 ? -1 : rc == 1;
}

static int destroy_service(struct prov_run *run, const char *service)
{
    struct kvs k = {0};
    char detail[320];
    int rc, attempt;

    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "ServiceId", service);
    snprintf(detail, sizeof(detail), "endpoint service %.128s", service);
    const struct prov_api_call call =
        prov_rpc(PROV_API_PRIVATELINK, "DeleteVpcEndpointService", &k);
    for (attempt = 0; attempt < 2; attempt++) {
        rc = del(run, &call, "endpoint service", detail, NULL, 0);
        if (rc == PROV_RUN_OK) {
            break;
        }
        if (rc != PROV_RUN_DEPENDENCY || attempt > 0) {
            return rc == PROV_RUN_DEPENDENCY
                       ? prov_run_fail(run, "endpoint service",
                                       "still in use after disconnecting: %s", run->err)
                       : -1;
        }
        if (disconnect_all(run, service) != 0) {
            return -1;
        }
    }
    prov_state_set(run->st, "service", "id", NULL);
    return prov_run_wait(run, "endpoint service", "the endpoint service to be deleted",
                         run->cfg->wait_timeout_s, service_gone_probe, (void *)service);
}

/* ---- load balancers ---------------------------------------------------------------------- */

static int destroy_clb(struct prov_run *run, const char *lb)
{
    static struct prov_clb_attribute attr;
    char detail[192], list[KVS_VALUE_BYTES];
    size_t i, used = 0, added = 0;
    int rc = prov_clb_describe_attribute(run->c, run->cfg->region, lb, &attr, run->err,
                                         sizeof(run->err));

    if (rc == 1) {
        return 0;
    }
    if (rc != 0) {
        return prov_run_fail(run, "clb", "%s", run->err);
    }
    for (i = 0; i < attr.listener_count; i++) {
        struct kvs k = {0};
        char hop[64];
        snprintf(hop, sizeof(hop), "clb listener %u", (unsigned)attr.listeners[i].port);
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "LoadBalancerId", lb);
        prov_kvs_addf(&k, "ListenerPort", "%u", (unsigned)attr.listeners[i].port);
        snprintf(detail, sizeof(detail), "listener %u", (unsigned)attr.listeners[i].port);
        const struct prov_api_call stop = prov_rpc(PROV_API_SLB, "StopLoadBalancerListener", &k);
        if (del(run, &stop, hop, detail, NULL, 0) != PROV_RUN_OK) {
            return -1;
        }
        prov_kvs_add(&k, "ListenerProtocol", "tcp");
        const struct prov_api_call dl = prov_rpc(PROV_API_SLB, "DeleteLoadBalancerListener", &k);
        if (del(run, &dl, hop, detail, NULL, 0) != PROV_RUN_OK) {
            return -1;
        }
    }
    list[0] = '\0';
    for (i = 0; i < attr.backend_count && used < sizeof(list) - 80; i++) {
        used += (size_t)snprintf(list + used, sizeof(list) - used,
                                 "%s{\"ServerId\":\"%s\",\"Type\":\"%s\"}", i > 0 ? "," : "[",
                                 attr.backends[i].server_id,
                                 attr.backends[i].type[0] != '\0' ? attr.backends[i].type : "ecs");
        added++;
    }
    if (added > 0) {
        struct kvs k = {0};
        snprintf(list + used, sizeof(list) - used, "]");
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "LoadBalancerId", lb);
        prov_kvs_add(&k, "BackendServers", list);
        snprintf(detail, sizeof(detail), "%zu backend(s)", added);
        const struct prov_api_call rm = prov_rpc(PROV_API_SLB, "RemoveBackendServers", &k);
        if (del(run, &rm, "clb backends", detail, NULL, 0) != PROV_RUN_OK) {
            return -1;
        }
    }
    struct kvs k = {0};
    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "LoadBalancerId", lb);
    snprintf(detail, sizeof(detail), "CLB %.128s", lb);
    const struct prov_api_call dlb = prov_rpc(PROV_API_SLB, "DeleteLoadBalancer", &k);
    rc = del(run, &dlb, "clb", detail, NULL, 0);
    if (rc == PROV_RUN_DEPENDENCY) {
        return prov_run_fail(run, "clb", "DeleteLoadBalancer: %s", run->err);
    }
    return rc;
}

static int destroy_nlb(struct prov_run *run, const char *lb, const char *sg)
{
    static struct prov_nlb_server servers[64];
    struct prov_nlb_listener ls[16];
    size_t n = 0, i;
    char detail[320];
    int rc;

    if (lb[0] != '\0') {
        rc = prov_nlb_list_listeners(run->c, run->cfg->region, lb, ls, 16, &n, run->err,
                                     sizeof(run->err));
        if (rc < 0) {
            return prov_run_fail(run, "nlb listener", "%s", run->err);
        }
        for (i = 0; i < n; i++) {
            struct kvs k = {0};
            prov_kvs_region(&k, run);
            prov_kvs_add(&k, "ListenerId", ls[i].id);
            snprintf(detail, sizeof(detail), "listener %.128s", ls[i].id);
            const struct prov_api_call call = prov_rpc(PROV_API_NLB, "DeleteListener", &k);
            if (del_wait_job(run, &call, "nlb listener", detail) != 0) {
                return -1;
            }
        }
    }
    if (sg[0] != '\0') {
        n = 0;
        rc = prov_nlb_list_servers(run->c, run->cfg->region, sg, servers, 64, &n, run->err,
                                   sizeof(run->err));
        if (rc < 0) {
            return prov_run_fail(run, "nlb server", "%s", run->err);
        }
        for (i = 0; i < n; i++) {
            struct kvs k;
            prov_kvs_nlb_server(&k, run, sg, &servers[i]);
            snprintf(detail, sizeof(detail), "server %.128s port %u", servers[i].server_id,
                     (unsigned)servers[i].port);
            const struct prov_api_call call =
                prov_rpc(PROV_API_NLB, "RemoveServersFromServerGroup", &k);
            if (del_wait_job(run, &call, "nlb server", detail) != 0) {
                return -1;
            }
        }
        struct kvs k = {0};
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "ServerGroupId", sg);
        snprintf(detail, sizeof(detail), "server group %.128s", sg);
        const struct prov_api_call call = prov_rpc(PROV_API_NLB, "DeleteServerGroup", &k);
        if (del_wait_job(run, &call, "nlb server group", detail) != 0) {
            return -1;
        }
    }
    if (lb[0] != '\0') {
        struct kvs k = {0};
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "LoadBalancerId", lb);
        snprintf(detail, sizeof(detail), "NLB %.128s", lb);
        const struct prov_api_call call = prov_rpc(PROV_API_NLB, "DeleteLoadBalancer", &k);
        if (del_wait_job(run, &call, "nlb", detail) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- destroy ----------------------------------------------------------------------------- */

int prov_destroy(struct prov_run *run)
{
    static struct prov_actual a;
    char domain[256] = "";

    if (prov_inspect_read(run->c, run->cfg, &a) != 0) {
        return prov_run_fail(run, "read", "cannot read every hop before destroying: %s",
                             a.error_count > 0 ? a.errors[0] : "unknown error");
    }
    if (a.endpoint_found) {
        snprintf(domain, sizeof(domain), "%s", a.endpoint.domain);
    }
    if (run->cfg->topology == PROV_TOPOLOGY_NLB_IP && destroy_whitelist(run, domain) != 0) {
        return -1;
    }
    if (a.service_found) {
        if (destroy_endpoints(run, a.service.id, domain, sizeof(domain)) != 0 ||
            destroy_service(run, a.service.id) != 0) {
            return -1;
        }
    }
    if (run->cfg->topology == PROV_TOPOLOGY_CLB_ECS) {
        if (a.lb_found && destroy_clb(run, a.clb.lb.id) != 0) {
            return -1;
        }
    } else if (destroy_nlb(run, a.lb_found ? a.nlb.id : "", a.sg_found ? a.sg.id : "") != 0) {
        return -1;
    }
    if (!run->dry_run && prov_state_remove(run->st, run->err, sizeof(run->err)) != 0) {
        return prov_run_fail(run, "state", "%s", run->err);
    }
    return 0;
}
