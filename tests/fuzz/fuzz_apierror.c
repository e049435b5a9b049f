/*
 * fuzz_apierror — what the provisioner reads out of a cloud answer it did not expect: the error
 * body parser (JSON with either capitalisation, nested Error, or XML), the classification of the
 * code it found, and the reindex.remote.whitelist edit fed with the bytes as a list. Any input
 * must leave every field NUL-terminated and printable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plprov/apiclient.h"
#include "plprov/es.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    if (n == cap) {
        abort(); /* not terminated */
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            abort(); /* control characters become spaces */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct prov_api_error e;
    char list[PROV_ES_WHITELIST_BYTES], text[2048], out[2048];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;

    if (prov_api_parse_error((const char *)data, size, &e) == 0 && e.code[0] == '\0') {
        abort(); /* 0 means a Code was found */
    }
    check_field(e.code, sizeof(e.code));
    check_field(e.message, sizeof(e.message));
    check_field(e.request_id, sizeof(e.request_id));
    (void)prov_api_classify(400, e.code, e.message, NULL);
    (void)prov_api_classify(503, e.code, e.message, NULL);
    (void)prov_api_code_is_not_found(e.code);

    memcpy(text, data, n);
    text[n] = '\0';
    if (prov_es_whitelist_edit(text, "ep-1.epsrv-1.cn-hangzhou.privatelink.aliyuncs.com:9200", 1,
                               out, sizeof(out)) == 1 &&
        strstr(out, "ep-1.epsrv-1.cn-hangzhou.privatelink.aliyuncs.com:9200") == NULL) {
        abort(); /* when the edit says it added the entry, the entry is there */
    }
    (void)prov_es_whitelist_edit(text, "a:9200", 0, list, sizeof(list));
    return 0;
}
