/*
 * plan — diff of the configured path against the actual one (include/plprov/plan.h).
 *
 * Each topology is a straight list of "if this hop is missing, add its step(s)", in apply order;
 * steps for children of a missing parent are added without looking, because the parent's absence
 * implies theirs. Text is built with snprintf into fixed step buffers; nothing is allocated until
 * rendering.
 */
#include "plprov/plan.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void step(struct prov_plan *p, enum prov_api_product product, const char *action,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void step(struct prov_plan *p, enum prov_api_product product, const char *action,
                 const char *fmt, ...)
{
    struct prov_plan_step *s;
    va_list ap;

    if (p->count >= PROV_PLAN_MAX_STEPS) {
        p->truncated = 1;
        return;
    }
    s = &p->steps[p->count++];
    s->product = product;
    s->action = action;
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
    va_end(ap);
}

static void plan_clb(const struct prov_config *cfg, const struct prov_actual *a,
                     struct prov_plan *p)
{
    size_t i, j;

    if (!a->lb_found) {
        step(p, PROV_API_SLB, "CreateLoadBalancer",
             "intranet CLB %s, spec %s, vSwitch %s, VPC %s%s%s", cfg->name, cfg->clb_spec,
             cfg->clb_vswitch_id, cfg->vpc_id, cfg->clb_address[0] != '\0' ? ", address " : "",
             cfg->clb_address);
    }
    for (i = 0; i < cfg->listener_port_count; i++) {
        const struct prov_clb_listener *l = NULL;
        for (j = 0; a->lb_found && j < a->clb.listener_count; j++) {
            if (a->clb.listeners[j].port == cfg->listener_ports[i]) {
                l = &a->clb.listeners[j];
            }
        }
        if (l != NULL && l->status[0] != '\0' && strcmp(l->status, "running") != 0 &&
            strcmp(l->status, "starting") != 0) {
            step(p, PROV_API_SLB, "StartLoadBalancerListener", "listener %u (%s)",
                 (unsigned)l->port, l->status);
        }
        if (l == NULL) {
            step(p, PROV_API_SLB, "CreateLoadBalancerTCPListener",
                 "TCP listener %u -> backend port %u, health check tcp",
                 (unsigned)cfg->listener_ports[i], (unsigned)cfg->listener_ports[i]);
            step(p, PROV_API_SLB, "StartLoadBalancerListener", "listener %u",
                 (unsigned)cfg->listener_ports[i]);
        }
    }
    for (i = 0; i < cfg->ecs_instance_count; i++) {
        int found = 0;
        for (j = 0; a->lb_found && j < a->clb.backend_count; j++) {
            found |= strcmp(a->clb.backends[j].server_id, cfg->ecs_instances[i]) == 0;
        }
        if (!found) {
            step(p, PROV_API_SLB, "AddBackendServers", "ECS %s, weight 100", cfg->ecs_instances[i]);
        }
    }
}

static void plan_nlb(const struct prov_config *cfg, const struct prov_actual *a,
                     struct prov_plan *p)
{
    char zones[PROV_PLAN_DETAIL_BYTES] = "";
    size_t i, used = 0;
    int target = 0;

    for (i = 0; i < cfg->zone_count && used < sizeof(zones); i++) {
        int n = snprintf(zones + used, sizeof(zones) - used, "%s%s:%s", i > 0 ? ", " : "",
                         cfg->zones[i].zone_id, cfg->zones[i].vswitch_id);
        used += n > 0 ? (size_t)n : 0;
    }
    if (!a->lb_found) {
        step(p, PROV_API_NLB, "CreateLoadBalancer", "internal NLB %s in VPC %s, zones %s",
             cfg->name, cfg->vpc_id, zones);
    }
    if (!a->sg_found) {
        step(p, PROV_API_NLB, "CreateServerGroup", "IP server group %s, TCP, VPC %s", cfg->name,
             cfg->vpc_id);
    }
    for (i = 0; i < a->server_count; i++) {
        target |= strcmp(a->servers[i].server_id, cfg->target_ip) == 0 &&
                  a->servers[i].port == cfg->target_port;
    }
    /* servers[] is read when the group exists; a hand-built state may carry only the count */
    if (!a->sg_found || (a->server_count > 0 ? !target : a->sg.server_count == 0)) {
        step(p, PROV_API_NLB, "AddServersToServerGroup", "IP %s port %u", cfg->target_ip,
             (unsigned)cfg->target_port);
    }
    for (i = 0; i < a->server_count; i++) { /* apply removes them after adding the target */
        const struct prov_nlb_server *sv = &a->servers[i];
        if (strcmp(sv->server_id, cfg->target_ip) != 0 || sv->port != cfg->target_port) {
            step(p, PROV_API_NLB, "RemoveServersFromServerGroup",
                 "stale server %s port %u (not the configured target)", sv->server_id,
                 (unsigned)sv->port);
        }
    }
    if (!a->lb_found || !a->listener_found) {
        step(p, PROV_API_NLB, "CreateListener", "TCP %u -> server group %s",
             (unsigned)cfg->nlb_listener_port, cfg->name);
    }
}

static void plan_common(const struct prov_config *cfg, const struct prov_actual *a,
                        struct prov_plan *p)
{
    const char *cs = prov_inspect_connection_status(a);
    const char *zone = cfg->es_zone_id[0] != '\0' ? cfg->es_zone_id
                       : cfg->zone_count > 0      ? cfg->zones[0].zone_id
                                                  : "the LB's zone";
    char want[512];

    if (!a->service_found) {
        step(p, PROV_API_PRIVATELINK, "CreateVpcEndpointService",
             "service on %s %s, auto-accept %s",
             cfg->topology == PROV_TOPOLOGY_NLB_IP ? "NLB" : "CLB", cfg->name,
             cfg->auto_accept ? "on" : "off");
    }
    if (!a->endpoint_found) {
        step(p, PROV_API_ELASTICSEARCH, "CreateVpcEndpoint",
             "private connection from %s in zone %s", cfg->es_instance_id, zone);
    }
    if (!a->endpoint_found || strcmp(cs, "Connected") != 0) {
        if (!cfg->auto_accept &&
            (!a->endpoint_found || strcmp(cs, "Pending") == 0 || strcmp(cs, "Disconnected") == 0)) {
            step(p, PROV_API_PRIVATELINK, "EnableVpcEndpointConnection",
                 "accept the connection of %s",
                 a->endpoint_found ? a->endpoint.id : "the new endpoint");
        }
    }
    if (cfg->topology != PROV_TOPOLOGY_NLB_IP) {
        return;
    }
    snprintf(want, sizeof(want), "%s:%u",
             a->endpoint_found ? a->endpoint.domain : "<endpoint-domain>",
             (unsigned)cfg->nlb_listener_port);
    if (!a->endpoint_found || !prov_es_whitelist_has(a->es.reindex_whitelist, want)) {
        step(p, PROV_API_ELASTICSEARCH, "UpdateInstanceSettings",
             "reindex.remote.whitelist = %s (rolling restart)", want);
    }
}

void prov_plan_build(const struct prov_config *cfg, const struct prov_actual *a,
                     struct prov_plan *out)
{
    memset(out, 0, sizeof(*out));
    if (cfg->topology == PROV_TOPOLOGY_CLB_ECS) {
        plan_clb(cfg, a, out);
    } else {
        plan_nlb(cfg, a, out);
    }
    plan_common(cfg, a, out);
}

int prov_plan_render(const struct prov_plan *p, int json, char **out)
{
    json_t *doc = NULL, *steps = NULL;
    size_t i, cap, len = 0;
    char *buf;
    int n;

    *out = NULL;
    if (json) {
        steps = json_array();
        for (i = 0; steps != NULL && i < p->count; i++) {
            if (json_array_append_new(steps, json_pack("{s:s, s:s, s:s}", "product",
                                                       prov_api_product_name(p->steps[i].product),
                                                       "action", p->steps[i].action, "detail",
                                                       p->steps[i].detail)) != 0) {
                json_decref(steps);
                return -1;
            }
        }
        doc = steps != NULL ? json_pack("{s:b, s:b, s:o}", "in_sync", p->count == 0, "truncated",
                                        p->truncated, "steps", steps)
                            : NULL;
        *out = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
        json_decref(doc);
        return *out != NULL ? 0 : -1;
    }
    cap = 64 + p->count * (PROV_PLAN_DETAIL_BYTES + 96);
    buf = malloc(cap);
    if (buf == NULL) {
        return -1;
    }
    buf[0] = '\0';
    if (p->count == 0) {
        n = snprintf(buf, cap, "in sync: apply would make no call\n");
        len = n > 0 ? (size_t)n : 0;
    }
    for (i = 0; i < p->count; i++) {
        n = snprintf(buf + len, cap - len, "%2zu. %-12s %-30s %s\n", i + 1,
                     prov_api_product_name(p->steps[i].product), p->steps[i].action,
                     p->steps[i].detail);
        len += n > 0 ? (size_t)n : 0;
    }
    if (p->truncated) {
        snprintf(buf + len, cap - len, "    ... more steps\n");
    }
    *out = buf;
    return 0;
}
