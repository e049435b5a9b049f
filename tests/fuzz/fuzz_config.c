/*
 * fuzz_config — libFuzzer target for the config loader: the input, made a C string, goes to
 * plr_config_load_string and must neither crash nor leak, whether it loads or not (the error
 * list is printed too). Short inputs also go to the value parsers directly. The hosts-file
 * parser has its own target, fuzz_hosts.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plrelay/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_values(const char *text)
{
    char reason[PLR_CONFIG_REASON_MAX], buf[PLR_SOCKADDR_STRLEN];
    struct plr_hostport hp, *list = NULL;
    size_t bytes, count;
    uint64_t v;

    plr_config_parse_duration(text, &v, reason, sizeof(reason));
    plr_config_parse_size(text, &bytes, reason, sizeof(reason));
    plr_config_parse_uint(text, 1, 65535, &v, reason, sizeof(reason));
    if (plr_config_parse_hostport(text, 0, &hp, reason, sizeof(reason)) == 0 && hp.is_literal) {
        plr_sockaddr_str((const struct sockaddr *)&hp.addr, buf, sizeof(buf));
    }
    if (plr_config_parse_hostport_list(text, 0, &list, &count, reason, sizeof(reason)) == 0) {
        free(list);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int devnull = -2;
    struct plr_config_errors errs;
    struct plr_config *cfg;
    char *text = malloc(size + 1);

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (devnull == -2) {
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    }

    cfg = plr_config_load_string("fuzz.ini", text, &errs);
    if (cfg == NULL && devnull >= 0) {
        plr_config_errors_print(&errs, devnull);
    }
    plr_config_unref(plr_config_ref(cfg));
    plr_config_unref(cfg);

    if (size < 300) {
        fuzz_values(text);
    }
    free(text);
    return 0;
}
