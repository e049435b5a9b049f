/*
 * config — the INI file (read with inih) turned into a validated, immutable snapshot.
 *
 * The loader never stops at the first problem: every error of a file is collected as
 * "file:line: reason" so that `plrelay -t` shows them all in one run. A snapshot that loaded
 * without error is never changed again; workers and sessions hold references to it
 * (plr_config_ref / plr_config_unref), so a reload can swap in a new one while live
 * connections keep the one they started with.
 */
#ifndef PLRELAY_CONFIG_H
#define PLRELAY_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PLR_CONFIG_NAME_MAX 64    /* route name, bytes incl. NUL */
#define PLR_CONFIG_HOST_MAX 256   /* DNS name or literal address, bytes incl. NUL */
#define PLR_CONFIG_PATH_MAX 4096  /* file paths, bytes incl. NUL */
#define PLR_CONFIG_REASON_MAX 256 /* one error reason, bytes incl. NUL */
#define PLR_CONFIG_MAX_ERRORS 64  /* errors kept per load; more are counted, not stored */
#define PLR_CONFIG_MAX_DNS 8      /* dns_servers entries */

/* Log levels, also used by log.h. */
enum plr_log_level {
    PLR_LOG_ERROR = 0, /* something failed that an operator must see */
    PLR_LOG_WARN = 1,  /* degraded but serving */
    PLR_LOG_INFO = 2,  /* start, stop, reload, notable state changes */
    PLR_LOG_DEBUG = 3, /* per-connection detail */
};

enum plr_route_mode {
    PLR_MODE_TCP = 0,     /* layer-4 relay to an upstream pool */
    PLR_MODE_CONNECT = 1, /* HTTP forward proxy: CONNECT tunnels and absolute-form requests to
                             allowlisted destinations, behind the address guard */
};

enum plr_balance {
    PLR_BALANCE_ROUNDROBIN = 0,  /* rotate over servers */
    PLR_BALANCE_LEASTCONN = 1,   /* server with the fewest active sessions */
    PLR_BALANCE_FAILOVER = 2,    /* first usable server in file order */
    PLR_BALANCE_SOURCE_HASH = 3, /* hash of the client address picks the first server */
};

/* Which PROXY protocol header a route's listener requires (never guessed). */
enum plr_route_pp {
    PLR_ROUTE_PP_OFF = 0, /* none: the first byte is payload */
    PLR_ROUTE_PP_V1 = 1,  /* text header required */
    PLR_ROUTE_PP_V2 = 2,  /* binary header required (what Alibaba's NLB sends) */
    PLR_ROUTE_PP_ANY = 3, /* either, told apart by the first byte */
};

/* The header plrelay writes towards the upstream. */
enum plr_send_proxy {
    PLR_SEND_PROXY_OFF = 0, /* none */
    PLR_SEND_PROXY_V1 = 1,  /* text header with the real client */
    PLR_SEND_PROXY_V2 = 2,  /* binary header with the real client (and TLVs, see below) */
};

enum plr_send_tlvs {
    PLR_SEND_TLVS_PASS = 0, /* v2: copy the received TLVs (incl. Alibaba 0xE1) */
    PLR_SEND_TLVS_NONE = 1, /* v2: addresses only */
};

/* How a relaying direction moves bulk data (relay.c). */
enum plr_splice_mode {
    PLR_SPLICE_AUTO = 0, /* copy small messages; splice(2) through a pipe once a read fills the
                            buffer, i.e. the direction carries bulk data */
    PLR_SPLICE_OFF = 1,  /* always recv(2) + send(2) through user space */
};

struct plr_acl_cidrs;
struct plr_acl_dest;
struct plr_auth;
struct plr_acl_ids;

/* "host:port" as written in the file. A literal IPv4/IPv6 address is also kept parsed. */
struct plr_hostport {
    char host[PLR_CONFIG_HOST_MAX]; /* name or literal, without IPv6 brackets */
    uint16_t port;                  /* 1..65535 */
    int is_literal;                 /* 1: host is a numeric address, `addr` is filled */
    struct sockaddr_storage addr;   /* literal address with port (network order) */
    socklen_t addr_len;             /* 0 unless is_literal */
};

struct plr_route_config {
    char name[PLR_CONFIG_NAME_MAX];
    int line; /* line of the [route NAME] header */
    enum plr_route_mode mode;
    struct plr_hostport *listen; /* literal addresses only; owned */
    size_t listen_count;
    struct plr_hostport *upstreams; /* names or literals; owned; never empty when valid */
    size_t upstream_count;
    enum plr_balance balance;    /* default roundrobin */
    uint64_t connect_timeout_ms; /* default 3000 */
    unsigned connect_tries;      /* total connect attempts per session, default 3, 1..32 */
    uint64_t idle_timeout_ms;    /* default 600000 (10 min); 0 = never */
    uint32_t max_connections;    /* default 1000; 0 = only the global limit */
    size_t buffer_bytes;         /* per-direction ceiling, default 65536, 4k..64m */
    enum plr_splice_mode splice; /* default auto */
    /* Ingress trust (lists owned; NULL = not configured). */
    enum plr_route_pp proxy_protocol;      /* default off */
    struct plr_acl_cidrs *trusted_proxies; /* peers allowed to send a header; NULL = any */
    uint64_t handshake_timeout_ms;         /* deadline for all before connecting, default 5 s */
    size_t proxy_max_header_bytes;         /* cap on a v2 header, default 4k, 16..65551 */
    struct plr_acl_cidrs *allow_sources;   /* real client must match (NULL = all) */
    struct plr_acl_cidrs *deny_sources;    /* real client must not match */
    struct plr_acl_ids *allow_endpoints;   /* PrivateLink endpoint ids (0xE1 sub 0x02) */
    struct plr_acl_ids *allow_vpcs;        /* VPC ids (0xE1 sub 0x01) */
    struct plr_acl_ids *allow_endpoint_services; /* endpoint-service ids (0xE1 sub 0x03) */
    uint32_t max_connections_per_source;         /* per real client address; 0 = no limit */
    uint32_t accept_rate;                        /* new connections per second; 0 = off */
    enum plr_send_proxy send_proxy;              /* header towards the upstream, default off */
    enum plr_send_tlvs send_proxy_tlvs;          /* v2: pass the received TLVs (default) or none */
    /* mode = connect (owned; required there, refused in other modes). */
    struct plr_acl_dest *allow_destinations;         /* host:port, *.suffix:port, CIDR:port */
    struct plr_acl_dest *allow_private_destinations; /* holes in the address guard */
    size_t max_header_bytes;                         /* request head limit, default 8k */
    struct plr_auth *auth; /* `auth = basic:FILE`: Proxy-Authorization required; NULL = none */
};

struct plr_config {
    char path[PLR_CONFIG_PATH_MAX];       /* file the snapshot came from */
    unsigned workers;                     /* 0 = auto (one per online CPU) */
    uint32_t max_connections;             /* default 10000 */
    char access_log[PLR_CONFIG_PATH_MAX]; /* "stderr", "off" or a file path; default "stderr" */
    enum plr_log_level log_level;         /* default info */
    uint64_t drain_timeout_ms;            /* default 30000 */
    char dns_servers[PLR_CONFIG_MAX_DNS][PLR_CONFIG_HOST_MAX]; /* "ip" or "ip:port" / "[v6]:port" */
    size_t dns_server_count;                                   /* 0 = use /etc/resolv.conf */
    char hosts_file[PLR_CONFIG_PATH_MAX]; /* "" = none; names found there win over DNS */
    uint64_t dns_ttl_min_ms;              /* floor for cached answers, default 5000 */
    uint64_t dns_ttl_max_ms;              /* ceiling for cached answers, default 300000 */
    struct plr_route_config *routes;      /* owned */
    size_t route_count;
    atomic_int refs; /* reference count; see plr_config_ref */
};

struct plr_config_error {
    int line; /* 0 when the error is about the whole file */
    char reason[PLR_CONFIG_REASON_MAX];
};

/* Caller-owned error collection, filled by plr_config_load. */
struct plr_config_errors {
    char file[PLR_CONFIG_PATH_MAX];
    struct plr_config_error items[PLR_CONFIG_MAX_ERRORS];
    size_t count;   /* stored items */
    size_t dropped; /* errors beyond PLR_CONFIG_MAX_ERRORS */
};

/*
 * Load and validate `path`. On success returns a snapshot with one reference, owned by the
 * caller, and errs->count == 0. On any error returns NULL and errs holds every problem found,
 * in file order. Never prints.
 */
struct plr_config *plr_config_load(const char *path, struct plr_config_errors *errs);

/* Same, from a string already in memory (tests, fuzzing); `name` is used as the file name. */
struct plr_config *plr_config_load_string(const char *name, const char *text,
                                          struct plr_config_errors *errs);

/* Write every error as "file:line: reason\n" (line omitted when 0) into fd. */
void plr_config_errors_print(const struct plr_config_errors *errs, int fd);

/* Reference counting; thread-safe. unref frees the snapshot when the count reaches zero.
 * Both accept NULL. */
struct plr_config *plr_config_ref(struct plr_config *cfg);
void plr_config_unref(struct plr_config *cfg);

/* ---- value parsers, shared by the loader and the tests; each returns 0 or -1 ----------------
 * On -1 `reason` (caller-owned, reason_len bytes) says why. None of them accept trailing
 * garbage, signs, or leading/trailing spaces (the loader trims spaces around values). */

/* "250ms", "3s", "15m", "2h", or "0"; a bare number is refused unless it is 0. Max 30 days. */
int plr_config_parse_duration(const char *text, uint64_t *out_ms, char *reason, size_t reason_len);

/* "4096", "64k", "8m" (powers of 1024). Max 1 GiB. */
int plr_config_parse_size(const char *text, size_t *out_bytes, char *reason, size_t reason_len);

/* Whole number lo..hi in decimal digits ("0" alone, else no leading zero). */
int plr_config_parse_uint(const char *text, uint64_t lo, uint64_t hi, uint64_t *out, char *reason,
                          size_t reason_len);

/* "host:port", "1.2.3.4:port", "[::1]:port". Port 1..65535, no leading zeros. Host names follow
 * RFC 1123 (letters, digits, '-', '.', 1..253 chars, labels 1..63). require_literal: refuse names.
 */
int plr_config_parse_hostport(const char *text, int require_literal, struct plr_hostport *out,
                              char *reason, size_t reason_len);

/* Comma-separated list of the above; blanks around items are trimmed, an empty item is an error.
 * On 0, *out is a new array of *count (>= 1) entries that the caller frees with free(). */
int plr_config_parse_hostport_list(const char *text, int require_literal, struct plr_hostport **out,
                                   size_t *count, char *reason, size_t reason_len);

/* Render a sockaddr as "1.2.3.4:80", "[::1]:80", "unix:/path" or "unix" (unnamed) into buf,
 * truncated to buf_len; returns buf. */
const char *plr_sockaddr_str(const struct sockaddr *sa, char *buf, size_t buf_len);
#define PLR_SOCKADDR_STRLEN 64

#endif
