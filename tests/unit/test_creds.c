/*
 * test_creds — unit tests of src/provision/creds.c and creds_imds.c (include/plprov/creds.h).
 *
 * The chain is driven through its options: a fake environment (getenv hook), profile files written
 * by the test into a private temporary directory with chosen modes and owners, and a minimal HTTP
 * responder thread on 127.0.0.1 standing in for the ECS metadata service (real libcurl requests,
 * canned answers, every request recorded). Nothing leaves the loopback interface.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plprov/apiclient.h"
#include "plprov/creds.h"

#define SECRET "s3cr3tValueNeverShown"
#define TOKEN "imds-token-value"

/* ---- fake environment ------------------------------------------------------------------ */

struct fakeenv {
    const char *kv[16][2];
};

static const char *fake_getenv(void *ctx, const char *name)
{
    struct fakeenv *e = ctx;

    for (size_t i = 0; i < 16 && e->kv[i][0] != NULL; i++)
        if (strcmp(e->kv[i][0], name) == 0)
            return e->kv[i][1];
    return NULL;
}

static struct prov_creds_options opts_with(struct fakeenv *e, unsigned skip)
{
    struct prov_creds_options o = {0};

    o.getenv_fn = fake_getenv;
    o.getenv_ctx = e;
    o.skip = skip;
    o.profile_path = "/nonexistent/plprov-test/config.json";
    return o;
}

/* ---- profile files --------------------------------------------------------------------- */

static char tmpdir[64];

static const char *write_file(const char *name, const char *text, mode_t mode)
{
    static char path[256];
    int fd;

    if (tmpdir[0] == '\0') {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/plprov-creds-XXXXXX");
        cr_assert_not_null(mkdtemp(tmpdir));
    }
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    cr_assert_eq(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

#define PROFILE_AK                                                                              \
    "{\"current\":\"default\",\"profiles\":[{\"name\":\"default\",\"mode\":\"AK\","             \
    "\"access_key_id\":\"LTAIprofile\",\"access_key_secret\":\"" SECRET "\","                   \
    "\"region_id\":\"cn-shanghai\"},{\"name\":\"sts\",\"mode\":\"StsToken\",\"access_key_id\":" \
    "\"STS.id\",\"access_key_secret\":\"" SECRET "\",\"sts_token\":\"sts-tok\"},"               \
    "{\"name\":\"role\",\"mode\":\"EcsRamRole\",\"ram_role_name\":\"prof-role\","               \
    "\"region_id\":\"cn-beijing\"},{\"name\":\"arn\",\"mode\":\"RamRoleArn\","                  \
    "\"access_key_id\":\"x\",\"access_key_secret\":\"y\"}]}"

/* Removes what write_file created (runs after every test, in the test's process). */
static void remove_tmpdir(void)
{
    char path[256];

    if (tmpdir[0] == '\0')
        return;
    snprintf(path, sizeof(path), "%s/config.json", tmpdir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/x", tmpdir);
    unlink(path);
    rmdir(tmpdir);
}

TestSuite(creds, .timeout = 10, .fini = remove_tmpdir);

/* ---- loopback metadata responder --------------------------------------------------------- */

struct route {
    const char *method;
    const char *path;
    int status;
    const char *body;
};

struct responder {
    int fd;
    int port;
    pthread_t thread;
    const struct route *routes;
    size_t nroutes;
    volatile int stop;
    pthread_mutex_t mu;
    char seen[16][200]; /* "METHOD PATH token|-" */
    int nseen;
};

static void serve_one(struct responder *r, int c)
{
    char req[8192], method[16] = "", path[160] = "", resp[4096];
    const char *tok, *end;
    size_t n = 0;
    int token_ok = 0, status = 404;
    const char *body = "not found";

    while (n < sizeof(req) - 1) {
        ssize_t got = read(c, req + n, sizeof(req) - 1 - n);

        if (got <= 0)
            break;
        n += (size_t)got;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            break;
    }
    req[n] = '\0';
    end = strchr(req, ' ');
    if (end != NULL && (size_t)(end - req) < sizeof(method)) {
        memcpy(method, req, (size_t)(end - req));
        const char *p2 = strchr(end + 1, ' ');
        if (p2 != NULL && (size_t)(p2 - end - 1) < sizeof(path))
            memcpy(path, end + 1, (size_t)(p2 - end - 1));
    }
    tok = strcasestr(req, "\r\nX-aliyun-ecs-metadata-token: ");
    token_ok = tok != NULL && strncmp(tok + 31, TOKEN "\r\n", strlen(TOKEN) + 2) == 0;
    for (size_t i = 0; i < r->nroutes; i++)
        if (strcmp(r->routes[i].method, method) == 0 && strcmp(r->routes[i].path, path) == 0) {
            status = r->routes[i].status;
            body = r->routes[i].body;
        }
    pthread_mutex_lock(&r->mu);
    if (r->nseen < 16)
        snprintf(r->seen[r->nseen++], sizeof(r->seen[0]), "%s %s %s", method, path,
                 token_ok ? "token" : "-");
    pthread_mutex_unlock(&r->mu);
    n = (size_t)snprintf(resp, sizeof(resp),
                         "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         status, strlen(body), body);
    cr_assert_eq(write(c, resp, n), (ssize_t)n);
    close(c);
}

static void *serve(void *arg)
{
    struct responder *r = arg;

    while (!r->stop) {
        struct pollfd p = {r->fd, POLLIN, 0};
        int c;

        if (poll(&p, 1, 50) <= 0)
            continue;
        c = accept(r->fd, NULL, NULL);
        if (c >= 0)
            serve_one(r, c);
    }
    return NULL;
}

static void responder_start(struct responder *r, const struct route *routes, size_t n)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);

    memset(r, 0, sizeof(*r));
    r->routes = routes;
    r->nroutes = n;
    pthread_mutex_init(&r->mu, NULL);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(r->fd, 16), 0);
    cr_assert_eq(getsockname(r->fd, (struct sockaddr *)&a, &len), 0);
    r->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&r->thread, NULL, serve, r), 0);
}

static void responder_stop(struct responder *r)
{
    r->stop = 1;
    pthread_join(r->thread, NULL);
    close(r->fd);
}

static const char *url_of(const struct responder *r)
{
    static char url[64];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d", r->port);
    return url;
}

#define ROLE_PATH "/latest/meta-data/ram/security-credentials/"
#define CREDS_DOC                                                                            \
    "{\"Code\":\"Success\",\"AccessKeyId\":\"STS.imds\",\"AccessKeySecret\":\"" SECRET "\"," \
    "\"SecurityToken\":\"sts-token-from-imds\",\"Expiration\":\"2030-01-02T03:04:05Z\","     \
    "\"LastUpdated\":\"2030-01-01T21:04:05Z\"}"

static const struct route IMDS_V2[] = {
    {"PUT", "/latest/api/token", 200, TOKEN},      {"GET", ROLE_PATH, 200, "the-role\n"},
    {"GET", ROLE_PATH "the-role", 200, CREDS_DOC}, {"GET", ROLE_PATH "prof-role", 200, CREDS_DOC},
    {"GET", ROLE_PATH "env-role", 200, CREDS_DOC},
};

/* ---- environment ------------------------------------------------------------------------- */

Test(creds, env_keys_come_first_even_with_a_profile)
{
    struct fakeenv e = {{{"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv"},
                         {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET},
                         {"ALIBABA_CLOUD_REGION_ID", "cn-hangzhou"}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_creds *c = NULL;
    char err[512];

    o.profile_path = write_file("config.json", PROFILE_AK, 0600);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c->source, PROV_CREDS_SOURCE_ENV);
    cr_assert_str_eq(c->access_key_id, "LTAIenv");
    cr_assert_str_eq(c->access_key_secret, SECRET);
    cr_assert_str_eq(c->security_token, "");
    cr_assert_str_eq(c->region_id, "cn-hangzhou");
    cr_assert_str_eq(c->description, "environment (AccessKey)");
    cr_assert_str_eq(prov_creds_source_name(c->source), "environment");
    prov_creds_free(c);
}

Test(creds, env_security_token_makes_sts_credentials)
{
    struct fakeenv e = {{{"ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.x"},
                         {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET},
                         {"ALIBABA_CLOUD_SECURITY_TOKEN", "tok"}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_sign_credentials view;
    struct prov_creds *c = NULL;
    char err[512];

    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c->security_token, "tok");
    cr_assert_str_eq(c->description, "environment (STS token)");
    prov_creds_sign_view(c, &view);
    cr_assert_str_eq(view.access_key_id, "STS.x");
    cr_assert_str_eq(view.security_token, "tok");
    prov_creds_free(c);
}

Test(creds, env_with_only_one_half_is_an_error_not_a_fallthrough)
{
    struct fakeenv e = {{{"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv"}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_creds *c = (struct prov_creds *)1;
    char err[512];

    o.profile_path = write_file("config.json", PROFILE_AK, 0600);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1);
    cr_assert_null(c);
    cr_assert(strstr(err, "ALIBABA_CLOUD_ACCESS_KEY_SECRET is not") != NULL, "%s", err);
}

Test(creds, env_bad_value_message_names_the_variable_never_the_value)
{
    struct fakeenv e = {{{"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI"},
                         {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET " with space"}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_creds *c = NULL;
    char err[512];

    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1);
    cr_assert(strstr(err, "ALIBABA_CLOUD_ACCESS_KEY_SECRET") != NULL, "%s", err);
    cr_assert_null(strstr(err, SECRET));
}

Test(creds, nothing_found_names_every_source_tried)
{
    struct fakeenv e = {{{NULL, NULL}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_creds *c = NULL;
    char err[1024];

    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1);
    cr_assert(strstr(err, "ALIBABA_CLOUD_ACCESS_KEY_ID not set") != NULL, "%s", err);
    cr_assert(strstr(err, "/nonexistent/plprov-test/config.json does not exist") != NULL, "%s",
              err);
}

/* ---- profile file ------------------------------------------------------------------------ */

Test(creds, profile_ak_mode_with_0600_is_used)
{
    struct fakeenv e = {{{NULL, NULL}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_creds *c = NULL;
    char err[512];

    o.profile_path = write_file("config.json", PROFILE_AK, 0600);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c->source, PROV_CREDS_SOURCE_PROFILE);
    cr_assert_str_eq(c->access_key_id, "LTAIprofile");
    cr_assert_str_eq(c->access_key_secret, SECRET);
    cr_assert_str_eq(c->region_id, "cn-shanghai");
    cr_assert(strstr(c->description, "profile 'default' in ") != NULL, "%s", c->description);
    cr_assert_null(strstr(c->description, SECRET));
    prov_creds_free(c);
}

Test(creds, profile_readable_by_others_is_refused_like_ssh)
{
    static const mode_t modes[] = {0644, 0640, 0604, 0660, 0606};
    struct fakeenv e = {{{NULL, NULL}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_creds *c = NULL;
    char err[512];

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        o.profile_path = write_file("config.json", PROFILE_AK, modes[i]);
        cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1, "mode %o", modes[i]);
        cr_assert(strstr(err, "too open") != NULL, "%s", err);
        cr_assert(strstr(err, "chmod 600") != NULL, "%s", err);
        cr_assert_null(strstr(err, SECRET));
    }
}

Test(creds, profile_owned_by_another_user_is_refused)
{
    struct fakeenv e = {{{NULL, NULL}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_creds *c = NULL;
    char err[512];

    if (geteuid() != 0)
        cr_skip_test("needs root to give the file to another user");
    o.profile_path = write_file("config.json", PROFILE_AK, 0600);
    cr_assert_eq(chown(o.profile_path, 65534, 65534), 0);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1);
    cr_assert(strstr(err, "owned by uid 65534") != NULL, "%s", err);
}

Test(creds, check_file_refuses_a_directory)
{
    char err[512];
    int fd;

    write_file("x", "", 0600);
    fd = open(tmpdir, O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(prov_creds_check_file(fd, tmpdir, err, sizeof(err)), -1);
    cr_assert(strstr(err, "not a regular file") != NULL, "%s", err);
    close(fd);
}

Test(creds, profile_sts_token_mode_and_profile_chosen_by_env)
{
    struct fakeenv e = {{{"ALIBABA_CLOUD_PROFILE", "sts"}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_creds *c = NULL;
    char err[512];

    o.profile_path = write_file("config.json", PROFILE_AK, 0600);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c->access_key_id, "STS.id");
    cr_assert_str_eq(c->security_token, "sts-tok");
    cr_assert(strstr(c->description, "(StsToken)") != NULL, "%s", c->description);
    prov_creds_free(c);
}

Test(creds, profile_missing_name_and_unsupported_mode_are_errors)
{
    char err[512], role[64];
    struct prov_creds c;

    prov_creds_init(&c);
    cr_assert_eq(prov_creds_parse_profile(PROFILE_AK, strlen(PROFILE_AK), "nope", "/p", &c, role,
                                          sizeof(role), err, sizeof(err)),
                 -1);
    cr_assert(strstr(err, "profile 'nope' in /p: no such profile") != NULL, "%s", err);
    cr_assert_eq(prov_creds_parse_profile(PROFILE_AK, strlen(PROFILE_AK), "arn", "/p", &c, role,
                                          sizeof(role), err, sizeof(err)),
                 -1);
    cr_assert(strstr(err, "mode 'RamRoleArn' is not supported") != NULL, "%s", err);
    cr_assert_str_eq(c.access_key_id, ""); /* nothing written on failure */
}

Test(creds, profile_ecs_ram_role_mode_returns_the_role_name)
{
    char err[512], role[64];
    struct prov_creds c;

    prov_creds_init(&c);
    cr_assert_eq(prov_creds_parse_profile(PROFILE_AK, strlen(PROFILE_AK), "role", "/p", &c, role,
                                          sizeof(role), err, sizeof(err)),
                 1);
    cr_assert_str_eq(role, "prof-role");
    cr_assert_str_eq(c.region_id, "cn-beijing");
}

Test(creds, profile_malformed_json_message_shows_no_input)
{
    static const char bad[] = "{\"profiles\":[{\"access_key_secret\":\"" SECRET "\" oops";
    char err[512], role[64];
    struct prov_creds c;

    prov_creds_init(&c);
    cr_assert_eq(prov_creds_parse_profile(bad, strlen(bad), NULL, "/p", &c, role, sizeof(role), err,
                                          sizeof(err)),
                 -1);
    cr_assert(strstr(err, "invalid JSON at line 1") != NULL, "%s", err);
    cr_assert_null(strstr(err, SECRET));
    cr_assert_null(strstr(err, "oops"));
}

Test(creds, profile_disabled_by_env_is_skipped)
{
    struct fakeenv e = {{{"ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "TRUE"}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_creds *c = NULL;
    char err[1024];

    o.profile_path = write_file("config.json", PROFILE_AK, 0600);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1);
    cr_assert(strstr(err, "disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED") != NULL, "%s", err);
}

/* ---- metadata service -------------------------------------------------------------------- */

Test(creds, metadata_imdsv2_token_first_then_sent_on_every_get)
{
    struct fakeenv e = {{{NULL, NULL}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_PROFILE);
    struct prov_creds *c = NULL;
    struct responder r;
    char err[1024];

    responder_start(&r, IMDS_V2, sizeof(IMDS_V2) / sizeof(IMDS_V2[0]));
    o.metadata_url = url_of(&r);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), 0, "%s", err);
    responder_stop(&r);
    cr_assert_eq(r.nseen, 3);
    cr_assert_str_eq(r.seen[0], "PUT /latest/api/token -");
    cr_assert_str_eq(r.seen[1], "GET " ROLE_PATH " token");
    cr_assert_str_eq(r.seen[2], "GET " ROLE_PATH "the-role token");
    cr_assert_eq(c->source, PROV_CREDS_SOURCE_ECS_RAM_ROLE);
    cr_assert_str_eq(c->access_key_id, "STS.imds");
    cr_assert_str_eq(c->access_key_secret, SECRET);
    cr_assert_str_eq(c->security_token, "sts-token-from-imds");
    cr_assert_eq(c->expiration_unix_s, INT64_C(1893553445)); /* 2030-01-02T03:04:05Z */
    cr_assert(strstr(c->description, "ECS RAM role 'the-role'") != NULL, "%s", c->description);
    cr_assert(strstr(c->description, "IMDSv2 token") != NULL, "%s", c->description);
    prov_creds_free(c);
}

Test(creds, metadata_falls_back_to_the_plain_form_when_no_token_is_issued)
{
    static const struct route routes[] = {
        {"PUT", "/latest/api/token", 403, "forbidden"},
        {"GET", ROLE_PATH, 200, "the-role"},
        {"GET", ROLE_PATH "the-role", 200, CREDS_DOC},
    };
    struct fakeenv e = {{{NULL, NULL}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_PROFILE);
    struct prov_creds *c = NULL;
    struct responder r;
    char err[1024];

    responder_start(&r, routes, 3);
    o.metadata_url = url_of(&r);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), 0, "%s", err);
    responder_stop(&r);
    cr_assert_eq(r.nseen, 3);
    cr_assert_str_eq(r.seen[1], "GET " ROLE_PATH " -");
    cr_assert(strstr(c->description, "IMDSv1, no token") != NULL, "%s", c->description);
    prov_creds_free(c);
}

Test(creds, metadata_plain_form_refused_when_imdsv1_is_disabled)
{
    static const struct route routes[] = {{"PUT", "/latest/api/token", 403, "no"}};
    struct fakeenv e = {{{"ALIBABA_CLOUD_IMDSV1_DISABLED", "true"}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_PROFILE);
    struct prov_creds *c = NULL;
    struct responder r;
    char err[1024];

    responder_start(&r, routes, 1);
    o.metadata_url = url_of(&r);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1);
    responder_stop(&r);
    cr_assert_eq(r.nseen, 1);
    cr_assert(strstr(err, "ALIBABA_CLOUD_IMDSV1_DISABLED") != NULL, "%s", err);
}

Test(creds, metadata_role_from_env_skips_discovery)
{
    struct fakeenv e = {{{"ALIBABA_CLOUD_ECS_METADATA", "env-role"}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_PROFILE);
    struct prov_creds *c = NULL;
    struct responder r;
    char err[1024];

    responder_start(&r, IMDS_V2, sizeof(IMDS_V2) / sizeof(IMDS_V2[0]));
    o.metadata_url = url_of(&r);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), 0, "%s", err);
    responder_stop(&r);
    cr_assert_eq(r.nseen, 2);
    cr_assert_str_eq(r.seen[1], "GET " ROLE_PATH "env-role token");
    prov_creds_free(c);
}

Test(creds, profile_ecs_ram_role_mode_goes_through_the_metadata_service)
{
    struct fakeenv e = {{{"ALIBABA_CLOUD_PROFILE", "role"}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_METADATA);
    struct prov_creds *c = NULL;
    struct responder r;
    char err[1024];

    responder_start(&r, IMDS_V2, sizeof(IMDS_V2) / sizeof(IMDS_V2[0]));
    o.metadata_url = url_of(&r);
    o.profile_path = write_file("config.json", PROFILE_AK, 0600);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), 0, "%s", err);
    responder_stop(&r);
    cr_assert_eq(r.nseen, 2);
    cr_assert_str_eq(r.seen[1], "GET " ROLE_PATH "prof-role token");
    cr_assert_eq(c->source, PROV_CREDS_SOURCE_ECS_RAM_ROLE);
    cr_assert_str_eq(c->region_id, "cn-beijing");
    cr_assert(strstr(c->description, "as profile 'role'") != NULL, "%s", c->description);
    prov_creds_free(c);
}

Test(creds, metadata_without_an_attached_role_is_absent)
{
    static const struct route routes[] = {{"PUT", "/latest/api/token", 200, TOKEN}};
    struct fakeenv e = {{{NULL, NULL}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_PROFILE);
    struct prov_creds *c = NULL;
    struct responder r;
    char err[1024];

    responder_start(&r, routes, 1); /* the role listing answers 404 */
    o.metadata_url = url_of(&r);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1);
    responder_stop(&r);
    cr_assert(strstr(err, "no Alibaba Cloud credentials found") != NULL, "%s", err);
    cr_assert(strstr(err, "no RAM role is attached") != NULL, "%s", err);
}

Test(creds, metadata_unreachable_is_absent)
{
    struct fakeenv e = {{{NULL, NULL}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_PROFILE);
    struct prov_creds *c = NULL;
    struct responder r;
    char err[1024], url[64];

    responder_start(&r, NULL, 0);
    snprintf(url, sizeof(url), "%s", url_of(&r));
    responder_stop(&r); /* the port is now closed: connection refused */
    o.metadata_url = url;
    o.metadata_timeout_ms = 500;
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1);
    cr_assert(strstr(err, "ECS metadata http://127.0.0.1:") != NULL, "%s", err);
    cr_assert(strstr(err, "could not connect") != NULL, "%s", err);
}

Test(creds, metadata_disabled_by_env_is_not_contacted)
{
    struct fakeenv e = {{{"ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_PROFILE);
    struct prov_creds *c = NULL;
    struct responder r;
    char err[1024];

    responder_start(&r, IMDS_V2, sizeof(IMDS_V2) / sizeof(IMDS_V2[0]));
    o.metadata_url = url_of(&r);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1);
    responder_stop(&r);
    cr_assert_eq(r.nseen, 0);
    cr_assert(strstr(err, "disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED") != NULL, "%s", err);
}

Test(creds, metadata_failed_document_is_an_error)
{
    static const struct route routes[] = {
        {"PUT", "/latest/api/token", 200, TOKEN},
        {"GET", ROLE_PATH, 200, "the-role"},
        {"GET", ROLE_PATH "the-role", 200, "{\"Code\":\"Failed\"}"},
    };
    struct fakeenv e = {{{NULL, NULL}}};
    struct prov_creds_options o = opts_with(&e, PROV_CREDS_SKIP_PROFILE);
    struct prov_creds *c = NULL;
    struct responder r;
    char err[1024];

    responder_start(&r, routes, 3);
    o.metadata_url = url_of(&r);
    cr_assert_eq(prov_creds_resolve(&o, &c, err, sizeof(err)), -1);
    responder_stop(&r);
    cr_assert(strstr(err, "Code is 'Failed', not 'Success'") != NULL, "%s", err);
}

Test(creds, parse_metadata_requires_every_field)
{
    static const char *const bad[] = {
        "{\"Code\":\"Success\",\"AccessKeySecret\":\"s\",\"SecurityToken\":\"t\","
        "\"Expiration\":\"2030-01-02T03:04:05Z\"}",
        "{\"Code\":\"Success\",\"AccessKeyId\":\"i\",\"AccessKeySecret\":\"s\","
        "\"Expiration\":\"2030-01-02T03:04:05Z\"}",
        "{\"Code\":\"Success\",\"AccessKeyId\":\"i\",\"AccessKeySecret\":\"s\","
        "\"SecurityToken\":\"t\",\"Expiration\":\"soon\"}",
        "[1,2]",
        "",
    };
    struct prov_creds c;
    char err[512];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        prov_creds_init(&c);
        cr_assert_eq(prov_creds_parse_metadata(bad[i], strlen(bad[i]), &c, err, sizeof(err)), -1,
                     "case %zu", i);
        cr_assert_str_eq(c.access_key_id, "");
    }
    cr_assert_eq(prov_creds_parse_metadata(CREDS_DOC, strlen(CREDS_DOC), &c, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_eq(c.source, PROV_CREDS_SOURCE_ECS_RAM_ROLE);
    prov_creds_cleanup(&c);
}

/* ---- small functions --------------------------------------------------------------------- */

Test(creds, iso8601_parses_only_the_exact_form)
{
    int64_t t = 0;

    cr_assert_eq(prov_creds_parse_iso8601("1970-01-01T00:00:00Z", &t), 0);
    cr_assert_eq(t, 0);
    cr_assert_eq(prov_creds_parse_iso8601("2006-01-02T15:04:05Z", &t), 0);
    cr_assert_eq(t, INT64_C(1136214245));
    cr_assert_eq(prov_creds_parse_iso8601("2024-02-29T23:59:59Z", &t), 0);
    cr_assert_eq(t, INT64_C(1709251199));
    cr_assert_eq(prov_creds_parse_iso8601("2006-01-02 15:04:05Z", &t), -1);
    cr_assert_eq(prov_creds_parse_iso8601("2006-13-02T15:04:05Z", &t), -1);
    cr_assert_eq(prov_creds_parse_iso8601("2006-01-02T15:04:05", &t), -1);
    cr_assert_eq(prov_creds_parse_iso8601("2006-01-02T15:04:05+08:00", &t), -1);
    cr_assert_eq(prov_creds_parse_iso8601(NULL, &t), -1);
}

Test(creds, expires_within_is_false_for_long_term_keys)
{
    struct prov_creds c;

    prov_creds_init(&c);
    cr_assert_eq(prov_creds_expires_within(&c, 1000, 1000000), 0);
    c.expiration_unix_s = 5000;
    cr_assert_eq(prov_creds_expires_within(&c, 1000, 3999), 0);
    cr_assert_eq(prov_creds_expires_within(&c, 1000, 4000), 1);
}

/* ---- refresh through the API client -------------------------------------------------------- */

/* A metadata document for key id `id` expiring `in_s` seconds from now (real clock). */
static const char *creds_doc_expiring(char *buf, size_t size, const char *id, long in_s)
{
    time_t t = time(NULL) + in_s;
    struct tm tm;
    char when[32];

    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(buf, size,
             "{\"Code\":\"Success\",\"AccessKeyId\":\"%s\",\"AccessKeySecret\":\"" SECRET "\","
             "\"SecurityToken\":\"sts-token-%s\",\"Expiration\":\"%s\",\"LastUpdated\":\"%s\"}",
             id, id, when, when);
    return buf;
}

struct seen_request {
    char headers[4096];
    int calls;
};

static int record_transport(void *ctx, const struct prov_http_request *req,
                            struct prov_http_response *resp)
{
    static const char body[] = "{\"RequestId\":\"R\"}";
    struct seen_request *s = ctx;
    size_t len = 0;

    s->calls++;
    s->headers[0] = '\0';
    for (size_t h = 0; h < req->header_count; h++)
        len +=
            (size_t)snprintf(s->headers + len, sizeof(s->headers) - len, "%s\n", req->headers[h]);
    resp->status = 200;
    return prov_http_response_set_body(resp, body, sizeof(body) - 1);
}

Test(creds, the_api_client_refreshes_metadata_credentials_near_their_expiration)
{
    static const struct prov_sign_kv params[] = {{"RegionId", "cn-hangzhou"}};
    static const struct prov_api_call call = {.product = PROV_API_SLB,
                                              .action = "DescribeLoadBalancers",
                                              .params = params,
                                              .param_count = 1};
    struct route routes[] = {
        {"PUT", "/latest/api/token", 200, TOKEN},
        {"GET", ROLE_PATH, 200, "the-role\n"},
        {"GET", ROLE_PATH "the-role", 200, NULL},
    };
    struct fakeenv e = {{{NULL, NULL}}};
    struct prov_creds_refresher ref = {0};
    struct prov_api_options ao = {0};
    struct seen_request seen = {0};
    struct prov_apiclient *client;
    struct prov_api_result res;
    struct responder r;
    char soon[512], later[512], err[1024];

    ref.opt = opts_with(&e, PROV_CREDS_SKIP_PROFILE);
    routes[2].body = creds_doc_expiring(soon, sizeof(soon), "STS.first", 120);
    responder_start(&r, routes, 3);
    ref.opt.metadata_url = url_of(&r);
    cr_assert_eq(prov_creds_resolve(&ref.opt, &ref.current, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(prov_creds_expires_within(ref.current, (int64_t)time(NULL), 300), 1);
    routes[2].body = creds_doc_expiring(later, sizeof(later), "STS.rotated", 6 * 3600);

    for (int p = 0; p < PROV_API_PRODUCT_COUNT; p++)
        ao.product[p].base_url = "http://127.0.0.1:9";
    ao.hooks.transport = record_transport;
    ao.hooks.ctx = &seen;
    ao.refresh = (struct prov_api_refresh){prov_creds_refresh, &ref, 0};
    client = prov_api_new(&ao, ref.current, err, sizeof(err));
    cr_assert_not_null(client, "%s", err);
    cr_assert_eq(prov_api_call(client, &call, &res, err, sizeof(err)), 0, "%s", err);
    prov_api_result_cleanup(&res);
    cr_assert_eq(prov_api_call(client, &call, &res, err, sizeof(err)), 0, "%s", err);
    prov_api_result_cleanup(&res);
    prov_api_free(client);
    responder_stop(&r);

    cr_assert_eq(ref.refreshes, 1, "refreshed once, then the rotated credentials were kept");
    cr_assert_eq(r.nseen, 6, "the token, the role and the credentials, twice");
    cr_assert_str_eq(r.seen[3], "PUT /latest/api/token -");
    cr_assert_str_eq(r.seen[5], "GET " ROLE_PATH "the-role token");
    cr_assert_str_eq(ref.current->access_key_id, "STS.rotated");
    cr_assert_eq(seen.calls, 2);
    cr_assert(strstr(seen.headers, "Credential=STS.rotated,") != NULL, "%s", seen.headers);
    cr_assert(strstr(seen.headers, "x-acs-security-token: sts-token-STS.rotated") != NULL, "%s",
              seen.headers);
    prov_creds_refresher_cleanup(&ref);
    cr_assert_null(ref.current);
}

Test(creds, cleanup_wipes_every_byte)
{
    static const struct prov_creds zero;
    struct prov_creds c;

    memset(&c, 'A', sizeof(c));
    prov_creds_cleanup(&c);
    cr_assert_eq(memcmp(&c, &zero, sizeof(c)), 0);
    prov_creds_free(NULL);
}
