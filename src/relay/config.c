/*
 * config — the loader: an INI file (split by inih) checked key by key into a plr_config
 * snapshot, with every error of the file collected as "file:line: reason"; and the snapshot's
 * reference count.
 *
 * inih is fed through our own line reader (ini_parse_stream), which is where the physical
 * concerns live: exact line numbers (inih's handler gets none in Debian's build), CRLF, a UTF-8
 * BOM, NUL and control bytes, lines longer than inih's buffer (an error, never silently split),
 * and section headers, which inih would truncate at 50 bytes. Leading blanks are dropped before
 * inih sees a line, so its own multi-line continuation never applies; instead an indented line
 * after a list key (listen, upstreams, allow_*, ...) is more items of that list: each value is
 * applied once its continuation lines are in, so long lists are not bound by inih's 200-byte
 * line. inih splits "key = value", trims, and strips inline " ; comments". Each value goes through
 * the key tables of config_values.c (config_keys.h); what needs more than one value — listen
 * conflicts, required keys, dns_ttl_min <= dns_ttl_max, the hosts file being readable — is checked
 * here. Errors are sorted into file order at the end; a file with any error yields no snapshot.
 */
#include "plrelay/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "plrelay/fileio.h"
#include "plrelay/hosts.h"

#include "config_keys.h"

#define CONFIG_MAX_BYTES (1024 * 1024) /* larger config files are refused */

enum section_kind {
    SEC_NONE = 0,   /* before the first header: keys here are errors */
    SEC_GLOBAL = 1, /* [global] */
    SEC_ROUTE = 2,  /* [route NAME]; p->route is the index */
    SEC_SKIP = 3,   /* a header that was wrong: its keys are ignored, not reported again */
};

/* Loader state, shared by the line reader (stream) and the inih handler (user). */
struct parse {
    struct plr_config *cfg; /* being built; freed on failure */
    struct plr_config_errors *errs;
    const char *text; /* whole file */
    size_t len, pos;  /* bytes, and the reader's position */
    int line;         /* physical line last handed to inih */
    enum section_kind section;
    int section_line;                     /* line of the current header */
    size_t route;                         /* index of the current route when SEC_ROUTE */
    size_t route_cap;                     /* allocated cfg->routes / listen_lines */
    int *listen_lines;                    /* per route: line of its listen key, 0 = none yet */
    int route_headers;                    /* [route ...] headers seen, valid or not */
    int global_line;                      /* first [global] header, 0 = none */
    int global_keys[PLR_CONFIG_KEYS_MAX]; /* line each [global] key was set on, 0 = unset */
    int route_keys[PLR_CONFIG_KEYS_MAX];  /* same for the current route */
    /* The last "key = value", applied once its indented continuation lines are in. */
    bool pend_active;
    char pend_name[PLR_CONFIG_NAME_MAX];
    char *pend_value; /* owned, NUL-terminated */
    size_t pend_len, pend_cap;
    int pend_line;
};

static void add_error_v(struct parse *p, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void add_error(struct parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void key_error(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_error_v(struct parse *p, int line, const char *fmt, va_list ap)
{
    struct plr_config_errors *errs = p->errs;
    struct plr_config_error *e;

    if (errs->count >= PLR_CONFIG_MAX_ERRORS) {
        errs->dropped++;
        return;
    }
    e = &errs->items[errs->count++];
    e->line = line;
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
}

static void add_error(struct parse *p, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_error_v(p, line, fmt, ap);
    va_end(ap);
}

/* An error about a value on the current line, prefixed with the route it belongs to. */
static void key_error(struct parse *p, const char *fmt, ...)
{
    char msg[PLR_CONFIG_REASON_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (p->section == SEC_ROUTE) {
        add_error(p, p->line, "route \"%s\": %s", p->cfg->routes[p->route].name, msg);
    } else {
        add_error(p, p->line, "%s", msg);
    }
}

static struct plr_route_config *cur_route(struct parse *p)
{
    return &p->cfg->routes[p->route];
}

/* ---- checks across values ------------------------------------------------------------------- */

/* Do two listen addresses collide? Same family and port, and the same address or a wildcard. */
static int listen_overlaps(const struct plr_hostport *a, const struct plr_hostport *b)
{
    if (a->addr.ss_family != b->addr.ss_family || a->port != b->port) {
        return 0;
    }
    if (a->addr.ss_family == AF_INET) {
        in_addr_t x = ((const struct sockaddr_in *)&a->addr)->sin_addr.s_addr;
        in_addr_t y = ((const struct sockaddr_in *)&b->addr)->sin_addr.s_addr;
        return x == y || x == htonl(INADDR_ANY) || y == htonl(INADDR_ANY);
    }
    const struct in6_addr *x = &((const struct sockaddr_in6 *)&a->addr)->sin6_addr;
    const struct in6_addr *y = &((const struct sockaddr_in6 *)&b->addr)->sin6_addr;
    return memcmp(x, y, sizeof(*x)) == 0 || IN6_IS_ADDR_UNSPECIFIED(x) ||
           IN6_IS_ADDR_UNSPECIFIED(y);
}

/* Report the first earlier listen address (of any route, or earlier in this route's list) that
 * hp, item `upto` of the current route's list, collides with. */
static void check_listen_conflict(struct parse *p, const struct plr_hostport *hp, size_t upto)
{
    char mine[PLR_SOCKADDR_STRLEN], theirs[PLR_SOCKADDR_STRLEN];
    size_t r, i;

    for (r = 0; r <= p->route; r++) {
        const struct plr_route_config *other = &p->cfg->routes[r];
        size_t count = r == p->route ? upto : other->listen_count;
        for (i = 0; i < count; i++) {
            if (!listen_overlaps(hp, &other->listen[i])) {
                continue;
            }
            plr_sockaddr_str((const struct sockaddr *)&hp->addr, mine, sizeof(mine));
            plr_sockaddr_str((const struct sockaddr *)&other->listen[i].addr, theirs,
                             sizeof(theirs));
            if (r == p->route) {
                key_error(p,
                          strcmp(mine, theirs) == 0 ? "listen %s is listed twice"
                                                    : "listen %s overlaps %s in the same list",
                          mine, theirs);
            } else if (strcmp(mine, theirs) == 0) {
                key_error(p, "listen %s is already used by route \"%s\" (line %d)", mine,
                          other->name, p->listen_lines[r]);
            } else {
                key_error(p, "listen %s overlaps %s of route \"%s\" (line %d)", mine, theirs,
                          other->name, p->listen_lines[r]);
            }
            return;
        }
    }
}

/* Apply one value; then the checks that need more than the value itself. */
static void apply_value(struct parse *p, const struct plr_config_key *k, void *base,
                        const char *value)
{
    char reason[PLR_CONFIG_REASON_MAX];
    struct plr_route_config *rc = base;
    struct plr_hosts *hosts;
    size_t i;

    if (plr_config_key_apply(k, base, value, reason, sizeof(reason)) != 0) {
        key_error(p, "%s", reason);
    } else if ((k->flags & PLR_KEY_LISTEN) != 0) {
        p->listen_lines[p->route] = p->line;
        for (i = 0; i < rc->listen_count; i++) {
            check_listen_conflict(p, &rc->listen[i], i);
        }
    } else if ((k->flags & PLR_KEY_HOSTS_FILE) != 0 && value[0] != '\0') {
        /* It must be there and readable now; the resolver reads it again when it starts. */
        hosts = plr_hosts_load(value, reason, sizeof(reason));
        if (hosts == NULL) {
            key_error(p, "%s: %s", k->name, reason);
        }
        plr_hosts_free(hosts);
    }
}

static void apply_defaults(struct parse *p, const struct plr_config_key *table, void *base)
{
    for (; table->name != NULL; table++) {
        if (table->def != NULL) {
            apply_value(p, table, base, table->def);
        }
    }
}

/* ---- sections ------------------------------------------------------------------------------- */

static int valid_route_name(const char *name, size_t n)
{
    size_t i;

    if (n == 0 || n >= PLR_CONFIG_NAME_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* Start [route NAME]; on any problem the section is skipped. */
static void begin_route(struct parse *p, const char *name, size_t n)
{
    struct plr_config *cfg = p->cfg;
    size_t i;

    p->route_headers++;
    p->section = SEC_SKIP;
    if (!valid_route_name(name, n)) {
        add_error(p, p->line, "invalid route name \"%.*s\" (1 to 63 of A-Z a-z 0-9 _ . -)",
                  (int)(n > 64 ? 64 : n), name);
        return;
    }
    for (i = 0; i < cfg->route_count; i++) {
        if (strlen(cfg->routes[i].name) == n && memcmp(cfg->routes[i].name, name, n) == 0) {
            add_error(p, p->line, "route \"%s\" is defined twice (first at line %d)",
                      cfg->routes[i].name, cfg->routes[i].line);
            return;
        }
    }
    if (cfg->route_count == p->route_cap) {
        size_t cap = p->route_cap == 0 ? 4 : p->route_cap * 2;
        struct plr_route_config *routes = realloc(cfg->routes, cap * sizeof(*routes));
        int *lines;
        if (routes == NULL) {
            add_error(p, p->line, "out of memory");
            return;
        }
        cfg->routes = routes;
        lines = realloc(p->listen_lines, cap * sizeof(*lines));
        if (lines == NULL) {
            add_error(p, p->line, "out of memory");
            return;
        }
        p->listen_lines = lines;
        p->route_cap = cap;
    }
    p->route = cfg->route_count++;
    memset(&cfg->routes[p->route], 0, sizeof(cfg->routes[p->route]));
    memcpy(cfg->routes[p->route].name, name, n);
    cfg->routes[p->route].line = p->line;
    apply_defaults(p, plr_config_route_keys, &cfg->routes[p->route]);
    p->listen_lines[p->route] = 0;
    memset(p->route_keys, 0, sizeof(p->route_keys));
    p->section = SEC_ROUTE;
}

static int key_line(const struct plr_config_key *table, const int *lines, const char *name);

/* Keys that only mean something with a PROXY header: the ids come from v2 TLVs. */
static void check_route_ingress(struct parse *p)
{
    const struct plr_route_config *rc = cur_route(p);
    const struct {
        const char *key;
        int set;
        int needs_v2; /* the value comes from a v2 TLV */
    } keys[] = {
        {"trusted_proxies", rc->trusted_proxies != NULL, 0},
        {"allow_endpoints", rc->allow_endpoints != NULL, 1},
        {"allow_vpcs", rc->allow_vpcs != NULL, 1},
        {"allow_endpoint_services", rc->allow_endpoint_services != NULL, 1},
    };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        int line = key_line(plr_config_route_keys, p->route_keys, keys[i].key);
        if (!keys[i].set)
            continue;
        if (rc->proxy_protocol == PLR_ROUTE_PP_OFF)
            add_error(p, line, "route \"%s\": %s needs proxy_protocol (v1, v2 or any)", rc->name,
                      keys[i].key);
        else if (rc->proxy_protocol == PLR_ROUTE_PP_V1 && keys[i].needs_v2)
            add_error(p, line,
                      "route \"%s\": %s needs proxy_protocol = v2 or any: PrivateLink ids travel "
                      "in v2 TLVs, which v1 cannot carry",
                      rc->name, keys[i].key);
    }
}

/* What each mode needs, and keys that would be silently ignored in it. */
static void check_route_mode(struct parse *p)
{
    const struct plr_route_config *rc = cur_route(p);
    int up = key_line(plr_config_route_keys, p->route_keys, "upstreams");
    int dest = key_line(plr_config_route_keys, p->route_keys, "allow_destinations");
    int priv = key_line(plr_config_route_keys, p->route_keys, "allow_private_destinations");
    int auth = key_line(plr_config_route_keys, p->route_keys, "auth");

    if (rc->mode == PLR_MODE_TCP) {
        if (up == 0)
            add_error(p, p->section_line, "route \"%s\": missing required key \"upstreams\"",
                      rc->name);
        if (dest != 0 || priv != 0 || auth != 0)
            add_error(p,
                      dest != 0   ? dest
                      : priv != 0 ? priv
                                  : auth,
                      "route \"%s\": allow_destinations, allow_private_destinations and auth are "
                      "for mode = connect",
                      rc->name);
        return;
    }
    if (up != 0)
        add_error(p, up,
                  "route \"%s\": upstreams is not used in mode = connect (destinations come from "
                  "the requests; list them in allow_destinations)",
                  rc->name);
    if (dest == 0)
        add_error(p, p->section_line,
                  "route \"%s\": mode = connect needs allow_destinations (deny by default)",
                  rc->name);
    if (rc->send_proxy != PLR_SEND_PROXY_OFF)
        add_error(p, key_line(plr_config_route_keys, p->route_keys, "send_proxy"),
                  "route \"%s\": send_proxy is not supported in mode = connect", rc->name);
}

/* End of a section: a route must have had its required keys. */
static void end_section(struct parse *p)
{
    const struct plr_config_key *k;
    int i;

    if (p->section != SEC_ROUTE) {
        return;
    }
    for (k = plr_config_route_keys, i = 0; k->name != NULL; k++, i++) {
        if ((k->flags & PLR_KEY_REQUIRED) != 0 && p->route_keys[i] == 0) {
            add_error(p, p->section_line, "route \"%s\": missing required key \"%s\"",
                      cur_route(p)->name, k->name);
        }
    }
    check_route_ingress(p);
    check_route_mode(p);
}

/* A header line, "[...]" with optional blanks and a comment after the ']'. */
static void begin_section(struct parse *p, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    const char *in, *in_end, *after;

    end_section(p);
    p->section = SEC_SKIP;
    p->section_line = p->line;
    if (close == NULL) {
        add_error(p, p->line, "section header has no closing \"]\"");
        return;
    }
    for (after = close + 1; after < s + n && (*after == ' ' || *after == '\t'); after++) {
    }
    if (after < s + n && *after != ';' && *after != '#') {
        add_error(p, p->line, "unexpected text after \"]\"");
        return;
    }
    for (in = s + 1; in < close && (*in == ' ' || *in == '\t'); in++) {
    }
    for (in_end = close; in_end > in && (in_end[-1] == ' ' || in_end[-1] == '\t'); in_end--) {
    }
    n = (size_t)(in_end - in);
    if (n == 6 && memcmp(in, "global", 6) == 0) {
        if (p->global_line != 0) {
            add_error(p, p->line, "[global] appears twice (first at line %d)", p->global_line);
            return;
        }
        p->global_line = p->line;
        p->section = SEC_GLOBAL;
    } else if (n >= 5 && memcmp(in, "route", 5) == 0 && (n == 5 || in[5] == ' ' || in[5] == '\t')) {
        for (in += 5; in < in_end && (*in == ' ' || *in == '\t'); in++) {
        }
        if (in == in_end) {
            p->route_headers++;
            add_error(p, p->line, "[route] needs a name: [route NAME]");
            return;
        }
        begin_route(p, in, (size_t)(in_end - in));
    } else {
        add_error(p, p->line, "unknown section [%.*s] (use [global] or [route NAME])",
                  (int)(n > 64 ? 64 : n), in);
    }
}

/* ---- lines: the reader inih pulls from ------------------------------------------------------ */

static void flush_pending(struct parse *p);
static void continue_value(struct parse *p, const char *s, size_t n);

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Physical checks of one line (without its line ending). Returns 0 if it may be parsed. */
static int check_line_bytes(struct parse *p, const char *s, size_t n, size_t max)
{
    size_t i;

    if (n > max) {
        add_error(p, p->line, "line is longer than %zu bytes", max);
        return -1;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0) {
            add_error(p, p->line, "line contains a NUL byte");
            return -1;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            add_error(p, p->line, "line contains the control character 0x%02x", c);
            return -1;
        }
    }
    return 0;
}

/* A "key = value" line: the key must be one token of key characters, then '='. */
static int check_key_line(struct parse *p, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && is_key_char(s[i])) {
        i++;
    }
    while (i > 0 && i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    if (i == 0 || i == n || s[i] != '=') {
        add_error(p, p->line, "expected \"key = value\", \"[section]\" or a comment");
        return -1;
    }
    return 0;
}

/* ini_reader: hand inih the next physical line, trimmed, or "\n" for lines that are blank,
 * comments, section headers (handled here) or in error (already reported). */
static char *read_line(char *str, int num, void *stream)
{
    struct parse *p = stream;
    const char *s, *eol;
    size_t n, max = num > 3 ? (size_t)num - 3 : 0;

    if (p->pos >= p->len || num < 4) {
        flush_pending(p);
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
    if (check_line_bytes(p, s, n, max) != 0) {
        return str;
    }
    bool indented = n > 0 && (*s == ' ' || *s == '\t');
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        n--;
    }
    if (n > 0 && (*s == ';' || *s == '#')) {
        if (!indented)
            flush_pending(p); /* an indented comment may sit between continuation lines */
        return str;
    }
    if (indented && n > 0 && p->pend_active && *s != '[' && memchr(s, '=', n) == NULL) {
        continue_value(p, s, n);
        return str;
    }
    flush_pending(p);
    if (n == 0) {
        return str;
    }
    if (*s == '[') {
        begin_section(p, s, n);
        return str;
    }
    if (check_key_line(p, s, n) == 0) {
        memcpy(str, s, n);
        memcpy(str + n, "\n", 2);
    }
    return str;
}

/* Apply one key of a section table, once per section. */
static void apply_key(struct parse *p, const struct plr_config_key *table, int *lines, void *base,
                      const char *where, const char *name, const char *value)
{
    const struct plr_config_key *k;
    int i;

    for (k = table, i = 0; k->name != NULL; k++, i++) {
        if (strcmp(k->name, name) == 0) {
            break;
        }
    }
    if (k->name == NULL) {
        add_error(p, p->line, "unknown key \"%.64s\" in [%s]", name, where);
        return;
    }
    if (lines[i] != 0) {
        add_error(p, p->line, "duplicate key \"%s\" in [%s] (first at line %d)", name, where,
                  lines[i]);
        return;
    }
    lines[i] = p->line;
    if (value[0] == '"' || value[0] == '\'') {
        key_error(p, "%s: write the value without quotes", name);
    } else if (value[0] == '\0' && (k->flags & PLR_KEY_EMPTY_OK) == 0) {
        key_error(p, "%s: value is empty", name);
    } else {
        apply_value(p, k, base, value);
    }
}

/* Apply one complete value (continuation lines joined) at the line of its key. */
static void dispatch_value(struct parse *p, const char *name, const char *value)
{
    char where[PLR_CONFIG_NAME_MAX + 8];

    switch (p->section) {
    case SEC_NONE:
        add_error(p, p->line,
                  "key \"%.64s\" is outside any section (put it under [global] or "
                  "[route NAME])",
                  name);
        break;
    case SEC_GLOBAL:
        apply_key(p, plr_config_global_keys, p->global_keys, p->cfg, "global", name, value);
        break;
    case SEC_ROUTE:
        snprintf(where, sizeof(where), "route %s", cur_route(p)->name);
        apply_key(p, plr_config_route_keys, p->route_keys, cur_route(p), where, name, value);
        break;
    case SEC_SKIP:
        break;
    }
}

static void flush_pending(struct parse *p)
{
    int line = p->line;

    if (!p->pend_active)
        return;
    p->pend_active = false;
    p->line = p->pend_line;
    dispatch_value(p, p->pend_name, p->pend_value);
    p->line = line;
}

static int pend_append(struct parse *p, const char *text, size_t n)
{
    if (p->pend_len + n + 1 > CONFIG_MAX_BYTES)
        return -1;
    if (p->pend_len + n + 1 > p->pend_cap) {
        size_t cap = (p->pend_len + n + 1) * 2;
        char *v = realloc(p->pend_value, cap);
        if (v == NULL)
            return -1;
        p->pend_value = v;
        p->pend_cap = cap;
    }
    memcpy(p->pend_value + p->pend_len, text, n);
    p->pend_len += n;
    p->pend_value[p->pend_len] = '\0';
    return 0;
}

/* inih's handler: keep the value until the reader has seen its continuation lines. */
#if INI_HANDLER_LINENO
static int on_value(void *user, const char *section, const char *name, const char *value,
                    int lineno)
#else
static int on_value(void *user, const char *section, const char *name, const char *value)
#endif
{
    struct parse *p = user;

    (void)section; /* the reader tracks sections itself: inih truncates long ones */
    if (value == NULL)
        return 1;
    flush_pending(p);
    p->pend_len = 0;
    snprintf(p->pend_name, sizeof(p->pend_name), "%s", name);
    if (pend_append(p, value, strlen(value)) == -1) {
        add_error(p, p->line, "%s: value too long or out of memory", name);
        return 1;
    }
    p->pend_line = p->line;
    p->pend_active = true;
    return 1;
}

/* Is `name` a list key of the current section (its value may go on over indented lines)? */
static bool pending_is_list(const struct parse *p)
{
    const struct plr_config_key *k =
        p->section == SEC_GLOBAL ? plr_config_global_keys : plr_config_route_keys;

    for (; k->name != NULL; k++)
        if (strcmp(k->name, p->pend_name) == 0)
            return (k->flags & PLR_KEY_LIST) != 0;
    return false;
}

/* An indented line after a list key: more items of its value. */
static void continue_value(struct parse *p, const char *s, size_t n)
{
    for (size_t i = 1; i < n; i++) { /* an inline " ; comment" ends it, as inih does */
        if (s[i] == ';' && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
            n = i;
            break;
        }
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!pending_is_list(p)) {
        add_error(p, p->line, "an indented line continues only a list (\"%s\" is not one)",
                  p->pend_name);
        return;
    }
    const char *sep = p->pend_len > 0 && p->pend_value[p->pend_len - 1] != ',' ? ", " : " ";
    if (pend_append(p, sep, strlen(sep)) == -1 || pend_append(p, s, n) == -1)
        add_error(p, p->line, "%s: value too long or out of memory", p->pend_name);
}

/* ---- the whole file ------------------------------------------------------------------------- */

/* The line a key was set on in its section, 0 if it was not. */
static int key_line(const struct plr_config_key *table, const int *lines, const char *name)
{
    int i;

    for (i = 0; table[i].name != NULL; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return lines[i];
        }
    }
    return 0;
}

static void check_whole_file(struct parse *p)
{
    const struct plr_config *cfg = p->cfg;

    if (p->route_headers == 0) {
        add_error(p, 0, "no [route ...] section: nothing to relay");
    }
    if (cfg->dns_ttl_min_ms > cfg->dns_ttl_max_ms) {
        int a = key_line(plr_config_global_keys, p->global_keys, "dns_ttl_min");
        int b = key_line(plr_config_global_keys, p->global_keys, "dns_ttl_max");
        add_error(p, a > b ? a : b, "dns_ttl_min (%llu ms) is more than dns_ttl_max (%llu ms)",
                  (unsigned long long)cfg->dns_ttl_min_ms, (unsigned long long)cfg->dns_ttl_max_ms);
    }
}

/* Stable sort of the stored errors by line; whole-file errors (line 0) go last. */
static void errors_reset(struct plr_config_errors *errs, const char *name)
{
    errs->count = 0;
    errs->dropped = 0;
    snprintf(errs->file, sizeof(errs->file), "%s", name);
}

/* Parse text[0..len) (which may hold NUL bytes) named `name`. */
static struct plr_config *load_buffer(const char *name, const char *text, size_t len,
                                      struct plr_config_errors *errs)
{
    struct parse p;

    memset(&p, 0, sizeof(p));
    p.errs = errs;
    p.text = text;
    p.len = len;
    p.cfg = calloc(1, sizeof(*p.cfg));
    if (p.cfg == NULL) {
        add_error(&p, 0, "out of memory");
        return NULL;
    }
    snprintf(p.cfg->path, sizeof(p.cfg->path), "%s", name);
    atomic_init(&p.cfg->refs, 1);
    apply_defaults(&p, plr_config_global_keys, p.cfg);
    if (ini_parse_stream(read_line, &p, on_value, &p) < 0) {
        add_error(&p, 0, "out of memory");
    }
    flush_pending(&p);
    end_section(&p);
    check_whole_file(&p);
    free(p.listen_lines);
    free(p.pend_value);
    if (errs->count > 0 || errs->dropped > 0) {
        plr_config_sort_errors(errs);
        plr_config_free_snapshot(p.cfg);
        return NULL;
    }
    return p.cfg;
}

struct plr_config *plr_config_load_string(const char *name, const char *text,
                                          struct plr_config_errors *errs)
{
    struct plr_config_errors scratch;

    if (errs == NULL) {
        errs = &scratch;
    }
    if (name == NULL) {
        name = "(string)";
    }
    errors_reset(errs, name);
    if (text == NULL) {
        text = "";
    }
    return load_buffer(name, text, strlen(text), errs);
}

struct plr_config *plr_config_load(const char *path, struct plr_config_errors *errs)
{
    struct plr_config_errors scratch;
    struct plr_config *cfg;
    char err[PLR_CONFIG_REASON_MAX];
    size_t len = 0;
    char *text;

    if (errs == NULL) {
        errs = &scratch;
    }
    if (path == NULL) {
        path = "";
    }
    errors_reset(errs, path);
    text = plr_file_read(path, CONFIG_MAX_BYTES, 0, &len, err, sizeof(err));
    if (text == NULL) {
        errs->count = 1;
        errs->items[0].line = 0;
        snprintf(errs->items[0].reason, sizeof(errs->items[0].reason), "%s", err);
        return NULL;
    }
    cfg = load_buffer(path, text, len, errs);
    free(text);
    return cfg;
}
