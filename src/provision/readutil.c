/*
 * readutil — helpers shared by the typed read wrappers (src/provision/readutil_int.h): one call
 * with "not found" separated from other failures, and bounded copies of JSON fields, so every
 * wrapper is a parameter list and a loop over the answer.
 */
#include "readutil_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int prov_read_call(struct prov_apiclient *c, const struct prov_api_call *call, json_t **json,
                   char *err, size_t err_size)
{
    struct prov_api_result res;
    int rc;

    *json = NULL;
    prov_api_result_init(&res);
    if (prov_api_call(c, call, &res, err, err_size) == 0) {
        *json = res.json;
        res.json = NULL;
        if (*json == NULL) {
            *json = json_object();
        }
        rc = *json != NULL ? 0 : -1;
        if (rc != 0) {
            snprintf(err, err_size, "%s: out of memory", call->action);
        }
    } else {
        rc = res.kind == PROV_API_NOT_FOUND ? 1 : -1;
    }
    prov_api_result_cleanup(&res);
    return rc;
}

void prov_read_str(const json_t *obj, const char *key, char *dst, size_t size)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    if (size == 0) {
        return;
    }
    dst[0] = '\0';
    if (json_is_string(v)) {
        snprintf(dst, size, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(dst, size, "%lld", (long long)json_integer_value(v));
    } else if (json_is_boolean(v)) {
        snprintf(dst, size, "%s", json_is_true(v) ? "true" : "false");
    }
}

long long prov_read_int(const json_t *obj, const char *key, long long dflt)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    const char *s;
    char *end = NULL;
    long long n;

    if (json_is_integer(v)) {
        return (long long)json_integer_value(v);
    }
    if (!json_is_string(v)) {
        return dflt;
    }
    s = json_string_value(v);
    n = strtoll(s, &end, 10);
    return (end != s && *end == '\0') ? n : dflt;
}

json_t *prov_read_list(const json_t *obj, const char *a, const char *b)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, a) : NULL;

    if (json_is_array(v)) {
        return v;
    }
    if (b != NULL && json_is_object(v)) {
        v = json_object_get(v, b);
        if (json_is_array(v)) {
            return v;
        }
    }
    return NULL;
}

int prov_read_field(struct prov_apiclient *c, const struct prov_api_call *call, const char *field,
                    char *out, size_t size, char *err, size_t err_size)
{
    json_t *json = NULL;
    int rc = prov_read_call(c, call, &json, err, err_size);

    out[0] = '\0';
    if (rc == 0) {
        prov_read_str(json, field, out, size);
        json_decref(json);
    }
    return rc;
}
