/*
 * server — the built-in upstream of plrelay-bench: one thread, one event loop, one listener on
 * 127.0.0.1:PORT, and a hello at the start of each connection that says what to do with it
 * (sink, source, both, or request/response; see bench.h).
 *
 * It works on raw non-blocking sockets with read(2)/write(2) from fixed buffers rather than on
 * bufferevents: the server shares two cores with the proxy under test, so each byte it moves
 * should cost as little CPU as possible. Counters are atomics because the client thread reads
 * them while the server runs; they are the receiver-side count of everything the client sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "bench.h"

#define IO_BYTES (256u * 1024u)        /* one read or write */
#define IO_PER_CALLBACK 8              /* reads or writes per callback before yielding */
#define XCHG_PENDING_MAX (64ull << 20) /* response bytes owed before reading pauses */
#define ACCEPT_PER_CALLBACK 64

struct srv_conn {
    struct bench_server *srv;
    int fd;
    struct event ev_r, ev_w;
    int w_added;  /* ev_w is pending */
    int r_paused; /* ev_r removed: too many response bytes owed */
    uint8_t hello[BENCH_HELLO_BYTES];
    unsigned hello_got; /* bytes of hello received so far */
    enum bench_mode mode;
    uint32_t req_bytes, resp_bytes;
    uint64_t req_left;            /* XCHG: bytes of the current request still to read */
    uint64_t resp_owed;           /* XCHG: response bytes still to write */
    struct srv_conn *prev, *next; /* all connections, for teardown */
};

struct bench_server {
    int lfd;
    uint16_t port; /* bound port */
    struct event_base *base;
    struct event *ev_accept, *ev_stop, *ev_resume;
    int stop_pipe[2];
    pthread_t thread;
    int started;
    struct srv_conn *conns;
    uint8_t *scratch; /* read target, never looked at */
    uint8_t *pattern; /* what SOURCE and XCHG send */
    _Atomic uint64_t accepted, hellos, bytes_rx, bytes_tx, exchanges, errors, open;
};

static void conn_close(struct srv_conn *c)
{
    struct bench_server *s = c->srv;
    event_del(&c->ev_r);
    event_del(&c->ev_w);
    close(c->fd);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    atomic_fetch_sub_explicit(&s->open, 1, memory_order_relaxed);
    free(c);
}

static void want_write(struct srv_conn *c, int on)
{
    if (on && !c->w_added) {
        event_add(&c->ev_w, NULL);
        c->w_added = 1;
    } else if (!on && c->w_added) {
        event_del(&c->ev_w);
        c->w_added = 0;
    }
}

/* Writes what is owed (XCHG) or without end (SOURCE, DUPLEX). 0, or -1 when c was closed. */
static int conn_write(struct srv_conn *c)
{
    struct bench_server *s = c->srv;
    int endless = c->mode == BENCH_MODE_SOURCE || c->mode == BENCH_MODE_DUPLEX;
    for (int i = 0; i < IO_PER_CALLBACK; i++) {
        size_t len = IO_BYTES;
        if (!endless) {
            if (c->resp_owed == 0)
                break;
            if (c->resp_owed < len)
                len = (size_t)c->resp_owed;
        }
        ssize_t n = write(c->fd, s->pattern, len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            conn_close(c);
            return -1;
        }
        atomic_fetch_add_explicit(&s->bytes_tx, (uint64_t)n, memory_order_relaxed);
        if (!endless)
            c->resp_owed -= (uint64_t)n;
        if ((size_t)n < len)
            break;
    }
    if (!endless) {
        want_write(c, c->resp_owed > 0);
        if (c->r_paused && c->resp_owed < XCHG_PENDING_MAX / 2) {
            event_add(&c->ev_r, NULL);
            c->r_paused = 0;
        }
    }
    return 0;
}

/* Takes the hello out of the first bytes. Returns payload bytes left in buf, or -1 (bad hello:
 * the caller closes). */
static ssize_t take_hello(struct srv_conn *c, const uint8_t *buf, size_t n, size_t *off)
{
    struct bench_server *s = c->srv;
    size_t take = BENCH_HELLO_BYTES - c->hello_got;
    if (take > n)
        take = n;
    memcpy(c->hello + c->hello_got, buf, take);
    c->hello_got += (unsigned)take;
    *off = take;
    if (c->hello_got < BENCH_HELLO_BYTES)
        return 0;
    if (bench_hello_decode(c->hello, &c->mode, &c->req_bytes, &c->resp_bytes) == -1) {
        atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
        return -1;
    }
    atomic_fetch_add_explicit(&s->hellos, 1, memory_order_relaxed);
    c->req_left = c->req_bytes;
    if (c->mode == BENCH_MODE_SOURCE || c->mode == BENCH_MODE_DUPLEX)
        want_write(c, 1);
    return (ssize_t)(n - take);
}

/* XCHG: counts complete requests in `len` payload bytes and owes a response for each. */
static void xchg_consume(struct srv_conn *c, uint64_t len)
{
    while (len > 0) {
        uint64_t take = len < c->req_left ? len : c->req_left;
        c->req_left -= take;
        len -= take;
        if (c->req_left == 0) {
            c->resp_owed += c->resp_bytes;
            c->req_left = c->req_bytes;
            atomic_fetch_add_explicit(&c->srv->exchanges, 1, memory_order_relaxed);
        }
    }
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct srv_conn *c = arg;
    struct bench_server *s = c->srv;
    for (int i = 0; i < IO_PER_CALLBACK; i++) {
        ssize_t n = read(fd, s->scratch, IO_BYTES);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (n <= 0) { /* EOF, or a reset when a client ends a run mid-stream: both just close */
            conn_close(c);
            return;
        }
        size_t off = 0;
        if (c->hello_got < BENCH_HELLO_BYTES) {
            ssize_t left = take_hello(c, s->scratch, (size_t)n, &off);
            if (left < 0) {
                conn_close(c);
                return;
            }
        }
        uint64_t payload = (uint64_t)n - off;
        atomic_fetch_add_explicit(&s->bytes_rx, payload, memory_order_relaxed);
        if (c->hello_got == BENCH_HELLO_BYTES && c->mode == BENCH_MODE_XCHG && payload > 0) {
            xchg_consume(c, payload);
            if (conn_write(c) == -1)
                return;
            if (c->resp_owed >= XCHG_PENDING_MAX) {
                event_del(&c->ev_r);
                c->r_paused = 1;
                return;
            }
        }
        if ((size_t)n < IO_BYTES)
            break;
    }
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    conn_write(arg);
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct bench_server *s = arg;
    event_add(s->ev_accept, NULL);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct bench_server *s = arg;
    for (int i = 0; i < ACCEPT_PER_CALLBACK; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: a level-triggered listener would spin; pause 50 ms. */
                atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
                event_del(s->ev_accept);
                struct timeval tv = {0, 50000};
                evtimer_add(s->ev_resume, &tv);
            }
            return;
        }
        struct srv_conn *c = calloc(1, sizeof(*c));
        if (c == NULL) {
            atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
            close(fd);
            continue;
        }
        set_nodelay(fd);
        c->srv = s;
        c->fd = fd;
        event_assign(&c->ev_r, s->base, fd, EV_READ | EV_PERSIST, on_read, c);
        event_assign(&c->ev_w, s->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
        event_add(&c->ev_r, NULL);
        c->next = s->conns;
        if (s->conns != NULL)
            s->conns->prev = c;
        s->conns = c;
        atomic_fetch_add_explicit(&s->open, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->accepted, 1, memory_order_relaxed);
    }
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct bench_server *s = arg;
    event_base_loopbreak(s->base);
}

static int listen_on(uint16_t port, char *err, size_t err_len)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        snprintf(err, err_len, "server socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(fd, 4096) == -1) {
        snprintf(err, err_len, "server bind/listen 127.0.0.1:%u: %s", (unsigned)port,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

struct bench_server *bench_server_new(uint16_t port, char *err, size_t err_len)
{
    struct bench_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->lfd = -1;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    s->scratch = malloc(IO_BYTES);
    s->pattern = malloc(IO_BYTES);
    s->base = event_base_new();
    if (s->scratch == NULL || s->pattern == NULL || s->base == NULL) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < IO_BYTES; i++)
        s->pattern[i] = (uint8_t)('a' + i % 26);
    if (pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
        snprintf(err, err_len, "pipe: %s", strerror(errno));
        goto fail;
    }
    s->lfd = listen_on(port, err, err_len);
    if (s->lfd == -1)
        goto fail;
    struct sockaddr_in bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(s->lfd, (struct sockaddr *)&bound, &blen) == -1) {
        snprintf(err, err_len, "getsockname: %s", strerror(errno));
        goto fail;
    }
    s->port = ntohs(bound.sin_port);
    s->ev_accept = event_new(s->base, s->lfd, EV_READ | EV_PERSIST, on_accept, s);
    s->ev_stop = event_new(s->base, s->stop_pipe[0], EV_READ, on_stop, s);
    s->ev_resume = evtimer_new(s->base, on_resume, s);
    if (s->ev_accept == NULL || s->ev_stop == NULL || s->ev_resume == NULL) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    event_add(s->ev_accept, NULL);
    event_add(s->ev_stop, NULL);
    return s;
fail:
    bench_server_free(s);
    return NULL;
}

static void *server_main(void *arg)
{
    struct bench_server *s = arg;
    event_base_dispatch(s->base);
    return NULL;
}

int bench_server_start(struct bench_server *s, char *err, size_t err_len)
{
    int rc = pthread_create(&s->thread, NULL, server_main, s);
    if (rc != 0) {
        snprintf(err, err_len, "pthread_create: %s", strerror(rc));
        return -1;
    }
    s->started = 1;
    return 0;
}

uint16_t bench_server_port(const struct bench_server *s)
{
    return s->port;
}

void bench_server_read(struct bench_server *s, struct bench_server_counters *out)
{
    out->accepted = atomic_load_explicit(&s->accepted, memory_order_relaxed);
    out->hellos = atomic_load_explicit(&s->hellos, memory_order_relaxed);
    out->bytes_rx = atomic_load_explicit(&s->bytes_rx, memory_order_relaxed);
    out->bytes_tx = atomic_load_explicit(&s->bytes_tx, memory_order_relaxed);
    out->exchanges = atomic_load_explicit(&s->exchanges, memory_order_relaxed);
    out->errors = atomic_load_explicit(&s->errors, memory_order_relaxed);
    out->open = atomic_load_explicit(&s->open, memory_order_relaxed);
}

void bench_server_free(struct bench_server *s)
{
    if (s == NULL)
        return;
    if (s->started) {
        ssize_t w = write(s->stop_pipe[1], "x", 1);
        (void)w;
        pthread_join(s->thread, NULL);
    }
    while (s->conns != NULL)
        conn_close(s->conns);
    if (s->ev_accept != NULL)
        event_free(s->ev_accept);
    if (s->ev_stop != NULL)
        event_free(s->ev_stop);
    if (s->ev_resume != NULL)
        event_free(s->ev_resume);
    if (s->base != NULL)
        event_base_free(s->base);
    if (s->lfd != -1)
        close(s->lfd);
    for (int i = 0; i < 2; i++)
        if (s->stop_pipe[i] != -1)
            close(s->stop_pipe[i]);
    free(s->scratch);
    free(s->pattern);
    free(s);
}

void bench_hello_encode(uint8_t out[BENCH_HELLO_BYTES], enum bench_mode mode, uint32_t req_bytes,
                        uint32_t resp_bytes)
{
    memcpy(out, "PLRB", 4);
    out[4] = BENCH_HELLO_VERSION;
    out[5] = (uint8_t)mode;
    out[6] = out[7] = 0;
    uint32_t be = htonl(req_bytes);
    memcpy(out + 8, &be, 4);
    be = htonl(resp_bytes);
    memcpy(out + 12, &be, 4);
}

int bench_hello_decode(const uint8_t in[BENCH_HELLO_BYTES], enum bench_mode *mode,
                       uint32_t *req_bytes, uint32_t *resp_bytes)
{
    if (memcmp(in, "PLRB", 4) != 0 || in[4] != BENCH_HELLO_VERSION || in[5] > BENCH_MODE_XCHG)
        return -1;
    uint32_t be;
    memcpy(&be, in + 8, 4);
    *req_bytes = ntohl(be);
    memcpy(&be, in + 12, 4);
    *resp_bytes = ntohl(be);
    *mode = (enum bench_mode)in[5];
    if (*mode == BENCH_MODE_XCHG &&
        (*req_bytes == 0 || *req_bytes > BENCH_MAX_MSG_BYTES || *resp_bytes > BENCH_MAX_MSG_BYTES))
        return -1;
    return 0;
}
