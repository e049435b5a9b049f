/*
 * fuzz_provconfig — the provisioner's INI loader must take any bytes without crashing: either the
 * file loads (and then names a topology) or every problem is reported with a line and the config
 * is left zeroed, as include/plprov/provconfig.h promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plprov/provconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct prov_config cfg;
    static struct prov_config_errors errs;
    static char buf[16384];
    char *text = malloc(size + 1);

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (prov_config_load_string("/etc/fuzz/provision.ini", text, &cfg, &errs) == 0) {
        if (cfg.topology == PROV_TOPOLOGY_NONE || cfg.region[0] == '\0') {
            abort(); /* a loaded config always has its required keys */
        }
    } else {
        if (errs.count == 0 && errs.dropped == 0) {
            abort(); /* a refused file always says why */
        }
        if (cfg.region[0] != '\0' || cfg.topology != PROV_TOPOLOGY_NONE) {
            abort(); /* and leaves nothing half-loaded */
        }
        prov_config_errors_format(&errs, buf, sizeof(buf));
    }
    free(text);
    return 0;
}
