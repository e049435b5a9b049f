"""Hostname upstreams: a name from hosts_file is served (and wins over DNS); a name from the test
DNS responder (dns_servers) is re-resolved after its TTL so new connections follow a changed A
record; every address of a name is tried; an NXDOMAIN / empty name next to a good one is logged
and skipped while the good one serves; a pool with only an unresolvable name (NXDOMAIN, NODATA,
SERVFAIL, garbage reply, no reply) answers 502 no_upstream; a failed name is served once DNS
answers again; DNS failures reach stderr only as well-formed log lines. DNS gives addresses,
not ports, so the moving upstream is two servers on the same port at 127.0.0.1 and 127.0.0.2
(both loopback on Linux).
"""

import pytest

from harness import (LOG_LINE_RE, connect, echo_roundtrip, make_config, route, wait_closed,
                     wait_for)
from peers import (RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_SERVFAIL, DnsServer, echo_handler,
                   free_port, free_port_on_all)


@pytest.fixture
def dns():
    with DnsServer() as d:
        yield d


def config(tmp_path, dns, upstreams, hosts="", **glob):
    hosts_path = tmp_path / "hosts"
    hosts_path.write_text(hosts)
    port = free_port()
    glob.setdefault("dns_ttl_min", "1s")
    text = make_config(tmp_path, {"r1": route("127.0.0.1:%d" % port, upstreams)},
                       dns_servers=dns.addr, hosts_file=str(hosts_path), **glob)
    return text, port


def two_servers(servers):
    """Echo servers on 127.0.0.1:P and 127.0.0.2:P (same P)."""
    p = free_port_on_all(["127.0.0.1", "127.0.0.2"])
    return servers(echo_handler, host="127.0.0.1", port=p), \
        servers(echo_handler, host="127.0.0.2", port=p), p


def test_hostname_from_hosts_file_is_served_and_wins_over_dns(tmp_path, start_plrelay, servers,
                                                              dns):
    one, two, up_port = two_servers(servers)
    dns.set("up.test", a=["127.0.0.2"], ttl=1)           # DNS disagrees; the hosts file wins
    text, port = config(tmp_path, dns, "up.test:%d" % up_port, hosts="127.0.0.1 up.test\n")
    p = start_plrelay(text)
    for i in range(3):
        with connect(port) as s:
            echo_roundtrip(s, b"via hosts %d" % i)
    recs = p.wait_access(count=3)
    assert all(r["upstream"] == "up.test:%d" % up_port for r in recs), recs
    assert all(r["upstream_addr"] == "127.0.0.1:%d" % up_port for r in recs), recs
    assert (one.accepted, two.accepted) == (3, 0)


def test_new_connections_follow_a_changed_a_record_after_its_ttl(tmp_path, start_plrelay,
                                                                 servers, dns):
    one, two, up_port = two_servers(servers)
    dns.set("up.test", a=["127.0.0.1"], ttl=1)
    text, port = config(tmp_path, dns, "up.test:%d" % up_port, workers=1)
    p = start_plrelay(text)
    with connect(port) as s:                  # resolved before `ready`: served at once
        echo_roundtrip(s, b"first")
    rec = p.wait_access(count=1)[0]
    assert rec["upstream_addr"] == "127.0.0.1:%d" % up_port, rec

    dns.set("up.test", a=["127.0.0.2"], ttl=1)
    streak = [0]

    def moved():
        before = two.accepted
        with connect(port) as s:
            echo_roundtrip(s, b"probe")
        streak[0] = streak[0] + 1 if two.accepted > before else 0
        return streak[0] >= 3

    wait_for(moved, 20, "connections to move to 127.0.0.2 after the TTL", interval=0.3)
    recs = p.wait_access(count=one.accepted + two.accepted)
    used = [r["upstream_addr"] for r in recs]
    assert used.count("127.0.0.2:%d" % up_port) == two.accepted >= 3, used
    assert len(dns.queries_for("up.test")) >= 2, "the name was never re-resolved"


def test_every_address_of_a_name_is_tried(tmp_path, start_plrelay, servers, dns):
    up_port = free_port_on_all(["127.0.0.1", "127.0.0.2"])
    live = servers(echo_handler, host="127.0.0.1", port=up_port)   # .2 refuses
    dns.set("multi.test", a=["127.0.0.2", "127.0.0.1"], ttl=60)
    text, port = config(tmp_path, dns, "multi.test:%d" % up_port)
    p = start_plrelay(text)
    for i in range(5):
        with connect(port) as s:
            echo_roundtrip(s, b"any address %d" % i)
    recs = p.wait_access(count=5)
    assert live.accepted == 5
    assert all(r["upstream_addr"] == "127.0.0.1:%d" % up_port for r in recs), recs


BAD_ANSWERS = {"nxdomain": dict(rcode=RCODE_NXDOMAIN), "nodata": dict(rcode=RCODE_NOERROR),
               "servfail": dict(rcode=RCODE_SERVFAIL), "garbage": dict(mode="garbage"),
               "silent": dict(mode="silent")}


@pytest.mark.parametrize("kind", ["nxdomain", "nodata"])
def test_unresolvable_name_is_logged_and_skipped_while_a_good_one_serves(
        tmp_path, start_plrelay, servers, dns, kind):
    up = servers(echo_handler)
    dns.set("up.test", a=["127.0.0.1"], ttl=60)
    dns.set("bad.test", **BAD_ANSWERS[kind])
    text, port = config(tmp_path, dns, ["bad.test:%d" % up.port, "up.test:%d" % up.port],
                        workers=1)
    p = start_plrelay(text, ready_timeout=40)
    for i in range(6):
        with connect(port) as s:
            echo_roundtrip(s, b"good name %d" % i)
    recs = p.wait_access(count=6)
    assert all(r["upstream_addr"] == up.addr and r["status"] == 200 for r in recs), recs
    assert "bad.test" in p.stderr(), "the failed name is not in the log:\n%s" % p.stderr()


@pytest.mark.parametrize("kind", ["nxdomain", "nodata", "servfail", "garbage", "silent"])
def test_pool_with_only_an_unresolvable_name_answers_502_no_upstream(
        tmp_path, start_plrelay, servers, dns, kind):
    sentinel = servers(echo_handler)
    dns.set("bad.test", **BAD_ANSWERS[kind])
    text, port = config(tmp_path, dns, "bad.test:%d" % sentinel.port)
    p = start_plrelay(text, ready_timeout=40)
    with connect(port) as s:
        s.sendall(b"hello")
        assert wait_closed(s, timeout=10) in ("eof", "reset")
    rec = p.wait_access(count=1)[0]
    assert (rec["status"], rec["reason"]) == (502, "no_upstream"), rec
    assert rec["upstream_addr"] == ""
    assert sentinel.accepted == 0
    assert "bad.test" in p.stderr()


@pytest.mark.parametrize("kind", ["nxdomain", "garbage"])
def test_a_name_that_failed_is_served_once_dns_answers(tmp_path, start_plrelay, servers, dns,
                                                       kind):
    up = servers(echo_handler)
    dns.set("late.test", **BAD_ANSWERS[kind])
    text, port = config(tmp_path, dns, "late.test:%d" % up.port, workers=1)
    start_plrelay(text, ready_timeout=40)
    with connect(port) as s:
        assert wait_closed(s, timeout=10) in ("eof", "reset")
    dns.set("late.test", a=["127.0.0.1"], ttl=60)

    def served():
        try:
            with connect(port, timeout=2) as s:
                echo_roundtrip(s, b"resolved at last", timeout=2)
                return True
        except (OSError, AssertionError):
            return False

    wait_for(served, 30, "the name to resolve after the DNS server recovered", interval=0.5)
    assert up.accepted >= 1


@pytest.mark.parametrize("kind", ["nxdomain", "servfail", "garbage", "silent"])
def test_dns_failures_are_logged_as_well_formed_log_lines(tmp_path, start_plrelay, servers, dns,
                                                          kind):
    dns.set("bad.test", **BAD_ANSWERS[kind])
    text, port = config(tmp_path, dns, "bad.test:9")
    p = start_plrelay(text, ready_timeout=40)
    assert p.stop() == 0
    bad = [x for x in p.stderr().splitlines() if not LOG_LINE_RE.match(x)]
    assert not bad, "stderr lines outside the log format: %r" % bad
