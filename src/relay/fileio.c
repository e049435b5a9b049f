/*
 * fileio — bounded whole-file reads, full writes, thread-safe strerror.
 */
#include "plrelay/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *plr_strerror(int err, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(err, buf, len);
#else
    return strerror_r(err, buf, len) == 0 ? buf : "unknown error";
#endif
}

void plr_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w == -1 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere left to report it */
        p += w;
        len -= (size_t)w;
    }
}

/* "cannot open \"/x\": reason" or "cannot open: reason" */
static void fail(char *err, size_t err_len, int quote, const char *path, const char *what,
                 const char *why)
{
    if (quote)
        snprintf(err, err_len, "%s \"%.200s\"%s%s", what, path, why[0] ? ": " : "", why);
    else
        snprintf(err, err_len, "%s%s%s", what, why[0] ? ": " : "", why);
}

char *plr_file_read(const char *path, size_t max_bytes, int quote_path, size_t *len, char *err,
                    size_t err_len)
{
    char ebuf[128], limit[64];
    struct stat st;
    char *buf = NULL;
    size_t used = 0;
    /* O_NONBLOCK: opening a FIFO must not hang the caller; it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    snprintf(limit, sizeof(limit), "is larger than %zu bytes", max_bytes);
    if (fd == -1) {
        fail(err, err_len, quote_path, path, "cannot open",
             plr_strerror(errno, ebuf, sizeof(ebuf)));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (quote_path)
            snprintf(err, err_len, "\"%.200s\" is not a regular file", path);
        else
            snprintf(err, err_len, "not a regular file");
        goto out;
    }
    if ((size_t)st.st_size > max_bytes || (buf = malloc(max_bytes + 1)) == NULL) {
        if (buf == NULL && (size_t)st.st_size <= max_bytes)
            snprintf(err, err_len, "out of memory");
        else if (quote_path)
            snprintf(err, err_len, "\"%.200s\" %s", path, limit);
        else
            snprintf(err, err_len, "file %s", limit);
        goto out;
    }
    for (;;) { /* the size may change while we read: the bound is on what we read */
        ssize_t r = read(fd, buf + used, max_bytes + 1 - used);
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1) {
            fail(err, err_len, quote_path, path, "cannot read",
                 plr_strerror(errno, ebuf, sizeof(ebuf)));
            break;
        }
        used += (size_t)r;
        if (used > max_bytes) {
            if (quote_path)
                snprintf(err, err_len, "\"%.200s\" %s", path, limit);
            else
                snprintf(err, err_len, "file %s", limit);
            break;
        }
        if (r == 0) {
            close(fd);
            buf[used] = '\0';
            *len = used;
            return buf;
        }
    }
out:
    close(fd);
    free(buf);
    return NULL;
}
