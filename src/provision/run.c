/*
 * run — the write wrapper and the status wait shared by apply and destroy (include/plprov/run.h).
 */
#include "plprov/run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_FIRST_MS 1000L
#define POLL_MAX_MS 5000L

static int64_t real_now_ms(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void real_sleep_ms(void *ctx, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    (void)ctx;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int prov_run_init(struct prov_run *run, struct prov_apiclient *c, const struct prov_config *cfg,
                  struct prov_state *st)
{
    memset(run, 0, sizeof(*run));
    run->c = c;
    run->cfg = cfg;
    run->st = st;
    run->out = stdout;
    run->progress = stderr;
    run->now_ms = real_now_ms;
    run->sleep_ms = real_sleep_ms;
    run->done = json_array();
    return run->done != NULL ? 0 : -1;
}

void prov_run_cleanup(struct prov_run *run)
{
    json_decref(run->done);
    run->done = NULL;
}

int prov_run_fail(struct prov_run *run, const char *hop, const char *fmt, ...)
{
    char text[sizeof(run->err)];
    va_list ap;

    /* Through a copy: callers pass run->err itself as an argument ("%s", run->err). */
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    memcpy(run->err, text, sizeof(run->err));
    snprintf(run->hop, sizeof(run->hop), "%s", hop);
    return PROV_RUN_FAILED;
}

size_t prov_run_calls(const struct prov_run *run)
{
    return json_array_size(run->done) + run->unrecorded;
}

const char *prov_run_id(const json_t *json, const char *field)
{
    const char *v = field != NULL ? json_string_value(json_object_get(json, field)) : NULL;

    return v != NULL ? v : "";
}

/* Records a write that was made. A record that cannot be kept (out of memory) is counted in
 * run->unrecorded, so the report never claims "nothing changed" after a real call. */
static void record(struct prov_run *run, const struct prov_api_call *call, const char *detail,
                   const char *id)
{
    if (json_array_append_new(run->done, json_pack("{s:s, s:s, s:s, s:s}", "product",
                                                   prov_api_product_name(call->product), "action",
                                                   call->action, "id", id, "detail", detail)) !=
        0) {
        run->unrecorded++;
    }
    if (!run->dry_run && run->progress != NULL) {
        fprintf(run->progress, "%s%s %s%s%s\n", run->tty ? "\r\033[K" : "", call->action, detail,
                id[0] != '\0' ? ": " : "", id);
    }
}

int prov_run_write(struct prov_run *run, const struct prov_api_call *call, const char *hop,
                   const char *detail, const char *id_field, json_t **json)
{
    struct prov_api_result res;
    char *text = NULL;
    int rc;

    if (json != NULL) {
        *json = NULL;
    }
    if (run->dry_run) {
        if (prov_api_dry_run(run->c, call, &text, run->err, sizeof(run->err)) != 0) {
            snprintf(run->hop, sizeof(run->hop), "%s", hop);
            return PROV_RUN_FAILED;
        }
        fprintf(run->out, "# %s %s: %s\n%s\n\n", prov_api_product_name(call->product), call->action,
                detail, text);
        free(text);
        record(run, call, detail, "");
        if (json != NULL) {
            *json = json_object();
        }
        return PROV_RUN_OK;
    }
    prov_api_result_init(&res);
    if (prov_api_call(run->c, call, &res, run->err, sizeof(run->err)) == 0) {
        record(run, call, detail, prov_run_id(res.json, id_field));
        if (json != NULL) {
            *json = res.json != NULL ? res.json : json_object();
            res.json = NULL;
        }
        rc = PROV_RUN_OK;
    } else if (res.kind == PROV_API_NOT_FOUND) {
        rc = PROV_RUN_NOT_FOUND;
    } else if (res.kind == PROV_API_DEPENDENCY) {
        rc = PROV_RUN_DEPENDENCY;
    } else {
        snprintf(run->hop, sizeof(run->hop), "%s", hop);
        rc = PROV_RUN_FAILED;
    }
    prov_api_result_cleanup(&res);
    return rc;
}

int prov_run_wait(struct prov_run *run, const char *hop, const char *what, long timeout_s,
                  prov_run_probe probe, void *ctx)
{
    int64_t start = run->now_ms(run->hook_ctx), now;
    long delay = POLL_FIRST_MS, next = POLL_FIRST_MS;
    char status[128] = "", last[128] = "";
    const char *shown;
    int rc;

    if (run->dry_run) {
        fprintf(run->out, "# then wait for %s\n\n", what);
        return 0;
    }
    for (;;) {
        rc = probe(run, ctx, status, sizeof(status));
        now = run->now_ms(run->hook_ctx);
        if (rc < 0) {
            snprintf(run->hop, sizeof(run->hop), "%s", hop);
            return -1;
        }
        if (rc == 1) {
            if (run->tty && run->progress != NULL && last[0] != '\0') {
                fprintf(run->progress, "\r\033[K");
            }
            return 0;
        }
        /* shown is never "", so the first poll always differs from last (""), even when the
         * probe saw nothing yet, and an unchanged empty status prints once, not at every poll. */
        shown = status[0] != '\0' ? status : "not there yet";
        if (run->progress != NULL && (run->tty || strcmp(shown, last) != 0)) {
            long secs = (long)((now - start) / 1000);
            if (run->tty) {
                fprintf(run->progress, "\r\033[Kwaiting for %s: %s (%lds)", what, shown, secs);
            } else {
                fprintf(run->progress, "waiting for %s: %s (%lds)\n", what, shown, secs);
            }
            fflush(run->progress);
        }
        snprintf(last, sizeof(last), "%s", shown);
        if (now - start >= (int64_t)timeout_s * 1000) {
            if (run->tty && run->progress != NULL) {
                fputc('\n', run->progress);
            }
            return prov_run_fail(run, hop,
                                 "timed out after %ld s waiting for %s (last status: %s); raise "
                                 "[provider] wait_timeout (es_wait_timeout for Elasticsearch) or "
                                 "look at the console, then run the command again",
                                 timeout_s, what, status[0] != '\0' ? status : "none");
        }
        if (delay > (int64_t)timeout_s * 1000 - (now - start)) {
            delay = (long)((int64_t)timeout_s * 1000 - (now - start)); /* last poll at the bound */
        }
        run->sleep_ms(run->hook_ctx, delay);
        next = next * 3 / 2 > POLL_MAX_MS ? POLL_MAX_MS : next * 3 / 2;
        delay = next;
    }
}
