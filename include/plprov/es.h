/*
 * es — typed reads of the Elasticsearch OpenAPI (2017-06-13, ROA, signed HMAC-SHA1 ROA) that
 * `plan`, `status` and `es-settings` need: DescribeInstance (status, port, protocol, the YML
 * settings in esConfig, where reindex.remote.whitelist is read back) and ListVpcEndpoints (the
 * cluster's private connections, each with its endpoint domain and connection status).
 * Returns: 0 filled, 1 "not found", -1 any other failure (err set), as clb.h.
 */
#ifndef PLPROV_ES_H
#define PLPROV_ES_H

#include <stddef.h>

#include "plprov/apiclient.h"

#define PROV_ES_ID_BYTES 128
#define PROV_ES_WHITELIST_BYTES 8192

struct prov_es_instance {
    char id[PROV_ES_ID_BYTES];     /* instanceId */
    char status[32];               /* active, activating, inactive, invalid */
    char version[64];              /* esVersion */
    long port;                     /* 9200 */
    char protocol[16];             /* HTTP / HTTPS */
    char vpc_id[PROV_ES_ID_BYTES]; /* networkConfig.vpcId */
    char domain[256];              /* private domain, "" when absent */
    /* esConfig["reindex.remote.whitelist"], a string or a list joined by ","; "" when unset. */
    char reindex_whitelist[PROV_ES_WHITELIST_BYTES];
    int whitelist_truncated; /* 1 when the setting was longer than reindex_whitelist holds */
};

struct prov_es_endpoint {
    char id[PROV_ES_ID_BYTES];         /* endpointId "ep-..." */
    char service_id[PROV_ES_ID_BYTES]; /* serviceId "epsrv-..." */
    char domain[256];                  /* endpointDomain */
    char connection_status[32];        /* connectionStatus: Pending, Connected, ... */
    char status[32];                   /* endpointStatus */
};

/* GET /openapi/instances/{id}. */
int prov_es_describe_instance(struct prov_apiclient *c, const char *instance_id,
                              struct prov_es_instance *out, char *err, size_t err_size);

/* GET /openapi/instances/{id}/vpc-endpoints (page 1, size 100). */
int prov_es_list_vpc_endpoints(struct prov_apiclient *c, const char *instance_id,
                               struct prov_es_endpoint *out, size_t max, size_t *count, char *err,
                               size_t err_size);

/* 1 when the comma-separated reindex.remote.whitelist holds entry ("host:port") as one item,
 * blanks around items ignored, compared without case (host names). */
int prov_es_whitelist_has(const char *list, const char *entry);

/* reindex.remote.whitelist with entry added (add = 1) or removed (add = 0), items compared as
 * prov_es_whitelist_has does and empty ones dropped, into out[size]. Returns 0 when nothing needs
 * changing (already there / already absent), 1 when out holds the new list, -1 when the new list
 * would not fit in size (out is then unusable: a shortened list would drop other entries). */
int prov_es_whitelist_edit(const char *list, const char *entry, int add, char *out, size_t size);

#endif
