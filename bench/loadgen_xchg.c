/*
 * loadgen_xchg — the request/response workloads of plrelay-bench: connrate (connect, one
 * exchange, close), rr (exchanges on kept-alive connections, closed loop or at a fixed offered
 * rate) and idle (N connections held open while the proxy's memory is read).
 *
 * All three share one connection state machine (struct xconn). At a fixed rate, requests are
 * due on a schedule whatever the connections are doing; a request that finds no free connection
 * waits in a queue and its latency still runs from the time it was due, so a stalling proxy
 * cannot hide its stalls by slowing the generator down (no coordinated omission).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "loadgen.h"

#define IDLE_CONNECTING_MAX 256 /* idle: connections being set up at once */
#define BACKLOG_MAX (1u << 20)  /* rr --rate: requests that may wait for a free connection */

enum x_state {
    X_FREE = 0,       /* no socket; (re)opened by the tick */
    X_CONNECTING = 1, /* connect in progress */
    X_SENDING = 2,    /* request partly written */
    X_WAITING = 3,    /* request written, response partly read */
    X_IDLE = 4,       /* connected, nothing in flight */
};

struct xconn {
    struct lg_run *run;
    int fd;
    enum x_state st;
    struct event ev_r, ev_w;
    int w_added;
    int on_stack;      /* rr --rate: on the free stack (entries may go stale when c fails) */
    const uint8_t *tx; /* request being written */
    size_t tx_len, tx_off;
    size_t rx_left;       /* response bytes still expected */
    uint64_t t0_ns;       /* latency starts here */
    uint64_t deadline_ns; /* connect or exchange must end by then */
};

struct xchg;
struct x_hooks {
    void (*connected)(struct xchg *x, struct xconn *c);
    void (*response)(struct xchg *x, struct xconn *c, uint64_t now_ns);
    void (*failed)(struct xchg *x, struct xconn *c); /* c is already closed */
};

struct xchg {
    struct lg_run *run;
    const struct x_hooks *hooks;
    struct xconn *c;
    unsigned n;
    uint8_t *first_req; /* hello + request */
    size_t first_len;
    uint8_t hello[BENCH_HELLO_BYTES];
    unsigned established; /* rr/idle: connections connected (and exchanged, for idle) */
    /* rr --rate */
    struct event *pace;
    double interval_ns, next_due_ns;
    uint64_t *backlog; /* ring of due times */
    size_t bl_head, bl_len;
    unsigned *free_stack; /* idle connections */
    unsigned free_n;
    /* idle */
    unsigned opened, in_setup;
    uint64_t rss_before_kib;
    int rss_ok;
};

/* ---- the connection state machine --------------------------------------------------------------
 */
static void x_close(struct xconn *c)
{
    if (c->st == X_FREE)
        return;
    event_del(&c->ev_r);
    event_del(&c->ev_w);
    c->w_added = 0;
    close(c->fd);
    c->fd = -1;
    c->st = X_FREE;
}

static void want_write(struct xconn *c, int on)
{
    if (on && !c->w_added)
        event_add(&c->ev_w, NULL);
    else if (!on && c->w_added)
        event_del(&c->ev_w);
    c->w_added = on;
}

static void x_error(struct xchg *x, struct xconn *c, uint64_t *counter, const char *what, int err)
{
    struct lg_run *r = x->run;
    x_close(c);
    if (r->phase >= LG_DONE)
        return;
    (*counter)++;
    snprintf(r->last_err, sizeof(r->last_err), "%s%s%s", what, err != 0 ? ": " : "",
             err != 0 ? strerror(err) : "");
    x->hooks->failed(x, c);
}

static void x_flush(struct xchg *x, struct xconn *c)
{
    while (c->tx_off < c->tx_len) {
        ssize_t n = write(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                want_write(c, 1);
                return;
            }
            x_error(x, c, &x->run->res->err_reset, "write", errno);
            return;
        }
        c->tx_off += (size_t)n;
    }
    want_write(c, 0);
    c->st = X_WAITING;
    if (c->rx_left == 0)
        x->hooks->response(x, c, bench_now_ns());
}

/* Sends one request; its latency is measured from t0_ns. */
static void x_begin(struct xchg *x, struct xconn *c, const uint8_t *req, size_t len, uint64_t t0_ns)
{
    struct lg_run *r = x->run;
    c->st = X_SENDING;
    c->tx = req;
    c->tx_len = len;
    c->tx_off = 0;
    c->rx_left = r->o->resp_bytes;
    c->t0_ns = t0_ns;
    c->deadline_ns = bench_now_ns() + (uint64_t)(r->o->timeout_s * 1e9);
    x_flush(x, c);
}

static void x_on_write(evutil_socket_t fd, short what, void *arg)
{
    struct xconn *c = arg;
    struct xchg *x = c->run->wl_state;
    if (c->st == X_CONNECTING) {
        int rc = lg_connect_result(fd);
        if (rc != 0) {
            x_error(x, c, &c->run->res->err_connect, "connect", rc);
            return;
        }
        want_write(c, 0);
        event_add(&c->ev_r, NULL);
        c->st = X_IDLE;
        x->hooks->connected(x, c);
        return;
    }
    if (c->st == X_SENDING)
        x_flush(x, c);
}

static void x_on_read(evutil_socket_t fd, short what, void *arg)
{
    struct xconn *c = arg;
    struct lg_run *r = c->run;
    struct xchg *x = r->wl_state;
    for (int i = 0; i < LG_IO_PER_CALLBACK; i++) {
        ssize_t n = read(fd, r->scratch, LG_IO_BYTES);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                x_error(x, c, &r->res->err_reset, "read", errno);
            return;
        }
        if (n == 0) {
            x_error(x, c, &r->res->err_eof, "closed by the target", 0);
            return;
        }
        if ((size_t)n > c->rx_left) {
            x_error(x, c, &r->res->err_reset, "more response bytes than requested", 0);
            return;
        }
        c->rx_left -= (size_t)n;
        r->rx_bytes += (uint64_t)n;
        if (c->rx_left == 0 && c->st == X_WAITING) {
            x->hooks->response(x, c, bench_now_ns());
            return;
        }
    }
}

/* Starts connecting c; on an immediate failure the error is counted and c stays FREE. */
static void x_open(struct xchg *x, struct xconn *c)
{
    struct lg_run *r = x->run;
    uint64_t now = bench_now_ns();
    int fd = lg_connect(r->o);
    if (fd == -1) {
        r->res->err_connect++;
        snprintf(r->last_err, sizeof(r->last_err), "connect: %s", strerror(errno));
        return;
    }
    c->fd = fd;
    c->st = X_CONNECTING;
    c->t0_ns = now;
    c->deadline_ns = now + (uint64_t)(r->o->timeout_s * 1e9);
    event_assign(&c->ev_r, r->base, fd, EV_READ | EV_PERSIST, x_on_read, c);
    event_assign(&c->ev_w, r->base, fd, EV_WRITE | EV_PERSIST, x_on_write, c);
    c->w_added = 0;
    want_write(c, 1);
}

/* Times out connects and exchanges that took longer than --timeout. */
static void x_check_deadlines(struct xchg *x, uint64_t now)
{
    for (unsigned i = 0; i < x->n; i++) {
        struct xconn *c = &x->c[i];
        if ((c->st == X_CONNECTING || c->st == X_SENDING || c->st == X_WAITING) &&
            now > c->deadline_ns)
            x_error(x, c, &x->run->res->err_timeout, "timed out", 0);
    }
}

static void record(struct lg_run *r, uint64_t t0_ns, uint64_t now_ns)
{
    if (r->phase == LG_MEASURE)
        bench_hist_record(&r->res->hist, now_ns > t0_ns ? now_ns - t0_ns : 0);
}

static struct xchg *x_new(struct lg_run *r, unsigned n, const struct x_hooks *hooks)
{
    const struct bench_opts *o = r->o;
    struct xchg *x = calloc(1, sizeof(*x));
    if (x == NULL)
        goto oom;
    r->wl_state = x;
    x->run = r;
    x->hooks = hooks;
    x->n = n;
    x->c = calloc(n, sizeof(*x->c));
    x->first_len = BENCH_HELLO_BYTES + o->size_bytes;
    x->first_req = malloc(x->first_len);
    if (x->c == NULL || x->first_req == NULL)
        goto oom;
    bench_hello_encode(x->hello, BENCH_MODE_XCHG, (uint32_t)o->size_bytes, (uint32_t)o->resp_bytes);
    memcpy(x->first_req, x->hello, BENCH_HELLO_BYTES);
    memcpy(x->first_req + BENCH_HELLO_BYTES, r->pattern, o->size_bytes);
    for (unsigned i = 0; i < n; i++) {
        x->c[i].run = r;
        x->c[i].fd = -1;
    }
    return x;
oom:
    lg_fail(r, "out of memory");
    return NULL;
}

static void x_teardown(struct lg_run *r)
{
    struct xchg *x = r->wl_state;
    if (x == NULL)
        return;
    for (unsigned i = 0; i < x->n; i++)
        x_close(&x->c[i]);
    if (x->pace != NULL)
        event_free(x->pace);
    free(x->c);
    free(x->first_req);
    free(x->backlog);
    free(x->free_stack);
    free(x);
    r->wl_state = NULL;
}

/* ---- connrate ----------------------------------------------------------------------------------
 */
static void cr_connected(struct xchg *x, struct xconn *c)
{
    x_begin(x, c, x->first_req, x->first_len, c->t0_ns); /* latency from the connect */
}

static void cr_response(struct xchg *x, struct xconn *c, uint64_t now)
{
    struct lg_run *r = x->run;
    record(r, c->t0_ns, now);
    r->conns_done++;
    x_close(c);
    lg_ready(r); /* the first complete exchange proves the path */
    if (r->phase < LG_DONE)
        x_open(x, c);
}

static void cr_failed(struct xchg *x, struct xconn *c)
{
    /* reopened by the next tick, so a refusing target costs a bounded error rate */
}

static const struct x_hooks cr_hooks = {cr_connected, cr_response, cr_failed};

static int cr_start(struct lg_run *r)
{
    struct xchg *x = x_new(r, r->o->concurrency, &cr_hooks);
    if (x == NULL)
        return -1;
    for (unsigned i = 0; i < x->n; i++)
        x_open(x, &x->c[i]);
    return 0;
}

static void cr_tick(struct lg_run *r, uint64_t now)
{
    struct xchg *x = r->wl_state;
    x_check_deadlines(x, now);
    for (unsigned i = 0; i < x->n && r->phase < LG_DONE; i++)
        if (x->c[i].st == X_FREE)
            x_open(x, &x->c[i]);
}

const struct lg_workload lg_connrate = {
    .start = cr_start,
    .tick = cr_tick,
    .teardown = x_teardown,
};

/* ---- rr ----------------------------------------------------------------------------------------
 */
static void rr_dispatch(struct xchg *x, uint64_t due_ns)
{
    struct lg_run *r = x->run;
    while (x->free_n > 0) {
        struct xconn *c = &x->c[x->free_stack[--x->free_n]];
        c->on_stack = 0;
        if (c->st == X_IDLE) {
            x_begin(x, c, r->pattern, r->o->size_bytes, due_ns);
            return;
        }
    }
    if (x->bl_len < BACKLOG_MAX) {
        x->backlog[(x->bl_head + x->bl_len) % BACKLOG_MAX] = due_ns;
        x->bl_len++;
    } else {
        r->res->rate_dropped++;
    }
}

/* A connection became free: it takes the oldest waiting request, or goes on the free stack. */
static void rr_free(struct xchg *x, struct xconn *c)
{
    struct lg_run *r = x->run;
    c->st = X_IDLE;
    if (x->bl_len > 0) {
        uint64_t due = x->backlog[x->bl_head];
        x->bl_head = (x->bl_head + 1) % BACKLOG_MAX;
        x->bl_len--;
        x_begin(x, c, r->pattern, r->o->size_bytes, due);
    } else if (!c->on_stack) {
        c->on_stack = 1;
        x->free_stack[x->free_n++] = (unsigned)(c - x->c);
    }
}

static void rr_pace(evutil_socket_t fd, short what, void *arg)
{
    struct xchg *x = arg;
    struct lg_run *r = x->run;
    if (r->phase >= LG_DONE)
        return;
    uint64_t now = bench_now_ns();
    while (x->next_due_ns <= (double)now) {
        rr_dispatch(x, (uint64_t)x->next_due_ns);
        x->next_due_ns += x->interval_ns;
    }
    double wait_ns = x->next_due_ns - (double)bench_now_ns();
    if (wait_ns < 0)
        wait_ns = 0;
    struct timeval tv = {(time_t)(wait_ns / 1e9), (suseconds_t)(fmod(wait_ns, 1e9) / 1e3)};
    evtimer_add(x->pace, &tv);
}

static void rr_connected(struct xchg *x, struct xconn *c)
{
    struct lg_run *r = x->run;
    /* The hello goes alone: a fresh socket's send buffer always takes 16 bytes. */
    if (write(c->fd, x->hello, BENCH_HELLO_BYTES) != BENCH_HELLO_BYTES) {
        x_error(x, c, &r->res->err_reset, "write hello", errno);
        return;
    }
    if (r->phase == LG_SETUP && ++x->established == x->n) {
        lg_ready(r);
        if (x->pace != NULL) {
            x->next_due_ns = (double)bench_now_ns();
            rr_pace(-1, 0, x);
        }
    }
    if (x->pace != NULL)
        rr_free(x, c);
    else
        x_begin(x, c, r->pattern, r->o->size_bytes, bench_now_ns());
}

static void rr_response(struct xchg *x, struct xconn *c, uint64_t now)
{
    struct lg_run *r = x->run;
    record(r, c->t0_ns, now);
    r->reqs_done++;
    if (x->pace != NULL)
        rr_free(x, c);
    else
        x_begin(x, c, r->pattern, r->o->size_bytes, now);
}

static void rr_failed(struct xchg *x, struct xconn *c)
{
    /* reopened by the next tick */
}

static const struct x_hooks rr_hooks = {rr_connected, rr_response, rr_failed};

static int rr_start(struct lg_run *r)
{
    const struct bench_opts *o = r->o;
    struct xchg *x = x_new(r, o->concurrency, &rr_hooks);
    if (x == NULL)
        return -1;
    if (o->rate_per_s > 0) {
        x->interval_ns = 1e9 / o->rate_per_s;
        x->pace = evtimer_new(r->base, rr_pace, x);
        x->backlog = malloc(BACKLOG_MAX * sizeof(*x->backlog));
        x->free_stack = malloc(x->n * sizeof(*x->free_stack));
        if (x->pace == NULL || x->backlog == NULL || x->free_stack == NULL) {
            lg_fail(r, "out of memory");
            return -1;
        }
    }
    for (unsigned i = 0; i < x->n; i++) {
        x_open(x, &x->c[i]);
        if (x->c[i].st == X_FREE) {
            lg_fail(r, "connect to %s: %s", o->target_str, r->last_err);
            return -1;
        }
    }
    return 0;
}

static void rr_tick(struct lg_run *r, uint64_t now)
{
    struct xchg *x = r->wl_state;
    x_check_deadlines(x, now);
    for (unsigned i = 0; i < x->n && r->phase < LG_DONE; i++)
        if (x->c[i].st == X_FREE)
            x_open(x, &x->c[i]);
}

static void rr_window_close(struct lg_run *r)
{
    struct xchg *x = r->wl_state;
    if (x->pace != NULL) {
        r->res->rate_offered = r->o->rate_per_s;
        r->res->rate_backlog = x->bl_len;
    }
}

static void rr_status(struct lg_run *r, char *buf, size_t len)
{
    struct xchg *x = r->wl_state;
    if (x->pace != NULL)
        snprintf(buf, len, "offered %.0f/s  queued %zu", r->o->rate_per_s, x->bl_len);
}

const struct lg_workload lg_rr = {
    .start = rr_start,
    .tick = rr_tick,
    .window_close = rr_window_close,
    .status = rr_status,
    .teardown = x_teardown,
};

/* ---- idle --------------------------------------------------------------------------------------
 */
static void idle_open_more(struct xchg *x)
{
    while (x->opened < x->n && x->in_setup < IDLE_CONNECTING_MAX && x->run->phase == LG_SETUP) {
        struct xconn *c = &x->c[x->opened++];
        x_open(x, c);
        if (c->st == X_FREE) {
            lg_fail(x->run, "connect to %s: %s", x->run->o->target_str, x->run->last_err);
            return;
        }
        x->in_setup++;
    }
}

/* All up end to end: every client connection done, and the server accepted as many. */
static void idle_check_ready(struct xchg *x)
{
    struct lg_run *r = x->run;
    struct bench_server_counters s;
    if (r->phase != LG_SETUP || x->established < x->n)
        return;
    bench_server_read(r->srv, &s);
    if (s.accepted - r->srv_at_start.accepted >= x->n)
        lg_ready(r);
}

static void idle_established(struct xchg *x, struct xconn *c)
{
    c->st = X_IDLE;
    x->established++;
    x->in_setup--;
    idle_open_more(x);
    idle_check_ready(x);
}

static void idle_connected(struct xchg *x, struct xconn *c)
{
    if (x->run->o->idle_xchg)
        x_begin(x, c, x->first_req, x->first_len, bench_now_ns());
    else
        idle_established(x, c);
}

static void idle_response(struct xchg *x, struct xconn *c, uint64_t now)
{
    idle_established(x, c);
}

static void idle_failed(struct xchg *x, struct xconn *c)
{
    lg_fail(x->run, "idle connection lost (%s) with %u of %u established", x->run->last_err,
            x->established, x->n);
}

static const struct x_hooks idle_hooks = {idle_connected, idle_response, idle_failed};

static int idle_start(struct lg_run *r)
{
    const struct bench_opts *o = r->o;
    struct xchg *x = x_new(r, o->idle_conns, &idle_hooks);
    if (x == NULL)
        return -1;
    if (o->n_pids > 0) {
        if (bench_proc_rss_kib(o->proxy_pids, o->n_pids, &x->rss_before_kib) == -1) {
            lg_fail(r, "cannot read /proc/PID/status of --proxy-pid");
            return -1;
        }
        x->rss_ok = 1;
    }
    idle_open_more(x);
    return r->phase == LG_FAILED ? -1 : 0;
}

static void idle_tick(struct lg_run *r, uint64_t now)
{
    struct xchg *x = r->wl_state;
    x_check_deadlines(x, now);
    idle_check_ready(x); /* the server may count the last accepts after the client did */
}

static void idle_window_close(struct lg_run *r)
{
    struct xchg *x = r->wl_state;
    struct bench_result *res = r->res;
    res->idle_established = x->established;
    if (!x->rss_ok)
        return;
    uint64_t after;
    if (bench_proc_rss_kib(r->o->proxy_pids, r->o->n_pids, &after) == -1) {
        lg_fail(r, "cannot read /proc/PID/status of --proxy-pid");
        return;
    }
    res->rss_before_kib = (double)x->rss_before_kib;
    res->rss_after_kib = (double)after;
    res->kib_per_conn = ((double)after - (double)x->rss_before_kib) / (double)x->n;
}

static void idle_status(struct lg_run *r, char *buf, size_t len)
{
    struct xchg *x = r->wl_state;
    struct bench_server_counters s;
    bench_server_read(r->srv, &s);
    snprintf(buf, len, "established %u/%u  server accepted %llu", x->established, x->n,
             (unsigned long long)(s.accepted - r->srv_at_start.accepted));
}

const struct lg_workload lg_idle = {
    .start = idle_start,
    .tick = idle_tick,
    .window_close = idle_window_close,
    .status = idle_status,
    .teardown = x_teardown,
};
