/*
 * sign_util — the primitives under request signing: the API's RFC 3986 percent-encoding and the
 * byte order it sorts names in, hex SHA-256 / HMAC-SHA256, Content-MD5, and the two date formats.
 *
 * Kept apart from sign.c so that file tells only the canonicalisation story; everything here is
 * exported through include/plprov/sign.h because the HTTP client and the test emulator need the
 * same encoder and digests to build bodies and to verify signatures. Pure: no I/O, no locale (dates
 * are formatted by hand in English), no allocation.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#endif
#include "plprov/sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

/* ---- percent-encoding ------------------------------------------------------------------------ */

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static size_t encoded_len(const char *in, size_t in_len, int keep_slash)
{
    size_t n = 0;

    for (size_t i = 0; i < in_len; i++) {
        unsigned char c = (unsigned char)in[i];
        n += (unreserved(c) || (keep_slash && c == '/')) ? 1 : 3;
    }
    return n;
}

/* Writes the encoding of in[0..in_len) to out, which holds encoded_len() bytes; no NUL. */
static void encode_into(const char *in, size_t in_len, int keep_slash, char *out)
{
    for (size_t i = 0; i < in_len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            *out++ = (char)c;
        } else {
            *out++ = '%';
            *out++ = HEX_UPPER[c >> 4];
            *out++ = HEX_UPPER[c & 15];
        }
    }
}

static int encode_to_buf(const char *in, size_t in_len, int keep_slash, char *out, size_t size)
{
    size_t n = encoded_len(in, in_len, keep_slash);

    if (out == NULL || n >= size) {
        if (out != NULL && size > 0)
            out[0] = '\0';
        return -1;
    }
    encode_into(in, in_len, keep_slash, out);
    out[n] = '\0';
    return 0;
}

size_t prov_sign_percent_encoded_len(const char *in, size_t in_len)
{
    return in == NULL ? 0 : encoded_len(in, in_len, 0);
}

int prov_sign_percent_encode(const char *in, size_t in_len, char *out, size_t out_size)
{
    if (in == NULL && in_len > 0) {
        if (out != NULL && out_size > 0)
            out[0] = '\0';
        return -1;
    }
    return encode_to_buf(in != NULL ? in : "", in_len, 0, out, out_size);
}

int prov_sign_encode_path(const char *path, char *out, size_t out_size)
{
    if (path == NULL || path[0] == '\0')
        path = "/";
    if (path[0] != '/') {
        if (out != NULL && out_size > 0)
            out[0] = '\0';
        return -1;
    }
    return encode_to_buf(path, strlen(path), 1, out, out_size);
}

/* Byte-order comparison of the encodings of two strings, without building them. */
struct enc_iter {
    const unsigned char *s;
    char pending[2];
    int npending;
};

static int enc_next(struct enc_iter *it)
{
    unsigned char c;

    if (it->npending > 0) {
        int v = (unsigned char)it->pending[2 - it->npending];
        it->npending--;
        return v;
    }
    if (*it->s == '\0')
        return -1;
    c = *it->s++;
    if (unreserved(c))
        return c;
    it->pending[0] = HEX_UPPER[c >> 4];
    it->pending[1] = HEX_UPPER[c & 15];
    it->npending = 2;
    return '%';
}

int prov_sign_encoded_cmp(const char *a, const char *b)
{
    struct enc_iter x = {(const unsigned char *)a, {0, 0}, 0};
    struct enc_iter y = {(const unsigned char *)b, {0, 0}, 0};

    for (;;) {
        int ca = enc_next(&x), cb = enc_next(&y);
        if (ca != cb)
            return ca < cb ? -1 : 1;
        if (ca < 0)
            return 0;
    }
}
/* ---- digests --------------------------------------------------------------------------------- */

static void hex_lower(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX_LOWER[in[i] >> 4];
        out[2 * i + 1] = HEX_LOWER[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int prov_sign_sha256_hex(const void *data, size_t len, char out[PROV_SIGN_SHA256_HEX_BYTES])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (out == NULL)
        return -1;
    out[0] = '\0';
    if (data == NULL && len > 0)
        return -1;
    if (EVP_Digest(data != NULL ? data : "", len, md, &md_len, EVP_sha256(), NULL) != 1 ||
        md_len != 32)
        return -1;
    hex_lower(md, md_len, out);
    return 0;
}

int prov_sign_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                              char out[PROV_SIGN_SHA256_HEX_BYTES])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (out == NULL)
        return -1;
    out[0] = '\0';
    if ((key == NULL && key_len > 0) || (data == NULL && len > 0) || key_len > INT32_MAX)
        return -1;
    if (HMAC(EVP_sha256(), key != NULL ? key : "", (int)key_len,
             (const unsigned char *)(data != NULL ? data : ""), len, md, &md_len) == NULL ||
        md_len != 32)
        return -1;
    hex_lower(md, md_len, out);
    return 0;
}

int prov_sign_content_md5(const void *data, size_t len, char *out, size_t out_size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char b64[29];

    if (out == NULL || out_size == 0)
        return -1;
    out[0] = '\0';
    if ((data == NULL && len > 0) ||
        EVP_Digest(data != NULL ? data : "", len, md, &md_len, EVP_md5(), NULL) != 1 ||
        md_len != 16)
        return -1;
    EVP_EncodeBlock((unsigned char *)b64, md, (int)md_len); /* 24 chars + NUL */
    if (strlen(b64) >= out_size)
        return -1;
    memcpy(out, b64, strlen(b64) + 1);
    return 0;
}

/* ---- dates ----------------------------------------------------------------------------------- */

static int utc_tm(int64_t unix_s, struct tm *tm)
{
    time_t t;

    if (unix_s < 0 || unix_s > INT64_C(253402300799)) /* 9999-12-31T23:59:59Z */
        return -1;
    t = (time_t)unix_s;
    if ((int64_t)t != unix_s || gmtime_r(&t, tm) == NULL)
        return -1;
    return 0;
}

static int fmt_done(int n, char *out, size_t out_size)
{
    if (n < 0 || (size_t)n >= out_size) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

int prov_sign_format_iso8601(int64_t unix_s, char *out, size_t out_size)
{
    struct tm tm;

    if (out == NULL || out_size == 0)
        return -1;
    out[0] = '\0';
    if (utc_tm(unix_s, &tm) != 0)
        return -1;
    return fmt_done(snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec),
                    out, out_size);
}

int prov_sign_format_rfc1123(int64_t unix_s, char *out, size_t out_size)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;

    if (out == NULL || out_size == 0)
        return -1;
    out[0] = '\0';
    if (utc_tm(unix_s, &tm) != 0)
        return -1;
    return fmt_done(snprintf(out, out_size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
                             tm.tm_min, tm.tm_sec),
                    out, out_size);
}
