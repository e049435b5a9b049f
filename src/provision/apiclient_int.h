/*
 * apiclient_int — what the client (apiclient.c: lifecycle, retry loop, judging answers) and the
 * request builder (apiclient_build.c: parameters, signing, URL, headers, dry-run text) share.
 * Private to src/provision.
 */
#ifndef PLPROV_APICLIENT_INT_H
#define PLPROV_APICLIENT_INT_H

#include <stddef.h>

#include "plprov/apiclient.h"

#define HOST_BYTES 300
#define NONCE_HEX_BYTES 33 /* 16 random bytes in hex + NUL */

/* The client (prov_api_new). Owns ca_file and http; borrows creds. */
struct prov_apiclient {
    struct prov_api_options opt; /* copy, hooks filled; string members NULL or owned copies */
    char base[PROV_API_PRODUCT_COUNT][HOST_BYTES + 16]; /* "scheme://host[:port]" */
    char host[PROV_API_PRODUCT_COUNT][HOST_BYTES];      /* Host header value, signed */
    enum prov_sign_style style[PROV_API_PRODUCT_COUNT];
    char user_agent[160];
    char *ca_file;
    const struct prov_creds *creds; /* borrowed */
    int64_t refresh_after_ms;       /* no refresh before this monotonic time (0: any time) */
    char refresh_error[256];        /* why the last refresh failed, "" when it did not */
    struct prov_http *http;
};

/* One built request; every heap member is cleansed and freed by prov_api_built_free. */
struct prov_api_built {
    char *url;
    char *sig_headers; /* the signer's "name: value\n" lines, split in place into lines[] */
    size_t sig_headers_size;
    char *query;
    size_t query_size;
    char *path;
    size_t path_size;
    char *body;
    size_t body_bytes;
    size_t body_size;
    struct prov_sign_kv *params; /* the call's parameters plus Format=JSON for V2 RPC */
    size_t nparams;
    const char *lines[PROV_HTTP_MAX_HEADERS];
    size_t nlines;
    char ua_line[200];
    const char *method;
};

/* printf into a caller-owned error buffer (NULL or size 0: nothing). */
void prov_api_errf(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* OPENSSL_cleanse(p, n) then free(p); NULL accepted. */
void prov_api_wipe_free(void *p, size_t n);

/* The security token in use, or NULL for a long-term key. */
const char *prov_api_token(const struct prov_apiclient *c);

/* Checks a call before anything is built. 0, or -1 with err set. */
int prov_api_check_call(const struct prov_apiclient *c, const struct prov_api_call *call, char *err,
                        size_t err_size);

/* Builds and signs one attempt (fresh nonce and time from the hooks, which must be filled).
 * 0 with *b owned by the caller (prov_api_built_free), or -1 with err set and *b released. */
int prov_api_build(struct prov_apiclient *c, const struct prov_api_call *call,
                   struct prov_api_built *b, char *err, size_t err_size);

/* Cleanses and frees everything b holds. */
void prov_api_built_free(struct prov_api_built *b);

/* The dry-run text of b (see prov_api_dry_run); form: the body is a parameter string. Heap, or
 * NULL when out of memory. */
char *prov_api_render(const struct prov_apiclient *c, const struct prov_api_built *b, int form);

#endif
