/* pipepool: empty pipes are reused, pipes with bytes are closed, the in-use cap holds. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "plrelay/pipepool.h"

TestSuite(pipepool, .timeout = 10);

static int fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

Test(pipepool, hands_out_a_non_blocking_pipe_that_carries_bytes)
{
    struct plr_pipepool p;
    int fds[2];
    char buf[4];

    plr_pipepool_init(&p, PLR_PIPEPOOL_IN_USE_MAX);
    cr_assert_eq(plr_pipepool_get(&p, fds), 0);
    cr_assert(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    cr_assert(fcntl(fds[1], F_GETFL) & O_NONBLOCK);
    cr_assert(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    cr_assert_eq(write(fds[1], "abc", 3), 3);
    cr_assert_eq(read(fds[0], buf, sizeof(buf)), 3);
    cr_assert_eq(read(fds[0], buf, sizeof(buf)), -1);
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(p.in_use, 1);
    cr_assert_eq(p.created, 1);
    plr_pipepool_put(&p, fds, 1);
    cr_assert_eq(p.in_use, 0);
    plr_pipepool_cleanup(&p);
    cr_assert_not(fd_open(fds[0]));
}

Test(pipepool, reuses_an_empty_pipe_instead_of_creating_one)
{
    struct plr_pipepool p;
    int a[2], b[2];

    plr_pipepool_init(&p, PLR_PIPEPOOL_IN_USE_MAX);
    cr_assert_eq(plr_pipepool_get(&p, a), 0);
    plr_pipepool_put(&p, a, 1);
    cr_assert_eq(plr_pipepool_get(&p, b), 0);
    cr_assert_eq(b[0], a[0]);
    cr_assert_eq(b[1], a[1]);
    cr_assert_eq(p.created, 1);
    plr_pipepool_put(&p, b, 1);
    plr_pipepool_cleanup(&p);
}

Test(pipepool, closes_a_pipe_that_still_holds_bytes)
{
    struct plr_pipepool p;
    int a[2], b[2];

    plr_pipepool_init(&p, PLR_PIPEPOOL_IN_USE_MAX);
    cr_assert_eq(plr_pipepool_get(&p, a), 0);
    cr_assert_eq(write(a[1], "left", 4), 4);
    plr_pipepool_put(&p, a, 0);
    cr_assert_not(fd_open(a[0]));
    cr_assert_not(fd_open(a[1]));
    cr_assert_eq(p.free_count, 0);
    cr_assert_eq(plr_pipepool_get(&p, b), 0);
    cr_assert_eq(p.created, 2);
    plr_pipepool_put(&p, b, 1);
    plr_pipepool_cleanup(&p);
}

Test(pipepool, refuses_past_the_in_use_cap_and_keeps_at_most_free_max)
{
    static int fds[PLR_PIPEPOOL_IN_USE_MAX][2];
    struct plr_pipepool p;
    int extra[2];

    plr_pipepool_init(&p, PLR_PIPEPOOL_IN_USE_MAX);
    for (size_t i = 0; i < PLR_PIPEPOOL_IN_USE_MAX; i++)
        cr_assert_eq(plr_pipepool_get(&p, fds[i]), 0, "pipe %zu", i);
    cr_assert_eq(plr_pipepool_get(&p, extra), -1);
    cr_assert_eq(errno, EMFILE);
    cr_assert_eq(p.failures, 1);
    for (size_t i = 0; i < PLR_PIPEPOOL_IN_USE_MAX; i++)
        plr_pipepool_put(&p, fds[i], 1);
    cr_assert_eq(p.in_use, 0);
    cr_assert_eq(p.free_count, PLR_PIPEPOOL_FREE_MAX);
    /* the first ones back are kept, those beyond what the pool keeps are closed */
    cr_assert(fd_open(fds[PLR_PIPEPOOL_FREE_MAX - 1][0]));
    cr_assert_not(fd_open(fds[PLR_PIPEPOOL_FREE_MAX][0]));
    cr_assert_not(fd_open(fds[PLR_PIPEPOOL_IN_USE_MAX - 1][1]));
    plr_pipepool_cleanup(&p);
    cr_assert_not(fd_open(fds[0][0]));
}

Test(pipepool, reports_pipe2_failure_when_out_of_fds)
{
    struct plr_pipepool p;
    int fds[2];

    /* dup returns the lowest free descriptor: every one below it is in use, so a limit of
     * exactly that leaves pipe2 nothing (each test runs in its own process). */
    int lowest = dup(0);
    cr_assert_neq(lowest, -1);
    close(lowest);
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = (rlim_t)lowest;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);

    plr_pipepool_init(&p, PLR_PIPEPOOL_IN_USE_MAX);
    cr_assert_eq(plr_pipepool_get(&p, fds), -1);
    cr_assert_eq(errno, EMFILE);
    cr_assert_eq(p.failures, 1);
    cr_assert_eq(p.in_use, 0);
    plr_pipepool_cleanup(&p);
}

Test(pipepool, honours_a_smaller_in_use_cap)
{
    struct plr_pipepool p;
    int a[2], b[2];

    plr_pipepool_init(&p, 1);
    cr_assert_eq(plr_pipepool_get(&p, a), 0);
    cr_assert_eq(plr_pipepool_get(&p, b), -1);
    plr_pipepool_put(&p, a, 1);
    cr_assert_eq(plr_pipepool_get(&p, b), 0);
    plr_pipepool_put(&p, b, 1);
    plr_pipepool_init(&p, 0); /* no pipe at all: every direction copies */
    cr_assert_eq(plr_pipepool_get(&p, a), -1);
    plr_pipepool_init(&p, 100000);
    cr_assert_eq(p.in_use_max, PLR_PIPEPOOL_IN_USE_MAX);
}
