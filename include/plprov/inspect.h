/*
 * inspect — read the actual state of one configured private path, hop by hop, with the typed
 * reads (clb.h, nlb.h, privatelink.h, es.h), and render it as the `status` table or JSON.
 *
 * Besides existence and status, the backends are read as the load balancer sees them: CLB
 * DescribeHealthStatus per listener and backend, NLB ListServerGroupServers per server.
 *
 * Resources are found by what the config fixes (the state file only records them): the load
 * balancer by [path] name (CLB DescribeLoadBalancers / NLB ListLoadBalancers), the NLB server group
 * by the same name, the endpoint service by ResourceId = the load balancer id, the ES-side endpoint
 * by serviceId = that service. A hop whose parent is missing is not read (left "not found"). A read
 * that fails is recorded in errors[] and the walk goes on with the next independent hop.
 */
#ifndef PLPROV_INSPECT_H
#define PLPROV_INSPECT_H

#include <stddef.h>

#include "plprov/apiclient.h"
#include "plprov/clb.h"
#include "plprov/es.h"
#include "plprov/nlb.h"
#include "plprov/privatelink.h"
#include "plprov/provconfig.h"

#define PROV_INSPECT_MAX_ERRORS 8
#define PROV_INSPECT_MAX_CONNECTIONS 16
#define PROV_INSPECT_MAX_SERVERS 16

struct prov_actual {
    int lb_found;                  /* CLB or NLB with [path] name exists */
    int lb_ambiguous;              /* more than one has that name: the first is used */
    struct prov_clb_attribute clb; /* clb-ecs: the CLB, its listeners and backends */
    struct prov_clb_health health[PROV_CLB_MAX_HEALTH]; /* clb-ecs: DescribeHealthStatus rows */
    size_t health_count;
    struct prov_nlb_lb nlb; /* nlb-ip: the NLB */
    int sg_found;           /* nlb-ip: server group named [path] name */
    struct prov_nlb_server_group sg;
    struct prov_nlb_server servers[PROV_INSPECT_MAX_SERVERS]; /* nlb-ip: the group's servers */
    size_t server_count;
    int listener_found; /* nlb-ip: a listener on [nlb] listener_port */
    struct prov_nlb_listener listener;
    int service_found; /* endpoint service with the LB as resource */
    struct prov_pl_service service;
    struct prov_pl_connection connections[PROV_INSPECT_MAX_CONNECTIONS];
    size_t connection_count;
    int es_found; /* the ES instance answered DescribeInstance */
    struct prov_es_instance es;
    int endpoint_found; /* ES private connection to the service */
    struct prov_es_endpoint endpoint;
    int lb_error;      /* the load balancer hops could not be read (state unknown) */
    int service_error; /* the endpoint service hops could not be read */
    int es_error;      /* the ES instance or its endpoints could not be read */
    char errors[PROV_INSPECT_MAX_ERRORS][PROV_API_ERROR_BYTES]; /* failed reads, in order */
    size_t error_count;
};

/* Reads every hop it can. 0 when every read answered (found or not found), -1 when at least one
 * failed (see errors[]). out is fully reset first. */
int prov_inspect_read(struct prov_apiclient *c, const struct prov_config *cfg,
                      struct prov_actual *out);

/* The connection status of the ES-side endpoint as the provider side sees it ("" if unknown). */
const char *prov_inspect_connection_status(const struct prov_actual *a);

/* `status` output: a table (json = 0) or {"topology","name","hops":[{hop,id,state,ok,detail}],
 * "errors":[...], "healthy":bool} (json = 1). *healthy is 1 when every hop exists and is in its
 * working state. *out is heap (free()). 0 or -1 (out of memory). */
int prov_inspect_render(const struct prov_config *cfg, const struct prov_actual *a, int json,
                        char **out, int *healthy);

#endif
