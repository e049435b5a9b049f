/*
 * nlb — the typed NLB reads (include/plprov/nlb.h). NLB answers carry bare arrays
 * ({"LoadBalancers":[...]}); filters are flattened lists (LoadBalancerNames.1).
 */
#include "plprov/nlb.h"

#include <stdio.h>
#include <string.h>

#include "readutil_int.h"

static int list_call(struct prov_apiclient *c, const char *action, const char *region,
                     const char *filter, const char *value, json_t **json, char *err,
                     size_t err_size)
{
    struct prov_sign_kv params[3] = {{"RegionId", region}, {"MaxResults", "100"}, {NULL, NULL}};
    struct prov_api_call call = {PROV_API_NLB, action, NULL, NULL, params, 2, NULL, NULL};

    if (value != NULL) {
        params[2].name = filter;
        params[2].value = value;
        call.param_count = 3;
    }
    return prov_read_call(c, &call, json, err, err_size);
}

int prov_nlb_list_load_balancers(struct prov_apiclient *c, const char *region, const char *name,
                                 struct prov_nlb_lb *out, size_t max, size_t *count, char *err,
                                 size_t err_size)
{
    json_t *json = NULL, *item, *z, *zones;
    size_t i, j;
    int rc;

    *count = 0;
    rc = list_call(c, "ListLoadBalancers", region, "LoadBalancerNames.1", name, &json, err,
                   err_size);
    if (rc != 0) {
        return rc;
    }
    json_array_foreach(prov_read_list(json, "LoadBalancers", NULL), i, item)
    {
        struct prov_nlb_lb *lb;
        if (*count >= max) {
            break;
        }
        lb = &out[(*count)++];
        memset(lb, 0, sizeof(*lb));
        prov_read_str(item, "LoadBalancerId", lb->id, sizeof(lb->id));
        prov_read_str(item, "LoadBalancerName", lb->name, sizeof(lb->name));
        prov_read_str(item, "LoadBalancerStatus", lb->status, sizeof(lb->status));
        prov_read_str(item, "VpcId", lb->vpc_id, sizeof(lb->vpc_id));
        prov_read_str(item, "AddressType", lb->address_type, sizeof(lb->address_type));
        prov_read_str(item, "DNSName", lb->dns_name, sizeof(lb->dns_name));
        zones = prov_read_list(item, "ZoneMappings", NULL);
        json_array_foreach(zones, j, z)
        {
            if (lb->zone_count < PROV_NLB_MAX_ZONES) {
                prov_read_str(z, "ZoneId", lb->zones[lb->zone_count++], sizeof(lb->zones[0]));
            }
        }
    }
    json_decref(json);
    return 0;
}

int prov_nlb_list_server_groups(struct prov_apiclient *c, const char *region, const char *name,
                                struct prov_nlb_server_group *out, size_t max, size_t *count,
                                char *err, size_t err_size)
{
    json_t *json = NULL, *item;
    size_t i;
    int rc;

    *count = 0;
    rc = list_call(c, "ListServerGroups", region, "ServerGroupNames.1", name, &json, err, err_size);
    if (rc != 0) {
        return rc;
    }
    json_array_foreach(prov_read_list(json, "ServerGroups", NULL), i, item)
    {
        struct prov_nlb_server_group *g;
        if (*count >= max) {
            break;
        }
        g = &out[(*count)++];
        memset(g, 0, sizeof(*g));
        prov_read_str(item, "ServerGroupId", g->id, sizeof(g->id));
        prov_read_str(item, "ServerGroupName", g->name, sizeof(g->name));
        prov_read_str(item, "ServerGroupStatus", g->status, sizeof(g->status));
        prov_read_str(item, "ServerGroupType", g->type, sizeof(g->type));
        prov_read_str(item, "Protocol", g->protocol, sizeof(g->protocol));
        g->server_count = (long)prov_read_int(item, "ServerCount", -1);
    }
    json_decref(json);
    return 0;
}

int prov_nlb_list_listeners(struct prov_apiclient *c, const char *region, const char *lb_id,
                            struct prov_nlb_listener *out, size_t max, size_t *count, char *err,
                            size_t err_size)
{
    json_t *json = NULL, *item;
    size_t i;
    int rc;

    *count = 0;
    rc = list_call(c, "ListListeners", region, "LoadBalancerIds.1", lb_id, &json, err, err_size);
    if (rc != 0) {
        return rc;
    }
    json_array_foreach(prov_read_list(json, "Listeners", NULL), i, item)
    {
        struct prov_nlb_listener *l;
        long long port = prov_read_int(item, "ListenerPort", 0);
        if (*count >= max) {
            break;
        }
        l = &out[(*count)++];
        memset(l, 0, sizeof(*l));
        prov_read_str(item, "ListenerId", l->id, sizeof(l->id));
        l->port = port > 0 && port < 65536 ? (uint16_t)port : 0;
        prov_read_str(item, "ListenerProtocol", l->protocol, sizeof(l->protocol));
        prov_read_str(item, "ListenerStatus", l->status, sizeof(l->status));
        prov_read_str(item, "ServerGroupId", l->server_group_id, sizeof(l->server_group_id));
    }
    json_decref(json);
    return 0;
}

int prov_nlb_list_servers(struct prov_apiclient *c, const char *region, const char *sg_id,
                          struct prov_nlb_server *out, size_t max, size_t *count, char *err,
                          size_t err_size)
{
    json_t *json = NULL, *item;
    size_t i;
    int rc;

    *count = 0;
    rc = list_call(c, "ListServerGroupServers", region, "ServerGroupId", sg_id, &json, err,
                   err_size);
    if (rc != 0) {
        return rc;
    }
    json_array_foreach(prov_read_list(json, "Servers", NULL), i, item)
    {
        struct prov_nlb_server *sv;
        long long port = prov_read_int(item, "Port", 0);
        if (*count >= max) {
            break;
        }
        sv = &out[(*count)++];
        memset(sv, 0, sizeof(*sv));
        prov_read_str(item, "ServerId", sv->server_id, sizeof(sv->server_id));
        prov_read_str(item, "ServerIp", sv->server_ip, sizeof(sv->server_ip));
        prov_read_str(item, "ServerType", sv->type, sizeof(sv->type));
        sv->port = port > 0 && port < 65536 ? (uint16_t)port : 0;
        prov_read_str(item, "Status", sv->status, sizeof(sv->status));
    }
    json_decref(json);
    return 0;
}

int prov_nlb_job_status(struct prov_apiclient *c, const char *region, const char *job_id,
                        char *status, size_t size, char *detail, size_t detail_size, char *err,
                        size_t err_size)
{
    const struct prov_sign_kv params[] = {{"RegionId", region}, {"JobIds.1", job_id}};
    const struct prov_api_call call = {PROV_API_NLB, "ListAsynJobs", NULL, NULL, params, 2, NULL,
                                       NULL};
    json_t *json = NULL, *item;
    char code[128], message[256];
    size_t i;
    int rc;

    status[0] = '\0';
    detail[0] = '\0';
    rc = prov_read_call(c, &call, &json, err, err_size);
    if (rc != 0) {
        return rc;
    }
    rc = 1;
    json_array_foreach(prov_read_list(json, "Jobs", NULL), i, item)
    {
        char id[PROV_NLB_ID_BYTES];
        prov_read_str(item, "Id", id, sizeof(id));
        if (strcmp(id, job_id) != 0) {
            continue;
        }
        prov_read_str(item, "Status", status, size);
        prov_read_str(item, "ErrorCode", code, sizeof(code));
        prov_read_str(item, "ErrorMessage", message, sizeof(message));
        if (code[0] != '\0' || message[0] != '\0') {
            snprintf(detail, detail_size, "%s: %s", code, message);
        }
        rc = 0;
        break;
    }
    json_decref(json);
    if (rc == 1) {
        snprintf(err, err_size, "ListAsynJobs: job %s is not known", job_id);
    }
    return rc;
}
