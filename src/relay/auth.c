/*
 * auth — Basic proxy authentication against crypt(3) hashes, with a cache of good checks.
 *
 * The cache holds SHA-256(user ":" password) of checks that succeeded (bounded, oldest
 * replaced), compared in constant time, so the slow hash runs once per credential rather than
 * once per request, and a wrong password is never cached.
 */
#include "plrelay/auth.h"

#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_SLOTS 64
#define USER_MAX 64
#define HASH_MAX 256
#define DECODED_MAX 512

struct user {
    char name[USER_MAX];
    char hash[HASH_MAX];
};

struct plr_auth {
    struct user *users;
    size_t count;
    pthread_mutex_t lock; /* guards the cache */
    unsigned char cache[CACHE_SLOTS][SHA256_DIGEST_LENGTH];
    size_t cache_used, cache_next;
};

static int parse_line(struct plr_auth *a, char *line, int lineno, const char *path, char *err,
                      size_t err_len)
{
    char *colon = strchr(line, ':');
    size_t nlen, hlen;

    if (colon == NULL) {
        snprintf(err, err_len, "%s:%d: expected user:hash", path, lineno);
        return -1;
    }
    nlen = (size_t)(colon - line);
    hlen = strlen(colon + 1);
    if (nlen == 0 || nlen >= USER_MAX || hlen >= HASH_MAX) {
        snprintf(err, err_len, "%s:%d: user name or hash too long or empty", path, lineno);
        return -1;
    }
    if (colon[1] != '$') {
        snprintf(err, err_len,
                 "%s:%d: the password must be a crypt(3) hash ($y$, $2b$, $6$ ...), "
                 "never plain text",
                 path, lineno);
        return -1;
    }
    if (a->count == PLR_AUTH_MAX_USERS) {
        snprintf(err, err_len, "%s:%d: more than %d users", path, lineno, PLR_AUTH_MAX_USERS);
        return -1;
    }
    memcpy(a->users[a->count].name, line, nlen);
    a->users[a->count].name[nlen] = '\0';
    memcpy(a->users[a->count].hash, colon + 1, hlen + 1);
    a->count++;
    return 0;
}

struct plr_auth *plr_auth_load(const char *path, char *err, size_t err_len)
{
    struct plr_auth *a = calloc(1, sizeof(*a));
    FILE *f = NULL;
    char line[USER_MAX + HASH_MAX + 8];
    int lineno = 0;

    if (a == NULL || (a->users = calloc(PLR_AUTH_MAX_USERS, sizeof(*a->users))) == NULL) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    pthread_mutex_init(&a->lock, NULL);
    f = fopen(path, "re");
    if (f == NULL) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        goto fail;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = strlen(line);
        lineno++;
        if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
            snprintf(err, err_len, "%s:%d: line too long", path, lineno);
            goto fail;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (parse_line(a, line, lineno, path, err, err_len) == -1)
            goto fail;
    }
    fclose(f);
    if (a->count == 0) {
        snprintf(err, err_len, "%s: no users", path);
        plr_auth_free(a);
        return NULL;
    }
    return a;
fail:
    if (f != NULL)
        fclose(f);
    plr_auth_free(a);
    return NULL;
}

void plr_auth_free(struct plr_auth *a)
{
    if (a == NULL)
        return;
    if (a->users != NULL) {
        OPENSSL_cleanse(a->users, PLR_AUTH_MAX_USERS * sizeof(*a->users));
        pthread_mutex_destroy(&a->lock);
    }
    free(a->users);
    free(a);
}

static int cached(struct plr_auth *a, const unsigned char *digest, int add)
{
    int hit = 0;

    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->cache_used && !hit; i++)
        hit = CRYPTO_memcmp(a->cache[i], digest, SHA256_DIGEST_LENGTH) == 0;
    if (!hit && add) {
        memcpy(a->cache[a->cache_next], digest, SHA256_DIGEST_LENGTH);
        a->cache_next = (a->cache_next + 1) % CACHE_SLOTS;
        if (a->cache_used < CACHE_SLOTS)
            a->cache_used++;
    }
    pthread_mutex_unlock(&a->lock);
    return hit;
}

int plr_auth_check(struct plr_auth *a, const char *value, size_t len, char *user_out,
                   size_t user_out_len)
{
    unsigned char decoded[DECODED_MAX + 4], digest[SHA256_DIGEST_LENGTH];
    struct crypt_data *cd = NULL;
    int ok = 0;

    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len < 7 || strncasecmp(value, "Basic ", 6) != 0)
        return 0;
    value += 6, len -= 6;
    while (len > 0 && *value == ' ')
        value++, len--;
    if (len == 0 || len > DECODED_MAX / 3 * 4 || len % 4 != 0)
        return 0;
    int n = EVP_DecodeBlock(decoded, (const unsigned char *)value, (int)len);
    if (n < 0)
        return 0;
    while (n > 0 && len > 0 && value[len - 1] == '=') /* DecodeBlock counts padding as bytes */
        n--, len--;
    decoded[n] = '\0';
    char *colon = memchr(decoded, ':', (size_t)n);
    if (colon == NULL || memchr(decoded, '\0', (size_t)n) != NULL)
        goto out;
    *colon = '\0';
    const struct user *u = NULL;
    for (size_t i = 0; i < a->count && u == NULL; i++)
        if (strcmp(a->users[i].name, (const char *)decoded) == 0)
            u = &a->users[i];
    if (u == NULL)
        goto out;
    *colon = ':';
    SHA256(decoded, (size_t)n, digest);
    *colon = '\0';
    if (cached(a, digest, 0)) {
        ok = 1;
    } else if ((cd = calloc(1, sizeof(*cd))) != NULL) {
        const char *h = crypt_r(colon + 1, u->hash, cd);
        ok = h != NULL && h[0] == '$' && strlen(h) == strlen(u->hash) &&
             CRYPTO_memcmp(h, u->hash, strlen(h)) == 0;
        if (ok)
            cached(a, digest, 1);
    }
    if (ok && user_out != NULL)
        snprintf(user_out, user_out_len, "%s", u->name);
out:
    if (cd != NULL) {
        OPENSSL_cleanse(cd, sizeof(*cd));
        free(cd);
    }
    OPENSSL_cleanse(decoded, sizeof(decoded));
    return ok;
}
