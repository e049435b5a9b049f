/*
 * hist — the latency histogram of plrelay-bench: HDR-style log-linear buckets over nanoseconds.
 *
 * Averages hide tails, and a sorted array of every sample grows without bound; a fixed table of
 * buckets whose width grows with the value keeps every percentile within 1/128 of the truth in
 * constant memory (35 KiB) and with one increment per sample.
 */
#include <math.h>
#include <string.h>

#include "bench.h"

#define SUB_COUNT (1u << BENCH_HIST_SUB_BITS)
#define HALF_COUNT (SUB_COUNT / 2)
#define MAX_VALUE ((UINT64_C(1) << BENCH_HIST_MAX_EXP) - 1)

static unsigned msb64(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

static unsigned bucket_of(uint64_t v)
{
    if (v > MAX_VALUE)
        v = MAX_VALUE;
    if (v < SUB_COUNT)
        return (unsigned)v;
    unsigned e = msb64(v) - (BENCH_HIST_SUB_BITS - 1); /* v >> e lies in [HALF, SUB) */
    return SUB_COUNT + (e - 1) * HALF_COUNT + (unsigned)((v >> e) - HALF_COUNT);
}

/* [lo, lo + width) of a bucket. */
static void bucket_range(unsigned idx, uint64_t *lo, uint64_t *width)
{
    if (idx < SUB_COUNT) {
        *lo = idx;
        *width = 1;
        return;
    }
    unsigned j = idx - SUB_COUNT;
    unsigned e = j / HALF_COUNT + 1;
    uint64_t sub = (uint64_t)(j % HALF_COUNT) + HALF_COUNT;
    *lo = sub << e;
    *width = UINT64_C(1) << e;
}

void bench_hist_reset(struct bench_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min_ns = UINT64_MAX;
}

void bench_hist_record(struct bench_hist *h, uint64_t value_ns)
{
    h->counts[bucket_of(value_ns)]++;
    h->total++;
    h->sum_ns += (double)value_ns;
    if (value_ns < h->min_ns)
        h->min_ns = value_ns;
    if (value_ns > h->max_ns)
        h->max_ns = value_ns;
}

uint64_t bench_hist_percentile(const struct bench_hist *h, double pct)
{
    if (h->total == 0)
        return 0;
    if (pct > 100.0)
        pct = 100.0;
    uint64_t rank = (uint64_t)ceil(pct / 100.0 * (double)h->total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t lo, width;
            bucket_range(i, &lo, &width);
            uint64_t v = lo + width / 2;
            if (v < h->min_ns)
                v = h->min_ns;
            if (v > h->max_ns)
                v = h->max_ns;
            return v;
        }
    }
    return h->max_ns;
}
