/*
 * Unit tests of the pieces apply and destroy stand on: the state file (include/plprov/state.h),
 * the bounded status wait (prov_run_wait, include/plprov/run.h) driven by a fake clock, and the
 * reindex.remote.whitelist edit (prov_es_whitelist_edit, include/plprov/es.h).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply_int.h"
#include "plprov/run.h"
#include "plprov/state.h"

TestSuite(prov_state, .timeout = 10);

static struct prov_config cfg;
static char dir[64];

static void setup_cfg(void)
{
    memset(&cfg, 0, sizeof(cfg));
    snprintf(dir, sizeof(dir), "/tmp/plprov-state-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cfg.state_file, sizeof(cfg.state_file), "%s/state.json", dir);
    snprintf(cfg.region, sizeof(cfg.region), "cn-hangzhou");
    snprintf(cfg.name, sizeof(cfg.name), "plrelay");
    cfg.topology = PROV_TOPOLOGY_NLB_IP;
    cfg.wait_timeout_s = 30;
}

static void teardown_cfg(void)
{
    char lock[sizeof(cfg.state_file) + 8];

    snprintf(lock, sizeof(lock), "%s.lock", cfg.state_file);
    unlink(lock);
    unlink(cfg.state_file);
    rmdir(dir);
}

Test(prov_state, one_run_at_a_time_per_state_file, .init = setup_cfg, .fini = teardown_cfg)
{
    struct prov_state *a = NULL, *b = NULL;
    char err[512];

    cr_assert_eq(prov_state_load(&cfg, &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(prov_state_load(&cfg, &b, err, sizeof(err)), -1);
    cr_assert_null(b);
    cr_assert(strstr(err, "another plrelay-provision is working on this state file") != NULL, "%s",
              err);
    prov_state_free(a);
    cr_assert_eq(prov_state_load(&cfg, &b, err, sizeof(err)), 0, "released by free: %s", err);
    prov_state_free(b);
}

static json_t *file_json(void)
{
    json_error_t e;
    json_t *doc = json_load_file(cfg.state_file, 0, &e);
    cr_assert_not_null(doc, "state file: %s", e.text);
    return doc;
}

Test(prov_state, token_is_saved_before_it_is_returned, .init = setup_cfg, .fini = teardown_cfg)
{
    struct prov_state *s = NULL;
    char err[256], token[PROV_STATE_TOKEN_BYTES], again[PROV_STATE_TOKEN_BYTES];
    struct stat st;
    json_t *doc;

    cr_assert_eq(prov_state_load(&cfg, &s, err, sizeof(err)), 0, "%s", err);
    cr_assert(prov_state_empty(s));
    cr_assert_eq(prov_state_token(s, "lb", token, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(strncmp(token, "plrelay-", 8), 0);
    cr_assert_eq(strlen(token), 8 + 32);
    doc = file_json();
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(doc, "resources"), "lb"), "client_token")),
                     token);
    json_decref(doc);
    cr_assert_eq(stat(cfg.state_file, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "state file mode %o", st.st_mode & 0777);
    prov_state_free(s);

    /* a crashed run: the next one gets the same token back */
    cr_assert_eq(prov_state_load(&cfg, &s, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(prov_state_token(s, "lb", again, err, sizeof(err)), 0);
    cr_assert_str_eq(again, token);
    /* recording the id drops the token; the next create of the hop gets a fresh one */
    cr_assert_eq(prov_state_created(s, "lb", "nlb-123", err, sizeof(err)), 0);
    cr_assert_str_eq(prov_state_get(s, "lb", "id"), "nlb-123");
    cr_assert_null(prov_state_get(s, "lb", "client_token"));
    cr_assert_eq(prov_state_token(s, "lb", again, err, sizeof(err)), 0);
    cr_assert_str_neq(again, token);
    prov_state_free(s);
}

Test(prov_state, ids_and_domain_survive_a_reload, .init = setup_cfg, .fini = teardown_cfg)
{
    struct prov_state *s = NULL;
    char err[256];
    json_t *doc;

    cr_assert_eq(prov_state_load(&cfg, &s, err, sizeof(err)), 0);
    cr_assert_eq(prov_state_created(s, "service", "epsrv-1", err, sizeof(err)), 0);
    cr_assert_eq(prov_state_set_domain(s, "ep-1.epsrv-1.cn-hangzhou.privatelink.aliyuncs.com"), 0);
    cr_assert_eq(prov_state_save(s, err, sizeof(err)), 0, "%s", err);
    prov_state_free(s);
    cr_assert_eq(prov_state_load(&cfg, &s, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(prov_state_get(s, "service", "id"), "epsrv-1");
    cr_assert_str_eq(prov_state_domain(s), "ep-1.epsrv-1.cn-hangzhou.privatelink.aliyuncs.com");
    cr_assert_not(prov_state_empty(s));
    doc = file_json();
    cr_assert_str_eq(json_string_value(json_object_get(doc, "endpoint_domain")),
                     "ep-1.epsrv-1.cn-hangzhou.privatelink.aliyuncs.com");
    json_decref(doc);
    cr_assert_eq(prov_state_set(s, "service", "id", NULL), 0);
    cr_assert(prov_state_empty(s), "a key without fields is removed");
    cr_assert_eq(prov_state_set_domain(s, NULL), 0);
    cr_assert_null(prov_state_domain(s));
    cr_assert_eq(prov_state_remove(s, err, sizeof(err)), 0);
    cr_assert_neq(access(cfg.state_file, F_OK), 0);
    cr_assert_eq(prov_state_remove(s, err, sizeof(err)), 0, "a missing file is fine");
    prov_state_free(s);
}

Test(prov_state, another_configs_file_is_refused, .init = setup_cfg, .fini = teardown_cfg)
{
    struct prov_state *s = NULL;
    char err[512];

    cr_assert_eq(prov_state_load(&cfg, &s, err, sizeof(err)), 0);
    cr_assert_eq(prov_state_save(s, err, sizeof(err)), 0);
    prov_state_free(s);
    snprintf(cfg.name, sizeof(cfg.name), "other");
    cr_assert_eq(prov_state_load(&cfg, &s, err, sizeof(err)), -1);
    cr_assert_null(s);
    cr_assert(strstr(err, "belongs to name \"plrelay\"") != NULL, "%s", err);
    snprintf(cfg.name, sizeof(cfg.name), "plrelay");
    cfg.topology = PROV_TOPOLOGY_CLB_ECS;
    cr_assert_eq(prov_state_load(&cfg, &s, err, sizeof(err)), -1);
    cr_assert(strstr(err, "belongs to topology \"nlb-ip\"") != NULL, "%s", err);
}

Test(prov_state, a_broken_file_is_an_error_with_its_line, .init = setup_cfg, .fini = teardown_cfg)
{
    struct prov_state *s = NULL;
    char err[512];
    FILE *f = fopen(cfg.state_file, "w");

    cr_assert_not_null(f);
    fputs("{\"version\": 1,\n \"resources\": {\n", f);
    fclose(f);
    cr_assert_eq(prov_state_load(&cfg, &s, err, sizeof(err)), -1);
    cr_assert(strstr(err, "cannot read the state file") != NULL, "%s", err);
    cr_assert(strstr(err, cfg.state_file) != NULL, "%s", err);
}

/* ---- prov_run_wait on a fake clock ---------------------------------------------------------- */

struct fake {
    int64_t now;
    long slept[32];
    int sleeps;
    int done_at; /* probe call that reports done; 0 = never */
    int calls;
    int fail_at;
};

static int64_t fake_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static void fake_sleep(void *ctx, long ms)
{
    struct fake *f = ctx;
    if (f->sleeps < 32) {
        f->slept[f->sleeps] = ms;
    }
    f->sleeps++;
    f->now += ms;
}

static int fake_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    struct fake *f = ctx;
    f->calls++;
    if (f->fail_at != 0 && f->calls == f->fail_at) {
        snprintf(run->err, sizeof(run->err), "probe broke");
        return -1;
    }
    snprintf(status, size, "Provisioning");
    return f->done_at != 0 && f->calls >= f->done_at;
}

static void fake_run(struct prov_run *run, struct fake *f)
{
    cr_assert_eq(prov_run_init(run, NULL, &cfg, NULL), 0);
    run->now_ms = fake_now;
    run->sleep_ms = fake_sleep;
    run->hook_ctx = f;
    run->progress = NULL;
}

Test(prov_state, wait_polls_at_once_then_backs_off_to_five_seconds, .init = setup_cfg,
     .fini = teardown_cfg)
{
    struct fake f = {.done_at = 7};
    struct prov_run run;

    fake_run(&run, &f);
    cr_assert_eq(prov_run_wait(&run, "nlb", "the NLB", 600, fake_probe, &f), 0);
    cr_assert_eq(f.calls, 7);
    cr_assert_eq(f.sleeps, 6);
    cr_assert_eq(f.slept[0], 1000);
    cr_assert_eq(f.slept[1], 1500);
    cr_assert_eq(f.slept[2], 2250);
    cr_assert_eq(f.slept[3], 3375);
    cr_assert_eq(f.slept[4], 5000);
    cr_assert_eq(f.slept[5], 5000);
    prov_run_cleanup(&run);
}

Test(prov_state, wait_gives_up_at_its_timeout_with_the_last_status, .init = setup_cfg,
     .fini = teardown_cfg)
{
    struct fake f = {.done_at = 0};
    struct prov_run run;

    fake_run(&run, &f);
    cr_assert_eq(prov_run_wait(&run, "es connection", "Connected", 30, fake_probe, &f), -1);
    cr_assert_eq(f.now, 30000, "the last poll is at the bound (%lld)", (long long)f.now);
    cr_assert_eq(f.calls, 10);
    cr_assert_str_eq(run.hop, "es connection");
    cr_assert(strstr(run.err, "timed out after 30 s waiting for Connected") != NULL, "%s", run.err);
    cr_assert(strstr(run.err, "last status: Provisioning") != NULL, "%s", run.err);
    prov_run_cleanup(&run);
}

Test(prov_state, a_failing_probe_stops_the_wait, .init = setup_cfg, .fini = teardown_cfg)
{
    struct fake f = {.fail_at = 2};
    struct prov_run run;

    fake_run(&run, &f);
    cr_assert_eq(prov_run_wait(&run, "nlb", "the NLB", 600, fake_probe, &f), -1);
    cr_assert_eq(f.calls, 2);
    cr_assert_str_eq(run.hop, "nlb");
    cr_assert_str_eq(run.err, "probe broke");
    prov_run_cleanup(&run);
}

/* ---- reindex.remote.whitelist ---------------------------------------------------------------- */

Test(prov_state, whitelist_entries_are_added_once_and_removed_exactly)
{
    char out[256];

    cr_assert_eq(prov_es_whitelist_edit("", "ep-1.x:9200", 1, out, sizeof(out)), 1);
    cr_assert_str_eq(out, "ep-1.x:9200");
    cr_assert_eq(
        prov_es_whitelist_edit("a:9200, ep-1.x:9200 ,b:9200", "ep-1.x:9200", 1, out, sizeof(out)),
        0);
    cr_assert_eq(prov_es_whitelist_edit("a:9200,,b:9200", "ep-1.x:9200", 1, out, sizeof(out)), 1);
    cr_assert_str_eq(out, "a:9200,b:9200,ep-1.x:9200");
    cr_assert_eq(prov_es_whitelist_edit("ep-1.x:92000,a:9200", "ep-1.x:9200", 1, out, sizeof(out)),
                 1, "a longer entry is another entry");
    cr_assert_eq(prov_es_whitelist_edit("a:9200, ep-1.x:9200", "ep-1.x:9200", 0, out, sizeof(out)),
                 1);
    cr_assert_str_eq(out, "a:9200");
    cr_assert_eq(prov_es_whitelist_edit("ep-1.x:9200", "ep-1.x:9200", 0, out, sizeof(out)), 1);
    cr_assert_str_eq(out, "", "the last entry removed leaves an empty value");
    cr_assert_eq(prov_es_whitelist_edit("a:9200", "ep-1.x:9200", 0, out, sizeof(out)), 0);
}

Test(prov_state, a_whitelist_that_would_not_fit_is_refused_not_cut)
{
    char out[16];

    cr_assert_eq(prov_es_whitelist_edit("a:9200,b:9200", "ep-1.x:9200", 1, out, sizeof(out)), -1);
    cr_assert_eq(
        prov_es_whitelist_edit("aaaaaaaaaaaaaaaaaaaa:9200,b:1", "b:1", 0, out, sizeof(out)), -1,
        "removing must not drop the other entries either");
    cr_assert_eq(prov_es_whitelist_edit("a:9200,ep-1.x:9200", "ep-1.x:9200", 1, out, sizeof(out)),
                 0, "presence is known even when the list is long");
    cr_assert_eq(prov_es_whitelist_edit("a:1", "b:2", 1, out, sizeof(out)), 1);
    cr_assert_str_eq(out, "a:1,b:2");
}
