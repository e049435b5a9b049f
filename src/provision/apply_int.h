/*
 * apply_int — what apply.c (the hops common to both topologies, prov_apply, rendering),
 * apply_lb.c (the load-balancer hops) and destroy.c share. Private to src/provision.
 */
#ifndef PLPROV_APPLY_INT_H
#define PLPROV_APPLY_INT_H

#include <stddef.h>

#include "plprov/apply.h"
#include "plprov/clb.h"
#include "plprov/es.h"
#include "plprov/inspect.h"
#include "plprov/nlb.h"
#include "plprov/privatelink.h"

#define KVS_MAX 48
#define KVS_NAME_BYTES 64
#define KVS_VALUE_BYTES 1024

/* Parameters of one call, with their own storage. */
struct kvs {
    struct prov_sign_kv kv[KVS_MAX];
    char names[KVS_MAX][KVS_NAME_BYTES];
    char values[KVS_MAX][KVS_VALUE_BYTES];
    size_t n;
};

/* Appends name=value (both copied); an empty value is skipped (the API has no empty values).
 * Too many or too long is a programming error caught by prov_kvs_ok. */
void prov_kvs_add(struct kvs *k, const char *name, const char *value);
void prov_kvs_addf(struct kvs *k, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int prov_kvs_ok(const struct kvs *k); /* 1 when nothing was dropped */

/* An RPC call over k, with RegionId first (callers start k with prov_kvs_region). */
void prov_kvs_region(struct kvs *k, const struct prov_run *run);
struct prov_api_call prov_rpc(enum prov_api_product p, const char *action, const struct kvs *k);

/* The parameters of RemoveServersFromServerGroup for one server sv of group sg (k is reset). */
void prov_kvs_nlb_server(struct kvs *k, const struct prov_run *run, const char *sg,
                         const struct prov_nlb_server *sv);

/* GetVpcEndpointServiceAttribute's ServiceStatus of service into status[size]; returns as
 * prov_read_call (1: the service does not exist). */
int prov_service_status(struct prov_run *run, const char *service, char *status, size_t size);

/* What the hops found or made, passed down the chain. */
struct path_ids {
    char lb[PROV_CLB_ID_BYTES];
    char lb_zone[64]; /* CLB master zone, for the ES endpoint when no zone is configured */
    char sg[PROV_NLB_ID_BYTES];
    char listener[PROV_NLB_ID_BYTES];
    char service[PROV_PL_ID_BYTES];
    char endpoint[PROV_ES_ID_BYTES];
    char domain[256];
};

/* The load balancer hops of apply (apply_lb.c). 0 or -1 (run->err). */
int prov_apply_clb(struct prov_run *run, struct path_ids *ids);
int prov_apply_nlb(struct prov_run *run, struct path_ids *ids);

/* Waits for an NLB job (ListAsynJobs) to succeed. 0 or -1. */
int prov_wait_job(struct prov_run *run, const char *hop, const char *what, const char *job_id);

/* ES instance `active` again (after a YML change), bounded by es_wait_timeout. 0 or -1. */
int prov_wait_es_active(struct prov_run *run, const char *hop);

/* The ClientToken for key (prov_state_token), or in a dry run the saved one or a placeholder,
 * without touching the state file. 0, or -1 with run->err/hop set. */
int prov_run_token(struct prov_run *run, const char *key, char out[PROV_STATE_TOKEN_BYTES]);

/* Adds (add = 1) or removes entry in reindex.remote.whitelist with UpdateInstanceSettings under
 * the ClientToken saved as token_key, then waits for Elasticsearch to be active with the change
 * read back. 0 (also when nothing needed changing) or -1. */
int prov_whitelist_change(struct prov_run *run, const char *entry, int add, const char *token_key);

/* Drops key's saved ClientToken and saves the state, for a hop found already in the wanted state
 * (or whose write just answered) without an id to record: the token of a create that a killed
 * run left behind must not be sent again for a later, different create of that hop, which would
 * get the old answer back and change nothing. 0 (also when no token is saved, or in a dry run)
 * or -1. */
int prov_drop_token(struct prov_run *run, const char *key);

/* What a hop (or a create inside it) returns when its create was refused as
 * IdempotentParameterMismatch: the saved ClientToken belongs to a create with other parameters
 * (the config changed since a killed run saved it). The token has been dropped; reading the hop
 * again and creating with a fresh token is right. */
#define PROV_HOP_RETRY 1

/* After a failed create of key at hop (run->err holding the apiclient's error): PROV_HOP_RETRY
 * when it was an IdempotentParameterMismatch and the token was dropped, else -1 (run->hop set). */
int prov_create_failed(struct prov_run *run, const char *key, const char *hop);

/* A hop: reads, then creates what is missing. 0, PROV_HOP_RETRY or -1. */
typedef int (*prov_hop_fn)(struct prov_run *run, struct path_ids *ids);

/* Runs fn, and once more when it answered PROV_HOP_RETRY. 0 or -1. */
int prov_run_hop(struct prov_run *run, prov_hop_fn fn, struct path_ids *ids);

/* Records an id found by reading (not created) in the state, saving when it changed. 0 or -1. */
int prov_note_id(struct prov_run *run, const char *key, const char *id);

#endif
