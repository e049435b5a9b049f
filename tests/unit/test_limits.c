/*
 * Unit tests of the admission limits: the accept-rate token bucket (burst, refill, zero rate,
 * clock quirks, concurrent takers) and the per-source connection table (limit reached, ports
 * ignored, IPv4-mapped IPv6 equal to IPv4, release frees the slot, non-IP families, many
 * addresses, concurrent acquire/release). Time is passed in, so nothing here sleeps.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "plrelay/limits.h"

TestSuite(limits, .timeout = 10);

/* ---- helpers -------------------------------------------------------------------------------- */

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

    memset(&ss, 0, sizeof(ss));
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1, "bad test address %s", ip);
    return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port)
{
    struct sockaddr_storage ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

    memset(&ss, 0, sizeof(ss));
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    cr_assert_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1, "bad test address %s", ip);
    return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static struct plr_sources *table(uint32_t max_per_source)
{
    int failed = -1;
    struct plr_sources *t = plr_sources_new(max_per_source, &failed);

    cr_assert_eq(failed, 0);
    cr_assert_not_null(t);
    return t;
}

/* Takes until the bucket refuses (bounded); returns how many were admitted. */
static unsigned take_all(struct plr_rate *r, uint64_t now_ms, unsigned bound)
{
    unsigned n = 0;

    while (n < bound && plr_rate_take(r, now_ms))
        n++;
    return n;
}

/* ---- token bucket --------------------------------------------------------------------------- */

Test(limits, rate_zero_means_unlimited)
{
    struct plr_rate r;

    plr_rate_init(&r, 0, 1000);
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(plr_rate_take(&r, 1000), 1, "take %d refused with rate 0", i);
    plr_rate_cleanup(&r);
}

Test(limits, rate_starts_full_with_one_second_burst)
{
    struct plr_rate r;

    plr_rate_init(&r, 5, 1000);
    cr_assert_eq(take_all(&r, 1000, 100), 5, "a fresh 5/s bucket admits a burst of exactly 5");
    cr_assert_eq(plr_rate_take(&r, 1000), 0, "empty bucket at the same instant refuses");
    plr_rate_cleanup(&r);
}

Test(limits, rate_refills_one_token_per_interval)
{
    struct plr_rate r;

    plr_rate_init(&r, 5, 1000); /* one token every 200 ms */
    cr_assert_eq(take_all(&r, 1000, 100), 5);
    cr_assert_eq(plr_rate_take(&r, 1100), 0, "100 ms is half a token at 5/s");
    cr_assert_eq(plr_rate_take(&r, 1199), 0, "199 ms is still less than one token");
    cr_assert_eq(plr_rate_take(&r, 1200), 1, "200 ms is one token at 5/s");
    cr_assert_eq(plr_rate_take(&r, 1200), 0, "and only one");
    cr_assert_eq(take_all(&r, 1600, 100), 2, "400 ms later: two more");
    plr_rate_cleanup(&r);
}

Test(limits, rate_refused_takes_do_not_lose_partial_refill)
{
    struct plr_rate r;

    plr_rate_init(&r, 5, 0);
    cr_assert_eq(take_all(&r, 0, 100), 5);
    /* Refusals every 50 ms must not reset the fraction accumulated so far. */
    cr_assert_eq(plr_rate_take(&r, 50), 0);
    cr_assert_eq(plr_rate_take(&r, 100), 0);
    cr_assert_eq(plr_rate_take(&r, 150), 0);
    cr_assert_eq(plr_rate_take(&r, 200), 1, "50+50+50+50 ms make one token at 5/s");
    plr_rate_cleanup(&r);
}

Test(limits, rate_slow_rate_one_per_second)
{
    struct plr_rate r;

    plr_rate_init(&r, 1, 5000);
    cr_assert_eq(take_all(&r, 5000, 100), 1);
    cr_assert_eq(plr_rate_take(&r, 5999), 0);
    cr_assert_eq(plr_rate_take(&r, 6000), 1);
    cr_assert_eq(plr_rate_take(&r, 6000), 0);
    plr_rate_cleanup(&r);
}

Test(limits, rate_burst_is_capped_at_one_second_after_a_long_idle)
{
    struct plr_rate r;
    const uint64_t day_ms = 24ull * 3600 * 1000;

    plr_rate_init(&r, 5, 1000);
    cr_assert_eq(take_all(&r, 1000, 100), 5);
    cr_assert_eq(take_all(&r, 1000 + 3600 * 1000, 100), 5, "an idle hour still gives 5, not more");
    cr_assert_eq(take_all(&r, 1000 + 30 * day_ms, 100), 5, "an idle month too");
    plr_rate_cleanup(&r);
}

Test(limits, rate_high_rate_with_long_idle_does_not_overflow)
{
    struct plr_rate r;
    const uint64_t day_ms = 24ull * 3600 * 1000;

    plr_rate_init(&r, 1000000, 0);
    cr_assert_eq(take_all(&r, 0, 2000000), 1000000, "the full burst of the highest rate");
    cr_assert_eq(take_all(&r, 365 * day_ms, 2000000), 1000000, "after a year: one burst again");
    plr_rate_cleanup(&r);
}

Test(limits, rate_clock_going_backwards_adds_nothing)
{
    struct plr_rate r;

    plr_rate_init(&r, 10, 10000);
    cr_assert_eq(take_all(&r, 10000, 100), 10);
    cr_assert_eq(plr_rate_take(&r, 9000), 0, "an earlier time must not refill");
    cr_assert_eq(plr_rate_take(&r, 10000), 0, "nor does coming back to the same time");
    cr_assert_eq(plr_rate_take(&r, 10100), 1, "100 ms after the last refill: one token at 10/s");
    plr_rate_cleanup(&r);
}

struct rate_worker {
    struct plr_rate *r;
    unsigned admitted;
};

static void *rate_worker_run(void *arg)
{
    struct rate_worker *w = arg;

    for (int i = 0; i < 5000; i++)
        w->admitted += (unsigned)plr_rate_take(w->r, 777);
    return NULL;
}

Test(limits, rate_concurrent_takers_share_one_burst_exactly)
{
    struct plr_rate r;
    struct rate_worker w[4];
    pthread_t th[4];
    unsigned total = 0;

    plr_rate_init(&r, 1000, 777);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct rate_worker){.r = &r, .admitted = 0};
        cr_assert_eq(pthread_create(&th[i], NULL, rate_worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += w[i].admitted;
    }
    cr_assert_eq(total, 1000, "4 threads at the same instant admitted %u, not the burst of 1000",
                 total);
    plr_rate_cleanup(&r);
}

/* ---- per-source table ----------------------------------------------------------------------- */

Test(limits, sources_zero_limit_means_no_table_and_everything_admitted)
{
    int failed = -1;
    struct plr_sources *t = plr_sources_new(0, &failed);
    struct sockaddr_storage a = v4("10.1.1.1", 1);

    cr_assert_null(t, "max 0 needs no table");
    cr_assert_eq(failed, 0, "NULL for max 0 is not a failure");
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(plr_sources_acquire(NULL, SA(a)), 1);
    cr_assert_eq(plr_sources_count(NULL, SA(a)), 0);
    plr_sources_release(NULL, SA(a));
    plr_sources_free(NULL);
}

Test(limits, sources_limit_reached_refuses_with_0)
{
    struct plr_sources *t = table(2);
    struct sockaddr_storage a = v4("10.1.1.1", 40000);

    cr_assert_eq(plr_sources_acquire(t, SA(a)), 1);
    cr_assert_eq(plr_sources_acquire(t, SA(a)), 1);
    cr_assert_eq(plr_sources_count(t, SA(a)), 2);
    cr_assert_eq(plr_sources_acquire(t, SA(a)), 0, "the third live connection is refused");
    cr_assert_eq(plr_sources_count(t, SA(a)), 2, "a refusal is not counted");
    cr_assert_eq(plr_sources_acquire(t, SA(a)), 0, "and stays refused");
    plr_sources_free(t);
}

Test(limits, sources_ports_are_ignored)
{
    struct plr_sources *t = table(2);
    struct sockaddr_storage p1 = v4("10.1.1.1", 1000), p2 = v4("10.1.1.1", 2000),
                            p3 = v4("10.1.1.1", 3000);

    cr_assert_eq(plr_sources_acquire(t, SA(p1)), 1);
    cr_assert_eq(plr_sources_acquire(t, SA(p2)), 1);
    cr_assert_eq(plr_sources_acquire(t, SA(p3)), 0, "another port of the same address is refused");
    cr_assert_eq(plr_sources_count(t, SA(p3)), 2);
    plr_sources_free(t);
}

Test(limits, sources_other_addresses_are_unaffected)
{
    struct plr_sources *t = table(1);
    struct sockaddr_storage a = v4("10.1.1.1", 1), b = v4("10.1.1.2", 1), c = v6("2001:db8::1", 1),
                            d = v6("2001:db8::2", 1);

    cr_assert_eq(plr_sources_acquire(t, SA(a)), 1);
    cr_assert_eq(plr_sources_acquire(t, SA(a)), 0);
    cr_assert_eq(plr_sources_acquire(t, SA(b)), 1, "a full 10.1.1.1 does not limit 10.1.1.2");
    cr_assert_eq(plr_sources_acquire(t, SA(c)), 1);
    cr_assert_eq(plr_sources_acquire(t, SA(c)), 0);
    cr_assert_eq(plr_sources_acquire(t, SA(d)), 1, "IPv6 addresses are counted apart too");
    cr_assert_eq(plr_sources_count(t, SA(b)), 1);
    cr_assert_eq(plr_sources_count(t, SA(d)), 1);
    plr_sources_free(t);
}

Test(limits, sources_ipv4_mapped_ipv6_counts_as_the_ipv4_address)
{
    struct plr_sources *t = table(2);
    struct sockaddr_storage plain = v4("10.1.1.1", 1111), mapped = v6("::ffff:10.1.1.1", 2222);

    cr_assert_eq(plr_sources_acquire(t, SA(plain)), 1);
    cr_assert_eq(plr_sources_count(t, SA(mapped)), 1, "the mapped form sees the IPv4 count");
    cr_assert_eq(plr_sources_acquire(t, SA(mapped)), 1);
    cr_assert_eq(plr_sources_count(t, SA(plain)), 2, "one client, one counter");
    cr_assert_eq(plr_sources_acquire(t, SA(plain)), 0, "limit reached via either form");
    cr_assert_eq(plr_sources_acquire(t, SA(mapped)), 0);
    plr_sources_release(t, SA(mapped)); /* released through the other form */
    cr_assert_eq(plr_sources_count(t, SA(plain)), 1);
    cr_assert_eq(plr_sources_acquire(t, SA(plain)), 1);
    plr_sources_release(t, SA(plain));
    plr_sources_release(t, SA(plain));
    cr_assert_eq(plr_sources_count(t, SA(mapped)), 0);
    plr_sources_free(t);
}

Test(limits, sources_ipv4_compatible_and_other_ipv6_are_not_the_ipv4_address)
{
    struct plr_sources *t = table(1);
    struct sockaddr_storage plain = v4("10.1.1.1", 1), compat = v6("::10.1.1.1", 1),
                            nat64 = v6("64:ff9b::10.1.1.1", 1);

    cr_assert_eq(plr_sources_acquire(t, SA(plain)), 1);
    cr_assert_eq(plr_sources_acquire(t, SA(compat)), 1, "::a.b.c.d is not ::ffff:a.b.c.d");
    cr_assert_eq(plr_sources_acquire(t, SA(nat64)), 1, "64:ff9b::/96 is another address");
    plr_sources_free(t);
}

Test(limits, sources_release_frees_the_slot_and_the_entry)
{
    struct plr_sources *t = table(1);
    struct sockaddr_storage a = v4("192.0.2.1", 5);

    for (int round = 0; round < 1000; round++) {
        cr_assert_eq(plr_sources_acquire(t, SA(a)), 1, "round %d: the slot was not freed", round);
        cr_assert_eq(plr_sources_acquire(t, SA(a)), 0);
        plr_sources_release(t, SA(a));
        cr_assert_eq(plr_sources_count(t, SA(a)), 0);
    }
    plr_sources_free(t);
}

Test(limits, sources_release_of_an_unknown_address_is_harmless)
{
    struct plr_sources *t = table(1);
    struct sockaddr_storage a = v4("192.0.2.1", 5), b = v4("192.0.2.2", 5);

    plr_sources_release(t, SA(a)); /* never acquired */
    cr_assert_eq(plr_sources_count(t, SA(a)), 0, "no underflow");
    cr_assert_eq(plr_sources_acquire(t, SA(a)), 1);
    cr_assert_eq(plr_sources_acquire(t, SA(a)), 0, "the limit still holds after a stray release");
    plr_sources_release(t, SA(b));
    cr_assert_eq(plr_sources_count(t, SA(a)), 1, "releasing b leaves a alone");
    plr_sources_free(t);
}

Test(limits, sources_non_ip_families_are_never_limited)
{
    struct plr_sources *t = table(1);
    struct sockaddr_storage ss;
    struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

    memset(&ss, 0, sizeof(ss));
    sun->sun_family = AF_UNIX;
    snprintf(sun->sun_path, sizeof(sun->sun_path), "/run/lb.sock");
    for (int i = 0; i < 10; i++)
        cr_assert_eq(plr_sources_acquire(t, SA(ss)), 1);
    cr_assert_eq(plr_sources_count(t, SA(ss)), 0);
    plr_sources_release(t, SA(ss));
    plr_sources_free(t);
}

Test(limits, sources_many_addresses_with_shared_buckets_stay_exact)
{
    const int n = 5000; /* several times the bucket count: chains of many entries */
    struct plr_sources *t = table(3);

    for (int i = 0; i < n; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        struct sockaddr_storage a = v4(ip, (uint16_t)i);
        for (int k = 0; k < 3; k++)
            cr_assert_eq(plr_sources_acquire(t, SA(a)), 1, "%s acquire %d", ip, k);
        cr_assert_eq(plr_sources_acquire(t, SA(a)), 0, "%s over the limit", ip);
    }
    /* Release the odd ones completely (entries unlinked from the middle of chains). */
    for (int i = 1; i < n; i += 2) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        struct sockaddr_storage a = v4(ip, 1);
        for (int k = 0; k < 3; k++)
            plr_sources_release(t, SA(a));
    }
    for (int i = 0; i < n; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        struct sockaddr_storage a = v4(ip, 1);
        cr_assert_eq(plr_sources_count(t, SA(a)), i % 2 ? 0u : 3u, "%s", ip);
        cr_assert_eq(plr_sources_acquire(t, SA(a)), i % 2 ? 1 : 0, "%s", ip);
    }
    plr_sources_free(t); /* frees the entries still live (ASan/valgrind would see a leak) */
}

struct src_worker {
    struct plr_sources *t;
    struct sockaddr_storage addr;
    unsigned refused;
};

static void *src_worker_run(void *arg)
{
    struct src_worker *w = arg;

    for (int round = 0; round < 200; round++) {
        unsigned got = 0;
        for (int i = 0; i < 50; i++)
            got += (unsigned)plr_sources_acquire(w->t, SA(w->addr));
        w->refused += 50 - got;
        for (unsigned i = 0; i < got; i++)
            plr_sources_release(w->t, SA(w->addr));
    }
    return NULL;
}

Test(limits, sources_concurrent_acquire_release_balance_to_zero)
{
    struct plr_sources *t = table(1000000);
    struct src_worker w[4];
    pthread_t th[4];
    struct sockaddr_storage shared = v4("198.51.100.7", 1);

    for (int i = 0; i < 4; i++) {
        w[i] = (struct src_worker){.t = t, .addr = shared, .refused = 0};
        if (i == 3) /* one thread through the mapped form of the same client */
            w[i].addr = v6("::ffff:198.51.100.7", 2);
        cr_assert_eq(pthread_create(&th[i], NULL, src_worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].refused, 0, "thread %d was refused under a huge limit", i);
    }
    cr_assert_eq(plr_sources_count(t, SA(shared)), 0, "every acquire was released");
    plr_sources_free(t);
}

Test(limits, sources_concurrent_callers_never_exceed_the_limit)
{
    struct plr_sources *t = table(10);
    struct src_worker w[4];
    pthread_t th[4];
    struct sockaddr_storage a = v4("203.0.113.9", 1);

    /* Each thread holds up to 50 at once; 4 threads against a limit of 10 must see refusals,
     * and at no point can more than 10 be held, so the count never passes 10. */
    for (int i = 0; i < 4; i++) {
        w[i] = (struct src_worker){.t = t, .addr = a, .refused = 0};
        cr_assert_eq(pthread_create(&th[i], NULL, src_worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(plr_sources_count(t, SA(a)), 0);
    cr_assert_eq(w[0].refused + w[1].refused + w[2].refused + w[3].refused >= 4u * 200 * 40, 1,
                 "each round admits at most 10 of 50 per thread");
    plr_sources_free(t);
}
