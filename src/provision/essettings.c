/*
 * essettings — builds the Elasticsearch settings for `es-settings` (include/plprov/essettings.h).
 *
 * The settings are collected first as (key, value) pairs plus free-text notes in a jansson object,
 * then rendered either as that JSON or as YAML-style lines an operator pastes into the cluster's
 * YML configuration. Keeping one collection makes the two outputs agree by construction.
 */
#include "plprov/essettings.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum route_kind {
    KIND_PROXY = 0, /* forward proxy: xpack.http.proxy.* */
    KIND_LDAP = 1,  /* ldap:// realm url */
    KIND_LDAPS = 2, /* ldaps:// realm url */
    KIND_DICT = 3,  /* dictionary URL */
};

static enum route_kind kind_of_port(uint16_t port)
{
    if (port == 389 || port == 3268) {
        return KIND_LDAP;
    }
    if (port == 636 || port == 3269) {
        return KIND_LDAPS;
    }
    return KIND_DICT;
}

static int has_listener(const struct prov_config *cfg, uint16_t port)
{
    size_t i;

    for (i = 0; i < cfg->listener_port_count; i++) {
        if (cfg->listener_ports[i] == port) {
            return 1;
        }
    }
    return 0;
}

static int add_note(json_t *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add_note(json_t *notes, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return json_array_append_new(notes, json_string(buf));
}

static int set_str(json_t *settings, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_str(json_t *settings, const char *key, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return json_object_set_new(settings, key, json_string(buf));
}

/* One route (or a guessed listener port) into settings/notes. */
static int add_route(json_t *settings, json_t *notes, const char *domain, const char *name,
                     enum route_kind kind, uint16_t port, uint16_t upstream_port, int guessed,
                     int *proxy_done)
{
    char key[160];
    const char *why = guessed ? " (guessed from the port: pass a relay config to be sure)" : "";

    switch (kind) {
    case KIND_PROXY:
        if (*proxy_done) {
            return add_note(notes,
                            "route %s: a second forward proxy on port %u is not used by "
                            "xpack.http.proxy (one proxy per cluster)",
                            name, (unsigned)port);
        }
        *proxy_done = 1;
        if (set_str(settings, "xpack.http.proxy.host", "%s", domain) != 0 ||
            json_object_set_new(settings, "xpack.http.proxy.port", json_integer(port)) != 0) {
            return -1;
        }
        return add_note(notes,
                        "route %s: Watcher and other outbound HTTP through the relay's "
                        "forward proxy on port %u%s",
                        name, (unsigned)port, why);
    case KIND_LDAP:
    case KIND_LDAPS:
        snprintf(key, sizeof(key), "xpack.security.authc.realms.ldap.%s.url", name);
        if (set_str(settings, key, "%s://%s:%u", kind == KIND_LDAP ? "ldap" : "ldaps", domain,
                    (unsigned)port) != 0) {
            return -1;
        }
        return add_note(notes, "route %s: LDAP realm url through port %u%s", name, (unsigned)port,
                        why);
    case KIND_DICT:
        break;
    }
    snprintf(key, sizeof(key), "dictionary.%s.url", name);
    if (set_str(settings, key, "%s://%s:%u/<dictionary-file>",
                upstream_port == 443 ? "https" : "http", domain, (unsigned)port) != 0) {
        return -1;
    }
    return add_note(notes,
                    "route %s: dictionary URL (IK remote_ext_dict / synonyms) through "
                    "port %u; not a YML key, use the URL in the dictionary configuration%s",
                    name, (unsigned)port, why);
}

static int collect_clb(const struct prov_essettings_input *in, const char *domain, json_t *settings,
                       json_t *notes)
{
    const struct prov_config *cfg = in->cfg;
    int proxy_done = 0;
    size_t i;

    if (in->routes == NULL) {
        for (i = 0; i < cfg->listener_port_count; i++) {
            uint16_t port = cfg->listener_ports[i];
            char name[32];
            snprintf(name, sizeof(name), "port%u", (unsigned)port);
            if (add_route(settings, notes, domain, name,
                          port == 3128 ? KIND_PROXY : kind_of_port(port), port, 0, 1,
                          &proxy_done) != 0) {
                return -1;
            }
        }
        return 0;
    }
    for (i = 0; i < in->route_count; i++) {
        const struct prov_essettings_route *r = &in->routes[i];
        if (!has_listener(cfg, r->listen_port)) {
            if (add_note(notes,
                         "route %s listens on port %u, which has no CLB listener in the "
                         "provisioning config: not reachable through the endpoint",
                         r->name, (unsigned)r->listen_port) != 0) {
                return -1;
            }
            continue;
        }
        if (add_route(settings, notes, domain, r->name,
                      r->is_connect ? KIND_PROXY : kind_of_port(r->upstream_port), r->listen_port,
                      r->upstream_port, 0, &proxy_done) != 0) {
            return -1;
        }
    }
    return 0;
}

static json_t *collect(const struct prov_essettings_input *in)
{
    const struct prov_config *cfg = in->cfg;
    int known = in->endpoint_domain != NULL && in->endpoint_domain[0] != '\0';
    const char *domain = known ? in->endpoint_domain : PROV_ESSETTINGS_PLACEHOLDER;
    json_t *doc = NULL, *settings = json_object(), *notes = json_array();
    int rc = -1;

    if (settings == NULL || notes == NULL) {
        goto cleanup;
    }
    if (!known && add_note(notes,
                           "the endpoint domain is not known yet (no state file or no "
                           "private connection): %s stands for it",
                           domain) != 0) {
        goto cleanup;
    }
    if (cfg->topology == PROV_TOPOLOGY_NLB_IP) {
        if (set_str(settings, "reindex.remote.whitelist", "%s:%u", domain,
                    (unsigned)cfg->nlb_listener_port) != 0 ||
            add_note(notes, "reindex from remote: use \"host\": \"http://%s:%u\" in _reindex",
                     domain, (unsigned)cfg->nlb_listener_port) != 0) {
            goto cleanup;
        }
    } else if (collect_clb(in, domain, settings, notes) != 0) {
        goto cleanup;
    }
    doc = json_pack("{s:s, s:s, s:s, s:b, s:O, s:O}", "instance_id", cfg->es_instance_id,
                    "topology", prov_config_topology_name(cfg->topology), "endpoint_domain", domain,
                    "domain_known", known, "settings", settings, "notes", notes);
    rc = doc != NULL ? 0 : -1;
cleanup:
    json_decref(settings);
    json_decref(notes);
    return rc == 0 ? doc : NULL;
}

/* YAML-ish text; string values are quoted only when they need it (they never do here, but the
 * placeholder's '<' would start a YAML tag, so quote every string). */
static char *render_text(const json_t *doc)
{
    const json_t *settings = json_object_get(doc, "settings");
    const json_t *notes = json_object_get(doc, "notes");
    const char *key;
    json_t *v;
    size_t i, cap = 4096, len = 0;
    char *buf = malloc(cap);
    int n;

    if (buf == NULL) {
        return NULL;
    }
    buf[0] = '\0';
#define APPEND(...)                                          \
    do {                                                     \
        n = snprintf(buf + len, cap - len, __VA_ARGS__);     \
        if (n < 0) {                                         \
            goto fail;                                       \
        }                                                    \
        if ((size_t)n >= cap - len) {                        \
            char *g = realloc(buf, cap * 2 + (size_t)n);     \
            if (g == NULL) {                                 \
                goto fail;                                   \
            }                                                \
            buf = g;                                         \
            cap = cap * 2 + (size_t)n;                       \
            n = snprintf(buf + len, cap - len, __VA_ARGS__); \
        }                                                    \
        len += (size_t)n;                                    \
    } while (0)
    APPEND("# Elasticsearch %s, topology %s\n",
           json_string_value(json_object_get(doc, "instance_id")),
           json_string_value(json_object_get(doc, "topology")));
    json_array_foreach(notes, i, v)
    {
        APPEND("# %s\n", json_string_value(v));
    }
    json_object_foreach((json_t *)settings, key, v)
    {
        if (json_is_integer(v)) {
            APPEND("%s: %lld\n", key, (long long)json_integer_value(v));
        } else {
            APPEND("%s: \"%s\"\n", key, json_string_value(v));
        }
    }
#undef APPEND
    return buf;
fail:
    free(buf);
    return NULL;
}

int prov_essettings_render(const struct prov_essettings_input *in, int json, char **out, char *err,
                           size_t err_size)
{
    json_t *doc = NULL;

    *out = NULL;
    if (in == NULL || in->cfg == NULL) {
        snprintf(err, err_size, "es-settings: no configuration");
        return -1;
    }
    doc = collect(in);
    if (doc != NULL) {
        *out = json ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : render_text(doc);
    }
    json_decref(doc);
    if (*out == NULL) {
        snprintf(err, err_size, "es-settings: out of memory");
        return -1;
    }
    return 0;
}

int prov_essettings_state_domain(const char *state_path, char *out, size_t out_size, char *err,
                                 size_t err_size)
{
    json_error_t jerr;
    json_t *doc;
    const char *d;
    int rc = 1;

    if (out_size > 0) {
        out[0] = '\0';
    }
    doc = json_load_file(state_path, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        FILE *f = fopen(state_path, "rb");
        if (f == NULL && errno == ENOENT) {
            return 1;
        }
        if (f != NULL) {
            fclose(f);
        }
        snprintf(err, err_size, "%s:%d: cannot read the state file: %s", state_path, jerr.line,
                 jerr.text);
        return -1;
    }
    d = json_string_value(json_object_get(doc, "endpoint_domain"));
    if (d != NULL && d[0] != '\0') {
        if (strlen(d) >= out_size) {
            snprintf(err, err_size, "%s: endpoint_domain is too long", state_path);
            rc = -1;
        } else {
            memcpy(out, d, strlen(d) + 1);
            rc = 0;
        }
    }
    json_decref(doc);
    return rc;
}
