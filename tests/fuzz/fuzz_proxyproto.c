/*
 * fuzz_proxyproto — libFuzzer target for the PROXY v1/v2 parser: whole input, the chunking
 * differential, and builder round trips.
 *
 * Input layout: byte 0 picks the options (bits 0-1 accepted versions, bits 2-4 the v2 cap, bit 5
 * require_crc32c), byte 1 seeds the split points, the rest is what the peer sent. The parser is run
 * once on everything, then on growing prefixes cut at pseudo-random points: each prefix must give
 * AGAIN until the one-shot verdict appears, and from then on exactly that verdict, consumed count,
 * reason and header. Every parse gets its own exact-size heap copy so ASan sees any read past len.
 * A header that parses with addresses is rebuilt with both builders and must parse back the same.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <netinet/in.h>

#include "plrelay/proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct verdict {
    enum plr_pp_result r;
    size_t consumed;
    const char *reason;
    struct plr_pp_header h;
};

static const size_t caps[8] = {0, 16, 28, 52, 64, 256, 4096, PLR_PP_V2_MAX_BYTES};

static void run(const uint8_t *in, size_t n, const struct plr_pp_options *opt, struct verdict *v)
{
    uint8_t *copy = malloc(n != 0 ? n : 1);
    if (copy == NULL)
        abort();
    if (n != 0)
        memcpy(copy, in, n);
    v->r = plr_pp_parse(copy, n, &v->consumed, &v->h, opt, &v->reason);
    free(copy);
}

static void check_invariants(const struct verdict *v, size_t n, size_t cap)
{
    if (v->reason == NULL || v->reason[0] == '\0' || (unsigned)v->r > PLR_PP_ERR)
        abort();
    if (v->r != PLR_PP_OK) {
        if (v->consumed != 0)
            abort();
        /* a verdict is never withheld once a limit's worth of bytes is there */
        if (v->r == PLR_PP_AGAIN && n >= PLR_PP_V1_MAX_BYTES && n >= cap)
            abort();
        return;
    }
    const struct plr_pp_header *h = &v->h;
    if (v->consumed != h->header_len || v->consumed == 0 || v->consumed > n)
        abort();
    if (h->version == PLR_PP_VERSION_1 && h->header_len > PLR_PP_V1_MAX_BYTES)
        abort();
    if (h->version == PLR_PP_VERSION_2 &&
        (h->header_len < PLR_PP_V2_MIN_BYTES || h->header_len > cap))
        abort();
    if (h->tlv_offset + h->tlv_len > h->header_len || (h->tlv_len == 0) != (h->tlv_count == 0))
        abort();
    if (h->vpc_id.len > PLR_PP_ID_MAX_BYTES || h->endpoint_id.len > PLR_PP_ID_MAX_BYTES ||
        h->endpoint_service_id.len > PLR_PP_ID_MAX_BYTES ||
        h->authority_len > PLR_PP_AUTHORITY_MAX_BYTES)
        abort();
}

static void check_same(const struct verdict *a, const struct verdict *b)
{
    if (a->r != b->r || a->consumed != b->consumed || strcmp(a->reason, b->reason) != 0)
        abort();
    if (a->r == PLR_PP_OK && memcmp(&a->h, &b->h, sizeof a->h) != 0)
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
static void check_chunking(const uint8_t *in, size_t n, const struct plr_pp_options *opt,
                           uint8_t seed, const struct verdict *whole)
{
    uint32_t state = 0x9E3779B9u ^ ((uint32_t)seed * 0x01000193u);
    unsigned max_step = n <= 64 ? 1 : 1 + seed % 64;
    bool decided = false;
    struct verdict part;
    for (size_t k = 0; k < n;) {
        size_t step = 1 + next_rand(&state) % max_step;
        k = n - k < step ? n : k + step;
        run(in, k, opt, &part);
        if (part.r == PLR_PP_AGAIN) {
            if (decided || part.consumed != 0)
                abort();
            continue;
        }
        decided = true;
        check_same(&part, whole);
    }
    if (!decided && whole->r != PLR_PP_AGAIN)
        abort();
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && memcmp(&x->sin_addr, &y->sin_addr, 4) == 0;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
    }
    const struct sockaddr_un *x = (const void *)a, *y = (const void *)b;
    return memcmp(x->sun_path, y->sun_path, sizeof x->sun_path) == 0;
}

static bool same_id(const struct plr_pp_id *a, const struct plr_pp_id *b)
{
    return a->present == b->present && a->len == b->len && memcmp(a->value, b->value, a->len) == 0;
}

/* Rebuild what was parsed (send_proxy = v1 / v2 with the TLVs passed on) and parse it back. */
static void check_round_trip(const uint8_t *in, const struct plr_pp_header *h)
{
    static uint8_t out[PLR_PP_V2_MAX_BYTES];
    static const struct plr_pp_options any = {.max_v2_bytes = PLR_PP_V2_MAX_BYTES};
    const struct sockaddr *src = (const struct sockaddr *)&h->src;
    const struct sockaddr *dst = (const struct sockaddr *)&h->dst;
    struct verdict back;

    if (!h->has_addresses)
        return;
    if (h->family != PLR_PP_FAM_UNIX) {
        ssize_t n = plr_pp_build_v1(out, sizeof out, src, dst);
        if (n <= 0)
            abort();
        run(out, (size_t)n, &any, &back);
        if (back.r != PLR_PP_OK || back.consumed != (size_t)n || !same_addr(&back.h.src, &h->src) ||
            !same_addr(&back.h.dst, &h->dst))
            abort();
    }
    struct plr_pp_v2_params p = {
        .command = PLR_PP_CMD_PROXY,
        .src = src,
        .dst = dst,
        .tlvs = in + h->tlv_offset,
        .tlvs_len = h->tlv_len,
        .crc32c = true,
    };
    ssize_t n = plr_pp_build_v2(out, sizeof out, &p);
    if (n < 0) {
        if (h->tlv_len + 7 + 216 <= 65535)
            abort(); /* only a maximal header may not fit with a CRC added */
        return;
    }
    run(out, (size_t)n, &any, &back);
    if (back.r != PLR_PP_OK || back.consumed != (size_t)n || !back.h.crc32c_checked ||
        !same_addr(&back.h.src, &h->src) || !same_addr(&back.h.dst, &h->dst) ||
        !same_id(&back.h.vpc_id, &h->vpc_id) || !same_id(&back.h.endpoint_id, &h->endpoint_id) ||
        !same_id(&back.h.endpoint_service_id, &h->endpoint_service_id) ||
        back.h.authority_len != h->authority_len ||
        memcmp(back.h.authority, h->authority, h->authority_len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const enum plr_pp_accept accepts[4] = {PLR_PP_ACCEPT_ANY, PLR_PP_ACCEPT_V1,
                                                  PLR_PP_ACCEPT_V2, PLR_PP_ACCEPT_ANY};
    struct plr_pp_options opt = {
        .accept = accepts[data[0] & 3],
        .max_v2_bytes = caps[(data[0] >> 2) & 7],
        .require_crc32c = (data[0] & 0x20) != 0,
    };
    size_t cap = opt.max_v2_bytes != 0 ? opt.max_v2_bytes : PLR_PP_V2_DEFAULT_CAP_BYTES;
    const uint8_t *in = data + 2;
    size_t n = size - 2;

    struct verdict whole;
    run(in, n, &opt, &whole);
    check_invariants(&whole, n, cap);
    check_chunking(in, n, &opt, data[1], &whole);
    if (whole.r == PLR_PP_OK)
        check_round_trip(in, &whole.h);
    return 0;
}
