/*
 * upstream — a route's pool of upstream servers and the balance algorithms over it.
 *
 * A pool is built once per config snapshot and shared by every worker thread: the only mutable
 * state (round-robin cursor, active session counts, passive failure marks) is atomic. For each
 * new session plr_pool_order() returns the order in which servers are tried: the algorithm's
 * pick first, then the others, with servers that failed recently moved to the end so a dead
 * server costs at most one connect timeout per `fail_hold` window instead of one per session.
 */
#ifndef PLRELAY_UPSTREAM_H
#define PLRELAY_UPSTREAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "plrelay/config.h"
#include "plrelay/resolver.h"

#define PLR_POOL_MAX_SERVERS 64     /* servers per route */
#define PLR_POOL_FAIL_HOLD_MS 10000 /* a failed server goes last for this long */

struct plr_upstream_server {
    const struct plr_hostport *hp;       /* as configured; points into the config snapshot */
    char label[PLR_CONFIG_HOST_MAX + 8]; /* "host:port" for logs, IPv6 in brackets */
    struct plr_resolver_name *dns;       /* NULL for a literal address */
    struct plr_addrset *literal;         /* the literal address, NULL for names; owned */
    atomic_uint active;                  /* sessions currently using this server */
    atomic_uint_fast64_t fail_until_ms;  /* monotonic ms; 0 = not marked */
};

struct plr_pool {
    const struct plr_route_config *route; /* borrowed from the snapshot the pool belongs to */
    struct plr_upstream_server *servers;  /* owned, route->upstream_count entries */
    size_t count;
    atomic_uint rr_next; /* round-robin cursor */
};

/* Build the pool of a route. Names are registered with `res` (may be NULL when every upstream
 * is a literal address, as in unit tests). NULL on allocation failure. */
struct plr_pool *plr_pool_new(const struct plr_route_config *route, struct plr_resolver *res);
void plr_pool_free(struct plr_pool *pool); /* accepts NULL */

/*
 * Write the order in which to try servers for one new session into order[0..max): indexes
 * into pool->servers. `client` feeds source-hash (may be NULL). Returns the number written
 * (min(count, max)). Advances the round-robin cursor.
 */
size_t plr_pool_order(struct plr_pool *pool, const struct sockaddr *client, uint64_t now_ms,
                      uint8_t *order, size_t max);

/* The addresses of a server right now (a reference the caller releases), NULL when none. */
struct plr_addrset *plr_pool_server_addrs(struct plr_upstream_server *server);

/* Passive health: a connect to the server failed / succeeded. */
void plr_pool_mark_failed(struct plr_upstream_server *server, uint64_t now_ms);
void plr_pool_mark_ok(struct plr_upstream_server *server);

/* Monotonic clock in milliseconds. */
uint64_t plr_now_ms(void);

#endif
