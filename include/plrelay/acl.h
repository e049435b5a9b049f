/*
 * acl — who may come in and where they may go: CIDR sets, PrivateLink id sets, the CONNECT
 * destination allowlist, the blocked-address (SSRF) guard and strict host parsing.
 *
 * Pure policy: no I/O, no libevent, no DNS, no logging. The config loader turns each list-valued
 * key into one of the objects below (parse once, at load or reload); the session asks read-only
 * questions of them for every connection. Parsed objects are immutable, so one config snapshot
 * may be shared by every worker thread without locks. Every list parser is strict and bounded
 * (PLR_ACL_MAX_ITEMS), trims spaces/tabs around items, refuses empty items and explains the first
 * error in a caller-owned buffer as `item N: "TEXT": why` (N is 1-based), so a config error names
 * the exact entry. None of them guesses: a typo is an error, never a silently wider rule.
 *
 * Ownership: a successful *_parse() stores a new heap object in *out, owned by the caller and
 * released with the matching *_free() (which accepts NULL). On failure *out is NULL and there is
 * nothing to free. Match functions accept a NULL object and then match nothing: what an absent
 * list means (usually "no restriction") is the caller's decision, not this module's.
 *
 * How the CONNECT path is meant to use it (docs/reliability.md §5):
 *   kind = plr_acl_parse_host(host, &ss)          INVALID → 400, nothing resolved
 *   NAME:    plr_acl_dest_match_name(allow, host, port, &rule)  no → 403 naming `rule`
 *            resolve once; for EVERY answer: plr_acl_addr_permitted(exceptions, answer, &why)
 *            any refused → 403 naming `why`; connect only to the checked answers, never re-resolve
 *   LITERAL: set the port in ss; plr_acl_dest_match_addr(allow, ss, &rule) and
 *            plr_acl_addr_permitted(exceptions, ss, &why), both must pass
 * Implemented in src/relay/acl.c (list machinery, CIDR and id sets) and src/relay/acl_dest.c
 * (strict host parsing, destination allowlist, blocked-address guard and its exceptions).
 */
#ifndef PLRELAY_ACL_H
#define PLRELAY_ACL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PLR_ACL_MAX_ITEMS 1024              /* entries per list; more is a parse error */
#define PLR_ACL_MAX_TEXT_BYTES (256 * 1024) /* a list's whole text; longer is a parse error */
#define PLR_ACL_ID_MAX_BYTES 128   /* longest PrivateLink id (matches PLR_PP_ID_MAX_BYTES) */
#define PLR_ACL_NAME_MAX_BYTES 253 /* longest DNS name, without the optional trailing dot */

/* The rule text plr_acl_dest_match_* report when nothing matches (for the 403 log line). */
#define PLR_ACL_DEST_NO_MATCH "no allow_destinations entry matches"

/* ---- CIDR sets: allow_sources, deny_sources, trusted_proxies --------------------------------- */

/*
 * A set of IPv4/IPv6 blocks. Text: comma-separated items, each `ADDRESS` or `ADDRESS/PREFIX`:
 *   "10.0.0.0/8, 192.168.1.5, 2001:db8::/32, ::1"
 * - IPv4 is canonical dotted-quad only (4 decimal octets, no leading zeros); IPv6 is written
 *   without brackets and without a zone (%eth0). A bare address is a /32 or /128.
 * - PREFIX is decimal without leading zeros, 0..32 (IPv4) or 0..128 (IPv6).
 * - Host bits set below the prefix ("10.0.0.1/8") is an error, not silently masked: it is a common
 *   typo and the intended block is ambiguous. The reason names the network that was probably meant.
 * Matching: an IPv4-mapped IPv6 address (::ffff:a.b.c.d, how a dual-stack listener sees IPv4
 * clients) is treated as the IPv4 address everywhere: it matches IPv4 entries, and an entry written
 * inside ::ffff:0:0/96 (prefix >= 96) is stored as the IPv4 block it names. Other IPv6 entries
 * match AF_INET6 addresses by their bits, so ::/0 means "every IPv6 client", not IPv4 ones.
 * Ports are ignored. Any other family (AF_UNIX, ...) matches nothing — so use allow lists as
 * deny-by-default and remember that a deny list alone lets such peers through.
 */
struct plr_acl_cidrs;

/* Parse `text` (NUL-terminated). 0: *out is a new set of at least one entry. -1: *out = NULL and
 * reason (caller-owned, reason_len bytes, may be NULL/0) says why, e.g.
 * `item 3: "10.0.0.0/33": prefix must be 0..32`. Allocation failure is -1 with "out of memory". */
int plr_acl_cidrs_parse(const char *text, struct plr_acl_cidrs **out, char *reason,
                        size_t reason_len);

/* 1 when sa (AF_INET or AF_INET6, port ignored) lies in any entry of set, else 0. */
int plr_acl_cidrs_match(const struct plr_acl_cidrs *set, const struct sockaddr *sa);

/* Like plr_acl_cidrs_match, but returns the first matching entry's text as written (trimmed,
 * e.g. "10.9.0.0/16"), for a 403 log line, or NULL. The text lives as long as set. */
const char *plr_acl_cidrs_find(const struct plr_acl_cidrs *set, const struct sockaddr *sa);

size_t plr_acl_cidrs_count(const struct plr_acl_cidrs *set); /* entries; 0 for NULL */
void plr_acl_cidrs_free(struct plr_acl_cidrs *set);          /* accepts NULL */

/* ---- PrivateLink id sets: allow_endpoints, allow_vpcs, allow_endpoint_services --------------- */

/*
 * A set of ids as carried in the Alibaba PROXY v2 TLV 0xE1 (sub-type 1 VPC id "vpc-…", 2 endpoint
 * id "ep-…", 3 endpoint-service id "epsrv-…"). Text: comma-separated ids of 1..128 characters from
 * [A-Za-z0-9-]. When `prefix` is not NULL every id must also start with it ("ep-", "vpc-",
 * "epsrv-"): a VPC id pasted into allow_endpoints is then a config error instead of a silent
 * lockout. Note "epsrv-…" does not start with "ep-", so the prefixes tell all three kinds apart.
 */
struct plr_acl_ids;

/* 0: *out is a new set. -1: *out = NULL, reason as for plr_acl_cidrs_parse. */
int plr_acl_ids_parse(const char *text, const char *prefix, struct plr_acl_ids **out, char *reason,
                      size_t reason_len);

/* 1 when id[0..id_len) equals an entry byte for byte (no case folding, no trimming), else 0. The
 * id comes off the wire: it may hold NUL, newlines or non-ASCII bytes and then never matches,
 * since entries cannot contain them. id_len 0 (a header without the TLV) never matches. */
int plr_acl_ids_match(const struct plr_acl_ids *set, const uint8_t *id, size_t id_len);

size_t plr_acl_ids_count(const struct plr_acl_ids *set); /* entries; 0 for NULL */
void plr_acl_ids_free(struct plr_acl_ids *set);          /* accepts NULL */

/* ---- destination allowlist (allow_destinations) and guard exceptions ------------------------- */

/*
 * Where a `connect` route may go. Text: comma-separated `HOST:PORT` items; PORT is mandatory,
 * decimal 1..65535 without leading zeros (`*` is refused: the issue wants explicit ports). HOST:
 *   hooks.slack.com        exact DNS name (RFC 1123), compared case-insensitively, a trailing dot
 *                          ignored on both sides
 *   *.dingtalk.com         any name strictly below the suffix: oapi.dingtalk.com and
 *                          a.b.dingtalk.com, but not dingtalk.com itself nor evildingtalk.com
 *   203.0.113.7            an IPv4 literal (a /32) ...
 *   203.0.113.0/24         ... or block, canonical dotted-quad, host bits clear
 *   [2001:db8::1]          an IPv6 literal (a /128) or block: the address AND its prefix go inside
 *   [2001:db8::/32]        the brackets, then ":PORT" — `[2001:db8::/32]:443`
 * A wildcard anywhere but a leading "*." is an error, as are unbracketed IPv6 and non-canonical
 * numeric hosts ("127.1:80"). Names and address entries never match each other: a name is checked
 * with plr_acl_dest_match_name, a literal address with plr_acl_dest_match_addr.
 *
 * The same type holds the guard's exception list (allow_private_destinations, parsed by
 * plr_acl_exceptions_parse): the same syntax restricted to addresses and blocks, because a name
 * would be re-resolved and could be rebound to anything. An exception lifts the guard only: the
 * destination must still be allowed by allow_destinations (a name resolving to the address, or
 * the address itself).
 */
struct plr_acl_dest;

/* Parse allow_destinations. 0: *out is a new list. -1: *out = NULL, reason as above. */
int plr_acl_dest_parse(const char *text, struct plr_acl_dest **out, char *reason,
                       size_t reason_len);

/* Parse allow_private_destinations (addresses/blocks with ports only; a name is an error). */
int plr_acl_exceptions_parse(const char *text, struct plr_acl_dest **out, char *reason,
                             size_t reason_len);

/*
 * 1 when the name the client asked for (host, NUL-terminated, without brackets or port) with port
 * matches a name or `*.suffix` entry of list. host must be a valid DNS name as plr_acl_parse_host
 * defines it; anything else never matches (so "a..dingtalk.com" cannot ride on a suffix rule).
 * rule (may be NULL) is set to the matching entry's text as written ("*.dingtalk.com:443"), or to
 * PLR_ACL_DEST_NO_MATCH when returning 0. The text lives as long as list.
 */
int plr_acl_dest_match_name(const struct plr_acl_dest *list, const char *host, uint16_t port,
                            const char **rule);

/*
 * 1 when the address in sa (AF_INET or AF_INET6; the port is sin_port/sin6_port, network order)
 * lies in an address/block entry with that port. IPv4-mapped IPv6 matches IPv4 entries. rule as
 * for plr_acl_dest_match_name. Port 0 and other families never match.
 */
int plr_acl_dest_match_addr(const struct plr_acl_dest *list, const struct sockaddr *sa,
                            const char **rule);

size_t plr_acl_dest_count(const struct plr_acl_dest *list); /* entries; 0 for NULL */
void plr_acl_dest_free(struct plr_acl_dest *list);          /* accepts NULL */

/* ---- the blocked-address guard (SSRF) -------------------------------------------------------- */

/*
 * 1 when sa must not be connected to on a client's behalf, with *why (may be NULL) set to a static
 * string naming the range, e.g. "link-local 169.254.0.0/16 (cloud metadata)"; 0 otherwise (*why =
 * NULL). Blocked (docs/reliability.md §5):
 *   IPv4  0/8, 10/8, 100.64/10 (Alibaba metadata 100.100.100.200, DNS 100.100.2.136/138), 127/8,
 *         169.254/16, 172.16/12, 192.0.0/24, 192.168/16, 198.18/15, 224/4, 240/4 (incl.
 *         255.255.255.255). The documentation ranges 192.0.2/24, 198.51.100/24 and 203.0.113/24
 *         are NOT blocked (they are not in §5, and tests and examples use them).
 *   IPv6  ::, ::1, fe80::/10, fec0::/10 (deprecated site-local), fc00::/7 (AWS IMDS fd00:ec2::254),
 *         ff00::/8; and, beyond §5 for the same reason, the whole of 64:ff9b:1::/48 (local-use
 *         NAT64), ::ffff:0:0:0/96 (SIIT IPv4-translated) and 2001::/32 (Teredo), whose embedded
 *         IPv4 is operator-defined or obfuscated.
 *   IPv4 embedded in IPv6 is unwrapped and checked as IPv4 (*why names the IPv4 range):
 *         ::ffff:0:0/96 (mapped), ::/96 (compatible), 64:ff9b::/96 (NAT64), 2002::/16 (6to4).
 * Any family other than AF_INET/AF_INET6, and NULL, is blocked (fail closed). The port is ignored.
 */
int plr_acl_addr_blocked(const struct sockaddr *sa, const char **why);

/* 1 when sa (address and port) is covered by an entry of the exception list, with *rule (may be
 * NULL) set to that entry's text; else 0 and *rule = NULL. IPv4-mapped IPv6 matches IPv4 entries.
 */
int plr_acl_addr_allowed_exception(const struct plr_acl_dest *exceptions, const struct sockaddr *sa,
                                   const char **rule);

/*
 * The check to run on every resolved or literal address before connecting: 1 when sa is not
 * blocked (*why = NULL) or is blocked but covered by an exception (*why = the exception's text, for
 * a debug line); 0 when blocked, with *why = the blocked range. exceptions may be NULL. sa must
 * carry the port about to be dialled (resolver answers come with port 0): exceptions are
 * address + port, and port 0 never matches one.
 */
int plr_acl_addr_permitted(const struct plr_acl_dest *exceptions, const struct sockaddr *sa,
                           const char **why);

/* ---- strict host parsing (CONNECT authority, absolute-URI host) ------------------------------ */

enum plr_acl_host_kind {
    PLR_ACL_HOST_INVALID = 0, /* neither a name nor a canonical literal: 400, never resolved */
    PLR_ACL_HOST_NAME = 1,    /* a syntactically valid DNS name: resolve it, check every answer */
    PLR_ACL_HOST_LITERAL = 2, /* a canonical IPv4 or an IPv6 literal: *out holds it, port 0 */
};

/*
 * Classify host (NUL-terminated; an IPv6 literal without its brackets, no port, no zone id).
 * LITERAL: canonical dotted-quad IPv4 (exactly 4 decimal octets 0..255, no leading zeros) or an
 * IPv6 address (an embedded IPv4 tail held to the same rule); out (may be NULL) gets AF_INET or
 * AF_INET6 with port 0. NAME: labels of 1..63 [A-Za-z0-9-] not starting or ending with '-', at most
 * 253 bytes plus one optional trailing dot, and a last label that is not numeric (see acl_dest.c).
 * Everything else is INVALID, in particular every non-canonical numeric form that inet_aton would
 * interpret: 2852039166, 0251.0376.0251.0376, 0xa9fea9fe, 169.254.43518, 127.1, 1.2.3.4.,
 * 01.2.3.4, and names whose last label is numeric such as foo.123. For NAME and INVALID, *out is
 * zeroed.
 */
enum plr_acl_host_kind plr_acl_parse_host(const char *host, struct sockaddr_storage *out);

#endif
