/*
 * test_prov_run — unit tests of src/provision/run.c (include/plprov/run.h): the progress lines of
 * prov_run_wait, plain and on a terminal, captured from a memory stream and driven by a fake
 * clock and a scripted probe, and the count of writes made.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plprov/run.h"

TestSuite(prov_run, .timeout = 10);

struct script {
    const char *const *statuses; /* what each poll sees; NULL ends the wait (done) */
    int calls;
    int64_t now_ms;
};

static int64_t fake_now(void *ctx)
{
    return ((struct script *)ctx)->now_ms;
}

static void fake_sleep(void *ctx, long ms)
{
    ((struct script *)ctx)->now_ms += ms;
}

static int scripted_probe(struct prov_run *run, void *ctx, char *status, size_t size)
{
    struct script *s = ctx;
    const char *st = s->statuses[s->calls++];

    (void)run;
    if (st == NULL) {
        return 1;
    }
    snprintf(status, size, "%s", st);
    return 0;
}

/* Runs one wait over statuses with progress into a memory stream; returns the text (free()). */
static char *progress_of(const char *const *statuses, int tty)
{
    static const struct prov_config cfg;
    struct script s = {statuses, 0, 0};
    struct prov_run run;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert_not_null(f);
    cr_assert_eq(prov_run_init(&run, NULL, &cfg, NULL), 0);
    run.now_ms = fake_now;
    run.sleep_ms = fake_sleep;
    run.hook_ctx = &s;
    run.progress = f;
    run.tty = tty;
    cr_assert_eq(prov_run_wait(&run, "nlb", "the NLB", 600, scripted_probe, &s), 0, "%s", run.err);
    prov_run_cleanup(&run);
    fclose(f);
    return text;
}

Test(prov_run, plain_progress_shows_the_first_poll_even_when_nothing_is_there_yet)
{
    static const char *const statuses[] = {"", "", "Provisioning", "Provisioning", NULL};
    char *text = progress_of(statuses, 0);

    cr_assert_str_eq(text, "waiting for the NLB: not there yet (0s)\n"
                           "waiting for the NLB: Provisioning (2s)\n");
    free(text);
}

Test(prov_run, terminal_progress_rewrites_one_line_and_clears_it_when_done)
{
    static const char *const statuses[] = {"", "Provisioning", NULL};
    char *text = progress_of(statuses, 1);

    cr_assert_str_eq(text, "\r\033[Kwaiting for the NLB: not there yet (0s)"
                           "\r\033[Kwaiting for the NLB: Provisioning (1s)"
                           "\r\033[K");
    free(text);
}

Test(prov_run, calls_count_the_writes_that_could_not_be_recorded)
{
    static const struct prov_config cfg;
    struct prov_run run;

    cr_assert_eq(prov_run_init(&run, NULL, &cfg, NULL), 0);
    cr_assert_eq(prov_run_calls(&run), 0);
    cr_assert_eq(json_array_append_new(run.done, json_object()), 0);
    run.unrecorded = 2;
    cr_assert_eq(prov_run_calls(&run), 3);
    prov_run_cleanup(&run);
}
