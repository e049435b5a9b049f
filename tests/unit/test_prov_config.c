/*
 * test_prov_config — unit tests of src/provision/provconfig.c (include/plprov/provconfig.h).
 *
 * Valid files of both topologies (and the committed examples) load with their defaults filled;
 * malformed files are a table of (text, expected "line: reason" fragment); a file with several
 * mistakes reports all of them, each with its line, in one load.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "plprov/provconfig.h"

TestSuite(prov_config, .timeout = 10);

#define PROVIDER "[provider]\nregion = cn-hangzhou\n"
#define ES "[elasticsearch]\ninstance_id = es-cn-test\npassword_env = ES_PASSWORD\n"
#define CLB_PATH "[path]\ntopology = clb-ecs\nvpc_id = vpc-1\n"
#define CLB "[clb]\nvswitch_id = vsw-1\necs_instances = i-1, i-2\nlistener_ports = 389, 3128\n"
#define NLB_PATH "[path]\ntopology = nlb-ip\nvpc_id = vpc-1\n"
#define NLB "[nlb]\nzones = cn-hangzhou-i:vsw-i, cn-hangzhou-j:vsw-j\ntarget_ip = 192.168.1.5\n"

static struct prov_config cfg;
static struct prov_config_errors errs;

static char *all_errors(void)
{
    static char buf[8192];
    prov_config_errors_format(&errs, buf, sizeof(buf));
    return buf;
}

Test(prov_config, clb_ecs_loads_with_defaults)
{
    int rc = prov_config_load_string("/etc/p/x.ini", PROVIDER ES CLB_PATH CLB, &cfg, &errs);
    cr_assert_eq(rc, 0, "%s", all_errors());
    cr_assert_eq(cfg.topology, PROV_TOPOLOGY_CLB_ECS);
    cr_assert_str_eq(cfg.region, "cn-hangzhou");
    cr_assert_eq(cfg.ecs_instance_count, 2);
    cr_assert_str_eq(cfg.ecs_instances[1], "i-2");
    cr_assert_eq(cfg.listener_port_count, 2);
    cr_assert_eq(cfg.listener_ports[0], 389);
    cr_assert_eq(cfg.listener_ports[1], 3128);
    cr_assert_str_eq(cfg.es_username, "elastic");
    cr_assert_str_eq(cfg.name, "plrelay");
    cr_assert_str_eq(cfg.clb_spec, "slb.s1.small");
    cr_assert_str_eq(cfg.state_file, "/etc/p/plrelay-provision.state.json");
    cr_assert_eq(cfg.auto_accept, 0);
    cr_assert_str_eq(cfg.endpoint_slb, "");
}

Test(prov_config, nlb_ip_loads_zones_and_target)
{
    int rc =
        prov_config_load_string("x.ini",
                                PROVIDER "endpoint_nlb = http://127.0.0.1:8080\n" ES NLB_PATH NLB
                                         "[endpoint_service]\nauto_accept = true\n",
                                &cfg, &errs);
    cr_assert_eq(rc, 0, "%s", all_errors());
    cr_assert_eq(cfg.topology, PROV_TOPOLOGY_NLB_IP);
    cr_assert_eq(cfg.zone_count, 2);
    cr_assert_str_eq(cfg.zones[1].zone_id, "cn-hangzhou-j");
    cr_assert_str_eq(cfg.zones[1].vswitch_id, "vsw-j");
    cr_assert_str_eq(cfg.target_ip, "192.168.1.5");
    cr_assert_eq(cfg.target_port, 9200);
    cr_assert_eq(cfg.nlb_listener_port, 9200);
    cr_assert_eq(cfg.auto_accept, 1);
    cr_assert_str_eq(cfg.endpoint_nlb, "http://127.0.0.1:8080");
    cr_assert_str_eq(cfg.state_file, "plrelay-provision.state.json");
    cr_assert_eq(cfg.wait_timeout_s, PROV_CONFIG_DEFAULT_WAIT_S);
    cr_assert_eq(cfg.es_wait_timeout_s, PROV_CONFIG_DEFAULT_ES_WAIT_S);
    cr_assert_str_eq(cfg.verify_remote_url, "http://192.168.1.5:9200");
    cr_assert_str_eq(cfg.verify_remote_scheme, "http");
    cr_assert_str_eq(cfg.verify_remote_username, "elastic");
    cr_assert_str_eq(cfg.verify_dest_index, "", "no source, no default destination");
    cr_assert_eq(cfg.verify_timeout_s, PROV_CONFIG_DEFAULT_VERIFY_S);
}

Test(prov_config, verify_section_and_timeouts)
{
    int rc = prov_config_load_string("x.ini",
                                     PROVIDER
                                     "wait_timeout = 5\nes_wait_timeout = 86400\n" ES NLB_PATH NLB
                                     "[verify]\nsource_index = logs-1\n"
                                     "remote_scheme = https\n"
                                     "remote_password_env = REMOTE_PW\n"
                                     "timeout = 30\n",
                                     &cfg, &errs);
    cr_assert_eq(rc, 0, "%s", all_errors());
    cr_assert_eq(cfg.wait_timeout_s, 5);
    cr_assert_eq(cfg.es_wait_timeout_s, 86400);
    cr_assert_str_eq(cfg.verify_source_index, "logs-1");
    cr_assert_str_eq(cfg.verify_dest_index, "plrelay-verify-logs-1");
    cr_assert_str_eq(cfg.verify_remote_scheme, "https");
    cr_assert_str_eq(cfg.verify_remote_password_env, "REMOTE_PW");
    cr_assert_eq(cfg.verify_timeout_s, 30);
}

Test(prov_config, crlf_bom_and_inline_comments)
{
    int rc = prov_config_load_string("x.ini",
                                     "\xEF\xBB\xBF[provider] ; c\r\n  region = cn-beijing ; c\r\n"
                                     "\r\n" ES CLB_PATH CLB,
                                     &cfg, &errs);
    cr_assert_eq(rc, 0, "%s", all_errors());
    cr_assert_str_eq(cfg.region, "cn-beijing");
}

Test(prov_config, committed_examples_load)
{
    static const char *const files[] = {"conf/provision-clb.example.ini",
                                        "conf/provision-nlb.example.ini"};
    size_t i;
    for (i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", PLPROV_SOURCE_DIR, files[i]);
        cr_assert_eq(prov_config_load(path, &cfg, &errs), 0, "%s", all_errors());
    }
}

struct bad {
    const char *text;
    const char *expect; /* fragment of the formatted errors */
};

static const struct bad bad_cases[] = {
    {PROVIDER ES CLB_PATH CLB "[elasticsearch]\n", "x.ini:13: duplicate section [elasticsearch]"},
    {PROVIDER "[elasticsearch]\ninstance_id = es-1\npassword = hunter2\n" CLB_PATH CLB,
     "x.ini:5: a password never goes in this file"},
    {PROVIDER ES CLB_PATH CLB "bogus = 1\n", "x.ini:13: unknown key \"bogus\" in [clb]"},
    {PROVIDER "region = x\n" ES CLB_PATH CLB, "x.ini:3: duplicate key \"region\" in [provider] "
                                              "(first at line 2)"},
    {"region = x\n" PROVIDER ES CLB_PATH CLB, "x.ini:1: key \"region\" before the first"},
    {PROVIDER "[nope]\nx = 1\n" ES CLB_PATH CLB, "x.ini:3: unknown section [nope]"},
    {PROVIDER "endpoint_slb = ftp://x\n" ES CLB_PATH CLB, "x.ini:3: endpoint_slb:"},
    {PROVIDER "endpoint_slb = http://h/path\n" ES CLB_PATH CLB, "x.ini:3: endpoint_slb:"},
    {PROVIDER ES "[path]\ntopology = alb\nvpc_id = vpc-1\n" CLB, "x.ini:7: topology: \"alb\""},
    {PROVIDER ES "[path]\ntopology = clb-ecs\nvpc_id = net-1\n" CLB,
     "x.ini:8: vpc_id: \"net-1\" does not start with \"vpc-\""},
    {PROVIDER ES CLB_PATH "[clb]\nvswitch_id = vsw-1\necs_instances = i-1, ,i-2\n"
                          "listener_ports = 389\n",
     "x.ini:11: ecs_instances: empty element"},
    {PROVIDER ES CLB_PATH "[clb]\nvswitch_id = vsw-1\necs_instances = i-1, i-1\n"
                          "listener_ports = 389\n",
     "\"i-1\" is listed twice"},
    {PROVIDER ES CLB_PATH "[clb]\nvswitch_id = vsw-1\necs_instances = i-1\n"
                          "listener_ports = 389, 70000\n",
     "x.ini:12: listener_ports: \"70000\" is not a port"},
    {PROVIDER ES CLB_PATH "[clb]\nvswitch_id = vsw-1\necs_instances = i-1\n",
     "x.ini:9: [clb] needs listener_ports"},
    {PROVIDER ES CLB_PATH, "x.ini: topology = clb-ecs needs a [clb] section"},
    {PROVIDER ES CLB_PATH CLB NLB, "[nlb] is not used with topology = clb-ecs"},
    {PROVIDER ES NLB_PATH "[nlb]\nzones = cn-hangzhou-i:vsw-i\ntarget_ip = 10.0.0.1\n",
     "an NLB needs at least 2 zones"},
    {PROVIDER ES NLB_PATH "[nlb]\nzones = cn-hangzhou-i:vsw-i, cn-hangzhou-i:vsw-k\n"
                          "target_ip = 10.0.0.1\n",
     "zone \"cn-hangzhou-i\" is listed twice"},
    {PROVIDER ES NLB_PATH "[nlb]\nzones = a:vsw-1, b:vsw-2\ntarget_ip = es.example\n",
     "x.ini:11: target_ip: \"es.example\" is not an IPv4 address"},
    {PROVIDER ES NLB_PATH "[nlb]\nzones = a:vsw-1, b:sw-2\ntarget_ip = 10.0.0.1\n",
     "x.ini:10: zones: \"b:sw-2\" is not ZONE:VSWITCH"},
    {PROVIDER "[elasticsearch]\ninstance_id = es-1\nzone_id = c\n" NLB_PATH
              "[nlb]\nzones = a:vsw-1, b:vsw-2\ntarget_ip = 10.0.0.1\n",
     "zone_id \"c\" is not one of the [nlb] zones"},
    {PROVIDER
     "[elasticsearch]\ninstance_id = es-1\npassword_env = A\npassword_file = /f\n" CLB_PATH CLB,
     "password_env and password_file are exclusive"},
    {PROVIDER ES CLB_PATH CLB "[endpoint_service]\nauto_accept = maybe\n",
     "x.ini:14: auto_accept: \"maybe\" is not true or false"},
    {PROVIDER "wait_timeout = 0\n" ES CLB_PATH CLB,
     "x.ini:3: wait_timeout: \"0\" is not whole seconds (1..86400)"},
    {PROVIDER "wait_timeout = 5m\n" ES CLB_PATH CLB, "wait_timeout: \"5m\" is not whole seconds"},
    {PROVIDER ES NLB_PATH NLB "[verify]\nremote_scheme = ftp\n",
     "remote_scheme: \"ftp\" is not http or https"},
    {PROVIDER ES NLB_PATH NLB "[verify]\nremote_password = x\n",
     "use remote_password_env = VARIABLE"},
    {PROVIDER ES NLB_PATH NLB "[verify]\nremote_password_env = A\nremote_password_file = /f\n",
     "remote_password_env and remote_password_file are exclusive"},
    {PROVIDER ES CLB_PATH CLB "just words\n", "x.ini:13: expected \"key = value\""},
    {PROVIDER ES CLB_PATH CLB "[endpoint_service]\ndescription = a\x01"
                              "b\n",
     "x.ini:14: line contains the control character 0x01"},
    {"[provider]\n" ES CLB_PATH CLB, "x.ini:1: [provider] needs region"},
    {PROVIDER "[elasticsearch]\nusername = x\n" CLB_PATH CLB, "[elasticsearch] needs instance_id"},
};

Test(prov_config, malformed_files_are_reported_with_their_line)
{
    size_t i;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        int rc = prov_config_load_string("x.ini", bad_cases[i].text, &cfg, &errs);
        cr_assert_eq(rc, -1, "case %zu loaded", i);
        cr_assert(strstr(all_errors(), bad_cases[i].expect) != NULL,
                  "case %zu: expected \"%s\" in:\n%s", i, bad_cases[i].expect, all_errors());
        cr_assert_str_eq(cfg.region, "", "case %zu: config not zeroed on failure", i);
    }
}

Test(prov_config, every_error_of_a_file_in_one_run)
{
    int rc = prov_config_load_string("x.ini",
                                     "[provider]\nregion = bad region\nendpoint_nlb = x\n"
                                     "[elasticsearch]\npassword = p\n[path]\ntopology = nlb-ip\n",
                                     &cfg, &errs);
    cr_assert_eq(rc, -1);
    cr_assert_geq(errs.count, 5, "%s", all_errors());
    cr_assert(strstr(all_errors(), "x.ini:2: region:") != NULL, "%s", all_errors());
    cr_assert(strstr(all_errors(), "x.ini:3: endpoint_nlb:") != NULL, "%s", all_errors());
    cr_assert(strstr(all_errors(), "x.ini:5: a password never") != NULL, "%s", all_errors());
    cr_assert(strstr(all_errors(), "needs vpc_id") != NULL, "%s", all_errors());
    cr_assert(strstr(all_errors(), "needs an [nlb] section") != NULL, "%s", all_errors());
    cr_assert(strstr(all_errors(), "p\n") == NULL || strstr(all_errors(), "= p") == NULL);
}

Test(prov_config, missing_file_is_one_error)
{
    cr_assert_eq(prov_config_load("/nonexistent/p.ini", &cfg, &errs), -1);
    cr_assert(strstr(all_errors(), "/nonexistent/p.ini: cannot open") != NULL, "%s", all_errors());
}

Test(prov_config, topology_names)
{
    cr_assert_str_eq(prov_config_topology_name(PROV_TOPOLOGY_CLB_ECS), "clb-ecs");
    cr_assert_str_eq(prov_config_topology_name(PROV_TOPOLOGY_NLB_IP), "nlb-ip");
    cr_assert_str_eq(prov_config_topology_name(PROV_TOPOLOGY_NONE), "none");
}
