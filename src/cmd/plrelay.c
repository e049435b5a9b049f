/*
 * plrelay — the daemon's command line. Everything real lives in plrelay_core; this file only
 * turns argv into a config load, a config check or a run.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plrelay/config.h"
#include "plrelay/log.h"
#include "plrelay/runtime.h"

#define DEFAULT_CONFIG "/etc/plrelay/plrelay.ini"

static void usage(FILE *out)
{
    fprintf(out, "Usage: plrelay [-c FILE]        run in the foreground, logging to stderr\n"
                 "       plrelay -t [-c FILE]     check the configuration and exit\n"
                 "       plrelay --version | --help\n"
                 "\n"
                 "A TCP forwarding proxy for the backend of an Alibaba Cloud PrivateLink endpoint\n"
                 "service: it relays what Elasticsearch sends through the private connection.\n"
                 "\n"
                 "Options:\n"
                 "  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
                 "  -t, --test          check the configuration, print every error as\n"
                 "                      file:line: reason, and exit\n"
                 "  -V, --version       print the version and exit\n"
                 "  -h, --help          print this help and exit\n"
                 "\n"
                 "Signals: TERM or INT stop accepting and drain live connections for up to\n"
                 "drain_timeout (a second one closes them at once); PIPE is ignored.\n"
                 "\n"
                 "Exit status:\n"
                 "  0  clean shutdown, or the configuration is valid (-t)\n"
                 "  1  the configuration is invalid\n"
                 "  2  bad command line\n"
                 "  3  could not start (e.g. a listen address is in use)\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"test", no_argument, NULL, 't'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = DEFAULT_CONFIG;
    int test_only = 0, c;

    while ((c = getopt_long(argc, argv, "c:tVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 't':
            test_only = 1;
            break;
        case 'V':
            printf("plrelay %s\n", PLRELAY_VERSION);
            return PLR_EXIT_OK;
        case 'h':
            usage(stdout);
            return PLR_EXIT_OK;
        default:
            usage(stderr);
            return PLR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "plrelay: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return PLR_EXIT_USAGE;
    }

    struct plr_config_errors errs;
    struct plr_config *cfg = plr_config_load(path, &errs);
    if (cfg == NULL) {
        plr_config_errors_print(&errs, STDERR_FILENO);
        if (!test_only)
            fprintf(stderr, "plrelay: not started: the configuration has errors\n");
        return PLR_EXIT_CONFIG;
    }
    if (test_only) {
        printf("%s: configuration OK\n", path);
        plr_config_unref(cfg);
        return PLR_EXIT_OK;
    }
    plr_log(PLR_LOG_INFO, "plrelay %s starting with %s", PLRELAY_VERSION, path);
    return plr_runtime_run(cfg);
}
