/*
 * fwdproxy — pure parser of a forward-proxy request head (CONNECT authority form, absolute-form
 * http:// requests), over the bytes received so far. No I/O, no allocation.
 *
 * Shaped like proxyproto.c: the session hands in everything received and gets OK / AGAIN / ERR.
 * The head is walked once, left to right, and every check is made at the first byte that decides
 * it — a byte-level defect (NUL, bare CR/LF, a control byte) where it sits, a line-level one at
 * that line's CRLF, a head-level one (framing conflicts, a missing Host) at the final CRLF. Running
 * out of bytes is AGAIN, or the 414/431 verdict when the limit has been reached. Because no check
 * ever looks past the byte it is decided at, a prefix of the input gives AGAIN or the final
 * verdict: the chunking differential in tests/fuzz/fuzz_fwdproxy.c holds the code to that.
 * The request-target (authority, URI, host classification) is parsed in fwdproxy_target.c, the
 * replies and the origin-form rewrite are in fwdproxy_out.c.
 */
#include "plrelay/fwdproxy.h"

#include <string.h>

#include "fwdproxy_int.h"

#define CONN_TOKENS_MAX 32 /* Connection options naming other fields; more is 400 */

static const char *const method_names[] = {"CONNECT", "GET",    "HEAD",  "POST",
                                           "PUT",     "DELETE", "PATCH", "OPTIONS"};
#define METHOD_COUNT (sizeof method_names / sizeof method_names[0])

/* Fields that are connection-specific whatever Connection says (RFC 9110 §7.6.1, plus the
 * non-standard Proxy-Connection and Keep-Alive, and the proxy's own authentication pair). */
static const char *const hop_names[] = {
    "connection", "proxy-connection", "keep-alive", "proxy-authorization", "proxy-authenticate",
    "te",         "upgrade"};

/* Request-line bytes may be VCHAR or SP; field-value bytes HTAB, SP, VCHAR or obs-text. */
enum line_class {
    LINE_REQUEST = 0, /* 0x20..0x7E */
    LINE_VALUE = 1,   /* 0x09, 0x20..0x7E, 0x80..0xFF */
};

struct span {
    size_t off;
    size_t len;
};

struct parser {
    const uint8_t *buf;
    size_t avail; /* bytes that may be looked at: min(len, max_head_bytes) */
    bool capped;  /* len >= max_head_bytes: running out of avail is a verdict, not AGAIN */
    struct plr_fwd_request *req;
    int status;
    const char *reason;

    /* Transfer-Encoding, accumulated over all its lines (one list, RFC 9110 §5.3) */
    bool te_seen;
    bool te_last_chunked; /* the last coding so far is chunked */
    bool te_other;        /* a coding other than chunked was listed */

    size_t conn_token_count; /* Connection options other than close/keep-alive/upgrade */
    struct span conn_tokens[CONN_TOKENS_MAX];
};

/* ---- small helpers --------------------------------------------------------------------------- */

static bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && memchr("!#$%&'*+-.^_`|~", c, 15) != NULL;
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static bool eq_ci_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fwd_lower(a[i]) != fwd_lower(b[i]))
            return false;
    return true;
}

static enum plr_fwd_result fail(struct parser *p, int status, const char *reason)
{
    p->status = status;
    p->reason = reason;
    return PLR_FWD_ERR;
}

/* Out of bytes: AGAIN, unless the limit has been reached — then the head cannot end within it. */
static enum plr_fwd_result need_more(struct parser *p, bool in_request_line)
{
    if (!p->capped)
        return PLR_FWD_AGAIN;
    if (in_request_line)
        return fail(p, 414, "request line longer than max_header_bytes");
    return fail(p, 431, "request head longer than max_header_bytes");
}

/* Next element of a comma-separated list in b[*pos..end), OWS trimmed; empty elements are
 * skipped (RFC 9110 §5.6.1). Returns false at the end. Always advances *pos. */
static bool list_next(const uint8_t *b, size_t *pos, size_t end, struct span *elem)
{
    while (*pos < end) {
        size_t s = *pos, e = s;
        while (e < end && b[e] != ',')
            e++;
        *pos = e < end ? e + 1 : end;
        while (s < e && is_ows(b[s]))
            s++;
        while (e > s && is_ows(b[e - 1]))
            e--;
        if (e > s) {
            elem->off = s;
            elem->len = e - s;
            return true;
        }
    }
    return false;
}

static bool all_tchars(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(b[i]))
            return false;
    return n > 0;
}

/*
 * From `from`, find the CRLF ending the line; each byte must fit `cls`. Sets *cr to the CR's
 * offset. A NUL, a bare CR or LF, or a byte outside the class is ERR at that byte.
 */
static enum plr_fwd_result scan_line(struct parser *p, size_t from, enum line_class cls, size_t *cr)
{
    const uint8_t *b = p->buf;
    for (size_t i = from;; i++) {
        if (i >= p->avail)
            return need_more(p, cls == LINE_REQUEST);
        uint8_t c = b[i];
        if (c == '\r') {
            if (i + 1 >= p->avail)
                return need_more(p, cls == LINE_REQUEST);
            if (b[i + 1] != '\n')
                return fail(p, 400, "bare CR in request head");
            *cr = i;
            return PLR_FWD_OK;
        }
        if (c == '\n')
            return fail(p, 400, "bare LF in request head (CRLF required)");
        if (c == 0)
            return fail(p, 400, "NUL byte in request head");
        if (cls == LINE_REQUEST && (c < 0x20 || c > 0x7e))
            return fail(p, 400, "control or non-ASCII byte in request line");
        if (cls == LINE_VALUE && ((c < 0x20 && c != '\t') || c == 0x7f))
            return fail(p, 400, "control byte in header field value");
    }
}

/* ---- request line ---------------------------------------------------------------------------- */

/* "HTTP/" DIGIT "." DIGIT, case-sensitive; only 1.0 and 1.1 are served. */
static enum plr_fwd_result parse_version(struct parser *p, size_t s, size_t e)
{
    const uint8_t *v = p->buf + s;
    if (e - s != 8 || memcmp(v, "HTTP/", 5) != 0 || !fwd_is_digit(v[5]) || v[6] != '.' ||
        !fwd_is_digit(v[7]))
        return fail(p, 400, "malformed HTTP version");
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return fail(p, 505, "HTTP version not supported (HTTP/1.0 and HTTP/1.1 only)");
    p->req->http_minor = v[7] - '0';
    return PLR_FWD_OK;
}

/* The method token, checked as its bytes arrive so that non-HTTP input fails at once. */
static enum plr_fwd_result parse_method(struct parser *p, size_t s, size_t *sp)
{
    const uint8_t *b = p->buf;
    size_t i = s;
    for (;;) {
        if (i >= p->avail)
            return need_more(p, true);
        uint8_t c = b[i];
        if (c == ' ')
            break;
        if (!is_tchar(c)) {
            if (i == s && (c == '\r' || c == '\n'))
                return fail(p, 400, "more than one empty line before the request line");
            return fail(p, 400, c == 0 ? "NUL byte in request head" : "invalid byte in method");
        }
        i++;
        if (i - s > PLR_FWD_METHOD_MAX_BYTES)
            return fail(p, 405, "method not supported");
    }
    if (i == s)
        return fail(p, 400, "request line starts with a space");
    for (size_t m = 0; m < METHOD_COUNT; m++) {
        if (strlen(method_names[m]) == i - s && memcmp(b + s, method_names[m], i - s) == 0) {
            p->req->method = (enum plr_fwd_method)m;
            *sp = i;
            return PLR_FWD_OK;
        }
    }
    for (size_t m = 0; m < METHOD_COUNT; m++)
        if (strlen(method_names[m]) == i - s &&
            eq_ci_bytes(b + s, (const uint8_t *)method_names[m], i - s))
            return fail(p, 405, "method not supported (methods are case-sensitive)");
    return fail(p, 405, "method not supported");
}

/* Request line from `s`; on OK *next is the first byte after its CRLF. */
static enum plr_fwd_result parse_request_line(struct parser *p, size_t s, size_t *next)
{
    const uint8_t *b = p->buf;
    struct plr_fwd_request *r = p->req;
    size_t sp1 = 0, cr = 0;
    enum plr_fwd_result res = parse_method(p, s, &sp1);
    if (res == PLR_FWD_OK)
        res = scan_line(p, sp1 + 1, LINE_REQUEST, &cr);
    if (res != PLR_FWD_OK)
        return res;
    size_t ts = sp1 + 1;
    const uint8_t *sp2p = memchr(b + ts, ' ', cr - ts);
    if (ts == cr || b[ts] == ' ')
        return fail(p, 400, "empty request-target (extra space in request line)");
    if (sp2p == NULL)
        return fail(p, 400, "request line without an HTTP version");
    size_t sp2 = (size_t)(sp2p - b);
    res = parse_version(p, sp2 + 1, cr);
    if (res != PLR_FWD_OK)
        return res;
    r->target_off = ts;
    r->target_len = sp2 - ts;
    const char *why = NULL;
    if (plr_fwd_parse_target(b, ts, sp2, r, &why) != 0)
        return fail(p, 400, why);
    *next = cr + 2;
    return PLR_FWD_OK;
}

/* ---- header fields --------------------------------------------------------------------------- */

static enum plr_fwd_header field_id(const uint8_t *name, size_t n)
{
    if (fwd_eq_ci(name, n, "host"))
        return PLR_FWD_H_HOST;
    if (fwd_eq_ci(name, n, "content-length"))
        return PLR_FWD_H_CONTENT_LENGTH;
    if (fwd_eq_ci(name, n, "transfer-encoding"))
        return PLR_FWD_H_TRANSFER_ENCODING;
    if (fwd_eq_ci(name, n, "connection"))
        return PLR_FWD_H_CONNECTION;
    if (fwd_eq_ci(name, n, "proxy-connection"))
        return PLR_FWD_H_PROXY_CONNECTION;
    if (fwd_eq_ci(name, n, "proxy-authorization"))
        return PLR_FWD_H_PROXY_AUTHORIZATION;
    return PLR_FWD_H_OTHER;
}

static enum plr_fwd_result check_content_length(struct parser *p, const uint8_t *v, size_t n)
{
    if (n == 0)
        return fail(p, 400, "empty Content-Length");
    int64_t cl = 0;
    for (size_t i = 0; i < n; i++) {
        if (!fwd_is_digit(v[i]))
            return fail(p, 400, "Content-Length is not a single decimal number");
        int64_t d = v[i] - '0';
        if (cl > (INT64_MAX - d) / 10)
            return fail(p, 400, "Content-Length too large");
        cl = cl * 10 + d;
    }
    if (p->req->content_length >= 0 && p->req->content_length != cl)
        return fail(p, 400, "conflicting Content-Length values");
    p->req->content_length = cl;
    return PLR_FWD_OK;
}

static enum plr_fwd_result check_transfer_encoding(struct parser *p, size_t s, size_t e)
{
    const uint8_t *b = p->buf;
    struct span el;
    size_t pos = s;
    bool any = false;
    while (list_next(b, &pos, e, &el)) {
        if (!all_tchars(b + el.off, el.len))
            return fail(p, 400, "malformed Transfer-Encoding");
        any = true;
        if (fwd_eq_ci(b + el.off, el.len, "chunked")) {
            if (p->req->chunked)
                return fail(p, 400, "chunked transfer coding applied twice");
            p->req->chunked = true;
            p->te_last_chunked = true;
        } else {
            p->te_other = true;
            p->te_last_chunked = false;
        }
        p->te_seen = true;
    }
    if (!any)
        return fail(p, 400, "empty Transfer-Encoding");
    return PLR_FWD_OK;
}

/* Connection / Proxy-Connection options. Only Connection's other options name hop-by-hop
 * fields; Proxy-Connection contributes close / keep-alive only. */
static enum plr_fwd_result check_connection(struct parser *p, size_t s, size_t e, bool proxy)
{
    const uint8_t *b = p->buf;
    struct span el;
    size_t pos = s;
    while (list_next(b, &pos, e, &el)) {
        const uint8_t *t = b + el.off;
        if (!all_tchars(t, el.len))
            return fail(p, 400, "malformed Connection option");
        if (fwd_eq_ci(t, el.len, "close")) {
            p->req->conn |= PLR_FWD_CONN_CLOSE;
        } else if (fwd_eq_ci(t, el.len, "keep-alive")) {
            p->req->conn |= PLR_FWD_CONN_KEEP_ALIVE;
        } else if (proxy) {
            continue;
        } else if (fwd_eq_ci(t, el.len, "host") || fwd_eq_ci(t, el.len, "content-length") ||
                   fwd_eq_ci(t, el.len, "transfer-encoding")) {
            return fail(p, 400, "Connection names Host, Content-Length or Transfer-Encoding");
        } else {
            if (fwd_eq_ci(t, el.len, "upgrade"))
                p->req->conn |= PLR_FWD_CONN_UPGRADE;
            if (p->conn_token_count == CONN_TOKENS_MAX)
                return fail(p, 400, "too many Connection options");
            p->conn_tokens[p->conn_token_count++] = el;
        }
    }
    return PLR_FWD_OK;
}

/* Host header value: authority characters only ([v6], name, port); may be empty. */
static bool host_value_ok(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!fwd_is_name_char(v[i]) && v[i] != ':' && v[i] != '[' && v[i] != ']' && v[i] != '~' &&
            v[i] != '%' && memchr("!$&'()*+,;=", v[i], 11) == NULL)
            return false;
    return true;
}

/* Checks of one complete field line, made at its CRLF. */
static enum plr_fwd_result check_field(struct parser *p, size_t idx)
{
    struct plr_fwd_request *r = p->req;
    struct plr_fwd_field *f = &r->fields[idx];
    const uint8_t *v = p->buf + f->value_off;
    f->id = field_id(p->buf + f->name_off, f->name_len);
    switch (f->id) {
    case PLR_FWD_H_HOST:
        if (r->host_field >= 0)
            return fail(p, 400, "more than one Host field");
        if (!host_value_ok(v, f->value_len))
            return fail(p, 400, "invalid Host field value");
        r->host_field = (int)idx;
        return PLR_FWD_OK;
    case PLR_FWD_H_CONTENT_LENGTH:
        return check_content_length(p, v, f->value_len);
    case PLR_FWD_H_TRANSFER_ENCODING:
        return check_transfer_encoding(p, f->value_off, f->value_off + f->value_len);
    case PLR_FWD_H_CONNECTION:
    case PLR_FWD_H_PROXY_CONNECTION:
        return check_connection(p, f->value_off, f->value_off + f->value_len,
                                f->id == PLR_FWD_H_PROXY_CONNECTION);
    case PLR_FWD_H_PROXY_AUTHORIZATION:
        if (r->proxy_auth_field >= 0)
            return fail(p, 400, "more than one Proxy-Authorization field");
        r->proxy_auth_field = (int)idx;
        return PLR_FWD_OK;
    case PLR_FWD_H_OTHER:
        break;
    }
    return PLR_FWD_OK;
}

/* One field line starting at `s` (not CR, not SP/HTAB); on OK *next follows its CRLF. */
static enum plr_fwd_result parse_field(struct parser *p, size_t s, size_t *next)
{
    const uint8_t *b = p->buf;
    struct plr_fwd_request *r = p->req;
    size_t i = s, cr = 0;
    for (;; i++) {
        if (i >= p->avail)
            return need_more(p, false);
        uint8_t c = b[i];
        if (c == ':')
            break;
        if (is_tchar(c))
            continue;
        if (is_ows(c))
            return fail(p, 400, "whitespace in header field name or before its colon");
        if (c == '\r' || c == '\n')
            return fail(p, 400, "header line without a colon");
        return fail(p, 400, c == 0 ? "NUL byte in request head" : "invalid byte in field name");
    }
    if (i == s)
        return fail(p, 400, "empty header field name");
    enum plr_fwd_result res = scan_line(p, i + 1, LINE_VALUE, &cr);
    if (res != PLR_FWD_OK)
        return res;
    size_t vs = i + 1, ve = cr;
    while (vs < ve && is_ows(b[vs]))
        vs++;
    while (ve > vs && is_ows(b[ve - 1]))
        ve--;
    size_t idx = r->field_count++;
    r->fields[idx] = (struct plr_fwd_field){
        .name_off = s, .name_len = i - s, .value_off = vs, .value_len = ve - vs};
    *next = cr + 2;
    return check_field(p, idx);
}

/* Head-level checks at the final CRLF, then hop-by-hop marking. */
static enum plr_fwd_result finish_head(struct parser *p)
{
    struct plr_fwd_request *r = p->req;
    const uint8_t *b = p->buf;
    if (p->te_seen && r->http_minor == 0)
        return fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (p->te_seen && r->content_length >= 0)
        return fail(p, 400, "both Content-Length and Transfer-Encoding");
    if (p->te_seen && !p->te_last_chunked)
        return fail(p, 400, "chunked is not the final transfer coding");
    if (p->te_other)
        return fail(p, 501, "transfer coding other than chunked is not implemented");
    if (r->kind == PLR_FWD_KIND_CONNECT && (p->te_seen || r->content_length > 0))
        return fail(p, 400, "CONNECT request with a body");
    if (r->http_minor == 1 && r->host_field < 0)
        return fail(p, 400, "HTTP/1.1 request without a Host field");
    for (size_t i = 0; i < r->field_count; i++) {
        struct plr_fwd_field *f = &r->fields[i];
        const uint8_t *name = b + f->name_off;
        for (size_t k = 0; k < sizeof hop_names / sizeof hop_names[0] && !f->hop_by_hop; k++)
            f->hop_by_hop = fwd_eq_ci(name, f->name_len, hop_names[k]);
        for (size_t k = 0; k < p->conn_token_count && !f->hop_by_hop; k++)
            f->hop_by_hop = p->conn_tokens[k].len == f->name_len &&
                            eq_ci_bytes(name, b + p->conn_tokens[k].off, f->name_len);
    }
    return PLR_FWD_OK;
}

static enum plr_fwd_result parse_head(struct parser *p)
{
    const uint8_t *b = p->buf;
    struct plr_fwd_request *r = p->req;
    size_t pos = 0;
    if (p->avail == 0)
        return need_more(p, true);
    if (b[0] == '\n')
        return fail(p, 400, "bare LF in request head (CRLF required)");
    if (b[0] == '\r') { /* one empty line before the request line is tolerated */
        if (p->avail < 2)
            return need_more(p, true);
        if (b[1] != '\n')
            return fail(p, 400, "bare CR in request head");
        pos = 2;
    }
    enum plr_fwd_result res = parse_request_line(p, pos, &pos);
    while (res == PLR_FWD_OK) {
        if (pos >= p->avail)
            return need_more(p, false);
        uint8_t c = b[pos];
        if (c == '\r') {
            if (pos + 1 >= p->avail)
                return need_more(p, false);
            if (b[pos + 1] != '\n')
                return fail(p, 400, "bare CR in request head");
            r->head_len = pos + 2;
            return finish_head(p);
        }
        if (c == '\n')
            return fail(p, 400, "bare LF in request head (CRLF required)");
        if (is_ows(c))
            return fail(p, 400,
                        r->field_count == 0
                            ? "whitespace between the request line and the first header field"
                            : "obs-fold (header line starting with whitespace) is not allowed");
        if (r->field_count == PLR_FWD_MAX_FIELDS)
            return fail(p, 431, "more than 100 header fields");
        res = parse_field(p, pos, &pos);
    }
    return res;
}

/* ---- entry points ---------------------------------------------------------------------------- */

enum plr_fwd_result plr_fwd_parse(const uint8_t *buf, size_t len, size_t max_head_bytes,
                                  size_t *consumed, struct plr_fwd_request *out, int *status,
                                  const char **reason)
{
    size_t max = max_head_bytes != 0 ? max_head_bytes : PLR_FWD_DEFAULT_MAX_HEAD_BYTES;
    struct parser p;
    memset(&p, 0, sizeof p);
    memset(out, 0, sizeof *out);
    out->content_length = -1;
    out->host_field = -1;
    out->proxy_auth_field = -1;
    p.buf = buf;
    p.avail = len < max ? len : max;
    p.capped = len >= max;
    p.req = out;

    enum plr_fwd_result res = parse_head(&p);
    if (consumed != NULL)
        *consumed = res == PLR_FWD_OK ? out->head_len : 0;
    if (status != NULL)
        *status = res == PLR_FWD_ERR ? p.status : 0;
    if (reason != NULL)
        *reason = res == PLR_FWD_OK      ? "ok"
                  : res == PLR_FWD_AGAIN ? "incomplete request head"
                                         : p.reason;
    return res;
}

const char *plr_fwd_result_name(enum plr_fwd_result result)
{
    switch (result) {
    case PLR_FWD_OK:
        return "ok";
    case PLR_FWD_AGAIN:
        return "again";
    case PLR_FWD_ERR:
        return "error";
    }
    return "?";
}

const char *plr_fwd_method_name(enum plr_fwd_method method)
{
    if ((size_t)method >= METHOD_COUNT)
        return "?";
    return method_names[method];
}
