/*
 * provconfig_parse — private to the provisioner's config loader: the parse state shared by the
 * line reader and key table (provconfig.c) and the whole-file checks and defaults
 * (provconfig_check.c). Not part of any public contract.
 */
#ifndef PLPROV_PROVCONFIG_PARSE_H
#define PLPROV_PROVCONFIG_PARSE_H

#include <stddef.h>

#include "plprov/provconfig.h"

enum section {
    SEC_NONE = 0,     /* before the first header */
    SEC_PROVIDER = 1, /* [provider] */
    SEC_ES = 2,       /* [elasticsearch] */
    SEC_PATH = 3,     /* [path] */
    SEC_CLB = 4,      /* [clb] */
    SEC_NLB = 5,      /* [nlb] */
    SEC_EPS = 6,      /* [endpoint_service] */
    SEC_VERIFY = 7,   /* [verify] */
    SEC_SKIP = 8,     /* an unknown header: its keys are not reported again */
    SEC_COUNT = 9,
};

enum value_type {
    T_TEXT = 0,       /* any printable text */
    T_TOKEN = 1,      /* [A-Za-z0-9._-]+ (regions, zones, names, variable names) */
    T_URL = 2,        /* http:// or https://, host[:port], no path */
    T_PATH = 3,       /* a file path */
    T_IPV4 = 4,       /* literal IPv4 address */
    T_PORT = 5,       /* 1..65535 */
    T_BOOL = 6,       /* true/false/yes/no/on/off/1/0 */
    T_TOPOLOGY = 7,   /* clb-ecs | nlb-ip */
    T_ECS_LIST = 8,   /* i-..., by commas */
    T_PORT_LIST = 9,  /* ports, by commas */
    T_ZONES = 10,     /* zone:vsw-..., by commas */
    T_FORBIDDEN = 11, /* a key that must never be set (password) */
    T_SECONDS = 12,   /* whole seconds, 1..PROV_CONFIG_MAX_SECONDS, into a long */
    T_SCHEME = 13,    /* http | https */
};

struct key {
    enum section section;
    const char *name;
    enum value_type type;
    size_t offset; /* into struct prov_config */
    size_t size;   /* bytes of a char[] field */
    const char *prefix;
};

#define PROV_CFG_MAX_KEYS 64 /* keys in the table; provconfig.c checks it at compile time */

struct parse {
    struct prov_config *cfg;
    struct prov_config_errors *errs;
    const char *text;
    size_t len, pos;
    int line;                         /* physical line last handed to inih */
    enum section section;             /* current section */
    int section_lines[SEC_COUNT];     /* first header line of each section, 0 = absent */
    int key_lines[PROV_CFG_MAX_KEYS]; /* line each key was set on, 0 = unset */
};

extern const char *const prov_cfg_section_names[SEC_COUNT];

/* Records one error at line (0: the whole file). */
void prov_cfg_error(struct parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies src into dst[size]; -1 (dst untouched) when it does not fit. */
int prov_cfg_copy(char *dst, size_t size, const char *src);

/* 1 when key `name` of section sec was set in the file. */
int prov_cfg_key_set(const struct parse *p, enum section sec, const char *name);

/* Whole-file checks (required keys, topology-specific sections) and defaults. */
void prov_cfg_finish(struct parse *p);

#endif
