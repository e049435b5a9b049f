/*
 * prov_verify_fixture — the fake Elasticsearch transport and the healthy hand-built states shared
 * by the `verify` unit tests (see prov_verify_fixture.h).
 */
#include "prov_verify_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* ---- the fake Elasticsearch transport -------------------------------------------------------- */

struct fake fake;

int fake_transport(void *ctx, const struct prov_http_request *req, struct prov_http_response *resp)
{
    struct fake *f = ctx;
    struct seen *s;
    size_t i, used = 0;

    cr_assert_lt(f->seen_count, 16, "too many requests");
    s = &f->seen[f->seen_count++];
    snprintf(s->method, sizeof(s->method), "%s", req->method);
    snprintf(s->url, sizeof(s->url), "%s", req->url);
    for (i = 0; i < req->header_count && used < sizeof(s->headers); i++) {
        used +=
            (size_t)snprintf(s->headers + used, sizeof(s->headers) - used, "%s\n", req->headers[i]);
    }
    if (req->body != NULL) {
        snprintf(s->body, sizeof(s->body), "%.*s", (int)req->body_bytes, (const char *)req->body);
    }
    s->connect_timeout_ms = req->connect_timeout_ms;
    s->timeout_ms = req->timeout_ms;
    s->max_response_bytes = req->max_response_bytes;
    for (i = 0; i < f->route_count; i++) {
        const struct route *r = &f->routes[i];
        if (strcmp(r->method, req->method) != 0 || strcmp(r->url, req->url) != 0) {
            continue;
        }
        if (r->fail != PROV_HTTP_OK) {
            resp->failure = r->fail;
            snprintf(resp->error, sizeof(resp->error), "%s: Connection refused",
                     prov_http_failure_name(r->fail));
            return -1;
        }
        resp->status = r->status;
        cr_assert_eq(prov_http_response_set_body(resp, r->body, strlen(r->body)), 0);
        return 0;
    }
    resp->status = 599;
    cr_assert_eq(prov_http_response_set_body(resp, "unrouted", 8), 0);
    return 0;
}

void route_full(const char *method, const char *url, long status, const char *body,
                enum prov_http_failure fail)
{
    size_t i;

    for (i = 0; i < fake.route_count; i++) {
        if (strcmp(fake.routes[i].method, method) == 0 && strcmp(fake.routes[i].url, url) == 0) {
            break;
        }
    }
    cr_assert_lt(i, 8);
    fake.routes[i] = (struct route){method, url, status, body, fail};
    if (i == fake.route_count) {
        fake.route_count++;
    }
}

void route(const char *method, const char *url, long status, const char *body)
{
    route_full(method, url, status, body, PROV_HTTP_OK);
}

const struct seen *seen_request(const char *method, const char *url)
{
    size_t i;

    for (i = 0; i < fake.seen_count; i++) {
        if (strcmp(fake.seen[i].method, method) == 0 && strcmp(fake.seen[i].url, url) == 0) {
            return &fake.seen[i];
        }
    }
    return NULL;
}

/* ---- fixtures -------------------------------------------------------------------------------- */

struct prov_config cfg;
struct prov_actual act;
struct prov_verify_report rep;
struct prov_verify_options opt;
struct prov_verify_secrets sec;

void common_setup(void)
{
    memset(&fake, 0, sizeof(fake));
    memset(&cfg, 0, sizeof(cfg));
    memset(&act, 0, sizeof(act));
    memset(&opt, 0, sizeof(opt));
    SET(cfg.region, "cn-hangzhou");
    SET(cfg.name, "plrelay");
    SET(cfg.es_instance_id, "es-cn-1");
    SET(cfg.es_username, "elastic");
    act.service_found = 1;
    SET(act.service.id, "epsrv-1");
    SET(act.service.status, "Active");
    act.endpoint_found = 1;
    SET(act.endpoint.id, "ep-1");
    SET(act.endpoint.domain, EP_DOMAIN);
    SET(act.endpoint.connection_status, "Connected");
    act.connection_count = 1;
    SET(act.connections[0].endpoint_id, "ep-1");
    SET(act.connections[0].status, "Connected");
    act.es_found = 1;
    SET(act.es.domain, "es-cn-1.elasticsearch.aliyuncs.com");
    act.es.port = 9200;
    SET(act.es.protocol, "HTTP");
    sec.es_password = ES_PW;
    sec.remote_password = REMOTE_PW;
    opt.transport = fake_transport;
    opt.transport_ctx = &fake;
}

void nlb_setup(void)
{
    common_setup();
    cfg.topology = PROV_TOPOLOGY_NLB_IP;
    SET(cfg.target_ip, "10.1.2.3");
    cfg.target_port = 9200;
    cfg.nlb_listener_port = 9200;
    SET(cfg.verify_source_index, "src");
    SET(cfg.verify_dest_index, "plrelay-verify-src");
    SET(cfg.verify_remote_url, REMOTE);
    SET(cfg.verify_remote_scheme, "http");
    SET(cfg.verify_remote_username, "reader");
    cfg.verify_timeout_s = 600;
    act.lb_found = 1;
    SET(act.nlb.id, "nlb-1");
    SET(act.nlb.status, "Active");
    act.listener_found = 1;
    SET(act.listener.id, "lsn-1@9200");
    SET(act.listener.status, "Running");
    SET(act.es.reindex_whitelist, "other.example:9200, " EP_DOMAIN ":9200");
    route("GET", REMOTE "/src/_count", 200, "{\"count\":42,\"_shards\":{\"total\":1}}");
    route("DELETE", ES "/plrelay-verify-src", 404,
          "{\"error\":{\"type\":\"index_not_found_exception\",\"reason\":\"no such index\"},"
          "\"status\":404}");
    route("POST", REINDEX, 200,
          "{\"took\":7,\"timed_out\":false,\"total\":42,\"created\":42,\"updated\":0,"
          "\"failures\":[]}");
    route("GET", ES "/plrelay-verify-src/_count", 200, "{\"count\":42}");
}

const struct prov_verify_check *last_row(void)
{
    cr_assert_gt(rep.count, 0);
    return &rep.checks[rep.count - 1];
}

void assert_failed_at(const char *hop, const char *detail_part)
{
    const struct prov_verify_check *c = last_row();
    size_t i;

    cr_assert_not(rep.ok);
    cr_assert_str_eq(c->hop, hop, "%s: %s", c->hop, c->detail);
    cr_assert_not(c->ok);
    cr_assert(strstr(c->detail, detail_part) != NULL, "%s", c->detail);
    for (i = 0; i + 1 < rep.count; i++) {
        cr_assert(rep.checks[i].ok, "%s", rep.checks[i].hop);
    }
}

/* Neither password, nor a telling part of it, in any row or rendering. */
void assert_no_secrets(void)
{
    static const char *const parts[] = {"es-Secret", "Pa55", "ZWxhc3RpYzplcy1TZWNyZXQtcHcx",
                                        "cmVhZGVyOlJlbW90ZS1QYTU1IndvcmQ="};
    char *text = NULL, *json = NULL;
    size_t i, k;

    cr_assert_eq(prov_verify_render(&rep, 0, &text), 0);
    cr_assert_eq(prov_verify_render(&rep, 1, &json), 0);
    for (k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
        for (i = 0; i < rep.count; i++) {
            cr_assert(strstr(rep.checks[i].detail, parts[k]) == NULL, "%s", rep.checks[i].detail);
        }
        cr_assert(strstr(text, parts[k]) == NULL, "%s", text);
        cr_assert(strstr(json, parts[k]) == NULL, "%s", json);
    }
    free(text);
    free(json);
}

int run(void)
{
    return prov_verify_run(NULL, &cfg, &act, &sec, &opt, &rep);
}
