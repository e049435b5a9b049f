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

static void pump(struct plr_session *s, struct plr_side *src, struct plr_side *dst)
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
        bufferevent_disable(src->bev, EV_READ);
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
            bufferevent_enable(src->bev, EV_READ);
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
        if (relay_done(s))
            plr_sess_finalize(s, 200, s->first_eof);
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

void plr_sess_relay_start(struct plr_session *s, int pump_client)
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
    bufferevent_enable(s->client.bev, EV_READ | EV_WRITE);
    bufferevent_enable(s->upstream.bev, EV_READ | EV_WRITE);
    evtimer_del(s->timer);
    if (pump_client)
        pump(s, &s->client, &s->upstream); /* bytes that came with a header */
    if (rc->idle_timeout_ms > 0)
        arm_idle(s, rc->idle_timeout_ms);
    plr_log(PLR_LOG_DEBUG, "session %llu: connected to %s (%s) after %u attempt(s)",
            (unsigned long long)s->id, s->dest_label, s->upstream_str, s->attempts);
}
