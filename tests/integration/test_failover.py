"""Upstream selection and connect failures: refused upstreams are skipped within connect_tries
(attempts logged), all refused → client closed with 502 upstream_refused, a black-holed upstream
(SYNs dropped by an nftables rule, or a full accept queue when nft is unavailable) hits
connect_timeout and the next one serves, only black holes → 504 upstream_timeout; roundrobin
spreads over live upstreams, failover sticks to the first while it is up, leastconn picks the
less busy upstream and source-hash keeps one client address on one upstream.
"""

import socket

import pytest

from harness import connect, echo_roundtrip, make_config, route, wait_closed
from peers import BlackHole, echo_handler, free_port


@pytest.fixture
def blackhole():
    with BlackHole() as bh:
        yield bh


def start(tmp_path, start_plrelay, upstreams, **opts):
    port = free_port()
    p = start_plrelay(make_config(tmp_path, {"r1": route("127.0.0.1:%d" % port, upstreams,
                                                         **opts)}))
    return p, port


def refused_addr():
    return "127.0.0.1:%d" % free_port()      # nothing listens there: connect() is refused


@pytest.mark.parametrize("n_refused", [1, 2])
def test_refused_upstreams_are_skipped_and_attempts_logged(tmp_path, start_plrelay, servers,
                                                          n_refused):
    ok = servers(echo_handler)
    ups = [refused_addr() for _ in range(n_refused)] + [ok.addr]
    p, port = start(tmp_path, start_plrelay, ups, balance="failover", connect_tries=3)
    with connect(port) as s:
        echo_roundtrip(s, b"served by the last one")
    rec = p.wait_access(count=1)[0]
    assert rec["upstream_addr"] == ok.addr and rec["status"] == 200
    assert rec["attempts"] == n_refused + 1, rec


def test_all_upstreams_refused_closes_client_with_502(tmp_path, start_plrelay, servers):
    p, port = start(tmp_path, start_plrelay, [refused_addr(), refused_addr()])
    with connect(port) as s:
        s.sendall(b"anyone there?")
        assert wait_closed(s, timeout=10) in ("eof", "reset")
    rec = p.wait_access(count=1)[0]
    assert (rec["status"], rec["reason"]) == (502, "upstream_refused"), rec
    assert rec["attempts"] >= 2 and rec["bytes_out"] == 0


def test_blackholed_upstream_times_out_and_the_next_one_serves(tmp_path, start_plrelay, servers,
                                                               blackhole):
    ok = servers(echo_handler)
    p, port = start(tmp_path, start_plrelay, ["127.0.0.1:%d" % blackhole.port, ok.addr],
                    balance="failover", connect_timeout="1s")
    with connect(port, timeout=15) as s:
        echo_roundtrip(s, b"after a timeout", timeout=15)
    rec = p.wait_access(count=1)[0]
    assert rec["upstream_addr"] == ok.addr and rec["attempts"] == 2, (blackhole.mode, rec)
    assert rec["status"] == 200


def test_only_blackholed_upstream_gives_504_upstream_timeout(tmp_path, start_plrelay, blackhole):
    p, port = start(tmp_path, start_plrelay, ["127.0.0.1:%d" % blackhole.port],
                    connect_timeout="1s", connect_tries=2)
    with connect(port) as s:
        s.sendall(b"hello?")
        assert wait_closed(s, timeout=15) in ("eof", "reset")
    rec = p.wait_access(count=1, timeout=10)[0]
    assert (rec["status"], rec["reason"]) == (504, "upstream_timeout"), (blackhole.mode, rec)
    assert 1 <= rec["attempts"] <= 2


def test_roundrobin_spreads_connections_over_two_live_upstreams(tmp_path, start_plrelay,
                                                                servers):
    a, b = servers(echo_handler), servers(echo_handler)
    p, port = start(tmp_path, start_plrelay, [a.addr, b.addr], balance="roundrobin")
    n = 20
    for i in range(n):
        with connect(port) as s:
            echo_roundtrip(s, b"conn %d" % i)
    recs = p.wait_access(count=n)
    used = [r["upstream_addr"] for r in recs]
    assert a.accepted + b.accepted == n
    # Two workers each alternating: every upstream gets at least ~n/2 - workers.
    assert a.accepted >= 5 and b.accepted >= 5, (a.accepted, b.accepted)
    assert used.count(a.addr) == a.accepted and used.count(b.addr) == b.accepted


def test_failover_uses_the_first_upstream_while_it_is_up(tmp_path, start_plrelay, servers):
    a, b = servers(echo_handler), servers(echo_handler)
    p, port = start(tmp_path, start_plrelay, [a.addr, b.addr], balance="failover")
    for i in range(10):
        with connect(port) as s:
            echo_roundtrip(s, b"conn %d" % i)
    assert (a.accepted, b.accepted) == (10, 0)
    a.close_listener()                   # the first one goes away: now refused
    for i in range(5):
        with connect(port) as s:
            echo_roundtrip(s, b"after %d" % i)
    assert b.accepted == 5
    recs = p.wait_access(count=15)
    used = [r["upstream_addr"] for r in recs]
    assert (used.count(a.addr), used.count(b.addr)) == (10, 5), used
    assert all(r["status"] == 200 for r in recs)


def test_leastconn_picks_the_upstream_with_fewer_open_connections(tmp_path, start_plrelay,
                                                                  servers):
    a, b = servers(echo_handler), servers(echo_handler)
    port = free_port()
    p = start_plrelay(make_config(tmp_path, {"r1": route("127.0.0.1:%d" % port,
                                                         [a.addr, b.addr], balance="leastconn")},
                                  workers=1))
    first = connect(port)
    second = None
    try:
        echo_roundtrip(first, b"one")
        busy, idle = (a, b) if a.accepted == 1 else (b, a)
        second = connect(port)
        echo_roundtrip(second, b"two")                 # the other one had 0 connections
        assert (busy.accepted, idle.accepted) == (1, 1)
        first.close()
        p.wait_access(count=1)                         # busy is back to 0 open, idle has 1
        with connect(port) as third:
            echo_roundtrip(third, b"three")
        assert (busy.accepted, idle.accepted) == (2, 1)
    finally:
        first.close()
        if second:
            second.close()


def test_source_hash_keeps_a_client_address_on_one_upstream(tmp_path, start_plrelay, servers):
    a, b = servers(echo_handler), servers(echo_handler)
    p, port = start(tmp_path, start_plrelay, [a.addr, b.addr], balance="source-hash")
    for source in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        for i in range(4):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((source, 0))
                s.settimeout(5)
                s.connect(("127.0.0.1", port))
                echo_roundtrip(s, b"from %s %d" % (source.encode(), i))
            finally:
                s.close()
    recs = p.wait_access(count=12)
    by_source = {}
    for r in recs:
        by_source.setdefault(r["client"].rsplit(":", 1)[0], set()).add(r["upstream_addr"])
    assert sorted(by_source) == ["127.0.0.1", "127.0.0.2", "127.0.0.3"], by_source
    assert all(len(ups) == 1 for ups in by_source.values()), by_source
