/*
 * essettings — the Elasticsearch settings that match a built private path (`plrelay-provision
 * es-settings`): pure text building, no I/O except reading the state file, no printing.
 *
 * What is printed, by topology (issue 5, "es-settings"):
 *   nlb-ip   reindex.remote.whitelist: <endpoint domain>:<listener_port>
 *   clb-ecs  for each relay route reachable through a CLB listener:
 *              mode = connect            xpack.http.proxy.host / xpack.http.proxy.port (Watcher)
 *              tcp to port 389 / 3268    xpack.security.authc.realms.ldap.<route>.url: ldap://...
 *              tcp to port 636 / 3269    the same with ldaps://
 *              any other tcp route       a dictionary URL http(s)://<domain>:<port>/<file>
 *            Without a relay config the kind is guessed from the listener port (389/3268/636/
 *            3269 LDAP, 3128 proxy, else a dictionary URL) and every line says it is a guess.
 * The endpoint domain comes from the state file (its top-level "endpoint_domain") or, when unknown,
 * is the placeholder PROV_ESSETTINGS_PLACEHOLDER and a note says so.
 */
#ifndef PLPROV_ESSETTINGS_H
#define PLPROV_ESSETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "plprov/provconfig.h"

#define PROV_ESSETTINGS_PLACEHOLDER "<endpoint-domain>"
#define PROV_ESSETTINGS_NAME_BYTES 64    /* route name, NUL included */
#define PROV_ESSETTINGS_DOMAIN_BYTES 256 /* endpoint domain, NUL included */

/* One relay route, as far as the ES side cares (filled by the CLI from the relay's config). */
struct prov_essettings_route {
    char name[PROV_ESSETTINGS_NAME_BYTES];
    int is_connect;         /* 1: mode = connect (HTTP forward proxy), 0: mode = tcp */
    uint16_t listen_port;   /* the port the CLB listener forwards to */
    uint16_t upstream_port; /* first upstream's port (tcp), 0 when none */
};

struct prov_essettings_input {
    const struct prov_config *cfg;              /* required */
    const char *endpoint_domain;                /* NULL or "": unknown, placeholder used */
    const struct prov_essettings_route *routes; /* from a relay config; NULL: guess by port */
    size_t route_count;
};

/* Renders the settings: YAML-style lines with '#' notes (json = 0), or one JSON object
 * {"instance_id","topology","endpoint_domain","domain_known","settings":{k:v},"notes":[...]}
 * (json = 1). *out is heap (free()). 0, or -1 with err set. */
int prov_essettings_render(const struct prov_essettings_input *in, int json, char **out, char *err,
                           size_t err_size);

/* Reads the endpoint domain from a state file. 0 with out filled, 1 when the file does not exist
 * or holds no domain yet, -1 when it cannot be read or parsed (err set). */
int prov_essettings_state_domain(const char *state_path, char *out, size_t out_size, char *err,
                                 size_t err_size);

#endif
