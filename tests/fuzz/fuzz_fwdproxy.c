/*
 * fuzz_fwdproxy — libFuzzer target for the forward-proxy request-head parser: whole input, the
 * chunking differential, and the builders (reply, origin-form rewrite with a re-parse round trip).
 *
 * Input layout: byte 0 picks max_head_bytes from a table, byte 1 seeds the split points, the rest
 * is what the client sent. The parser runs once on everything, then on growing prefixes cut at
 * pseudo-random points: each prefix must give AGAIN until the one-shot verdict appears, and from
 * then on exactly that verdict, status, reason and consumed count. Every parse gets its own
 * exact-size heap copy so ASan sees any read past len. An ERR verdict must make a reply; an OK
 * absolute-form head is rewritten for the origin, the rewrite is turned back into absolute form
 * (request line only) and must parse to the same destination and framing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plrelay/fwdproxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct verdict {
    enum plr_fwd_result r;
    size_t consumed;
    int status;
    const char *reason;
};

static const size_t limits[8] = {0, 1, 16, 40, 64, 128, 512, 8192};

static struct plr_fwd_request whole_req, part_req, back_req;

static void run(const uint8_t *in, size_t n, size_t max, struct verdict *v,
                struct plr_fwd_request *req)
{
    uint8_t *copy = malloc(n != 0 ? n : 1);
    if (copy == NULL)
        abort();
    if (n != 0)
        memcpy(copy, in, n);
    v->r = plr_fwd_parse(copy, n, max, &v->consumed, req, &v->status, &v->reason);
    free(copy);
}

static bool known_error_status(int s)
{
    return s == 400 || s == 405 || s == 414 || s == 431 || s == 501 || s == 505;
}

static void check_request(const struct plr_fwd_request *r, const uint8_t *in, size_t n, size_t max)
{
    size_t h = r->head_len;
    if (h < 4 || h > n || h > max || memcmp(in + h - 4, "\r\n\r\n", 4) != 0)
        abort();
    for (size_t i = 0; i < h; i++)
        if (in[i] == 0 || (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')))
            abort();
    if (r->host_len == 0 || r->host_len > PLR_FWD_HOST_MAX_BYTES ||
        strlen(r->host) != r->host_len || r->port == 0 || (unsigned)r->http_minor > 1)
        abort();
    if ((r->kind == PLR_FWD_KIND_CONNECT) != (r->method == PLR_FWD_METHOD_CONNECT))
        abort();
    if (r->kind == PLR_FWD_KIND_CONNECT &&
        (r->path_len != 0 || !r->port_explicit || r->chunked || r->content_length > 0))
        abort();
    if (r->path_off + r->path_len > h || r->target_off + r->target_len > h)
        abort();
    if (r->content_length < -1 || (r->chunked && r->content_length != -1))
        abort();
    if (r->field_count > PLR_FWD_MAX_FIELDS)
        abort();
    for (size_t i = 0; i < r->field_count; i++) {
        const struct plr_fwd_field *f = &r->fields[i];
        if (f->name_len == 0 || f->name_off + f->name_len > h || f->value_off + f->value_len > h)
            abort();
    }
    if (r->host_field >= (int)r->field_count || r->proxy_auth_field >= (int)r->field_count)
        abort();
    if (r->host_field >= 0 && r->fields[r->host_field].id != PLR_FWD_H_HOST)
        abort();
    if (r->http_minor == 1 && r->host_field < 0)
        abort();
}

static uint32_t next_rand(uint32_t *state)
{
    uint32_t x = *state; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Feed growing prefixes; small inputs byte by byte, larger ones at random cut points. */
static void check_chunking(const uint8_t *in, size_t n, size_t max, uint8_t seed,
                           const struct verdict *whole)
{
    uint32_t state = 0x9E3779B9u ^ ((uint32_t)seed * 0x01000193u);
    unsigned max_step = n <= 64 ? 1 : 1 + seed % 64;
    bool decided = false;
    struct verdict part;
    for (size_t k = 0; k < n;) {
        size_t step = 1 + next_rand(&state) % max_step;
        k = n - k < step ? n : k + step;
        run(in, k, max, &part, &part_req);
        if (part.r == PLR_FWD_AGAIN) {
            if (decided || part.consumed != 0 || part.status != 0)
                abort();
            continue;
        }
        decided = true;
        if (part.r != whole->r || part.consumed != whole->consumed ||
            part.status != whole->status || strcmp(part.reason, whole->reason) != 0)
            abort();
    }
    if (!decided && whole->r != PLR_FWD_AGAIN)
        abort();
}

/* The rewrite is well formed and, put back in absolute form, parses to the same request. */
static void check_origin(const struct plr_fwd_request *r, const uint8_t *in)
{
    static char out[65536 + PLR_FWD_ORIGIN_EXTRA_BYTES];
    static uint8_t back[sizeof out + 400];
    size_t cap = r->head_len + PLR_FWD_ORIGIN_EXTRA_BYTES;
    ssize_t w = plr_fwd_build_origin_request(r, in, true, out, cap);
    if (w < 0 || (size_t)w > cap ||
        plr_fwd_build_origin_request(r, in, true, out, (size_t)w - 1) != -1)
        abort();
    w = plr_fwd_build_origin_request(r, in, true, out, cap);
    size_t n = (size_t)w;
    if (n < 4 || memcmp(out + n - 4, "\r\n\r\n", 4) != 0)
        abort();
    for (size_t i = 0; i < n; i++)
        if (out[i] == 0 || (out[i] == '\n' && (i == 0 || out[i - 1] != '\r')))
            abort();

    /* "METHOD <target> HTTP/1.1\r\nHost: <authority>\r\n..." → "METHOD http://<authority><target>"
     */
    const char *sp1 = memchr(out, ' ', n);
    const char *eol = memchr(out, '\r', n);
    if (sp1 == NULL || eol == NULL || eol - sp1 < 10 || (size_t)(eol - out) + 8 > n ||
        memcmp(eol + 2, "Host: ", 6) != 0)
        abort();
    const char *target = sp1 + 1, *target_end = eol - 9; /* " HTTP/1.1" */
    const char *auth = eol + 8, *auth_end = memchr(auth, '\r', n - (size_t)(auth - out));
    if (auth_end == NULL)
        abort();
    size_t k = 0;
    memcpy(back + k, out, (size_t)(target - out));
    k += (size_t)(target - out);
    memcpy(back + k, "http://", 7);
    k += 7;
    memcpy(back + k, auth, (size_t)(auth_end - auth));
    k += (size_t)(auth_end - auth);
    if (!(target_end - target == 1 && target[0] == '*')) {
        memcpy(back + k, target, (size_t)(target_end - target));
        k += (size_t)(target_end - target);
    }
    memcpy(back + k, target_end, n - (size_t)(target_end - out));
    k += n - (size_t)(target_end - out);

    struct verdict v;
    run(back, k, k, &v, &back_req);
    if (v.r == PLR_FWD_ERR && v.status == 431 && r->field_count > PLR_FWD_MAX_FIELDS - 3)
        return; /* Host, Via and Connection added to a nearly full head */
    if (v.r != PLR_FWD_OK || back_req.kind != PLR_FWD_KIND_ABSOLUTE ||
        back_req.method != r->method || strcmp(back_req.host, r->host) != 0 ||
        back_req.port != r->port || back_req.host_kind != r->host_kind ||
        back_req.content_length != r->content_length || back_req.chunked != r->chunked ||
        back_req.conn != PLR_FWD_CONN_KEEP_ALIVE || back_req.proxy_auth_field != -1)
        abort();

    /* Rewriting the rewrite is a fixed point, except for one more Via of ours. */
    static const char tail[] = "Connection: keep-alive\r\n\r\n";
    static const char via[] = "Via: 1.1 plrelay\r\n";
    static char again[sizeof out + 64];
    ssize_t w2 = plr_fwd_build_origin_request(&back_req, back, true, again, sizeof again);
    size_t head = n - (sizeof tail - 1);
    if (w2 < 0 || (size_t)w2 != n + sizeof via - 1 || memcmp(again, out, head) != 0 ||
        memcmp(again + head, via, sizeof via - 1) != 0 ||
        memcmp(again + head + sizeof via - 1, tail, sizeof tail - 1) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max = limits[data[0] & 7];
    size_t eff_max = max != 0 ? max : PLR_FWD_DEFAULT_MAX_HEAD_BYTES;
    uint8_t seed = data[1];
    const uint8_t *in = data + 2;
    size_t n = size - 2;

    struct verdict whole;
    run(in, n, max, &whole, &whole_req);
    if (whole.reason == NULL || whole.reason[0] == '\0')
        abort();
    switch (whole.r) {
    case PLR_FWD_AGAIN:
        if (whole.consumed != 0 || whole.status != 0 || n >= eff_max)
            abort();
        break;
    case PLR_FWD_ERR: {
        char reply[PLR_FWD_REPLY_MAX_BYTES];
        if (whole.consumed != 0 || !known_error_status(whole.status) ||
            plr_fwd_reply(whole.status, whole.reason, reply, sizeof reply) <= 0)
            abort();
        break;
    }
    case PLR_FWD_OK:
        if (whole.status != 0 || whole.consumed != whole_req.head_len)
            abort();
        check_request(&whole_req, in, n, eff_max);
        if (whole_req.kind == PLR_FWD_KIND_ABSOLUTE)
            check_origin(&whole_req, in);
        break;
    default:
        abort();
    }
    check_chunking(in, n, max, seed, &whole);
    return 0;
}
