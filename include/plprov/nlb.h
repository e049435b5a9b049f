/*
 * nlb — typed reads of the Network Load Balancer (Nlb 2022-04-30) that `plan` and `status` need:
 * ListLoadBalancers (find the NLB by name), ListServerGroups (its IP server group),
 * ListServerGroupServers (the remote ES node in it), ListListeners (the TCP listener on 9200) and
 * ListAsynJobs (how an asynchronous write ended). One page each (MaxResults 100).
 * Returns: 0 filled, 1 "not found", -1 any other failure (err set), as clb.h.
 */
#ifndef PLPROV_NLB_H
#define PLPROV_NLB_H

#include <stddef.h>
#include <stdint.h>

#include "plprov/apiclient.h"

#define PROV_NLB_ID_BYTES 128
#define PROV_NLB_MAX_ZONES 10

struct prov_nlb_lb {
    char id[PROV_NLB_ID_BYTES];   /* LoadBalancerId "nlb-..." */
    char name[PROV_NLB_ID_BYTES]; /* LoadBalancerName */
    char status[32];              /* LoadBalancerStatus: Provisioning, Active, ... */
    char vpc_id[PROV_NLB_ID_BYTES];
    char address_type[32];              /* Internet / Intranet */
    char dns_name[256];                 /* DNSName, "" when absent (field name UNCONFIRMED) */
    char zones[PROV_NLB_MAX_ZONES][64]; /* ZoneMappings[].ZoneId */
    size_t zone_count;
};

struct prov_nlb_server_group {
    char id[PROV_NLB_ID_BYTES];   /* ServerGroupId "sgp-..." */
    char name[PROV_NLB_ID_BYTES]; /* ServerGroupName */
    char status[32];              /* ServerGroupStatus: Creating, Available, Configuring */
    char type[16];                /* ServerGroupType: Instance, Ip */
    char protocol[16];            /* TCP, UDP, TCPSSL */
    long server_count;            /* ServerCount, -1 when absent */
};

struct prov_nlb_listener {
    char id[PROV_NLB_ID_BYTES]; /* ListenerId "lsn-...@9200" */
    uint16_t port;              /* ListenerPort */
    char protocol[16];          /* ListenerProtocol */
    char status[32];            /* ListenerStatus: Running, Stopped, ... */
    char server_group_id[PROV_NLB_ID_BYTES];
};

struct prov_nlb_server {
    char server_id[PROV_NLB_ID_BYTES]; /* for Ip groups: the IP itself */
    char server_ip[64];
    char type[16];   /* ServerType: Ip, Ecs, ... */
    uint16_t port;   /* backend Port */
    char status[32]; /* Adding, Available, Configuring, Removing */
};

/* ListLoadBalancers, filtered by name when name is not NULL. */
int prov_nlb_list_load_balancers(struct prov_apiclient *c, const char *region, const char *name,
                                 struct prov_nlb_lb *out, size_t max, size_t *count, char *err,
                                 size_t err_size);

/* ListServerGroups, filtered by name when name is not NULL. */
int prov_nlb_list_server_groups(struct prov_apiclient *c, const char *region, const char *name,
                                struct prov_nlb_server_group *out, size_t max, size_t *count,
                                char *err, size_t err_size);

/* ListListeners of one load balancer. */
int prov_nlb_list_listeners(struct prov_apiclient *c, const char *region, const char *lb_id,
                            struct prov_nlb_listener *out, size_t max, size_t *count, char *err,
                            size_t err_size);

/* ListServerGroupServers of one server group. */
int prov_nlb_list_servers(struct prov_apiclient *c, const char *region, const char *sg_id,
                          struct prov_nlb_server *out, size_t max, size_t *count, char *err,
                          size_t err_size);

/* ListAsynJobs for one job: its Status (Processing, Succeeded, Failed) into status[size], and for
 * a failed job "ErrorCode: ErrorMessage" into detail[detail_size]. 1 when the job is unknown. */
int prov_nlb_job_status(struct prov_apiclient *c, const char *region, const char *job_id,
                        char *status, size_t size, char *detail, size_t detail_size, char *err,
                        size_t err_size);

#endif
