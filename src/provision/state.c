/*
 * state — the state file (include/plprov/state.h), kept as a jansson object in memory and
 * rewritten whole on every save: it is a few hundred bytes, and a whole-file atomic replace is
 * the simplest way to never leave a half-written file behind.
 */
#include "plprov/state.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_VERSION 1

struct prov_state {
    char path[PROV_CONFIG_PATH_BYTES];
    json_t *doc; /* the whole file */
    int lock_fd; /* <state_file>.lock, flock'ed while this run holds the state; -1 none */
};

/* One run per state file: an exclusive flock on <state_file>.lock, released by close (or by
 * the kernel when the process dies, so a killed run never leaves it held). */
static int take_lock(struct prov_state *s, char *err, size_t err_size)
{
    char path[PROV_CONFIG_PATH_BYTES + 8];
    int n = snprintf(path, sizeof(path), "%s.lock", s->path);

    if (n < 0 || (size_t)n >= sizeof(path)) {
        snprintf(err, err_size, "%s: state file path too long for its lock", s->path);
        return -1;
    }
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->lock_fd < 0) {
        snprintf(err, err_size, "%s: cannot open the state lock: %s", path, strerror(errno));
        return -1;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, err_size,
                 "%s: another plrelay-provision is working on this state file (lock %s held)",
                 s->path, path);
        return -1;
    }
    return 0;
}

static json_t *resources(const struct prov_state *s)
{
    return json_object_get(s->doc, "resources");
}

/* The file's own fields must match the config it is used with. */
static int check_owner(const struct prov_state *s, const struct prov_config *cfg, char *err,
                       size_t err_size)
{
    static const char *const fields[] = {"topology", "name", "region"};
    const char *want[3];
    size_t i;

    want[0] = prov_config_topology_name(cfg->topology);
    want[1] = cfg->name;
    want[2] = cfg->region;
    if (json_integer_value(json_object_get(s->doc, "version")) != STATE_VERSION) {
        snprintf(err, err_size, "%s: state file version is not %d", s->path, STATE_VERSION);
        return -1;
    }
    if (!json_is_object(resources(s))) {
        snprintf(err, err_size, "%s: state file has no \"resources\" object", s->path);
        return -1;
    }
    for (i = 0; i < 3; i++) {
        const char *have = json_string_value(json_object_get(s->doc, fields[i]));
        if (have == NULL || strcmp(have, want[i]) != 0) {
            snprintf(err, err_size,
                     "%s: state file belongs to %s \"%.100s\", this config has \"%.100s\"; use "
                     "another state_file",
                     s->path, fields[i], have != NULL ? have : "(none)", want[i]);
            return -1;
        }
    }
    return 0;
}

int prov_state_load(const struct prov_config *cfg, struct prov_state **out, char *err,
                    size_t err_size)
{
    struct prov_state *s = calloc(1, sizeof(*s));
    json_error_t jerr;

    *out = NULL;
    if (s == NULL) {
        snprintf(err, err_size, "state: out of memory");
        return -1;
    }
    snprintf(s->path, sizeof(s->path), "%s", cfg->state_file);
    s->lock_fd = -1;
    if (take_lock(s, err, err_size) != 0) {
        prov_state_free(s);
        return -1;
    }
    s->doc = json_load_file(s->path, JSON_REJECT_DUPLICATES, &jerr);
    if (s->doc == NULL) {
        if (access(s->path, F_OK) == 0 || errno != ENOENT) {
            snprintf(err, err_size, "%s:%d: cannot read the state file: %s", s->path, jerr.line,
                     jerr.text);
            prov_state_free(s);
            return -1;
        }
        s->doc = json_pack("{s:i, s:s, s:s, s:s, s:{}}", "version", STATE_VERSION, "topology",
                           prov_config_topology_name(cfg->topology), "name", cfg->name, "region",
                           cfg->region, "resources");
        if (s->doc == NULL) {
            snprintf(err, err_size, "state: out of memory");
            prov_state_free(s);
            return -1;
        }
    }
    if (check_owner(s, cfg, err, err_size) != 0) {
        prov_state_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* Directory part of path, for the temporary file and the directory fsync. */
static void dir_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL) {
        snprintf(dir, size, ".");
    } else if (slash == path) {
        snprintf(dir, size, "/");
    } else {
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
    }
}

int prov_state_save(struct prov_state *s, char *err, size_t err_size)
{
    char tmp[PROV_CONFIG_PATH_BYTES + 32], dir[PROV_CONFIG_PATH_BYTES];
    char *text = json_dumps(s->doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    size_t len, done = 0;
    int fd, dfd, n, ok = 0;

    if (text == NULL) {
        snprintf(err, err_size, "state: out of memory");
        return -1;
    }
    n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", s->path, (long)getpid());
    fd = n > 0 && (size_t)n < sizeof(tmp)
             ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)
             : -1;
    if (fd < 0) {
        snprintf(err, err_size, "%s: cannot write the state file: %s", tmp, strerror(errno));
        free(text);
        return -1;
    }
    len = strlen(text);
    text[len++] = '\n'; /* json_dumps leaves room: the NUL is replaced, len bytes are written */
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        done += (size_t)w;
    }
    ok = done == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    free(text);
    if (!ok || rename(tmp, s->path) != 0) {
        snprintf(err, err_size, "%s: cannot write the state file: %s", s->path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    dir_of(s->path, dir, sizeof(dir));
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

const char *prov_state_get(const struct prov_state *s, const char *key, const char *field)
{
    return json_string_value(json_object_get(json_object_get(resources(s), key), field));
}

int prov_state_set(struct prov_state *s, const char *key, const char *field, const char *value)
{
    json_t *res = resources(s), *entry = json_object_get(res, key);

    if (value == NULL) {
        if (entry != NULL) {
            json_object_del(entry, field);
            if (json_object_size(entry) == 0) {
                json_object_del(res, key);
            }
        }
        return 0;
    }
    if (entry == NULL) {
        entry = json_object();
        if (entry == NULL || json_object_set_new(res, key, entry) != 0) {
            return -1;
        }
    }
    return json_object_set_new(entry, field, json_string(value));
}

int prov_state_token(struct prov_state *s, const char *key, char out[PROV_STATE_TOKEN_BYTES],
                     char *err, size_t err_size)
{
    static const char hex[] = "0123456789abcdef";
    const char *saved = prov_state_get(s, key, "client_token");
    unsigned char rnd[16];
    size_t i;

    if (saved != NULL && strlen(saved) < PROV_STATE_TOKEN_BYTES) {
        memcpy(out, saved, strlen(saved) + 1);
        return 0;
    }
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        snprintf(err, err_size, "state: no random bytes for a ClientToken");
        return -1;
    }
    memcpy(out, "plrelay-", 8);
    for (i = 0; i < sizeof(rnd); i++) {
        out[8 + 2 * i] = hex[rnd[i] >> 4];
        out[9 + 2 * i] = hex[rnd[i] & 15];
    }
    out[8 + 2 * sizeof(rnd)] = '\0';
    if (prov_state_set(s, key, "client_token", out) != 0) {
        snprintf(err, err_size, "state: out of memory");
        return -1;
    }
    return prov_state_save(s, err, err_size);
}

int prov_state_created(struct prov_state *s, const char *key, const char *id, char *err,
                       size_t err_size)
{
    if (prov_state_set(s, key, "id", id) != 0 || prov_state_set(s, key, "client_token", NULL)) {
        snprintf(err, err_size, "state: out of memory");
        return -1;
    }
    return prov_state_save(s, err, err_size);
}

int prov_state_set_domain(struct prov_state *s, const char *domain)
{
    if (domain == NULL) {
        json_object_del(s->doc, "endpoint_domain");
        return 0;
    }
    return json_object_set_new(s->doc, "endpoint_domain", json_string(domain));
}

const char *prov_state_domain(const struct prov_state *s)
{
    return json_string_value(json_object_get(s->doc, "endpoint_domain"));
}

int prov_state_empty(const struct prov_state *s)
{
    return json_object_size(resources(s)) == 0;
}

int prov_state_remove(struct prov_state *s, char *err, size_t err_size)
{
    char lock[PROV_CONFIG_PATH_BYTES + 8];

    snprintf(lock, sizeof(lock), "%s.lock", s->path);
    (void)unlink(lock); /* still held through lock_fd until prov_state_free */
    if (unlink(s->path) != 0 && errno != ENOENT) {
        snprintf(err, err_size, "%s: cannot remove the state file: %s", s->path, strerror(errno));
        return -1;
    }
    return 0;
}

void prov_state_free(struct prov_state *s)
{
    if (s != NULL) {
        if (s->lock_fd >= 0) {
            close(s->lock_fd);
        }
        json_decref(s->doc);
        free(s);
    }
}
