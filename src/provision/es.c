/*
 * es — the typed Elasticsearch reads (include/plprov/es.h). ROA answers put the payload under
 * "Result" with lower-camel field names. The whitelist is UNCONFIRMED in shape (string or list,
 * doc §4.5), so both are read and a list is joined with ",".
 */
#include "plprov/es.h"

#include <stdio.h>
#include <string.h>

#include "readutil_int.h"

/* esConfig["reindex.remote.whitelist"] (a string, or a list joined by ","); 1 when it did not fit.
 */
static int read_whitelist(const json_t *es_config, char *dst, size_t size)
{
    const json_t *v = json_object_get(es_config, "reindex.remote.whitelist");
    const json_t *item;
    size_t i, used = 0;
    int n;

    dst[0] = '\0';
    if (json_is_string(v)) {
        n = snprintf(dst, size, "%s", json_string_value(v));
        return n < 0 || (size_t)n >= size;
    }
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item)) {
            continue;
        }
        n = snprintf(dst + used, size - used, "%s%s", used > 0 ? "," : "", json_string_value(item));
        if (n < 0 || (size_t)n >= size - used) {
            dst[used] = '\0';
            return 1;
        }
        used += (size_t)n;
    }
    return 0;
}

int prov_es_describe_instance(struct prov_apiclient *c, const char *instance_id,
                              struct prov_es_instance *out, char *err, size_t err_size)
{
    char path[256];
    struct prov_api_call call = {
        PROV_API_ELASTICSEARCH, "DescribeInstance", "GET", path, NULL, 0, NULL, NULL};
    json_t *json = NULL, *r;
    int rc;

    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "/openapi/instances/%s", instance_id);
    rc = prov_read_call(c, &call, &json, err, err_size);
    if (rc != 0) {
        return rc;
    }
    r = json_object_get(json, "Result");
    prov_read_str(r, "instanceId", out->id, sizeof(out->id));
    prov_read_str(r, "status", out->status, sizeof(out->status));
    prov_read_str(r, "esVersion", out->version, sizeof(out->version));
    out->port = (long)prov_read_int(r, "port", 9200);
    prov_read_str(r, "protocol", out->protocol, sizeof(out->protocol));
    prov_read_str(r, "domain", out->domain, sizeof(out->domain));
    prov_read_str(json_object_get(r, "networkConfig"), "vpcId", out->vpc_id, sizeof(out->vpc_id));
    out->whitelist_truncated = read_whitelist(
        json_object_get(r, "esConfig"), out->reindex_whitelist, sizeof(out->reindex_whitelist));
    json_decref(json);
    return 0;
}

int prov_es_list_vpc_endpoints(struct prov_apiclient *c, const char *instance_id,
                               struct prov_es_endpoint *out, size_t max, size_t *count, char *err,
                               size_t err_size)
{
    char path[256];
    const struct prov_sign_kv params[] = {{"page", "1"}, {"size", "100"}};
    struct prov_api_call call = {
        PROV_API_ELASTICSEARCH, "ListVpcEndpoints", "GET", path, params, 2, NULL, NULL};
    json_t *json = NULL, *item;
    size_t i;
    int rc;

    *count = 0;
    snprintf(path, sizeof(path), "/openapi/instances/%s/vpc-endpoints", instance_id);
    rc = prov_read_call(c, &call, &json, err, err_size);
    if (rc != 0) {
        return rc;
    }
    json_array_foreach(prov_read_list(json, "Result", NULL), i, item)
    {
        struct prov_es_endpoint *e;
        if (*count >= max) {
            break;
        }
        e = &out[(*count)++];
        memset(e, 0, sizeof(*e));
        prov_read_str(item, "endpointId", e->id, sizeof(e->id));
        prov_read_str(item, "serviceId", e->service_id, sizeof(e->service_id));
        prov_read_str(item, "endpointDomain", e->domain, sizeof(e->domain));
        prov_read_str(item, "connectionStatus", e->connection_status, sizeof(e->connection_status));
        prov_read_str(item, "endpointStatus", e->status, sizeof(e->status));
    }
    json_decref(json);
    return 0;
}
