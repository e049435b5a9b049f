/*
 * report — everything plrelay-bench prints: the updating progress line on a terminal, phase
 * lines otherwise, the human summary and the one-line JSON object for scripts.
 *
 * The JSON object is flat (no nesting, one line) so that a shell script can pick a figure out
 * with sed; a figure that does not apply to the workload is null, never 0.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bench_result_init(struct bench_result *r)
{
    memset(r, 0, sizeof(*r));
    bench_hist_reset(&r->hist);
    r->window_s = r->gbit_s = r->conn_per_s = r->req_per_s = r->rate_offered = NAN;
    r->proxy_cpu_s = r->cpu_s_per_gb = r->cpu_s_per_1000_conn = r->cpu_s_per_100k_req = NAN;
    r->rss_before_kib = r->rss_after_kib = r->kib_per_conn = r->bench_cpu_s = NAN;
    r->other_cpu_s = r->steal_s = NAN;
}

const char *bench_workload_name(enum bench_workload w)
{
    static const char *names[] = {"bulk", "connrate", "rr", "idle"};
    return (unsigned)w < 4 ? names[w] : "?";
}

const char *bench_direction_name(enum bench_direction d)
{
    static const char *names[] = {"up", "down", "both"};
    return (unsigned)d < 3 ? names[d] : "?";
}

void bench_progress(const struct bench_opts *o, const char *fmt, ...)
{
    if (!o->progress)
        return;
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
}

void bench_progress_end(const struct bench_opts *o)
{
    if (o->progress) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

void bench_phase(const struct bench_opts *o, const char *fmt, ...)
{
    if (o->progress || o->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("plrelay-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

/* rr --rate: fewer than 95 % of the offered requests completed in the window. */
static int rate_missed(const struct bench_result *r)
{
    return !isnan(r->rate_offered) && !(r->req_per_s >= 0.95 * r->rate_offered);
}

static void human_latency(const struct bench_result *r)
{
    const struct bench_hist *h = &r->hist;
    if (h->total == 0)
        return;
    printf("  latency µs    p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f  (%llu "
           "samples)\n",
           us(bench_hist_percentile(h, 50)), us(bench_hist_percentile(h, 90)),
           us(bench_hist_percentile(h, 99)), us(bench_hist_percentile(h, 99.9)), us(h->max_ns),
           h->sum_ns / (double)h->total / 1000.0, (unsigned long long)h->total);
}

void bench_report_human(const struct bench_opts *o, const struct bench_result *r)
{
    printf("plrelay-bench %s via %s (server 127.0.0.1:%u)\n", bench_workload_name(o->workload),
           o->target_str, (unsigned)o->server_port);
    switch (o->workload) {
    case BENCH_WL_BULK:
        printf("  %u streams, %s, %zu-byte writes, window %.2f s\n", o->streams,
               bench_direction_name(o->direction), o->size_bytes, r->window_s);
        printf("  throughput    %.3f Gbit/s  (up %.3f GB, down %.3f GB, counted at the receiver)\n",
               r->gbit_s, (double)r->bytes_up / 1e9, (double)r->bytes_down / 1e9);
        break;
    case BENCH_WL_CONNRATE:
        printf("  concurrency %u, %zu B -> %zu B, window %.2f s\n", o->concurrency, o->size_bytes,
               o->resp_bytes, r->window_s);
        printf("  rate          %.0f conn/s  (%llu completed)\n", r->conn_per_s,
               (unsigned long long)r->conns);
        human_latency(r);
        break;
    case BENCH_WL_RR:
        printf("  concurrency %u, %zu B -> %zu B, window %.2f s", o->concurrency, o->size_bytes,
               o->resp_bytes, r->window_s);
        if (!isnan(r->rate_offered))
            printf(", offered %.0f req/s (queued at end %llu, dropped %llu)", r->rate_offered,
                   (unsigned long long)r->rate_backlog, (unsigned long long)r->rate_dropped);
        printf("\n  rate          %.0f req/s  (%llu completed)%s\n", r->req_per_s,
               (unsigned long long)r->requests,
               rate_missed(r) ? "  OFFERED RATE NOT SUSTAINED: latency includes queueing" : "");
        human_latency(r);
        break;
    case BENCH_WL_IDLE:
        printf("  %u idle connections established end to end%s\n", r->idle_established,
               o->idle_xchg ? " (one exchange each)" : "");
        if (!isnan(r->kib_per_conn))
            printf("  proxy RSS     %.0f KiB -> %.0f KiB  = %.2f KiB per connection\n",
                   r->rss_before_kib, r->rss_after_kib, r->kib_per_conn);
        break;
    }
    if (!isnan(r->proxy_cpu_s)) {
        printf("  proxy CPU     %.2f s", r->proxy_cpu_s);
        if (!isnan(r->cpu_s_per_gb))
            printf("  = %.4f s/GB", r->cpu_s_per_gb);
        if (!isnan(r->cpu_s_per_1000_conn))
            printf("  = %.4f s/1000 conn", r->cpu_s_per_1000_conn);
        if (!isnan(r->cpu_s_per_100k_req))
            printf("  = %.4f s/100k req", r->cpu_s_per_100k_req);
        putchar('\n');
    }
    if (!isnan(r->bench_cpu_s))
        printf("  bench CPU     %.2f s (client + server threads)\n", r->bench_cpu_s);
    if (!isnan(r->other_cpu_s))
        printf("  other load    %.2f CPU s by other processes, %.2f s stolen by the hypervisor%s\n",
               r->other_cpu_s, r->steal_s,
               r->other_cpu_s + r->steal_s > 0.25 * r->window_s ? "  (noisy: figures may be off)"
                                                                : "");
    printf("  errors        connect %llu, reset %llu, eof %llu, timeout %llu, server %llu\n",
           (unsigned long long)r->err_connect, (unsigned long long)r->err_reset,
           (unsigned long long)r->err_eof, (unsigned long long)r->err_timeout,
           (unsigned long long)r->err_server);
}

/* ---- JSON -------------------------------------------------------------------------------------
 */
static void j_num(const char *key, double v)
{
    if (isnan(v) || isinf(v))
        printf(",\"%s\":null", key);
    else
        printf(",\"%s\":%.6g", key, v);
}

static void j_u64(const char *key, uint64_t v)
{
    printf(",\"%s\":%llu", key, (unsigned long long)v);
}

static void j_str(const char *key, const char *v)
{
    printf(",\"%s\":\"", key);
    for (const char *p = v; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void j_latency(const struct bench_hist *h)
{
    double none = NAN;
    int have = h->total > 0;
    j_u64("lat_count", h->total);
    j_num("lat_p50_us", have ? us(bench_hist_percentile(h, 50)) : none);
    j_num("lat_p90_us", have ? us(bench_hist_percentile(h, 90)) : none);
    j_num("lat_p99_us", have ? us(bench_hist_percentile(h, 99)) : none);
    j_num("lat_p999_us", have ? us(bench_hist_percentile(h, 99.9)) : none);
    j_num("lat_max_us", have ? us(h->max_ns) : none);
    j_num("lat_mean_us", have ? h->sum_ns / (double)h->total / 1000.0 : none);
}

void bench_report_json(const struct bench_opts *o, const struct bench_result *r)
{
    char pids[BENCH_MAX_PIDS * 12] = "";
    size_t off = 0;
    for (unsigned i = 0; i < o->n_pids && off < sizeof(pids); i++)
        off += (size_t)snprintf(pids + off, sizeof(pids) - off, "%s%ld", i ? "," : "",
                                (long)o->proxy_pids[i]);
    printf("{\"tool\":\"plrelay-bench\",\"ok\":true");
    j_str("workload", bench_workload_name(o->workload));
    j_str("target", o->target_str);
    j_u64("server_port", o->server_port);
    j_str("direction", o->workload == BENCH_WL_BULK ? bench_direction_name(o->direction) : "");
    j_u64("streams", o->workload == BENCH_WL_BULK ? o->streams : 0);
    j_u64("concurrency", o->concurrency);
    j_u64("size", o->size_bytes);
    j_u64("resp_size", o->resp_bytes);
    j_num("warmup_s", o->warmup_s);
    j_num("window_s", r->window_s);
    j_u64("bytes_up", r->bytes_up);
    j_u64("bytes_down", r->bytes_down);
    j_num("gbit_s", r->gbit_s);
    j_u64("conns", r->conns);
    j_num("conn_per_s", r->conn_per_s);
    j_u64("requests", r->requests);
    j_num("req_per_s", r->req_per_s);
    j_num("rate_offered", r->rate_offered);
    if (isnan(r->rate_offered))
        printf(",\"rate_sustained\":null");
    else
        printf(",\"rate_sustained\":%s", rate_missed(r) ? "false" : "true");
    j_u64("rate_backlog", r->rate_backlog);
    j_u64("rate_dropped", r->rate_dropped);
    j_latency(&r->hist);
    j_u64("err_connect", r->err_connect);
    j_u64("err_reset", r->err_reset);
    j_u64("err_eof", r->err_eof);
    j_u64("err_timeout", r->err_timeout);
    j_u64("err_server", r->err_server);
    j_u64("errors", r->err_connect + r->err_reset + r->err_eof + r->err_timeout + r->err_server);
    j_str("proxy_pids", pids);
    j_num("proxy_cpu_s", r->proxy_cpu_s);
    j_num("cpu_s_per_gb", r->cpu_s_per_gb);
    j_num("cpu_s_per_1000_conn", r->cpu_s_per_1000_conn);
    j_num("cpu_s_per_100k_req", r->cpu_s_per_100k_req);
    j_u64("idle_conns", o->workload == BENCH_WL_IDLE ? o->idle_conns : 0);
    j_u64("idle_established", r->idle_established);
    j_num("rss_before_kib", r->rss_before_kib);
    j_num("rss_after_kib", r->rss_after_kib);
    j_num("kib_per_conn", r->kib_per_conn);
    j_num("bench_cpu_s", r->bench_cpu_s);
    j_num("other_cpu_s", r->other_cpu_s);
    j_num("steal_s", r->steal_s);
    printf("}\n");
    fflush(stdout);
}

void bench_report_json_error(const struct bench_opts *o, const char *reason)
{
    printf("{\"tool\":\"plrelay-bench\",\"ok\":false");
    j_str("workload", bench_workload_name(o->workload));
    j_str("target", o->target_str);
    j_str("error", reason);
    printf("}\n");
    fflush(stdout);
}
