/*
 * fwdproxy_int — what the fwdproxy sources share and nobody else sees: byte classes used by both
 * the head parser (fwdproxy.c) and the request-target parser (fwdproxy_target.c), and the entry
 * point of the latter. Not installed, not part of the contract in include/plrelay/fwdproxy.h.
 */
#ifndef PLRELAY_FWDPROXY_INT_H
#define PLRELAY_FWDPROXY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plrelay/fwdproxy.h"

static inline bool fwd_is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static inline bool fwd_is_hex(uint8_t c)
{
    return fwd_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline uint8_t fwd_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* A byte of a host name as we accept it: letters, digits, '-', '.', '_'. */
static inline bool fwd_is_name_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || fwd_is_digit(c) || c == '-' ||
           c == '.' || c == '_';
}

/* b[0..n) equals the lower-case literal lit, ignoring ASCII case (lit is NUL-terminated). */
static inline bool fwd_eq_ci(const uint8_t *b, size_t n, const char *lit)
{
    if (n != strlen(lit))
        return false;
    for (size_t i = 0; i < n; i++)
        if (fwd_lower(b[i]) != (uint8_t)lit[i])
            return false;
    return true;
}

/*
 * Parse the request-target buf[s..e) (non-empty, VCHAR only: the request line was checked) for
 * req->method: authority form for CONNECT, absolute http:// form otherwise. Fills kind, host*,
 * addr4/addr6, port, port_explicit and path* of req. Returns 0, or -1 with *reason set to a static
 * string; every target defect is a 400.
 */
int plr_fwd_parse_target(const uint8_t *buf, size_t s, size_t e, struct plr_fwd_request *req,
                         const char **reason);

#endif
