/*
 * destroy — tear the private path down in reverse order (include/plprov/apply.h). Every hop is
 * found the way apply finds it (by name, by the load balancer, by the service), so a path built
 * by hand with the same names is torn down too, and every id the state file recorded is deleted
 * as well (a renamed resource, or one a lagging list does not show); "not found" counts as done,
 * and an asynchronous delete is waited for before the next hop. A name that matches several
 * resources is refused rather than guessed. The state file is removed only once every id it
 * records reads back as gone.
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

/* A few ids of one kind: what the name lookup found and what the state file recorded. */
#define ID_LIST_MAX 6

struct id_list {
    char v[ID_LIST_MAX][PROV_CONFIG_ID_BYTES];
    size_t n;
};

static void ids_add(struct id_list *l, const char *id)
{
    size_t i;

    if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof(l->v[0])) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], id) == 0) {
            return;
        }
    }
    if (l->n < ID_LIST_MAX) {
        memcpy(l->v[l->n++], id, strlen(id) + 1);
    }
}

static int ids_has(const struct id_list *l, const char *id)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], id) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- ES side ----------------------------------------------------------------------------- */

/* Removes each whitelist entry this path may have added: the one of the endpoint found now, and,
 * when that endpoint is gone already, the entry the state recorded (or its endpoint_domain). */
static int destroy_whitelist(struct prov_run *run, const char *domain)
{
    const char *recorded = prov_state_get(run->st, "whitelist", "entry");
    const char *state_domain = prov_state_domain(run->st);
    char entries[3][300];
    size_t n = 0, i;

    if (domain[0] != '\0') {
        snprintf(entries[n++], sizeof(entries[0]), "%s:%u", domain,
                 (unsigned)run->cfg->nlb_listener_port);
    }
    if (recorded != NULL && recorded[0] != '\0') {
        snprintf(entries[n++], sizeof(entries[0]), "%s", recorded);
    }
    if (state_domain != NULL && state_domain[0] != '\0') {
        snprintf(entries[n++], sizeof(entries[0]), "%s:%u", state_domain,
                 (unsigned)run->cfg->nlb_listener_port);
    }
    for (i = 0; i < n; i++) {
        if ((i == 0 || strcmp(entries[i], entries[0]) != 0) &&
            (i < 2 || strcmp(entries[i], entries[1]) != 0) &&
            prov_whitelist_change(run, entries[i], 0, "unwhitelist") != 0) {
            return -1;
        }
    }
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

/* Deletes every ES-side endpoint of this instance that points at one of the services, and the
 * endpoint the state recorded. Each delete has its own ClientToken, keyed by the endpoint. */
static int destroy_endpoints(struct prov_run *run, const struct id_list *services,
                             const char *recorded)
{
    static struct prov_es_endpoint eps[32];
    char path[300], token[PROV_STATE_TOKEN_BYTES], detail[200], key[PROV_ES_ID_BYTES + 32];
    struct prov_sign_kv q[1];
    size_t n = 0, i;
    int rc;

    if (services->n == 0 && recorded == NULL) {
        return 0;
    }
    rc = prov_es_list_vpc_endpoints(run->c, run->cfg->es_instance_id, eps, 32, &n, run->err,
                                    sizeof(run->err));
    if (rc == 1) {
        return 0;
    }
    if (rc != 0) {
        return prov_run_fail(run, "es connection", "%s", run->err);
    }
    for (i = 0; i < n; i++) {
        struct endpoint_ctx e = {eps[i].service_id, eps[i].id};
        if (!ids_has(services, eps[i].service_id) &&
            (recorded == NULL || strcmp(eps[i].id, recorded) != 0)) {
            continue;
        }
        snprintf(key, sizeof(key), "endpoint_delete:%s", eps[i].id);
        if (prov_run_token(run, key, token) != 0) {
            return -1;
        }
        q[0].name = "ClientToken";
        q[0].value = token;
        snprintf(path, sizeof(path), "/openapi/instances/%.128s/vpc-endpoints/%.128s",
                 run->cfg->es_instance_id, eps[i].id);
        snprintf(detail, sizeof(detail), "ES endpoint %.128s", eps[i].id);
        const struct prov_api_call call = {
            PROV_API_ELASTICSEARCH, "DeleteVpcEndpoint", "DELETE", path, q, 1, NULL, NULL};
        if (del(run, &call, "es connection", detail, NULL, 0) != PROV_RUN_OK ||
            prov_drop_token(run, key) != 0) {
            return -1;
        }
        if (prov_run_wait(run, "es connection", "the ES endpoint to be deleted",
                          run->cfg->wait_timeout_s, endpoint_gone_probe, &e) != 0) {
            return -1;
        }
    }
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

static int nlb_exists(struct prov_run *run, const char *lb)
{
    char status[64];
    struct kvs k = {0};

    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "LoadBalancerId", lb);
    const struct prov_api_call call = prov_rpc(PROV_API_NLB, "GetLoadBalancerAttribute", &k);
    int rc = prov_read_field(run->c, &call, "LoadBalancerStatus", status, sizeof(status), run->err,
                             sizeof(run->err));
    return rc < 0 ? -1 : rc == 0;
}

static int destroy_nlb_listeners(struct prov_run *run, const char *lb)
{
    struct prov_nlb_listener ls[16];
    size_t n = 0, i;
    char detail[320];

    if (prov_nlb_list_listeners(run->c, run->cfg->region, lb, ls, 16, &n, run->err,
                                sizeof(run->err)) < 0) {
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
    return 0;
}

static int destroy_nlb_group(struct prov_run *run, const char *sg)
{
    static struct prov_nlb_server servers[64];
    size_t n = 0, i;
    char detail[320];
    int rc = prov_nlb_list_servers(run->c, run->cfg->region, sg, servers, 64, &n, run->err,
                                   sizeof(run->err));

    if (rc == 1) {
        return 0; /* the group is gone */
    }
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
    return del_wait_job(run, &call, "nlb server group", detail);
}

/* Listeners of every NLB first (a listener holds its server group), then the groups, then the
 * NLBs; an NLB that no longer exists is skipped. */
static int destroy_nlb(struct prov_run *run, const struct id_list *lbs, const struct id_list *sgs)
{
    int live[ID_LIST_MAX];
    char detail[320];
    size_t i;

    for (i = 0; i < lbs->n; i++) {
        live[i] = nlb_exists(run, lbs->v[i]);
        if (live[i] < 0) {
            return prov_run_fail(run, "nlb", "%s", run->err);
        }
        if (live[i] && destroy_nlb_listeners(run, lbs->v[i]) != 0) {
            return -1;
        }
    }
    for (i = 0; i < sgs->n; i++) {
        if (destroy_nlb_group(run, sgs->v[i]) != 0) {
            return -1;
        }
    }
    for (i = 0; i < lbs->n; i++) {
        struct kvs k = {0};
        if (!live[i]) {
            continue;
        }
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "LoadBalancerId", lbs->v[i]);
        snprintf(detail, sizeof(detail), "NLB %.128s", lbs->v[i]);
        const struct prov_api_call call = prov_rpc(PROV_API_NLB, "DeleteLoadBalancer", &k);
        if (del_wait_job(run, &call, "nlb", detail) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- destroy ----------------------------------------------------------------------------- */

/* 1 when the resource the state recorded under key still exists, 0 gone, -1 read failed. */
static int recorded_exists(struct prov_run *run, const char *key, const char *id)
{
    static struct prov_es_endpoint eps[32];
    static struct prov_nlb_server servers[64];
    char status[64];
    size_t n = 0, i;
    int rc;

    if (strcmp(key, "lb") == 0 && run->cfg->topology == PROV_TOPOLOGY_CLB_ECS) {
        static struct prov_clb_attribute attr;
        rc = prov_clb_describe_attribute(run->c, run->cfg->region, id, &attr, run->err,
                                         sizeof(run->err));
        return rc < 0 ? -1 : rc == 0;
    }
    if (strcmp(key, "lb") == 0) {
        return nlb_exists(run, id);
    }
    if (strcmp(key, "server_group") == 0 || strcmp(key, "server") == 0) { /* both the group id */
        rc = prov_nlb_list_servers(run->c, run->cfg->region, id, servers, 64, &n, run->err,
                                   sizeof(run->err));
        return rc < 0 ? -1 : rc == 0;
    }
    if (strcmp(key, "listener") == 0) {
        struct kvs k = {0};
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "ListenerId", id);
        const struct prov_api_call call = prov_rpc(PROV_API_NLB, "GetListenerAttribute", &k);
        rc = prov_read_field(run->c, &call, "ListenerStatus", status, sizeof(status), run->err,
                             sizeof(run->err));
        return rc < 0 ? -1 : rc == 0;
    }
    if (strcmp(key, "service") == 0) {
        rc = prov_service_status(run, id, status, sizeof(status));
        return rc < 0 ? -1 : rc == 0;
    }
    rc = prov_es_list_vpc_endpoints(run->c, run->cfg->es_instance_id, eps, 32, &n, run->err,
                                    sizeof(run->err));
    for (i = 0; rc == 0 && i < n; i++) {
        if (strcmp(eps[i].id, id) == 0) {
            return 1;
        }
    }
    return rc < 0 ? -1 : 0;
}

/* Removes the state file once no id it records exists any more; else keeps it and fails. */
static int remove_state(struct prov_run *run)
{
    static const char *const keys[] = {"endpoint", "service",      "listener",
                                       "server",   "server_group", "lb"};
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *id = prov_state_get(run->st, keys[i], "id");
        int rc = id != NULL ? recorded_exists(run, keys[i], id) : 0;
        if (rc < 0) {
            return prov_run_fail(run, "state",
                                 "cannot tell whether %s %s is gone, the state file "
                                 "is kept: %s",
                                 keys[i], id, run->err);
        }
        if (rc == 1) {
            return prov_run_fail(run, "state",
                                 "%s %s recorded in the state file still exists after destroy; "
                                 "the state file is kept: delete it in the console, then run "
                                 "destroy again",
                                 keys[i], id);
        }
    }
    if (prov_state_remove(run->st, run->err, sizeof(run->err)) != 0) {
        return prov_run_fail(run, "state", "%s", run->err);
    }
    return 0;
}

/* One name, several resources: refuse instead of deleting whichever was listed first. */
static int refuse_ambiguous(struct prov_run *run, const struct prov_actual *a)
{
    struct prov_nlb_server_group sgs[4];
    size_t n = 0;

    if (a->lb_ambiguous) {
        return prov_run_fail(run, run->cfg->topology == PROV_TOPOLOGY_CLB_ECS ? "clb" : "nlb",
                             "several load balancers are named \"%s\"; destroy will not guess "
                             "which one is this path's: delete or rename the extra ones, then run "
                             "destroy again",
                             run->cfg->name);
    }
    if (run->cfg->topology != PROV_TOPOLOGY_NLB_IP) {
        return 0;
    }
    if (prov_nlb_list_server_groups(run->c, run->cfg->region, run->cfg->name, sgs, 4, &n, run->err,
                                    sizeof(run->err)) < 0) {
        return prov_run_fail(run, "nlb server group", "%s", run->err);
    }
    if (n > 1) {
        return prov_run_fail(run, "nlb server group",
                             "%zu server groups are named \"%s\" (%s, %s); destroy will not guess "
                             "which one is this path's: delete or rename the extra ones, then run "
                             "destroy again",
                             n, run->cfg->name, sgs[0].id, sgs[1].id);
    }
    return 0;
}

/* The endpoint services to delete: the one found, the recorded one, and any on a recorded LB. */
static int collect_services(struct prov_run *run, const struct prov_actual *a,
                            const struct id_list *lbs, struct id_list *services)
{
    struct prov_pl_service svc[4];
    size_t i, j, n;

    ids_add(services, a->service_found ? a->service.id : NULL);
    ids_add(services, prov_state_get(run->st, "service", "id"));
    for (i = 0; i < lbs->n; i++) {
        n = 0;
        if (prov_pl_list_services(run->c, run->cfg->region, lbs->v[i], svc, 4, &n, run->err,
                                  sizeof(run->err)) < 0) {
            return prov_run_fail(run, "endpoint service", "%s", run->err);
        }
        for (j = 0; j < n; j++) {
            ids_add(services, svc[j].id);
        }
    }
    return 0;
}

int prov_destroy(struct prov_run *run)
{
    static struct prov_actual a;
    struct id_list lbs = {0}, sgs = {0}, services = {0};
    int clb = run->cfg->topology == PROV_TOPOLOGY_CLB_ECS;
    size_t i;

    if (prov_inspect_read(run->c, run->cfg, &a) != 0) {
        return prov_run_fail(run, "read", "cannot read every hop before destroying: %s",
                             a.error_count > 0 ? a.errors[0] : "unknown error");
    }
    if (refuse_ambiguous(run, &a) != 0) {
        return -1;
    }
    ids_add(&lbs, a.lb_found ? (clb ? a.clb.lb.id : a.nlb.id) : NULL);
    ids_add(&lbs, prov_state_get(run->st, "lb", "id"));
    ids_add(&sgs, a.sg_found ? a.sg.id : NULL);
    ids_add(&sgs, prov_state_get(run->st, "server_group", "id"));
    ids_add(&sgs, prov_state_get(run->st, "server", "id"));
    if (collect_services(run, &a, &lbs, &services) != 0) {
        return -1;
    }
    if (!clb && destroy_whitelist(run, a.endpoint_found ? a.endpoint.domain : "") != 0) {
        return -1;
    }
    if (destroy_endpoints(run, &services, prov_state_get(run->st, "endpoint", "id")) != 0) {
        return -1;
    }
    for (i = 0; i < services.n; i++) {
        if (destroy_service(run, services.v[i]) != 0) {
            return -1;
        }
    }
    for (i = 0; clb && i < lbs.n; i++) {
        if (destroy_clb(run, lbs.v[i]) != 0) {
            return -1;
        }
    }
    if (!clb && destroy_nlb(run, &lbs, &sgs) != 0) {
        return -1;
    }
    return run->dry_run ? 0 : remove_state(run);
}
