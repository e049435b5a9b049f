/*
 * config_values — what a config value may be: the pure parsers of durations, sizes, whole
 * numbers, "host:port" and lists of them, the printable form of a socket address, and the key
 * tables (config_keys.h) that give every key its parser, default and field.
 *
 * No I/O and no file-wide state: each parser takes one NUL-terminated value and either fills its
 * output or writes a human reason ("\"3x\" is not a duration (use ms, s, m or h)") that the
 * loader prefixes with the route. Numbers are read digit by digit with explicit ceilings instead
 * of strtoull, so signs, blanks, leading zeros and overflow are all refused the same way. Numeric
 * host forms that inet_aton would take but inet_pton refuses ("2852039166", "0251.0376.0251.0376",
 * "0xa9fea9fe") are refused too: they never reach a resolver.
 */
#include "plrelay/config.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config_keys.h"
#include "plrelay/acl.h"
#include "plrelay/auth.h"
#include "plrelay/upstream.h"

#define MS_PER_DAY (24ull * 3600ull * 1000ull)
#define DURATION_MAX_MS (30ull * MS_PER_DAY)         /* 30 days */
#define SIZE_MAX_BYTES (1024ull * 1024ull * 1024ull) /* 1 GiB */
#define QUOTE_MAX 64                                 /* bytes of a bad value quoted in a reason */
#define HOSTNAME_MAX 253                             /* RFC 1123 name, without a trailing dot */
#define LABEL_MAX 63
#define ITEM_MAX 512 /* one list item */

/* Write text as a quoted excerpt into q: at most QUOTE_MAX bytes, control bytes as '?'. */
static const char *quote(const char *text, char *q, size_t q_len)
{
    size_t n = 0;
    size_t i;

    q[n++] = '"';
    for (i = 0; text[i] != '\0' && i < QUOTE_MAX && n + 5 < q_len; i++) {
        unsigned char c = (unsigned char)text[i];
        q[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (text[i] != '\0' && n + 5 < q_len) {
        memcpy(q + n, "...", 3);
        n += 3;
    }
    q[n++] = '"';
    q[n] = '\0';
    return q;
}

#define QUOTE_BUF (QUOTE_MAX + 8)

enum digits_result {
    DIGITS_OK = 0,      /* a number, within the ceiling */
    DIGITS_NONE = 1,    /* no digit at the start */
    DIGITS_ZERO = 2,    /* a leading zero before more digits */
    DIGITS_TOO_BIG = 3, /* digits all right, value above the ceiling */
};

/* Read the decimal digits at the start of s, stopping at the first non-digit (*end). Every digit
 * is consumed even past the ceiling, so "99999999999h" is "too large", not "not a duration". */
static enum digits_result read_digits(const char *s, uint64_t max, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    int over = 0;
    const char *p = s;

    if (*p < '0' || *p > '9') {
        *end = p;
        return DIGITS_NONE;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (over || d > max || v > (max - d) / 10) {
            over = 1;
            continue;
        }
        v = v * 10 + d;
    }
    *end = p;
    if (s[0] == '0' && p - s > 1) {
        return DIGITS_ZERO;
    }
    if (over) {
        return DIGITS_TOO_BIG;
    }
    *out = v;
    return DIGITS_OK;
}

int plr_config_parse_duration(const char *text, uint64_t *out_ms, char *reason, size_t reason_len)
{
    static const struct {
        const char *suffix;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    char q[QUOTE_BUF];
    const char *end;
    uint64_t v = 0;
    enum digits_result r = read_digits(text, DURATION_MAX_MS, &v, &end);
    size_t i;

    if (r == DIGITS_NONE) {
        snprintf(reason, reason_len, "%s is not a duration (use ms, s, m or h)",
                 quote(text, q, sizeof(q)));
        return -1;
    }
    if (r == DIGITS_ZERO) {
        snprintf(reason, reason_len, "%s has a leading zero", quote(text, q, sizeof(q)));
        return -1;
    }
    if (*end == '\0') {
        if (r == DIGITS_OK && v == 0) {
            *out_ms = 0;
            return 0;
        }
        snprintf(reason, reason_len, "%s has no unit (use ms, s, m or h)",
                 quote(text, q, sizeof(q)));
        return -1;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].suffix) != 0) {
            continue;
        }
        if (r == DIGITS_TOO_BIG || v > DURATION_MAX_MS / units[i].ms) {
            snprintf(reason, reason_len, "%s is longer than 30 days", quote(text, q, sizeof(q)));
            return -1;
        }
        *out_ms = v * units[i].ms;
        return 0;
    }
    snprintf(reason, reason_len, "%s is not a duration (use ms, s, m or h)",
             quote(text, q, sizeof(q)));
    return -1;
}

int plr_config_parse_size(const char *text, size_t *out_bytes, char *reason, size_t reason_len)
{
    char q[QUOTE_BUF];
    const char *end;
    uint64_t v = 0;
    uint64_t mult = 1;
    enum digits_result r = read_digits(text, SIZE_MAX_BYTES, &v, &end);

    if (r == DIGITS_ZERO) {
        snprintf(reason, reason_len, "%s has a leading zero", quote(text, q, sizeof(q)));
        return -1;
    }
    if (r != DIGITS_NONE && (*end == 'k' || *end == 'K') && end[1] == '\0') {
        mult = 1024;
    } else if (r != DIGITS_NONE && (*end == 'm' || *end == 'M') && end[1] == '\0') {
        mult = 1024 * 1024;
    } else if (r == DIGITS_NONE || *end != '\0') {
        snprintf(reason, reason_len, "%s is not a size (use bytes, or a number with k or m)",
                 quote(text, q, sizeof(q)));
        return -1;
    }
    if (r == DIGITS_TOO_BIG || v > SIZE_MAX_BYTES / mult) {
        snprintf(reason, reason_len, "%s is more than 1 GiB", quote(text, q, sizeof(q)));
        return -1;
    }
    *out_bytes = (size_t)(v * mult);
    return 0;
}

int plr_config_parse_uint(const char *text, uint64_t lo, uint64_t hi, uint64_t *out, char *reason,
                          size_t reason_len)
{
    char q[QUOTE_BUF];
    const char *end;
    uint64_t v = 0;
    enum digits_result r = read_digits(text, hi, &v, &end);

    if (r != DIGITS_OK || *end != '\0' || v < lo) {
        snprintf(reason, reason_len, "%s is not a whole number from %llu to %llu",
                 quote(text, q, sizeof(q)), (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* Port: digits only, 1..65535, no leading zero. text is the part after the ':'. */
static int parse_port(const char *text, uint16_t *out, char *reason, size_t reason_len)
{
    char q[QUOTE_BUF];
    const char *end;
    uint64_t v = 0;
    enum digits_result r = read_digits(text, 65535, &v, &end);

    if (r == DIGITS_NONE || *end != '\0') {
        snprintf(reason, reason_len, "port %s is not a number", quote(text, q, sizeof(q)));
        return -1;
    }
    if (r == DIGITS_ZERO) {
        snprintf(reason, reason_len, "port %s has a leading zero", quote(text, q, sizeof(q)));
        return -1;
    }
    if (r == DIGITS_TOO_BIG || v == 0) {
        snprintf(reason, reason_len, "port %s is out of range (1-65535)",
                 quote(text, q, sizeof(q)));
        return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 1123 host name: labels of letters, digits and inner '-', 1..63 bytes, 253 in all, and
 * (RFC 3696 §2) a last label that is not all digits, so "1.2.3.4.5" is no name either. */
static int check_hostname(const char *host, char *reason, size_t reason_len)
{
    char q[QUOTE_BUF];
    size_t len = strlen(host);
    size_t start = 0;
    int all_digits = 1;
    size_t i;

    if (len > HOSTNAME_MAX) {
        snprintf(reason, reason_len, "host name %s is longer than %d bytes",
                 quote(host, q, sizeof(q)), HOSTNAME_MAX);
        return -1;
    }
    for (i = 0; i <= len; i++) {
        char c = host[i];
        if (c == '.' || c == '\0') {
            size_t label = i - start;
            if (label == 0 || label > LABEL_MAX || host[start] == '-' || host[i - 1] == '-') {
                snprintf(reason, reason_len, "%s is not a valid host name",
                         quote(host, q, sizeof(q)));
                return -1;
            }
            all_digits = c == '\0' ? all_digits : 1;
            start = i + 1;
            continue;
        }
        if (!is_alnum(c) && c != '-') {
            snprintf(reason, reason_len, "%s is not a valid host name (letters, digits, '-', '.')",
                     quote(host, q, sizeof(q)));
            return -1;
        }
        if (c < '0' || c > '9') {
            all_digits = 0;
        }
    }
    if (all_digits) {
        snprintf(reason, reason_len, "%s is not a valid IPv4 address or host name",
                 quote(host, q, sizeof(q)));
        return -1;
    }
    return 0;
}

/* Fill out->addr from out->host when it is a literal; refuse inet_aton-only forms. */
static int classify_host(struct plr_hostport *out, int bracketed, int require_literal, char *reason,
                         size_t reason_len)
{
    char q[QUOTE_BUF];
    struct in_addr any4;
    struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;

    if (bracketed) {
        if (inet_pton(AF_INET6, out->host, &sin6->sin6_addr) != 1) {
            snprintf(reason, reason_len, "%s is not an IPv6 address (only IPv6 goes in brackets)",
                     quote(out->host, q, sizeof(q)));
            return -1;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(out->port);
        out->addr_len = sizeof(*sin6);
        out->is_literal = 1;
        return 0;
    }
    if (inet_pton(AF_INET, out->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(out->port);
        out->addr_len = sizeof(*sin);
        out->is_literal = 1;
        return 0;
    }
    if (inet_aton(out->host, &any4) != 0) {
        snprintf(reason, reason_len,
                 "%s is not a valid IPv4 address (write four decimal numbers, a.b.c.d)",
                 quote(out->host, q, sizeof(q)));
        return -1;
    }
    if (check_hostname(out->host, reason, reason_len) != 0) {
        return -1;
    }
    if (require_literal) {
        snprintf(reason, reason_len, "%s is a name; an IP address is needed here",
                 quote(out->host, q, sizeof(q)));
        return -1;
    }
    return 0;
}

int plr_config_parse_hostport(const char *text, int require_literal, struct plr_hostport *out,
                              char *reason, size_t reason_len)
{
    char q[QUOTE_BUF];
    const char *host = text;
    const char *host_end;
    const char *colon;
    int bracketed = text[0] == '[';
    size_t host_len;

    memset(out, 0, sizeof(*out));
    if (bracketed) {
        host = text + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL) {
            snprintf(reason, reason_len, "%s has no closing ']'", quote(text, q, sizeof(q)));
            return -1;
        }
        colon = host_end + 1;
        if (*colon != ':') {
            snprintf(reason, reason_len, "%s needs a port after ']' (write [address]:port)",
                     quote(text, q, sizeof(q)));
            return -1;
        }
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL) {
            snprintf(reason, reason_len, "%s has no port (write host:port)",
                     quote(text, q, sizeof(q)));
            return -1;
        }
        if (memchr(text, ':', (size_t)(colon - text)) != NULL) {
            snprintf(reason, reason_len, "%s: write IPv6 addresses in brackets, as [::1]:389",
                     quote(text, q, sizeof(q)));
            return -1;
        }
        host_end = colon;
    }
    host_len = (size_t)(host_end - host);
    if (host_len == 0) {
        snprintf(reason, reason_len, "%s has no host", quote(text, q, sizeof(q)));
        return -1;
    }
    if (host_len >= sizeof(out->host)) {
        snprintf(reason, reason_len, "%s: host is too long", quote(text, q, sizeof(q)));
        return -1;
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    if (parse_port(colon + 1, &out->port, reason, reason_len) != 0) {
        return -1;
    }
    return classify_host(out, bracketed, require_literal, reason, reason_len);
}

int plr_config_parse_hostport_list(const char *text, int require_literal, struct plr_hostport **out,
                                   size_t *count, char *reason, size_t reason_len)
{
    char item[ITEM_MAX];
    struct plr_hostport *list;
    size_t n = 1, i = 0;
    const char *s;

    for (s = text; *s != '\0'; s++) {
        n += *s == ',';
    }
    list = calloc(n, sizeof(*list));
    if (list == NULL) {
        snprintf(reason, reason_len, "out of memory");
        return -1;
    }
    for (s = text; i < n; i++) {
        const char *end = strchr(s, ',');
        const char *next = end != NULL ? end + 1 : NULL;
        end = end != NULL ? end : s + strlen(s);
        while (s < end && (*s == ' ' || *s == '\t')) {
            s++;
        }
        while (end > s && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        if (end == s || (size_t)(end - s) >= sizeof(item)) {
            snprintf(reason, reason_len, "item %zu of the list is %s", i + 1,
                     end == s ? "empty" : "too long");
            free(list);
            return -1;
        }
        memcpy(item, s, (size_t)(end - s));
        item[end - s] = '\0';
        if (plr_config_parse_hostport(item, require_literal, &list[i], reason, reason_len) != 0) {
            free(list);
            return -1;
        }
        s = next;
    }
    *out = list;
    *count = n;
    return 0;
}

const char *plr_sockaddr_str(const struct sockaddr *sa, char *buf, size_t buf_len)
{
    char ip[INET6_ADDRSTRLEN];

    if (buf == NULL || buf_len == 0) {
        return buf;
    }
    if (sa == NULL) {
        snprintf(buf, buf_len, "-");
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(buf, buf_len, "%s:%u", ip, (unsigned)ntohs(sin->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, buf_len, "[%s]:%u", ip, (unsigned)ntohs(sin6->sin6_port));
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
        size_t n = strnlen(sun->sun_path, sizeof(sun->sun_path));
        if (n == 0) {
            snprintf(buf, buf_len, "unix");
        } else {
            snprintf(buf, buf_len, "unix:%.*s", (int)n, sun->sun_path);
        }
    } else {
        snprintf(buf, buf_len, "family-%d", (int)sa->sa_family);
    }
    return buf;
}

/* ---- the key tables -------------------------------------------------------------------------- */

static int parse_workers(void *base, const char *value, char *reason, size_t reason_len)
{
    struct plr_config *cfg = base;
    char why[PLR_CONFIG_REASON_MAX];
    uint64_t v = 0;

    if (strcmp(value, "auto") != 0 &&
        plr_config_parse_uint(value, 1, 64, &v, why, sizeof(why)) != 0) {
        snprintf(reason, reason_len, "%s, or \"auto\"", why);
        return -1;
    }
    cfg->workers = (unsigned)v;
    return 0;
}

/* Literal addresses, "ip", "ip:port" or "[v6]:port" (a bare IPv6 address too), kept as written:
 * they go to evdns as they are. */
static int parse_dns_servers(void *base, const char *value, char *reason, size_t reason_len)
{
    struct plr_config *cfg = base;
    const char *s = value;

    cfg->dns_server_count = 0;
    while (*s != '\0') {
        char item[PLR_CONFIG_HOST_MAX];
        unsigned char bin[sizeof(struct in6_addr)];
        struct plr_hostport hp;
        const char *end = strchr(s, ',');
        size_t n;

        end = end != NULL ? end : s + strlen(s);
        for (; s < end && (*s == ' ' || *s == '\t'); s++) {
        }
        for (n = (size_t)(end - s); n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'); n--) {
        }
        if (n == 0 || n >= sizeof(item)) {
            snprintf(reason, reason_len, "item %zu of the list is %s", cfg->dns_server_count + 1,
                     n == 0 ? "empty" : "too long");
            return -1;
        }
        memcpy(item, s, n);
        item[n] = '\0';
        if (inet_pton(AF_INET, item, bin) != 1 && inet_pton(AF_INET6, item, bin) != 1 &&
            plr_config_parse_hostport(item, 1, &hp, reason, reason_len) != 0) {
            return -1;
        }
        if (cfg->dns_server_count == PLR_CONFIG_MAX_DNS) {
            snprintf(reason, reason_len, "more than %d servers", PLR_CONFIG_MAX_DNS);
            return -1;
        }
        memcpy(cfg->dns_servers[cfg->dns_server_count++], item, n + 1);
        s = *end == ',' ? end + 1 : end;
    }
    return 0;
}

static int parse_listen(void *base, const char *value, char *reason, size_t reason_len)
{
    struct plr_route_config *rc = base;

    return plr_config_parse_hostport_list(value, 1, &rc->listen, &rc->listen_count, reason,
                                          reason_len);
}

static int parse_upstreams(void *base, const char *value, char *reason, size_t reason_len)
{
    struct plr_route_config *rc = base;

    if (plr_config_parse_hostport_list(value, 0, &rc->upstreams, &rc->upstream_count, reason,
                                       reason_len) != 0)
        return -1;
    if (rc->upstream_count > PLR_POOL_MAX_SERVERS) {
        snprintf(reason, reason_len, "upstreams: at most %d servers per route",
                 PLR_POOL_MAX_SERVERS);
        return -1;
    }
    return 0;
}

/* Table rows: KEY(name, kind, default as written in a file), then the field and the limits. */
#define KEY(n, k, d) .name = n, .kind = PLR_KIND_##k, .def = d
#define GF(f) .offset = offsetof(struct plr_config, f), .width = sizeof(((struct plr_config *)0)->f)
#define RF(f)                                       \
    .offset = offsetof(struct plr_route_config, f), \
    .width = sizeof(((struct plr_route_config *)0)->f)

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const modes[] = {"tcp", "connect", NULL};
static const char *const balances[] = {"roundrobin", "leastconn", "failover", "source-hash", NULL};
static const char *const pp_modes[] = {"off", "v1", "v2", "any", NULL};
static const char *const send_modes[] = {"off", "v1", "v2", NULL};
static const char *const tlv_modes[] = {"pass", "none", NULL};
static const char *const splice_modes[] = {"auto", "off", NULL};

/* Defaults go through the same parsers as the file's values. */
const struct plr_config_key plr_config_global_keys[] = {
    {KEY("workers", CUSTOM, "auto"), .parse = parse_workers},
    {KEY("max_connections", UINT, "10000"), GF(max_connections), .lo = 1, .hi = 1000000},
    {KEY("access_log", TEXT, "stderr"), GF(access_log)},
    {KEY("log_level", WORD, "info"), GF(log_level), .words = log_levels},
    {KEY("drain_timeout", DURATION, "30s"), GF(drain_timeout_ms)},
    {KEY("dns_servers", CUSTOM, NULL), .flags = PLR_KEY_EMPTY_OK | PLR_KEY_LIST,
     .parse = parse_dns_servers},
    {KEY("hosts_file", TEXT, NULL), .flags = PLR_KEY_EMPTY_OK | PLR_KEY_HOSTS_FILE, GF(hosts_file)},
    {KEY("dns_ttl_min", DURATION, "5s"), GF(dns_ttl_min_ms)},
    {KEY("dns_ttl_max", DURATION, "5m"), GF(dns_ttl_max_ms)},
    {.name = NULL},
};

const struct plr_config_key plr_config_route_keys[] = {
    {KEY("mode", WORD, "tcp"), RF(mode), .words = modes},
    {KEY("listen", CUSTOM, NULL), .flags = PLR_KEY_REQUIRED | PLR_KEY_LISTEN | PLR_KEY_LIST,
     .parse = parse_listen},
    {KEY("upstreams", CUSTOM, NULL), .flags = PLR_KEY_LIST,
     .parse = parse_upstreams}, /* required for tcp */
    {KEY("balance", WORD, "roundrobin"), RF(balance), .words = balances},
    {KEY("connect_timeout", DURATION, "3s"), RF(connect_timeout_ms), .lo = 1},
    {KEY("connect_tries", UINT, "3"), RF(connect_tries), .lo = 1, .hi = 32},
    {KEY("idle_timeout", DURATION, "10m"), RF(idle_timeout_ms)},
    {KEY("max_connections", UINT, "1000"), RF(max_connections), .lo = 0, .hi = 1000000},
    {KEY("buffer_size", SIZE, "64k"), RF(buffer_bytes), .lo = 4096, .hi = 64u * 1024 * 1024},
    {KEY("splice", WORD, "auto"), RF(splice), .words = splice_modes},
    {KEY("proxy_protocol", WORD, "off"), RF(proxy_protocol), .words = pp_modes},
    {KEY("trusted_proxies", CUSTOM, NULL), .flags = PLR_KEY_EMPTY_OK | PLR_KEY_LIST,
     .parse = plr_config_key_trusted_proxies},
    {KEY("handshake_timeout", DURATION, "5s"), RF(handshake_timeout_ms), .lo = 1},
    {KEY("proxy_max_header", SIZE, "4k"), RF(proxy_max_header_bytes), .lo = 16, .hi = 65551},
    {KEY("allow_sources", CUSTOM, NULL), .flags = PLR_KEY_EMPTY_OK | PLR_KEY_LIST,
     .parse = plr_config_key_allow_sources},
    {KEY("deny_sources", CUSTOM, NULL), .flags = PLR_KEY_EMPTY_OK | PLR_KEY_LIST,
     .parse = plr_config_key_deny_sources},
    {KEY("allow_endpoints", CUSTOM, NULL), .flags = PLR_KEY_EMPTY_OK | PLR_KEY_LIST,
     .parse = plr_config_key_allow_endpoints},
    {KEY("allow_vpcs", CUSTOM, NULL), .flags = PLR_KEY_EMPTY_OK | PLR_KEY_LIST,
     .parse = plr_config_key_allow_vpcs},
    {KEY("allow_endpoint_services", CUSTOM, NULL), .flags = PLR_KEY_EMPTY_OK | PLR_KEY_LIST,
     .parse = plr_config_key_allow_endpoint_services},
    {KEY("max_connections_per_source", UINT, "0"), RF(max_connections_per_source), .lo = 0,
     .hi = 1000000},
    {KEY("accept_rate", CUSTOM, "off"), .parse = plr_config_key_accept_rate},
    {KEY("send_proxy", WORD, "off"), RF(send_proxy), .words = send_modes},
    {KEY("send_proxy_tlvs", WORD, "pass"), RF(send_proxy_tlvs), .words = tlv_modes},
    {KEY("allow_destinations", CUSTOM, NULL), .flags = PLR_KEY_LIST,
     .parse = plr_config_key_allow_destinations},
    {KEY("allow_private_destinations", CUSTOM, NULL), .flags = PLR_KEY_EMPTY_OK | PLR_KEY_LIST,
     .parse = plr_config_key_allow_private},
    {KEY("max_header_bytes", SIZE, "8k"), RF(max_header_bytes), .lo = 1024, .hi = 65536},
    {KEY("auth", CUSTOM, NULL), .flags = PLR_KEY_EMPTY_OK, .parse = plr_config_key_auth},
    {.name = NULL},
};

/* Enum fields are stored as 4-byte integers. */
_Static_assert(sizeof(enum plr_log_level) == 4 && sizeof(enum plr_route_mode) == 4 &&
                   sizeof(enum plr_balance) == 4 && sizeof(enum plr_route_pp) == 4 &&
                   sizeof(enum plr_send_proxy) == 4 && sizeof(enum plr_send_tlvs) == 4 &&
                   sizeof(enum plr_splice_mode) == 4,
               "enum fields must be 4 bytes");

static void store_uint(char *field, size_t width, uint64_t v)
{
    uint32_t v32 = (uint32_t)v;

    if (width == sizeof(uint64_t)) {
        memcpy(field, &v, sizeof(v));
    } else {
        memcpy(field, &v32, sizeof(v32));
    }
}

/* "a, b, c or d" */
static const char *words_text(const char *const *words, char *buf, size_t len)
{
    size_t used = 0;
    int i;

    buf[0] = '\0';
    for (i = 0; words[i] != NULL && used < len; i++) {
        const char *sep = i == 0 ? "" : words[i + 1] == NULL ? " or " : ", ";
        int n = snprintf(buf + used, len - used, "%s%s", sep, words[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    return buf;
}

/* "4k", "64m" or bytes: a size limit as a file would write it. */
static const char *size_text(uint64_t bytes, char *buf, size_t len)
{
    if (bytes % (1024 * 1024) == 0) {
        snprintf(buf, len, "%llum", (unsigned long long)(bytes / (1024 * 1024)));
    } else if (bytes % 1024 == 0) {
        snprintf(buf, len, "%lluk", (unsigned long long)(bytes / 1024));
    } else {
        snprintf(buf, len, "%llu", (unsigned long long)bytes);
    }
    return buf;
}

/* A WORD key's value: the index of the word, which is the enum value. */
static int key_word(const struct plr_config_key *k, const char *value, uint64_t *v, char *why,
                    size_t why_len)
{
    char q[QUOTE_BUF], words[128];
    int i;

    for (i = 0; k->words[i] != NULL; i++) {
        if (strcmp(k->words[i], value) == 0) {
            *v = (uint64_t)i;
            return 0;
        }
    }
    snprintf(why, why_len, "unknown %s %s (use %s)", k->name, quote(value, q, sizeof(q)),
             words_text(k->words, words, sizeof(words)));
    return -1;
}

/* A number-like key's value, checked against the key's range. */
static int key_number(const struct plr_config_key *k, const char *value, uint64_t *v, char *why,
                      size_t why_len)
{
    char q[QUOTE_BUF], lo[32], hi[32];
    size_t bytes = 0;

    if (k->kind == PLR_KIND_UINT) {
        return plr_config_parse_uint(value, k->lo, k->hi, v, why, why_len);
    }
    if (k->kind == PLR_KIND_DURATION) {
        if (plr_config_parse_duration(value, v, why, why_len) != 0) {
            return -1;
        }
        if (*v < k->lo) {
            snprintf(why, why_len, "must be more than 0");
            return -1;
        }
        return 0;
    }
    if (plr_config_parse_size(value, &bytes, why, why_len) != 0) {
        return -1;
    }
    if (bytes < k->lo || bytes > k->hi) {
        snprintf(why, why_len, "%s is out of range (%s to %s)", quote(value, q, sizeof(q)),
                 size_text(k->lo, lo, sizeof(lo)), size_text(k->hi, hi, sizeof(hi)));
        return -1;
    }
    *v = bytes;
    return 0;
}

int plr_config_key_apply(const struct plr_config_key *key, void *base, const char *value,
                         char *reason, size_t reason_len)
{
    char why[PLR_CONFIG_REASON_MAX];
    char *field = (char *)base + key->offset;
    uint64_t v = 0;
    int rc;

    switch (key->kind) {
    case PLR_KIND_CUSTOM:
        rc = key->parse(base, value, why, sizeof(why));
        break;
    case PLR_KIND_TEXT:
        rc = strlen(value) < key->width ? 0 : -1;
        if (rc == 0) {
            memcpy(field, value, strlen(value) + 1);
        } else {
            snprintf(why, sizeof(why), "longer than %zu bytes", key->width - 1);
        }
        break;
    case PLR_KIND_WORD:
        rc = key_word(key, value, &v, why, sizeof(why));
        break;
    default:
        rc = key_number(key, value, &v, why, sizeof(why));
        break;
    }
    if (rc != 0) {
        snprintf(reason, reason_len, "%s: %s", key->name, why);
        return -1;
    }
    if (key->kind != PLR_KIND_CUSTOM && key->kind != PLR_KIND_TEXT) {
        store_uint(field, key->width, v);
    }
    return 0;
}
