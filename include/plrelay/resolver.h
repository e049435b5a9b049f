/*
 * resolver — asynchronous name resolution for upstream host names (libevent evdns).
 *
 * The resolver lives on the main thread's event loop. Each watched name is resolved for A and
 * AAAA at once; the merged answer is published as an immutable, reference-counted address set
 * that worker threads read without waiting (plr_resolver_name_get). Answers are re-resolved in
 * the background when their TTL (clamped to [dns_ttl_min, dns_ttl_max]) runs out. A failed
 * refresh keeps the last good answer and retries after dns_ttl_min; a name that never
 * resolved has an empty set and is logged. Names in the configured hosts file win over DNS and
 * are never refreshed.
 *
 *   watch ──► resolving ──answer──► published ──TTL──► resolving ──fail──► published (stale)
 *                 └──fail──► empty (retry after dns_ttl_min)
 */
#ifndef PLRELAY_RESOLVER_H
#define PLRELAY_RESOLVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

#include "plrelay/config.h"

struct event_base;
struct plr_resolver;
struct plr_resolver_name;

#define PLR_ADDRSET_MAX 16 /* addresses kept per name (A + AAAA); more are dropped */

/* An immutable list of addresses (port 0). Shared between threads by reference count. */
struct plr_addrset {
    atomic_int refs;
    size_t count;
    struct sockaddr_storage addrs[];
};

/* A set holding copies of addrs[0..count); one reference owned by the caller. NULL on OOM. */
struct plr_addrset *plr_addrset_new(const struct sockaddr_storage *addrs, size_t count);
struct plr_addrset *plr_addrset_ref(struct plr_addrset *set);
void plr_addrset_release(struct plr_addrset *set); /* accepts NULL */

/* Called once on the resolver's loop when every watched name has had its first answer or
 * failure (see plr_resolver_start). */
typedef void (*plr_resolver_ready_cb)(void *arg);

/*
 * Create a resolver on `base` using cfg's dns_servers (else /etc/resolv.conf), hosts_file and
 * TTL bounds. NULL on error, with the reason in err (caller-owned, err_len bytes).
 */
struct plr_resolver *plr_resolver_new(struct event_base *base, const struct plr_config *cfg,
                                      char *err, size_t err_len);

/* Register a name (deduplicated, case-insensitive). The handle stays valid until
 * plr_resolver_free. NULL on allocation failure. Call before plr_resolver_start. */
struct plr_resolver_name *plr_resolver_watch(struct plr_resolver *res, const char *host);

/* Start resolving every watched name; `cb` runs once when all have answered or failed. */
void plr_resolver_start(struct plr_resolver *res, plr_resolver_ready_cb cb, void *arg);

/* Current addresses of a name, with one reference for the caller, or NULL when it has none.
 * Thread-safe; never blocks on the network. */
struct plr_addrset *plr_resolver_name_get(struct plr_resolver_name *name);

/* Set up another evdns base (a worker's, for forward-proxy lookups) the way the resolver's is:
 * cfg's dns_servers or /etc/resolv.conf, timeouts and attempts. warn: log an unusable
 * resolv.conf. 0, or -1 with err filled. */
struct evdns_base;
int plr_resolver_configure_dns(struct evdns_base *dns, const struct plr_config *cfg, int warn,
                               char *err, size_t err_len);

/* The hosts-file table (immutable; NULL without hosts_file), readable from any thread. */
struct plr_hosts;
const struct plr_hosts *plr_resolver_hosts(const struct plr_resolver *res);

/* The name as watched. */
const char *plr_resolver_name_host(const struct plr_resolver_name *name);

/* Cancel outstanding queries and free everything. Must run on the resolver's loop thread
 * after no worker reads names any more. Accepts NULL. */
void plr_resolver_free(struct plr_resolver *res);

#endif
