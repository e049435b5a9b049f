/*
 * loadgen — the client side of plrelay-bench: the run loop shared by every workload (phases,
 * the measured window, timeouts, progress) and the bulk workload.
 *
 * The window is opened and closed by a 50 ms tick, so its length is whatever the clock says
 * between the two snapshots, not the nominal duration; every rate divides by that measured
 * length. Bulk bytes are counted where they arrive (the server for "up", the client for "down").
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "loadgen.h"

#define TICK_US 50000
#define PROGRESS_NS 250000000ull

/* ---- shared helpers ----------------------------------------------------------------------------
 */
void lg_fail(struct lg_run *r, const char *fmt, ...)
{
    if (r->phase == LG_FAILED)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->err_len, fmt, ap);
    va_end(ap);
    r->phase = LG_FAILED;
    event_base_loopbreak(r->base);
}

void lg_ready(struct lg_run *r)
{
    if (r->phase != LG_SETUP)
        return;
    r->phase = LG_WARMUP;
    r->t_phase_ns = bench_now_ns();
    bench_phase(r->o, "%s: set up in %.2f s, warming up %.2f s",
                bench_workload_name(r->o->workload), (double)(r->t_phase_ns - r->t_start_ns) / 1e9,
                r->o->warmup_s);
}

int lg_connect(const struct bench_opts *o)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)&o->target, sizeof(o->target)) == -1 &&
        errno != EINPROGRESS) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int lg_connect_result(int fd)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
        return errno;
    return soerr;
}

/* ---- the measured window -----------------------------------------------------------------------
 */
static void window_open(struct lg_run *r)
{
    const struct bench_opts *o = r->o;
    struct bench_server_counters now;
    bench_server_read(r->srv, &now);
    if (now.accepted == r->srv_at_start.accepted) {
        lg_fail(r,
                "%s accepted connections but none reached the built-in server on 127.0.0.1:%u: "
                "is that port the proxy's upstream?",
                o->target_str, (unsigned)o->server_port);
        return;
    }
    if (o->n_pids > 0 && bench_proc_cpu_ticks(o->proxy_pids, o->n_pids, &r->w_cpu0) == -1) {
        lg_fail(r, "cannot read /proc/PID/stat of --proxy-pid: is the proxy still running?");
        return;
    }
    r->w_srv0 = now;
    r->w_rx0 = r->rx_bytes;
    r->w_conns0 = r->conns_done;
    r->w_reqs0 = r->reqs_done;
    r->w_self_cpu0 = bench_self_cpu_s();
    r->w_host_ok = bench_host_cpu_ticks(&r->w_host_busy0, &r->w_host_steal0) == 0;
    bench_hist_reset(&r->res->hist);
    r->phase = LG_MEASURE;
    r->w_t0_ns = r->t_phase_ns = bench_now_ns();
    if (r->wl->window_open != NULL)
        r->wl->window_open(r);
    if (r->phase == LG_MEASURE && o->workload != BENCH_WL_IDLE)
        bench_phase(o, "%s: measuring %.2f s", bench_workload_name(o->workload), o->duration_s);
}

static double per(double num, double den)
{
    return den > 0 ? num / den : NAN;
}

static void window_close(struct lg_run *r)
{
    const struct bench_opts *o = r->o;
    struct bench_result *res = r->res;
    uint64_t t1 = bench_now_ns();
    struct bench_server_counters s1;
    bench_server_read(r->srv, &s1);
    uint64_t cpu1 = 0;
    int cpu_ok = o->n_pids > 0 && bench_proc_cpu_ticks(o->proxy_pids, o->n_pids, &cpu1) == 0;
    res->bench_cpu_s = bench_self_cpu_s() - r->w_self_cpu0;
    uint64_t busy1, steal1;
    double tck = (double)sysconf(_SC_CLK_TCK);
    if (r->w_host_ok && bench_host_cpu_ticks(&busy1, &steal1) == 0) {
        double proxy = cpu_ok ? (double)(cpu1 - r->w_cpu0) / tck : 0.0;
        res->other_cpu_s = (double)(busy1 - r->w_host_busy0) / tck - proxy - res->bench_cpu_s;
        if (res->other_cpu_s < 0) /* tick granularity */
            res->other_cpu_s = 0;
        res->steal_s = (double)(steal1 - r->w_host_steal0) / tck;
    }
    if (r->wl->window_close != NULL)
        r->wl->window_close(r);
    if (r->phase == LG_FAILED)
        return;
    res->window_s = (double)(t1 - r->w_t0_ns) / 1e9;
    res->err_server = s1.errors - r->srv_at_start.errors;
    double bytes = 0;
    if (o->workload == BENCH_WL_BULK) {
        res->bytes_up = s1.bytes_rx - r->w_srv0.bytes_rx;
        res->bytes_down = r->rx_bytes - r->w_rx0;
        bytes = (double)(res->bytes_up + res->bytes_down);
        res->gbit_s = per(bytes * 8 / 1e9, res->window_s);
    } else if (o->workload == BENCH_WL_CONNRATE) {
        res->conns = r->conns_done - r->w_conns0;
        res->conn_per_s = per((double)res->conns, res->window_s);
    } else if (o->workload == BENCH_WL_RR) {
        res->requests = r->reqs_done - r->w_reqs0;
        res->req_per_s = per((double)res->requests, res->window_s);
    }
    if (cpu_ok) {
        res->proxy_cpu_s = (double)(cpu1 - r->w_cpu0) / tck;
        if (o->workload == BENCH_WL_BULK)
            res->cpu_s_per_gb = per(res->proxy_cpu_s, bytes / 1e9);
        else if (o->workload == BENCH_WL_CONNRATE)
            res->cpu_s_per_1000_conn = per(res->proxy_cpu_s, (double)res->conns / 1000.0);
        else if (o->workload == BENCH_WL_RR)
            res->cpu_s_per_100k_req = per(res->proxy_cpu_s, (double)res->requests / 1e5);
    } else if (o->n_pids > 0) {
        lg_fail(r, "cannot read /proc/PID/stat of --proxy-pid at the end of the window");
        return;
    }
    r->phase = LG_DONE;
    event_base_loopbreak(r->base);
}

/* ---- progress ----------------------------------------------------------------------------------
 */
static void progress(struct lg_run *r, uint64_t now)
{
    const struct bench_opts *o = r->o;
    uint64_t last_ns = r->t_last_progress_ns;
    if (!o->progress || now - r->t_last_progress_ns < PROGRESS_NS)
        return;
    struct bench_server_counters s;
    bench_server_read(r->srv, &s);
    uint64_t units = 0;
    const char *unit = "";
    double scale = 1;
    switch (o->workload) {
    case BENCH_WL_BULK:
        units = s.bytes_rx + r->rx_bytes;
        unit = "Gbit/s";
        scale = 8e-9;
        break;
    case BENCH_WL_CONNRATE:
        units = r->conns_done;
        unit = "conn/s";
        break;
    case BENCH_WL_RR:
        units = r->reqs_done;
        unit = "req/s";
        break;
    case BENCH_WL_IDLE:
        break;
    }
    double rate = last_ns != 0 && now > last_ns
                      ? (double)(units - r->prog_units) * scale / ((double)(now - last_ns) / 1e9)
                      : 0.0;
    r->prog_units = units;
    r->t_last_progress_ns = now;
    static const char *names[] = {"setup", "warm-up", "measuring", "done", "failed"};
    double t = (double)(now - r->t_phase_ns) / 1e9;
    char extra[128] = "";
    if (r->wl->status != NULL)
        r->wl->status(r, extra, sizeof(extra));
    const struct bench_result *res = r->res;
    uint64_t errs = res->err_connect + res->err_reset + res->err_eof + res->err_timeout;
    if (o->workload == BENCH_WL_IDLE)
        bench_progress(o, "%s %s %s %.1fs  %s  errors %llu", bench_workload_name(o->workload),
                       o->target_str, names[r->phase], t, extra, (unsigned long long)errs);
    else
        bench_progress(o, "%s %s %s %.1fs  %.2f %s  %s  errors %llu",
                       bench_workload_name(o->workload), o->target_str, names[r->phase], t, rate,
                       unit, extra, (unsigned long long)errs);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct lg_run *r = arg;
    const struct bench_opts *o = r->o;
    uint64_t now = bench_now_ns();
    if (r->wl->tick != NULL)
        r->wl->tick(r, now);
    switch (r->phase) {
    case LG_SETUP:
        if (now > r->setup_deadline_ns) {
            char extra[128] = "";
            if (r->wl->status != NULL)
                r->wl->status(r, extra, sizeof(extra));
            lg_fail(r, "setup did not complete in %.1f s (target %s%s%s%s%s)",
                    (double)(r->setup_deadline_ns - r->t_start_ns) / 1e9, o->target_str,
                    extra[0] != '\0' ? ", " : "", extra,
                    r->last_err[0] != '\0' ? ", last error: " : "", r->last_err);
        }
        break;
    case LG_WARMUP:
        if ((double)(now - r->t_phase_ns) >= o->warmup_s * 1e9)
            window_open(r);
        break;
    case LG_MEASURE:
        if ((double)(now - r->t_phase_ns) >= o->duration_s * 1e9)
            window_close(r);
        break;
    case LG_DONE:
    case LG_FAILED:
        return;
    }
    progress(r, now);
}

/* ---- bulk --------------------------------------------------------------------------------------
 */
enum bulk_state {
    BULK_CONNECTING = 0, /* waiting for connect to finish */
    BULK_UP = 1,         /* hello sent, moving bytes */
    BULK_DEAD = 2,       /* closed */
};

struct bulk_stream {
    struct lg_run *run;
    int fd;
    enum bulk_state state;
    struct event ev_r, ev_w;
};

struct bulk {
    struct bulk_stream *streams;
    unsigned n, connected, dead;
};

static void bulk_kill(struct bulk_stream *s, uint64_t *counter)
{
    struct lg_run *r = s->run;
    struct bulk *b = r->wl_state;
    if (s->state == BULK_DEAD)
        return;
    event_del(&s->ev_r);
    event_del(&s->ev_w);
    close(s->fd);
    s->fd = -1;
    s->state = BULK_DEAD;
    b->dead++;
    if (r->phase >= LG_DONE)
        return;
    (*counter)++;
    if (r->phase == LG_SETUP)
        lg_fail(r, "a bulk stream to %s was closed during setup", r->o->target_str);
    else if (b->dead == b->n)
        lg_fail(r, "every bulk stream to %s was closed", r->o->target_str);
}

static void bulk_connected(struct bulk_stream *s)
{
    struct lg_run *r = s->run;
    struct bulk *b = r->wl_state;
    const struct bench_opts *o = r->o;
    int rc = lg_connect_result(s->fd);
    if (rc != 0) {
        lg_fail(r, "connect to %s: %s", o->target_str, strerror(rc));
        return;
    }
    uint8_t hello[BENCH_HELLO_BYTES];
    enum bench_mode mode = o->direction == BENCH_DIR_UP     ? BENCH_MODE_SINK
                           : o->direction == BENCH_DIR_DOWN ? BENCH_MODE_SOURCE
                                                            : BENCH_MODE_DUPLEX;
    bench_hello_encode(hello, mode, 0, 0);
    if (write(s->fd, hello, sizeof(hello)) != (ssize_t)sizeof(hello)) {
        bulk_kill(s, &r->res->err_reset);
        return;
    }
    s->state = BULK_UP;
    event_add(&s->ev_r, NULL);
    if (o->direction == BENCH_DIR_DOWN)
        event_del(&s->ev_w);
    if (++b->connected == b->n)
        lg_ready(r);
}

static void bulk_on_write(evutil_socket_t fd, short what, void *arg)
{
    struct bulk_stream *s = arg;
    struct lg_run *r = s->run;
    if (s->state == BULK_CONNECTING) {
        bulk_connected(s);
        return;
    }
    size_t len = r->o->size_bytes;
    for (int i = 0; i < LG_IO_PER_CALLBACK; i++) {
        ssize_t n = write(fd, r->pattern, len);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                bulk_kill(s, &r->res->err_reset);
            return;
        }
        if ((size_t)n < len)
            return;
    }
}

static void bulk_on_read(evutil_socket_t fd, short what, void *arg)
{
    struct bulk_stream *s = arg;
    struct lg_run *r = s->run;
    for (int i = 0; i < LG_IO_PER_CALLBACK; i++) {
        ssize_t n = read(fd, r->scratch, LG_IO_BYTES);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                bulk_kill(s, &r->res->err_reset);
            return;
        }
        if (n == 0) {
            bulk_kill(s, &r->res->err_eof);
            return;
        }
        r->rx_bytes += (uint64_t)n;
        if ((size_t)n < LG_IO_BYTES)
            return;
    }
}

static int bulk_start(struct lg_run *r)
{
    const struct bench_opts *o = r->o;
    struct bulk *b = calloc(1, sizeof(*b));
    if (b == NULL || (b->streams = calloc(o->streams, sizeof(*b->streams))) == NULL) {
        free(b);
        lg_fail(r, "out of memory");
        return -1;
    }
    r->wl_state = b;
    for (unsigned i = 0; i < o->streams; i++) {
        struct bulk_stream *s = &b->streams[i];
        s->run = r;
        s->state = BULK_DEAD;
        s->fd = lg_connect(o);
        if (s->fd == -1) {
            r->res->err_connect++;
            lg_fail(r, "connect to %s: %s", o->target_str, strerror(errno));
            return -1;
        }
        s->state = BULK_CONNECTING;
        b->n++;
        event_assign(&s->ev_r, r->base, s->fd, EV_READ | EV_PERSIST, bulk_on_read, s);
        event_assign(&s->ev_w, r->base, s->fd, EV_WRITE | EV_PERSIST, bulk_on_write, s);
        event_add(&s->ev_w, NULL);
    }
    return 0;
}

static void bulk_status(struct lg_run *r, char *buf, size_t len)
{
    struct bulk *b = r->wl_state;
    snprintf(buf, len, "streams %u/%u", b->connected - b->dead, b->n);
}

static void bulk_teardown(struct lg_run *r)
{
    struct bulk *b = r->wl_state;
    if (b == NULL)
        return;
    enum lg_phase keep = r->phase;
    if (r->phase < LG_DONE)
        r->phase = LG_DONE; /* closing is not an error */
    for (unsigned i = 0; i < b->n; i++)
        bulk_kill(&b->streams[i], &r->res->err_reset);
    r->phase = keep;
    free(b->streams);
    free(b);
    r->wl_state = NULL;
}

const struct lg_workload lg_bulk = {
    .start = bulk_start,
    .status = bulk_status,
    .teardown = bulk_teardown,
};

/* ---- the run -----------------------------------------------------------------------------------
 */
static const struct lg_workload *workload_of(enum bench_workload w)
{
    switch (w) {
    case BENCH_WL_BULK:
        return &lg_bulk;
    case BENCH_WL_CONNRATE:
        return &lg_connrate;
    case BENCH_WL_RR:
        return &lg_rr;
    case BENCH_WL_IDLE:
        return &lg_idle;
    }
    return &lg_bulk;
}

int bench_run_client(const struct bench_opts *o, struct bench_server *srv, struct bench_result *res,
                     char *err, size_t err_len)
{
    struct lg_run r = {0};
    struct event_config *cfg = NULL;
    int rc = -1;
    size_t pattern_len = LG_IO_BYTES;
    if (o->size_bytes > pattern_len)
        pattern_len = o->size_bytes;
    r.o = o;
    r.srv = srv;
    r.res = res;
    r.err = err;
    r.err_len = err_len;
    r.wl = workload_of(o->workload);
    r.scratch = malloc(LG_IO_BYTES);
    r.pattern = malloc(pattern_len);
    cfg = event_config_new();
    if (cfg == NULL || r.scratch == NULL || r.pattern == NULL) {
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    /* rr --rate paces requests with sub-millisecond timers: use timerfd, not epoll's 1 ms. */
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    r.base = event_base_new_with_config(cfg);
    r.tick = r.base != NULL ? event_new(r.base, -1, EV_PERSIST, on_tick, &r) : NULL;
    if (r.tick == NULL) {
        snprintf(err, err_len, "cannot create the event loop");
        goto out;
    }
    for (size_t i = 0; i < pattern_len; i++)
        r.pattern[i] = (uint8_t)('A' + i % 26);
    bench_server_read(srv, &r.srv_at_start);
    r.t_start_ns = r.t_phase_ns = bench_now_ns();
    double setup_s = o->timeout_s + 5.0;
    if (o->workload == BENCH_WL_IDLE)
        setup_s += (double)o->idle_conns / 1000.0;
    r.setup_deadline_ns = r.t_start_ns + (uint64_t)(setup_s * 1e9);
    struct timeval tv = {0, TICK_US};
    event_add(r.tick, &tv);
    r.phase = LG_SETUP;
    if (r.wl->start(&r) == 0 && r.phase != LG_FAILED)
        event_base_dispatch(r.base);
    if (r.wl->teardown != NULL)
        r.wl->teardown(&r);
    bench_progress_end(o);
    rc = r.phase == LG_DONE ? 0 : -1;
out:
    if (r.tick != NULL)
        event_free(r.tick);
    if (r.base != NULL)
        event_base_free(r.base);
    if (cfg != NULL)
        event_config_free(cfg);
    free(r.scratch);
    free(r.pattern);
    return rc;
}
