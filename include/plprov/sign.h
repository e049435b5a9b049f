/*
 * sign — Alibaba Cloud OpenAPI request signing, as pure functions (no I/O, no clock, no printing).
 *
 * Implemented in src/provision/sign.c (canonical strings, the three styles) and
 * src/provision/sign_util.c (encoder, digests, dates). Three styles, from docs/alicloud-api.md §2:
 *   - ACS3-HMAC-SHA256 ("V3", §2.2) for CLB, NLB and PrivateLink; works for RPC and ROA requests.
 *   - HMAC-SHA1 RPC ("V2 RPC", §2.1): parameters signed, Signature added as a query parameter.
 *   - HMAC-SHA1 ROA ("V2 ROA", §2.3): what the official Elasticsearch SDK uses.
 * The caller passes the timestamp and the nonce, so the same inputs always give the same bytes; the
 * published vectors are reproduced byte for byte by tests/unit/test_sign.c. Outputs go to
 * caller-owned buffers with explicit sizes; a function either fills every requested output and
 * returns 0, or returns -1 with every requested output set to "" and a static reason in out->error.
 *
 * UNCONFIRMED (doc §2.3, §9): no complete ROA-V2 worked example is published, so V2 ROA is checked
 * only against the string-to-sign layout of the official SDK (openapi-util get_string_to_sign),
 * not against a held-out vector. Whether the Elasticsearch gateway accepts V3 is also unconfirmed.
 * Known divergences between the doc (followed here) and the SDK's openapi-util for V3 query
 * strings: an empty value is "k=" here, a bare "k" in the SDK; names are encoded and sorted by
 * their encoding here, sorted raw and left unencoded in the SDK. Both agree whenever names use only
 * A-Z a-z 0-9 - _ . ~ (every API parameter does) and no parameter is empty: send none empty.
 */
#ifndef PLPROV_SIGN_H
#define PLPROV_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define PROV_SIGN_MAX_PARAMS 1024           /* caller query parameters per request */
#define PROV_SIGN_MAX_EXTRA_HEADERS 16      /* caller headers per request */
#define PROV_SIGN_MAX_HEADER_NAME_BYTES 64  /* longest header name, NUL included */
#define PROV_SIGN_MAX_SECRET_BYTES 256      /* longest AccessKeySecret */
#define PROV_SIGN_MAX_TOKEN_BYTES 16384     /* longest STS security token */
#define PROV_SIGN_MAX_NONCE_BYTES 128       /* longest nonce */
#define PROV_SIGN_MAX_TEXT_BYTES (1u << 20) /* ceiling of every text the signer builds */
#define PROV_SIGN_SHA256_HEX_BYTES 65       /* 64 lower-case hex digits + NUL */
#define PROV_SIGN_DATE_BYTES 32             /* ISO 8601 or RFC 1123 date + NUL */

/* One query parameter or header. Names and values are NUL-terminated UTF-8, unencoded;
 * a NULL value means the empty string. */
struct prov_sign_kv {
    const char *name;
    const char *value;
};

/* What to sign. Every pointer is borrowed for the duration of the call only. */
struct prov_sign_request {
    const char *method;  /* upper-case HTTP method: "GET", "POST", "PATCH", "DELETE", ... */
    const char *host;    /* Host header exactly as sent ("slb.aliyuncs.com", "127.0.0.1:8080");
                          * required for V3 (it is signed), optional otherwise */
    const char *path;    /* raw (unencoded) path, '/'-separated; NULL or "" means "/". ROA paths
                          * such as "/openapi/instances/es-1/vpc-endpoints"; V2 RPC needs "/" */
    const char *action;  /* x-acs-action (V3, optional for V2 ROA) or Action (V2 RPC) */
    const char *version; /* API version: x-acs-version (V3, V2 ROA) or Version (V2 RPC) */
    /* Query parameters in any order, arrays already flattened (Tag.1.Key). The signer sorts them
     * by the byte order of their encoded names and refuses duplicates. For V2 RPC they must not
     * include what the signer adds (Action, Version, AccessKeyId, Signature, SignatureMethod,
     * SignatureVersion, SignatureNonce, Timestamp, SecurityToken): refused as duplicates. */
    const struct prov_sign_kv *query;
    size_t query_count;
    /* Extra headers: content-type, accept, user-agent, other x-acs-*. Names compare
     * case-insensitively and are sent lower-case; values are trimmed of spaces and tabs and may
     * not contain CR or LF. Refused in every style: duplicates and the names any style sets
     * (host, authorization, date, content-md5, x-acs-date, x-acs-signature-nonce,
     * x-acs-content-sha256, x-acs-action, x-acs-version, x-acs-security-token,
     * x-acs-accesskey-id, x-acs-signature-method, x-acs-signature-version). */
    const struct prov_sign_kv *headers;
    size_t header_count;
    const uint8_t *body; /* request body bytes (may be NULL when body_bytes is 0); hashed only */
    size_t body_bytes;
    int64_t timestamp_unix_s; /* request time, seconds since the epoch (UTC), years 1970-9999 */
    const char *nonce;        /* unique per request: visible ASCII, 1..127 bytes */
};

/* Who signs. The secret is used only as an HMAC key: it never appears in any output. */
struct prov_sign_credentials {
    const char *access_key_id;     /* visible ASCII without ',' or ':' */
    const char *access_key_secret; /* 1..255 bytes */
    const char *security_token;    /* STS token, or NULL / "" for a long-term key */
};

/* One caller-owned output buffer; data == NULL means "not wanted". */
struct prov_sign_buf {
    char *data;
    size_t size; /* bytes available at data, NUL included */
};

/* Results. Every field is optional. On success each requested buffer holds a NUL-terminated string;
 * on failure (-1) each requested buffer with size > 0 holds "" and error names the reason. */
struct prov_sign_out {
    struct prov_sign_buf headers;        /* every header to send, signer-set and caller extras, one
                                          * "name: value\n" line each, names lower-case, sorted by
                                          * name, authorization last (none for V2 RPC) */
    struct prov_sign_buf path;           /* the encoded path (each segment percent-encoded) */
    struct prov_sign_buf query;          /* encoded, sorted "k=v&k=v" (no '?'); for V2 RPC it ends
                                          * with "&Signature=<encoded>" and may be sent as a form
                                          * body instead of the URL query */
    struct prov_sign_buf authorization;  /* Authorization value (V3, V2 ROA); "" for V2 RPC */
    struct prov_sign_buf signature;      /* bare signature: lower hex (V3) or Base64 (V2) */
    struct prov_sign_buf canonical;      /* debug: V3 CanonicalRequest, V2 RPC CanonicalizedQuery-
                                          * String, V2 ROA CanonicalizedResource */
    struct prov_sign_buf string_to_sign; /* debug: the exact bytes that were HMAC'd */
    const char *error;                   /* static reason after -1, NULL after 0 */
};
/* Note: headers, query, canonical and string_to_sign contain the security token when one is
 * used (it must be sent). They never contain the secret, but redact the token before logging. */

/* Signature styles, for callers that choose per product. */
enum prov_sign_style {
    PROV_SIGN_V3 = 0,     /* ACS3-HMAC-SHA256 */
    PROV_SIGN_V2_RPC = 1, /* HMAC-SHA1, RPC */
    PROV_SIGN_V2_ROA = 2, /* HMAC-SHA1, ROA */
};

/* ACS3-HMAC-SHA256. Signs host, content-type and every x-acs-* header; adds x-acs-action,
 * x-acs-version, x-acs-date (ISO 8601), x-acs-signature-nonce, x-acs-content-sha256 and, with a
 * token, x-acs-security-token. Requires host, action and version. Returns 0 or -1. */
int prov_sign_v3(const struct prov_sign_request *req, const struct prov_sign_credentials *cred,
                 struct prov_sign_out *out);

/* HMAC-SHA1 RPC. Adds the parameters Action, Version, AccessKeyId, SignatureMethod=HMAC-SHA1,
 * SignatureVersion=1.0, SignatureNonce, Timestamp (ISO 8601) and, with a token, SecurityToken.
 * Format, RegionId and the rest come from req->query. HMAC key is secret + "&". 0 or -1. */
int prov_sign_v2_rpc(const struct prov_sign_request *req, const struct prov_sign_credentials *cred,
                     struct prov_sign_out *out);

/* HMAC-SHA1 ROA. Adds date (RFC 1123), accept: application/json unless given, content-md5 when
 * there is a body, x-acs-signature-nonce, x-acs-signature-method, x-acs-signature-version,
 * x-acs-version, x-acs-action when action is set and, with a token, x-acs-accesskey-id and
 * x-acs-security-token. Requires version. 0 or -1. */
int prov_sign_v2_roa(const struct prov_sign_request *req, const struct prov_sign_credentials *cred,
                     struct prov_sign_out *out);

/* Dispatch on style; -1 for an unknown style. */
int prov_sign_request(enum prov_sign_style style, const struct prov_sign_request *req,
                      const struct prov_sign_credentials *cred, struct prov_sign_out *out);

/* RFC 3986 percent-encoding as the API wants it: only A-Z a-z 0-9 - _ . ~ stay literal, every
 * other byte (UTF-8 taken byte by byte, not validated) becomes %XX with upper-case hex: space is
 * %20 (never '+'), '*' is %2A, '/' is %2F. Writes in[0..in_len) encoded and a NUL into out.
 * Returns 0, or -1 (out set to "" when out_size > 0) if out is too small. */
int prov_sign_percent_encode(const char *in, size_t in_len, char *out, size_t out_size);

/* Length of that encoding, NUL not included. */
size_t prov_sign_percent_encoded_len(const char *in, size_t in_len);

/* Compare NUL-terminated a and b by the byte order of their percent-encodings: the order in which
 * the API sorts parameter names (doc §2.1). Negative, 0 or positive, like strcmp. */
int prov_sign_encoded_cmp(const char *a, const char *b);

/* Encode a raw path segment by segment: like prov_sign_percent_encode but '/' stays literal.
 * NULL or "" gives "/"; a path not starting with '/' is refused. Returns 0 or -1. */
int prov_sign_encode_path(const char *path, char *out, size_t out_size);

/* Lower-case hex SHA-256 of data[0..len) into out (PROV_SIGN_SHA256_HEX_BYTES). 0 or -1. */
int prov_sign_sha256_hex(const void *data, size_t len, char out[PROV_SIGN_SHA256_HEX_BYTES]);

/* Lower-case hex HMAC-SHA256(key, data) into out. 0 or -1. */
int prov_sign_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                              char out[PROV_SIGN_SHA256_HEX_BYTES]);

/* Base64(MD5(data)), the Content-MD5 value, into out (25 bytes suffice). 0 or -1. */
int prov_sign_content_md5(const void *data, size_t len, char *out, size_t out_size);

/* "2023-10-26T10:22:32Z" (V3, V2 RPC) and "Thu, 26 Oct 2023 10:22:32 GMT" (V2 ROA), always in
 * English and UTC. Years outside 1970-9999 are refused. 0 or -1. */
int prov_sign_format_iso8601(int64_t unix_s, char *out, size_t out_size);
int prov_sign_format_rfc1123(int64_t unix_s, char *out, size_t out_size);

#endif
