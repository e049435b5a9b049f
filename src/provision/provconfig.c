/*
 * provconfig — loads the provisioner's INI file (include/plprov/provconfig.h) and checks it.
 *
 * Shaped like the relay's loader (src/relay/config.c): inih is fed through our own line reader, so
 * every error carries its physical line, section headers are parsed here, and a line inih would
 * silently split or continue is an error instead. Keys are looked up in one table (section, name,
 * parser, field), which also catches duplicates; the checks that need the whole file (required
 * keys, topology-specific sections) run last. Nothing is allocated and nothing is printed.
 */
#include "plprov/provconfig.h"

#include "provconfig_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const prov_cfg_section_names[SEC_COUNT] = {
    "", "provider", "elasticsearch", "path", "clb", "nlb", "endpoint_service", "verify", "",
};

#define F(field) offsetof(struct prov_config, field), sizeof(((struct prov_config *)0)->field)
#define NOF 0, 0
#define L(field) offsetof(struct prov_config, field), 0

static const struct key keys[] = {
    {SEC_PROVIDER, "region", T_TOKEN, F(region), NULL},
    {SEC_PROVIDER, "state_file", T_PATH, F(state_file), NULL},
    {SEC_PROVIDER, "endpoint_slb", T_URL, F(endpoint_slb), NULL},
    {SEC_PROVIDER, "endpoint_nlb", T_URL, F(endpoint_nlb), NULL},
    {SEC_PROVIDER, "endpoint_privatelink", T_URL, F(endpoint_privatelink), NULL},
    {SEC_PROVIDER, "endpoint_elasticsearch", T_URL, F(endpoint_elasticsearch), NULL},
    {SEC_PROVIDER, "metadata_endpoint", T_URL, F(metadata_endpoint), NULL},
    {SEC_PROVIDER, "wait_timeout", T_SECONDS, L(wait_timeout_s), NULL},
    {SEC_PROVIDER, "es_wait_timeout", T_SECONDS, L(es_wait_timeout_s), NULL},
    {SEC_ES, "instance_id", T_TOKEN, F(es_instance_id), NULL},
    {SEC_ES, "url", T_URL, F(es_url), NULL},
    {SEC_ES, "username", T_TOKEN, F(es_username), NULL},
    {SEC_ES, "password_env", T_TOKEN, F(es_password_env), NULL},
    {SEC_ES, "password_file", T_PATH, F(es_password_file), NULL},
    {SEC_ES, "zone_id", T_TOKEN, F(es_zone_id), NULL},
    {SEC_ES, "password", T_FORBIDDEN, NOF, NULL},
    {SEC_PATH, "topology", T_TOPOLOGY, NOF, NULL},
    {SEC_PATH, "name", T_TOKEN, F(name), NULL},
    {SEC_PATH, "vpc_id", T_TOKEN, F(vpc_id), "vpc-"},
    {SEC_CLB, "vswitch_id", T_TOKEN, F(clb_vswitch_id), "vsw-"},
    {SEC_CLB, "spec", T_TOKEN, F(clb_spec), "slb."},
    {SEC_CLB, "address", T_IPV4, F(clb_address), NULL},
    {SEC_CLB, "ecs_instances", T_ECS_LIST, NOF, "i-"},
    {SEC_CLB, "listener_ports", T_PORT_LIST, NOF, NULL},
    {SEC_NLB, "zones", T_ZONES, NOF, "vsw-"},
    {SEC_NLB, "target_ip", T_IPV4, F(target_ip), NULL},
    {SEC_NLB, "target_port", T_PORT, offsetof(struct prov_config, target_port), 0, NULL},
    {SEC_NLB, "listener_port", T_PORT, offsetof(struct prov_config, nlb_listener_port), 0, NULL},
    {SEC_EPS, "auto_accept", T_BOOL, NOF, NULL},
    {SEC_EPS, "description", T_TEXT, F(description), NULL},
    {SEC_VERIFY, "source_index", T_TOKEN, F(verify_source_index), NULL},
    {SEC_VERIFY, "dest_index", T_TOKEN, F(verify_dest_index), NULL},
    {SEC_VERIFY, "remote_url", T_URL, F(verify_remote_url), NULL},
    {SEC_VERIFY, "remote_scheme", T_SCHEME, F(verify_remote_scheme), NULL},
    {SEC_VERIFY, "remote_username", T_TOKEN, F(verify_remote_username), NULL},
    {SEC_VERIFY, "remote_password_env", T_TOKEN, F(verify_remote_password_env), NULL},
    {SEC_VERIFY, "remote_password_file", T_PATH, F(verify_remote_password_file), NULL},
    {SEC_VERIFY, "remote_password", T_FORBIDDEN, NOF, NULL},
    {SEC_VERIFY, "timeout", T_SECONDS, L(verify_timeout_s), NULL},
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))
_Static_assert(KEY_COUNT <= PROV_CFG_MAX_KEYS, "raise PROV_CFG_MAX_KEYS");

void prov_cfg_error(struct parse *p, int line, const char *fmt, ...)
{
    struct prov_config_error *e;
    va_list ap;

    if (p->errs->count >= PROV_CONFIG_MAX_ERRORS) {
        p->errs->dropped++;
        return;
    }
    e = &p->errs->items[p->errs->count++];
    e->line = line;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
}

int prov_cfg_copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);

    if (n >= size) {
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

static int is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

static int is_token(const char *s, size_t n)
{
    size_t i;

    if (n == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!is_token_char(s[i])) {
            return 0;
        }
    }
    return 1;
}

/* 1..65535 in decimal, whole string. */
static int parse_port(const char *s, size_t n, uint16_t *out)
{
    unsigned long v = 0;
    size_t i;

    if (n == 0 || n > 5) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v < 1 || v > 65535) {
        return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

static int parse_seconds(const char *s, long *out)
{
    long v = 0;
    size_t i, n = strlen(s);

    if (n == 0 || n > 6) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > PROV_CONFIG_MAX_SECONDS) {
        return -1;
    }
    *out = v;
    return 0;
}

/* http(s)://host[:port] with an optional trailing '/'. */
static int check_url(const char *v)
{
    const char *host;
    size_t n, i;

    if (strncmp(v, "http://", 7) == 0) {
        host = v + 7;
    } else if (strncmp(v, "https://", 8) == 0) {
        host = v + 8;
    } else {
        return -1;
    }
    n = strlen(host);
    if (n > 0 && host[n - 1] == '/') {
        n--;
    }
    if (n == 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (!is_token_char(host[i]) && host[i] != ':' && host[i] != '[' && host[i] != ']') {
            return -1;
        }
    }
    return 0;
}

/* Splits a comma list; calls item() on each trimmed element. Empty elements are errors. */
static int for_each_item(struct parse *p, const char *name, const char *v,
                         int (*item)(struct parse *, const char *, const char *, size_t))
{
    const char *s = v;
    int rc = 0;

    for (;;) {
        const char *end = strchr(s, ',');
        size_t n = end != NULL ? (size_t)(end - s) : strlen(s);
        while (n > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
            n--;
        }
        if (n == 0) {
            prov_cfg_error(p, p->line, "%s: empty element in the list", name);
            return -1;
        }
        if (item(p, name, s, n) != 0) {
            rc = -1;
        }
        if (end == NULL) {
            break;
        }
        s = end + 1;
    }
    return rc;
}

static int ecs_item(struct parse *p, const char *name, const char *s, size_t n)
{
    struct prov_config *c = p->cfg;
    size_t i;

    if (!is_token(s, n) || n < 3 || strncmp(s, "i-", 2) != 0 || n >= PROV_CONFIG_ID_BYTES) {
        prov_cfg_error(p, p->line, "%s: \"%.*s\" is not an ECS instance id (i-...)", name, (int)n,
                       s);
        return -1;
    }
    for (i = 0; i < c->ecs_instance_count; i++) {
        if (strlen(c->ecs_instances[i]) == n && memcmp(c->ecs_instances[i], s, n) == 0) {
            prov_cfg_error(p, p->line, "%s: \"%.*s\" is listed twice", name, (int)n, s);
            return -1;
        }
    }
    if (c->ecs_instance_count >= PROV_CONFIG_MAX_ECS) {
        prov_cfg_error(p, p->line, "%s: more than %d instances", name, PROV_CONFIG_MAX_ECS);
        return -1;
    }
    memcpy(c->ecs_instances[c->ecs_instance_count], s, n);
    c->ecs_instances[c->ecs_instance_count++][n] = '\0';
    return 0;
}

static int port_item(struct parse *p, const char *name, const char *s, size_t n)
{
    struct prov_config *c = p->cfg;
    uint16_t port;
    size_t i;

    if (parse_port(s, n, &port) != 0) {
        prov_cfg_error(p, p->line, "%s: \"%.*s\" is not a port (1..65535)", name, (int)n, s);
        return -1;
    }
    for (i = 0; i < c->listener_port_count; i++) {
        if (c->listener_ports[i] == port) {
            prov_cfg_error(p, p->line, "%s: port %u is listed twice", name, (unsigned)port);
            return -1;
        }
    }
    if (c->listener_port_count >= PROV_CONFIG_MAX_PORTS) {
        prov_cfg_error(p, p->line, "%s: more than %d ports", name, PROV_CONFIG_MAX_PORTS);
        return -1;
    }
    c->listener_ports[c->listener_port_count++] = port;
    return 0;
}

static int zone_item(struct parse *p, const char *name, const char *s, size_t n)
{
    struct prov_config *c = p->cfg;
    const char *colon = memchr(s, ':', n);
    size_t zn, vn, i;

    if (colon == NULL) {
        prov_cfg_error(p, p->line, "%s: \"%.*s\" is not ZONE:VSWITCH (cn-hangzhou-i:vsw-...)", name,
                       (int)n, s);
        return -1;
    }
    zn = (size_t)(colon - s);
    vn = n - zn - 1;
    if (!is_token(s, zn) || !is_token(colon + 1, vn) || vn < 5 ||
        strncmp(colon + 1, "vsw-", 4) != 0 || zn >= PROV_CONFIG_ID_BYTES ||
        vn >= PROV_CONFIG_ID_BYTES) {
        prov_cfg_error(p, p->line, "%s: \"%.*s\" is not ZONE:VSWITCH (cn-hangzhou-i:vsw-...)", name,
                       (int)n, s);
        return -1;
    }
    for (i = 0; i < c->zone_count; i++) {
        if (strlen(c->zones[i].zone_id) == zn && memcmp(c->zones[i].zone_id, s, zn) == 0) {
            prov_cfg_error(p, p->line, "%s: zone \"%.*s\" is listed twice (one vSwitch per zone)",
                           name, (int)zn, s);
            return -1;
        }
    }
    if (c->zone_count >= PROV_CONFIG_MAX_ZONES) {
        prov_cfg_error(p, p->line, "%s: more than %d zones", name, PROV_CONFIG_MAX_ZONES);
        return -1;
    }
    memcpy(c->zones[c->zone_count].zone_id, s, zn);
    c->zones[c->zone_count].zone_id[zn] = '\0';
    memcpy(c->zones[c->zone_count].vswitch_id, colon + 1, vn);
    c->zones[c->zone_count].vswitch_id[vn] = '\0';
    c->zone_count++;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    size_t i;

    for (i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Checks and stores one value; errors are reported here. */
static void set_value(struct parse *p, const struct key *k, const char *v)
{
    char *field = (char *)p->cfg + k->offset;
    struct in_addr a;

    switch (k->type) {
    case T_FORBIDDEN:
        prov_cfg_error(p, p->line,
                       "a password never goes in this file: use %s_env = VARIABLE or "
                       "%s_file = PATH",
                       k->name, k->name);
        return;
    case T_TOPOLOGY:
        if (strcmp(v, "clb-ecs") == 0) {
            p->cfg->topology = PROV_TOPOLOGY_CLB_ECS;
        } else if (strcmp(v, "nlb-ip") == 0) {
            p->cfg->topology = PROV_TOPOLOGY_NLB_IP;
        } else {
            prov_cfg_error(p, p->line, "topology: \"%.64s\" is not clb-ecs or nlb-ip", v);
        }
        return;
    case T_BOOL:
        if (parse_bool(v, &p->cfg->auto_accept) != 0) {
            prov_cfg_error(p, p->line, "%s: \"%.64s\" is not true or false", k->name, v);
        }
        return;
    case T_SECONDS:
        if (parse_seconds(v, (long *)(void *)field) != 0) {
            prov_cfg_error(p, p->line, "%s: \"%.64s\" is not whole seconds (1..%ld)", k->name, v,
                           (long)PROV_CONFIG_MAX_SECONDS);
        }
        return;
    case T_SCHEME:
        if (strcmp(v, "http") != 0 && strcmp(v, "https") != 0) {
            prov_cfg_error(p, p->line, "%s: \"%.64s\" is not http or https", k->name, v);
            return;
        }
        break;
    case T_PORT:
        if (parse_port(v, strlen(v), (uint16_t *)(void *)field) != 0) {
            prov_cfg_error(p, p->line, "%s: \"%.64s\" is not a port (1..65535)", k->name, v);
        }
        return;
    case T_ECS_LIST:
        for_each_item(p, k->name, v, ecs_item);
        return;
    case T_PORT_LIST:
        for_each_item(p, k->name, v, port_item);
        return;
    case T_ZONES:
        for_each_item(p, k->name, v, zone_item);
        return;
    case T_TOKEN:
        if (!is_token(v, strlen(v))) {
            prov_cfg_error(p, p->line, "%s: \"%.64s\" may hold only letters, digits, '.', '-', '_'",
                           k->name, v);
            return;
        }
        if (k->prefix != NULL && strncmp(v, k->prefix, strlen(k->prefix)) != 0) {
            prov_cfg_error(p, p->line, "%s: \"%.64s\" does not start with \"%s\"", k->name, v,
                           k->prefix);
            return;
        }
        break;
    case T_URL:
        if (check_url(v) != 0) {
            prov_cfg_error(p, p->line, "%s: \"%.64s\" is not http(s)://host[:port] (no path)",
                           k->name, v);
            return;
        }
        break;
    case T_IPV4:
        if (inet_pton(AF_INET, v, &a) != 1) {
            prov_cfg_error(p, p->line, "%s: \"%.64s\" is not an IPv4 address", k->name, v);
            return;
        }
        break;
    case T_TEXT:
    case T_PATH:
        break;
    }
    if (prov_cfg_copy(field, k->size, v) != 0) {
        prov_cfg_error(p, p->line, "%s: value longer than %zu bytes", k->name, k->size - 1);
    }
}

/* inih handler: the section comes from our reader, not from inih. */
static int on_value(void *user, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    size_t i;

    (void)section;
    if (p->section == SEC_SKIP) {
        return 1;
    }
    if (p->section == SEC_NONE) {
        prov_cfg_error(p, p->line, "key \"%.64s\" before the first [section]", name);
        return 1;
    }
    for (i = 0; i < KEY_COUNT; i++) {
        if (keys[i].section == p->section && strcmp(keys[i].name, name) == 0) {
            break;
        }
    }
    if (i == KEY_COUNT) {
        prov_cfg_error(p, p->line, "unknown key \"%.64s\" in [%s]", name,
                       prov_cfg_section_names[p->section]);
        return 1;
    }
    if (p->key_lines[i] != 0) {
        prov_cfg_error(p, p->line, "duplicate key \"%s\" in [%s] (first at line %d)", name,
                       prov_cfg_section_names[p->section], p->key_lines[i]);
        return 1;
    }
    p->key_lines[i] = p->line;
    if (value[0] == '\0' && keys[i].type != T_FORBIDDEN) {
        return 1; /* "key =" means the default */
    }
    set_value(p, &keys[i], value);
    return 1;
}

static void begin_section(struct parse *p, const char *s, size_t n)
{
    size_t i;

    if (n < 2 || s[n - 1] != ']') {
        prov_cfg_error(p, p->line, "section header without a closing ']'");
        p->section = SEC_SKIP;
        return;
    }
    for (i = 1; i < SEC_COUNT - 1; i++) {
        if (strlen(prov_cfg_section_names[i]) == n - 2 &&
            memcmp(prov_cfg_section_names[i], s + 1, n - 2) == 0) {
            break;
        }
    }
    if (i == SEC_COUNT - 1) {
        prov_cfg_error(p, p->line, "unknown section [%.*s]", (int)(n > 66 ? 64 : n - 2), s + 1);
        p->section = SEC_SKIP;
        return;
    }
    if (p->section_lines[i] != 0) {
        prov_cfg_error(p, p->line, "duplicate section [%s] (first at line %d)",
                       prov_cfg_section_names[i], p->section_lines[i]);
        p->section = SEC_SKIP;
        return;
    }
    p->section_lines[i] = p->line;
    p->section = (enum section)i;
}

/* ini_reader: the next physical line, trimmed, or "\n" for blank lines, comments, headers
 * (handled here) and lines in error (reported here). */
static char *read_line(char *str, int num, void *stream)
{
    struct parse *p = stream;
    const char *s, *eol;
    size_t n, i, max = num > 3 ? (size_t)num - 3 : 0;

    if (p->pos >= p->len || num < 4) {
        return NULL;
    }
    s = p->text + p->pos;
    eol = memchr(s, '\n', p->len - p->pos);
    n = eol != NULL ? (size_t)(eol - s) : p->len - p->pos;
    p->pos += n + (eol != NULL);
    p->line++;
    memcpy(str, "\n", 2);
    if (n > 0 && s[n - 1] == '\r') {
        n--;
    }
    if (p->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            prov_cfg_error(p, p->line, "line contains the control character 0x%02x", c);
            return str;
        }
    }
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        n--;
    }
    if (n == 0 || *s == ';' || *s == '#') {
        return str;
    }
    if (n > max) {
        prov_cfg_error(p, p->line, "line is longer than %zu bytes", max);
        return str;
    }
    if (*s == '[') {
        const char *semi = memchr(s, ';', n);
        size_t hn = semi != NULL ? (size_t)(semi - s) : n;
        while (hn > 0 && (s[hn - 1] == ' ' || s[hn - 1] == '\t')) {
            hn--;
        }
        begin_section(p, s, hn);
        return str;
    }
    for (i = 0; i < n && is_token_char(s[i]); i++) {
    }
    while (i > 0 && i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    if (i == 0 || i == n || s[i] != '=') {
        prov_cfg_error(p, p->line, "expected \"key = value\", \"[section]\" or a comment");
        return str;
    }
    memcpy(str, s, n);
    memcpy(str + n, "\n", 2);
    return str;
}

int prov_cfg_key_set(const struct parse *p, enum section sec, const char *name)
{
    size_t i;

    for (i = 0; i < KEY_COUNT; i++) {
        if (keys[i].section == sec && strcmp(keys[i].name, name) == 0) {
            return p->key_lines[i] != 0;
        }
    }
    return 0;
}

int prov_config_load_string(const char *name, const char *text, struct prov_config *out,
                            struct prov_config_errors *errs)
{
    struct parse p;

    memset(out, 0, sizeof(*out));
    memset(errs, 0, sizeof(*errs));
    prov_cfg_copy(errs->file, sizeof(errs->file), name);
    memset(&p, 0, sizeof(p));
    p.cfg = out;
    p.errs = errs;
    p.text = text;
    p.len = strlen(text);
    if (prov_cfg_copy(out->path, sizeof(out->path), name) != 0) {
        prov_cfg_error(&p, 0, "file name too long");
        goto fail;
    }
    if (ini_parse_stream(read_line, &p, on_value, &p) < 0) {
        prov_cfg_error(&p, 0, "cannot parse the file");
    }
    prov_cfg_finish(&p);
    if (errs->count == 0 && errs->dropped == 0) {
        return 0;
    }
fail:
    memset(out, 0, sizeof(*out));
    return -1;
}

/* A whole-file error (line 0) when no parse state exists yet. */
static void file_error(struct prov_config_errors *errs, const char *reason)
{
    errs->count = 1;
    errs->items[0].line = 0;
    snprintf(errs->items[0].reason, sizeof(errs->items[0].reason), "%s", reason);
}

int prov_config_load(const char *path, struct prov_config *out, struct prov_config_errors *errs)
{
    FILE *f = NULL;
    char *text = NULL, *grown;
    size_t cap = 0, len = 0, got = 1;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    memset(errs, 0, sizeof(*errs));
    prov_cfg_copy(errs->file, sizeof(errs->file), path);
    f = fopen(path, "rb");
    if (f == NULL) {
        file_error(errs, errno == ENOENT ? "cannot open: no such file" : "cannot open the file");
        goto cleanup;
    }
    while (got > 0) {
        if (cap - len < 4096) {
            grown = cap < (1u << 20) ? realloc(text, cap + 8192 + 1) : NULL;
            if (grown == NULL) {
                file_error(errs, cap < (1u << 20) ? "out of memory" : "file is larger than 1 MiB");
                goto cleanup;
            }
            text = grown;
            cap += 8192;
        }
        got = fread(text + len, 1, cap - len, f);
        len += got;
    }
    text[len] = '\0';
    if (ferror(f) || memchr(text, '\0', len) != NULL) {
        file_error(errs, ferror(f) ? "read error" : "file contains a NUL byte");
        goto cleanup;
    }
    rc = prov_config_load_string(path, text, out, errs);
cleanup:
    if (f != NULL) {
        fclose(f);
    }
    free(text);
    return rc;
}

size_t prov_config_errors_format(const struct prov_config_errors *errs, char *buf, size_t size)
{
    size_t used = 0, i;
    int n;

    if (size > 0) {
        buf[0] = '\0';
    }
    for (i = 0; i < errs->count; i++) {
        const struct prov_config_error *e = &errs->items[i];
        char *at = used < size ? buf + used : NULL;
        size_t room = used < size ? size - used : 0;
        if (e->line > 0) {
            n = snprintf(at, room, "%s:%d: %s\n", errs->file, e->line, e->reason);
        } else {
            n = snprintf(at, room, "%s: %s\n", errs->file, e->reason);
        }
        if (n > 0) {
            used += (size_t)n;
        }
    }
    if (errs->dropped > 0) {
        char *at = used < size ? buf + used : NULL;
        n = snprintf(at, used < size ? size - used : 0, "%s: ... and %zu more errors\n", errs->file,
                     errs->dropped);
        if (n > 0) {
            used += (size_t)n;
        }
    }
    return used;
}

const char *prov_config_topology_name(enum prov_topology t)
{
    switch (t) {
    case PROV_TOPOLOGY_CLB_ECS:
        return "clb-ecs";
    case PROV_TOPOLOGY_NLB_IP:
        return "nlb-ip";
    case PROV_TOPOLOGY_NONE:
        break;
    }
    return "none";
}
