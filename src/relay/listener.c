/*
 * listener — binding, accepting, connection limits and surviving file-descriptor exhaustion.
 *
 * libevent's evconnlistener reports EMFILE through its error callback and, left alone, spins
 * on the level-triggered readable socket. We pause it instead, spend the worker's reserve fd
 * to accept-and-close whoever is waiting (a prompt close beats a silent hang), and resume on
 * a timer. The log line for this is rate-limited process-wide.
 */
#include "plrelay/listener.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plrelay/accesslog.h"
#include "plrelay/log.h"
#include "plrelay/runtime.h"
#include "plrelay/session.h"
#include "plrelay/upstream.h"

#define SHED_MAX_PER_PAUSE 256 /* waiting clients closed per pause, bounding the work */

struct plr_listener {
    struct plr_worker *w;
    struct plr_route_rt *route;
    struct evconnlistener *evl;
    struct event *resume_timer;
};

int plr_listener_bind(const struct plr_hostport *hp, char *err, size_t err_len)
{
    int one = 1;
    int fd = socket(hp->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd == -1) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1) {
        snprintf(err, err_len, "setsockopt: %s", strerror(errno));
        goto fail;
    }
    if (hp->addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    /* Accepted sockets inherit it: one call here instead of one per connection. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)&hp->addr, hp->addr_len) == -1) {
        snprintf(err, err_len, "bind: %s", strerror(errno));
        goto fail;
    }
    if (listen(fd, PLR_LISTENER_BACKLOG) == -1) {
        snprintf(err, err_len, "listen: %s", strerror(errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

int plr_listener_probe(const struct plr_hostport *hp, char *err, size_t err_len)
{
    int one = 1;
    int fd = socket(hp->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd == -1) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    /* SO_REUSEADDR only: a socket in TIME_WAIT is fine, a live listener is not. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (hp->addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)&hp->addr, hp->addr_len) == -1) {
        int e = errno;
        snprintf(err, err_len, "bind: %s%s", strerror(e),
                 e == EADDRINUSE ? " (another process listens there: is plrelay already running?)"
                                 : "");
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Close a connection we will not serve, with its one access-log line. */
static void refuse(struct plr_listener *l, int fd, const struct sockaddr *peer, const char *reason)
{
    char client[PLR_SOCKADDR_STRLEN];
    struct plr_access_record rec = {
        .route = l->route->cfg->name,
        .client = plr_sockaddr_str(peer, client, sizeof(client)),
        .upstream = "",
        .upstream_addr = "",
        .connect_ms = -1.0,
        .status = 503,
        .reason = reason,
    };

    close(fd);
    if (strcmp(reason, "limit_rate") != 0)
        l->w->stats.refused_limit++;
    plr_accesslog_write(l->w->rt->access_log, &rec);
    plr_log(PLR_LOG_DEBUG, "route %s: %s refused: %s", l->route->cfg->name, client, reason);
}

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *peer,
                      int peer_len, void *arg)
{
    struct plr_listener *l = arg;
    struct plr_runtime *rt = l->w->rt;
    uint32_t route_max = l->route->cfg->max_connections;

    l->w->stats.accepted++;
    if (!plr_rate_take(&l->route->rate, plr_now_ms())) {
        l->w->stats.refused_rate++;
        refuse(l, fd, peer, "limit_rate");
        return;
    }
    if (atomic_fetch_add_explicit(&rt->active, 1, memory_order_relaxed) >=
        rt->cfg->max_connections) {
        atomic_fetch_sub_explicit(&rt->active, 1, memory_order_relaxed);
        refuse(l, fd, peer, "limit_global");
        return;
    }
    if (atomic_fetch_add_explicit(&l->route->active, 1, memory_order_relaxed) >= route_max &&
        route_max != 0) {
        atomic_fetch_sub_explicit(&l->route->active, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&rt->active, 1, memory_order_relaxed);
        refuse(l, fd, peer, "limit_route");
        return;
    }
    plr_session_start(l->w, l->route, fd, peer, (socklen_t)peer_len);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct plr_listener *l = arg;

    evconnlistener_enable(l->evl);
}

/* Out of fds: free the reserve, accept and close the waiting clients, take the reserve back. */
static unsigned shed_waiting(struct plr_listener *l)
{
    int lfd = evconnlistener_get_fd(l->evl);
    unsigned shed = 0;

    if (l->w->reserve_fd != -1) {
        close(l->w->reserve_fd);
        l->w->reserve_fd = -1;
    }
    while (shed < SHED_MAX_PER_PAUSE) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c == -1)
            break;
        close(c);
        shed++;
    }
    l->w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return shed;
}

static void on_accept_error(struct evconnlistener *evl, void *arg)
{
    struct plr_listener *l = arg;
    int err = EVUTIL_SOCKET_ERROR();
    struct timeval pause = {.tv_sec = 0, .tv_usec = PLR_LISTENER_PAUSE_MS * 1000};

    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
        plr_log(PLR_LOG_DEBUG, "route %s: accept: %s", l->route->cfg->name, strerror(err));
        return;
    }
    evconnlistener_disable(evl);
    unsigned shed = shed_waiting(l);
    l->w->stats.accept_paused++;
    evtimer_add(l->resume_timer, &pause);

    char what[96];
    snprintf(what, sizeof(what), "accept paused, %u waiting connection(s) closed", shed);
    plr_runtime_warn_fd_limit(l->w->rt, l->route->cfg->name, what, err);
}

struct plr_listener *plr_listener_new(struct plr_worker *w, struct plr_route_rt *route, int fd)
{
    struct plr_listener *l = calloc(1, sizeof(*l));

    if (l == NULL) {
        close(fd);
        return NULL;
    }
    l->w = w;
    l->route = route;
    l->resume_timer = evtimer_new(w->base, on_resume, l);
    l->evl = evconnlistener_new(w->base, on_accept, l,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (l->evl == NULL) {
        close(fd);
        plr_listener_free(l);
        return NULL;
    }
    evconnlistener_set_error_cb(l->evl, on_accept_error);
    return l;
}

void plr_listener_free(struct plr_listener *l)
{
    if (l == NULL)
        return;
    if (l->evl != NULL)
        evconnlistener_free(l->evl);
    if (l->resume_timer != NULL)
        event_free(l->resume_timer);
    free(l);
}
