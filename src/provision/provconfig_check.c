/*
 * provconfig_check — the checks of the provisioner's config that need the whole file (required
 * keys, sections that belong to one topology, exclusive keys) and the defaults filled in after
 * them. The key-by-key reading is in provconfig.c; both share provconfig_parse.h.
 */
#include <stdio.h>
#include <string.h>

#include "provconfig_parse.h"

static void require(struct parse *p, int ok, enum section sec, const char *name)
{
    if (!ok) {
        prov_cfg_error(p, p->section_lines[sec], "[%s] needs %s", prov_cfg_section_names[sec],
                       name);
    }
}

static void check_clb(struct parse *p)
{
    struct prov_config *c = p->cfg;

    if (p->section_lines[SEC_NLB] != 0) {
        prov_cfg_error(p, p->section_lines[SEC_NLB], "[nlb] is not used with topology = clb-ecs");
    }
    if (p->section_lines[SEC_CLB] == 0) {
        prov_cfg_error(p, 0, "topology = clb-ecs needs a [clb] section");
        return;
    }
    require(p, c->clb_vswitch_id[0] != '\0', SEC_CLB, "vswitch_id");
    require(p, c->ecs_instance_count > 0, SEC_CLB, "ecs_instances (the hosts running plrelay)");
    require(p, c->listener_port_count > 0, SEC_CLB, "listener_ports (the relay's ports)");
}

static void check_nlb(struct parse *p)
{
    struct prov_config *c = p->cfg;
    size_t i;

    if (p->section_lines[SEC_CLB] != 0) {
        prov_cfg_error(p, p->section_lines[SEC_CLB], "[clb] is not used with topology = nlb-ip");
    }
    if (p->section_lines[SEC_NLB] == 0) {
        prov_cfg_error(p, 0, "topology = nlb-ip needs an [nlb] section");
        return;
    }
    if (prov_cfg_key_set(p, SEC_NLB, "zones") && c->zone_count > 0 && c->zone_count < 2) {
        prov_cfg_error(p, p->section_lines[SEC_NLB], "[nlb] zones: an NLB needs at least 2 zones");
    }
    require(p, c->zone_count > 0, SEC_NLB, "zones (ZONE:VSWITCH, at least 2)");
    require(p, c->target_ip[0] != '\0', SEC_NLB, "target_ip (the remote ES node's private IP)");
    if (c->es_zone_id[0] != '\0' && c->zone_count > 0) {
        for (i = 0; i < c->zone_count; i++) {
            if (strcmp(c->zones[i].zone_id, c->es_zone_id) == 0) {
                break;
            }
        }
        if (i == c->zone_count) {
            prov_cfg_error(p, p->section_lines[SEC_ES],
                           "[elasticsearch] zone_id \"%s\" is not one of the [nlb] zones",
                           c->es_zone_id);
        }
    }
}

/* Whole-file checks and defaults. */
static void defaults_verify(struct prov_config *c)
{
    int n;

    if (c->wait_timeout_s == 0) {
        c->wait_timeout_s = PROV_CONFIG_DEFAULT_WAIT_S;
    }
    if (c->es_wait_timeout_s == 0) {
        c->es_wait_timeout_s = PROV_CONFIG_DEFAULT_ES_WAIT_S;
    }
    if (c->verify_timeout_s == 0) {
        c->verify_timeout_s = PROV_CONFIG_DEFAULT_VERIFY_S;
    }
    if (c->verify_remote_scheme[0] == '\0') {
        prov_cfg_copy(c->verify_remote_scheme, sizeof(c->verify_remote_scheme), "http");
    }
    if (c->verify_remote_username[0] == '\0') {
        prov_cfg_copy(c->verify_remote_username, sizeof(c->verify_remote_username), "elastic");
    }
    if (c->verify_dest_index[0] == '\0' && c->verify_source_index[0] != '\0') {
        n = snprintf(c->verify_dest_index, sizeof(c->verify_dest_index), "%s%.*s",
                     PROV_CONFIG_VERIFY_DEST_PREFIX, 100, c->verify_source_index);
        (void)n;
    }
    if (c->verify_remote_url[0] == '\0' && c->target_ip[0] != '\0') {
        snprintf(c->verify_remote_url, sizeof(c->verify_remote_url), "http://%s:%u", c->target_ip,
                 (unsigned)c->target_port);
    }
}

void prov_cfg_finish(struct parse *p)
{
    struct prov_config *c = p->cfg;
    const char *slash;
    char rel[PROV_CONFIG_PATH_BYTES];
    int n;

    require(p, c->region[0] != '\0', SEC_PROVIDER, "region");
    require(p, c->es_instance_id[0] != '\0', SEC_ES, "instance_id");
    require(p, c->topology != PROV_TOPOLOGY_NONE, SEC_PATH, "topology (clb-ecs or nlb-ip)");
    require(p, c->vpc_id[0] != '\0', SEC_PATH, "vpc_id");
    if (c->es_password_env[0] != '\0' && c->es_password_file[0] != '\0') {
        prov_cfg_error(p, p->section_lines[SEC_ES],
                       "[elasticsearch] password_env and password_file are exclusive");
    }
    if (c->verify_remote_password_env[0] != '\0' && c->verify_remote_password_file[0] != '\0') {
        prov_cfg_error(p, p->section_lines[SEC_VERIFY],
                       "[verify] remote_password_env and remote_password_file are exclusive");
    }
    if (c->topology == PROV_TOPOLOGY_CLB_ECS) {
        check_clb(p);
    } else if (c->topology == PROV_TOPOLOGY_NLB_IP) {
        check_nlb(p);
    }
    if (c->es_username[0] == '\0') {
        prov_cfg_copy(c->es_username, sizeof(c->es_username), "elastic");
    }
    if (c->name[0] == '\0') {
        prov_cfg_copy(c->name, sizeof(c->name), PROV_CONFIG_DEFAULT_NAME);
    }
    if (c->clb_spec[0] == '\0') {
        prov_cfg_copy(c->clb_spec, sizeof(c->clb_spec), PROV_CONFIG_DEFAULT_CLB_SPEC);
    }
    if (c->target_port == 0) {
        c->target_port = PROV_CONFIG_ES_PORT;
    }
    if (c->nlb_listener_port == 0) {
        c->nlb_listener_port = PROV_CONFIG_ES_PORT;
    }
    if (c->description[0] == '\0') {
        prov_cfg_copy(c->description, sizeof(c->description), "plrelay private path");
    }
    defaults_verify(c);
    if (c->state_file[0] == '\0') {
        prov_cfg_copy(c->state_file, sizeof(c->state_file), PROV_CONFIG_DEFAULT_STATE_FILE);
    }
    slash = strrchr(c->path, '/');
    if (c->state_file[0] != '/' && slash != NULL) {
        prov_cfg_copy(rel, sizeof(rel), c->state_file);
        n = snprintf(c->state_file, sizeof(c->state_file), "%.*s/%s", (int)(slash - c->path),
                     c->path, rel);
        if (n < 0 || (size_t)n >= sizeof(c->state_file)) {
            prov_cfg_error(p, 0, "state_file: path too long");
        }
    }
}
