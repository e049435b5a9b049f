/*
 * es — the typed Elasticsearch reads (include/plprov/es.h). ROA answers put the payload under
 * "Result" with lower-camel field names. The whitelist is UNCONFIRMED in shape (string or list,
 * doc §4.5), so both are read and a list is joined with ",".
 */
#include "plprov/es.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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

int prov_es_whitelist_has(const char *list, const char *want)
{
    size_t wlen = strlen(want);
    const char *p = list, *end, *next;

    while (*p != '\0') {
        next = strchr(p, ',');
        end = next != NULL ? next : p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        if ((size_t)(end - p) == wlen && strncasecmp(p, want, wlen) == 0) {
            return 1;
        }
        if (next == NULL) {
            break;
        }
        p = next + 1;
    }
    return 0;
}

int prov_es_whitelist_edit(const char *list, const char *entry, int add, char *out, size_t size)
{
    size_t used = 0, len;
    int present = 0, fits = size > 0;
    const char *p = list;

    if (size > 0) {
        out[0] = '\0';
    }
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        const char *a = p, *b = end != NULL ? end : p + strlen(p);
        p = end != NULL ? end + 1 : b;
        while (a < b && (*a == ' ' || *a == '\t')) {
            a++;
        }
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) {
            b--;
        }
        len = (size_t)(b - a);
        if (len == 0) {
            continue;
        }
        if (len == strlen(entry) && strncasecmp(a, entry, len) == 0) {
            present = 1;
            if (!add) {
                continue;
            }
        }
        if (fits && used + (used > 0) + len < size) {
            used += (size_t)snprintf(out + used, size - used, "%s%.*s", used > 0 ? "," : "",
                                     (int)len, a);
        } else {
            fits = 0; /* never send a list with other entries silently dropped */
        }
    }
    if (add && !present) {
        if (fits && used + (used > 0) + strlen(entry) < size) {
            snprintf(out + used, size - used, "%s%s", used > 0 ? "," : "", entry);
        } else {
            fits = 0;
        }
    }
    if (add ? present : !present) {
        return 0;
    }
    return fits ? 1 : -1;
}
