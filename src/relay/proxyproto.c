/*
 * proxyproto — pure PROXY protocol v1/v2 parser over byte ranges (no I/O), CRC32C, TLV walking.
 *
 * Shaped like nginx's ngx_proxy_protocol.c: the session hands in the bytes received so far and gets
 * OK / AGAIN / DECLINED / ERR. Every check looks only at bytes already present and the checks run
 * in wire order, which is what makes the verdict independent of how the header was split into
 * reads: a prefix yields AGAIN or the final verdict, never a different one. Limits are enforced
 * before waiting (107 bytes for v1, the configured cap for v2). The builders, the inverse, live in
 * proxyproto_build.c.
 */
#include "plrelay/proxyproto.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#define V2_ADDR_INET_BYTES 12  /* 4 + 4 + 2 + 2 */
#define V2_ADDR_INET6_BYTES 36 /* 16 + 16 + 2 + 2 */
#define V2_ADDR_UNIX_BYTES 216 /* 108 + 108 */
#define V2_UNIX_PATH_BYTES 108
#define V2_SSL_FIXED_BYTES 5 /* client(1) + verify(4), then sub-TLVs */

static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == V2_UNIX_PATH_BYTES,
              "a v2 UNIX address is a 108-byte sun_path");
static_assert(sizeof PLR_PP_V2_SIG - 1 == PLR_PP_V2_SIG_BYTES, "the v2 signature is 12 bytes");

static const uint8_t v1_magic[5] = {'P', 'R', 'O', 'X', 'Y'};
/* Address block per v2 family (UNSPEC, INET, INET6, UNIX). */
static const size_t v2_addr_bytes[4] = {0, V2_ADDR_INET_BYTES, V2_ADDR_INET6_BYTES,
                                        V2_ADDR_UNIX_BYTES};

/* ---- byte helpers and CRC32C ----------------------------------------------------------------- */

static size_t get_be16(const uint8_t *p)
{
    return ((size_t)p[0] << 8) | p[1];
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Reflected Castagnoli polynomial 0x82F63B78, four bits at a time: small, and headers are short. */
static const uint32_t crc32c_nibble[16] = {
    0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3, 0x61c69362, 0x7198540d,
    0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9, 0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

static uint32_t crc32c_update(uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc32c_nibble[crc & 0x0f];
        crc = (crc >> 4) ^ crc32c_nibble[crc & 0x0f];
    }
    return crc;
}

uint32_t plr_pp_crc32c(const uint8_t *buf, size_t len)
{
    return ~crc32c_update(0xFFFFFFFFu, buf, len);
}

/* CRC32C of buf[0..len) with the 4 bytes at crc_at read as zero (the CRC32C TLV rule). */
static uint32_t crc32c_with_hole(const uint8_t *buf, size_t len, size_t crc_at)
{
    static const uint8_t zeros[4] = {0, 0, 0, 0};
    uint32_t crc = crc32c_update(0xFFFFFFFFu, buf, crc_at);
    crc = crc32c_update(crc, zeros, sizeof zeros);
    crc = crc32c_update(crc, buf + crc_at + 4, len - crc_at - 4);
    return ~crc;
}

/* ---- TLVs ------------------------------------------------------------------------------------ */

int plr_pp_tlv_next(const uint8_t *buf, size_t len, size_t *pos, struct plr_pp_tlv *tlv)
{
    size_t p = *pos;
    if (p >= len)
        return p == len ? 0 : -1;
    if (len - p < 3)
        return -1;
    size_t vlen = get_be16(buf + p + 1);
    if (len - p - 3 < vlen)
        return -1;
    tlv->type = buf[p];
    tlv->len = vlen;
    tlv->value = buf + p + 3;
    *pos = p + 3 + vlen;
    return 1;
}

/* ---- v1 -------------------------------------------------------------------------------------- */

/* Strict decimal: 1..max_digits digits, no leading zero unless the number is 0, value <= max. */
static int parse_dec(const uint8_t *s, size_t n, size_t max_digits, unsigned max, unsigned *out)
{
    if (n == 0 || n > max_digits || (n > 1 && s[0] == '0'))
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* Exactly four dot-separated decimal octets. */
static bool parse_ipv4(const uint8_t *s, size_t n, struct in_addr *out)
{
    uint8_t octets[4];
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t j = i;
        while (j < n && s[j] != '.')
            j++;
        unsigned v;
        if (parse_dec(s + i, j - i, 3, 255, &v) != 0)
            return false;
        octets[part] = (uint8_t)v;
        if (part < 3 && j == n)
            return false; /* too few parts */
        if (part == 3 && j != n)
            return false; /* a fifth part */
        i = j + 1;
    }
    memcpy(&out->s_addr, octets, 4);
    return true;
}

/* IPv6 text as inet_pton accepts it (one "::" at most, hex groups, optional dotted tail). The
 * character set is checked first so the copy handed to inet_pton holds no NUL or space. */
static bool parse_ipv6(const uint8_t *s, size_t n, struct in6_addr *out)
{
    char text[INET6_ADDRSTRLEN];
    if (n < 2 || n >= sizeof text)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.';
        if (!ok)
            return false;
    }
    memcpy(text, s, n);
    text[n] = '\0';
    return inet_pton(AF_INET6, text, out) == 1;
}

/* The bytes after "PROXY " must start one of the three protocol words (early rejection). */
static bool v1_proto_prefix_ok(const uint8_t *t, size_t n)
{
    static const char *const words[] = {"TCP4 ", "TCP6 ", "UNKNOWN"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t wlen = strlen(words[i]); /* our own constant, not wire bytes */
        if (memcmp(t, words[i], n < wlen ? n : wlen) == 0)
            return true;
    }
    return false;
}

/* Find the CRLF ending the line; bytes 0..5 are "PROXY " already. */
static enum plr_pp_result v1_find_crlf(const uint8_t *buf, size_t len, size_t *line_len,
                                       const char **reason)
{
    size_t limit = len < PLR_PP_V1_MAX_BYTES ? len : PLR_PP_V1_MAX_BYTES;
    for (size_t i = 6; i < limit; i++) {
        if (buf[i] == '\n') {
            *reason = "v1: lone LF";
            return PLR_PP_ERR;
        }
        if (buf[i] != '\r')
            continue;
        if (i + 1 >= PLR_PP_V1_MAX_BYTES)
            break; /* the LF would be byte 108 */
        if (i + 1 >= len)
            return PLR_PP_AGAIN;
        if (buf[i + 1] != '\n') {
            *reason = "v1: lone CR";
            return PLR_PP_ERR;
        }
        *line_len = i + 2;
        return PLR_PP_OK;
    }
    if (len < PLR_PP_V1_MAX_BYTES)
        return PLR_PP_AGAIN;
    *reason = "v1: no CRLF within 107 bytes";
    return PLR_PP_ERR;
}

static void set_port(struct sockaddr_storage *ss, int family, unsigned port)
{
    if (family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static bool v1_parse_addr(const uint8_t *s, size_t n, int family, struct sockaddr_storage *ss)
{
    ss->ss_family = (sa_family_t)family;
    if (family == AF_INET)
        return parse_ipv4(s, n, &((struct sockaddr_in *)ss)->sin_addr);
    return parse_ipv6(s, n, &((struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Grammar of a complete line buf[0..n) ending in CRLF. */
static enum plr_pp_result v1_parse_line(const uint8_t *buf, size_t n, struct plr_pp_header *out,
                                        const char **reason)
{
    const uint8_t *p = buf + 6, *end = buf + n - 2;
    size_t rest = (size_t)(end - p);

    out->version = PLR_PP_VERSION_1;
    out->command = PLR_PP_CMD_PROXY;
    out->header_len = n;
    if (rest >= 7 && memcmp(p, "UNKNOWN", 7) == 0) {
        if (rest > 7 && p[7] != ' ') {
            *reason = "v1: UNKNOWN not followed by space or CRLF";
            return PLR_PP_ERR;
        }
        return PLR_PP_OK; /* the rest of the line is ignored, per the spec */
    }
    int family;
    if (rest >= 5 && memcmp(p, "TCP4 ", 5) == 0) {
        family = AF_INET;
    } else if (rest >= 5 && memcmp(p, "TCP6 ", 5) == 0) {
        family = AF_INET6;
    } else {
        *reason = "v1: protocol is not TCP4, TCP6 or UNKNOWN";
        return PLR_PP_ERR;
    }

    /* src SP dst SP sport SP dport, single spaces */
    const uint8_t *field[4];
    size_t field_len[4];
    const uint8_t *q = p + 5;
    for (int k = 0; k < 4; k++) {
        const uint8_t *fe = end;
        if (k < 3) {
            fe = memchr(q, ' ', (size_t)(end - q));
            if (fe == NULL) {
                *reason = "v1: missing field";
                return PLR_PP_ERR;
            }
        }
        field[k] = q;
        field_len[k] = (size_t)(fe - q);
        if (field_len[k] == 0) {
            *reason = "v1: empty field (double or trailing space)";
            return PLR_PP_ERR;
        }
        q = fe + 1;
    }
    if (memchr(field[3], ' ', field_len[3]) != NULL) {
        *reason = "v1: extra field after destination port";
        return PLR_PP_ERR;
    }
    if (!v1_parse_addr(field[0], field_len[0], family, &out->src)) {
        *reason = family == AF_INET ? "v1: bad IPv4 source address" : "v1: bad IPv6 source address";
        return PLR_PP_ERR;
    }
    if (!v1_parse_addr(field[1], field_len[1], family, &out->dst)) {
        *reason = family == AF_INET ? "v1: bad IPv4 destination address"
                                    : "v1: bad IPv6 destination address";
        return PLR_PP_ERR;
    }
    unsigned sport, dport;
    if (parse_dec(field[2], field_len[2], 5, 65535, &sport) != 0) {
        *reason = "v1: bad source port";
        return PLR_PP_ERR;
    }
    if (parse_dec(field[3], field_len[3], 5, 65535, &dport) != 0) {
        *reason = "v1: bad destination port";
        return PLR_PP_ERR;
    }
    set_port(&out->src, family, sport);
    set_port(&out->dst, family, dport);
    out->family = family == AF_INET ? PLR_PP_FAM_INET : PLR_PP_FAM_INET6;
    out->transport = PLR_PP_TRANSPORT_STREAM;
    out->has_addresses = true;
    return PLR_PP_OK;
}

/* buf starts with (a prefix of) "PROXY". */
static enum plr_pp_result parse_v1(const uint8_t *buf, size_t len, struct plr_pp_header *out,
                                   const char **reason)
{
    if (len < 6)
        return PLR_PP_AGAIN;
    if (buf[5] != ' ') {
        *reason = "v1: no space after PROXY";
        return PLR_PP_ERR;
    }
    size_t seen = (len < PLR_PP_V1_MAX_BYTES ? len : PLR_PP_V1_MAX_BYTES) - 6;
    if (!v1_proto_prefix_ok(buf + 6, seen)) {
        *reason = "v1: protocol is not TCP4, TCP6 or UNKNOWN";
        return PLR_PP_ERR;
    }
    size_t line_len = 0;
    enum plr_pp_result r = v1_find_crlf(buf, len, &line_len, reason);
    if (r != PLR_PP_OK)
        return r;
    return v1_parse_line(buf, line_len, out, reason);
}

/* ---- v2 -------------------------------------------------------------------------------------- */

/* Check bytes 12..15 as they arrive, then wait for the whole header (16 + len <= cap). */
static enum plr_pp_result v2_check_fixed(const uint8_t *buf, size_t len, size_t cap, size_t *total,
                                         const char **reason)
{
    if (len <= 12)
        return PLR_PP_AGAIN;
    if ((buf[12] >> 4) != 2) {
        *reason = "v2: version is not 2";
        return PLR_PP_ERR;
    }
    unsigned cmd = buf[12] & 0x0f;
    if (cmd > 1) {
        *reason = "v2: command is neither LOCAL nor PROXY";
        return PLR_PP_ERR;
    }
    if (len <= 13)
        return PLR_PP_AGAIN;
    unsigned fam = buf[13] >> 4, proto = buf[13] & 0x0f;
    if (fam > 3) {
        *reason = "v2: unknown address family";
        return PLR_PP_ERR;
    }
    if (proto > 2) {
        *reason = "v2: unknown transport protocol";
        return PLR_PP_ERR;
    }
    if ((fam == 0) != (proto == 0)) {
        *reason = "v2: family/protocol combination not in the spec";
        return PLR_PP_ERR;
    }
    if (len < PLR_PP_V2_MIN_BYTES)
        return PLR_PP_AGAIN;
    *total = PLR_PP_V2_MIN_BYTES + get_be16(buf + 14);
    if (*total > cap) {
        *reason = "v2: header longer than the configured cap";
        return PLR_PP_ERR;
    }
    if (cmd == 1 && *total - PLR_PP_V2_MIN_BYTES < v2_addr_bytes[fam]) {
        *reason = "v2: address block shorter than its family needs";
        return PLR_PP_ERR;
    }
    return len < *total ? PLR_PP_AGAIN : PLR_PP_OK;
}

/* Fill src/dst from the address block at a; returns the block's length. */
static size_t v2_take_addresses(const uint8_t *a, unsigned fam, struct plr_pp_header *out)
{
    if (fam == 1) {
        struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
        struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;
        s->sin_family = d->sin_family = AF_INET;
        memcpy(&s->sin_addr, a, 4);
        memcpy(&d->sin_addr, a + 4, 4);
        memcpy(&s->sin_port, a + 8, 2); /* both already in network order */
        memcpy(&d->sin_port, a + 10, 2);
        return V2_ADDR_INET_BYTES;
    }
    if (fam == 2) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
        struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;
        s->sin6_family = d->sin6_family = AF_INET6;
        memcpy(&s->sin6_addr, a, 16);
        memcpy(&d->sin6_addr, a + 16, 16);
        memcpy(&s->sin6_port, a + 32, 2);
        memcpy(&d->sin6_port, a + 34, 2);
        return V2_ADDR_INET6_BYTES;
    }
    struct sockaddr_un *s = (struct sockaddr_un *)&out->src;
    struct sockaddr_un *d = (struct sockaddr_un *)&out->dst;
    s->sun_family = d->sun_family = AF_UNIX;
    memcpy(s->sun_path, a, V2_UNIX_PATH_BYTES);
    memcpy(d->sun_path, a + V2_UNIX_PATH_BYTES, V2_UNIX_PATH_BYTES);
    return V2_ADDR_UNIX_BYTES;
}

static const char *v2_take_alibaba(const struct plr_pp_tlv *t, struct plr_pp_header *out)
{
    if (t->len == 0)
        return "v2: 0xE1 TLV without sub-type";
    struct plr_pp_id *id;
    switch (t->value[0]) {
    case PLR_PP_ALIBABA_VPC_ID:
        id = &out->vpc_id;
        break;
    case PLR_PP_ALIBABA_ENDPOINT_ID:
        id = &out->endpoint_id;
        break;
    case PLR_PP_ALIBABA_ENDPOINT_SERVICE_ID:
        id = &out->endpoint_service_id;
        break;
    default:
        return NULL; /* unknown sub-type: raw TLVs only */
    }
    if (t->len - 1 > PLR_PP_ID_MAX_BYTES)
        return "v2: 0xE1 id longer than 128 bytes";
    if (id->present)
        return "v2: duplicate 0xE1 sub-type";
    id->present = true;
    id->len = t->len - 1;
    memcpy(id->value, t->value + 1, id->len);
    return NULL;
}

/* Semantics of one TLV; *crc_at records where a CRC32C value sits. NULL or the defect. */
static const char *v2_take_tlv(const struct plr_pp_tlv *t, size_t value_at, size_t *crc_at,
                               struct plr_pp_header *out)
{
    switch (t->type) {
    case PLR_PP_TLV_CRC32C:
        if (t->len != 4)
            return "v2: CRC32C TLV length is not 4";
        if (*crc_at != 0)
            return "v2: duplicate CRC32C TLV";
        *crc_at = value_at;
        return NULL;
    case PLR_PP_TLV_AUTHORITY:
        if (t->len > PLR_PP_AUTHORITY_MAX_BYTES)
            return "v2: AUTHORITY longer than 255 bytes";
        if (out->has_authority)
            return "v2: duplicate AUTHORITY TLV";
        out->has_authority = true;
        out->authority_len = t->len;
        memcpy(out->authority, t->value, t->len);
        return NULL;
    case PLR_PP_TLV_UNIQUE_ID:
        return t->len > PLR_PP_UNIQUE_ID_MAX_BYTES ? "v2: UNIQUE_ID longer than 128 bytes" : NULL;
    case PLR_PP_TLV_SSL: {
        if (t->len < V2_SSL_FIXED_BYTES)
            return "v2: SSL TLV shorter than 5 bytes";
        struct plr_pp_tlv sub;
        size_t pos = 0;
        int r;
        while ((r = plr_pp_tlv_next(t->value + V2_SSL_FIXED_BYTES, t->len - V2_SSL_FIXED_BYTES,
                                    &pos, &sub)) == 1)
            ;
        return r < 0 ? "v2: SSL sub-TLVs overrun the SSL TLV" : NULL;
    }
    case PLR_PP_TLV_ALIBABA:
        return v2_take_alibaba(t, out);
    default:
        return NULL; /* ALPN, NOOP, NETNS, other clouds, unknown: skipped */
    }
}

/* A LOCAL or UNSPEC block is skipped, not parsed: the spec says to accept it whatever it holds.
 * But if it walks cleanly as TLVs after the family's address block and holds a CRC32C TLV, that
 * checksum is still verified, so that a flipped command bit (PROXY -> LOCAL) cannot slip through.
 */
static const char *v2_check_skipped_crc(const uint8_t *buf, size_t total, unsigned fam,
                                        bool *checked)
{
    size_t start = PLR_PP_V2_MIN_BYTES + v2_addr_bytes[fam];
    if (total < start)
        return NULL;
    size_t pos = 0, crc_at = 0;
    struct plr_pp_tlv t;
    int r;
    while ((r = plr_pp_tlv_next(buf + start, total - start, &pos, &t)) == 1) {
        if (t.type == PLR_PP_TLV_CRC32C && t.len == 4 && crc_at == 0)
            crc_at = (size_t)(t.value - buf);
    }
    if (r != 0 || crc_at == 0)
        return NULL;
    if (crc32c_with_hole(buf, total, crc_at) != get_be32(buf + crc_at))
        return "v2: bad CRC32C";
    *checked = true;
    return NULL;
}

/* The complete header buf[0..total) passed v2_check_fixed. */
static enum plr_pp_result v2_parse_block(const uint8_t *buf, size_t total, bool require_crc,
                                         struct plr_pp_header *out, const char **reason)
{
    unsigned cmd = buf[12] & 0x0f, fam = buf[13] >> 4;
    out->version = PLR_PP_VERSION_2;
    out->header_len = total;
    out->command = cmd == 1 ? PLR_PP_CMD_PROXY : PLR_PP_CMD_LOCAL;
    if (cmd == 0 || fam == 0) {
        /* LOCAL or UNSPEC: skip len bytes, use the socket's addresses */
        const char *defect = v2_check_skipped_crc(buf, total, fam, &out->crc32c_checked);
        if (defect == NULL && require_crc && cmd == 1 && !out->crc32c_checked)
            defect = "v2: no CRC32C TLV but one is required";
        if (defect != NULL) {
            *reason = defect;
            return PLR_PP_ERR;
        }
        return PLR_PP_OK;
    }

    out->family = (enum plr_pp_family)fam;
    out->transport = (enum plr_pp_transport)(buf[13] & 0x0f);
    out->has_addresses = true;
    size_t start = PLR_PP_V2_MIN_BYTES + v2_take_addresses(buf + PLR_PP_V2_MIN_BYTES, fam, out);
    const uint8_t *tlvs = buf + start;
    size_t tlvs_len = total - start, pos = 0, crc_at = 0;
    struct plr_pp_tlv t;
    int r;
    while ((r = plr_pp_tlv_next(tlvs, tlvs_len, &pos, &t)) == 1) {
        const char *defect = v2_take_tlv(&t, start + (size_t)(t.value - tlvs), &crc_at, out);
        if (defect != NULL) {
            *reason = defect;
            return PLR_PP_ERR;
        }
        out->tlv_count++;
    }
    if (r < 0) {
        *reason = tlvs_len - pos < 3 ? "v2: truncated TLV header or stray bytes after the TLVs"
                                     : "v2: TLV overruns header";
        return PLR_PP_ERR;
    }
    if (crc_at != 0) {
        if (crc32c_with_hole(buf, total, crc_at) != get_be32(buf + crc_at)) {
            *reason = "v2: bad CRC32C";
            return PLR_PP_ERR;
        }
        out->crc32c_checked = true;
    } else if (require_crc) {
        *reason = "v2: no CRC32C TLV but one is required";
        return PLR_PP_ERR;
    }
    out->tlv_offset = start;
    out->tlv_len = tlvs_len;
    return PLR_PP_OK;
}

static enum plr_pp_result parse_v2(const uint8_t *buf, size_t len, size_t cap, bool require_crc,
                                   struct plr_pp_header *out, const char **reason)
{
    size_t total = 0;
    enum plr_pp_result r = v2_check_fixed(buf, len, cap, &total, reason);
    if (r != PLR_PP_OK)
        return r;
    return v2_parse_block(buf, total, require_crc, out, reason);
}

/* ---- dispatch -------------------------------------------------------------------------------- */

static bool prefix_matches(const uint8_t *buf, size_t len, const uint8_t *magic, size_t magic_len)
{
    return memcmp(buf, magic, len < magic_len ? len : magic_len) == 0;
}

enum plr_pp_result plr_pp_parse(const uint8_t *buf, size_t len, size_t *consumed,
                                struct plr_pp_header *out, const struct plr_pp_options *opt,
                                const char **reason)
{
    const char *reason_sink;
    size_t consumed_sink;
    if (reason == NULL)
        reason = &reason_sink;
    if (consumed == NULL)
        consumed = &consumed_sink;
    *consumed = 0;
    *reason = "need more bytes";
    memset(out, 0, sizeof *out);

    enum plr_pp_accept accept = opt != NULL ? opt->accept : PLR_PP_ACCEPT_ANY;
    size_t cap =
        opt != NULL && opt->max_v2_bytes != 0 ? opt->max_v2_bytes : PLR_PP_V2_DEFAULT_CAP_BYTES;
    if (cap > PLR_PP_V2_MAX_BYTES)
        cap = PLR_PP_V2_MAX_BYTES;
    if (len == 0)
        return PLR_PP_AGAIN;

    enum plr_pp_result r;
    if (accept != PLR_PP_ACCEPT_V2 && prefix_matches(buf, len, v1_magic, sizeof v1_magic)) {
        r = parse_v1(buf, len, out, reason);
    } else if (accept != PLR_PP_ACCEPT_V1 &&
               prefix_matches(buf, len, (const uint8_t *)PLR_PP_V2_SIG, PLR_PP_V2_SIG_BYTES)) {
        r = parse_v2(buf, len, cap, opt != NULL && opt->require_crc32c, out, reason);
    } else {
        *reason = accept == PLR_PP_ACCEPT_V1   ? "not a PROXY v1 header"
                  : accept == PLR_PP_ACCEPT_V2 ? "not a PROXY v2 header"
                                               : "not a PROXY header";
        return PLR_PP_DECLINED;
    }
    if (r == PLR_PP_OK) {
        *consumed = out->header_len;
        *reason = "ok";
    } else if (r == PLR_PP_AGAIN) {
        *reason = "need more bytes";
    }
    return r;
}

const char *plr_pp_result_name(enum plr_pp_result result)
{
    switch (result) {
    case PLR_PP_OK:
        return "ok";
    case PLR_PP_AGAIN:
        return "again";
    case PLR_PP_DECLINED:
        return "declined";
    case PLR_PP_ERR:
        return "error";
    }
    return "unknown";
}
