/*
 * test_fwdproxy — unit tests for the forward-proxy request-head parser and its builders
 * (src/relay/fwdproxy.c, src/relay/fwdproxy_out.c).
 *
 * Covers the request shapes Watcher sends through a proxy (docs/anchors-and-es-traffic.md §2.1:
 * CONNECT with a pipelined ClientHello, absolute-form http:// with keep-alive), the parser side of
 * docs/reliability.md §8 cases 14-16 and 18 (the malformed table, numeric host forms flagged for
 * the guard, limits that never wait), the chunking property (every prefix gives AGAIN or the
 * one-shot verdict), and the replies and origin-form rewrite byte for byte. Every parse runs on
 * an exact-size heap copy, so ASan sees any read past len.
 */
#include "plrelay/fwdproxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

TestSuite(fwdproxy, .timeout = 10);

/* A string literal as (bytes, length): literals may hold NUL. */
#define LIT(s) (const uint8_t *)(s), (sizeof(s) - 1)

struct verdict {
    enum plr_fwd_result r;
    size_t consumed;
    int status;
    const char *reason;
};

static struct plr_fwd_request req; /* 4 KiB: keep it off the test's stack */

/* Parse an exact-size heap copy of in[0..n) with limit max (0: default) into req. */
static struct verdict run_max(const uint8_t *in, size_t n, size_t max)
{
    struct verdict v;
    uint8_t *copy = malloc(n != 0 ? n : 1);
    cr_assert_not_null(copy);
    if (n != 0)
        memcpy(copy, in, n);
    v.r = plr_fwd_parse(copy, n, max, &v.consumed, &req, &v.status, &v.reason);
    free(copy);
    cr_assert_not_null(v.reason);
    return v;
}

static struct verdict run(const uint8_t *in, size_t n)
{
    return run_max(in, n, 0);
}

/* A text view of req->fields[i] (name or value) for comparisons; head must be the parsed bytes. */
static bool span_is(const uint8_t *head, size_t off, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(head + off, want, len) == 0;
}

/* A head of `fields` lines "X-Fnnn: v" after a CONNECT line, for the field-count limit. */
static size_t head_with_fields(char *buf, size_t cap, unsigned fields)
{
    size_t n = (size_t)snprintf(buf, cap, "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test\r\n");
    for (unsigned i = 1; i < fields; i++)
        n += (size_t)snprintf(buf + n, cap - n, "X-F%03u: v\r\n", i);
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    cr_assert_lt(n, cap);
    return n;
}

/* ---- CONNECT --------------------------------------------------------------------------------- */

Test(fwdproxy, connect_keeps_pipelined_client_hello_out_of_the_head)
{
    static const char head[] = "CONNECT hooks.slack.com:443 HTTP/1.1\r\n"
                               "Host: hooks.slack.com:443\r\n"
                               "User-Agent: Apache-HttpClient/4.5.14 (Java/17)\r\n\r\n";
    uint8_t in[sizeof head - 1 + 6];
    memcpy(in, head, sizeof head - 1);
    memcpy(in + sizeof head - 1, "\x16\x03\x01\x02\x00\x01", 6); /* start of a ClientHello */

    struct verdict v = run(in, sizeof in);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(v.consumed, sizeof head - 1);
    cr_assert_eq(req.head_len, sizeof head - 1);
    cr_assert_eq(v.status, 0);
    cr_assert_str_eq(v.reason, "ok");
    cr_assert_eq(req.kind, PLR_FWD_KIND_CONNECT);
    cr_assert_eq(req.method, PLR_FWD_METHOD_CONNECT);
    cr_assert_str_eq(req.host, "hooks.slack.com");
    cr_assert_eq(req.host_len, 15);
    cr_assert_eq(req.host_kind, PLR_FWD_HOST_NAME);
    cr_assert_eq(req.port, 443);
    cr_assert(req.port_explicit);
    cr_assert_eq(req.http_minor, 1);
    cr_assert_eq(req.field_count, 2);
    cr_assert_eq(req.host_field, 0);
    cr_assert_eq(req.proxy_auth_field, -1);
    cr_assert_eq(req.content_length, -1);
    cr_assert_not(req.chunked);
    cr_assert_eq(req.path_len, 0);
    cr_assert(span_is(in, req.target_off, req.target_len, "hooks.slack.com:443"));
}

Test(fwdproxy, connect_tolerates_host_header_without_port)
{
    struct verdict v =
        run(LIT("CONNECT api.example.com:8443 HTTP/1.1\r\nHost: api.example.com\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.port, 8443);
    cr_assert_str_eq(req.host, "api.example.com");
}

Test(fwdproxy, connect_accepts_http10_without_host)
{
    struct verdict v = run(LIT("CONNECT a.test:443 HTTP/1.0\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.http_minor, 0);
    cr_assert_eq(req.host_field, -1);
    cr_assert_eq(req.field_count, 0);
}

Test(fwdproxy, connect_accepts_bracketed_ipv6_literal_without_brackets_in_host)
{
    struct verdict v =
        run(LIT("CONNECT [2001:DB8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_str_eq(req.host, "2001:db8::1");
    cr_assert(req.host_bracketed);
    cr_assert_eq(req.host_kind, PLR_FWD_HOST_IPV6);
    struct in6_addr want;
    cr_assert_eq(inet_pton(AF_INET6, "2001:db8::1", &want), 1);
    cr_assert_eq(memcmp(&req.addr6, &want, sizeof want), 0);
    cr_assert_eq(req.port, 443);
}

Test(fwdproxy, connect_keeps_ipv4_mapped_ipv6_for_the_guard_to_unwrap)
{
    struct verdict v = run(LIT("CONNECT [::ffff:169.254.169.254]:80 HTTP/1.1\r\nHost: x\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.host_kind, PLR_FWD_HOST_IPV6);
    cr_assert_eq(req.addr6.s6_addr[10], 0xff);
    cr_assert_eq(req.addr6.s6_addr[12], 169);
    cr_assert_eq(req.addr6.s6_addr[15], 254);
}

Test(fwdproxy, connect_classifies_canonical_dotted_quad_as_ipv4)
{
    struct verdict v = run(LIT("CONNECT 203.0.113.7:443 HTTP/1.1\r\nHost: 203.0.113.7\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.host_kind, PLR_FWD_HOST_IPV4);
    cr_assert_not(req.host_bracketed);
    cr_assert_eq(req.addr4.s_addr, htonl(0xCB007107u));
}

Test(fwdproxy, connect_flags_non_canonical_numeric_hosts_for_refusal)
{
    static const char *const hosts[] = {
        "2852039166",    "0251.0376.0251.0376",
        "0xa9fea9fe",    "0XA9FEA9FE",
        "169.254.43518", "1.2.3.04",
        "01.2.3.4",      "1.2.3",
        "1.2.3.4.5",     "256.1.1.1",
        "1.2.3.256",     "0x7f.1",
        "abc.0x10",      "0",
        "127.1",         "0x",
    };
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        char line[128];
        int n = snprintf(line, sizeof line, "CONNECT %s:443 HTTP/1.1\r\nHost: x\r\n\r\n", hosts[i]);
        struct verdict v = run((const uint8_t *)line, (size_t)n);
        cr_expect_eq(v.r, PLR_FWD_OK, "%s: %s", hosts[i], v.reason);
        cr_expect_eq(req.host_kind, PLR_FWD_HOST_NUMERIC, "%s is not flagged numeric", hosts[i]);
    }
}

Test(fwdproxy, connect_names_with_numeric_inner_labels_stay_names)
{
    static const char *const hosts[] = {"169.254.169.254.nip.io", "1.example", "0x10.example",
                                        "a-b_c.example", "x1"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        char line[128];
        int n = snprintf(line, sizeof line, "CONNECT %s:443 HTTP/1.1\r\nHost: x\r\n\r\n", hosts[i]);
        struct verdict v = run((const uint8_t *)line, (size_t)n);
        cr_expect_eq(v.r, PLR_FWD_OK, "%s: %s", hosts[i], v.reason);
        cr_expect_eq(req.host_kind, PLR_FWD_HOST_NAME, "%s", hosts[i]);
    }
}

Test(fwdproxy, connect_lowercases_host_and_accepts_port_bounds)
{
    struct verdict v = run(LIT("CONNECT Hooks.SLACK.com:65535 HTTP/1.1\r\nHost: h\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_str_eq(req.host, "hooks.slack.com");
    cr_assert_eq(req.port, 65535);
    v = run(LIT("CONNECT a.test:1 HTTP/1.1\r\nHost: h\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.port, 1);
}

Test(fwdproxy, connect_accepts_content_length_zero_only)
{
    struct verdict v =
        run(LIT("CONNECT a.test:443 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.content_length, 0);
}

Test(fwdproxy, connect_accepts_host_names_of_255_bytes_and_labels_of_63)
{
    char host[256], line[400];
    size_t k = 0;
    for (int l = 0; l < 4; l++) { /* 63 + 1 + 63 + 1 + 63 + 1 + 63 = 255 */
        if (l != 0)
            host[k++] = '.';
        memset(host + k, 'a' + l, 63);
        k += 63;
    }
    host[k] = '\0';
    cr_assert_eq(k, 255);
    int n = snprintf(line, sizeof line, "CONNECT %s:443 HTTP/1.1\r\nHost: x\r\n\r\n", host);
    struct verdict v = run((const uint8_t *)line, (size_t)n);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.host_len, 255);
    cr_assert_str_eq(req.host, host);
}

/* ---- absolute form --------------------------------------------------------------------------- */

Test(fwdproxy, absolute_get_gives_host_port_and_path_with_query)
{
    static const uint8_t in[] = "GET http://Dict.Example.com:8080/ik/words.txt?v=2 HTTP/1.1\r\n"
                                "Host: dict.example.com:8080\r\n\r\n";
    struct verdict v = run(in, sizeof in - 1);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.kind, PLR_FWD_KIND_ABSOLUTE);
    cr_assert_eq(req.method, PLR_FWD_METHOD_GET);
    cr_assert_str_eq(req.host, "dict.example.com");
    cr_assert_eq(req.port, 8080);
    cr_assert(req.port_explicit);
    cr_assert(span_is(in, req.path_off, req.path_len, "/ik/words.txt?v=2"));
    cr_assert_not(req.path_implicit_slash);
    cr_assert(span_is(in, req.target_off, req.target_len,
                      "http://Dict.Example.com:8080/ik/words.txt?v=2"));
}

Test(fwdproxy, absolute_defaults_to_port_80_and_an_implicit_slash)
{
    struct verdict v = run(LIT("GET http://a.test HTTP/1.1\r\nHost: a.test\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.port, 80);
    cr_assert_not(req.port_explicit);
    cr_assert_eq(req.path_len, 0);
    cr_assert(req.path_implicit_slash);
}

Test(fwdproxy, absolute_query_without_path_gets_an_implicit_slash)
{
    static const uint8_t in[] = "GET http://a.test?x=1 HTTP/1.1\r\nHost: a.test\r\n\r\n";
    struct verdict v = run(in, sizeof in - 1);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert(span_is(in, req.path_off, req.path_len, "?x=1"));
    cr_assert(req.path_implicit_slash);
}

Test(fwdproxy, absolute_scheme_is_case_insensitive)
{
    struct verdict v = run(LIT("GET HtTp://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_str_eq(req.host, "a.test");
}

Test(fwdproxy, absolute_accepts_ipv6_literal_with_port)
{
    struct verdict v = run(LIT("GET http://[::1]:8080/x HTTP/1.1\r\nHost: a\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_str_eq(req.host, "::1");
    cr_assert(req.host_bracketed);
    cr_assert_eq(req.port, 8080);
}

Test(fwdproxy, every_supported_method_parses_in_its_form)
{
    static const struct {
        const char *line;
        enum plr_fwd_method m;
    } rows[] = {
        {"CONNECT a.test:443", PLR_FWD_METHOD_CONNECT},
        {"GET http://a.test/", PLR_FWD_METHOD_GET},
        {"HEAD http://a.test/", PLR_FWD_METHOD_HEAD},
        {"POST http://a.test/", PLR_FWD_METHOD_POST},
        {"PUT http://a.test/", PLR_FWD_METHOD_PUT},
        {"DELETE http://a.test/", PLR_FWD_METHOD_DELETE},
        {"PATCH http://a.test/", PLR_FWD_METHOD_PATCH},
        {"OPTIONS http://a.test", PLR_FWD_METHOD_OPTIONS},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char line[128];
        int n = snprintf(line, sizeof line, "%s HTTP/1.1\r\nHost: a.test\r\n\r\n", rows[i].line);
        struct verdict v = run((const uint8_t *)line, (size_t)n);
        cr_expect_eq(v.r, PLR_FWD_OK, "%s: %s", rows[i].line, v.reason);
        cr_expect_eq(req.method, rows[i].m, "%s", rows[i].line);
        const char *name = plr_fwd_method_name(rows[i].m);
        cr_expect(strncmp(rows[i].line, name, strlen(name)) == 0 &&
                      rows[i].line[strlen(name)] == ' ',
                  "%s is not named %s", rows[i].line, name);
    }
}

Test(fwdproxy, fields_are_recorded_in_order_with_trimmed_values)
{
    static const uint8_t in[] = "POST http://a.test/hook HTTP/1.1\r\n"
                                "Host:a.test\r\n"
                                "Content-Type: \t application/json \t\r\n"
                                "X-Empty:\r\n"
                                "X-Obs-Text: caf\xc3\xa9\r\n"
                                "Content-Length: 5\r\n"
                                "\r\n"
                                "hello";
    struct verdict v = run(in, sizeof in - 1);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(v.consumed, sizeof in - 1 - 5, "the body is not part of the head");
    cr_assert_eq(req.field_count, 5);
    cr_assert(span_is(in, req.fields[0].name_off, req.fields[0].name_len, "Host"));
    cr_assert(span_is(in, req.fields[0].value_off, req.fields[0].value_len, "a.test"));
    cr_assert_eq(req.fields[0].id, PLR_FWD_H_HOST);
    cr_assert(span_is(in, req.fields[1].value_off, req.fields[1].value_len, "application/json"));
    cr_assert_eq(req.fields[1].id, PLR_FWD_H_OTHER);
    cr_assert_eq(req.fields[2].value_len, 0);
    cr_assert(span_is(in, req.fields[3].value_off, req.fields[3].value_len, "caf\xc3\xa9"));
    cr_assert_eq(req.fields[4].id, PLR_FWD_H_CONTENT_LENGTH);
    cr_assert_eq(req.content_length, 5);
    for (size_t i = 0; i < req.field_count; i++)
        cr_assert_not(req.fields[i].hop_by_hop);
}

Test(fwdproxy, chunked_transfer_encoding_is_matched_case_insensitively)
{
    struct verdict v = run(LIT("POST http://a.test/ HTTP/1.1\r\nHost: a\r\n"
                               "transfer-encoding:  ChUnKeD \r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert(req.chunked);
    cr_assert_eq(req.content_length, -1);
    cr_assert_eq(req.fields[1].id, PLR_FWD_H_TRANSFER_ENCODING);
    cr_assert_not(req.fields[1].hop_by_hop);
}

Test(fwdproxy, identical_repeated_content_length_is_accepted)
{
    struct verdict v = run(LIT("PUT http://a.test/ HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n"
                               "content-length: 007\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.content_length, 7);
}

Test(fwdproxy, content_length_up_to_int64_max_is_accepted)
{
    struct verdict v = run(LIT("PUT http://a.test/ HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: 9223372036854775807\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.content_length, INT64_MAX);
}

Test(fwdproxy, one_empty_line_before_the_request_line_is_skipped)
{
    static const uint8_t in[] = "\r\nGET http://a.test/ HTTP/1.1\r\nHost: a\r\n\r\n";
    struct verdict v = run(in, sizeof in - 1);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(v.consumed, sizeof in - 1);
    cr_assert_eq(req.target_off, 6);
}

Test(fwdproxy, proxy_authorization_is_located_and_hop_by_hop)
{
    static const uint8_t in[] = "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test\r\n"
                                "Proxy-Authorization: Basic d2F0Y2hlcjpzZWNyZXQ=\r\n\r\n";
    struct verdict v = run(in, sizeof in - 1);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.proxy_auth_field, 1);
    const struct plr_fwd_field *f = &req.fields[1];
    cr_assert_eq(f->id, PLR_FWD_H_PROXY_AUTHORIZATION);
    cr_assert(span_is(in, f->value_off, f->value_len, "Basic d2F0Y2hlcjpzZWNyZXQ="));
    cr_assert(f->hop_by_hop);
}

Test(fwdproxy, connection_options_set_flags_and_mark_named_fields_hop_by_hop)
{
    static const uint8_t in[] = "GET http://a.test/ HTTP/1.1\r\n"
                                "X-Secret: 1\r\n"
                                "Host: a\r\n"
                                "Connection: , Keep-Alive ,x-secret,,Upgrade\r\n"
                                "Keep-Alive: timeout=5\r\n"
                                "TE: trailers\r\n"
                                "Upgrade: websocket\r\n"
                                "Trailer: X-Sum\r\n"
                                "Accept: */*\r\n\r\n";
    struct verdict v = run(in, sizeof in - 1);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.conn, PLR_FWD_CONN_KEEP_ALIVE | PLR_FWD_CONN_UPGRADE);
    static const bool hop[] = {true, false, true, true, true, true, false, false};
    cr_assert_eq(req.field_count, 8);
    for (size_t i = 0; i < 8; i++)
        cr_expect_eq(req.fields[i].hop_by_hop, hop[i], "field %zu", i);
}

Test(fwdproxy, connection_naming_itself_is_harmless)
{
    /* tinyproxy CVE-2023-49606: a Connection header naming Connection */
    struct verdict v = run(LIT("GET http://a.test/ HTTP/1.1\r\nHost: a\r\n"
                               "Connection: Connection, close\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.conn, PLR_FWD_CONN_CLOSE);
    cr_assert(req.fields[1].hop_by_hop);
}

Test(fwdproxy, proxy_connection_contributes_close_and_keep_alive_only)
{
    struct verdict v = run(LIT("GET http://a.test/ HTTP/1.0\r\nX-A: 1\r\n"
                               "Proxy-Connection: keep-alive, x-a\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.conn, PLR_FWD_CONN_KEEP_ALIVE);
    cr_assert_not(req.fields[0].hop_by_hop, "Proxy-Connection options do not name fields");
    cr_assert(req.fields[1].hop_by_hop);
    cr_assert(plr_fwd_keep_alive(req.http_minor, req.conn));
}

Test(fwdproxy, accepts_100_fields_and_rejects_101_with_431)
{
    static char buf[4096];
    size_t n = head_with_fields(buf, sizeof buf, 100);
    struct verdict v = run((const uint8_t *)buf, n);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.field_count, 100);

    n = head_with_fields(buf, sizeof buf, 101);
    v = run((const uint8_t *)buf, n);
    cr_assert_eq(v.r, PLR_FWD_ERR);
    cr_assert_eq(v.status, 431);
    cr_assert_eq(v.consumed, 0);
}

/* ---- limits ---------------------------------------------------------------------------------- */

Test(fwdproxy, head_exactly_at_the_limit_is_accepted_and_one_byte_more_is_431)
{
    static const uint8_t in[] = "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test\r\n\r\n";
    size_t n = sizeof in - 1;
    struct verdict v = run_max(in, n, n);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(v.consumed, n);
    v = run_max(in, n, n - 1);
    cr_assert_eq(v.r, PLR_FWD_ERR);
    cr_assert_eq(v.status, 431);
}

Test(fwdproxy, request_line_over_the_limit_is_414_without_waiting)
{
    static uint8_t in[9000];
    memcpy(in, "GET http://a.test/", 18);
    memset(in + 18, 'a', sizeof in - 18);
    struct verdict v = run(in, 8192); /* default limit, no CRLF in sight */
    cr_assert_eq(v.r, PLR_FWD_ERR);
    cr_assert_eq(v.status, 414);
    v = run(in, 8191);
    cr_assert_eq(v.r, PLR_FWD_AGAIN, "below the limit it is only incomplete");
    cr_assert_eq(v.status, 0);
    v = run_max(in, 100, 64);
    cr_assert_eq(v.status, 414);
}

Test(fwdproxy, unterminated_head_is_431_as_soon_as_the_limit_is_reached)
{
    static uint8_t in[9000];
    size_t n = (size_t)snprintf((char *)in, sizeof in, "CONNECT a.test:443 HTTP/1.1\r\nX: ");
    memset(in + n, 'v', sizeof in - n);
    struct verdict v = run(in, sizeof in);
    cr_assert_eq(v.r, PLR_FWD_ERR);
    cr_assert_eq(v.status, 431);
    cr_assert_str_eq(v.reason, "request head longer than max_header_bytes");
    v = run(in, 8192);
    cr_assert_eq(v.status, 431, "decided at exactly max_header_bytes");
    v = run(in, 8191);
    cr_assert_eq(v.r, PLR_FWD_AGAIN);
}

Test(fwdproxy, cr_at_the_last_allowed_byte_cannot_end_a_head)
{
    static const uint8_t in[] = "CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\n\r\n";
    /* the final LF would be byte max+1 */
    struct verdict v = run_max(in, sizeof in - 1, sizeof in - 2);
    cr_assert_eq(v.r, PLR_FWD_ERR);
    cr_assert_eq(v.status, 431);
}

Test(fwdproxy, bytes_past_the_limit_are_never_examined)
{
    static const uint8_t in[] = "CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\n\r\n\0\n\r";
    size_t head = sizeof in - 1 - 3;
    struct verdict v = run_max(in, sizeof in - 1, head);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(v.consumed, head);

    /* a bare LF just past the limit: the verdict is the limit, not the LF */
    static const uint8_t lf[] = "CONNECT a.test:443 HTTP/1.1\r\nHost: a\n\r\n";
    v = run_max(lf, sizeof lf - 1, 36);
    cr_assert_eq(v.r, PLR_FWD_ERR);
    cr_assert_eq(v.status, 431);
    v = run_max(lf, sizeof lf - 1, 37);
    cr_assert_eq(v.status, 400);
}

Test(fwdproxy, empty_and_partial_input_is_again)
{
    struct verdict v = run(NULL, 0);
    cr_assert_eq(v.r, PLR_FWD_AGAIN);
    cr_assert_str_eq(v.reason, "incomplete request head");
    v = run(LIT("CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\n\r"));
    cr_assert_eq(v.r, PLR_FWD_AGAIN);
    cr_assert_eq(v.consumed, 0);
}

Test(fwdproxy, non_http_bytes_are_rejected_at_the_first_byte)
{
    struct verdict v = run(LIT("\x16"));
    cr_assert_eq(v.r, PLR_FWD_ERR);
    cr_assert_eq(v.status, 400);
    v = run(LIT("\0"));
    cr_assert_eq(v.status, 400);
}

Test(fwdproxy, unsupported_method_is_405_as_soon_as_its_space_arrives)
{
    struct verdict v = run(LIT("TRACE "));
    cr_assert_eq(v.r, PLR_FWD_ERR);
    cr_assert_eq(v.status, 405);
    cr_assert_eq(run(LIT("TRACE")).r, PLR_FWD_AGAIN);
    v = run(LIT("connect "));
    cr_assert_eq(v.status, 405);
    cr_assert(strstr(v.reason, "case-sensitive") != NULL, "%s", v.reason);
    v = run(LIT("ABCDEFGHIJKLMNOPQ")); /* 17 token bytes, no space yet */
    cr_assert_eq(v.status, 405);
    cr_assert_eq(run(LIT("ABCDEFGHIJKLMNOP")).r, PLR_FWD_AGAIN);
}

/* ---- the malformed table --------------------------------------------------------------------- */

struct bad {
    const char *name;
    const uint8_t *in;
    size_t len;
    int status;
    const char *needle; /* substring of the reason, or NULL */
};

#define BAD(name, lit, status, needle) \
    {                                  \
        name, LIT(lit), status, needle \
    }
#define H "\r\nHost: a.test\r\n\r\n"
#define C(target) "CONNECT " target " HTTP/1.1" H
#define G(target) "GET " target " HTTP/1.1" H
#define F(fields) "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n" fields "\r\n"
#define P(fields) "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\n" fields "\r\n"

static const struct bad bad_rows[] = {
    /* CONNECT targets (reliability.md §8 case 15) */
    BAD("connect without port", C("a.test"), 400, "port"),
    BAD("connect empty port", C("a.test:"), 400, "empty port"),
    BAD("connect port 0", C("a.test:0"), 400, "port 0"),
    BAD("connect port 65536", C("a.test:65536"), 400, "range"),
    BAD("connect port 99999", C("a.test:99999"), 400, "range"),
    BAD("connect port 123456", C("a.test:123456"), 400, "bad port"),
    BAD("connect port +443", C("a.test:+443"), 400, "bad port"),
    BAD("connect port -1", C("a.test:-1"), 400, "bad port"),
    BAD("connect port 0443", C("a.test:0443"), 400, "leading zero"),
    BAD("connect port 443a", C("a.test:443a"), 400, "bad port"),
    BAD("connect two ports", C("a.test:443:443"), 400, "bad port"),
    BAD("connect absolute form", C("http://a.test:443"), 400, "authority form"),
    BAD("connect https uri", C("https://a.test:443/"), 400, "authority form"),
    BAD("connect origin form", C("/a.test:443"), 400, "authority form"),
    BAD("connect path", C("a.test:443/x"), 400, "bad port"),
    BAD("connect userinfo", C("user@a.test:443"), 400, "userinfo"),
    BAD("connect user:pass", C("user:pw@a.test:443"), 400, "userinfo"),
    BAD("connect unbalanced [", C("[::1:443"), 400, "unbalanced"),
    BAD("connect unbalanced ]", C("::1]:443"), 400, NULL),
    BAD("connect unbracketed v6", C("::1:443"), 400, "empty host"),
    BAD("connect junk after ]", C("[::1]443"), 400, "after IPv6"),
    BAD("connect v6 no port", C("[::1]"), 400, "port"),
    BAD("connect zone id", C("[fe80::1%25eth0]:443"), 400, "zone"),
    BAD("connect v4 in brackets", C("[1.2.3.4]:443"), 400, "IPv6"),
    BAD("connect ipvfuture", C("[v1.x]:443"), 400, "IPv6"),
    BAD("connect bad v6", C("[1:2:3:4:5:6:7:8:9]:443"), 400, "IPv6"),
    BAD("connect empty brackets", C("[]:443"), 400, "IPv6"),
    BAD("connect empty host", C(":443"), 400, "empty host"),
    BAD("connect double dot", C("a..test:443"), 400, "empty label"),
    BAD("connect leading dot", C(".a.test:443"), 400, "empty label"),
    BAD("connect trailing dot", C("a.test.:443"), 400, "empty label"),
    BAD("connect label of 64",
        C("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test:443"), 400, "63"),
    BAD("connect percent in host", C("ex%41mple.com:443"), 400, "invalid character"),
    BAD("connect sub-delim in host", C("a!b.test:443"), 400, "invalid character"),
    BAD("connect asterisk", C("*"), 400, NULL),
    /* methods */
    BAD("lower-case connect", "connect a.test:443 HTTP/1.1" H, 405, "case-sensitive"),
    BAD("TRACE", "TRACE http://a.test/ HTTP/1.1" H, 405, NULL),
    BAD("PRI (h2 preface)", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 405, NULL),
    BAD("method with a slash", "G/ET http://a.test/ HTTP/1.1" H, 400, "method"),
    BAD("leading space", " GET http://a.test/ HTTP/1.1" H, 400, "space"),
    BAD("two leading empty lines", "\r\n\r\nGET http://a.test/ HTTP/1.1" H, 400, "empty line"),
    BAD("leading bare LF", "\nGET http://a.test/ HTTP/1.1" H, 400, "bare LF"),
    BAD("leading bare CR", "\rGET http://a.test/ HTTP/1.1" H, 400, "bare CR"),
    /* absolute-form targets */
    BAD("origin form GET", G("/"), 400, "not a proxy request"),
    BAD("origin form path", G("/index.html"), 400, "not a proxy request"),
    BAD("asterisk form", "OPTIONS * HTTP/1.1" H, 400, "asterisk"),
    BAD("GET authority form", G("a.test:80"), 400, "absolute"),
    BAD("https absolute form", G("https://a.test/"), 400, "CONNECT"),
    BAD("ftp scheme", G("ftp://a.test/"), 400, "only http"),
    BAD("scheme without slashes", G("http:a.test/"), 400, "absolute"),
    BAD("scheme with one slash", G("http:/a.test/"), 400, "absolute"),
    BAD("empty authority", G("http:///x"), 400, "empty host"),
    BAD("fragment", G("http://a.test/#frag"), 400, "fragment"),
    BAD("userinfo", G("http://u:p@a.test/"), 400, "userinfo"),
    BAD("userinfo in path is fine but not before host", G("http://@a.test/"), 400, "userinfo"),
    BAD("empty port", G("http://a.test:/"), 400, "empty port"),
    BAD("port 0", G("http://a.test:0/"), 400, "port 0"),
    BAD("backslash host", G("http://a.test\\@evil/"), 400, "userinfo"),
    BAD("non-ASCII in target", G("http://a.test/\xc3\xa9"), 400, "non-ASCII"),
    BAD("DEL in target", G("http://a.test/\x7f"), 400, "non-ASCII"),
    BAD("tab in target", G("http://a.test/\tx"), 400, "control"),
    /* request line shape and version */
    BAD("double space", "GET  http://a.test/ HTTP/1.1" H, 400, "extra space"),
    BAD("space before version twice", "GET http://a.test/  HTTP/1.1" H, 400, "version"),
    BAD("trailing space", "GET http://a.test/ HTTP/1.1 " H, 400, "version"),
    BAD("no version (0.9)", "GET http://a.test/" H, 400, "without an HTTP version"),
    BAD("method only", "GET" H, 400, "method"),
    BAD("lower-case version", "GET http://a.test/ http/1.1" H, 400, "version"),
    BAD("short version", "GET http://a.test/ HTTP/1" H, 400, "version"),
    BAD("two-digit version", "GET http://a.test/ HTTP/1.10" H, 400, "version"),
    BAD("HTTP/1.2", "GET http://a.test/ HTTP/1.2" H, 505, "not supported"),
    BAD("HTTP/2.0", "GET http://a.test/ HTTP/2.0" H, 505, "not supported"),
    BAD("HTTP/0.9", "GET http://a.test/ HTTP/0.9" H, 505, "not supported"),
    /* line endings and bytes (reliability.md §8 case 15) */
    BAD("bare LF request line", "CONNECT a.test:443 HTTP/1.1\nHost: a\r\n\r\n", 400, "bare LF"),
    BAD("bare LF header", "CONNECT a.test:443 HTTP/1.1\r\nHost: a\n\r\n", 400, "bare LF"),
    BAD("bare LF end", "CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\n\n", 400, "bare LF"),
    BAD("bare CR request line", "CONNECT a.test:443 HTTP/1.1\rHost: a\r\n\r\n", 400, "bare CR"),
    BAD("bare CR end", "CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\n\rX", 400, "bare CR"),
    BAD("bare CR in value", F("X: a\rb\r\n"), 400, "bare CR"),
    BAD("NUL in target", "CONNECT a.test\0:443 HTTP/1.1" H, 400, "NUL"),
    BAD("NUL in method", "GE\0T http://a.test/ HTTP/1.1" H, 400, "NUL"),
    BAD("NUL in name", F("X\0: v\r\n"), 400, "NUL"),
    BAD("NUL in value", F("X: v\0v\r\n"), 400, "NUL"),
    BAD("NUL at line start", F("\0X: v\r\n"), 400, "NUL"),
    BAD("control byte in value",
        F("X: a\x01"
          "b\r\n"),
        400, "control"),
    BAD("DEL in value", F("X: a\x7f\r\n"), 400, "control"),
    BAD("ESC in value", F("X: \x1b[31m\r\n"), 400, "control"),
    /* field syntax */
    BAD("obs-fold", F("X: a\r\n  continued\r\n"), 400, "obs-fold"),
    BAD("obs-fold tab", F("X: a\r\n\tcontinued\r\n"), 400, "obs-fold"),
    BAD("space after request line", "GET http://a.test/ HTTP/1.1\r\n Host: a\r\n\r\n", 400,
        "between the request line"),
    BAD("space before colon", F("X-A : v\r\n"), 400, "before its colon"),
    BAD("tab before colon", F("Transfer-Encoding\t: chunked\r\n"), 400, "before its colon"),
    BAD("space in name", F("X A: v\r\n"), 400, "whitespace"),
    BAD("empty name", F(": v\r\n"), 400, "empty header field name"),
    BAD("no colon", F("NoColonHere\r\n"), 400, "without a colon"),
    BAD("separator in name", F("X(A): v\r\n"), 400, "field name"),
    BAD("non-ASCII in name", F("X\xc3\xa9: v\r\n"), 400, "field name"),
    /* Host */
    BAD("HTTP/1.1 without Host", "GET http://a.test/ HTTP/1.1\r\n\r\n", 400, "without a Host"),
    BAD("two Host fields", F("Host: b.test\r\n"), 400, "more than one Host"),
    BAD("two Host on HTTP/1.0", "GET http://a.test/ HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400,
        "more than one Host"),
    BAD("Host with space", "GET http://a.test/ HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "Host"),
    BAD("Host with slash", "GET http://a.test/ HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "Host"),
    BAD("Host with at", "GET http://a.test/ HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, "Host"),
    /* Content-Length (smuggling) */
    BAD("empty CL", P("Content-Length:\r\n"), 400, "empty Content-Length"),
    BAD("blank CL", P("Content-Length:   \r\n"), 400, "empty Content-Length"),
    BAD("negative CL", P("Content-Length: -1\r\n"), 400, "not a single"),
    BAD("plus CL", P("Content-Length: +5\r\n"), 400, "not a single"),
    BAD("list CL", P("Content-Length: 5, 5\r\n"), 400, "not a single"),
    BAD("spaced CL", P("Content-Length: 1 2\r\n"), 400, "not a single"),
    BAD("hex CL", P("Content-Length: 0x10\r\n"), 400, "not a single"),
    BAD("huge CL", P("Content-Length: 9223372036854775808\r\n"), 400, "too large"),
    BAD("huger CL", P("Content-Length: 99999999999999999999999\r\n"), 400, "too large"),
    BAD("conflicting CL", P("Content-Length: 5\r\nContent-Length: 6\r\n"), 400, "conflicting"),
    BAD("CL and TE", P("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400, "both"),
    BAD("TE and CL", P("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400, "both"),
    /* Transfer-Encoding */
    BAD("TE gzip only", P("Transfer-Encoding: gzip\r\n"), 400, "final"),
    BAD("TE chunked then gzip", P("Transfer-Encoding: chunked, gzip\r\n"), 400, "final"),
    BAD("TE gzip then chunked", P("Transfer-Encoding: gzip, chunked\r\n"), 501, "not implemented"),
    BAD("TE over two lines", P("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501,
        NULL),
    BAD("TE chunked twice", P("Transfer-Encoding: chunked, chunked\r\n"), 400, "twice"),
    BAD("TE chunked on two lines",
        P("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400, "twice"),
    BAD("TE chunked gzip chunked", P("Transfer-Encoding: chunked, gzip, chunked\r\n"), 400,
        "twice"),
    BAD("TE empty", P("Transfer-Encoding:\r\n"), 400, "empty Transfer-Encoding"),
    BAD("TE commas only", P("Transfer-Encoding: , ,\r\n"), 400, "empty Transfer-Encoding"),
    BAD("TE with parameter", P("Transfer-Encoding: chunked;x=1\r\n"), 400, "malformed"),
    BAD("TE with inner space", P("Transfer-Encoding: chun ked\r\n"), 400, "malformed"),
    BAD("TE x-chunked", P("Transfer-Encoding: xchunked\r\n"), 400, "final"),
    BAD("TE on HTTP/1.0", "POST http://a.test/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
        "HTTP/1.0"),
    /* CONNECT with a body */
    BAD("CONNECT with CL", "CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
        400, "CONNECT request with a body"),
    BAD("CONNECT with TE",
        "CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
        "CONNECT request with a body"),
    /* Connection and Proxy-Authorization */
    BAD("Connection names CL", F("Connection: close, Content-Length\r\n"), 400, "Connection names"),
    BAD("Connection names TE", F("Connection: transfer-encoding\r\n"), 400, "Connection names"),
    BAD("Connection names Host", F("Connection: HOST\r\n"), 400, "Connection names"),
    BAD("Connection bad token", F("Connection: close keep-alive\r\n"), 400, "malformed"),
    BAD("Connection quoted", F("Connection: \"close\"\r\n"), 400, "malformed"),
    BAD("Proxy-Connection bad token", F("Proxy-Connection: a b\r\n"), 400, "malformed"),
    BAD("two Proxy-Authorization",
        F("Proxy-Authorization: Basic a\r\nProxy-Authorization: Basic b\r\n"), 400,
        "Proxy-Authorization"),
};

Test(fwdproxy, rejects_every_malformed_head_with_its_status)
{
    for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
        const struct bad *b = &bad_rows[i];
        struct verdict v = run(b->in, b->len);
        cr_expect_eq(v.r, PLR_FWD_ERR, "%s: %s (%s)", b->name, plr_fwd_result_name(v.r), v.reason);
        cr_expect_eq(v.status, b->status, "%s: status %d, want %d (%s)", b->name, v.status,
                     b->status, v.reason);
        cr_expect_eq(v.consumed, 0, "%s", b->name);
        if (b->needle != NULL)
            cr_expect(strstr(v.reason, b->needle) != NULL, "%s: reason \"%s\" lacks \"%s\"",
                      b->name, v.reason, b->needle);
        cr_expect(plr_fwd_status_phrase(v.status) != NULL, "%s", b->name);
    }
}

Test(fwdproxy, rejects_too_many_connection_options)
{
    static char buf[1024];
    size_t n = (size_t)snprintf(buf, sizeof buf,
                                "GET http://a.test/ HTTP/1.1\r\nHost: a\r\n"
                                "Connection: close");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, ", x-%d", i);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\r\n\r\n");
    struct verdict v = run((const uint8_t *)buf, n);
    cr_assert_eq(v.r, PLR_FWD_ERR);
    cr_assert_eq(v.status, 400);
}

Test(fwdproxy, rejects_host_names_over_255_bytes)
{
    char line[400];
    char host[257];
    for (size_t i = 0; i < 256; i++)
        host[i] = (i % 60 == 59) ? '.' : 'a';
    host[256] = '\0';
    int n = snprintf(line, sizeof line, "CONNECT %s:443 HTTP/1.1\r\nHost: x\r\n\r\n", host);
    struct verdict v = run((const uint8_t *)line, (size_t)n);
    cr_assert_eq(v.r, PLR_FWD_ERR);
    cr_assert_eq(v.status, 400);
    cr_assert(strstr(v.reason, "too long") != NULL, "%s", v.reason);
}

/* ---- the chunking property ------------------------------------------------------------------- */

/* Every prefix yields AGAIN until the one-shot verdict, then exactly that verdict. */
static void check_prefixes(const uint8_t *in, size_t n, size_t max, const char *name)
{
    struct verdict whole = run_max(in, n, max);
    bool decided = false;
    for (size_t k = 0; k <= n; k++) {
        struct verdict part = run_max(in, k, max);
        if (part.r == PLR_FWD_AGAIN) {
            cr_assert_not(decided, "%s: AGAIN at %zu after a verdict", name, k);
            cr_assert_eq(part.consumed, 0);
            cr_assert_eq(part.status, 0);
            continue;
        }
        decided = true;
        cr_assert_eq(part.r, whole.r, "%s: prefix %zu gives %s (%s), whole gives %s (%s)", name, k,
                     plr_fwd_result_name(part.r), part.reason, plr_fwd_result_name(whole.r),
                     whole.reason);
        cr_assert_eq(part.status, whole.status, "%s: prefix %zu", name, k);
        cr_assert_eq(part.consumed, whole.consumed, "%s: prefix %zu", name, k);
        cr_assert_str_eq(part.reason, whole.reason, "%s: prefix %zu", name, k);
    }
}

Test(fwdproxy, every_prefix_gives_again_or_the_one_shot_verdict)
{
    static const uint8_t ok1[] = "CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\n\r\n\x16\x03\x01";
    static const uint8_t ok2[] = "\r\nPOST http://a.test/x?y HTTP/1.0\r\nContent-Length: 3\r\n"
                                 "Connection: keep-alive, x\r\nx: 1\r\n\r\nabc";
    check_prefixes(ok1, sizeof ok1 - 1, 0, "connect");
    check_prefixes(ok2, sizeof ok2 - 1, 0, "post");
    check_prefixes(ok2, sizeof ok2 - 1, 40, "post capped at 40");
    check_prefixes(ok1, sizeof ok1 - 1, 20, "connect capped at 20");
    for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++)
        check_prefixes(bad_rows[i].in, bad_rows[i].len, 0, bad_rows[i].name);
    static char many[4096];
    size_t n = head_with_fields(many, sizeof many, 101);
    check_prefixes((const uint8_t *)many, n, 0, "101 fields");
    for (size_t max = 1; max < 60; max += 7)
        check_prefixes(ok1, sizeof ok1 - 1, max, "connect at small limits");
}

Test(fwdproxy, absolute_form_numeric_host_is_flagged_too)
{
    struct verdict v =
        run(LIT("GET http://2852039166/latest/meta-data HTTP/1.1\r\nHost: x\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.host_kind, PLR_FWD_HOST_NUMERIC);
    v = run(LIT("GET http://100.100.100.200/latest/meta-data HTTP/1.1\r\nHost: x\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    cr_assert_eq(req.host_kind, PLR_FWD_HOST_IPV4);
    cr_assert_eq(req.addr4.s_addr, htonl(0x646464C8u));
}

/* ---- keep-alive rule ------------------------------------------------------------------------- */

Test(fwdproxy, keep_alive_follows_version_and_connection_options)
{
    cr_assert(plr_fwd_keep_alive(1, 0));
    cr_assert(plr_fwd_keep_alive(1, PLR_FWD_CONN_KEEP_ALIVE));
    cr_assert_not(plr_fwd_keep_alive(1, PLR_FWD_CONN_CLOSE));
    cr_assert_not(plr_fwd_keep_alive(1, PLR_FWD_CONN_CLOSE | PLR_FWD_CONN_KEEP_ALIVE));
    cr_assert_not(plr_fwd_keep_alive(0, 0));
    cr_assert(plr_fwd_keep_alive(0, PLR_FWD_CONN_KEEP_ALIVE));
    cr_assert_not(plr_fwd_keep_alive(0, PLR_FWD_CONN_KEEP_ALIVE | PLR_FWD_CONN_CLOSE));
    cr_assert(plr_fwd_keep_alive(1, PLR_FWD_CONN_UPGRADE));
}

/* ---- replies --------------------------------------------------------------------------------- */

static size_t reply(int status, const char *text, char *buf, size_t cap)
{
    ssize_t n = plr_fwd_reply(status, text, buf, cap);
    cr_assert_geq(n, 0, "reply %d failed", status);
    cr_assert_lt((size_t)n, cap);
    buf[n] = '\0'; /* for the string assertions below; the reply itself has no NUL */
    return (size_t)n;
}

Test(fwdproxy, reply_200_is_exactly_connection_established)
{
    char buf[128];
    size_t n = reply(200, "ignored", buf, sizeof buf);
    cr_assert_str_eq(buf, "HTTP/1.1 200 Connection established\r\n\r\n");
    cr_assert_eq(n, 39);
}

Test(fwdproxy, reply_error_has_length_type_close_and_body)
{
    char buf[PLR_FWD_REPLY_MAX_BYTES];
    reply(403, "destination not allowed", buf, sizeof buf);
    cr_assert_str_eq(buf, "HTTP/1.1 403 Forbidden\r\n"
                          "Content-Type: text/plain\r\n"
                          "Content-Length: 24\r\n"
                          "Connection: close\r\n"
                          "\r\n"
                          "destination not allowed\n");
}

Test(fwdproxy, reply_without_text_uses_the_phrase)
{
    char buf[PLR_FWD_REPLY_MAX_BYTES];
    reply(504, NULL, buf, sizeof buf);
    cr_assert(strstr(buf, "HTTP/1.1 504 Gateway Timeout\r\n") == buf);
    cr_assert(strstr(buf, "\r\n\r\nGateway Timeout\n") != NULL);
    cr_assert(strstr(buf, "Content-Length: 16\r\n") != NULL);
}

Test(fwdproxy, reply_407_asks_for_basic_proxy_auth)
{
    char buf[PLR_FWD_REPLY_MAX_BYTES];
    reply(407, NULL, buf, sizeof buf);
    cr_assert(strstr(buf, "HTTP/1.1 407 Proxy Authentication Required\r\n") == buf);
    cr_assert(strstr(buf, "\r\nProxy-Authenticate: Basic realm=\"plrelay\"\r\n") != NULL);
}

Test(fwdproxy, reply_405_lists_the_allowed_methods)
{
    char buf[PLR_FWD_REPLY_MAX_BYTES];
    reply(405, "method not supported", buf, sizeof buf);
    cr_assert(strstr(buf, "\r\nAllow: CONNECT, GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS\r\n") !=
              NULL);
}

Test(fwdproxy, reply_sanitises_and_cuts_caller_text)
{
    char buf[PLR_FWD_REPLY_MAX_BYTES];
    reply(400, "a\r\nX-Injected: 1\x7f\xff", buf, sizeof buf);
    cr_assert(strstr(buf, "\r\n\r\na??X-Injected: 1??\n") != NULL, "%s", buf);
    cr_assert(strstr(buf, "Content-Length: 19\r\n") != NULL);

    char long_text[300];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    size_t n = reply(431, long_text, buf, sizeof buf);
    cr_assert(strstr(buf, "Content-Length: 201\r\n") != NULL);
    cr_assert_eq(buf[n - 1], '\n');
    cr_assert_eq(buf[n - 2], 'x');
    cr_assert_eq(buf[n - 202], '\n');
}

Test(fwdproxy, reply_fits_the_documented_maximum_for_every_known_status)
{
    static const int statuses[] = {200, 400, 403, 405, 407, 408, 414,
                                   431, 500, 501, 502, 503, 504, 505};
    char text[400];
    memset(text, 'r', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char buf[PLR_FWD_REPLY_MAX_BYTES];
        cr_expect_gt(plr_fwd_reply(statuses[i], text, buf, sizeof buf), 0, "%d", statuses[i]);
        cr_expect_not_null(plr_fwd_status_phrase(statuses[i]));
    }
}

Test(fwdproxy, reply_refuses_unknown_status_and_small_buffers_without_overrun)
{
    char buf[PLR_FWD_REPLY_MAX_BYTES + 1];
    cr_assert_eq(plr_fwd_reply(299, NULL, buf, sizeof buf), -1);
    cr_assert_eq(plr_fwd_reply(0, NULL, buf, sizeof buf), -1);
    cr_assert_null(plr_fwd_status_phrase(302));
    ssize_t full = plr_fwd_reply(407, "auth", buf, sizeof buf);
    cr_assert_gt(full, 0);
    for (size_t cap = 0; cap < (size_t)full; cap++) {
        memset(buf, 0x5a, sizeof buf);
        cr_assert_eq(plr_fwd_reply(407, "auth", buf, cap), -1, "cap %zu", cap);
        for (size_t k = cap; k < sizeof buf; k++)
            cr_assert_eq((unsigned char)buf[k], 0x5a, "cap %zu: byte %zu written", cap, k);
    }
    cr_assert_eq(plr_fwd_reply(407, "auth", buf, (size_t)full), full);
}

/* ---- the origin-form request ----------------------------------------------------------------- */

/* Parse `in`, build the origin request into out (NUL-terminated for the assertions). */
static size_t origin(const uint8_t *in, size_t n, bool keep_alive, char *out, size_t cap)
{
    struct verdict v = run(in, n);
    cr_assert_eq(v.r, PLR_FWD_OK, "%s", v.reason);
    ssize_t w = plr_fwd_build_origin_request(&req, in, keep_alive, out, cap - 1);
    cr_assert_geq(w, 0);
    cr_assert_leq((size_t)w, req.head_len + PLR_FWD_ORIGIN_EXTRA_BYTES);
    out[w] = '\0';
    return (size_t)w;
}

Test(fwdproxy, origin_request_has_origin_form_target_and_host_from_the_uri)
{
    static const uint8_t in[] = "GET http://Dict.Example.com:8080/ik/words.txt?v=2 HTTP/1.1\r\n"
                                "Host: attacker.example\r\n"
                                "User-Agent: es\r\n"
                                "If-None-Match: \"abc\"\r\n\r\n";
    char out[1024];
    origin(in, sizeof in - 1, true, out, sizeof out);
    cr_assert_str_eq(out, "GET /ik/words.txt?v=2 HTTP/1.1\r\n"
                          "Host: dict.example.com:8080\r\n"
                          "User-Agent: es\r\n"
                          "If-None-Match: \"abc\"\r\n"
                          "Via: 1.1 plrelay\r\n"
                          "Connection: keep-alive\r\n\r\n");
}

Test(fwdproxy, origin_request_drops_hop_by_hop_fields_and_keeps_framing)
{
    static const uint8_t in[] = "POST http://hooks.test/h HTTP/1.1\r\n"
                                "Host: hooks.test\r\n"
                                "Proxy-Authorization: Basic c2VjcmV0\r\n"
                                "Proxy-Connection: keep-alive\r\n"
                                "Connection: keep-alive, X-Hop\r\n"
                                "X-Hop: 1\r\n"
                                "Keep-Alive: timeout=5\r\n"
                                "TE: trailers\r\n"
                                "Upgrade: h2c\r\n"
                                "Proxy-Authenticate: x\r\n"
                                "Trailer: X-Sum\r\n"
                                "Via: 1.1 upstream-proxy\r\n"
                                "Transfer-Encoding: chunked\r\n"
                                "X-Keep:v\r\n\r\n"
                                "5\r\nhello\r\n0\r\n\r\n";
    char out[1024];
    origin(in, sizeof in - 1, false, out, sizeof out);
    cr_assert_str_eq(out, "POST /h HTTP/1.1\r\n"
                          "Host: hooks.test\r\n"
                          "Trailer: X-Sum\r\n"
                          "Via: 1.1 upstream-proxy\r\n"
                          "Transfer-Encoding: chunked\r\n"
                          "X-Keep: v\r\n"
                          "Via: 1.1 plrelay\r\n"
                          "Connection: close\r\n\r\n");
    cr_assert(strstr(out, "c2VjcmV0") == NULL, "credentials must not reach the origin");
}

Test(fwdproxy, origin_request_for_options_with_empty_path_is_asterisk)
{
    char out[256];
    origin(LIT("OPTIONS http://a.test HTTP/1.1\r\nHost: a\r\n\r\n"), true, out, sizeof out);
    cr_assert(strstr(out, "OPTIONS * HTTP/1.1\r\nHost: a.test\r\n") == out, "%s", out);
    origin(LIT("OPTIONS http://a.test?x HTTP/1.1\r\nHost: a\r\n\r\n"), true, out, sizeof out);
    cr_assert(strstr(out, "OPTIONS /?x HTTP/1.1\r\n") == out, "%s", out);
    origin(LIT("OPTIONS http://a.test/ HTTP/1.1\r\nHost: a\r\n\r\n"), true, out, sizeof out);
    cr_assert(strstr(out, "OPTIONS / HTTP/1.1\r\n") == out, "%s", out);
}

Test(fwdproxy, origin_request_adds_slash_and_brackets_and_omits_port_80)
{
    char out[256];
    origin(LIT("HEAD http://a.test:80?q HTTP/1.0\r\n\r\n"), false, out, sizeof out);
    cr_assert_str_eq(out, "HEAD /?q HTTP/1.1\r\nHost: a.test\r\nVia: 1.0 plrelay\r\n"
                          "Connection: close\r\n\r\n");
    origin(LIT("GET http://[2001:DB8::1]:8080/x HTTP/1.1\r\nHost: a\r\n\r\n"), true, out,
           sizeof out);
    cr_assert(strstr(out, "GET /x HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n") == out, "%s", out);
}

Test(fwdproxy, origin_request_sends_one_content_length)
{
    char out[256];
    origin(LIT("PUT http://a.test/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
               "Content-Length: 3\r\n\r\n"),
           true, out, sizeof out);
    cr_assert_str_eq(out, "PUT / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n"
                          "Via: 1.1 plrelay\r\nConnection: keep-alive\r\n\r\n");
}

Test(fwdproxy, origin_request_keeps_empty_values_and_obs_text)
{
    char out[256];
    origin(LIT("GET http://a.test/ HTTP/1.1\r\nHost: a\r\nX-Empty:  \r\nX-T: \xe9t\xe9\r\n\r\n"),
           true, out, sizeof out);
    cr_assert(strstr(out, "\r\nX-Empty:\r\nX-T: \xe9t\xe9\r\n") != NULL, "%s", out);
}

Test(fwdproxy, origin_request_refuses_connect_and_small_buffers)
{
    char out[512];
    struct verdict v = run(LIT("CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\n\r\n"));
    cr_assert_eq(v.r, PLR_FWD_OK);
    cr_assert_eq(plr_fwd_build_origin_request(&req, (const uint8_t *)"", true, out, sizeof out),
                 -1);

    static const uint8_t in[] = "GET http://a.test/x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
    v = run(in, sizeof in - 1);
    cr_assert_eq(v.r, PLR_FWD_OK);
    ssize_t full = plr_fwd_build_origin_request(&req, in, true, out, sizeof out);
    cr_assert_gt(full, 0);
    for (size_t cap = 0; cap < (size_t)full; cap++) {
        memset(out, 0x5a, sizeof out);
        cr_assert_eq(plr_fwd_build_origin_request(&req, in, true, out, cap), -1, "cap %zu", cap);
        for (size_t k = cap; k < sizeof out; k++)
            cr_assert_eq((unsigned char)out[k], 0x5a, "cap %zu: byte %zu written", cap, k);
    }
}

Test(fwdproxy, origin_request_stays_within_the_documented_growth)
{
    /* worst growth: a 255-byte host, a port, and 99 fields without a space after the colon */
    static char in[8192];
    char host[256];
    for (size_t i = 0; i < 255; i++)
        host[i] = (i % 50 == 49) ? '.' : 'h';
    host[255] = '\0';
    size_t n = (size_t)snprintf(in, sizeof in, "GET http://%s:65535 HTTP/1.1\r\nHost:a\r\n", host);
    for (int i = 1; i < 100; i++)
        n += (size_t)snprintf(in + n, sizeof in - n, "X%d:v\r\n", i);
    n += (size_t)snprintf(in + n, sizeof in - n, "\r\n");
    static char out[8192 + PLR_FWD_ORIGIN_EXTRA_BYTES + 1];
    origin((const uint8_t *)in, n, true, out, sizeof out);
}

/* ---- names ----------------------------------------------------------------------------------- */

Test(fwdproxy, names_are_static_and_total)
{
    cr_assert_str_eq(plr_fwd_result_name(PLR_FWD_OK), "ok");
    cr_assert_str_eq(plr_fwd_result_name(PLR_FWD_AGAIN), "again");
    cr_assert_str_eq(plr_fwd_result_name(PLR_FWD_ERR), "error");
    cr_assert_str_eq(plr_fwd_result_name((enum plr_fwd_result)2), "?");
    cr_assert_str_eq(plr_fwd_method_name(PLR_FWD_METHOD_CONNECT), "CONNECT");
    cr_assert_str_eq(plr_fwd_method_name(PLR_FWD_METHOD_OPTIONS), "OPTIONS");
    cr_assert_str_eq(plr_fwd_method_name((enum plr_fwd_method)99), "?");
    cr_assert_str_eq(plr_fwd_status_phrase(200), "Connection established");
    cr_assert_str_eq(plr_fwd_status_phrase(431), "Request Header Fields Too Large");
}
