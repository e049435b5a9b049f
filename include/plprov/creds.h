/*
 * creds — the Alibaba Cloud credential chain (docs/alicloud-api.md §3), in the order the official
 * SDKs use, restricted to the sources an operator of this tool needs:
 *
 *   1. environment: ALIBABA_CLOUD_ACCESS_KEY_ID + ALIBABA_CLOUD_ACCESS_KEY_SECRET
 *      (+ ALIBABA_CLOUD_SECURITY_TOKEN for STS);
 *   2. the aliyun CLI profile file ~/.aliyun/config.json, profile ALIBABA_CLOUD_PROFILE or the
 *      file's "current", modes AK, StsToken and EcsRamRole (skipped when
 *      ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true);
 *   3. the ECS RAM role from the instance metadata service (skipped when
 *      ALIBABA_CLOUD_ECS_METADATA_DISABLED=true): an IMDSv2 token is asked for first
 *      (PUT /latest/api/token), the plain form is used when that fails unless
 *      ALIBABA_CLOUD_IMDSV1_DISABLED=true; the role name comes from ALIBABA_CLOUD_ECS_METADATA or
 *      the profile, or is discovered from /latest/meta-data/ram/security-credentials/.
 *
 * Not handled (doc §3, UNCONFIRMED or not needed on ECS): OIDC, the INI file
 * ~/.alibabacloud/credentials, ALIBABA_CLOUD_CREDENTIALS_URI, and the profile modes that need an
 * STS AssumeRole call (RamRoleArn, ChainableRamRoleArn) or a helper program (External, ...): such
 * a profile is an error with a clear message, never a silent fall-through to another identity.
 *
 * A source that is absent (variables unset, no profile file) passes to the next one. A source that
 * is present but unusable stops the chain with an error: a half-set environment, a profile file
 * readable by group or others or owned by another user (refused like ssh refuses a private key),
 * malformed JSON, a missing profile, an unsupported mode. The metadata service being unreachable
 * is "absent" (the machine is not an ECS instance); a metadata answer that is malformed is an
 * error.
 *
 * Secrets: the secret and the token live only in struct prov_creds, which prov_creds_free and
 * prov_creds_cleanup wipe with OPENSSL_cleanse. Every intermediate buffer that held them (file
 * contents, HTTP bodies, parsed JSON strings) is wiped before it is freed. Nothing here prints; the
 * error texts and prov_creds.description name the source (file path, role name, metadata URL),
 * never a secret or a token.
 */
#ifndef PLPROV_CREDS_H
#define PLPROV_CREDS_H

#include <stddef.h>
#include <stdint.h>

#include "plprov/http.h"
#include "plprov/sign.h"

#define PROV_CREDS_ID_BYTES 128                            /* AccessKeyId, NUL included */
#define PROV_CREDS_SECRET_BYTES PROV_SIGN_MAX_SECRET_BYTES /* AccessKeySecret, NUL included */
#define PROV_CREDS_TOKEN_BYTES PROV_SIGN_MAX_TOKEN_BYTES   /* STS token, NUL included */
#define PROV_CREDS_REGION_BYTES 64                         /* region id, NUL included */
#define PROV_CREDS_ROLE_BYTES 128                          /* RAM role name, NUL included */
#define PROV_CREDS_DESCRIPTION_BYTES 512                   /* human description, NUL included */
#define PROV_CREDS_MAX_FILE_BYTES (1u << 20)               /* profile file ceiling */
#define PROV_CREDS_MAX_METADATA_BYTES (64u << 10)          /* metadata response ceiling */
#define PROV_CREDS_DEFAULT_METADATA_URL "http://100.100.100.200"
#define PROV_CREDS_DEFAULT_METADATA_CONNECT_MS 1000L /* as the SDKs: 1 s connect */
#define PROV_CREDS_DEFAULT_METADATA_TIMEOUT_MS 2000L /* whole request */

/* Where the credentials came from. */
enum prov_creds_source {
    PROV_CREDS_SOURCE_NONE = 0,    /* not resolved */
    PROV_CREDS_SOURCE_ENV = 1,     /* ALIBABA_CLOUD_ACCESS_KEY_* variables */
    PROV_CREDS_SOURCE_PROFILE = 2, /* aliyun CLI profile, mode AK or StsToken */
    PROV_CREDS_SOURCE_ECS_RAM_ROLE =
        3, /* metadata service (directly, or profile mode EcsRamRole) */
};

/* Bits of prov_creds_options.skip: sources to leave out of the chain. */
#define PROV_CREDS_SKIP_ENV 0x1u
#define PROV_CREDS_SKIP_PROFILE 0x2u
#define PROV_CREDS_SKIP_METADATA 0x4u

/* Environment lookup: returns the value or NULL. Replaceable for tests; default getenv. */
typedef const char *(*prov_creds_getenv_fn)(void *ctx, const char *name);

/* How to resolve. A zeroed struct means: every source, default paths, URL and timeouts. */
struct prov_creds_options {
    const char *metadata_url; /* base URL of the metadata service, NULL for the default; http://
                               * or https://, no path (tests pass http://127.0.0.1:PORT) */
    const char *profile_path; /* NULL: $HOME/.aliyun/config.json */
    const char *profile_name; /* NULL: $ALIBABA_CLOUD_PROFILE, else the file's "current" */
    long metadata_connect_ms; /* 0: PROV_CREDS_DEFAULT_METADATA_CONNECT_MS */
    long metadata_timeout_ms; /* 0: PROV_CREDS_DEFAULT_METADATA_TIMEOUT_MS (per request) */
    unsigned skip;            /* PROV_CREDS_SKIP_* bits */
    prov_creds_getenv_fn getenv_fn; /* NULL: getenv */
    void *getenv_ctx;
    prov_http_transport_fn transport; /* NULL: libcurl (prov_http_curl_transport) */
    void *transport_ctx;
};

/* Resolved credentials. Holds secrets: release with prov_creds_free (heap) or prov_creds_cleanup
 * (embedded), both of which wipe it. */
struct prov_creds {
    enum prov_creds_source source;
    char access_key_id[PROV_CREDS_ID_BYTES];
    char access_key_secret[PROV_CREDS_SECRET_BYTES];
    char security_token[PROV_CREDS_TOKEN_BYTES]; /* "" for a long-term AccessKey */
    int64_t expiration_unix_s;                   /* when STS credentials expire; 0: never */
    char region_id[PROV_CREDS_REGION_BYTES];     /* profile region_id or ALIBABA_CLOUD_REGION_ID */
    char description[PROV_CREDS_DESCRIPTION_BYTES]; /* e.g. "environment (AccessKey)", never secret
                                                     */
};

/* Walks the chain. On 0, *out is a new object owned by the caller (prov_creds_free). On -1, *out is
 * NULL and err holds the reason, naming each source that was tried. opt may be NULL. */
int prov_creds_resolve(const struct prov_creds_options *opt, struct prov_creds **out, char *err,
                       size_t err_size);

/* Wipes and frees; NULL is accepted. */
void prov_creds_free(struct prov_creds *c);

/* Wipes an embedded struct (prov_creds_init is a memset to 0). */
void prov_creds_init(struct prov_creds *c);
void prov_creds_cleanup(struct prov_creds *c);

/* Borrowed view for the signer: pointers into c, valid while c lives. */
void prov_creds_sign_view(const struct prov_creds *c, struct prov_sign_credentials *out);

/* "environment", "profile", "ecs-ram-role" or "none". */
const char *prov_creds_source_name(enum prov_creds_source s);

/* 1 when the credentials expire within margin_s of now (never for a long-term key), else 0. */
int prov_creds_expires_within(const struct prov_creds *c, int64_t now_unix_s, int64_t margin_s);

/* Fresh credentials for the API client's refresh hook (apiclient.h, struct prov_api_refresh):
 * the options the chain is walked with and the credentials handed out last. Zero it, set opt and
 * current (the first prov_creds_resolve result, now owned here), pass it as the hook's ctx. */
struct prov_creds_refresher {
    struct prov_creds_options opt; /* borrowed strings, as for prov_creds_resolve */
    struct prov_creds *current;    /* owned: freed by prov_creds_refresher_cleanup */
    unsigned refreshes;            /* successful refreshes so far */
};

/* A prov_api_refresh_fn over a struct prov_creds_refresher (ctx): walks the chain again. On 0,
 * *creds = r->current = the new credentials and the previous ones are wiped and freed; on -1,
 * r->current is kept and err says why. */
int prov_creds_refresh(void *ctx, const struct prov_creds **creds, char *err, size_t err_size);

/* Frees r->current (wiped); r itself is the caller's. NULL accepted. */
void prov_creds_refresher_cleanup(struct prov_creds_refresher *r);

/* ---- the pieces, exposed for tests and for `status` --------------------------------------- */

/* Checks an open credentials file like ssh: a regular file owned by the effective user with no
 * group/other permission bits. path is only used in the message. 0, or -1 with err set. */
int prov_creds_check_file(int fd, const char *path, char *err, size_t err_size);

/* Parses an aliyun CLI config.json held in json[0..len). profile_name NULL means the file's
 * "current". Returns 0 with out filled (modes AK, StsToken), 1 when the profile is mode EcsRamRole
 * (out->region_id filled, role[] the profile's ram_role_name or ""), or -1 with err set. path is
 * only used in messages. */
int prov_creds_parse_profile(const char *json, size_t len, const char *profile_name,
                             const char *path, struct prov_creds *out, char *role, size_t role_size,
                             char *err, size_t err_size);

/* Parses the metadata service's credentials document ({"Code":"Success","AccessKeyId",...}) into
 * out (source ECS RAM role, expiration from "Expiration"). 0, or -1 with err set. */
int prov_creds_parse_metadata(const char *json, size_t len, struct prov_creds *out, char *err,
                              size_t err_size);

/* "2006-01-02T15:04:05Z" to seconds since the epoch. 0, or -1 when malformed. */
int prov_creds_parse_iso8601(const char *s, int64_t *out_unix_s);

#endif
