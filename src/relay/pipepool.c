/*
 * pipepool — empty pipes kept for the next splice(2) direction (see pipepool.h).
 *
 * The pool is a plain stack: the pipe put back last is handed out first, its pages still warm.
 * A pipe is reused only when its owner knows it is empty; one closed with bytes in it would
 * leak those bytes into the next session, so such a pipe is closed instead.
 */
#include "plrelay/pipepool.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

void plr_pipepool_init(struct plr_pipepool *p, size_t in_use_max)
{
    p->free_count = 0;
    p->in_use = 0;
    p->in_use_max = in_use_max < PLR_PIPEPOOL_IN_USE_MAX ? in_use_max : PLR_PIPEPOOL_IN_USE_MAX;
    p->created = 0;
    p->failures = 0;
}

void plr_pipepool_cleanup(struct plr_pipepool *p)
{
    while (p->free_count > 0) {
        p->free_count--;
        close(p->free_fds[p->free_count][0]);
        close(p->free_fds[p->free_count][1]);
    }
}

int plr_pipepool_get(struct plr_pipepool *p, int fds[2])
{
    if (p->in_use >= p->in_use_max) {
        p->failures++;
        errno = EMFILE;
        return -1;
    }
    if (p->free_count > 0) {
        p->free_count--;
        fds[0] = p->free_fds[p->free_count][0];
        fds[1] = p->free_fds[p->free_count][1];
    } else {
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
            p->failures++;
            return -1;
        }
        p->created++;
    }
    p->in_use++;
    return 0;
}

void plr_pipepool_put(struct plr_pipepool *p, const int fds[2], int empty)
{
    if (p->in_use > 0)
        p->in_use--;
    if (empty && p->free_count < PLR_PIPEPOOL_FREE_MAX) {
        p->free_fds[p->free_count][0] = fds[0];
        p->free_fds[p->free_count][1] = fds[1];
        p->free_count++;
        return;
    }
    close(fds[0]);
    close(fds[1]);
}
