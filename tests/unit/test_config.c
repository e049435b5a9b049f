/*
 * test_config — the config loader and its value parsers: every accepted form, every refused form
 * with its reason, exact line numbers (CRLF, BOM, comments, over-long lines, NUL bytes), the
 * whole-file checks, and the shipped config files.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "plrelay/config.h"

TestSuite(config, .timeout = 10);

#define ROUTE_A "[route a]\nlisten = 127.0.0.1:13890\nupstreams = 127.0.0.1:13891\n"
#define LINE_MAX_BYTES 197 /* inih's INI_MAX_LINE (200) minus '\r', '\n' and NUL */

static struct plr_config_errors errs;

static struct plr_config *load(const char *text)
{
    return plr_config_load_string("t.ini", text, &errs);
}

static void dump_errors(void)
{
    size_t i;

    for (i = 0; i < errs.count; i++) {
        cr_log_info("  %d: %s", errs.items[i].line, errs.items[i].reason);
    }
}

/* Assert that loading fails with exactly one error, on `line`, whose reason contains `part`. */
static void expect_one_error(const char *text, int line, const char *part)
{
    struct plr_config *cfg = load(text);

    dump_errors();
    cr_assert_null(cfg, "loaded but should fail: %s", text);
    cr_assert_eq(errs.count, 1, "want 1 error (%s), got %zu for: %s", part, errs.count, text);
    cr_expect_eq(errs.items[0].line, line, "line %d, want %d: %s", errs.items[0].line, line,
                 errs.items[0].reason);
    cr_expect(strstr(errs.items[0].reason, part) != NULL, "reason \"%s\" lacks \"%s\"",
              errs.items[0].reason, part);
}

static int has_error(int line, const char *part)
{
    size_t i;

    for (i = 0; i < errs.count; i++) {
        if (errs.items[i].line == line && strstr(errs.items[i].reason, part) != NULL) {
            return 1;
        }
    }
    return 0;
}

/* Write len bytes to a new temporary file; path receives its name. */
static void write_temp(const char *data, size_t len, char *path, size_t path_len)
{
    int fd;

    snprintf(path, path_len, "/tmp/plr_test_config_XXXXXX");
    fd = mkstemp(path);
    cr_assert_neq(fd, -1);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* The repository root, from this file's path (absolute in CMake builds). */
static void repo_path(const char *rel, char *out, size_t out_len)
{
    const char *marker = strstr(__FILE__, "tests/unit/test_config.c");
    int prefix = marker != NULL ? (int)(marker - __FILE__) : 0;

    snprintf(out, out_len, "%.*s%s", prefix, __FILE__, rel);
}

/* ---- value parsers -------------------------------------------------------------------------- */

Test(config, parse_duration_accepts_every_unit)
{
    static const struct {
        const char *text;
        uint64_t ms;
    } cases[] = {
        {"0", 0},
        {"0ms", 0},
        {"250ms", 250},
        {"3s", 3000},
        {"15m", 900000},
        {"2h", 7200000},
        {"720h", 2592000000u},
        {"43200m", 2592000000u},
        {"2592000s", 2592000000u},
        {"2592000000ms", 2592000000u},
    };
    char reason[PLR_CONFIG_REASON_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t ms = 1;
        int rc = plr_config_parse_duration(cases[i].text, &ms, reason, sizeof(reason));
        cr_expect_eq(rc, 0, "%s: %s", cases[i].text, reason);
        cr_expect_eq(ms, cases[i].ms, "%s gave %llu", cases[i].text, (unsigned long long)ms);
    }
}

Test(config, parse_duration_rejects_malformed)
{
    static const struct {
        const char *text;
        const char *reason;
    } cases[] = {
        {"", "is not a duration"},
        {"3", "has no unit"},
        {"30", "has no unit"},
        {"3x", "\"3x\" is not a duration (use ms, s, m or h)"},
        {"3S", "is not a duration"},
        {"3sec", "is not a duration"},
        {"3 s", "is not a duration"},
        {" 3s", "is not a duration"},
        {"3s ", "is not a duration"},
        {"-3s", "is not a duration"},
        {"+3s", "is not a duration"},
        {"1.5s", "is not a duration"},
        {"s", "is not a duration"},
        {"0x10s", "is not a duration"},
        {"05s", "leading zero"},
        {"00", "leading zero"},
        {"721h", "longer than 30 days"},
        {"2592000001ms", "longer than 30 days"},
        {"99999999999h", "longer than 30 days"},
        {"18446744073709551616ms", "longer than 30 days"},
        {"99999999999999999999999999999999s", "longer than 30 days"},
    };
    char reason[PLR_CONFIG_REASON_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t ms = 42;
        reason[0] = '\0';
        cr_expect_eq(plr_config_parse_duration(cases[i].text, &ms, reason, sizeof(reason)), -1,
                     "\"%s\" accepted", cases[i].text);
        cr_expect(strstr(reason, cases[i].reason) != NULL, "\"%s\": reason \"%s\" lacks \"%s\"",
                  cases[i].text, reason, cases[i].reason);
        cr_expect_eq(ms, 42, "\"%s\" wrote the output", cases[i].text);
    }
}

Test(config, parse_size_accepts_bytes_k_and_m)
{
    static const struct {
        const char *text;
        size_t bytes;
    } cases[] = {
        {"0", 0},
        {"4096", 4096},
        {"64k", 65536},
        {"64K", 65536},
        {"8m", 8388608},
        {"1024m", 1073741824u},
        {"1048576k", 1073741824u},
        {"1073741824", 1073741824u},
    };
    char reason[PLR_CONFIG_REASON_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bytes = 1;
        cr_expect_eq(plr_config_parse_size(cases[i].text, &bytes, reason, sizeof(reason)), 0,
                     "%s: %s", cases[i].text, reason);
        cr_expect_eq(bytes, cases[i].bytes, "%s gave %zu", cases[i].text, bytes);
    }
}

Test(config, parse_size_rejects_malformed)
{
    static const struct {
        const char *text;
        const char *reason;
    } cases[] = {
        {"", "is not a size"},
        {"k", "is not a size"},
        {"64kb", "is not a size"},
        {"64 k", "is not a size"},
        {"-1", "is not a size"},
        {"+1", "is not a size"},
        {"1g", "is not a size"},
        {"1.5m", "is not a size"},
        {"064k", "leading zero"},
        {"1025m", "more than 1 GiB"},
        {"1073741825", "more than 1 GiB"},
        {"99999999999999999999999m", "more than 1 GiB"},
    };
    char reason[PLR_CONFIG_REASON_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bytes = 0;
        reason[0] = '\0';
        cr_expect_eq(plr_config_parse_size(cases[i].text, &bytes, reason, sizeof(reason)), -1,
                     "\"%s\" accepted", cases[i].text);
        cr_expect(strstr(reason, cases[i].reason) != NULL, "\"%s\": reason \"%s\" lacks \"%s\"",
                  cases[i].text, reason, cases[i].reason);
    }
}

Test(config, parse_hostport_accepts_names_and_literals)
{
    static const struct {
        const char *text;
        const char *host;
        unsigned port;
        int literal;
        int family;
    } cases[] = {
        {"127.0.0.1:80", "127.0.0.1", 80, 1, AF_INET},
        {"0.0.0.0:1", "0.0.0.0", 1, 1, AF_INET},
        {"[::1]:389", "::1", 389, 1, AF_INET6},
        {"[2001:db8::10]:65535", "2001:db8::10", 65535, 1, AF_INET6},
        {"dc1.corp.example:389", "dc1.corp.example", 389, 0, 0},
        {"localhost:9200", "localhost", 9200, 0, 0},
        {"a-b.c9:1", "a-b.c9", 1, 0, 0},
        {"1.2.3.com:443", "1.2.3.com", 443, 0, 0},
    };
    char reason[PLR_CONFIG_REASON_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct plr_hostport hp;
        int rc = plr_config_parse_hostport(cases[i].text, 0, &hp, reason, sizeof(reason));
        cr_assert_eq(rc, 0, "%s: %s", cases[i].text, reason);
        cr_expect_str_eq(hp.host, cases[i].host);
        cr_expect_eq(hp.port, cases[i].port, "%s", cases[i].text);
        cr_expect_eq(hp.is_literal, cases[i].literal, "%s", cases[i].text);
        if (cases[i].literal) {
            char buf[PLR_SOCKADDR_STRLEN];
            cr_expect_eq(hp.addr.ss_family, cases[i].family);
            plr_sockaddr_str((struct sockaddr *)&hp.addr, buf, sizeof(buf));
            cr_expect_str_eq(buf, cases[i].text);
        } else {
            cr_expect_eq(hp.addr_len, 0);
        }
    }
}

Test(config, rejects_port_70000)
{
    char reason[PLR_CONFIG_REASON_MAX];
    struct plr_hostport hp;

    cr_assert_eq(plr_config_parse_hostport("127.0.0.1:70000", 1, &hp, reason, sizeof(reason)), -1);
    cr_expect_str_eq(reason, "port \"70000\" is out of range (1-65535)");
    expect_one_error("[route a]\nlisten = 127.0.0.1:70000\nupstreams = x:1\n", 2,
                     "route \"a\": listen: port \"70000\" is out of range (1-65535)");
}

Test(config, parse_hostport_rejects_malformed)
{
    static const struct {
        const char *text;
        const char *reason;
    } cases[] = {
        {"", "has no port"},
        {"127.0.0.1", "has no port"},
        {"127.0.0.1:", "port \"\" is not a number"},
        {"127.0.0.1:0", "out of range"},
        {"127.0.0.1:65536", "out of range"},
        {"127.0.0.1:99999999999999999999", "out of range"},
        {"127.0.0.1:080", "leading zero"},
        {"127.0.0.1:+80", "is not a number"},
        {"127.0.0.1:-80", "is not a number"},
        {"127.0.0.1: 80", "is not a number"},
        {"127.0.0.1:80 ", "is not a number"},
        {"127.0.0.1:http", "is not a number"},
        {":80", "has no host"},
        {"[]:80", "has no host"},
        {"::1:80", "write IPv6 addresses in brackets"},
        {"[::1]80", "needs a port after ']'"},
        {"[::1]", "needs a port after ']'"},
        {"[::1:80", "has no closing ']'"},
        {"[1.2.3.4]:80", "is not an IPv6 address"},
        {"[fe80::1%eth0]:80", "is not an IPv6 address"},
        {"2852039166:80", "not a valid IPv4 address"},
        {"0251.0376.0251.0376:80", "not a valid IPv4 address"},
        {"0xa9fea9fe:80", "not a valid IPv4 address"},
        {"169.254.43518:80", "not a valid IPv4 address"},
        {"127.1:80", "not a valid IPv4 address"},
        {"1.2.3.4.5:80", "not a valid IPv4 address or host name"},
        {"256.1.1.1:80", "not a valid IPv4 address or host name"},
        {"-bad.example:80", "not a valid host name"},
        {"bad-.example:80", "not a valid host name"},
        {"a..b:80", "not a valid host name"},
        {"example.com.:80", "not a valid host name"},
        {".example.com:80", "not a valid host name"},
        {"a_b.example:80", "not a valid host name"},
        {"a b:80", "not a valid host name"},
        {"user@host:80", "not a valid host name"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example:80",
         "not a valid host name"}, /* a 64-byte label */
    };
    char reason[PLR_CONFIG_REASON_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct plr_hostport hp;
        reason[0] = '\0';
        cr_expect_eq(plr_config_parse_hostport(cases[i].text, 0, &hp, reason, sizeof(reason)), -1,
                     "\"%s\" accepted", cases[i].text);
        cr_expect(strstr(reason, cases[i].reason) != NULL, "\"%s\": reason \"%s\" lacks \"%s\"",
                  cases[i].text, reason, cases[i].reason);
    }
}

Test(config, parse_uint_accepts_plain_decimals_in_range)
{
    static const struct {
        const char *text;
        int ok;
    } cases[] = {
        {"0", 1},   {"7", 1},
        {"64", 1},  {"65", 0},
        {"", 0},    {"07", 0},
        {"00", 0},  {"-1", 0},
        {"+1", 0},  {" 1", 0},
        {"1 ", 0},  {"1x", 0},
        {"0x1", 0}, {"99999999999999999999999", 0},
    };
    char reason[PLR_CONFIG_REASON_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 99;
        int rc = plr_config_parse_uint(cases[i].text, 0, 64, &v, reason, sizeof(reason));
        cr_expect_eq(rc, cases[i].ok ? 0 : -1, "\"%s\"", cases[i].text);
        if (!cases[i].ok) {
            cr_expect(strstr(reason, "is not a whole number from 0 to 64") != NULL, "%s", reason);
        }
    }
    cr_expect_eq(plr_config_parse_uint("5", 6, 9, &(uint64_t){0}, reason, sizeof(reason)), -1);
    cr_expect_eq(plr_config_parse_uint("7", 0, 5, &(uint64_t){0}, reason, sizeof(reason)), -1);
    cr_expect_eq(plr_config_parse_uint("5", 0, 5, &(uint64_t){0}, reason, sizeof(reason)), 0);
}

Test(config, parse_hostport_list_trims_items_and_refuses_empty_ones)
{
    static const struct {
        const char *text;
        const char *reason;
    } bad[] = {
        {"", "item 1 of the list is empty"},
        {" ", "item 1 of the list is empty"},
        {"a.example:1,", "item 2 of the list is empty"},
        {"a.example:1,,b.example:2", "item 2 of the list is empty"},
        {",a.example:1", "item 1 of the list is empty"},
        {"a.example:1, b.example", "\"b.example\" has no port"},
    };
    char reason[PLR_CONFIG_REASON_MAX];
    struct plr_hostport *list = NULL;
    size_t count = 0, i;

    cr_assert_eq(plr_config_parse_hostport_list(" a.example:1 ,\t[::1]:2,10.0.0.1:3 ", 0, &list,
                                                &count, reason, sizeof(reason)),
                 0, "%s", reason);
    cr_assert_eq(count, 3);
    cr_expect_str_eq(list[0].host, "a.example");
    cr_expect_str_eq(list[1].host, "::1");
    cr_expect_eq(list[2].port, 3);
    free(list);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        list = NULL;
        cr_expect_eq(
            plr_config_parse_hostport_list(bad[i].text, 0, &list, &count, reason, sizeof(reason)),
            -1, "\"%s\" accepted", bad[i].text);
        cr_expect_null(list);
        cr_expect(strstr(reason, bad[i].reason) != NULL, "\"%s\": reason \"%s\" lacks \"%s\"",
                  bad[i].text, reason, bad[i].reason);
    }
}

Test(config, parse_hostport_limits_name_length)
{
    char name[300], reason[PLR_CONFIG_REASON_MAX];
    struct plr_hostport hp;
    size_t i;

    /* 4 labels of 63 + 3 dots = 255 bytes: too long; cut to 253 it is fine. */
    for (i = 0; i < 255; i++) {
        name[i] = (i % 64 == 63) ? '.' : 'a';
    }
    memcpy(name + 255, ":1", 3);
    cr_expect_eq(plr_config_parse_hostport(name, 0, &hp, reason, sizeof(reason)), -1);
    cr_expect(strstr(reason, "longer than 253") != NULL, "%s", reason);
    memcpy(name + 253, ":1", 3);
    cr_expect_eq(plr_config_parse_hostport(name, 0, &hp, reason, sizeof(reason)), 0, "%s", reason);
}

Test(config, parse_hostport_refuses_names_when_a_literal_is_required)
{
    char reason[PLR_CONFIG_REASON_MAX];
    struct plr_hostport hp;

    cr_expect_eq(plr_config_parse_hostport("localhost:80", 1, &hp, reason, sizeof(reason)), -1);
    cr_expect(strstr(reason, "an IP address is needed") != NULL, "%s", reason);
    cr_expect_eq(plr_config_parse_hostport("[::]:80", 1, &hp, reason, sizeof(reason)), 0);
}

Test(config, sockaddr_str_formats_each_family)
{
    char buf[PLR_SOCKADDR_STRLEN], small[8];
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(80)};
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    inet_pton(AF_INET, "1.2.3.4", &sin.sin_addr);
    inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
    cr_expect_str_eq(plr_sockaddr_str((struct sockaddr *)&sin, buf, sizeof(buf)), "1.2.3.4:80");
    cr_expect_str_eq(plr_sockaddr_str((struct sockaddr *)&sin6, buf, sizeof(buf)),
                     "[2001:db8::1]:443");
    cr_expect_str_eq(plr_sockaddr_str((struct sockaddr *)&sun, buf, sizeof(buf)), "unix");
    memcpy(sun.sun_path, "/run/x.sock", 12);
    cr_expect_str_eq(plr_sockaddr_str((struct sockaddr *)&sun, buf, sizeof(buf)),
                     "unix:/run/x.sock");
    cr_expect_str_eq(plr_sockaddr_str((struct sockaddr *)&sin, small, sizeof(small)), "1.2.3.4");
    cr_expect_str_eq(plr_sockaddr_str(NULL, buf, sizeof(buf)), "-");
}

/* ---- loading: files, defaults, every key ---------------------------------------------------- */

Test(config, loads_the_default_config_file)
{
    char path[4096];
    struct plr_config *cfg;
    const struct plr_route_config *r;

    repo_path("conf/plrelay.ini", path, sizeof(path));
    cfg = plr_config_load(path, &errs);
    dump_errors();
    cr_assert_not_null(cfg, "%s does not load", path);
    cr_assert_eq(cfg->route_count, 1);
    r = &cfg->routes[0];
    cr_expect_str_eq(r->name, "demo");
    cr_expect_eq(r->listen_count, 1);
    cr_expect_str_eq(r->listen[0].host, "127.0.0.1");
    cr_expect_eq(r->listen[0].port, 13890);
    cr_expect_eq(r->upstream_count, 1);
    cr_expect_eq(r->upstreams[0].port, 13891);
    cr_expect_eq(cfg->dns_server_count, 0);
    cr_expect_str_eq(cfg->hosts_file, "");
    cr_expect_str_eq(cfg->access_log, "stderr");
    plr_config_unref(cfg);
}

Test(config, loads_the_ldap_example)
{
    char path[4096];
    struct plr_config *cfg;
    const struct plr_route_config *r;

    repo_path("conf/examples/ldap.ini", path, sizeof(path));
    cfg = plr_config_load(path, &errs);
    dump_errors();
    cr_assert_not_null(cfg, "%s does not load", path);
    r = &cfg->routes[0];
    cr_expect_str_eq(r->name, "ldap");
    cr_expect_eq(r->balance, PLR_BALANCE_FAILOVER);
    cr_expect_eq(r->connect_timeout_ms, 2000);
    cr_expect_eq(r->idle_timeout_ms, 20 * 60 * 1000);
    cr_expect_eq(r->upstream_count, 2);
    cr_expect_str_eq(r->upstreams[1].host, "dc2.corp.example");
    cr_expect_eq(r->upstreams[1].is_literal, 0);
    plr_config_unref(cfg);
}

Test(config, applies_defaults_to_a_minimal_file)
{
    struct plr_config *cfg = load(ROUTE_A);
    const struct plr_route_config *r;

    cr_assert_not_null(cfg);
    cr_expect_eq(errs.count, 0);
    cr_expect_str_eq(cfg->path, "t.ini");
    cr_expect_eq(cfg->workers, 0);
    cr_expect_eq(cfg->max_connections, 10000);
    cr_expect_str_eq(cfg->access_log, "stderr");
    cr_expect_eq(cfg->log_level, PLR_LOG_INFO);
    cr_expect_eq(cfg->drain_timeout_ms, 30000);
    cr_expect_eq(cfg->dns_ttl_min_ms, 5000);
    cr_expect_eq(cfg->dns_ttl_max_ms, 300000);
    cr_expect_eq(cfg->dns_server_count, 0);
    r = &cfg->routes[0];
    cr_expect_eq(r->line, 1);
    cr_expect_eq(r->mode, PLR_MODE_TCP);
    cr_expect_eq(r->balance, PLR_BALANCE_ROUNDROBIN);
    cr_expect_eq(r->connect_timeout_ms, 3000);
    cr_expect_eq(r->connect_tries, 3);
    cr_expect_eq(r->idle_timeout_ms, 600000);
    cr_expect_eq(r->max_connections, 1000);
    cr_expect_eq(r->buffer_bytes, 65536);
    cr_expect_eq(r->splice, PLR_SPLICE_AUTO);
    plr_config_unref(cfg);
}

Test(config, reads_every_key)
{
    char text[2048], hosts[64];
    struct plr_config *cfg;
    const struct plr_route_config *r;

    write_temp("", 0, hosts, sizeof(hosts));
    snprintf(text, sizeof(text),
             "[global]\n"
             "workers = 4\n"
             "max_connections = 1000000\n"
             "access_log = /var/log/plrelay/access.log\n"
             "log_level = debug\n"
             "drain_timeout = 0\n"
             "dns_servers = 10.0.0.2, 10.0.0.3:5353, [fd00::2]:53, fd00::3\n"
             "hosts_file = %s\n"
             "dns_ttl_min = 1s\n"
             "dns_ttl_max = 1s\n"
             "[route ldap.v6-1_x]\n"
             "mode = tcp\n"
             "listen = 127.0.0.1:13890, [::1]:13890\n"
             "upstreams = dc1.example:389,[2001:db8::1]:636 , 10.1.1.1:389\n"
             "balance = source-hash\n"
             "connect_timeout = 250ms\n"
             "connect_tries = 32\n"
             "idle_timeout = 0\n"
             "max_connections = 0\n"
             "buffer_size = 64m\n",
             hosts);
    cfg = load(text);
    unlink(hosts);
    dump_errors();
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->workers, 4);
    cr_expect_eq(cfg->max_connections, 1000000);
    cr_expect_str_eq(cfg->access_log, "/var/log/plrelay/access.log");
    cr_expect_eq(cfg->log_level, PLR_LOG_DEBUG);
    cr_expect_eq(cfg->drain_timeout_ms, 0);
    cr_assert_eq(cfg->dns_server_count, 4);
    cr_expect_str_eq(cfg->dns_servers[0], "10.0.0.2");
    cr_expect_str_eq(cfg->dns_servers[1], "10.0.0.3:5353");
    cr_expect_str_eq(cfg->dns_servers[2], "[fd00::2]:53");
    cr_expect_str_eq(cfg->dns_servers[3], "fd00::3");
    cr_expect_str_eq(cfg->hosts_file, hosts);
    cr_expect_eq(cfg->dns_ttl_min_ms, 1000);
    cr_expect_eq(cfg->dns_ttl_max_ms, 1000);
    r = &cfg->routes[0];
    cr_expect_str_eq(r->name, "ldap.v6-1_x");
    cr_expect_eq(r->line, 11);
    cr_assert_eq(r->listen_count, 2);
    cr_expect_eq(r->listen[1].addr.ss_family, AF_INET6);
    cr_assert_eq(r->upstream_count, 3);
    cr_expect_str_eq(r->upstreams[0].host, "dc1.example");
    cr_expect_str_eq(r->upstreams[1].host, "2001:db8::1");
    cr_expect_eq(r->upstreams[1].port, 636);
    cr_expect_str_eq(r->upstreams[2].host, "10.1.1.1");
    cr_expect_eq(r->balance, PLR_BALANCE_SOURCE_HASH);
    cr_expect_eq(r->connect_timeout_ms, 250);
    cr_expect_eq(r->connect_tries, 32);
    cr_expect_eq(r->idle_timeout_ms, 0);
    cr_expect_eq(r->max_connections, 0);
    cr_expect_eq(r->buffer_bytes, 64u * 1024 * 1024);
    plr_config_unref(cfg);
}

Test(config, accepts_every_balance_and_log_level)
{
    static const char *const balances[] = {"roundrobin", "leastconn", "failover", "source-hash"};
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    char text[512];
    size_t i;

    for (i = 0; i < 4; i++) {
        struct plr_config *cfg;
        snprintf(text, sizeof(text), "[global]\nlog_level = %s\n" ROUTE_A "balance = %s\n",
                 levels[i], balances[i]);
        cfg = load(text);
        cr_assert_not_null(cfg, "%s", text);
        cr_expect_eq(cfg->routes[0].balance, (enum plr_balance)i);
        cr_expect_eq(cfg->log_level, (enum plr_log_level)i);
        plr_config_unref(cfg);
    }
}

Test(config, splice_takes_auto_or_off_and_names_the_choices_otherwise)
{
    struct plr_config *cfg = load(ROUTE_A "splice = off\n");

    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->routes[0].splice, PLR_SPLICE_OFF);
    plr_config_unref(cfg);
    expect_one_error(ROUTE_A "splice = always\n", 4, "use auto or off");
}

Test(config, accepts_auto_workers_and_off_access_log)
{
    struct plr_config *cfg = load("[global]\nworkers = auto\naccess_log = off\n" ROUTE_A);

    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->workers, 0);
    cr_expect_str_eq(cfg->access_log, "off");
    plr_config_unref(cfg);
}

Test(config, load_reports_a_missing_file)
{
    cr_assert_null(plr_config_load("/nonexistent/plrelay.ini", &errs));
    cr_assert_eq(errs.count, 1);
    cr_expect_eq(errs.items[0].line, 0);
    cr_expect_str_eq(errs.file, "/nonexistent/plrelay.ini");
    cr_expect(strstr(errs.items[0].reason, "cannot open") != NULL, "%s", errs.items[0].reason);
}

Test(config, load_refuses_a_file_over_1_mib)
{
    size_t len = 1024 * 1024 + 1;
    char *big = malloc(len), path[64];

    cr_assert_not_null(big);
    memset(big, '\n', len);
    write_temp(big, len, path, sizeof(path));
    free(big);
    cr_expect_null(plr_config_load(path, &errs));
    unlink(path);
    cr_assert_eq(errs.count, 1);
    cr_expect(strstr(errs.items[0].reason, "larger than") != NULL, "%s", errs.items[0].reason);
}

/* ---- lines: numbers, endings, comments, physical limits ------------------------------------- */

Test(config, error_line_numbers_are_exact)
{
    static const char text[] = "; comment\n"                /* 1 */
                               "\n"                         /* 2 */
                               "[global]\n"                 /* 3 */
                               "# another comment\n"        /* 4 */
                               "workers = many\n"           /* 5 */
                               "\n"                         /* 6 */
                               "[route a]\n"                /* 7 */
                               "listen = 127.0.0.1:13890\n" /* 8 */
                               "upstreams = 127.0.0.1:1\n"  /* 9 */
                               "    ; indented comment\n"   /* 10 */
                               "connect_timeout = 3x\n"     /* 11 */
                               "\n\n\n"                     /* 12-14 */
                               "balance = random\n";        /* 15 */

    cr_assert_null(load(text));
    dump_errors();
    cr_assert_eq(errs.count, 3);
    cr_expect_eq(errs.items[0].line, 5);
    cr_expect_eq(errs.items[1].line, 11);
    cr_expect_eq(errs.items[2].line, 15);
}

Test(config, crlf_line_endings_are_accepted)
{
    struct plr_config *cfg = load("[global]\r\nlog_level = warn\r\n"
                                  "[route a]\r\nlisten = 127.0.0.1:13890\r\n"
                                  "upstreams = h.example:1 ; comment\r\n\r\n");

    dump_errors();
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->log_level, PLR_LOG_WARN);
    cr_expect_str_eq(cfg->routes[0].upstreams[0].host, "h.example");
    plr_config_unref(cfg);
    expect_one_error("[global]\r\n\r\nworkers = 0\r\n" ROUTE_A, 3, "workers");
}

Test(config, utf8_bom_is_skipped)
{
    struct plr_config *cfg = load("\xEF\xBB\xBF[global]\nworkers = 2\n" ROUTE_A);

    dump_errors();
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->workers, 2);
    plr_config_unref(cfg);
    /* Only at the very start: elsewhere it is just bytes that are no key. */
    expect_one_error(ROUTE_A "\xEF\xBB\xBFmode = tcp\n", 4, "expected \"key = value\"");
}

Test(config, line_at_the_limit_is_accepted_and_one_more_byte_is_an_error)
{
    char line[1024], text[2048];
    size_t fixed = strlen("access_log = /");
    struct plr_config *cfg;

    memset(line, 'a', sizeof(line));
    snprintf(text, sizeof(text), "[global]\naccess_log = /%.*s\n" ROUTE_A,
             (int)(LINE_MAX_BYTES - fixed), line);
    cfg = load(text);
    dump_errors();
    cr_assert_not_null(cfg);
    cr_expect_eq(strlen(cfg->access_log), LINE_MAX_BYTES - fixed + 1);
    plr_config_unref(cfg);

    snprintf(text, sizeof(text), "[global]\naccess_log = /%.*s\n" ROUTE_A,
             (int)(LINE_MAX_BYTES - fixed + 1), line);
    expect_one_error(text, 2, "line is longer than 197 bytes");
    /* CR LF does not count towards the limit. */
    snprintf(text, sizeof(text), "[global]\r\naccess_log = /%.*s\r\n" ROUTE_A,
             (int)(LINE_MAX_BYTES - fixed), line);
    cfg = load(text);
    cr_expect_not_null(cfg);
    plr_config_unref(cfg);
}

Test(config, one_mib_line_is_one_error_not_many)
{
    size_t n = 1024 * 1024;
    char *text = malloc(n + 256);

    cr_assert_not_null(text);
    memcpy(text, "[global]\nworkers = ", 19);
    memset(text + 19, '1', n);
    memcpy(text + 19 + n, "\n" ROUTE_A, sizeof("\n" ROUTE_A));
    expect_one_error(text, 2, "line is longer than");
    free(text);
}

Test(config, nul_byte_is_an_error_naming_the_line)
{
    static const char text[] = "[global]\nworkers = 2\nlog_level = in\0fo\n" ROUTE_A;
    char path[64];

    write_temp(text, sizeof(text) - 1, path, sizeof(path));
    cr_expect_null(plr_config_load(path, &errs));
    unlink(path);
    dump_errors();
    cr_assert_eq(errs.count, 1);
    cr_expect_eq(errs.items[0].line, 3);
    cr_expect_str_eq(errs.items[0].reason, "line contains a NUL byte");
}

Test(config, control_character_is_an_error)
{
    expect_one_error("[global]\nlog_level = in\x1b[0mfo\n" ROUTE_A, 2, "control character 0x1b");
    expect_one_error("[global]\nlog_level = info\rworkers = 2\n" ROUTE_A, 2,
                     "control character 0x0d");
}

Test(config, inline_comments_after_values_are_stripped)
{
    struct plr_config *cfg = load("[global] ; the globals\n"
                                  "workers = 3 ; three\n"
                                  "access_log = /tmp/x;y\n" /* no blank before ';': a value */
                                  "[route a]   # the route\n"
                                  "listen = 127.0.0.1:13890\t; tab before the comment\n"
                                  "upstreams = a.example:1, b.example:2 ; two\n");

    dump_errors();
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->workers, 3);
    cr_expect_str_eq(cfg->access_log, "/tmp/x;y");
    cr_expect_eq(cfg->routes[0].upstream_count, 2);
    cr_expect_str_eq(cfg->routes[0].upstreams[1].host, "b.example");
    plr_config_unref(cfg);
}

Test(config, indented_lines_are_keys_not_continuations)
{
    struct plr_config *cfg = load("[route a]\n"
                                  "    listen = 127.0.0.1:13890\n"
                                  "\tupstreams = a.example:1\n"
                                  "  balance = failover\n");

    dump_errors();
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->routes[0].balance, PLR_BALANCE_FAILOVER);
    plr_config_unref(cfg);
}

Test(config, malformed_lines_are_errors)
{
    static const struct {
        const char *line;
        const char *reason;
    } cases[] = {
        {"workers", "expected \"key = value\""},
        {"workers 2", "expected \"key = value\""},
        {"workers: 2", "expected \"key = value\""},
        {"= 2", "expected \"key = value\""},
        {"work ers = 2", "expected \"key = value\""},
        {"[global", "no closing \"]\""},
        {"[global] workers = 2", "unexpected text after \"]\""},
        {"[globals]", "unknown section [globals]"},
        {"[]", "unknown section []"},
        {"[route]", "[route] needs a name"},
        {"[routes a]", "unknown section [routes a]"},
        {"[route a b]", "invalid route name \"a b\""},
        {"[route a/b]", "invalid route name"},
        {"[route ä]", "invalid route name"},
    };
    char text[512];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "%s\n" ROUTE_A, cases[i].line);
        expect_one_error(text, 1, cases[i].reason);
    }
}

/* ---- sections and keys ---------------------------------------------------------------------- */

Test(config, unknown_keys_are_named)
{
    expect_one_error("[global]\nfoo = 1\n" ROUTE_A, 2, "unknown key \"foo\" in [global]");
    expect_one_error(ROUTE_A "Listen = 127.0.0.1:1\n", 4, "unknown key \"Listen\" in [route a]");
    expect_one_error(ROUTE_A "proxy_protokol = v2\n", 4, "unknown key \"proxy_protokol\"");
}

Test(config, duplicate_key_names_the_first_line)
{
    expect_one_error("[global]\nworkers = 1\n\nworkers = 2\n" ROUTE_A, 4,
                     "duplicate key \"workers\" in [global] (first at line 2)");
    expect_one_error(ROUTE_A "listen = 127.0.0.2:1\n", 4,
                     "duplicate key \"listen\" in [route a] (first at line 2)");
    /* The same key in two different routes is fine. */
    plr_config_unref(load(ROUTE_A "[route b]\nlisten = 127.0.0.1:2\nupstreams = x.example:1\n"));
    cr_expect_eq(errs.count, 0);
}

Test(config, key_outside_any_section_is_an_error)
{
    expect_one_error("workers = 2\n" ROUTE_A, 1, "key \"workers\" is outside any section");
}

Test(config, global_section_twice_is_an_error)
{
    expect_one_error("[global]\nworkers = 1\n[global]\nworkers = 2\n" ROUTE_A, 3,
                     "[global] appears twice (first at line 1)");
}

Test(config, duplicate_route_name_is_an_error)
{
    expect_one_error(ROUTE_A "[route a]\nlisten = 127.0.0.1:2\nupstreams = x.example:1\n", 4,
                     "route \"a\" is defined twice (first at line 1)");
}

Test(config, route_name_may_have_63_bytes_not_64)
{
    char name[65], text[512];
    struct plr_config *cfg;

    memset(name, 'n', 64);
    name[63] = '\0';
    snprintf(text, sizeof(text), "[route %s]\nlisten = 127.0.0.1:1\nupstreams = x.example:1\n",
             name);
    cfg = load(text);
    cr_assert_not_null(cfg);
    cr_expect_str_eq(cfg->routes[0].name, name);
    plr_config_unref(cfg);
    name[63] = 'n';
    name[64] = '\0';
    snprintf(text, sizeof(text), "[route %s]\n" ROUTE_A, name);
    expect_one_error(text, 1, "invalid route name");
}

Test(config, missing_required_key_is_reported_at_the_route_header)
{
    expect_one_error("[global]\n\n[route a]\nupstreams = x.example:1\n", 3,
                     "route \"a\": missing required key \"listen\"");
    expect_one_error("[route b]\nlisten = 127.0.0.1:1\n" ROUTE_A, 1,
                     "route \"b\": missing required key \"upstreams\"");
}

Test(config, file_without_routes_is_an_error)
{
    expect_one_error("[global]\nworkers = 2\n", 0, "no [route ...] section");
    expect_one_error("", 0, "no [route ...] section");
}

Test(config, quoted_and_empty_values_are_errors)
{
    expect_one_error("[global]\naccess_log = \"/var/log/x\n" ROUTE_A, 2,
                     "access_log: write the value without quotes");
    expect_one_error(ROUTE_A "balance =\n", 4, "route \"a\": balance: value is empty");
    expect_one_error(ROUTE_A "balance = ; just a comment\n", 4, "value is empty");
}

Test(config, empty_dns_servers_and_hosts_file_mean_none)
{
    struct plr_config *cfg = load("[global]\ndns_servers =\nhosts_file = ; none\n" ROUTE_A);

    dump_errors();
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->dns_server_count, 0);
    cr_expect_str_eq(cfg->hosts_file, "");
    plr_config_unref(cfg);
}

/* ---- values in context ---------------------------------------------------------------------- */

Test(config, reasons_name_route_key_and_value)
{
    expect_one_error("[route ldap]\nlisten = 127.0.0.1:1\nupstreams = x.example:1\n"
                     "connect_timeout = 3x\n",
                     4, "");
    cr_expect_str_eq(
        errs.items[0].reason,
        "route \"ldap\": connect_timeout: \"3x\" is not a duration (use ms, s, m or h)");
    expect_one_error("[global]\nfoo = 1\n" ROUTE_A, 2, "");
    cr_expect_str_eq(errs.items[0].reason, "unknown key \"foo\" in [global]");
    expect_one_error("[route a]\nupstreams = x.example:1\nlisten = 127.0.0.1:13890\n"
                     "[route b]\nupstreams = x.example:1\nlisten = 127.0.0.1:13890\n",
                     6, "");
    cr_expect_str_eq(errs.items[0].reason,
                     "route \"b\": listen 127.0.0.1:13890 is already used by route \"a\" (line 3)");
}

Test(config, rejects_out_of_range_values)
{
    static const struct {
        const char *global; /* line 2, under [global], or NULL */
        const char *route;  /* line 4, under [route a], or NULL */
        const char *reason;
    } cases[] = {
        {"workers = 0", NULL, "workers: \"0\" is not a whole number from 1 to 64, or \"auto\""},
        {"workers = 65", NULL, "from 1 to 64"},
        {"workers = 08", NULL, "from 1 to 64"},
        {"workers = -1", NULL, "from 1 to 64"},
        {"workers = Auto", NULL, "from 1 to 64"},
        {"max_connections = 0", NULL, "from 1 to 1000000"},
        {"max_connections = 1000001", NULL, "from 1 to 1000000"},
        {"max_connections = 99999999999999999999999", NULL, "from 1 to 1000000"},
        {"log_level = verbose", NULL,
         "log_level: unknown log_level \"verbose\" (use error, warn, info or debug)"},
        {"log_level = INFO", NULL, "unknown log_level"},
        {"drain_timeout = 30", NULL, "drain_timeout: \"30\" has no unit"},
        {"dns_ttl_min = 1d", NULL, "dns_ttl_min: \"1d\" is not a duration"},
        {"dns_ttl_max = 99999999999h", NULL, "longer than 30 days"},
        {NULL, "mode = http", "route \"a\": mode: unknown mode \"http\" (use tcp or connect)"},
        {NULL, "mode = TCP", "unknown mode"},
        {NULL, "balance = random",
         "unknown balance \"random\" (use roundrobin, leastconn, failover or source-hash)"},
        {NULL, "connect_timeout = 0", "route \"a\": connect_timeout: must be more than 0"},
        {NULL, "connect_timeout = 0ms", "must be more than 0"},
        {NULL, "connect_timeout = 31d", "is not a duration"},
        {NULL, "connect_tries = 0", "connect_tries: \"0\" is not a whole number from 1 to 32"},
        {NULL, "connect_tries = 33", "from 1 to 32"},
        {NULL, "idle_timeout = 1", "has no unit"},
        {NULL, "max_connections = 1000001", "from 0 to 1000000"},
        {NULL, "max_connections = +5", "from 0 to 1000000"},
        {NULL, "buffer_size = 4095", "buffer_size: \"4095\" is out of range (4k to 64m)"},
        {NULL, "buffer_size = 65m", "out of range (4k to 64m)"},
        {NULL, "buffer_size = 2048m", "more than 1 GiB"},
        {NULL, "buffer_size = 64kb", "is not a size"},
    };
    char text[512];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].global != NULL) {
            snprintf(text, sizeof(text), "[global]\n%s\n" ROUTE_A, cases[i].global);
            expect_one_error(text, 2, cases[i].reason);
        } else {
            snprintf(text, sizeof(text), ROUTE_A "%s\n", cases[i].route);
            expect_one_error(text, 4, cases[i].reason);
        }
    }
}

Test(config, accepts_range_limits)
{
    struct plr_config *cfg = load("[global]\nworkers = 64\nmax_connections = 1\n" ROUTE_A
                                  "connect_tries = 1\nbuffer_size = 4k\nmax_connections = 1000000\n"
                                  "connect_timeout = 1ms\nidle_timeout = 720h\n");

    dump_errors();
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->workers, 64);
    cr_expect_eq(cfg->routes[0].buffer_bytes, 4096);
    cr_expect_eq(cfg->routes[0].idle_timeout_ms, 720ull * 3600 * 1000);
    plr_config_unref(cfg);
}

Test(config, empty_list_items_are_errors)
{
    static const struct {
        const char *line;
        const char *reason;
    } cases[] = {
        {"upstreams = a.example:1,,b.example:2", "upstreams: item 2 of the list is empty"},
        {"upstreams = a.example:1,", "item 2 of the list is empty"},
        {"upstreams = , a.example:1", "item 1 of the list is empty"},
        {"upstreams = a.example:1, \t ,b.example:2", "item 2 of the list is empty"},
        {"upstreams = ,", "item 1 of the list is empty"},
    };
    char text[512];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct plr_config *cfg;
        snprintf(text, sizeof(text), "[route a]\nlisten = 127.0.0.1:1\n%s\n", cases[i].line);
        cfg = load(text);
        cr_expect_null(cfg, "%s", cases[i].line);
        cr_expect(has_error(3, cases[i].reason), "%s: no \"%s\"", cases[i].line, cases[i].reason);
        plr_config_unref(cfg);
    }
}

Test(config, listen_needs_literal_addresses)
{
    expect_one_error("[route a]\nlisten = localhost:13890\nupstreams = x.example:1\n", 2,
                     "route \"a\": listen: \"localhost\" is a name; an IP address is needed here");
    expect_one_error("[route a]\nlisten = 127.0.0.1\nupstreams = x.example:1\n", 2, "has no port");
}

Test(config, listen_conflicts_between_routes)
{
    static const struct {
        const char *a, *b;
        const char *reason; /* NULL: no conflict */
    } cases[] = {
        {"127.0.0.1:1", "127.0.0.1:1",
         "listen 127.0.0.1:1 is already used by route \"a\" (line 2)"},
        {"0.0.0.0:1", "127.0.0.1:1", "listen 127.0.0.1:1 overlaps 0.0.0.0:1 of route \"a\""},
        {"10.0.0.1:1", "0.0.0.0:1", "listen 0.0.0.0:1 overlaps 10.0.0.1:1 of route \"a\""},
        {"0.0.0.0:1", "0.0.0.0:1", "listen 0.0.0.0:1 is already used by route \"a\""},
        {"[::]:1", "[::1]:1", "listen [::1]:1 overlaps [::]:1 of route \"a\""},
        {"[::1]:1", "[::]:1", "overlaps"},
        {"[::1]:1", "[0:0::1]:1", "listen [::1]:1 is already used"},
        {"127.0.0.1:1", "127.0.0.1:2", NULL},
        {"127.0.0.1:1", "127.0.0.2:1", NULL},
        {"0.0.0.0:1", "[::1]:1", NULL},
        {"[::]:1", "127.0.0.1:1", NULL},
    };
    char text[512];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct plr_config *cfg;
        snprintf(text, sizeof(text),
                 "[route a]\nlisten = %s\nupstreams = x.example:1\n"
                 "[route b]\nupstreams = x.example:1\nlisten = 127.0.0.9:9, %s\n",
                 cases[i].a, cases[i].b);
        if (cases[i].reason == NULL) {
            cfg = load(text);
            dump_errors();
            cr_expect_not_null(cfg, "%s vs %s", cases[i].a, cases[i].b);
            plr_config_unref(cfg);
        } else {
            expect_one_error(text, 6, cases[i].reason);
        }
    }
}

Test(config, listen_address_twice_in_one_route_is_an_error)
{
    expect_one_error("[route a]\nlisten = 127.0.0.1:1, 127.0.0.1:1\nupstreams = x.example:1\n", 2,
                     "route \"a\": listen 127.0.0.1:1 is listed twice");
    expect_one_error("[route a]\nlisten = 0.0.0.0:1, 127.0.0.1:1\nupstreams = x.example:1\n", 2,
                     "listen 127.0.0.1:1 overlaps 0.0.0.0:1 in the same list");
}

Test(config, dns_servers_take_literal_addresses_only)
{
    expect_one_error("[global]\ndns_servers = ns1.example\n" ROUTE_A, 2, "dns_servers:");
    expect_one_error("[global]\ndns_servers = 10.0.0.1:0\n" ROUTE_A, 2, "out of range");
    expect_one_error("[global]\ndns_servers = 10.0.0.1,,10.0.0.2\n" ROUTE_A, 2, "empty");
    expect_one_error("[global]\ndns_servers = 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,"
                     "1.1.1.7,1.1.1.8,1.1.1.9\n" ROUTE_A,
                     2, "dns_servers: more than 8 servers");
}

Test(config, hosts_file_must_exist_and_be_readable)
{
    char path[64], text[512];
    struct plr_config *cfg;

    expect_one_error("[global]\nhosts_file = /nonexistent/hosts\n" ROUTE_A, 2,
                     "hosts_file: cannot open \"/nonexistent/hosts\"");
    expect_one_error("[global]\nhosts_file = /tmp\n" ROUTE_A, 2, "is not a regular file");
    write_temp("10.0.0.1 dc1\n", 13, path, sizeof(path));
    snprintf(text, sizeof(text), "[global]\nhosts_file = %s\n" ROUTE_A, path);
    cfg = load(text);
    cr_expect_not_null(cfg);
    plr_config_unref(cfg);
    if (geteuid() != 0) { /* root reads anything */
        chmod(path, 0);
        expect_one_error(text, 2, "Permission denied");
    }
    unlink(path);
}

Test(config, dns_ttl_min_above_max_is_an_error)
{
    expect_one_error("[global]\ndns_ttl_max = 1m\n\ndns_ttl_min = 2m\n" ROUTE_A, 4,
                     "dns_ttl_min (120000 ms) is more than dns_ttl_max (60000 ms)");
    expect_one_error("[global]\ndns_ttl_min = 10m\n" ROUTE_A, 2, "is more than dns_ttl_max");
}

/* ---- the error list ------------------------------------------------------------------------- */

Test(config, collects_every_error_of_a_file_in_file_order)
{
    static const char text[] = "[global]\n"                          /* 1 */
                               "workers = lots\n"                    /* 2 */
                               "bogus = 1\n"                         /* 3 */
                               "[route a]\n"                         /* 4: no upstreams */
                               "listen = 127.0.0.1:1\n"              /* 5 */
                               "buffer_size = 1\n"                   /* 6 */
                               "[route b]\n"                         /* 7 */
                               "listen = 127.0.0.1:1\n"              /* 8: conflict */
                               "upstreams = a.example:1,,x\n"        /* 9: empty item, no port */
                               "[nonsense]\n"                        /* 10 */
                               "ignored = because the section is\n"; /* 11 */

    cr_assert_null(load(text));
    dump_errors();
    cr_assert_eq(errs.count, 7);
    cr_expect(has_error(2, "workers"));
    cr_expect(has_error(3, "unknown key \"bogus\""));
    cr_expect(has_error(4, "missing required key \"upstreams\""));
    cr_expect(has_error(6, "buffer_size"));
    cr_expect(has_error(8, "already used by route \"a\" (line 5)"));
    cr_expect(has_error(9, "item 2 of the list is empty")); /* one error per value */
    cr_expect(has_error(10, "unknown section [nonsense]"));
    for (size_t i = 1; i < errs.count; i++) {
        cr_expect_geq(errs.items[i].line, errs.items[i - 1].line, "not in file order");
    }
}

Test(config, keeps_64_errors_and_counts_the_rest)
{
    char text[8192];
    size_t pos = 0;
    int i;

    for (i = 0; i < 100; i++) {
        pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "bad line %d\n", i);
    }
    snprintf(text + pos, sizeof(text) - pos, ROUTE_A);
    cr_assert_null(load(text));
    cr_expect_eq(errs.count, PLR_CONFIG_MAX_ERRORS);
    cr_expect_eq(errs.dropped, 100 - PLR_CONFIG_MAX_ERRORS);
    cr_expect_eq(errs.items[63].line, 64);
}

Test(config, errors_print_writes_file_line_reason)
{
    char out[4096];
    int fds[2];
    ssize_t n;

    cr_assert_null(plr_config_load_string("my.ini", "[global]\nfoo = 1\n", &errs));
    errs.dropped = 2;
    cr_assert_eq(pipe(fds), 0);
    plr_config_errors_print(&errs, fds[1]);
    close(fds[1]);
    n = read(fds[0], out, sizeof(out) - 1);
    close(fds[0]);
    cr_assert_gt(n, 0);
    out[n] = '\0';
    cr_expect_str_eq(out, "my.ini:2: unknown key \"foo\" in [global]\n"
                          "my.ini: no [route ...] section: nothing to relay\n"
                          "my.ini: 2 more errors not shown\n");
}

Test(config, errors_are_reset_by_each_load)
{
    struct plr_config *cfg;

    cr_assert_null(load("[global]\nfoo = 1\n"));
    cr_assert_gt(errs.count, 0);
    cfg = load(ROUTE_A);
    cr_assert_not_null(cfg);
    cr_expect_eq(errs.count, 0);
    cr_expect_eq(errs.dropped, 0);
    plr_config_unref(cfg);
}

/* ---- reference counting --------------------------------------------------------------------- */

Test(config, snapshot_lives_until_the_last_unref)
{
    struct plr_config *cfg = load(ROUTE_A);

    cr_assert_not_null(cfg);
    cr_expect_eq(plr_config_ref(cfg), cfg);
    cr_expect_eq(atomic_load(&cfg->refs), 2);
    plr_config_unref(cfg);
    cr_expect_str_eq(cfg->routes[0].name, "a"); /* still alive; ASan would catch otherwise */
    plr_config_unref(cfg);
    cr_expect_null(plr_config_ref(NULL));
    plr_config_unref(NULL);
}

/* ---- lists over several lines ---------------------------------------------------------------- */

Test(config, list_goes_on_over_indented_lines)
{
    struct plr_config *cfg = load("[route a]\n"
                                  "listen = 127.0.0.1:13890\n"
                                  "upstreams = 127.0.0.1:1,\n"
                                  "    127.0.0.1:2   ; a comment after an item\n"
                                  "    ; a comment line between items\n"
                                  "\t127.0.0.1:3\n"
                                  "balance = failover\n");
    dump_errors();
    cr_assert_not_null(cfg);
    cr_assert_eq(cfg->routes[0].upstream_count, 3);
    cr_expect_eq(cfg->routes[0].upstreams[2].port, 3);
    cr_expect_eq(cfg->routes[0].balance, PLR_BALANCE_FAILOVER);
    plr_config_unref(cfg);
}

Test(config, a_list_longer_than_one_line_allows_is_fine_over_several)
{
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof(text),
                                "[route a]\nlisten = 127.0.0.1:13890\n"
                                "upstreams = 127.0.0.1:1\n");
    for (int i = 2; i <= 40; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "  upstream-%02d.example.com:%d\n", i,
                              1000 + i);
    cr_assert_gt(n, 3 * LINE_MAX_BYTES);
    struct plr_config *cfg = load(text);
    dump_errors();
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->routes[0].upstream_count, 40);
    cr_expect_str_eq(cfg->routes[0].upstreams[39].host, "upstream-40.example.com");
    plr_config_unref(cfg);
}

Test(config, an_error_in_a_continued_list_names_the_key_line)
{
    expect_one_error("[route a]\nlisten = 127.0.0.1:13890\nupstreams = 127.0.0.1:1,\n"
                     "    127.0.0.1:70000\n",
                     3, "upstreams");
}

Test(config, only_lists_may_continue)
{
    expect_one_error(ROUTE_A "connect_timeout = 3s\n    4s\n", 5,
                     "an indented line continues only a list (\"connect_timeout\" is not one)");
}

Test(config, an_indented_key_line_is_still_a_key)
{
    struct plr_config *cfg = load("[route a]\n  listen = 127.0.0.1:13890\n  upstreams = "
                                  "127.0.0.1:1\n  balance = leastconn\n");
    dump_errors();
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->routes[0].upstream_count, 1);
    cr_expect_eq(cfg->routes[0].balance, PLR_BALANCE_LEASTCONN);
    plr_config_unref(cfg);
}
