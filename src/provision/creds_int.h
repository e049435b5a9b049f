/*
 * creds_int — what creds.c (environment, profile file, the chain) and creds_imds.c (the metadata
 * service) share: the state of one resolution and the helpers that validate, parse and report
 * without ever echoing a secret. Private to src/provision.
 */
#ifndef PLPROV_CREDS_INT_H
#define PLPROV_CREDS_INT_H

#include <jansson.h>
#include <stddef.h>

#include "plprov/creds.h"

#define ENV_ID "ALIBABA_CLOUD_ACCESS_KEY_ID"
#define ENV_SECRET "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
#define ENV_TOKEN "ALIBABA_CLOUD_SECURITY_TOKEN"
#define ENV_REGION "ALIBABA_CLOUD_REGION_ID"
#define ENV_PROFILE "ALIBABA_CLOUD_PROFILE"
#define ENV_PROFILE_OFF "ALIBABA_CLOUD_CLI_PROFILE_DISABLED"
#define ENV_IMDS_OFF "ALIBABA_CLOUD_ECS_METADATA_DISABLED"
#define ENV_IMDS_ROLE "ALIBABA_CLOUD_ECS_METADATA"
#define ENV_IMDSV1_OFF "ALIBABA_CLOUD_IMDSV1_DISABLED"

/* One resolution: the options in force and the notes of the sources found absent, which become
 * the message when no source has credentials. */
struct prov_creds_chain {
    const struct prov_creds_options *opt;
    char notes[1024];
};

/* printf into a caller-owned error buffer (NULL or size 0: nothing). */
void prov_creds_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends "; <text>" to ch->notes. */
void prov_creds_note(struct prov_creds_chain *ch, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Environment lookup through the options' hook; an empty value counts as unset (NULL). */
const char *prov_creds_env(const struct prov_creds_chain *ch, const char *name);

/* 1 when the variable is "true" (any case). */
int prov_creds_env_true(const struct prov_creds_chain *ch, const char *name);

/* 1 when s is visible ASCII (0x21-0x7e) without any byte of forbidden (may be NULL). */
int prov_creds_visible(const char *s, const char *forbidden);

/* Checks and copies a credential field; the message names what and where, never the value.
 * "AccessKeyId" additionally refuses ',' and ':'. 0 or -1. */
int prov_creds_put(char *dst, size_t size, const char *src, const char *what, const char *where,
                   char *err, size_t err_size);

/* Loads a JSON object; the message gives line and column only (the input may hold secrets). */
json_t *prov_creds_load_json(const char *data, size_t len, const char *where, char *err,
                             size_t err_size);

/* Overwrites every string of v, then releases it. NULL is accepted. */
void prov_creds_json_drop(json_t *v);

/* The string member key of o, or NULL. */
const char *prov_creds_jstr(const json_t *o, const char *key);

/* The metadata source: 1 found (c filled, description set), 0 absent (a note says why; never when
 * required), -1 error. role_hint NULL means $ALIBABA_CLOUD_ECS_METADATA or discovery. */
int prov_creds_from_metadata(struct prov_creds_chain *ch, const char *role_hint, int required,
                             struct prov_creds *c, char *err, size_t err_size);

#endif
