/*
 * auth — Proxy-Authorization: Basic for `connect` routes, against a file of hashed passwords.
 *
 * The file has one "user:hash" per line ('#' comments, blank lines ignored), the hash in any
 * crypt(3) form libxcrypt verifies — yescrypt "$y$", bcrypt "$2b$"/"$2y$" (`htpasswd -B`),
 * sha512-crypt "$6$" — never a plain password: a line whose hash is not in crypt form is a load
 * error. Hashing is slow on purpose, so a successful check is remembered (the user and a
 * SHA-256 of the password, never the password) and repeats cost one hash lookup.
 */
#ifndef PLRELAY_AUTH_H
#define PLRELAY_AUTH_H

#include <stddef.h>

#define PLR_AUTH_MAX_USERS 1024
#define PLR_AUTH_MAX_FILE_BYTES (1024 * 1024)

struct plr_auth;

/* Load a user file. NULL with "path:line: reason" (or a file error) in err. */
struct plr_auth *plr_auth_load(const char *path, char *err, size_t err_len);
void plr_auth_free(struct plr_auth *auth); /* accepts NULL */

/* Check a Proxy-Authorization value ("Basic base64(user:password)", value[0..len)).
 * 1: a known user with the right password; 0: anything else. Thread-safe. user_out (may be
 * NULL) receives the user name on success, for the access log. */
int plr_auth_check(struct plr_auth *auth, const char *value, size_t len, char *user_out,
                   size_t user_out_len);

#endif
