/*
 * privatelink — the typed PrivateLink reads (include/plprov/privatelink.h): one page of 50 each
 * (MaxResults), parameters in the query string as the apiclient does for this product.
 */
#include "plprov/privatelink.h"

#include <string.h>

#include "readutil_int.h"

int prov_pl_list_services(struct prov_apiclient *c, const char *region, const char *resource_id,
                          struct prov_pl_service *out, size_t max, size_t *count, char *err,
                          size_t err_size)
{
    struct prov_sign_kv params[3] = {{"RegionId", region}, {"MaxResults", "50"}, {NULL, NULL}};
    struct prov_api_call call = {
        PROV_API_PRIVATELINK, "ListVpcEndpointServices", NULL, NULL, params, 2, NULL, NULL};
    json_t *json = NULL, *item;
    size_t i;
    int rc;

    *count = 0;
    if (resource_id != NULL) {
        params[2].name = "ResourceId";
        params[2].value = resource_id;
        call.param_count = 3;
    }
    rc = prov_read_call(c, &call, &json, err, err_size);
    if (rc != 0) {
        return rc;
    }
    json_array_foreach(prov_read_list(json, "Services", NULL), i, item)
    {
        struct prov_pl_service *s;
        if (*count >= max) {
            break;
        }
        s = &out[(*count)++];
        memset(s, 0, sizeof(*s));
        prov_read_str(item, "ServiceId", s->id, sizeof(s->id));
        prov_read_str(item, "ServiceName", s->name, sizeof(s->name));
        prov_read_str(item, "ServiceDomain", s->domain, sizeof(s->domain));
        prov_read_str(item, "ServiceStatus", s->status, sizeof(s->status));
        prov_read_str(item, "ServiceResourceType", s->resource_type, sizeof(s->resource_type));
        prov_read_str(item, "ServiceDescription", s->description, sizeof(s->description));
        s->auto_accept = json_is_true(json_object_get(item, "AutoAcceptEnabled"));
    }
    json_decref(json);
    return 0;
}

int prov_pl_list_connections(struct prov_apiclient *c, const char *region, const char *service_id,
                             struct prov_pl_connection *out, size_t max, size_t *count, char *err,
                             size_t err_size)
{
    const struct prov_sign_kv params[] = {
        {"RegionId", region}, {"ServiceId", service_id}, {"MaxResults", "50"}};
    const struct prov_api_call call = {
        PROV_API_PRIVATELINK, "ListVpcEndpointConnections", NULL, NULL, params, 3, NULL, NULL};
    json_t *json = NULL, *item;
    size_t i;
    int rc;

    *count = 0;
    rc = prov_read_call(c, &call, &json, err, err_size);
    if (rc != 0) {
        return rc;
    }
    json_array_foreach(prov_read_list(json, "Connections", NULL), i, item)
    {
        struct prov_pl_connection *k;
        if (*count >= max) {
            break;
        }
        k = &out[(*count)++];
        memset(k, 0, sizeof(*k));
        prov_read_str(item, "EndpointId", k->endpoint_id, sizeof(k->endpoint_id));
        prov_read_str(item, "ConnectionStatus", k->status, sizeof(k->status));
        prov_read_str(item, "EndpointOwnerId", k->owner_id, sizeof(k->owner_id));
        k->bandwidth = (long)prov_read_int(item, "Bandwidth", -1);
    }
    json_decref(json);
    return 0;
}
