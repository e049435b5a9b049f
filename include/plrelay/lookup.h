/*
 * lookup — one asynchronous name lookup: A and AAAA at once on an evdns base, merged.
 *
 * The resolver uses it for its background refreshes of upstream names; each worker uses it on
 * its own evdns base for the destinations a forward-proxy client asks for (so no lookup ever
 * crosses threads). A lookup may be cancelled while in flight: its callback then never runs
 * and its memory goes when evdns answers. Lookups still in flight when the evdns base is freed
 * (with evdns_base_free(dns, 0), which runs no callback) are freed with plr_lookup_free_all.
 */
#ifndef PLRELAY_LOOKUP_H
#define PLRELAY_LOOKUP_H

#include <stddef.h>
#include <sys/socket.h>

#define PLR_LOOKUP_MAX_ADDRS 16 /* addresses kept per answer (A + AAAA); more are dropped */

struct evdns_base;
struct plr_lookup;

/* The outcome. On success error == 0 and count >= 1 (ports 0); else error is the last evdns
 * error code (DNS_ERR_NOTEXIST, DNS_ERR_TIMEOUT, ...) and count == 0. ttl_s is the smallest
 * TTL of the answers, -1 when unknown. */
struct plr_lookup_result {
    int error;
    int ttl_s;
    size_t count;
    struct sockaddr_storage addrs[PLR_LOOKUP_MAX_ADDRS];
};

typedef void (*plr_lookup_cb)(const struct plr_lookup_result *result, void *arg);

/*
 * Resolve `name` (no search domains). The callback runs once on the base's loop, never from
 * inside this call. `list` is the caller's list of live lookups (for plr_lookup_free_all).
 * NULL on allocation failure.
 */
struct plr_lookup *plr_lookup_start(struct evdns_base *dns, struct plr_lookup **list,
                                    const char *name, plr_lookup_cb cb, void *arg);

/* The callback will not run. Accepts NULL. */
void plr_lookup_cancel(struct plr_lookup *lookup);

/* Free every lookup of `list`; only after the evdns base they ran on was freed. */
void plr_lookup_free_all(struct plr_lookup **list);

/* A DNS error as text ("name does not exist", "timed out", ...). */
const char *plr_lookup_error_str(int error);

#endif
