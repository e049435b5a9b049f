/*
 * provconfig — the provisioner's INI file (conf/provision-*.example.ini) checked key by key into a
 * struct prov_config, with every problem reported as file:line: reason, all of them in one run.
 *
 * Sections and keys (the [provider] and [elasticsearch] keys are fixed by issue 5):
 *   [provider]        region, state_file, endpoint_slb, endpoint_nlb, endpoint_privatelink,
 *                     endpoint_elasticsearch, metadata_endpoint
 *   [elasticsearch]   instance_id, url, username, password_env | password_file, zone_id
 *                     (a `password` key is refused: secrets never live in this file)
 *   [path]            topology = clb-ecs | nlb-ip, name, vpc_id
 *   [clb]             (clb-ecs only) vswitch_id, spec, address, ecs_instances, listener_ports
 *   [nlb]             (nlb-ip only)  zones, target_ip, target_port, listener_port
 *   [endpoint_service] auto_accept, description
 *   [verify]          source_index, dest_index, remote_url, remote_scheme, remote_username,
 *                     remote_password_env | remote_password_file, timeout
 *   [provider] also   wait_timeout, es_wait_timeout (seconds)
 * Every key is documented in conf/provision-clb.example.ini and conf/provision-nlb.example.ini.
 *
 * The struct is self-contained (fixed arrays, no heap): a load fills it or leaves it zeroed, and
 * nothing needs releasing. inih splits "key = value"; the physical reading (line numbers, CRLF,
 * BOM, control bytes, over-long lines, section headers) is done here, as the relay's loader does,
 * because Debian's inih gives its handler no line number.
 */
#ifndef PLPROV_PROVCONFIG_H
#define PLPROV_PROVCONFIG_H

#include <stddef.h>
#include <stdint.h>

#define PROV_CONFIG_PATH_BYTES 4096 /* file paths, NUL included */
#define PROV_CONFIG_URL_BYTES 512   /* endpoint URLs, NUL included */
#define PROV_CONFIG_ID_BYTES 128    /* resource ids, names, regions, zones, NUL included */
#define PROV_CONFIG_TEXT_BYTES 256  /* descriptions, NUL included */
#define PROV_CONFIG_REASON_BYTES 256
#define PROV_CONFIG_MAX_ERRORS 64 /* errors kept per load; more are counted in `dropped` */
#define PROV_CONFIG_MAX_ECS 20    /* ECS backends (one AddBackendServers call holds 20) */
#define PROV_CONFIG_MAX_PORTS 16  /* CLB listeners */
#define PROV_CONFIG_MAX_ZONES 10  /* NLB zone mappings (the API's limit) */
#define PROV_CONFIG_DEFAULT_STATE_FILE "plrelay-provision.state.json"
#define PROV_CONFIG_DEFAULT_NAME "plrelay"
#define PROV_CONFIG_DEFAULT_CLB_SPEC "slb.s1.small"
#define PROV_CONFIG_ES_PORT 9200
#define PROV_CONFIG_MAX_SECONDS 86400      /* any timeout key */
#define PROV_CONFIG_DEFAULT_WAIT_S 1800    /* [provider] wait_timeout */
#define PROV_CONFIG_DEFAULT_ES_WAIT_S 3600 /* [provider] es_wait_timeout */
#define PROV_CONFIG_DEFAULT_VERIFY_S 600   /* [verify] timeout */
#define PROV_CONFIG_VERIFY_DEST_PREFIX "plrelay-verify-"

/* The two shapes of the private path (issue 5, "Two topologies"). */
enum prov_topology {
    PROV_TOPOLOGY_NONE = 0,    /* not set: an error after loading */
    PROV_TOPOLOGY_CLB_ECS = 1, /* intranet CLB, one TCP listener per relay port, ECS backends */
    PROV_TOPOLOGY_NLB_IP = 2,  /* internal NLB, IP server group holding a remote ES IP:9200 */
};

/* One NLB zone mapping: a zone and the vSwitch of the VPC in it. */
struct prov_config_zone {
    char zone_id[PROV_CONFIG_ID_BYTES];    /* "cn-hangzhou-i" */
    char vswitch_id[PROV_CONFIG_ID_BYTES]; /* "vsw-..." */
};

struct prov_config {
    char path[PROV_CONFIG_PATH_BYTES]; /* file it came from */
    /* [provider] */
    char region[PROV_CONFIG_ID_BYTES];                  /* required, "cn-hangzhou" */
    char state_file[PROV_CONFIG_PATH_BYTES];            /* relative: to the config's directory */
    char endpoint_slb[PROV_CONFIG_URL_BYTES];           /* "" = the public regional endpoint */
    char endpoint_nlb[PROV_CONFIG_URL_BYTES];           /* likewise */
    char endpoint_privatelink[PROV_CONFIG_URL_BYTES];   /* likewise */
    char endpoint_elasticsearch[PROV_CONFIG_URL_BYTES]; /* likewise */
    char metadata_endpoint[PROV_CONFIG_URL_BYTES];      /* "" = http://100.100.100.200 */
    long wait_timeout_s;    /* bound of each wait for a cloud status (job, Active, Connected) */
    long es_wait_timeout_s; /* bound of the wait for ES to be active after a YML change */
    /* [elasticsearch] */
    char es_instance_id[PROV_CONFIG_ID_BYTES];     /* required */
    char es_url[PROV_CONFIG_URL_BYTES];            /* "" = from DescribeInstance */
    char es_username[PROV_CONFIG_ID_BYTES];        /* default "elastic" */
    char es_password_env[PROV_CONFIG_ID_BYTES];    /* variable holding the password, or "" */
    char es_password_file[PROV_CONFIG_PATH_BYTES]; /* file holding it, or "" (not both) */
    char es_zone_id[PROV_CONFIG_ID_BYTES];         /* zone of the ES-side endpoint, "" = first */
    /* [path] */
    enum prov_topology topology;       /* required */
    char name[PROV_CONFIG_ID_BYTES];   /* name given to every created resource */
    char vpc_id[PROV_CONFIG_ID_BYTES]; /* required: the VPC of the LB */
    /* [clb], topology clb-ecs */
    char clb_vswitch_id[PROV_CONFIG_ID_BYTES]; /* required */
    char clb_spec[PROV_CONFIG_ID_BYTES];       /* default slb.s1.small */
    char clb_address[PROV_CONFIG_ID_BYTES];    /* fixed private IPv4, "" = assigned */
    char ecs_instances[PROV_CONFIG_MAX_ECS][PROV_CONFIG_ID_BYTES]; /* required, "i-..." */
    size_t ecs_instance_count;
    uint16_t listener_ports[PROV_CONFIG_MAX_PORTS]; /* required; backend port = listener port */
    size_t listener_port_count;
    /* [nlb], topology nlb-ip */
    struct prov_config_zone zones[PROV_CONFIG_MAX_ZONES]; /* required, at least 2 */
    size_t zone_count;
    char target_ip[PROV_CONFIG_ID_BYTES]; /* required: the remote ES node's private IPv4 */
    uint16_t target_port;                 /* default 9200 */
    uint16_t nlb_listener_port;           /* default 9200 */
    /* [endpoint_service] */
    int auto_accept;                          /* default 0: apply accepts the connection */
    char description[PROV_CONFIG_TEXT_BYTES]; /* default "plrelay private path" */
    /* [verify], used by `verify` on topology nlb-ip (reindex from remote + _count) */
    char verify_source_index[PROV_CONFIG_ID_BYTES];    /* index on the remote cluster; "" = verify
                                                        * refuses to run the reindex */
    char verify_dest_index[PROV_CONFIG_ID_BYTES];      /* default "plrelay-verify-<source_index>" */
    char verify_remote_url[PROV_CONFIG_URL_BYTES];     /* where this host reads the remote's _count;
                                                        * default http://target_ip:target_port */
    char verify_remote_scheme[8];                      /* scheme of remote.host in the reindex:
                                                        * "http" (default) or "https" */
    char verify_remote_username[PROV_CONFIG_ID_BYTES]; /* default "elastic" */
    char verify_remote_password_env[PROV_CONFIG_ID_BYTES];    /* remote password variable, or "" */
    char verify_remote_password_file[PROV_CONFIG_PATH_BYTES]; /* or file (not both) */
    long verify_timeout_s;                                    /* bound of the reindex call */
};

struct prov_config_error {
    int line; /* 0 when the error is about the whole file */
    char reason[PROV_CONFIG_REASON_BYTES];
};

/* Caller-owned error collection. */
struct prov_config_errors {
    char file[PROV_CONFIG_PATH_BYTES];
    struct prov_config_error items[PROV_CONFIG_MAX_ERRORS];
    size_t count;   /* stored items */
    size_t dropped; /* errors beyond PROV_CONFIG_MAX_ERRORS */
};

/* Load and check `path` into *out. 0, or -1 with every problem in errs (file order, then the
 * whole-file checks) and *out zeroed. Never prints. */
int prov_config_load(const char *path, struct prov_config *out, struct prov_config_errors *errs);

/* Same, from text in memory; `name` is used as the file name (and for relative state_file). */
int prov_config_load_string(const char *name, const char *text, struct prov_config *out,
                            struct prov_config_errors *errs);

/* Every error as "file:line: reason\n" (line left out when 0) into buf, truncated to size.
 * Returns the length it needed, like snprintf. */
size_t prov_config_errors_format(const struct prov_config_errors *errs, char *buf, size_t size);

/* "clb-ecs", "nlb-ip" or "none". */
const char *prov_config_topology_name(enum prov_topology t);

#endif
