/*
 * loadgen.h — private to the client side of plrelay-bench (loadgen.c, loadgen_xchg.c): the state
 * of one run and the hooks each workload fills in.
 *
 * A run goes SETUP -> WARMUP -> MEASURE -> DONE (or FAILED from anywhere). The workload starts its
 * connections in start() and calls lg_ready() once it is fully set up; a 50 ms tick moves the
 * phases on, opens and closes the measured window (snapshots of every counter and of the proxy's
 * CPU ticks), checks timeouts and draws the progress line.
 */
#ifndef PLRELAY_BENCH_LOADGEN_H
#define PLRELAY_BENCH_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "bench.h"

#define LG_IO_BYTES (256u * 1024u) /* one read or write */
#define LG_IO_PER_CALLBACK 8       /* reads or writes per callback before yielding */

enum lg_phase {
    LG_SETUP = 0,   /* connecting; workload calls lg_ready() when done */
    LG_WARMUP = 1,  /* traffic flows, nothing counted */
    LG_MEASURE = 2, /* the window is open */
    LG_DONE = 3,    /* figures final, loop ends */
    LG_FAILED = 4,  /* setup failure, reason in err */
};

struct lg_run;

struct lg_workload {
    int (*start)(struct lg_run *r);                  /* 0 or -1 (lg_fail already called) */
    void (*tick)(struct lg_run *r, uint64_t now_ns); /* timeouts, pacing; may be NULL */
    void (*window_open)(struct lg_run *r);           /* after the common snapshot; may be NULL */
    void (*window_close)(struct lg_run *r);          /* before the common figures; may be NULL */
    void (*status)(struct lg_run *r, char *buf, size_t len); /* progress text */
    void (*teardown)(struct lg_run *r);                      /* close everything, free wl */
};

struct lg_run {
    const struct bench_opts *o;
    struct bench_server *srv;
    struct bench_result *res;
    struct event_base *base;
    struct event *tick;
    const struct lg_workload *wl;
    void *wl_state;
    enum lg_phase phase;
    uint64_t t_start_ns;        /* run start */
    uint64_t t_phase_ns;        /* current phase start */
    uint64_t setup_deadline_ns; /* SETUP must end by then */
    uint64_t t_last_progress_ns;
    uint64_t prog_units; /* counter value at the last progress line */
    char last_err[96];   /* the latest connection error, for setup failures */
    char *err;
    size_t err_len;
    uint8_t *scratch; /* read target */
    uint8_t *pattern; /* what the client writes */
    /* client-side counters, cumulative over the run */
    uint64_t rx_bytes;   /* payload read by the client */
    uint64_t conns_done; /* connrate exchanges completed */
    uint64_t reqs_done;  /* rr responses completed */
    /* snapshots at the window's opening */
    uint64_t w_t0_ns;
    struct bench_server_counters w_srv0;
    uint64_t w_rx0, w_conns0, w_reqs0, w_cpu0;
    double w_self_cpu0;
    uint64_t w_host_busy0, w_host_steal0;
    int w_host_ok;                             /* /proc/stat was readable at the opening */
    struct bench_server_counters srv_at_start; /* before the first connection */
};

/* Ends the run as a setup failure with a reason (first reason wins). */
void lg_fail(struct lg_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Setup is complete: start the warm-up. */
void lg_ready(struct lg_run *r);
/* A non-blocking, TCP_NODELAY socket connecting to the target. fd, or -1 with errno set. */
int lg_connect(const struct bench_opts *o);
/* 0 when a non-blocking connect succeeded, else the errno it failed with. */
int lg_connect_result(int fd);

extern const struct lg_workload lg_bulk;
extern const struct lg_workload lg_connrate;
extern const struct lg_workload lg_rr;
extern const struct lg_workload lg_idle;

#endif
