/*
 * fwdproxy_target — the request-target of a forward-proxy request: CONNECT's authority form
 * (host:port) and the absolute form http://host[:port]/path?query (RFC 9112 §3.2), with the host
 * classified for the address guard (name, canonical IPv4, IPv6 literal, or a numeric form that
 * must be refused rather than interpreted).
 *
 * Called by the head parser (fwdproxy.c) once the request line is complete and its bytes are known
 * to be VCHAR, so it works on a bounded range and only decides "valid or 400, and why". The host
 * rules are deliberately narrower than RFC 3986's reg-name: what a DNS name can be, nothing that a
 * resolver, an allowlist and inet_aton might each read differently.
 */
#include "plrelay/fwdproxy.h"

#include <arpa/inet.h>
#include <string.h>

#include "fwdproxy_int.h"

#define HOST_LABEL_MAX_BYTES 63 /* DNS label limit */
#define IPV6_TEXT_MAX_BYTES 45  /* INET6_ADDRSTRLEN - 1 */
#define PORT_MAX_DIGITS 5

struct target {
    const uint8_t *buf;
    struct plr_fwd_request *req;
    const char *reason; /* set on -1 */
};

static int bad(struct target *p, const char *reason)
{
    p->reason = reason;
    return -1;
}

/* A label that URL parsers read as a number: all digits, or 0x followed by hex digits. */
static bool numeric_label(const char *s, size_t n)
{
    size_t i = 0;
    if (n >= 2 && s[0] == '0' && s[1] == 'x')
        i = 2;
    for (size_t k = i; k < n; k++)
        if (i == 0 ? !fwd_is_digit((uint8_t)s[k]) : !fwd_is_hex((uint8_t)s[k]))
            return false;
    return true;
}

/* Classify a lower-cased host name: NAME, canonical IPV4 (addr4 filled) or NUMERIC. Also checks
 * labels: non-empty (no leading, trailing or double dot), at most 63 bytes. */
static int classify_name(struct target *p)
{
    struct plr_fwd_request *r = p->req;
    size_t labels = 0, start = 0, last_start = 0;
    uint32_t quad = 0;
    bool canonical = true;
    for (size_t i = 0; i <= r->host_len; i++) {
        if (i < r->host_len && r->host[i] != '.')
            continue;
        size_t n = i - start;
        if (n == 0)
            return bad(p, "empty label in host name");
        if (n > HOST_LABEL_MAX_BYTES)
            return bad(p, "host name label longer than 63 bytes");
        unsigned v = 0;
        bool dec = n <= 3 && (n == 1 || r->host[start] != '0');
        for (size_t k = start; dec && k < i; k++) {
            dec = fwd_is_digit((uint8_t)r->host[k]);
            v = v * 10 + (unsigned)(r->host[k] - '0');
        }
        canonical = canonical && dec && v <= 255;
        quad = canonical ? (quad << 8) | v : 0;
        labels++;
        last_start = start;
        start = i + 1;
    }
    if (!numeric_label(r->host + last_start, r->host_len - last_start)) {
        r->host_kind = PLR_FWD_HOST_NAME;
    } else if (canonical && labels == 4) {
        r->host_kind = PLR_FWD_HOST_IPV4;
        r->addr4.s_addr = htonl(quad);
    } else {
        r->host_kind = PLR_FWD_HOST_NUMERIC;
    }
    return 0;
}

/* host (no brackets) of b[s..e) → req->host, lower-cased. */
static int take_host(struct target *p, size_t s, size_t e, bool bracketed)
{
    struct plr_fwd_request *r = p->req;
    const uint8_t *b = p->buf;
    if (e == s)
        return bad(p, bracketed ? "bad IPv6 literal in host" : "empty host");
    if (e - s > (bracketed ? IPV6_TEXT_MAX_BYTES : PLR_FWD_HOST_MAX_BYTES))
        return bad(p, bracketed ? "bad IPv6 literal in host" : "host name too long");
    for (size_t i = s; i < e; i++) {
        uint8_t c = b[i];
        if (bracketed && c == '%')
            return bad(p, "IPv6 zone identifiers are not allowed");
        if (bracketed && !fwd_is_hex(c) && c != ':' && c != '.')
            return bad(p, "bad IPv6 literal in host");
        if (!bracketed && (c == '[' || c == ']'))
            return bad(p, "unbalanced [ or ] in host");
        if (!bracketed && !fwd_is_name_char(c))
            return bad(p, "invalid character in host");
        r->host[i - s] = (char)fwd_lower(c);
    }
    r->host_len = e - s;
    r->host[r->host_len] = '\0';
    r->host_bracketed = bracketed;
    if (!bracketed)
        return classify_name(p);
    if (inet_pton(AF_INET6, r->host, &r->addr6) != 1)
        return bad(p, "bad IPv6 literal in host");
    r->host_kind = PLR_FWD_HOST_IPV6;
    return 0;
}

/* A port: 1..65535, digits only, no leading zero. */
static int take_port(struct target *p, size_t s, size_t e)
{
    const uint8_t *b = p->buf;
    if (s == e)
        return bad(p, "empty port");
    if (e - s > PORT_MAX_DIGITS)
        return bad(p, "bad port");
    unsigned v = 0;
    for (size_t i = s; i < e; i++) {
        if (!fwd_is_digit(b[i]))
            return bad(p, "bad port");
        v = v * 10 + (unsigned)(b[i] - '0');
    }
    if (v == 0)
        return bad(p, "port 0 is not allowed");
    if (b[s] == '0')
        return bad(p, "port with a leading zero");
    if (v > 65535)
        return bad(p, "port out of range");
    p->req->port = (uint16_t)v;
    p->req->port_explicit = true;
    return 0;
}

/* authority = host [":" port] in b[s..e): "[v6]" / dotted quad / name. */
static int parse_authority(struct target *p, size_t s, size_t e, bool need_port)
{
    const uint8_t *b = p->buf;
    if (memchr(b + s, '@', e - s) != NULL)
        return bad(p, "userinfo (user@) is not allowed in the request-target");
    size_t host_end, rest;
    int r;
    if (s < e && b[s] == '[') {
        const uint8_t *rb = memchr(b + s, ']', e - s);
        if (rb == NULL)
            return bad(p, "unbalanced [ or ] in host");
        host_end = (size_t)(rb - b);
        rest = host_end + 1;
        r = take_host(p, s + 1, host_end, true);
    } else {
        const uint8_t *colon = memchr(b + s, ':', e - s);
        host_end = colon != NULL ? (size_t)(colon - b) : e;
        rest = host_end;
        r = take_host(p, s, host_end, false);
    }
    if (r != 0)
        return r;
    if (rest == e) {
        if (need_port)
            return bad(p, "CONNECT needs a port (host:port)");
        p->req->port = 80;
        return 0;
    }
    if (b[rest] != ':')
        return bad(p, "unexpected bytes after IPv6 literal");
    return take_port(p, rest + 1, e);
}

static int parse_connect_target(struct target *p, size_t s, size_t e)
{
    const uint8_t *b = p->buf;
    if (b[s] == '/')
        return bad(p, "CONNECT needs authority form host:port");
    for (size_t i = s; i + 3 <= e; i++)
        if (memcmp(b + i, "://", 3) == 0)
            return bad(p, "CONNECT needs authority form host:port, not a URI");
    p->req->kind = PLR_FWD_KIND_CONNECT;
    return parse_authority(p, s, e, true);
}

static int parse_absolute_target(struct target *p, size_t s, size_t e)
{
    const uint8_t *b = p->buf;
    struct plr_fwd_request *r = p->req;
    if (b[s] == '/')
        return bad(p, "not a proxy request (origin-form target)");
    if (e - s == 1 && b[s] == '*')
        return bad(p, "asterisk-form request-target is not supported");
    size_t i = s;
    while (i < e && ((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z') ||
                     (i > s && (fwd_is_digit(b[i]) || b[i] == '+' || b[i] == '-' || b[i] == '.'))))
        i++;
    if (i == s || e - i < 3 || memcmp(b + i, "://", 3) != 0)
        return bad(p, "request-target is not an absolute http:// URI");
    if (fwd_eq_ci(b + s, i - s, "https"))
        return bad(p, "https:// is not forwarded in absolute form: use CONNECT");
    if (!fwd_eq_ci(b + s, i - s, "http"))
        return bad(p, "only http:// URIs are forwarded");
    if (memchr(b + s, '#', e - s) != NULL)
        return bad(p, "fragment in request-target");
    size_t as = i + 3, ae = as;
    while (ae < e && b[ae] != '/' && b[ae] != '?')
        ae++;
    r->kind = PLR_FWD_KIND_ABSOLUTE;
    int res = parse_authority(p, as, ae, false);
    if (res != 0)
        return res;
    r->path_off = ae;
    r->path_len = e - ae;
    r->path_implicit_slash = ae == e || b[ae] == '?';
    return 0;
}

int plr_fwd_parse_target(const uint8_t *buf, size_t s, size_t e, struct plr_fwd_request *req,
                         const char **reason)
{
    struct target t = {.buf = buf, .req = req, .reason = NULL};
    int r = req->method == PLR_FWD_METHOD_CONNECT ? parse_connect_target(&t, s, e)
                                                  : parse_absolute_target(&t, s, e);
    if (r != 0)
        *reason = t.reason;
    return r;
}
