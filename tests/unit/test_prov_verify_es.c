/*
 * test_prov_verify_es — unit tests of the Elasticsearch REST rows of `verify` on topology nlb-ip
 * (src/provision/verify_es.c): remote count, reindex (with the DELETE of our own dest index),
 * local count and their comparison, over the fake transport of prov_verify_fixture.c, which
 * records method, URL, headers, body and timeouts of every request.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "prov_verify_fixture.h"

TestSuite(prov_verify_es, .timeout = 10);

Test(prov_verify_es, nlb_success_with_equal_counts, .init = nlb_setup)
{
    static const char *const hops[] = {"nlb",           "nlb listener", "endpoint service",
                                       "es connection", "es whitelist", "remote count",
                                       "reindex",       "local count",  "counts equal"};
    json_t *body;
    size_t i;

    cr_assert_eq(run(), 0, "%s", last_row()->detail);
    cr_assert(rep.ok);
    cr_assert_eq(rep.count, 9);
    for (i = 0; i < 9; i++) {
        cr_assert_str_eq(rep.checks[i].hop, hops[i]);
        cr_assert(rep.checks[i].ok, "%s: %s", rep.checks[i].hop, rep.checks[i].detail);
    }
    cr_assert_eq(rep.source_count, 42);
    cr_assert_eq(rep.dest_count, 42);
    cr_assert_eq(fake.seen_count, 4);
    cr_assert_str_eq(fake.seen[0].url, REMOTE "/src/_count");
    cr_assert_str_eq(fake.seen[1].method, "DELETE");
    cr_assert_str_eq(fake.seen[2].method, "POST");
    cr_assert_str_eq(fake.seen[3].url, ES "/plrelay-verify-src/_count");
    cr_assert(strstr(rep.checks[6].detail, "did not exist") != NULL, "%s", rep.checks[6].detail);
    cr_assert(strstr(rep.checks[8].detail, "total 42") != NULL, "%s", rep.checks[8].detail);

    body = json_loads(fake.seen[2].body, 0, NULL);
    cr_assert_not_null(body, "%s", fake.seen[2].body);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(body, "source"), "remote"), "host")),
                     "http://" EP_DOMAIN ":9200");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(body, "source"), "remote"), "username")),
                     "reader");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(body, "source"), "remote"), "password")),
                     REMOTE_PW);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(body, "source"), "index")),
                     "src");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(body, "dest"), "index")),
                     "plrelay-verify-src");
    json_decref(body);
    cr_assert(strstr(fake.seen[2].headers, "Content-Type: application/json") != NULL);
    cr_assert(strstr(fake.seen[0].headers, "Content-Type") == NULL);

    cr_assert_eq(fake.seen[2].timeout_ms, 600000);
    for (i = 0; i < 4; i++) {
        cr_assert_eq(fake.seen[i].connect_timeout_ms, 5000);
        cr_assert_gt(fake.seen[i].max_response_bytes, 0);
        if (i != 2) {
            cr_assert_eq(fake.seen[i].timeout_ms, 30000);
        }
    }
    assert_no_secrets();
}

Test(prov_verify_es, authorization_is_basic_of_user_and_password, .init = nlb_setup)
{
    cr_assert_eq(run(), 0);
    cr_assert(strstr(fake.seen[0].headers, REMOTE_BASIC "\n") != NULL, "%s", fake.seen[0].headers);
    cr_assert(strstr(fake.seen[1].headers, ES_BASIC "\n") != NULL, "%s", fake.seen[1].headers);
    cr_assert(strstr(fake.seen[2].headers, ES_BASIC "\n") != NULL, "%s", fake.seen[2].headers);
    cr_assert(strstr(fake.seen[3].headers, ES_BASIC "\n") != NULL, "%s", fake.seen[3].headers);
    assert_no_secrets();
}

Test(prov_verify_es, no_password_sends_no_authorization_nor_credentials, .init = nlb_setup)
{
    sec.es_password = NULL;
    sec.remote_password = NULL;
    cr_assert_eq(run(), 0);
    cr_assert(strstr(fake.seen[0].headers, "Authorization") == NULL);
    cr_assert(strstr(fake.seen[3].headers, "Authorization") == NULL);
    cr_assert(strstr(fake.seen[2].body, "password") == NULL, "%s", fake.seen[2].body);
    cr_assert(strstr(fake.seen[2].body, "username") == NULL, "%s", fake.seen[2].body);
}

Test(prov_verify_es, count_mismatch_fails_with_both_counts_and_total, .init = nlb_setup)
{
    route("GET", ES "/plrelay-verify-src/_count", 200, "{\"count\":40}");
    cr_assert_eq(run(), 1);
    assert_failed_at("counts equal", "42");
    cr_assert(strstr(last_row()->detail, "40") != NULL, "%s", last_row()->detail);
    cr_assert(strstr(last_row()->detail, "total 42") != NULL, "%s", last_row()->detail);
    cr_assert_eq(rep.source_count, 42);
    cr_assert_eq(rep.dest_count, 40);
    assert_no_secrets();
}

Test(prov_verify_es, reindex_failures_fail_the_reindex_row, .init = nlb_setup)
{
    route("POST", REINDEX, 200,
          "{\"timed_out\":false,\"total\":42,\"created\":41,\"failures\":[{\"index\":"
          "\"plrelay-verify-src\",\"id\":\"7\",\"cause\":{\"type\":\"mapper_parsing_exception\","
          "\"reason\":\"failed to parse field [n]\"},\"status\":400}]}");
    cr_assert_eq(run(), 1);
    assert_failed_at("reindex", "mapper_parsing_exception");
    cr_assert(strstr(last_row()->detail, "document 7") != NULL, "%s", last_row()->detail);
    cr_assert_eq(fake.seen_count, 3, "no local count after a failed reindex");
    cr_assert_eq(rep.dest_count, -1);
}

Test(prov_verify_es, reindex_timed_out_fails, .init = nlb_setup)
{
    route("POST", REINDEX, 200, "{\"timed_out\":true,\"total\":42,\"created\":3,\"failures\":[]}");
    cr_assert_eq(run(), 1);
    assert_failed_at("reindex", "timed_out");
}

Test(prov_verify_es, reindex_transport_timeout_points_at_tasks, .init = nlb_setup)
{
    route_full("POST", REINDEX, 0, "", PROV_HTTP_TIMEOUT);
    cr_assert_eq(run(), 1);
    assert_failed_at("reindex", "timed out");
    cr_assert(strstr(last_row()->detail, "_tasks") != NULL, "%s", last_row()->detail);
}

Test(prov_verify_es, reindex_es_error_names_type_reason_and_status, .init = nlb_setup)
{
    route("POST", REINDEX, 400,
          "{\"error\":{\"type\":\"illegal_argument_exception\",\"reason\":\"[" EP_DOMAIN
          ":9200] not whitelisted in reindex.remote.whitelist\"},\"status\":400}");
    cr_assert_eq(run(), 1);
    assert_failed_at("reindex", "HTTP 400");
    cr_assert(strstr(last_row()->detail, "illegal_argument_exception") != NULL);
    cr_assert(strstr(last_row()->detail, "not whitelisted") != NULL);
    assert_no_secrets();
}

Test(prov_verify_es, es_401_names_type_reason_and_status, .init = nlb_setup)
{
    route("GET", REMOTE "/src/_count", 401,
          "{\"error\":{\"root_cause\":[],\"type\":\"security_exception\",\"reason\":\"unable to "
          "authenticate user [reader] for REST request [/src/_count]\"},\"status\":401}");
    cr_assert_eq(run(), 1);
    assert_failed_at("remote count", "HTTP 401");
    cr_assert(strstr(last_row()->detail, "security_exception") != NULL);
    cr_assert(strstr(last_row()->detail, "unable to authenticate user [reader]") != NULL);
    cr_assert_eq(rep.source_count, -1);
    cr_assert_eq(fake.seen_count, 1);
    assert_no_secrets();
}

Test(prov_verify_es, an_answer_echoing_a_password_is_redacted, .init = nlb_setup)
{
    route("GET", ES "/plrelay-verify-src/_count", 500,
          "{\"error\":{\"type\":\"weird\",\"reason\":\"saw " ES_PW "\"},\"status\":500}");
    cr_assert_eq(run(), 1);
    assert_failed_at("local count", "weird");
    cr_assert(strstr(last_row()->detail, "<redacted>") != NULL, "%s", last_row()->detail);
    assert_no_secrets();
}

Test(prov_verify_es, connect_failure_names_the_hop_and_url, .init = nlb_setup)
{
    route_full("GET", REMOTE "/src/_count", 0, "", PROV_HTTP_CONNECT);
    cr_assert_eq(run(), 1);
    assert_failed_at("remote count", "could not connect");
    cr_assert(strstr(last_row()->detail, "GET " REMOTE "/src/_count") != NULL, "%s",
              last_row()->detail);
    cr_assert(strstr(last_row()->detail, "could not connect: could not") == NULL, "%s",
              last_row()->detail);

    nlb_setup();
    route_full("GET", ES "/plrelay-verify-src/_count", 0, "", PROV_HTTP_CONNECT);
    cr_assert_eq(run(), 1);
    assert_failed_at("local count", ES);
}

Test(prov_verify_es, missing_source_index_fails_reindex_before_any_request, .init = nlb_setup)
{
    cfg.verify_source_index[0] = '\0';
    cfg.verify_dest_index[0] = '\0';
    cr_assert_eq(run(), 1);
    assert_failed_at("reindex", "[verify] source_index");
    cr_assert_eq(rep.count, 6);
    cr_assert_eq(fake.seen_count, 0);
}

Test(prov_verify_es, dest_index_deleted_only_when_ours, .init = nlb_setup)
{
    route("DELETE", ES "/plrelay-verify-src", 200, "{\"acknowledged\":true}");
    cr_assert_eq(run(), 0);
    cr_assert_not_null(seen_request("DELETE", ES "/plrelay-verify-src"));
    cr_assert(strstr(rep.checks[6].detail, "deleted first") != NULL, "%s", rep.checks[6].detail);

    nlb_setup();
    SET(cfg.verify_dest_index, "mydest");
    route("GET", ES "/mydest/_count", 200, "{\"count\":42}");
    cr_assert_eq(run(), 0, "%s", last_row()->detail);
    cr_assert(strstr(rep.checks[6].detail, "kept") != NULL, "%s", rep.checks[6].detail);
    for (size_t i = 0; i < fake.seen_count; i++) {
        cr_assert_str_neq(fake.seen[i].method, "DELETE", "%s", fake.seen[i].url);
    }
}

Test(prov_verify_es, delete_failure_fails_reindex, .init = nlb_setup)
{
    route("DELETE", ES "/plrelay-verify-src", 403,
          "{\"error\":{\"type\":\"security_exception\",\"reason\":\"action [indices:admin/delete] "
          "is unauthorized\"},\"status\":403}");
    cr_assert_eq(run(), 1);
    assert_failed_at("reindex", "HTTP 403");
    cr_assert_null(seen_request("POST", REINDEX));
}

Test(prov_verify_es, index_names_are_percent_encoded, .init = nlb_setup)
{
    SET(cfg.verify_source_index, "a+b/c");
    SET(cfg.verify_dest_index, "plrelay-verify-a+b/c");
    route("GET", REMOTE "/a%2Bb%2Fc/_count", 200, "{\"count\":1}");
    route("DELETE", ES "/plrelay-verify-a%2Bb%2Fc", 404, "{}");
    route("POST", REINDEX, 200, "{\"timed_out\":false,\"total\":1,\"failures\":[]}");
    route("GET", ES "/plrelay-verify-a%2Bb%2Fc/_count", 200, "{\"count\":1}");
    cr_assert_eq(run(), 0, "%s", last_row()->detail);
}

Test(prov_verify_es, es_url_from_config_wins_and_loses_its_slash, .init = nlb_setup)
{
    SET(cfg.es_url, "https://es.example:9243/");
    route("DELETE", "https://es.example:9243/plrelay-verify-src", 404, "{}");
    route("POST", "https://es.example:9243/_reindex?wait_for_completion=true&refresh=true", 200,
          "{\"timed_out\":false,\"total\":42,\"failures\":[]}");
    route("GET", "https://es.example:9243/plrelay-verify-src/_count", 200, "{\"count\":42}");
    cr_assert_eq(run(), 0, "%s", last_row()->detail);
}

Test(prov_verify_es, es_url_from_describe_instance_protocol, .init = nlb_setup)
{
    SET(act.es.protocol, "HTTPS");
    act.es.port = 9201;
    route("DELETE", "https://es-cn-1.elasticsearch.aliyuncs.com:9201/plrelay-verify-src", 404,
          "{}");
    route("POST",
          "https://es-cn-1.elasticsearch.aliyuncs.com:9201/"
          "_reindex?wait_for_completion=true&refresh=true",
          200, "{\"timed_out\":false,\"total\":42,\"failures\":[]}");
    route("GET", "https://es-cn-1.elasticsearch.aliyuncs.com:9201/plrelay-verify-src/_count", 200,
          "{\"count\":42}");
    cr_assert_eq(run(), 0, "%s", last_row()->detail);
}

Test(prov_verify_es, no_es_domain_fails_clearly, .init = nlb_setup)
{
    act.es.domain[0] = '\0';
    cr_assert_eq(run(), 1);
    assert_failed_at("reindex", "[elasticsearch] url");
    cr_assert_eq(fake.seen_count, 1);
}

Test(prov_verify_es, remote_scheme_and_listener_port_shape_the_remote_host, .init = nlb_setup)
{
    json_t *body;

    SET(cfg.verify_remote_scheme, "https");
    cfg.nlb_listener_port = 9443;
    SET(act.es.reindex_whitelist, EP_DOMAIN ":9443");
    cr_assert_eq(run(), 0, "%s", last_row()->detail);
    body = json_loads(fake.seen[2].body, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(body, "source"), "remote"), "host")),
                     "https://" EP_DOMAIN ":9443");
    json_decref(body);
}

Test(prov_verify_es, answer_without_count_fails, .init = nlb_setup)
{
    route("GET", REMOTE "/src/_count", 200, "{\"hits\":1}");
    cr_assert_eq(run(), 1);
    assert_failed_at("remote count", "no count");
    route("GET", REMOTE "/src/_count", 200, "not json");
    cr_assert_eq(run(), 1);
    assert_failed_at("remote count", "not a JSON object");
}
