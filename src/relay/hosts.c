/*
 * hosts — a static name table in /etc/hosts format, consulted before DNS.
 *
 * The table keeps one private copy of the text: names are lower-cased and NUL-terminated in
 * place, so entries just point into it. Entries are (name, address, file position); they are
 * sorted twice at build time — by (name, address) to drop repeated pairs, then by (name,
 * position) — so a lookup is a binary search plus a walk over that name's addresses, already in
 * file order and without duplicates, even for multi-megabyte block-list files. Lines that do not
 * parse (bad address, no name, a NUL byte) are skipped, as the C library does.
 */
#include "plrelay/hosts.h"
#include "plrelay/fileio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ADDR_TEXT_MAX 64 /* longest address token tried; longer ones cannot be addresses */

struct hosts_entry {
    const char *name;       /* lower-case, NUL-terminated, inside plr_hosts.text */
    size_t seq;             /* position in the file, for file order */
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network order; 4 bytes used for AF_INET */
};

struct plr_hosts {
    char *text; /* private copy of the input; owns every name */
    struct hosts_entry *entries;
    size_t count;
    size_t cap;
};

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int cmp_addr(const struct hosts_entry *a, const struct hosts_entry *b)
{
    if (a->family != b->family) {
        return a->family < b->family ? -1 : 1;
    }
    return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int cmp_name_addr(const void *x, const void *y)
{
    const struct hosts_entry *a = x, *b = y;
    int c = strcmp(a->name, b->name);

    if (c == 0) {
        c = cmp_addr(a, b);
    }
    if (c == 0) {
        c = a->seq < b->seq ? -1 : a->seq > b->seq;
    }
    return c;
}

static int cmp_name_seq(const void *x, const void *y)
{
    const struct hosts_entry *a = x, *b = y;
    int c = strcmp(a->name, b->name);

    return c != 0 ? c : (a->seq < b->seq ? -1 : a->seq > b->seq);
}

static int add_entry(struct plr_hosts *h, const char *name, int family, const unsigned char *addr)
{
    struct hosts_entry *e;

    if (h->count == h->cap) {
        size_t cap = h->cap == 0 ? 64 : h->cap * 2;
        struct hosts_entry *grown = realloc(h->entries, cap * sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        h->entries = grown;
        h->cap = cap;
    }
    e = &h->entries[h->count];
    memset(e, 0, sizeof(*e));
    e->name = name;
    e->seq = h->count;
    e->family = family;
    memcpy(e->addr, addr, family == AF_INET ? 4 : 16);
    h->count++;
    return 0;
}

/* Parse the address token s[0..n); returns its family or 0. */
static int parse_addr(const char *s, size_t n, unsigned char *out)
{
    char tmp[ADDR_TEXT_MAX];

    if (n >= sizeof(tmp)) {
        return 0;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, out) == 1) {
        return AF_INET;
    }
    if (inet_pton(AF_INET6, tmp, out) == 1) {
        return AF_INET6;
    }
    return 0;
}

/* One line, s[0..n) inside h->text (writable). Returns -1 only on allocation failure. */
static int parse_line(struct plr_hosts *h, char *s, size_t n)
{
    char *end = s + n;
    char *hash = memchr(s, '#', n);
    unsigned char addr[16];
    char *tok;
    int family;

    if (memchr(s, '\0', n) != NULL) {
        return 0;
    }
    if (hash != NULL) {
        end = hash;
    }
    while (s < end && is_blank(*s)) {
        s++;
    }
    for (tok = s; s < end && !is_blank(*s); s++) {
    }
    family = parse_addr(tok, (size_t)(s - tok), addr);
    if (family == 0) {
        return 0;
    }
    for (;;) {
        while (s < end && is_blank(*s)) {
            s++;
        }
        if (s == end) {
            return 0;
        }
        for (tok = s; s < end && !is_blank(*s); s++) {
            *s = ascii_lower(*s);
        }
        /* The byte after a name is a blank, '#', '\n' or the copy's extra byte: all ours. */
        if (add_entry(h, tok, family, addr) != 0) {
            return -1;
        }
        if (s < end) {
            *s++ = '\0';
        } else {
            *s = '\0';
        }
    }
}

/* Sort, drop repeated (name, address) pairs, and restore file order within each name. */
static void finish_table(struct plr_hosts *h)
{
    size_t i, kept = 0;

    if (h->count == 0) {
        return;
    }
    qsort(h->entries, h->count, sizeof(h->entries[0]), cmp_name_addr);
    for (i = 0; i < h->count; i++) {
        if (kept > 0 && strcmp(h->entries[kept - 1].name, h->entries[i].name) == 0 &&
            cmp_addr(&h->entries[kept - 1], &h->entries[i]) == 0) {
            continue;
        }
        h->entries[kept++] = h->entries[i];
    }
    h->count = kept;
    qsort(h->entries, h->count, sizeof(h->entries[0]), cmp_name_seq);
}

struct plr_hosts *plr_hosts_parse(const char *text, size_t len)
{
    struct plr_hosts *h = calloc(1, sizeof(*h));
    size_t pos = 0;

    if (h == NULL) {
        return NULL;
    }
    h->text = malloc(len + 1);
    if (h->text == NULL) {
        free(h);
        return NULL;
    }
    if (len > 0) {
        memcpy(h->text, text, len);
    }
    h->text[len] = '\0';
    while (pos < len) {
        char *line = h->text + pos;
        char *nl = memchr(line, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
        if (parse_line(h, line, n) != 0) {
            plr_hosts_free(h);
            return NULL;
        }
        pos += n + 1;
    }
    finish_table(h);
    return h;
}

/* Compare a stored (lower-case) name with a query, ignoring the query's ASCII case. */
static int cmp_query(const char *stored, const char *query)
{
    for (;; stored++, query++) {
        unsigned char a = (unsigned char)*stored;
        unsigned char b = (unsigned char)ascii_lower(*query);
        if (a != b || a == '\0') {
            return (int)a - (int)b;
        }
    }
}

size_t plr_hosts_lookup(const struct plr_hosts *hosts, const char *name,
                        struct sockaddr_storage *out, size_t max)
{
    size_t lo = 0, hi, i, total = 0;

    if (hosts == NULL || name == NULL || name[0] == '\0') {
        return 0;
    }
    hi = hosts->count;
    while (lo < hi) { /* first entry whose name is >= the query */
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_query(hosts->entries[mid].name, name) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (i = lo; i < hosts->count && cmp_query(hosts->entries[i].name, name) == 0; i++) {
        const struct hosts_entry *e = &hosts->entries[i];
        if (total < max && out != NULL) {
            memset(&out[total], 0, sizeof(out[total]));
            if (e->family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *)&out[total];
                sin->sin_family = AF_INET;
                memcpy(&sin->sin_addr, e->addr, 4);
            } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out[total];
                sin6->sin6_family = AF_INET6;
                memcpy(&sin6->sin6_addr, e->addr, 16);
            }
        }
        total++;
    }
    return total;
}

void plr_hosts_free(struct plr_hosts *hosts)
{
    if (hosts == NULL) {
        return;
    }
    free(hosts->entries);
    free(hosts->text);
    free(hosts);
}

struct plr_hosts *plr_hosts_load(const char *path, char *err, size_t err_len)
{
    struct plr_hosts *h = NULL;
    size_t len = 0;
    char *text = plr_file_read(path, PLR_HOSTS_MAX_BYTES, 1, &len, err, err_len);

    if (text != NULL && (h = plr_hosts_parse(text, len)) == NULL)
        snprintf(err, err_len, "out of memory");
    free(text);
    return h;
}
