/*
 * fuzz_acl — the acl parsers (CIDR lists, id lists, destination allowlists and exceptions, the
 * strict host parser) must take any bytes without crashing or leaking, and must agree with
 * themselves and with libc:
 *   - a host classified NAME is never read as a number by inet_aton (no ambiguity left);
 *   - a LITERAL is exactly what inet_pton makes of the same text;
 *   - every item of a list that parsed is matched by that list again (an id by its bytes, a CIDR
 *     by its own network address, a `name:port` destination by its name and port);
 *   - a parse failure leaves *out NULL and a NUL-terminated reason.
 * The input is used as one NUL-terminated text (bytes after an embedded NUL are then ignored by
 * the text parsers) and, raw, as the wire id and as socket addresses for the matchers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plrelay/acl.h"

#define REASON_BYTES 256
#define ITEM_BYTES 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_failure(int rc, const void *out, const char *reason)
{
    if (rc != 0)
        check(out == NULL && memchr(reason, '\0', REASON_BYTES) != NULL);
}

/* Socket addresses cut from the raw bytes, so matchers see attacker-chosen addresses. */
static void raw_addrs(const uint8_t *data, size_t size, struct sockaddr_in *v4,
                      struct sockaddr_in6 *v6)
{
    uint8_t b[18] = {0};
    memcpy(b, data, size < sizeof b ? size : sizeof b);
    memset(v4, 0, sizeof *v4);
    memset(v6, 0, sizeof *v6);
    v4->sin_family = AF_INET;
    memcpy(&v4->sin_addr, b, 4);
    memcpy(&v4->sin_port, b + 16, 2);
    v6->sin6_family = AF_INET6;
    memcpy(&v6->sin6_addr, b, 16);
    memcpy(&v6->sin6_port, b + 16, 2);
}

/* The k-th comma-separated item of text, trimmed of spaces/tabs, into out; false if too long. */
static bool nth_item(const char *text, size_t k, char *out, size_t out_len)
{
    const char *p = text;
    for (; k > 0; k--) {
        p = strchr(p, ',');
        if (p == NULL)
            return false;
        p++;
    }
    const char *end = strchr(p, ',');
    if (end == NULL)
        end = p + strlen(p);
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if ((size_t)(end - p) >= out_len)
        return false;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return true;
}

static void fuzz_host(const char *text)
{
    struct sockaddr_storage ss;
    struct in_addr ia;
    uint8_t want[16];
    enum plr_acl_host_kind kind = plr_acl_parse_host(text, &ss);
    if (kind == PLR_ACL_HOST_NAME) {
        check(inet_aton(text, &ia) == 0);
        check(ss.ss_family == 0);
    } else if (kind == PLR_ACL_HOST_LITERAL) {
        if (ss.ss_family == AF_INET) {
            check(inet_pton(AF_INET, text, want) == 1);
            check(memcmp(&((struct sockaddr_in *)&ss)->sin_addr, want, 4) == 0);
        } else {
            check(ss.ss_family == AF_INET6 && inet_pton(AF_INET6, text, want) == 1);
            check(memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, want, 16) == 0);
        }
        plr_acl_addr_blocked((const struct sockaddr *)&ss, NULL);
    } else {
        check(kind == PLR_ACL_HOST_INVALID && ss.ss_family == 0);
    }
}

static void fuzz_cidrs(const char *text, const struct sockaddr *a4, const struct sockaddr *a6)
{
    struct plr_acl_cidrs *set = NULL;
    char reason[REASON_BYTES], item[ITEM_BYTES];
    int rc = plr_acl_cidrs_parse(text, &set, reason, sizeof reason);
    check_failure(rc, set, reason);
    if (rc != 0)
        return;
    plr_acl_cidrs_match(set, a4);
    plr_acl_cidrs_find(set, a6);
    for (size_t k = 0; k < plr_acl_cidrs_count(set) && nth_item(text, k, item, sizeof item); k++) {
        char *slash = strchr(item, '/');
        if (slash != NULL)
            *slash = '\0';
        struct sockaddr_storage ss;
        check(plr_acl_parse_host(item, &ss) == PLR_ACL_HOST_LITERAL);
        check(plr_acl_cidrs_match(set, (const struct sockaddr *)&ss));
    }
    plr_acl_cidrs_free(set);
}

static void fuzz_ids(const char *text, const uint8_t *data, size_t size)
{
    struct plr_acl_ids *set = NULL;
    char reason[REASON_BYTES], item[ITEM_BYTES];
    int rc = plr_acl_ids_parse(text, (size & 1) ? "ep-" : NULL, &set, reason, sizeof reason);
    check_failure(rc, set, reason);
    if (rc != 0)
        return;
    plr_acl_ids_match(set, data, size);
    for (size_t k = 0; k < plr_acl_ids_count(set) && nth_item(text, k, item, sizeof item); k++)
        check(plr_acl_ids_match(set, (const uint8_t *)item, strlen(item)));
    plr_acl_ids_free(set);
}

static void fuzz_dest(const char *text, bool exceptions, const struct sockaddr *a4,
                      const struct sockaddr *a6)
{
    struct plr_acl_dest *list = NULL;
    char reason[REASON_BYTES], item[ITEM_BYTES];
    const char *rule;
    int rc = exceptions ? plr_acl_exceptions_parse(text, &list, reason, sizeof reason)
                        : plr_acl_dest_parse(text, &list, reason, sizeof reason);
    check_failure(rc, list, reason);
    if (rc != 0)
        return;
    plr_acl_dest_match_addr(list, a4, &rule);
    plr_acl_dest_match_addr(list, a6, &rule);
    plr_acl_addr_permitted(list, a4, &rule);
    plr_acl_addr_permitted(list, a6, &rule);
    for (size_t k = 0; k < plr_acl_dest_count(list) && nth_item(text, k, item, sizeof item); k++) {
        char *colon = strrchr(item, ':');
        check(colon != NULL);
        *colon = '\0';
        unsigned long port = strtoul(colon + 1, NULL, 10);
        check(port >= 1 && port <= 65535);
        if (plr_acl_parse_host(item, NULL) == PLR_ACL_HOST_NAME) {
            check(!exceptions);
            check(plr_acl_dest_match_name(list, item, (uint16_t)port, &rule) == 1);
            check(rule != NULL && strcmp(rule, PLR_ACL_DEST_NO_MATCH) != 0);
        }
    }
    plr_acl_dest_free(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    raw_addrs(data, size, &v4, &v6);
    const struct sockaddr *a4 = (const struct sockaddr *)&v4, *a6 = (const struct sockaddr *)&v6;

    fuzz_host(text);
    fuzz_cidrs(text, a4, a6);
    fuzz_ids(text, data, size);
    fuzz_dest(text, false, a4, a6);
    fuzz_dest(text, true, a4, a6);
    plr_acl_addr_blocked(a4, NULL);
    plr_acl_addr_blocked(a6, NULL);
    free(text);
    return 0;
}
