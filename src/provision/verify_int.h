/*
 * verify_int — what verify.c (the cloud-side rows, rendering, secrets) and verify_es.c (the
 * Elasticsearch REST rows of topology nlb-ip) share. Internal to plprov.
 *
 * Every step returns 0 when its rows passed, 1 when a row failed (that row is the last one), or
 * -1 when verify could not go on at all (out of memory; the reason is the last row).
 */
#ifndef PLPROV_VERIFY_INT_H
#define PLPROV_VERIFY_INT_H

#include "plprov/verify.h"

/* Appends one row; hop and detail are made printable and valid UTF-8 (a cut sequence at the end
 * of a truncated detail is dropped). When the report is full, the last row is replaced by a
 * failure saying so. Returns 0 when ok is true, else 1, so a step can `return row(...)`. */
int prov_verify_row(struct prov_verify_report *r, const char *hop, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Replaces control bytes by spaces and invalid UTF-8 bytes by '?', in place. */
void prov_verify_printable(char *s);

/* The data-plane rows of topology nlb-ip: "remote count", "reindex", "local count",
 * "counts equal" (doc §4.6). The cloud-side rows have already passed. */
int prov_verify_es(const struct prov_config *cfg, const struct prov_actual *a,
                   const struct prov_verify_secrets *s, const struct prov_verify_options *o,
                   struct prov_verify_report *out);

#endif
