/*
 * acl_dest — where a `connect` route may go: strict host parsing, the destination allowlist, the
 * blocked-address (SSRF) guard and its exception list.
 *
 * This is the security boundary of docs/reliability.md §5, kept in one file so it can be read in
 * one sitting. The host parser is hand-written rather than inet_aton so that no numeric shorthand
 * is ever interpreted (inet_pton is used for IPv6 only, and its embedded IPv4 tail is re-checked
 * by the same strict dotted-quad rule); allowlist entries are parsed with that same parser, so an
 * entry and a CONNECT host are held to one strictness. The guard's deny table is data, the IPv6
 * forms that embed IPv4 are unwrapped before it is consulted, and anything not understood is
 * refused (fail closed). List mechanics (arena, items, reasons) come from acl.c via acl_list.h.
 */
#include "plrelay/acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl_list.h"

#define HOST_MAX_BYTES (PLR_ACL_NAME_MAX_BYTES + 1) /* a name plus its optional trailing dot */
#define LABEL_MAX_BYTES 63

enum dest_kind {
    DEST_NAME = 0,   /* exact name */
    DEST_SUFFIX = 1, /* "*.suffix": names strictly below suffix */
    DEST_BLOCK = 2,  /* address or CIDR */
};

struct dest_entry {
    enum dest_kind kind;
    uint16_t port;    /* host byte order, 1..65535 */
    const char *text; /* the item as written, in the arena */
    const char *name; /* DEST_NAME/SUFFIX: name or suffix inside text, without dot or "*." */
    size_t name_len;
    struct plr_acl_block block; /* DEST_BLOCK */
};

struct plr_acl_dest {
    char *arena; /* owned: the list text, items NUL-terminated in place */
    struct dest_entry *items;
    size_t count;
};

/* ---- strict host parsing --------------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Exactly four decimal octets 0..255 separated by dots, no leading zeros, nothing else. */
static bool parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && is_digit(s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        size_t n = i - start;
        if (n == 0 || (n > 1 && s[start] == '0') || v > 255)
            return false;
        out[part] = (uint8_t)v;
    }
    return i == len;
}

/* An IPv6 literal without brackets or zone; a dotted IPv4 tail must itself be canonical. */
static bool parse_ipv6(const char *s, size_t len, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN];
    if (len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, out) != 1)
        return false;
    if (memchr(buf, '.', len) != NULL) {
        const char *tail = strrchr(buf, ':') + 1; /* inet_pton accepted it: a ':' exists */
        uint8_t v4[4];
        if (!parse_ipv4(tail, len - (size_t)(tail - buf), v4))
            return false;
    }
    return true;
}

/*
 * An RFC 1123 host name (no trailing dot here). The last label must not be numeric: a last label
 * of only digits, or "0x" plus hex digits, is what inet_aton() and the resolvers built on it read
 * as (the tail of) an IPv4 number, so "127.1", "0x7f.1" and "2852039166" are addresses to them and
 * would be names to a plain RFC 1123 check. One rule on the last label removes that ambiguity for
 * every later reader (libc, a resolver, an upstream proxy); it also refuses "foo.123", which
 * inet_aton happens to reject, rather than rely on where each parser draws its line. No top-level
 * domain is numeric (RFC 3696 §2), so the rule costs no real name.
 */
static bool valid_name(const char *s, size_t len)
{
    if (len == 0 || len > PLR_ACL_NAME_MAX_BYTES)
        return false;
    size_t label = 0; /* start of the current label */
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            size_t n = i - label;
            if (n == 0 || n > LABEL_MAX_BYTES || s[label] == '-' || s[i - 1] == '-')
                return false;
            if (i < len)
                label = i + 1;
            continue;
        }
        char c = s[i];
        if (!is_digit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-')
            return false;
    }
    const char *last = s + label;
    size_t n = len - label, i = 0;
    if (n >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
        for (i = 2; i < n && is_hex(last[i]); i++)
            ;
    } else {
        for (i = 0; i < n && is_digit(last[i]); i++)
            ;
    }
    return i < n;
}

enum plr_acl_host_kind plr_acl_parse_host(const char *host, struct sockaddr_storage *out)
{
    uint8_t addr[16];
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (host == NULL)
        return PLR_ACL_HOST_INVALID;
    size_t len = strnlen(host, HOST_MAX_BYTES + 1);
    if (len == 0 || len > HOST_MAX_BYTES)
        return PLR_ACL_HOST_INVALID;

    if (memchr(host, ':', len) != NULL) {
        if (!parse_ipv6(host, len, addr))
            return PLR_ACL_HOST_INVALID;
        if (out != NULL) {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)out;
            sin6->sin6_family = AF_INET6;
            memcpy(&sin6->sin6_addr, addr, 16);
        }
        return PLR_ACL_HOST_LITERAL;
    }
    if (parse_ipv4(host, len, addr)) {
        if (out != NULL) {
            struct sockaddr_in *sin = (struct sockaddr_in *)(void *)out;
            sin->sin_family = AF_INET;
            memcpy(&sin->sin_addr, addr, 4);
        }
        return PLR_ACL_HOST_LITERAL;
    }
    if (host[len - 1] == '.')
        len--;
    return valid_name(host, len) ? PLR_ACL_HOST_NAME : PLR_ACL_HOST_INVALID;
}

/* ---- the blocked-address guard --------------------------------------------------------------- */

struct range {
    uint8_t net[16]; /* IPv4 ranges use net[0..3] */
    unsigned prefix;
    const char *why;
};

/* Most specific first where ranges nest, so *why is the narrowest true description. */
static const struct range blocked4[] = {
    {{255, 255, 255, 255}, 32, "limited broadcast 255.255.255.255"},
    {{0, 0, 0, 0}, 8, "\"this network\" 0.0.0.0/8 (incl. unspecified 0.0.0.0)"},
    {{10, 0, 0, 0}, 8, "private 10.0.0.0/8"},
    {{100, 64, 0, 0}, 10, "carrier-grade NAT 100.64.0.0/10 (Alibaba Cloud metadata and DNS)"},
    {{127, 0, 0, 0}, 8, "loopback 127.0.0.0/8"},
    {{169, 254, 0, 0}, 16, "link-local 169.254.0.0/16 (cloud metadata)"},
    {{172, 16, 0, 0}, 12, "private 172.16.0.0/12"},
    {{192, 0, 0, 0}, 24, "IETF protocol assignments 192.0.0.0/24"},
    {{192, 168, 0, 0}, 16, "private 192.168.0.0/16"},
    {{198, 18, 0, 0}, 15, "benchmarking 198.18.0.0/15"},
    {{224, 0, 0, 0}, 4, "multicast 224.0.0.0/4"},
    {{240, 0, 0, 0}, 4, "reserved 240.0.0.0/4"},
};

/* Checked after the IPv4-embedding forms have been unwrapped. */
static const struct range blocked6[] = {
    {{0}, 128, "unspecified ::"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback ::1"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, "IPv4-translated ::ffff:0:0:0/96"},
    {{0, 0x64, 0xff, 0x9b, 0, 1}, 48, "local-use NAT64 64:ff9b:1::/48"},
    {{0x20, 0x01, 0, 0}, 32, "Teredo 2001::/32 (embeds IPv4)"},
    {{0xfe, 0x80}, 10, "link-local fe80::/10"},
    {{0xfe, 0xc0}, 10, "site-local fec0::/10 (deprecated)"},
    {{0xfc}, 7, "unique local fc00::/7 (incl. AWS metadata fd00:ec2::254)"},
    {{0xff}, 8, "multicast ff00::/8"},
};

/* IPv6 forms that carry an IPv4 address: prefix, and where the 4 bytes sit. */
struct embedding {
    uint8_t net[16];
    unsigned prefix;
    size_t v4_at;
};

static const struct embedding embeddings[] = {
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, 12}, /* mapped ::ffff:0:0/96 */
    {{0}, 96, 12},                                        /* compatible ::/96 */
    {{0, 0x64, 0xff, 0x9b}, 96, 12},                      /* NAT64 64:ff9b::/96 */
    {{0x20, 0x02}, 16, 2},                                /* 6to4 2002::/16 */
};

static const char *blocked_v4(const uint8_t a[4])
{
    for (size_t i = 0; i < sizeof blocked4 / sizeof blocked4[0]; i++) {
        if (plr_acl_prefix_equal(a, blocked4[i].net, blocked4[i].prefix))
            return blocked4[i].why;
    }
    return NULL;
}

static const char *blocked_v6(const uint8_t a[16])
{
    /* :: and ::1 sit inside the compatible ::/96 but are IPv6's own unspecified and loopback. */
    for (size_t i = 0; i < 2; i++) {
        if (plr_acl_prefix_equal(a, blocked6[i].net, 128))
            return blocked6[i].why;
    }
    for (size_t i = 0; i < sizeof embeddings / sizeof embeddings[0]; i++) {
        if (plr_acl_prefix_equal(a, embeddings[i].net, embeddings[i].prefix))
            return blocked_v4(a + embeddings[i].v4_at);
    }
    for (size_t i = 2; i < sizeof blocked6 / sizeof blocked6[0]; i++) {
        if (plr_acl_prefix_equal(a, blocked6[i].net, blocked6[i].prefix))
            return blocked6[i].why;
    }
    return NULL;
}

int plr_acl_addr_blocked(const struct sockaddr *sa, const char **why)
{
    const char *range = "not an IPv4 or IPv6 address";
    if (sa != NULL && sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
        uint8_t a[4];
        memcpy(a, &sin->sin_addr, 4);
        range = blocked_v4(a);
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
        range = blocked_v6(sin6->sin6_addr.s6_addr);
    }
    if (why != NULL)
        *why = range;
    return range != NULL;
}

/* ---- destination allowlist and exceptions ---------------------------------------------------- */

/* ASCII case-insensitive equality; locale-independent, unlike strncasecmp. */
static bool ascii_case_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* host[0..len) as a NAME per plr_acl_parse_host; sets e->name/name_len (trailing dot dropped). */
static bool dest_name(const char *host, size_t len, struct dest_entry *e)
{
    char buf[PLR_ACL_NAME_MAX_BYTES + 2];
    if (len >= sizeof buf)
        return false;
    memcpy(buf, host, len);
    buf[len] = '\0';
    if (plr_acl_parse_host(buf, NULL) != PLR_ACL_HOST_NAME)
        return false;
    e->name = host;
    e->name_len = host[len - 1] == '.' ? len - 1 : len;
    return true;
}

/* Classify the HOST part host[0..len) of an item; bracketed says it was inside [...]. */
static bool dest_host(const char *host, size_t len, bool bracketed, bool names_ok,
                      struct dest_entry *e, char *msg, size_t msg_len)
{
    if (bracketed) {
        if (memchr(host, ':', len) == NULL) {
            snprintf(msg, msg_len, "brackets are only for IPv6 addresses");
            return false;
        }
        e->kind = DEST_BLOCK;
        return plr_acl_block_parse(host, len, &e->block, msg, msg_len);
    }
    if (memchr(host, ':', len) != NULL) {
        snprintf(msg, msg_len, "IPv6 addresses go in brackets: [2001:db8::/32]:443");
        return false;
    }
    const char *star = memchr(host, '*', len);
    if (star != NULL) {
        if (!names_ok) {
            snprintf(msg, msg_len, "only addresses and CIDR blocks are allowed here, not names");
            return false;
        }
        if (star != host || len < 3 || host[1] != '.' || memchr(host + 1, '*', len - 1) != NULL ||
            !dest_name(host + 2, len - 2, e)) {
            snprintf(msg, msg_len, "a wildcard must be a leading \"*.\" before a valid name");
            return false;
        }
        e->kind = DEST_SUFFIX;
        return true;
    }
    if (memchr(host, '/', len) != NULL) {
        e->kind = DEST_BLOCK;
        return plr_acl_block_parse(host, len, &e->block, msg, msg_len);
    }
    char msg_block[PLR_ACL_MSG_BYTES];
    if (plr_acl_block_parse(host, len, &e->block, msg_block, sizeof msg_block)) {
        e->kind = DEST_BLOCK;
        return true;
    }
    if (dest_name(host, len, e)) {
        e->kind = DEST_NAME;
        if (names_ok)
            return true;
        snprintf(msg, msg_len, "only addresses and CIDR blocks are allowed here, not names");
        return false;
    }
    snprintf(msg, msg_len, "not a valid host name or canonical IP address");
    return false;
}

/* One "HOST:PORT" item into e. */
static bool dest_item(const struct plr_acl_item *it, void *entry, const void *ctx, char *msg,
                      size_t msg_len)
{
    struct dest_entry *e = entry;
    bool names_ok = *(const bool *)ctx;
    const char *s = it->text, *host = s, *colon;
    size_t host_len;
    bool bracketed = s[0] == '[';
    if (bracketed) {
        const char *close = strchr(s, ']');
        if (close == NULL) {
            snprintf(msg, msg_len, "unbalanced '['");
            return false;
        }
        host = s + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
        if (*colon != ':') {
            snprintf(msg, msg_len, "missing \":PORT\" after ']'");
            return false;
        }
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            snprintf(msg, msg_len, "missing \":PORT\" (every destination needs an explicit port)");
            return false;
        }
        host_len = (size_t)(colon - s);
    }
    unsigned port;
    if (strcmp(colon + 1, "*") == 0) {
        snprintf(msg, msg_len, "port must be explicit: \"*\" is not allowed");
        return false;
    }
    if (!plr_acl_decimal_parse(colon + 1, 65535, &port) || port == 0) {
        snprintf(msg, msg_len, "port must be 1..65535");
        return false;
    }
    e->port = (uint16_t)port;
    e->text = s;
    if (host_len == 0) {
        snprintf(msg, msg_len, "missing host before \":PORT\"");
        return false;
    }
    return dest_host(host, host_len, bracketed, names_ok, e, msg, msg_len);
}

static int dest_parse(const char *text, bool names_ok, struct plr_acl_dest **out, char *reason,
                      size_t reason_len)
{
    struct plr_acl_dest *list = calloc(1, sizeof *list);
    void *entries;
    *out = NULL;
    if (list == NULL) {
        plr_acl_reason(reason, reason_len, "out of memory");
        return -1;
    }
    if (plr_acl_list_parse(text, sizeof *list->items, dest_item, &names_ok, &list->arena, &entries,
                           &list->count, reason, reason_len) != 0) {
        free(list);
        return -1;
    }
    list->items = entries;
    *out = list;
    return 0;
}

int plr_acl_dest_parse(const char *text, struct plr_acl_dest **out, char *reason, size_t reason_len)
{
    return dest_parse(text, true, out, reason, reason_len);
}

int plr_acl_exceptions_parse(const char *text, struct plr_acl_dest **out, char *reason,
                             size_t reason_len)
{
    return dest_parse(text, false, out, reason, reason_len);
}

int plr_acl_dest_match_name(const struct plr_acl_dest *list, const char *host, uint16_t port,
                            const char **rule)
{
    if (rule != NULL)
        *rule = PLR_ACL_DEST_NO_MATCH;
    if (list == NULL || host == NULL || port == 0 ||
        plr_acl_parse_host(host, NULL) != PLR_ACL_HOST_NAME)
        return 0;
    size_t len = strlen(host); /* bounded: a NAME is at most 254 bytes */
    if (host[len - 1] == '.')
        len--;
    for (size_t k = 0; k < list->count; k++) {
        const struct dest_entry *e = &list->items[k];
        bool hit = false;
        if (e->port != port)
            continue;
        if (e->kind == DEST_NAME)
            hit = len == e->name_len && ascii_case_equal(host, e->name, len);
        else if (e->kind == DEST_SUFFIX)
            hit = len > e->name_len + 1 && host[len - e->name_len - 1] == '.' &&
                  ascii_case_equal(host + len - e->name_len, e->name, e->name_len);
        if (hit) {
            if (rule != NULL)
                *rule = e->text;
            return 1;
        }
    }
    return 0;
}

/* The first block entry of list holding sa's address and port, or NULL. */
static const struct dest_entry *dest_find_addr(const struct plr_acl_dest *list,
                                               const struct sockaddr *sa)
{
    uint8_t addr[16];
    bool v4;
    uint16_t port;
    if (list == NULL || !plr_acl_sockaddr_bytes(sa, addr, &v4, &port) || port == 0)
        return NULL;
    for (size_t k = 0; k < list->count; k++) {
        const struct dest_entry *e = &list->items[k];
        if (e->kind == DEST_BLOCK && e->port == port && plr_acl_block_contains(&e->block, addr, v4))
            return e;
    }
    return NULL;
}

int plr_acl_dest_match_addr(const struct plr_acl_dest *list, const struct sockaddr *sa,
                            const char **rule)
{
    const struct dest_entry *e = dest_find_addr(list, sa);
    if (rule != NULL)
        *rule = e != NULL ? e->text : PLR_ACL_DEST_NO_MATCH;
    return e != NULL;
}

size_t plr_acl_dest_count(const struct plr_acl_dest *list)
{
    return list != NULL ? list->count : 0;
}

void plr_acl_dest_free(struct plr_acl_dest *list)
{
    if (list == NULL)
        return;
    free(list->items);
    free(list->arena);
    free(list);
}

int plr_acl_addr_allowed_exception(const struct plr_acl_dest *exceptions, const struct sockaddr *sa,
                                   const char **rule)
{
    const struct dest_entry *e = dest_find_addr(exceptions, sa);
    if (rule != NULL)
        *rule = e != NULL ? e->text : NULL;
    return e != NULL;
}

int plr_acl_addr_permitted(const struct plr_acl_dest *exceptions, const struct sockaddr *sa,
                           const char **why)
{
    const char *range = NULL, *rule = NULL;
    if (!plr_acl_addr_blocked(sa, &range)) {
        if (why != NULL)
            *why = NULL;
        return 1;
    }
    if (plr_acl_addr_allowed_exception(exceptions, sa, &rule)) {
        if (why != NULL)
            *why = rule;
        return 1;
    }
    if (why != NULL)
        *why = range;
    return 0;
}
