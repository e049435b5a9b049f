/*
 * bench.h — the shared contracts of plrelay-bench, the load generator of bench/.
 *
 * One process holds both ends: a built-in upstream server (server.c, its own thread and event
 * loop) and a client (loadgen.c, loadgen_xchg.c, the main thread's event loop) that connects to
 * the server either directly or through a proxy under test. Every connection opens with a
 * 16-byte hello that tells the server what to do with it, so one server serves every workload
 * and `--serve-only` works without knowing the workload. Figures are counted where the bytes
 * arrive: the server counts what the client sent, the client counts what the server sent.
 */
#ifndef PLRELAY_BENCH_H
#define PLRELAY_BENCH_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- wire protocol between client and built-in server ----------------------------------------
 * hello: "PLRB" | version (1) | mode (1) | 2 bytes zero | req_bytes (u32 BE) | resp_bytes (u32 BE)
 * SINK: the server reads and discards. SOURCE: the server writes without end (and discards what
 * it reads). DUPLEX: both at once. XCHG: the server reads req_bytes, writes resp_bytes, repeats
 * until EOF. A connection that never sends a hello is held open and only counted as accepted. */
#define BENCH_HELLO_BYTES 16
#define BENCH_HELLO_VERSION 1
#define BENCH_MAX_MSG_BYTES (16u << 20) /* ceiling for req_bytes / resp_bytes */

enum bench_mode {
    BENCH_MODE_SINK = 0,   /* server reads only */
    BENCH_MODE_SOURCE = 1, /* server writes only */
    BENCH_MODE_DUPLEX = 2, /* server reads and writes independently */
    BENCH_MODE_XCHG = 3,   /* request/response: req_bytes in, resp_bytes out, repeat */
};

void bench_hello_encode(uint8_t out[BENCH_HELLO_BYTES], enum bench_mode mode, uint32_t req_bytes,
                        uint32_t resp_bytes);

/* 0 with mode, req_bytes and resp_bytes filled, or -1: not a valid hello. */
int bench_hello_decode(const uint8_t in[BENCH_HELLO_BYTES], enum bench_mode *mode,
                       uint32_t *req_bytes, uint32_t *resp_bytes);

/* ---- options --------------------------------------------------------------------------------- */
enum bench_workload {
    BENCH_WL_BULK = 0,     /* N streams pushing bytes: Gbit/s */
    BENCH_WL_CONNRATE = 1, /* connect, one exchange, close: connections/s */
    BENCH_WL_RR = 2,       /* exchanges on kept-alive connections: requests/s + latency */
    BENCH_WL_IDLE = 3,     /* N idle connections: proxy RSS per connection */
};

enum bench_direction {
    BENCH_DIR_UP = 0,   /* client -> server */
    BENCH_DIR_DOWN = 1, /* server -> client */
    BENCH_DIR_BOTH = 2, /* both at once on every stream */
};

#define BENCH_MAX_PIDS 8

struct bench_opts {
    enum bench_workload workload;
    int direct;                     /* 1: connect to the built-in server, no proxy */
    struct sockaddr_in target;      /* where the client connects (the server when direct) */
    char target_str[32];            /* "127.0.0.1:PORT" or "direct" */
    uint16_t server_port;           /* the built-in server listens on 127.0.0.1:server_port */
    int serve_only;                 /* 1: run only the server until a signal or --duration */
    double duration_s;              /* measured window */
    double warmup_s;                /* traffic before the window opens, not counted */
    unsigned concurrency;           /* connrate/rr: connections in parallel */
    unsigned streams;               /* bulk: streams */
    unsigned idle_conns;            /* idle: connections to hold */
    unsigned idle_xchg;             /* idle: 1 = one request/response before idling */
    size_t size_bytes;              /* bulk: bytes per write; rr/connrate: request bytes */
    size_t resp_bytes;              /* rr/connrate/idle: response bytes */
    enum bench_direction direction; /* bulk */
    double rate_per_s;              /* rr: fixed offered rate, 0 = closed loop */
    double timeout_s;               /* per connect / per exchange */
    pid_t proxy_pids[BENCH_MAX_PIDS];
    unsigned n_pids;
    int json;     /* 1: one JSON object on stdout */
    int progress; /* 1: updating status line on stderr (a terminal) */
    int quiet;    /* 1: no phase lines on stderr */
};

/* ---- latency histogram (hist.c) ---------------------------------------------------------------
 * HDR-style log-linear buckets over nanoseconds: exact below 2^BENCH_HIST_SUB_BITS, above that
 * 2^(SUB_BITS-1) linear sub-buckets per power of two (relative error < 1/128). */
#define BENCH_HIST_SUB_BITS 8
#define BENCH_HIST_MAX_EXP 40 /* values up to 2^40 ns (~18 min); larger ones are clamped */
#define BENCH_HIST_BUCKETS         \
    ((1u << BENCH_HIST_SUB_BITS) + \
     (BENCH_HIST_MAX_EXP - BENCH_HIST_SUB_BITS + 1) * (1u << (BENCH_HIST_SUB_BITS - 1)))

struct bench_hist {
    uint64_t counts[BENCH_HIST_BUCKETS];
    uint64_t total;  /* values recorded */
    uint64_t min_ns; /* exact */
    uint64_t max_ns; /* exact */
    double sum_ns;   /* for the mean */
};

void bench_hist_reset(struct bench_hist *h);
void bench_hist_record(struct bench_hist *h, uint64_t value_ns);
/* The value at percentile pct (0..100] in ns (bucket midpoint, clamped to min/max); 0 if empty. */
uint64_t bench_hist_percentile(const struct bench_hist *h, double pct);

/* ---- built-in server (server.c) ---------------------------------------------------------------
 */
struct bench_server_counters {
    uint64_t accepted;  /* connections accepted */
    uint64_t hellos;    /* valid hellos received */
    uint64_t bytes_rx;  /* payload bytes read (hello excluded) */
    uint64_t bytes_tx;  /* payload bytes written */
    uint64_t exchanges; /* XCHG responses fully written */
    uint64_t errors;    /* bad hello, reset, unexpected read/write error */
    uint64_t open;      /* connections open now */
};

struct bench_server;

/* Binds and listens on 127.0.0.1:port at once (so a proxy may connect from then on). Returns NULL
 * with a reason in err on failure. The caller owns the result; bench_server_free() releases it. */
struct bench_server *bench_server_new(uint16_t port, char *err, size_t err_len);
/* The port actually bound (useful when 0 was asked for). */
uint16_t bench_server_port(const struct bench_server *s);
/* Starts the server thread. 0 or -1 (reason in err). */
int bench_server_start(struct bench_server *s, char *err, size_t err_len);
/* A consistent-enough copy of the counters (each read atomically), callable from any thread. */
void bench_server_read(struct bench_server *s, struct bench_server_counters *out);
/* Stops the thread, closes every connection and the listener. Accepts NULL. */
void bench_server_free(struct bench_server *s);

/* ---- /proc readers (procstat.c) ---------------------------------------------------------------
 */
/* Sum of utime+stime of the pids, in clock ticks. 0 or -1 (a pid is gone or unreadable). */
int bench_proc_cpu_ticks(const pid_t *pids, unsigned n, uint64_t *ticks);
/* Sum of VmRSS of the pids, in KiB. 0 or -1. */
int bench_proc_rss_kib(const pid_t *pids, unsigned n, uint64_t *kib);
/* The whole host from /proc/stat, all cores, in clock ticks: busy = user + nice + system (irq
 * and softirq time left out, as it is left out of every process's own figures); steal = time the
 * hypervisor ran something else. 0 or -1. */
int bench_host_cpu_ticks(uint64_t *busy, uint64_t *steal);
/* This process's own CPU time (user+system, all threads) in seconds. */
double bench_self_cpu_s(void);

/* ---- results (filled by the client, printed by report.c) --------------------------------------
 * Any double that does not apply to the workload is NAN and printed as null. */
struct bench_result {
    double window_s;     /* measured window, actual length */
    uint64_t bytes_up;   /* bulk: counted at the server */
    uint64_t bytes_down; /* bulk: counted at the client */
    double gbit_s;
    uint64_t conns; /* connrate: exchanges completed in the window */
    double conn_per_s;
    uint64_t requests; /* rr: responses completed in the window */
    double req_per_s;
    double rate_offered;    /* rr --rate, else NAN */
    uint64_t rate_backlog;  /* rr --rate: requests still queued at the end of the window */
    uint64_t rate_dropped;  /* rr --rate: requests dropped because the queue was full */
    struct bench_hist hist; /* rr and connrate latency in the window */
    uint64_t err_connect;   /* connect refused / failed */
    uint64_t err_reset;     /* read/write error after connect */
    uint64_t err_eof;       /* connection closed before the response was complete */
    uint64_t err_timeout;   /* connect or exchange over --timeout */
    uint64_t err_server;    /* errors the server counted */
    double proxy_cpu_s;     /* NAN without --proxy-pid */
    double cpu_s_per_gb;
    double cpu_s_per_1000_conn;
    double cpu_s_per_100k_req;
    unsigned idle_established; /* idle: connections up end to end */
    double rss_before_kib;
    double rss_after_kib;
    double kib_per_conn;
    double bench_cpu_s; /* this process (client + server threads) in the window */
    double other_cpu_s; /* host busy time that was neither the proxy nor this process */
    double steal_s;     /* hypervisor steal time in the window, all cores */
};

void bench_result_init(struct bench_result *r);

/* ---- client (loadgen.c) -----------------------------------------------------------------------
 */
/* Runs the workload against a started server. 0 = figures in *res; -1 = setup failure (reason
 * in err), e.g. the target refused every connection or the proxy does not reach the server. */
int bench_run_client(const struct bench_opts *o, struct bench_server *srv, struct bench_result *res,
                     char *err, size_t err_len);

/* ---- output (report.c) ------------------------------------------------------------------------
 */
const char *bench_workload_name(enum bench_workload w);
const char *bench_direction_name(enum bench_direction d);
/* One updating line on stderr; a no-op unless o->progress. */
void bench_progress(const struct bench_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bench_progress_end(const struct bench_opts *o);
/* A phase line on stderr when not on a terminal and not quiet. */
void bench_phase(const struct bench_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bench_report_human(const struct bench_opts *o, const struct bench_result *r);
void bench_report_json(const struct bench_opts *o, const struct bench_result *r);
/* {"ok":false,"error":...} for a run that could not be set up. */
void bench_report_json_error(const struct bench_opts *o, const char *reason);

/* Monotonic clock in ns. */
uint64_t bench_now_ns(void);

#endif
