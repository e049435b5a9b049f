/*
 * test_prov_essettings — unit tests of src/provision/essettings.c (include/plprov/essettings.h):
 * the settings printed for each topology, with a relay config and without one (guessed by port),
 * the placeholder when the domain is unknown, and the state-file reader.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "plprov/essettings.h"

TestSuite(prov_essettings, .timeout = 10);

#define DOMAIN "ep-1.epsrv-1.cn-hangzhou.privatelink.aliyuncs.com"

static struct prov_config cfg;
static struct prov_config_errors errs;
static char err[256];

static void load(const char *text)
{
    cr_assert_eq(prov_config_load_string("x.ini", text, &cfg, &errs), 0);
}

#define BASE "[provider]\nregion = cn-hangzhou\n[elasticsearch]\ninstance_id = es-cn-test\n"
#define CLB                                                                        \
    BASE "[path]\ntopology = clb-ecs\nvpc_id = vpc-1\n[clb]\nvswitch_id = vsw-1\n" \
         "ecs_instances = i-1\nlistener_ports = 389, 3128, 8080\n"
#define NLB                                                                             \
    BASE "[path]\ntopology = nlb-ip\nvpc_id = vpc-1\n[nlb]\nzones = a:vsw-1, b:vsw-2\n" \
         "target_ip = 10.0.0.9\n"

static char *render(const char *domain, const struct prov_essettings_route *routes, size_t n,
                    int json)
{
    struct prov_essettings_input in = {&cfg, domain, routes, n};
    char *out = NULL;
    cr_assert_eq(prov_essettings_render(&in, json, &out, err, sizeof(err)), 0, "%s", err);
    return out;
}

Test(prov_essettings, nlb_ip_prints_the_reindex_whitelist)
{
    char *out;
    load(NLB);
    out = render(DOMAIN, NULL, 0, 0);
    cr_assert(strstr(out, "reindex.remote.whitelist: \"" DOMAIN ":9200\"\n") != NULL, "%s", out);
    free(out);
}

Test(prov_essettings, unknown_domain_gives_the_placeholder_and_a_note)
{
    char *out;
    json_t *doc;
    load(NLB);
    out = render(NULL, NULL, 0, 1);
    doc = json_loads(out, 0, NULL);
    cr_assert_not_null(doc, "%s", out);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "settings"),
                                                       "reindex.remote.whitelist")),
                     PROV_ESSETTINGS_PLACEHOLDER ":9200");
    cr_assert(json_is_false(json_object_get(doc, "domain_known")));
    json_decref(doc);
    free(out);
}

Test(prov_essettings, clb_with_relay_routes)
{
    static const struct prov_essettings_route routes[] = {
        {"ldap", 0, 389, 389},   {"watcher", 1, 3128, 0}, {"dict", 0, 8080, 443},
        {"hidden", 0, 9999, 80}, {"ldaps", 0, 636, 636},
    };
    char *out;
    load(CLB);
    out = render(DOMAIN, routes, 5, 0);
    cr_assert(strstr(out, "xpack.security.authc.realms.ldap.ldap.url: \"ldap://" DOMAIN ":389\"") !=
                  NULL,
              "%s", out);
    cr_assert(strstr(out, "xpack.http.proxy.host: \"" DOMAIN "\"\n") != NULL, "%s", out);
    cr_assert(strstr(out, "xpack.http.proxy.port: 3128\n") != NULL, "%s", out);
    cr_assert(strstr(out, "dictionary.dict.url: \"https://" DOMAIN ":8080/") != NULL, "%s", out);
    cr_assert(strstr(out, "route hidden listens on port 9999, which has no CLB listener") != NULL,
              "%s", out);
    cr_assert(strstr(out, "route ldaps listens on port 636, which has no CLB listener") != NULL,
              "%s", out);
    cr_assert(strstr(out, "guessed") == NULL, "%s", out);
    free(out);
}

Test(prov_essettings, clb_without_relay_config_guesses_by_port)
{
    char *out;
    load(CLB);
    out = render(DOMAIN, NULL, 0, 0);
    cr_assert(strstr(out, "realms.ldap.port389.url: \"ldap://" DOMAIN ":389\"") != NULL, "%s", out);
    cr_assert(strstr(out, "xpack.http.proxy.port: 3128") != NULL, "%s", out);
    cr_assert(strstr(out, "dictionary.port8080.url") != NULL, "%s", out);
    cr_assert(strstr(out, "guessed from the port") != NULL, "%s", out);
    free(out);
}

Test(prov_essettings, state_file_domain)
{
    char path[] = "/tmp/prov_state_XXXXXX", dom[256];
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(
        prov_essettings_state_domain("/nonexistent/state.json", dom, sizeof(dom), err, sizeof(err)),
        1);
    cr_assert_eq(write(fd, "{\"endpoint_domain\":\"" DOMAIN "\"}", 20 + sizeof(DOMAIN) + 1),
                 (ssize_t)(20 + sizeof(DOMAIN) + 1));
    close(fd);
    cr_assert_eq(prov_essettings_state_domain(path, dom, sizeof(dom), err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_str_eq(dom, DOMAIN);
    fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert_eq(write(fd, "{not json", 9), 9);
    close(fd);
    cr_assert_eq(prov_essettings_state_domain(path, dom, sizeof(dom), err, sizeof(err)), -1);
    cr_assert(strstr(err, path) != NULL, "%s", err);
    unlink(path);
}
