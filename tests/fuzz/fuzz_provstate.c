/*
 * fuzz_provstate — the provisioner's state file is read back on every run and may have been
 * edited by hand or cut short by a full disk: any bytes must load as a state or be refused with
 * a message, never crash. The bytes are served from a memfd through /proc/self/fd.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "plprov/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct prov_config cfg;
    struct prov_state *s = NULL;
    char err[512];
    int fd = memfd_create("state", MFD_CLOEXEC);

    if (fd < 0) {
        return 0;
    }
    if (write(fd, data, size) == (ssize_t)size) {
        memset(&cfg, 0, sizeof(cfg));
        snprintf(cfg.state_file, sizeof(cfg.state_file), "/proc/self/fd/%d", fd);
        snprintf(cfg.region, sizeof(cfg.region), "cn-hangzhou");
        snprintf(cfg.name, sizeof(cfg.name), "plrelay");
        cfg.topology = PROV_TOPOLOGY_NLB_IP;
        err[0] = '\0';
        if (prov_state_load(&cfg, &s, err, sizeof(err)) == 0) {
            static const char *const keys[] = {"lb",      "server_group", "listener",
                                               "service", "endpoint",     "whitelist"};
            for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                (void)prov_state_get(s, keys[i], "id");
                (void)prov_state_get(s, keys[i], "client_token");
            }
            (void)prov_state_empty(s);
            prov_state_free(s);
        } else if (s != NULL || err[0] == '\0') {
            abort(); /* a refusal leaves no state and always says why */
        }
    }
    close(fd);
    return 0;
}
