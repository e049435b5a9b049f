/*
 * procstat — what plrelay-bench reads about the proxy under test from /proc: CPU ticks
 * (utime + stime of /proc/PID/stat, all threads) and resident memory (VmRSS of
 * /proc/PID/status). Several pids are summed, for proxies that run a master and a worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "bench.h"

/* Reads a small /proc file into buf (NUL-terminated). 0 or -1. */
static int read_small(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n == 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

static int one_cpu_ticks(pid_t pid, uint64_t *ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if (read_small(path, buf, sizeof(buf)) == -1)
        return -1;
    /* The command name may hold blanks and ')': fields are counted from its last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    p++;
    /* After ')' come field 3 (state) onwards; utime is field 14, stime field 15. */
    uint64_t utime = 0, stime = 0;
    for (int field = 3; field <= 15; field++) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return -1;
        char *end = p;
        if (field == 14 || field == 15) {
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p)
                return -1;
            if (field == 14)
                utime = v;
            else
                stime = v;
        } else {
            while (*end != ' ' && *end != '\0')
                end++;
        }
        p = end;
    }
    *ticks = utime + stime;
    return 0;
}

int bench_proc_cpu_ticks(const pid_t *pids, unsigned n, uint64_t *ticks)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t t;
        if (one_cpu_ticks(pids[i], &t) == -1)
            return -1;
        sum += t;
    }
    *ticks = sum;
    return 0;
}

static int one_rss_kib(pid_t pid, uint64_t *kib)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    if (read_small(path, buf, sizeof(buf)) == -1)
        return -1;
    const char *p = strstr(buf, "\nVmRSS:");
    if (p == NULL)
        return -1;
    p += strlen("\nVmRSS:");
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p)
        return -1;
    *kib = v;
    return 0;
}

int bench_proc_rss_kib(const pid_t *pids, unsigned n, uint64_t *kib)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t k;
        if (one_rss_kib(pids[i], &k) == -1)
            return -1;
        sum += k;
    }
    *kib = sum;
    return 0;
}

int bench_host_cpu_ticks(uint64_t *busy, uint64_t *steal)
{
    char buf[512];
    if (read_small("/proc/stat", buf, sizeof(buf)) == -1 || strncmp(buf, "cpu ", 4) != 0)
        return -1;
    /* cpu  user nice system idle iowait irq softirq steal ... (USER_HZ ticks, all cores) */
    unsigned long long v[8] = {0};
    char *p = buf + 4;
    for (int i = 0; i < 8; i++) {
        char *end;
        v[i] = strtoull(p, &end, 10);
        if (end == p)
            return -1;
        p = end;
    }
    *busy = v[0] + v[1] + v[2];
    *steal = v[7];
    return 0;
}

double bench_self_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == -1)
        return 0.0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
