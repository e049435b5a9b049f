/*
 * apply — the hops common to both topologies (endpoint service, ES private connection, accepting
 * it, the reindex whitelist), prov_apply itself, the helpers apply_lb.c and destroy.c share, and
 * the rendering of a run (include/plprov/apply.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "readutil_int.h"

/* ---- helpers ----------------------------------------------------------------------------- */

void prov_kvs_add(struct kvs *k, const char *name, const char *value)
{
    if (value == NULL || value[0] == '\0') {
        return;
    }
    if (k->n >= KVS_MAX || strlen(name) >= KVS_NAME_BYTES || strlen(value) >= KVS_VALUE_BYTES) {
        k->n = KVS_MAX + 1; /* poisoned: prov_kvs_ok fails */
        return;
    }
    memcpy(k->names[k->n], name, strlen(name) + 1);
    memcpy(k->values[k->n], value, strlen(value) + 1);
    k->kv[k->n].name = k->names[k->n];
    k->kv[k->n].value = k->values[k->n];
    k->n++;
}

void prov_kvs_addf(struct kvs *k, const char *name, const char *fmt, ...)
{
    char value[KVS_VALUE_BYTES];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    prov_kvs_add(k, name, value);
}

int prov_kvs_ok(const struct kvs *k)
{
    return k->n <= KVS_MAX;
}

void prov_kvs_region(struct kvs *k, const struct prov_run *run)
{
    prov_kvs_add(k, "RegionId", run->cfg->region);
}

struct prov_api_call prov_rpc(enum prov_api_product p, const char *action, const struct kvs *k)
{
    struct prov_api_call call;

    memset(&call, 0, sizeof(call));
    call.product = p;
    call.action = action;
    call.params = k->kv;
    call.param_count = prov_kvs_ok(k) ? k->n : 0; /* a poisoned list fails the call's checks */
    return call;
}

int prov_run_token(struct prov_run *run, const char *key, char out[PROV_STATE_TOKEN_BYTES])
{
    const char *saved = prov_state_get(run->st, key, "client_token");

    if (run->dry_run) {
        snprintf(out, PROV_STATE_TOKEN_BYTES, "%s",
                 saved != NULL && strlen(saved) < PROV_STATE_TOKEN_BYTES ? saved
                                                                         : "<new ClientToken>");
        return 0;
    }
    if (prov_state_token(run->st, key, out, run->err, sizeof(run->err)) != 0) {
        return prov_run_fail(run, "state", "%s", run->err);
    }
    return 0;
}

int prov_drop_token(struct prov_run *run, const char *key)
{
    if (run->dry_run || prov_state_get(run->st, key, "client_token") == NULL) {
        return 0;
    }
    if (prov_state_set(run->st, key, "client_token", NULL) != 0) {
        return prov_run_fail(run, "state", "cannot drop the saved ClientToken of %s", key);
    }
    if (prov_state_save(run->st, run->err, sizeof(run->err)) != 0) {
        return prov_run_fail(run, "state", "dropping the saved ClientToken of %s: %s", key,
                             run->err);
    }
    return 0;
}

int prov_create_failed(struct prov_run *run, const char *key, const char *hop)
{
    /* run.c keeps only the formatted error; its text carries the server's Code. */
    if (run->dry_run || strstr(run->err, "IdempotentParameterMismatch") == NULL) {
        return prov_run_fail(run, hop, "%s", run->err);
    }
    if (run->progress != NULL) {
        fprintf(run->progress,
                "%s: the saved ClientToken was used for a create with other parameters (the "
                "config changed since); reading the hop again, then creating with a new token\n",
                hop);
    }
    return prov_drop_token(run, key) != 0 ? -1 : PROV_HOP_RETRY;
}

int prov_run_hop(struct prov_run *run, prov_hop_fn fn, struct path_ids *ids)
{
    int rc = fn(run, ids);

    if (rc == PROV_HOP_RETRY) {
        rc = fn(run, ids);
    }
    if (rc == PROV_HOP_RETRY) { /* a fresh token cannot mismatch: the cloud is confused */
        char hop[sizeof(run->hop)];
        memcpy(hop, run->hop, sizeof(hop)); /* prov_run_fail writes run->hop */
        return prov_run_fail(run, hop, "IdempotentParameterMismatch with a new ClientToken");
    }
    return rc;
}

int prov_note_id(struct prov_run *run, const char *key, const char *id)
{
    const char *have = prov_state_get(run->st, key, "id");

    if (run->dry_run || (have != NULL && strcmp(have, id) == 0 &&
                         prov_state_get(run->st, key, "client_token") == NULL)) {
        return 0;
    }
    if (prov_state_created(run->st, key, id, run->err, sizeof(run->err)) != 0) {
        return prov_run_fail(run, "state", "%s", run->err);
    }
    return 0;
}

static int job_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    char detail[384];
    int rc = prov_nlb_job_status(run->c, run->cfg->region, ctx, status, size, detail,
                                 sizeof(detail), run->err, sizeof(run->err));

    if (rc == 1) {
        return 1; /* jobs are forgotten after a while: the status waits that follow decide */
    }
    if (rc < 0) {
        return -1;
    }
    if (strcasecmp(status, "Failed") == 0) {
        snprintf(run->err, sizeof(run->err), "job %s failed: %s", (const char *)ctx,
                 detail[0] != '\0' ? detail : "no reason given");
        return -1;
    }
    return strcasecmp(status, "Succeeded") == 0;
}

int prov_wait_job(struct prov_run *run, const char *hop, const char *what, const char *job_id)
{
    return prov_run_wait(run, hop, what, run->cfg->wait_timeout_s, job_probe, (void *)job_id);
}

static int es_active_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    struct prov_es_instance es;
    int rc = prov_es_describe_instance(run->c, run->cfg->es_instance_id, &es, run->err,
                                       sizeof(run->err));

    (void)ctx;
    if (rc != 0) {
        return -1;
    }
    snprintf(status, size, "%s", es.status);
    return strcmp(es.status, "active") == 0;
}

int prov_wait_es_active(struct prov_run *run, const char *hop)
{
    return prov_run_wait(run, hop, "Elasticsearch to be active", run->cfg->es_wait_timeout_s,
                         es_active_probe, NULL);
}

/* ---- endpoint service -------------------------------------------------------------------- */

int prov_service_status(struct prov_run *run, const char *service, char *status, size_t size)
{
    struct kvs k = {0};

    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "ServiceId", service);
    const struct prov_api_call call =
        prov_rpc(PROV_API_PRIVATELINK, "GetVpcEndpointServiceAttribute", &k);
    return prov_read_field(run->c, &call, "ServiceStatus", status, size, run->err,
                           sizeof(run->err));
}

static int service_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    int rc = prov_service_status(run, ctx, status, size);

    return rc < 0 ? -1 : rc == 0 && strcmp(status, "Active") == 0;
}

static int apply_service(struct prov_run *run, struct path_ids *ids)
{
    const struct prov_config *cfg = run->cfg;
    int nlb = cfg->topology == PROV_TOPOLOGY_NLB_IP;
    char token[PROV_STATE_TOKEN_BYTES], detail[256];
    struct prov_pl_service svc[4];
    struct kvs k = {0};
    json_t *json = NULL;
    size_t n = 0, i;

    if (ids->lb[0] != '<' && prov_pl_list_services(run->c, cfg->region, ids->lb, svc, 4, &n,
                                                   run->err, sizeof(run->err)) < 0) {
        return prov_run_fail(run, "endpoint service", "%s", run->err);
    }
    if (n > 0) {
        snprintf(ids->service, sizeof(ids->service), "%s", svc[0].id);
        if (prov_note_id(run, "service", ids->service) != 0) {
            return -1;
        }
    } else {
        if (prov_run_token(run, "service", token) != 0) {
            return -1;
        }
        prov_kvs_region(&k, run);
        prov_kvs_add(&k, "ServiceResourceType", nlb ? "nlb" : "slb");
        for (i = 0; i < (nlb ? cfg->zone_count : 1); i++) {
            char name[KVS_NAME_BYTES];
            snprintf(name, sizeof(name), "Resource.%zu.ResourceType", i + 1);
            prov_kvs_add(&k, name, nlb ? "nlb" : "slb");
            snprintf(name, sizeof(name), "Resource.%zu.ResourceId", i + 1);
            prov_kvs_add(&k, name, ids->lb);
            if (nlb) {
                snprintf(name, sizeof(name), "Resource.%zu.ZoneId", i + 1);
                prov_kvs_add(&k, name, cfg->zones[i].zone_id);
            }
        }
        prov_kvs_add(&k, "AutoAcceptEnabled", cfg->auto_accept ? "true" : "false");
        prov_kvs_add(&k, "ServiceDescription", cfg->description);
        prov_kvs_add(&k, "Payer", "Endpoint");
        prov_kvs_add(&k, "ClientToken", token);
        snprintf(detail, sizeof(detail), "endpoint service on %s, auto-accept %s", ids->lb,
                 cfg->auto_accept ? "on" : "off");
        const struct prov_api_call call =
            prov_rpc(PROV_API_PRIVATELINK, "CreateVpcEndpointService", &k);
        if (prov_run_write(run, &call, "endpoint service", detail, "ServiceId", &json) !=
            PROV_RUN_OK) {
            return prov_create_failed(run, "service", "endpoint service");
        }
        snprintf(ids->service, sizeof(ids->service), "%s",
                 run->dry_run ? "<ServiceId>" : prov_run_id(json, "ServiceId"));
        json_decref(json);
        if (ids->service[0] == '\0') {
            return prov_run_fail(run, "endpoint service",
                                 "CreateVpcEndpointService answered without a ServiceId");
        }
        if (!run->dry_run &&
            prov_state_created(run->st, "service", ids->service, run->err, sizeof(run->err))) {
            return prov_run_fail(run, "state", "%s", run->err);
        }
    }
    return prov_run_wait(run, "endpoint service", "the endpoint service to be Active",
                         cfg->wait_timeout_s, service_probe, ids->service);
}

/* ---- ES private connection --------------------------------------------------------------- */

/* The ES-side endpoint to ids->service: 1 found (ids->endpoint/domain set, status copied),
 * 0 none, -1 failed. */
static int find_endpoint(struct prov_run *run, struct path_ids *ids, char *status, size_t size)
{
    static struct prov_es_endpoint eps[32];
    size_t n = 0, i;

    if (prov_es_list_vpc_endpoints(run->c, run->cfg->es_instance_id, eps, 32, &n, run->err,
                                   sizeof(run->err)) != 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(eps[i].service_id, ids->service) == 0) {
            snprintf(ids->endpoint, sizeof(ids->endpoint), "%s", eps[i].id);
            snprintf(ids->domain, sizeof(ids->domain), "%s", eps[i].domain);
            snprintf(status, size, "%s", eps[i].connection_status);
            return 1;
        }
    }
    return 0;
}

static int accept_connection(struct prov_run *run, const struct path_ids *ids)
{
    struct kvs k = {0};
    char detail[160];
    int rc;

    prov_kvs_region(&k, run);
    prov_kvs_add(&k, "ServiceId", ids->service);
    prov_kvs_add(&k, "EndpointId", ids->endpoint);
    snprintf(detail, sizeof(detail), "accept the connection of %s", ids->endpoint);
    const struct prov_api_call call =
        prov_rpc(PROV_API_PRIVATELINK, "EnableVpcEndpointConnection", &k);
    rc = prov_run_write(run, &call, "es connection", detail, NULL, NULL);
    if (rc == PROV_RUN_NOT_FOUND) {
        return 0; /* EndpointConnectionNotFound: the service side has not seen it yet */
    }
    return rc == PROV_RUN_OK ? 0 : prov_run_fail(run, "es connection", "%s", run->err);
}

/* Accepts the connection when the service side lists it as Pending (or Disconnected). A new
 * connection may be missing there, or Connecting, for a while before it is Pending: that is
 * "not yet", and the next poll looks again. 0 or -1. */
static int accept_if_pending(struct prov_run *run, const struct path_ids *ids)
{
    struct prov_pl_connection conns[PROV_INSPECT_MAX_CONNECTIONS];
    size_t n = 0, i;
    int rc = prov_pl_list_connections(run->c, run->cfg->region, ids->service, conns,
                                      PROV_INSPECT_MAX_CONNECTIONS, &n, run->err, sizeof(run->err));

    if (rc != 0) {
        return rc == 1 ? 0 : -1;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(conns[i].endpoint_id, ids->endpoint) == 0 &&
            (strcmp(conns[i].status, "Pending") == 0 ||
             strcmp(conns[i].status, "Disconnected") == 0)) {
            return accept_connection(run, ids);
        }
    }
    return 0;
}

/* Connected yet? Without auto-accept every poll that finds the connection Pending accepts it
 * (an accept the service ignored, or one sent before the connection was Pending, is repeated). */
static int connected_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    struct path_ids *ids = ctx;
    int rc = find_endpoint(run, ids, status, size);

    if (rc == 0) {
        snprintf(run->err, sizeof(run->err), "the ES endpoint to %s disappeared", ids->service);
        return -1;
    }
    if (rc < 0) {
        return -1;
    }
    if (strcmp(status, "Connected") == 0) {
        return 1;
    }
    return !run->cfg->auto_accept && accept_if_pending(run, ids) != 0 ? -1 : 0;
}

static const char *endpoint_zone(const struct prov_run *run, const struct path_ids *ids)
{
    const struct prov_config *cfg = run->cfg;

    if (cfg->es_zone_id[0] != '\0') {
        return cfg->es_zone_id;
    }
    return cfg->zone_count > 0 ? cfg->zones[0].zone_id : ids->lb_zone;
}

static int create_endpoint(struct prov_run *run, struct path_ids *ids)
{
    const struct prov_config *cfg = run->cfg;
    char token[PROV_STATE_TOKEN_BYTES], path[256], detail[256];
    struct prov_sign_kv q[2];
    json_t *body, *json = NULL, *result;
    char *text;
    int rc;

    if (prov_run_token(run, "endpoint", token) != 0) {
        return -1;
    }
    q[0].name = "ClientToken";
    q[0].value = token;
    q[1].name = "dryRun";
    q[1].value = "false";
    snprintf(path, sizeof(path), "/openapi/instances/%s/vpc-endpoints", cfg->es_instance_id);
    body = json_pack("{s:s}", "serviceId", ids->service);
    if (body != NULL && endpoint_zone(run, ids)[0] != '\0') {
        json_object_set_new(body, "zoneId", json_string(endpoint_zone(run, ids)));
    }
    text = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(body);
    if (text == NULL) {
        return prov_run_fail(run, "es connection", "out of memory");
    }
    const struct prov_api_call call = {
        PROV_API_ELASTICSEARCH, "CreateVpcEndpoint", "POST", path, q, 2, text, NULL};
    snprintf(detail, sizeof(detail), "private connection from %.100s to %.100s",
             cfg->es_instance_id, ids->service);
    rc = prov_run_write(run, &call, "es connection", detail, NULL, &json);
    free(text);
    if (rc != PROV_RUN_OK) {
        return prov_create_failed(run, "endpoint", "es connection");
    }
    result = json_object_get(json, "Result");
    snprintf(ids->endpoint, sizeof(ids->endpoint), "%s",
             run->dry_run ? "<endpointId>" : prov_run_id(result, "endpointId"));
    snprintf(ids->domain, sizeof(ids->domain), "%s",
             run->dry_run ? "<endpointDomain>" : prov_run_id(result, "endpointDomain"));
    json_decref(json);
    if (ids->endpoint[0] == '\0') {
        return prov_run_fail(run, "es connection", "CreateVpcEndpoint answered without an id");
    }
    if (!run->dry_run &&
        prov_state_created(run->st, "endpoint", ids->endpoint, run->err, sizeof(run->err))) {
        return prov_run_fail(run, "state", "%s", run->err);
    }
    return 0;
}

static int apply_connection(struct prov_run *run, struct path_ids *ids)
{
    char status[64] = "";
    int rc = ids->service[0] == '<' ? 0 : find_endpoint(run, ids, status, sizeof(status));

    if (rc < 0) {
        return prov_run_fail(run, "es connection", "%s", run->err);
    }
    if (rc == 1 && prov_note_id(run, "endpoint", ids->endpoint) != 0) {
        return -1;
    }
    if (rc == 0) {
        rc = create_endpoint(run, ids);
        if (rc != 0) {
            return rc;
        }
    }
    if (rc == 1 && strcmp(status, "Connected") == 0) {
        return 0;
    }
    /* A dry run does not run the wait, which is where the accept is sent: show it here. */
    if (run->dry_run && !run->cfg->auto_accept && accept_connection(run, ids) != 0) {
        return -1;
    }
    return prov_run_wait(run, "es connection", "the private connection to be Connected",
                         run->cfg->wait_timeout_s, connected_probe, ids);
}

/* ---- reindex whitelist (nlb-ip) ---------------------------------------------------------- */

struct whitelist_ctx {
    const char *entry;
    int add;            /* 1: waiting for the entry to be there; 0: to be gone */
    int active_without; /* polls that saw `active` without the change */
};

static int whitelist_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    struct whitelist_ctx *w = ctx;
    struct prov_es_instance es;

    if (prov_es_describe_instance(run->c, run->cfg->es_instance_id, &es, run->err,
                                  sizeof(run->err)) != 0) {
        return -1;
    }
    snprintf(status, size, "%s", es.status);
    if (strcmp(es.status, "active") != 0) {
        return 0;
    }
    if (prov_es_whitelist_has(es.reindex_whitelist, w->entry) == w->add) {
        return 1;
    }
    if (++w->active_without >= 3) {
        snprintf(run->err, sizeof(run->err),
                 "Elasticsearch is active but reindex.remote.whitelist reads back as \"%.600s\", "
                 "%s %s: change it in the console (YML configuration) and run again",
                 es.reindex_whitelist, w->add ? "without" : "still with", w->entry);
        return -1;
    }
    return 0;
}

static int whitelist_change_once(struct prov_run *run, const char *entry, int add,
                                 const char *token_key)
{
    char list[PROV_ES_WHITELIST_BYTES], token[PROV_STATE_TOKEN_BYTES], path[256];
    struct whitelist_ctx w = {entry, add, 0};
    struct prov_es_instance es;
    struct prov_sign_kv q[2];
    json_t *body;
    char *text;
    int rc;

    rc = prov_es_describe_instance(run->c, run->cfg->es_instance_id, &es, run->err,
                                   sizeof(run->err));
    if (rc != 0) {
        return rc == 1 && !add ? prov_drop_token(run, token_key)
                               : prov_run_fail(run, "es whitelist", "%s", run->err);
    }
    rc = es.whitelist_truncated
             ? -1
             : prov_es_whitelist_edit(es.reindex_whitelist, entry, add, list, sizeof(list));
    if (rc <= 0) {
        /* Already as wanted: a token left by a killed run must not answer a later change. */
        return rc == 0 ? prov_drop_token(run, token_key)
                       : prov_run_fail(run, "es whitelist",
                                       "reindex.remote.whitelist is longer than %zu bytes; "
                                       "remove entries that are no longer used",
                                       sizeof(list) - 1);
    }
    if (strcmp(es.status, "active") != 0 && prov_wait_es_active(run, "es whitelist") != 0) {
        return -1;
    }
    if (prov_run_token(run, token_key, token) != 0) {
        return -1;
    }
    q[0].name = "clientToken";
    q[0].value = token;
    q[1].name = "updateStrategy";
    q[1].value = "normal";
    snprintf(path, sizeof(path), "/openapi/instances/%s/instance-settings",
             run->cfg->es_instance_id);
    /* The whole list is sent; an empty one is meant to remove the key. Both are UNCONFIRMED
     * (docs/alicloud-api.md §4.5): the wait below reads the setting back. */
    body = json_pack("{s:{s:s}}", "esConfig", "reindex.remote.whitelist", list);
    text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL) {
        return prov_run_fail(run, "es whitelist", "out of memory");
    }
    const struct prov_api_call call = {
        PROV_API_ELASTICSEARCH, "UpdateInstanceSettings", "PATCH", path, q, 2, text, NULL};
    rc = prov_run_write(run, &call, "es whitelist", add ? list : entry, NULL, NULL);
    free(text);
    if (rc != PROV_RUN_OK) {
        return prov_create_failed(run, token_key, "es whitelist");
    }
    if (prov_drop_token(run, token_key) != 0) {
        return -1;
    }
    return prov_run_wait(run, "es whitelist",
                         add ? "Elasticsearch to be active with the new reindex.remote.whitelist"
                             : "Elasticsearch to be active without the whitelist entry",
                         run->cfg->es_wait_timeout_s, whitelist_probe, &w);
}

int prov_whitelist_change(struct prov_run *run, const char *entry, int add, const char *token_key)
{
    int rc = whitelist_change_once(run, entry, add, token_key);

    if (rc == PROV_HOP_RETRY) { /* the list changed since the token was saved: read it again */
        rc = whitelist_change_once(run, entry, add, token_key);
    }
    return rc == PROV_HOP_RETRY
               ? prov_run_fail(run, "es whitelist", "IdempotentParameterMismatch with a new token")
               : rc;
}

static int apply_whitelist(struct prov_run *run, const struct path_ids *ids)
{
    char entry[300];

    snprintf(entry, sizeof(entry), "%s:%u", ids->domain, (unsigned)run->cfg->nlb_listener_port);
    if (prov_whitelist_change(run, entry, 1, "whitelist") != 0) {
        return -1;
    }
    if (prov_state_set(run->st, "whitelist", "entry", entry) != 0 ||
        (!run->dry_run && prov_state_save(run->st, run->err, sizeof(run->err)) != 0)) {
        return prov_run_fail(run, "state", "%s", run->err);
    }
    return 0;
}

/* ---- apply ------------------------------------------------------------------------------- */

int prov_apply(struct prov_run *run)
{
    struct path_ids ids;
    int rc;

    memset(&ids, 0, sizeof(ids));
    rc = prov_run_hop(
        run, run->cfg->topology == PROV_TOPOLOGY_CLB_ECS ? prov_apply_clb : prov_apply_nlb, &ids);
    if (rc != 0 || prov_run_hop(run, apply_service, &ids) != 0 ||
        prov_run_hop(run, apply_connection, &ids) != 0) {
        return -1;
    }
    if (!run->dry_run) {
        if (prov_state_set_domain(run->st, ids.domain) != 0 ||
            prov_state_save(run->st, run->err, sizeof(run->err)) != 0) {
            return prov_run_fail(run, "state", "%s", run->err);
        }
    }
    if (run->cfg->topology == PROV_TOPOLOGY_NLB_IP) {
        return apply_whitelist(run, &ids);
    }
    return 0;
}

int prov_run_render(const struct prov_run *run, const char *command, int ok, int json, char **out)
{
    json_t *doc, *item;
    size_t i, cap, used = 0;
    size_t calls = prov_run_calls(run); /* with writes that could not be listed */
    char *buf;

    *out = NULL;
    if (json) {
        doc = json_pack("{s:s, s:b, s:b, s:b, s:O}", "command", command, "ok", ok, "dry_run",
                        run->dry_run, "changed", calls > 0, "calls", run->done);
        if (doc != NULL && !ok) {
            json_object_set_new(doc, "failed_hop", json_string(run->hop));
            json_object_set_new(doc, "error", json_string(run->err));
        }
        *out = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(doc);
        return *out != NULL ? 0 : -1;
    }
    cap = 256 + (run->dry_run ? json_array_size(run->done) * 600 : 0) + sizeof(run->err) +
          sizeof(run->hop);
    buf = malloc(cap);
    if (buf == NULL) {
        return -1;
    }
    buf[0] = '\0';
    /* The calls were printed live on stderr as they were made; a dry run lists them again. */
    json_array_foreach(run->done, i, item)
    {
        if (!run->dry_run) {
            break;
        }
        used += (size_t)snprintf(buf + used, cap - used, "  %-12s %-32s %s\n",
                                 json_string_value(json_object_get(item, "product")),
                                 json_string_value(json_object_get(item, "action")),
                                 json_string_value(json_object_get(item, "detail")));
    }
    if (ok) {
        snprintf(buf + used, cap - used, "%s: %s (%zu call%s)\n", command,
                 run->dry_run ? "dry run, nothing was sent"
                 : calls == 0 ? "in sync, nothing to do"
                              : "done",
                 calls, calls == 1 ? "" : "s");
    } else {
        snprintf(buf + used, cap - used, "%s: FAILED at %s after %zu call%s: %s\n", command,
                 run->hop, calls, calls == 1 ? "" : "s", run->err);
    }
    *out = buf;
    return 0;
}
