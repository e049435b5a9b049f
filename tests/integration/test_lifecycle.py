"""Process lifecycle: SIGTERM stops accepting at once while live tunnels keep relaying and finish
by themselves (exit 0); drain_timeout closes a tunnel that never ends (reason drain_timeout,
exit 0); SIGINT behaves like SIGTERM; a client vanishing with megabytes queued for it never
kills the process with SIGPIPE.
"""

import signal
import socket
import time

import pytest

from harness import connect, echo_roundtrip, make_config, route, wait_closed, wait_for
from peers import SourceState, echo_handler, free_port, set_rst_on_close, source_handler


def refuses(port):
    """True once a connect to port is refused; a connect that still lands is closed again."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def start_echo_route(tmp_path, start_plrelay, servers, **glob):
    up = servers(echo_handler)
    port = free_port()
    p = start_plrelay(make_config(tmp_path, {"r1": route("127.0.0.1:%d" % port, up.addr)},
                                  **glob))
    return p, port


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_accepting_at_once_and_live_tunnels_finish(tmp_path, start_plrelay,
                                                                servers, sig):
    p, port = start_echo_route(tmp_path, start_plrelay, servers, drain_timeout="30s")
    tunnels = [connect(port) for _ in range(10)]
    try:
        for i, s in enumerate(tunnels):
            echo_roundtrip(s, b"before %d" % i)
        p.send_signal(sig)
        wait_for(lambda: refuses(port), 5, "the listener to close after the signal")
        for i, s in enumerate(tunnels):                  # still relaying while draining
            echo_roundtrip(s, b"draining %d" % i)
        assert p.alive(), "plrelay exited while tunnels were still open"
        for s in tunnels:                                # the tunnels end by themselves
            s.shutdown(socket.SHUT_WR)
            assert wait_closed(s, timeout=10) == "eof"
    finally:
        for s in tunnels:
            s.close()
    assert p.wait_exit(timeout=20) == 0, p.stderr()[-3000:]
    recs = [r for r in p.access_records() if r["bytes_in"] > 0]
    assert len(recs) == 10 and all(r["reason"] == "client_eof" for r in recs), recs


def test_drain_timeout_closes_a_tunnel_that_never_ends(tmp_path, start_plrelay, servers):
    p, port = start_echo_route(tmp_path, start_plrelay, servers, drain_timeout="2s")
    with connect(port) as s:
        echo_roundtrip(s, b"I will never hang up")
        p.send_signal(signal.SIGTERM)
        wait_for(lambda: refuses(port), 5, "the listener to close after SIGTERM")
        echo_roundtrip(s, b"still draining")
        assert wait_closed(s, timeout=15) in ("eof", "reset")
    assert p.wait_exit(timeout=15) == 0, p.stderr()[-3000:]
    recs = [r for r in p.access_records() if r["bytes_in"] > 0]
    assert len(recs) == 1 and (recs[0]["reason"], recs[0]["status"]) == ("drain_timeout", 200)


def test_client_vanishing_with_queued_data_does_not_kill_plrelay(tmp_path, start_plrelay,
                                                                 servers):
    state = SourceState()
    source = servers(source_handler(state, total_bytes=1 << 30, deadline_s=60))
    echo = servers(echo_handler)
    port, echo_port = free_port(), free_port()
    p = start_plrelay(make_config(tmp_path, {
        "push": route("127.0.0.1:%d" % port, source.addr),
        "echo": route("127.0.0.1:%d" % echo_port, echo.addr)}))
    s = connect(port)
    wait_for(lambda: state.sent >= 1 << 20 and time.monotonic() - state.last_progress > 1.0,
             30, "megabytes queued behind the client that does not read")
    set_rst_on_close(s)
    s.close()                                           # vanish: RST with data in flight
    assert state.done.wait(15), "plrelay never closed the upstream of the vanished client"
    rec = p.wait_access(lambda r: r["route"] == "push")[0]
    assert rec["reason"] == "client_reset", rec
    assert p.alive(), "plrelay died: %s" % p.stderr()[-3000:]
    with connect(echo_port) as s2:
        echo_roundtrip(s2, b"still serving")
    with connect(port) as s3:                           # the same route serves a new client
        s3.settimeout(5)
        assert s3.recv(1)
    assert p.alive()
