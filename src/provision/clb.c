/*
 * clb — the typed CLB reads (include/plprov/clb.h). The RPC answers wrap lists in an object named
 * after the element ({"LoadBalancers":{"LoadBalancer":[...]}}); prov_read_list copes with both
 * that and a bare array, so a gateway that flattens them does not break the parse.
 */
#include "plprov/clb.h"

#include <stdio.h>
#include <string.h>

#include "readutil_int.h"

static void parse_lb(const json_t *o, struct prov_clb_lb *lb)
{
    prov_read_str(o, "LoadBalancerId", lb->id, sizeof(lb->id));
    prov_read_str(o, "LoadBalancerName", lb->name, sizeof(lb->name));
    prov_read_str(o, "LoadBalancerStatus", lb->status, sizeof(lb->status));
    prov_read_str(o, "Address", lb->address, sizeof(lb->address));
    prov_read_str(o, "AddressType", lb->address_type, sizeof(lb->address_type));
    prov_read_str(o, "VpcId", lb->vpc_id, sizeof(lb->vpc_id));
    prov_read_str(o, "VSwitchId", lb->vswitch_id, sizeof(lb->vswitch_id));
    prov_read_str(o, "MasterZoneId", lb->master_zone_id, sizeof(lb->master_zone_id));
}

int prov_clb_describe_load_balancers(struct prov_apiclient *c, const char *region, const char *name,
                                     struct prov_clb_lb *out, size_t max, size_t *count, char *err,
                                     size_t err_size)
{
    struct prov_sign_kv params[3] = {{"RegionId", region}, {"PageSize", "100"}, {NULL, NULL}};
    struct prov_api_call call = {PROV_API_SLB, "DescribeLoadBalancers", NULL, NULL, params, 2, NULL,
                                 NULL};
    json_t *json = NULL, *list, *item;
    size_t i;
    int rc;

    *count = 0;
    if (name != NULL) {
        params[2].name = "LoadBalancerName";
        params[2].value = name;
        call.param_count = 3;
    }
    rc = prov_read_call(c, &call, &json, err, err_size);
    if (rc != 0) {
        return rc;
    }
    list = prov_read_list(json, "LoadBalancers", "LoadBalancer");
    json_array_foreach(list, i, item)
    {
        if (*count >= max) {
            break;
        }
        memset(&out[*count], 0, sizeof(out[*count]));
        parse_lb(item, &out[*count]);
        (*count)++;
    }
    json_decref(json);
    return 0;
}

int prov_clb_describe_attribute(struct prov_apiclient *c, const char *region, const char *lb_id,
                                struct prov_clb_attribute *out, char *err, size_t err_size)
{
    const struct prov_sign_kv params[] = {{"RegionId", region}, {"LoadBalancerId", lb_id}};
    const struct prov_api_call call = {
        PROV_API_SLB, "DescribeLoadBalancerAttribute", NULL, NULL, params, 2, NULL, NULL};
    json_t *json = NULL, *list, *item;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = prov_read_call(c, &call, &json, err, err_size);
    if (rc != 0) {
        return rc;
    }
    parse_lb(json, &out->lb);
    list = prov_read_list(json, "ListenerPortsAndProtocol", "ListenerPortAndProtocol");
    json_array_foreach(list, i, item)
    {
        struct prov_clb_listener *l;
        long long port = prov_read_int(item, "ListenerPort", 0);
        if (out->listener_count >= PROV_CLB_MAX_LISTENERS || port < 1 || port > 65535) {
            continue;
        }
        l = &out->listeners[out->listener_count++];
        l->port = (uint16_t)port;
        prov_read_str(item, "ListenerProtocol", l->protocol, sizeof(l->protocol));
    }
    list = prov_read_list(json, "BackendServers", "BackendServer");
    json_array_foreach(list, i, item)
    {
        struct prov_clb_backend *b;
        if (out->backend_count >= PROV_CLB_MAX_BACKENDS) {
            break;
        }
        b = &out->backends[out->backend_count++];
        prov_read_str(item, "ServerId", b->server_id, sizeof(b->server_id));
        b->weight = (int)prov_read_int(item, "Weight", 100);
        prov_read_str(item, "Type", b->type, sizeof(b->type));
    }
    json_decref(json);
    return 0;
}

int prov_clb_listener_status(struct prov_apiclient *c, const char *region, const char *lb_id,
                             uint16_t port, char *status, size_t size, char *err, size_t err_size)
{
    char port_text[8];
    const struct prov_sign_kv params[] = {
        {"RegionId", region}, {"LoadBalancerId", lb_id}, {"ListenerPort", port_text}};
    const struct prov_api_call call = {
        PROV_API_SLB, "DescribeLoadBalancerTCPListenerAttribute", NULL, NULL, params, 3, NULL,
        NULL};
    json_t *json = NULL;
    int rc;

    snprintf(port_text, sizeof(port_text), "%u", (unsigned)port);
    status[0] = '\0';
    rc = prov_read_call(c, &call, &json, err, err_size);
    if (rc == 0) {
        prov_read_str(json, "Status", status, size);
        json_decref(json);
    }
    return rc;
}

int prov_clb_describe_health(struct prov_apiclient *c, const char *region, const char *lb_id,
                             uint16_t listener_port, struct prov_clb_health *out, size_t max,
                             size_t *count, char *err, size_t err_size)
{
    char port_text[8];
    const struct prov_sign_kv params[] = {
        {"RegionId", region}, {"LoadBalancerId", lb_id}, {"ListenerPort", port_text}};
    const struct prov_api_call call = {PROV_API_SLB, "DescribeHealthStatus",    NULL, NULL,
                                       params,       listener_port > 0 ? 3 : 2, NULL, NULL};
    json_t *json = NULL, *list, *item;
    size_t i;
    int rc;

    *count = 0;
    snprintf(port_text, sizeof(port_text), "%u", (unsigned)listener_port);
    rc = prov_read_call(c, &call, &json, err, err_size);
    if (rc != 0) {
        return rc;
    }
    list = prov_read_list(json, "BackendServers", "BackendServer");
    json_array_foreach(list, i, item)
    {
        struct prov_clb_health *h;
        long long lp = prov_read_int(item, "ListenerPort", 0), bp = prov_read_int(item, "Port", 0);
        if (*count >= max) {
            break;
        }
        h = &out[(*count)++];
        memset(h, 0, sizeof(*h));
        prov_read_str(item, "ServerId", h->server_id, sizeof(h->server_id));
        h->listener_port = lp > 0 && lp <= 65535 ? (uint16_t)lp : 0;
        h->port = bp > 0 && bp <= 65535 ? (uint16_t)bp : 0;
        prov_read_str(item, "ServerHealthStatus", h->status, sizeof(h->status));
    }
    json_decref(json);
    return 0;
}
