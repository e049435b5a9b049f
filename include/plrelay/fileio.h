/*
 * fileio — the few file and fd chores several modules share: reading a whole, bounded, regular
 * file; writing all of a buffer; strerror that is safe beside other threads.
 */
#ifndef PLRELAY_FILEIO_H
#define PLRELAY_FILEIO_H

#include <stddef.h>

/*
 * Read the regular file `path` (at most max_bytes) into a new NUL-terminated buffer the caller
 * frees; *len excludes the NUL. A FIFO or device is refused without blocking. NULL on error with
 * the reason in err; `quote_path` puts the path in the reason ("cannot open \"/x\": ..."), else
 * the caller names the file itself ("cannot open: ...").
 */
char *plr_file_read(const char *path, size_t max_bytes, int quote_path, size_t *len, char *err,
                    size_t err_len);

/* write(2) all of buf, retrying on EINTR; gives up silently on any other error. */
void plr_write_all(int fd, const void *buf, size_t len);

/* strerror_r into buf; returns the message. */
const char *plr_strerror(int err, char *buf, size_t len);

#endif
