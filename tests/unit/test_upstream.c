/*
 * Unit tests of the balance algorithms and passive failure ordering (no sockets, no DNS).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "plrelay/upstream.h"

TestSuite(upstream, .timeout = 10);

static struct plr_hostport hosts[4];
static struct plr_route_config route;

static struct plr_pool *pool_of(size_t n, enum plr_balance balance)
{
    memset(&route, 0, sizeof(route));
    for (size_t i = 0; i < n; i++) {
        char text[32], reason[128];
        snprintf(text, sizeof(text), "127.0.0.%zu:%zu", i + 1, 1000 + i);
        cr_assert_eq(plr_config_parse_hostport(text, 1, &hosts[i], reason, sizeof(reason)), 0, "%s",
                     reason);
    }
    route.upstreams = hosts;
    route.upstream_count = n;
    route.balance = balance;
    struct plr_pool *pool = plr_pool_new(&route, NULL);
    cr_assert_not_null(pool);
    return pool;
}

static struct sockaddr_in client(const char *ip)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(40000)};
    inet_pton(AF_INET, ip, &sin.sin_addr);
    return sin;
}

Test(upstream, roundrobin_rotates_first_choice_over_all_servers)
{
    struct plr_pool *pool = pool_of(3, PLR_BALANCE_ROUNDROBIN);
    uint8_t order[8];
    size_t seen[3] = {0};

    for (int i = 0; i < 9; i++) {
        cr_assert_eq(plr_pool_order(pool, NULL, 1000, order, 8), 3);
        seen[order[0]]++;
        cr_assert_eq(order[1], (order[0] + 1) % 3, "fallbacks follow the rotation");
    }
    cr_assert(seen[0] == 3 && seen[1] == 3 && seen[2] == 3);
    plr_pool_free(pool);
}

Test(upstream, failover_prefers_first_server_in_file_order)
{
    struct plr_pool *pool = pool_of(3, PLR_BALANCE_FAILOVER);
    uint8_t order[8];

    for (int i = 0; i < 4; i++) {
        plr_pool_order(pool, NULL, 1000, order, 8);
        cr_assert(order[0] == 0 && order[1] == 1 && order[2] == 2);
    }
    plr_pool_free(pool);
}

Test(upstream, failed_server_moves_last_until_hold_expires)
{
    struct plr_pool *pool = pool_of(3, PLR_BALANCE_FAILOVER);
    uint8_t order[8];

    plr_pool_mark_failed(&pool->servers[0], 1000);
    plr_pool_order(pool, NULL, 1001, order, 8);
    cr_assert(order[0] == 1 && order[1] == 2 && order[2] == 0, "failed server is tried last");
    plr_pool_order(pool, NULL, 1000 + PLR_POOL_FAIL_HOLD_MS, order, 8);
    cr_assert_eq(order[0], 0, "back in front once the hold expired");
    plr_pool_mark_failed(&pool->servers[0], 1000);
    plr_pool_mark_ok(&pool->servers[0]);
    plr_pool_order(pool, NULL, 1001, order, 8);
    cr_assert_eq(order[0], 0, "a success clears the mark");
    plr_pool_free(pool);
}

Test(upstream, leastconn_picks_server_with_fewest_active)
{
    struct plr_pool *pool = pool_of(3, PLR_BALANCE_LEASTCONN);
    uint8_t order[8];

    atomic_store(&pool->servers[0].active, 5);
    atomic_store(&pool->servers[1].active, 1);
    atomic_store(&pool->servers[2].active, 3);
    for (int i = 0; i < 5; i++) {
        plr_pool_order(pool, NULL, 1000, order, 8);
        cr_assert_eq(order[0], 1);
    }
    atomic_store(&pool->servers[1].active, 9);
    plr_pool_order(pool, NULL, 1000, order, 8);
    cr_assert_eq(order[0], 2);
    plr_pool_free(pool);
}

Test(upstream, leastconn_spreads_ties)
{
    struct plr_pool *pool = pool_of(2, PLR_BALANCE_LEASTCONN);
    uint8_t order[8];
    size_t seen[2] = {0};

    for (int i = 0; i < 10; i++) {
        plr_pool_order(pool, NULL, 1000, order, 8);
        seen[order[0]]++;
    }
    cr_assert(seen[0] == 5 && seen[1] == 5);
    plr_pool_free(pool);
}

Test(upstream, source_hash_is_stable_per_client_address)
{
    struct plr_pool *pool = pool_of(4, PLR_BALANCE_SOURCE_HASH);
    uint8_t order[8];
    size_t first;
    int differs = 0;

    struct sockaddr_in a = client("10.0.0.1");
    plr_pool_order(pool, (struct sockaddr *)&a, 1000, order, 8);
    first = order[0];
    for (int i = 0; i < 5; i++) {
        a.sin_port = htons((uint16_t)(40000 + i)); /* the port must not matter */
        plr_pool_order(pool, (struct sockaddr *)&a, 1000, order, 8);
        cr_assert_eq(order[0], first);
    }
    for (int i = 2; i < 40; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.0.0.%d", i);
        struct sockaddr_in b = client(ip);
        plr_pool_order(pool, (struct sockaddr *)&b, 1000, order, 8);
        differs |= order[0] != first;
    }
    cr_assert(differs, "different clients reach different servers");
    plr_pool_free(pool);
}

Test(upstream, order_is_truncated_to_max)
{
    struct plr_pool *pool = pool_of(4, PLR_BALANCE_ROUNDROBIN);
    uint8_t order[2];

    cr_assert_eq(plr_pool_order(pool, NULL, 1000, order, 2), 2);
    plr_pool_free(pool);
}

Test(upstream, literal_server_has_its_address)
{
    struct plr_pool *pool = pool_of(1, PLR_BALANCE_ROUNDROBIN);
    struct plr_addrset *set = plr_pool_server_addrs(&pool->servers[0]);

    cr_assert_not_null(set);
    cr_assert_eq(set->count, 1);
    cr_assert_str_eq(pool->servers[0].label, "127.0.0.1:1000");
    plr_addrset_release(set);
    plr_pool_free(pool);
}
