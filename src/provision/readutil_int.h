/*
 * readutil_int — what the typed read wrappers (clb.c, nlb.c, privatelink.c, es.c) share: one call
 * with "not found" told apart, and bounded copies out of jansson values. Internal to plprov.
 */
#ifndef PLPROV_READUTIL_INT_H
#define PLPROV_READUTIL_INT_H

#include <jansson.h>
#include <stddef.h>

#include "plprov/apiclient.h"

/* prov_api_call, then: 0 with *json owned by the caller (json_decref), 1 when the answer was a
 * "not found" (err set, *json NULL), -1 on any other failure (err set, *json NULL). */
int prov_read_call(struct prov_apiclient *c, const struct prov_api_call *call, json_t **json,
                   char *err, size_t err_size);

/* Copies obj[key] into dst: strings as they are, integers and booleans as text, anything else
 * (absent, null, objects) as "". Truncates to size. */
void prov_read_str(const json_t *obj, const char *key, char *dst, size_t size);

/* obj[key] as an integer (numbers, or strings of digits), else dflt. */
long long prov_read_int(const json_t *obj, const char *key, long long dflt);

/* obj[a][b]: the nested array the RPC answers wrap lists in ({"LoadBalancers":
 * {"LoadBalancer":[...]}}); also accepts obj[a] being the array itself. NULL when absent. */
json_t *prov_read_list(const json_t *obj, const char *a, const char *b);

/* One call, then the top-level string field `field` of the answer into out[size] (the status
 * reads: GetLoadBalancerAttribute, GetListenerAttribute, GetVpcEndpointServiceAttribute).
 * Returns as prov_read_call. */
int prov_read_field(struct prov_apiclient *c, const struct prov_api_call *call, const char *field,
                    char *out, size_t size, char *err, size_t err_size);

#endif
