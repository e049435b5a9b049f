/*
 * fwdresponse — the origin's response head, as far as a forward proxy must understand it: the
 * status, how the body is framed, and a copy of the head for the client with the hop-by-hop
 * fields replaced by our own Connection field.
 *
 * Pure (no I/O). Strict where a mistake would desynchronise a kept-alive client connection:
 * conflicting or malformed Content-Length, Transfer-Encoding together with Content-Length, or
 * a head that is not CRLF-terminated lines is refused (the session answers 502).
 */
#include "plrelay/fwdproxy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_token_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int name_is(const uint8_t *name, size_t len, const char *want)
{
    return strlen(want) == len && strncasecmp((const char *)name, want, len) == 0;
}

/* Does a comma-separated value contain `token` as its last element (Transfer-Encoding) or
 * anywhere (Connection)? */
static int list_has(const uint8_t *v, size_t len, const char *token, int last_only)
{
    size_t tl = strlen(token), i = 0;
    int found = 0;

    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end > start) {
            found = end - start == tl && strncasecmp((const char *)v + start, token, tl) == 0
                        ? 1
                        : (last_only ? 0 : found);
        }
    }
    return found;
}

static int parse_length(const uint8_t *v, size_t len, int64_t *out)
{
    int64_t n = 0;

    if (len == 0 || len > 18)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        n = n * 10 + (v[i] - '0');
    }
    *out = n;
    return 0;
}

static int put(char *out, size_t cap, size_t *pos, const void *p, size_t n)
{
    if (*pos + n > cap)
        return -1;
    memcpy(out + *pos, p, n);
    *pos += n;
    return 0;
}

ssize_t plr_fwd_response(const uint8_t *head, size_t head_len, bool request_head,
                         bool keep_alive_wanted, struct plr_fwd_response *resp, char *out,
                         size_t out_cap)
{
    size_t pos = 0, i = 0, o = 0;

    memset(resp, 0, sizeof(*resp));
    resp->content_length = -1;
    /* Status line: HTTP/1.x SP 3DIGIT SP reason CRLF */
    if (head_len < 16 || memcmp(head, "HTTP/1.", 7) != 0 || (head[7] != '0' && head[7] != '1') ||
        head[8] != ' ')
        return -1;
    for (i = 9; i < 12; i++)
        if (head[i] < '0' || head[i] > '9')
            return -1;
    resp->status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
    if (resp->status < 100 || head[12] != ' ')
        return -1; /* exactly three digits, 100..999, then SP (RFC 9112 §4) */
    while (pos < head_len && head[pos] != '\r')
        pos++;
    if (pos + 1 >= head_len || head[pos + 1] != '\n' || memchr(head, '\n', pos) != NULL)
        return -1;
    if (put(out, out_cap, &o, head, pos + 2) == -1)
        return -1;
    pos += 2;
    /* Fields until the empty line. */
    while (pos + 1 < head_len && !(head[pos] == '\r' && head[pos + 1] == '\n')) {
        size_t line = pos, colon, end = pos;
        while (end < head_len && head[end] != '\r' && head[end] != '\n')
            end++;
        if (end + 1 >= head_len || head[end] != '\r' || head[end + 1] != '\n')
            return -1;
        for (colon = line; colon < end && is_token_char(head[colon]); colon++)
            ;
        if (colon == line || colon == end || head[colon] != ':')
            return -1; /* no name, obs-fold, or whitespace before the colon */
        const uint8_t *name = head + line, *v = head + colon + 1;
        size_t name_len = colon - line, vlen = end - colon - 1;
        while (vlen > 0 && (v[0] == ' ' || v[0] == '\t'))
            v++, vlen--;
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        int drop = 0;
        if (name_is(name, name_len, "content-length")) {
            int64_t n;
            if (parse_length(v, vlen, &n) == -1 ||
                (resp->content_length >= 0 && resp->content_length != n))
                return -1;
            resp->content_length = n;
        } else if (name_is(name, name_len, "transfer-encoding")) {
            resp->has_transfer_encoding = true;
            resp->chunked = list_has(v, vlen, "chunked", 1);
        } else if (name_is(name, name_len, "connection") || name_is(name, name_len, "keep-alive") ||
                   name_is(name, name_len, "proxy-connection")) {
            drop = 1; /* hop-by-hop: replaced by our own Connection field */
        }
        if (!drop && put(out, out_cap, &o, head + line, end + 2 - line) == -1)
            return -1;
        pos = end + 2;
    }
    if (pos + 2 != head_len)
        return -1;
    if (resp->has_transfer_encoding && resp->content_length >= 0)
        return -1; /* RFC 9112 §6.3: a smuggling signal; refuse rather than guess */
    /* How the body ends (RFC 9112 §6.3). */
    if (request_head || (resp->status >= 100 && resp->status < 200) || resp->status == 204 ||
        resp->status == 304)
        resp->framing = PLR_FWD_BODY_NONE;
    else if (resp->has_transfer_encoding)
        resp->framing = resp->chunked ? PLR_FWD_BODY_CHUNKED : PLR_FWD_BODY_UNTIL_CLOSE;
    else if (resp->content_length >= 0)
        resp->framing = PLR_FWD_BODY_LENGTH;
    else
        resp->framing = PLR_FWD_BODY_UNTIL_CLOSE;
    resp->interim = resp->status >= 100 && resp->status < 200;
    resp->keep_alive = keep_alive_wanted && resp->framing != PLR_FWD_BODY_UNTIL_CLOSE;
    if (!resp->interim) {
        const char *c = resp->keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
        if (put(out, out_cap, &o, c, strlen(c)) == -1)
            return -1;
    }
    if (put(out, out_cap, &o, "\r\n", 2) == -1)
        return -1;
    return (ssize_t)o;
}
