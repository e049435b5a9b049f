/*
 * test_sign — unit tests of src/provision/sign.c and sign_util.c (include/plprov/sign.h).
 *
 * The published vectors of docs/alicloud-api.md (V3-A, V2-A, the encoder checks, the empty-body
 * hash, the recomputed Content-MD5) are reproduced byte for byte. No ROA-V2 vector is published
 * (UNCONFIRMED in the doc), so the "reference" cases below were computed independently with
 * Python's hashlib/hmac, following the doc's rules and, for ROA, a transcription of the SDK's
 * openapi-util get_string_to_sign: they pin the layout, they do not prove the server accepts it.
 * The rest are edge cases: encoding, ordering, empty body, secrets never leaking, small buffers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "plprov/sign.h"

TestSuite(sign, .timeout = 10);

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define T_2023_10_26_102232 INT64_C(1698315752) /* 2023-10-26T10:22:32Z */
#define T_2016_02_23_124624 INT64_C(1456231584) /* 2016-02-23T12:46:24Z */

/* All seven outputs wired to generous buffers. */
struct outs {
    char headers[4096], path[512], query[4096], auth[512], sig[128], canonical[4096], sts[4096];
    struct prov_sign_out out;
};

static void outs_init(struct outs *o)
{
    memset(o, 0x5a, sizeof(*o)); /* garbage, so an unterminated output shows */
    memset(&o->out, 0, sizeof(o->out));
    o->out.headers = (struct prov_sign_buf){o->headers, sizeof(o->headers)};
    o->out.path = (struct prov_sign_buf){o->path, sizeof(o->path)};
    o->out.query = (struct prov_sign_buf){o->query, sizeof(o->query)};
    o->out.authorization = (struct prov_sign_buf){o->auth, sizeof(o->auth)};
    o->out.signature = (struct prov_sign_buf){o->sig, sizeof(o->sig)};
    o->out.canonical = (struct prov_sign_buf){o->canonical, sizeof(o->canonical)};
    o->out.string_to_sign = (struct prov_sign_buf){o->sts, sizeof(o->sts)};
}

static void outs_texts(const struct outs *o, const char *t[7])
{
    t[0] = o->headers, t[1] = o->path, t[2] = o->query, t[3] = o->auth;
    t[4] = o->sig, t[5] = o->canonical, t[6] = o->sts;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- doc §2.2 V3-A --------------------------------------------------------------------------- */

static const struct prov_sign_kv V3A_QUERY[] = {
    {"RegionId", "cn-shanghai"},
    {"ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"},
};

static struct prov_sign_request v3a_request(void)
{
    struct prov_sign_request r = {
        .method = "POST",
        .host = "ecs.cn-shanghai.aliyuncs.com",
        .path = "/",
        .action = "RunInstances",
        .version = "2014-05-26",
        .query = V3A_QUERY,
        .query_count = 2,
        .timestamp_unix_s = T_2023_10_26_102232,
        .nonce = "3156853299f313e23d1673dc12e1703d",
    };
    return r;
}

static const struct prov_sign_credentials V3A_CRED = {"YourAccessKeyId", "YourAccessKeySecret",
                                                      NULL};

#define V3A_SIGNED                                                             \
    "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;" \
    "x-acs-version"
#define V3A_SIG "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"

Test(sign, v3_reproduces_published_vector_v3a)
{
    struct prov_sign_request r = v3a_request();
    struct outs o;

    outs_init(&o);
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), 0, "%s", o.out.error);
    cr_assert_null(o.out.error);
    cr_assert_str_eq(
        o.canonical,
        "POST\n"
        "/\n"
        "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n"
        "host:ecs.cn-shanghai.aliyuncs.com\n"
        "x-acs-action:RunInstances\n"
        "x-acs-content-sha256:" EMPTY_SHA256 "\n"
        "x-acs-date:2023-10-26T10:22:32Z\n"
        "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
        "x-acs-version:2014-05-26\n"
        "\n" V3A_SIGNED "\n" EMPTY_SHA256);
    cr_assert_str_eq(o.sts, "ACS3-HMAC-SHA256\n"
                            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
    cr_assert_str_eq(o.sig, V3A_SIG);
    cr_assert_str_eq(o.auth, "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=" V3A_SIGNED
                             ",Signature=" V3A_SIG);
    cr_assert_str_eq(
        o.query,
        "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai");
    cr_assert_str_eq(o.path, "/");
}

Test(sign, v3_header_lines_are_exactly_what_was_signed_plus_authorization)
{
    struct prov_sign_request r = v3a_request();
    struct outs o;

    outs_init(&o);
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), 0);
    cr_assert_str_eq(o.headers, "host: ecs.cn-shanghai.aliyuncs.com\n"
                                "x-acs-action: RunInstances\n"
                                "x-acs-content-sha256: " EMPTY_SHA256 "\n"
                                "x-acs-date: 2023-10-26T10:22:32Z\n"
                                "x-acs-signature-nonce: 3156853299f313e23d1673dc12e1703d\n"
                                "x-acs-version: 2014-05-26\n"
                                "authorization: ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
                                "SignedHeaders=" V3A_SIGNED ",Signature=" V3A_SIG "\n");
}

Test(sign, dispatcher_selects_v3_and_refuses_unknown_style)
{
    struct prov_sign_request r = v3a_request();
    struct outs o;

    outs_init(&o);
    cr_assert_eq(prov_sign_request(PROV_SIGN_V3, &r, &V3A_CRED, &o.out), 0);
    cr_assert_str_eq(o.sig, V3A_SIG);
    cr_assert_eq(prov_sign_request((enum prov_sign_style)3, &r, &V3A_CRED, &o.out), -1);
    cr_assert_str_eq(o.sig, "");
    cr_assert_not_null(o.out.error);
}

/* ---- doc §2.1 V2-A --------------------------------------------------------------------------- */

static const struct prov_sign_kv V2A_QUERY[] = {{"Format", "XML"}};

static struct prov_sign_request v2a_request(void)
{
    struct prov_sign_request r = {
        .method = "GET",
        .host = "ecs.aliyuncs.com",
        .action = "DescribeRegions",
        .version = "2014-05-26",
        .query = V2A_QUERY,
        .query_count = 1,
        .timestamp_unix_s = T_2016_02_23_124624,
        .nonce = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    };
    return r;
}

static const struct prov_sign_credentials V2A_CRED = {"testid", "testsecret", NULL};

#define V2A_CANON                                                                     \
    "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&" \
    "SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&"       \
    "Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26"

Test(sign, v2_rpc_reproduces_published_vector_v2a)
{
    struct prov_sign_request r = v2a_request();
    struct outs o;

    outs_init(&o);
    cr_assert_eq(prov_sign_v2_rpc(&r, &V2A_CRED, &o.out), 0, "%s", o.out.error);
    cr_assert_str_eq(o.sts, "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
                            "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-"
                            "a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12"
                            "%253A46%253A24Z%26Version%3D2014-05-26");
    cr_assert_str_eq(o.sig, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    cr_assert_str_eq(o.canonical, V2A_CANON);
    cr_assert_str_eq(o.query, V2A_CANON "&Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D");
    cr_assert_str_eq(o.auth, "");
    cr_assert_str_eq(o.headers, "host: ecs.aliyuncs.com\n");
}

Test(sign, v2_rpc_refuses_parameters_the_signer_adds)
{
    static const struct prov_sign_kv dup_action[] = {{"Action", "DescribeRegions"}};
    static const struct prov_sign_kv dup_sig[] = {{"Signature", "x"}};
    struct prov_sign_request r = v2a_request();
    struct outs o;

    outs_init(&o);
    r.query = dup_action;
    cr_assert_eq(prov_sign_v2_rpc(&r, &V2A_CRED, &o.out), -1);
    cr_assert_not_null(o.out.error);
    r.query = dup_sig;
    cr_assert_eq(prov_sign_v2_rpc(&r, &V2A_CRED, &o.out), -1);
    cr_assert_str_eq(o.query, "");
}

Test(sign, v2_rpc_refuses_a_path_other_than_root)
{
    struct prov_sign_request r = v2a_request();
    struct outs o;

    outs_init(&o);
    r.path = "/other";
    cr_assert_eq(prov_sign_v2_rpc(&r, &V2A_CRED, &o.out), -1);
}

/* ---- the doc's other published values -------------------------------------------------------- */

static void check_encode(const char *in, size_t in_len, const char *want)
{
    char out[256];

    cr_assert_eq(prov_sign_percent_encode(in, in_len, out, sizeof(out)), 0);
    cr_assert_str_eq(out, want, "encoding of \"%s\"", in);
    cr_assert_eq(prov_sign_percent_encoded_len(in, in_len), strlen(want));
}

Test(sign, percent_encode_matches_published_encoder_checks)
{
    check_encode(" a!*'()~", 8, "%20a%21%2A%27%28%29~");
    check_encode("/=&+", 4, "%2F%3D%26%2B");
    check_encode("\xc3\xa9", 2, "%C3%A9"); /* é */
}

Test(sign, sha256_hex_of_empty_body_is_the_published_constant)
{
    char hex[PROV_SIGN_SHA256_HEX_BYTES];

    cr_assert_eq(prov_sign_sha256_hex("", 0, hex), 0);
    cr_assert_str_eq(hex, EMPTY_SHA256);
    cr_assert_eq(prov_sign_sha256_hex(NULL, 0, hex), 0);
    cr_assert_str_eq(hex, EMPTY_SHA256);
}

Test(sign, content_md5_matches_the_docs_recomputed_value)
{
    static const char body[] = "{\"CategoryName\":\"test\",\"CategoryType\":\"UNSTRUCTURED\"}";
    char md5[32];

    cr_assert_eq(prov_sign_content_md5(body, strlen(body), md5, sizeof(md5)), 0);
    cr_assert_str_eq(md5, "q2qaEcR4P47+Z7CUzHRTBw==");
    cr_assert_eq(prov_sign_content_md5(body, strlen(body), md5, 24), -1); /* needs 25 */
    cr_assert_str_eq(md5, "");
}

Test(sign, hmac_sha256_hex_matches_rfc4231_case_2)
{
    static const char data[] = "what do ya want for nothing?";
    char hex[PROV_SIGN_SHA256_HEX_BYTES];

    cr_assert_eq(prov_sign_hmac_sha256_hex("Jefe", 4, data, strlen(data), hex), 0);
    cr_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* ---- percent-encoding and ordering edge cases ------------------------------------------------ */

Test(sign, percent_encode_leaves_only_unreserved_bytes_literal)
{
    static const char unreserved[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";

    for (int c = 1; c < 256; c++) {
        char in[1] = {(char)c}, out[8], want[8];
        if (strchr(unreserved, c) != NULL)
            snprintf(want, sizeof(want), "%c", c);
        else
            snprintf(want, sizeof(want), "%%%02X", c);
        cr_assert_eq(prov_sign_percent_encode(in, 1, out, sizeof(out)), 0);
        cr_assert_str_eq(out, want, "byte 0x%02x", c);
    }
    check_encode("\0", 1, "%00"); /* lengths are explicit: NUL is a byte like any other */
}

Test(sign, percent_encode_encodes_every_reserved_character)
{
    check_encode(":/?#[]@!$&'()*+,;=", 18,
                 "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D");
    check_encode("%", 1, "%25");
    check_encode("a%20b", 5, "a%2520b"); /* never decoded first */
}

Test(sign, percent_encode_handles_utf8_multibyte_byte_by_byte)
{
    check_encode("\xe4\xb8\xad\xe6\x96\x87", 6, "%E4%B8%AD%E6%96%87"); /* 中文 */
    check_encode("\xf0\x9f\x98\x80", 4, "%F0%9F%98%80");               /* U+1F600 */
    check_encode("\xff\xfe", 2, "%FF%FE");                             /* not UTF-8: still bytes */
}

Test(sign, percent_encode_star_tilde_space_and_plus)
{
    check_encode("*", 1, "%2A");
    check_encode("~", 1, "~");
    check_encode(" ", 1, "%20");
    check_encode("+", 1, "%2B");
    check_encode("{\"a\": [1, 2]}", 13, "%7B%22a%22%3A%20%5B1%2C%202%5D%7D"); /* JSON value */
}

Test(sign, percent_encode_refuses_a_too_small_buffer_and_leaves_it_empty)
{
    char out[4] = "xyz";

    cr_assert_eq(prov_sign_percent_encode("a b", 3, out, sizeof(out)), -1); /* needs 6 */
    cr_assert_str_eq(out, "");
    cr_assert_eq(prov_sign_percent_encode("a b", 3, out, 0), -1);
    cr_assert_eq(prov_sign_percent_encode("ab", 2, out, 3), 0);
    cr_assert_str_eq(out, "ab");
}

Test(sign, slash_is_encoded_in_query_but_kept_between_path_segments)
{
    static const struct prov_sign_kv q[] = {{"p", "/x/"}};
    struct prov_sign_request r = v3a_request();
    char path[64];
    struct outs o;

    outs_init(&o);
    r.path = "/a b/c\xc3\xa9/";
    r.query = q;
    r.query_count = 1;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), 0, "%s", o.out.error);
    cr_assert_str_eq(o.path, "/a%20b/c%C3%A9/");
    cr_assert_str_eq(o.query, "p=%2Fx%2F");
    cr_assert(starts_with(o.canonical, "POST\n/a%20b/c%C3%A9/\np=%2Fx%2F\nhost:"), "%s",
              o.canonical);
    cr_assert_eq(prov_sign_encode_path("/a b/c\xc3\xa9/", path, sizeof(path)), 0);
    cr_assert_str_eq(path, "/a%20b/c%C3%A9/");
    cr_assert_eq(prov_sign_encode_path(NULL, path, sizeof(path)), 0);
    cr_assert_str_eq(path, "/");
    cr_assert_eq(prov_sign_encode_path("relative/x", path, sizeof(path)), -1);
    cr_assert_str_eq(path, "");
}

Test(sign, parameters_are_sorted_by_byte_order)
{
    static const struct prov_sign_kv q[] = {
        {"a", "1"},   {"B", "2"},  {"A", "3"},  {"a_b", "4"},        {"Tag.2.Key", "5"},
        {"a.b", "6"}, {"Ab", "7"}, {"ZZ", "8"}, {"Tag.10.Key", "9"},
    };
    struct prov_sign_request r = v3a_request();
    struct outs o;

    outs_init(&o);
    r.query = q;
    r.query_count = sizeof(q) / sizeof(q[0]);
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), 0);
    cr_assert_str_eq(o.query, "A=3&Ab=7&B=2&Tag.10.Key=9&Tag.2.Key=5&ZZ=8&a=1&a.b=6&a_b=4");
}

Test(sign, parameters_are_sorted_by_their_encoded_names)
{
    /* raw ':' (0x3A) sorts after '9' (0x39); encoded "%3A" sorts before it (doc §2.1 step 2) */
    static const struct prov_sign_kv q[] = {{"a9", "x"}, {"a:", "y"}};
    struct prov_sign_request r = v3a_request();
    struct outs o;

    outs_init(&o);
    r.query = q;
    r.query_count = 2;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), 0);
    cr_assert_str_eq(o.query, "a%3A=y&a9=x");
    cr_assert_lt(prov_sign_encoded_cmp("a:", "a9"), 0);
    cr_assert_gt(prov_sign_encoded_cmp("b", "a~"), 0);
    cr_assert_lt(prov_sign_encoded_cmp("a", "a%"), 0); /* a prefix sorts first */
    cr_assert_eq(prov_sign_encoded_cmp("x y", "x y"), 0);
}

Test(sign, duplicate_query_parameters_are_refused)
{
    static const struct prov_sign_kv q[] = {{"Tag.1.Key", "a"}, {"Tag.1.Key", "b"}};
    struct prov_sign_request r = v3a_request();
    struct outs o;

    outs_init(&o);
    r.query = q;
    r.query_count = 2;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), -1);
    cr_assert_not_null(o.out.error);
}

Test(sign, v3_empty_query_is_an_empty_line_and_empty_value_keeps_equals)
{
    static const struct prov_sign_kv q[] = {{"Empty", NULL}};
    struct prov_sign_request r = v3a_request();
    struct outs o;

    outs_init(&o);
    r.query = NULL;
    r.query_count = 0;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), 0);
    cr_assert(starts_with(o.canonical, "POST\n/\n\nhost:"), "%s", o.canonical);
    cr_assert_str_eq(o.query, "");
    r.query = q;
    r.query_count = 1;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), 0);
    cr_assert_str_eq(o.query, "Empty=");
}

Test(sign, empty_body_hashes_to_the_empty_sha256_and_a_body_changes_it)
{
    static const uint8_t body[] = "RegionId=cn-hangzhou";
    struct prov_sign_request r = v3a_request();
    struct outs o;

    outs_init(&o);
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), 0);
    cr_assert_not_null(strstr(o.headers, "x-acs-content-sha256: " EMPTY_SHA256 "\n"));
    r.body = body;
    r.body_bytes = sizeof(body) - 1;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), 0);
    cr_assert_null(strstr(o.headers, EMPTY_SHA256));
    cr_assert_str_neq(o.sig, V3A_SIG);
    r.body = NULL; /* NULL with a length is a caller bug */
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), -1);
}

/* ---- reference cross-checks (computed with Python, not published) ---------------------------- */

static const struct prov_sign_credentials STS_V3 = {"AKID", "S3cr3t-v3", "STS.tok+en/="};

Test(sign, v3_roa_request_with_body_token_and_content_type_matches_reference)
{
    static const char body[] = "{\"esConfig\":{\"reindex.remote.whitelist\":"
                               "\"ep-x.epsrv-y.cn-hangzhou.privatelink.aliyuncs.com:9200\"}}";
    static const struct prov_sign_kv q[] = {{"updateStrategy", "normal"}, {"clientToken", "tok-1"}};
    static const struct prov_sign_kv h[] = {{"Content-Type", "  application/json \t"}};
    struct prov_sign_request r = {
        .method = "PATCH",
        .host = "elasticsearch.cn-hangzhou.aliyuncs.com",
        .path = "/openapi/instances/es-cn-abc 1/instance-settings",
        .action = "UpdateInstanceSettings",
        .version = "2017-06-13",
        .query = q,
        .query_count = 2,
        .headers = h,
        .header_count = 1,
        .body = (const uint8_t *)body,
        .body_bytes = sizeof(body) - 1,
        .timestamp_unix_s = T_2023_10_26_102232,
        .nonce = "n-1",
    };
    struct outs o;

    outs_init(&o);
    cr_assert_eq(prov_sign_v3(&r, &STS_V3, &o.out), 0, "%s", o.out.error);
    cr_assert_str_eq(o.canonical,
                     "PATCH\n/openapi/instances/es-cn-abc%201/instance-settings\n"
                     "clientToken=tok-1&updateStrategy=normal\n"
                     "content-type:application/json\n"
                     "host:elasticsearch.cn-hangzhou.aliyuncs.com\n"
                     "x-acs-action:UpdateInstanceSettings\n"
                     "x-acs-content-sha256:"
                     "69ad1359fa75699e8741d5bfb526a904072e73475c1b7c884d4b027b6d4577de\n"
                     "x-acs-date:2023-10-26T10:22:32Z\n"
                     "x-acs-security-token:STS.tok+en/=\n"
                     "x-acs-signature-nonce:n-1\n"
                     "x-acs-version:2017-06-13\n"
                     "\n"
                     "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;"
                     "x-acs-security-token;x-acs-signature-nonce;x-acs-version\n"
                     "69ad1359fa75699e8741d5bfb526a904072e73475c1b7c884d4b027b6d4577de");
    cr_assert_str_eq(o.sts, "ACS3-HMAC-SHA256\n"
                            "fa6cf7e66742a7baedfc9b53282e25254fc50789b76ef1b8102cb9e9f40d4517");
    cr_assert_str_eq(o.sig, "6ad3e914251ec008c70f5588efb4850b3c5ec1657fcd46ab8c463d8ef3510c0c");
    cr_assert(starts_with(o.headers, "content-type: application/json\nhost: "), "%s", o.headers);
    cr_assert_not_null(strstr(o.headers, "\nx-acs-security-token: STS.tok+en/=\n"));
}

Test(sign, v2_rpc_with_token_utf8_and_json_values_matches_reference)
{
    static const struct prov_sign_kv q[] = {
        {"Format", "JSON"},
        {"RegionId", "cn-hangzhou"},
        {"LoadBalancerName", "relay \xe4\xb8\xad\xe6\x96\x87 *~/"},
        {"ZoneMappings.1.VSwitchId", "vsw-1"},
        {"Tag.1.Key", "owner"},
        {"BackendServers", "[{\"ServerId\":\"i-1\",\"Weight\":\"100\"}]"},
    };
    static const struct prov_sign_credentials cred = {"AKID", "S3cr3t-rpc", "STS.tok+en/="};
    struct prov_sign_request r = {
        .method = "POST",
        .action = "CreateLoadBalancer",
        .version = "2022-04-30",
        .query = q,
        .query_count = sizeof(q) / sizeof(q[0]),
        .timestamp_unix_s = T_2023_10_26_102232,
        .nonce = "n-2",
    };
    struct outs o;

    outs_init(&o);
    cr_assert_eq(prov_sign_v2_rpc(&r, &cred, &o.out), 0, "%s", o.out.error);
    cr_assert_str_eq(
        o.canonical,
        "AccessKeyId=AKID&Action=CreateLoadBalancer&BackendServers=%5B%7B%22ServerId%22%3A%22i-1"
        "%22%2C%22Weight%22%3A%22100%22%7D%5D&Format=JSON&LoadBalancerName=relay%20%E4%B8%AD%E6"
        "%96%87%20%2A~%2F&RegionId=cn-hangzhou&SecurityToken=STS.tok%2Ben%2F%3D&SignatureMethod="
        "HMAC-SHA1&SignatureNonce=n-2&SignatureVersion=1.0&Tag.1.Key=owner&Timestamp=2023-10-26T1"
        "0%3A22%3A32Z&Version=2022-04-30&ZoneMappings.1.VSwitchId=vsw-1");
    cr_assert_str_eq(
        o.sts,
        "POST&%2F&AccessKeyId%3DAKID%26Action%3DCreateLoadBalancer%26BackendServers%3D%255B%257B%25"
        "22ServerId%2522%253A%2522i-1%2522%252C%2522Weight%2522%253A%2522100%2522%257D%255D%26Forma"
        "t%3DJSON%26LoadBalancerName%3Drelay%2520%25E4%25B8%25AD%25E6%2596%2587%2520%252A~%252F%26R"
        "egionId%3Dcn-hangzhou%26SecurityToken%3DSTS.tok%252Ben%252F%253D%26SignatureMethod%3DHMAC-"
        "SHA1%26SignatureNonce%3Dn-2%26SignatureVersion%3D1.0%26Tag.1.Key%3Downer%26Timestamp%3D202"
        "3-10-26T10%253A22%253A32Z%26Version%3D2022-04-30%26ZoneMappings.1.VSwitchId%3Dvsw-1");
    cr_assert_str_eq(o.sig, "Puar2xxec/VIdCDB1GzZ57oiP0Q=");
    cr_assert_not_null(strstr(o.query, "&Signature=Puar2xxec%2FVIdCDB1GzZ57oiP0Q%3D"));
    cr_assert_str_eq(o.headers, ""); /* no host given, no extra headers, no Authorization */
}

static const struct prov_sign_kv ROA_QUERY[] = {
    {"dryRun", "false"}, {"empty", ""}, {"ClientToken", "tok 1/\xc3\xa9"}};
static const struct prov_sign_kv ROA_HEADERS[] = {{"content-type", "application/json"}};
static const char ROA_BODY[] = "{\"serviceId\":\"epsrv-1\",\"zoneId\":\"cn-hangzhou-i\"}";

static struct prov_sign_request roa_request(void)
{
    struct prov_sign_request r = {
        .method = "POST",
        .host = "elasticsearch.cn-hangzhou.aliyuncs.com",
        .path = "/openapi/instances/es-cn-abc/vpc-endpoints",
        .action = "CreateVpcEndpoint",
        .version = "2017-06-13",
        .query = ROA_QUERY,
        .query_count = 3,
        .headers = ROA_HEADERS,
        .header_count = 1,
        .body = (const uint8_t *)ROA_BODY,
        .body_bytes = sizeof(ROA_BODY) - 1,
        .timestamp_unix_s = T_2023_10_26_102232,
        .nonce = "n-3",
    };
    return r;
}

static const struct prov_sign_credentials STS_ROA = {"AKID", "S3cr3t-roa", "STS.tok+en/="};

Test(sign, v2_roa_string_to_sign_matches_the_sdk_layout_reference)
{
    struct prov_sign_request r = roa_request();
    struct outs o;

    outs_init(&o);
    cr_assert_eq(prov_sign_v2_roa(&r, &STS_ROA, &o.out), 0, "%s", o.out.error);
    cr_assert_str_eq(o.canonical,
                     "/openapi/instances/es-cn-abc/vpc-endpoints?ClientToken=tok 1/\xc3\xa9"
                     "&dryRun=false&empty");
    cr_assert_str_eq(o.sts, "POST\n"
                            "application/json\n"
                            "Ze6y+VaWSLHC73kbhaZuPg==\n"
                            "application/json\n"
                            "Thu, 26 Oct 2023 10:22:32 GMT\n"
                            "x-acs-accesskey-id:AKID\n"
                            "x-acs-action:CreateVpcEndpoint\n"
                            "x-acs-security-token:STS.tok+en/=\n"
                            "x-acs-signature-method:HMAC-SHA1\n"
                            "x-acs-signature-nonce:n-3\n"
                            "x-acs-signature-version:1.0\n"
                            "x-acs-version:2017-06-13\n"
                            "/openapi/instances/es-cn-abc/vpc-endpoints?ClientToken=tok 1/\xc3\xa9"
                            "&dryRun=false&empty");
    cr_assert_str_eq(o.sig, "No7C8/EyeVtsbqJtrePojIhhmSg=");
    cr_assert_str_eq(o.auth, "acs AKID:No7C8/EyeVtsbqJtrePojIhhmSg=");
    /* on the wire the query is encoded even though the resource is not */
    cr_assert_str_eq(o.query, "ClientToken=tok%201%2F%C3%A9&dryRun=false&empty=");
    cr_assert_str_eq(o.headers, "accept: application/json\n"
                                "content-md5: Ze6y+VaWSLHC73kbhaZuPg==\n"
                                "content-type: application/json\n"
                                "date: Thu, 26 Oct 2023 10:22:32 GMT\n"
                                "host: elasticsearch.cn-hangzhou.aliyuncs.com\n"
                                "x-acs-accesskey-id: AKID\n"
                                "x-acs-action: CreateVpcEndpoint\n"
                                "x-acs-security-token: STS.tok+en/=\n"
                                "x-acs-signature-method: HMAC-SHA1\n"
                                "x-acs-signature-nonce: n-3\n"
                                "x-acs-signature-version: 1.0\n"
                                "x-acs-version: 2017-06-13\n"
                                "authorization: acs AKID:No7C8/EyeVtsbqJtrePojIhhmSg=\n");
}

Test(sign, v2_roa_without_body_or_query_keeps_the_empty_positional_lines)
{
    static const struct prov_sign_credentials cred = {"AKID", "S3cr3t-roa", NULL};
    struct prov_sign_request r = roa_request();
    struct outs o;

    outs_init(&o);
    r.method = "GET";
    r.path = "/openapi/instances/es-cn-abc";
    r.action = NULL;
    r.query_count = 0;
    r.header_count = 0;
    r.body = NULL;
    r.body_bytes = 0;
    cr_assert_eq(prov_sign_v2_roa(&r, &cred, &o.out), 0, "%s", o.out.error);
    cr_assert_str_eq(o.sts, "GET\napplication/json\n\n\nThu, 26 Oct 2023 10:22:32 GMT\n"
                            "x-acs-signature-method:HMAC-SHA1\n"
                            "x-acs-signature-nonce:n-3\n"
                            "x-acs-signature-version:1.0\n"
                            "x-acs-version:2017-06-13\n"
                            "/openapi/instances/es-cn-abc");
    cr_assert_null(strstr(o.headers, "content-md5"));
    cr_assert_null(strstr(o.headers, "x-acs-accesskey-id")); /* only with a token */
    cr_assert_null(strstr(o.headers, "x-acs-action"));
}

Test(sign, v2_roa_keeps_a_caller_accept_header)
{
    static const struct prov_sign_kv h[] = {{"Accept", "text/plain"}};
    struct prov_sign_request r = roa_request();
    struct outs o;

    outs_init(&o);
    r.headers = h;
    cr_assert_eq(prov_sign_v2_roa(&r, &STS_ROA, &o.out), 0, "%s", o.out.error);
    cr_assert(starts_with(o.sts, "POST\ntext/plain\n"), "%s", o.sts);
    cr_assert_null(strstr(o.headers, "application/json"));
}

/* ---- dates ----------------------------------------------------------------------------------- */

Test(sign, dates_are_formatted_in_utc_and_english)
{
    char d[PROV_SIGN_DATE_BYTES];

    cr_assert_eq(prov_sign_format_iso8601(T_2023_10_26_102232, d, sizeof(d)), 0);
    cr_assert_str_eq(d, "2023-10-26T10:22:32Z");
    cr_assert_eq(prov_sign_format_rfc1123(T_2023_10_26_102232, d, sizeof(d)), 0);
    cr_assert_str_eq(d, "Thu, 26 Oct 2023 10:22:32 GMT");
    cr_assert_eq(prov_sign_format_rfc1123(0, d, sizeof(d)), 0);
    cr_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    cr_assert_eq(prov_sign_format_iso8601(-1, d, sizeof(d)), -1);
    cr_assert_str_eq(d, "");
    cr_assert_eq(prov_sign_format_iso8601(INT64_C(253402300800), d, sizeof(d)), -1);
    cr_assert_eq(prov_sign_format_iso8601(T_2023_10_26_102232, d, 20), -1); /* needs 21 */
    cr_assert_str_eq(d, "");
}

/* ---- secrets, buffers and bad input ---------------------------------------------------------- */

#define SECRET "Zq9SecretNeverShown"

static void assert_secret_absent(const struct outs *o)
{
    const char *t[7];

    outs_texts(o, t);
    for (int i = 0; i < 7; i++) {
        cr_assert_null(strstr(t[i], SECRET), "secret in output %d: %s", i, t[i]);
        cr_assert_null(strstr(t[i], "Zq9Secret"), "secret prefix in output %d", i);
    }
    if (o->out.error != NULL)
        cr_assert_null(strstr(o->out.error, "Zq9Secret"));
}

Test(sign, the_secret_never_appears_in_any_output_of_any_style)
{
    static const struct prov_sign_credentials cred = {"AKID", SECRET, "STS.token"};
    struct prov_sign_request r3 = v3a_request(), r2 = v2a_request(), ra = roa_request();
    struct outs o;

    for (int style = 0; style < 3; style++) {
        struct prov_sign_request *r = style == 0 ? &r3 : style == 1 ? &r2 : &ra;
        outs_init(&o);
        cr_assert_eq(prov_sign_request((enum prov_sign_style)style, r, &cred, &o.out), 0);
        assert_secret_absent(&o);
        outs_init(&o);
        o.out.string_to_sign.size = 3; /* a failing call leaks nothing either */
        cr_assert_eq(prov_sign_request((enum prov_sign_style)style, r, &cred, &o.out), -1);
        assert_secret_absent(&o);
    }
}

/* Shrinks each output in turn to one byte short: -1, every output "", a reason. */
static void check_every_output_refuses_one_byte_short(enum prov_sign_style style,
                                                      const struct prov_sign_request *r,
                                                      const struct prov_sign_credentials *c)
{
    struct outs o;
    const char *t[7];
    size_t need[7];

    outs_init(&o);
    cr_assert_eq(prov_sign_request(style, r, c, &o.out), 0);
    outs_texts(&o, t);
    for (int i = 0; i < 7; i++)
        need[i] = strlen(t[i]) + 1;
    for (int i = 0; i < 7; i++) {
        struct prov_sign_buf *b[7];
        outs_init(&o);
        b[0] = &o.out.headers, b[1] = &o.out.path, b[2] = &o.out.query;
        b[3] = &o.out.authorization, b[4] = &o.out.signature, b[5] = &o.out.canonical;
        b[6] = &o.out.string_to_sign;
        b[i]->size = need[i] - 1;
        cr_assert_eq(prov_sign_request(style, r, c, &o.out), -1, "style %d output %d", style, i);
        cr_assert_not_null(o.out.error);
        outs_texts(&o, t);
        for (int k = 0; k < 7; k++)
            if (need[k] > 1 || k != i) /* a zero-size buffer cannot even hold "" */
                cr_assert_str_eq(t[k], "", "style %d output %d after shrinking %d", style, k, i);
        b[i]->size = need[i];
        cr_assert_eq(prov_sign_request(style, r, c, &o.out), 0, "style %d output %d", style, i);
        cr_assert_null(o.out.error);
    }
}

Test(sign, a_buffer_one_byte_too_small_fails_cleanly_for_every_output)
{
    struct prov_sign_request r3 = v3a_request(), r2 = v2a_request(), ra = roa_request();

    check_every_output_refuses_one_byte_short(PROV_SIGN_V3, &r3, &V3A_CRED);
    check_every_output_refuses_one_byte_short(PROV_SIGN_V2_RPC, &r2, &V2A_CRED);
    check_every_output_refuses_one_byte_short(PROV_SIGN_V2_ROA, &ra, &STS_ROA);
}

Test(sign, outputs_are_optional_and_signing_is_deterministic)
{
    struct prov_sign_request r = v3a_request();
    struct prov_sign_out out = {0};
    char sig[PROV_SIGN_SHA256_HEX_BYTES];

    out.signature = (struct prov_sign_buf){sig, sizeof(sig)};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &out), 0);
        cr_assert_str_eq(sig, V3A_SIG);
    }
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, NULL), -1);
}

Test(sign, header_injection_and_signer_owned_headers_are_refused)
{
    static const struct prov_sign_kv crlf[] = {{"x-acs-foo", "a\r\nx-evil: 1"}};
    static const struct prov_sign_kv owned[] = {{"X-Acs-Date", "2000-01-01T00:00:00Z"}};
    static const struct prov_sign_kv authz[] = {{"Authorization", "acs x:y"}};
    static const struct prov_sign_kv dup[] = {{"x-acs-foo", "1"}, {"X-ACS-FOO", "2"}};
    static const struct prov_sign_kv badname[] = {{"x acs", "1"}};
    const struct prov_sign_kv *cases[] = {crlf, owned, authz, dup, badname};
    const size_t counts[] = {1, 1, 1, 2, 1};
    struct outs o;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct prov_sign_request r = v3a_request();
        r.headers = cases[i];
        r.header_count = counts[i];
        outs_init(&o);
        cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), -1, "case %zu", i);
        cr_assert_not_null(o.out.error);
        cr_assert_str_eq(o.headers, "");
    }
}

Test(sign, extra_x_acs_headers_are_signed_and_others_are_only_sent)
{
    static const struct prov_sign_kv h[] = {{"X-Acs-Resource-Group", "rg-1"}, {"User-Agent", "t"}};
    struct prov_sign_request r = v3a_request();
    struct outs o;

    outs_init(&o);
    r.headers = h;
    r.header_count = 2;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), 0, "%s", o.out.error);
    cr_assert_not_null(strstr(o.canonical, "\nx-acs-resource-group:rg-1\n"));
    cr_assert_null(strstr(o.canonical, "user-agent"));
    cr_assert_not_null(strstr(o.auth, "x-acs-date;x-acs-resource-group;x-acs-signature-nonce"));
    cr_assert_not_null(strstr(o.headers, "\nuser-agent: t\n"));
}

Test(sign, missing_or_malformed_inputs_are_refused)
{
    static const struct prov_sign_credentials no_secret = {"AKID", "", NULL};
    static const struct prov_sign_credentials bad_id = {"AK:ID", "s", NULL};
    struct prov_sign_request r;
    struct outs o;

    outs_init(&o);
    cr_assert_eq(prov_sign_v3(NULL, &V3A_CRED, &o.out), -1);
    r = v3a_request();
    cr_assert_eq(prov_sign_v3(&r, NULL, &o.out), -1);
    cr_assert_eq(prov_sign_v3(&r, &no_secret, &o.out), -1);
    cr_assert_eq(prov_sign_v3(&r, &bad_id, &o.out), -1);
    r.method = "post";
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), -1);
    r = v3a_request();
    r.nonce = "";
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), -1);
    r = v3a_request();
    r.host = NULL;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), -1);
    r = v3a_request();
    r.action = NULL;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), -1);
    r = v3a_request();
    r.timestamp_unix_s = -5;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), -1);
    r = v3a_request();
    r.path = "no-slash";
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), -1);
    r = v3a_request();
    r.query_count = PROV_SIGN_MAX_PARAMS + 1;
    cr_assert_eq(prov_sign_v3(&r, &V3A_CRED, &o.out), -1);
    cr_assert_not_null(o.out.error);
}
