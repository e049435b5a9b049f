/*
 * Unit tests of Basic proxy authentication against crypt(3) hashes.
 */
#include <criterion/criterion.h>
#include <crypt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plrelay/auth.h"

TestSuite(auth, .timeout = 10);

static char path[64];

static void write_users(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/plrelay-auth-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_neq(fd, -1);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* "Basic " + base64(user:pass) */
static const char *basic(const char *userpass, char *buf, size_t len)
{
    unsigned char enc[256];
    int n = EVP_EncodeBlock(enc, (const unsigned char *)userpass, (int)strlen(userpass));
    snprintf(buf, len, "Basic %.*s", n, enc);
    return buf;
}

static struct plr_auth *load_with(const char *user, const char *password)
{
    char line[512], err[256];
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    const char *hash = crypt_r(password, "$6$abcdefgh$", &cd);
    snprintf(line, sizeof(line), "# watcher users\n\n%s:%s\n", user, hash);
    write_users(line);
    struct plr_auth *a = plr_auth_load(path, err, sizeof(err));
    cr_assert_not_null(a, "%s", err);
    unlink(path);
    return a;
}

Test(auth, accepts_the_right_password_and_names_the_user)
{
    struct plr_auth *a = load_with("watcher", "s3cret");
    char v[256], user[64] = "";

    basic("watcher:s3cret", v, sizeof(v));
    cr_assert_eq(plr_auth_check(a, v, strlen(v), user, sizeof(user)), 1);
    cr_assert_str_eq(user, "watcher");
    cr_assert_eq(plr_auth_check(a, v, strlen(v), NULL, 0), 1, "a cached check still passes");
    plr_auth_free(a);
}

Test(auth, refuses_wrong_password_unknown_user_and_malformed_values)
{
    struct plr_auth *a = load_with("watcher", "s3cret");
    char v[256];
    const char *bad[] = {"watcher:wrong", "other:s3cret", "watcher", ":s3cret", "watcher:"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        basic(bad[i], v, sizeof(v));
        cr_expect_eq(plr_auth_check(a, v, strlen(v), NULL, 0), 0, "%s", bad[i]);
    }
    const char *raw[] = {"", "Basic", "Basic ", "Bearer abc", "Basic !!!!", "Basic d2F0Y2hlcg"};
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++)
        cr_expect_eq(plr_auth_check(a, raw[i], strlen(raw[i]), NULL, 0), 0, "\"%s\"", raw[i]);
    plr_auth_free(a);
}

Test(auth, a_wrong_password_is_never_cached)
{
    struct plr_auth *a = load_with("watcher", "s3cret");
    char v[256];

    basic("watcher:wrong", v, sizeof(v));
    cr_assert_eq(plr_auth_check(a, v, strlen(v), NULL, 0), 0);
    cr_assert_eq(plr_auth_check(a, v, strlen(v), NULL, 0), 0);
    plr_auth_free(a);
}

Test(auth, load_refuses_plain_passwords_and_bad_lines)
{
    char err[256];
    const struct {
        const char *text;
        const char *why;
    } cases[] = {
        {"watcher:s3cret\n", ":1: the password must be a crypt(3) hash"},
        {"# only a comment\n", "no users"},
        {"\nno-colon-here\n", ":2: expected user:hash"},
        {":$6$x$y\n", ":1: user name or hash too long or empty"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_users(cases[i].text);
        cr_expect_null(plr_auth_load(path, err, sizeof(err)), "%s", cases[i].text);
        cr_expect(strstr(err, cases[i].why) != NULL, "\"%s\" lacks \"%s\"", err, cases[i].why);
        unlink(path);
    }
    cr_expect_null(plr_auth_load("/nonexistent/users", err, sizeof(err)));
    cr_expect(strstr(err, "No such file") != NULL, "%s", err);
}
