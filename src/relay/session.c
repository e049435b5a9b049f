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
#include <stdio.h>
#include <stdarg.h>
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
#include "plrelay/proxyproto.h"
#include "session_int.h"

uint64_t plr_sess_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct timeval plr_sess_tv(uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

struct plr_session *plr_session_next(struct plr_session *s)
{
    return s->next;
}

/* ---- the single exit ------------------------------------------------------------------------ */

void plr_sess_free_bev(struct bufferevent **bevp)
{
    if (*bevp == NULL)
        return;
    evutil_socket_t fd = bufferevent_getfd(*bevp);
    bufferevent_free(*bevp); /* its events are removed now, its memory in a deferred finalizer */
    if (fd != -1)
        close(fd); /* now, not in that finalizer: a worker that stops its loop never runs it */
    *bevp = NULL;
}

const char *plr_sess_upstream_str(struct plr_session *s)
{
    if (s->upstream_str[0] == '\0' && s->upstream_sa.sa.sa_family != AF_UNSPEC)
        plr_sockaddr_str(&s->upstream_sa.sa, s->upstream_str, sizeof(s->upstream_str));
    return s->upstream_str;
}

void plr_sess_log(struct plr_session *s, int status, const char *reason)
{
    if (!plr_accesslog_enabled(s->w->rt->access_log))
        return;
    char client[PLR_SOCKADDR_STRLEN];
    uint64_t end = plr_sess_now_us();
    struct plr_access_record rec = {
        .route = s->route->cfg->name,
        .client =
            plr_sockaddr_str((const struct sockaddr *)&s->client_addr, client, sizeof(client)),
        .upstream = s->dest_label != NULL ? s->dest_label : "",
        .upstream_addr = plr_sess_upstream_str(s),
        .attempts = s->attempts,
        .bytes_in = s->bytes_in,
        .bytes_out = s->bytes_out,
        .connect_ms =
            s->connected_us != 0 ? (double)(s->connected_us - s->start_us) / 1000.0 : -1.0,
        .duration_ms = (double)(end - s->start_us) / 1000.0,
        .status = status,
        .reason = reason,
    };

    char real[PLR_SOCKADDR_STRLEN] = "";
    if (s->pp != NULL && s->pp->has_addresses)
        plr_sockaddr_str((const struct sockaddr *)&s->pp->src, real, sizeof(real));
    rec.real_client = real[0] != '\0' ? real : client;
    if (s->pp != NULL) {
        rec.vpc_id = s->pp->vpc_id.value;
        rec.vpc_id_len = s->pp->vpc_id.len;
        rec.endpoint_id = s->pp->endpoint_id.value;
        rec.endpoint_id_len = s->pp->endpoint_id.len;
        rec.endpoint_service_id = s->pp->endpoint_service_id.value;
        rec.endpoint_service_id_len = s->pp->endpoint_service_id.len;
    }
    rec.detail = s->detail != NULL ? s->detail : "";
    plr_accesslog_write(s->w->rt->access_log, &rec);
}

void plr_sess_set_detail(struct plr_session *s, const char *fmt, ...)
{
    va_list ap;

    if (s->detail_buf == NULL && (s->detail_buf = malloc(PLR_SESS_DETAIL_MAX)) == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(s->detail_buf, PLR_SESS_DETAIL_MAX, fmt, ap);
    va_end(ap);
    s->detail = s->detail_buf;
}

const char *plr_sess_client_str(const struct plr_session *s, char *buf, size_t len)
{
    return plr_sockaddr_str((const struct sockaddr *)&s->client_addr, buf, len);
}

void plr_sess_reset_request(struct plr_session *s)
{
    s->start_us = plr_sess_now_us();
    s->connected_us = 0;
    s->bytes_in = s->bytes_out = 0;
    s->attempts = s->refused = s->timed_out = 0;
    s->local_failure = NULL;
    s->upstream_str[0] = '\0';
    s->upstream_sa.sa.sa_family = AF_UNSPEC;
    s->detail = NULL;
    s->first_eof = NULL;
}

void plr_sess_finalize(struct plr_session *s, int status, const char *reason)
{
    struct plr_worker *w = s->w;

    if (status != PLR_STATUS_PROBE && !s->no_log)
        plr_sess_log(s, status, reason);
    plr_sess_ingress_release(s);
    plr_fwd_release(s);
    /* A pause ends with its session: keeps reads_paused == reads_resumed once all are gone. */
    w->stats.reads_resumed += s->client.paused + s->upstream.paused;
    if (plr_log_enabled(PLR_LOG_DEBUG)) {
        char client[PLR_SOCKADDR_STRLEN];
        plr_log(PLR_LOG_DEBUG, "session %llu: %s %s -> %s: %s (%d)", (unsigned long long)s->id,
                s->route->cfg->name, plr_sess_client_str(s, client, sizeof(client)),
                plr_sess_upstream_str(s)[0] ? s->upstream_str : "-", reason, status);
    }
    free(s->detail_buf);
    struct plr_side *sides[2] = {&s->client, &s->upstream};
    for (int i = 0; i < 2; i++) {
        if (sides[i]->rev_set)
            event_del(&sides[i]->rev);
        if (sides[i]->wev != NULL)
            event_free(sides[i]->wev);
        if (sides[i]->has_pipe) /* reused only when empty: no byte reaches another session */
            plr_pipepool_put(&w->pipes, sides[i]->pipe, sides[i]->piped == 0);
    }
    plr_sess_free_bev(&s->client.bev);
    plr_sess_free_bev(&s->upstream.bev);
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
    plr_sess_finalize(s, status, reason);
}

/* ---- connecting ----------------------------------------------------------------------------- */

static void try_next(struct plr_session *s);

/* Passive health for pool servers; a forward-proxy destination has no pool. */
static void mark_failed(struct plr_session *s)
{
    if (s->server != NULL)
        plr_pool_mark_failed(s->server, plr_now_ms());
}
static void on_connect_timeout(struct plr_session *s);

/* The bufferevent and timer callbacks of both sockets: dispatch on the state. */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct plr_session *s = arg;

    if (s->state == PLR_SESS_HANDSHAKE)
        plr_sess_ingress_read(s);
    else if (s->fwd != NULL && s->state != PLR_SESS_CONNECTING)
        plr_fwd_read(s, bev);
    else
        plr_sess_relay_read(s, bev);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct plr_session *s = arg;

    if (s->fwd != NULL && (s->state == PLR_SESS_RELAYING || s->state == PLR_SESS_CLOSING))
        plr_fwd_write(s, bev);
    else if (s->state == PLR_SESS_RELAYING)
        plr_sess_relay_write(s, bev);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct plr_session *s = arg;

    if (s->state == PLR_SESS_HANDSHAKE)
        plr_sess_ingress_timeout(s);
    else if (s->state == PLR_SESS_CONNECTING)
        on_connect_timeout(s);
    else if (s->state == PLR_SESS_RELAYING)
        plr_sess_relay_idle(s);
    else
        plr_fwd_timeout(s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct plr_session *s = arg;

    if (s->fwd != NULL && s->state != PLR_SESS_CONNECTING) {
        plr_fwd_event(s, bev, what);
        return;
    }
    if (s->state == PLR_SESS_RELAYING) {
        plr_sess_relay_event(s, bev, what);
        return;
    }
    if (bev == s->client.bev) {
        if (s->state == PLR_SESS_HANDSHAKE)
            plr_sess_ingress_event(s, what);
        else /* reads are off while connecting: only a write error can land here */
            plr_sess_finalize(s, 200, "client_reset");
        return;
    }
    if (what & BEV_EVENT_CONNECTED) {
        evtimer_del(s->timer);
        if (s->server != NULL)
            plr_pool_mark_ok(s->server);
        s->charged = s->server; /* NULL for a forward-proxy destination */
        if (s->charged != NULL)
            atomic_fetch_add_explicit(&s->charged->active, 1, memory_order_relaxed);
        if (s->fwd != NULL)
            plr_fwd_connected(s);
        else if (plr_sess_send_proxy(s) == 0) /* the header goes before any payload */
            plr_sess_relay_start(s, PLR_RELAY_PUMP_PENDING | PLR_RELAY_OWN_READS);
        return;
    }
    int err = EVUTIL_SOCKET_ERROR();
    plr_log(PLR_LOG_INFO, "session %llu: connect to %s (%s) failed: %s", (unsigned long long)s->id,
            s->dest_label, plr_sess_upstream_str(s), evutil_socket_error_to_string(err));
    evtimer_del(s->timer);
    mark_failed(s);
    s->refused++;
    plr_sess_free_bev(&s->upstream.bev);
    try_next(s);
}

static void on_connect_timeout(struct plr_session *s)
{
    plr_log(PLR_LOG_INFO, "session %llu: connect to %s (%s) timed out after %llu ms",
            (unsigned long long)s->id, s->dest_label, plr_sess_upstream_str(s),
            (unsigned long long)s->route->cfg->connect_timeout_ms);
    mark_failed(s);
    s->timed_out++;
    plr_sess_free_bev(&s->upstream.bev);
    try_next(s);
}

/* Begin one non-blocking connect. 0: in progress (an event or the timer follows); -1: failed
 * at once (counted, caller moves on). */
static int start_connect(struct plr_session *s, struct sockaddr_storage *addr)
{
    socklen_t len =
        addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    struct timeval tv = plr_sess_tv(s->route->cfg->connect_timeout_ms);

    s->attempts++;
    memcpy(&s->upstream_sa, addr, len); /* formatted only when something prints it */
    s->upstream_str[0] = '\0';
    s->upstream.bev = bufferevent_socket_new(s->w->base, -1, 0); /* closed by free_bev */
    if (s->upstream.bev == NULL) {
        s->local_failure = "internal";
        return -1;
    }
    bufferevent_setcb(s->upstream.bev, on_read, on_write, on_event, s);
    if (bufferevent_socket_connect(s->upstream.bev, (struct sockaddr *)addr, (int)len) != 0) {
        int err = errno;
        plr_sess_free_bev(&s->upstream.bev);
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
            /* Our own shortage, not the server's fault: no other server would do better. */
            plr_runtime_warn_fd_limit(s->w->rt, s->route->cfg->name, "connecting to upstream", err);
            s->local_failure = "fd_limit";
            return -1;
        }
        plr_log(PLR_LOG_INFO, "session %llu: connect to %s (%s) failed: %s",
                (unsigned long long)s->id, s->dest_label, plr_sess_upstream_str(s), strerror(err));
        mark_failed(s);
        s->refused++;
        return -1;
    }
    evtimer_add(s->timer, &tv);
    return 0;
}

static void fail_connect(struct plr_session *s)
{
    if (s->fwd != NULL) {
        plr_fwd_connect_failed(s);
        return;
    }
    if (s->local_failure != NULL)
        plr_sess_finalize(s, strcmp(s->local_failure, "fd_limit") == 0 ? 503 : 500,
                          s->local_failure);
    else if (s->attempts == 0)
        plr_sess_finalize(s, 502, "no_upstream");
    else if (s->timed_out > 0 && s->refused == 0)
        plr_sess_finalize(s, 504, "upstream_timeout");
    else
        plr_sess_finalize(s, 502, "upstream_refused");
}

/* Next address of the current server, else the next server, within connect_tries. */
static void try_next(struct plr_session *s)
{
    struct plr_pool *pool = s->route->pool;

    while (s->attempts < s->route->cfg->connect_tries) {
        if (s->addrs != NULL && s->addr_pos < s->addrs->count) {
            struct sockaddr_storage addr = s->addrs->addrs[s->addr_pos++];
            in_port_t port = htons(s->dest_port);
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
        if (s->fwd != NULL || s->order_pos >= s->order_count)
            break; /* a forward-proxy destination has exactly the addresses it resolved to */
        s->server = &pool->servers[s->order[s->order_pos++]];
        s->dest_label = s->server->label;
        s->dest_port = s->server->hp->port;
        s->addr_pos = 0;
        s->addrs = plr_pool_server_addrs(s->server);
        if (s->addrs == NULL)
            plr_log(PLR_LOG_DEBUG, "session %llu: %s has no address, skipped",
                    (unsigned long long)s->id, s->dest_label);
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
    s->start_us = plr_sess_now_us();
    if (peer_len > sizeof(s->client_addr))
        peer_len = sizeof(s->client_addr);
    memcpy(&s->client_addr, peer, peer_len);
    s->next = w->sessions;
    if (w->sessions != NULL)
        w->sessions->prev = s;
    w->sessions = s;
    w->session_count++;

    s->client.bev = bufferevent_socket_new(w->base, fd, 0); /* closed by free_bev */
    if (s->client.bev == NULL)
        close(fd);
    s->timer = evtimer_new(w->base, on_timer, s);
    if (s->client.bev == NULL || s->timer == NULL) {
        plr_sess_finalize(s, 500, "internal");
        return;
    }
    bufferevent_setcb(s->client.bev, on_read, on_write, on_event, s);
    bufferevent_disable(s->client.bev, EV_READ); /* the ingress phase decides */
    if (plr_sess_ingress_start(s) == 0)
        plr_sess_admitted(s);
}

void plr_sess_admitted(struct plr_session *s)
{
    if (s->route->cfg->mode == PLR_MODE_CONNECT)
        plr_fwd_begin(s);
    else
        plr_sess_connect(s);
}

void plr_sess_try_addresses(struct plr_session *s)
{
    s->state = PLR_SESS_CONNECTING;
    bufferevent_disable(s->client.bev, EV_READ);
    try_next(s);
}

void plr_sess_connect(struct plr_session *s)
{
    const struct sockaddr *client = (const struct sockaddr *)&s->client_addr;

    s->state = PLR_SESS_CONNECTING;
    bufferevent_disable(s->client.bev, EV_READ); /* until the upstream is connected */
    if (s->pp != NULL && s->pp->has_addresses)
        client = (const struct sockaddr *)&s->pp->src; /* source-hash on the real client */
    s->order_count =
        plr_pool_order(s->route->pool, client, plr_now_ms(), s->order, PLR_POOL_MAX_SERVERS);
    try_next(s);
}
