/*
 * creds — resolves Alibaba Cloud credentials: environment, aliyun CLI profile file, ECS RAM role
 * through the instance metadata service (include/plprov/creds.h, docs/alicloud-api.md §3).
 *
 * Each source is one function returning 1 (found, *c filled), 0 (absent: try the next one, with a
 * note saying why) or -1 (present but unusable: stop, err says why). The notes of absent sources
 * become the final message when nothing is found, so an operator sees every place that was looked
 * at. The parsers are pure (bytes in, struct out) so the tests drive them without files or
 * sockets; the file and the metadata service are thin I/O around them. Everything that ever held a
 * secret — the file buffer, HTTP bodies, jansson's string copies — is cleansed before release.
 */
#include "plprov/creds.h"
#include "creds_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BYTES 4096

/* ---- small helpers --------------------------------------------------------------------------- */

void prov_creds_err(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

void prov_creds_note(struct prov_creds_chain *ch, const char *fmt, ...)
{
    size_t len = strlen(ch->notes);
    va_list ap;

    if (len > 0 && len + 2 < sizeof(ch->notes)) {
        memcpy(ch->notes + len, "; ", 3);
        len += 2;
    }
    va_start(ap, fmt);
    vsnprintf(ch->notes + len, sizeof(ch->notes) - len, fmt, ap);
    va_end(ap);
}

const char *prov_creds_env(const struct prov_creds_chain *ch, const char *name)
{
    const char *v;

    if (ch->opt->getenv_fn != NULL)
        v = ch->opt->getenv_fn(ch->opt->getenv_ctx, name);
    else
        v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

int prov_creds_env_true(const struct prov_creds_chain *ch, const char *name)
{
    const char *v = prov_creds_env(ch, name);

    return v != NULL && strcasecmp(v, "true") == 0;
}

/* Visible ASCII only (what an AccessKey, a secret, a token, a role or region name consists of). */
int prov_creds_visible(const char *s, const char *forbidden)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
            (forbidden != NULL && strchr(forbidden, *s) != NULL))
            return 0;
    return 1;
}

/* Copies a credential field after checking it; `what` and `where` only feed the message, which
 * never includes the value. */
int prov_creds_put(char *dst, size_t size, const char *src, const char *what, const char *where,
                   char *err, size_t err_size)
{
    size_t n = src != NULL ? strlen(src) : 0;

    if (n == 0) {
        prov_creds_err(err, err_size, "%s: %s is missing or empty", where, what);
        return -1;
    }
    if (n >= size) {
        prov_creds_err(err, err_size, "%s: %s is longer than %zu bytes", where, what, size - 1);
        return -1;
    }
    if (!prov_creds_visible(src, strcmp(what, "AccessKeyId") == 0 ? ",:" : NULL)) {
        prov_creds_err(err, err_size, "%s: %s contains characters that are not visible ASCII",
                       where, what);
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

/* Overwrites every string jansson holds in v, then the caller drops v. */
static void json_wipe(json_t *v)
{
    const char *key;
    json_t *val;
    size_t i;

    if (json_is_string(v)) {
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
    } else if (json_is_object(v)) {
        json_object_foreach(v, key, val)
        {
            json_wipe(val);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, val)
        {
            json_wipe(val);
        }
    }
}

void prov_creds_json_drop(json_t *v)
{
    if (v == NULL)
        return;
    json_wipe(v);
    json_decref(v);
}

/* The string member `key` of object o, or NULL when absent or not a string. */
const char *prov_creds_jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Parses JSON without echoing any of the input into the message (it may be a secret). */
json_t *prov_creds_load_json(const char *data, size_t len, const char *where, char *err,
                             size_t err_size)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        prov_creds_err(err, err_size, "%s: invalid JSON at line %d, column %d", where, jerr.line,
                       jerr.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        prov_creds_err(err, err_size, "%s: the JSON document is not an object", where);
        prov_creds_json_drop(root);
        return NULL;
    }
    return root;
}

/* ---- public small functions ------------------------------------------------------------------ */

void prov_creds_init(struct prov_creds *c)
{
    memset(c, 0, sizeof(*c));
}

void prov_creds_cleanup(struct prov_creds *c)
{
    if (c != NULL)
        OPENSSL_cleanse(c, sizeof(*c));
}

void prov_creds_free(struct prov_creds *c)
{
    if (c == NULL)
        return;
    prov_creds_cleanup(c);
    free(c);
}

void prov_creds_sign_view(const struct prov_creds *c, struct prov_sign_credentials *out)
{
    out->access_key_id = c->access_key_id;
    out->access_key_secret = c->access_key_secret;
    out->security_token = c->security_token[0] != '\0' ? c->security_token : NULL;
}

const char *prov_creds_source_name(enum prov_creds_source s)
{
    switch (s) {
    case PROV_CREDS_SOURCE_NONE:
        return "none";
    case PROV_CREDS_SOURCE_ENV:
        return "environment";
    case PROV_CREDS_SOURCE_PROFILE:
        return "profile";
    case PROV_CREDS_SOURCE_ECS_RAM_ROLE:
        return "ecs-ram-role";
    }
    return "none";
}

int prov_creds_expires_within(const struct prov_creds *c, int64_t now_unix_s, int64_t margin_s)
{
    return c->expiration_unix_s != 0 && c->expiration_unix_s - now_unix_s <= margin_s;
}

/* ---- profile file ---------------------------------------------------------------------------- */

int prov_creds_check_file(int fd, const char *path, char *err, size_t err_size)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        prov_creds_err(err, err_size, "%s: cannot stat: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        prov_creds_err(err, err_size,
                       "%s: not a regular file: refusing to read credentials from it", path);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        prov_creds_err(err, err_size,
                       "%s: owned by uid %lu, not by the current user (uid %lu): refusing to use "
                       "credentials another user can change (chown it, or use another source)",
                       path, (unsigned long)st.st_uid, (unsigned long)geteuid());
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        prov_creds_err(
            err, err_size,
            "%s: permissions %04o are too open: the credentials file must not be accessible "
            "by group or others (run: chmod 600 %s)",
            path, (unsigned)(st.st_mode & 07777), path);
        return -1;
    }
    return 0;
}

static json_t *find_profile(const json_t *root, const char *name)
{
    const json_t *profiles = json_object_get(root, "profiles");
    json_t *p;
    size_t i;

    if (!json_is_array(profiles))
        return NULL;
    json_array_foreach(profiles, i, p)
    {
        const char *n = prov_creds_jstr(p, "name");

        if (json_is_object(p) && n != NULL && strcmp(n, name) == 0)
            return p;
    }
    return NULL;
}

static int profile_fill(const json_t *p, const char *mode, const char *where, struct prov_creds *c,
                        char *err, size_t err_size)
{
    int sts = strcmp(mode, "StsToken") == 0;

    if (prov_creds_put(c->access_key_id, sizeof(c->access_key_id),
                       prov_creds_jstr(p, "access_key_id"), "AccessKeyId", where, err,
                       err_size) != 0 ||
        prov_creds_put(c->access_key_secret, sizeof(c->access_key_secret),
                       prov_creds_jstr(p, "access_key_secret"), "access_key_secret", where, err,
                       err_size) != 0 ||
        (sts &&
         prov_creds_put(c->security_token, sizeof(c->security_token),
                        prov_creds_jstr(p, "sts_token"), "sts_token", where, err, err_size) != 0))
        return -1;
    c->source = PROV_CREDS_SOURCE_PROFILE;
    snprintf(c->description, sizeof(c->description), "%.480s (%s)", where, sts ? "StsToken" : "AK");
    return 0;
}

int prov_creds_parse_profile(const char *json, size_t len, const char *profile_name,
                             const char *path, struct prov_creds *out, char *role, size_t role_size,
                             char *err, size_t err_size)
{
    char where[PATH_BYTES + 160];
    const char *mode, *region, *name;
    json_t *root = NULL, *p;
    struct prov_creds c;
    int rc = -1;

    prov_creds_init(&c);
    if (role != NULL && role_size > 0)
        role[0] = '\0';
    snprintf(where, sizeof(where), "%s", path);
    root = prov_creds_load_json(json, len, where, err, err_size);
    if (root == NULL)
        goto cleanup;
    name = profile_name != NULL ? profile_name : prov_creds_jstr(root, "current");
    if (name == NULL || name[0] == '\0')
        name = "default";
    snprintf(where, sizeof(where), "profile '%s' in %s", name, path);
    p = find_profile(root, name);
    if (p == NULL) {
        prov_creds_err(err, err_size, "%s: no such profile", where);
        goto cleanup;
    }
    region = prov_creds_jstr(p, "region_id");
    if (region != NULL && region[0] != '\0' &&
        prov_creds_put(c.region_id, sizeof(c.region_id), region, "region_id", where, err,
                       err_size) != 0)
        goto cleanup;
    mode = prov_creds_jstr(p, "mode");
    if (mode == NULL || mode[0] == '\0')
        mode = "AK";
    if (strcmp(mode, "AK") == 0 || strcmp(mode, "StsToken") == 0) {
        if (profile_fill(p, mode, where, &c, err, err_size) != 0)
            goto cleanup;
        rc = 0;
    } else if (strcmp(mode, "EcsRamRole") == 0) {
        const char *r = prov_creds_jstr(p, "ram_role_name");

        if (r != NULL && r[0] != '\0' &&
            (role == NULL ||
             prov_creds_put(role, role_size, r, "ram_role_name", where, err, err_size) != 0))
            goto cleanup;
        rc = 1;
    } else {
        prov_creds_err(
            err, err_size,
            "%s: mode '%.32s' is not supported (supported: AK, StsToken, EcsRamRole); use "
            "one of those, or set " ENV_ID " and " ENV_SECRET,
            where, mode);
        goto cleanup;
    }
    memcpy(out, &c, sizeof(c));
cleanup:
    prov_creds_json_drop(root);
    prov_creds_cleanup(&c);
    return rc;
}

static int profile_path(const struct prov_creds_chain *ch, char *out, size_t size)
{
    const char *home = prov_creds_env(ch, "HOME");
    struct passwd pw, *res = NULL;
    char buf[4096];

    if (ch->opt->profile_path != NULL) {
        snprintf(out, size, "%s", ch->opt->profile_path);
        return 0;
    }
    if (home == NULL && getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
        home = pw.pw_dir;
    if (home == NULL)
        return -1;
    return snprintf(out, size, "%s/.aliyun/config.json", home) < (int)size ? 0 : -1;
}

/* Reads the whole file into a heap buffer after the ssh-like checks. 1 read, 0 absent, -1 error. */
static int read_profile_file(const char *path, char **data, size_t *len, char *err, size_t err_size)
{
    size_t cap = PROV_CREDS_MAX_FILE_BYTES + 1, n = 0;
    char *buf = NULL;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        prov_creds_err(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (prov_creds_check_file(fd, path, err, err_size) != 0)
        goto cleanup;
    buf = malloc(cap);
    if (buf == NULL) {
        prov_creds_err(err, err_size, "%s: out of memory", path);
        goto cleanup;
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            prov_creds_err(err, err_size, "%s: read failed: %s", path, strerror(errno));
            goto cleanup;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            prov_creds_err(err, err_size, "%s: larger than %u bytes", path,
                           PROV_CREDS_MAX_FILE_BYTES);
            goto cleanup;
        }
    }
    *data = buf;
    *len = n;
    buf = NULL;
    rc = 1;
cleanup:
    if (buf != NULL) {
        OPENSSL_cleanse(buf, cap);
        free(buf);
    }
    close(fd);
    return rc;
}

static int from_profile(struct prov_creds_chain *ch, struct prov_creds *c, char *err,
                        size_t err_size)
{
    char path[PATH_BYTES], role[PROV_CREDS_ROLE_BYTES], region[PROV_CREDS_REGION_BYTES];
    const char *name =
        ch->opt->profile_name != NULL ? ch->opt->profile_name : prov_creds_env(ch, ENV_PROFILE);
    char *data = NULL;
    size_t len = 0;
    int rc;

    if (prov_creds_env_true(ch, ENV_PROFILE_OFF)) {
        prov_creds_note(ch, "profile: disabled by " ENV_PROFILE_OFF);
        return 0;
    }
    if (profile_path(ch, path, sizeof(path)) != 0) {
        prov_creds_note(ch, "profile: no home directory to look in");
        return 0;
    }
    rc = read_profile_file(path, &data, &len, err, err_size);
    if (rc == 0)
        prov_creds_note(ch, "profile: %s does not exist", path);
    if (rc <= 0)
        return rc;
    rc = prov_creds_parse_profile(data, len, name, path, c, role, sizeof(role), err, err_size);
    OPENSSL_cleanse(data, len);
    free(data);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return 1;
    /* mode EcsRamRole: the profile names (or leaves to discovery) the role; metadata must work */
    memcpy(region, c->region_id, sizeof(region));
    rc = prov_creds_from_metadata(ch, role[0] != '\0' ? role : NULL, 1, c, err, err_size);
    if (rc < 0)
        return -1;
    memcpy(c->region_id, region, sizeof(region));
    len = strlen(c->description);
    snprintf(c->description + len, sizeof(c->description) - len, ", as profile '%s' in %s",
             name != NULL ? name : "(current)", path);
    return 1;
}

/* ---- environment ----------------------------------------------------------------------------- */

static int from_env(struct prov_creds_chain *ch, struct prov_creds *c, char *err, size_t err_size)
{
    const char *id = prov_creds_env(ch, ENV_ID), *secret = prov_creds_env(ch, ENV_SECRET),
               *token = prov_creds_env(ch, ENV_TOKEN);

    if (id == NULL && secret == NULL) {
        prov_creds_note(ch, "environment: " ENV_ID " not set");
        return 0;
    }
    if (id == NULL || secret == NULL) {
        prov_creds_err(err, err_size, "environment: %s is set but %s is not",
                       id != NULL ? ENV_ID : ENV_SECRET, id != NULL ? ENV_SECRET : ENV_ID);
        return -1;
    }
    if (prov_creds_put(c->access_key_id, sizeof(c->access_key_id), id, "AccessKeyId", "environment",
                       err, err_size) != 0 ||
        prov_creds_put(c->access_key_secret, sizeof(c->access_key_secret), secret, ENV_SECRET,
                       "environment", err, err_size) != 0 ||
        (token != NULL && prov_creds_put(c->security_token, sizeof(c->security_token), token,
                                         ENV_TOKEN, "environment", err, err_size) != 0))
        return -1;
    c->source = PROV_CREDS_SOURCE_ENV;
    snprintf(c->description, sizeof(c->description), "environment (%s)",
             token != NULL ? "STS token" : "AccessKey");
    return 1;
}

/* ---- the chain ------------------------------------------------------------------------------- */

int prov_creds_resolve(const struct prov_creds_options *opt, struct prov_creds **out, char *err,
                       size_t err_size)
{
    static const struct prov_creds_options defaults;
    struct prov_creds_chain ch = {0};
    struct prov_creds *c;
    int rc = 0;

    *out = NULL;
    ch.opt = opt != NULL ? opt : &defaults;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        prov_creds_err(err, err_size, "credentials: out of memory");
        return -1;
    }
    if (!(ch.opt->skip & PROV_CREDS_SKIP_ENV))
        rc = from_env(&ch, c, err, err_size);
    if (rc == 0 && !(ch.opt->skip & PROV_CREDS_SKIP_PROFILE))
        rc = from_profile(&ch, c, err, err_size);
    if (rc == 0 && !(ch.opt->skip & PROV_CREDS_SKIP_METADATA))
        rc = prov_creds_from_metadata(&ch, NULL, 0, c, err, err_size);
    if (rc == 0)
        prov_creds_err(err, err_size,
                       "no Alibaba Cloud credentials found (%s); set " ENV_ID " and " ENV_SECRET
                       ", run `aliyun configure`, or run on an ECS instance with a RAM role",
                       ch.notes[0] ? ch.notes : "every source skipped");
    if (rc <= 0) {
        prov_creds_free(c);
        return -1;
    }
    if (c->region_id[0] == '\0' && prov_creds_env(&ch, ENV_REGION) != NULL &&
        strlen(prov_creds_env(&ch, ENV_REGION)) < sizeof(c->region_id) &&
        prov_creds_visible(prov_creds_env(&ch, ENV_REGION), NULL))
        snprintf(c->region_id, sizeof(c->region_id), "%s", prov_creds_env(&ch, ENV_REGION));
    *out = c;
    return 0;
}

/* ---- refresh ----------------------------------------------------------------------------------
 * The API client asks for fresh credentials before expiring ones are used (apiclient.h, struct
 * prov_api_refresh). The whole chain is walked again, as the SDKs do: on an ECS instance the
 * metadata service hands out the rotated STS credentials. */

int prov_creds_refresh(void *ctx, const struct prov_creds **creds, char *err, size_t err_size)
{
    struct prov_creds_refresher *r = ctx;
    struct prov_creds *fresh = NULL;

    if (prov_creds_resolve(&r->opt, &fresh, err, err_size) != 0)
        return -1;
    prov_creds_free(r->current);
    r->current = fresh;
    r->refreshes++;
    *creds = fresh;
    return 0;
}

void prov_creds_refresher_cleanup(struct prov_creds_refresher *r)
{
    if (r == NULL)
        return;
    prov_creds_free(r->current);
    r->current = NULL;
}
