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
#include "plrelay/lookup.h"

#define DNS_TIMEOUT_SECONDS "2"
#define DNS_ATTEMPTS "2"

struct plr_resolver_name {
    struct plr_resolver *res;
    char host[PLR_CONFIG_HOST_MAX];
    pthread_mutex_t lock;        /* guards `current` */
    struct plr_addrset *current; /* published answer, NULL when none */
    struct event *refresh;       /* fires when the answer's TTL ran out */
    int first_done;              /* the first round has finished */
    int failed_logged;           /* a failure was logged since the last success */
    struct plr_lookup *lookup;   /* the round in flight, NULL between rounds */
    struct plr_resolver_name *next;
};

struct plr_resolver {
    struct event_base *base;
    struct evdns_base *dns;
    struct plr_hosts *hosts; /* NULL when no hosts_file */
    uint64_t ttl_min_ms;
    uint64_t ttl_max_ms;
    struct plr_resolver_name *names;
    struct plr_lookup *lookups; /* rounds in flight (freed after the evdns base) */
    size_t waiting_first;       /* names whose first round has not finished */
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

/* A round's lookup answered: publish, log, and plan the next round. */
static void on_round(const struct plr_lookup_result *r, void *arg)
{
    struct plr_resolver_name *name = arg;
    struct plr_resolver *res = name->res;

    name->lookup = NULL;
    if (r->count > 0) {
        size_t n = r->count < PLR_ADDRSET_MAX ? r->count : PLR_ADDRSET_MAX;
        struct plr_addrset *set = plr_addrset_new(r->addrs, n);
        if (set != NULL) {
            publish(name, set);
            if (name->failed_logged || !name->first_done)
                plr_log(PLR_LOG_INFO, "dns: %s resolved to %zu address(es), refresh in %llu ms",
                        name->host, n, (unsigned long long)clamp_ttl(res, r->ttl_s));
            name->failed_logged = 0;
        }
        schedule_refresh(name, clamp_ttl(res, r->ttl_s));
    } else {
        struct plr_addrset *cur = plr_resolver_name_get(name);
        if (!name->failed_logged)
            plr_log(PLR_LOG_WARN, "dns: %s could not be resolved (%s)%s", name->host,
                    plr_lookup_error_str(r->error),
                    cur != NULL ? "; keeping the previous answer" : "; upstream skipped");
        name->failed_logged = 1;
        plr_addrset_release(cur);
        schedule_refresh(name, res->ttl_min_ms);
    }
    first_round_done(name);
}

static void start_round(struct plr_resolver_name *name)
{
    name->lookup =
        plr_lookup_start(name->res->dns, &name->res->lookups, name->host, on_round, name);
    if (name->lookup == NULL) {
        struct plr_lookup_result failed = {.error = DNS_ERR_UNKNOWN, .ttl_s = -1};
        on_round(&failed, name);
    }
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

int plr_resolver_configure_dns(struct evdns_base *dns, const struct plr_config *cfg, int warn,
                               char *err, size_t err_len)
{
    if (cfg->dns_server_count == 0) {
        int rc = evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL, "/etc/resolv.conf");
        if (rc != 0 && warn)
            plr_log(PLR_LOG_WARN,
                    "dns: cannot use /etc/resolv.conf (evdns error %d); "
                    "names outside the hosts file will not resolve",
                    rc);
    }
    for (size_t i = 0; i < cfg->dns_server_count; i++) {
        if (evdns_base_nameserver_ip_add(dns, cfg->dns_servers[i]) != 0) {
            snprintf(err, err_len, "dns_servers: cannot use \"%s\"", cfg->dns_servers[i]);
            return -1;
        }
    }
    evdns_base_set_option(dns, "timeout:", DNS_TIMEOUT_SECONDS);
    evdns_base_set_option(dns, "attempts:", DNS_ATTEMPTS);
    evdns_base_set_option(dns, "randomize-case:", "0");
    return 0;
}

const struct plr_hosts *plr_resolver_hosts(const struct plr_resolver *res)
{
    return res->hosts;
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
    if (plr_resolver_configure_dns(res->dns, cfg, 1, err, err_len) == -1)
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
    plr_lookup_free_all(&res->lookups);
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
