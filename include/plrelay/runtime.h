/*
 * runtime — the process: worker threads, signals, start-up, drain and shutdown.
 *
 * The main thread owns the config snapshot, the resolver (on its own event loop) and the
 * signal handlers. Each worker thread owns an event_base, its own SO_REUSEPORT listening
 * socket per listen address, and the sessions it accepted; nothing of a worker is touched by
 * another thread except through its command event (plr_worker_command). Limits shared by all
 * workers (global and per-route connection counts) are atomics.
 *
 *   start: load ─► bind every socket ─► first DNS round ─► workers run ─► "ready"
 *   SIGTERM/SIGINT: workers close listeners ─► sessions finish ─► workers exit ─► exit 0
 *                                        └── drain_timeout ─► remaining sessions closed
 */
#ifndef PLRELAY_RUNTIME_H
#define PLRELAY_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "plrelay/config.h"
#include "plrelay/limits.h"
#include "plrelay/pipepool.h"

struct event;
struct event_base;
struct plr_accesslog;
struct evdns_base;
struct plr_listener;
struct plr_lookup;
struct plr_pool;
struct plr_resolver;
struct plr_session;

/* Exit codes of the daemon; also documented in `plrelay --help`. */
enum plr_exit {
    PLR_EXIT_OK = 0,      /* clean shutdown, or `-t` found no error */
    PLR_EXIT_CONFIG = 1,  /* the configuration is invalid */
    PLR_EXIT_USAGE = 2,   /* bad command line */
    PLR_EXIT_STARTUP = 3, /* could not start: bind, resolver, threads, memory */
};

/* Per-route state shared by the workers. */
struct plr_route_rt {
    const struct plr_route_config *cfg; /* borrowed from the snapshot */
    struct plr_pool *pool;              /* owned */
    struct plr_sources *sources;        /* per-source counts; NULL when unlimited; owned */
    struct plr_rate rate;               /* accept_rate token bucket */
    int rate_ready;                     /* rate was initialised (cleanup needed) */
    atomic_uint active;                 /* live sessions of this route, all workers */
};

/* Counters of one worker; summed across workers when reported. Only the owner writes. */
struct plr_worker_stats {
    uint64_t accepted;      /* connections accepted */
    uint64_t refused_limit; /* closed at once by max_connections */
    uint64_t accept_paused; /* times accepting paused for lack of file descriptors */
    uint64_t reads_paused;  /* backpressure: reads stopped because the peer was full */
    uint64_t reads_resumed; /* ... and started again (or ended with the session) */
    uint64_t refused_rate;  /* closed at once by accept_rate */
    uint64_t denied;        /* refused by an ACL (403) */
    uint64_t proxy_errors;  /* bad, missing or truncated PROXY headers (400) */
    uint64_t probes;        /* load-balancer health checks (no access-log line) */
    uint64_t spliced_bytes; /* relayed socket → pipe → socket by splice(2), never copied to us */
};

/* Commands another thread may post to a worker (bit flags). */
enum plr_worker_cmd {
    PLR_WORKER_STOP_ACCEPT = 1, /* close listeners; exit once no session is left */
    PLR_WORKER_CLOSE_ALL = 2,   /* end every session now (drain timeout) */
};

struct plr_worker {
    struct plr_runtime *rt;
    unsigned id;
    pthread_t thread;
    int thread_started; /* thread created (joined at shutdown) */
    struct event_base *base;
    struct plr_listener **listeners; /* owned, one per listen address of every route */
    size_t listener_count;
    struct plr_session *sessions; /* intrusive list of live sessions */
    size_t session_count;
    struct event *cmd_event;    /* activated by plr_worker_command */
    atomic_int cmd_flags;       /* enum plr_worker_cmd bits */
    int stopping;               /* STOP_ACCEPT seen */
    int reserve_fd;             /* spare fd released when accept hits EMFILE */
    struct evdns_base *dns;     /* forward-proxy lookups (connect routes only) */
    struct plr_lookup *lookups; /* lookups in flight on dns */
    uint64_t next_session_id;
    struct plr_worker_stats stats;
    uint8_t *scratch;          /* relay reads land here before they are sent on; owned */
    size_t scratch_bytes;      /* PLR_WORKER_SCRATCH_BYTES */
    struct plr_pipepool pipes; /* pipes for splice(2) directions (relay.c) */
};

/* Size of a worker's relay read buffer: the most one recv(2) of a session takes. */
#define PLR_WORKER_SCRATCH_BYTES 65536

struct plr_runtime {
    struct plr_config *cfg; /* one reference owned */
    struct event_base *main_base;
    struct plr_resolver *resolver;
    struct plr_accesslog *access_log;
    struct plr_route_rt *routes; /* cfg->route_count entries */
    struct plr_worker *workers;
    unsigned worker_count;
    atomic_uint active; /* live sessions, all routes */
    atomic_uint workers_running;
    struct event *sig_events[4];
    struct event *drain_timer;            /* drain_timeout after the stop signal */
    struct event *start_timer;            /* deadline of the first DNS round */
    struct event *worker_exit_event;      /* a worker finished (activated cross-thread) */
    atomic_uint_fast64_t last_fd_warn_ms; /* rate limit for the fd-exhaustion log line */
    int started;                          /* workers were started */
    int draining;                         /* a stop signal arrived */
    int exit_code;
};

/* Run the daemon on a loaded config until a stop signal; takes over `cfg`'s reference.
 * Returns an enum plr_exit value. */
int plr_runtime_run(struct plr_config *cfg);

/* Post commands to a worker from any thread. */
void plr_worker_command(struct plr_worker *w, int cmd);

/* Log that the process ran out of file descriptors, at most once per PLR_FD_WARN_MS across
 * all threads; `what` says what was being done ("accept paused", "connecting to upstream"). */
#define PLR_FD_WARN_MS 5000
void plr_runtime_warn_fd_limit(struct plr_runtime *rt, const char *route, const char *what,
                               int err);

/* Called by a worker's sessions when one ends (worker thread only). */
void plr_worker_session_ended(struct plr_worker *w);

#endif
