/*
 * limits — admission limits shared by every worker of a route: a token bucket for the rate of
 * new connections, and a table of live connections per real client address.
 *
 * Both are touched once when a connection is admitted and once when it ends, never per byte,
 * so a mutex each is cheaper than being clever. Memory of the source table is bounded by the
 * number of live connections: an address's entry is freed when its count returns to zero.
 */
#ifndef PLRELAY_LIMITS_H
#define PLRELAY_LIMITS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Token bucket: `rate_per_s` tokens a second, holding at most one second's worth. */
struct plr_rate {
    pthread_mutex_t lock;
    uint32_t rate_per_s;   /* 0 = unlimited */
    uint64_t tokens_milli; /* thousandths of a token, so slow rates refill smoothly */
    uint64_t last_ms;      /* monotonic time of the last refill */
};

void plr_rate_init(struct plr_rate *r, uint32_t rate_per_s, uint64_t now_ms);
void plr_rate_cleanup(struct plr_rate *r);
/* 1: a token was taken, admit; 0: over the rate, refuse. */
int plr_rate_take(struct plr_rate *r, uint64_t now_ms);

struct plr_sources;

/* A table for at most `max_per_source` live connections per address (0 = no table needed:
 * returns NULL and the calls below admit everything). NULL also on allocation failure, with
 * *failed set. */
struct plr_sources *plr_sources_new(uint32_t max_per_source, int *failed);
void plr_sources_free(struct plr_sources *t); /* accepts NULL */
/* 1: counted, admit (release it later); 0: the address is at its limit (or out of memory),
 * refuse. Ports are ignored; IPv4-mapped IPv6 counts as the IPv4 address. */
int plr_sources_acquire(struct plr_sources *t, const struct sockaddr *sa);
void plr_sources_release(struct plr_sources *t, const struct sockaddr *sa);
/* Live connections of an address (tests). */
uint32_t plr_sources_count(struct plr_sources *t, const struct sockaddr *sa);

#endif
