/*
 * nlb — the typed NLB reads (include/plprov/nlb.h). NLB answers carry bare arrays
 * ({"LoadBalancers":[...]}); filters are flattened lists (LoadBalancerNames.1).
 */
#include "plprov/nlb.h"

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
