/*
 * session — one client connection's life, from accept to its single access-log line.
 *
 * The state machine (every state has a deadline; every path out goes through finalize):
 *
 *   accept ──► [HEADER: PROXY protocol, later] ──► [TLS accept, later]
 *          ──► CONNECTING ──connected──► RELAYING ──both sides done / error / idle──► finalize
 *                  │  refused / timeout: next address, next server, within connect_tries
 *                  └──all failed──► finalize (502 refused, 504 timed out, 502 no address)
 *
 * RELAYING pumps bytes both ways through bufferevents. Backpressure: when the output towards
 * one side holds more than the route's buffer_size, reading from the other side stops, and
 * resumes once that output drained below half. EOF from one side is passed on as
 * shutdown(SHUT_WR) once its bytes are flushed; the other direction keeps flowing.
 */
#ifndef PLRELAY_SESSION_H
#define PLRELAY_SESSION_H

#include <sys/socket.h>

struct plr_worker;
struct plr_route_rt;
struct plr_session;

/* Start a session for an accepted, non-blocking socket; takes ownership of fd. Limits have
 * already been charged by the listener (released at finalize). Failure to start is
 * finalized (and logged) inside. */
void plr_session_start(struct plr_worker *w, struct plr_route_rt *route, int fd,
                       const struct sockaddr *peer, socklen_t peer_len);

/* End a session from outside its callbacks (drain timeout); logs with `reason`. */
void plr_session_abort(struct plr_session *s, int status, const char *reason);

/* The next session in the worker's list (for iteration while aborting). */
struct plr_session *plr_session_next(struct plr_session *s);

#endif
