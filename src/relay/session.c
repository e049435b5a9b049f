/*
 * session — the per-connection state machine and the byte pump (see session.h for the diagram).
 *
 * Shaped after nginx's stream proxy: one finalize() is the only way a session ends, and it
 * writes the access-log line, releases the limits and frees everything. Upstream selection
 * walks the pool's order, and each server's addresses, within connect_tries attempts. The
 * pump moves whole evbuffer chains (no copy) from one side's input to the other's output.
 */
#include "plrelay/session.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plrelay/accesslog.h"
#include "plrelay/log.h"
#include "plrelay/runtime.h"
#include "plrelay/upstream.h"

enum plr_session_state {
    PLR_SESS_CONNECTING = 0, /* trying upstream addresses; client reads disabled */
    PLR_SESS_RELAYING = 1,   /* both sides connected, bytes flowing */
};

/* Per direction: what has happened to one side's socket. */
struct side {
    struct bufferevent *bev;
    unsigned eof : 1;    /* we read EOF from it */
    unsigned shut : 1;   /* we sent it FIN (shutdown SHUT_WR) */
    unsigned paused : 1; /* reading stopped because the other side's output is full */
};

struct plr_session {
    struct plr_worker *w;
    struct plr_route_rt *route;
    struct plr_session *prev, *next; /* the worker's list */
    uint64_t id;
    enum plr_session_state state;
    struct side client, upstream;
    struct event *timer; /* connect deadline, then idle check */
    char client_str[PLR_SOCKADDR_STRLEN];
    struct sockaddr_storage client_addr;
    /* Upstream selection. */
    size_t order[PLR_POOL_MAX_SERVERS];
    size_t order_count, order_pos;
    struct plr_upstream_server *server;  /* server of the current attempt */
    struct plr_upstream_server *charged; /* server whose `active` we incremented */
    struct plr_addrset *addrs;           /* addresses of `server` */
    size_t addr_pos;
    char upstream_str[PLR_SOCKADDR_STRLEN];
    unsigned attempts, refused, timed_out;
    const char *local_failure; /* "fd_limit" / "internal": our own shortage */
    /* Relay accounting. */
    uint64_t bytes_in, bytes_out;
    const char *first_eof; /* "client_eof" / "upstream_eof" */
    uint64_t start_us, connected_us;
    uint64_t last_activity_ms; /* last byte read from either side */
    size_t idle_pending;       /* bytes queued for writing at the last idle check */
};

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct timeval ms_to_tv(uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

struct plr_session *plr_session_next(struct plr_session *s)
{
    return s->next;
}

/* ---- the single exit ------------------------------------------------------------------------ */

static void finalize(struct plr_session *s, int status, const char *reason)
{
    struct plr_worker *w = s->w;
    uint64_t end = now_us();
    struct plr_access_record rec = {
        .route = s->route->cfg->name,
        .client = s->client_str,
        .upstream = s->server != NULL ? s->server->label : "",
        .upstream_addr = s->upstream_str,
        .attempts = s->attempts,
        .bytes_in = s->bytes_in,
        .bytes_out = s->bytes_out,
        .connect_ms =
            s->connected_us != 0 ? (double)(s->connected_us - s->start_us) / 1000.0 : -1.0,
        .duration_ms = (double)(end - s->start_us) / 1000.0,
        .status = status,
        .reason = reason,
    };

    plr_accesslog_write(w->rt->access_log, &rec);
    /* A pause ends with its session: keeps reads_paused == reads_resumed once all are gone. */
    w->stats.reads_resumed += s->client.paused + s->upstream.paused;
    plr_log(PLR_LOG_DEBUG, "session %llu: %s %s -> %s: %s (%d)", (unsigned long long)s->id,
            s->route->cfg->name, s->client_str, s->upstream_str[0] ? s->upstream_str : "-", reason,
            status);
    if (s->client.bev != NULL)
        bufferevent_free(s->client.bev);
    if (s->upstream.bev != NULL)
        bufferevent_free(s->upstream.bev);
    if (s->timer != NULL)
        event_free(s->timer);
    plr_addrset_release(s->addrs);
    if (s->charged != NULL)
        atomic_fetch_sub_explicit(&s->charged->active, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&s->route->active, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&w->rt->active, 1, memory_order_relaxed);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        w->sessions = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    w->session_count--;
    free(s);
    plr_worker_session_ended(w);
}

void plr_session_abort(struct plr_session *s, int status, const char *reason)
{
    finalize(s, status, reason);
}

/* ---- relaying ------------------------------------------------------------------------------- */

static struct side *other_side(struct plr_session *s, struct bufferevent *bev)
{
    return bev == s->client.bev ? &s->upstream : &s->client;
}

static struct side *this_side(struct plr_session *s, struct bufferevent *bev)
{
    return bev == s->client.bev ? &s->client : &s->upstream;
}

/* Both directions ended cleanly: each side sent EOF and got our FIN after its bytes. */
static int relay_done(const struct plr_session *s)
{
    return s->client.eof && s->upstream.eof && s->client.shut && s->upstream.shut;
}

/* Pass EOF on to `dst` once everything queued for it has been written. */
static void shut_when_flushed(struct side *dst)
{
    if (dst->shut || evbuffer_get_length(bufferevent_get_output(dst->bev)) > 0)
        return;
    shutdown(bufferevent_getfd(dst->bev), SHUT_WR);
    dst->shut = 1;
}

static void pump(struct plr_session *s, struct side *src, struct side *dst)
{
    struct evbuffer *in = bufferevent_get_input(src->bev);
    struct evbuffer *out = bufferevent_get_output(dst->bev);
    size_t n = evbuffer_get_length(in);
    size_t high = s->route->cfg->buffer_bytes;

    if (n == 0)
        return;
    if (src == &s->client)
        s->bytes_in += n;
    else
        s->bytes_out += n;
    evbuffer_add_buffer(out, in);
    s->last_activity_ms = plr_now_ms();
    if (evbuffer_get_length(out) >= high && !src->paused) {
        /* Backpressure: stop reading until dst drained to half; its write callback resumes. */
        bufferevent_disable(src->bev, EV_READ);
        bufferevent_setwatermark(dst->bev, EV_WRITE, high / 2, 0);
        src->paused = 1;
        s->w->stats.reads_paused++;
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct plr_session *s = arg;

    pump(s, this_side(s, bev), other_side(s, bev));
}

/* Output of `bev` fell to its low watermark: resume the paused reader, pass on a pending EOF. */
static void on_write(struct bufferevent *bev, void *arg)
{
    struct plr_session *s = arg;
    struct side *dst = this_side(s, bev);
    struct side *src = other_side(s, bev);

    if (src->paused) {
        src->paused = 0;
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        s->w->stats.reads_resumed++;
        if (!src->eof)
            bufferevent_enable(src->bev, EV_READ);
    }
    if (src->eof) {
        shut_when_flushed(dst);
        if (relay_done(s))
            finalize(s, 200, s->first_eof);
    }
}

static void on_relay_event(struct plr_session *s, struct bufferevent *bev, short what)
{
    struct side *src = this_side(s, bev);
    struct side *dst = other_side(s, bev);

    if (what & BEV_EVENT_EOF) {
        pump(s, src, dst); /* whatever arrived with the FIN */
        src->eof = 1;
        if (s->first_eof == NULL)
            s->first_eof = src == &s->client ? "client_eof" : "upstream_eof";
        if (src->paused) { /* no more reading: the pause ends with the stream */
            src->paused = 0;
            s->w->stats.reads_resumed++;
        }
        bufferevent_setwatermark(dst->bev, EV_WRITE, 0, 0);
        shut_when_flushed(dst);
        if (relay_done(s))
            finalize(s, 200, s->first_eof);
        return;
    }
    if (what & BEV_EVENT_ERROR) {
        int err = EVUTIL_SOCKET_ERROR();
        plr_log(PLR_LOG_DEBUG, "session %llu: %s error: %s", (unsigned long long)s->id,
                src == &s->client ? "client" : "upstream", evutil_socket_error_to_string(err));
        if (src == &s->upstream)
            finalize(s, 502, "upstream_reset");
        else
            finalize(s, 200, "client_reset");
    }
}

static void arm_idle(struct plr_session *s, uint64_t delay_ms)
{
    struct timeval tv = ms_to_tv(delay_ms);

    evtimer_add(s->timer, &tv);
}

/* The idle deadline: close only when neither side moved a byte for idle_timeout. Reads stamp
 * last_activity_ms; writes (a slow reader still draining) show as a change in queued bytes. */
static void on_idle_timer(evutil_socket_t fd, short what, void *arg)
{
    struct plr_session *s = arg;
    uint64_t idle = s->route->cfg->idle_timeout_ms;
    size_t pending = evbuffer_get_length(bufferevent_get_output(s->client.bev)) +
                     evbuffer_get_length(bufferevent_get_output(s->upstream.bev));

    if (pending != s->idle_pending) {
        s->idle_pending = pending;
        s->last_activity_ms = plr_now_ms();
    }
    uint64_t quiet = plr_now_ms() - s->last_activity_ms;
    if (quiet >= idle)
        finalize(s, 200, "idle_timeout");
    else
        arm_idle(s, idle - quiet);
}

static void start_relay(struct plr_session *s)
{
    const struct plr_route_config *rc = s->route->cfg;
    int one = 1;

    s->state = PLR_SESS_RELAYING;
    s->connected_us = now_us();
    s->last_activity_ms = plr_now_ms();
    setsockopt(bufferevent_getfd(s->client.bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(bufferevent_getfd(s->upstream.bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    bufferevent_set_max_single_read(s->client.bev, rc->buffer_bytes);
    bufferevent_set_max_single_read(s->upstream.bev, rc->buffer_bytes);
    bufferevent_enable(s->client.bev, EV_READ | EV_WRITE);
    bufferevent_enable(s->upstream.bev, EV_READ | EV_WRITE);
    event_free(s->timer);
    s->timer = NULL;
    if (rc->idle_timeout_ms > 0) {
        s->timer = evtimer_new(s->w->base, on_idle_timer, s);
        if (s->timer == NULL) {
            finalize(s, 500, "internal");
            return;
        }
        arm_idle(s, rc->idle_timeout_ms);
    }
    plr_log(PLR_LOG_DEBUG, "session %llu: connected to %s (%s) after %u attempt(s)",
            (unsigned long long)s->id, s->server->label, s->upstream_str, s->attempts);
}

/* ---- connecting ----------------------------------------------------------------------------- */

static void try_next(struct plr_session *s);

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct plr_session *s = arg;

    if (s->state == PLR_SESS_RELAYING) {
        on_relay_event(s, bev, what);
        return;
    }
    if (bev == s->client.bev) {
        /* Reads are off while connecting: only a write error can land here. */
        finalize(s, 200, "client_reset");
        return;
    }
    if (what & BEV_EVENT_CONNECTED) {
        evtimer_del(s->timer);
        plr_pool_mark_ok(s->server);
        s->charged = s->server;
        atomic_fetch_add_explicit(&s->charged->active, 1, memory_order_relaxed);
        start_relay(s);
        return;
    }
    int err = EVUTIL_SOCKET_ERROR();
    plr_log(PLR_LOG_INFO, "session %llu: connect to %s (%s) failed: %s", (unsigned long long)s->id,
            s->server->label, s->upstream_str, evutil_socket_error_to_string(err));
    evtimer_del(s->timer);
    plr_pool_mark_failed(s->server, plr_now_ms());
    s->refused++;
    bufferevent_free(s->upstream.bev);
    s->upstream.bev = NULL;
    try_next(s);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct plr_session *s = arg;

    plr_log(PLR_LOG_INFO, "session %llu: connect to %s (%s) timed out after %llu ms",
            (unsigned long long)s->id, s->server->label, s->upstream_str,
            (unsigned long long)s->route->cfg->connect_timeout_ms);
    plr_pool_mark_failed(s->server, plr_now_ms());
    s->timed_out++;
    bufferevent_free(s->upstream.bev);
    s->upstream.bev = NULL;
    try_next(s);
}

/* Begin one non-blocking connect. 0: in progress (an event or the timer follows); -1: failed
 * at once (counted, caller moves on). */
static int start_connect(struct plr_session *s, struct sockaddr_storage *addr)
{
    socklen_t len =
        addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    struct timeval tv = ms_to_tv(s->route->cfg->connect_timeout_ms);

    s->attempts++;
    plr_sockaddr_str((struct sockaddr *)addr, s->upstream_str, sizeof(s->upstream_str));
    s->upstream.bev = bufferevent_socket_new(s->w->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (s->upstream.bev == NULL) {
        s->local_failure = "internal";
        return -1;
    }
    bufferevent_setcb(s->upstream.bev, on_read, on_write, on_event, s);
    if (bufferevent_socket_connect(s->upstream.bev, (struct sockaddr *)addr, (int)len) != 0) {
        int err = errno;
        bufferevent_free(s->upstream.bev);
        s->upstream.bev = NULL;
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
            /* Our own shortage, not the server's fault: no other server would do better. */
            plr_runtime_warn_fd_limit(s->w->rt, s->route->cfg->name, "connecting to upstream", err);
            s->local_failure = "fd_limit";
            return -1;
        }
        plr_log(PLR_LOG_INFO, "session %llu: connect to %s (%s) failed: %s",
                (unsigned long long)s->id, s->server->label, s->upstream_str, strerror(err));
        plr_pool_mark_failed(s->server, plr_now_ms());
        s->refused++;
        return -1;
    }
    evtimer_add(s->timer, &tv);
    return 0;
}

static void fail_connect(struct plr_session *s)
{
    if (s->local_failure != NULL)
        finalize(s, strcmp(s->local_failure, "fd_limit") == 0 ? 503 : 500, s->local_failure);
    else if (s->attempts == 0)
        finalize(s, 502, "no_upstream");
    else if (s->timed_out > 0 && s->refused == 0)
        finalize(s, 504, "upstream_timeout");
    else
        finalize(s, 502, "upstream_refused");
}

/* Next address of the current server, else the next server, within connect_tries. */
static void try_next(struct plr_session *s)
{
    struct plr_pool *pool = s->route->pool;

    while (s->attempts < s->route->cfg->connect_tries) {
        if (s->addrs != NULL && s->addr_pos < s->addrs->count) {
            struct sockaddr_storage addr = s->addrs->addrs[s->addr_pos++];
            in_port_t port = htons(s->server->hp->port);
            if (addr.ss_family == AF_INET6)
                ((struct sockaddr_in6 *)&addr)->sin6_port = port;
            else
                ((struct sockaddr_in *)&addr)->sin_port = port;
            if (start_connect(s, &addr) == 0)
                return;
            if (s->local_failure != NULL)
                break;
            continue;
        }
        plr_addrset_release(s->addrs);
        s->addrs = NULL;
        if (s->order_pos >= s->order_count)
            break;
        s->server = &pool->servers[s->order[s->order_pos++]];
        s->addr_pos = 0;
        s->addrs = plr_pool_server_addrs(s->server);
        if (s->addrs == NULL)
            plr_log(PLR_LOG_DEBUG, "session %llu: %s has no address, skipped",
                    (unsigned long long)s->id, s->server->label);
    }
    fail_connect(s);
}

void plr_session_start(struct plr_worker *w, struct plr_route_rt *route, int fd,
                       const struct sockaddr *peer, socklen_t peer_len)
{
    struct plr_session *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        plr_log(PLR_LOG_WARN, "route %s: out of memory for a new session", route->cfg->name);
        close(fd);
        atomic_fetch_sub_explicit(&route->active, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&w->rt->active, 1, memory_order_relaxed);
        return;
    }
    s->w = w;
    s->route = route;
    s->id = w->next_session_id;
    w->next_session_id += w->rt->worker_count;
    s->start_us = now_us();
    if (peer_len > sizeof(s->client_addr))
        peer_len = sizeof(s->client_addr);
    memcpy(&s->client_addr, peer, peer_len);
    plr_sockaddr_str(peer, s->client_str, sizeof(s->client_str));
    s->next = w->sessions;
    if (w->sessions != NULL)
        w->sessions->prev = s;
    w->sessions = s;
    w->session_count++;

    s->client.bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (s->client.bev == NULL)
        close(fd);
    s->timer = evtimer_new(w->base, on_connect_timeout, s);
    if (s->client.bev == NULL || s->timer == NULL) {
        finalize(s, 500, "internal");
        return;
    }
    bufferevent_setcb(s->client.bev, on_read, on_write, on_event, s);
    bufferevent_disable(s->client.bev, EV_READ); /* until the upstream is connected */
    s->order_count = plr_pool_order(route->pool, (const struct sockaddr *)&s->client_addr,
                                    plr_now_ms(), s->order, PLR_POOL_MAX_SERVERS);
    try_next(s);
}
