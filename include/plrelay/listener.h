/*
 * listener — one listening socket of one worker: accept, limits, and running out of fds.
 *
 * Sockets are created and bound by the main thread before workers start (so a bind error
 * fails the start with a clear message), each with SO_REUSEPORT so every worker has its own
 * accept queue. The worker wraps its sockets in evconnlisteners. When accept fails with
 * EMFILE/ENFILE/ENOBUFS/ENOMEM the listener pauses (no busy loop), the worker's reserve fd is
 * released to accept and close the waiting clients (they see a close, not a hang), and
 * accepting resumes after PLR_LISTENER_PAUSE_MS.
 */
#ifndef PLRELAY_LISTENER_H
#define PLRELAY_LISTENER_H

#include <stddef.h>

#include "plrelay/config.h"

struct plr_worker;
struct plr_route_rt;
struct plr_listener;

#define PLR_LISTENER_BACKLOG 1024
#define PLR_LISTENER_PAUSE_MS 100

/* Check that nobody listens on `hp` yet. Workers' sockets share the port through
 * SO_REUSEPORT, which would also let a second plrelay (same user) silently join in; this
 * probe binds without it first, so a second instance fails to start instead. 0 or -1. */
int plr_listener_probe(const struct plr_hostport *hp, char *err, size_t err_len);

/* Create, bind and listen a socket for `hp` (literal address). Returns the fd or -1 with the
 * reason in err. */
int plr_listener_bind(const struct plr_hostport *hp, char *err, size_t err_len);

/* Wrap a bound socket for worker `w`; takes ownership of fd even on failure. */
struct plr_listener *plr_listener_new(struct plr_worker *w, struct plr_route_rt *route, int fd);
void plr_listener_free(struct plr_listener *l); /* closes the socket; accepts NULL */

#endif
