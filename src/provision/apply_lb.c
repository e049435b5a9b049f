/*
 * apply_lb — the load-balancer hops of `apply` (include/plprov/apply.h): the CLB with its TCP
 * listeners and ECS backends (clb-ecs), or the NLB with its IP server group, the remote ES node
 * and the TCP listener (nlb-ip). Each hop is read first and written only when it is missing.
 */
#include <stdio.h>
#include <string.h>

#include "apply_int.h"
#include "readutil_int.h"

/* ---- CLB --------------------------------------------------------------------------------- */

static int clb_active_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    struct prov_clb_attribute attr;
    int rc = prov_clb_describe_attribute(run->c, run->cfg->region, ctx, &attr, run->err,
                                         sizeof(run->err));

    if (rc != 0) {
        return rc == 1 ? 0 : -1; /* a new CLB may not be readable at once */
    }
    snprintf(status, size, "%s", attr.lb.status);
    return strcmp(attr.lb.status, "active") == 0;
}

struct clb_listener_ctx {
    const char *lb;
    uint16_t port;
};

static int clb_listener_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    struct clb_listener_ctx *l = ctx;
    int rc = prov_clb_listener_status(run->c, run->cfg->region, l->lb, l->port, status, size,
                                      run->err, sizeof(run->err));

    return rc < 0 ? -1 : rc == 0 && strcmp(status, "running") == 0;
}

static int clb_find(struct prov_run *run, struct path_ids *ids)
{
    struct prov_clb_lb lbs[4];
    size_t n = 0;

    if (prov_clb_describe_load_balancers(run->c, run->cfg->region, run->cfg->name, lbs, 4, &n,
                                         run->err, sizeof(run->err)) < 0) {
        snprintf(run->hop, sizeof(run->hop), "clb");
        return -1;
    }
    if (n > 1) {
        return prov_run_fail(run, "clb",
                             "%zu CLBs are named \"%s\" (%s, %s): rename or delete the extra ones",
                             n, run->cfg->name, lbs[0].id, lbs[1].id);
    }
    if (n == 1) {
        snprintf(ids->lb, sizeof(ids->lb), "%s", lbs[0].id);
        snprintf(ids->lb_zone, sizeof(ids->lb_zone), "%s", lbs[0].master_zone_id);
        return prov_note_id(run, "lb", ids->lb);
    }
    return 0;
}

static int clb_create(struct prov_run *run, struct path_ids *ids)
{
    const struct prov_config *cfg = run->cfg;
    char token[PROV_STATE_TOKEN_BYTES], detail[256];
    struct kvs k = {0};
    json_t *json = NULL;

    if (prov_run_token(run, "lb", token) != 0) {
        return -1;
    }
    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "AddressType", "intranet");
    prov_kvs_add(&k, "VSwitchId", cfg->clb_vswitch_id);
    prov_kvs_add(&k, "VpcId", cfg->vpc_id);
    prov_kvs_add(&k, "LoadBalancerSpec", cfg->clb_spec);
    prov_kvs_add(&k, "LoadBalancerName", cfg->name);
    prov_kvs_add(&k, "PayType", "PayOnDemand");
    prov_kvs_add(&k, "AddressIPVersion", "ipv4");
    prov_kvs_add(&k, "DeleteProtection", "off");
    prov_kvs_add(&k, "Address", cfg->clb_address);
    prov_kvs_add(&k, "ClientToken", token);
    snprintf(detail, sizeof(detail), "intranet CLB %.100s in %.100s", cfg->name,
             cfg->clb_vswitch_id);
    const struct prov_api_call call = prov_rpc(PROV_API_SLB, "CreateLoadBalancer", &k);
    if (prov_run_write(run, &call, "clb", detail, "LoadBalancerId", &json) != PROV_RUN_OK) {
        return prov_create_failed(run, "lb", "clb");
    }
    snprintf(ids->lb, sizeof(ids->lb), "%s",
             run->dry_run ? "<LoadBalancerId>" : prov_run_id(json, "LoadBalancerId"));
    json_decref(json);
    if (ids->lb[0] == '\0') {
        return prov_run_fail(run, "clb", "CreateLoadBalancer answered without a LoadBalancerId");
    }
    if (!run->dry_run &&
        prov_state_created(run->st, "lb", ids->lb, run->err, sizeof(run->err)) != 0) {
        return prov_run_fail(run, "state", "%s", run->err);
    }
    return 0;
}

static int clb_listener(struct prov_run *run, const struct path_ids *ids,
                        const struct prov_clb_attribute *attr, uint16_t port)
{
    struct clb_listener_ctx l = {ids->lb, port};
    char hop[64], detail[128], status[32] = "", what[160];
    struct kvs k = {0};
    size_t i;
    int found = 0;

    snprintf(hop, sizeof(hop), "clb listener %u", (unsigned)port);
    for (i = 0; attr != NULL && i < attr->listener_count; i++) {
        found |= attr->listeners[i].port == port;
    }
    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "LoadBalancerId", ids->lb);
    prov_kvs_addf(&k, "ListenerPort", "%u", (unsigned)port);
    if (!found) {
        struct kvs c = k; /* the copied entries still point into k, which outlives c */
        prov_kvs_addf(&c, "BackendServerPort", "%u", (unsigned)port);
        prov_kvs_add(&c, "Bandwidth", "-1");
        prov_kvs_add(&c, "Scheduler", "wrr");
        prov_kvs_add(&c, "HealthCheckType", "tcp");
        prov_kvs_addf(&c, "HealthCheckConnectPort", "%u", (unsigned)port);
        prov_kvs_add(&c, "Description", run->cfg->description);
        snprintf(detail, sizeof(detail), "TCP %u -> backend port %u", (unsigned)port,
                 (unsigned)port);
        const struct prov_api_call call =
            prov_rpc(PROV_API_SLB, "CreateLoadBalancerTCPListener", &c);
        if (prov_run_write(run, &call, hop, detail, NULL, NULL) != PROV_RUN_OK) {
            return prov_run_fail(run, hop, "%s", run->err);
        }
    } else if (prov_clb_listener_status(run->c, run->cfg->region, ids->lb, port, status,
                                        sizeof(status), run->err, sizeof(run->err)) < 0) {
        return prov_run_fail(run, hop, "%s", run->err);
    }
    if (strcmp(status, "running") == 0 || strcmp(status, "starting") == 0) {
        return strcmp(status, "running") == 0
                   ? 0
                   : prov_run_wait(run, hop, "the listener to run", run->cfg->wait_timeout_s,
                                   clb_listener_probe, &l);
    }
    snprintf(detail, sizeof(detail), "listener %u", (unsigned)port);
    const struct prov_api_call start = prov_rpc(PROV_API_SLB, "StartLoadBalancerListener", &k);
    if (prov_run_write(run, &start, hop, detail, NULL, NULL) != PROV_RUN_OK) {
        return prov_run_fail(run, hop, "%s", run->err);
    }
    snprintf(what, sizeof(what), "CLB listener %u running", (unsigned)port);
    return prov_run_wait(run, hop, what, run->cfg->wait_timeout_s, clb_listener_probe, &l);
}

static int clb_backends(struct prov_run *run, const struct path_ids *ids,
                        const struct prov_clb_attribute *attr)
{
    const struct prov_config *cfg = run->cfg;
    char list[KVS_VALUE_BYTES], detail[256];
    size_t i, j, used = 0, added = 0, dused = 0;
    struct kvs k = {0};

    list[0] = '\0';
    detail[0] = '\0';
    for (i = 0; i < cfg->ecs_instance_count; i++) {
        int found = 0;
        for (j = 0; attr != NULL && j < attr->backend_count; j++) {
            found |= strcmp(attr->backends[j].server_id, cfg->ecs_instances[i]) == 0;
        }
        if (found) {
            continue;
        }
        used += (size_t)snprintf(list + used, sizeof(list) - used,
                                 "%s{\"ServerId\":\"%s\",\"Weight\":\"100\",\"Type\":\"ecs\"}",
                                 added > 0 ? "," : "[", cfg->ecs_instances[i]);
        dused += (size_t)snprintf(detail + dused, sizeof(detail) - dused, "%s%s",
                                  added > 0 ? ", " : "ECS ", cfg->ecs_instances[i]);
        added++;
        if (used >= sizeof(list) - 2 || dused >= sizeof(detail)) {
            return prov_run_fail(run, "clb backends", "too many ECS instances for one call");
        }
    }
    if (added == 0) {
        return 0;
    }
    snprintf(list + used, sizeof(list) - used, "]");
    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "LoadBalancerId", ids->lb);
    prov_kvs_add(&k, "BackendServers", list);
    const struct prov_api_call call = prov_rpc(PROV_API_SLB, "AddBackendServers", &k);
    if (prov_run_write(run, &call, "clb backends", detail, NULL, NULL) != PROV_RUN_OK) {
        return prov_run_fail(run, "clb backends", "%s", run->err);
    }
    return 0;
}

int prov_apply_clb(struct prov_run *run, struct path_ids *ids)
{
    static struct prov_clb_attribute attr; /* large; the CLI is single-threaded */
    const struct prov_clb_attribute *have = NULL;
    size_t i;

    if (clb_find(run, ids) != 0) {
        return -1;
    }
    if (ids->lb[0] == '\0') {
        int rc = clb_create(run, ids);
        if (rc != 0) {
            return rc;
        }
    }
    if (prov_run_wait(run, "clb", "the CLB to be active", run->cfg->wait_timeout_s,
                      clb_active_probe, ids->lb) != 0) {
        return -1;
    }
    if (!run->dry_run || strcmp(ids->lb, "<LoadBalancerId>") != 0) {
        if (prov_clb_describe_attribute(run->c, run->cfg->region, ids->lb, &attr, run->err,
                                        sizeof(run->err)) != 0) {
            return prov_run_fail(run, "clb", "%s", run->err);
        }
        have = &attr;
        if (ids->lb_zone[0] == '\0') {
            snprintf(ids->lb_zone, sizeof(ids->lb_zone), "%s", attr.lb.master_zone_id);
        }
    }
    for (i = 0; i < run->cfg->listener_port_count; i++) {
        if (clb_listener(run, ids, have, run->cfg->listener_ports[i]) != 0) {
            return -1;
        }
    }
    return clb_backends(run, ids, have);
}

/* ---- NLB --------------------------------------------------------------------------------- */

static int nlb_active_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    struct kvs k = {0};
    int rc;

    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "LoadBalancerId", ctx);
    const struct prov_api_call call = prov_rpc(PROV_API_NLB, "GetLoadBalancerAttribute", &k);
    rc = prov_read_field(run->c, &call, "LoadBalancerStatus", status, size, run->err,
                         sizeof(run->err));
    return rc < 0 ? -1 : rc == 0 && strcmp(status, "Active") == 0;
}

static int nlb_listener_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    struct kvs k = {0};
    int rc;

    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "ListenerId", ctx);
    const struct prov_api_call call = prov_rpc(PROV_API_NLB, "GetListenerAttribute", &k);
    rc = prov_read_field(run->c, &call, "ListenerStatus", status, size, run->err, sizeof(run->err));
    return rc < 0 ? -1 : rc == 0 && strcmp(status, "Running") == 0;
}

/* A create with a saved token; *id from id_field (id_alt when the API spells it otherwise). */
static int nlb_create(struct prov_run *run, const char *key, const char *hop, struct kvs *k,
                      const char *action, const char *detail, const char *id_field,
                      const char *id_alt, char *id, size_t id_size)
{
    char token[PROV_STATE_TOKEN_BYTES], job[PROV_NLB_ID_BYTES], what[256];
    json_t *json = NULL;

    if (prov_run_token(run, key, token) != 0) {
        return -1;
    }
    prov_kvs_add(k, "ClientToken", token);
    const struct prov_api_call call = prov_rpc(PROV_API_NLB, action, k);
    if (prov_run_write(run, &call, hop, detail, id_field, &json) != PROV_RUN_OK) {
        return prov_create_failed(run, key, hop);
    }
    snprintf(id, id_size, "%s", prov_run_id(json, id_field));
    if (id[0] == '\0' && id_alt != NULL) {
        snprintf(id, id_size, "%s", prov_run_id(json, id_alt));
    }
    snprintf(job, sizeof(job), "%s", prov_run_id(json, "JobId"));
    json_decref(json);
    if (run->dry_run) {
        snprintf(id, id_size, "<%s>", id_field);
        return 0;
    }
    if (id[0] == '\0') {
        return prov_run_fail(run, hop, "%s answered without a %s", action, id_field);
    }
    if (prov_state_created(run->st, key, id, run->err, sizeof(run->err)) != 0) {
        return prov_run_fail(run, "state", "%s", run->err);
    }
    snprintf(what, sizeof(what), "%s job %s", action, job);
    return job[0] != '\0' ? prov_wait_job(run, hop, what, job) : 0;
}

static int nlb_lb(struct prov_run *run, struct path_ids *ids)
{
    const struct prov_config *cfg = run->cfg;
    struct prov_nlb_lb lbs[4];
    struct kvs k = {0};
    char detail[300];
    size_t n = 0, i;

    if (prov_nlb_list_load_balancers(run->c, cfg->region, cfg->name, lbs, 4, &n, run->err,
                                     sizeof(run->err)) < 0) {
        return prov_run_fail(run, "nlb", "%s", run->err);
    }
    if (n > 1) {
        return prov_run_fail(run, "nlb", "%zu NLBs are named \"%s\": rename or delete the extra", n,
                             cfg->name);
    }
    if (n == 1) {
        snprintf(ids->lb, sizeof(ids->lb), "%s", lbs[0].id);
        if (prov_note_id(run, "lb", ids->lb) != 0) {
            return -1;
        }
    } else {
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "LoadBalancerType", "Network");
        prov_kvs_add(&k, "AddressType", "Intranet");
        prov_kvs_add(&k, "AddressIpVersion", "ipv4");
        prov_kvs_add(&k, "VpcId", cfg->vpc_id);
        for (i = 0; i < cfg->zone_count; i++) {
            char name[KVS_NAME_BYTES];
            snprintf(name, sizeof(name), "ZoneMappings.%zu.ZoneId", i + 1);
            prov_kvs_add(&k, name, cfg->zones[i].zone_id);
            snprintf(name, sizeof(name), "ZoneMappings.%zu.VSwitchId", i + 1);
            prov_kvs_add(&k, name, cfg->zones[i].vswitch_id);
        }
        prov_kvs_add(&k, "LoadBalancerName", cfg->name);
        prov_kvs_add(&k, "LoadBalancerBillingConfig.PayType", "PostPay");
        snprintf(detail, sizeof(detail), "internal NLB %.100s in %.100s, %zu zones", cfg->name,
                 cfg->vpc_id, cfg->zone_count);
        int rc = nlb_create(run, "lb", "nlb", &k, "CreateLoadBalancer", detail, "LoadbalancerId",
                            "LoadBalancerId", ids->lb, sizeof(ids->lb));
        if (rc != 0) {
            return rc;
        }
    }
    return prov_run_wait(run, "nlb", "the NLB to be Active", cfg->wait_timeout_s, nlb_active_probe,
                         ids->lb);
}

static int nlb_server_group(struct prov_run *run, struct path_ids *ids)
{
    const struct prov_config *cfg = run->cfg;
    struct prov_nlb_server_group sgs[4];
    struct kvs k = {0};
    char detail[160];
    size_t n = 0;

    if (prov_nlb_list_server_groups(run->c, cfg->region, cfg->name, sgs, 4, &n, run->err,
                                    sizeof(run->err)) < 0) {
        return prov_run_fail(run, "nlb server group", "%s", run->err);
    }
    if (n > 1) {
        return prov_run_fail(run, "nlb server group", "%zu server groups are named \"%s\"", n,
                             cfg->name);
    }
    if (n == 1) {
        snprintf(ids->sg, sizeof(ids->sg), "%s", sgs[0].id);
        return prov_note_id(run, "server_group", ids->sg);
    }
    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "ServerGroupName", cfg->name);
    prov_kvs_add(&k, "ServerGroupType", "Ip");
    prov_kvs_add(&k, "VpcId", cfg->vpc_id);
    prov_kvs_add(&k, "Protocol", "TCP");
    prov_kvs_add(&k, "Scheduler", "Wrr");
    prov_kvs_add(&k, "HealthCheckConfig.HealthCheckEnabled", "true");
    prov_kvs_add(&k, "HealthCheckConfig.HealthCheckType", "TCP");
    snprintf(detail, sizeof(detail), "IP server group %s, TCP", cfg->name);
    return nlb_create(run, "server_group", "nlb server group", &k, "CreateServerGroup", detail,
                      "ServerGroupId", NULL, ids->sg, sizeof(ids->sg));
}

void prov_kvs_nlb_server(struct kvs *k, const struct prov_run *run, const char *sg,
                         const struct prov_nlb_server *sv)
{
    memset(k, 0, sizeof(*k));
    prov_kvs_region(k, run);
    prov_kvs_add(k, "ServerGroupId", sg);
    prov_kvs_add(k, "Servers.1.ServerId", sv->server_id);
    prov_kvs_add(k, "Servers.1.ServerType", sv->type[0] != '\0' ? sv->type : "Ip");
    prov_kvs_add(k, "Servers.1.ServerIp", sv->server_ip);
    prov_kvs_addf(k, "Servers.1.Port", "%u", (unsigned)sv->port);
}

static int is_target(const struct prov_config *cfg, const struct prov_nlb_server *sv)
{
    return strcmp(sv->server_id, cfg->target_ip) == 0 && sv->port == cfg->target_port;
}

/* Reads the group's servers into have[64]; *found = 1 when the target is one of them. */
static int list_servers(struct prov_run *run, const char *sg, struct prov_nlb_server *have,
                        size_t *n, int *found)
{
    size_t i;

    *n = 0;
    *found = 0;
    if (prov_nlb_list_servers(run->c, run->cfg->region, sg, have, 64, n, run->err,
                              sizeof(run->err)) < 0) {
        return prov_run_fail(run, "nlb server", "%s", run->err);
    }
    for (i = 0; i < *n; i++) {
        *found |= is_target(run->cfg, &have[i]);
    }
    return 0;
}

/* The remote ES node in the group; servers that are not it (an old target_ip) are removed. */
static int nlb_servers(struct prov_run *run, struct path_ids *ids)
{
    const struct prov_config *cfg = run->cfg;
    static struct prov_nlb_server have[64];
    static struct prov_nlb_server after[64];
    char detail[160], sid[PROV_NLB_ID_BYTES], job[PROV_NLB_ID_BYTES];
    size_t n = 0, i, n_after = 0;
    int found = 0;

    if ((!run->dry_run || ids->sg[0] != '<') && list_servers(run, ids->sg, have, &n, &found) != 0) {
        return -1;
    }
    if (found && prov_drop_token(run, "server") != 0) {
        return -1;
    }
    if (!found) {
        struct kvs k = {0};
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "ServerGroupId", ids->sg);
        prov_kvs_add(&k, "Servers.1.ServerId", cfg->target_ip);
        prov_kvs_add(&k, "Servers.1.ServerType", "Ip");
        prov_kvs_add(&k, "Servers.1.ServerIp", cfg->target_ip);
        prov_kvs_addf(&k, "Servers.1.Port", "%u", (unsigned)cfg->target_port);
        prov_kvs_add(&k, "Servers.1.Weight", "100");
        snprintf(detail, sizeof(detail), "IP %s port %u", cfg->target_ip,
                 (unsigned)cfg->target_port);
        int rc = nlb_create(run, "server", "nlb server", &k, "AddServersToServerGroup", detail,
                            "ServerGroupId", NULL, sid, sizeof(sid));
        if (rc != 0) {
            return rc;
        }
        /* An answer is no proof: one replayed for an old ClientToken changes nothing. */
        if (!run->dry_run && list_servers(run, ids->sg, after, &n_after, &found) != 0) {
            return -1;
        }
        if (!run->dry_run && !found) {
            return prov_run_fail(run, "nlb server",
                                 "AddServersToServerGroup answered, but %s port %u is not in "
                                 "server group %s when read back (an answer replayed for an old "
                                 "ClientToken?); the token is dropped: run apply again",
                                 cfg->target_ip, (unsigned)cfg->target_port, ids->sg);
        }
    }
    for (i = 0; i < n; i++) {
        struct kvs k;
        json_t *json = NULL;
        if (is_target(cfg, &have[i])) {
            continue;
        }
        prov_kvs_nlb_server(&k, run, ids->sg, &have[i]);
        snprintf(detail, sizeof(detail), "stale server %.128s port %u", have[i].server_id,
                 (unsigned)have[i].port);
        const struct prov_api_call call =
            prov_rpc(PROV_API_NLB, "RemoveServersFromServerGroup", &k);
        if (prov_run_write(run, &call, "nlb server", detail, NULL, &json) != PROV_RUN_OK) {
            return prov_run_fail(run, "nlb server", "%s", run->err);
        }
        snprintf(job, sizeof(job), "%s", prov_run_id(json, "JobId"));
        json_decref(json);
        if (job[0] != '\0' && prov_wait_job(run, "nlb server", "the server removal", job) != 0) {
            return -1;
        }
    }
    return 0;
}

static int nlb_listener(struct prov_run *run, struct path_ids *ids)
{
    const struct prov_config *cfg = run->cfg;
    struct prov_nlb_listener ls[16];
    struct kvs k = {0};
    char detail[160];
    size_t n = 0, i;

    if (!run->dry_run || ids->lb[0] != '<') {
        if (prov_nlb_list_listeners(run->c, cfg->region, ids->lb, ls, 16, &n, run->err,
                                    sizeof(run->err)) < 0) {
            return prov_run_fail(run, "nlb listener", "%s", run->err);
        }
    }
    for (i = 0; i < n; i++) {
        if (ls[i].port != cfg->nlb_listener_port) {
            continue;
        }
        if (strcmp(ls[i].server_group_id, ids->sg) != 0) {
            return prov_run_fail(run, "nlb listener",
                                 "listener %s on port %u forwards to %s, not to server group %s; "
                                 "delete it or change [nlb] listener_port",
                                 ls[i].id, (unsigned)ls[i].port, ls[i].server_group_id, ids->sg);
        }
        snprintf(ids->listener, sizeof(ids->listener), "%s", ls[i].id);
        if (prov_note_id(run, "listener", ids->listener) != 0) {
            return -1;
        }
        break;
    }
    if (ids->listener[0] == '\0') {
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "LoadBalancerId", ids->lb);
        prov_kvs_add(&k, "ListenerProtocol", "TCP");
        prov_kvs_addf(&k, "ListenerPort", "%u", (unsigned)cfg->nlb_listener_port);
        prov_kvs_add(&k, "ServerGroupId", ids->sg);
        prov_kvs_add(&k, "ListenerDescription", cfg->description);
        snprintf(detail, sizeof(detail), "TCP %u -> server group %s",
                 (unsigned)cfg->nlb_listener_port, ids->sg);
        int rc = nlb_create(run, "listener", "nlb listener", &k, "CreateListener", detail,
                            "ListenerId", NULL, ids->listener, sizeof(ids->listener));
        if (rc != 0) {
            return rc;
        }
    }
    return prov_run_wait(run, "nlb listener", "the NLB listener to be Running", cfg->wait_timeout_s,
                         nlb_listener_probe, ids->listener);
}

int prov_apply_nlb(struct prov_run *run, struct path_ids *ids)
{
    static const prov_hop_fn hops[] = {nlb_lb, nlb_server_group, nlb_servers, nlb_listener};
    size_t i;

    for (i = 0; i < sizeof(hops) / sizeof(hops[0]); i++) {
        if (prov_run_hop(run, hops[i], ids) != 0) {
            return -1;
        }
    }
    return 0;
}
