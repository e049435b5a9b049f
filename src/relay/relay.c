/*
 * relay — the byte pump of a connected session: both directions, backpressure, half-close and
 * the idle deadline.
 *
 * Each socket is read by our own event: one recv(2) into the worker's scratch buffer, one
 * send(2) straight to the other socket; only what that socket does not take is queued (copied)
 * in its bufferevent's output. When the output towards a side holds buffer_size bytes, reading
 * from the other side stops; that output's write callback (low watermark: half) resumes it.
 * EOF is passed on as shutdown(SHUT_WR) only once the bytes before it were written, so nothing
 * is cut short. Forward-proxy sessions may still read through the bufferevents (pump()).
 *
 * Bulk goes by splice(2) (route `splice = auto`): once a recv fills the whole buffer, the
 * direction borrows a pipe from the worker's pool and from then on moves socket → pipe →
 * socket, so the payload pages change hands in the kernel and are never copied to us and back.
 * Small messages (LDAP binds, request/response) never borrow one: for them a pipe would only
 * add system calls. The pipe holds at most what one splice took; while it is not empty the
 * other side is not read, which is the same backpressure as the bufferevent's high watermark.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plrelay/log.h"
#include "plrelay/runtime.h"
#include "session_int.h"

static struct plr_side *other_side(struct plr_session *s, struct bufferevent *bev)
{
    return bev == s->client.bev ? &s->upstream : &s->client;
}

static struct plr_side *this_side(struct plr_session *s, struct bufferevent *bev)
{
    return bev == s->client.bev ? &s->client : &s->upstream;
}

/* Everything read from the other side has been written to `dst`. */
static int flushed(const struct plr_side *dst)
{
    return dst->piped == 0 && evbuffer_get_length(bufferevent_get_output(dst->bev)) == 0;
}

/* src sent EOF: pass it on to dst once dst has all of src's bytes, and end the session when
 * that was the last direction. When dst ended first and its EOF was passed on already, the
 * FIN for dst comes from finalize's close(2): no shutdown(2) for it (both sockets were read to
 * EOF, so the close loses nothing and sends no RST). 1: the session was finalized. */
static int pass_eof(struct plr_session *s, struct plr_side *src, struct plr_side *dst)
{
    if (dst->shut || !flushed(dst))
        return 0;
    if (dst->eof && src->shut) {
        plr_sess_finalize(s, 200, s->first_eof);
        return 1;
    }
    shutdown(bufferevent_getfd(dst->bev), SHUT_WR);
    dst->shut = 1;
    return 0;
}

/* Reading a side: through our own read event when it has one (see plr_sess_relay_start),
 * else through its bufferevent. */
static void read_off(struct plr_side *side)
{
    if (side->rev_set)
        event_del(&side->rev);
    else
        bufferevent_disable(side->bev, EV_READ);
}

static void read_on(struct plr_side *side)
{
    if (side->rev_set)
        event_add(&side->rev, NULL);
    else
        bufferevent_enable(side->bev, EV_READ);
}

static void count_read(struct plr_session *s, struct plr_side *src, size_t n)
{
    if (src == &s->client)
        s->bytes_in += n;
    else
        s->bytes_out += n;
    s->last_activity_ms = plr_now_ms();
}

static void pause_reading(struct plr_session *s, struct plr_side *src)
{
    read_off(src);
    src->paused = 1;
    s->w->stats.reads_paused++;
}

/* Backpressure: more than buffer_size queued for dst, so stop reading src until dst drained
 * to half; dst's write callback (plr_sess_relay_write) resumes. */
static void check_backpressure(struct plr_session *s, struct plr_side *src, struct plr_side *dst)
{
    size_t high = s->route->cfg->buffer_bytes;

    if (evbuffer_get_length(bufferevent_get_output(dst->bev)) > high && !src->paused) {
        pause_reading(s, src);
        bufferevent_setwatermark(dst->bev, EV_WRITE, high / 2, 0);
    }
}

/* Move what the bufferevent of src has read (bev reads: forward.c; bytes that came with a
 * header) to dst's output, writing straight to the socket when nothing is queued there. */
static void pump(struct plr_session *s, struct plr_side *src, struct plr_side *dst)
{
    struct evbuffer *in = bufferevent_get_input(src->bev);
    struct evbuffer *out = bufferevent_get_output(dst->bev);
    size_t n = evbuffer_get_length(in);

    if (n == 0)
        return;
    count_read(s, src, n);
    /* When the socket takes it all (the usual case), dst's write event is never armed: no
     * epoll_ctl, no extra loop turn. A short write or an error leaves the rest to the
     * bufferevent, which reports errors the normal way. */
    if (evbuffer_get_length(out) == 0 && !dst->shut)
        evbuffer_write_atmost(in, bufferevent_getfd(dst->bev), (ev_ssize_t)n);
    if (evbuffer_get_length(in) > 0)
        evbuffer_add_buffer(out, in);
    check_backpressure(s, src, dst);
}

void plr_sess_relay_read(struct plr_session *s, struct bufferevent *bev)
{
    pump(s, this_side(s, bev), other_side(s, bev));
}

/* Output of `bev` fell to its low watermark: resume the paused reader, pass on a pending EOF. */
void plr_sess_relay_write(struct plr_session *s, struct bufferevent *bev)
{
    struct plr_side *dst = this_side(s, bev);
    struct plr_side *src = other_side(s, bev);

    if (src->paused && dst->piped == 0) { /* a pause for the pipe ends in pipe_writable */
        src->paused = 0;
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        s->w->stats.reads_resumed++;
        if (!src->eof)
            read_on(src);
    }
    if (src->eof)
        pass_eof(s, src, dst);
}

void plr_sess_relay_event(struct plr_session *s, struct bufferevent *bev, short what)
{
    struct plr_side *src = this_side(s, bev);
    struct plr_side *dst = other_side(s, bev);

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
        if (pass_eof(s, src, dst))
            return;    /* finalize deleted the read event */
        read_off(src); /* level-triggered: a socket at EOF would wake us forever */
        return;
    }
    if (what & BEV_EVENT_ERROR) {
        int err = EVUTIL_SOCKET_ERROR();
        plr_log(PLR_LOG_DEBUG, "session %llu: %s error: %s", (unsigned long long)s->id,
                src == &s->client ? "client" : "upstream", evutil_socket_error_to_string(err));
        if (src == &s->upstream)
            plr_sess_finalize(s, 502, "upstream_reset");
        else
            plr_sess_finalize(s, 200, "client_reset");
    }
}

/*
 * Our own read path for relaying. libevent 2.1's buffered reads take at most 4 KiB per call
 * (EVBUFFER_MAX_READ) after an ioctl(FIONREAD); here one recv(2) takes up to buffer_size
 * into the worker's scratch buffer, and one send(2) passes it on: no per-session read buffer,
 * no copy into an evbuffer unless dst cannot take it all. A few reads per wake-up at most, so
 * one busy side cannot starve the worker's other sessions.
 */
#define READS_PER_WAKEUP 4

/* Bytes just read from src go to dst: straight to its socket when nothing is queued there,
 * the rest queued in its bufferevent (which then writes it). 0, or -1: session finalized. */
static int forward(struct plr_session *s, struct plr_side *src, struct plr_side *dst,
                   const uint8_t *buf, size_t n)
{
    struct evbuffer *out = bufferevent_get_output(dst->bev);

    count_read(s, src, n);
    if (evbuffer_get_length(out) == 0) {
        ssize_t sent = send(bufferevent_getfd(dst->bev), buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0) {
            buf += sent;
            n -= (size_t)sent;
        } else if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            plr_sess_relay_event(s, dst->bev, BEV_EVENT_WRITING | BEV_EVENT_ERROR);
            return -1;
        }
    }
    if (n > 0 && evbuffer_add(out, buf, n) != 0) {
        plr_sess_finalize(s, 500, "internal");
        return -1;
    }
    check_backpressure(s, src, dst);
    return 0;
}

/* ---- bulk by splice(2) ----------------------------------------------------------------------- */

/* Write what dst's pipe holds to dst. 1: all written; 0: dst is full, its write event waits;
 * -1: the session was finalized. */
static int pipe_flush(struct plr_session *s, struct plr_side *dst)
{
    evutil_socket_t fd = bufferevent_getfd(dst->bev);

    while (dst->piped > 0) {
        ssize_t m =
            splice(dst->pipe[0], NULL, fd, NULL, dst->piped, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (m > 0) {
            dst->piped -= (size_t)m;
            continue;
        }
        if (m == -1 && errno == EINTR)
            continue;
        if (m == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(dst->wev, NULL);
            return 0;
        }
        if (m == 0) { /* bytes we counted are not in the pipe: our accounting is broken */
            plr_log(PLR_LOG_ERROR, "session %llu: splice pipe lost %zu byte(s)",
                    (unsigned long long)s->id, dst->piped);
            plr_sess_finalize(s, 500, "internal");
            return -1;
        }
        plr_sess_relay_event(s, dst->bev, BEV_EVENT_WRITING | BEV_EVENT_ERROR);
        return -1;
    }
    return 1;
}

/* dst's socket can take more: empty the pipe, then read src again. */
static void pipe_writable(struct plr_session *s, struct plr_side *dst, struct plr_side *src)
{
    if (pipe_flush(s, dst) != 1)
        return;
    s->last_activity_ms = plr_now_ms();
    if (src->paused) {
        src->paused = 0;
        s->w->stats.reads_resumed++;
        if (!src->eof)
            read_on(src);
    }
    if (src->eof) /* not reached today: src is not read while the pipe holds bytes */
        pass_eof(s, src, dst);
}

static void on_client_pipe_writable(evutil_socket_t fd, short what, void *arg)
{
    struct plr_session *s = arg;

    pipe_writable(s, &s->client, &s->upstream);
}

static void on_upstream_pipe_writable(evutil_socket_t fd, short what, void *arg)
{
    struct plr_session *s = arg;

    pipe_writable(s, &s->upstream, &s->client);
}

/* A read filled the buffer: the direction towards dst carries bulk, so borrow a pipe. Without
 * one (the pool's cap, no file descriptor left) the direction simply goes on copying. */
static void splice_begin(struct plr_session *s, struct plr_side *dst)
{
    if (dst->has_pipe || s->route->cfg->splice == PLR_SPLICE_OFF)
        return;
    if (plr_pipepool_get(&s->w->pipes, dst->pipe) == -1) {
        plr_log(PLR_LOG_DEBUG, "session %llu: no pipe for splice (%s): copying",
                (unsigned long long)s->id, strerror(errno));
        return;
    }
    dst->wev =
        event_new(s->w->base, bufferevent_getfd(dst->bev), EV_WRITE,
                  dst == &s->client ? on_client_pipe_writable : on_upstream_pipe_writable, s);
    if (dst->wev == NULL) {
        plr_pipepool_put(&s->w->pipes, dst->pipe, 1);
        return;
    }
    dst->has_pipe = 1;
}

/* n bytes were spliced from src into dst's pipe: pass them on. 0, or -1: finalized. */
static int forward_piped(struct plr_session *s, struct plr_side *src, struct plr_side *dst,
                         size_t n)
{
    int r;

    count_read(s, src, n);
    s->w->stats.spliced_bytes += n;
    dst->piped += n;
    r = pipe_flush(s, dst);
    if (r == 0)
        pause_reading(s, src); /* until pipe_writable emptied the pipe */
    return r == -1 ? -1 : 0;
}

/* The pipe serves only when nothing waits in the bufferevent: bytes keep their order. */
static int use_pipe(const struct plr_side *dst)
{
    return dst->has_pipe && evbuffer_get_length(bufferevent_get_output(dst->bev)) == 0;
}

static void read_side(struct plr_session *s, struct plr_side *src, struct plr_side *dst)
{
    struct plr_worker *w = s->w;
    size_t want = s->route->cfg->buffer_bytes;
    evutil_socket_t fd = bufferevent_getfd(src->bev);

    if (want > w->scratch_bytes)
        want = w->scratch_bytes;
    for (int round = 0; round < READS_PER_WAKEUP && !src->paused && !src->eof; round++) {
        ssize_t n;
        int piped = use_pipe(dst);
        if (piped)
            n = splice(fd, NULL, dst->pipe[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        else
            n = recv(fd, w->scratch, want, 0);
        if (n > 0) {
            if (piped) {
                if (forward_piped(s, src, dst, (size_t)n) == -1)
                    return;
            } else {
                if (forward(s, src, dst, w->scratch, (size_t)n) == -1)
                    return;
                if ((size_t)n == want)
                    splice_begin(s, dst);
            }
            if ((size_t)n < want)
                return; /* the socket is drained for now */
            continue;
        }
        if (n == 0) {
            plr_sess_relay_event(s, src->bev, BEV_EVENT_READING | BEV_EVENT_EOF);
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        plr_sess_relay_event(s, src->bev, BEV_EVENT_READING | BEV_EVENT_ERROR);
        return;
    }
}

static void on_client_readable(evutil_socket_t fd, short what, void *arg)
{
    struct plr_session *s = arg;

    read_side(s, &s->client, &s->upstream);
}

static void on_upstream_readable(evutil_socket_t fd, short what, void *arg)
{
    struct plr_session *s = arg;

    read_side(s, &s->upstream, &s->client);
}

static void arm_idle(struct plr_session *s, uint64_t delay_ms)
{
    struct timeval tv = plr_sess_tv(delay_ms);

    evtimer_add(s->timer, &tv);
}

/* The idle deadline: close only when neither side moved a byte for idle_timeout. Reads stamp
 * last_activity_ms; writes (a slow reader still draining) show as a change in queued bytes. */
void plr_sess_relay_idle(struct plr_session *s)
{
    uint64_t idle = s->route->cfg->idle_timeout_ms;
    size_t pending = evbuffer_get_length(bufferevent_get_output(s->client.bev)) +
                     evbuffer_get_length(bufferevent_get_output(s->upstream.bev)) +
                     s->client.piped + s->upstream.piped;

    if (pending != s->idle_pending) {
        s->idle_pending = pending;
        s->last_activity_ms = plr_now_ms();
    }
    uint64_t quiet = plr_now_ms() - s->last_activity_ms;
    if (quiet >= idle)
        plr_sess_finalize(s, 200, "idle_timeout");
    else
        arm_idle(s, idle - quiet);
}

void plr_sess_relay_start(struct plr_session *s, unsigned flags)
{
    const struct plr_route_config *rc = s->route->cfg;
    int one = 1;

    s->state = PLR_SESS_RELAYING;
    s->connected_us = plr_sess_now_us();
    s->last_activity_ms = plr_now_ms();
    /* The client socket has TCP_NODELAY already: accepted sockets inherit it from the
     * listening socket (plr_listener_bind). */
    setsockopt(bufferevent_getfd(s->upstream.bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Queued output goes out in writes of up to buffer_size (libevent's default: 16 KiB). */
    bufferevent_set_max_single_write(s->client.bev, rc->buffer_bytes);
    bufferevent_set_max_single_write(s->upstream.bev, rc->buffer_bytes);
    evtimer_del(s->timer);
    if (flags & PLR_RELAY_PUMP_PENDING)
        pump(s, &s->client, &s->upstream); /* bytes that came with a header */
    if (flags & PLR_RELAY_OWN_READS) {
        struct plr_side *sides[2] = {&s->client, &s->upstream};
        event_callback_fn cbs[2] = {on_client_readable, on_upstream_readable};
        for (int i = 0; i < 2; i++) {
            /* EV_WRITE stays as it is (enabled since creation): enabling it again would arm
             * the write event with nothing to write, two epoll_ctl calls for nothing. */
            bufferevent_disable(sides[i]->bev, EV_READ);
            event_assign(&sides[i]->rev, s->w->base, bufferevent_getfd(sides[i]->bev),
                         EV_READ | EV_PERSIST, cbs[i], s);
            sides[i]->rev_set = 1;
            if (!sides[i]->paused)
                event_add(&sides[i]->rev, NULL);
        }
    } else {
        /* forward.c reads through the bufferevents: up to buffer_size per read. */
        bufferevent_set_max_single_read(s->client.bev, rc->buffer_bytes);
        bufferevent_set_max_single_read(s->upstream.bev, rc->buffer_bytes);
        bufferevent_enable(s->client.bev, EV_READ | EV_WRITE);
        bufferevent_enable(s->upstream.bev, EV_READ | EV_WRITE);
    }
    if (rc->idle_timeout_ms > 0)
        arm_idle(s, rc->idle_timeout_ms);
    if (plr_log_enabled(PLR_LOG_DEBUG))
        plr_log(PLR_LOG_DEBUG, "session %llu: connected to %s (%s) after %u attempt(s)",
                (unsigned long long)s->id, s->dest_label, plr_sess_upstream_str(s), s->attempts);
}
