/*
 * hosts — a static name table in /etc/hosts format, consulted before DNS.
 *
 * Pure: parsing works on a byte range and does no I/O besides plr_hosts_load reading the file.
 * Lines are "ADDRESS NAME [ALIAS...]" with '#' comments; IPv4 and IPv6 literals; names compare
 * case-insensitively. Lines that do not parse are skipped (as the C library does), never fatal.
 */
#ifndef PLRELAY_HOSTS_H
#define PLRELAY_HOSTS_H

#include <stddef.h>
#include <sys/socket.h>

#define PLR_HOSTS_MAX_BYTES (4u * 1024u * 1024u) /* larger files are refused */

struct plr_hosts;

/* Parse text[0..len). Returns a table (possibly empty) or NULL on allocation failure. */
struct plr_hosts *plr_hosts_parse(const char *text, size_t len);

/* Read and parse a file. NULL on error with the reason in err (caller-owned, err_len bytes). */
struct plr_hosts *plr_hosts_load(const char *path, char *err, size_t err_len);

/* Copy up to `max` addresses of `name` (port 0, file order, duplicates removed) into out.
 * Returns how many addresses the name has in total (0: not in the table). */
size_t plr_hosts_lookup(const struct plr_hosts *hosts, const char *name,
                        struct sockaddr_storage *out, size_t max);

/* Accepts NULL. */
void plr_hosts_free(struct plr_hosts *hosts);

#endif
