/*
 * prov_verify_fixture — what the `verify` unit tests (test_prov_verify.c, test_prov_verify_es.c,
 * one binary) share: a fake Elasticsearch transport that answers from a route table and records
 * every request, and hand-built nlb-ip and clb-ecs configs and actual states with every hop
 * healthy, which each test then breaks in one place.
 */
#ifndef PROV_VERIFY_FIXTURE_H
#define PROV_VERIFY_FIXTURE_H

#include <stdio.h>

#include "plprov/verify.h"

#define ES "http://es-cn-1.elasticsearch.aliyuncs.com:9200"
#define REMOTE "http://10.1.2.3:9200"
#define EP_DOMAIN "ep-1.epsrv-1.cn-hangzhou.privatelink.aliyuncs.com"
#define REINDEX ES "/_reindex?wait_for_completion=true&refresh=true"
#define ES_PW "es-Secret-pw1"
#define REMOTE_PW "Remote-Pa55\"word"
#define ES_BASIC "Authorization: Basic ZWxhc3RpYzplcy1TZWNyZXQtcHcx"         /* elastic:ES_PW */
#define REMOTE_BASIC "Authorization: Basic cmVhZGVyOlJlbW90ZS1QYTU1IndvcmQ=" /* reader:... */

#define SET(dst, text) snprintf((dst), sizeof(dst), "%s", (text))

struct route {
    const char *method;
    const char *url;
    long status;
    const char *body;
    enum prov_http_failure fail; /* PROV_HTTP_OK: answer; else the transport fails this way */
};

struct seen {
    char method[16];
    char url[1024];
    char headers[2048];
    char body[4096];
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response_bytes;
};

struct fake {
    struct route routes[8];
    size_t route_count;
    struct seen seen[16];
    size_t seen_count;
};

extern struct fake fake;
extern struct prov_config cfg;
extern struct prov_actual act;
extern struct prov_verify_report rep;
extern struct prov_verify_options opt;
extern struct prov_verify_secrets sec;

/* The transport set in opt: answers a request from the routes (599 "unrouted" when none). */
int fake_transport(void *ctx, const struct prov_http_request *req, struct prov_http_response *resp);

/* Adds or replaces the route of method + url. */
void route_full(const char *method, const char *url, long status, const char *body,
                enum prov_http_failure fail);
void route(const char *method, const char *url, long status, const char *body);

/* The first recorded request with this method and URL, or NULL. */
const struct seen *seen_request(const char *method, const char *url);

/* Resets everything: the endpoint service, the ES endpoint and instance are healthy, the topology
 * is none, passwords ES_PW and REMOTE_PW, the fake transport in opt. */
void common_setup(void);

/* common_setup plus a healthy nlb-ip path and routes for a reindex of 42 documents. */
void nlb_setup(void);

/* prov_verify_run(NULL, &cfg, &act, &sec, &opt, &rep). */
int run(void);

const struct prov_verify_check *last_row(void);

/* rep failed, its last row is `hop` with detail_part in its detail, and every row before passed. */
void assert_failed_at(const char *hop, const char *detail_part);

/* Neither password (nor its Basic form) in any row, nor in either rendering. */
void assert_no_secrets(void);

#endif
