/*
 * pipepool — a worker's supply of kernel pipes for splice(2).
 *
 * A relay direction that carries bulk data moves it socket → pipe → socket with splice(2): the
 * pages change hands inside the kernel instead of being copied out to us and back in. Creating
 * and closing a pipe costs three system calls, so a worker keeps empty pipes for the next bulk
 * session, and caps how many it has in use, so that pipes never take the file descriptors that
 * sockets need. Single-threaded: one pool per worker, touched only by its thread.
 */
#ifndef PLRELAY_PIPEPOOL_H
#define PLRELAY_PIPEPOOL_H

#include <stddef.h>

/* The most pipes a worker may have in use at once (two fds each), and empty ones it keeps. */
#define PLR_PIPEPOOL_IN_USE_MAX 256
#define PLR_PIPEPOOL_FREE_MAX 32

struct plr_pipepool {
    int free_fds[PLR_PIPEPOOL_FREE_MAX][2]; /* empty pipes: [0] read end, [1] write end */
    size_t free_count;
    size_t in_use;     /* handed out by get, not yet put back */
    size_t in_use_max; /* cap on in_use, at most PLR_PIPEPOOL_IN_USE_MAX */
    size_t created;    /* pipes created over the pool's life (for the stop summary and tests) */
    size_t failures;   /* get refused (the cap, or pipe2 failed): the caller copied instead */
};

/* in_use_max: how many pipes may be lent at once (clamped to PLR_PIPEPOOL_IN_USE_MAX); the
 * runtime gives each worker a share of the fd limit, so pipes never starve sockets. */
void plr_pipepool_init(struct plr_pipepool *p, size_t in_use_max);
/* Close every kept pipe. Pipes still in use stay the callers' to put back or close. */
void plr_pipepool_cleanup(struct plr_pipepool *p);
/* Hand out an empty non-blocking pipe in fds. 0, or -1 when in_use is at its cap or the
 * system has no file descriptor left (errno as pipe2 set it): copy instead. */
int plr_pipepool_get(struct plr_pipepool *p, int fds[2]);
/* Give a pipe back. `empty`: no byte is left in it; a pipe that still holds bytes, or one
 * beyond what the pool keeps, is closed. */
void plr_pipepool_put(struct plr_pipepool *p, const int fds[2], int empty);

#endif
