/*
 * proxyproto_build — write PROXY protocol v1 lines and v2 headers (send_proxy towards upstreams).
 *
 * The inverse of the parser in proxyproto.c, kept apart because it tells a different story: no
 * input to distrust, only a caller buffer never to overrun. Everything goes through a bounded
 * writer that stops at the first byte that does not fit, so a short buffer yields -1 rather than a
 * truncated header. Every output is checked in the unit tests by feeding it back to the parser.
 */
#include "plrelay/proxyproto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#define V2_UNIX_PATH_BYTES 108

static void put_be16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

ssize_t plr_pp_tlv_encode(uint8_t *buf, size_t buf_len, uint8_t type, const uint8_t *value,
                          size_t value_len)
{
    if (value_len > 0xFFFF || buf_len < 3 || buf_len - 3 < value_len ||
        (value == NULL && value_len > 0))
        return -1;
    buf[0] = type;
    put_be16(buf + 1, value_len);
    if (value_len > 0)
        memcpy(buf + 3, value, value_len);
    return (ssize_t)(3 + value_len);
}

/* ---- bounded writing
 * -------------------------------------------------------------------------------- */

/* A bounded writer: once something does not fit, nothing more is written and full stays set. */
struct wbuf {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool full;
};

static void put(struct wbuf *w, const void *p, size_t n)
{
    if (w->full || w->cap - w->len < n) {
        w->full = true;
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_text(struct wbuf *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_dec(struct wbuf *w, unsigned v)
{
    char digits[10];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(w, digits + sizeof digits - n, n);
}

static void map_v4_to_v6(const struct sockaddr_in *in, struct sockaddr_in6 *out)
{
    memset(out, 0, sizeof *out);
    out->sin6_family = AF_INET6;
    out->sin6_port = in->sin_port;
    out->sin6_addr.s6_addr[10] = 0xff;
    out->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&out->sin6_addr.s6_addr[12], &in->sin_addr, 4);
}

/* Copy src/dst into s/d with a common family (IPv4 mapped when mixed). Returns AF_INET, AF_INET6,
 * AF_UNIX or AF_UNSPEC (NULL, unsupported or mismatched families). */
static int pair_family(const struct sockaddr *src, const struct sockaddr *dst,
                       struct sockaddr_storage *s, struct sockaddr_storage *d)
{
    memset(s, 0, sizeof *s);
    memset(d, 0, sizeof *d);
    if (src == NULL || dst == NULL)
        return AF_UNSPEC;
    int sf = src->sa_family, df = dst->sa_family;
    bool s_ip = sf == AF_INET || sf == AF_INET6, d_ip = df == AF_INET || df == AF_INET6;
    if (s_ip && d_ip) {
        if (sf == df) {
            size_t n = sf == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
            memcpy(s, src, n);
            memcpy(d, dst, n);
            return sf;
        }
        if (sf == AF_INET) {
            map_v4_to_v6((const struct sockaddr_in *)src, (struct sockaddr_in6 *)s);
            memcpy(d, dst, sizeof(struct sockaddr_in6));
        } else {
            memcpy(s, src, sizeof(struct sockaddr_in6));
            map_v4_to_v6((const struct sockaddr_in *)dst, (struct sockaddr_in6 *)d);
        }
        return AF_INET6;
    }
    if (sf == AF_UNIX && df == AF_UNIX) {
        memcpy(s, src, sizeof(struct sockaddr_un));
        memcpy(d, dst, sizeof(struct sockaddr_un));
        return AF_UNIX;
    }
    return AF_UNSPEC;
}

static void put_v1_addr(struct wbuf *w, const struct sockaddr_storage *ss)
{
    char text[INET6_ADDRSTRLEN];
    const void *a = ss->ss_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    if (inet_ntop(ss->ss_family, a, text, sizeof text) == NULL) {
        w->full = true; /* cannot happen for AF_INET/AF_INET6 with this buffer */
        return;
    }
    put_text(w, text);
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
                                    : ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

ssize_t plr_pp_build_v1(uint8_t *buf, size_t buf_len, const struct sockaddr *src,
                        const struct sockaddr *dst)
{
    uint8_t line[PLR_PP_V1_MAX_BYTES];
    struct wbuf w = {line, sizeof line, 0, false};
    struct sockaddr_storage s, d;
    int family = pair_family(src, dst, &s, &d);
    if (family == AF_INET || family == AF_INET6) {
        put_text(&w, family == AF_INET ? "PROXY TCP4 " : "PROXY TCP6 ");
        put_v1_addr(&w, &s);
        put_text(&w, " ");
        put_v1_addr(&w, &d);
        put_text(&w, " ");
        put_dec(&w, port_of(&s));
        put_text(&w, " ");
        put_dec(&w, port_of(&d));
        put_text(&w, "\r\n");
    } else {
        put_text(&w, "PROXY UNKNOWN\r\n");
    }
    if (w.full || w.len > buf_len)
        return -1;
    memcpy(buf, line, w.len);
    return (ssize_t)w.len;
}

static void put_v2_addresses(struct wbuf *w, int family, const struct sockaddr_storage *s,
                             const struct sockaddr_storage *d)
{
    if (family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)s;
        const struct sockaddr_in *b = (const struct sockaddr_in *)d;
        put(w, &a->sin_addr, 4);
        put(w, &b->sin_addr, 4);
        put(w, &a->sin_port, 2);
        put(w, &b->sin_port, 2);
    } else if (family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)s;
        const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)d;
        put(w, &a->sin6_addr, 16);
        put(w, &b->sin6_addr, 16);
        put(w, &a->sin6_port, 2);
        put(w, &b->sin6_port, 2);
    } else {
        put(w, ((const struct sockaddr_un *)s)->sun_path, V2_UNIX_PATH_BYTES);
        put(w, ((const struct sockaddr_un *)d)->sun_path, V2_UNIX_PATH_BYTES);
    }
}

/* Append the caller's TLVs minus CRC32C ones; -1 if they do not walk cleanly. */
static int put_v2_tlvs(struct wbuf *w, const uint8_t *tlvs, size_t tlvs_len)
{
    if (tlvs == NULL)
        return tlvs_len == 0 ? 0 : -1;
    size_t pos = 0, at = 0;
    struct plr_pp_tlv t;
    int r;
    while ((r = plr_pp_tlv_next(tlvs, tlvs_len, &pos, &t)) == 1) {
        if (t.type != PLR_PP_TLV_CRC32C)
            put(w, tlvs + at, pos - at);
        at = pos;
    }
    return r;
}

ssize_t plr_pp_build_v2(uint8_t *buf, size_t buf_len, const struct plr_pp_v2_params *params)
{
    struct wbuf w = {buf, buf_len, 0, false};
    uint8_t fixed[PLR_PP_V2_MIN_BYTES] = {0};
    memcpy(fixed, PLR_PP_V2_SIG, PLR_PP_V2_SIG_BYTES);
    fixed[12] = params->command == PLR_PP_CMD_LOCAL ? 0x20 : 0x21;

    struct sockaddr_storage s, d;
    int family = pair_family(params->src, params->dst, &s, &d);
    if (params->command == PLR_PP_CMD_LOCAL || family == AF_UNSPEC) {
        put(&w, fixed, sizeof fixed); /* fam/proto UNSPEC, len 0 */
        return w.full ? -1 : (ssize_t)w.len;
    }
    fixed[13] = family == AF_INET ? 0x11 : family == AF_INET6 ? 0x21 : 0x31;
    put(&w, fixed, sizeof fixed);
    put_v2_addresses(&w, family, &s, &d);
    if (put_v2_tlvs(&w, params->tlvs, params->tlvs_len) != 0)
        return -1;
    size_t crc_at = 0;
    if (params->crc32c) {
        static const uint8_t crc_tlv[7] = {PLR_PP_TLV_CRC32C, 0, 4, 0, 0, 0, 0};
        crc_at = w.len + 3;
        put(&w, crc_tlv, sizeof crc_tlv);
    }
    if (w.full || w.len > PLR_PP_V2_MAX_BYTES)
        return -1;
    put_be16(buf + 14, w.len - PLR_PP_V2_MIN_BYTES);
    if (params->crc32c)
        put_be32(buf + crc_at, plr_pp_crc32c(buf, w.len));
    return (ssize_t)w.len;
}
