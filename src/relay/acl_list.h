/*
 * acl_list — private to the acl module (acl.c, acl_dest.c); not installed.
 *
 * The pieces both halves of the module share: the list driver (copy the text into an arena,
 * split on commas, trim, number the items, validate each into a fixed-size entry, report the
 * first bad one as `item N: "TEXT": why`) and address blocks (parse strictly via
 * plr_acl_parse_host, match against a socket address with IPv4-mapped IPv6 unwrapped).
 */
#ifndef PLRELAY_ACL_LIST_H
#define PLRELAY_ACL_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "plrelay/acl.h"

#define PLR_ACL_MSG_BYTES 160 /* one validator's message, before the "item N" prefix */

/* One item of a split list: text is trimmed and NUL-terminated inside the list's arena. */
struct plr_acl_item {
    char *text;
    size_t len;    /* bytes, >= 1 */
    size_t number; /* 1-based position in the list */
};

/* Validate one item into *entry (a zeroed element of the entries array); ctx is per list kind.
 * false with msg (msg_len bytes) saying why; the driver adds the item number and text. */
typedef bool (*plr_acl_item_fn)(const struct plr_acl_item *it, void *entry, const void *ctx,
                                char *msg, size_t msg_len);

/*
 * Split text (NUL-terminated) and validate every item with fn into a new array of *count entries
 * of entry_bytes each. 0: the caller owns *arena (the item texts entries may point into) and
 * *entries. -1: both NULL, *count 0, reason filled (empty list, empty item, over a cap, the first
 * invalid item, out of memory).
 */
int plr_acl_list_parse(const char *text, size_t entry_bytes, plr_acl_item_fn fn, const void *ctx,
                       char **arena, void **entries, size_t *count, char *reason,
                       size_t reason_len);

/* snprintf into a caller's reason buffer; NULL or 0-length buffers are ignored. */
__attribute__((format(printf, 3, 4))) void plr_acl_reason(char *reason, size_t reason_len,
                                                          const char *fmt, ...);

/* Strict decimal: digits only, no sign, no leading zeros, value <= max; s NUL-terminated. */
bool plr_acl_decimal_parse(const char *s, unsigned max, unsigned *out);

/* One IPv4 or IPv6 block. IPv4 uses addr[0..3]. */
struct plr_acl_block {
    uint8_t addr[16]; /* network byte order, host bits clear */
    uint8_t prefix;   /* bits, 0..32 or 0..128 */
    bool v4;          /* AF_INET if set, else AF_INET6 */
};

/* Parse "ADDRESS" or "ADDRESS/PREFIX" in s[0..len) (need not be NUL-terminated) with the rules
 * of plr_acl_cidrs_parse; a block inside ::ffff:0:0/96 is stored as IPv4. false with msg. */
bool plr_acl_block_parse(const char *s, size_t len, struct plr_acl_block *b, char *msg,
                         size_t msg_len);

/* The address of sa as 4 or 16 bytes (IPv4-mapped IPv6 becomes IPv4) and its port in host order.
 * false for NULL and families other than AF_INET/AF_INET6. */
bool plr_acl_sockaddr_bytes(const struct sockaddr *sa, uint8_t addr[16], bool *v4, uint16_t *port);

/* Whether the first `bits` bits of a and b (network order) are equal. */
bool plr_acl_prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits);

/* Whether an address from plr_acl_sockaddr_bytes lies in b. */
bool plr_acl_block_contains(const struct plr_acl_block *b, const uint8_t addr[16], bool v4);

#endif
