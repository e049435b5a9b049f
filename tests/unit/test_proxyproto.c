/*
 * test_proxyproto — unit tests for the pure PROXY v1/v2 parser and builders
 * (src/relay/proxyproto.c).
 *
 * Covers every vector of docs/reliability.md §3, the parser-side malformed classes of §8 cases
 * 1-13 (tables), the chunking property (every header fed one byte at a time and split at every
 * offset gives the one-shot verdict), DECLINED for non-PROXY traffic, and builder round trips.
 * Vectors are written as hex (v2) or C literals with explicit lengths (v1): v2 bytes contain NUL.
 */
#include "plrelay/proxyproto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <criterion/criterion.h>

TestSuite(proxyproto, .timeout = 10);

#define SIG "0d0a0d0a000d0a515549540a"
#define BB_CAP 8192

/* ---- helpers --------------------------------------------------------------------------------- */

/* A byte buffer built from hex text, raw bytes and TLVs. */
struct bb {
    size_t n;
    uint8_t b[BB_CAP];
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Append hex digits; spaces are ignored. */
static void bb_hex(struct bb *bb, const char *hex)
{
    for (const char *p = hex; *p != '\0';) {
        if (*p == ' ') {
            p++;
            continue;
        }
        int hi = hexval(p[0]), lo = p[1] != '\0' ? hexval(p[1]) : -1;
        cr_assert(hi >= 0 && lo >= 0, "bad hex in test vector: %s", hex);
        cr_assert(bb->n < BB_CAP);
        bb->b[bb->n++] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
}

static void bb_raw(struct bb *bb, const void *p, size_t n)
{
    cr_assert(bb->n + n <= BB_CAP);
    if (n == 0)
        return;
    memcpy(bb->b + bb->n, p, n);
    bb->n += n;
}

static void bb_fill(struct bb *bb, uint8_t byte, size_t n)
{
    cr_assert(bb->n + n <= BB_CAP);
    memset(bb->b + bb->n, byte, n);
    bb->n += n;
}

static void bb_tlv(struct bb *bb, uint8_t type, const void *v, size_t n)
{
    uint8_t h[3] = {type, (uint8_t)(n >> 8), (uint8_t)n};
    bb_raw(bb, h, 3);
    bb_raw(bb, v, n);
}

/* 0xE1 TLV: sub-type byte then the id. */
static void bb_e1(struct bb *bb, uint8_t sub, const void *id, size_t n)
{
    uint8_t v[300];
    cr_assert(n + 1 <= sizeof v);
    v[0] = sub;
    memcpy(v + 1, id, n);
    bb_tlv(bb, 0xE1, v, n + 1);
}

/* Start a v2 header: signature, ver/cmd, fam/proto, len to be fixed by bb_fix_len. */
static void bb_v2(struct bb *bb, uint8_t ver_cmd, uint8_t fam_proto)
{
    bb->n = 0;
    bb_hex(bb, SIG);
    uint8_t h[4] = {ver_cmd, fam_proto, 0, 0};
    bb_raw(bb, h, 4);
}

static void bb_fix_len(struct bb *bb)
{
    size_t len = bb->n - 16;
    bb->b[14] = (uint8_t)(len >> 8);
    bb->b[15] = (uint8_t)len;
}

/* TCP4 127.0.0.1:42 -> 127.0.0.1:1337, the HAProxy reg-test addresses. */
static void bb_tcp4_start(struct bb *bb)
{
    bb_v2(bb, 0x21, 0x11);
    bb_hex(bb, "7f000001 7f000001 002a 0539");
}

static enum plr_pp_result parse(const uint8_t *b, size_t n, size_t *consumed,
                                struct plr_pp_header *h, const char **reason)
{
    return plr_pp_parse(b, n, consumed, h, NULL, reason);
}

static void assert_in4(const struct sockaddr_storage *ss, const char *ip, unsigned port)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    struct in_addr want;
    cr_assert_eq(inet_pton(AF_INET, ip, &want), 1);
    cr_assert_eq(sin->sin_family, AF_INET);
    cr_assert_eq(memcmp(&sin->sin_addr, &want, 4), 0, "address is not %s", ip);
    cr_assert_eq(ntohs(sin->sin_port), port);
}

static void assert_in6(const struct sockaddr_storage *ss, const char *ip, unsigned port)
{
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    struct in6_addr want;
    cr_assert_eq(inet_pton(AF_INET6, ip, &want), 1);
    cr_assert_eq(sin6->sin6_family, AF_INET6);
    cr_assert_eq(memcmp(&sin6->sin6_addr, &want, 16), 0, "address is not %s", ip);
    cr_assert_eq(ntohs(sin6->sin6_port), port);
}

static void assert_id(const struct plr_pp_id *id, const void *want, size_t n)
{
    cr_assert(id->present);
    cr_assert_eq(id->len, n);
    cr_assert_eq(memcmp(id->value, want, n), 0);
}

static struct sockaddr_in sin4(const char *ip, unsigned port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    s.sin_port = htons((uint16_t)port);
    cr_assert_eq(inet_pton(AF_INET, ip, &s.sin_addr), 1);
    return s;
}

static struct sockaddr_in6 sin6(const char *ip, unsigned port)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof s);
    s.sin6_family = AF_INET6;
    s.sin6_port = htons((uint16_t)port);
    cr_assert_eq(inet_pton(AF_INET6, ip, &s.sin6_addr), 1);
    return s;
}

/* ---- §3 vectors ------------------------------------------------------------------------------ */

static const char v1_spec[] = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
#define V2_REGTEST SIG "2111 0014 7f000001 7f000001 002a 0539 020005 3132333435"
#define V2_OVERRUN SIG "2111 0014 7f000001 7f000001 002a 0539 02000a 3132333435"
#define V2_OVERRUN_10 SIG "2111 0014 7f000001 7f000001 002a 0539 02000a 31323334353637383930"
#define V2_STRAY SIG "2111 0014 7f000001 7f000001 002a 0539 020004 3132333435"
#define V2_NULS                                                                       \
    SIG "2111 002f 7f0000017f000001002a0539 020006 7075626c6963 050006 7075626c6963 " \
        "e10006 7075626c6963 200005 0000000000"
#define V2_CRC SIG "2111 0013 c0000201 c6336402 dc04 01bb 030004 20ec9549"
#define V2_LOCAL12 SIG "2000 000c 000000000000000000000000"
#define V2_TCP6 \
    SIG "2121 0024 20010db8000000000000000000000001 20010db8000000000000000000000002 04d2 027c"
#define V2_ALIBABA SIG "2111 0019 7f000001 7f000001 002a 0539 e1000a02 65702d627031616263"

Test(proxyproto, v1_accepts_spec_tcp4_vector)
{
    struct plr_pp_header h;
    size_t consumed;
    const char *reason;
    enum plr_pp_result r =
        parse((const uint8_t *)v1_spec, sizeof v1_spec - 1, &consumed, &h, &reason);
    cr_assert_eq(r, PLR_PP_OK, "%s", reason);
    cr_assert_eq(consumed, sizeof v1_spec - 1);
    cr_assert_eq(h.header_len, consumed);
    cr_assert_eq(h.version, PLR_PP_VERSION_1);
    cr_assert_eq(h.command, PLR_PP_CMD_PROXY);
    cr_assert_eq(h.family, PLR_PP_FAM_INET);
    cr_assert_eq(h.transport, PLR_PP_TRANSPORT_STREAM);
    cr_assert(h.has_addresses);
    assert_in4(&h.src, "192.168.0.1", 56324);
    assert_in4(&h.dst, "192.168.0.11", 443);
    cr_assert_str_eq(reason, "ok");
}

Test(proxyproto, v2_accepts_haproxy_regtest_vector_with_authority)
{
    struct bb bb = {0};
    bb_hex(&bb, V2_REGTEST);
    struct plr_pp_header h;
    size_t consumed;
    const char *reason;
    cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, &reason), PLR_PP_OK, "%s", reason);
    cr_assert_eq(consumed, 36);
    cr_assert_eq(h.version, PLR_PP_VERSION_2);
    cr_assert_eq(h.command, PLR_PP_CMD_PROXY);
    assert_in4(&h.src, "127.0.0.1", 42);
    assert_in4(&h.dst, "127.0.0.1", 1337);
    cr_assert(h.has_authority);
    cr_assert_eq(h.authority_len, 5);
    cr_assert_eq(memcmp(h.authority, "12345", 5), 0);
    cr_assert_eq(h.tlv_offset, 28);
    cr_assert_eq(h.tlv_len, 8);
    cr_assert_eq(h.tlv_count, 1);
    cr_assert_not(h.crc32c_checked);
}

Test(proxyproto, v2_rejects_regtest_tlv_overrun_and_stray_byte)
{
    static const struct {
        const char *hex, *reason;
    } rows[] = {
        {V2_OVERRUN, "TLV overruns header"},
        {V2_OVERRUN_10, "TLV overruns header"},
        {V2_STRAY, "stray bytes"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct bb bb = {0};
        bb_hex(&bb, rows[i].hex);
        struct plr_pp_header h;
        const char *reason;
        size_t consumed = 99;
        cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, &reason), PLR_PP_ERR, "row %zu", i);
        cr_assert_eq(consumed, 0);
        cr_assert(strstr(reason, rows[i].reason) != NULL, "row %zu: %s", i, reason);
    }
}

Test(proxyproto, v2_accepts_tlvs_with_embedded_nuls)
{
    struct bb bb = {0};
    bb_hex(&bb, V2_NULS);
    struct plr_pp_header h;
    const char *reason;
    size_t consumed;
    cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, &reason), PLR_PP_OK, "%s", reason);
    cr_assert_eq(consumed, 16 + 0x2f);
    cr_assert_eq(h.tlv_count, 4);
    cr_assert(h.has_authority);
    cr_assert_eq(h.authority_len, 6);
    cr_assert_eq(memcmp(h.authority, "public", 6), 0);
    /* 0xE1 with sub-type 'p' (0x70) is not one of the three ids: ignored, kept raw */
    cr_assert_not(h.vpc_id.present);
    cr_assert_not(h.endpoint_id.present);
    cr_assert_not(h.endpoint_service_id.present);
}

Test(proxyproto, v2_crc32c_vector_is_accepted)
{
    struct bb bb = {0};
    bb_hex(&bb, V2_CRC);
    struct plr_pp_header h;
    const char *reason;
    size_t consumed;
    cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, &reason), PLR_PP_OK, "%s", reason);
    cr_assert_eq(consumed, 35);
    cr_assert(h.crc32c_checked);
    assert_in4(&h.src, "192.0.2.1", 56324);
    assert_in4(&h.dst, "198.51.100.2", 443);
}

/* Flip each bit of a checksummed header (followed by enough bytes that a flipped length can never
 * leave the parser at AGAIN). Required CRC: every flip is refused. Optional CRC: every flip is
 * refused except in the CRC TLV's own type byte, which turns it into another TLV and leaves a
 * header without a checksum, indistinguishable from one sent without. */
static void check_bit_flips(uint8_t *b, size_t hdr, size_t len, size_t crc_type_at)
{
    struct plr_pp_options required = {.require_crc32c = true};
    for (size_t bit = 0; bit < hdr * 8; bit++) {
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        struct plr_pp_header h;
        const char *reason;
        enum plr_pp_result r = plr_pp_parse(b, len, NULL, &h, &required, &reason);
        cr_assert(r == PLR_PP_ERR || r == PLR_PP_DECLINED, "required, bit %zu: %s", bit, reason);
        if (bit / 8 >= 16)
            cr_assert_eq(r, PLR_PP_ERR, "required, bit %zu", bit);
        r = plr_pp_parse(b, len, NULL, &h, NULL, &reason);
        if (bit / 8 == crc_type_at)
            cr_assert(r != PLR_PP_OK || !h.crc32c_checked, "bit %zu", bit);
        else
            cr_assert(r == PLR_PP_ERR || r == PLR_PP_DECLINED, "bit %zu: %s", bit, reason);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    struct plr_pp_header h;
    cr_assert_eq(plr_pp_parse(b, len, NULL, &h, &required, NULL), PLR_PP_OK);
    cr_assert(h.crc32c_checked);
}

Test(proxyproto, v2_crc32c_rejects_every_single_bit_flip)
{
    struct bb bb = {0};
    bb_hex(&bb, V2_CRC);
    size_t hdr = bb.n;
    bb_fill(&bb, 0, 4200);
    check_bit_flips(bb.b, hdr, bb.n, 28);
}

Test(proxyproto, v2_crc32c_is_checked_when_a_flipped_bit_makes_the_header_local)
{
    struct bb bb = {0};
    bb_hex(&bb, V2_CRC);
    bb.b[12] = 0x20; /* PROXY -> LOCAL */
    const char *reason;
    cr_assert_eq(parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, &reason), PLR_PP_ERR);
    cr_assert_str_eq(reason, "v2: bad CRC32C");

    /* a LOCAL header whose CRC is right is accepted, and says so */
    memset(bb.b + 31, 0, 4);
    uint32_t crc = plr_pp_crc32c(bb.b, bb.n);
    bb.b[31] = (uint8_t)(crc >> 24);
    bb.b[32] = (uint8_t)(crc >> 16);
    bb.b[33] = (uint8_t)(crc >> 8);
    bb.b[34] = (uint8_t)crc;
    struct plr_pp_header h;
    cr_assert_eq(parse(bb.b, bb.n, NULL, &h, &reason), PLR_PP_OK, "%s", reason);
    cr_assert_eq(h.command, PLR_PP_CMD_LOCAL);
    cr_assert(h.crc32c_checked);
    cr_assert_not(h.has_addresses);
}

Test(proxyproto, v2_require_crc32c_refuses_proxy_headers_without_one)
{
    struct plr_pp_options opt = {.require_crc32c = true};
    struct bb bb = {0};
    bb_hex(&bb, V2_REGTEST);
    const char *reason;
    cr_assert_eq(plr_pp_parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, &opt, &reason),
                 PLR_PP_ERR);
    cr_assert_str_eq(reason, "v2: no CRC32C TLV but one is required");
    bb = (struct bb){0};
    bb_hex(&bb, SIG "2100 0000");
    cr_assert_eq(plr_pp_parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, &opt, NULL),
                 PLR_PP_ERR);
    bb = (struct bb){0};
    bb_hex(&bb, V2_LOCAL12); /* health checks carry no CRC */
    cr_assert_eq(plr_pp_parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, &opt, NULL), PLR_PP_OK);
    bb = (struct bb){0};
    bb_hex(&bb, V2_CRC);
    cr_assert_eq(plr_pp_parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, &opt, NULL), PLR_PP_OK);
}

Test(proxyproto, v2_crc32c_mismatch_names_the_defect)
{
    struct bb bb = {0};
    bb_hex(&bb, SIG "2111 0013 c0000201 c6336402 dc04 01bb 030004 20ec9548");
    struct plr_pp_header h;
    const char *reason;
    cr_assert_eq(parse(bb.b, bb.n, NULL, &h, &reason), PLR_PP_ERR);
    cr_assert_str_eq(reason, "v2: bad CRC32C");
}

Test(proxyproto, v2_local_skips_12_byte_block)
{
    struct bb bb = {0};
    bb_hex(&bb, V2_LOCAL12);
    bb_raw(&bb, "payload", 7);
    struct plr_pp_header h;
    size_t consumed;
    const char *reason;
    cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, &reason), PLR_PP_OK, "%s", reason);
    cr_assert_eq(consumed, 28);
    cr_assert_eq(h.command, PLR_PP_CMD_LOCAL);
    cr_assert_eq(h.family, PLR_PP_FAM_UNSPEC);
    cr_assert_not(h.has_addresses);
    cr_assert_eq(h.tlv_len, 0);
}

Test(proxyproto, v2_local_with_len_0_is_accepted)
{
    struct bb bb = {0};
    bb_hex(&bb, SIG "2000 0000");
    struct plr_pp_header h;
    size_t consumed;
    cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, NULL), PLR_PP_OK);
    cr_assert_eq(consumed, 16);
    cr_assert_eq(h.command, PLR_PP_CMD_LOCAL);
    cr_assert_not(h.has_addresses);
}

Test(proxyproto, v2_local_ignores_family_and_block_content)
{
    /* LOCAL + TCP4 family with a block that would be malformed TLVs under PROXY: skipped */
    struct bb bb = {0};
    bb_v2(&bb, 0x20, 0x11);
    bb_hex(&bb, "0a000001 0a000002 0001 0002 02ffff 01");
    bb_fix_len(&bb);
    struct plr_pp_header h;
    size_t consumed;
    cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, NULL), PLR_PP_OK);
    cr_assert_eq(consumed, bb.n);
    cr_assert_eq(h.command, PLR_PP_CMD_LOCAL);
    cr_assert_eq(h.family, PLR_PP_FAM_UNSPEC);
    cr_assert_not(h.has_addresses);
}

Test(proxyproto, v2_local_accepts_a_block_shorter_than_its_family_needs)
{
    struct bb bb = {0};
    bb_hex(&bb, SIG "2021 000c 000000000000000000000000");
    struct plr_pp_header h;
    size_t consumed;
    cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, NULL), PLR_PP_OK);
    cr_assert_eq(consumed, 28);
    cr_assert_eq(h.command, PLR_PP_CMD_LOCAL);
}

Test(proxyproto, v2_proxy_unspec_uses_socket_addresses)
{
    struct bb bb = {0};
    bb_hex(&bb, SIG "2100 0003 abcdef");
    struct plr_pp_header h;
    size_t consumed;
    cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, NULL), PLR_PP_OK);
    cr_assert_eq(consumed, 19);
    cr_assert_eq(h.command, PLR_PP_CMD_PROXY);
    cr_assert_not(h.has_addresses);
}

Test(proxyproto, v2_accepts_tcp6_vector)
{
    struct bb bb = {0};
    bb_hex(&bb, V2_TCP6);
    struct plr_pp_header h;
    size_t consumed;
    const char *reason;
    cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, &reason), PLR_PP_OK, "%s", reason);
    cr_assert_eq(consumed, 52);
    cr_assert_eq(h.family, PLR_PP_FAM_INET6);
    assert_in6(&h.src, "2001:db8::1", 1234);
    assert_in6(&h.dst, "2001:db8::2", 636);
    cr_assert_eq(h.tlv_count, 0);
}

Test(proxyproto, v2_decodes_alibaba_endpoint_id_tlv)
{
    struct bb bb = {0};
    bb_hex(&bb, V2_ALIBABA);
    struct plr_pp_header h;
    size_t consumed;
    const char *reason;
    cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, &reason), PLR_PP_OK, "%s", reason);
    cr_assert_eq(consumed, 41);
    assert_id(&h.endpoint_id, "ep-bp1abc", 9);
    cr_assert_not(h.vpc_id.present);
    cr_assert_not(h.endpoint_service_id.present);
}

Test(proxyproto, v2_decodes_several_alibaba_tlvs_all_three_subtypes)
{
    struct bb bb = {0};
    bb_tcp4_start(&bb);
    bb_e1(&bb, 0x01, "vpc-bp1qwerty", 13);
    bb_tlv(&bb, 0x04, "", 0);
    bb_e1(&bb, 0x03, "epsrv-bp1xyz", 12);
    bb_e1(&bb, 0x02, "ep-bp1i4db71e6adaa29718", 23);
    bb_e1(&bb, 0x7f, "future", 6);
    bb_fix_len(&bb);
    struct plr_pp_header h;
    const char *reason;
    cr_assert_eq(parse(bb.b, bb.n, NULL, &h, &reason), PLR_PP_OK, "%s", reason);
    assert_id(&h.vpc_id, "vpc-bp1qwerty", 13);
    assert_id(&h.endpoint_id, "ep-bp1i4db71e6adaa29718", 23);
    assert_id(&h.endpoint_service_id, "epsrv-bp1xyz", 12);
    cr_assert_eq(h.tlv_count, 5);
}

Test(proxyproto, v2_keeps_id_bytes_exactly_including_nul_newline_and_high_bytes)
{
    static const uint8_t odd[] = {'e', 'p', 0x00, '-', '\n', 0xff, 0xc3, 0x28, 0x00};
    struct bb bb = {0};
    bb_tcp4_start(&bb);
    bb_e1(&bb, 0x02, odd, sizeof odd);
    bb_e1(&bb, 0x01, "", 0);
    bb_tlv(&bb, 0x02, "a\0b", 3);
    bb_fix_len(&bb);
    struct plr_pp_header h;
    const char *reason;
    cr_assert_eq(parse(bb.b, bb.n, NULL, &h, &reason), PLR_PP_OK, "%s", reason);
    assert_id(&h.endpoint_id, odd, sizeof odd);
    assert_id(&h.vpc_id, "", 0);
    cr_assert_eq(h.authority_len, 3);
    cr_assert_eq(memcmp(h.authority, "a\0b", 3), 0);
}

Test(proxyproto, v2_accepts_ids_of_128_bytes_and_rejects_129)
{
    uint8_t id[129];
    memset(id, 'x', sizeof id);
    for (size_t n = 127; n <= 129; n++) {
        struct bb bb = {0};
        bb_tcp4_start(&bb);
        bb_e1(&bb, 0x03, id, n);
        bb_fix_len(&bb);
        struct plr_pp_header h;
        const char *reason;
        enum plr_pp_result r = parse(bb.b, bb.n, NULL, &h, &reason);
        if (n <= 128) {
            cr_assert_eq(r, PLR_PP_OK, "%zu: %s", n, reason);
            assert_id(&h.endpoint_service_id, id, n);
        } else {
            cr_assert_eq(r, PLR_PP_ERR);
            cr_assert_str_eq(reason, "v2: 0xE1 id longer than 128 bytes");
        }
    }
}

/* §8 case 4: every TLV kind, TCP4 and TCP6, payload in the same write. */
Test(proxyproto, v2_parses_every_tlv_kind_with_payload_in_the_same_buffer)
{
    static const char payload[] = "\x30\x0c\x02\x01\x01\x60\x07 ldap bind";
    uint8_t uid[128], ssl[64];
    memset(uid, 0xAB, sizeof uid);
    for (int fam = 0; fam < 2; fam++) {
        struct bb bb = {0};
        if (fam == 0) {
            bb_tcp4_start(&bb);
        } else {
            bb_v2(&bb, 0x21, 0x21);
            bb_hex(&bb, "20010db8000000000000000000000001 20010db8000000000000000000000002 "
                        "04d2 027c");
        }
        size_t n = 0;
        ssl[n++] = 0x07;               /* client: SSL, cert conn, cert sess */
        memset(ssl + n, 0, 4), n += 4; /* verify: ok */
        memcpy(ssl + n, "\x21\x00\x07TLSv1.3", 10), n += 10;
        memcpy(ssl + n,
               "\x22\x00\x02"
               "CN",
               5),
            n += 5;
        memcpy(ssl + n,
               "\x23\x00\x03"
               "AES",
               6),
            n += 6;
        memcpy(ssl + n,
               "\x24\x00\x03"
               "RSA",
               6),
            n += 6;
        memcpy(ssl + n,
               "\x25\x00\x02"
               "EC",
               5),
            n += 5;
        bb_tlv(&bb, 0x01, "h2", 2);
        bb_tlv(&bb, 0x02, "ldap.corp.example", 17);
        bb_tlv(&bb, 0x04, "\0\0\0", 3);
        bb_tlv(&bb, 0x05, uid, sizeof uid);
        bb_tlv(&bb, 0x20, ssl, n);
        bb_tlv(&bb, 0x30, "ns1", 3);
        bb_tlv(&bb, 0xEA, "\x01vpce-0123abcd", 14);
        bb_e1(&bb, 0x01, "vpc-bp1", 7);
        bb_e1(&bb, 0x02, "ep-bp1i4db71e6adaa29718", 23);
        bb_e1(&bb, 0x03, "epsrv-bp1", 9);
        bb_fix_len(&bb);
        size_t hdr = bb.n;
        bb_raw(&bb, payload, sizeof payload - 1);

        struct plr_pp_header h;
        size_t consumed;
        const char *reason;
        cr_assert_eq(parse(bb.b, bb.n, &consumed, &h, &reason), PLR_PP_OK, "%s", reason);
        cr_assert_eq(consumed, hdr);
        cr_assert_eq(memcmp(bb.b + consumed, payload, sizeof payload - 1), 0);
        cr_assert_eq(h.family, fam == 0 ? PLR_PP_FAM_INET : PLR_PP_FAM_INET6);
        cr_assert_eq(h.tlv_count, 10);
        cr_assert_eq(h.tlv_offset + h.tlv_len, hdr);
        assert_id(&h.vpc_id, "vpc-bp1", 7);
        assert_id(&h.endpoint_id, "ep-bp1i4db71e6adaa29718", 23);
        assert_id(&h.endpoint_service_id, "epsrv-bp1", 9);
        cr_assert_eq(h.authority_len, 17);

        /* the raw region walks back to the same TLVs in order */
        static const uint8_t types[] = {0x01, 0x02, 0x04, 0x05, 0x20, 0x30, 0xEA, 0xE1, 0xE1, 0xE1};
        size_t pos = 0, k = 0;
        struct plr_pp_tlv t;
        while (plr_pp_tlv_next(bb.b + h.tlv_offset, h.tlv_len, &pos, &t) == 1) {
            cr_assert(k < sizeof types);
            cr_assert_eq(t.type, types[k++]);
        }
        cr_assert_eq(k, sizeof types);
        cr_assert_eq(pos, h.tlv_len);
    }
}

Test(proxyproto, v2_accepts_unix_family_and_dgram_transport)
{
    struct bb bb = {0};
    bb_v2(&bb, 0x21, 0x31);
    uint8_t path[108] = {0};
    memcpy(path, "/run/client.sock", 16);
    bb_raw(&bb, path, sizeof path);
    memset(path, 0, sizeof path);
    memset(path, 'p', sizeof path); /* a full 108-byte path without NUL */
    bb_raw(&bb, path, sizeof path);
    bb_fix_len(&bb);
    struct plr_pp_header h;
    const char *reason;
    cr_assert_eq(parse(bb.b, bb.n, NULL, &h, &reason), PLR_PP_OK, "%s", reason);
    cr_assert_eq(h.family, PLR_PP_FAM_UNIX);
    const struct sockaddr_un *s = (const struct sockaddr_un *)&h.src;
    const struct sockaddr_un *d = (const struct sockaddr_un *)&h.dst;
    cr_assert_eq(s->sun_family, AF_UNIX);
    cr_assert_str_eq(s->sun_path, "/run/client.sock");
    cr_assert_eq(memcmp(d->sun_path, path, 108), 0);

    bb = (struct bb){0};
    bb_v2(&bb, 0x21, 0x12);
    bb_hex(&bb, "0a000001 0a000002 0035 0035");
    bb_fix_len(&bb);
    cr_assert_eq(parse(bb.b, bb.n, NULL, &h, NULL), PLR_PP_OK);
    cr_assert_eq(h.transport, PLR_PP_TRANSPORT_DGRAM);
}

/* ---- v2 malformed (§8 cases 5 and 6, TLV rules) ---------------------------------------------- */

/* Each row: bytes after the signature, length auto-computed unless `len` >= 0. */
struct v2_bad {
    const char *name;
    const char *vc_fp; /* ver/cmd and fam/proto, hex */
    int len;           /* -1: the body's length */
    const char *body;  /* hex */
    enum plr_pp_result want;
    const char *reason; /* substring */
};

#define ADDR4 "7f000001 7f000001 002a 0539 "
static const struct v2_bad v2_bad_rows[] = {
    {"version 1", "1111", -1, ADDR4, PLR_PP_ERR, "version"},
    {"version 3", "3111", -1, ADDR4, PLR_PP_ERR, "version"},
    {"version 0", "0111", -1, ADDR4, PLR_PP_ERR, "version"},
    {"fam UNSPEC proto STREAM", "2101", -1, "", PLR_PP_ERR, "combination"},
    {"fam INET proto UNSPEC", "2110", -1, ADDR4, PLR_PP_ERR, "combination"},
    {"fam INET6 proto UNSPEC", "2120", 36, "", PLR_PP_ERR, "combination"},
    {"fam UNIX proto UNSPEC", "2130", 216, "", PLR_PP_ERR, "combination"},
    {"TCP4 len 11", "2111", 11, "7f000001 7f000001 002a 05", PLR_PP_ERR, "address block"},
    {"TCP4 len 0", "2111", 0, "", PLR_PP_ERR, "address block"},
    {"TCP6 len 35", "2121", 35, "", PLR_PP_ERR, "address block"},
    {"TCP6 len 12", "2121", 12, ADDR4, PLR_PP_ERR, "address block"},
    {"UNIX len 215", "2131", 215, "", PLR_PP_ERR, "address block"},
    {"TLV overrun", "2111", -1, ADDR4 "0200ff 41", PLR_PP_ERR, "overruns"},
    {"one stray byte", "2111", -1, ADDR4 "020001 41 00", PLR_PP_ERR, "stray"},
    {"two stray bytes", "2111", -1, ADDR4 "020001 41 0000", PLR_PP_ERR, "stray"},
    {"truncated TLV header", "2111", -1, ADDR4 "e1", PLR_PP_ERR, "truncated"},
    {"len above cap", "2111", 4081, "", PLR_PP_ERR, "cap"},
    {"len 65535 above cap", "2111", 65535, ADDR4, PLR_PP_ERR, "cap"},
    {"CRC32C len 3", "2111", -1, ADDR4 "030003 000000", PLR_PP_ERR, "CRC32C TLV length"},
    {"CRC32C len 5", "2111", -1, ADDR4 "030005 0000000000", PLR_PP_ERR, "CRC32C TLV length"},
    {"CRC32C zero", "2111", -1, ADDR4 "030004 00000000", PLR_PP_ERR, "bad CRC32C"},
    {"two CRC32C", "2111", -1, ADDR4 "030004 00000000 030004 00000000", PLR_PP_ERR, "duplicate"},
    {"SSL len 4", "2111", -1, ADDR4 "200004 00000000", PLR_PP_ERR, "SSL TLV shorter"},
    {"SSL sub-TLV overrun", "2111", -1, ADDR4 "200009 0000000000 210005 41", PLR_PP_ERR, "SSL sub"},
    {"SSL sub-TLV stray", "2111", -1, ADDR4 "200006 0000000000 21", PLR_PP_ERR, "SSL sub"},
    {"two AUTHORITY", "2111", -1, ADDR4 "020001 61 020001 62", PLR_PP_ERR, "duplicate AUTHORITY"},
    {"0xE1 empty", "2111", -1, ADDR4 "e10000", PLR_PP_ERR, "without sub-type"},
    {"0xE1 dup endpoint", "2111", -1, ADDR4 "e10002 0261 e10002 0262", PLR_PP_ERR, "duplicate"},
    {"0xE1 dup vpc", "2111", -1, ADDR4 "e10001 01 e10001 01", PLR_PP_ERR, "duplicate"},
    {"signature only differs", "", -1, "", PLR_PP_DECLINED, "not a PROXY"},
};

static size_t build_bad(const struct v2_bad *row, uint8_t *out, size_t cap)
{
    struct bb bb = {0};
    if (row->vc_fp[0] == '\0') {
        bb_hex(&bb, "0d0a0d0a000d0a515549540b 2111 0000");
    } else {
        bb_hex(&bb, SIG);
        bb_hex(&bb, row->vc_fp);
        bb_hex(&bb, "0000");
        bb_hex(&bb, row->body);
        size_t len = row->len >= 0 ? (size_t)row->len : bb.n - 16;
        bb.b[14] = (uint8_t)(len >> 8);
        bb.b[15] = (uint8_t)len;
        if (row->len >= 0 && 16 + (size_t)row->len > bb.n && 16 + (size_t)row->len <= 300)
            bb_fill(&bb, 0, 16 + (size_t)row->len - bb.n); /* the declared bytes are present */
    }
    cr_assert(bb.n <= cap);
    memcpy(out, bb.b, bb.n);
    return bb.n;
}

Test(proxyproto, v2_rejects_malformed_headers_table)
{
    for (size_t i = 0; i < sizeof v2_bad_rows / sizeof v2_bad_rows[0]; i++) {
        const struct v2_bad *row = &v2_bad_rows[i];
        uint8_t b[BB_CAP];
        size_t n = build_bad(row, b, sizeof b);
        struct plr_pp_header h;
        size_t consumed = 77;
        const char *reason = NULL;
        enum plr_pp_result r = parse(b, n, &consumed, &h, &reason);
        cr_assert_eq(r, row->want, "%s: got %s (%s)", row->name, plr_pp_result_name(r), reason);
        cr_assert_eq(consumed, 0, "%s", row->name);
        cr_assert(strstr(reason, row->reason) != NULL, "%s: reason '%s'", row->name, reason);
    }
}

Test(proxyproto, v2_rejects_every_unknown_command_family_and_protocol)
{
    for (unsigned v = 0; v < 256; v++) {
        struct bb bb = {0};
        bb_v2(&bb, (uint8_t)(0x20 | (v >> 4)), (uint8_t)(0x10 | (v & 0x0f)));
        bb_hex(&bb, ADDR4);
        bb_fix_len(&bb);
        unsigned cmd = v >> 4, proto = v & 0x0f;
        enum plr_pp_result want = cmd <= 1 && proto >= 1 && proto <= 2 ? PLR_PP_OK : PLR_PP_ERR;
        cr_assert_eq(parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, NULL), want,
                     "cmd %u proto %u", cmd, proto);
    }
    for (unsigned fam = 4; fam < 16; fam++) {
        struct bb bb = {0};
        bb_v2(&bb, 0x21, (uint8_t)(fam << 4 | 1));
        bb_fill(&bb, 0, 216);
        bb_fix_len(&bb);
        const char *reason;
        cr_assert_eq(parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, &reason), PLR_PP_ERR);
        cr_assert_str_eq(reason, "v2: unknown address family");
    }
}

Test(proxyproto, v2_rejects_len_over_cap_without_waiting_for_the_bytes)
{
    struct bb bb = {0};
    bb_hex(&bb, SIG "2111 0ff1"); /* 16 + 4081 = 4097 > 4096; only 16 bytes present */
    const char *reason;
    cr_assert_eq(parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, &reason), PLR_PP_ERR);
    cr_assert_str_eq(reason, "v2: header longer than the configured cap");

    /* exactly at the cap: waits, then accepts */
    bb = (struct bb){0};
    bb_tcp4_start(&bb);
    uint8_t noop[4096 - 28 - 3];
    memset(noop, 0, sizeof noop);
    bb_tlv(&bb, 0x04, noop, sizeof noop);
    bb_fix_len(&bb);
    cr_assert_eq(bb.n, 4096);
    cr_assert_eq(parse(bb.b, 4095, NULL, &(struct plr_pp_header){0}, NULL), PLR_PP_AGAIN);
    cr_assert_eq(parse(bb.b, 4096, NULL, &(struct plr_pp_header){0}, NULL), PLR_PP_OK);

    /* a lower configured cap */
    struct plr_pp_options opt = {.accept = PLR_PP_ACCEPT_V2, .max_v2_bytes = 40};
    bb = (struct bb){0};
    bb_hex(&bb, V2_REGTEST); /* 36 bytes */
    cr_assert_eq(plr_pp_parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, &opt, NULL), PLR_PP_OK);
    opt.max_v2_bytes = 35;
    cr_assert_eq(plr_pp_parse(bb.b, 16, NULL, &(struct plr_pp_header){0}, &opt, NULL), PLR_PP_ERR);
}

Test(proxyproto, v2_accepts_the_largest_header_when_the_cap_allows)
{
    size_t total = PLR_PP_V2_MAX_BYTES;
    uint8_t *b = calloc(1, total + 5);
    cr_assert_not_null(b);
    struct bb bb = {0};
    bb_tcp4_start(&bb);
    memcpy(b, bb.b, bb.n);
    b[14] = 0xff;
    b[15] = 0xff;
    /* NOOP TLV filling the rest: 65535 - 12 - 3 value bytes */
    b[28] = 0x04;
    b[29] = (uint8_t)((65535 - 15) >> 8);
    b[30] = (uint8_t)(65535 - 15);
    memcpy(b + total, "extra", 5);
    struct plr_pp_options opt = {.max_v2_bytes = PLR_PP_V2_MAX_BYTES};
    size_t consumed;
    const char *reason;
    cr_assert_eq(plr_pp_parse(b, total + 5, &consumed, &(struct plr_pp_header){0}, &opt, &reason),
                 PLR_PP_OK, "%s", reason);
    cr_assert_eq(consumed, total);
    cr_assert_eq(plr_pp_parse(b, total - 1, NULL, &(struct plr_pp_header){0}, &opt, NULL),
                 PLR_PP_AGAIN);
    opt.max_v2_bytes = 1000000; /* above the protocol maximum: same as the maximum */
    cr_assert_eq(plr_pp_parse(b, total, NULL, &(struct plr_pp_header){0}, &opt, NULL), PLR_PP_OK);
    free(b);
}

Test(proxyproto, v2_rejects_oversized_authority_and_unique_id)
{
    uint8_t v[256];
    memset(v, 'a', sizeof v);
    static const struct {
        uint8_t type;
        size_t ok_len;
    } rows[] = {{0x02, 255}, {0x05, 128}};
    for (size_t i = 0; i < 2; i++) {
        for (size_t n = rows[i].ok_len; n <= rows[i].ok_len + 1; n++) {
            struct bb bb = {0};
            bb_tcp4_start(&bb);
            bb_tlv(&bb, rows[i].type, v, n);
            bb_fix_len(&bb);
            enum plr_pp_result r = parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, NULL);
            cr_assert_eq(r, n == rows[i].ok_len ? PLR_PP_OK : PLR_PP_ERR, "type %u len %zu",
                         rows[i].type, n);
        }
    }
}

/* ---- v1 -------------------------------------------------------------------------------------- */

Test(proxyproto, v1_accepts_tcp6_and_port_bounds)
{
    static const char line[] = "PROXY TCP6 2001:db8::1 2001:DB8::2 0 65535\r\n";
    struct plr_pp_header h;
    const char *reason;
    size_t consumed;
    cr_assert_eq(parse((const uint8_t *)line, sizeof line - 1, &consumed, &h, &reason), PLR_PP_OK,
                 "%s", reason);
    cr_assert_eq(consumed, sizeof line - 1);
    cr_assert_eq(h.family, PLR_PP_FAM_INET6);
    assert_in6(&h.src, "2001:db8::1", 0);
    assert_in6(&h.dst, "2001:db8::2", 65535);

    static const char v4[] = "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n";
    cr_assert_eq(parse((const uint8_t *)v4, sizeof v4 - 1, NULL, &h, NULL), PLR_PP_OK);
    assert_in4(&h.dst, "255.255.255.255", 65535);
}

Test(proxyproto, v1_accepts_short_unknown)
{
    static const char line[] = "PROXY UNKNOWN\r\nHELLO";
    struct plr_pp_header h;
    size_t consumed;
    cr_assert_eq(parse((const uint8_t *)line, sizeof line - 1, &consumed, &h, NULL), PLR_PP_OK);
    cr_assert_eq(consumed, 15);
    cr_assert_eq(h.version, PLR_PP_VERSION_1);
    cr_assert_eq(h.family, PLR_PP_FAM_UNSPEC);
    cr_assert_not(h.has_addresses);
}

Test(proxyproto, v1_accepts_unknown_107_byte_worst_case)
{
    static const char line[] = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    cr_assert_eq(sizeof line - 1, 107);
    struct plr_pp_header h;
    size_t consumed;
    cr_assert_eq(parse((const uint8_t *)line, sizeof line - 1, &consumed, &h, NULL), PLR_PP_OK);
    cr_assert_eq(consumed, 107);
    cr_assert_not(h.has_addresses);
}

Test(proxyproto, v1_unknown_ignores_anything_before_crlf)
{
    static const char line[] = "PROXY UNKNOWN \x01\0junk  here\r\n";
    size_t consumed;
    cr_assert_eq(
        parse((const uint8_t *)line, sizeof line - 1, &consumed, &(struct plr_pp_header){0}, NULL),
        PLR_PP_OK);
    cr_assert_eq(consumed, sizeof line - 1);
}

Test(proxyproto, v1_rejects_line_over_107_bytes)
{
    static const char line[] = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655355\r\n";
    cr_assert_eq(sizeof line - 1, 108);
    const char *reason;
    cr_assert_eq(parse((const uint8_t *)line, 106, NULL, &(struct plr_pp_header){0}, NULL),
                 PLR_PP_AGAIN);
    cr_assert_eq(parse((const uint8_t *)line, 107, NULL, &(struct plr_pp_header){0}, &reason),
                 PLR_PP_ERR);
    cr_assert_str_eq(reason, "v1: no CRLF within 107 bytes");
    cr_assert_eq(parse((const uint8_t *)line, 108, NULL, &(struct plr_pp_header){0}, NULL),
                 PLR_PP_ERR);
}

Test(proxyproto, v1_rejects_64k_of_junk_within_107_bytes)
{
    static const char *const starts[] = {"PROXY UNKNOWN ", "PROXY TCP4 ", "PROXYPROXYPROXY"};
    uint8_t *junk = malloc(65536);
    cr_assert_not_null(junk);
    for (size_t i = 0; i < 3; i++) {
        memset(junk, '1', 65536);
        memcpy(junk, starts[i], strlen(starts[i]));
        cr_assert_eq(parse(junk, 107, NULL, &(struct plr_pp_header){0}, NULL), PLR_PP_ERR);
        cr_assert_eq(parse(junk, 65536, NULL, &(struct plr_pp_header){0}, NULL), PLR_PP_ERR);
    }
    free(junk);
}

struct v1_bad {
    const char *name;
    const char *line;
    size_t len; /* 0: strlen */
    enum plr_pp_result want;
    const char *reason;
};

static const struct v1_bad v1_bad_rows[] = {
    {"lone CR", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n", 0, PLR_PP_ERR, "lone CR"},
    {"lone CR at end", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", 0, PLR_PP_ERR, "lone CR"},
    {"lone LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 0, PLR_PP_ERR, "lone LF"},
    {"double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "empty field"},
    {"double space mid", "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "empty field"},
    {"double space after PROXY", "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "protocol"},
    {"lowercase proxy", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 0, PLR_PP_DECLINED, "not a PROXY"},
    {"lowercase tcp4", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "protocol"},
    {"TCP5", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "protocol"},
    {"UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "protocol"},
    {"no space after PROXY", "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "no space"},
    {"no protocol", "PROXY \r\n", 0, PLR_PP_ERR, "protocol"},
    {"TCP4 alone", "PROXY TCP4\r\n", 0, PLR_PP_ERR, "protocol"},
    {"UNKNOWNX", "PROXY UNKNOWNX\r\n", 0, PLR_PP_ERR, "UNKNOWN not followed"},
    {"octet 256", "PROXY TCP4 256.0.0.1 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "IPv4 source"},
    {"leading zero octet", "PROXY TCP4 010.0.0.1 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "IPv4 source"},
    {"octet 00", "PROXY TCP4 1.2.3.4 5.6.00.8 1 2\r\n", 0, PLR_PP_ERR, "IPv4 destination"},
    {"three octets", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "IPv4 source"},
    {"five octets", "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "IPv4 source"},
    {"trailing dot", "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "IPv4 source"},
    {"empty octet", "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "IPv4 source"},
    {"octet 4 digits", "PROXY TCP4 1.2.3.0004 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "IPv4 source"},
    {"hex octet", "PROXY TCP4 0x1.2.3.4 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "IPv4 source"},
    {"port 0443", "PROXY TCP4 1.2.3.4 5.6.7.8 1 0443\r\n", 0, PLR_PP_ERR, "destination port"},
    {"port 00", "PROXY TCP4 1.2.3.4 5.6.7.8 00 443\r\n", 0, PLR_PP_ERR, "source port"},
    {"port 65536", "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", 0, PLR_PP_ERR, "destination port"},
    {"port 99999", "PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n", 0, PLR_PP_ERR, "source port"},
    {"port 6 digits", "PROXY TCP4 1.2.3.4 5.6.7.8 1 100000\r\n", 0, PLR_PP_ERR, "port"},
    {"port +443", "PROXY TCP4 1.2.3.4 5.6.7.8 1 +443\r\n", 0, PLR_PP_ERR, "destination port"},
    {"port -1", "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", 0, PLR_PP_ERR, "source port"},
    {"TCP4 with IPv6", "PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n", 0, PLR_PP_ERR, "IPv4 source"},
    {"TCP6 with IPv4", "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", 0, PLR_PP_ERR, "IPv6 source"},
    {"two ::", "PROXY TCP6 2001::db8::1 ::1 1 2\r\n", 0, PLR_PP_ERR, "IPv6 source"},
    {"IPv6 zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", 0, PLR_PP_ERR, "IPv6 source"},
    {"IPv6 9 groups", "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", 0, PLR_PP_ERR, "IPv6 source"},
    {"IPv6 bracketed", "PROXY TCP6 [::1] ::1 1 2\r\n", 0, PLR_PP_ERR, "IPv6 source"},
    {"IPv6 one char", "PROXY TCP6 : ::1 1 2\r\n", 0, PLR_PP_ERR, "IPv6 source"},
    {"IPv6 46 chars", "PROXY TCP6 ::1 0000:0000:0000:0000:0000:0000:0000:0000:0000:1 1 2\r\n", 0,
     PLR_PP_ERR, "IPv6 destination"},
    {"missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", 0, PLR_PP_ERR, "missing field"},
    {"trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", 0, PLR_PP_ERR, "extra field"},
    {"extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", 0, PLR_PP_ERR, "extra field"},
    {"tab separator", "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2 3\r\n", 0, PLR_PP_ERR, "IPv4 source"},
    {"NUL in address", "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 33, PLR_PP_ERR, "IPv4 source"},
    {"junk protocol", "PROXY GARBAGE", 0, PLR_PP_ERR, "protocol"},
};

Test(proxyproto, v1_rejects_malformed_lines_table)
{
    for (size_t i = 0; i < sizeof v1_bad_rows / sizeof v1_bad_rows[0]; i++) {
        const struct v1_bad *row = &v1_bad_rows[i];
        size_t n = row->len != 0 ? row->len : strlen(row->line);
        struct plr_pp_header h;
        size_t consumed = 55;
        const char *reason = NULL;
        enum plr_pp_result r = parse((const uint8_t *)row->line, n, &consumed, &h, &reason);
        cr_assert_eq(r, row->want, "%s: got %s (%s)", row->name, plr_pp_result_name(r), reason);
        cr_assert_eq(consumed, 0, "%s", row->name);
        cr_assert(strstr(reason, row->reason) != NULL, "%s: reason '%s'", row->name, reason);
    }
}

Test(proxyproto, v1_payload_after_crlf_is_not_consumed)
{
    static const char in[] = "PROXY TCP4 10.0.0.1 10.0.0.2 1000 389\r\n\x30\x0c\x02\x01\x01\r\n";
    size_t consumed;
    cr_assert_eq(
        parse((const uint8_t *)in, sizeof in - 1, &consumed, &(struct plr_pp_header){0}, NULL),
        PLR_PP_OK);
    cr_assert_eq(consumed, 39);
}

/* ---- detection ------------------------------------------------------------------------------- */

Test(proxyproto, declines_http_request_and_tls_client_hello)
{
    static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
                                    0x00, 0x01, 0xfc, 0x03, 0x03};
    const char *reason;
    for (size_t n = 1; n <= sizeof get - 1; n++)
        cr_assert_eq(parse((const uint8_t *)get, n, NULL, &(struct plr_pp_header){0}, &reason),
                     PLR_PP_DECLINED);
    cr_assert_str_eq(reason, "not a PROXY header");
    for (size_t n = 1; n <= sizeof hello; n++)
        cr_assert_eq(parse(hello, n, NULL, &(struct plr_pp_header){0}, NULL), PLR_PP_DECLINED);
    /* starts like the v2 signature, then diverges */
    static const char crlf[] = "\r\n\r\nGET";
    cr_assert_eq(parse((const uint8_t *)crlf, 4, NULL, &(struct plr_pp_header){0}, NULL),
                 PLR_PP_AGAIN);
    cr_assert_eq(parse((const uint8_t *)crlf, 5, NULL, &(struct plr_pp_header){0}, NULL),
                 PLR_PP_DECLINED);
    cr_assert_eq(parse((const uint8_t *)"PROX", 4, NULL, &(struct plr_pp_header){0}, NULL),
                 PLR_PP_AGAIN);
    cr_assert_eq(parse((const uint8_t *)"PROXZ", 5, NULL, &(struct plr_pp_header){0}, NULL),
                 PLR_PP_DECLINED);
    cr_assert_eq(parse((const uint8_t *)"", 0, NULL, &(struct plr_pp_header){0}, &reason),
                 PLR_PP_AGAIN);
    cr_assert_not_null(reason);
}

Test(proxyproto, declines_the_version_the_listener_does_not_accept)
{
    struct bb bb = {0};
    bb_hex(&bb, V2_REGTEST);
    struct plr_pp_options v1only = {.accept = PLR_PP_ACCEPT_V1};
    struct plr_pp_options v2only = {.accept = PLR_PP_ACCEPT_V2};
    const char *reason;
    cr_assert_eq(plr_pp_parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, &v1only, &reason),
                 PLR_PP_DECLINED);
    cr_assert_str_eq(reason, "not a PROXY v1 header");
    cr_assert_eq(plr_pp_parse(bb.b, bb.n, NULL, &(struct plr_pp_header){0}, &v2only, NULL),
                 PLR_PP_OK);
    cr_assert_eq(plr_pp_parse((const uint8_t *)v1_spec, sizeof v1_spec - 1, NULL,
                              &(struct plr_pp_header){0}, &v2only, &reason),
                 PLR_PP_DECLINED);
    cr_assert_str_eq(reason, "not a PROXY v2 header");
    cr_assert_eq(plr_pp_parse((const uint8_t *)v1_spec, sizeof v1_spec - 1, NULL,
                              &(struct plr_pp_header){0}, &v1only, NULL),
                 PLR_PP_OK);
}

/* ---- chunking (§8 case 11) ------------------------------------------------------------------- */

struct chunk_vec {
    uint8_t b[512];
    size_t n;
};

/* Every vector of this file, valid or not, with and without payload. */
static size_t all_vectors(struct chunk_vec *out, size_t max)
{
    static const char *const hex[] = {V2_REGTEST, V2_OVERRUN, V2_OVERRUN_10, V2_STRAY,  V2_NULS,
                                      V2_CRC,     V2_LOCAL12, V2_TCP6,       V2_ALIBABA};
    static const char *const text[] = {
        v1_spec,
        "PROXY UNKNOWN\r\n",
        "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:"
        "ffff:ffff 65535 65535\r\n",
        "PROXY TCP6 2001:db8::1 2001:db8::2 1234 636\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    };
    size_t k = 0;
    for (size_t i = 0; i < sizeof hex / sizeof hex[0] && k < max; i++) {
        struct bb bb = {0};
        bb_hex(&bb, hex[i]);
        memcpy(out[k].b, bb.b, bb.n);
        out[k++].n = bb.n;
    }
    for (size_t i = 0; i < sizeof text / sizeof text[0] && k < max; i++) {
        memcpy(out[k].b, text[i], strlen(text[i]));
        out[k++].n = strlen(text[i]);
    }
    for (size_t i = 0; i < sizeof v1_bad_rows / sizeof v1_bad_rows[0] && k < max; i++) {
        size_t n = v1_bad_rows[i].len ? v1_bad_rows[i].len : strlen(v1_bad_rows[i].line);
        memcpy(out[k].b, v1_bad_rows[i].line, n);
        out[k++].n = n;
    }
    for (size_t i = 0; i < sizeof v2_bad_rows / sizeof v2_bad_rows[0] && k < max; i++) {
        uint8_t b[BB_CAP];
        size_t n = build_bad(&v2_bad_rows[i], b, sizeof b);
        if (n > sizeof out[k].b)
            continue;
        memcpy(out[k].b, b, n);
        out[k++].n = n;
    }
    /* the same headers followed by payload */
    size_t base = k;
    for (size_t i = 0; i < base && k < max; i++) {
        if (out[i].n + 9 > sizeof out[k].b)
            continue;
        out[k] = out[i];
        memcpy(out[k].b + out[k].n, "\r\nPAYLOAD", 9);
        out[k++].n += 9;
    }
    return k;
}

struct verdict {
    enum plr_pp_result r;
    size_t consumed;
    const char *reason;
    struct plr_pp_header h;
};

static void one_shot(const uint8_t *b, size_t n, struct verdict *v)
{
    v->r = plr_pp_parse(b, n, &v->consumed, &v->h, NULL, &v->reason);
}

static void assert_same(const struct verdict *a, const struct verdict *b, const char *what,
                        size_t vec, size_t at)
{
    cr_assert_eq(a->r, b->r, "%s vector %zu at %zu: %s vs %s", what, vec, at,
                 plr_pp_result_name(a->r), plr_pp_result_name(b->r));
    cr_assert_eq(a->consumed, b->consumed, "%s vector %zu at %zu", what, vec, at);
    cr_assert_str_eq(a->reason, b->reason, "%s vector %zu at %zu", what, vec, at);
    if (a->r == PLR_PP_OK)
        cr_assert_eq(memcmp(&a->h, &b->h, sizeof a->h), 0, "%s vector %zu at %zu", what, vec, at);
}

Test(proxyproto, every_vector_fed_one_byte_at_a_time_matches_one_shot)
{
    static struct chunk_vec vecs[256];
    size_t nvec = all_vectors(vecs, 256);
    cr_assert_gt(nvec, 100);
    for (size_t i = 0; i < nvec; i++) {
        struct verdict whole, part;
        one_shot(vecs[i].b, vecs[i].n, &whole);
        cr_assert_neq(whole.r, PLR_PP_AGAIN, "vector %zu is complete", i);
        bool decided = false;
        for (size_t k = 0; k <= vecs[i].n; k++) {
            memset(&part.h, 0xA5, sizeof part.h);
            one_shot(vecs[i].b, k, &part);
            if (part.r == PLR_PP_AGAIN) {
                cr_assert_not(decided, "vector %zu: AGAIN at %zu after a verdict", i, k);
                cr_assert_eq(part.consumed, 0);
                continue;
            }
            decided = true;
            assert_same(&part, &whole, "byte-at-a-time", i, k);
        }
        cr_assert(decided);
    }
}

Test(proxyproto, every_vector_split_at_every_offset_matches_one_shot)
{
    static struct chunk_vec vecs[256];
    size_t nvec = all_vectors(vecs, 256);
    for (size_t i = 0; i < nvec; i++) {
        struct verdict whole, first, second;
        one_shot(vecs[i].b, vecs[i].n, &whole);
        for (size_t cut = 0; cut < vecs[i].n; cut++) {
            /* a session that got `cut` bytes in one read and the rest in the next */
            one_shot(vecs[i].b, cut, &first);
            if (first.r != PLR_PP_AGAIN) {
                assert_same(&first, &whole, "first chunk", i, cut);
                continue;
            }
            one_shot(vecs[i].b, vecs[i].n, &second);
            assert_same(&second, &whole, "second chunk", i, cut);
        }
    }
}

Test(proxyproto, partial_header_is_again_and_never_a_verdict)
{
    struct bb bb = {0};
    bb_hex(&bb, V2_CRC);
    for (size_t k = 0; k < bb.n; k++) {
        size_t consumed = 1;
        cr_assert_eq(parse(bb.b, k, &consumed, &(struct plr_pp_header){0}, NULL), PLR_PP_AGAIN);
        cr_assert_eq(consumed, 0);
    }
}

/* ---- builders -------------------------------------------------------------------------------- */

Test(proxyproto, build_v1_tcp4_round_trips)
{
    struct sockaddr_in s = sin4("192.0.2.1", 56324), d = sin4("198.51.100.2", 443);
    uint8_t b[128];
    ssize_t n = plr_pp_build_v1(b, sizeof b, (struct sockaddr *)&s, (struct sockaddr *)&d);
    static const char want[] = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
    cr_assert_eq(n, (ssize_t)sizeof want - 1);
    cr_assert_eq(memcmp(b, want, sizeof want - 1), 0);
    struct plr_pp_header h;
    size_t consumed;
    cr_assert_eq(parse(b, (size_t)n, &consumed, &h, NULL), PLR_PP_OK);
    cr_assert_eq(consumed, (size_t)n);
    assert_in4(&h.src, "192.0.2.1", 56324);
    assert_in4(&h.dst, "198.51.100.2", 443);
}

Test(proxyproto, build_v1_tcp6_round_trips_including_the_longest_line)
{
    struct sockaddr_in6 s = sin6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    struct sockaddr_in6 d = sin6("2001:db8::2", 0);
    uint8_t b[PLR_PP_V1_MAX_BYTES];
    ssize_t n = plr_pp_build_v1(b, sizeof b, (struct sockaddr *)&s, (struct sockaddr *)&d);
    cr_assert_gt(n, 0);
    struct plr_pp_header h;
    cr_assert_eq(parse(b, (size_t)n, NULL, &h, NULL), PLR_PP_OK);
    assert_in6(&h.src, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    assert_in6(&h.dst, "2001:db8::2", 0);

    d = s;
    n = plr_pp_build_v1(b, sizeof b, (struct sockaddr *)&s, (struct sockaddr *)&d);
    cr_assert_eq(n, 104); /* the spec's TCP6 maximum */
    cr_assert_eq(parse(b, (size_t)n, NULL, &h, NULL), PLR_PP_OK);
}

Test(proxyproto, build_v1_maps_mixed_families_and_falls_back_to_unknown)
{
    struct sockaddr_in s = sin4("10.1.2.3", 1000);
    struct sockaddr_in6 d = sin6("2001:db8::2", 389);
    uint8_t b[128];
    ssize_t n = plr_pp_build_v1(b, sizeof b, (struct sockaddr *)&s, (struct sockaddr *)&d);
    static const char want[] = "PROXY TCP6 ::ffff:10.1.2.3 2001:db8::2 1000 389\r\n";
    cr_assert_eq(n, (ssize_t)sizeof want - 1);
    cr_assert_eq(memcmp(b, want, sizeof want - 1), 0);
    struct plr_pp_header h;
    cr_assert_eq(parse(b, (size_t)n, NULL, &h, NULL), PLR_PP_OK);
    assert_in6(&h.src, "::ffff:10.1.2.3", 1000);

    n = plr_pp_build_v1(b, sizeof b, (struct sockaddr *)&d, (struct sockaddr *)&s);
    static const char want2[] = "PROXY TCP6 2001:db8::2 ::ffff:10.1.2.3 389 1000\r\n";
    cr_assert_eq(n, (ssize_t)sizeof want2 - 1);
    cr_assert_eq(memcmp(b, want2, sizeof want2 - 1), 0);

    n = plr_pp_build_v1(b, sizeof b, NULL, (struct sockaddr *)&d);
    cr_assert_eq(n, 15);
    cr_assert_eq(memcmp(b, "PROXY UNKNOWN\r\n", 15), 0);
}

Test(proxyproto, build_v1_fails_without_writing_when_the_buffer_is_short)
{
    struct sockaddr_in s = sin4("192.0.2.1", 56324), d = sin4("198.51.100.2", 443);
    uint8_t b[64];
    for (size_t cap = 0; cap < 45; cap++) {
        memset(b, 0xEE, sizeof b);
        cr_assert_eq(plr_pp_build_v1(b, cap, (struct sockaddr *)&s, (struct sockaddr *)&d), -1);
        for (size_t i = 0; i < sizeof b; i++)
            cr_assert_eq(b[i], 0xEE);
    }
    cr_assert_eq(plr_pp_build_v1(b, 45, (struct sockaddr *)&s, (struct sockaddr *)&d), 45);
}

Test(proxyproto, build_v2_with_tlvs_and_crc_round_trips)
{
    struct bb tl = {0};
    bb_e1(&tl, 0x02, "ep-bp1i4db71e6adaa29718", 23);
    bb_e1(&tl, 0x01, "vpc-bp1", 7);
    bb_tlv(&tl, 0x02, "ldap.corp.example", 17);
    struct sockaddr_in6 s = sin6("2001:db8::1", 1234), d = sin6("2001:db8::2", 636);
    struct plr_pp_v2_params p = {
        .command = PLR_PP_CMD_PROXY,
        .src = (struct sockaddr *)&s,
        .dst = (struct sockaddr *)&d,
        .tlvs = tl.b,
        .tlvs_len = tl.n,
        .crc32c = true,
    };
    uint8_t b[4400];
    ssize_t n = plr_pp_build_v2(b, sizeof b, &p);
    cr_assert_eq(n, 16 + 36 + (ssize_t)tl.n + 7);
    struct plr_pp_header h;
    size_t consumed;
    const char *reason;
    cr_assert_eq(parse(b, (size_t)n, &consumed, &h, &reason), PLR_PP_OK, "%s", reason);
    cr_assert_eq(consumed, (size_t)n);
    cr_assert(h.crc32c_checked);
    assert_in6(&h.src, "2001:db8::1", 1234);
    assert_in6(&h.dst, "2001:db8::2", 636);
    assert_id(&h.endpoint_id, "ep-bp1i4db71e6adaa29718", 23);
    assert_id(&h.vpc_id, "vpc-bp1", 7);
    cr_assert_eq(h.authority_len, 17);

    /* and every bit flip of what we built is caught */
    memset(b + n, 0, sizeof b - (size_t)n);
    check_bit_flips(b, (size_t)n, sizeof b, (size_t)n - 7);
}

Test(proxyproto, build_v2_passes_received_tlvs_through_and_drops_the_stale_crc)
{
    struct bb in = {0};
    bb_v2(&in, 0x21, 0x11);
    bb_hex(&in, "c0000201 c6336402 dc04 01bb");
    bb_e1(&in, 0x02, "ep-bp1abc", 9);
    bb_hex(&in, "030004 00000000");
    bb_tlv(&in, 0x05, "uid", 3);
    bb_fix_len(&in);
    uint32_t crc = plr_pp_crc32c(in.b, in.n);
    size_t crc_at = 16 + 12 + 13 + 3;
    in.b[crc_at] = (uint8_t)(crc >> 24);
    in.b[crc_at + 1] = (uint8_t)(crc >> 16);
    in.b[crc_at + 2] = (uint8_t)(crc >> 8);
    in.b[crc_at + 3] = (uint8_t)crc;
    struct plr_pp_header h;
    const char *reason;
    cr_assert_eq(parse(in.b, in.n, NULL, &h, &reason), PLR_PP_OK, "%s", reason);
    cr_assert(h.crc32c_checked);

    /* send_proxy = v2, send_proxy_tlvs = pass, towards a new destination */
    struct sockaddr_in d = sin4("10.0.0.9", 389);
    struct plr_pp_v2_params p = {
        .command = PLR_PP_CMD_PROXY,
        .src = (struct sockaddr *)&h.src,
        .dst = (struct sockaddr *)&d,
        .tlvs = in.b + h.tlv_offset,
        .tlvs_len = h.tlv_len,
    };
    uint8_t out[512];
    ssize_t n = plr_pp_build_v2(out, sizeof out, &p);
    cr_assert_eq(n, (ssize_t)(in.n - 7));
    struct plr_pp_header h2;
    cr_assert_eq(parse(out, (size_t)n, NULL, &h2, &reason), PLR_PP_OK, "%s", reason);
    cr_assert_not(h2.crc32c_checked);
    cr_assert_eq(h2.tlv_count, 2);
    assert_id(&h2.endpoint_id, "ep-bp1abc", 9);
    assert_in4(&h2.src, "192.0.2.1", 56324);
    assert_in4(&h2.dst, "10.0.0.9", 389);

    p.crc32c = true;
    n = plr_pp_build_v2(out, sizeof out, &p);
    cr_assert_eq(parse(out, (size_t)n, NULL, &h2, &reason), PLR_PP_OK, "%s", reason);
    cr_assert(h2.crc32c_checked);
}

Test(proxyproto, build_v2_local_unspec_and_unix)
{
    uint8_t b[512];
    struct plr_pp_header h;
    struct plr_pp_v2_params p = {.command = PLR_PP_CMD_LOCAL, .crc32c = true};
    cr_assert_eq(plr_pp_build_v2(b, sizeof b, &p), 16);
    cr_assert_eq(memcmp(b + 12, "\x20\x00\x00\x00", 4), 0);
    cr_assert_eq(parse(b, 16, NULL, &h, NULL), PLR_PP_OK);
    cr_assert_eq(h.command, PLR_PP_CMD_LOCAL);

    p.command = PLR_PP_CMD_PROXY; /* no addresses: UNSPEC */
    cr_assert_eq(plr_pp_build_v2(b, sizeof b, &p), 16);
    cr_assert_eq(memcmp(b + 12, "\x21\x00\x00\x00", 4), 0);
    cr_assert_eq(parse(b, 16, NULL, &h, NULL), PLR_PP_OK);
    cr_assert_not(h.has_addresses);

    struct sockaddr_un s = {.sun_family = AF_UNIX}, d = {.sun_family = AF_UNIX};
    memcpy(s.sun_path, "/run/a", 6);
    memcpy(d.sun_path, "/run/b", 6);
    p.src = (struct sockaddr *)&s;
    p.dst = (struct sockaddr *)&d;
    cr_assert_eq(plr_pp_build_v2(b, sizeof b, &p), 16 + 216 + 7);
    cr_assert_eq(parse(b, 16 + 216 + 7, NULL, &h, NULL), PLR_PP_OK);
    cr_assert_eq(h.family, PLR_PP_FAM_UNIX);
    cr_assert_str_eq(((struct sockaddr_un *)&h.dst)->sun_path, "/run/b");
}

Test(proxyproto, build_v2_rejects_bad_tlvs_short_buffers_and_oversize)
{
    struct sockaddr_in s = sin4("192.0.2.1", 1), d = sin4("192.0.2.2", 2);
    uint8_t b[128];
    struct plr_pp_v2_params p = {
        .command = PLR_PP_CMD_PROXY,
        .src = (struct sockaddr *)&s,
        .dst = (struct sockaddr *)&d,
        .tlvs = (const uint8_t *)"\x02\x00\x05"
                                 "ab",
        .tlvs_len = 5,
    };
    cr_assert_eq(plr_pp_build_v2(b, sizeof b, &p), -1, "overrunning TLV");
    p.tlvs_len = 2;
    cr_assert_eq(plr_pp_build_v2(b, sizeof b, &p), -1, "truncated TLV header");
    p.tlvs = NULL;
    cr_assert_eq(plr_pp_build_v2(b, sizeof b, &p), -1, "NULL tlvs with a length");

    p.tlvs_len = 0;
    p.crc32c = true;
    for (size_t cap = 0; cap < 35; cap++) {
        memset(b, 0xEE, sizeof b);
        cr_assert_eq(plr_pp_build_v2(b, cap, &p), -1, "cap %zu", cap);
        for (size_t i = cap; i < sizeof b; i++)
            cr_assert_eq(b[i], 0xEE, "cap %zu wrote byte %zu", cap, i);
    }
    cr_assert_eq(plr_pp_build_v2(b, 35, &p), 35);

    /* 12 address bytes + a 65535-byte TLV: len would exceed 65535 */
    uint8_t *big = calloc(1, 65535);
    uint8_t *zeros = calloc(1, 65535);
    uint8_t *out = malloc(70000);
    cr_assert(big != NULL && zeros != NULL && out != NULL);
    cr_assert_eq(plr_pp_tlv_encode(big, 65535, 0x04, zeros, 65532), 65535);
    p.tlvs = big;
    p.tlvs_len = 65535;
    p.crc32c = false;
    cr_assert_eq(plr_pp_build_v2(out, 70000, &p), -1);
    p.tlvs_len = 65535 - 12;
    cr_assert_eq(plr_pp_tlv_encode(big, 65535, 0x04, zeros, 65535 - 15), 65535 - 12);
    cr_assert_eq(plr_pp_build_v2(out, 70000, &p), PLR_PP_V2_MAX_BYTES);
    cr_assert_eq(plr_pp_parse(out, PLR_PP_V2_MAX_BYTES, NULL, &(struct plr_pp_header){0},
                              &(struct plr_pp_options){.max_v2_bytes = PLR_PP_V2_MAX_BYTES}, NULL),
                 PLR_PP_OK);
    free(zeros);
    free(big);
    free(out);
}

Test(proxyproto, tlv_encode_and_next_agree)
{
    uint8_t b[16];
    cr_assert_eq(plr_pp_tlv_encode(b, sizeof b, 0xE1, (const uint8_t *)"\x02id", 3), 6);
    cr_assert_eq(plr_pp_tlv_encode(b + 6, 3, 0x04, NULL, 0), 3);
    cr_assert_eq(plr_pp_tlv_encode(b, 5, 0x04, (const uint8_t *)"abc", 3), -1);
    cr_assert_eq(plr_pp_tlv_encode(b, sizeof b, 0x04, b, 65536), -1);
    size_t pos = 0;
    struct plr_pp_tlv t;
    cr_assert_eq(plr_pp_tlv_next(b, 9, &pos, &t), 1);
    cr_assert_eq(t.type, 0xE1);
    cr_assert_eq(t.len, 3);
    cr_assert_eq(t.value, b + 3);
    cr_assert_eq(plr_pp_tlv_next(b, 9, &pos, &t), 1);
    cr_assert_eq(t.len, 0);
    cr_assert_eq(plr_pp_tlv_next(b, 9, &pos, &t), 0);
    pos = 0;
    cr_assert_eq(plr_pp_tlv_next(b, 8, &pos, &t), 1);
    cr_assert_eq(plr_pp_tlv_next(b, 8, &pos, &t), -1);
    cr_assert_eq(pos, 6, "pos unchanged on error");
}

Test(proxyproto, crc32c_matches_the_standard_check_value)
{
    cr_assert_eq(plr_pp_crc32c((const uint8_t *)"123456789", 9), 0xE3069283u);
    cr_assert_eq(plr_pp_crc32c(NULL, 0), 0);
    static const uint8_t zeros[32] = {0};
    cr_assert_eq(plr_pp_crc32c(zeros, 32), 0x8A9136AAu); /* RFC 3720 B.4 */
}

Test(proxyproto, result_names_and_reasons_are_never_null)
{
    cr_assert_str_eq(plr_pp_result_name(PLR_PP_OK), "ok");
    cr_assert_str_eq(plr_pp_result_name(PLR_PP_AGAIN), "again");
    cr_assert_str_eq(plr_pp_result_name(PLR_PP_DECLINED), "declined");
    cr_assert_str_eq(plr_pp_result_name(PLR_PP_ERR), "error");
    static struct chunk_vec vecs[256];
    size_t nvec = all_vectors(vecs, 256);
    for (size_t i = 0; i < nvec; i++) {
        const char *reason = NULL;
        parse(vecs[i].b, vecs[i].n, NULL, &(struct plr_pp_header){0}, &reason);
        cr_assert_not_null(reason);
        cr_assert_gt(strlen(reason), 0);
    }
}
