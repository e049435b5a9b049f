"""`mode = connect` (issue 4), CONNECT tunnels and the policy in front of every request, end to end
through the real plrelay on loopback (docs/reliability.md §5, §8 cases 14-18 and 38).

- TLS end to end: real curl `-p -x` to an `openssl s_server` whose certificate names ok.test and
  is signed by a CA this test makes; verified with the right CA, refused by curl with another
  (so plrelay never terminates TLS); a name not on the list is 403 to curl (case 38).
- Tunnels: bytes pipelined after the CONNECT head are forwarded (case 14); a Host without port,
  HTTP/1.0 without Host and a head split into single-byte writes are all served; an IPv6
  literal exception is tunnelled.
- Policy (case 16, 17): destinations not on the list (name, port, suffix, CIDR variants) are 403
  before any lookup; allowed names whose hosts-file or DNS answers hold a guarded address
  (loopback, metadata 169.254.169.254, Alibaba 100.100.100.200, mapped/NAT64/ULA IPv6, and the
  rebinding shape [203.0.113.5, 127.0.0.1]) are 403 blocked_address; literal guarded addresses
  are 403 even when the allowlist names them; non-canonical numeric hosts are 403 and never
  interpreted; an exception opens exactly one address and port; a name is resolved once.
- Malformed heads (case 15): each refused with its status, no DNS query and no connect.
- Slow and oversized heads (case 18): cut with 408 at handshake_timeout; cut with 414/431 at
  max_header_bytes without waiting for the rest; a head of exactly the limit is served.
- Failures: NXDOMAIN / SERVFAIL → 502 dns_failure, a silent DNS → 504 dns_timeout, a closed port
  → 502 upstream_refused, a black-holed port → 504 upstream_timeout.
- A connection closed without a byte is a probe (no access-log line); config errors of the mode.

Every test origin is on 127.0.0.0/8, which the address guard blocks, so the routes open exactly
the test ports with allow_private_destinations. "Sentinel" is a listener (127.0.0.1 and ::1, same
port) that must see no connection: the destination of every refused request points at it, and
since the access-log line is written when the session ends, checking its accept count after the
line appeared is race-free. 203.0.113.0/24 (TEST-NET-3) is only ever used in answers that are
refused, so nothing is ever sent to it.
"""

import os
import re
import socket
import subprocess
import time

import pytest

import tlsorigin
from fwdpeers import HttpReader, connect_route
from harness import PLRELAY_BIN, connect, make_config, recv_exact, recv_until_eof, wait_for
from peers import (RCODE_NXDOMAIN, RCODE_SERVFAIL, BlackHole, DnsServer, echo_handler, free_port,
                   hostport, sink_handler)

OK_200 = b"HTTP/1.1 200 Connection established\r\n\r\n"
NO_MATCH = "no allow_destinations entry matches"


# ---- fixtures and helpers ------------------------------------------------------------------

@pytest.fixture
def dns():
    """Every route points dns_servers here, so no test ever asks a real resolver."""
    with DnsServer() as d:
        yield d


def free_port_v4_v6():
    """A port free on both 127.0.0.1 and ::1."""
    for _ in range(200):
        port = free_port()
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                s.bind(("::1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free on 127.0.0.1 and ::1")


class Sentinel:
    """Listeners on 127.0.0.1:port and [::1]:port that must see nothing."""

    def __init__(self, servers):
        self.port = free_port_v4_v6()
        self.v4 = servers(sink_handler, host="127.0.0.1", port=self.port, name="sentinel4")
        self.v6 = servers(sink_handler, host="::1", port=self.port, name="sentinel6")

    @property
    def accepted(self):
        return self.v4.accepted + self.v6.accepted


@pytest.fixture
def sentinel(servers):
    return Sentinel(servers)


def curl_env():
    """The environment without *_proxy variables, so curl only uses the -x we give it."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def start_fwd(tmp_path, start_plrelay, dns, allow, private=None, hosts="", glob=None, **opts):
    """plrelay with one connect route `fwd` on 127.0.0.1:port; returns (plrelay, port)."""
    hosts_path = tmp_path / "hosts"
    hosts_path.write_text(hosts)
    port = free_port()
    opts.setdefault("max_header_bytes", "8k")
    opts.setdefault("handshake_timeout", "5s")
    opts.setdefault("connect_timeout", "2s")
    g = {"hosts_file": str(hosts_path), "dns_servers": dns.addr}
    g.update(glob or {})
    text = make_config(tmp_path, {"fwd": connect_route("127.0.0.1:%d" % port, allow, private,
                                                        **opts)}, **g)
    return start_plrelay(text), port


def me(sock):
    return hostport(*sock.getsockname()[:2])


def send_quietly(sock, data):
    """sendall that tolerates plrelay closing first (a refusal may race our write)."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def record_of(p, client, timeout=10.0):
    return p.wait_access(lambda r: r["client"] == client, timeout=timeout,
                         what="the access-log line of %s" % client)[0]


def expect_refusal(p, port, data, status, reason, timeout=10.0, keep_open=False):
    """Send `data` in one write; expect an HTTP error reply `status` with a short text/plain
    body and `Connection: close`, then plrelay's close, then one access-log line with `reason`.
    Returns (response, record)."""
    s = connect(port)
    client = me(s)
    send_quietly(s, data)
    rd = HttpReader(s, timeout=timeout)
    resp = rd.response()
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    assert resp.raw_head.startswith(b"HTTP/1.1 %d " % status), resp.raw_head
    assert resp.header("Content-Type") == ["text/plain"], resp
    assert resp.header("Connection") == ["close"], resp
    assert resp.body.endswith(b"\n") and 1 < len(resp.body) <= 201, resp.body
    if status == 405:
        assert resp.header("Allow"), "405 without Allow: %r" % resp
    if not keep_open:
        assert rd.at_eof(timeout=5), "plrelay did not close after the %d" % status
    s.close()
    rec = record_of(p, client)
    assert rec["status"] == status, rec
    assert rec["reason"] == reason, rec
    assert rec["route"] == "fwd", rec
    assert rec["upstream_addr"] == "" and rec["attempts"] == 0, \
        "a refused request reached for an upstream: %r" % rec
    return resp, rec


def open_tunnel(port, target, extra=b"", host_header=None, version=b"HTTP/1.1"):
    """CONNECT target; returns the socket after the exact 200 line (extra is sent in the same
    write as the head)."""
    host_header = target if host_header is None else host_header
    head = b"CONNECT " + target.encode() + b" " + version + b"\r\n"
    if host_header:
        head += b"Host: " + host_header.encode() + b"\r\n"
    head += b"\r\n"
    s = connect(port)
    s.sendall(head + extra)
    got = recv_exact(s, len(OK_200))
    assert got == OK_200, got
    return s


def finish(sock):
    sock.shutdown(socket.SHUT_WR)
    recv_until_eof(sock, timeout=10)
    sock.close()


# ---- TLS end to end with curl (case 38) ----------------------------------------------------

@pytest.fixture
def tls_origin(tmp_path):
    """s_server for ok.test signed by a fresh CA; a second CA that did not sign it."""
    pki = tmp_path / "pki"
    www = tmp_path / "www"
    pki.mkdir()
    www.mkdir()
    token = "page-through-the-tunnel-%s\n" % os.urandom(8).hex()
    (www / "page.txt").write_text(token)
    ca = tlsorigin.make_ca(pki, "good")
    other = tlsorigin.make_ca(pki, "other")
    cert, key = ca.issue(pki, "ok.test")
    with tlsorigin.SServer(cert, key, www) as srv:
        yield {"port": srv.port, "ca": ca.cert, "wrong_ca": other.cert, "token": token,
               "server": srv}


def curl(proxy_port, url, cacert, resolve_port, extra=()):
    argv = ["curl", "-sS", "-v", "--max-time", "20", "-p", "-x", "http://127.0.0.1:%d" % proxy_port,
            "--resolve", "ok.test:%d:127.0.0.1" % resolve_port, "--cacert", cacert] + \
        list(extra) + [url]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=curl_env())


def test_curl_https_via_connect_verifies_the_origin_certificate_end_to_end(
        tmp_path, start_plrelay, dns, tls_origin):
    o = tls_origin["port"]
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % o,
                        private="127.0.0.1:%d" % o, hosts="127.0.0.1 ok.test\n")
    url = "https://ok.test:%d/page.txt" % o
    r = curl(port, url, tls_origin["ca"], o)
    assert r.returncode == 0, "curl failed (%d):\n%s\ns_server:\n%s" % (
        r.returncode, r.stderr, tls_origin["server"].output())
    assert r.stdout == tls_origin["token"]
    assert "CONNECT ok.test:%d HTTP/1.1" % o in r.stderr, r.stderr
    assert re.search(r"HTTP/1\.1 200 Connection established", r.stderr), r.stderr
    assert re.search(r"SSL certificate verify ok", r.stderr), r.stderr
    recs = p.wait_access(count=1)
    assert recs[0]["status"] == 200, recs
    assert recs[0]["upstream"] == "ok.test:%d" % o, recs
    assert recs[0]["upstream_addr"] == "127.0.0.1:%d" % o, recs
    assert recs[0]["bytes_in"] > 0 and recs[0]["bytes_out"] > len(tls_origin["token"]), recs

    # The same tunnel with a CA that did not sign the origin: curl itself refuses, so the
    # certificate check runs between curl and the origin, through an opaque tunnel.
    r = curl(port, url, tls_origin["wrong_ca"], o)
    assert r.returncode == 60, "curl accepted a certificate it cannot verify (%d):\n%s" % (
        r.returncode, r.stderr)
    assert r.stdout == ""
    assert "HTTP/1.1 200 Connection established" in r.stderr, r.stderr
    recs = p.wait_access(count=2)
    assert recs[1]["status"] == 200 and recs[1]["upstream_addr"] == "127.0.0.1:%d" % o, recs


def test_curl_https_to_a_server_not_on_the_list_gets_403(tmp_path, start_plrelay, dns,
                                                         tls_origin):
    o = tls_origin["port"]
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % o,
                        private="127.0.0.1:%d" % o,
                        hosts="127.0.0.1 ok.test\n127.0.0.1 notok.test\n")
    r = curl(port, "https://notok.test:%d/page.txt" % o, tls_origin["ca"], o,
             extra=["--resolve", "notok.test:%d:127.0.0.1" % o])
    assert r.returncode == 56, (r.returncode, r.stderr)
    assert re.search(r"HTTP/1\.1 403 Forbidden", r.stderr), r.stderr
    assert r.stdout == ""
    rec = p.wait_access(count=1)[0]
    assert (rec["status"], rec["reason"]) == (403, "denied_destination"), rec
    assert rec["detail"] == "notok.test:%d: %s" % (o, NO_MATCH), rec
    assert rec["upstream_addr"] == "", rec
    # The listed name on the same server still works: the 403 was the allowlist, not the origin.
    r = curl(port, "https://ok.test:%d/page.txt" % o, tls_origin["ca"], o)
    assert r.returncode == 0 and r.stdout == tls_origin["token"], r.stderr


# ---- tunnels ---------------------------------------------------------------------------------

CLIENT_HELLO_START = bytes.fromhex("160301020001000" "1fc0303") + os.urandom(32)


@pytest.mark.parametrize("host_header,version", [
    ("ok.test:{port}", b"HTTP/1.1"),
    ("ok.test", b"HTTP/1.1"),                        # Host without port: tolerated (HAProxy #1159)
    ("", b"HTTP/1.0"),                               # HTTP/1.0 needs no Host
], ids=["host-with-port", "host-without-port", "http10-no-host"])
def test_bytes_pipelined_after_the_connect_head_are_forwarded(tmp_path, start_plrelay, dns,
                                                              servers, host_header, version):
    echo = servers(echo_handler)
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % echo.port,
                        private="127.0.0.1:%d" % echo.port, hosts="127.0.0.1 ok.test\n")
    s = open_tunnel(port, "ok.test:%d" % echo.port, extra=CLIENT_HELLO_START,
                    host_header=host_header.format(port=echo.port), version=version)
    client = me(s)
    assert recv_exact(s, len(CLIENT_HELLO_START)) == CLIENT_HELLO_START
    more = os.urandom(100000)
    s.sendall(more)
    assert recv_exact(s, len(more)) == more
    finish(s)
    rec = record_of(p, client)
    assert rec["status"] == 200, rec
    assert rec["upstream"] == "ok.test:%d" % echo.port, rec
    assert rec["upstream_addr"] == "127.0.0.1:%d" % echo.port, rec
    assert rec["bytes_in"] >= len(CLIENT_HELLO_START) + len(more), rec
    assert echo.accepted == 1


def test_connect_head_in_single_byte_writes_is_served(tmp_path, start_plrelay, dns, servers):
    echo = servers(echo_handler)
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % echo.port,
                        private="127.0.0.1:%d" % echo.port, hosts="127.0.0.1 ok.test\n")
    head = b"CONNECT ok.test:%d HTTP/1.1\r\nHost: ok.test:%d\r\nUser-Agent: t\r\n\r\n" % (
        echo.port, echo.port)
    s = connect(port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(head)):
        s.sendall(head[i:i + 1])
    assert recv_exact(s, len(OK_200)) == OK_200
    s.sendall(b"after the head")
    assert recv_exact(s, 14) == b"after the head"
    finish(s)
    assert p.wait_access(count=1)[0]["status"] == 200


def test_connect_to_an_ipv6_literal_opened_by_an_exception_is_tunnelled(tmp_path, start_plrelay,
                                                                       dns, servers):
    echo = servers(echo_handler, host="::1")
    p, port = start_fwd(tmp_path, start_plrelay, dns, "[::1]:%d" % echo.port,
                        private="[::1]:%d" % echo.port)
    s = open_tunnel(port, "[::1]:%d" % echo.port, extra=b"v6 payload")
    assert recv_exact(s, 10) == b"v6 payload"
    finish(s)
    rec = p.wait_access(count=1)[0]
    assert rec["status"] == 200 and rec["upstream"] == "[::1]:%d" % echo.port, rec
    assert rec["upstream_addr"] == "[::1]:%d" % echo.port, rec


def test_a_name_is_resolved_once_and_its_checked_address_is_connected(tmp_path, start_plrelay,
                                                                      dns, sentinel):
    """Case 17, positive side: every answer passes (the exception opens 127.0.0.1:S), plrelay
    connects to that address, and asks DNS once per request (never a second lookup that a
    rebinding server could answer differently)."""
    S = sentinel.port
    dns.set("dnsok.test", a=["127.0.0.1"], ttl=0)
    p, port = start_fwd(tmp_path, start_plrelay, dns, "dnsok.test:%d" % S,
                        private="127.0.0.1:%d" % S)
    s = open_tunnel(port, "dnsok.test:%d" % S)
    client = me(s)
    wait_for(lambda: sentinel.v4.accepted == 1, 5, "the sentinel to accept the tunnel")
    finish(s)
    rec = record_of(p, client)
    assert rec["status"] == 200 and rec["upstream_addr"] == "127.0.0.1:%d" % S, rec
    a_queries = [q for q in dns.queries_for("dnsok.test") if q[1] == 1]
    aaaa_queries = [q for q in dns.queries_for("dnsok.test") if q[1] == 28]
    assert len(a_queries) == 1 and len(aaaa_queries) <= 1, dns.queries_for("dnsok.test")
    assert sentinel.accepted == 1


# ---- policy: the allowlist --------------------------------------------------------------------

ALLOW = "ok.test:{S}, *.example.test:{S}, 203.0.113.0/24:443, [2001:db8::/32]:443"
HOSTS = ("127.0.0.1 ok.test\n127.0.0.1 other.test\n127.0.0.1 example.test\n"
         "127.0.0.1 badexample.test\n127.0.0.1 a.example.test\n")


def test_listed_destinations_are_served(tmp_path, start_plrelay, dns, sentinel):
    """The control for the denial tests below: the same route serves its listed names, so their
    403s come from the allowlist and not from a broken setup."""
    S = sentinel.port
    p, port = start_fwd(tmp_path, start_plrelay, dns, ALLOW.format(S=S),
                        private="127.0.0.1:%d" % S, hosts=HOSTS)
    for target in ("ok.test:%d" % S, "a.example.test:%d" % S, "A.Example.TEST:%d" % S):
        finish(open_tunnel(port, target))
    p.wait_access(count=3)
    assert [r["status"] for r in p.access_records()] == [200, 200, 200]
    wait_for(lambda: sentinel.v4.accepted == 3, 5, "3 tunnels at the sentinel")


@pytest.mark.parametrize("target", [
    "other.test:{S}",              # name not listed
    "ok.test:{S1}",                # listed name, other port
    "ok.test:443",
    "example.test:{S}",            # *.example.test covers names below it, not itself
    "badexample.test:{S}",         # ... nor names that merely end in the same letters
    "a.example.test:{S1}",
    "203.0.113.5:444",             # CIDR entry, other port
    "[2001:db8::1]:8443",
    "[2001:db9::1]:443",           # outside the IPv6 CIDR
])
def test_destination_not_on_the_list_is_403_before_any_lookup(tmp_path, start_plrelay, dns,
                                                              sentinel, target):
    S = sentinel.port
    target = target.format(S=S, S1=S + 1 if S < 65535 else S - 1)
    p, port = start_fwd(tmp_path, start_plrelay, dns, ALLOW.format(S=S),
                        private="127.0.0.1:%d, 127.0.0.1:%d" % (S, S + 1 if S < 65535 else S - 1),
                        hosts=HOSTS)
    head = b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target.encode(), target.encode())
    _, rec = expect_refusal(p, port, head, 403, "denied_destination")
    assert rec["detail"] == "%s: %s" % (target.lower(), NO_MATCH), rec
    assert rec["upstream"] == target.lower(), rec
    assert dns.queries == [], "a denied name was looked up: %r" % dns.queries
    assert sentinel.accepted == 0


# ---- policy: the address guard ----------------------------------------------------------------

GUARDED = {   # address -> the range plrelay names
    "127.0.0.1": "loopback 127.0.0.0/8",
    "127.9.9.9": "loopback 127.0.0.0/8",
    "0.0.0.0": "0.0.0.0/8",
    "10.1.2.3": "private 10.0.0.0/8",
    "172.16.5.4": "private 172.16.0.0/12",
    "192.168.1.1": "private 192.168.0.0/16",
    "169.254.169.254": "link-local 169.254.0.0/16",
    "169.254.0.23": "link-local 169.254.0.0/16",
    "100.100.100.200": "carrier-grade NAT 100.64.0.0/10",
    "100.100.2.136": "carrier-grade NAT 100.64.0.0/10",
    "224.0.0.1": "multicast 224.0.0.0/4",
    "240.0.0.1": "reserved 240.0.0.0/4",
    "::1": "loopback ::1",
    "::": "unspecified ::",
    "fe80::1": "link-local fe80::/10",
    "fd00:ec2::254": "unique local fc00::/7",
    "ff02::1": "multicast ff00::/8",
    "::ffff:169.254.169.254": "link-local 169.254.0.0/16",     # IPv4-mapped, unwrapped
    "::ffff:127.0.0.1": "loopback 127.0.0.0/8",
    "64:ff9b::a9fe:a9fe": "link-local 169.254.0.0/16",         # NAT64 of 169.254.169.254
    "2002:a9fe:a9fe::1": "link-local 169.254.0.0/16",          # 6to4 of 169.254.169.254
    "::127.0.0.1": "loopback 127.0.0.0/8",                     # IPv4-compatible
}


def bracket(addr):
    return "[%s]" % addr if ":" in addr else addr


@pytest.mark.parametrize("addr", sorted(GUARDED))
def test_literal_guarded_address_is_403_even_when_listed(tmp_path, start_plrelay, dns, sentinel,
                                                         addr):
    """The allowlist names every address on the sentinel's port (0.0.0.0/0 and ::/0), so the
    refusal is the guard's. An exception for 127.0.0.1 and ::1 on ANOTHER port opens nothing
    here: exceptions are per address and port. 0.0.0.0, 127.x, ::1 and the loopback forms
    embedded in IPv6 would reach the sentinel if they were let through."""
    S = sentinel.port
    other = S + 1 if S < 65535 else S - 1
    p, port = start_fwd(tmp_path, start_plrelay, dns, "0.0.0.0/0:%d, [::/0]:%d" % (S, S),
                        private="127.0.0.1:%d, [::1]:%d" % (other, other))
    target = "%s:%d" % (bracket(addr), S)
    head = b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target.encode(), target.encode())
    _, rec = expect_refusal(p, port, head, 403, "blocked_address")
    assert GUARDED[addr] in rec["detail"], rec
    assert dns.queries == []
    assert sentinel.accepted == 0


@pytest.mark.parametrize("host", [
    "2852039166",             # 169.254.169.254 as one decimal number
    "0251.0376.0251.0376",    # ... in octal
    "0xa9fea9fe",             # ... in hex
    "0xA9FEA9FE",
    "169.254.43518",          # ... short dotted
    "2130706433",             # 127.0.0.1: would reach the sentinel if interpreted
    "0x7f000001",
    "0177.0.0.1",
    "127.1",
    "127.0.1",
    "0x7f.0.0.1",
    "127.000.000.001",
    "1.2.3.04",
])
def test_non_canonical_numeric_host_is_403_never_interpreted(tmp_path, start_plrelay, dns,
                                                             sentinel, host):
    S = sentinel.port
    p, port = start_fwd(tmp_path, start_plrelay, dns, "0.0.0.0/0:%d" % S,
                        private="127.0.0.1:%d" % S)
    target = "%s:%d" % (host, S)
    head = b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target.encode(), target.encode())
    _, rec = expect_refusal(p, port, head, 403, "denied_destination")
    assert "non-canonical numeric host form" in rec["detail"], rec
    assert dns.queries == [], "a numeric host was looked up: %r" % dns.queries
    assert sentinel.accepted == 0


@pytest.mark.parametrize("addr", ["127.0.0.1", "169.254.169.254", "100.100.100.200", "0.0.0.0",
                                  "10.1.2.3", "::1", "::ffff:169.254.169.254"])
def test_listed_name_whose_hosts_entry_is_guarded_is_403(tmp_path, start_plrelay, dns, sentinel,
                                                         addr):
    S = sentinel.port
    other = S + 1 if S < 65535 else S - 1
    p, port = start_fwd(tmp_path, start_plrelay, dns, "meta.test:%d" % S,
                        private="127.0.0.1:%d" % other, hosts="%s meta.test\n" % addr)
    head = b"CONNECT meta.test:%d HTTP/1.1\r\nHost: meta.test\r\n\r\n" % S
    _, rec = expect_refusal(p, port, head, 403, "blocked_address")
    assert rec["upstream"] == "meta.test:%d" % S, rec
    assert rec["detail"].startswith("meta.test resolves to %s:%d: " % (bracket(addr), S)), rec
    assert GUARDED[addr] in rec["detail"], rec
    assert dns.queries == [], "the hosts file answered; DNS must not be asked"
    assert sentinel.accepted == 0


@pytest.mark.parametrize("a,aaaa,bad", [
    (["203.0.113.5", "127.0.0.1"], [], "127.0.0.1"),       # rebinding: public-looking + loopback
    (["127.0.0.1", "203.0.113.5"], [], "127.0.0.1"),
    (["203.0.113.5", "169.254.169.254"], [], "169.254.169.254"),
    (["100.100.100.200"], [], "100.100.100.200"),
    (["203.0.113.5"], ["::1"], "::1"),                     # the bad answer in the other family
    ([], ["::ffff:169.254.169.254"], "::ffff:169.254.169.254"),
    ([], ["64:ff9b::a9fe:a9fe"], "64:ff9b::a9fe:a9fe"),
    ([], ["fd00:ec2::254"], "fd00:ec2::254"),
], ids=["public-then-loopback", "loopback-then-public", "public-then-metadata", "alibaba-metadata",
        "loopback-in-aaaa", "mapped-metadata", "nat64-metadata", "aws-ipv6-metadata"])
def test_listed_name_with_any_guarded_dns_answer_is_403(tmp_path, start_plrelay, dns, sentinel,
                                                        a, aaaa, bad):
    """Every answer is checked, and one bad answer refuses the request: plrelay does not pick
    the good one (a rebinding server would make the next lookup the bad one)."""
    S = sentinel.port
    dns.set("rebind.test", a=a, aaaa=aaaa, ttl=0)
    p, port = start_fwd(tmp_path, start_plrelay, dns, "rebind.test:%d" % S,
                        connect_timeout="1s")
    head = b"CONNECT rebind.test:%d HTTP/1.1\r\nHost: rebind.test:%d\r\n\r\n" % (S, S)
    _, rec = expect_refusal(p, port, head, 403, "blocked_address")
    assert rec["detail"].startswith("rebind.test resolves to %s:%d: " % (bracket(bad), S)), rec
    assert GUARDED[bad] in rec["detail"], rec
    assert dns.queries_for("rebind.test"), "the name was never looked up"
    assert sentinel.accepted == 0


# ---- malformed heads (case 15) ----------------------------------------------------------------

T = "viadns.test:{S}"
MALFORMED = [
    # id, head (with {S} and {T}), status, reason
    ("no-port", b"CONNECT viadns.test HTTP/1.1\r\nHost: viadns.test\r\n\r\n", 400, "bad_request"),
    ("empty-port", b"CONNECT viadns.test: HTTP/1.1\r\nHost: viadns.test\r\n\r\n", 400,
     "bad_request"),
    ("port-0", b"CONNECT viadns.test:0 HTTP/1.1\r\nHost: viadns.test\r\n\r\n", 400, "bad_request"),
    ("port-65536", b"CONNECT viadns.test:65536 HTTP/1.1\r\nHost: viadns.test\r\n\r\n", 400,
     "bad_request"),
    ("port-plus", b"CONNECT viadns.test:+{S} HTTP/1.1\r\nHost: viadns.test\r\n\r\n", 400,
     "bad_request"),
    ("port-leading-zero", b"CONNECT viadns.test:0{S} HTTP/1.1\r\nHost: viadns.test\r\n\r\n", 400,
     "bad_request"),
    ("userinfo", b"CONNECT user@{T} HTTP/1.1\r\nHost: viadns.test\r\n\r\n", 400, "bad_request"),
    ("userinfo-password", b"CONNECT user:pw@{T} HTTP/1.1\r\nHost: viadns.test\r\n\r\n", 400,
     "bad_request"),
    ("unbalanced-bracket", b"CONNECT [::1:{S} HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
    ("ipv6-unbracketed", b"CONNECT ::1:{S} HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
    ("ipv6-zone", b"CONNECT [fe80::1%25lo]:{S} HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
    ("trailing-dot", b"CONNECT viadns.test.:{S} HTTP/1.1\r\nHost: viadns.test\r\n\r\n", 400,
     "bad_request"),
    ("lowercase-connect", b"connect {T} HTTP/1.1\r\nHost: {T}\r\n\r\n", 405, "method_not_allowed"),
    ("trace", b"TRACE http://{T}/ HTTP/1.1\r\nHost: {T}\r\n\r\n", 405, "method_not_allowed"),
    ("get-origin-form", b"GET / HTTP/1.1\r\nHost: {T}\r\n\r\n", 400, "bad_request"),
    ("get-authority-form", b"GET {T} HTTP/1.1\r\nHost: {T}\r\n\r\n", 400, "bad_request"),
    ("connect-absolute-form", b"CONNECT http://{T}/ HTTP/1.1\r\nHost: {T}\r\n\r\n", 400,
     "bad_request"),
    ("https-absolute-form", b"GET https://{T}/ HTTP/1.1\r\nHost: {T}\r\n\r\n", 400,
     "bad_request"),
    ("asterisk-form", b"OPTIONS * HTTP/1.1\r\nHost: {T}\r\n\r\n", 400, "bad_request"),
    ("bare-lf", b"CONNECT {T} HTTP/1.1\nHost: {T}\n\n", 400, "bad_request"),
    ("bare-lf-in-fields", b"CONNECT {T} HTTP/1.1\r\nHost: {T}\n\r\n", 400, "bad_request"),
    ("bare-cr", b"CONNECT {T} HTTP/1.1\r\nHost: {T}\rX: y\r\n\r\n", 400, "bad_request"),
    ("nul-in-field", b"CONNECT {T} HTTP/1.1\r\nHost: via\x00dns.test\r\n\r\n", 400,
     "bad_request"),
    ("nul-in-target", b"CONNECT viadns.test\x00:{S} HTTP/1.1\r\nHost: x\r\n\r\n", 400,
     "bad_request"),
    ("obs-fold", b"CONNECT {T} HTTP/1.1\r\nHost: {T}\r\nX-A: b\r\n c\r\n\r\n", 400,
     "bad_request"),
    ("space-before-colon", b"CONNECT {T} HTTP/1.1\r\nHost : {T}\r\n\r\n", 400, "bad_request"),
    ("two-leading-crlf", b"\r\n\r\nCONNECT {T} HTTP/1.1\r\nHost: {T}\r\n\r\n", 400,
     "bad_request"),
    ("double-space", b"CONNECT  {T} HTTP/1.1\r\nHost: {T}\r\n\r\n", 400, "bad_request"),
    ("http-1.2", b"CONNECT {T} HTTP/1.2\r\nHost: {T}\r\n\r\n", 505, "bad_version"),
    ("http-2.0", b"CONNECT {T} HTTP/2.0\r\nHost: {T}\r\n\r\n", 505, "bad_version"),
    ("lowercase-version", b"CONNECT {T} http/1.1\r\nHost: {T}\r\n\r\n", 400, "bad_request"),
    ("http11-without-host", b"CONNECT {T} HTTP/1.1\r\nUser-Agent: x\r\n\r\n", 400,
     "bad_request"),
    ("two-hosts", b"CONNECT {T} HTTP/1.1\r\nHost: {T}\r\nHost: {T}\r\n\r\n", 400, "bad_request"),
    ("connect-with-body", b"CONNECT {T} HTTP/1.1\r\nHost: {T}\r\nContent-Length: 5\r\n\r\nhello",
     400, "bad_request"),
    ("connect-chunked", b"CONNECT {T} HTTP/1.1\r\nHost: {T}\r\nTransfer-Encoding: chunked\r\n\r\n",
     400, "bad_request"),
    ("te-and-cl", b"POST http://{T}/ HTTP/1.1\r\nHost: {T}\r\nContent-Length: 3\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "bad_request"),
    ("conflicting-cl", b"POST http://{T}/ HTTP/1.1\r\nHost: {T}\r\nContent-Length: 3\r\n"
     b"Content-Length: 4\r\n\r\nabcd", 400, "bad_request"),
    ("connection-names-cl", b"GET http://{T}/ HTTP/1.1\r\nHost: {T}\r\n"
     b"Connection: content-length\r\n\r\n", 400, "bad_request"),
    ("chunked-request-body", b"POST http://{T}/ HTTP/1.1\r\nHost: {T}\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501, "not_implemented"),
    ("gzip-chunked-request", b"POST http://{T}/ HTTP/1.1\r\nHost: {T}\r\n"
     b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, "not_implemented"),
    ("tls-client-hello", CLIENT_HELLO_START, 400, "bad_request"),
    ("too-many-fields",
     b"CONNECT {T} HTTP/1.1\r\nHost: {T}\r\n" + b"".join(b"X-F%03d: v\r\n" % i for i in range(100))
     + b"\r\n", 431, "head_too_large"),
    ("line-over-8k", b"CONNECT " + b"a" * 8300 + b".test:{S} HTTP/1.1\r\nHost: x\r\n\r\n", 414,
     "head_too_large"),
]


def fill(template, S):
    return template.replace(b"{T}", T.format(S=S).encode()).replace(b"{S}", str(S).encode())


@pytest.fixture
def viadns_route(tmp_path, start_plrelay, dns, sentinel):
    """A route whose one listed destination, viadns.test:S, resolves through the DNS responder
    to the sentinel (opened by an exception): a head that is wrongly accepted shows up as a
    DNS query and a sentinel connect."""
    S = sentinel.port
    dns.set("viadns.test", a=["127.0.0.1"], ttl=0)
    p, port = start_fwd(tmp_path, start_plrelay, dns, "viadns.test:%d, [::1]:%d" % (S, S),
                        private="127.0.0.1:%d, [::1]:%d" % (S, S))
    return p, port, S


def test_viadns_control_a_good_head_reaches_dns_and_the_sentinel(viadns_route, dns, sentinel):
    p, port, S = viadns_route
    finish(open_tunnel(port, "viadns.test:%d" % S))
    assert p.wait_access(count=1)[0]["status"] == 200
    assert dns.queries_for("viadns.test")
    assert sentinel.accepted == 1


@pytest.mark.parametrize("head,status,reason", [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_head_is_refused_without_lookup_or_connect(viadns_route, dns, sentinel, head,
                                                              status, reason):
    p, port, S = viadns_route
    _, rec = expect_refusal(p, port, fill(head, S), status, reason)
    assert rec["detail"], rec
    assert dns.queries_for("viadns.test") == [], "a malformed head caused a DNS lookup"
    assert sentinel.accepted == 0


# ---- slow and oversized heads (case 18) -------------------------------------------------------

def reply_within(sock, seconds):
    """Bytes plrelay sent within `seconds` (until EOF), or AssertionError."""
    rd = HttpReader(sock, timeout=seconds)
    resp = rd.response()
    rd.at_eof(timeout=5)
    return resp


def test_head_trickled_one_byte_every_300ms_is_cut_at_the_deadline_with_408(
        tmp_path, start_plrelay, dns, sentinel):
    S = sentinel.port
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % S,
                        private="127.0.0.1:%d" % S, hosts="127.0.0.1 ok.test\n",
                        handshake_timeout="1s")
    head = b"CONNECT ok.test:%d HTTP/1.1\r\nHost: ok.test:%d\r\nUser-Agent: slow\r\n\r\n" % (S, S)
    assert len(head) * 0.3 > 5, "the head must take far longer than the deadline"
    s = connect(port)
    client = me(s)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = b""
    sent = 0
    deadline = time.monotonic() + 10
    while sent < len(head) and time.monotonic() < deadline:
        try:
            s.sendall(head[sent:sent + 1])
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += 1
        s.settimeout(0.3)
        try:
            got = s.recv(4096)
        except socket.timeout:
            continue
        break
    assert got.startswith(b"HTTP/1.1 408 "), "after %d of %d bytes: %r" % (sent, len(head), got)
    assert sent < len(head)
    s.settimeout(5)
    rest = got
    try:
        rest += recv_until_eof(s, timeout=5)
    except ConnectionResetError:
        pass
    assert b"Connection: close\r\n" in rest
    s.close()
    rec = record_of(p, client)
    assert (rec["status"], rec["reason"]) == (408, "handshake_timeout"), rec
    assert sentinel.accepted == 0


@pytest.mark.parametrize("partial", [
    b"CONNECT ok.test:{S} HTTP/1.1\r\nHost: ok.test\r\n",   # never terminated
    b"CONNECT ok.test:{S} HTT",
    b"",                                                   # connected, silent
], ids=["no-blank-line", "mid-request-line", "silent"])
def test_head_never_finished_is_cut_at_the_deadline_with_408(tmp_path, start_plrelay, dns,
                                                             sentinel, partial):
    S = sentinel.port
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % S,
                        private="127.0.0.1:%d" % S, hosts="127.0.0.1 ok.test\n",
                        handshake_timeout="1s")
    s = connect(port)
    client = me(s)
    if partial:
        s.sendall(partial.replace(b"{S}", str(S).encode()))
    t0 = time.monotonic()
    resp = reply_within(s, 8)
    assert resp.status == 408, resp
    assert time.monotonic() - t0 >= 0.5, "408 long before the 1 s deadline"
    s.close()
    rec = record_of(p, client)
    assert (rec["status"], rec["reason"]) == (408, "handshake_timeout"), rec
    assert sentinel.accepted == 0


@pytest.mark.parametrize("head,status", [
    (b"CONNECT " + b"a" * 9000, 414),                                          # request line
    (b"CONNECT ok.test:{S} HTTP/1.1\r\nHost: ok.test\r\n"
     + b"".join(b"X-Pad-%02d: %s\r\n" % (i, b"p" * 480) for i in range(20)), 431),  # fields
    (b"CONNECT ok.test:{S} HTTP/1.1\r\nHost: ok.test\r\n"
     + b"".join(b"X-F%03d: v\r\n" % i for i in range(101)), 431),             # field count
], ids=["request-line", "fields-bytes", "field-count"])
def test_oversized_head_is_cut_at_the_limit_without_waiting_for_the_rest(
        tmp_path, start_plrelay, dns, sentinel, head, status):
    """The head is never finished and the socket stays open: the reply can only come from the
    limit (the deadline is 60 s, the test waits 10 s)."""
    S = sentinel.port
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % S,
                        private="127.0.0.1:%d" % S, hosts="127.0.0.1 ok.test\n",
                        handshake_timeout="60s")
    s = connect(port)
    client = me(s)
    send_quietly(s, head.replace(b"{S}", str(S).encode()))
    resp = reply_within(s, 10)
    assert resp.status == status, resp
    s.close()
    rec = record_of(p, client)
    assert (rec["status"], rec["reason"]) == (status, "head_too_large"), rec
    assert sentinel.accepted == 0


def test_max_header_bytes_is_the_exact_limit(tmp_path, start_plrelay, dns, servers):
    echo = servers(echo_handler)
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % echo.port,
                        private="127.0.0.1:%d" % echo.port, hosts="127.0.0.1 ok.test\n",
                        max_header_bytes="1k", handshake_timeout="60s")

    def head_of(size):
        start = b"CONNECT ok.test:%d HTTP/1.1\r\nHost: ok.test\r\nX-Pad: " % echo.port
        pad = size - len(start) - 4
        h = start + b"p" * pad + b"\r\n\r\n"
        assert len(h) == size
        return h

    s = connect(port)
    s.sendall(head_of(1024) + b"tail")
    assert recv_exact(s, len(OK_200)) == OK_200
    assert recv_exact(s, 4) == b"tail"
    finish(s)
    expect_refusal(p, port, head_of(1025), 431, "head_too_large")
    assert echo.accepted == 1


# ---- failures towards the destination ---------------------------------------------------------

@pytest.mark.parametrize("mode,status,reason", [
    ("nxdomain", 502, "dns_failure"),
    # libevent's evdns deliberately treats SERVFAIL as a timeout ("sometimes means 'we are
    # broken'"): it lets the request time out and marks the nameserver down, so plrelay can only
    # report it as one.
    ("servfail", 504, "dns_timeout"),
    ("nodata", 502, "dns_failure"),
    ("silent", 504, "dns_timeout"),
])
def test_unresolvable_destination_is_answered_with_its_dns_failure(tmp_path, start_plrelay, dns,
                                                                    sentinel, mode, status,
                                                                    reason):
    S = sentinel.port
    if mode == "servfail":
        dns.set("nx.test", rcode=RCODE_SERVFAIL)
    elif mode == "nodata":
        dns.set("nx.test")
    elif mode == "silent":
        dns.set("nx.test", mode="silent")
    else:
        dns.set("nx.test", rcode=RCODE_NXDOMAIN)
    p, port = start_fwd(tmp_path, start_plrelay, dns, "nx.test:%d" % S,
                        private="127.0.0.1:%d" % S)
    head = b"CONNECT nx.test:%d HTTP/1.1\r\nHost: nx.test\r\n\r\n" % S
    _, rec = expect_refusal(p, port, head, status, reason, timeout=20)
    assert rec["detail"].startswith("lookup of nx.test failed"), rec
    assert rec["upstream"] == "nx.test:%d" % S, rec
    assert dns.queries_for("nx.test")
    assert sentinel.accepted == 0


def test_destination_refusing_the_connection_is_502_upstream_refused(tmp_path, start_plrelay,
                                                                     dns):
    closed = free_port()
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % closed,
                        private="127.0.0.1:%d" % closed, hosts="127.0.0.1 ok.test\n")
    s = connect(port)
    client = me(s)
    s.sendall(b"CONNECT ok.test:%d HTTP/1.1\r\nHost: ok.test\r\n\r\n" % closed)
    resp = reply_within(s, 10)
    assert resp.status == 502 and resp.header("Connection") == ["close"], resp
    s.close()
    rec = record_of(p, client)
    assert (rec["status"], rec["reason"]) == (502, "upstream_refused"), rec
    assert rec["attempts"] >= 1, rec


def test_destination_not_answering_is_504_upstream_timeout(tmp_path, start_plrelay, dns):
    try:
        hole = BlackHole()
    except RuntimeError as e:
        pytest.skip("no black-holed loopback port here: %s" % e)
    with hole:
        p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % hole.port,
                            private="127.0.0.1:%d" % hole.port, hosts="127.0.0.1 ok.test\n",
                            connect_timeout="1s")
        s = connect(port)
        client = me(s)
        s.sendall(b"CONNECT ok.test:%d HTTP/1.1\r\nHost: ok.test\r\n\r\n" % hole.port)
        resp = reply_within(s, 10)
        assert resp.status == 504, resp
        s.close()
        rec = record_of(p, client)
        assert (rec["status"], rec["reason"]) == (504, "upstream_timeout"), rec


# ---- probes and config --------------------------------------------------------------------------

def test_connection_closed_without_a_byte_is_a_probe_without_a_log_line(tmp_path, start_plrelay,
                                                                        dns, sentinel):
    S = sentinel.port
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % S,
                        private="127.0.0.1:%d" % S, hosts="127.0.0.1 ok.test\n")
    baseline = p.settled_fd_count()
    for _ in range(5):
        connect(port).close()
    p.wait_fds(baseline)
    assert p.access_records() == [], "a probe wrote an access-log line"
    finish(open_tunnel(port, "ok.test:%d" % S))           # a real request is still logged
    assert len(p.wait_access(count=1)) == 1
    p.wait_fds(baseline)
    assert len(p.access_records()) == 1
    assert p.stop() == 0
    m = re.search(r"(\d+) probe\(s\)", p.stderr())
    assert m and m.group(1) == "5", p.stderr()[-2000:]


def run_check(path):
    return subprocess.run([PLRELAY_BIN, "-t", "-c", str(path)], capture_output=True, text=True,
                          timeout=30)


@pytest.mark.parametrize("route_lines,bad_line,reason_re", [
    (["mode = connect", "listen = 127.0.0.1:{P}"], 3, r"mode = connect needs allow_destinations"),
    (["mode = connect", "listen = 127.0.0.1:{P}", "allow_destinations = ok.test:443",
      "upstreams = 127.0.0.1:80"], 7, r"upstreams is not used in mode = connect"),
    (["mode = tcp", "listen = 127.0.0.1:{P}", "upstreams = 127.0.0.1:80",
      "allow_destinations = ok.test:443"], 7, r"allow_destinations.* are for mode = connect"),
    (["mode = connect", "listen = 127.0.0.1:{P}", "allow_destinations = ok.test"], 6,
     r"explicit port"),
    (["mode = connect", "listen = 127.0.0.1:{P}", "allow_destinations = ok.test:*"], 6,
     r"port must be explicit"),
    (["mode = connect", "listen = 127.0.0.1:{P}", "allow_destinations = 0x7f000001:443"], 6,
     r"not a valid host name"),
    (["mode = connect", "listen = 127.0.0.1:{P}", "allow_destinations = ok.test:443",
      "allow_private_destinations = ok.test:443"], 7, r"not names"),
], ids=["no-allowlist", "upstreams-in-connect", "allowlist-in-tcp", "entry-without-port",
        "wildcard-port", "numeric-entry", "exception-by-name"])
def test_connect_mode_config_errors_name_the_line(tmp_path, route_lines, bad_line, reason_re):
    lines = ["[global]", "", "[route fwd]"] + [ln.format(P=free_port()) for ln in route_lines]
    path = tmp_path / "connect.ini"
    path.write_text("\n".join(lines) + "\n")
    r = run_check(path)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    m = re.search(re.escape(str(path)) + r":(\d+): (.*)", r.stderr)
    assert m, r.stderr
    found = re.findall(re.escape(str(path)) + r":(\d+): (.*)", r.stderr)
    assert any(int(n) == bad_line and re.search(reason_re, text) for n, text in found), \
        "expected line %d matching %r; stderr:\n%s" % (bad_line, reason_re, r.stderr)
