/*
 * lookup — A + AAAA through evdns, merged into one answer.
 *
 * A lookup lives until both queries have answered (evdns always answers: with addresses, an
 * error, or a timeout), even when its owner cancelled it, because evdns holds a pointer to it.
 * The two queries are counted before either is issued: evdns may fail one at once.
 */
#include "plrelay/lookup.h"

#include <event2/dns.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct plr_lookup {
    struct plr_lookup **list; /* the owner's list, for unlinking */
    struct plr_lookup *prev, *next;
    plr_lookup_cb cb; /* NULL once cancelled */
    void *arg;
    int pending; /* queries still outstanding */
    struct plr_lookup_result result;
};

static void unlink_lookup(struct plr_lookup *l)
{
    if (l->prev != NULL)
        l->prev->next = l->next;
    else
        *l->list = l->next;
    if (l->next != NULL)
        l->next->prev = l->prev;
}

static void add_answer(struct plr_lookup_result *r, char type, int count, int ttl,
                       const void *addresses)
{
    for (int i = 0; i < count && r->count < PLR_LOOKUP_MAX_ADDRS; i++) {
        struct sockaddr_storage *ss = &r->addrs[r->count];
        memset(ss, 0, sizeof(*ss));
        if (type == DNS_IPv4_A) {
            struct sockaddr_in *sin = (struct sockaddr_in *)ss;
            sin->sin_family = AF_INET;
            memcpy(&sin->sin_addr, (const uint8_t *)addresses + 4 * (size_t)i, 4);
        } else if (type == DNS_IPv6_AAAA) {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
            sin6->sin6_family = AF_INET6;
            memcpy(&sin6->sin6_addr, (const uint8_t *)addresses + 16 * (size_t)i, 16);
        } else {
            return;
        }
        r->count++;
    }
    if (count > 0 && (r->ttl_s < 0 || ttl < r->ttl_s))
        r->ttl_s = ttl;
}

static void query_done(struct plr_lookup *l, int result, char type, int count, int ttl,
                       void *addresses)
{
    if (result == DNS_ERR_NONE)
        add_answer(&l->result, type, count, ttl, addresses);
    else
        l->result.error = result;
    if (--l->pending > 0)
        return;
    if (l->result.count > 0)
        l->result.error = 0;
    else if (l->result.error == 0)
        l->result.error = DNS_ERR_NOTEXIST; /* both answered with no address */
    unlink_lookup(l);
    if (l->cb != NULL)
        l->cb(&l->result, l->arg);
    free(l);
}

static void on_answer(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    query_done(arg, result, type, count, ttl, addresses);
}

struct plr_lookup *plr_lookup_start(struct evdns_base *dns, struct plr_lookup **list,
                                    const char *name, plr_lookup_cb cb, void *arg)
{
    struct plr_lookup *l = calloc(1, sizeof(*l));

    if (l == NULL)
        return NULL;
    l->list = list;
    l->cb = cb;
    l->arg = arg;
    l->result.ttl_s = -1;
    l->pending = 2;
    l->next = *list;
    if (*list != NULL)
        (*list)->prev = l;
    *list = l;
    /* evdns answers through the loop, even for errors; a NULL request means it could not even
     * start one, which counts as that query's (failed) answer without running anything now. */
    if (evdns_base_resolve_ipv4(dns, name, DNS_QUERY_NO_SEARCH, on_answer, l) == NULL) {
        l->pending--;
        l->result.error = DNS_ERR_UNKNOWN;
    }
    if (evdns_base_resolve_ipv6(dns, name, DNS_QUERY_NO_SEARCH, on_answer, l) == NULL) {
        l->pending--;
        l->result.error = DNS_ERR_UNKNOWN;
    }
    if (l->pending == 0) {
        unlink_lookup(l);
        free(l);
        return NULL;
    }
    return l;
}

void plr_lookup_cancel(struct plr_lookup *lookup)
{
    if (lookup != NULL)
        lookup->cb = NULL;
}

void plr_lookup_free_all(struct plr_lookup **list)
{
    while (*list != NULL) {
        struct plr_lookup *l = *list;
        *list = l->next;
        free(l);
    }
}

const char *plr_lookup_error_str(int error)
{
    return error == 0 ? "ok" : evdns_err_to_string(error);
}
