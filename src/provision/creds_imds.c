/*
 * creds_imds — the ECS RAM role source of the credential chain: the instance metadata service
 * (include/plprov/creds.h, docs/alicloud-api.md §3 step 5).
 *
 * Three small requests, each with the short metadata timeouts and never through a proxy: an IMDSv2
 * token (PUT), the role name when none was given (GET .../security-credentials/), the role's STS
 * credentials (GET .../security-credentials/<role>). Being unreachable means "not an ECS instance"
 * and passes (a note says so); an answer that is malformed is an error. The token and every body
 * are cleansed before release. The document parser is pure and exported for the tests.
 */
#include "plprov/creds.h"
#include "creds_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define IMDS_TOKEN_PATH "/latest/api/token"
#define IMDS_ROLE_PATH "/latest/meta-data/ram/security-credentials/"
#define IMDS_TOKEN_TTL_HEADER "X-aliyun-ecs-metadata-token-ttl-seconds: 21600"
#define IMDS_TOKEN_HEADER "X-aliyun-ecs-metadata-token: "
#define IMDS_TOKEN_BYTES 1024
#define URL_BYTES 1024

/* ---- time ---------------------------------------------------------------------------------- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int prov_creds_parse_iso8601(const char *s, int64_t *out_unix_s)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se;
    int64_t yy, era, yoe, doy, doe, days;

    if (s == NULL || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return -1;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return -1;
    /* days from civil (H. Hinnant), proleptic Gregorian */
    yy = mo <= 2 ? y - 1 : y;
    era = yy / 400;
    yoe = yy - era * 400;
    doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;
    *out_unix_s = days * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

/* ---- metadata service ------------------------------------------------------------------------ */

int prov_creds_parse_metadata(const char *json, size_t len, struct prov_creds *out, char *err,
                              size_t err_size)
{
    const char *where = "metadata service credentials";
    const char *code, *exp;
    json_t *root = NULL;
    struct prov_creds c;
    int rc = -1;

    prov_creds_init(&c);
    root = prov_creds_load_json(json, len, where, err, err_size);
    if (root == NULL)
        goto cleanup;
    code = prov_creds_jstr(root, "Code");
    if (code == NULL || strcmp(code, "Success") != 0) {
        prov_creds_err(err, err_size, "%s: Code is '%.64s', not 'Success'", where,
                       code != NULL && prov_creds_visible(code, NULL) ? code : "?");
        goto cleanup;
    }
    exp = prov_creds_jstr(root, "Expiration");
    if (prov_creds_put(c.access_key_id, sizeof(c.access_key_id),
                       prov_creds_jstr(root, "AccessKeyId"), "AccessKeyId", where, err,
                       err_size) != 0 ||
        prov_creds_put(c.access_key_secret, sizeof(c.access_key_secret),
                       prov_creds_jstr(root, "AccessKeySecret"), "AccessKeySecret", where, err,
                       err_size) != 0 ||
        prov_creds_put(c.security_token, sizeof(c.security_token),
                       prov_creds_jstr(root, "SecurityToken"), "SecurityToken", where, err,
                       err_size) != 0)
        goto cleanup;
    if (prov_creds_parse_iso8601(exp, &c.expiration_unix_s) != 0) {
        prov_creds_err(err, err_size, "%s: Expiration is missing or not yyyy-mm-ddThh:mm:ssZ",
                       where);
        goto cleanup;
    }
    c.source = PROV_CREDS_SOURCE_ECS_RAM_ROLE;
    memcpy(out, &c, sizeof(c));
    rc = 0;
cleanup:
    prov_creds_json_drop(root);
    prov_creds_cleanup(&c);
    return rc;
}

/* One metadata request; the caller owns and cleans resp. */
static int imds_get(const struct prov_creds_chain *ch, const char *method, const char *url,
                    const char *const *headers, size_t nheaders, struct prov_http_response *resp)
{
    struct prov_http_request req = {0};
    prov_http_transport_fn fn = ch->opt->transport ? ch->opt->transport : prov_http_curl_transport;

    req.method = method;
    req.url = url;
    req.headers = headers;
    req.header_count = nheaders;
    req.connect_timeout_ms = ch->opt->metadata_connect_ms > 0
                                 ? ch->opt->metadata_connect_ms
                                 : PROV_CREDS_DEFAULT_METADATA_CONNECT_MS;
    req.timeout_ms = ch->opt->metadata_timeout_ms > 0 ? ch->opt->metadata_timeout_ms
                                                      : PROV_CREDS_DEFAULT_METADATA_TIMEOUT_MS;
    req.max_response_bytes = PROV_CREDS_MAX_METADATA_BYTES;
    req.no_proxy = 1; /* the metadata service is link-local: never through a proxy */
    prov_http_response_init(resp);
    return fn(ch->opt->transport ? ch->opt->transport_ctx : NULL, &req, resp);
}

/* First line of a text body, trimmed, into out. 0, or -1 when empty or too long. */
static int first_line(const struct prov_http_response *r, char *out, size_t size)
{
    size_t start = 0, end;

    if (r->body == NULL)
        return -1;
    while (start < r->body_bytes && (r->body[start] == ' ' || r->body[start] == '\t' ||
                                     r->body[start] == '\r' || r->body[start] == '\n'))
        start++;
    end = start;
    while (end < r->body_bytes && r->body[end] != '\r' && r->body[end] != '\n')
        end++;
    while (end > start && (r->body[end - 1] == ' ' || r->body[end - 1] == '\t'))
        end--;
    if (end == start || end - start >= size)
        return -1;
    memcpy(out, r->body + start, end - start);
    out[end - start] = '\0';
    return 0;
}

/* Asks for an IMDSv2 token. 1 got one, 0 refused (fall back to the plain form), -1 unreachable. */
static int imds_token(struct prov_creds_chain *ch, const char *base, char *token, size_t size)
{
    const char *hdr[] = {IMDS_TOKEN_TTL_HEADER};
    struct prov_http_response r;
    char url[URL_BYTES];
    int rc;

    snprintf(url, sizeof(url), "%s%s", base, IMDS_TOKEN_PATH);
    if (imds_get(ch, "PUT", url, hdr, 1, &r) != 0) {
        prov_creds_note(ch, "ECS metadata %s: %s", base, r.error);
        prov_http_response_cleanup(&r);
        return -1;
    }
    rc = r.status == 200 && first_line(&r, token, size) == 0 && prov_creds_visible(token, NULL) ? 1
                                                                                                : 0;
    prov_http_response_cleanup(&r);
    if (rc == 0)
        OPENSSL_cleanse(token, size);
    return rc;
}

/* Discovers the role name. 1 found, 0 no role attached (a note says so), -1 error. */
static int imds_role(struct prov_creds_chain *ch, const char *base, const char *const *hdr,
                     size_t nhdr, char *role, size_t size, char *err, size_t err_size)
{
    struct prov_http_response r;
    char url[URL_BYTES];
    int rc = -1;

    snprintf(url, sizeof(url), "%s%s", base, IMDS_ROLE_PATH);
    if (imds_get(ch, "GET", url, hdr, nhdr, &r) != 0) {
        prov_creds_note(ch, "ECS metadata %s: %s", base, r.error);
        rc = 0;
    } else if (r.status == 404) {
        prov_creds_note(ch, "ECS metadata %s: no RAM role is attached to this instance", base);
        rc = 0;
    } else if (r.status != 200) {
        prov_creds_err(err, err_size, "ECS metadata %s: HTTP %ld while listing RAM roles", base,
                       r.status);
    } else if (first_line(&r, role, size) != 0 || !prov_creds_visible(role, "/?#%")) {
        prov_creds_err(err, err_size, "ECS metadata %s: the RAM role name is empty or malformed",
                       base);
    } else {
        rc = 1;
    }
    prov_http_response_cleanup(&r);
    return rc;
}

static int imds_fetch(struct prov_creds_chain *ch, const char *base, const char *role,
                      const char *const *hdr, size_t nhdr, struct prov_creds *c, char *err,
                      size_t err_size)
{
    struct prov_http_response r;
    char url[URL_BYTES];
    int rc = -1;

    snprintf(url, sizeof(url), "%s%s%s", base, IMDS_ROLE_PATH, role);
    if (imds_get(ch, "GET", url, hdr, nhdr, &r) != 0)
        prov_creds_err(err, err_size, "ECS metadata %s: role '%s': %s", base, role, r.error);
    else if (r.status != 200)
        prov_creds_err(err, err_size, "ECS metadata %s: HTTP %ld for RAM role '%s'", base, r.status,
                       role);
    else
        rc = prov_creds_parse_metadata(r.body, r.body_bytes, c, err, err_size);
    prov_http_response_cleanup(&r);
    return rc;
}

/* 1 found, 0 absent (not on ECS, no role; only when !required), -1 error. */
int prov_creds_from_metadata(struct prov_creds_chain *ch, const char *role_hint, int required,
                             struct prov_creds *c, char *err, size_t err_size)
{
    char base[URL_BYTES], role[PROV_CREDS_ROLE_BYTES] = "", token[IMDS_TOKEN_BYTES];
    char token_hdr[IMDS_TOKEN_BYTES + sizeof(IMDS_TOKEN_HEADER)];
    const char *hdr[1] = {token_hdr};
    size_t nhdr = 0, n;
    int rc = -1, t;

    if (!required && prov_creds_env_true(ch, ENV_IMDS_OFF)) {
        prov_creds_note(ch, "ECS metadata: disabled by " ENV_IMDS_OFF);
        return 0;
    }
    snprintf(base, sizeof(base), "%s",
             ch->opt->metadata_url != NULL ? ch->opt->metadata_url
                                           : PROV_CREDS_DEFAULT_METADATA_URL);
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        base[--n] = '\0';
    if (role_hint == NULL)
        role_hint = prov_creds_env(ch, ENV_IMDS_ROLE);

    t = imds_token(ch, base, token, sizeof(token));
    if (t < 0) {
        rc = 0;
        goto cleanup;
    }
    if (t == 0 && prov_creds_env_true(ch, ENV_IMDSV1_OFF)) {
        prov_creds_err(err, err_size,
                       "ECS metadata %s: no IMDSv2 token was issued and " ENV_IMDSV1_OFF
                       " forbids the "
                       "plain form",
                       base);
        goto cleanup;
    }
    if (t == 1) {
        snprintf(token_hdr, sizeof(token_hdr), "%s%s", IMDS_TOKEN_HEADER, token);
        nhdr = 1;
    }
    if (role_hint != NULL) {
        if (prov_creds_put(role, sizeof(role), role_hint, "RAM role name", "ECS metadata", err,
                           err_size) != 0)
            goto cleanup;
    } else {
        rc = imds_role(ch, base, hdr, nhdr, role, sizeof(role), err, err_size);
        if (rc <= 0)
            goto cleanup;
        rc = -1;
    }
    if (imds_fetch(ch, base, role, hdr, nhdr, c, err, err_size) != 0)
        goto cleanup;
    snprintf(c->description, sizeof(c->description), "ECS RAM role '%s' from %.300s (%s)", role,
             base, t == 1 ? "IMDSv2 token" : "IMDSv1, no token");
    rc = 1;
cleanup:
    OPENSSL_cleanse(token, sizeof(token));
    OPENSSL_cleanse(token_hdr, sizeof(token_hdr));
    if (rc == 0 && required) {
        prov_creds_err(err, err_size, "the profile asks for the ECS RAM role but %s", ch->notes);
        rc = -1;
    }
    return rc;
}
