/*
 * plrelay-bench — the command line of the benchmark harness: argv -> options, start the built-in
 * server, run one workload, print the figures. The work lives in server.c (upstream), loadgen*.c
 * (client) and report.c (output).
 *
 * Every run is bounded: a watchdog (alarm) ends the process with exit status 4 if setup, warm-up
 * and window together overrun their budget by 30 s, whatever the proxy under test does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define EXIT_USAGE 2
#define EXIT_SETUP 3
#define EXIT_WATCHDOG 4

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: plrelay-bench -w WORKLOAD (--direct | --target 127.0.0.1:PORT --server-port PORT)\n"
        "                     [options]\n"
        "       plrelay-bench --serve-only --server-port PORT [--duration T]\n"
        "\n"
        "A load generator with its own upstream server. The server listens on\n"
        "127.0.0.1:--server-port as soon as the program starts; point the proxy under test\n"
        "at that port, and the client at the proxy with --target (or use --direct).\n"
        "\n"
        "Workloads:\n"
        "  bulk      --streams N streams move bytes for --duration: Gbit/s counted at the "
        "receiver\n"
        "  connrate  connect, send --size bytes, read --resp-size bytes, close, at --concurrency:\n"
        "            completed connections/s and their latency\n"
        "  rr        --size -> --resp-size exchanges on --concurrency kept-alive connections:\n"
        "            requests/s and latency p50/p90/p99/p99.9; --rate R offers a fixed R req/s\n"
        "  idle      open --conns connections, wait until the server has them all, then report\n"
        "            the proxy's RSS growth per connection (needs --proxy-pid)\n"
        "\n"
        "Options:\n"
        "  -w, --workload W      bulk | connrate | rr | idle\n"
        "  -t, --target A:P      the proxy's listen address; must be in 127.0.0.0/8\n"
        "  -d, --direct          connect straight to the built-in server (the baseline)\n"
        "  -p, --server-port P   the built-in server's port (0 or absent with --direct: any)\n"
        "      --serve-only      run only the server until INT/TERM or --duration (default 1h)\n"
        "  -D, --duration T      measured window (default 10s); T takes ms, s, m: 500ms, 10s\n"
        "      --warmup T        traffic before the window, not counted (default 1s; idle: 0.5s\n"
        "                        settle time before RSS is read)\n"
        "  -c, --concurrency C   connrate/rr: parallel connections (default 32)\n"
        "  -n, --streams N       bulk: streams (default 4)\n"
        "      --conns N         idle: connections (default 1000)\n"
        "  -s, --size B          bulk: bytes per write (default 64k); connrate/rr/idle: request\n"
        "                        bytes (default 64). Takes k and m (1024-based)\n"
        "      --resp-size B     connrate/rr/idle: response bytes (default 64)\n"
        "      --direction D     bulk: up (client->server), down, or both (default up)\n"
        "  -r, --rate R          rr: offer R requests/s in total (default: closed loop)\n"
        "      --idle-exchange N idle: 1 = one request/response per connection before it idles\n"
        "                        (default), 0 = connect only\n"
        "      --timeout T       per connect and per exchange (default 5s)\n"
        "  -P, --proxy-pid LIST  pid(s) of the proxy, comma-separated or repeated: CPU seconds\n"
        "                        in the window (utime+stime) and, for idle, VmRSS\n"
        "  -j, --json            one JSON object on stdout instead of the summary\n"
        "  -q, --quiet           no phase lines on stderr\n"
        "      --no-progress     no status line even on a terminal\n"
        "  -V, --version, -h, --help\n"
        "\n"
        "Exit status: 0 figures printed; 2 bad command line; 3 setup failure (port in use,\n"
        "target unreachable, target not relaying to the server, proxy pid unreadable);\n"
        "4 the run overran its time bound.\n");
}

/* ---- argument parsers: whole string or error ----------------------------------------------------
 */
static int parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_duration(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || !(v >= 0) || v > 1e6)
        return -1;
    if (strcmp(end, "ms") == 0)
        v /= 1000;
    else if (strcmp(end, "m") == 0)
        v *= 60;
    else if (strcmp(end, "s") != 0 && *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s)
        return -1;
    if (*end == 'k' || *end == 'K') {
        v *= 1024;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1024 * 1024;
        end++;
    }
    if (*end != '\0' || v > BENCH_MAX_MSG_BYTES)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* "A:P" with A an IPv4 literal in 127.0.0.0/8 (or "localhost"). */
static int parse_target(const char *s, struct sockaddr_in *sa)
{
    const char *colon = strrchr(s, ':');
    char host[64];
    unsigned long port;
    if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 || parse_ulong(colon + 1, 1, 65535, &port))
        return -1;
    sa->sin_port = htons((uint16_t)port);
    return 0;
}

static int parse_pids(const char *s, struct bench_opts *o)
{
    char buf[256];
    if (strlen(s) >= sizeof(buf))
        return -1;
    snprintf(buf, sizeof(buf), "%s", s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        unsigned long pid;
        if (o->n_pids == BENCH_MAX_PIDS || parse_ulong(tok, 1, 4194304, &pid) == -1)
            return -1;
        o->proxy_pids[o->n_pids++] = (pid_t)pid;
    }
    return 0;
}

static int bad(const char *what, const char *value)
{
    fprintf(stderr, "plrelay-bench: bad %s \"%s\" (try --help)\n", what, value);
    return -1;
}

enum long_only {
    OPT_SERVE_ONLY = 256, /* first value past any short option */
    OPT_WARMUP,
    OPT_CONNS,
    OPT_RESP_SIZE,
    OPT_DIRECTION,
    OPT_IDLE_XCHG,
    OPT_TIMEOUT,
    OPT_NO_PROGRESS,
};

static int parse_one(int c, const char *arg, struct bench_opts *o, int *have_target)
{
    unsigned long v;
    switch (c) {
    case 'w':
        if (strcmp(arg, "bulk") == 0)
            o->workload = BENCH_WL_BULK;
        else if (strcmp(arg, "connrate") == 0)
            o->workload = BENCH_WL_CONNRATE;
        else if (strcmp(arg, "rr") == 0)
            o->workload = BENCH_WL_RR;
        else if (strcmp(arg, "idle") == 0)
            o->workload = BENCH_WL_IDLE;
        else
            return bad("workload", arg);
        return 0;
    case 't':
        if (parse_target(arg, &o->target) == -1)
            return bad("target (want 127.x.y.z:PORT)", arg);
        if ((ntohl(o->target.sin_addr.s_addr) >> 24) != 127) {
            fprintf(stderr, "plrelay-bench: refusing target %s: loopback (127.0.0.0/8) only\n",
                    arg);
            return -1;
        }
        snprintf(o->target_str, sizeof(o->target_str), "%s", arg);
        *have_target = 1;
        return 0;
    case 'd':
        o->direct = 1;
        return 0;
    case 'p':
        if (parse_ulong(arg, 0, 65535, &v) == -1)
            return bad("server port", arg);
        o->server_port = (uint16_t)v;
        return 0;
    case OPT_SERVE_ONLY:
        o->serve_only = 1;
        return 0;
    case 'D':
        return parse_duration(arg, &o->duration_s) == -1 ? bad("duration", arg) : 0;
    case OPT_WARMUP:
        return parse_duration(arg, &o->warmup_s) == -1 ? bad("warm-up", arg) : 0;
    case OPT_TIMEOUT:
        if (parse_duration(arg, &o->timeout_s) == -1 || o->timeout_s < 0.01)
            return bad("timeout", arg);
        return 0;
    case 'c':
        if (parse_ulong(arg, 1, 50000, &v) == -1)
            return bad("concurrency (1..50000)", arg);
        o->concurrency = (unsigned)v;
        return 0;
    case 'n':
        if (parse_ulong(arg, 1, 4096, &v) == -1)
            return bad("streams (1..4096)", arg);
        o->streams = (unsigned)v;
        return 0;
    case OPT_CONNS:
        if (parse_ulong(arg, 1, 500000, &v) == -1)
            return bad("conns (1..500000)", arg);
        o->idle_conns = (unsigned)v;
        return 0;
    case 's':
        return parse_size(arg, &o->size_bytes) == -1 || o->size_bytes == 0 ? bad("size", arg) : 0;
    case OPT_RESP_SIZE:
        return parse_size(arg, &o->resp_bytes) == -1 ? bad("response size", arg) : 0;
    case OPT_DIRECTION:
        if (strcmp(arg, "up") == 0)
            o->direction = BENCH_DIR_UP;
        else if (strcmp(arg, "down") == 0)
            o->direction = BENCH_DIR_DOWN;
        else if (strcmp(arg, "both") == 0)
            o->direction = BENCH_DIR_BOTH;
        else
            return bad("direction", arg);
        return 0;
    case 'r': {
        char *end;
        errno = 0;
        o->rate_per_s = strtod(arg, &end);
        if (errno != 0 || end == arg || *end != '\0' || !(o->rate_per_s >= 0) ||
            o->rate_per_s > 1e8)
            return bad("rate", arg);
        return 0;
    }
    case OPT_IDLE_XCHG:
        if (parse_ulong(arg, 0, 1, &v) == -1)
            return bad("idle-exchange (0 or 1)", arg);
        o->idle_xchg = (unsigned)v;
        return 0;
    case 'P':
        return parse_pids(arg, o) == -1 ? bad("proxy pid list", arg) : 0;
    case 'j':
        o->json = 1;
        return 0;
    case 'q':
        o->quiet = 1;
        return 0;
    case OPT_NO_PROGRESS:
        o->progress = 0;
        return 0;
    }
    return -1;
}

/* Fills defaults that depend on the workload and checks the combination. 0 or -1. */
static int finish_opts(struct bench_opts *o, int have_target, int have_port)
{
    if (o->serve_only) {
        if (!have_port) {
            fprintf(stderr, "plrelay-bench: --serve-only needs --server-port\n");
            return -1;
        }
        if (isnan(o->duration_s))
            o->duration_s = 3600;
        return 0;
    }
    if (o->direct == have_target) {
        fprintf(stderr, "plrelay-bench: give exactly one of --direct and --target\n");
        return -1;
    }
    if (have_target && !have_port) {
        fprintf(stderr, "plrelay-bench: --target needs --server-port (the proxy's upstream)\n");
        return -1;
    }
    if (o->direct)
        snprintf(o->target_str, sizeof(o->target_str), "direct");
    if (isnan(o->duration_s))
        o->duration_s = 10;
    if (o->duration_s <= 0 && o->workload != BENCH_WL_IDLE) {
        fprintf(stderr, "plrelay-bench: --duration must be above 0\n");
        return -1;
    }
    if (o->workload == BENCH_WL_IDLE)
        o->duration_s = 0; /* RSS is read once, right after the settle time */
    if (isnan(o->warmup_s))
        o->warmup_s = o->workload == BENCH_WL_IDLE ? 0.5 : 1.0;
    if (o->size_bytes == 0)
        o->size_bytes = o->workload == BENCH_WL_BULK ? 64 * 1024 : 64;
    if (o->workload == BENCH_WL_IDLE && o->n_pids == 0)
        bench_phase(o, "idle without --proxy-pid: no memory figure will be reported");
    if (o->rate_per_s > 0 && o->workload != BENCH_WL_RR) {
        fprintf(stderr, "plrelay-bench: --rate applies to rr only\n");
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
    static const struct option opts[] = {
        {"workload", required_argument, NULL, 'w'},
        {"target", required_argument, NULL, 't'},
        {"direct", no_argument, NULL, 'd'},
        {"server-port", required_argument, NULL, 'p'},
        {"serve-only", no_argument, NULL, OPT_SERVE_ONLY},
        {"duration", required_argument, NULL, 'D'},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"concurrency", required_argument, NULL, 'c'},
        {"streams", required_argument, NULL, 'n'},
        {"conns", required_argument, NULL, OPT_CONNS},
        {"size", required_argument, NULL, 's'},
        {"resp-size", required_argument, NULL, OPT_RESP_SIZE},
        {"direction", required_argument, NULL, OPT_DIRECTION},
        {"rate", required_argument, NULL, 'r'},
        {"idle-exchange", required_argument, NULL, OPT_IDLE_XCHG},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"proxy-pid", required_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, have_target = 0, have_port = 0, have_workload = 0;
    while ((c = getopt_long(argc, argv, "w:t:dp:D:c:n:s:r:P:jqVh", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c == 'V') {
            printf("plrelay-bench %s\n", PLRELAY_VERSION);
            exit(0);
        }
        if (c == '?' || parse_one(c, optarg, o, &have_target) == -1)
            return -1;
        have_port |= c == 'p';
        have_workload |= c == 'w';
    }
    if (optind != argc) {
        fprintf(stderr, "plrelay-bench: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (!have_workload && !o->serve_only) {
        fprintf(stderr, "plrelay-bench: --workload is required (try --help)\n");
        return -1;
    }
    return finish_opts(o, have_target, have_port);
}

/* ---- process set-up ----------------------------------------------------------------------------
 */
static void on_watchdog(int sig)
{
    static const char msg[] = "\nplrelay-bench: run overran its time bound, giving up\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
    (void)sig;
    _exit(EXIT_WATCHDOG);
}

/* Raises the descriptor limit to the hard limit and checks the run fits in it. */
static int fit_fd_limit(const struct bench_opts *o)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    unsigned long conns = o->workload == BENCH_WL_IDLE   ? o->idle_conns
                          : o->workload == BENCH_WL_BULK ? o->streams
                                                         : o->concurrency;
    unsigned long need = 2 * conns + 64; /* client + server side of each, and some spare */
    if (!o->serve_only && rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur) {
        fprintf(stderr,
                "plrelay-bench: %lu connections need about %lu descriptors; the limit is %lu\n",
                conns, need, (unsigned long)rl.rlim_cur);
        return -1;
    }
    return 0;
}

static int serve_only(const struct bench_opts *o)
{
    char err[256];
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the thread starts: it inherits the mask */
    struct bench_server *srv = bench_server_new(o->server_port, err, sizeof(err));
    if (srv == NULL || bench_server_start(srv, err, sizeof(err)) == -1) {
        fprintf(stderr, "plrelay-bench: %s\n", err);
        bench_server_free(srv);
        return EXIT_SETUP;
    }
    printf("ready 127.0.0.1:%u\n", (unsigned)bench_server_port(srv));
    fflush(stdout);
    struct timespec ts = {(time_t)o->duration_s,
                          (long)((o->duration_s - floor(o->duration_s)) * 1e9)};
    sigtimedwait(&set, NULL, &ts);
    struct bench_server_counters c;
    bench_server_read(srv, &c);
    fprintf(stderr, "plrelay-bench: served %llu connections, %llu B in, %llu B out\n",
            (unsigned long long)c.accepted, (unsigned long long)c.bytes_rx,
            (unsigned long long)c.bytes_tx);
    bench_server_free(srv);
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o = {0};
    o.duration_s = o.warmup_s = NAN;
    o.concurrency = 32;
    o.streams = 4;
    o.idle_conns = 1000;
    o.idle_xchg = 1;
    o.resp_bytes = 64;
    o.timeout_s = 5;
    o.progress = isatty(STDERR_FILENO);
    if (parse_args(argc, argv, &o) == -1)
        return EXIT_USAGE;
    signal(SIGPIPE, SIG_IGN);
    if (fit_fd_limit(&o) == -1)
        return EXIT_USAGE;
    if (o.serve_only)
        return serve_only(&o);

    char err[256] = "";
    struct bench_server *srv = bench_server_new(o.server_port, err, sizeof(err));
    if (srv == NULL || bench_server_start(srv, err, sizeof(err)) == -1) {
        fprintf(stderr, "plrelay-bench: %s\n", err);
        if (o.json)
            bench_report_json_error(&o, err);
        bench_server_free(srv);
        return EXIT_SETUP;
    }
    o.server_port = bench_server_port(srv);
    if (o.direct) {
        o.target.sin_family = AF_INET;
        o.target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        o.target.sin_port = htons(o.server_port);
    }
    bench_phase(&o, "server listening on 127.0.0.1:%u; %s via %s", (unsigned)o.server_port,
                bench_workload_name(o.workload), o.target_str);

    signal(SIGALRM, on_watchdog);
    double budget = o.timeout_s + 5 + (double)o.idle_conns / 1000.0 + o.warmup_s + o.duration_s;
    alarm((unsigned)ceil(budget) + 30);

    static struct bench_result res; /* 35 KiB of histogram: not on the stack */
    bench_result_init(&res);
    int rc = bench_run_client(&o, srv, &res, err, sizeof(err));
    bench_server_free(srv);
    alarm(0);
    if (rc == -1) {
        fprintf(stderr, "plrelay-bench: %s\n", err);
        if (o.json)
            bench_report_json_error(&o, err);
        return EXIT_SETUP;
    }
    if (o.json)
        bench_report_json(&o, &res);
    else
        bench_report_human(&o, &res);
    return 0;
}
