/*
 * test_fwdresponse — unit tests for plr_fwd_response() (src/relay/fwdresponse.c): the origin's
 * response head as the `connect` mode's absolute-form path reads it.
 *
 * Covers the status line (HTTP/1.0 and 1.1, three digits, copied verbatim), how the body is
 * framed (RFC 9112 §6.3: HEAD, 1xx interim, 204, 304, Content-Length, chunked as the final
 * coding, until close), the keep-alive decision (the client's wish and a self-delimiting body),
 * the hop-by-hop fields replaced by exactly one Connection field of ours, and the refusals that
 * keep a kept-alive client connection in sync: bare LF, bare CR, obs-fold, whitespace before the
 * colon, malformed or conflicting Content-Length, Transfer-Encoding with Content-Length, a head
 * that does not end exactly at head_len, and an output buffer that is too small (never written
 * past its end). Every call gets an exact-size heap copy of the head and an output buffer
 * followed by a canary, so ASan and the canary see any access out of bounds.
 */
#include "plrelay/fwdproxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

TestSuite(fwdresponse, .timeout = 10);

#define CANARY_BYTES 64
#define CANARY 0xA5

struct outcome {
    ssize_t n;
    struct plr_fwd_response resp;
    char out[PLR_FWD_RESPONSE_HEAD_MAX_BYTES + 64];
};

static struct outcome o; /* large: keep it off the test's stack */

/* Run plr_fwd_response on an exact-size heap copy of head with an output capacity of cap (or
 * head_len + 32 when cap is (size_t)-1), checking the canary after the output. */
static ssize_t run_cap(const char *head, size_t head_len, bool request_head, bool keep_alive,
                       size_t cap)
{
    uint8_t *copy = malloc(head_len != 0 ? head_len : 1);
    cr_assert_not_null(copy);
    memcpy(copy, head, head_len);
    if (cap == (size_t)-1)
        cap = head_len + 32;
    char *out = malloc(cap + CANARY_BYTES);
    cr_assert_not_null(out);
    memset(out, CANARY, cap + CANARY_BYTES);
    memset(&o, 0, sizeof(o));
    o.n = plr_fwd_response(copy, head_len, request_head, keep_alive, &o.resp, out, cap);
    for (size_t i = 0; i < CANARY_BYTES; i++)
        cr_assert_eq((uint8_t)out[cap + i], CANARY, "written past out_cap %zu (byte %zu)", cap, i);
    cr_assert(o.n <= (ssize_t)cap, "returned %zd for a capacity of %zu", o.n, cap);
    if (o.n > 0) {
        cr_assert_lt((size_t)o.n, sizeof(o.out));
        memcpy(o.out, out, (size_t)o.n);
        o.out[o.n] = '\0';
    }
    free(out);
    free(copy);
    return o.n;
}

static ssize_t run(const char *head, bool request_head, bool keep_alive)
{
    return run_cap(head, strlen(head), request_head, keep_alive, (size_t)-1);
}

static void expect_out(const char *want)
{
    cr_assert_geq(o.n, 0, "refused a valid head");
    cr_assert_eq((size_t)o.n, strlen(want), "length %zd, want %zu:\n%s", o.n, strlen(want), o.out);
    cr_assert_str_eq(o.out, want);
}

/* ---- status line ------------------------------------------------------------------------------
 */

Test(fwdresponse, ok_with_content_length_is_copied_with_our_keep_alive)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                               "Content-Length: 5\r\n\r\n";
    run(head, false, true);
    expect_out("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
               "Connection: keep-alive\r\n\r\n");
    cr_assert_eq(o.resp.status, 200);
    cr_assert_not(o.resp.interim);
    cr_assert_eq(o.resp.content_length, 5);
    cr_assert_not(o.resp.chunked);
    cr_assert_not(o.resp.has_transfer_encoding);
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_LENGTH);
    cr_assert(o.resp.keep_alive);
}

Test(fwdresponse, client_not_wanting_keep_alive_gets_connection_close)
{
    run("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, false);
    expect_out("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n");
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_LENGTH);
    cr_assert_not(o.resp.keep_alive);
}

Test(fwdresponse, http10_status_line_and_any_reason_are_copied_verbatim)
{
    run("HTTP/1.0 404 Not   Found (really)\r\nContent-Length: 0\r\n\r\n", false, true);
    expect_out("HTTP/1.0 404 Not   Found (really)\r\nContent-Length: 0\r\n"
               "Connection: keep-alive\r\n\r\n");
    cr_assert_eq(o.resp.status, 404);
    cr_assert_eq(o.resp.content_length, 0);
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_LENGTH);
}

Test(fwdresponse, empty_reason_phrase_is_accepted)
{
    run("HTTP/1.1 200 \r\n\r\n", false, true); /* the shortest valid head: 17 bytes */
    expect_out("HTTP/1.1 200 \r\nConnection: close\r\n\r\n");
    cr_assert_eq(o.resp.status, 200);
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_UNTIL_CLOSE);
}

Test(fwdresponse, status_codes_are_read_as_three_digits)
{
    static const struct {
        const char *line;
        int status;
    } cases[] = {
        {"HTTP/1.1 100 Continue\r\n", 100}, {"HTTP/1.1 199 Whatever\r\n", 199},
        {"HTTP/1.1 201 Created\r\n", 201},  {"HTTP/1.1 302 Found\r\n", 302},
        {"HTTP/1.1 451 Legal\r\n", 451},    {"HTTP/1.1 503 Busy\r\n", 503},
        {"HTTP/1.1 599 X\r\n", 599},        {"HTTP/1.1 999 X\r\n", 999},
    };
    char head[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(head, sizeof(head), "%sContent-Length: 0\r\n\r\n", cases[i].line);
        cr_assert_geq(run(head, false, true), 0, "%s", cases[i].line);
        cr_assert_eq(o.resp.status, cases[i].status, "%s", cases[i].line);
    }
}

Test(fwdresponse, malformed_status_lines_are_refused)
{
    static const char *const heads[] = {
        "HTTP/1.2 200 OK\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 -20 OK\r\n\r\n",
        "HTTP/1.10 200 OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n\r\n\r\n",
        " HTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1\t200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\n\r\n",
        "HTTP/1.1 200 OK\r\r\n\r\n",
        "HTTP/1.1 200 O\nK\r\n\r\n",
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 200 OK",
        "",
        "HTTP/1.1 200",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
        cr_assert_eq(run(heads[i], false, true), -1, "accepted %s", heads[i]);
}

/* RFC 9112 §4: status-code = 3DIGIT, then SP. A fourth digit or a letter glued to the code is
 * not a status line this module may read as the first three digits of it. */
Test(fwdresponse, status_code_is_exactly_three_digits_followed_by_space)
{
    static const char *const heads[] = {
        "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 204x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
        cr_assert_eq(run(heads[i], false, true), -1, "accepted %s (status %d)", heads[i],
                     o.resp.status);
}

/* struct plr_fwd_response documents status as 100..999. */
Test(fwdresponse, status_below_100_is_refused)
{
    static const char *const heads[] = {
        "HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
        cr_assert_eq(run(heads[i], false, true), -1, "accepted %s (status %d)", heads[i],
                     o.resp.status);
}

/* ---- framing (RFC 9112 §6.3) --------------------------------------------------------------------
 */

Test(fwdresponse, head_request_has_no_body_whatever_the_fields_say)
{
    run("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", true, true);
    expect_out("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nConnection: keep-alive\r\n\r\n");
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_NONE);
    cr_assert_eq(o.resp.content_length, 1234);
    cr_assert(o.resp.keep_alive);

    run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, true);
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_NONE);
    cr_assert(o.resp.keep_alive);

    run("HTTP/1.1 200 OK\r\n\r\n", true, true); /* not until close: HEAD never has a body */
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_NONE);
    cr_assert(o.resp.keep_alive);
}

Test(fwdresponse, interim_1xx_is_passed_on_without_a_connection_field)
{
    run("HTTP/1.1 100 Continue\r\n\r\n", false, true);
    expect_out("HTTP/1.1 100 Continue\r\n\r\n");
    cr_assert(o.resp.interim);
    cr_assert_eq(o.resp.status, 100);
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_NONE);

    run("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\nConnection: close\r\n\r\n",
        false, false);
    expect_out("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n");
    cr_assert(o.resp.interim);
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_NONE);
}

Test(fwdresponse, no_content_and_not_modified_have_no_body)
{
    run("HTTP/1.1 204 No Content\r\n\r\n", false, true);
    expect_out("HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_NONE);
    cr_assert_not(o.resp.interim);
    cr_assert(o.resp.keep_alive);

    run("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\nETag: \"x\"\r\n\r\n", false, true);
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_NONE);
    cr_assert_eq(o.resp.content_length, 100);
    cr_assert(o.resp.keep_alive);
}

Test(fwdresponse, content_length_values)
{
    static const struct {
        const char *value;
        int64_t n;
    } ok[] = {
        {"0", 0},       {"7", 7},   {"007", 7},
        {"  42  ", 42}, {"\t9", 9}, {"999999999999999999", 999999999999999999LL},
    };
    char head[128];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length:%s\r\n\r\n", ok[i].value);
        cr_assert_geq(run(head, false, true), 0, "refused Content-Length %s", ok[i].value);
        cr_assert_eq(o.resp.content_length, ok[i].n, "%s", ok[i].value);
        cr_assert_eq(o.resp.framing, PLR_FWD_BODY_LENGTH);
        cr_assert(o.resp.keep_alive);
    }
    static const char *const bad[] = {
        "",
        "+5",
        "-1",
        "5 5",
        "5, 5",
        "5,6",
        "0x10",
        "1e3",
        "5;",
        "99999999999999999999",
        "18446744073709551621",
        "\xef\xbc\x95",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\n", bad[i]);
        cr_assert_eq(run(head, false, true), -1, "accepted Content-Length \"%s\" as %lld", bad[i],
                     (long long)o.resp.content_length);
    }
}

Test(fwdresponse, repeated_equal_content_length_is_one_length)
{
    run("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", false, true);
    cr_assert_geq(o.n, 0);
    cr_assert_eq(o.resp.content_length, 5);
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_LENGTH);
}

Test(fwdresponse, conflicting_content_length_is_refused)
{
    cr_assert_eq(
        run("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", false, true), -1);
    cr_assert_eq(run("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX: y\r\nCONTENT-LENGTH: 0\r\n\r\n",
                     false, true),
                 -1);
}

Test(fwdresponse, chunked_is_self_delimiting_and_keeps_the_client_connection)
{
    run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, true);
    expect_out("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n");
    cr_assert(o.resp.chunked);
    cr_assert(o.resp.has_transfer_encoding);
    cr_assert_eq(o.resp.content_length, -1);
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_CHUNKED);
    cr_assert(o.resp.keep_alive);
}

Test(fwdresponse, chunked_must_be_the_final_coding)
{
    static const struct {
        const char *fields;
        bool chunked;
    } cases[] = {
        {"Transfer-Encoding: CHUNKED\r\n", true},
        {"Transfer-Encoding: gzip, chunked\r\n", true},
        {"Transfer-Encoding: gzip,chunked \r\n", true},
        {"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", true},
        {"Transfer-Encoding: chunked, gzip\r\n", false},
        {"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", false},
        {"Transfer-Encoding: gzip\r\n", false},
        {"Transfer-Encoding: xchunked\r\n", false},
        {"Transfer-Encoding: chunked-x\r\n", false},
    };
    char head[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n%s\r\n", cases[i].fields);
        cr_assert_geq(run(head, false, true), 0, "refused %s", cases[i].fields);
        cr_assert(o.resp.has_transfer_encoding, "%s", cases[i].fields);
        cr_assert_eq(o.resp.chunked, cases[i].chunked, "%s", cases[i].fields);
        cr_assert_eq(o.resp.framing,
                     cases[i].chunked ? PLR_FWD_BODY_CHUNKED : PLR_FWD_BODY_UNTIL_CLOSE, "%s",
                     cases[i].fields);
        /* Not chunked last: the body ends only when the origin closes, so must the client. */
        cr_assert_eq(o.resp.keep_alive, cases[i].chunked, "%s", cases[i].fields);
        cr_assert(strstr(o.out, cases[i].chunked ? "\r\nConnection: keep-alive\r\n\r\n"
                                                 : "\r\nConnection: close\r\n\r\n") != NULL,
                  "%s", o.out);
    }
}

Test(fwdresponse, no_framing_means_until_close_and_a_closing_client)
{
    run("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", false, true);
    expect_out("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_UNTIL_CLOSE);
    cr_assert_eq(o.resp.content_length, -1);
    cr_assert_not(o.resp.keep_alive);

    run("HTTP/1.0 200 OK\r\n\r\n", false, true);
    cr_assert_eq(o.resp.framing, PLR_FWD_BODY_UNTIL_CLOSE);
    cr_assert_not(o.resp.keep_alive);
}

Test(fwdresponse, transfer_encoding_with_content_length_is_refused)
{
    cr_assert_eq(run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                     false, true),
                 -1);
    cr_assert_eq(run("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                     false, true),
                 -1);
    cr_assert_eq(run("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nTransfer-Encoding: gzip\r\n\r\n",
                     false, false),
                 -1);
    /* Even where no body follows, the head is a smuggling signal. */
    cr_assert_eq(run("HTTP/1.1 204 No\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
                     false, true),
                 -1);
}

/* ---- the keep-alive decision
 * ---------------------------------------------------------------------- */

Test(fwdresponse, keep_alive_needs_the_clients_wish_and_a_self_delimiting_body)
{
    static const struct {
        const char *head;
        bool request_head;
        enum plr_fwd_body framing;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", false, PLR_FWD_BODY_LENGTH},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, PLR_FWD_BODY_CHUNKED},
        {"HTTP/1.1 204 No Content\r\n\r\n", false, PLR_FWD_BODY_NONE},
        {"HTTP/1.1 304 Not Modified\r\n\r\n", false, PLR_FWD_BODY_NONE},
        {"HTTP/1.1 200 OK\r\n\r\n", true, PLR_FWD_BODY_NONE},
        {"HTTP/1.1 200 OK\r\n\r\n", false, PLR_FWD_BODY_UNTIL_CLOSE},
        {"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", false, PLR_FWD_BODY_LENGTH},
        {"HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 3\r\n\r\n", false,
         PLR_FWD_BODY_LENGTH},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int wanted = 0; wanted < 2; wanted++) {
            cr_assert_geq(run(cases[i].head, cases[i].request_head, wanted != 0), 0, "%s",
                          cases[i].head);
            cr_assert_eq(o.resp.framing, cases[i].framing, "%s", cases[i].head);
            bool expect = wanted && cases[i].framing != PLR_FWD_BODY_UNTIL_CLOSE;
            cr_assert_eq(o.resp.keep_alive, expect, "%s wanted=%d", cases[i].head, wanted);
            const char *c = expect ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
            const char *at = strstr(o.out, "\r\nConnection: ");
            cr_assert_not_null(at, "%s", o.out);
            cr_assert(strncmp(at + 2, c, strlen(c)) == 0, "%s", o.out);
            cr_assert_null(strstr(at + 2, "\r\nConnection: "), "two Connection fields: %s", o.out);
        }
    }
}

/* ---- hop-by-hop fields
 * ------------------------------------------------------------------------------ */

Test(fwdresponse, connection_keep_alive_and_proxy_connection_are_replaced)
{
    run("HTTP/1.1 200 OK\r\n"
        "Connection: close\r\n"
        "Server: origin\r\n"
        "keep-alive: timeout=5, max=100\r\n"
        "PROXY-CONNECTION: keep-alive\r\n"
        "Content-Length: 2\r\n"
        "connection: Keep-Alive\r\n"
        "X-Connection: kept\r\n"
        "Connection-Id: kept too\r\n"
        "Keep-Alive-Ish: kept\r\n"
        "\r\n",
        false, true);
    expect_out("HTTP/1.1 200 OK\r\n"
               "Server: origin\r\n"
               "Content-Length: 2\r\n"
               "X-Connection: kept\r\n"
               "Connection-Id: kept too\r\n"
               "Keep-Alive-Ish: kept\r\n"
               "Connection: keep-alive\r\n"
               "\r\n");
}

Test(fwdresponse, other_fields_are_copied_as_received_in_order)
{
    static const char head[] = "HTTP/1.1 201 Created\r\n"
                               "Location: /x?a=1\r\n"
                               "Set-Cookie: a=1\r\n"
                               "Set-Cookie: b=2\r\n"
                               "X-Empty:\r\n"
                               "X-Obs-Text: caf\xc3\xa9\r\n"
                               "Content-Length: 0\r\n"
                               "\r\n";
    run(head, false, false);
    expect_out("HTTP/1.1 201 Created\r\n"
               "Location: /x?a=1\r\n"
               "Set-Cookie: a=1\r\n"
               "Set-Cookie: b=2\r\n"
               "X-Empty:\r\n"
               "X-Obs-Text: caf\xc3\xa9\r\n"
               "Content-Length: 0\r\n"
               "Connection: close\r\n"
               "\r\n");
}

/* ---- refusals
 * ------------------------------------------------------------------------------------- */

Test(fwdresponse, malformed_field_lines_are_refused)
{
    static const char *const heads[] = {
        /* bare LF */
        "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n",
        "HTTP/1.1 200 OK\r\nX: y\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n",
        /* bare CR */
        "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: y\r\r\n\r\n",
        /* obs-fold */
        "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n Content-Length: 0\r\n\r\n",
        /* whitespace before the colon */
        "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding\t: chunked\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n",
        /* no name, no colon, not a token */
        "HTTP/1.1 200 OK\r\n: empty-name\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX(y): z\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX\"y: z\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
        cr_assert_eq(run(heads[i], false, true), -1, "accepted:\n%s", heads[i]);
}

Test(fwdresponse, head_must_end_exactly_at_head_len)
{
    static const char full[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    size_t head_len = sizeof(full) - 1 - 2;
    cr_assert_geq(run_cap(full, head_len, false, true, (size_t)-1), 0);
    /* Every shorter prefix lacks the final CRLF CRLF; a longer span holds body bytes. */
    for (size_t len = 0; len < head_len; len++)
        cr_assert_eq(run_cap(full, len, false, true, (size_t)-1), -1, "accepted %zu bytes", len);
    cr_assert_eq(run_cap(full, head_len + 1, false, true, (size_t)-1), -1);
    cr_assert_eq(run_cap(full, head_len + 2, false, true, (size_t)-1), -1);
}

Test(fwdresponse, too_small_output_buffer_is_refused_without_writing_past_it)
{
    static const char *const heads[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n",
    };
    for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
        size_t len = strlen(heads[h]);
        ssize_t need = run_cap(heads[h], len, false, true, (size_t)-1);
        cr_assert_gt(need, 0);
        cr_assert_leq((size_t)need, len + 32, "head_len + 32 must suffice");
        char want[256];
        memcpy(want, o.out, (size_t)need + 1);
        /* Exactly enough works and gives the same bytes; every smaller capacity is -1 (the
         * canary after the buffer is checked by run_cap). */
        cr_assert_eq(run_cap(heads[h], len, false, true, (size_t)need), need);
        cr_assert_str_eq(o.out, want);
        for (size_t cap = 0; cap < (size_t)need; cap++)
            cr_assert_eq(run_cap(heads[h], len, false, true, cap), -1, "cap %zu of %zd", cap, need);
    }
}

Test(fwdresponse, head_len_plus_32_suffices_for_a_maximal_rewrite)
{
    /* No field of the origin's is dropped and ours is the longer one: the worst growth. */
    static char head[PLR_FWD_RESPONSE_HEAD_MAX_BYTES];
    size_t n = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n");
    while (n + 40 < sizeof(head))
        n += (size_t)snprintf(head + n, sizeof(head) - n, "X-Field-%05zu: value\r\n", n);
    n += (size_t)snprintf(head + n, sizeof(head) - n, "\r\n");
    cr_assert_leq(n, sizeof(head));
    ssize_t got = run_cap(head, n, false, true, (size_t)-1);
    cr_assert_eq((size_t)got, n + strlen("Connection: keep-alive\r\n"));
    cr_assert(strstr(o.out, "\r\nConnection: keep-alive\r\n\r\n") != NULL);
}
