/*
 * privatelink — typed reads of PrivateLink (Privatelink 2020-04-15) that `plan` and `status`
 * need: ListVpcEndpointServices (the service in front of a load balancer, found by ResourceId)
 * and ListVpcEndpointConnections (each endpoint connected to it and its status).
 * Returns: 0 filled, 1 "not found", -1 any other failure (err set), as clb.h.
 */
#ifndef PLPROV_PRIVATELINK_H
#define PLPROV_PRIVATELINK_H

#include <stddef.h>

#include "plprov/apiclient.h"

#define PROV_PL_ID_BYTES 128

struct prov_pl_service {
    char id[PROV_PL_ID_BYTES]; /* ServiceId "epsrv-..." */
    char name[256];            /* ServiceName com.aliyuncs.privatelink.<region>.epsrv-... */
    char domain[256];          /* ServiceDomain */
    char status[32];           /* ServiceStatus: Creating, Active, Pending, Deleting */
    char resource_type[16];    /* ServiceResourceType: slb, nlb, alb */
    char description[256];     /* ServiceDescription */
    int auto_accept;           /* AutoAcceptEnabled */
};

struct prov_pl_connection {
    char endpoint_id[PROV_PL_ID_BYTES]; /* "ep-..." */
    char status[32];   /* ConnectionStatus: Pending, Connecting, Connected, Disconnected, ... */
    char owner_id[64]; /* EndpointOwnerId */
    long bandwidth;    /* Mbit/s, -1 when absent */
};

/* ListVpcEndpointServices; resource_id (an "lb-" or "nlb-" id) filters when not NULL. */
int prov_pl_list_services(struct prov_apiclient *c, const char *region, const char *resource_id,
                          struct prov_pl_service *out, size_t max, size_t *count, char *err,
                          size_t err_size);

/* ListVpcEndpointConnections of one service. */
int prov_pl_list_connections(struct prov_apiclient *c, const char *region, const char *service_id,
                             struct prov_pl_connection *out, size_t max, size_t *count, char *err,
                             size_t err_size);

#endif
