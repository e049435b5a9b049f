/*
 * ingress — who may come in: the PROXY protocol header, the ACLs on the real client and its
 * PrivateLink identity, the per-source limit, and the header plrelay sends on (send_proxy).
 *
 * The order is fixed (issue 3): trusted peer → PROXY header within handshake_timeout → deny /
 * allow sources on the real client → endpoint, VPC and endpoint-service allowlists → per-source
 * limit. Every refusal ends the session before any upstream connect, with a status (400 bad
 * header, 403 denied, 408 deadline, 503 limit) and a detail naming the rule or the defect.
 * A load balancer's health check (closes before sending anything, or sends a v2 LOCAL header
 * and closes) is a probe: counted and logged at debug level, not written to the access log.
 */
#include <errno.h>
#include <stdarg.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "plrelay/acl.h"
#include "plrelay/limits.h"
#include "plrelay/log.h"
#include "plrelay/proxyproto.h"
#include "plrelay/runtime.h"
#include "session_int.h"

/* The address the policy is about: the header's source, else the peer. */
static const struct sockaddr *real_client(const struct plr_session *s)
{
    if (s->pp != NULL && s->pp->has_addresses)
        return (const struct sockaddr *)&s->pp->src;
    return (const struct sockaddr *)&s->client_addr;
}

static int deny(struct plr_session *s, int status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int deny(struct plr_session *s, int status, const char *reason, const char *fmt, ...)
{
    char text[PLR_SESS_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    plr_sess_set_detail(s, "%s", text);
    if (status == 403)
        s->w->stats.denied++;
    else if (status == 400)
        s->w->stats.proxy_errors++; /* every 400 here is about the PROXY header */
    plr_sess_finalize(s, status, reason);
    return -1;
}

/* Print an id for a detail line: printable ASCII kept, anything else as '?'. */
static const char *id_text(const struct plr_pp_id *id, char *buf, size_t len)
{
    size_t n = id->len < len - 1 ? id->len : len - 1;

    for (size_t i = 0; i < n; i++)
        buf[i] = id->value[i] >= 0x20 && id->value[i] < 0x7f ? (char)id->value[i] : '?';
    buf[n] = '\0';
    return buf;
}

static int check_id(struct plr_session *s, const struct plr_acl_ids *allow,
                    const struct plr_pp_id *id, const char *key, const char *reason)
{
    char text[PLR_PP_ID_MAX_BYTES + 1];

    if (allow == NULL)
        return 0;
    if (s->pp == NULL || !id->present)
        return deny(s, 403, reason, "%s: the PROXY header carries no such id", key);
    if (!plr_acl_ids_match(allow, id->value, id->len))
        return deny(s, 403, reason, "%s: \"%s\" is not listed", key,
                    id_text(id, text, sizeof(text)));
    return 0;
}

/* Policy on the real client; 0 = admitted (and charged to the per-source table). */
static int admit(struct plr_session *s)
{
    const struct plr_route_config *rc = s->route->cfg;
    const struct sockaddr *client = real_client(s);
    const char *rule;
    struct plr_pp_header none;

    if ((rule = plr_acl_cidrs_find(rc->deny_sources, client)) != NULL)
        return deny(s, 403, "denied_source", "deny_sources %s", rule);
    if (rc->allow_sources != NULL && !plr_acl_cidrs_match(rc->allow_sources, client))
        return deny(s, 403, "denied_source", "allow_sources: no entry matches");
    memset(&none, 0, sizeof(none));
    const struct plr_pp_header *pp = s->pp != NULL ? s->pp : &none;
    if (check_id(s, rc->allow_endpoints, &pp->endpoint_id, "allow_endpoints", "denied_endpoint") ==
            -1 ||
        check_id(s, rc->allow_vpcs, &pp->vpc_id, "allow_vpcs", "denied_vpc") == -1 ||
        check_id(s, rc->allow_endpoint_services, &pp->endpoint_service_id,
                 "allow_endpoint_services", "denied_endpoint_service") == -1)
        return -1;
    if (!plr_sources_acquire(s->route->sources, client))
        return deny(s, 503, "limit_source", "max_connections_per_source = %u",
                    rc->max_connections_per_source);
    s->source_charged = 1;
    return 0;
}

int plr_sess_ingress_start(struct plr_session *s)
{
    const struct plr_route_config *rc = s->route->cfg;
    const struct sockaddr *peer = (const struct sockaddr *)&s->client_addr;
    struct timeval tv = plr_sess_tv(rc->handshake_timeout_ms);

    if (rc->proxy_protocol == PLR_ROUTE_PP_OFF)
        return admit(s);
    if (rc->trusted_proxies != NULL && !plr_acl_cidrs_match(rc->trusted_proxies, peer))
        return deny(s, 403, "untrusted_proxy", "trusted_proxies: the peer may not send a header");
    s->state = PLR_SESS_HANDSHAKE;
    evtimer_add(s->timer, &tv);
    bufferevent_enable(s->client.bev, EV_READ);
    return 1;
}

static void probe(struct plr_session *s, const char *what)
{
    char client[PLR_SOCKADDR_STRLEN];

    s->w->stats.probes++;
    if (plr_log_enabled(PLR_LOG_DEBUG))
        plr_log(PLR_LOG_DEBUG, "session %llu: %s %s: load-balancer probe (%s)",
                (unsigned long long)s->id, s->route->cfg->name,
                plr_sess_client_str(s, client, sizeof(client)), what);
    plr_sess_finalize(s, PLR_STATUS_PROBE, "probe");
}

/* The header is in: keep what policy and send_proxy need, then admit and connect. */
static void header_done(struct plr_session *s, const struct plr_pp_header *hdr, const uint8_t *buf)
{
    const struct plr_route_config *rc = s->route->cfg;

    s->pp = malloc(sizeof(*s->pp));
    if (s->pp == NULL) {
        plr_sess_finalize(s, 500, "internal");
        return;
    }
    *s->pp = *hdr;
    if (rc->send_proxy == PLR_SEND_PROXY_V2 && rc->send_proxy_tlvs == PLR_SEND_TLVS_PASS &&
        hdr->tlv_len > 0) {
        s->pp_tlvs = malloc(hdr->tlv_len);
        if (s->pp_tlvs == NULL) {
            plr_sess_finalize(s, 500, "internal");
            return;
        }
        memcpy(s->pp_tlvs, buf + hdr->tlv_offset, hdr->tlv_len);
        s->pp_tlvs_len = hdr->tlv_len;
    }
    evbuffer_drain(bufferevent_get_input(s->client.bev), hdr->header_len);
    if (hdr->transport == PLR_PP_TRANSPORT_DGRAM) {
        deny(s, 400, "bad_proxy_header", "PROXY header announces a datagram (UDP) connection");
        return;
    }
    if (hdr->command == PLR_PP_CMD_LOCAL &&
        evbuffer_get_length(bufferevent_get_input(s->client.bev)) == 0)
        return; /* the LB's own connection: wait for data, EOF (probe) or the deadline */
    if (admit(s) == 0) {
        evtimer_del(s->timer);
        plr_sess_admitted(s);
    }
}

void plr_sess_ingress_read(struct plr_session *s)
{
    const struct plr_route_config *rc = s->route->cfg;
    struct evbuffer *in = bufferevent_get_input(s->client.bev);
    size_t len = evbuffer_get_length(in);
    struct plr_pp_options opt = {.max_v2_bytes = rc->proxy_max_header_bytes};
    struct plr_pp_header hdr;
    const char *reason = NULL;
    size_t consumed = 0;

    if (s->pp != NULL) { /* after a LOCAL header: the first payload byte ends the wait */
        if (admit(s) == 0) {
            evtimer_del(s->timer);
            plr_sess_admitted(s);
        }
        return;
    }
    opt.accept = rc->proxy_protocol == PLR_ROUTE_PP_V1   ? PLR_PP_ACCEPT_V1
                 : rc->proxy_protocol == PLR_ROUTE_PP_V2 ? PLR_PP_ACCEPT_V2
                                                         : PLR_PP_ACCEPT_ANY;
    /* Never look at more than the largest header allowed: the parser decides within it. */
    size_t cap = rc->proxy_max_header_bytes > PLR_PP_V1_MAX_BYTES ? rc->proxy_max_header_bytes
                                                                  : PLR_PP_V1_MAX_BYTES;
    size_t want = len < cap ? len : cap;
    const uint8_t *buf = evbuffer_pullup(in, (ssize_t)want);
    if (buf == NULL) {
        plr_sess_finalize(s, 500, "internal");
        return;
    }
    switch (plr_pp_parse(buf, want, &consumed, &hdr, &opt, &reason)) {
    case PLR_PP_AGAIN:
        return;
    case PLR_PP_OK:
        header_done(s, &hdr, buf);
        return;
    case PLR_PP_DECLINED:
        deny(s, 400, "bad_proxy_header", "no PROXY header (proxy_protocol is required here)");
        return;
    case PLR_PP_ERR:
        deny(s, 400, "bad_proxy_header", "%s", reason != NULL ? reason : "invalid PROXY header");
        return;
    }
}

void plr_sess_ingress_event(struct plr_session *s, short what)
{
    size_t pending = evbuffer_get_length(bufferevent_get_input(s->client.bev));

    if (s->pp != NULL || pending == 0) {
        probe(s, s->pp != NULL ? "LOCAL header, then closed" : "closed before sending anything");
        return;
    }
    deny(s, 400, "bad_proxy_header", "connection %s inside the PROXY header",
         (what & BEV_EVENT_EOF) ? "closed" : "failed");
}

void plr_sess_ingress_timeout(struct plr_session *s)
{
    if (s->pp != NULL) { /* LOCAL and then silence: still the LB's own connection */
        probe(s, "LOCAL header, then silence until handshake_timeout");
        return;
    }
    deny(s, 408, "handshake_timeout", "no complete PROXY header within %llu ms",
         (unsigned long long)s->route->cfg->handshake_timeout_ms);
}

int plr_sess_send_proxy(struct plr_session *s)
{
    const struct plr_route_config *rc = s->route->cfg;
    struct sockaddr_storage local;
    socklen_t local_len = sizeof(local);
    const struct sockaddr *src = real_client(s), *dst;
    uint8_t small[PLR_PP_V1_MAX_BYTES + 1 + 16 + 216];
    uint8_t *buf = small;
    size_t cap = sizeof(small);
    ssize_t n;

    if (rc->send_proxy == PLR_SEND_PROXY_OFF)
        return 0;
    if (s->pp != NULL && s->pp->has_addresses) {
        dst = (const struct sockaddr *)&s->pp->dst;
    } else {
        memset(&local, 0, sizeof(local));
        getsockname(bufferevent_getfd(s->client.bev), (struct sockaddr *)&local, &local_len);
        dst = (const struct sockaddr *)&local;
    }
    if (rc->send_proxy == PLR_SEND_PROXY_V1) {
        n = plr_pp_build_v1(buf, cap, src, dst);
    } else {
        struct plr_pp_v2_params p = {.command = PLR_PP_CMD_PROXY,
                                     .src = src,
                                     .dst = dst,
                                     .tlvs = s->pp_tlvs,
                                     .tlvs_len = s->pp_tlvs_len};
        if (s->pp_tlvs_len > 0) {
            cap = 16 + 216 + s->pp_tlvs_len;
            buf = malloc(cap);
        }
        n = buf != NULL ? plr_pp_build_v2(buf, cap, &p) : -1;
    }
    int rc_add = n > 0 ? evbuffer_add(bufferevent_get_output(s->upstream.bev), buf, (size_t)n) : -1;
    if (buf != small)
        free(buf);
    if (rc_add != 0) {
        plr_log(PLR_LOG_WARN, "session %llu: cannot build the PROXY header for the upstream",
                (unsigned long long)s->id);
        plr_sess_finalize(s, 500, "internal");
        return -1;
    }
    return 0;
}

void plr_sess_ingress_release(struct plr_session *s)
{
    if (s->source_charged)
        plr_sources_release(s->route->sources, real_client(s));
    s->source_charged = 0;
    free(s->pp);
    s->pp = NULL;
    free(s->pp_tlvs);
    s->pp_tlvs = NULL;
}
