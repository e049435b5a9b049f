"""Connection limits and fd exhaustion: a route's max_connections closes the excess connection at
once (503 limit_route, no upstream connect, the admitted ones unaffected, the slot reusable after
one ends); the global max_connections does the same across routes (503 limit_global); and under
`prlimit --nofile=64` with 200 connections plrelay does not spin, logs the fd limit rate-limited,
keeps relaying the established tunnels, closes the extras instead of leaving them hanging, and
accepts again once descriptors are free.
"""

import re
import selectors
import socket
import time

from harness import connect, echo_roundtrip, is_open, make_config, route, wait_closed, wait_for
from peers import echo_handler, free_port

FD_LIMIT_RE = re.compile(r"EMFILE|ENFILE|too many open files|file descriptor|fd limit|nofile",
                         re.I)


def open_echoing(port, n):
    socks = []
    for i in range(n):
        s = connect(port)
        echo_roundtrip(s, b"admitted %d" % i)
        socks.append(s)
    return socks


def test_route_limit_closes_the_excess_connection_with_503(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    port = free_port()
    p = start_plrelay(make_config(tmp_path, {
        "r1": route("127.0.0.1:%d" % port, up.addr, max_connections=3)}, max_connections=100))
    admitted = open_echoing(port, 3)
    try:
        with connect(port) as extra:
            assert wait_closed(extra, timeout=5) in ("eof", "reset")
        rec = p.wait_access(lambda r: r["reason"] == "limit_route")[0]
        assert rec["status"] == 503 and rec["route"] == "r1"
        assert up.accepted == 3, "a rejected client must not cause an upstream connect"
        for s in admitted:
            echo_roundtrip(s, b"still here")
        admitted.pop().close()                         # one slot frees up ...
        p.wait_access(lambda r: r["reason"] == "client_eof")
        with connect(port) as again:                   # ... and can be used again
            echo_roundtrip(again, b"slot reused")
    finally:
        for s in admitted:
            s.close()
    assert len([r for r in p.wait_access(count=5) if r["status"] == 503]) == 1


def test_global_limit_counts_connections_across_routes(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    port1, port2 = free_port(), free_port()
    p = start_plrelay(make_config(tmp_path, {
        "r1": route("127.0.0.1:%d" % port1, up.addr),
        "r2": route("127.0.0.1:%d" % port2, up.addr)}, max_connections=3))
    admitted = open_echoing(port1, 2) + open_echoing(port2, 1)
    try:
        for port in (port2, port1):
            with connect(port) as extra:
                assert wait_closed(extra, timeout=5) in ("eof", "reset")
        recs = p.wait_access(lambda r: r["reason"] == "limit_global", count=2)
        assert all(r["status"] == 503 for r in recs)
        assert sorted(r["route"] for r in recs) == ["r1", "r2"]
        assert up.accepted == 3
        for s in admitted:
            echo_roundtrip(s, b"unaffected")
    finally:
        for s in admitted:
            s.close()


def classify(socks, timeout):
    """Send a ping on every socket; return (echoed, closed) index lists. Fails if any socket
    neither echoes nor closes within the deadline (a hung client)."""
    sel = selectors.DefaultSelector()
    got = {}
    closed = []
    for i, s in enumerate(socks):
        try:
            s.sendall(b"ping")
        except OSError:
            closed.append(i)
            continue
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
        got[i] = b""
    echoed = []
    deadline = time.monotonic() + timeout
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            i = key.data
            try:
                data = key.fileobj.recv(64)
            except OSError:
                data = b""
            if not data:
                closed.append(i)
                sel.unregister(key.fileobj)
                continue
            got[i] += data
            if got[i] == b"ping":
                echoed.append(i)
                sel.unregister(key.fileobj)
    hung = [key.data for key in sel.get_map().values()]
    sel.close()
    for s in socks:
        s.settimeout(5)
    assert not hung, "%d connection(s) neither served nor closed: hung" % len(hung)
    return echoed, closed


def test_fd_exhaustion_pauses_accepting_without_spinning_and_recovers(tmp_path, start_plrelay,
                                                                      servers):
    up = servers(echo_handler)
    port = free_port()
    p = start_plrelay(make_config(tmp_path, {
        "r1": route("127.0.0.1:%d" % port, up.addr, max_connections=1000)},
        max_connections=1000, workers=1), nofile=64)
    socks = []
    try:
        for _ in range(200):
            socks.append(connect(port, timeout=5))
        echoed, closed = classify(socks, timeout=20)
        assert echoed, "no connection was relayed at all under the fd limit"
        assert len(echoed) + len(closed) == 200

        # Keep knocking while exhausted: a spinning listener would burn a core here.
        cpu0, end = p.cpu_seconds(), time.monotonic() + 3
        knocks = 0
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as k:
                    k.settimeout(1)
                    try:
                        k.recv(1)
                    except (socket.timeout, OSError):
                        pass
            except OSError:
                pass
            knocks += 1
            time.sleep(0.05)
        cpu_used = p.cpu_seconds() - cpu0
        assert cpu_used < 1.0, "plrelay used %.2f s CPU in ~3 s of fd exhaustion" % cpu_used

        for i in echoed:                              # established tunnels still relay
            echo_roundtrip(socks[i], b"still relaying", timeout=10)
    finally:
        for s in socks:
            s.close()

    def serves():
        try:
            with connect(port, timeout=2) as s:
                echo_roundtrip(s, b"recovered", timeout=2)
                return True
        except (OSError, AssertionError):
            return False

    wait_for(serves, 15, "plrelay to accept and relay again after the fds were freed")
    for i in range(5):
        with connect(port) as s:
            echo_roundtrip(s, b"again %d" % i)
            assert is_open(s)

    lines = [x for x in p.stderr().splitlines() if FD_LIMIT_RE.search(x)]
    assert lines, "the fd limit was never logged; stderr:\n%s" % p.stderr()[-3000:]
    assert len(lines) < 10, "fd-limit log not rate-limited: %d lines, e.g.:\n%s" % (
        len(lines), "\n".join(lines[:3] + ["..."] + lines[-3:]))
