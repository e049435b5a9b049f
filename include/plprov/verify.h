/*
 * verify — prove that a built private path carries traffic (issue 5, `verify`).
 *
 * Topology clb-ecs: the CLB is active; each configured listener exists, is running, and has at
 * least one backend whose DescribeHealthStatus is "normal"; the endpoint service is Active; the
 * ES-side private connection is Connected.
 *
 * Topology nlb-ip: the NLB, its listener and the endpoint service are in their working states;
 * the ES-side connection is Connected and reindex.remote.whitelist holds <endpoint
 * domain>:<listener_port>. Then the source document's step 4 over plain Elasticsearch REST:
 *   1. GET <remote_url>/<source_index>/_count on the remote cluster (remote credentials);
 *   2. DELETE <es url>/<dest_index> when dest_index starts with PROV_CONFIG_VERIFY_DEST_PREFIX
 *      (404 is fine), so the check starts from an empty index that is ours;
 *   3. POST <es url>/_reindex?wait_for_completion=true&refresh=true with source.remote.host =
 *      <remote_scheme>://<endpoint domain>:<listener_port>, bounded by [verify] timeout;
 *   4. GET <es url>/<dest_index>/_count; the counts must be equal.
 * <es url> is [elasticsearch] url, else http(s)://<DescribeInstance domain>:<port>.
 *
 * Every check is one row (hop, ok, detail). Rows stop at the first failure, which names the hop
 * that failed. Passwords travel only in Authorization headers and the reindex body; they never
 * appear in a row, an error or the rendered output.
 */
#ifndef PLPROV_VERIFY_H
#define PLPROV_VERIFY_H

#include <stddef.h>

#include "plprov/apiclient.h"
#include "plprov/http.h"
#include "plprov/inspect.h"
#include "plprov/provconfig.h"

#define PROV_VERIFY_MAX_CHECKS 48
#define PROV_VERIFY_HOP_BYTES 64
#define PROV_VERIFY_DETAIL_BYTES 512

struct prov_verify_check {
    char hop[PROV_VERIFY_HOP_BYTES]; /* "clb listener 389", "es connection", "reindex", ... */
    int ok;
    char detail[PROV_VERIFY_DETAIL_BYTES];
};

struct prov_verify_report {
    struct prov_verify_check checks[PROV_VERIFY_MAX_CHECKS];
    size_t count;
    int ok;            /* 1 when every check passed */
    long source_count; /* nlb-ip: remote _count, -1 when not read */
    long dest_count;   /* nlb-ip: local _count after the reindex, -1 when not read */
};

/* The secrets verify needs (owned by the caller; see prov_secret_read). */
struct prov_verify_secrets {
    const char *es_password;     /* [elasticsearch] password_env / password_file; NULL = none */
    const char *remote_password; /* [verify] remote_password_env / _file; NULL = none */
};

/* Transport for the ES REST calls; zeroed = libcurl, system CA store, 5 s connect timeout. */
struct prov_verify_options {
    prov_http_transport_fn transport; /* tests replace it */
    void *transport_ctx;
    const char *ca_file;
    long connect_timeout_ms;
};

/* Runs the checks of cfg's topology. a is the state read by prov_inspect_read just before;
 * c is used for the reads a does not hold (listener status, health). Returns 0 when every check
 * passed, 1 when one failed (out->checks says which), -1 when verify could not run at all
 * (out of memory; the reason is the last row). out is reset first. */
int prov_verify_run(struct prov_apiclient *c, const struct prov_config *cfg,
                    const struct prov_actual *a, const struct prov_verify_secrets *s,
                    const struct prov_verify_options *o, struct prov_verify_report *out);

/* `verify` output: a table of rows and a last line "verify: ok" or "verify: FAILED at <hop>"
 * (json = 0), or {"ok":bool,"failed_hop":s|null,"source_count":n|null,"dest_count":n|null,
 * "checks":[{"hop","ok","detail"}]} (json = 1). *out is heap (free()). 0 or -1 (out of memory). */
int prov_verify_render(const struct prov_verify_report *r, int json, char **out);

/* A secret from the environment variable env_name (when not NULL/"") or else from file (when not
 * NULL/""; one trailing newline stripped; a file readable by group or others is refused). Both
 * empty: *out = NULL and 0. 0 with *out heap (free with prov_secret_free), or -1 with err set
 * (never holding the secret). */
int prov_secret_read(const char *env_name, const char *file, char **out, char *err,
                     size_t err_size);

/* Cleanses and frees a secret from prov_secret_read; NULL accepted. */
void prov_secret_free(char *s);

#endif
