"""A real PROXY v2 sender in front of plrelay: Debian's haproxy in `mode tcp` with
`send-proxy-v2` (plain, `proxy-v2-options crc32c,unique-id`, and `authority,crc32c`) stands in
for the Alibaba NLB (reliability.md §6 "Real peers", issue 3). The test client binds a
distinctive loopback address (127.0.0.5, ...) so that the real client, as opposed to haproxy's
own 127.0.0.1, is visible in plrelay's access log. Covered: 8 MiB each way with equal SHA-256
and the real client logged; haproxy's TLVs passed on by send_proxy to an upstream that parses
them; haproxy's health checks counted as probes and never logged; per-source limits and source
ACLs applied to the real clients behind the one haproxy peer.
"""

import hashlib
import os
import re
import socket
import threading

import pytest

import haproxypeer
import ppv2
from harness import connect, make_config, recv_exact, recv_until_eof, route, wait_closed, \
    wait_for
from peers import echo_handler, free_port, sha256, stream_handler

pytestmark = pytest.mark.skipif(not haproxypeer.available(),
                                reason="haproxy is not installed (apt-get install haproxy; "
                                       ".ci/bootstrap installs it)")

MIB = 1024 * 1024
STOPPED_RE = re.compile(r"stopped: .* (\d+) bad PROXY header\(s\), (\d+) probe\(s\)")


@pytest.fixture
def haproxy(tmp_path):
    started = []

    def _start(backend, server_opts="send-proxy-v2", frontend_extra=""):
        hp = haproxypeer.Haproxy(tmp_path, backend, server_opts=server_opts,
                                 frontend_extra=frontend_extra, name="haproxy%d" % len(started))
        started.append(hp)
        return hp.start()

    yield _start
    for hp in started:
        hp.stop()


def plrelay_behind_haproxy(tmp_path, start_plrelay, haproxy, upstream, server_opts,
                           frontend_extra="", glob=None, **opts):
    port = free_port()
    opts.setdefault("proxy_protocol", "v2")
    opts.setdefault("trusted_proxies", "127.0.0.1/32")
    p = start_plrelay(make_config(tmp_path, {"r1": route("127.0.0.1:%d" % port, upstream.addr,
                                                         **opts)}, **(glob or {})))
    hp = haproxy("127.0.0.1:%d" % port, server_opts, frontend_extra)
    return p, hp


def me(sock):
    return "%s:%d" % sock.getsockname()[:2]


SENDERS = [
    ("plain", "send-proxy-v2", ""),
    ("crc32c_unique_id", "send-proxy-v2 proxy-v2-options crc32c,unique-id",
     "unique-id-format %ci:%cp"),
    ("authority_crc32c", "send-proxy-v2 proxy-v2-options authority,crc32c", ""),
]


@pytest.mark.parametrize("server_opts,frontend_extra", [s[1:] for s in SENDERS],
                         ids=[s[0] for s in SENDERS])
def test_real_client_reaches_the_log_and_8_mib_each_way_arrive_intact(
        tmp_path, start_plrelay, servers, haproxy, server_opts, frontend_extra):
    down, upload = os.urandom(8 * MIB), os.urandom(8 * MIB)
    up = servers(stream_handler(down))
    p, hp = plrelay_behind_haproxy(tmp_path, start_plrelay, haproxy, up, server_opts,
                                   frontend_extra)
    s = connect(hp.port, source="127.0.0.5", timeout=60)
    client = me(s)
    err = []

    def sender():
        try:
            s.sendall(upload)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    got = recv_until_eof(s, timeout=120)
    t.join(timeout=60)
    s.close()
    assert not err, err
    assert len(got) == len(down) and hashlib.sha256(got).hexdigest() == sha256(down)
    wait_for(lambda: up.results, 60, "the upstream to finish")
    assert up.results[0]["received"] == len(upload)
    assert up.results[0]["received_sha"] == sha256(upload), "upload changed (header leaked?)"
    recs = p.wait_access(lambda r: r["real_client"] == client, timeout=30,
                         what="a line with real_client %s" % client)
    rec = recs[0]
    assert rec["status"] == 200 and rec["detail"] == "", rec
    assert rec["client"].startswith("127.0.0.1:"), "the peer is haproxy: %r" % rec
    assert rec["bytes_in"] == len(upload) and rec["bytes_out"] == len(down), rec
    assert (rec["vpc_id"], rec["endpoint_id"], rec["endpoint_service_id"]) == ("", "", "")
    bad = [r for r in p.access_records() if r["status"] != 200]
    assert not bad, "haproxy's header was refused: %r\nhaproxy stderr:\n%s" % (bad, hp.stderr())


def test_haproxy_tlvs_are_passed_on_by_send_proxy_v2(tmp_path, start_plrelay, servers, haproxy):
    up = servers(ppv2.proxy_header_peer)
    p, hp = plrelay_behind_haproxy(
        tmp_path, start_plrelay, haproxy, up, "send-proxy-v2 proxy-v2-options crc32c,unique-id",
        "unique-id-format %ci:%cp", send_proxy="v2", send_proxy_tlvs="pass")
    s = connect(hp.port, source="127.0.0.5")
    cport = s.getsockname()[1]
    payload = os.urandom(64 * 1024)
    s.sendall(payload)
    assert recv_exact(s, len(payload)) == payload
    s.shutdown(socket.SHUT_WR)
    recv_until_eof(s)
    s.close()
    wait_for(lambda: up.results, 10, "the upstream to read plrelay's header")
    res = up.results[0]
    assert res["error"] is None, res["error"]
    h = res["header"]
    assert (h.version, h.command) == (2, ppv2.CMD_PROXY), h
    assert h.src == ("127.0.0.5", cport), "the real client behind haproxy: %r" % (h,)
    assert h.dst == ("127.0.0.1", hp.port), "the address the client reached: %r" % (h,)
    assert h.tlv_values(ppv2.TLV_UNIQUE_ID) == [b"127.0.0.5:%d" % cport], h.tlvs
    # haproxy's CRC32C covered haproxy's header; any CRC sent on must be fresh (parse checked).
    rec = p.wait_access(count=1)[0]
    assert rec["real_client"] == "127.0.0.5:%d" % cport and rec["status"] == 200, rec


def test_haproxy_health_checks_are_probes_not_log_lines(tmp_path, start_plrelay, servers,
                                                        haproxy):
    up = servers(echo_handler)
    p, hp = plrelay_behind_haproxy(tmp_path, start_plrelay, haproxy, up,
                                   "send-proxy-v2 check inter 200ms fall 3 rise 1",
                                   glob={"log_level": "debug"}, handshake_timeout="3s")

    def probes_logged():
        return len(re.findall(r"load-balancer probe", p.stderr()))
    wait_for(lambda: probes_logged() >= 3, 15, "three haproxy health checks seen as probes")
    assert p.access_records() == [], "a health check wrote an access-log line: %r" % (
        p.access_records()[:3],)
    assert up.accepted == 0, "a health check reached the upstream"
    s = connect(hp.port, source="127.0.0.7")
    client = me(s)
    s.sendall(b"a real client")
    assert recv_exact(s, 13) == b"a real client"
    s.shutdown(socket.SHUT_WR)
    recv_until_eof(s)
    s.close()
    rec = p.wait_access(count=1)[0]
    assert rec["real_client"] == client and rec["status"] == 200, rec
    hp.stop()                        # no more checks; then the counts are final
    assert p.stop() == 0
    m = STOPPED_RE.search(p.stderr())
    assert m, p.stderr()[-2000:]
    assert int(m.group(1)) == 0, "a health check counted as a bad header"
    assert int(m.group(2)) == probes_logged() >= 3, (m.group(0), probes_logged())
    assert len(p.access_records()) == 1


def test_limits_and_acls_apply_to_each_real_client_behind_haproxy(tmp_path, start_plrelay,
                                                                  servers, haproxy):
    up = servers(echo_handler)
    p, hp = plrelay_behind_haproxy(tmp_path, start_plrelay, haproxy, up, "send-proxy-v2",
                                   max_connections_per_source=1,
                                   deny_sources="127.0.0.66/32")
    # 30 clients on 30 addresses, one connection each, all at once behind the one haproxy.
    socks = []
    try:
        for i in range(30):
            s = connect(hp.port, source="127.0.0.%d" % (10 + i))
            s.sendall(b"hello %d" % i)
            socks.append(s)
        for i, s in enumerate(socks):
            assert recv_exact(s, len(b"hello %d" % i)) == b"hello %d" % i
        # A second connection from an address already holding one: 503 limit_source.
        second = connect(hp.port, source="127.0.0.10")
        second_client = me(second)
        second.sendall(b"x")
        assert wait_closed(second) in ("eof", "reset")
        second.close()
        rec = p.wait_access(lambda r: r["real_client"] == second_client)[0]
        assert (rec["status"], rec["reason"]) == (503, "limit_source"), rec
        # A denied real client.
        denied = connect(hp.port, source="127.0.0.66")
        denied_client = me(denied)
        denied.sendall(b"x")
        assert wait_closed(denied) in ("eof", "reset")
        denied.close()
        rec = p.wait_access(lambda r: r["real_client"] == denied_client)[0]
        assert (rec["status"], rec["reason"], rec["detail"]) == (
            403, "denied_source", "deny_sources 127.0.0.66/32"), rec
        assert up.accepted == 30, "a refused client reached the upstream"
        clients = [me(s) for s in socks]
    finally:
        for s in socks:
            s.close()
    recs = p.wait_access(lambda r: r["status"] == 200, count=30, timeout=15)
    assert sorted(r["real_client"] for r in recs) == sorted(clients)
    assert all(r["client"].startswith("127.0.0.1:") for r in recs)
