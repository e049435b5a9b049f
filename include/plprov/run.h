/*
 * run — what `apply` and `destroy` share: one context holding the client, the config, the state
 * file and the record of every write made, a write call that honours --dry-run, and the bounded
 * wait for an asynchronous status.
 *
 * Writes: prov_run_write sends one OpenAPI write and records it (product, action, detail, id) in
 * run->done, which the CLI renders. With run->dry_run it sends nothing: it prints the request
 * prov_api_dry_run builds (Authorization, Signature and the security token redacted) on run->out
 * and answers as if it had succeeded with an empty body, so the steps after it still print.
 *
 * Waits: prov_run_wait polls a probe at once, then after 1 s, backing off by 1.5x to 5 s between
 * polls, until it reports done, fails, or the timeout passes. On a terminal (run->tty) one
 * progress line on run->progress is rewritten in place; otherwise a plain line is printed each
 * time the observed status changes. In a dry run nothing is waited for.
 *
 * Failures: every function returns -1 with run->err holding the one-line reason (action, Code,
 * Message, RequestId as the apiclient wrote it) and run->hop naming the hop that failed.
 */
#ifndef PLPROV_RUN_H
#define PLPROV_RUN_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "plprov/apiclient.h"
#include "plprov/provconfig.h"
#include "plprov/state.h"

#define PROV_RUN_HOP_BYTES 96

struct prov_run {
    struct prov_apiclient *c;
    const struct prov_config *cfg;
    struct prov_state *st;
    int dry_run;
    FILE *out;         /* dry-run requests (stdout) */
    FILE *progress;    /* progress lines (stderr) */
    int tty;           /* progress is a terminal */
    json_t *done;      /* [{"product","action","id","detail"}], owned */
    size_t unrecorded; /* writes made that could not be added to done (out of memory) */
    char err[PROV_API_ERROR_BYTES];
    char hop[PROV_RUN_HOP_BYTES];
    /* test hooks; NULL = the real monotonic clock and nanosleep */
    int64_t (*now_ms)(void *ctx);
    void (*sleep_ms)(void *ctx, long ms);
    void *hook_ctx;
};

/* Outcome of one write. */
enum prov_run_rc {
    PROV_RUN_OK = 0,
    PROV_RUN_NOT_FOUND = 1,  /* the target did not exist (a delete counts it as done) */
    PROV_RUN_DEPENDENCY = 2, /* something still depends on the target (resolve, then retry) */
    PROV_RUN_FAILED = -1,    /* any other failure: run->err and run->hop set */
};

/* Sets up run (done = empty array); 0 or -1 (out of memory). */
int prov_run_init(struct prov_run *run, struct prov_apiclient *c, const struct prov_config *cfg,
                  struct prov_state *st);
void prov_run_cleanup(struct prov_run *run);

/* printf into run->err and run->hop. Always returns PROV_RUN_FAILED. */
int prov_run_fail(struct prov_run *run, const char *hop, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One write. On PROV_RUN_OK *json (when json is not NULL) holds the answer (json_decref; an empty
 * object in a dry run) and the call is recorded with detail and the id read from the answer's
 * id_field (NULL: none). */
int prov_run_write(struct prov_run *run, const struct prov_api_call *call, const char *hop,
                   const char *detail, const char *id_field, json_t **json);

/* A probe: 1 done, 0 not yet (status holds what was seen), -1 failed (run->err set). */
typedef int (*prov_run_probe)(struct prov_run *run, void *ctx, char *status, size_t size);

/* Waits for probe to report done; what names it ("NLB nlb-1 Active"). 0, or -1 (probe failed or
 * timeout_s passed: run->err says which, with the last status seen). */
int prov_run_wait(struct prov_run *run, const char *hop, const char *what, long timeout_s,
                  prov_run_probe probe, void *ctx);

/* Writes made so far (recorded in done or not): what "changed" must be computed from. */
size_t prov_run_calls(const struct prov_run *run);

/* Text id of json[field] for the record and the state ("" when absent). */
const char *prov_run_id(const json_t *json, const char *field);

#endif
