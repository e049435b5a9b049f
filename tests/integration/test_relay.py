"""The byte pump of a `tcp` route, end to end through the real plrelay on loopback: the access-log
line of a normal connection, IPv6 on both sides, 64 MiB each way at once with equal SHA-256,
500 concurrent echo connections, half-close in both directions, 8 MiB each way around a
half-close (intact, fds released), an upstream that speaks first, an upstream reset mid-stream (client closed promptly, 502 upstream_reset, fds back to baseline),
a slow reader with bounded RSS and nothing lost, and idle_timeout (idle connections closed,
busy ones kept, including one-way traffic). The bulk cases run twice: `splice = auto` (bulk
moves socket → pipe → socket, checked in the stop summary) and `splice = off` (copied).
"""

import hashlib
import os
import selectors
import socket
import threading
import time

import re

import pytest

from harness import (SANITIZE, connect, echo_roundtrip, is_open, make_config, recv_exact,
                     recv_until_eof, route, wait_closed, wait_for)
from peers import (SourceState, echo_handler, free_port, hostport, reply_after_eof,
                   reply_then_half_close, reset_mid_stream, sha256, sink_handler,
                   source_handler, speak_first, stream_handler, trickle_handler)

MIB = 1024 * 1024


def start_route(tmp_path, start_plrelay, upstream, glob=None, **route_opts):
    """plrelay with one route r1 to `upstream` (a TcpServer); returns (plrelay, listen port)."""
    port = free_port()
    p = start_plrelay(make_config(tmp_path, {"r1": route("127.0.0.1:%d" % port, upstream.addr,
                                                         **route_opts)}, **(glob or {})))
    return p, port


SPLICE_MODES = pytest.mark.parametrize("splice", ["auto", "off"])


def spliced_bytes(p):
    """Stop plrelay; the bytes its stop summary says went through splice pipes."""
    assert p.stop() == 0
    m = re.search(r"(\d+) byte\(s\) spliced through (\d+) pipe\(s\)", p.stderr())
    assert m, "no splice figures in the stop summary:\n" + p.stderr()[-2000:]
    return int(m.group(1))


def check_splice(p, splice, at_least):
    """auto: at least `at_least` bytes went by splice; off: none did."""
    n = spliced_bytes(p)
    if splice == "auto":
        assert n >= at_least, "only %d byte(s) spliced, expected >= %d" % (n, at_least)
    else:
        assert n == 0, "%d byte(s) spliced with splice = off" % n


def warm_up(p, port):
    """One echo connection through the relay, finished and logged; returns the fd baseline."""
    with connect(port) as s:
        echo_roundtrip(s, b"warm-up")
    p.wait_access(count=1)
    return p.settled_fd_count()


def test_normal_connection_writes_one_complete_access_record(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    p, port = start_route(tmp_path, start_plrelay, up)
    with connect(port) as s:
        echo_roundtrip(s, b"x" * 1000)
        client = "%s:%d" % s.getsockname()
        s.shutdown(socket.SHUT_WR)
        assert recv_until_eof(s, timeout=10) == b""
    rec = p.wait_access(count=1)[0]
    assert rec["route"] == "r1" and rec["client"] == client
    assert rec["upstream"] == up.addr and rec["upstream_addr"] == up.addr
    assert rec["attempts"] == 1 and rec["status"] == 200 and rec["reason"] == "client_eof"
    assert rec["bytes_in"] == 1000 and rec["bytes_out"] == 1000
    assert isinstance(rec["time"], str) and rec["time"]
    assert rec["connect_ms"] >= 0 and rec["duration_ms"] >= rec["connect_ms"]


def test_ipv6_listen_and_upstream_are_relayed(tmp_path, start_plrelay, servers):
    up = servers(echo_handler, host="::1")
    port = free_port("::1")
    p = start_plrelay(make_config(tmp_path, {"r6": route("[::1]:%d" % port, up.addr)}))
    with connect(port, host="::1") as s:
        echo_roundtrip(s, b"over IPv6")
        client = hostport(*s.getsockname()[:2])
    rec = p.wait_access(count=1)[0]
    assert (rec["client"], rec["upstream_addr"], rec["status"]) == (client, up.addr, 200), rec


@SPLICE_MODES
def test_64_mib_each_way_at_once_arrives_with_equal_sha256(tmp_path, start_plrelay, servers,
                                                           splice):
    down = os.urandom(64 * MIB)
    upload = os.urandom(64 * MIB)
    up = servers(stream_handler(down))
    p, port = start_route(tmp_path, start_plrelay, up, splice=splice)
    s = connect(port, timeout=120)
    send_err = []

    def sender():
        try:
            s.sendall(upload)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            send_err.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    h, n = hashlib.sha256(), 0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        data = s.recv(MIB)
        if not data:
            break
        h.update(data)
        n += len(data)
    t.join(timeout=60)
    s.close()
    assert not send_err, send_err
    assert n == len(down) and h.hexdigest() == sha256(down), "upstream→client stream differs"
    wait_for(lambda: up.results, 60, "upstream to finish")
    res = up.results[0]
    assert res["received"] == len(upload) and res["received_sha"] == sha256(upload)
    rec = p.wait_access(count=1, timeout=30)[0]
    assert rec["bytes_in"] == len(upload) and rec["bytes_out"] == len(down)
    assert rec["status"] == 200
    check_splice(p, splice, 64 * MIB)  # most of both streams, never all: the first read copies


def test_500_concurrent_connections_each_get_their_own_payload_back(tmp_path, start_plrelay,
                                                                     servers):
    n = 500
    up = servers(echo_handler)
    p, port = start_route(tmp_path, start_plrelay, up)
    baseline = warm_up(p, port)
    socks, payloads, got = [], [], []
    sel = selectors.DefaultSelector()
    try:
        for i in range(n):
            s = connect(port, timeout=10)
            socks.append(s)
            payloads.append(("conn %d:" % i).encode() + os.urandom(1500))
            got.append(bytearray())
        for s, data in zip(socks, payloads):
            s.sendall(data)
        for i, s in enumerate(socks):
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, i)
        pending = n
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                i = key.data
                data = key.fileobj.recv(65536)
                assert data, "connection %d closed early after %d bytes" % (i, len(got[i]))
                got[i] += data
                if len(got[i]) >= len(payloads[i]):
                    sel.unregister(key.fileobj)
                    pending -= 1
        assert pending == 0, "%d of %d connections got no full echo in time" % (pending, n)
        for i in range(n):
            assert bytes(got[i]) == payloads[i], "connection %d got someone else's bytes" % i
        assert up.accepted == n + 1
    finally:
        sel.close()
        for s in socks:
            s.close()
    recs = p.wait_access(lambda r: r["status"] == 200, count=n + 1, timeout=30)
    assert len(recs) == n + 1
    p.wait_fds(baseline)


def test_client_half_close_is_passed_on_and_the_reply_still_flows(tmp_path, start_plrelay,
                                                                   servers):
    request, reply = os.urandom(MIB), os.urandom(MIB)
    up = servers(reply_after_eof(reply))
    p, port = start_route(tmp_path, start_plrelay, up)
    with connect(port, timeout=30) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)          # the upstream replies only after it sees our FIN
        assert recv_until_eof(s, timeout=30) == reply
    wait_for(lambda: up.results, 10, "upstream result")
    assert up.results[0]["received_sha"] == sha256(request)
    rec = p.wait_access(count=1)[0]
    assert (rec["reason"], rec["status"]) == ("client_eof", 200)
    assert rec["bytes_in"] == len(request) and rec["bytes_out"] == len(reply)


def test_upstream_half_close_is_passed_on_and_the_client_keeps_sending(tmp_path, start_plrelay,
                                                                       servers):
    request, reply, more = os.urandom(64 * 1024), os.urandom(MIB), os.urandom(MIB)
    up = servers(reply_then_half_close(len(request), reply))
    p, port = start_route(tmp_path, start_plrelay, up)
    with connect(port, timeout=30) as s:
        s.sendall(request)
        assert recv_until_eof(s, timeout=30) == reply     # upstream's FIN reached us
        s.sendall(more)                                   # our direction still flows
        s.shutdown(socket.SHUT_WR)
        wait_for(lambda: up.results, 30, "upstream to see the client's EOF")
    assert up.results[0]["received"] == len(request) + len(more)
    assert up.results[0]["received_sha"] == sha256(request + more)
    rec = p.wait_access(count=1)[0]
    assert (rec["reason"], rec["status"]) == ("upstream_eof", 200)
    assert rec["bytes_in"] == len(request) + len(more) and rec["bytes_out"] == len(reply)


@SPLICE_MODES
def test_bulk_around_a_half_close_is_intact_and_releases_its_fds(tmp_path, start_plrelay,
                                                                 servers, splice):
    """Full-buffer reads both ways: the bytes arrive intact and in order, the half-close passes
    only after them, and every descriptor goes back (fd baseline) at the end."""
    request, reply = os.urandom(8 * MIB), os.urandom(8 * MIB)
    up, up_echo = servers(reply_after_eof(reply)), servers(echo_handler)
    port, warm_port = free_port(), free_port()
    p = start_plrelay(make_config(tmp_path, {
        "r1": route("127.0.0.1:%d" % port, up.addr, splice=splice),
        "warm": route("127.0.0.1:%d" % warm_port, up_echo.addr)}))
    baseline = warm_up(p, warm_port)
    pipes = p.pipe_count()  # stdio and libevent's own, if any
    with connect(port, timeout=30) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)          # passed on only after the bytes before it
        assert recv_until_eof(s, timeout=30) == reply
    wait_for(lambda: up.results, 10, "upstream result")
    assert up.results[0]["received_sha"] == sha256(request)
    rec = p.wait_access(count=2)[1]
    assert (rec["reason"], rec["status"]) == ("client_eof", 200)
    assert rec["bytes_in"] == len(request) and rec["bytes_out"] == len(reply)
    p.wait_fds(baseline, timeout=5)
    # A worker keeps the empty pipes of the finished directions (two fds each) for reuse.
    assert p.pipe_count() == pipes + (4 if splice == "auto" else 0)
    check_splice(p, splice, 8 * MIB)


def test_upstream_that_speaks_first_is_relayed(tmp_path, start_plrelay, servers):
    greeting = b"220 upstream speaks first\r\n"
    up = servers(speak_first(greeting))
    p, port = start_route(tmp_path, start_plrelay, up)
    with connect(port) as s:
        assert recv_exact(s, len(greeting), timeout=10) == greeting   # we sent nothing yet
        echo_roundtrip(s, b"then echo")
    rec = p.wait_access(count=1)[0]
    assert rec["bytes_out"] == len(greeting) + len(b"then echo")


@SPLICE_MODES
def test_upstream_reset_mid_stream_closes_client_promptly_and_frees_fds(tmp_path, start_plrelay,
                                                                        servers, splice):
    reset_done = threading.Event()
    up_echo = servers(echo_handler)
    up = servers(reset_mid_stream(64 * 1024, 256 * 1024, reset_done))
    port, warm_port = free_port(), free_port()
    p = start_plrelay(make_config(tmp_path, {
        "r1": route("127.0.0.1:%d" % port, up.addr, splice=splice),
        "warm": route("127.0.0.1:%d" % warm_port, up_echo.addr)}))
    baseline = warm_up(p, warm_port)
    s = connect(port, timeout=10)
    sender_sock = s.dup()
    stop = threading.Event()

    def sender():                        # keep client→upstream bytes flowing until it breaks
        sender_sock.settimeout(0.5)
        end = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < end:
            try:
                sender_sock.send(b"c" * 65536)
            except socket.timeout:
                continue
            except OSError:
                return

    try:
        recv_exact(s, 64 * 1024)
        t = threading.Thread(target=sender, daemon=True)
        t.start()
        assert reset_done.wait(15), "upstream never got its 256 KiB to reset after"
        how = wait_closed(s, timeout=3)
        assert how in ("eof", "reset")
    finally:
        stop.set()
        sender_sock.close()
        s.close()
    rec = p.wait_access(lambda r: r["route"] == "r1", timeout=10)[0]
    assert (rec["status"], rec["reason"]) == (502, "upstream_reset")
    p.wait_fds(baseline, timeout=5)


@SPLICE_MODES
def test_slow_reader_keeps_rss_bounded_and_loses_nothing(tmp_path, start_plrelay, servers,
                                                         splice):
    state = SourceState()
    up = servers(source_handler(state, total_bytes=200 * MIB, deadline_s=25))
    up_echo = servers(echo_handler)
    port, warm_port = free_port(), free_port()
    p = start_plrelay(make_config(tmp_path, {
        "r1": route("127.0.0.1:%d" % port, up.addr, buffer_size="64k", splice=splice),
        "warm": route("127.0.0.1:%d" % warm_port, up_echo.addr)}, workers=1))
    warm_up(p, warm_port)
    baseline_kib = p.rss_kib()
    limit_kib = baseline_kib + (32 + (64 if SANITIZE else 0)) * 1024
    peak = [baseline_kib]
    sampling = threading.Event()

    def sampler():
        while not sampling.wait(0.05):
            try:
                peak[0] = max(peak[0], p.rss_kib())
            except (OSError, AssertionError):
                return

    t = threading.Thread(target=sampler, daemon=True)
    t.start()
    s = connect(port, timeout=30)
    try:
        # Phase 1: read nothing until the upstream is stuck (every buffer on the way is full).
        wait_for(lambda: state.sent > 0 and time.monotonic() - state.last_progress > 1.0, 30,
                 "upstream to block behind the paused reader")
        assert peak[0] <= limit_kib, "RSS %d KiB > %d KiB while the client paused" % (
            peak[0], limit_kib)
        # Phase 2: read slowly (64 KiB, short pause) until the upstream's deadline-bound EOF.
        h, n = hashlib.sha256(), 0
        end = time.monotonic() + 120
        while time.monotonic() < end:
            data = s.recv(65536)
            if not data:
                break
            h.update(data)
            n += len(data)
            time.sleep(0.002)                     # at most ~32 MB/s: slower than the source
        assert state.finished.wait(30), "source never finished"
    finally:
        s.close()
        sampling.set()
        t.join(timeout=5)
    assert state.error is None, state.error
    assert n == state.sent and h.hexdigest() == state.sha, "bytes lost or changed on the way"
    assert state.sent >= 16 * MIB, "too little data went through to say anything"
    assert peak[0] <= limit_kib, "peak RSS %d KiB > baseline %d KiB + bound" % (peak[0],
                                                                               baseline_kib)
    rec = p.wait_access(lambda r: r["route"] == "r1")[0]
    assert rec["bytes_out"] == state.sent
    print("slow reader: %d MiB relayed, RSS baseline %d KiB, peak %d KiB" % (
        state.sent >> 20, baseline_kib, peak[0]))
    check_splice(p, splice, 8 * MIB)


def test_idle_connection_is_closed_by_idle_timeout(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    p, port = start_route(tmp_path, start_plrelay, up, idle_timeout="1s")
    with connect(port) as s:
        echo_roundtrip(s, b"hello")
        assert wait_closed(s, timeout=10) in ("eof", "reset")
    wait_for(lambda: up.active == 0, 5, "the upstream side to be closed too")
    rec = p.wait_access(count=1)[0]
    assert (rec["status"], rec["reason"]) == (200, "idle_timeout")


def test_connection_busy_both_ways_outlives_idle_timeout(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    p, port = start_route(tmp_path, start_plrelay, up, idle_timeout="1s")
    with connect(port) as s:
        for i in range(15):                       # one byte every 200 ms for 3 s
            echo_roundtrip(s, b"%c" % (65 + i), timeout=5)
            time.sleep(0.2)
        assert is_open(s)
        s.shutdown(socket.SHUT_WR)
        assert recv_until_eof(s, timeout=10) == b""
    rec = p.wait_access(count=1)[0]
    assert rec["reason"] == "client_eof", rec


@pytest.mark.parametrize("direction", ["client_to_upstream", "upstream_to_client"])
def test_one_way_traffic_is_not_idle(tmp_path, start_plrelay, servers, direction):
    handler = sink_handler if direction == "client_to_upstream" else trickle_handler(0.2, 15)
    up = servers(handler)
    p, port = start_route(tmp_path, start_plrelay, up, idle_timeout="1s")
    with connect(port) as s:
        if direction == "client_to_upstream":
            for _ in range(15):
                s.sendall(b".")
                time.sleep(0.2)
            assert is_open(s)
        else:
            assert recv_exact(s, 15, timeout=10) == b"." * 15
            assert is_open(s)
        s.shutdown(socket.SHUT_WR)
    rec = p.wait_access(count=1)[0]
    assert rec["reason"] != "idle_timeout", rec
    assert rec["bytes_in" if direction == "client_to_upstream" else "bytes_out"] == 15
