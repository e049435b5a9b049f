/*
 * state — the provisioner's state file: the id of every resource `apply` created and the
 * ClientToken of each create, saved BEFORE the create is sent. A run that crashed or was killed
 * after the cloud did the work resumes with the same token, and the cloud answers with the
 * resource it already made instead of a second one (docs/alicloud-api.md §5, §7).
 *
 * File (JSON, mode 0600):
 *   {"version": 1, "topology": "nlb-ip", "name": "plrelay", "region": "cn-hangzhou",
 *    "resources": {"lb": {"id": "nlb-...", "client_token": "plrelay-..."}, ...},
 *    "endpoint_domain": "ep-....privatelink.aliyuncs.com"}
 * Resource keys are the caller's ("lb", "server_group", "listener", "service", "endpoint", ...).
 * A token stays until the id of what it created is recorded, or the hop is found already as
 * wanted, then it is dropped: a later create of the same hop (after an out-of-band delete) must
 * not get the old answer back. Keys of destroy's tokens name what they delete
 * ("endpoint_delete:ep-...").
 *
 * Every save is atomic (temporary file in the same directory, fsync, rename, fsync of the
 * directory). One run at a time: loading takes an exclusive flock on <state_file>.lock, held
 * until prov_state_free (the kernel drops it if the process dies). A missing file is an empty
 * state; a file written for another topology, name or region is refused, so two configs never share
 * one state file by accident.
 */
#ifndef PLPROV_STATE_H
#define PLPROV_STATE_H

#include <stddef.h>

#include "plprov/provconfig.h"

#define PROV_STATE_TOKEN_BYTES 48 /* "plrelay-" + 32 hex digits + NUL, < the API's 64 */

struct prov_state;

/* Locks and loads cfg->state_file (or an empty state when it does not exist). 0, or -1 with
 * err set: another run holds the lock, unreadable, not JSON, another version, or written for
 * another topology/name/region. */
int prov_state_load(const struct prov_config *cfg, struct prov_state **out, char *err,
                    size_t err_size);

/* Writes the state back atomically. 0, or -1 with err set (the old file is then intact). */
int prov_state_save(struct prov_state *s, char *err, size_t err_size);

/* resources[key][field] ("id", "client_token", or any text field), or NULL when absent. */
const char *prov_state_get(const struct prov_state *s, const char *key, const char *field);

/* Sets resources[key][field] = value, or removes the field when value is NULL (and the key when
 * it has no field left). In memory only; prov_state_save writes. 0, or -1 (out of memory). */
int prov_state_set(struct prov_state *s, const char *key, const char *field, const char *value);

/* The ClientToken for the next create of key: the saved one when a previous run left it, else a
 * new random one that is saved to the file before this returns. 0, or -1 with err set. */
int prov_state_token(struct prov_state *s, const char *key, char out[PROV_STATE_TOKEN_BYTES],
                     char *err, size_t err_size);

/* Records key's id after its create answered (the token is dropped) and saves. 0 or -1. */
int prov_state_created(struct prov_state *s, const char *key, const char *id, char *err,
                       size_t err_size);

/* The top-level endpoint_domain (read by es-settings), set or cleared (NULL). In memory only. */
int prov_state_set_domain(struct prov_state *s, const char *domain);

/* The top-level endpoint_domain, or NULL when none is recorded. */
const char *prov_state_domain(const struct prov_state *s);

/* 1 when no resource is recorded. */
int prov_state_empty(const struct prov_state *s);

/* Removes the state file and its lock file (after a complete destroy). 0, or -1 with err set;
 * missing is fine. */
int prov_state_remove(struct prov_state *s, char *err, size_t err_size);

void prov_state_free(struct prov_state *s);

#endif
