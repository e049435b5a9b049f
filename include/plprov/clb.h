/*
 * clb — typed reads of the Classic Load Balancer (Slb 2014-05-15) that `plan`, `status`, `apply`
 * and `verify` need: DescribeLoadBalancers (find the CLB by name), DescribeLoadBalancerAttribute
 * (its listeners and backend servers), DescribeLoadBalancerTCPListenerAttribute (a listener's
 * status) and DescribeHealthStatus (each backend as the health check sees it). Each is one
 * prov_api_call plus a parse into fixed-size structs. Returns: 0 filled, 1 the server said "not
 * found", -1 any other failure (err holds the apiclient's one-line message: action, Code, Message,
 * RequestId).
 */
#ifndef PLPROV_CLB_H
#define PLPROV_CLB_H

#include <stddef.h>
#include <stdint.h>

#include "plprov/apiclient.h"

#define PROV_CLB_ID_BYTES 128
#define PROV_CLB_MAX_LISTENERS 32
#define PROV_CLB_MAX_BACKENDS 64

struct prov_clb_lb {
    char id[PROV_CLB_ID_BYTES];   /* LoadBalancerId "lb-..." */
    char name[PROV_CLB_ID_BYTES]; /* LoadBalancerName */
    char status[32];              /* LoadBalancerStatus: active, inactive, locked */
    char address[64];             /* private IPv4 */
    char address_type[32];        /* intranet / internet */
    char vpc_id[PROV_CLB_ID_BYTES];
    char vswitch_id[PROV_CLB_ID_BYTES];
    char master_zone_id[64]; /* MasterZoneId, "" when absent */
};

struct prov_clb_listener {
    uint16_t port;     /* ListenerPort */
    char protocol[16]; /* ListenerProtocol: tcp, udp, http, https */
    char status[32];   /* running, stopped, ...: read by inspect for configured ports, else "" */
};

struct prov_clb_backend {
    char server_id[PROV_CLB_ID_BYTES]; /* "i-..." */
    int weight;                        /* 0..100 */
    char type[16];                     /* ecs, eni, eci */
};

struct prov_clb_attribute {
    struct prov_clb_lb lb;
    struct prov_clb_listener listeners[PROV_CLB_MAX_LISTENERS];
    size_t listener_count;
    struct prov_clb_backend backends[PROV_CLB_MAX_BACKENDS];
    size_t backend_count;
};

/* One row of DescribeHealthStatus: a backend as one listener's health check sees it. */
struct prov_clb_health {
    char server_id[PROV_CLB_ID_BYTES]; /* "i-..." */
    uint16_t listener_port;            /* ListenerPort */
    uint16_t port;                     /* backend Port */
    char status[32]; /* ServerHealthStatus: normal, abnormal, unavailable (names UNCONFIRMED) */
};

#define PROV_CLB_MAX_HEALTH 256

/* DescribeLoadBalancers in region, filtered by name when name is not NULL (one page of 100). */
int prov_clb_describe_load_balancers(struct prov_apiclient *c, const char *region, const char *name,
                                     struct prov_clb_lb *out, size_t max, size_t *count, char *err,
                                     size_t err_size);

/* DescribeLoadBalancerAttribute of lb_id. */
int prov_clb_describe_attribute(struct prov_apiclient *c, const char *region, const char *lb_id,
                                struct prov_clb_attribute *out, char *err, size_t err_size);

/* DescribeLoadBalancerTCPListenerAttribute: the listener's Status (stopped, starting, running,
 * configuring, stopping) into status[size]. */
int prov_clb_listener_status(struct prov_apiclient *c, const char *region, const char *lb_id,
                             uint16_t port, char *status, size_t size, char *err, size_t err_size);

/* DescribeHealthStatus of lb_id, for one listener (listener_port > 0) or all (0). */
int prov_clb_describe_health(struct prov_apiclient *c, const char *region, const char *lb_id,
                             uint16_t listener_port, struct prov_clb_health *out, size_t max,
                             size_t *count, char *err, size_t err_size);

#endif
