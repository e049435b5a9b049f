/*
 * test_hosts — the /etc/hosts-format table: names and aliases, both families, case, file order,
 * duplicates, the lines that must be skipped, and loading from disk with its limits.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plrelay/hosts.h"

TestSuite(hosts, .timeout = 10);

static struct plr_hosts *parse(const char *text)
{
    struct plr_hosts *h = plr_hosts_parse(text, strlen(text));

    cr_assert_not_null(h);
    return h;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        cr_expect_eq(sin->sin_port, 0);
        return inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len);
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        cr_expect_eq(sin6->sin6_port, 0);
        return inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)len);
    }
    return "?";
}

/* Assert that `name` has exactly the addresses in `want` (NULL-terminated), in that order. */
static void expect_addrs(const struct plr_hosts *h, const char *name, const char *const *want)
{
    struct sockaddr_storage out[8];
    char buf[INET6_ADDRSTRLEN];
    size_t n = 0, got, i;

    while (want[n] != NULL) {
        n++;
    }
    got = plr_hosts_lookup(h, name, out, 8);
    cr_assert_eq(got, n, "%s: %zu addresses, want %zu", name, got, n);
    for (i = 0; i < n; i++) {
        cr_expect_str_eq(addr_str(&out[i], buf, sizeof(buf)), want[i], "%s[%zu]", name, i);
    }
}

Test(hosts, finds_names_and_aliases)
{
    struct plr_hosts *h = parse("127.0.0.1 localhost\n"
                                "10.0.0.1\tdc1.corp.example dc1  ldap\n"
                                "::1 ip6-localhost\n");

    expect_addrs(h, "dc1.corp.example", (const char *const[]){"10.0.0.1", NULL});
    expect_addrs(h, "dc1", (const char *const[]){"10.0.0.1", NULL});
    expect_addrs(h, "ldap", (const char *const[]){"10.0.0.1", NULL});
    expect_addrs(h, "ip6-localhost", (const char *const[]){"::1", NULL});
    expect_addrs(h, "localhost", (const char *const[]){"127.0.0.1", NULL});
    expect_addrs(h, "dc2", (const char *const[]){NULL});
    expect_addrs(h, "dc", (const char *const[]){NULL});
    expect_addrs(h, "", (const char *const[]){NULL});
    plr_hosts_free(h);
}

Test(hosts, names_compare_case_insensitively)
{
    struct plr_hosts *h = parse("10.0.0.1 DC1.Corp.Example\n");

    expect_addrs(h, "dc1.corp.example", (const char *const[]){"10.0.0.1", NULL});
    expect_addrs(h, "DC1.CORP.EXAMPLE", (const char *const[]){"10.0.0.1", NULL});
    plr_hosts_free(h);
}

Test(hosts, keeps_file_order_and_drops_duplicates)
{
    struct plr_hosts *h = parse("10.0.0.9 multi\n"
                                "10.0.0.1 other\n"
                                "fd00::1 multi\n"
                                "10.0.0.2 multi\n"
                                "10.0.0.9 MULTI multi\n"
                                "10.0.0.1 multi\n");

    expect_addrs(h, "multi",
                 (const char *const[]){"10.0.0.9", "fd00::1", "10.0.0.2", "10.0.0.1", NULL});
    plr_hosts_free(h);
}

Test(hosts, lookup_returns_the_total_and_copies_at_most_max)
{
    struct plr_hosts *h = parse("10.0.0.1 a\n10.0.0.2 a\n10.0.0.3 a\n");
    struct sockaddr_storage out[2];
    char buf[INET6_ADDRSTRLEN];

    cr_expect_eq(plr_hosts_lookup(h, "a", out, 2), 3);
    cr_expect_str_eq(addr_str(&out[1], buf, sizeof(buf)), "10.0.0.2");
    cr_expect_eq(plr_hosts_lookup(h, "a", NULL, 0), 3);
    cr_expect_eq(plr_hosts_lookup(NULL, "a", out, 2), 0);
    cr_expect_eq(plr_hosts_lookup(h, NULL, out, 2), 0);
    plr_hosts_free(h);
}

Test(hosts, comments_blanks_and_line_endings)
{
    struct plr_hosts *h = parse("# a comment\n"
                                "\n"
                                "   \t\n"
                                "  10.0.0.1   a   # trailing comment b\n"
                                "10.0.0.2 c#glued\r\n"
                                "10.0.0.3 d\r\n"
                                "10.0.0.4 e"); /* no final newline */

    expect_addrs(h, "a", (const char *const[]){"10.0.0.1", NULL});
    expect_addrs(h, "b", (const char *const[]){NULL});
    expect_addrs(h, "c", (const char *const[]){"10.0.0.2", NULL});
    expect_addrs(h, "glued", (const char *const[]){NULL});
    expect_addrs(h, "d", (const char *const[]){"10.0.0.3", NULL});
    expect_addrs(h, "e", (const char *const[]){"10.0.0.4", NULL});
    plr_hosts_free(h);
}

Test(hosts, skips_lines_that_do_not_parse)
{
    static const char *const bad[] = {
        "10.0.0.1", /* no name */
        "10.0.0.1 # only a comment",
        "name 10.0.0.1", /* fields swapped */
        "10.0.0 short",
        "10.0.0.256 big",
        "2852039166 decimal", /* inet_aton forms are not addresses here */
        "0xa9fea9fe hex",
        "010.0.0.1 octal",
        "fe80::1%eth0 scoped",
        "[::1] bracketed",
        "::1::2 double",
        "10.0.0.1,10.0.0.2 comma",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa long",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        struct plr_hosts *h;
        snprintf(text, sizeof(text), "%s\n10.9.9.9 good\n", bad[i]);
        h = parse(text);
        cr_expect_eq(plr_hosts_lookup(h, "good", NULL, 0), 1, "%s broke the next line", bad[i]);
        cr_expect_eq(plr_hosts_lookup(h, "10.0.0.1", NULL, 0), 0, "%s", bad[i]);
        cr_expect_eq(plr_hosts_lookup(h, "name", NULL, 0), 0, "%s", bad[i]);
        cr_expect_eq(
            plr_hosts_lookup(h, "short", NULL, 0) + plr_hosts_lookup(h, "big", NULL, 0) +
                plr_hosts_lookup(h, "decimal", NULL, 0) + plr_hosts_lookup(h, "hex", NULL, 0) +
                plr_hosts_lookup(h, "octal", NULL, 0) + plr_hosts_lookup(h, "scoped", NULL, 0) +
                plr_hosts_lookup(h, "bracketed", NULL, 0) + plr_hosts_lookup(h, "double", NULL, 0) +
                plr_hosts_lookup(h, "comma", NULL, 0) + plr_hosts_lookup(h, "long", NULL, 0),
            0, "%s was taken", bad[i]);
        plr_hosts_free(h);
    }
}

Test(hosts, line_with_a_nul_byte_is_skipped)
{
    static const char text[] = "10.0.0.1 a\0b\n10.0.0.2 c\n";
    struct plr_hosts *h = plr_hosts_parse(text, sizeof(text) - 1);

    cr_assert_not_null(h);
    cr_expect_eq(plr_hosts_lookup(h, "a", NULL, 0), 0);
    cr_expect_eq(plr_hosts_lookup(h, "c", NULL, 0), 1);
    plr_hosts_free(h);
}

Test(hosts, empty_input_gives_an_empty_table)
{
    struct plr_hosts *h = plr_hosts_parse("", 0);

    cr_assert_not_null(h);
    cr_expect_eq(plr_hosts_lookup(h, "localhost", NULL, 0), 0);
    plr_hosts_free(h);
    plr_hosts_free(NULL);
}

Test(hosts, many_entries_for_one_name_stay_fast_and_deduplicated)
{
    size_t n = 20000, pos = 0, i;
    char *text = malloc(n * 32);
    struct sockaddr_storage out[1];
    struct plr_hosts *h;

    cr_assert_not_null(text);
    for (i = 0; i < n; i++) {
        pos += (size_t)snprintf(text + pos, 32, "10.%zu.%zu.1 same\n", (i / 250) % 250, i % 250);
    }
    h = plr_hosts_parse(text, pos);
    free(text);
    cr_assert_not_null(h);
    cr_expect_eq(plr_hosts_lookup(h, "same", out, 1), 250 * 80);
    plr_hosts_free(h);
}

/* ---- loading -------------------------------------------------------------------------------- */

static void write_temp(const char *data, size_t len, char *path, size_t path_len)
{
    int fd;

    snprintf(path, path_len, "/tmp/plr_test_hosts_XXXXXX");
    fd = mkstemp(path);
    cr_assert_neq(fd, -1);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

Test(hosts, load_reads_a_file)
{
    char path[64], err[256] = "";
    struct plr_hosts *h;

    write_temp("10.0.0.1 dc1\n", 13, path, sizeof(path));
    h = plr_hosts_load(path, err, sizeof(err));
    unlink(path);
    cr_assert_not_null(h, "%s", err);
    expect_addrs(h, "dc1", (const char *const[]){"10.0.0.1", NULL});
    plr_hosts_free(h);
}

Test(hosts, load_refuses_missing_files_and_directories)
{
    char err[256] = "";

    cr_expect_null(plr_hosts_load("/nonexistent/hosts", err, sizeof(err)));
    cr_expect_str_eq(err, "cannot open \"/nonexistent/hosts\": No such file or directory");
    cr_expect_null(plr_hosts_load("/tmp", err, sizeof(err)));
    cr_expect_str_eq(err, "\"/tmp\" is not a regular file");
}

Test(hosts, load_refuses_a_fifo_without_blocking)
{
    char path[64], err[256] = "";

    snprintf(path, sizeof(path), "/tmp/plr_test_hosts_fifo_%d", (int)getpid());
    cr_assert_eq(mkfifo(path, 0600), 0);
    cr_expect_null(plr_hosts_load(path, err, sizeof(err)));
    unlink(path);
    cr_expect(strstr(err, "is not a regular file") != NULL, "%s", err);
}

Test(hosts, load_refuses_files_over_the_limit)
{
    char path[64], err[256] = "";
    int fd;

    write_temp("", 0, path, sizeof(path));
    fd = open(path, O_WRONLY);
    cr_assert_neq(fd, -1);
    cr_assert_eq(ftruncate(fd, PLR_HOSTS_MAX_BYTES + 1), 0);
    close(fd);
    cr_expect_null(plr_hosts_load(path, err, sizeof(err)));
    cr_expect(strstr(err, "is larger than 4194304 bytes") != NULL, "%s", err);
    fd = open(path, O_WRONLY);
    cr_assert_eq(ftruncate(fd, PLR_HOSTS_MAX_BYTES), 0);
    close(fd);
    plr_hosts_free(plr_hosts_load(path, err, sizeof(err)));
    unlink(path);
}
