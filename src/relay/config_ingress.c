/*
 * config_ingress — the values of the ingress and connect-mode keys, parsed by the acl and auth
 * modules: trusted_proxies, allow/deny_sources, the PrivateLink id allowlists, accept_rate,
 * allow_destinations, allow_private_destinations and auth. Private to the config module; the
 * key table in config_values.c points at these parsers.
 */
#include <stdio.h>
#include <string.h>

#include "config_keys.h"
#include "plrelay/acl.h"
#include "plrelay/auth.h"

/* ---- ingress trust lists (parsed by the acl module) ---------------------------------------- */

/* An empty value means "not configured" (the set stays NULL). */
#define CIDR_PARSER(fn, field)                                             \
    int fn(void *base, const char *value, char *reason, size_t reason_len) \
    {                                                                      \
        struct plr_route_config *rc = base;                                \
        if (value[0] == '\0')                                              \
            return 0;                                                      \
        return plr_acl_cidrs_parse(value, &rc->field, reason, reason_len); \
    }
#define IDS_PARSER(fn, field, prefix)                                            \
    int fn(void *base, const char *value, char *reason, size_t reason_len)       \
    {                                                                            \
        struct plr_route_config *rc = base;                                      \
        if (value[0] == '\0')                                                    \
            return 0;                                                            \
        return plr_acl_ids_parse(value, prefix, &rc->field, reason, reason_len); \
    }
CIDR_PARSER(plr_config_key_trusted_proxies, trusted_proxies)
CIDR_PARSER(plr_config_key_allow_sources, allow_sources)
CIDR_PARSER(plr_config_key_deny_sources, deny_sources)
IDS_PARSER(plr_config_key_allow_endpoints, allow_endpoints, "ep-")
IDS_PARSER(plr_config_key_allow_vpcs, allow_vpcs, "vpc-")
IDS_PARSER(plr_config_key_allow_endpoint_services, allow_endpoint_services, "epsrv-")

int plr_config_key_allow_destinations(void *base, const char *value, char *reason,
                                      size_t reason_len)
{
    struct plr_route_config *rc = base;

    return plr_acl_dest_parse(value, &rc->allow_destinations, reason, reason_len);
}

int plr_config_key_allow_private(void *base, const char *value, char *reason, size_t reason_len)
{
    struct plr_route_config *rc = base;

    if (value[0] == '\0')
        return 0;
    return plr_acl_exceptions_parse(value, &rc->allow_private_destinations, reason, reason_len);
}

/* "basic:/etc/plrelay/watcher.users" (or empty: none). The file is read now, so a missing or
 * malformed one is a config error with its own file:line. */
int plr_config_key_auth(void *base, const char *value, char *reason, size_t reason_len)
{
    struct plr_route_config *rc = base;

    if (value[0] == '\0')
        return 0;
    if (strncmp(value, "basic:", 6) != 0 || value[6] == '\0') {
        snprintf(reason, reason_len, "auth: use basic:/path/to/users-file");
        return -1;
    }
    rc->auth = plr_auth_load(value + 6, reason, reason_len);
    return rc->auth != NULL ? 0 : -1;
}

/* "500/s", "0" or "off": new connections per second. */
int plr_config_key_accept_rate(void *base, const char *value, char *reason, size_t reason_len)
{
    struct plr_route_config *rc = base;
    char number[32];
    const char *slash = strchr(value, '/');
    size_t n = slash != NULL ? (size_t)(slash - value) : strlen(value);
    uint64_t v = 0;

    if (strcmp(value, "off") == 0 || strcmp(value, "0") == 0) {
        rc->accept_rate = 0;
        return 0;
    }
    if (slash == NULL || strcmp(slash, "/s") != 0 || n == 0 || n >= sizeof(number)) {
        snprintf(reason, reason_len, "accept_rate: \"%.40s\" is not a rate like 500/s (or off)",
                 value);
        return -1;
    }
    memcpy(number, value, n);
    number[n] = '\0';
    if (plr_config_parse_uint(number, 1, 1000000, &v, reason, reason_len) != 0)
        return -1;
    rc->accept_rate = (uint32_t)v;
    return 0;
}
