/*
 * limits — the accept-rate token bucket and the per-source connection table.
 *
 * The source table is a fixed array of hash buckets with chained entries, one entry per
 * address that has live connections. Addresses are keyed as 16 bytes (IPv4 as ::ffff:a.b.c.d)
 * so one client is one key whether it arrived over IPv4 or a mapped IPv6 socket.
 */
#include "plrelay/limits.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define SOURCE_BUCKETS 1024u

void plr_rate_init(struct plr_rate *r, uint32_t rate_per_s, uint64_t now_ms)
{
    pthread_mutex_init(&r->lock, NULL);
    r->rate_per_s = rate_per_s;
    r->tokens_milli = (uint64_t)rate_per_s * 1000u; /* start full: one second's burst */
    r->last_ms = now_ms;
}

void plr_rate_cleanup(struct plr_rate *r)
{
    pthread_mutex_destroy(&r->lock);
}

int plr_rate_take(struct plr_rate *r, uint64_t now_ms)
{
    int ok;

    if (r->rate_per_s == 0)
        return 1;
    pthread_mutex_lock(&r->lock);
    uint64_t cap = (uint64_t)r->rate_per_s * 1000u;
    if (now_ms > r->last_ms) {
        /* rate tokens per 1000 ms = rate milli-tokens per ms */
        uint64_t add = (now_ms - r->last_ms) * r->rate_per_s;
        r->tokens_milli = r->tokens_milli + add > cap ? cap : r->tokens_milli + add;
        r->last_ms = now_ms;
    }
    ok = r->tokens_milli >= 1000u;
    if (ok)
        r->tokens_milli -= 1000u;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

struct source_entry {
    uint8_t key[16];
    uint32_t count;
    struct source_entry *next;
};

struct plr_sources {
    pthread_mutex_t lock;
    uint32_t max_per_source;
    struct source_entry *buckets[SOURCE_BUCKETS];
};

struct plr_sources *plr_sources_new(uint32_t max_per_source, int *failed)
{
    struct plr_sources *t;

    *failed = 0;
    if (max_per_source == 0)
        return NULL;
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        *failed = 1;
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    t->max_per_source = max_per_source;
    return t;
}

void plr_sources_free(struct plr_sources *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < SOURCE_BUCKETS; i++) {
        struct source_entry *e = t->buckets[i], *next;
        for (; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* 0 with key filled for AF_INET/AF_INET6; -1 for anything else (never limited). */
static int source_key(const struct sockaddr *sa, uint8_t key[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (sa->sa_family == AF_INET) {
        memcpy(key, mapped, 12);
        memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

static struct source_entry **find(struct plr_sources *t, const uint8_t key[16])
{
    uint32_t h = 2166136261u;

    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 16777619u;
    struct source_entry **pp = &t->buckets[h % SOURCE_BUCKETS];
    while (*pp != NULL && memcmp((*pp)->key, key, 16) != 0)
        pp = &(*pp)->next;
    return pp;
}

int plr_sources_acquire(struct plr_sources *t, const struct sockaddr *sa)
{
    uint8_t key[16];
    int ok = 1;

    if (t == NULL || source_key(sa, key) == -1)
        return 1;
    pthread_mutex_lock(&t->lock);
    struct source_entry **pp = find(t, key);
    if (*pp == NULL) {
        struct source_entry *e = calloc(1, sizeof(*e));
        if (e == NULL) {
            ok = 0;
        } else {
            memcpy(e->key, key, 16);
            e->count = 1;
            *pp = e;
        }
    } else if ((*pp)->count >= t->max_per_source) {
        ok = 0;
    } else {
        (*pp)->count++;
    }
    pthread_mutex_unlock(&t->lock);
    return ok;
}

void plr_sources_release(struct plr_sources *t, const struct sockaddr *sa)
{
    uint8_t key[16];

    if (t == NULL || source_key(sa, key) == -1)
        return;
    pthread_mutex_lock(&t->lock);
    struct source_entry **pp = find(t, key);
    if (*pp != NULL && --(*pp)->count == 0) {
        struct source_entry *e = *pp;
        *pp = e->next;
        free(e);
    }
    pthread_mutex_unlock(&t->lock);
}

uint32_t plr_sources_count(struct plr_sources *t, const struct sockaddr *sa)
{
    uint8_t key[16];
    uint32_t n = 0;

    if (t == NULL || source_key(sa, key) == -1)
        return 0;
    pthread_mutex_lock(&t->lock);
    struct source_entry **pp = find(t, key);
    if (*pp != NULL)
        n = (*pp)->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}
