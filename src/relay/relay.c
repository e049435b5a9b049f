/*
 * relay — the byte pump of a connected session: both directions, backpressure, half-close and
 * the idle deadline.
 *
 * Whole evbuffer chains move from one side's input to the other's output (no copy). When the
 * output towards a side holds buffer_size bytes, reading from the other side stops; that
 * output's write callback (low watermark: half) resumes it. EOF is passed on as
 * shutdown(SHUT_WR) only once the bytes before it were written, so nothing is cut short.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
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

/* Both directions ended cleanly: each side sent EOF and got our FIN after its bytes. */
static int relay_done(const struct plr_session *s)
{
    return s->client.eof && s->upstream.eof && s->client.shut && s->upstream.shut;
}

/* Pass EOF on to `dst` once everything queued for it has been written. */
static void shut_when_flushed(struct plr_side *dst)
{
    if (dst->shut || evbuffer_get_length(bufferevent_get_output(dst->bev)) > 0)
        return;
    shutdown(bufferevent_getfd(dst->bev), SHUT_WR);
    dst->shut = 1;
}

/* Reading a side: through our own read event when it has one (see plr_sess_relay_start),
 * else through its bufferevent. */
static void read_off(struct plr_side *side)
{
    if (side->rev != NULL)
        event_del(side->rev);
    else
        bufferevent_disable(side->bev, EV_READ);
}

static void read_on(struct plr_side *side)
{
    if (side->rev != NULL)
        event_add(side->rev, NULL);
    else
        bufferevent_enable(side->bev, EV_READ);
}

/* Where a side's received bytes wait: our own buffer once relaying reads the socket itself
 * (a bufferevent's input only accepts what the bufferevent read), else the bufferevent's. */
static struct evbuffer *side_input(struct plr_side *side)
{
    return side->rbuf != NULL ? side->rbuf : bufferevent_get_input(side->bev);
}

static void pump(struct plr_session *s, struct plr_side *src, struct plr_side *dst)
{
    struct evbuffer *in = side_input(src);
    struct evbuffer *out = bufferevent_get_output(dst->bev);
    size_t n = evbuffer_get_length(in);
    size_t high = s->route->cfg->buffer_bytes;

    if (n == 0)
        return;
    if (src == &s->client)
        s->bytes_in += n;
    else
        s->bytes_out += n;
    /* Fast path: nothing queued for dst, so write straight from src's input. When the socket
     * takes it all (the usual case), dst's write event is never armed: no epoll_ctl, no extra
     * loop turn. A short write or an error leaves the rest to the bufferevent, which reports
     * errors the normal way. */
    if (evbuffer_get_length(out) == 0 && !dst->shut)
        evbuffer_write_atmost(in, bufferevent_getfd(dst->bev), (ev_ssize_t)n);
    if (evbuffer_get_length(in) > 0)
        evbuffer_add_buffer(out, in);
    s->last_activity_ms = plr_now_ms();
    if (evbuffer_get_length(out) > high && !src->paused) {
        /* Backpressure: stop reading until dst drained to half; its write callback resumes. */
        read_off(src);
        bufferevent_setwatermark(dst->bev, EV_WRITE, high / 2, 0);
        src->paused = 1;
        s->w->stats.reads_paused++;
    }
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

    if (src->paused) {
        src->paused = 0;
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        s->w->stats.reads_resumed++;
        if (!src->eof)
            read_on(src);
    }
    if (src->eof) {
        shut_when_flushed(dst);
        if (relay_done(s))
            plr_sess_finalize(s, 200, s->first_eof);
    }
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
        shut_when_flushed(dst);
        if (relay_done(s)) {
            plr_sess_finalize(s, 200, s->first_eof); /* frees the read event: no event_del */
            return;
        }
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
 * (EVBUFFER_MAX_READ) after an ioctl(FIONREAD); here one recv(2) fills up to buffer_size of
 * space reserved in the side's input buffer. Writes stay with the bufferevent (and the pump's
 * direct-write fast path). A few reads per wake-up at most, so one busy side cannot starve the
 * worker's other sessions.
 */
#define READS_PER_WAKEUP 4

static void read_side(struct plr_session *s, struct plr_side *src, struct plr_side *dst)
{
    struct evbuffer *in = src->rbuf;
    size_t want = s->route->cfg->buffer_bytes;
    evutil_socket_t fd = bufferevent_getfd(src->bev);

    for (int round = 0; round < READS_PER_WAKEUP && !src->paused && !src->eof; round++) {
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(in, (ev_ssize_t)want, &v, 1) < 1) {
            plr_sess_finalize(s, 500, "internal");
            return;
        }
        ssize_t n = recv(fd, v.iov_base, v.iov_len < want ? v.iov_len : want, 0);
        if (n > 0) {
            v.iov_len = (size_t)n;
            evbuffer_commit_space(in, &v, 1);
            pump(s, src, dst);
            if ((size_t)n < want)
                return; /* the socket is drained for now */
            continue;
        }
        evbuffer_commit_space(in, NULL, 0);
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
                     evbuffer_get_length(bufferevent_get_output(s->upstream.bev));

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
    setsockopt(bufferevent_getfd(s->client.bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(bufferevent_getfd(s->upstream.bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* One read and one write syscall move up to buffer_size (libevent's default is 16 KiB). */
    bufferevent_set_max_single_read(s->client.bev, rc->buffer_bytes);
    bufferevent_set_max_single_read(s->upstream.bev, rc->buffer_bytes);
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
            sides[i]->rbuf = evbuffer_new();
            sides[i]->rev = event_new(s->w->base, bufferevent_getfd(sides[i]->bev),
                                      EV_READ | EV_PERSIST, cbs[i], s);
            if (sides[i]->rbuf == NULL || sides[i]->rev == NULL) {
                plr_sess_finalize(s, 500, "internal");
                return;
            }
            if (!sides[i]->paused)
                event_add(sides[i]->rev, NULL);
        }
    } else {
        bufferevent_enable(s->client.bev, EV_READ | EV_WRITE);
        bufferevent_enable(s->upstream.bev, EV_READ | EV_WRITE);
    }
    if (rc->idle_timeout_ms > 0)
        arm_idle(s, rc->idle_timeout_ms);
    plr_log(PLR_LOG_DEBUG, "session %llu: connected to %s (%s) after %u attempt(s)",
            (unsigned long long)s->id, s->dest_label, s->upstream_str, s->attempts);
}
