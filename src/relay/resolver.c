/*
 * resolver — evdns-based A/AAAA resolution with a TTL-aware cache, published to workers.
 *
 * Every watched name owns one refresh timer and at most one A and one AAAA query in flight.
 * When both have answered, the merged addresses replace the published set under the name's
 * mutex (workers take a reference under the same mutex, so a swap never frees a set a reader
 * is about to use). Everything except plr_resolver_name_get runs on the resolver's loop.
 */
#include "plrelay/resolver.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plrelay/hosts.h"
#include "plrelay/log.h"

#define DNS_TIMEOUT_SECONDS "2"
#define DNS_ATTEMPTS "2"

struct plr_resolver_name {
    struct plr_resolver *res;
    char host[PLR_CONFIG_HOST_MAX];
    pthread_mutex_t lock;        /* guards `current` */
    struct plr_addrset *current; /* published answer, NULL when none */
    struct event *refresh;       /* fires when the answer's TTL ran out */
    int pending;                 /* queries of this round still outstanding */
    int first_done;              /* the first round has finished */
    int failed_logged;           /* a failure was logged since the last success */
    /* Answers gathered during one round. */
    struct sockaddr_storage round[PLR_ADDRSET_MAX];
    size_t round_count;
    int round_ttl;   /* smallest TTL seen this round, seconds; -1 none */
    int round_error; /* last evdns error code this round */
    struct plr_resolver_name *next;
};

struct plr_resolver {
    struct event_base *base;
    struct evdns_base *dns;
    struct plr_hosts *hosts; /* NULL when no hosts_file */
    uint64_t ttl_min_ms;
    uint64_t ttl_max_ms;
    struct plr_resolver_name *names;
    size_t waiting_first; /* names whose first round has not finished */
    plr_resolver_ready_cb ready_cb;
    void *ready_arg;
};

struct plr_addrset *plr_addrset_new(const struct sockaddr_storage *addrs, size_t count)
{
    struct plr_addrset *set = malloc(sizeof(*set) + count * sizeof(set->addrs[0]));

    if (set == NULL)
        return NULL;
    atomic_init(&set->refs, 1);
    set->count = count;
    if (count > 0)
        memcpy(set->addrs, addrs, count * sizeof(set->addrs[0]));
    return set;
}

struct plr_addrset *plr_addrset_ref(struct plr_addrset *set)
{
    if (set != NULL)
        atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    return set;
}

void plr_addrset_release(struct plr_addrset *set)
{
    if (set != NULL && atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) == 1)
        free(set);
}

static void publish(struct plr_resolver_name *name, struct plr_addrset *set)
{
    struct plr_addrset *old;

    pthread_mutex_lock(&name->lock);
    old = name->current;
    name->current = set;
    pthread_mutex_unlock(&name->lock);
    plr_addrset_release(old);
}

struct plr_addrset *plr_resolver_name_get(struct plr_resolver_name *name)
{
    struct plr_addrset *set;

    pthread_mutex_lock(&name->lock);
    set = plr_addrset_ref(name->current);
    pthread_mutex_unlock(&name->lock);
    return set;
}

const char *plr_resolver_name_host(const struct plr_resolver_name *name)
{
    return name->host;
}

static void first_round_done(struct plr_resolver_name *name)
{
    struct plr_resolver *res = name->res;

    if (name->first_done)
        return;
    name->first_done = 1;
    if (--res->waiting_first == 0 && res->ready_cb != NULL)
        res->ready_cb(res->ready_arg);
}

static void schedule_refresh(struct plr_resolver_name *name, uint64_t delay_ms)
{
    struct timeval tv = {.tv_sec = (time_t)(delay_ms / 1000),
                         .tv_usec = (suseconds_t)((delay_ms % 1000) * 1000)};

    evtimer_add(name->refresh, &tv);
}

static uint64_t clamp_ttl(const struct plr_resolver *res, int ttl_seconds)
{
    uint64_t ms = ttl_seconds < 0 ? res->ttl_min_ms : (uint64_t)ttl_seconds * 1000u;

    if (ms < res->ttl_min_ms)
        ms = res->ttl_min_ms;
    if (ms > res->ttl_max_ms)
        ms = res->ttl_max_ms;
    return ms;
}

/* Both queries of a round have answered: publish, log, and plan the next round. */
static void round_finished(struct plr_resolver_name *name)
{
    struct plr_resolver *res = name->res;

    if (name->round_count > 0) {
        struct plr_addrset *set = plr_addrset_new(name->round, name->round_count);
        if (set != NULL) {
            publish(name, set);
            if (name->failed_logged || !name->first_done)
                plr_log(PLR_LOG_INFO, "dns: %s resolved to %zu address(es), refresh in %llu ms",
                        name->host, name->round_count,
                        (unsigned long long)clamp_ttl(res, name->round_ttl));
            name->failed_logged = 0;
        }
        schedule_refresh(name, clamp_ttl(res, name->round_ttl));
    } else {
        struct plr_addrset *cur = plr_resolver_name_get(name);
        if (!name->failed_logged)
            plr_log(PLR_LOG_WARN, "dns: %s could not be resolved (%s)%s", name->host,
                    evdns_err_to_string(name->round_error),
                    cur != NULL ? "; keeping the previous answer" : "; upstream skipped");
        name->failed_logged = 1;
        plr_addrset_release(cur);
        schedule_refresh(name, res->ttl_min_ms);
    }
    first_round_done(name);
}

static void add_answer(struct plr_resolver_name *name, char type, int count, int ttl,
                       const void *addresses)
{
    for (int i = 0; i < count && name->round_count < PLR_ADDRSET_MAX; i++) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        if (type == DNS_IPv4_A) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
            sin->sin_family = AF_INET;
            memcpy(&sin->sin_addr, (const uint8_t *)addresses + 4 * (size_t)i, 4);
        } else if (type == DNS_IPv6_AAAA) {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
            sin6->sin6_family = AF_INET6;
            memcpy(&sin6->sin6_addr, (const uint8_t *)addresses + 16 * (size_t)i, 16);
        } else {
            return;
        }
        name->round[name->round_count++] = ss;
    }
    if (count > 0 && (name->round_ttl < 0 || ttl < name->round_ttl))
        name->round_ttl = ttl;
}

static void query_done(struct plr_resolver_name *name, int result, char type, int count, int ttl,
                       void *addresses)
{
    if (result == DNS_ERR_NONE)
        add_answer(name, type, count, ttl, addresses);
    else
        name->round_error = result;
    if (--name->pending == 0)
        round_finished(name);
}

static void on_a(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    query_done(arg, result, type, count, ttl, addresses);
}

static void on_aaaa(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    query_done(arg, result, type, count, ttl, addresses);
}

static void start_round(struct plr_resolver_name *name)
{
    struct evdns_base *dns = name->res->dns;

    name->round_count = 0;
    name->round_ttl = -1;
    name->round_error = DNS_ERR_NONE;
    name->pending = 2;
    /* Both queries are counted before either is issued: an answer may come back at once.
     * Requests are not kept: evdns owns them and evdns_base_free(…, 0) drops them silently. */
    if (evdns_base_resolve_ipv4(dns, name->host, DNS_QUERY_NO_SEARCH, on_a, name) == NULL)
        query_done(name, DNS_ERR_UNKNOWN, DNS_IPv4_A, 0, 0, NULL);
    if (evdns_base_resolve_ipv6(dns, name->host, DNS_QUERY_NO_SEARCH, on_aaaa, name) == NULL)
        query_done(name, DNS_ERR_UNKNOWN, DNS_IPv6_AAAA, 0, 0, NULL);
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
    start_round(arg);
}

/* Names listed in the hosts file are answered once, from the file, and never refreshed. */
static int resolve_from_hosts(struct plr_resolver_name *name)
{
    struct sockaddr_storage addrs[PLR_ADDRSET_MAX];
    size_t n;

    if (name->res->hosts == NULL)
        return 0;
    n = plr_hosts_lookup(name->res->hosts, name->host, addrs, PLR_ADDRSET_MAX);
    if (n == 0)
        return 0;
    n = n > PLR_ADDRSET_MAX ? PLR_ADDRSET_MAX : n;
    struct plr_addrset *set = plr_addrset_new(addrs, n);
    if (set == NULL)
        return 0;
    publish(name, set);
    plr_log(PLR_LOG_INFO, "dns: %s has %zu address(es) from the hosts file", name->host, n);
    first_round_done(name);
    return 1;
}

static int configure_servers(struct plr_resolver *res, const struct plr_config *cfg, char *err,
                             size_t err_len)
{
    if (cfg->dns_server_count == 0) {
        int rc = evdns_base_resolv_conf_parse(res->dns, DNS_OPTIONS_ALL, "/etc/resolv.conf");
        if (rc != 0)
            plr_log(PLR_LOG_WARN,
                    "dns: cannot use /etc/resolv.conf (evdns error %d); "
                    "names outside the hosts file will not resolve",
                    rc);
    }
    for (size_t i = 0; i < cfg->dns_server_count; i++) {
        if (evdns_base_nameserver_ip_add(res->dns, cfg->dns_servers[i]) != 0) {
            snprintf(err, err_len, "dns_servers: cannot use \"%s\"", cfg->dns_servers[i]);
            return -1;
        }
    }
    evdns_base_set_option(res->dns, "timeout:", DNS_TIMEOUT_SECONDS);
    evdns_base_set_option(res->dns, "attempts:", DNS_ATTEMPTS);
    evdns_base_set_option(res->dns, "randomize-case:", "0");
    return 0;
}

struct plr_resolver *plr_resolver_new(struct event_base *base, const struct plr_config *cfg,
                                      char *err, size_t err_len)
{
    struct plr_resolver *res = calloc(1, sizeof(*res));

    if (res == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    res->base = base;
    res->ttl_min_ms = cfg->dns_ttl_min_ms;
    res->ttl_max_ms = cfg->dns_ttl_max_ms;
    if (cfg->hosts_file[0] != '\0') {
        res->hosts = plr_hosts_load(cfg->hosts_file, err, err_len);
        if (res->hosts == NULL)
            goto fail;
    }
    /* Flags 0: no resolv.conf yet; configure_servers decides where nameservers come from. */
    res->dns = evdns_base_new(base, 0);
    if (res->dns == NULL) {
        snprintf(err, err_len, "cannot create the DNS resolver");
        goto fail;
    }
    if (configure_servers(res, cfg, err, err_len) == -1)
        goto fail;
    return res;
fail:
    plr_resolver_free(res);
    return NULL;
}

struct plr_resolver_name *plr_resolver_watch(struct plr_resolver *res, const char *host)
{
    struct plr_resolver_name *name;

    for (name = res->names; name != NULL; name = name->next)
        if (strcasecmp(name->host, host) == 0)
            return name;
    name = calloc(1, sizeof(*name));
    if (name == NULL)
        return NULL;
    name->refresh = evtimer_new(res->base, on_refresh, name);
    if (name->refresh == NULL) {
        free(name);
        return NULL;
    }
    name->res = res;
    snprintf(name->host, sizeof(name->host), "%s", host);
    pthread_mutex_init(&name->lock, NULL);
    name->next = res->names;
    res->names = name;
    res->waiting_first++;
    return name;
}

void plr_resolver_start(struct plr_resolver *res, plr_resolver_ready_cb cb, void *arg)
{
    res->ready_cb = cb;
    res->ready_arg = arg;
    if (res->waiting_first == 0) {
        if (cb != NULL)
            cb(arg);
        return;
    }
    for (struct plr_resolver_name *name = res->names; name != NULL; name = name->next)
        if (!resolve_from_hosts(name))
            start_round(name);
}

void plr_resolver_free(struct plr_resolver *res)
{
    struct plr_resolver_name *name, *next;

    if (res == NULL)
        return;
    /* Free the evdns base first without failing requests: no callback may run afterwards. */
    if (res->dns != NULL)
        evdns_base_free(res->dns, 0);
    for (name = res->names; name != NULL; name = next) {
        next = name->next;
        event_free(name->refresh);
        plr_addrset_release(name->current);
        pthread_mutex_destroy(&name->lock);
        free(name);
    }
    plr_hosts_free(res->hosts);
    free(res);
}
