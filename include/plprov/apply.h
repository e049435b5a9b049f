/*
 * apply / destroy — build and tear down the configured private path (issue 5), on a prov_run
 * (run.h) that holds the client, the config and the state file.
 *
 * apply reads each hop before it writes it, so a built path makes no create call and a half-built
 * one is completed where it stopped. Order (docs/alicloud-api.md §5):
 *   clb-ecs  CLB (wait active) → TCP listener per port (start, wait running) → ECS backends
 *   nlb-ip   NLB (wait Active) → IP server group (wait job, Available) → the remote ES IP:port
 *            (wait job; other servers removed) → TCP listener (wait job, Running)
 *   both     endpoint service on the LB (wait Active) → ES private connection → wait Connected,
 *            accepting it on every poll that finds it Pending when auto-accept is off (a
 *            connection the service side does not list yet is "not yet") → (nlb-ip)
 *            reindex.remote.whitelist gains <endpoint domain>:<listener port>, wait for ES
 *            active again, read back.
 * Every create carries a ClientToken saved in the state file before the call (state.h). A hop
 * found already as wanted drops its saved token (a killed run's token must not answer a later
 * create). A create refused as IdempotentParameterMismatch (the config changed since the token
 * was saved) drops the token, reads the hop again and creates once with a new one. Added NLB
 * servers are read back: an answer replayed for an old token is not taken as done.
 *
 * destroy goes in reverse: whitelist entry removed (nlb-ip), ES endpoint deleted, endpoint service
 * deleted (a live connection is disconnected first when the service refuses with a dependency
 * error), listeners, servers or backends, server group, load balancer; each asynchronous step is
 * waited for before the next. "Not found" counts as done. Each hop is the union of what the name
 * lookup finds and what the state file recorded; a name matching several load balancers or
 * server groups is refused before anything is deleted. When the ES endpoint is gone already, the
 * whitelist entry comes from the state file. The state file is removed at the end, only when every
 * id it records reads back as gone (else the run fails naming the one that is left).
 */
#ifndef PLPROV_APPLY_H
#define PLPROV_APPLY_H

#include "plprov/run.h"

/* 0 when the path is built (or, in a dry run, every call was printed); -1 with run->err/hop. */
int prov_apply(struct prov_run *run);

/* 0 when nothing of the path is left; -1 with run->err/hop. */
int prov_destroy(struct prov_run *run);

/* The record of a run: lines "  <product> <action> <detail>[: id]" and a last line, or
 * {"command","ok","dry_run","changed","calls":[...],"failed_hop","error","endpoint_domain"}.
 * *out is heap (free()). 0 or -1 (out of memory). */
int prov_run_render(const struct prov_run *run, const char *command, int ok, int json, char **out);

#endif
