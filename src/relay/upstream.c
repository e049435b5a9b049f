/*
 * upstream — pools and balance: which server a new session tries first, and then which next.
 *
 * Pure bookkeeping over atomics, shared by all workers: no locks, no I/O. Connecting is the
 * session's job; the pool only orders candidates and remembers passive failures.
 */
#include "plrelay/upstream.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t plr_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void server_label(struct plr_upstream_server *s)
{
    const struct plr_hostport *hp = s->hp;
    int v6 = strchr(hp->host, ':') != NULL;

    snprintf(s->label, sizeof(s->label), v6 ? "[%s]:%u" : "%s:%u", hp->host, (unsigned)hp->port);
}

struct plr_pool *plr_pool_new(const struct plr_route_config *route, struct plr_resolver *res)
{
    struct plr_pool *pool = calloc(1, sizeof(*pool));

    if (pool == NULL)
        return NULL;
    pool->route = route;
    pool->count = route->upstream_count;
    pool->servers = calloc(pool->count, sizeof(pool->servers[0]));
    if (pool->servers == NULL)
        goto fail;
    for (size_t i = 0; i < pool->count; i++) {
        struct plr_upstream_server *s = &pool->servers[i];
        s->hp = &route->upstreams[i];
        server_label(s);
        if (s->hp->is_literal) {
            s->literal = plr_addrset_new(&s->hp->addr, 1);
            if (s->literal == NULL)
                goto fail;
        } else if (res != NULL) {
            s->dns = plr_resolver_watch(res, s->hp->host);
            if (s->dns == NULL)
                goto fail;
        }
    }
    return pool;
fail:
    plr_pool_free(pool);
    return NULL;
}

void plr_pool_free(struct plr_pool *pool)
{
    if (pool == NULL)
        return;
    for (size_t i = 0; pool->servers != NULL && i < pool->count; i++)
        plr_addrset_release(pool->servers[i].literal);
    free(pool->servers);
    free(pool);
}

struct plr_addrset *plr_pool_server_addrs(struct plr_upstream_server *server)
{
    if (server->literal != NULL)
        return plr_addrset_ref(server->literal);
    if (server->dns != NULL)
        return plr_resolver_name_get(server->dns);
    return NULL;
}

void plr_pool_mark_failed(struct plr_upstream_server *server, uint64_t now_ms)
{
    atomic_store_explicit(&server->fail_until_ms, now_ms + PLR_POOL_FAIL_HOLD_MS,
                          memory_order_relaxed);
}

void plr_pool_mark_ok(struct plr_upstream_server *server)
{
    if (atomic_load_explicit(&server->fail_until_ms, memory_order_relaxed) != 0)
        atomic_store_explicit(&server->fail_until_ms, 0, memory_order_relaxed);
}

/* FNV-1a over the client's address bytes (not its port): one client, one server. */
static uint32_t source_hash(const struct sockaddr *sa)
{
    const uint8_t *p = NULL;
    size_t n = 0;
    uint32_t h = 2166136261u;

    if (sa != NULL && sa->sa_family == AF_INET) {
        p = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
        n = 4;
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        p = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        n = 16;
    }
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static size_t least_loaded(struct plr_pool *pool, size_t start)
{
    size_t best = start % pool->count;
    unsigned best_active = atomic_load_explicit(&pool->servers[best].active, memory_order_relaxed);

    for (size_t k = 1; k < pool->count; k++) {
        size_t i = (start + k) % pool->count;
        unsigned a = atomic_load_explicit(&pool->servers[i].active, memory_order_relaxed);
        if (a < best_active) {
            best = i;
            best_active = a;
        }
    }
    return best;
}

size_t plr_pool_order(struct plr_pool *pool, const struct sockaddr *client, uint64_t now_ms,
                      uint8_t *order, size_t max)
{
    size_t n = pool->count < max ? pool->count : max;
    size_t first = 0, healthy = 0, marked = 0;
    size_t tmp[PLR_POOL_MAX_SERVERS];

    if (n == 0)
        return 0;
    switch (pool->route->balance) {
    case PLR_BALANCE_ROUNDROBIN:
        first = atomic_fetch_add_explicit(&pool->rr_next, 1, memory_order_relaxed) % pool->count;
        break;
    case PLR_BALANCE_LEASTCONN:
        /* Ties rotate so equal servers share the load. */
        first =
            least_loaded(pool, atomic_fetch_add_explicit(&pool->rr_next, 1, memory_order_relaxed));
        break;
    case PLR_BALANCE_FAILOVER:
        first = 0;
        break;
    case PLR_BALANCE_SOURCE_HASH:
        first = source_hash(client) % pool->count;
        break;
    }
    /* Rotation from the pick, healthy servers first, recently failed ones after them. */
    for (size_t k = 0; k < pool->count && healthy + marked < PLR_POOL_MAX_SERVERS; k++) {
        size_t i = (first + k) % pool->count;
        uint64_t until =
            atomic_load_explicit(&pool->servers[i].fail_until_ms, memory_order_relaxed);
        if (until > now_ms)
            tmp[PLR_POOL_MAX_SERVERS - 1 - marked++] = i;
        else
            tmp[healthy++] = i;
    }
    size_t w = 0;
    for (size_t k = 0; k < healthy && w < n; k++)
        order[w++] = (uint8_t)tmp[k];
    for (size_t k = 0; k < marked && w < n; k++)
        order[w++] = (uint8_t)tmp[PLR_POOL_MAX_SERVERS - 1 - k];
    return w;
}
