/*
 * session_int — the session struct and the calls between the session's files; private to
 * session.c (life cycle, upstream connect), relay.c (the byte pump) and ingress.c (PROXY header,
 * ACLs, per-source limits). Nothing outside those files includes it.
 */
#ifndef PLRELAY_SESSION_INT_H
#define PLRELAY_SESSION_INT_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "plrelay/config.h"
#include "plrelay/session.h"
#include "plrelay/upstream.h"

struct plr_pp_header;

/* See the diagram in session.h. */
enum plr_session_state {
    PLR_SESS_HANDSHAKE = 0,  /* reading the PROXY header (handshake_timeout) */
    PLR_SESS_CONNECTING = 1, /* trying upstream addresses; client reads disabled */
    PLR_SESS_RELAYING = 2,   /* both sides connected, bytes flowing */
    PLR_SESS_REQUEST = 3,    /* connect mode: reading a request head (handshake_timeout) */
    PLR_SESS_RESOLVING = 4,  /* connect mode: waiting for the destination's addresses */
    PLR_SESS_CLOSING = 5,    /* connect mode: an error reply is being flushed, then close */
};

/* Per direction: what has happened to one side's socket. */
struct plr_side {
    struct bufferevent *bev; /* writes always; reads until relaying takes them over */
    struct event rev;        /* relaying: our own read event (relay.c); valid when rev_set */
    unsigned eof : 1;        /* we read EOF from it */
    unsigned shut : 1;       /* we sent it FIN (shutdown SHUT_WR) */
    unsigned paused : 1;     /* reading stopped because the other side's output is full */
    unsigned rev_set : 1;    /* rev is assigned: relay.c reads this socket itself */
    unsigned has_pipe : 1;   /* splice: pipe is lent by the worker's pool (relay.c) */
    /* Bulk towards this side by splice(2) (relay.c): the other side's bytes go socket → pipe →
     * this socket. At most one pipe's worth waits in the kernel; while any does, the other
     * side is not read, so the bytes keep their order with what the bufferevent queued. */
    int pipe[2];       /* [0] read end, [1] write end; valid when has_pipe */
    size_t piped;      /* bytes in the pipe not yet written to this socket */
    struct event *wev; /* waits until this socket takes what the pipe holds; owned, or NULL */
};

/* A session's socket addresses are IPv4 or IPv6: this is a fifth of a sockaddr_storage, and
 * every byte counts in a session held by thousands of idle connections. */
union plr_sess_addr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

struct plr_session {
    struct plr_worker *w;
    struct plr_route_rt *route;
    struct plr_session *prev, *next; /* the worker's list */
    uint64_t id;
    enum plr_session_state state;
    struct plr_side client, upstream;
    struct event *timer;             /* handshake or connect deadline, then the idle check */
    union plr_sess_addr client_addr; /* the peer that connected (the LB with PROXY) */
    /* Ingress (ingress.c): what the PROXY header said; NULL without one. Owned. */
    struct plr_pp_header *pp;
    uint8_t *pp_tlvs; /* raw TLVs kept for send_proxy_tlvs = pass; owned */
    size_t pp_tlvs_len;
    int source_charged; /* counted in the route's per-source table */
    int no_log;         /* finalize writes no access line (already logged per request) */
    const char *detail; /* human detail for the access log (rule, parser reason); static */
    char *detail_buf;   /* PLR_SESS_DETAIL_MAX bytes, allocated on the first detail; owned */
    /* Upstream selection (session.c). */
    uint8_t order[PLR_POOL_MAX_SERVERS]; /* server indexes to try, in order */
    size_t order_count, order_pos;
    struct plr_upstream_server *server;  /* server of the current attempt */
    struct plr_upstream_server *charged; /* server whose `active` we incremented */
    struct plr_addrset *addrs;           /* addresses of `server` */
    size_t addr_pos;
    const char *dest_label; /* "host:port" being connected: a server's label or the fwd dest */
    uint16_t dest_port;     /* port for the addresses of addrs (host order) */
    union plr_sess_addr upstream_sa;        /* address of the current attempt; AF_UNSPEC: none */
    char upstream_str[PLR_SOCKADDR_STRLEN]; /* upstream_sa as text once formatted; see below */
    struct plr_fwd_state *fwd; /* mode = connect: the forward-proxy state (forward.c); owned */
    unsigned attempts, refused, timed_out;
    const char *local_failure; /* "fd_limit" / "internal": our own shortage */
    /* Relay accounting (relay.c). */
    uint64_t bytes_in, bytes_out;
    const char *first_eof; /* "client_eof" / "upstream_eof" */
    uint64_t start_us, connected_us;
    uint64_t last_activity_ms; /* last byte read from either side */
    size_t idle_pending;       /* bytes queued for writing at the last idle check */
};

#define PLR_SESS_DETAIL_MAX 160

/* Status 0 marks a load-balancer probe: counted, logged at debug, no access-log line. */
#define PLR_STATUS_PROBE 0

/* session.c */
void plr_sess_finalize(struct plr_session *s, int status, const char *reason);
/* Free a side's bufferevent and close its socket at once (bufferevents are created without
 * BEV_OPT_CLOSE_ON_FREE); *bevp becomes NULL. Accepts *bevp == NULL. */
void plr_sess_free_bev(struct bufferevent **bevp);
/* The current attempt's address as text ("" before any), formatted on first use. */
const char *plr_sess_upstream_str(struct plr_session *s);
/* One access-log line for what the session did so far (finalize writes the last one). */
void plr_sess_log(struct plr_session *s, int status, const char *reason);
/* Set the access-log detail (the rule that refused, the defect); keeps the previous one if
 * memory runs out. */
void plr_sess_set_detail(struct plr_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The client's address as text, for logs. */
const char *plr_sess_client_str(const struct plr_session *s, char *buf, size_t len);

/* Start counting anew for the next request of a kept-alive forward-proxy connection. */
void plr_sess_reset_request(struct plr_session *s);
void plr_sess_connect(struct plr_session *s);       /* choose and connect an upstream (tcp) */
void plr_sess_admitted(struct plr_session *s);      /* ingress passed: connect, or read a request */
void plr_sess_try_addresses(struct plr_session *s); /* connect to s->addrs (forward.c) */
uint64_t plr_sess_now_us(void);
struct timeval plr_sess_tv(uint64_t ms);

/* relay.c */
/* flags: PLR_RELAY_PUMP_PENDING — move bytes already read from the client (they came with a
 * header) now; PLR_RELAY_OWN_READS — read both sockets with relay.c's own events (large
 * recv(2) calls) instead of through the bufferevents (whose reads the caller still needs). */
#define PLR_RELAY_PUMP_PENDING 1u
#define PLR_RELAY_OWN_READS 2u
void plr_sess_relay_start(struct plr_session *s, unsigned flags);
void plr_sess_relay_read(struct plr_session *s, struct bufferevent *bev);
void plr_sess_relay_write(struct plr_session *s, struct bufferevent *bev);
void plr_sess_relay_event(struct plr_session *s, struct bufferevent *bev, short what);
void plr_sess_relay_idle(struct plr_session *s); /* the timer fired while relaying */

/* forward.c (mode = connect). */
struct plr_fwd_state;
void plr_fwd_begin(struct plr_session *s); /* read a request head */
void plr_fwd_read(struct plr_session *s, struct bufferevent *bev);
void plr_fwd_write(struct plr_session *s, struct bufferevent *bev);
void plr_fwd_event(struct plr_session *s, struct bufferevent *bev, short what);
void plr_fwd_timeout(struct plr_session *s);
void plr_fwd_connected(struct plr_session *s);
void plr_fwd_connect_failed(struct plr_session *s);
void plr_fwd_release(struct plr_session *s); /* from finalize */

/* ingress.c. ingress_start: 0 = admitted, connect now; 1 = waiting for the PROXY header
 * (state HANDSHAKE, ingress_read goes on and connects); -1 = the session was finalized. */
int plr_sess_ingress_start(struct plr_session *s);
void plr_sess_ingress_read(struct plr_session *s);
void plr_sess_ingress_event(struct plr_session *s, short what);
void plr_sess_ingress_timeout(struct plr_session *s);
void plr_sess_ingress_release(struct plr_session *s); /* from finalize */
int plr_sess_send_proxy(struct plr_session *s);       /* after connect; -1 finalized */

#endif
