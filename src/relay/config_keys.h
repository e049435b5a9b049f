/*
 * config_keys — private to the config module (config.c, config_values.c); not installed.
 *
 * The key tables: for every key of [global] and [route NAME], what its value is, its default,
 * and the field it fills. config_values.c owns the tables and turns one value into its field
 * (pure: no I/O, no file-wide state); config.c walks lines and sections, looks keys up here,
 * and adds the checks that need more than one value (listen conflicts, the hosts file).
 */
#ifndef PLRELAY_CONFIG_KEYS_H
#define PLRELAY_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "plrelay/config.h"

/* What a key's value is, and so how plr_config_key_apply parses and stores it. */
enum plr_config_kind {
    PLR_KIND_UINT = 0,     /* whole number lo..hi */
    PLR_KIND_DURATION = 1, /* milliseconds; lo = 1 refuses 0 */
    PLR_KIND_SIZE = 2,     /* bytes, lo..hi */
    PLR_KIND_WORD = 3,     /* index of the value in words[], stored as the enum */
    PLR_KIND_TEXT = 4,     /* copied into the char array (paths, "stderr", "off") */
    PLR_KIND_CUSTOM = 5,   /* parse() reads the value and fills its fields */
};

#define PLR_KEY_REQUIRED 1u   /* a route without it is an error */
#define PLR_KEY_EMPTY_OK 2u   /* "key =" is meaningful: "none" */
#define PLR_KEY_LISTEN 4u     /* config.c checks the addresses against every other route */
#define PLR_KEY_HOSTS_FILE 8u /* config.c loads the file once: it must exist and parse now */
#define PLR_KEY_LIST 16u      /* a comma-separated list: may go on over indented lines */

/* One key. The field lives in struct plr_config ([global]) or plr_route_config ([route]). */
struct plr_config_key {
    const char *name;
    enum plr_config_kind kind;
    unsigned flags;           /* PLR_KEY_* */
    const char *def;          /* default, as written in a file; applied when the section starts */
    size_t offset, width;     /* the field (unused by PLR_KIND_CUSTOM) */
    uint64_t lo, hi;          /* range of UINT and SIZE; DURATION uses lo only */
    const char *const *words; /* WORD: NULL-terminated, in enum order */
    /* CUSTOM: parse value into the section's struct `base`; 0, or -1 with a reason. */
    int (*parse)(void *base, const char *value, char *reason, size_t reason_len);
};

/* Both tables end with an entry whose name is NULL; at most PLR_CONFIG_KEYS_MAX keys each. */
extern const struct plr_config_key plr_config_global_keys[];
extern const struct plr_config_key plr_config_route_keys[];
#define PLR_CONFIG_KEYS_MAX 32

/* Parse `value` as `key` says and store it into base (struct plr_config for [global] keys,
 * struct plr_route_config for route keys). Returns 0, or -1 with reason filled: the reason
 * starts with the key name ("connect_timeout: \"3x\" is not a duration ..."). */
int plr_config_key_apply(const struct plr_config_key *key, void *base, const char *value,
                         char *reason, size_t reason_len);

/* config_ingress.c: parsers of the ingress and connect-mode keys (PLR_KIND_CUSTOM). */
int plr_config_key_trusted_proxies(void *base, const char *value, char *reason, size_t reason_len);
int plr_config_key_allow_sources(void *base, const char *value, char *reason, size_t reason_len);
int plr_config_key_deny_sources(void *base, const char *value, char *reason, size_t reason_len);
int plr_config_key_allow_endpoints(void *base, const char *value, char *reason, size_t reason_len);
int plr_config_key_allow_vpcs(void *base, const char *value, char *reason, size_t reason_len);
int plr_config_key_allow_endpoint_services(void *base, const char *value, char *reason,
                                           size_t reason_len);
int plr_config_key_allow_destinations(void *base, const char *value, char *reason,
                                      size_t reason_len);
int plr_config_key_allow_private(void *base, const char *value, char *reason, size_t reason_len);
int plr_config_key_auth(void *base, const char *value, char *reason, size_t reason_len);
int plr_config_key_accept_rate(void *base, const char *value, char *reason, size_t reason_len);

/* config_snapshot.c: free a snapshot and everything its keys allocated (not refcounted);
 * sort a load's errors into file order. */
void plr_config_free_snapshot(struct plr_config *cfg);
void plr_config_sort_errors(struct plr_config_errors *errs);

#endif
