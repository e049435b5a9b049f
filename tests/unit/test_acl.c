/*
 * test_acl — unit tests for the acl module (src/relay/acl.c, src/relay/acl_dest.c): CIDR sets,
 * PrivateLink id sets, the destination allowlist and its exceptions, the blocked-address guard
 * and strict host parsing.
 *
 * Malformed inputs are tables (input, a fragment the reason must contain) so each new bad form is
 * one line. The guard is tested from both sides, with the addresses of docs/reliability.md §8
 * cases 16-17 on the blocked side and their nearest neighbours on the allowed side, so an
 * off-by-one prefix shows up. Addresses are built from text with inet_pton, independently of the
 * parser under test.
 */
#include "plrelay/acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <criterion/criterion.h>

TestSuite(acl, .timeout = 10);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers --------------------------------------------------------------------------------- */

/* A socket address from text (IPv4 or IPv6) and a port; fails the test on bad text. */
static struct sockaddr_storage addr(const char *text, uint16_t port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
    } else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
    } else {
        cr_assert_fail("bad address in test: %s", text);
    }
    return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static int cidr_match(const struct plr_acl_cidrs *set, const char *text)
{
    struct sockaddr_storage ss = addr(text, 1234);
    return plr_acl_cidrs_match(set, SA(ss));
}

static int blocked(const char *text, const char **why)
{
    struct sockaddr_storage ss = addr(text, 443);
    return plr_acl_addr_blocked(SA(ss), why);
}

static int dest_addr(const struct plr_acl_dest *list, const char *text, uint16_t port,
                     const char **rule)
{
    struct sockaddr_storage ss = addr(text, port);
    return plr_acl_dest_match_addr(list, SA(ss), rule);
}

struct bad {
    const char *text;
    const char *reason; /* a fragment the reason must contain */
};

/* Build "P0,P1,...,P(n-1)" for prefix P; the caller frees. */
static char *list_of(size_t n, const char *prefix)
{
    size_t cap = n * 32 + 1, len = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%s%zu", i ? "," : "", prefix, i);
    return s;
}

/* ---- CIDR sets ------------------------------------------------------------------------------- */

Test(acl, cidrs_parses_mixed_ipv4_ipv6_list_and_matches)
{
    struct plr_acl_cidrs *set = NULL;
    char reason[256] = "";
    cr_assert_eq(plr_acl_cidrs_parse("10.0.0.0/8, 192.168.1.5, 2001:db8::/32, ::1", &set, reason,
                                     sizeof reason),
                 0, "%s", reason);
    cr_assert_eq(plr_acl_cidrs_count(set), 4);
    cr_expect(cidr_match(set, "10.0.0.0"));
    cr_expect(cidr_match(set, "10.255.255.255"));
    cr_expect(!cidr_match(set, "11.0.0.0"));
    cr_expect(!cidr_match(set, "9.255.255.255"));
    cr_expect(cidr_match(set, "192.168.1.5"));
    cr_expect(!cidr_match(set, "192.168.1.4"));
    cr_expect(!cidr_match(set, "192.168.1.6"));
    cr_expect(cidr_match(set, "2001:db8::1"));
    cr_expect(cidr_match(set, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
    cr_expect(!cidr_match(set, "2001:db9::"));
    cr_expect(cidr_match(set, "::1"));
    cr_expect(!cidr_match(set, "::2"));
    plr_acl_cidrs_free(set);
}

Test(acl, cidrs_bare_address_is_a_host_route)
{
    struct plr_acl_cidrs *set = NULL;
    cr_assert_eq(plr_acl_cidrs_parse("203.0.113.7,2001:db8::7", &set, NULL, 0), 0);
    cr_expect(cidr_match(set, "203.0.113.7"));
    cr_expect(!cidr_match(set, "203.0.113.6"));
    cr_expect(cidr_match(set, "2001:db8::7"));
    cr_expect(!cidr_match(set, "2001:db8::6"));
    plr_acl_cidrs_free(set);
}

Test(acl, cidrs_odd_prefixes_match_exactly_their_block)
{
    struct plr_acl_cidrs *set = NULL;
    cr_assert_eq(plr_acl_cidrs_parse("100.64.0.0/10, 2001:db8:8000::/33", &set, NULL, 0), 0);
    cr_expect(cidr_match(set, "100.64.0.0"));
    cr_expect(cidr_match(set, "100.127.255.255"));
    cr_expect(!cidr_match(set, "100.128.0.0"));
    cr_expect(!cidr_match(set, "100.63.255.255"));
    cr_expect(cidr_match(set, "2001:db8:8000::"));
    cr_expect(cidr_match(set, "2001:db8:ffff::1"));
    cr_expect(!cidr_match(set, "2001:db8:7fff::1"));
    plr_acl_cidrs_free(set);
}

Test(acl, cidrs_zero_prefix_matches_every_address_of_its_family_only)
{
    struct plr_acl_cidrs *v4 = NULL, *v6 = NULL;
    cr_assert_eq(plr_acl_cidrs_parse("0.0.0.0/0", &v4, NULL, 0), 0);
    cr_assert_eq(plr_acl_cidrs_parse("::/0", &v6, NULL, 0), 0);
    cr_expect(cidr_match(v4, "1.2.3.4"));
    cr_expect(cidr_match(v4, "255.255.255.255"));
    cr_expect(cidr_match(v4, "::ffff:1.2.3.4"), "a mapped client is an IPv4 client");
    cr_expect(!cidr_match(v4, "2001:db8::1"));
    cr_expect(cidr_match(v6, "2001:db8::1"));
    cr_expect(!cidr_match(v6, "1.2.3.4"), "::/0 means every IPv6 client, not IPv4 ones");
    cr_expect(!cidr_match(v6, "::ffff:1.2.3.4"));
    plr_acl_cidrs_free(v4);
    plr_acl_cidrs_free(v6);
}

Test(acl, cidrs_ipv4_mapped_client_matches_ipv4_entry)
{
    struct plr_acl_cidrs *set = NULL;
    cr_assert_eq(plr_acl_cidrs_parse("10.0.0.0/8", &set, NULL, 0), 0);
    cr_expect(cidr_match(set, "::ffff:10.1.2.3"));
    cr_expect(!cidr_match(set, "::ffff:11.1.2.3"));
    cr_expect(!cidr_match(set, "::10.1.2.3"), "only the mapped form is an IPv4 client");
    cr_expect(!cidr_match(set, "64:ff9b::a01:203"));
    plr_acl_cidrs_free(set);
}

Test(acl, cidrs_entry_written_as_mapped_ipv6_matches_ipv4_clients)
{
    struct plr_acl_cidrs *set = NULL;
    cr_assert_eq(plr_acl_cidrs_parse("::ffff:10.0.0.0/104, ::ffff:192.168.1.5", &set, NULL, 0), 0);
    cr_expect(cidr_match(set, "10.9.8.7"));
    cr_expect(cidr_match(set, "::ffff:10.9.8.7"));
    cr_expect(cidr_match(set, "192.168.1.5"));
    cr_expect(!cidr_match(set, "11.0.0.1"));
    plr_acl_cidrs_free(set);
}

Test(acl, cidrs_find_returns_the_entry_as_written)
{
    struct plr_acl_cidrs *set = NULL;
    cr_assert_eq(plr_acl_cidrs_parse(" 10.9.0.0/16 ,\t10.0.0.0/8\t", &set, NULL, 0), 0);
    struct sockaddr_storage a = addr("10.9.1.1", 0), b = addr("10.1.1.1", 0),
                            c = addr("8.8.8.8", 0);
    cr_expect_str_eq(plr_acl_cidrs_find(set, SA(a)), "10.9.0.0/16", "first match wins");
    cr_expect_str_eq(plr_acl_cidrs_find(set, SA(b)), "10.0.0.0/8");
    cr_expect_null(plr_acl_cidrs_find(set, SA(c)));
    plr_acl_cidrs_free(set);
}

Test(acl, cidrs_other_families_and_null_never_match)
{
    struct plr_acl_cidrs *set = NULL;
    cr_assert_eq(plr_acl_cidrs_parse("0.0.0.0/0, ::/0", &set, NULL, 0), 0);
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    cr_expect(!plr_acl_cidrs_match(set, (const struct sockaddr *)&un));
    cr_expect(!plr_acl_cidrs_match(set, NULL));
    struct sockaddr_storage a = addr("1.2.3.4", 0);
    cr_expect(!plr_acl_cidrs_match(NULL, SA(a)));
    cr_expect_eq(plr_acl_cidrs_count(NULL), 0);
    plr_acl_cidrs_free(set);
    plr_acl_cidrs_free(NULL);
}

Test(acl, cidrs_rejects_host_bits_and_names_the_network)
{
    struct plr_acl_cidrs *set = (struct plr_acl_cidrs *)&set; /* must be reset to NULL */
    char reason[256];
    cr_assert_eq(plr_acl_cidrs_parse("10.0.0.1/8", &set, reason, sizeof reason), -1);
    cr_expect_null(set);
    cr_expect_str_eq(reason, "item 1: \"10.0.0.1/8\": host bits set below /8 (the network is "
                             "10.0.0.0/8)");
    cr_assert_eq(plr_acl_cidrs_parse("::1, 2001:db8::1/32", &set, reason, sizeof reason), -1);
    cr_expect_str_eq(reason, "item 2: \"2001:db8::1/32\": host bits set below /32 (the network "
                             "is 2001:db8::/32)");
}

Test(acl, cidrs_reason_names_the_one_based_item)
{
    struct plr_acl_cidrs *set = NULL;
    char reason[256];
    cr_assert_eq(
        plr_acl_cidrs_parse("10.0.0.0/8, 1.2.3.4, 10.0.0.0/33", &set, reason, sizeof reason), -1);
    cr_expect_str_eq(reason, "item 3: \"10.0.0.0/33\": prefix must be 0..32");
}

Test(acl, cidrs_rejects_malformed_lists)
{
    static const struct bad cases[] = {
        {"", "empty list"},
        {" \t ", "empty list"},
        {",", "item 1: empty"},
        {"10.0.0.0/8,", "item 2: empty"},
        {",10.0.0.0/8", "item 1: empty"},
        {"10.0.0.0/8,,1.2.3.4", "item 2: empty"},
        {"10.0.0.0/8, ,1.2.3.4", "item 2: empty"},
        {"10.0.0.0/33", "prefix must be 0..32"},
        {"::/129", "prefix must be 0..128"},
        {"10.0.0.0/08", "prefix must be 0..32"},
        {"10.0.0.0/", "prefix must be"},
        {"10.0.0.0/-1", "prefix must be"},
        {"10.0.0.0/+8", "prefix must be"},
        {"10.0.0.0/8/8", "prefix must be"},
        {"10.0.0.0/0x8", "prefix must be"},
        {"10.0.0.0/99999999999", "prefix must be"},
        {"10.0.0.0 /8", "not an IP address"},
        {"10.0.0.0/ 8", "prefix must be"},
        {"10.0.0.0/8 10.1.0.0/16", "prefix must be"},
        {"10.0.0.0/8;10.1.0.0/16", "prefix must be"},
        {"01.0.0.0/8", "not an IP address"},
        {"10.0.0/8", "not an IP address"},
        {"10/8", "not an IP address"},
        {"10.0.0.0.0", "not an IP address"},
        {"256.0.0.0", "not an IP address"},
        {"0x0a.0.0.0", "not an IP address"},
        {"167772160", "not an IP address"},
        {"example.com", "not an IP address"},
        {"[::1]", "not an IP address"},
        {"fe80::1%eth0", "not an IP address"},
        {"1::2::3", "not an IP address"},
        {":::", "not an IP address"},
        {"::ffff:01.2.3.4", "not an IP address"},
        {"::ffff:1.2.3", "not an IP address"},
        {"12345::", "not an IP address"},
        {"*", "not an IP address"},
        {"2001:db8::1/64", "host bits set"},
        {"192.168.1.1/24", "host bits set below /24 (the network is 192.168.1.0/24)"},
        {"1.2.3.4/0", "host bits set below /0 (the network is 0.0.0.0/0)"},
        {"10.0.0.0/8\x01", "item 1: \"10.0.0.0/8\\x01\""},
        {"10.0.0.0/8\n", "item 1: \"10.0.0.0/8\\x0a\""},
        {"10.0.0.0/8, \"x\"", "item 2: \"\\x22x\\x22\""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct plr_acl_cidrs *set = NULL;
        char reason[256] = "";
        int rc = plr_acl_cidrs_parse(cases[i].text, &set, reason, sizeof reason);
        cr_expect_eq(rc, -1, "case %zu (%s) parsed", i, cases[i].text);
        cr_expect_null(set);
        cr_expect(strstr(reason, cases[i].reason) != NULL, "case %zu: reason \"%s\" lacks \"%s\"",
                  i, reason, cases[i].reason);
        plr_acl_cidrs_free(set);
    }
}

Test(acl, cidrs_accepts_the_item_cap_and_refuses_one_more)
{
    char *ok = malloc(PLR_ACL_MAX_ITEMS * 20);
    cr_assert_not_null(ok);
    size_t len = 0;
    for (int i = 0; i < PLR_ACL_MAX_ITEMS; i++)
        len += (size_t)snprintf(ok + len, PLR_ACL_MAX_ITEMS * 20 - len, "%s10.%d.%d.0/24",
                                i ? "," : "", i / 256, i % 256);
    struct plr_acl_cidrs *set = NULL;
    char reason[256] = "";
    cr_assert_eq(plr_acl_cidrs_parse(ok, &set, reason, sizeof reason), 0, "%s", reason);
    cr_expect_eq(plr_acl_cidrs_count(set), PLR_ACL_MAX_ITEMS);
    cr_expect(cidr_match(set, "10.3.255.9"));
    cr_expect(!cidr_match(set, "10.4.0.1"));
    plr_acl_cidrs_free(set);

    char *more = malloc(len + 16);
    cr_assert_not_null(more);
    snprintf(more, len + 16, "%s,1.1.1.1", ok);
    set = NULL;
    cr_expect_eq(plr_acl_cidrs_parse(more, &set, reason, sizeof reason), -1);
    cr_expect_null(set);
    cr_expect(strstr(reason, "more than the limit of 1024") != NULL, "%s", reason);
    free(ok);
    free(more);
}

Test(acl, lists_refuse_text_over_the_byte_cap)
{
    size_t n = PLR_ACL_MAX_TEXT_BYTES + 1;
    char *text = malloc(n + 1);
    cr_assert_not_null(text);
    memset(text, ' ', n);
    text[n] = '\0';
    struct plr_acl_cidrs *set = NULL;
    char reason[256] = "";
    cr_expect_eq(plr_acl_cidrs_parse(text, &set, reason, sizeof reason), -1);
    cr_expect(strstr(reason, "longer than") != NULL, "%s", reason);
    free(text);
}

Test(acl, reasons_fit_small_buffers_and_quote_long_items_truncated)
{
    struct plr_acl_cidrs *set = NULL;
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    cr_expect_eq(plr_acl_cidrs_parse("bogus", &set, tiny, sizeof tiny), -1);
    cr_expect_eq(strlen(tiny), sizeof tiny - 1, "truncated and terminated");
    cr_expect_eq(plr_acl_cidrs_parse("bogus", &set, NULL, 0), -1, "NULL reason is fine");

    char item[300];
    memset(item, 'a', sizeof item - 1);
    item[sizeof item - 1] = '\0';
    char reason[512];
    cr_expect_eq(plr_acl_cidrs_parse(item, &set, reason, sizeof reason), -1);
    cr_expect(strstr(reason, "...\"") != NULL, "long item shown truncated: %s", reason);
    cr_expect(strlen(reason) < 200, "%s", reason);
}

/* ---- PrivateLink id sets --------------------------------------------------------------------- */

static int id_match(const struct plr_acl_ids *set, const char *id, size_t len)
{
    return plr_acl_ids_match(set, (const uint8_t *)id, len);
}

Test(acl, ids_match_exact_bytes_only)
{
    struct plr_acl_ids *set = NULL;
    char reason[256] = "";
    cr_assert_eq(
        plr_acl_ids_parse("ep-bp1i4db71e6adaa29718, ep-bp1abc", "ep-", &set, reason, sizeof reason),
        0, "%s", reason);
    cr_expect_eq(plr_acl_ids_count(set), 2);
    cr_expect(id_match(set, "ep-bp1abc", 9));
    cr_expect(id_match(set, "ep-bp1i4db71e6adaa29718", 23));
    cr_expect(!id_match(set, "EP-BP1ABC", 9), "no case folding");
    cr_expect(!id_match(set, "ep-bp1ab", 8), "no prefix match");
    cr_expect(!id_match(set, "ep-bp1abcd", 10));
    cr_expect(!id_match(set, " ep-bp1abc", 10), "no trimming");
    cr_expect(!id_match(set, "", 0));
    cr_expect(!id_match(set, NULL, 9));
    cr_expect(!id_match(NULL, "ep-bp1abc", 9));
    plr_acl_ids_free(set);
}

Test(acl, ids_with_nul_newline_or_non_ascii_bytes_never_match)
{
    struct plr_acl_ids *set = NULL;
    cr_assert_eq(plr_acl_ids_parse("ep-bp1abc", NULL, &set, NULL, 0), 0);
    cr_expect(!id_match(set, "ep-bp1abc\0", 10));
    cr_expect(!id_match(set, "ep-bp1\0abc", 10));
    cr_expect(!id_match(set, "ep-bp1abc\n", 10));
    cr_expect(!id_match(set, "ep-bp1ab\xc3\xa7", 10));
    cr_expect(!id_match(set, "\0p-bp1abc", 9));
    plr_acl_ids_free(set);
}

Test(acl, ids_prefix_tells_the_three_kinds_apart)
{
    struct plr_acl_ids *set = NULL;
    char reason[256];
    cr_expect_eq(plr_acl_ids_parse("ep-1, vpc-bp1x", "ep-", &set, reason, sizeof reason), -1);
    cr_expect_str_eq(reason, "item 2: \"vpc-bp1x\": expected an id starting with \"ep-\"");
    cr_expect_eq(plr_acl_ids_parse("epsrv-bp1x", "ep-", &set, reason, sizeof reason), -1);
    cr_expect_eq(plr_acl_ids_parse("epsrv-bp1x", "epsrv-", &set, NULL, 0), 0);
    plr_acl_ids_free(set);
    cr_expect_eq(plr_acl_ids_parse("vpc-bp1x", "vpc-", &set, NULL, 0), 0);
    plr_acl_ids_free(set);
    cr_expect_eq(plr_acl_ids_parse("anything-Goes-9", NULL, &set, NULL, 0), 0, "NULL: no check");
    plr_acl_ids_free(set);
}

Test(acl, ids_accept_128_characters_and_refuse_129)
{
    char id[PLR_ACL_ID_MAX_BYTES + 2];
    memset(id, 'a', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    struct plr_acl_ids *set = NULL;
    char reason[256];
    cr_expect_eq(plr_acl_ids_parse(id, NULL, &set, reason, sizeof reason), -1);
    cr_expect(strstr(reason, "longer than 128") != NULL, "%s", reason);
    id[PLR_ACL_ID_MAX_BYTES] = '\0';
    cr_assert_eq(plr_acl_ids_parse(id, NULL, &set, reason, sizeof reason), 0, "%s", reason);
    cr_expect(id_match(set, id, PLR_ACL_ID_MAX_BYTES));
    plr_acl_ids_free(set);
}

Test(acl, ids_reject_malformed_lists)
{
    static const struct bad cases[] = {
        {"", "empty list"},
        {"ep-1,", "item 2: empty"},
        {"ep-1,,ep-2", "item 2: empty"},
        {"ep_1", "only letters, digits and '-'"},
        {"ep 1", "only letters, digits and '-'"},
        {"ep-1;ep-2", "only letters, digits and '-'"},
        {"ep-\xc3\xa9", "only letters, digits and '-'"},
        {"ep-1\x7f", "only letters, digits and '-'"},
        {"ep.1", "only letters, digits and '-'"},
        {"\"ep-1\"", "only letters, digits and '-'"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct plr_acl_ids *set = NULL;
        char reason[256] = "";
        cr_expect_eq(plr_acl_ids_parse(cases[i].text, NULL, &set, reason, sizeof reason), -1,
                     "case %zu (%s) parsed", i, cases[i].text);
        cr_expect_null(set);
        cr_expect(strstr(reason, cases[i].reason) != NULL, "case %zu: reason \"%s\" lacks \"%s\"",
                  i, reason, cases[i].reason);
    }
}

Test(acl, ids_refuse_more_than_the_item_cap)
{
    char *text = list_of(PLR_ACL_MAX_ITEMS + 1, "ep-");
    struct plr_acl_ids *set = NULL;
    char reason[256];
    cr_expect_eq(plr_acl_ids_parse(text, "ep-", &set, reason, sizeof reason), -1);
    cr_expect(strstr(reason, "1025 items") != NULL, "%s", reason);
    free(text);
    text = list_of(PLR_ACL_MAX_ITEMS, "ep-");
    cr_expect_eq(plr_acl_ids_parse(text, "ep-", &set, reason, sizeof reason), 0, "%s", reason);
    cr_expect(id_match(set, "ep-1023", 7));
    plr_acl_ids_free(set);
    free(text);
}

/* ---- destination allowlist ------------------------------------------------------------------- */

static struct plr_acl_dest *dest(const char *text)
{
    struct plr_acl_dest *list = NULL;
    char reason[256] = "";
    cr_assert_eq(plr_acl_dest_parse(text, &list, reason, sizeof reason), 0, "%s: %s", text, reason);
    return list;
}

Test(acl, dest_parses_the_issue_example)
{
    struct plr_acl_dest *list = dest("hooks.slack.com:443, *.dingtalk.com:443, "
                                     "events.pagerduty.com:443, 203.0.113.0/24:443");
    const char *rule = NULL;
    cr_expect_eq(plr_acl_dest_count(list), 4);
    cr_expect(plr_acl_dest_match_name(list, "hooks.slack.com", 443, &rule));
    cr_expect_str_eq(rule, "hooks.slack.com:443");
    cr_expect(plr_acl_dest_match_name(list, "oapi.dingtalk.com", 443, &rule));
    cr_expect_str_eq(rule, "*.dingtalk.com:443");
    cr_expect(dest_addr(list, "203.0.113.77", 443, &rule));
    cr_expect_str_eq(rule, "203.0.113.0/24:443");
    cr_expect(!plr_acl_dest_match_name(list, "evil.example", 443, &rule));
    cr_expect_str_eq(rule, PLR_ACL_DEST_NO_MATCH);
    cr_expect_str_eq(rule, "no allow_destinations entry matches");
    cr_expect(!dest_addr(list, "203.0.114.1", 443, &rule));
    cr_expect_str_eq(rule, PLR_ACL_DEST_NO_MATCH);
    plr_acl_dest_free(list);
}

Test(acl, dest_exact_name_ignores_case_and_one_trailing_dot)
{
    struct plr_acl_dest *list = dest("Hooks.Slack.com.:443");
    cr_expect(plr_acl_dest_match_name(list, "hooks.slack.com", 443, NULL));
    cr_expect(plr_acl_dest_match_name(list, "HOOKS.SLACK.COM.", 443, NULL));
    cr_expect(!plr_acl_dest_match_name(list, "hooks.slack.com..", 443, NULL));
    cr_expect(!plr_acl_dest_match_name(list, "a.hooks.slack.com", 443, NULL));
    cr_expect(!plr_acl_dest_match_name(list, "slack.com", 443, NULL));
    cr_expect(!plr_acl_dest_match_name(list, "hooks.slack.co", 443, NULL));
    cr_expect(!plr_acl_dest_match_name(list, "hooks.slack.comm", 443, NULL));
    plr_acl_dest_free(list);
}

Test(acl, dest_suffix_matches_only_names_strictly_below_it)
{
    struct plr_acl_dest *list = dest("*.dingtalk.com:443");
    cr_expect(plr_acl_dest_match_name(list, "oapi.dingtalk.com", 443, NULL));
    cr_expect(plr_acl_dest_match_name(list, "a.b.dingtalk.com", 443, NULL));
    cr_expect(plr_acl_dest_match_name(list, "A.DingTalk.COM.", 443, NULL));
    cr_expect(!plr_acl_dest_match_name(list, "dingtalk.com", 443, NULL), "not the apex");
    cr_expect(!plr_acl_dest_match_name(list, "dingtalk.com.", 443, NULL));
    cr_expect(!plr_acl_dest_match_name(list, "evildingtalk.com", 443, NULL));
    cr_expect(!plr_acl_dest_match_name(list, "oapi.dingtalk.com.evil.com", 443, NULL));
    cr_expect(!plr_acl_dest_match_name(list, ".dingtalk.com", 443, NULL), "invalid name");
    cr_expect(!plr_acl_dest_match_name(list, "a..dingtalk.com", 443, NULL), "invalid name");
    cr_expect(!plr_acl_dest_match_name(list, "*.dingtalk.com", 443, NULL), "a wildcard asked");
    cr_expect(!plr_acl_dest_match_name(list, "oapi.dingtalk.com", 80, NULL), "wrong port");
    plr_acl_dest_free(list);
}

Test(acl, dest_port_must_match_exactly)
{
    struct plr_acl_dest *list = dest("a.example:443, a.example:8443, 198.51.100.1:80");
    cr_expect(plr_acl_dest_match_name(list, "a.example", 443, NULL));
    cr_expect(plr_acl_dest_match_name(list, "a.example", 8443, NULL));
    cr_expect(!plr_acl_dest_match_name(list, "a.example", 80, NULL));
    cr_expect(!plr_acl_dest_match_name(list, "a.example", 0, NULL));
    cr_expect(dest_addr(list, "198.51.100.1", 80, NULL));
    cr_expect(!dest_addr(list, "198.51.100.1", 81, NULL));
    cr_expect(!dest_addr(list, "198.51.100.1", 0, NULL));
    plr_acl_dest_free(list);
}

Test(acl, dest_ipv6_entries_use_brackets_around_address_and_prefix)
{
    const char *rule = NULL;
    struct plr_acl_dest *list = dest("[2001:db8::/32]:443, [2001:db8:1::5]:8443");
    cr_expect(dest_addr(list, "2001:db8:ffff::1", 443, &rule));
    cr_expect_str_eq(rule, "[2001:db8::/32]:443");
    cr_expect(!dest_addr(list, "2001:db9::1", 443, NULL));
    cr_expect(dest_addr(list, "2001:db8:1::5", 8443, &rule));
    cr_expect_str_eq(rule, "[2001:db8:1::5]:8443");
    cr_expect(!dest_addr(list, "2001:db8:1::6", 8443, NULL));
    plr_acl_dest_free(list);
}

Test(acl, dest_ipv4_mapped_address_matches_ipv4_entry)
{
    struct plr_acl_dest *list = dest("203.0.113.0/24:443");
    cr_expect(dest_addr(list, "::ffff:203.0.113.9", 443, NULL));
    cr_expect(!dest_addr(list, "::ffff:203.0.114.9", 443, NULL));
    plr_acl_dest_free(list);
}

Test(acl, dest_names_and_addresses_never_match_each_other)
{
    struct plr_acl_dest *list = dest("203.0.113.0/24:443, localhost:443");
    cr_expect(!plr_acl_dest_match_name(list, "203.0.113.5", 443, NULL), "a literal is no name");
    cr_expect(!dest_addr(list, "127.0.0.1", 443, NULL), "a name entry matches no address");
    cr_expect(plr_acl_dest_match_name(list, "localhost", 443, NULL));
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    const char *rule = NULL;
    cr_expect(!plr_acl_dest_match_addr(list, (const struct sockaddr *)&un, &rule));
    cr_expect_str_eq(rule, PLR_ACL_DEST_NO_MATCH);
    cr_expect(!plr_acl_dest_match_addr(list, NULL, NULL));
    cr_expect(!plr_acl_dest_match_name(list, NULL, 443, NULL));
    cr_expect(!plr_acl_dest_match_name(NULL, "localhost", 443, &rule));
    cr_expect_str_eq(rule, PLR_ACL_DEST_NO_MATCH);
    plr_acl_dest_free(list);
    plr_acl_dest_free(NULL);
}

Test(acl, dest_rejects_malformed_entries)
{
    static const struct bad cases[] = {
        {"", "empty list"},
        {"a.example:443,", "item 2: empty"},
        {"hooks.slack.com", "missing \":PORT\""},
        {"hooks.slack.com:*", "port must be explicit"},
        {"*.slack.com:*", "port must be explicit"},
        {"hooks.slack.com:", "port must be 1..65535"},
        {"hooks.slack.com:0", "port must be 1..65535"},
        {"hooks.slack.com:65536", "port must be 1..65535"},
        {"hooks.slack.com:0443", "port must be 1..65535"},
        {"hooks.slack.com:+443", "port must be 1..65535"},
        {"hooks.slack.com:-1", "port must be 1..65535"},
        {"hooks.slack.com: 443", "port must be 1..65535"},
        {"hooks.slack.com:443x", "port must be 1..65535"},
        {"hooks.slack.com:0x1bb", "port must be 1..65535"},
        {"hooks.slack.com:4430000000", "port must be 1..65535"},
        {":443", "missing host"},
        {"2001:db8::1:443", "IPv6 addresses go in brackets"},
        {"[2001:db8::1]", "missing \":PORT\" after ']'"},
        {"[2001:db8::1]443", "missing \":PORT\" after ']'"},
        {"[2001:db8::1:443", "unbalanced '['"},
        {"[]:443", "missing host"},
        {"[1.2.3.4]:443", "brackets are only for IPv6"},
        {"[example.com]:443", "brackets are only for IPv6"},
        {"[2001:db8::1/32]:443", "host bits set"},
        {"[2001:db8::/129]:443", "prefix must be 0..128"},
        {"[fe80::1%eth0]:443", "not an IP address"},
        {"*:443", "wildcard must be a leading"},
        {"*.:443", "wildcard must be a leading"},
        {"**.a.com:443", "wildcard must be a leading"},
        {"*.*.a.com:443", "wildcard must be a leading"},
        {"a.*.com:443", "wildcard must be a leading"},
        {"*a.com:443", "wildcard must be a leading"},
        {"*.a..com:443", "wildcard must be a leading"},
        {"*.127.1:443", "wildcard must be a leading"},
        {"127.1:80", "not a valid host name or canonical IP address"},
        {"2852039166:80", "not a valid host name"},
        {"0x7f000001:80", "not a valid host name"},
        {"0251.0376.0251.0376:80", "not a valid host name"},
        {"foo.123:80", "not a valid host name"},
        {"1.2.3.4.:80", "not a valid host name"},
        {"-a.com:443", "not a valid host name"},
        {"a-.com:443", "not a valid host name"},
        {"a_b.com:443", "not a valid host name"},
        {"a..com:443", "not a valid host name"},
        {"a.com..:443", "not a valid host name"},
        {"user@a.com:443", "not a valid host name"},
        {"a.com/x:443", "not an IP address"},
        {"203.0.113.1/24:443", "host bits set"},
        {"203.0.113.0/33:443", "prefix must be 0..32"},
        {"a.com:443:443", "IPv6 addresses go in brackets"},
        {"hooks.slack.com:443 x", "port must be"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct plr_acl_dest *list = NULL;
        char reason[256] = "";
        cr_expect_eq(plr_acl_dest_parse(cases[i].text, &list, reason, sizeof reason), -1,
                     "case %zu (%s) parsed", i, cases[i].text);
        cr_expect_null(list);
        cr_expect(strstr(reason, cases[i].reason) != NULL, "case %zu: reason \"%s\" lacks \"%s\"",
                  i, reason, cases[i].reason);
    }
}

Test(acl, dest_reason_names_the_item)
{
    struct plr_acl_dest *list = NULL;
    char reason[256];
    cr_expect_eq(plr_acl_dest_parse("a.example:443, b.example:*", &list, reason, sizeof reason),
                 -1);
    cr_expect_str_eq(reason, "item 2: \"b.example:*\": port must be explicit: \"*\" is not "
                             "allowed");
}

Test(acl, dest_accepts_label_and_name_length_limits)
{
    char label63[64], name[300];
    memset(label63, 'a', 63);
    label63[63] = '\0';
    snprintf(name, sizeof name, "%s.example:443", label63);
    struct plr_acl_dest *list = dest(name);
    snprintf(name, sizeof name, "%s.example", label63);
    cr_expect(plr_acl_dest_match_name(list, name, 443, NULL));
    plr_acl_dest_free(list);

    snprintf(name, sizeof name, "a%s.example:443", label63);
    char reason[256];
    cr_expect_eq(plr_acl_dest_parse(name, &list, reason, sizeof reason), -1, "64-byte label");
}

/* ---- exceptions and the guard ---------------------------------------------------------------- */

Test(acl, exceptions_open_a_hole_for_exactly_that_address_and_port)
{
    struct plr_acl_dest *ex = NULL;
    char reason[256] = "";
    cr_assert_eq(
        plr_acl_exceptions_parse("192.168.10.5:8443, [fd00::/64]:443", &ex, reason, sizeof reason),
        0, "%s", reason);
    struct sockaddr_storage hit = addr("192.168.10.5", 8443), port = addr("192.168.10.5", 8444),
                            other = addr("192.168.10.6", 8443),
                            mapped = addr("::ffff:192.168.10.5", 8443),
                            v6 = addr("fd00::1234", 443), meta = addr("169.254.169.254", 80);
    const char *why = NULL;
    cr_expect(plr_acl_addr_allowed_exception(ex, SA(hit), &why));
    cr_expect_str_eq(why, "192.168.10.5:8443");
    cr_expect(plr_acl_addr_permitted(ex, SA(hit), &why));
    cr_expect_str_eq(why, "192.168.10.5:8443", "permitted through the exception");
    cr_expect(plr_acl_addr_permitted(ex, SA(mapped), NULL));
    cr_expect(plr_acl_addr_permitted(ex, SA(v6), NULL));
    cr_expect(!plr_acl_addr_permitted(ex, SA(port), &why));
    cr_expect_str_eq(why, "private 192.168.0.0/16");
    cr_expect(!plr_acl_addr_permitted(ex, SA(other), NULL));
    cr_expect(!plr_acl_addr_permitted(ex, SA(meta), &why));
    cr_expect_str_eq(why, "link-local 169.254.0.0/16 (cloud metadata)");
    cr_expect(!plr_acl_addr_allowed_exception(ex, SA(other), &why));
    cr_expect_null(why);
    plr_acl_dest_free(ex);
}

Test(acl, permitted_without_exceptions_follows_the_guard)
{
    struct sockaddr_storage pub = addr("8.8.8.8", 443), lo = addr("127.0.0.1", 443);
    const char *why = "unset";
    cr_expect(plr_acl_addr_permitted(NULL, SA(pub), &why));
    cr_expect_null(why);
    cr_expect(!plr_acl_addr_permitted(NULL, SA(lo), &why));
    cr_expect_str_eq(why, "loopback 127.0.0.0/8");
}

Test(acl, exceptions_refuse_names_and_wildcards)
{
    static const struct bad cases[] = {
        {"internal.example:8443", "not names"},
        {"*.internal.example:8443", "not names"},
        {"192.168.10.5", "missing \":PORT\""},
        {"192.168.10.5:*", "port must be explicit"},
        {"192.168.10.5/24:443", "host bits set"},
        {"127.1:80", "not a valid host name or canonical IP address"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct plr_acl_dest *ex = NULL;
        char reason[256] = "";
        cr_expect_eq(plr_acl_exceptions_parse(cases[i].text, &ex, reason, sizeof reason), -1,
                     "case %zu (%s) parsed", i, cases[i].text);
        cr_expect_null(ex);
        cr_expect(strstr(reason, cases[i].reason) != NULL, "case %zu: reason \"%s\" lacks \"%s\"",
                  i, reason, cases[i].reason);
    }
}

Test(acl, guard_blocks_internal_metadata_and_special_addresses)
{
    static const struct {
        const char *addr;
        const char *why; /* a fragment of *why */
    } cases[] = {
        {"0.0.0.0", "0.0.0.0/8"},
        {"0.1.2.3", "0.0.0.0/8"},
        {"10.0.0.1", "private 10.0.0.0/8"},
        {"10.255.255.255", "private 10.0.0.0/8"},
        {"100.64.0.0", "100.64.0.0/10"},
        {"100.100.100.200", "Alibaba Cloud metadata"},
        {"100.100.2.136", "100.64.0.0/10"},
        {"100.100.2.138", "100.64.0.0/10"},
        {"100.127.255.255", "100.64.0.0/10"},
        {"127.0.0.1", "loopback 127.0.0.0/8"},
        {"127.255.255.254", "loopback"},
        {"169.254.169.254", "link-local 169.254.0.0/16 (cloud metadata)"},
        {"169.254.0.23", "link-local"},
        {"172.16.0.1", "private 172.16.0.0/12"},
        {"172.31.255.255", "private 172.16.0.0/12"},
        {"192.0.0.1", "192.0.0.0/24"},
        {"192.0.0.255", "192.0.0.0/24"},
        {"192.168.1.1", "private 192.168.0.0/16"},
        {"198.18.0.1", "198.18.0.0/15"},
        {"198.19.255.255", "198.18.0.0/15"},
        {"224.0.0.1", "multicast 224.0.0.0/4"},
        {"239.255.255.255", "multicast"},
        {"240.0.0.1", "reserved 240.0.0.0/4"},
        {"255.255.255.254", "reserved 240.0.0.0/4"},
        {"255.255.255.255", "limited broadcast"},
        {"::", "unspecified ::"},
        {"::1", "loopback ::1"},
        {"fe80::1", "link-local fe80::/10"},
        {"febf:ffff::1", "link-local fe80::/10"},
        {"fec0::1", "site-local"},
        {"fc00::1", "unique local fc00::/7"},
        {"fd00:ec2::254", "unique local"},
        {"fdff:ffff::1", "unique local"},
        {"ff02::1", "multicast ff00::/8"},
        {"ff0e::1", "multicast"},
        {"::ffff:169.254.169.254", "link-local 169.254.0.0/16"},
        {"::ffff:127.0.0.1", "loopback 127.0.0.0/8"},
        {"::ffff:0.0.0.0", "0.0.0.0/8"},
        {"::ffff:100.100.100.200", "100.64.0.0/10"},
        {"::169.254.169.254", "link-local 169.254.0.0/16"},
        {"::127.0.0.1", "loopback 127.0.0.0/8"},
        {"::0.0.0.2", "0.0.0.0/8"},
        {"64:ff9b::a9fe:a9fe", "link-local 169.254.0.0/16"},
        {"64:ff9b::7f00:1", "loopback 127.0.0.0/8"},
        {"64:ff9b::10.0.0.1", "private 10.0.0.0/8"},
        {"2002:a9fe:a9fe::1", "link-local 169.254.0.0/16"},
        {"2002:7f00:1::", "loopback 127.0.0.0/8"},
        {"2002:c0a8:0101:ffff::1", "private 192.168.0.0/16"},
        {"64:ff9b:1::a9fe:a9fe", "local-use NAT64"},
        {"64:ff9b:1:ffff::8.8.8.8", "local-use NAT64"},
        {"::ffff:0:a9fe:a9fe", "IPv4-translated"},
        {"::ffff:0:808:808", "IPv4-translated"},
        {"2001::1", "Teredo"},
        {"2001:0:ffff::1", "Teredo"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *why = NULL;
        cr_expect(blocked(cases[i].addr, &why), "%s not blocked", cases[i].addr);
        cr_expect(why != NULL && strstr(why, cases[i].why) != NULL, "%s: why \"%s\" lacks \"%s\"",
                  cases[i].addr, why ? why : "(null)", cases[i].why);
    }
}

Test(acl, guard_allows_public_and_documentation_addresses_next_to_blocked_ranges)
{
    static const char *const cases[] = {
        "1.1.1.1",          "8.8.8.8",         "9.255.255.255",      "11.0.0.0",
        "1.0.0.0",          "100.63.255.255",  "100.128.0.0",        "126.255.255.255",
        "128.0.0.0",        "169.253.255.255", "169.255.0.0",        "172.15.255.255",
        "172.32.0.0",       "191.255.255.255", "192.0.1.0",          "192.0.2.1",
        "198.51.100.1",     "203.0.113.1",     "192.167.255.255",    "192.169.0.0",
        "198.17.255.255",   "198.20.0.0",      "223.255.255.255",    "2001:db8::1",
        "2606:4700::1111",  "2001:1::1",       "::ffff:8.8.8.8",     "::8.8.8.8",
        "64:ff9b::808:808", "2002:808:808::1", "fbff:ffff::1",       "fe7f::1",
        "2400:3200::1",     "64:ff9a::1",      "::ffff:203.0.113.5", "::2:0:0",
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *why = "unset";
        cr_expect(!blocked(cases[i], &why), "%s blocked: %s", cases[i], why ? why : "");
        cr_expect_null(why, "%s", cases[i]);
    }
}

Test(acl, guard_fails_closed_on_other_families_and_ignores_ports)
{
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    const char *why = NULL;
    cr_expect(plr_acl_addr_blocked((const struct sockaddr *)&un, &why));
    cr_expect_str_eq(why, "not an IPv4 or IPv6 address");
    cr_expect(plr_acl_addr_blocked(NULL, NULL));
    struct sockaddr_storage a = addr("127.0.0.1", 0), b = addr("127.0.0.1", 65535),
                            c = addr("8.8.8.8", 0);
    cr_expect(plr_acl_addr_blocked(SA(a), NULL));
    cr_expect(plr_acl_addr_blocked(SA(b), NULL));
    cr_expect(!plr_acl_addr_blocked(SA(c), NULL));
}

/* ---- strict host parsing --------------------------------------------------------------------- */

Test(acl, parse_host_accepts_canonical_literals)
{
    static const char *const v4[] = {"1.2.3.4", "0.0.0.0", "255.255.255.255", "169.254.169.254",
                                     "10.0.0.1"};
    static const char *const v6[] = {"::1",
                                     "::",
                                     "2001:db8::1",
                                     "FE80::1",
                                     "::ffff:169.254.169.254",
                                     "1:2:3:4:5:6:7:8",
                                     "1:2:3:4:5:6:1.2.3.4",
                                     "0001:0db8::0001",
                                     "64:ff9b::a9fe:a9fe"};
    for (size_t i = 0; i < ARRAY_LEN(v4); i++) {
        struct sockaddr_storage ss, want = addr(v4[i], 0);
        memset(&ss, 0xa5, sizeof ss);
        cr_expect_eq(plr_acl_parse_host(v4[i], &ss), PLR_ACL_HOST_LITERAL, "%s", v4[i]);
        cr_expect_eq(ss.ss_family, AF_INET, "%s", v4[i]);
        cr_expect(memcmp(&ss, &want, sizeof(struct sockaddr_in)) == 0, "%s bytes/port", v4[i]);
    }
    for (size_t i = 0; i < ARRAY_LEN(v6); i++) {
        struct sockaddr_storage ss, want = addr(v6[i], 0);
        cr_expect_eq(plr_acl_parse_host(v6[i], &ss), PLR_ACL_HOST_LITERAL, "%s", v6[i]);
        cr_expect_eq(ss.ss_family, AF_INET6, "%s", v6[i]);
        cr_expect(memcmp(&ss, &want, sizeof(struct sockaddr_in6)) == 0, "%s bytes/port", v6[i]);
    }
    cr_expect_eq(plr_acl_parse_host("127.0.0.1", NULL), PLR_ACL_HOST_LITERAL, "out may be NULL");
}

Test(acl, parse_host_accepts_rfc1123_names)
{
    char label63[64], long_name[300], long_dot[310];
    memset(label63, 'a', 63);
    label63[63] = '\0';
    /* 4 * 63 + 3 dots = 255: trim to 253 by shortening the last label to 61. */
    snprintf(long_name, sizeof long_name, "%s.%s.%s.%.61s", label63, label63, label63, label63);
    snprintf(long_dot, sizeof long_dot, "%s.", long_name);
    cr_assert_eq(strlen(long_name), 253);
    const char *const names[] = {
        "example.com",
        "example.com.",
        "a",
        "localhost",
        "hooks.slack.com",
        "xn--bcher-kva.example",
        "1e100.net",
        "123.example.com",
        "a-b.c",
        "A.B.C",
        "0xg",
        "foo.0x1g",
        "x.y1",
        "a.1b",
        "ep-1.epsrv-2.cn-hangzhou.privatelink.aliyuncs.com",
        label63,
        long_name,
        long_dot,
    };
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        struct sockaddr_storage ss;
        memset(&ss, 0xa5, sizeof ss);
        cr_expect_eq(plr_acl_parse_host(names[i], &ss), PLR_ACL_HOST_NAME, "%s", names[i]);
        cr_expect_eq(ss.ss_family, 0, "out zeroed for a name: %s", names[i]);
        struct in_addr ia;
        cr_expect_eq(inet_aton(names[i], &ia), 0, "inet_aton would read %s as a number", names[i]);
    }
}

Test(acl, parse_host_refuses_non_canonical_numbers_and_bad_names)
{
    char label64[65], name254[300];
    memset(label64, 'a', 64);
    label64[64] = '\0';
    memset(name254, 'a', 254);
    for (size_t i = 1; i < 254; i += 2)
        name254[i] = '.';
    name254[254] = '\0';
    name254[253] = 'a';
    const char *const cases[] = {
        /* reliability.md §5 and §8 case 16 */
        "2852039166", "0251.0376.0251.0376", "0xa9fea9fe", "169.254.43518", "127.1", "1.2.3.4.",
        "01.2.3.4", "foo.123",
        /* more numeric shorthand inet_aton would interpret */
        "0", "127.0.1", "0x7f.0.0.1", "0X7F000001", "0x7f.1", "0177.0.0.1", "1.2.3.04", "1.2.3.256",
        "1.2.3.4.5", "1.2.3", "foo.0x1f", "foo.0x", "a.b.0xFF", "4294967296", "1.2.3.-4",
        "1.2.3.+4", "1.2.3.4/32",
        /* names that break RFC 1123 */
        "", ".", "..", "a..b", ".a", "-a.com", "a-.com", "a.-b", "a_b.com", "a b", "a\tb",
        "example.com..", "*.example.com", "example.com:443", "user@example.com", "ex%61mple.com",
        "\xc3\xa9.com", "a\x7f", label64, name254,
        /* IPv6 forms that are not plain literals */
        "[::1]", "fe80::1%eth0", "fe80::1%25eth0", "::1:", "1::2::3", ":::", "::ffff:01.2.3.4",
        "::ffff:1.2.3", "::ffff:1.2.3.4.5", "12345::", "1:2:3:4:5:6:7:8:9", "::g",
        /* whitespace is never trimmed here */
        " 127.0.0.1", "127.0.0.1 ", "127.0.0.1\n", " example.com"};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct sockaddr_storage ss;
        memset(&ss, 0xa5, sizeof ss);
        cr_expect_eq(plr_acl_parse_host(cases[i], &ss), PLR_ACL_HOST_INVALID, "case %zu: \"%s\"", i,
                     cases[i]);
        cr_expect_eq(ss.ss_family, 0, "out zeroed: %s", cases[i]);
    }
    cr_expect_eq(plr_acl_parse_host(NULL, NULL), PLR_ACL_HOST_INVALID);
}

Test(acl, parse_host_refuses_overlong_input_without_reading_past_the_limit)
{
    size_t n = 100000;
    char *big = malloc(n + 1);
    cr_assert_not_null(big);
    memset(big, 'a', n);
    big[n] = '\0';
    cr_expect_eq(plr_acl_parse_host(big, NULL), PLR_ACL_HOST_INVALID);
    free(big);
}
