/*
 * apiclient_build — turns a struct prov_api_call into one signed HTTP request, and renders it as
 * dry-run text (include/plprov/apiclient.h).
 *
 * The request side of the three wire forms: RPC parameters in the query string (SLB, PrivateLink)
 * or in a form body (NLB; hashed by V3, or carrying the Signature for V2 RPC), ROA method + path +
 * query + JSON body (Elasticsearch). Signing is plprov/sign.h's job; this file sizes its output
 * buffers, assembles URL and header lines from them and adds the User-Agent. A built request holds
 * the Authorization value and the security token, so every buffer is cleansed before it is freed.
 * The dry-run renderer redacts by header and parameter name, then by the token's value.
 */
#include "apiclient_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- building one request ---------------------------------------------------------------- */

void prov_api_built_free(struct prov_api_built *b)
{
    prov_api_wipe_free(b->url, b->url ? strlen(b->url) : 0);
    prov_api_wipe_free(b->sig_headers, b->sig_headers_size);
    prov_api_wipe_free(b->query, b->query_size);
    prov_api_wipe_free(b->path, b->path_size);
    prov_api_wipe_free(b->body, b->body_size);
    free(b->params);
    OPENSSL_cleanse(b, sizeof(*b));
}

int prov_api_check_call(const struct prov_apiclient *c, const struct prov_api_call *call, char *err,
                        size_t err_size)
{
    const char *a = call != NULL ? call->action : NULL;
    int roa;

    if (call == NULL || (unsigned)call->product >= PROV_API_PRODUCT_COUNT || a == NULL ||
        a[0] == '\0' || strlen(a) > 128 || strpbrk(a, " \t\r\n/?&=") != NULL) {
        prov_api_errf(err, err_size, "API call: a known product and an action name are required");
        return -1;
    }
    roa = prov_api_product_is_roa(call->product);
    if (roa && (call->method == NULL || call->path == NULL || call->path[0] != '/')) {
        prov_api_errf(err, err_size,
                      "%s (%s): a REST call needs a method and a path starting with /", a,
                      prov_api_product_name(call->product));
        return -1;
    }
    if (!roa && ((call->method != NULL && strcmp(call->method, "POST") != 0) ||
                 (call->path != NULL && strcmp(call->path, "/") != 0) || call->body_json)) {
        prov_api_errf(err, err_size,
                      "%s (%s): an RPC call takes parameters only (no method/path/body)", a,
                      prov_api_product_name(call->product));
        return -1;
    }
    if (call->param_count > PROV_API_MAX_PARAMS || (call->param_count > 0 && !call->params) ||
        (call->body_json != NULL && strlen(call->body_json) > PROV_API_MAX_BODY)) {
        prov_api_errf(err, err_size, "%s (%s): too many parameters or body too large", a,
                      prov_api_product_name(call->product));
        return -1;
    }
    if (c->creds == NULL) {
        prov_api_errf(err, err_size, "%s (%s): no credentials", a,
                      prov_api_product_name(call->product));
        return -1;
    }
    return 0;
}

/* The call's parameters, plus Format=JSON for V2 RPC when the caller did not set it. */
static int collect_params(struct prov_api_built *b, const struct prov_api_call *call, int v2rpc)
{
    int has_format = 0;

    b->params = calloc(call->param_count + 1, sizeof(*b->params));
    if (b->params == NULL)
        return -1;
    for (size_t i = 0; i < call->param_count; i++) {
        b->params[b->nparams++] = call->params[i];
        if (call->params[i].name != NULL && strcmp(call->params[i].name, "Format") == 0)
            has_format = 1;
    }
    if (v2rpc && !has_format)
        b->params[b->nparams++] = (struct prov_sign_kv){"Format", "JSON"};
    return 0;
}

static size_t params_bytes(const struct prov_api_built *b)
{
    size_t n = 0;

    for (size_t i = 0; i < b->nparams; i++)
        n += (b->params[i].name ? strlen(b->params[i].name) : 0) +
             (b->params[i].value ? strlen(b->params[i].value) : 0) + 2;
    return n;
}

/* "k=v&k=v", percent-encoded, into b->body (the V3 form body of NLB). */
static int form_body(struct prov_api_built *b)
{
    size_t cap = 3 * params_bytes(b) + 1, len = 0;

    if (cap > PROV_API_MAX_BODY)
        return -1;
    b->body = malloc(cap);
    if (b->body == NULL)
        return -1;
    b->body_size = cap;
    b->body[0] = '\0';
    for (size_t i = 0; i < b->nparams; i++) {
        const char *k = b->params[i].name, *v = b->params[i].value ? b->params[i].value : "";

        if (k == NULL)
            return -1;
        if (i > 0)
            b->body[len++] = '&';
        if (prov_sign_percent_encode(k, strlen(k), b->body + len, cap - len) != 0)
            return -1;
        len += strlen(b->body + len);
        b->body[len++] = '=';
        if (prov_sign_percent_encode(v, strlen(v), b->body + len, cap - len) != 0)
            return -1;
        len += strlen(b->body + len);
    }
    b->body_bytes = len;
    return 0;
}

static int alloc_outputs(struct prov_api_built *b, const struct prov_apiclient *c,
                         const struct prov_api_call *call)
{
    const char *tok = prov_api_token(c);
    size_t fixed = strlen(c->creds->access_key_id) + (tok ? strlen(tok) : 0) +
                   strlen(call->action) + HOST_BYTES + 1024;

    b->query_size = 3 * (params_bytes(b) + fixed) + 1;
    b->sig_headers_size = 2 * fixed + 1024;
    b->path_size = 3 * (call->path ? strlen(call->path) : 1) + 2;
    b->query = malloc(b->query_size);
    b->sig_headers = malloc(b->sig_headers_size);
    b->path = malloc(b->path_size);
    return b->query && b->sig_headers && b->path ? 0 : -1;
}

/* Splits the signer's header block into lines and adds the User-Agent line. */
static int header_lines(struct prov_api_built *b, const char *user_agent)
{
    char *p = b->sig_headers, *nl;

    b->nlines = 0;
    while (*p != '\0' && (nl = strchr(p, '\n')) != NULL) {
        *nl = '\0';
        if (b->nlines + 1 >= PROV_HTTP_MAX_HEADERS)
            return -1;
        b->lines[b->nlines++] = p;
        p = nl + 1;
    }
    snprintf(b->ua_line, sizeof(b->ua_line), "User-Agent: %s", user_agent);
    b->lines[b->nlines++] = b->ua_line;
    return 0;
}

static int make_url(struct prov_api_built *b, const struct prov_apiclient *c,
                    enum prov_api_product p)
{
    size_t n = strlen(c->base[p]) + strlen(b->path) + strlen(b->query) + 2;

    b->url = malloc(n);
    if (b->url == NULL)
        return -1;
    snprintf(b->url, n, "%s%s%s%s", c->base[p], b->path, b->query[0] ? "?" : "", b->query);
    return 0;
}

/* Where the parameters travel: the query (SLB, PrivateLink, ROA), a form body hashed by V3 (NLB),
 * or a form body that V2 RPC fills with the signed string after signing. Sets req's query, extra
 * header (content-type) and body. 0, or -1 when out of memory or the body is too large. */
static int place_params(struct prov_api_built *b, const struct prov_api_call *call, int form,
                        int v2rpc, struct prov_sign_kv *extra, struct prov_sign_request *req)
{
    req->query = b->params;
    req->query_count = b->nparams;
    if (form) {
        if (!v2rpc && form_body(b) != 0)
            return -1;
        if (!v2rpc)
            req->query_count = 0;
        *extra = (struct prov_sign_kv){"content-type", "application/x-www-form-urlencoded"};
    } else if (call->body_json != NULL) {
        b->body_size = strlen(call->body_json) + 1;
        b->body = malloc(b->body_size);
        if (b->body == NULL)
            return -1;
        memcpy(b->body, call->body_json, b->body_size);
        b->body_bytes = b->body_size - 1;
        *extra = (struct prov_sign_kv){"content-type", "application/json"};
    } else {
        return 0;
    }
    req->headers = extra;
    req->header_count = 1;
    req->body = (const uint8_t *)b->body;
    req->body_bytes = b->body_bytes;
    return 0;
}

/* V2 RPC with a form body: the signed parameter string becomes the body, the URL has no query. */
static int query_to_body(struct prov_api_built *b)
{
    char *empty = calloc(1, 1);

    if (empty == NULL)
        return -1;
    b->body = b->query;
    b->body_size = b->query_size;
    b->body_bytes = strlen(b->query);
    b->query = empty;
    b->query_size = 1;
    return 0;
}

/* Builds and signs one attempt (contract in apiclient_int.h). */
int prov_api_build(struct prov_apiclient *c, const struct prov_api_call *call,
                   struct prov_api_built *b, char *err, size_t err_size)
{
    enum prov_api_product p = call->product;
    enum prov_sign_style style = c->style[p];
    int roa = prov_api_product_is_roa(p), form = !roa && prov_api_product_form_body(p);
    int v2rpc = style == PROV_SIGN_V2_RPC;
    struct prov_sign_kv extra;
    struct prov_sign_request req = {0};
    struct prov_sign_credentials cred;
    struct prov_sign_out out = {0};
    unsigned char rnd[16];
    char nonce[NONCE_HEX_BYTES];
    const char *verb = "build", *what = "out of memory or body too large";

    memset(b, 0, sizeof(*b));
    if (c->opt.hooks.random(c->opt.hooks.ctx, rnd, sizeof(rnd)) != 0) {
        what = "no random bytes for the nonce";
        goto fail;
    }
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
    if (collect_params(b, call, v2rpc) != 0 || alloc_outputs(b, c, call) != 0 ||
        place_params(b, call, form, v2rpc, &extra, &req) != 0)
        goto fail;
    req.method = roa ? call->method : "POST";
    req.host = c->host[p];
    req.path = roa ? call->path : "/";
    req.action = call->action;
    req.version = prov_api_product_version(p);
    req.timestamp_unix_s = c->opt.hooks.unix_s(c->opt.hooks.ctx);
    req.nonce = nonce;
    out.headers = (struct prov_sign_buf){b->sig_headers, b->sig_headers_size};
    out.query = (struct prov_sign_buf){b->query, b->query_size};
    out.path = (struct prov_sign_buf){b->path, b->path_size};
    prov_creds_sign_view(c->creds, &cred);
    if (prov_sign_request(style, &req, &cred, &out) != 0) {
        verb = "sign";
        what = out.error ? out.error : "unknown reason";
        goto fail;
    }
    b->method = req.method;
    if ((form && v2rpc && query_to_body(b) != 0) || make_url(b, c, p) != 0 ||
        header_lines(b, c->user_agent) != 0) {
        what = "too many headers or out of memory";
        goto fail;
    }
    return 0;
fail:
    prov_api_errf(err, err_size, "%s (%s): cannot %s the request: %s", call->action,
                  prov_api_product_name(p), verb, what);
    prov_api_built_free(b);
    return -1;
}

/* ---- dry run ----------------------------------------------------------------------------- */

/* Appends "k=v&k=v" with the values of Signature and SecurityToken replaced. */
static void append_params_redacted(char *dst, size_t size, const char *params)
{
    const char *p = params;
    size_t len = strlen(dst);

    while (*p != '\0' && len + 1 < size) {
        const char *amp = strchr(p, '&'), *eq;
        size_t n = amp ? (size_t)(amp - p) : strlen(p);

        eq = memchr(p, '=', n);
        if (eq != NULL && ((eq - p == 9 && strncmp(p, "Signature", 9) == 0) ||
                           (eq - p == 13 && strncmp(p, "SecurityToken", 13) == 0)))
            len += (size_t)snprintf(dst + len, size - len, "%.*s=%s", (int)(eq - p), p,
                                    PROV_API_REDACTED);
        else
            len += (size_t)snprintf(dst + len, size - len, "%.*s", (int)n, p);
        if (len >= size)
            return;
        if (amp == NULL)
            break;
        len += (size_t)snprintf(dst + len, size - len, "&");
        p = amp + 1;
    }
}

static int secret_header(const char *line)
{
    return strncasecmp(line, "authorization:", 14) == 0 ||
           strncasecmp(line, "x-acs-security-token:", 21) == 0;
}

char *prov_api_render(const struct prov_apiclient *c, const struct prov_api_built *b, int form)
{
    size_t size = strlen(b->url) + b->body_bytes + 256, len;
    const char *q = strchr(b->url, '?');
    char *t;

    for (size_t i = 0; i < b->nlines; i++)
        size += strlen(b->lines[i]) + 2;
    t = malloc(size);
    if (t == NULL)
        return NULL;
    snprintf(t, size, "%s %.*s", b->method, (int)(q ? (size_t)(q - b->url) : strlen(b->url)),
             b->url);
    if (q != NULL) {
        len = strlen(t);
        snprintf(t + len, size - len, "?");
        append_params_redacted(t, size, q + 1);
    }
    for (size_t i = 0; i < b->nlines; i++) {
        const char *colon = strchr(b->lines[i], ':');

        len = strlen(t);
        if (secret_header(b->lines[i]) && colon != NULL)
            snprintf(t + len, size - len, "\n%.*s: %s", (int)(colon - b->lines[i]), b->lines[i],
                     PROV_API_REDACTED);
        else
            snprintf(t + len, size - len, "\n%s", b->lines[i]);
    }
    len = strlen(t);
    snprintf(t + len, size - len, "\n\n");
    if (b->body_bytes > 0 && form)
        append_params_redacted(t, size, b->body);
    else if (b->body_bytes > 0) {
        len = strlen(t);
        snprintf(t + len, size - len, "%s", b->body);
    }
    prov_api_redact(t, size, prov_api_token(c));
    return t;
}
