/*
 * plan — the ordered steps `apply` would take to turn the actual state (inspect.h) into the
 * configured one (provconfig.h). Pure: no I/O, so every diff is unit-tested from hand-built
 * states (tests/unit/test_prov_plan.c).
 *
 * Order (docs/alicloud-api.md §5): load balancer → listeners / server group + servers + listener →
 * backends → endpoint service (with the LB as its resource) → ES private connection → accept the
 * connection when auto-accept is off → (nlb-ip) reindex.remote.whitelist. A hop whose parent is
 * missing is planned in full, since nothing below it can exist. An empty plan means in sync.
 */
#ifndef PLPROV_PLAN_H
#define PLPROV_PLAN_H

#include <stddef.h>

#include "plprov/apiclient.h"
#include "plprov/inspect.h"
#include "plprov/provconfig.h"

#define PROV_PLAN_MAX_STEPS 96
#define PROV_PLAN_DETAIL_BYTES 320

struct prov_plan_step {
    enum prov_api_product product;       /* the API that will be called */
    const char *action;                  /* static action name, "CreateLoadBalancer" */
    char detail[PROV_PLAN_DETAIL_BYTES]; /* what it creates or changes, for humans */
};

struct prov_plan {
    struct prov_plan_step steps[PROV_PLAN_MAX_STEPS];
    size_t count;
    int truncated; /* 1 when more than PROV_PLAN_MAX_STEPS were needed */
};

/* Fills out (reset first) with the steps that take a to cfg. */
void prov_plan_build(const struct prov_config *cfg, const struct prov_actual *a,
                     struct prov_plan *out);

/* `plan` output: numbered lines, or "in sync" (json = 0); {"in_sync":bool,"steps":[{"product",
 * "action","detail"}]} (json = 1). *out is heap (free()). 0 or -1 (out of memory). */
int prov_plan_render(const struct prov_plan *p, int json, char **out);

#endif
