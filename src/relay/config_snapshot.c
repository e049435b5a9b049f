/*
 * config_snapshot — the life of a loaded snapshot (reference counting, freeing what the key
 * parsers allocated) and the printing of a load's errors as "file:line: reason" lines.
 */
#include "plrelay/config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_keys.h"
#include "plrelay/acl.h"
#include "plrelay/auth.h"
#include "plrelay/fileio.h"

void plr_config_sort_errors(struct plr_config_errors *errs)
{
    size_t i, j;

    for (i = 1; i < errs->count; i++) {
        struct plr_config_error e = errs->items[i];
        unsigned key = e.line == 0 ? ~0u : (unsigned)e.line;
        for (j = i; j > 0; j--) {
            int l = errs->items[j - 1].line;
            if ((l == 0 ? ~0u : (unsigned)l) <= key) {
                break;
            }
            errs->items[j] = errs->items[j - 1];
        }
        errs->items[j] = e;
    }
}

void plr_config_free_snapshot(struct plr_config *cfg)
{
    size_t i;

    if (cfg == NULL) {
        return;
    }
    for (i = 0; i < cfg->route_count; i++) {
        struct plr_route_config *rc = &cfg->routes[i];
        free(rc->listen);
        free(rc->upstreams);
        plr_acl_cidrs_free(rc->trusted_proxies);
        plr_acl_cidrs_free(rc->allow_sources);
        plr_acl_cidrs_free(rc->deny_sources);
        plr_acl_ids_free(rc->allow_endpoints);
        plr_acl_ids_free(rc->allow_vpcs);
        plr_acl_ids_free(rc->allow_endpoint_services);
        plr_acl_dest_free(rc->allow_destinations);
        plr_acl_dest_free(rc->allow_private_destinations);
        plr_auth_free(rc->auth);
    }
    free(cfg->routes);
    free(cfg);
}

void plr_config_errors_print(const struct plr_config_errors *errs, int fd)
{
    char line[PLR_CONFIG_PATH_MAX + PLR_CONFIG_REASON_MAX + 64];
    size_t i;
    int n;

    if (errs == NULL) {
        return;
    }
    for (i = 0; i < errs->count && i < PLR_CONFIG_MAX_ERRORS; i++) {
        const struct plr_config_error *e = &errs->items[i];
        if (e->line > 0) {
            n = snprintf(line, sizeof(line), "%s:%d: %s\n", errs->file, e->line, e->reason);
        } else {
            n = snprintf(line, sizeof(line), "%s: %s\n", errs->file, e->reason);
        }
        if (n > 0) {
            plr_write_all(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        }
    }
    if (errs->dropped > 0) {
        n = snprintf(line, sizeof(line), "%s: %zu more errors not shown\n", errs->file,
                     errs->dropped);
        if (n > 0) {
            plr_write_all(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        }
    }
}

struct plr_config *plr_config_ref(struct plr_config *cfg)
{
    if (cfg != NULL) {
        atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
    }
    return cfg;
}

void plr_config_unref(struct plr_config *cfg)
{
    if (cfg != NULL && atomic_fetch_sub_explicit(&cfg->refs, 1, memory_order_acq_rel) == 1) {
        plr_config_free_snapshot(cfg);
    }
}
