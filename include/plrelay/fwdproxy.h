/*
 * fwdproxy — pure HTTP/1.1 forward-proxy request-head parser and the replies/requests built from it
 * (the `connect` route mode: `CONNECT host:port` tunnels and absolute-form `GET http://…`).
 *
 * No I/O, no allocation, no libevent. The session hands in every byte received so far on the
 * client connection and gets OK / AGAIN / ERR; on ERR also the HTTP status to answer with and a
 * static reason. Every check looks only at bytes already present and runs in wire order, so a
 * prefix of the input yields AGAIN or already the final verdict (same status, reason and
 * consumed count): a head split into any number of reads is judged as if sent in one write.
 * The parser never waits past `max_head_bytes`. It is strict (RFC 9110/9112), because this is a
 * security boundary: an intermediary that accepts what the next hop reads differently is a
 * request-smuggling or SSRF vector (see docs/reliability.md §5: tinyproxy's case-sensitive
 * Transfer-Encoding and space-before-colon reports, CVE-2023-49606's self-naming Connection).
 *
 * Implemented in src/relay/fwdproxy.c (the head parser), src/relay/fwdproxy_target.c (the
 * request-target: authority, URI, host classification; internal interface in fwdproxy_int.h) and
 * src/relay/fwdproxy_out.c (replies, the origin-form request builder, the keep-alive rule). Policy
 * — allowlists, the address guard, authentication — is the caller's: this module only says what was
 * asked for, and how.
 *
 * Decisions (each a deliberate choice where the RFCs allow several):
 *   - Line endings are CRLF only. A bare LF is 400 (RFC 9112 §2.2 lets a recipient accept it;
 *     we do not, since an upstream that disagrees would split the head differently), a bare CR
 *     is 400, NUL anywhere in the head is 400. One empty line (CRLF) before the request line is
 *     skipped (RFC 9112 §2.2, a client's stray CRLF after a body); a second one is 400.
 *   - Methods are case-sensitive tokens. Supported: CONNECT (authority form only) and GET, HEAD,
 *     POST, PUT, DELETE, PATCH, OPTIONS (absolute form only). Any other token — TRACE, `connect`,
 *     PRI — is 405 (the reply carries `Allow`). A method token longer than
 *     PLR_FWD_METHOD_MAX_BYTES is 405 without waiting for its end; a byte that cannot be in a
 *     token where the method should be (e.g. a TLS ClientHello) is 400 at once.
 *   - Request-target forms: origin form (`GET / …`) is 400 "not a proxy request"; asterisk form
 *     is 400; authority form with a method other than CONNECT, or any other form with CONNECT,
 *     is 400. Absolute form must be `http://` (scheme case-insensitive); `https://` is 400 with
 *     a reason telling the client to use CONNECT; other schemes are 400. Userinfo (`user@`) is
 *     400 in both forms, a fragment is 400, an empty port (`host:`) is 400.
 *   - Hosts: a DNS-style name of [A-Za-z0-9._-] with non-empty labels of at most 63 bytes (so a
 *     trailing dot is 400), an IPv4 dotted quad, or an IPv6 literal in brackets (no zone id, no
 *     IPvFuture). Returned lower-cased, without brackets. A name whose last label is numeric
 *     (`2852039166`, `0251.0376.0251.0376`, `0xa9fea9fe`, `169.254.43518`, `1.2.3.04`) is not
 *     an error here but kind PLR_FWD_HOST_NUMERIC, which the caller must refuse (403) and never
 *     resolve or hand to inet_aton.
 *   - Ports: 1..65535, decimal digits only, no sign, no leading zero; required for CONNECT,
 *     default 80 in absolute form.
 *   - Version: exactly `HTTP/1.0` or `HTTP/1.1`. Any other well-formed `HTTP/d.d` is 505 (RFC
 *     9110 §6.2 would let us treat 1.2+ as 1.1; nothing sends it and strict is safer); anything
 *     else is 400.
 *   - Header fields: name = token immediately followed by ':' (whitespace before the colon is
 *     400, RFC 9112 §5.1), a line starting with SP/HTAB (obs-fold, or whitespace after the
 *     request line) is 400, values may hold SP, HTAB, VCHAR and obs-text (0x80-0xFF) but no
 *     other control byte or DEL. More than PLR_FWD_MAX_FIELDS fields is 431.
 *   - Framing: Content-Length is 1*DIGIT (no sign, no list; fits in int64; `007` is 7);
 *     several lines must agree (the builder forwards one). Transfer-Encoding is a
 *     case-insensitive list across all its lines; exactly `chunked` is accepted; `chunked` not
 *     last is 400 (RFC 9112 section 6.3 MUST), `chunked` twice is 400, another coding before a
 *     final `chunked` (`gzip, chunked`) is 501 (not implemented: we only need the framing, and
 *     fewer shapes mean fewer smuggling paths). Content-Length with Transfer-Encoding is 400,
 *     Transfer-Encoding in an HTTP/1.0 request is 400 (RFC 9112 section 6.1). CONNECT with
 *     Transfer-Encoding or a Content-Length other than 0 is 400: the bytes after a CONNECT head
 *     are tunnel data, not a body.
 *   - Host header: HTTP/1.1 requests need exactly one (RFC 9112 §3.2 MUST), HTTP/1.0 at most one;
 *     its value is checked for authority characters only and otherwise ignored (a proxy replaces
 *     it, RFC 9112 §3.2.2) — in particular a Host without a port is fine on CONNECT (HAProxy
 *     #1159 broke Java and Python clients by refusing that). Proxy-Authorization at most once.
 *   - Connection (and, for close/keep-alive only, Proxy-Connection) is a token list; naming Host,
 *     Content-Length or Transfer-Encoding in it is 400 (stripping those would change framing or
 *     routing downstream — a known smuggling trick), and so is listing more than 32 options
 *     besides close, keep-alive and upgrade. Upgrade is not supported: the field is dropped.
 *
 * Statuses set on ERR: 400, 405, 414 (request line not ended within max_head_bytes), 431 (head
 * not ended within max_head_bytes, or too many fields), 501, 505.
 */
#ifndef PLRELAY_FWDPROXY_H
#define PLRELAY_FWDPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

#define PLR_FWD_DEFAULT_MAX_HEAD_BYTES 8192 /* config `max_header_bytes` default */
#define PLR_FWD_MAX_FIELDS 100              /* header fields accepted; one more is 431 */
#define PLR_FWD_HOST_MAX_BYTES 255          /* longest host accepted (without brackets) */
#define PLR_FWD_METHOD_MAX_BYTES 16         /* a longer method token is 405 at once */
#define PLR_FWD_REPLY_MAX_BYTES 512         /* always enough for plr_fwd_reply */
#define PLR_FWD_ORIGIN_EXTRA_BYTES 512      /* origin request <= head_len + this */

/* What plr_fwd_parse concluded. Value 2 is kept free for DECLINED (CONVENTIONS.md); a forward
 * proxy port has no other protocol to decline to, so it is never returned. */
enum plr_fwd_result {
    PLR_FWD_OK = 0,    /* a complete, valid head; *consumed = its length, out is filled */
    PLR_FWD_AGAIN = 1, /* valid so far, more bytes needed; call again with the longer buffer */
    PLR_FWD_ERR = 3,   /* malformed, unsupported or over a limit: answer *status and close */
};

/* The two request shapes a forward proxy serves. */
enum plr_fwd_kind {
    PLR_FWD_KIND_CONNECT = 0,  /* CONNECT host:port — tunnel; no path, no body */
    PLR_FWD_KIND_ABSOLUTE = 1, /* METHOD http://host[:port]/path — forwarded in origin form */
};

/* Supported methods; the enum value is the index of its name in plr_fwd_method_name. */
enum plr_fwd_method {
    PLR_FWD_METHOD_CONNECT = 0, /* "CONNECT" (authority form only) */
    PLR_FWD_METHOD_GET = 1,     /* "GET" */
    PLR_FWD_METHOD_HEAD = 2,    /* "HEAD" (response has no body whatever it says) */
    PLR_FWD_METHOD_POST = 3,    /* "POST" */
    PLR_FWD_METHOD_PUT = 4,     /* "PUT" */
    PLR_FWD_METHOD_DELETE = 5,  /* "DELETE" */
    PLR_FWD_METHOD_PATCH = 6,   /* "PATCH" */
    PLR_FWD_METHOD_OPTIONS = 7, /* "OPTIONS" (empty path is sent to the origin as `*`) */
};

/* What the host is, which decides how the caller may reach it. */
enum plr_fwd_host_kind {
    PLR_FWD_HOST_NAME = 0,    /* a DNS name: resolve, then check every answer against the guard */
    PLR_FWD_HOST_IPV4 = 1,    /* a canonical dotted quad; addr4 holds it */
    PLR_FWD_HOST_IPV6 = 2,    /* a bracketed IPv6 literal; addr6 holds it (may embed IPv4) */
    PLR_FWD_HOST_NUMERIC = 3, /* last label numeric but not a canonical dotted quad (decimal,
                                 octal, hex, short or long dotted forms): refuse, never resolve */
};

/* Well-known header fields the parser interprets; everything else is OTHER. */
enum plr_fwd_header {
    PLR_FWD_H_OTHER = 0,               /* anything else, forwarded unless hop_by_hop */
    PLR_FWD_H_HOST = 1,                /* Host (replaced when forwarding) */
    PLR_FWD_H_CONTENT_LENGTH = 2,      /* Content-Length */
    PLR_FWD_H_TRANSFER_ENCODING = 3,   /* Transfer-Encoding (kept: the body is relayed as is) */
    PLR_FWD_H_CONNECTION = 4,          /* Connection (hop-by-hop) */
    PLR_FWD_H_PROXY_CONNECTION = 5,    /* Proxy-Connection (hop-by-hop, non-standard) */
    PLR_FWD_H_PROXY_AUTHORIZATION = 6, /* Proxy-Authorization (hop-by-hop; ours to check) */
};

/* Connection options, as bits in plr_fwd_request.conn. */
#define PLR_FWD_CONN_CLOSE 0x01u      /* `close` in Connection or Proxy-Connection */
#define PLR_FWD_CONN_KEEP_ALIVE 0x02u /* `keep-alive` in Connection or Proxy-Connection */
#define PLR_FWD_CONN_UPGRADE 0x04u    /* `upgrade` in Connection (not supported: Upgrade dropped) */

/* One header field line. Offsets are into the buffer given to plr_fwd_parse; the value is
 * trimmed of surrounding SP/HTAB (value_len may be 0). Bytes are as received: the name keeps its
 * case, the value may hold obs-text. Never NUL-terminated. */
struct plr_fwd_field {
    size_t name_off;
    size_t name_len; /* >= 1 */
    size_t value_off;
    size_t value_len;
    enum plr_fwd_header id; /* recognised field, or PLR_FWD_H_OTHER */
    bool hop_by_hop;        /* connection-specific, not forwarded: Connection, Proxy-Connection,
                               Keep-Alive, Proxy-Authorization, Proxy-Authenticate, TE, Upgrade
                               and every field named in a Connection value */
};

/*
 * One parsed request head. Plain data; the offsets (target, path, fields) refer to the buffer
 * given to plr_fwd_parse, so copy what is needed (or build the origin request) before draining
 * that buffer. Meaningful only after PLR_FWD_OK.
 */
struct plr_fwd_request {
    enum plr_fwd_kind kind;
    enum plr_fwd_method method; /* its text: plr_fwd_method_name(method) */
    int http_minor;             /* 0 or 1 (HTTP/1.0, HTTP/1.1) */

    size_t target_off; /* the request-target exactly as sent */
    size_t target_len;

    char host[PLR_FWD_HOST_MAX_BYTES + 1]; /* lower-cased, without brackets, NUL-terminated */
    size_t host_len;                       /* 1..PLR_FWD_HOST_MAX_BYTES */
    enum plr_fwd_host_kind host_kind;
    bool host_bracketed;   /* written as [IPv6]: the Host header needs the brackets back */
    struct in_addr addr4;  /* host_kind IPV4: the address (network order) */
    struct in6_addr addr6; /* host_kind IPV6: the address */
    uint16_t port;         /* 1..65535, host order; 80 when absolute form gives none */
    bool port_explicit;    /* the target carried a port */

    /* ABSOLUTE only: path and query as sent, e.g. "/a/b?x=1" (0/0 for CONNECT). The origin-form
     * target is "/" + path when path_implicit_slash (the URI had an empty path: "" or "?q"),
     * else the path itself; plr_fwd_build_origin_request does this (and `*` for OPTIONS). */
    size_t path_off;
    size_t path_len;
    bool path_implicit_slash;

    size_t field_count; /* 0..PLR_FWD_MAX_FIELDS, in wire order */
    struct plr_fwd_field fields[PLR_FWD_MAX_FIELDS];

    int64_t content_length; /* -1: no Content-Length field; CONNECT: only 0 is possible */
    bool chunked;           /* Transfer-Encoding: chunked (never together with content_length) */
    unsigned conn;          /* PLR_FWD_CONN_* bits */
    int host_field;         /* index in fields of the Host field, -1 if none */
    int proxy_auth_field;   /* index of Proxy-Authorization (value = credentials), -1 if none */

    size_t head_len; /* request head incl. the final CRLF CRLF (and one skipped leading CRLF) */
};

/*
 * Parse the request head at the start of buf[0..len) (everything received so far).
 * max_head_bytes is the hard limit on the head (config `max_header_bytes`); 0 means
 * PLR_FWD_DEFAULT_MAX_HEAD_BYTES. Bytes at or past max_head_bytes are never looked at.
 *
 *   OK     *consumed = out->head_len <= max_head_bytes. Bytes after it (a ClientHello pipelined
 *          after CONNECT, a request body, a pipelined next request) are not part of the head
 *          and must be kept. *status = 0.
 *   AGAIN  *consumed = 0, *status = 0: nothing wrong yet. Impossible once len >= max_head_bytes.
 *   ERR    *consumed = 0, *status = the HTTP status to answer (see the top of this file).
 *
 * out is overwritten on every call (memset) and meaningful only on OK. consumed, status and
 * reason may be NULL. *reason is always set to a static, printable, input-independent string
 * ("ok", "incomplete request head" or the defect) — safe for a reply body and a log line.
 * Cost is O(min(len, max_head_bytes)) per call (plus a Connection-token pass bounded by the
 * head size); the caller re-parses from the start on each read.
 */
enum plr_fwd_result plr_fwd_parse(const uint8_t *buf, size_t len, size_t max_head_bytes,
                                  size_t *consumed, struct plr_fwd_request *out, int *status,
                                  const char **reason);

/* Static names: "ok" / "again" / "error"; "CONNECT", "GET", …; NULL-free ("?" when out of
 * range). */
const char *plr_fwd_result_name(enum plr_fwd_result result);
const char *plr_fwd_method_name(enum plr_fwd_method method);

/* The reason phrase this module uses for a status (200 → "Connection established", 400 → "Bad
 * Request", …), or NULL for a status it does not know. Known: 200 400 403 405 407 408 414 431 500
 * 501 502 503 504 505. */
const char *plr_fwd_status_phrase(int status);

/*
 * Whether the client connection may stay open after this exchange, from the HTTP minor version
 * and PLR_FWD_CONN_* bits: HTTP/1.1 unless `close`; HTTP/1.0 only with `keep-alive` and without
 * `close` (RFC 9112 §9.3). Use it on a parsed request (req->http_minor, req->conn) or on the
 * same facts taken from a response.
 */
bool plr_fwd_keep_alive(int http_minor, unsigned conn);

/*
 * Write a complete, short response into buf[0..len):
 *   200           exactly "HTTP/1.1 200 Connection established\r\n\r\n" (reason_text ignored)
 *   anything else "HTTP/1.1 <status> <phrase>\r\nContent-Type: text/plain\r\nContent-Length:
 *                 N\r\nConnection: close\r\n" + for 407 `Proxy-Authenticate: Basic
 *                 realm="plrelay"`, for 405 `Allow: <the supported methods>` + "\r\n" +
 *                 body = reason_text (or the phrase when NULL) + "\n".
 * Bytes of reason_text outside printable ASCII are written as '?', and it is cut at 200 bytes,
 * so caller text cannot inject lines. Returns the bytes written (no NUL added), or -1 when status
 * is unknown to plr_fwd_status_phrase or buf is too small (buf content is then unspecified, but
 * nothing past len is written). PLR_FWD_REPLY_MAX_BYTES always suffices.
 */
ssize_t plr_fwd_reply(int status, const char *reason_text, char *buf, size_t len);

/*
 * Rewrite an ABSOLUTE request head for the origin server into out[0..out_len):
 *   "<METHOD> <origin-form> HTTP/1.1\r\n"   origin-form: the path and query ("/" when empty;
 *                                           `*` for OPTIONS with an empty path and no query,
 *                                           RFC 9112 §3.2.4)
 *   "Host: <host>[:<port>]\r\n"             from the request-target (brackets for IPv6, port
 *                                           only when not 80); any client Host is dropped
 *   every other field in order, "Name: value\r\n" as received (value trimmed), except the
 *   hop_by_hop ones and repeated Content-Length lines. Transfer-Encoding is kept, since the body
 *   is relayed as is; Trailer too (RFC 9110 lists it as end-to-end, and chunked trailers are
 *   relayed)
 *   "Via: 1.<minor> plrelay\r\n"            RFC 9110 §7.6.3 (after any Via the client sent)
 *   "Connection: keep-alive\r\n" or "Connection: close\r\n"   per keep_alive
 *   "\r\n"
 * head is the buffer given to plr_fwd_parse (the offsets in req refer to it). keep_alive is the
 * caller's choice for the upstream connection: plr_fwd_keep_alive(req->http_minor, req->conn)
 * when it may reuse it, false when it will not. Returns the bytes written (no NUL added), or -1
 * if req is not ABSOLUTE or out is too small (nothing past out_len is written). The output is
 * never longer than req->head_len + PLR_FWD_ORIGIN_EXTRA_BYTES.
 */
ssize_t plr_fwd_build_origin_request(const struct plr_fwd_request *req, const uint8_t *head,
                                     bool keep_alive, char *out, size_t out_len);

/* ---- the origin's response (src/relay/fwdresponse.c) ------------------------------------ */

#define PLR_FWD_RESPONSE_HEAD_MAX_BYTES 16384 /* a longer response head is a 502 */

/* How the body after a response head ends. */
enum plr_fwd_body {
    PLR_FWD_BODY_NONE = 0,        /* no body: HEAD request, 1xx, 204, 304 */
    PLR_FWD_BODY_LENGTH = 1,      /* Content-Length bytes */
    PLR_FWD_BODY_CHUNKED = 2,     /* chunked; ends when the origin closes (we sent close) */
    PLR_FWD_BODY_UNTIL_CLOSE = 3, /* no framing: ends when the origin closes; client closed too */
};

struct plr_fwd_response {
    int status;                 /* 100..999 */
    bool interim;               /* 1xx: another head follows */
    int64_t content_length;     /* -1 when absent */
    bool chunked;               /* Transfer-Encoding ends with chunked */
    bool has_transfer_encoding; /* any Transfer-Encoding field */
    enum plr_fwd_body framing;
    bool keep_alive; /* the client connection may carry another request after it */
};

/*
 * Read a complete response head (status line … CRLF CRLF, head_len bytes) and write the head
 * for the client into out: the same status line and fields without Connection, Keep-Alive and
 * Proxy-Connection, plus "Connection: keep-alive" when the client wanted it and the body is
 * self-delimiting (else "Connection: close"; interim 1xx heads get neither). request_head: the
 * request was HEAD (no body follows). Returns the bytes written, or -1 when the head is malformed
 * (bad status line, bare LF, obs-fold, conflicting lengths, Transfer-Encoding with
 * Content-Length) or out_cap is too small (head_len + 32 always suffices).
 */
ssize_t plr_fwd_response(const uint8_t *head, size_t head_len, bool request_head,
                         bool keep_alive_wanted, struct plr_fwd_response *resp, char *out,
                         size_t out_cap);

#endif
