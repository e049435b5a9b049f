/*
 * sign — builds the canonical strings of the three Alibaba Cloud signature styles and signs them.
 *
 * Shaped as one "job" per call: the style-specific function collects headers and parameters into
 * fixed or bounded tables, renders every text into internal heap builders capped at
 * PROV_SIGN_MAX_TEXT_BYTES, and only at the end copies the results into the caller's buffers, so
 * a too-small buffer or bad input never leaves partial output behind. Internal buffers can hold the
 * security token, so they are cleansed before being freed; the secret itself is only ever handed
 * to HMAC (plus one cleansed stack copy for the V2 RPC "secret&" key). See include/plprov/sign.h.
 */
#if !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* strcasecmp */
#endif
#include "plprov/sign.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS (PROV_SIGN_MAX_EXTRA_HEADERS + 16)
#define SIGNER_PARAMS 8 /* parameters V2 RPC adds to the caller's */

/* ---- bounded string builder ------------------------------------------------------------------ */

struct sbuf {
    char *p;
    size_t len;
    size_t cap;
    const char *error; /* first failure, sticky */
};

static void sb_grow(struct sbuf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 256;
    char *p;

    while (cap < need)
        cap *= 2;
    p = malloc(cap);
    if (p == NULL) {
        b->error = "out of memory";
        return;
    }
    if (b->p != NULL) {
        memcpy(p, b->p, b->len + 1);
        OPENSSL_cleanse(b->p, b->cap);
        free(b->p);
    }
    b->p = p;
    b->cap = cap;
}

/* Room for n more bytes and a NUL; 0, or -1 with b->error set. */
static int sb_reserve(struct sbuf *b, size_t n)
{
    if (b->error == NULL && n > PROV_SIGN_MAX_TEXT_BYTES - b->len)
        b->error = "request text exceeds PROV_SIGN_MAX_TEXT_BYTES";
    if (b->error == NULL && b->len + n + 1 > b->cap)
        sb_grow(b, b->len + n + 1);
    return b->error == NULL ? 0 : -1;
}

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (sb_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_free(struct sbuf *b)
{
    if (b->p != NULL) {
        OPENSSL_cleanse(b->p, b->cap);
        free(b->p);
    }
    memset(b, 0, sizeof(*b));
}

/* The text so far, "" when nothing was added. */
static const char *sb_cstr(const struct sbuf *b)
{
    return b->p != NULL ? b->p : "";
}

/* Appends the API percent-encoding of s[0..in_len) ('/' encoded too). */
static void sb_pct_n(struct sbuf *b, const char *s, size_t in_len)
{
    size_t n = prov_sign_percent_encoded_len(s, in_len);

    if (sb_reserve(b, n) != 0)
        return;
    if (prov_sign_percent_encode(s, in_len, b->p + b->len, n + 1) != 0) {
        b->error = "percent-encoding failed";
        return;
    }
    b->len += n;
}

static void sb_pct(struct sbuf *b, const char *s)
{
    sb_pct_n(b, s, strlen(s));
}

/* ---- the signing job ------------------------------------------------------------------------- */

struct header {
    char name[PROV_SIGN_MAX_HEADER_NAME_BYTES]; /* lower-case */
    const char *value;                          /* borrowed, trimmed to value_len */
    size_t value_len;
};

struct param {
    const char *name;  /* raw, borrowed */
    const char *value; /* raw, borrowed, never NULL */
};

struct job {
    const struct prov_sign_request *req;
    const struct prov_sign_credentials *cred;
    struct header hdr[MAX_HEADERS];
    size_t nhdr;
    struct param *par;
    size_t npar;
    char date[PROV_SIGN_DATE_BYTES];
    char body_hash[PROV_SIGN_SHA256_HEX_BYTES];
    char sig[PROV_SIGN_SHA256_HEX_BYTES];
    struct sbuf path, query, canonical, sts, auth, headers;
    const char *error;
};

static int fail(struct job *j, const char *why)
{
    if (j->error == NULL)
        j->error = why;
    return -1;
}

static int visible_ascii(const char *s, size_t max_bytes, const char *forbidden)
{
    size_t n = 0;

    if (s == NULL || s[0] == '\0')
        return 0;
    for (; s[n] != '\0'; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c < 0x21 || c > 0x7e || strchr(forbidden, c) != NULL || n + 1 >= max_bytes)
            return 0;
    }
    return 1;
}

/* Checks shared by all styles. need_action: the style cannot sign without an action. */
static int check_common(struct job *j, int need_action)
{
    const struct prov_sign_request *r = j->req;
    const struct prov_sign_credentials *c = j->cred;
    size_t secret_len;

    if (r->method == NULL || r->method[0] == '\0' || strlen(r->method) > 16 ||
        strspn(r->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(r->method))
        return fail(j, "method must be an upper-case HTTP method");
    if (!visible_ascii(r->nonce, PROV_SIGN_MAX_NONCE_BYTES, ""))
        return fail(j, "nonce must be 1..127 bytes of visible ASCII");
    if (!visible_ascii(r->version, 64, ""))
        return fail(j, "version is required");
    if (need_action
            ? !visible_ascii(r->action, 128, "")
            : (r->action != NULL && r->action[0] != '\0' && !visible_ascii(r->action, 128, "")))
        return fail(j, "action is missing or not visible ASCII");
    if (r->host != NULL && (r->host[0] == '\0' || !visible_ascii(r->host, 256, "/")))
        return fail(j, "host is not a valid host[:port]");
    if (r->body == NULL && r->body_bytes > 0)
        return fail(j, "body is NULL but body_bytes is not 0");
    if (r->query_count > PROV_SIGN_MAX_PARAMS || (r->query == NULL && r->query_count > 0))
        return fail(j, "query is NULL or has more than PROV_SIGN_MAX_PARAMS parameters");
    if (r->header_count > PROV_SIGN_MAX_EXTRA_HEADERS ||
        (r->headers == NULL && r->header_count > 0))
        return fail(j, "headers is NULL or has more than PROV_SIGN_MAX_EXTRA_HEADERS entries");
    if (c == NULL || !visible_ascii(c->access_key_id, 256, ",:"))
        return fail(j, "access key id is missing or malformed");
    secret_len = c->access_key_secret == NULL ? 0 : strlen(c->access_key_secret);
    if (secret_len == 0 || secret_len >= PROV_SIGN_MAX_SECRET_BYTES)
        return fail(j, "access key secret is missing or too long");
    if (c->security_token != NULL && c->security_token[0] != '\0' &&
        !visible_ascii(c->security_token, PROV_SIGN_MAX_TOKEN_BYTES, ""))
        return fail(j, "security token is malformed or too long");
    return 0;
}

static const char *token_of(const struct job *j)
{
    const char *t = j->cred->security_token;
    return (t != NULL && t[0] != '\0') ? t : NULL;
}

/* Adds one header; the name is lower-cased, the value trimmed and checked for CR/LF. */
static int hdr_add(struct job *j, const char *name, const char *value)
{
    struct header *h;
    size_t n = strlen(name), vlen;
    const char *tchar = "!#$%&'*+-.^_`|~";

    if (j->nhdr >= MAX_HEADERS)
        return fail(j, "too many headers");
    if (n == 0 || n >= PROV_SIGN_MAX_HEADER_NAME_BYTES)
        return fail(j, "header name is empty or too long");
    h = &j->hdr[j->nhdr];
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr(tchar, c) != NULL))
            return fail(j, "header name has a character outside RFC 9110 tchar");
        h->name[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    h->name[n] = '\0';
    if (value == NULL)
        value = "";
    if (strpbrk(value, "\r\n") != NULL)
        return fail(j, "header value contains CR or LF");
    while (*value == ' ' || *value == '\t')
        value++;
    vlen = strlen(value);
    while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
        vlen--;
    h->value = value;
    h->value_len = vlen;
    j->nhdr++;
    return 0;
}

static int is_signer_header(const char *lower)
{
    static const char *const set[] = {
        "host",
        "authorization",
        "date",
        "content-md5",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
        "x-acs-action",
        "x-acs-version",
        "x-acs-security-token",
        "x-acs-accesskey-id",
        "x-acs-signature-method",
        "x-acs-signature-version",
    };
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
        if (strcmp(lower, set[i]) == 0)
            return 1;
    return 0;
}

static int header_cmp(const void *a, const void *b)
{
    return strcmp(((const struct header *)a)->name, ((const struct header *)b)->name);
}

/* Adds the caller's headers, refuses the signer's own, sorts all, refuses duplicates. */
static int hdr_finish(struct job *j)
{
    for (size_t i = 0; i < j->req->header_count; i++) {
        const struct prov_sign_kv *kv = &j->req->headers[i];
        if (kv->name == NULL || hdr_add(j, kv->name, kv->value) != 0)
            return fail(j, "header name is missing or invalid");
        if (is_signer_header(j->hdr[j->nhdr - 1].name))
            return fail(j, "extra header duplicates one the signer sets");
    }
    qsort(j->hdr, j->nhdr, sizeof(j->hdr[0]), header_cmp);
    for (size_t i = 1; i < j->nhdr; i++)
        if (strcmp(j->hdr[i - 1].name, j->hdr[i].name) == 0)
            return fail(j, "duplicate header");
    return 0;
}

static const struct header *hdr_find(const struct job *j, const char *lower)
{
    for (size_t i = 0; i < j->nhdr; i++)
        if (strcmp(j->hdr[i].name, lower) == 0)
            return &j->hdr[i];
    return NULL;
}

/* Copies the caller's parameters into j->par with room for `extra` more. */
static int par_init(struct job *j, size_t extra)
{
    const struct prov_sign_request *r = j->req;

    j->par = calloc(r->query_count + extra + 1, sizeof(*j->par));
    if (j->par == NULL)
        return fail(j, "out of memory");
    for (size_t i = 0; i < r->query_count; i++) {
        if (r->query[i].name == NULL || r->query[i].name[0] == '\0')
            return fail(j, "query parameter without a name");
        j->par[j->npar].name = r->query[i].name;
        j->par[j->npar].value = r->query[i].value != NULL ? r->query[i].value : "";
        j->npar++;
    }
    return 0;
}

static void par_add(struct job *j, const char *name, const char *value)
{
    j->par[j->npar].name = name;
    j->par[j->npar].value = value;
    j->npar++;
}

static int param_cmp_encoded(const void *a, const void *b)
{
    return prov_sign_encoded_cmp(((const struct param *)a)->name, ((const struct param *)b)->name);
}

static int param_cmp_raw(const void *a, const void *b)
{
    return strcmp(((const struct param *)a)->name, ((const struct param *)b)->name);
}

/* Sorts by encoded name (byte order), refuses duplicates, renders "k=v&k=v" encoded into j->query.
 * Encoding is injective, so equal encoded names are equal raw names. */
static int render_query(struct job *j)
{
    qsort(j->par, j->npar, sizeof(j->par[0]), param_cmp_encoded);
    for (size_t i = 0; i < j->npar; i++) {
        if (i > 0 && strcmp(j->par[i - 1].name, j->par[i].name) == 0)
            return fail(j, "duplicate query parameter (or one the signer adds)");
        if (i > 0)
            sb_add(&j->query, "&", 1);
        sb_pct(&j->query, j->par[i].name);
        sb_add(&j->query, "=", 1);
        sb_pct(&j->query, j->par[i].value);
    }
    return j->query.error != NULL ? fail(j, j->query.error) : 0;
}

static int render_path(struct job *j)
{
    const char *p = j->req->path;

    if (p == NULL || p[0] == '\0')
        p = "/";
    if (p[0] != '/')
        return fail(j, "path must start with '/'");
    while (*p == '/') { /* each segment encoded on its own, the '/' between them kept */
        size_t n = strcspn(p + 1, "/");

        sb_add(&j->path, "/", 1);
        sb_pct_n(&j->path, p + 1, n);
        p += n + 1;
    }
    return j->path.error != NULL ? fail(j, j->path.error) : 0;
}

/* "name: value\n" for every header, then the authorization line when there is one. */
static void render_header_lines(struct job *j)
{
    for (size_t i = 0; i < j->nhdr; i++) {
        sb_str(&j->headers, j->hdr[i].name);
        sb_add(&j->headers, ": ", 2);
        sb_add(&j->headers, j->hdr[i].value, j->hdr[i].value_len);
        sb_add(&j->headers, "\n", 1);
    }
    if (j->auth.len > 0) {
        sb_str(&j->headers, "authorization: ");
        sb_str(&j->headers, sb_cstr(&j->auth));
        sb_add(&j->headers, "\n", 1);
    }
}

#define NOUT 7 /* buffers in struct prov_sign_out */

static void out_bufs(struct prov_sign_out *out, struct prov_sign_buf *b[NOUT])
{
    b[0] = &out->headers;
    b[1] = &out->path;
    b[2] = &out->query;
    b[3] = &out->authorization;
    b[4] = &out->signature;
    b[5] = &out->canonical;
    b[6] = &out->string_to_sign;
}

static void clear_out(struct prov_sign_out *out)
{
    struct prov_sign_buf *b[NOUT];

    out_bufs(out, b);
    for (size_t i = 0; i < NOUT; i++)
        if (b[i]->data != NULL && b[i]->size > 0)
            b[i]->data[0] = '\0';
}

/* Copies every requested output, or none when one does not fit. */
static int deliver(struct job *j, struct prov_sign_out *out)
{
    struct prov_sign_buf *dst[NOUT];
    struct sbuf sig = {j->sig, strlen(j->sig), 0, NULL};
    const struct sbuf *src[NOUT] = {&j->headers, &j->path,      &j->query, &j->auth,
                                    &sig,        &j->canonical, &j->sts};

    out_bufs(out, dst);
    for (size_t i = 0; i < NOUT; i++)
        if (src[i]->error != NULL)
            return fail(j, src[i]->error);
    for (size_t i = 0; i < NOUT; i++)
        if (dst[i]->data != NULL && src[i]->len >= dst[i]->size)
            return fail(j, "output buffer too small");
    for (size_t i = 0; i < NOUT; i++)
        if (dst[i]->data != NULL)
            memcpy(dst[i]->data, sb_cstr(src[i]), src[i]->len + 1);
    return 0;
}

/* Common prologue; 0 when the job may proceed. */
static int job_begin(struct job *j, const struct prov_sign_request *req,
                     const struct prov_sign_credentials *cred, struct prov_sign_out *out,
                     int need_action)
{
    memset(j, 0, sizeof(*j));
    j->req = req;
    j->cred = cred;
    if (out == NULL)
        return -1;
    clear_out(out);
    out->error = NULL;
    if (req == NULL)
        return fail(j, "request is NULL");
    return check_common(j, need_action);
}

/* Common epilogue: deliver on success, clear on failure, release everything. */
static int job_end(struct job *j, struct prov_sign_out *out, int rc)
{
    if (out != NULL) {
        if (rc == 0)
            rc = deliver(j, out);
        if (rc != 0) {
            clear_out(out);
            out->error = j->error != NULL ? j->error : "invalid arguments";
        }
    }
    sb_free(&j->path);
    sb_free(&j->query);
    sb_free(&j->canonical);
    sb_free(&j->sts);
    sb_free(&j->auth);
    sb_free(&j->headers);
    free(j->par);
    OPENSSL_cleanse(j, sizeof(*j));
    return rc;
}

/* ---- ACS3-HMAC-SHA256 ------------------------------------------------------------------------ */

static int v3_signed(const char *lower)
{
    return strcmp(lower, "host") == 0 || strcmp(lower, "content-type") == 0 ||
           strncmp(lower, "x-acs-", 6) == 0;
}

static int v3_build(struct job *j)
{
    const struct prov_sign_request *r = j->req;
    struct sbuf signed_names = {0};
    char cr_hash[PROV_SIGN_SHA256_HEX_BYTES];
    int rc = -1;

    if (r->host == NULL)
        return fail(j, "host is required for V3");
    if (prov_sign_format_iso8601(r->timestamp_unix_s, j->date, sizeof(j->date)) != 0)
        return fail(j, "timestamp out of range");
    if (prov_sign_sha256_hex(r->body, r->body_bytes, j->body_hash) != 0)
        return fail(j, "SHA-256 failed");
    if (hdr_add(j, "host", r->host) != 0 || hdr_add(j, "x-acs-action", r->action) != 0 ||
        hdr_add(j, "x-acs-version", r->version) != 0 || hdr_add(j, "x-acs-date", j->date) != 0 ||
        hdr_add(j, "x-acs-signature-nonce", r->nonce) != 0 ||
        hdr_add(j, "x-acs-content-sha256", j->body_hash) != 0 ||
        (token_of(j) != NULL && hdr_add(j, "x-acs-security-token", token_of(j)) != 0) ||
        hdr_finish(j) != 0 || render_path(j) != 0 || par_init(j, 0) != 0 || render_query(j) != 0)
        return -1;

    sb_str(&j->canonical, r->method);
    sb_add(&j->canonical, "\n", 1);
    sb_str(&j->canonical, sb_cstr(&j->path));
    sb_add(&j->canonical, "\n", 1);
    sb_str(&j->canonical, sb_cstr(&j->query));
    sb_add(&j->canonical, "\n", 1);
    for (size_t i = 0; i < j->nhdr; i++) {
        if (!v3_signed(j->hdr[i].name))
            continue;
        sb_str(&j->canonical, j->hdr[i].name);
        sb_add(&j->canonical, ":", 1);
        sb_add(&j->canonical, j->hdr[i].value, j->hdr[i].value_len);
        sb_add(&j->canonical, "\n", 1);
        if (signed_names.len > 0)
            sb_add(&signed_names, ";", 1);
        sb_str(&signed_names, j->hdr[i].name);
    }
    sb_add(&j->canonical, "\n", 1);
    sb_str(&j->canonical, sb_cstr(&signed_names));
    sb_add(&j->canonical, "\n", 1);
    sb_str(&j->canonical, j->body_hash);
    if (j->canonical.error != NULL || signed_names.error != NULL) {
        fail(j, j->canonical.error != NULL ? j->canonical.error : signed_names.error);
        goto done;
    }

    if (prov_sign_sha256_hex(j->canonical.p, j->canonical.len, cr_hash) != 0) {
        fail(j, "SHA-256 failed");
        goto done;
    }
    sb_str(&j->sts, "ACS3-HMAC-SHA256\n");
    sb_str(&j->sts, cr_hash);
    if (j->sts.error != NULL ||
        prov_sign_hmac_sha256_hex(j->cred->access_key_secret, strlen(j->cred->access_key_secret),
                                  j->sts.p, j->sts.len, j->sig) != 0) {
        fail(j, "HMAC-SHA256 failed");
        goto done;
    }
    sb_str(&j->auth, "ACS3-HMAC-SHA256 Credential=");
    sb_str(&j->auth, j->cred->access_key_id);
    sb_str(&j->auth, ",SignedHeaders=");
    sb_str(&j->auth, sb_cstr(&signed_names));
    sb_str(&j->auth, ",Signature=");
    sb_str(&j->auth, j->sig);
    render_header_lines(j);
    rc = 0;
done:
    sb_free(&signed_names);
    return rc;
}

int prov_sign_v3(const struct prov_sign_request *req, const struct prov_sign_credentials *cred,
                 struct prov_sign_out *out)
{
    struct job j;
    int rc = job_begin(&j, req, cred, out, 1);

    if (rc == 0)
        rc = v3_build(&j);
    return job_end(&j, out, rc);
}

/* ---- HMAC-SHA1 (V2) -------------------------------------------------------------------------- */

/* sig = Base64(HMAC-SHA1(key, j->sts)); key is the secret, plus "&" for RPC. */
static int v2_hmac_sha1(struct job *j, int amp_suffix)
{
    const char *secret = j->cred->access_key_secret;
    size_t n = strlen(secret);
    unsigned char key[PROV_SIGN_MAX_SECRET_BYTES + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    int ok;

    if (j->sts.error != NULL)
        return fail(j, j->sts.error);
    memcpy(key, secret, n);
    if (amp_suffix)
        key[n++] = '&';
    ok = HMAC(EVP_sha1(), key, (int)n, (const unsigned char *)sb_cstr(&j->sts), j->sts.len, md,
              &md_len) != NULL &&
         md_len == 20;
    OPENSSL_cleanse(key, sizeof(key));
    if (!ok)
        return fail(j, "HMAC-SHA1 failed");
    EVP_EncodeBlock((unsigned char *)j->sig, md, (int)md_len); /* 28 chars + NUL */
    return 0;
}

static int rpc_build(struct job *j)
{
    const struct prov_sign_request *r = j->req;

    if (r->path != NULL && r->path[0] != '\0' && strcmp(r->path, "/") != 0)
        return fail(j, "V2 RPC signs the path \"/\" only");
    if (prov_sign_format_iso8601(r->timestamp_unix_s, j->date, sizeof(j->date)) != 0)
        return fail(j, "timestamp out of range");
    if ((r->host != NULL && hdr_add(j, "host", r->host) != 0) || hdr_finish(j) != 0 ||
        render_path(j) != 0 || par_init(j, SIGNER_PARAMS) != 0)
        return -1;
    for (size_t i = 0; i < j->npar; i++)
        if (strcmp(j->par[i].name, "Signature") == 0)
            return fail(j, "the caller must not pass Signature");
    par_add(j, "Action", r->action);
    par_add(j, "Version", r->version);
    par_add(j, "AccessKeyId", j->cred->access_key_id);
    par_add(j, "SignatureMethod", "HMAC-SHA1");
    par_add(j, "SignatureVersion", "1.0");
    par_add(j, "SignatureNonce", r->nonce);
    par_add(j, "Timestamp", j->date);
    if (token_of(j) != NULL)
        par_add(j, "SecurityToken", token_of(j));
    if (render_query(j) != 0)
        return -1;

    sb_str(&j->canonical, sb_cstr(&j->query));
    sb_str(&j->sts, r->method);
    sb_str(&j->sts, "&%2F&");
    sb_pct(&j->sts, sb_cstr(&j->query));
    if (v2_hmac_sha1(j, 1) != 0)
        return -1;
    sb_str(&j->query, "&Signature=");
    sb_pct(&j->query, j->sig);
    render_header_lines(j);
    return 0;
}

int prov_sign_v2_rpc(const struct prov_sign_request *req, const struct prov_sign_credentials *cred,
                     struct prov_sign_out *out)
{
    struct job j;
    int rc = job_begin(&j, req, cred, out, 1);

    if (rc == 0)
        rc = rpc_build(&j);
    return job_end(&j, out, rc);
}

/* CanonicalizedResource: encoded path, then "?" and raw keys sorted, "k=v" or bare "k", joined by
 * "&", values not encoded (openapi-util _get_canonicalized_resource). */
static void roa_resource(struct job *j)
{
    qsort(j->par, j->npar, sizeof(j->par[0]), param_cmp_raw);
    sb_str(&j->canonical, sb_cstr(&j->path));
    for (size_t i = 0; i < j->npar; i++) {
        sb_add(&j->canonical, i == 0 ? "?" : "&", 1);
        sb_str(&j->canonical, j->par[i].name);
        if (j->par[i].value[0] != '\0') {
            sb_add(&j->canonical, "=", 1);
            sb_str(&j->canonical, j->par[i].value);
        }
    }
}

static void roa_positional(struct job *j, const char *lower)
{
    const struct header *h = hdr_find(j, lower);

    if (h != NULL)
        sb_add(&j->sts, h->value, h->value_len);
    sb_add(&j->sts, "\n", 1);
}

static int roa_build(struct job *j)
{
    const struct prov_sign_request *r = j->req;
    char md5[32];
    int has_accept = 0;

    if (prov_sign_format_rfc1123(r->timestamp_unix_s, j->date, sizeof(j->date)) != 0)
        return fail(j, "timestamp out of range");
    for (size_t i = 0; i < r->header_count; i++)
        if (r->headers[i].name != NULL && strcasecmp(r->headers[i].name, "accept") == 0)
            has_accept = 1;
    if (r->body_bytes > 0 && prov_sign_content_md5(r->body, r->body_bytes, md5, sizeof(md5)) != 0)
        return fail(j, "MD5 failed (unavailable in this OpenSSL configuration?)");
    if ((r->host != NULL && hdr_add(j, "host", r->host) != 0) || hdr_add(j, "date", j->date) != 0 ||
        (!has_accept && hdr_add(j, "accept", "application/json") != 0) ||
        (r->body_bytes > 0 && hdr_add(j, "content-md5", md5) != 0) ||
        hdr_add(j, "x-acs-signature-nonce", r->nonce) != 0 ||
        hdr_add(j, "x-acs-signature-method", "HMAC-SHA1") != 0 ||
        hdr_add(j, "x-acs-signature-version", "1.0") != 0 ||
        hdr_add(j, "x-acs-version", r->version) != 0 ||
        (r->action != NULL && r->action[0] != '\0' && hdr_add(j, "x-acs-action", r->action) != 0) ||
        (token_of(j) != NULL && (hdr_add(j, "x-acs-accesskey-id", j->cred->access_key_id) != 0 ||
                                 hdr_add(j, "x-acs-security-token", token_of(j)) != 0)) ||
        hdr_finish(j) != 0 || render_path(j) != 0 || par_init(j, 0) != 0 || render_query(j) != 0)
        return -1;

    roa_resource(j);
    sb_str(&j->sts, r->method);
    sb_add(&j->sts, "\n", 1);
    roa_positional(j, "accept");
    roa_positional(j, "content-md5");
    roa_positional(j, "content-type");
    roa_positional(j, "date");
    for (size_t i = 0; i < j->nhdr; i++) {
        if (strncmp(j->hdr[i].name, "x-acs-", 6) != 0)
            continue;
        sb_str(&j->sts, j->hdr[i].name);
        sb_add(&j->sts, ":", 1);
        sb_add(&j->sts, j->hdr[i].value, j->hdr[i].value_len);
        sb_add(&j->sts, "\n", 1);
    }
    sb_str(&j->sts, sb_cstr(&j->canonical));
    if (j->canonical.error != NULL)
        return fail(j, j->canonical.error);
    if (v2_hmac_sha1(j, 0) != 0)
        return -1;
    sb_str(&j->auth, "acs ");
    sb_str(&j->auth, j->cred->access_key_id);
    sb_str(&j->auth, ":");
    sb_str(&j->auth, j->sig);
    render_header_lines(j);
    return 0;
}

int prov_sign_v2_roa(const struct prov_sign_request *req, const struct prov_sign_credentials *cred,
                     struct prov_sign_out *out)
{
    struct job j;
    int rc = job_begin(&j, req, cred, out, 0);

    if (rc == 0)
        rc = roa_build(&j);
    return job_end(&j, out, rc);
}

int prov_sign_request(enum prov_sign_style style, const struct prov_sign_request *req,
                      const struct prov_sign_credentials *cred, struct prov_sign_out *out)
{
    switch (style) {
    case PROV_SIGN_V3:
        return prov_sign_v3(req, cred, out);
    case PROV_SIGN_V2_RPC:
        return prov_sign_v2_rpc(req, cred, out);
    case PROV_SIGN_V2_ROA:
        return prov_sign_v2_roa(req, cred, out);
    }
    if (out != NULL) {
        clear_out(out);
        out->error = "unknown signature style";
    }
    return -1;
}
