/*
 * proxyproto — pure PROXY protocol v1/v2 parser and builder (haproxy doc/proxy-protocol.txt).
 *
 * No I/O, no allocation, no libevent: everything works over caller-owned byte ranges, so the
 * session state machine feeds it whatever has arrived and the tests and fuzzers feed it bytes.
 * The parser is incremental in the simplest sense: call it again with the whole buffer received
 * so far (not just the new bytes). Its verdict on a prefix is either AGAIN or already the final
 * verdict for every longer input, so a header split into any number of reads gets the same result
 * as one write. It is strict: anything outside the spec is ERR, as early as the bytes allow, and it
 * never asks for bytes past the spec's limits (107 bytes for v1, the configured cap for v2).
 *
 * Alibaba NLB/PrivateLink identity (custom TLV 0xE1, first value byte a sub-type: 0x01 VPC id,
 * 0x02 endpoint id, 0x03 endpoint-service id) is decoded into exact-byte copies; every other TLV
 * is validated where the spec defines it and is otherwise reachable through the raw TLV region.
 * Implemented in src/relay/proxyproto.c (parsing, CRC32C, TLV walking) and
 * src/relay/proxyproto_build.c (the builders and plr_pp_tlv_encode).
 */
#ifndef PLRELAY_PROXYPROTO_H
#define PLRELAY_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PLR_PP_V1_MAX_BYTES 107 /* longest v1 line incl. CRLF (spec, 108-byte buf) */
/* The v2 signature. It contains a NUL: compare with memcmp over PLR_PP_V2_SIG_BYTES, never str*. */
#define PLR_PP_V2_SIG "\r\n\r\n\0\r\nQUIT\n"
#define PLR_PP_V2_SIG_BYTES 12
#define PLR_PP_V2_MIN_BYTES 16           /* signature + ver/cmd + fam/proto + len */
#define PLR_PP_V2_MAX_BYTES (16 + 65535) /* 16 + the largest 16-bit len */
#define PLR_PP_V2_DEFAULT_CAP_BYTES 4096 /* default for plr_pp_options.max_v2_bytes */
#define PLR_PP_ID_MAX_BYTES 128          /* longest 0xE1 id value accepted (after sub-type) */
#define PLR_PP_AUTHORITY_MAX_BYTES 255   /* longest AUTHORITY TLV accepted (a host name) */
#define PLR_PP_UNIQUE_ID_MAX_BYTES 128   /* UNIQUE_ID limit from the spec */

/* TLV types (spec §2.2.x) and the Alibaba 0xE1 sub-types. */
#define PLR_PP_TLV_ALPN 0x01
#define PLR_PP_TLV_AUTHORITY 0x02
#define PLR_PP_TLV_CRC32C 0x03
#define PLR_PP_TLV_NOOP 0x04
#define PLR_PP_TLV_UNIQUE_ID 0x05
#define PLR_PP_TLV_SSL 0x20
#define PLR_PP_TLV_NETNS 0x30
#define PLR_PP_TLV_ALIBABA 0xE1
#define PLR_PP_ALIBABA_VPC_ID 0x01
#define PLR_PP_ALIBABA_ENDPOINT_ID 0x02
#define PLR_PP_ALIBABA_ENDPOINT_SERVICE_ID 0x03

/* What plr_pp_parse concluded. */
enum plr_pp_result {
    PLR_PP_OK = 0,       /* a complete, valid header; *consumed = its length, out is filled */
    PLR_PP_AGAIN = 1,    /* valid so far, more bytes needed; call again with the longer buffer */
    PLR_PP_DECLINED = 2, /* the bytes do not start a PROXY header of an accepted version; on a
                            listener that requires one this is a 400, never a guess */
    PLR_PP_ERR = 3,      /* a PROXY header that breaks the spec or a limit: 400 and close */
};

/* Which header versions a listener accepts (config `proxy_protocol = v1 | v2 | any`). */
enum plr_pp_accept {
    PLR_PP_ACCEPT_ANY = 0, /* v1 or v2, told apart by the first byte */
    PLR_PP_ACCEPT_V1 = 1,  /* only v1; a v2 signature is DECLINED */
    PLR_PP_ACCEPT_V2 = 2,  /* only v2; "PROXY ..." is DECLINED */
};

struct plr_pp_options {
    enum plr_pp_accept accept; /* zero value: any */
    size_t max_v2_bytes;       /* cap on a whole v2 header (16 + len) in bytes; 0: the default
                                  4096. A declared len past the cap is ERR at once (after 16
                                  bytes), never waited for. Values above 65551 change nothing. */
    bool require_crc32c;       /* v2 PROXY headers without a CRC32C TLV are ERR (LOCAL ones are
                                  still accepted). Without it a CRC is checked when present,
                                  but a header whose CRC TLV type byte was corrupted simply
                                  looks like one that never had a CRC. */
};

enum plr_pp_version {
    PLR_PP_VERSION_NONE = 0, /* not parsed */
    PLR_PP_VERSION_1 = 1,    /* text header */
    PLR_PP_VERSION_2 = 2,    /* binary header */
};

enum plr_pp_command {
    PLR_PP_CMD_LOCAL = 0, /* v2 LOCAL: the LB's own connection (health check); block skipped */
    PLR_PP_CMD_PROXY = 1, /* relayed connection: v2 PROXY, or any v1 line (incl. UNKNOWN) */
};

enum plr_pp_family {
    PLR_PP_FAM_UNSPEC = 0, /* no usable addresses (v1 UNKNOWN, v2 UNSPEC, every LOCAL) */
    PLR_PP_FAM_INET = 1,   /* IPv4: src/dst are sockaddr_in */
    PLR_PP_FAM_INET6 = 2,  /* IPv6: src/dst are sockaddr_in6 */
    PLR_PP_FAM_UNIX = 3,   /* v2 only: src/dst are sockaddr_un, sun_path is the raw 108 bytes
                              (NUL-padded, not necessarily NUL-terminated) */
};

enum plr_pp_transport {
    PLR_PP_TRANSPORT_UNSPEC = 0, /* with family UNSPEC only */
    PLR_PP_TRANSPORT_STREAM = 1, /* TCP / SOCK_STREAM; every v1 TCP4/TCP6 line */
    PLR_PP_TRANSPORT_DGRAM = 2,  /* UDP / SOCK_DGRAM (v2 only; a TCP relay may refuse it) */
};

/* An identifier copied out of a TLV: exact bytes, may contain NUL or any other byte, NOT
 * NUL-terminated. Compare with len + memcmp; escape before logging. */
struct plr_pp_id {
    bool present;                       /* the TLV was in the header (len may still be 0) */
    size_t len;                         /* bytes used in value, 0..PLR_PP_ID_MAX_BYTES */
    uint8_t value[PLR_PP_ID_MAX_BYTES]; /* the id without its sub-type byte */
};

/* One parsed header. Plain data, no pointers into the input: safe to keep after the input
 * buffer is drained, except that the raw TLVs are described by an offset into that buffer. */
struct plr_pp_header {
    enum plr_pp_version version;
    enum plr_pp_command command;
    enum plr_pp_family family;       /* from the header; UNSPEC for LOCAL whatever the wire says */
    enum plr_pp_transport transport; /* likewise */
    bool has_addresses;              /* false: use the socket's own addresses (v1 UNKNOWN, v2
                                        LOCAL, v2 UNSPEC) */
    struct sockaddr_storage src;     /* real client when has_addresses; ports in network order */
    struct sockaddr_storage dst;     /* address the client connected to (the LB's listener) */

    /* Alibaba PrivateLink (TLV 0xE1). A repeated sub-type is ERR; unknown sub-types are kept
     * only in the raw TLVs. */
    struct plr_pp_id vpc_id;              /* sub-type 0x01 */
    struct plr_pp_id endpoint_id;         /* sub-type 0x02, e.g. "ep-bp1i4db71e6adaa29718" */
    struct plr_pp_id endpoint_service_id; /* sub-type 0x03 */

    bool has_authority;                            /* TLV 0x02 present (at most once) */
    size_t authority_len;                          /* bytes in authority */
    uint8_t authority[PLR_PP_AUTHORITY_MAX_BYTES]; /* exact bytes (usually the SNI), not
                                                      NUL-terminated */
    bool crc32c_checked; /* a CRC32C TLV was present and matched (also in a skipped LOCAL block
                            that walks cleanly as TLVs) */

    /* Raw TLVs of a v2 PROXY header with family INET/INET6/UNIX: buf[tlv_offset, +tlv_len) of
     * the buffer given to plr_pp_parse (0/0 otherwise). Already validated: walk it with
     * plr_pp_tlv_next, or hand it to plr_pp_build_v2 for send_proxy_tlvs = pass. Copy those
     * bytes before draining the input buffer if they are needed later. */
    size_t tlv_offset;
    size_t tlv_len;
    size_t tlv_count; /* top-level TLVs in that region */

    size_t header_len; /* bytes of header; payload starts at buf + header_len */
};

/*
 * Parse the start of buf[0..len) (everything received so far on the connection).
 *
 *   OK        *consumed = out->header_len; the payload, if any, is buf[*consumed..len).
 *   AGAIN     *consumed = 0; nothing wrong yet. With len >= 107 (v1) or >= the cap (v2) AGAIN is
 *             impossible, so a caller holding that many bytes always gets a verdict.
 *   DECLINED  *consumed = 0; the first bytes match no accepted version's magic ("PROXY" or the
 *             12-byte v2 signature). Decided on as few bytes as possible (often one).
 *   ERR       *consumed = 0; malformed or over a limit.
 *
 * opt may be NULL (any version, default cap). out is overwritten; its content is meaningful only
 * on OK. consumed and reason may be NULL. *reason is always set to a static string naming the
 * verdict or the defect ("v1: no CRLF within 107 bytes", "v2: bad CRC32C", ...), never NULL.
 *
 * v1 rules: "PROXY" SP ("TCP4"|"TCP6") SP src SP dst SP sport SP dport CRLF with single spaces,
 * IPv4 dotted quads without leading zeros, IPv6 text (inet_pton) for TCP6 only, ports 0..65535
 * without leading zeros; or "PROXY UNKNOWN" followed by CRLF or by SP and anything up to CRLF.
 * A lone CR or LF is ERR. v2 rules: signature, version 2, command LOCAL or PROXY, fam/proto one of
 * 0x00 0x11 0x12 0x21 0x22 0x31 0x32 (the spec's list; others must be rejected), len within the
 * cap, address block of 12/36/216 bytes for INET/INET6/UNIX under PROXY. LOCAL and UNSPEC headers
 * are skipped whole (len bytes, unparsed: no addresses, no TLVs reported), except that a CRC32C
 * TLV found by a clean TLV walk of the block is still verified (so a flipped command bit cannot
 * turn a checksummed PROXY header into an accepted LOCAL one). Otherwise TLVs are walked
 * strictly inside len: a TLV
 * overrunning it, or 1-2 stray bytes after the last TLV, is ERR. Checked TLVs: CRC32C (len 4, at
 * most once, must match), AUTHORITY (<= 255 bytes, at most once), UNIQUE_ID (<= 128), SSL (>= 5
 * bytes, sub-TLVs walked strictly), 0xE1 (sub-type byte present, id <= 128 bytes, each sub-type at
 * most once). Unknown TLV types are skipped.
 */
enum plr_pp_result plr_pp_parse(const uint8_t *buf, size_t len, size_t *consumed,
                                struct plr_pp_header *out, const struct plr_pp_options *opt,
                                const char **reason);

/* A static name for a result ("ok", "again", "declined", "error"). */
const char *plr_pp_result_name(enum plr_pp_result result);

/* One TLV: value points into the buffer being walked. */
struct plr_pp_tlv {
    uint8_t type;
    size_t len; /* value bytes, 0..65535 */
    const uint8_t *value;
};

/* Walk the TLVs in buf[0..len): *pos starts at 0. Returns 1 and fills *tlv (advancing *pos) for
 * each TLV, 0 at the exact end, -1 if the bytes at *pos are a truncated TLV header or a TLV that
 * overruns len (*pos is then left unchanged). */
int plr_pp_tlv_next(const uint8_t *buf, size_t len, size_t *pos, struct plr_pp_tlv *tlv);

/* Encode one TLV (type, 16-bit BE length, value) into buf[0..buf_len). Returns the bytes written
 * (3 + value_len) or -1 if value_len > 65535 or it does not fit; nothing is written on -1. */
ssize_t plr_pp_tlv_encode(uint8_t *buf, size_t buf_len, uint8_t type, const uint8_t *value,
                          size_t value_len);

/*
 * Write a v1 line into buf[0..buf_len). src/dst both AF_INET → TCP4, both AF_INET6 → TCP6, one of
 * each → TCP6 with the IPv4 one as ::ffff:a.b.c.d; NULL or any other family → "PROXY UNKNOWN\r\n".
 * src and dst must point at a whole sockaddr_in / sockaddr_in6 as their family says.
 * Returns the bytes written (<= 107, no NUL added) or -1 if buf_len is too small (nothing is
 * written then).
 */
ssize_t plr_pp_build_v1(uint8_t *buf, size_t buf_len, const struct sockaddr *src,
                        const struct sockaddr *dst);

struct plr_pp_v2_params {
    enum plr_pp_command command; /* LOCAL: a bare 16-byte header, everything below ignored */
    const struct sockaddr *src;  /* PROXY: both AF_INET → 0x11, both AF_INET6 → 0x21, mixed →
                                    0x21 with the IPv4 one mapped, both AF_UNIX → 0x31; NULL or
                                    anything else → UNSPEC (0x00, len 0, no TLVs). Each must
                                    point at a whole sockaddr_in / _in6 / _un (108-byte
                                    sun_path copied as is). */
    const struct sockaddr *dst;
    const uint8_t *tlvs; /* encoded TLVs to append, e.g. a parsed header's raw region
                            (pass-through); must walk cleanly or the build fails. CRC32C
                            TLVs in it are dropped: a stale checksum would be wrong. */
    size_t tlvs_len;
    bool crc32c; /* append a fresh CRC32C TLV over the finished header */
};

/* Write a v2 header into buf[0..buf_len). Returns the bytes written (16 + len) or -1 if the
 * parameters are invalid (malformed tlvs, len over 65535) or buf_len is too small; on -1 the
 * content of buf is unspecified but nothing past buf_len is touched. */
ssize_t plr_pp_build_v2(uint8_t *buf, size_t buf_len, const struct plr_pp_v2_params *params);

/* CRC32C (Castagnoli, reflected 0x82F63B78, init and final xor 0xFFFFFFFF), the checksum of the
 * CRC32C TLV. crc32c("123456789") == 0xE3069283. */
uint32_t plr_pp_crc32c(const uint8_t *buf, size_t len);

#endif
