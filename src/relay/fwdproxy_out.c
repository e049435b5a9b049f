/*
 * fwdproxy_out — what the forward proxy writes: short status replies to the client and the
 * absolute-form request rewritten in origin form for the origin server, plus the keep-alive rule.
 *
 * Everything is written through one bounded cursor that refuses to pass the end of the caller's
 * buffer, so a too-small buffer is a clean -1, never an overrun. Nothing here echoes request bytes
 * into a reply: reason texts are sanitised, and the origin request copies only fields the parser
 * has already validated (fwdproxy.c).
 */
#include "plrelay/fwdproxy.h"

#include <limits.h>
#include <string.h>

#define REASON_TEXT_MAX_BYTES 200 /* longest reason text put in a reply body */

/* A bounded output cursor: once something does not fit, `full` sticks and nothing more is written.
 */
struct out {
    char *p;
    size_t cap;
    size_t n;
    bool full;
};

static void put(struct out *o, const void *src, size_t n)
{
    if (o->full || n > o->cap - o->n) {
        o->full = true;
        return;
    }
    if (n != 0)
        memcpy(o->p + o->n, src, n);
    o->n += n;
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_uint(struct out *o, uint64_t v)
{
    char digits[20];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(o, digits + i, sizeof digits - i);
}

static ssize_t finish(const struct out *o)
{
    if (o->full || o->n > (size_t)SSIZE_MAX)
        return -1;
    return (ssize_t)o->n;
}

const char *plr_fwd_status_phrase(int status)
{
    switch (status) {
    case 200:
        return "Connection established";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 405:
        return "Method Not Allowed";
    case 407:
        return "Proxy Authentication Required";
    case 408:
        return "Request Timeout";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return NULL;
    }
}

bool plr_fwd_keep_alive(int http_minor, unsigned conn)
{
    if (conn & PLR_FWD_CONN_CLOSE)
        return false;
    if (http_minor >= 1)
        return true;
    return (conn & PLR_FWD_CONN_KEEP_ALIVE) != 0;
}

ssize_t plr_fwd_reply(int status, const char *reason_text, char *buf, size_t len)
{
    const char *phrase = plr_fwd_status_phrase(status);
    struct out o = {.p = buf, .cap = len};
    if (phrase == NULL)
        return -1;
    if (status == 200) {
        put_str(&o, "HTTP/1.1 200 Connection established\r\n\r\n");
        return finish(&o);
    }
    const char *text = reason_text != NULL ? reason_text : phrase;
    size_t text_len = strnlen(text, REASON_TEXT_MAX_BYTES);

    put_str(&o, "HTTP/1.1 ");
    put_uint(&o, (uint64_t)status);
    put_str(&o, " ");
    put_str(&o, phrase);
    put_str(&o, "\r\nContent-Type: text/plain\r\nContent-Length: ");
    put_uint(&o, (uint64_t)text_len + 1);
    put_str(&o, "\r\nConnection: close\r\n");
    if (status == 407)
        put_str(&o, "Proxy-Authenticate: Basic realm=\"plrelay\"\r\n");
    if (status == 405)
        put_str(&o, "Allow: CONNECT, GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS\r\n");
    put_str(&o, "\r\n");
    for (size_t i = 0; i < text_len; i++) {
        unsigned char c = (unsigned char)text[i];
        char safe = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        put(&o, &safe, 1);
    }
    put_str(&o, "\n");
    return finish(&o);
}

/* "Host: host[:port]" from the request-target: brackets back for IPv6, port unless 80. */
static void put_host_line(struct out *o, const struct plr_fwd_request *req)
{
    put_str(o, "Host: ");
    if (req->host_bracketed)
        put_str(o, "[");
    put(o, req->host, req->host_len);
    if (req->host_bracketed)
        put_str(o, "]");
    if (req->port != 80) {
        put_str(o, ":");
        put_uint(o, req->port);
    }
    put_str(o, "\r\n");
}

ssize_t plr_fwd_build_origin_request(const struct plr_fwd_request *req, const uint8_t *head,
                                     bool keep_alive, char *out, size_t out_len)
{
    struct out o = {.p = out, .cap = out_len};
    if (req->kind != PLR_FWD_KIND_ABSOLUTE || req->field_count > PLR_FWD_MAX_FIELDS)
        return -1;

    put_str(&o, plr_fwd_method_name(req->method));
    put_str(&o, " ");
    if (req->method == PLR_FWD_METHOD_OPTIONS && req->path_len == 0)
        put_str(&o, "*");
    else if (req->path_implicit_slash)
        put_str(&o, "/");
    put(&o, head + req->path_off, req->path_len);
    put_str(&o, " HTTP/1.1\r\n");
    put_host_line(&o, req);

    bool content_length_sent = false;
    for (size_t i = 0; i < req->field_count; i++) {
        const struct plr_fwd_field *f = &req->fields[i];
        if (f->hop_by_hop || f->id == PLR_FWD_H_HOST)
            continue;
        if (f->id == PLR_FWD_H_CONTENT_LENGTH) {
            if (content_length_sent)
                continue; /* equal repeats were checked by the parser; send one */
            content_length_sent = true;
        }
        put(&o, head + f->name_off, f->name_len);
        put_str(&o, f->value_len != 0 ? ": " : ":");
        put(&o, head + f->value_off, f->value_len);
        put_str(&o, "\r\n");
    }
    put_str(&o, req->http_minor == 0 ? "Via: 1.0 plrelay\r\n" : "Via: 1.1 plrelay\r\n");
    put_str(&o, keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    put_str(&o, "\r\n");
    return finish(&o);
}
