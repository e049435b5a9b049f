/*
 * acl — who may come in: CIDR sets and PrivateLink id sets, and the list machinery every acl list
 * (these two, and the destination lists of acl_dest.c) is parsed with.
 *
 * All lists share one shape, so they share one driver: the text is copied once into an arena,
 * split on commas in place, each item trimmed and NUL-terminated there, and then validated by a
 * per-kind function that fills a fixed-size entry. The arena keeps every item's original text,
 * which is what a 403 log line names ("rule 10.9.0.0/16"), so entries point into it rather than
 * owning strings. Parsing is the only place that allocates (two blocks per list); matching is a
 * read-only linear scan, cheap at the PLR_ACL_MAX_ITEMS cap and safe to share across threads.
 * Address syntax is delegated to plr_acl_parse_host (acl_dest.c), so a source entry, a
 * destination entry and a CONNECT host are held to exactly the same strictness.
 */
#include "plrelay/acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl_list.h"

#define SHOW_ITEM_BYTES 64 /* how much of an offending item a reason quotes */

struct cidr_entry {
    struct plr_acl_block block;
    const char *text; /* the item as written, in the arena */
};

struct plr_acl_cidrs {
    char *arena; /* owned: the list text, items NUL-terminated in place */
    struct cidr_entry *items;
    size_t count;
};

struct id_entry {
    const char *id; /* in the arena */
    size_t len;
};

struct plr_acl_ids {
    char *arena;
    struct id_entry *items;
    size_t count;
};

/* ---- reasons --------------------------------------------------------------------------------- */

void plr_acl_reason(char *reason, size_t reason_len, const char *fmt, ...)
{
    if (reason == NULL || reason_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, reason_len, fmt, ap);
    va_end(ap);
}

/* Quote at most SHOW_ITEM_BYTES of s for a message: printable ASCII as is, the rest as \xNN. */
static void show(const char *s, size_t len, char *out, size_t out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < SHOW_ITEM_BYTES && o + 5 < out_len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, out_len - o, "\\x%02x", c);
    }
    if (len > SHOW_ITEM_BYTES && o + 4 <= out_len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static void item_reason(char *reason, size_t reason_len, const struct plr_acl_item *it,
                        const char *msg)
{
    char shown[SHOW_ITEM_BYTES * 4 + 4];
    show(it->text, it->len, shown, sizeof shown);
    plr_acl_reason(reason, reason_len, "item %zu: \"%s\": %s", it->number, shown, msg);
}

/* ---- splitting ------------------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Copy text into a new arena and split it into trimmed, NUL-terminated items. 0 on success (the
 * caller owns *arena and *items, even when a later validation fails); -1 with a reason.
 */
static int split_list(const char *text, char **arena, struct plr_acl_item **items, size_t *count,
                      char *reason, size_t reason_len)
{
    *arena = NULL;
    *items = NULL;
    *count = 0;
    if (text == NULL) {
        plr_acl_reason(reason, reason_len, "empty list");
        return -1;
    }
    size_t len = strnlen(text, PLR_ACL_MAX_TEXT_BYTES + 1);
    if (len > PLR_ACL_MAX_TEXT_BYTES) {
        plr_acl_reason(reason, reason_len, "list longer than %d bytes", PLR_ACL_MAX_TEXT_BYTES);
        return -1;
    }
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += text[i] == ',';
    if (n > PLR_ACL_MAX_ITEMS) {
        plr_acl_reason(reason, reason_len, "%zu items, more than the limit of %d", n,
                       PLR_ACL_MAX_ITEMS);
        return -1;
    }
    *arena = malloc(len + 1);
    *items = calloc(n, sizeof **items);
    if (*arena == NULL || *items == NULL) {
        plr_acl_reason(reason, reason_len, "out of memory");
        return -1;
    }
    memcpy(*arena, text, len);
    (*arena)[len] = '\0';

    bool all_blank = true;
    char *p = *arena, *end = *arena + len;
    for (size_t k = 0; k < n; k++) {
        char *comma = memchr(p, ',', (size_t)(end - p));
        char *stop = comma != NULL ? comma : end;
        char *b = p, *e = stop;
        while (b < e && is_space(*b))
            b++;
        while (e > b && is_space(e[-1]))
            e--;
        *e = '\0';
        (*items)[k] = (struct plr_acl_item){.text = b, .len = (size_t)(e - b), .number = k + 1};
        all_blank = all_blank && e == b;
        p = stop + 1;
    }
    *count = n;
    if (all_blank && n == 1) {
        plr_acl_reason(reason, reason_len, "empty list");
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        if ((*items)[k].len == 0) {
            plr_acl_reason(reason, reason_len, "item %zu: empty (stray comma?)", k + 1);
            return -1;
        }
    }
    return 0;
}

int plr_acl_list_parse(const char *text, size_t entry_bytes, plr_acl_item_fn fn, const void *ctx,
                       char **arena, void **entries, size_t *count, char *reason, size_t reason_len)
{
    struct plr_acl_item *items = NULL;
    *entries = NULL;
    if (split_list(text, arena, &items, count, reason, reason_len) != 0)
        goto fail;
    *entries = calloc(*count, entry_bytes);
    if (*entries == NULL) {
        plr_acl_reason(reason, reason_len, "out of memory");
        goto fail;
    }
    for (size_t k = 0; k < *count; k++) {
        char msg[PLR_ACL_MSG_BYTES];
        if (!fn(&items[k], (char *)*entries + k * entry_bytes, ctx, msg, sizeof msg)) {
            item_reason(reason, reason_len, &items[k], msg);
            goto fail;
        }
    }
    free(items);
    return 0;
fail:
    free(items);
    free(*entries);
    free(*arena);
    *entries = NULL;
    *arena = NULL;
    *count = 0;
    return -1;
}

/* ---- addresses and blocks -------------------------------------------------------------------- */

bool plr_acl_prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return ((a[full] ^ b[full]) & mask) == 0;
}

bool plr_acl_sockaddr_bytes(const struct sockaddr *sa, uint8_t addr[16], bool *v4, uint16_t *port)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
        memcpy(addr, &sin->sin_addr, 4);
        *v4 = true;
        *port = ntohs(sin->sin_port);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
        const uint8_t *a = sin6->sin6_addr.s6_addr;
        *v4 = memcmp(a, mapped, sizeof mapped) == 0;
        if (*v4)
            memcpy(addr, a + 12, 4);
        else
            memcpy(addr, a, 16);
        *port = ntohs(sin6->sin6_port);
        return true;
    }
    return false;
}

bool plr_acl_block_contains(const struct plr_acl_block *c, const uint8_t addr[16], bool v4)
{
    return c->v4 == v4 && plr_acl_prefix_equal(c->addr, addr, c->prefix);
}

bool plr_acl_decimal_parse(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    size_t n = 0;
    for (; s[n] >= '0' && s[n] <= '9'; n++) {
        if (n >= 5)
            return false;
        v = v * 10 + (unsigned)(s[n] - '0');
    }
    if (n == 0 || s[n] != '\0' || (n > 1 && s[0] == '0') || v > max)
        return false;
    *out = v;
    return true;
}

/*
 * An IPv6 block inside ::ffff:0:0/96 becomes the IPv4 block it describes. Clients are matched the
 * same way (plr_acl_sockaddr_bytes unwraps them), so a mapped peer behaves exactly like an AF_INET
 * one whichever way an entry was written. A shorter IPv6 prefix (::/0) does not cover IPv4 peers.
 */
static void unmap_block(struct plr_acl_block *c)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (c->v4 || c->prefix < 96 || memcmp(c->addr, mapped, sizeof mapped) != 0)
        return;
    memmove(c->addr, c->addr + 12, 4);
    memset(c->addr + 4, 0, 12);
    c->prefix = (uint8_t)(c->prefix - 96);
    c->v4 = true;
}

bool plr_acl_block_parse(const char *s, size_t len, struct plr_acl_block *c, char *msg,
                         size_t msg_len)
{
    char buf[64];
    if (len >= sizeof buf) {
        snprintf(msg, msg_len, "not an IP address or CIDR block");
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash != NULL)
        *slash = '\0';

    struct sockaddr_storage ss;
    if (plr_acl_parse_host(buf, &ss) != PLR_ACL_HOST_LITERAL) {
        snprintf(msg, msg_len, "not an IP address (IPv4 must be a canonical dotted quad)");
        return false;
    }
    memset(c, 0, sizeof *c);
    c->v4 = ss.ss_family == AF_INET;
    if (c->v4)
        memcpy(c->addr, &((const struct sockaddr_in *)(const void *)&ss)->sin_addr, 4);
    else
        memcpy(c->addr, &((const struct sockaddr_in6 *)(const void *)&ss)->sin6_addr, 16);
    unsigned max = c->v4 ? 32 : 128, prefix = max;
    if (slash != NULL && !plr_acl_decimal_parse(slash + 1, max, &prefix)) {
        snprintf(msg, msg_len, "prefix must be 0..%u", max);
        return false;
    }
    c->prefix = (uint8_t)prefix;

    uint8_t net[16] = {0};
    memcpy(net, c->addr, prefix / 8);
    if (prefix % 8 != 0)
        net[prefix / 8] = (uint8_t)(c->addr[prefix / 8] & (0xffu << (8 - prefix % 8)));
    if (memcmp(net, c->addr, max / 8) != 0) {
        char shown[64];
        if (inet_ntop(c->v4 ? AF_INET : AF_INET6, net, shown, sizeof shown) == NULL)
            shown[0] = '\0';
        snprintf(msg, msg_len, "host bits set below /%u (the network is %s/%u)", prefix, shown,
                 prefix);
        return false;
    }
    unmap_block(c);
    return true;
}

/* ---- CIDR sets ------------------------------------------------------------------------------- */

static bool cidr_item(const struct plr_acl_item *it, void *entry, const void *ctx, char *msg,
                      size_t msg_len)
{
    struct cidr_entry *e = entry;
    (void)ctx;
    e->text = it->text;
    return plr_acl_block_parse(it->text, it->len, &e->block, msg, msg_len);
}

int plr_acl_cidrs_parse(const char *text, struct plr_acl_cidrs **out, char *reason,
                        size_t reason_len)
{
    struct plr_acl_cidrs *set = calloc(1, sizeof *set);
    void *entries;
    *out = NULL;
    if (set == NULL) {
        plr_acl_reason(reason, reason_len, "out of memory");
        return -1;
    }
    if (plr_acl_list_parse(text, sizeof *set->items, cidr_item, NULL, &set->arena, &entries,
                           &set->count, reason, reason_len) != 0) {
        free(set);
        return -1;
    }
    set->items = entries;
    *out = set;
    return 0;
}

const char *plr_acl_cidrs_find(const struct plr_acl_cidrs *set, const struct sockaddr *sa)
{
    uint8_t addr[16];
    bool v4;
    uint16_t port;
    if (set == NULL || !plr_acl_sockaddr_bytes(sa, addr, &v4, &port))
        return NULL;
    for (size_t k = 0; k < set->count; k++) {
        if (plr_acl_block_contains(&set->items[k].block, addr, v4))
            return set->items[k].text;
    }
    return NULL;
}

int plr_acl_cidrs_match(const struct plr_acl_cidrs *set, const struct sockaddr *sa)
{
    return plr_acl_cidrs_find(set, sa) != NULL;
}

size_t plr_acl_cidrs_count(const struct plr_acl_cidrs *set)
{
    return set != NULL ? set->count : 0;
}

void plr_acl_cidrs_free(struct plr_acl_cidrs *set)
{
    if (set == NULL)
        return;
    free(set->items);
    free(set->arena);
    free(set);
}

/* ---- PrivateLink id sets --------------------------------------------------------------------- */

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool id_item(const struct plr_acl_item *it, void *entry, const void *ctx, char *msg,
                    size_t msg_len)
{
    const char *prefix = ctx;
    struct id_entry *e = entry;
    if (it->len > PLR_ACL_ID_MAX_BYTES) {
        snprintf(msg, msg_len, "longer than %d characters", PLR_ACL_ID_MAX_BYTES);
        return false;
    }
    for (size_t i = 0; i < it->len; i++) {
        if (!is_alnum((unsigned char)it->text[i]) && it->text[i] != '-') {
            snprintf(msg, msg_len, "ids contain only letters, digits and '-'");
            return false;
        }
    }
    if (prefix != NULL && strncmp(it->text, prefix, strlen(prefix)) != 0) {
        snprintf(msg, msg_len, "expected an id starting with \"%s\"", prefix);
        return false;
    }
    *e = (struct id_entry){.id = it->text, .len = it->len};
    return true;
}

int plr_acl_ids_parse(const char *text, const char *prefix, struct plr_acl_ids **out, char *reason,
                      size_t reason_len)
{
    struct plr_acl_ids *set = calloc(1, sizeof *set);
    void *entries;
    *out = NULL;
    if (set == NULL) {
        plr_acl_reason(reason, reason_len, "out of memory");
        return -1;
    }
    if (plr_acl_list_parse(text, sizeof *set->items, id_item, prefix, &set->arena, &entries,
                           &set->count, reason, reason_len) != 0) {
        free(set);
        return -1;
    }
    set->items = entries;
    *out = set;
    return 0;
}

int plr_acl_ids_match(const struct plr_acl_ids *set, const uint8_t *id, size_t id_len)
{
    if (set == NULL || id == NULL || id_len == 0)
        return 0;
    for (size_t k = 0; k < set->count; k++) {
        if (set->items[k].len == id_len && memcmp(set->items[k].id, id, id_len) == 0)
            return 1;
    }
    return 0;
}

size_t plr_acl_ids_count(const struct plr_acl_ids *set)
{
    return set != NULL ? set->count : 0;
}

void plr_acl_ids_free(struct plr_acl_ids *set)
{
    if (set == NULL)
        return;
    free(set->items);
    free(set->arena);
    free(set);
}
