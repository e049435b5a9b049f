/*
 * inspect — walks the private path hop by hop (include/plprov/inspect.h) and renders `status`.
 *
 * The walk follows the dependency order of apply: load balancer → (NLB server group, listener) →
 * endpoint service → its connections → the ES instance and its endpoint to that service. Hops are
 * first collected as JSON objects so the table and --json show the same rows.
 */
#include "plprov/inspect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void note_error(struct prov_actual *a, const char *err)
{
    if (a->error_count < PROV_INSPECT_MAX_ERRORS) {
        snprintf(a->errors[a->error_count++], sizeof(a->errors[0]), "%s", err);
    }
}

static int read_clb(struct prov_apiclient *c, const struct prov_config *cfg, struct prov_actual *a,
                    const char **lb_id)
{
    struct prov_clb_lb lbs[4];
    size_t n = 0, i, j;
    char err[PROV_API_ERROR_BYTES];
    int rc;

    rc = prov_clb_describe_load_balancers(c, cfg->region, cfg->name, lbs, 4, &n, err, sizeof(err));
    if (rc < 0) {
        note_error(a, err);
        return -1;
    }
    if (rc == 1 || n == 0) {
        return 0;
    }
    a->lb_ambiguous = n > 1;
    rc = prov_clb_describe_attribute(c, cfg->region, lbs[0].id, &a->clb, err, sizeof(err));
    if (rc < 0) {
        note_error(a, err);
        return -1;
    }
    if (rc == 0) {
        a->lb_found = 1;
        if (a->clb.lb.id[0] == '\0') {
            a->clb.lb = lbs[0];
        }
        *lb_id = a->clb.lb.id;
        for (i = 0; i < a->clb.listener_count; i++) {
            struct prov_clb_listener *l = &a->clb.listeners[i];
            for (j = 0; j < cfg->listener_port_count; j++) {
                if (cfg->listener_ports[j] == l->port &&
                    prov_clb_listener_status(c, cfg->region, a->clb.lb.id, l->port, l->status,
                                             sizeof(l->status), err, sizeof(err)) < 0) {
                    note_error(a, err);
                    return -1;
                }
            }
        }
        if (a->clb.listener_count > 0 &&
            prov_clb_describe_health(c, cfg->region, a->clb.lb.id, 0, a->health,
                                     PROV_CLB_MAX_HEALTH, &a->health_count, err, sizeof(err)) < 0) {
            note_error(a, err);
            return -1;
        }
    }
    return 0;
}

static int read_nlb(struct prov_apiclient *c, const struct prov_config *cfg, struct prov_actual *a,
                    const char **lb_id)
{
    struct prov_nlb_lb lbs[4];
    struct prov_nlb_server_group groups[4];
    struct prov_nlb_listener listeners[16];
    size_t n = 0, i;
    char err[PROV_API_ERROR_BYTES];
    int rc, failed = 0;

    rc = prov_nlb_list_server_groups(c, cfg->region, cfg->name, groups, 4, &n, err, sizeof(err));
    if (rc < 0) {
        note_error(a, err);
        failed = 1;
    } else if (rc == 0 && n > 0) {
        a->sg_found = 1;
        a->sg = groups[0];
        if (prov_nlb_list_servers(c, cfg->region, a->sg.id, a->servers, PROV_INSPECT_MAX_SERVERS,
                                  &a->server_count, err, sizeof(err)) < 0) {
            note_error(a, err);
            failed = 1;
        }
    }
    rc = prov_nlb_list_load_balancers(c, cfg->region, cfg->name, lbs, 4, &n, err, sizeof(err));
    if (rc < 0) {
        note_error(a, err);
        return -1;
    }
    if (rc == 1 || n == 0) {
        return failed ? -1 : 0;
    }
    a->lb_found = 1;
    a->lb_ambiguous = n > 1;
    a->nlb = lbs[0];
    *lb_id = a->nlb.id;
    rc = prov_nlb_list_listeners(c, cfg->region, a->nlb.id, listeners, 16, &n, err, sizeof(err));
    if (rc < 0) {
        note_error(a, err);
        return -1;
    }
    for (i = 0; rc == 0 && i < n; i++) {
        if (listeners[i].port == cfg->nlb_listener_port) {
            a->listener_found = 1;
            a->listener = listeners[i];
        }
    }
    return failed ? -1 : 0;
}

static int read_service(struct prov_apiclient *c, const struct prov_config *cfg,
                        struct prov_actual *a, const char *lb_id)
{
    struct prov_pl_service services[4];
    size_t n = 0;
    char err[PROV_API_ERROR_BYTES];
    int rc;

    rc = prov_pl_list_services(c, cfg->region, lb_id, services, 4, &n, err, sizeof(err));
    if (rc < 0) {
        note_error(a, err);
        return -1;
    }
    if (rc == 1 || n == 0) {
        return 0;
    }
    a->service_found = 1;
    a->service = services[0];
    rc = prov_pl_list_connections(c, cfg->region, a->service.id, a->connections,
                                  PROV_INSPECT_MAX_CONNECTIONS, &a->connection_count, err,
                                  sizeof(err));
    if (rc < 0) {
        note_error(a, err);
        return -1;
    }
    return 0;
}

static int read_es(struct prov_apiclient *c, const struct prov_config *cfg, struct prov_actual *a)
{
    struct prov_es_endpoint eps[16];
    size_t n = 0, i;
    char err[PROV_API_ERROR_BYTES];
    int rc;

    rc = prov_es_describe_instance(c, cfg->es_instance_id, &a->es, err, sizeof(err));
    if (rc != 0) {
        note_error(a, err); /* a missing ES instance is an error: nothing creates it */
        return -1;
    }
    a->es_found = 1;
    if (!a->service_found) {
        return 0;
    }
    rc = prov_es_list_vpc_endpoints(c, cfg->es_instance_id, eps, 16, &n, err, sizeof(err));
    if (rc < 0) {
        note_error(a, err);
        return -1;
    }
    for (i = 0; rc == 0 && i < n; i++) {
        if (strcmp(eps[i].service_id, a->service.id) == 0) {
            a->endpoint_found = 1;
            a->endpoint = eps[i];
            break;
        }
    }
    return 0;
}

int prov_inspect_read(struct prov_apiclient *c, const struct prov_config *cfg,
                      struct prov_actual *out)
{
    const char *lb_id = NULL;

    memset(out, 0, sizeof(*out));
    if (cfg->topology == PROV_TOPOLOGY_CLB_ECS) {
        out->lb_error = read_clb(c, cfg, out, &lb_id) != 0;
    } else {
        out->lb_error = read_nlb(c, cfg, out, &lb_id) != 0;
    }
    out->service_error = out->lb_error;
    if (lb_id != NULL) {
        out->service_error = read_service(c, cfg, out, lb_id) != 0;
    }
    out->es_error = read_es(c, cfg, out) != 0;
    return out->lb_error || out->service_error || out->es_error ? -1 : 0;
}

/* State text of a hop that was not found: "not found", or "unknown" when its read failed. */
static const char *absent(int read_failed)
{
    return read_failed ? "unknown" : "not found";
}

const char *prov_inspect_connection_status(const struct prov_actual *a)
{
    size_t i;

    if (!a->endpoint_found) {
        return "";
    }
    for (i = 0; i < a->connection_count; i++) {
        if (strcmp(a->connections[i].endpoint_id, a->endpoint.id) == 0) {
            return a->connections[i].status;
        }
    }
    return a->endpoint.connection_status;
}

/* ---- rendering ------------------------------------------------------------------------------ */

static int add_hop(json_t *hops, const char *hop, const char *id, const char *state, int ok,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int add_hop(json_t *hops, const char *hop, const char *id, const char *state, int ok,
                   const char *fmt, ...)
{
    char detail[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return json_array_append_new(hops, json_pack("{s:s, s:s, s:s, s:b, s:s}", "hop", hop, "id",
                                                 id[0] != '\0' ? id : "-", "state", state, "ok", ok,
                                                 "detail", detail));
}

static int clb_hops(const struct prov_config *cfg, const struct prov_actual *a, json_t *hops)
{
    char hop[64];
    size_t i, j;
    int rc = 0;

    if (!a->lb_found) {
        return add_hop(hops, "clb", "", absent(a->lb_error), 0, "name %s", cfg->name);
    }
    rc |= add_hop(hops, "clb", a->clb.lb.id, a->clb.lb.status,
                  strcmp(a->clb.lb.status, "active") == 0, "name %s, address %s, %s%s", cfg->name,
                  a->clb.lb.address, a->clb.lb.address_type,
                  a->lb_ambiguous ? ", SEVERAL with this name" : "");
    for (i = 0; i < cfg->listener_port_count; i++) {
        const struct prov_clb_listener *l = NULL;
        for (j = 0; j < a->clb.listener_count; j++) {
            if (a->clb.listeners[j].port == cfg->listener_ports[i]) {
                l = &a->clb.listeners[j];
            }
        }
        snprintf(hop, sizeof(hop), "listener %u", (unsigned)cfg->listener_ports[i]);
        rc |= add_hop(hops, hop, "",
                      l == NULL              ? "not found"
                      : l->status[0] != '\0' ? l->status
                                             : "present",
                      l != NULL && (l->status[0] == '\0' || strcmp(l->status, "running") == 0),
                      "tcp -> backend %u", (unsigned)cfg->listener_ports[i]);
    }
    for (i = 0; i < cfg->ecs_instance_count; i++) {
        char health[256] = "";
        size_t used = 0;
        int found = 0, sick = 0;
        for (j = 0; j < a->clb.backend_count; j++) {
            found |= strcmp(a->clb.backends[j].server_id, cfg->ecs_instances[i]) == 0;
        }
        for (j = 0; j < a->health_count && used < sizeof(health); j++) {
            const struct prov_clb_health *h = &a->health[j];
            int n;
            if (strcmp(h->server_id, cfg->ecs_instances[i]) != 0) {
                continue;
            }
            sick |= strcasecmp(h->status, "normal") != 0;
            n = snprintf(health + used, sizeof(health) - used, ", %u %s",
                         (unsigned)h->listener_port, h->status);
            used += n > 0 ? (size_t)n : 0;
        }
        rc |= add_hop(hops, "backend", cfg->ecs_instances[i],
                      !found ? "not attached"
                      : sick ? "unhealthy"
                             : "attached",
                      found && !sick, "ecs%s%s", used > 0 ? ", health" : "", health);
    }
    return rc;
}

static int nlb_hops(const struct prov_config *cfg, const struct prov_actual *a, json_t *hops)
{
    size_t i;
    int rc = 0;

    rc |= add_hop(hops, "nlb", a->lb_found ? a->nlb.id : "",
                  a->lb_found ? a->nlb.status : absent(a->lb_error),
                  a->lb_found && strcmp(a->nlb.status, "Active") == 0, "name %s%s%s", cfg->name,
                  a->nlb.dns_name[0] != '\0' ? ", dns " : "", a->nlb.dns_name);
    rc |= add_hop(hops, "server group", a->sg_found ? a->sg.id : "",
                  a->sg_found ? a->sg.status : absent(a->lb_error),
                  a->sg_found && strcmp(a->sg.status, "Available") == 0 && a->sg.server_count != 0,
                  "%s %s:%u, servers %ld", a->sg_found ? a->sg.type : "Ip", cfg->target_ip,
                  (unsigned)cfg->target_port, a->sg_found ? a->sg.server_count : 0L);
    for (i = 0; i < a->server_count; i++) {
        const struct prov_nlb_server *sv = &a->servers[i];
        char id[PROV_NLB_ID_BYTES + 8];
        int target = strcmp(sv->server_id, cfg->target_ip) == 0 && sv->port == cfg->target_port;
        snprintf(id, sizeof(id), "%.*s:%u", PROV_NLB_ID_BYTES - 1, sv->server_id,
                 (unsigned)sv->port);
        rc |= add_hop(hops, "server", id, sv->status,
                      target && strcmp(sv->status, "Available") == 0, "%s%s", sv->type,
                      target ? "" : ", not the configured target (apply removes it)");
    }
    rc |= add_hop(hops, "listener", a->listener_found ? a->listener.id : "",
                  a->listener_found ? a->listener.status : absent(a->lb_error),
                  a->listener_found && strcmp(a->listener.status, "Running") == 0, "TCP %u",
                  (unsigned)cfg->nlb_listener_port);
    return rc;
}

static int common_hops(const struct prov_config *cfg, const struct prov_actual *a, json_t *hops)
{
    const char *cs = prov_inspect_connection_status(a);
    char want[512];
    size_t i;
    int rc = 0;

    rc |= add_hop(hops, "endpoint service", a->service_found ? a->service.id : "",
                  a->service_found ? a->service.status : absent(a->service_error),
                  a->service_found && strcmp(a->service.status, "Active") == 0,
                  "%s%sauto-accept %s", a->service.domain, a->service_found ? ", " : "",
                  a->service.auto_accept ? "on" : "off");
    for (i = 0; i < a->connection_count; i++) {
        rc |= add_hop(hops, "connection", a->connections[i].endpoint_id, a->connections[i].status,
                      strcmp(a->connections[i].status, "Connected") == 0, "owner %s",
                      a->connections[i].owner_id);
    }
    rc |= add_hop(hops, "es instance", cfg->es_instance_id, a->es_found ? a->es.status : "unknown",
                  a->es_found && strcmp(a->es.status, "active") == 0, "%s %s:%ld",
                  a->es_found ? a->es.version : "-", a->es.protocol, a->es.port);
    rc |= add_hop(hops, "es endpoint", a->endpoint_found ? a->endpoint.id : "",
                  a->endpoint_found ? cs : absent(a->es_error || a->service_error),
                  a->endpoint_found && strcmp(cs, "Connected") == 0, "domain %s",
                  a->endpoint_found ? a->endpoint.domain : "-");
    if (cfg->topology == PROV_TOPOLOGY_NLB_IP) {
        snprintf(want, sizeof(want), "%s:%u", a->endpoint_found ? a->endpoint.domain : "?",
                 (unsigned)cfg->nlb_listener_port);
        int set = a->endpoint_found && prov_es_whitelist_has(a->es.reindex_whitelist, want);
        rc |= add_hop(hops, "es whitelist", "", set ? "set" : "not set", set,
                      "reindex.remote.whitelist = %s",
                      a->es.reindex_whitelist[0] != '\0' ? a->es.reindex_whitelist : "(empty)");
    }
    return rc;
}

/* Appends line to the growing buf (len/cap updated); -1 (buf freed) when out of memory. */
static int append(char **buf, size_t *len, size_t *cap, const char *line)
{
    size_t need = strlen(line);

    if (*len + need + 1 > *cap) {
        char *g = realloc(*buf, *cap * 2 + need);
        if (g == NULL) {
            free(*buf);
            *buf = NULL;
            return -1;
        }
        *buf = g;
        *cap = *cap * 2 + need;
    }
    memcpy(*buf + *len, line, need + 1);
    *len += need;
    return 0;
}

static char *render_table(const json_t *doc)
{
    const json_t *hop;
    size_t i, cap = 8192, len = 0;
    char *buf = malloc(cap), line[1024];
    int n;

    if (buf == NULL) {
        return NULL;
    }
    n = snprintf(buf, cap, "%-18s %-28s %-14s %-3s %s\n", "HOP", "ID", "STATE", "OK", "DETAIL");
    len = n > 0 ? (size_t)n : 0;
    json_array_foreach(json_object_get(doc, "hops"), i, hop)
    {
        snprintf(line, sizeof(line), "%-18s %-28s %-14s %-3s %s\n",
                 json_string_value(json_object_get(hop, "hop")),
                 json_string_value(json_object_get(hop, "id")),
                 json_string_value(json_object_get(hop, "state")),
                 json_is_true(json_object_get(hop, "ok")) ? "yes" : "NO",
                 json_string_value(json_object_get(hop, "detail")));
        if (append(&buf, &len, &cap, line) != 0) {
            return NULL;
        }
    }
    json_array_foreach(json_object_get(doc, "errors"), i, hop)
    {
        snprintf(line, sizeof(line), "error: %s\n", json_string_value(hop));
        if (append(&buf, &len, &cap, line) != 0) {
            return NULL;
        }
    }
    return buf;
}

int prov_inspect_render(const struct prov_config *cfg, const struct prov_actual *a, int json,
                        char **out, int *healthy)
{
    json_t *doc = NULL, *hops = json_array(), *errors = json_array(), *hop;
    size_t i;
    int ok = 1, rc = -1;

    *out = NULL;
    if (hops == NULL || errors == NULL) {
        goto cleanup;
    }
    if ((cfg->topology == PROV_TOPOLOGY_CLB_ECS ? clb_hops(cfg, a, hops)
                                                : nlb_hops(cfg, a, hops)) != 0 ||
        common_hops(cfg, a, hops) != 0) {
        goto cleanup;
    }
    for (i = 0; i < a->error_count; i++) {
        if (json_array_append_new(errors, json_string(a->errors[i])) != 0) {
            goto cleanup;
        }
    }
    json_array_foreach(hops, i, hop)
    {
        ok &= json_is_true(json_object_get(hop, "ok"));
    }
    ok &= a->error_count == 0;
    doc =
        json_pack("{s:s, s:s, s:b, s:O, s:O}", "topology", prov_config_topology_name(cfg->topology),
                  "name", cfg->name, "healthy", ok, "hops", hops, "errors", errors);
    if (doc == NULL) {
        goto cleanup;
    }
    *out = json ? json_dumps(doc, JSON_INDENT(2)) : render_table(doc);
    *healthy = ok;
    rc = *out != NULL ? 0 : -1;
cleanup:
    json_decref(doc);
    json_decref(hops);
    json_decref(errors);
    return rc;
}
