/*
 * runtime — start-up, worker threads, signals, drain and orderly shutdown.
 *
 * Everything that can fail is done before the first byte is relayed: sockets are bound by the
 * main thread (a busy port fails the start with exit 3), the first DNS round completes (or
 * times out) before workers accept, and only then "ready" is logged. Signals are handled only
 * on the main thread: workers block them and receive commands through their command event.
 */
#include "plrelay/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "plrelay/accesslog.h"
#include "plrelay/listener.h"
#include "plrelay/log.h"
#include "plrelay/lookup.h"
#include "plrelay/resolver.h"
#include "plrelay/session.h"
#include "plrelay/upstream.h"

#define MAX_WORKERS 64
#define FIRST_DNS_ROUND_MAX_MS 15000 /* start serving even if a resolver never answers */
#define FDS_PER_SESSION 2

static const int handled_signals[] = {SIGTERM, SIGINT, SIGHUP};

/* ---- workers ------------------------------------------------------------------------------ */

void plr_worker_command(struct plr_worker *w, int cmd)
{
    atomic_fetch_or(&w->cmd_flags, cmd);
    event_active(w->cmd_event, EV_READ, 0);
}

static void close_listeners(struct plr_worker *w)
{
    for (size_t i = 0; i < w->listener_count; i++) {
        plr_listener_free(w->listeners[i]);
        w->listeners[i] = NULL;
    }
    w->listener_count = 0;
}

void plr_worker_session_ended(struct plr_worker *w)
{
    if (w->stopping && w->session_count == 0)
        event_base_loopbreak(w->base);
}

static void on_worker_cmd(evutil_socket_t fd, short what, void *arg)
{
    struct plr_worker *w = arg;
    int cmd = atomic_exchange(&w->cmd_flags, 0);

    if (cmd & PLR_WORKER_STOP_ACCEPT) {
        close_listeners(w);
        w->stopping = 1;
    }
    if (cmd & PLR_WORKER_CLOSE_ALL) {
        while (w->sessions != NULL)
            plr_session_abort(w->sessions, 200, "drain_timeout");
    }
    if (w->stopping && w->session_count == 0)
        event_base_loopbreak(w->base);
}

static void *worker_main(void *arg)
{
    struct plr_worker *w = arg;

    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
    close_listeners(w);
    atomic_fetch_sub(&w->rt->workers_running, 1);
    event_active(w->rt->worker_exit_event, EV_READ, 0);
    return NULL;
}

/* A worker's loop. epoll's changelist folds the event changes a callback makes to one fd into
 * one epoll_ctl at the next wait (a connected upstream: write watch off, read on), which is
 * safe because no fd given to libevent is ever dup()ed. */
static struct event_base *new_worker_base(void)
{
    struct event_config *ec = event_config_new();
    struct event_base *base;

    if (ec == NULL)
        return NULL;
    event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    base = event_base_new_with_config(ec);
    event_config_free(ec);
    return base;
}

/* Pipes a worker may lend for splice(2): together at most an eighth of the fd limit. */
static size_t pipes_per_worker(const struct plr_runtime *rt)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        return 0;
    if (rl.rlim_cur == RLIM_INFINITY)
        return PLR_PIPEPOOL_IN_USE_MAX;
    return (size_t)(rl.rlim_cur / 8 / 2 / rt->worker_count);
}

static int worker_init(struct plr_runtime *rt, struct plr_worker *w, unsigned id, char *err,
                       size_t err_len)
{
    const struct plr_config *cfg = rt->cfg;
    size_t total = 0;

    w->rt = rt;
    w->id = id;
    w->reserve_fd = -1;
    w->next_session_id = id + 1; /* ids step by worker_count: unique per process */
    w->base = new_worker_base();
    if (w->base == NULL) {
        snprintf(err, err_len, "cannot create an event loop");
        return -1;
    }
    w->cmd_event = event_new(w->base, -1, EV_PERSIST, on_worker_cmd, w);
    for (size_t r = 0; r < cfg->route_count; r++)
        total += cfg->routes[r].listen_count;
    w->listeners = calloc(total, sizeof(w->listeners[0]));
    w->scratch = malloc(PLR_WORKER_SCRATCH_BYTES);
    w->scratch_bytes = PLR_WORKER_SCRATCH_BYTES;
    plr_pipepool_init(&w->pipes, pipes_per_worker(rt));
    if (w->cmd_event == NULL || w->listeners == NULL || w->scratch == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t r = 0; r < cfg->route_count; r++) {
        const struct plr_route_config *rc = &cfg->routes[r];
        for (size_t i = 0; i < rc->listen_count; i++) {
            char addr[PLR_SOCKADDR_STRLEN], why[256];
            plr_sockaddr_str((const struct sockaddr *)&rc->listen[i].addr, addr, sizeof(addr));
            if (id == 0 && plr_listener_probe(&rc->listen[i], why, sizeof(why)) == -1) {
                snprintf(err, err_len, "route %s: cannot listen on %s: %s", rc->name, addr, why);
                return -1;
            }
            int fd = plr_listener_bind(&rc->listen[i], why, sizeof(why));
            if (fd == -1) {
                snprintf(err, err_len, "route %s: cannot listen on %s: %s", rc->name, addr, why);
                return -1;
            }
            w->listeners[w->listener_count] = plr_listener_new(w, &rt->routes[r], fd);
            if (w->listeners[w->listener_count] == NULL) {
                snprintf(err, err_len, "route %s: cannot listen on %s", rc->name, addr);
                return -1;
            }
            w->listener_count++;
        }
    }
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (size_t r = 0; r < cfg->route_count && w->dns == NULL; r++) {
        if (cfg->routes[r].mode != PLR_MODE_CONNECT)
            continue;
        /* Each worker resolves its clients' destinations on its own loop: no lookup crosses
         * threads, and a slow answer never blocks another worker. */
        w->dns = evdns_base_new(w->base, 0);
        if (w->dns == NULL || plr_resolver_configure_dns(w->dns, cfg, 0, err, err_len) == -1) {
            if (w->dns == NULL)
                snprintf(err, err_len, "cannot create a DNS resolver");
            return -1;
        }
    }
    return 0;
}

static void worker_cleanup(struct plr_worker *w)
{
    close_listeners(w);
    if (w->dns != NULL)
        evdns_base_free(w->dns, 0); /* runs no callback: then free what was in flight */
    plr_lookup_free_all(&w->lookups);
    free(w->scratch);
    plr_pipepool_cleanup(&w->pipes);
    free(w->listeners);
    if (w->cmd_event != NULL)
        event_free(w->cmd_event);
    if (w->reserve_fd != -1)
        close(w->reserve_fd);
    if (w->base != NULL)
        event_base_free(w->base);
}

static int start_workers(struct plr_runtime *rt)
{
    sigset_t all, old;

    /* Threads inherit the mask: only the main thread ever takes a signal. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < rt->worker_count; i++) {
        atomic_fetch_add(&rt->workers_running, 1);
        int rc = pthread_create(&rt->workers[i].thread, NULL, worker_main, &rt->workers[i]);
        if (rc != 0) {
            atomic_fetch_sub(&rt->workers_running, 1);
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            plr_log(PLR_LOG_ERROR, "cannot start worker thread %u: %s", i, strerror(rc));
            return -1;
        }
        rt->workers[i].thread_started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}

void plr_runtime_warn_fd_limit(struct plr_runtime *rt, const char *route, const char *what, int err)
{
    uint64_t now = plr_now_ms();
    uint64_t last = atomic_load_explicit(&rt->last_fd_warn_ms, memory_order_relaxed);

    if (last != 0 && now - last < PLR_FD_WARN_MS)
        return;
    if (!atomic_compare_exchange_strong(&rt->last_fd_warn_ms, &last, now))
        return; /* another thread just logged it */
    plr_log(PLR_LOG_WARN,
            "route %s: %s: %s (reached the file-descriptor limit; raise ulimit -n / LimitNOFILE "
            "or lower max_connections); repeats are suppressed for %d s",
            route, what, strerror(err), PLR_FD_WARN_MS / 1000);
}

/* ---- start, stop -------------------------------------------------------------------------- */

static void stop_all(struct plr_runtime *rt, int cmd)
{
    for (unsigned i = 0; i < rt->worker_count; i++)
        if (rt->workers[i].thread_started)
            plr_worker_command(&rt->workers[i], cmd);
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct plr_runtime *rt = arg;

    plr_log(PLR_LOG_WARN, "drain_timeout reached: closing %u remaining connection(s)",
            atomic_load(&rt->active));
    stop_all(rt, PLR_WORKER_CLOSE_ALL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct plr_runtime *rt = arg;

    if (sig == SIGHUP) {
        plr_log(PLR_LOG_WARN, "SIGHUP: configuration reload is not supported yet; ignored");
        return;
    }
    if (rt->draining) {
        plr_log(PLR_LOG_WARN, "%s again: closing every connection now", strsignal((int)sig));
        stop_all(rt, PLR_WORKER_CLOSE_ALL);
        return;
    }
    rt->draining = 1;
    plr_log(PLR_LOG_INFO, "%s: no longer accepting; draining %u connection(s) for up to %llu ms",
            strsignal((int)sig), atomic_load(&rt->active),
            (unsigned long long)rt->cfg->drain_timeout_ms);
    if (atomic_load(&rt->workers_running) == 0) {
        event_base_loopexit(rt->main_base, NULL);
        return;
    }
    stop_all(rt, PLR_WORKER_STOP_ACCEPT);
    struct timeval tv = {.tv_sec = (time_t)(rt->cfg->drain_timeout_ms / 1000),
                         .tv_usec = (suseconds_t)(rt->cfg->drain_timeout_ms % 1000) * 1000};
    evtimer_add(rt->drain_timer, &tv);
}

static void on_worker_exit(evutil_socket_t fd, short what, void *arg)
{
    struct plr_runtime *rt = arg;

    if (atomic_load(&rt->workers_running) == 0)
        event_base_loopexit(rt->main_base, NULL);
}

static void on_resolver_ready(void *arg)
{
    struct plr_runtime *rt = arg;

    if (rt->started || rt->draining)
        return;
    rt->started = 1;
    evtimer_del(rt->start_timer);
    if (start_workers(rt) == -1) {
        rt->exit_code = PLR_EXIT_STARTUP;
        rt->draining = 1;
        stop_all(rt, PLR_WORKER_STOP_ACCEPT);
        if (atomic_load(&rt->workers_running) == 0)
            event_base_loopexit(rt->main_base, NULL);
        return;
    }
    plr_log(PLR_LOG_INFO, "ready: %zu route(s), %u worker(s)", rt->cfg->route_count,
            rt->worker_count);
}

static void on_first_round_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct plr_runtime *rt = arg;

    plr_log(PLR_LOG_WARN, "dns: first resolution still incomplete after %d ms; starting anyway",
            FIRST_DNS_ROUND_MAX_MS);
    on_resolver_ready(rt);
}

/* Raise the soft fd limit to the hard one and say when max_connections cannot fit in it. */
static void check_fd_limit(const struct plr_config *cfg)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    uint64_t need = (uint64_t)cfg->max_connections * FDS_PER_SESSION + 64;
    if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur)
        plr_log(PLR_LOG_WARN,
                "max_connections = %u needs about %llu file descriptors but the limit is %llu; "
                "accepting will pause when it runs out (raise LimitNOFILE / ulimit -n)",
                cfg->max_connections, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
}

static unsigned worker_count(const struct plr_config *cfg)
{
    long n = cfg->workers != 0 ? (long)cfg->workers : sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        n = 1;
    return n > MAX_WORKERS ? MAX_WORKERS : (unsigned)n;
}

static int setup(struct plr_runtime *rt, char *err, size_t err_len)
{
    const struct plr_config *cfg = rt->cfg;

    rt->access_log = plr_accesslog_open(cfg->access_log, err, err_len);
    if (rt->access_log == NULL)
        return -1;
    rt->main_base = event_base_new();
    if (rt->main_base == NULL) {
        snprintf(err, err_len, "cannot create the main event loop");
        return -1;
    }
    rt->resolver = plr_resolver_new(rt->main_base, cfg, err, err_len);
    if (rt->resolver == NULL)
        return -1;
    rt->routes = calloc(cfg->route_count, sizeof(rt->routes[0]));
    rt->worker_count = worker_count(cfg);
    rt->workers = calloc(rt->worker_count, sizeof(rt->workers[0]));
    rt->drain_timer = evtimer_new(rt->main_base, on_drain_timeout, rt);
    rt->start_timer = evtimer_new(rt->main_base, on_first_round_deadline, rt);
    rt->worker_exit_event = event_new(rt->main_base, -1, EV_PERSIST, on_worker_exit, rt);
    if (rt->routes == NULL || rt->workers == NULL || rt->drain_timer == NULL ||
        rt->start_timer == NULL || rt->worker_exit_event == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t r = 0; r < cfg->route_count; r++) {
        int failed = 0;
        rt->routes[r].cfg = &cfg->routes[r];
        plr_rate_init(&rt->routes[r].rate, cfg->routes[r].accept_rate, plr_now_ms());
        rt->routes[r].rate_ready = 1;
        rt->routes[r].pool = plr_pool_new(&cfg->routes[r], rt->resolver);
        rt->routes[r].sources = plr_sources_new(cfg->routes[r].max_connections_per_source, &failed);
        if (rt->routes[r].pool == NULL || failed) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
    }
    for (unsigned i = 0; i < rt->worker_count; i++)
        if (worker_init(rt, &rt->workers[i], i, err, err_len) == -1)
            return -1;
    for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++) {
        rt->sig_events[i] = evsignal_new(rt->main_base, handled_signals[i], on_signal, rt);
        if (rt->sig_events[i] == NULL || evsignal_add(rt->sig_events[i], NULL) == -1) {
            snprintf(err, err_len, "cannot install signal handlers");
            return -1;
        }
    }
    return 0;
}

static void teardown(struct plr_runtime *rt)
{
    for (unsigned i = 0; rt->workers != NULL && i < rt->worker_count; i++)
        if (rt->workers[i].thread_started)
            pthread_join(rt->workers[i].thread, NULL);
    for (unsigned i = 0; rt->workers != NULL && i < rt->worker_count; i++)
        worker_cleanup(&rt->workers[i]);
    free(rt->workers);
    for (size_t i = 0; i < sizeof(rt->sig_events) / sizeof(rt->sig_events[0]); i++)
        if (rt->sig_events[i] != NULL)
            event_free(rt->sig_events[i]);
    if (rt->drain_timer != NULL)
        event_free(rt->drain_timer);
    if (rt->start_timer != NULL)
        event_free(rt->start_timer);
    if (rt->worker_exit_event != NULL)
        event_free(rt->worker_exit_event);
    /* Pools read resolver names: free them first, then the resolver, then its loop. */
    for (size_t r = 0; rt->routes != NULL && r < rt->cfg->route_count; r++) {
        plr_pool_free(rt->routes[r].pool);
        plr_sources_free(rt->routes[r].sources);
        if (rt->routes[r].rate_ready)
            plr_rate_cleanup(&rt->routes[r].rate);
    }
    free(rt->routes);
    plr_resolver_free(rt->resolver);
    if (rt->main_base != NULL)
        event_base_free(rt->main_base);
    plr_accesslog_close(rt->access_log);
    plr_config_unref(rt->cfg);
}

static void log_totals(const struct plr_runtime *rt)
{
    struct plr_worker_stats sum = {0};
    size_t pipes = 0, pipe_failures = 0;

    for (unsigned i = 0; i < rt->worker_count; i++) {
        const struct plr_worker_stats *st = &rt->workers[i].stats;
        sum.accepted += st->accepted;
        sum.refused_limit += st->refused_limit;
        sum.accept_paused += st->accept_paused;
        sum.reads_paused += st->reads_paused;
        sum.reads_resumed += st->reads_resumed;
        sum.refused_rate += st->refused_rate;
        sum.denied += st->denied;
        sum.proxy_errors += st->proxy_errors;
        sum.probes += st->probes;
        sum.spliced_bytes += st->spliced_bytes;
        pipes += rt->workers[i].pipes.created;
        pipe_failures += rt->workers[i].pipes.failures;
    }
    plr_log(PLR_LOG_INFO,
            "stopped: %llu connection(s) accepted, %llu refused by limits, %llu by accept_rate, "
            "%llu denied, %llu bad PROXY header(s), %llu probe(s), accept paused %llu "
            "time(s), reads paused %llu / resumed %llu, %llu byte(s) spliced through %zu "
            "pipe(s) (%zu pipe(s) refused)",
            (unsigned long long)sum.accepted, (unsigned long long)sum.refused_limit,
            (unsigned long long)sum.refused_rate, (unsigned long long)sum.denied,
            (unsigned long long)sum.proxy_errors, (unsigned long long)sum.probes,
            (unsigned long long)sum.accept_paused, (unsigned long long)sum.reads_paused,
            (unsigned long long)sum.reads_resumed, (unsigned long long)sum.spliced_bytes, pipes,
            pipe_failures);
}

int plr_runtime_run(struct plr_config *cfg)
{
    struct plr_runtime *rt = calloc(1, sizeof(*rt));
    char err[512] = "";
    int code;

    if (rt == NULL) {
        plr_config_unref(cfg);
        plr_log(PLR_LOG_ERROR, "out of memory");
        return PLR_EXIT_STARTUP;
    }
    signal(SIGPIPE, SIG_IGN); /* a write to a vanished peer is an error, never a death */
    evthread_use_pthreads();
    plr_log_capture_libevent();
    rt->cfg = cfg;
    plr_log_set_level(cfg->log_level);
    check_fd_limit(cfg);
    if (setup(rt, err, sizeof(err)) == -1) {
        plr_log(PLR_LOG_ERROR, "%s: cannot start: %s", cfg->path, err);
        teardown(rt);
        free(rt);
        return PLR_EXIT_STARTUP;
    }
    struct timeval first_round = {.tv_sec = FIRST_DNS_ROUND_MAX_MS / 1000, .tv_usec = 0};
    evtimer_add(rt->start_timer, &first_round);
    plr_resolver_start(rt->resolver, on_resolver_ready, rt);
    event_base_dispatch(rt->main_base);
    log_totals(rt);
    code = rt->exit_code;
    teardown(rt);
    free(rt);
    return code;
}
