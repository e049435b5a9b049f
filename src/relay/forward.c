/*
 * forward — the `connect` mode: an HTTP forward proxy for Watcher and the other X-Pack HTTP
 * clients that honour xpack.http.proxy.*.
 *
 *   REQUEST ──head──► policy ──literal──────────────────────► CONNECTING ──► 200 / origin head
 *      ▲                 │  └─name──► RESOLVING ──checked────►     │              │
 *      │                 └─refused──► CLOSING (status reply)       └─failed──► CLOSING (502/504)
 *      └──── keep-alive: the response ended, the next request ◄── RELAYING
 *
 * Policy for every request, before any connect: the destination must match allow_destinations
 * (names and `*.suffix` by name, addresses by address, always with the port); every address it
 * resolves to (or the literal) must pass the address guard unless allow_private_destinations
 * opens that address and port; a non-canonical numeric host is refused, never interpreted. The
 * checked addresses are the ones connected to: nothing is resolved twice.
 *
 * CONNECT becomes an opaque tunnel (bytes pipelined after the head go through). An absolute-form
 * request is sent in origin form with "Connection: close" to the origin, its body forwarded by
 * Content-Length (chunked request bodies are refused, 501: their end could only be found by
 * decoding them, and anything after it must not reach the origin unchecked), and the response
 * head rewritten so the client may keep its connection for the next request, which is checked
 * on its own. One access-log line per request.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "plrelay/acl.h"
#include "plrelay/auth.h"
#include "plrelay/fwdproxy.h"
#include "plrelay/hosts.h"
#include "plrelay/log.h"
#include "plrelay/lookup.h"
#include "plrelay/resolver.h"
#include "plrelay/runtime.h"
#include "session_int.h"

#define LINGER_MS 2000 /* how long an error reply waits for the client to go away */

/* Where the response to the current absolute-form request stands. */
enum fwd_resp {
    RESP_HEAD = 0,      /* waiting for the origin's response head */
    RESP_LENGTH = 1,    /* relaying resp_left more body bytes */
    RESP_UNTIL_EOF = 2, /* relaying until the origin closes */
};

struct plr_fwd_state {
    struct plr_lookup *lookup;              /* in flight while RESOLVING */
    char dest[PLR_FWD_HOST_MAX_BYTES + 16]; /* "host:port" for logs */
    char host[PLR_FWD_HOST_MAX_BYTES + 1];
    char what[PLR_FWD_HOST_MAX_BYTES + 32]; /* "GET host:port" for the access-log detail */
    enum plr_fwd_kind kind;
    bool tunnel;          /* CONNECT established: plain relay */
    bool want_keep_alive; /* the client asked to keep its connection */
    bool keep_alive;      /* decided by the response head */
    bool method_head;     /* HEAD request: the response has no body */
    uint64_t body_left;   /* request body bytes still to forward */
    enum fwd_resp resp;
    uint64_t resp_left;
    int resp_status;
    char *origin; /* the request head for the origin, sent once connected; owned */
    size_t origin_len;
    unsigned requests;  /* requests completed on this connection */
    int pending_status; /* CLOSING: what finalize will say */
    const char *pending_reason;
    bool shut_sent;       /* CLOSING: our FIN went out after the reply */
    bool upstream_paused; /* reading the origin paused: the client is slow */
};

static struct plr_fwd_state *fwd_of(struct plr_session *s)
{
    return s->fwd;
}

static void arm(struct plr_session *s, uint64_t ms)
{
    struct timeval tv = plr_sess_tv(ms);

    evtimer_add(s->timer, &tv);
}

static void drop_upstream(struct plr_session *s)
{
    plr_sess_free_bev(&s->upstream.bev);
    plr_addrset_release(s->addrs);
    s->addrs = NULL;
    s->upstream = (struct plr_side){0};
}

/* Answer the client with `status` and close once it is written (or after LINGER_MS). */
static void reply_error(struct plr_session *s, int status, const char *reason, const char *text)
{
    struct plr_fwd_state *f = fwd_of(s);
    char buf[PLR_FWD_REPLY_MAX_BYTES];
    ssize_t n = plr_fwd_reply(status, text, buf, sizeof(buf));

    if (s->detail == NULL)
        plr_sess_set_detail(s, "%s", text);
    if (status == 403)
        s->w->stats.denied++;
    plr_lookup_cancel(f->lookup);
    f->lookup = NULL;
    drop_upstream(s);
    f->pending_status = status;
    f->pending_reason = reason;
    s->state = PLR_SESS_CLOSING;
    evtimer_del(s->timer);
    if (n <= 0 || evbuffer_add(bufferevent_get_output(s->client.bev), buf, (size_t)n) != 0) {
        plr_sess_finalize(s, status, reason);
        return;
    }
    bufferevent_setwatermark(s->client.bev, EV_WRITE, 0, 0);
    bufferevent_enable(s->client.bev, EV_READ | EV_WRITE);
    arm(s, LINGER_MS);
}

/* ---- policy ------------------------------------------------------------------------------- */

static void connect_to(struct plr_session *s, const struct sockaddr_storage *addrs, size_t n)
{
    s->addrs = plr_addrset_new(addrs, n);
    if (s->addrs == NULL) {
        reply_error(s, 500, "internal", "out of memory");
        return;
    }
    s->addr_pos = 0;
    plr_sess_try_addresses(s);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
}

/* Every address must pass the guard; then connect to exactly these. */
static void check_and_connect(struct plr_session *s, struct sockaddr_storage *addrs, size_t n)
{
    const struct plr_route_config *rc = s->route->cfg;
    char addr[PLR_SOCKADDR_STRLEN];
    const char *why = NULL;

    for (size_t i = 0; i < n; i++) {
        set_port(&addrs[i], s->dest_port);
        if (!plr_acl_addr_permitted(rc->allow_private_destinations,
                                    (const struct sockaddr *)&addrs[i], &why)) {
            plr_sess_set_detail(
                s, "%s resolves to %s: %s", fwd_of(s)->host,
                plr_sockaddr_str((const struct sockaddr *)&addrs[i], addr, sizeof(addr)), why);
            reply_error(s, 403, "blocked_address", "destination address not allowed");
            return;
        }
    }
    connect_to(s, addrs, n);
}

static void on_lookup(const struct plr_lookup_result *r, void *arg)
{
    struct plr_session *s = arg;
    struct plr_lookup_result copy;

    fwd_of(s)->lookup = NULL;
    if (r->count == 0) {
        int timeout = r->error == DNS_ERR_TIMEOUT;
        plr_sess_set_detail(s, "lookup of %s failed: %s", fwd_of(s)->host,
                            plr_lookup_error_str(r->error));
        reply_error(s, timeout ? 504 : 502, timeout ? "dns_timeout" : "dns_failure",
                    "destination name could not be resolved");
        return;
    }
    copy = *r;
    check_and_connect(s, copy.addrs, copy.count);
}

static void resolve(struct plr_session *s)
{
    struct plr_fwd_state *f = fwd_of(s);
    struct sockaddr_storage addrs[PLR_LOOKUP_MAX_ADDRS];
    size_t n = plr_hosts_lookup(plr_resolver_hosts(s->w->rt->resolver), f->host, addrs,
                                PLR_LOOKUP_MAX_ADDRS);

    if (n > 0) { /* the hosts file wins over DNS, as for upstreams */
        check_and_connect(s, addrs, n < PLR_LOOKUP_MAX_ADDRS ? n : PLR_LOOKUP_MAX_ADDRS);
        return;
    }
    s->state = PLR_SESS_RESOLVING;
    bufferevent_disable(s->client.bev, EV_READ);
    f->lookup = plr_lookup_start(s->w->dns, &s->w->lookups, f->host, on_lookup, s);
    if (f->lookup == NULL)
        reply_error(s, 502, "dns_failure", "destination name could not be resolved");
}

/* The destination of a parsed request: allowlist, literal guard, then resolve or connect. */
static void route_request(struct plr_session *s, const struct plr_fwd_request *req)
{
    const struct plr_route_config *rc = s->route->cfg;
    struct sockaddr_storage ss;
    const char *rule = NULL, *why = NULL;

    if (req->host_kind == PLR_FWD_HOST_NUMERIC) {
        plr_sess_set_detail(s, "\"%s\": non-canonical numeric host form", req->host);
        reply_error(s, 403, "denied_destination", "numeric host form not allowed");
        return;
    }
    if (req->host_kind == PLR_FWD_HOST_NAME) {
        if (!plr_acl_dest_match_name(rc->allow_destinations, req->host, req->port, &rule)) {
            plr_sess_set_detail(s, "%s: %s", s->dest_label, rule);
            reply_error(s, 403, "denied_destination", "destination not allowed");
            return;
        }
        resolve(s);
        return;
    }
    memset(&ss, 0, sizeof(ss));
    if (req->host_kind == PLR_FWD_HOST_IPV4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_addr = req->addr4;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = req->addr6;
    }
    set_port(&ss, req->port);
    if (!plr_acl_dest_match_addr(rc->allow_destinations, (const struct sockaddr *)&ss, &rule)) {
        plr_sess_set_detail(s, "%s: %s", s->dest_label, rule);
        reply_error(s, 403, "denied_destination", "destination not allowed");
        return;
    }
    if (!plr_acl_addr_permitted(rc->allow_private_destinations, (const struct sockaddr *)&ss,
                                &why)) {
        plr_sess_set_detail(s, "%s: %s", s->dest_label, why);
        reply_error(s, 403, "blocked_address", "destination address not allowed");
        return;
    }
    connect_to(s, &ss, 1);
}

/* ---- the request head ---------------------------------------------------------------------- */

static const char *error_reason(int status)
{
    switch (status) {
    case 405:
        return "method_not_allowed";
    case 414:
    case 431:
        return "head_too_large";
    case 501:
        return "not_implemented";
    case 505:
        return "bad_version";
    default:
        return "bad_request";
    }
}

/* Remember what the request asked for; build the origin head of an absolute-form request. */
static int take_request(struct plr_session *s, const struct plr_fwd_request *req,
                        const uint8_t *head)
{
    struct plr_fwd_state *f = fwd_of(s);
    int v6 = strchr(req->host, ':') != NULL;

    snprintf(f->host, sizeof(f->host), "%s", req->host);
    snprintf(f->dest, sizeof(f->dest), "%s%s%s:%u", v6 ? "[" : "", req->host, v6 ? "]" : "",
             (unsigned)req->port);
    snprintf(f->what, sizeof(f->what), "%s %s", plr_fwd_method_name(req->method), f->dest);
    s->dest_label = f->dest;
    s->dest_port = req->port;
    f->kind = req->kind;
    f->method_head = req->method == PLR_FWD_METHOD_HEAD;
    f->want_keep_alive = plr_fwd_keep_alive(req->http_minor, req->conn);
    f->body_left = req->content_length > 0 ? (uint64_t)req->content_length : 0;
    f->resp = RESP_HEAD;
    if (req->kind == PLR_FWD_KIND_CONNECT)
        return 0;
    size_t cap = req->head_len + PLR_FWD_ORIGIN_EXTRA_BYTES;
    f->origin = malloc(cap);
    if (f->origin == NULL)
        return -1;
    ssize_t n = plr_fwd_build_origin_request(req, head, false, f->origin, cap);
    if (n < 0)
        return -1;
    f->origin_len = (size_t)n;
    return 0;
}

/* With `auth`, every request must carry good Basic credentials (checked before any policy, so
 * an unauthenticated client learns nothing about the allowlist). */
static bool authorized(struct plr_session *s, const struct plr_fwd_request *req,
                       const uint8_t *head)
{
    struct plr_auth *auth = s->route->cfg->auth;
    char user[64];

    if (auth == NULL)
        return true;
    if (req->proxy_auth_field < 0) {
        plr_sess_set_detail(s, "no Proxy-Authorization");
        return false;
    }
    const struct plr_fwd_field *f = &req->fields[req->proxy_auth_field];
    if (!plr_auth_check(auth, (const char *)head + f->value_off, f->value_len, user,
                        sizeof(user))) {
        plr_sess_set_detail(s, "bad Proxy-Authorization credentials");
        return false;
    }
    return true;
}

static void read_request(struct plr_session *s)
{
    const struct plr_route_config *rc = s->route->cfg;
    struct evbuffer *in = bufferevent_get_input(s->client.bev);
    size_t len = evbuffer_get_length(in);
    size_t want = len < rc->max_header_bytes ? len : rc->max_header_bytes;
    struct plr_fwd_request *req;
    const char *reason = NULL;
    size_t consumed = 0;
    int status = 0;

    if (len == 0)
        return;
    const uint8_t *buf = evbuffer_pullup(in, (ssize_t)want);
    req = malloc(sizeof(*req)); /* ~4 KiB: not for the worker's stack on every read */
    if (buf == NULL || req == NULL) {
        free(req);
        reply_error(s, 500, "internal", "out of memory");
        return;
    }
    switch (plr_fwd_parse(buf, want, rc->max_header_bytes, &consumed, req, &status, &reason)) {
    case PLR_FWD_AGAIN:
        break;
    case PLR_FWD_ERR:
        plr_sess_set_detail(s, "%s", reason);
        reply_error(s, status, error_reason(status), reason);
        break;
    case PLR_FWD_OK:
        evtimer_del(s->timer);
        if (!authorized(s, req, buf)) {
            reply_error(s, 407, "auth_required", "proxy authentication required");
        } else if (req->chunked) {
            plr_sess_set_detail(s, "chunked request bodies are not supported; send Content-Length");
            reply_error(s, 501, "not_implemented", "chunked request body not supported");
        } else if (take_request(s, req, buf) == -1) {
            reply_error(s, 500, "internal", "out of memory");
        } else {
            evbuffer_drain(in, consumed);
            route_request(s, req);
        }
        break;
    }
    free(req);
}

void plr_fwd_begin(struct plr_session *s)
{
    const struct plr_route_config *rc = s->route->cfg;

    if (s->fwd == NULL) {
        s->fwd = calloc(1, sizeof(*s->fwd));
        if (s->fwd == NULL) {
            plr_sess_finalize(s, 500, "internal");
            return;
        }
    }
    s->state = PLR_SESS_REQUEST;
    bufferevent_setwatermark(s->client.bev, EV_WRITE, 0, 0);
    bufferevent_enable(s->client.bev, EV_READ | EV_WRITE);
    /* The first head shares the handshake deadline (already running after a PROXY header);
     * later ones on a kept-alive connection wait at most idle_timeout. */
    if (s->fwd->requests == 0 && !evtimer_pending(s->timer, NULL))
        arm(s, rc->handshake_timeout_ms);
    else if (s->fwd->requests > 0 && rc->idle_timeout_ms > 0)
        arm(s, rc->idle_timeout_ms);
    read_request(s); /* pipelined bytes may already be here */
}

/* ---- connected ---------------------------------------------------------------------------- */

static void pump_request_body(struct plr_session *s)
{
    struct plr_fwd_state *f = fwd_of(s);
    struct evbuffer *in = bufferevent_get_input(s->client.bev);
    struct evbuffer *out = bufferevent_get_output(s->upstream.bev);
    size_t n = evbuffer_get_length(in);

    if (n > f->body_left)
        n = (size_t)f->body_left; /* what follows is the next request: it waits its turn */
    if (n > 0) {
        evbuffer_remove_buffer(in, out, n);
        f->body_left -= n;
        s->bytes_in += n;
        s->last_activity_ms = plr_now_ms();
    }
    if (f->body_left == 0 || evbuffer_get_length(out) >= s->route->cfg->buffer_bytes)
        bufferevent_disable(s->client.bev, EV_READ); /* done, or the origin is slow */
}

void plr_fwd_connected(struct plr_session *s)
{
    struct plr_fwd_state *f = fwd_of(s);

    if (f->kind == PLR_FWD_KIND_CONNECT) {
        static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        f->tunnel = true;
        evbuffer_add(bufferevent_get_output(s->client.bev), ok, sizeof(ok) - 1);
        plr_sess_relay_start(s, PLR_RELAY_PUMP_PENDING | PLR_RELAY_OWN_READS); /* + pipelined */
        return;
    }
    evbuffer_add(bufferevent_get_output(s->upstream.bev), f->origin, f->origin_len);
    s->bytes_in += f->origin_len;
    free(f->origin);
    f->origin = NULL;
    plr_sess_relay_start(s, 0); /* forward.c reads the request body and response itself */
    pump_request_body(s);
}

void plr_fwd_connect_failed(struct plr_session *s)
{
    if (s->local_failure != NULL)
        reply_error(s, 503, s->local_failure, "proxy out of resources");
    else if (s->timed_out > 0 && s->refused == 0)
        reply_error(s, 504, "upstream_timeout", "destination did not answer in time");
    else
        reply_error(s, 502, "upstream_refused", "destination refused the connection");
}

/* ---- the response of an absolute-form request -------------------------------------------- */

static void log_request(struct plr_session *s, int status, const char *reason)
{
    struct plr_fwd_state *f = fwd_of(s);

    plr_sess_set_detail(s, "%s -> %d", f->what, f->resp_status);
    plr_sess_log(s, status, reason);
    s->detail = NULL;
}

/* End the connection once what is queued for the client is written: FIN, then wait (at most
 * LINGER_MS) for the client to close. The access line was already written per request. */
static void close_after_flush(struct plr_session *s, int status, const char *reason)
{
    struct plr_fwd_state *f = fwd_of(s);

    s->no_log = 1;
    f->pending_status = status;
    f->pending_reason = reason;
    s->state = PLR_SESS_CLOSING;
    evtimer_del(s->timer);
    bufferevent_setwatermark(s->client.bev, EV_WRITE, 0, 0);
    bufferevent_enable(s->client.bev, s->client.eof ? EV_WRITE : EV_READ | EV_WRITE);
    arm(s, LINGER_MS);
    plr_fwd_write(s, s->client.bev);
}

/* The response is complete: the next request on a kept-alive connection, or the end. */
static void response_done(struct plr_session *s)
{
    struct plr_fwd_state *f = fwd_of(s);

    log_request(s, 200, "request_done");
    f->requests++;
    drop_upstream(s);
    if (!f->keep_alive || s->client.eof) {
        /* The client learnt "Connection: close" (or has gone quiet): flush, FIN, then close. */
        close_after_flush(s, 200, "request_done");
        return;
    }
    plr_sess_reset_request(s);
    f->resp = RESP_HEAD;
    f->upstream_paused = false;
    plr_fwd_begin(s);
}

static int response_head(struct plr_session *s)
{
    struct plr_fwd_state *f = fwd_of(s);
    struct evbuffer *in = bufferevent_get_input(s->upstream.bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    struct plr_fwd_response resp;
    char *out;

    if (end.pos < 0) {
        if (evbuffer_get_length(in) > PLR_FWD_RESPONSE_HEAD_MAX_BYTES) {
            plr_sess_set_detail(s, "%s: response head over %d bytes", f->what,
                                PLR_FWD_RESPONSE_HEAD_MAX_BYTES);
            reply_error(s, 502, "bad_response", "bad response from the destination");
            return -1;
        }
        return 0; /* wait for more */
    }
    size_t head_len = (size_t)end.pos + 4;
    if (head_len > PLR_FWD_RESPONSE_HEAD_MAX_BYTES) {
        plr_sess_set_detail(s, "%s: response head over %d bytes", f->what,
                            PLR_FWD_RESPONSE_HEAD_MAX_BYTES);
        reply_error(s, 502, "bad_response", "bad response from the destination");
        return -1;
    }
    const uint8_t *head = evbuffer_pullup(in, (ssize_t)head_len);
    out = malloc(head_len + 32);
    ssize_t n = head != NULL && out != NULL
                    ? plr_fwd_response(head, head_len, f->method_head, f->want_keep_alive, &resp,
                                       out, head_len + 32)
                    : -1;
    if (n < 0 || resp.status == 101) {
        free(out);
        plr_sess_set_detail(s, "%s: malformed or unsupported response head", f->what);
        reply_error(s, 502, "bad_response", "bad response from the destination");
        return -1;
    }
    evbuffer_drain(in, head_len);
    evbuffer_add(bufferevent_get_output(s->client.bev), out, (size_t)n);
    free(out);
    s->bytes_out += (uint64_t)n;
    if (resp.interim)
        return 1; /* 100 Continue and friends: the real head follows */
    f->resp_status = resp.status;
    f->keep_alive = resp.keep_alive;
    if (resp.framing == PLR_FWD_BODY_NONE) {
        response_done(s);
        return -1;
    }
    f->resp = resp.framing == PLR_FWD_BODY_LENGTH ? RESP_LENGTH : RESP_UNTIL_EOF;
    f->resp_left = (uint64_t)resp.content_length;
    if (f->resp == RESP_LENGTH && f->resp_left == 0) {
        response_done(s);
        return -1;
    }
    return 1;
}

static void pump_response(struct plr_session *s)
{
    struct plr_fwd_state *f = fwd_of(s);
    struct evbuffer *in = bufferevent_get_input(s->upstream.bev);
    struct evbuffer *out = bufferevent_get_output(s->client.bev);
    int r;

    while (f->resp == RESP_HEAD && (r = response_head(s)) == 1)
        ;
    if (s->state != PLR_SESS_RELAYING || f->resp == RESP_HEAD)
        return; /* waiting for the head, or the session moved on */
    size_t n = evbuffer_get_length(in);
    if (f->resp == RESP_LENGTH && n > f->resp_left) {
        evbuffer_drain(in, n - (size_t)f->resp_left); /* beyond the declared body: dropped */
        n = (size_t)f->resp_left;
    }
    if (n > 0) {
        evbuffer_remove_buffer(in, out, n);
        s->bytes_out += n;
        s->last_activity_ms = plr_now_ms();
    }
    if (f->resp == RESP_LENGTH && (f->resp_left -= n) == 0) {
        response_done(s);
        return;
    }
    if (evbuffer_get_length(out) >= s->route->cfg->buffer_bytes) {
        bufferevent_disable(s->upstream.bev, EV_READ); /* the client is slow */
        f->upstream_paused = true;
    }
}

/* ---- callbacks, dispatched from session.c ------------------------------------------------ */

void plr_fwd_read(struct plr_session *s, struct bufferevent *bev)
{
    struct plr_fwd_state *f = fwd_of(s);

    switch (s->state) {
    case PLR_SESS_REQUEST:
        read_request(s);
        break;
    case PLR_SESS_CLOSING: /* drain what the client still sends so our close is a clean FIN */
        evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
        break;
    case PLR_SESS_RELAYING:
        if (f->tunnel)
            plr_sess_relay_read(s, bev);
        else if (bev == s->client.bev)
            pump_request_body(s);
        else
            pump_response(s);
        break;
    default:
        break;
    }
}

void plr_fwd_write(struct plr_session *s, struct bufferevent *bev)
{
    struct plr_fwd_state *f = fwd_of(s);

    if (s->state == PLR_SESS_CLOSING) {
        if (bev == s->client.bev && !f->shut_sent &&
            evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
            shutdown(bufferevent_getfd(bev), SHUT_WR);
            f->shut_sent = true;
            if (s->client.eof) /* the client closed its side already: nothing to wait for */
                plr_sess_finalize(s, f->pending_status, f->pending_reason);
        }
        return;
    }
    if (f->tunnel) {
        plr_sess_relay_write(s, bev);
        return;
    }
    if (bev == s->client.bev && f->upstream_paused && s->upstream.bev != NULL) {
        f->upstream_paused = false;
        bufferevent_enable(s->upstream.bev, EV_READ);
    } else if (bev == s->upstream.bev && f->body_left > 0 && !s->client.eof) {
        bufferevent_enable(s->client.bev, EV_READ);
    }
}

void plr_fwd_event(struct plr_session *s, struct bufferevent *bev, short what)
{
    struct plr_fwd_state *f = fwd_of(s);
    int from_client = bev == s->client.bev;
    size_t pending = evbuffer_get_length(bufferevent_get_input(s->client.bev));

    if (f->tunnel && s->state == PLR_SESS_RELAYING) {
        plr_sess_relay_event(s, bev, what);
        return;
    }
    if (s->state == PLR_SESS_CLOSING) {
        if ((what & BEV_EVENT_EOF) && from_client &&
            evbuffer_get_length(bufferevent_get_output(s->client.bev)) > 0) {
            s->client.eof = 1; /* half-closed: finish writing, then close */
            bufferevent_disable(s->client.bev, EV_READ);
            return;
        }
        plr_sess_finalize(s, f->pending_status, f->pending_reason); /* the client went away */
        return;
    }
    if (s->state == PLR_SESS_REQUEST || s->state == PLR_SESS_RESOLVING) {
        if (f->requests > 0 && pending == 0) {
            /* A kept-alive connection closed between requests; the last response may still
             * be on its way out (a client that half-closed after its request). */
            s->client.eof = 1;
            if ((what & BEV_EVENT_EOF) &&
                evbuffer_get_length(bufferevent_get_output(s->client.bev)) > 0) {
                close_after_flush(s, 200, "client_eof");
                return;
            }
            s->no_log = 1;
            plr_sess_finalize(s, 200, "client_eof");
        } else if (pending == 0 && s->state == PLR_SESS_REQUEST) {
            s->w->stats.probes++; /* connected and left without a word: a health check */
            plr_sess_finalize(s, PLR_STATUS_PROBE, "probe");
        } else {
            plr_sess_set_detail(s,
                                "the client closed the connection before the request was served");
            plr_sess_finalize(s, 400, "bad_request");
        }
        return;
    }
    /* RELAYING an absolute-form request. */
    if (from_client) {
        if ((what & BEV_EVENT_EOF) && f->body_left == 0) {
            s->client.eof = 1; /* half-close after the request: still answer it */
            return;
        }
        plr_sess_finalize(s, 200, (what & BEV_EVENT_EOF) ? "client_eof" : "client_reset");
        return;
    }
    if ((what & BEV_EVENT_EOF) && f->resp == RESP_UNTIL_EOF) {
        pump_response(s);
        if (s->state == PLR_SESS_RELAYING)
            response_done(s);
        return;
    }
    if (f->resp == RESP_HEAD) {
        plr_sess_set_detail(s, "%s: the destination closed without a response", f->what);
        reply_error(s, 502, "bad_response", "no response from the destination");
        return;
    }
    plr_sess_finalize(s, 502, "upstream_reset"); /* the body was cut short */
}

void plr_fwd_timeout(struct plr_session *s)
{
    struct plr_fwd_state *f = fwd_of(s);

    if (s->state == PLR_SESS_CLOSING) {
        plr_sess_finalize(s, f->pending_status, f->pending_reason);
    } else if (s->state == PLR_SESS_REQUEST && f->requests > 0) {
        s->no_log = 1; /* idle kept-alive connection */
        plr_sess_finalize(s, 200, "idle_timeout");
    } else if (s->state == PLR_SESS_REQUEST) {
        plr_sess_set_detail(s, "no complete request head within %llu ms",
                            (unsigned long long)s->route->cfg->handshake_timeout_ms);
        reply_error(s, 408, "handshake_timeout", "request head not received in time");
    }
}

void plr_fwd_release(struct plr_session *s)
{
    if (s->fwd == NULL)
        return;
    plr_lookup_cancel(s->fwd->lookup);
    free(s->fwd->origin);
    free(s->fwd);
    s->fwd = NULL;
}
