"""Ingress trust (issue 3) end to end through the real plrelay on loopback, with PROXY headers
built by tests/support/ppv2.py: v1/v2 headers accepted with their payload intact
(reliability.md §8 cases 1, 4, 7, 8, 9, 11); every malformed class refused 400 with no upstream
connect (cases 2, 3, 5, 6, 13); Alibaba 0xE1 endpoint / VPC / endpoint-service allowlists
(exact bytes, escaped in the log, case 10); trusted_proxies, deny/allow_sources on the real
client, max_connections_per_source and accept_rate; a storm of 200 slow headers cut at
handshake_timeout while a normal client is served (case 12); load-balancer probes counted but
not logged; send_proxy v1/v2 towards an upstream that parses the header; and the config errors
of the ingress keys. The haproxy-in-front tests are in test_ingress_haproxy.py.

"Sentinel" below is an upstream that must see no connection: a refused client never causes an
upstream connect, and since the access-log line is written when the session ends, asserting
the sentinel's accept count after the line appeared is race-free.
"""

import hashlib
import os
import re
import selectors
import socket
import subprocess
import threading
import time

import pytest

import harness
import ppv2
from harness import (PLRELAY_BIN, connect, make_config, recv_exact, recv_until_eof, route,
                     wait_closed, wait_for)
from peers import echo_handler, free_port, hostport, sha256
from ppv2 import alibaba, tlv, v1, v2

EP = "ep-bp1i4db71e6adaa29718"
VPC = "vpc-bp1kqtbqb0hk4ai1fpu3o"
EPSRV = "epsrv-bp1g7ds2zwysy0gq5fk3"
SRC = ("192.0.2.7", 5555)          # the "real client" of hand-built headers
DST = ("198.51.100.9", 443)        # the address the client reached at the load balancer
STOPPED_RE = re.compile(r"stopped: (\d+) connection\(s\) accepted, (\d+) refused by limits, "
                        r"(\d+) by accept_rate, (\d+) denied, (\d+) bad PROXY header\(s\), "
                        r"(\d+) probe\(s\)")


# ---- helpers ---------------------------------------------------------------------------

def start_route(tmp_path, start_plrelay, upstream, glob=None, **opts):
    """plrelay with one route r1 → upstream (a TcpServer); returns (plrelay, port)."""
    port = free_port()
    p = start_plrelay(make_config(tmp_path, {"r1": route("127.0.0.1:%d" % port, upstream.addr,
                                                         **opts)}, **(glob or {})))
    return p, port


def me(sock):
    """The client address of `sock` as plrelay logs it."""
    return hostport(*sock.getsockname()[:2])


def send_quietly(sock, data):
    """sendall that tolerates plrelay closing first (a refusal may race our write)."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def relayed(port, header, payload=b"payload after the header", source=None):
    """Send header+payload in one write and expect the payload echoed exactly (so the upstream
    saw the payload and nothing of the header). Returns the open socket."""
    s = connect(port, source=source)
    s.sendall(header + payload)
    got = recv_exact(s, len(payload))
    assert got == payload, "upstream did not see exactly the payload: %r" % got[:80]
    return s


def finish(sock):
    """Half-close, wait for the relay's EOF, close."""
    sock.shutdown(socket.SHUT_WR)
    recv_until_eof(sock, timeout=10)
    sock.close()


def record_of(p, client, timeout=10.0):
    return p.wait_access(lambda r: r["client"] == client, timeout=timeout,
                         what="the access-log line of %s" % client)[0]


def refused(p, data, status, reason, source=None, timeout=5.0):
    """Connect, send data (may be b""), expect plrelay to close the connection and log exactly
    one line for it with status/reason. Returns that record."""
    s = connect(p.port, source=source)
    try:
        client = me(s)
        if data:
            send_quietly(s, data)
        wait_closed(s, timeout=timeout)
    finally:
        s.close()
    recs = p.wait_access(lambda r: r["client"] == client, what="a line for %s" % client)
    rec = recs[0]
    assert (rec["status"], rec["reason"]) == (status, reason), rec
    assert len(recs) == 1, "a connection must write exactly one line: %r" % recs
    assert rec["upstream_addr"] == "" and rec["attempts"] == 0, rec
    return rec


def started(tmp_path, start_plrelay, upstream, glob=None, **opts):
    p, port = start_route(tmp_path, start_plrelay, upstream, glob=glob, **opts)
    p.port = port
    return p


def stopped_counts(p):
    """(accepted, refused_limits, refused_rate, denied, bad_headers, probes) of the stop line."""
    m = STOPPED_RE.search(p.stderr())
    assert m, "no 'stopped:' line in stderr:\n%s" % p.stderr()[-2000:]
    return tuple(int(x) for x in m.groups())


def check_config(tmp_path, text):
    path = tmp_path / "check.ini"
    path.write_text(text)
    r = subprocess.run([PLRELAY_BIN, "-t", "-c", str(path)], capture_output=True, text=True,
                       timeout=20, env=harness.child_env(), stdin=subprocess.DEVNULL)
    if harness.SANITIZE:
        bad = [x for x in harness.SANITIZER_PATTERNS if x in r.stderr]
        assert not bad, r.stderr
    return str(path), r


# ---- accepted headers -------------------------------------------------------------------

V1_ACCEPTED = [
    ("tcp4", v1("TCP4", ("192.168.0.1", 56324), ("192.168.0.11", 443)), "192.168.0.1:56324"),
    ("tcp6", v1("TCP6", ("2001:db8::1", 1234), ("2001:db8::2", 636)), "[2001:db8::1]:1234"),
    ("unknown_short", b"PROXY UNKNOWN\r\n", None),
    # The spec's worst case: exactly 107 bytes including the CRLF.
    ("unknown_107", b"PROXY UNKNOWN " + b"f" * (107 - 16) + b"\r\n", None),
    ("tcp4_ports_0_and_65535", v1("TCP4", ("10.0.0.1", 0), ("10.0.0.2", 65535)), "10.0.0.1:0"),
]


@pytest.mark.parametrize("mode", ["v1", "any"])
@pytest.mark.parametrize("name,header,real", V1_ACCEPTED, ids=[c[0] for c in V1_ACCEPTED])
def test_v1_header_is_accepted_and_the_payload_in_the_same_write_relayed(
        tmp_path, start_plrelay, servers, mode, name, header, real):
    assert name != "unknown_107" or len(header) == 107
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol=mode)
    payload = os.urandom(3000)
    s = relayed(p.port, header, payload)
    client = me(s)
    finish(s)
    rec = record_of(p, client)
    assert rec["status"] == 200 and rec["reason"] == "client_eof", rec
    assert rec["real_client"] == (real or client), "UNKNOWN uses the socket's own address"
    assert (rec["vpc_id"], rec["endpoint_id"], rec["endpoint_service_id"], rec["detail"]) == \
        ("", "", "", ""), rec
    assert up.accepted == 1


def every_tlv_kind():
    ssl = tlv(ppv2.TLV_SSL, b"\x07" + b"\0\0\0\0"
              + tlv(ppv2.TLV_SSL_VERSION, b"TLSv1.3") + tlv(ppv2.TLV_SSL_CN, b"client.example")
              + tlv(ppv2.TLV_SSL_CIPHER, b"TLS_AES_128_GCM_SHA256")
              + tlv(ppv2.TLV_SSL_SIG_ALG, b"RSA-SHA256") + tlv(ppv2.TLV_SSL_KEY_ALG, b"RSA2048"))
    return (tlv(ppv2.TLV_ALPN, b"h2") + tlv(ppv2.TLV_AUTHORITY, b"svc.example.com")
            + tlv(ppv2.TLV_NOOP, b"\0" * 7) + tlv(ppv2.TLV_UNIQUE_ID, b"u" * 128) + ssl
            + tlv(ppv2.TLV_NETNS, b"blue") + tlv(ppv2.TLV_AWS, b"\x01vpce-0123456789abcdef")
            + alibaba(vpc=VPC, endpoint=EP, service=EPSRV))


@pytest.mark.parametrize("family", ["tcp4", "tcp6"])
def test_v2_header_with_every_tlv_kind_is_accepted_and_ids_logged(tmp_path, start_plrelay,
                                                                  servers, family):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2")
    src, dst, real = SRC, DST, "192.0.2.7:5555"
    if family == "tcp6":     # an IPv6 real client while the upstream is IPv4-only (case 9)
        src, dst, real = ("2001:db8::1", 1234), ("2001:db8::2", 443), "[2001:db8::1]:1234"
    payload = os.urandom(5000)
    s = relayed(p.port, v2(src=src, dst=dst, tlvs=every_tlv_kind(), crc=True), payload)
    client = me(s)
    finish(s)
    rec = record_of(p, client)
    assert rec["status"] == 200, rec
    assert rec["real_client"] == real, rec
    assert (rec["vpc_id"], rec["endpoint_id"], rec["endpoint_service_id"]) == (VPC, EP, EPSRV)
    assert rec["bytes_out"] == len(payload), rec


def test_v1_and_v2_are_both_accepted_on_an_any_listener(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="any")
    for hdr, real in ((v1("TCP4", ("10.1.1.1", 1), ("10.1.1.2", 2)), "10.1.1.1:1"),
                      (v2(src=("10.2.2.2", 3), dst=("10.2.2.3", 4)), "10.2.2.2:3")):
        s = relayed(p.port, hdr)
        client = me(s)
        finish(s)
        assert record_of(p, client)["real_client"] == real


def test_crc32c_vector_is_accepted_and_any_flipped_bit_refused(tmp_path, start_plrelay, servers):
    good = bytes.fromhex("0d0a0d0a000d0a515549540a" "2111" "0013" "c0000201" "c6336402"
                         "dc04" "01bb" "030004" "20ec9549")
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", handshake_timeout="10s")
    s = relayed(p.port, good)
    client = me(s)
    finish(s)
    assert record_of(p, client)["real_client"] == "192.0.2.1:56324"
    before = up.accepted
    # A bit in the source address, the source port, the destination port and the CRC itself.
    for byte_index in (16, 24, 27, len(good) - 1):
        rec = refused(p, ppv2.flip_bit(good, byte_index, 3) + b"payload", 400,
                      "bad_proxy_header")
        assert "CRC32C" in rec["detail"], rec
    assert up.accepted == before, "a header with a bad CRC32C reached the upstream"


@pytest.mark.parametrize("block", [0, 12], ids=["len0", "len12"])
@pytest.mark.parametrize("split", [False, True], ids=["same_write", "later_write"])
def test_v2_local_followed_by_payload_is_relayed_with_the_peer_as_real_client(
        tmp_path, start_plrelay, servers, block, split):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2")
    hdr = v2(command=ppv2.CMD_LOCAL, block=b"\0" * block)
    assert len(hdr) == 16 + block
    payload = b"health-check-ish payload " + os.urandom(100)
    s = connect(p.port)
    client = me(s)
    if split:
        s.sendall(hdr)
        time.sleep(0.2)          # a separate segment, on purpose
        s.sendall(payload)
    else:
        s.sendall(hdr + payload)
    assert recv_exact(s, len(payload)) == payload
    finish(s)
    rec = record_of(p, client)
    assert rec["status"] == 200 and rec["real_client"] == client, rec
    assert rec["endpoint_id"] == "" and rec["vpc_id"] == ""


@pytest.mark.parametrize("acl", [False, True], ids=["no_acl", "with_source_acls"])
def test_v2_unix_family_header_is_kept_as_metadata_without_a_crash(tmp_path, start_plrelay,
                                                                   servers, acl):
    """Case 9 (CVE-2024-23325 class): an AF_UNIX source must not crash the relay, the source
    ACLs or the per-source table; it is relayed (the address kept as metadata) or refused
    400/403, and plrelay serves the next client."""
    up = servers(echo_handler)
    opts = {"allow_sources": "0.0.0.0/0, ::/0", "deny_sources": "10.9.0.0/16"} if acl else {}
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", max_connections_per_source=5,
                **opts)
    hdr = v2(src=b"/run/lb/client.sock", dst=b"/run/lb/listen.sock",
             tlvs=alibaba(endpoint=EP))
    payload = b"from a unix socket"
    s = connect(p.port)
    client = me(s)
    s.sendall(hdr + payload)
    try:
        got = recv_exact(s, len(payload), timeout=5)
        assert got == payload
        finish(s)
    except AssertionError:
        s.close()
    rec = record_of(p, client)
    # With no ACL nothing rejects it: kept as metadata and relayed. With source ACLs (IP
    # ranges) a UNIX source may be refused by the config, never by a crash.
    assert rec["status"] in ((200, 403) if acl else (200,)), rec
    assert p.alive()
    s = relayed(p.port, v2(src=SRC, dst=DST))     # still serving
    finish(s)


def test_header_sent_one_byte_per_write_gets_the_same_verdict(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="any", allow_endpoints=EP,
                handshake_timeout="20s")

    def dribble(data):
        s = connect(p.port, timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            try:
                s.send(data[i:i + 1])
            except OSError:
                break
            time.sleep(0.003)
        return s

    good = v2(src=SRC, dst=DST, tlvs=alibaba(vpc=VPC, endpoint=EP), crc=True)
    s = dribble(good)
    s.sendall(b"after")
    assert recv_exact(s, 5) == b"after"
    client = me(s)
    finish(s)
    rec = record_of(p, client)
    assert (rec["status"], rec["endpoint_id"], rec["real_client"]) == (200, EP, "192.0.2.7:5555")

    # v1 (no endpoint TLV possible) is refused by allow_endpoints: same verdict as one write.
    s = dribble(v1("TCP4", SRC, DST))
    client = me(s)
    wait_closed(s)
    s.close()
    rec = record_of(p, client)
    assert (rec["status"], rec["reason"]) == (403, "denied_endpoint"), rec

    s = dribble(ppv2.flip_bit(good, 20))
    client = me(s)
    wait_closed(s)
    s.close()
    rec = record_of(p, client)
    assert (rec["status"], rec["reason"]) == (400, "bad_proxy_header") and "CRC32C" in \
        rec["detail"], rec
    assert up.accepted == 1


def test_partial_header_then_eof_is_400_without_upstream_connect(tmp_path, start_plrelay,
                                                                 servers):
    sentinel = servers(echo_handler, name="sentinel")
    p = started(tmp_path, start_plrelay, sentinel, proxy_protocol="any")
    for partial in (v2(src=SRC, dst=DST)[:20], v1("TCP4", SRC, DST)[:20], b"\r\n\r\n\0"):
        s = connect(p.port)
        client = me(s)
        s.sendall(partial)
        s.shutdown(socket.SHUT_WR)
        assert wait_closed(s) in ("eof", "reset")
        s.close()
        rec = record_of(p, client)
        assert (rec["status"], rec["reason"]) == (400, "bad_proxy_header"), rec
    assert sentinel.accepted == 0


# ---- malformed headers ------------------------------------------------------------------

def _tcp4_block():
    return ppv2.address_block(ppv2.FAM_INET, SRC, DST)


MALFORMED = [
    # (id, proxy_protocol, bytes, regex the detail must match)
    ("v1_no_crlf_within_107", "v1", b"PROXY UNKNOWN " + b"x" * 120, r"CRLF|107"),
    ("v1_64k_of_junk", "v1", b"PROXY " + b"A" * 65536, r"."),
    ("v1_lone_cr", "v1", b"PROXY TCP4 192.0.2.7\r198.51.100.9 5555 443\r\n", r"CR"),
    ("v1_lone_lf", "v1", b"PROXY TCP4 192.0.2.7 198.51.100.9 5555 443\n", r"LF|CRLF"),
    ("v1_double_space", "v1", b"PROXY TCP4  192.0.2.7 198.51.100.9 5555 443\r\n", r"."),
    ("v1_lowercase_proxy", "v1", b"proxy TCP4 192.0.2.7 198.51.100.9 5555 443\r\n", r"."),
    ("v1_tcp5", "v1", b"PROXY TCP5 192.0.2.7 198.51.100.9 5555 443\r\n", r"."),
    ("v1_octet_256", "v1", b"PROXY TCP4 192.0.2.256 198.51.100.9 5555 443\r\n", r"."),
    ("v1_leading_zero_octet", "v1", b"PROXY TCP4 010.0.0.1 198.51.100.9 5555 443\r\n", r"."),
    ("v1_port_0443", "v1", b"PROXY TCP4 192.0.2.7 198.51.100.9 5555 0443\r\n", r"port"),
    ("v1_port_65536", "v1", b"PROXY TCP4 192.0.2.7 198.51.100.9 65536 443\r\n", r"port"),
    ("v1_tcp4_with_ipv6", "v1", b"PROXY TCP4 2001:db8::1 2001:db8::2 5555 443\r\n", r"."),
    ("v1_two_double_colons", "v1", b"PROXY TCP6 2001::db8::1 2001:db8::2 5555 443\r\n", r"."),
    ("v1_extra_field", "v1", b"PROXY TCP4 192.0.2.7 198.51.100.9 5555 443 9\r\n", r"."),
    ("v2_on_a_v1_listener", "v1", v2(src=SRC, dst=DST), r"."),
    ("v1_on_a_v2_listener", "v2", v1("TCP4", SRC, DST), r"."),
    ("v2_version_1", "v2", v2(src=SRC, dst=DST, version=1), r"version"),
    ("v2_version_3", "v2", v2(src=SRC, dst=DST, version=3), r"version"),
    ("v2_command_2", "v2", v2(src=SRC, dst=DST, command=2), r"command"),
    ("v2_command_f", "v2", v2(src=SRC, dst=DST, command=0xF), r"command"),
    ("v2_family_4", "v2", v2(fam_byte=0x41, block=_tcp4_block()), r"family"),
    ("v2_family_f", "v2", v2(fam_byte=0xF1, block=_tcp4_block()), r"family"),
    ("v2_protocol_3", "v2", v2(fam_byte=0x13, block=_tcp4_block()), r"protocol|transport"),
    ("v2_dgram", "v2", v2(src=SRC, dst=DST, proto=ppv2.PROTO_DGRAM), r"UDP|datagram|DGRAM"),
    ("v2_dgram_tcp6", "v2", v2(src=("2001:db8::1", 1), dst=("2001:db8::2", 2),
                               proto=ppv2.PROTO_DGRAM), r"UDP|datagram|DGRAM"),
    ("v2_tcp4_len_below_12", "v2", v2(fam_byte=0x11, block=b"\0" * 8), r"shorter|block"),
    ("v2_tcp6_len_below_36", "v2", v2(fam_byte=0x21, block=b"\0" * 24), r"shorter|block"),
    # The reg-test header with AUTHORITY TLV length 10 (overrun) / 4 (one stray byte).
    ("v2_tlv_overrun", "v2", bytes.fromhex("0d0a0d0a000d0a515549540a21110014" "7f0000017f000001"
                                           "002a0539" "02000a" "3132333435"), r"overrun"),
    ("v2_stray_byte", "v2", bytes.fromhex("0d0a0d0a000d0a515549540a21110014" "7f0000017f000001"
                                          "002a0539" "020004" "3132333435"), r"stray|trunc"),
    ("v2_truncated_tlv_header", "v2", v2(src=SRC, dst=DST, tlvs=b"\x02\x00"), r"stray|trunc"),
    ("v2_len_above_the_cap", "v2", ppv2.SIG + b"\x21\x11" + (5000).to_bytes(2, "big"), r"cap"),
    ("v2_bad_crc32c", "v2", ppv2.flip_bit(v2(src=SRC, dst=DST, tlvs=alibaba(endpoint=EP),
                                             crc=True), 17), r"CRC32C"),
    ("v2_e1_without_subtype", "v2", v2(src=SRC, dst=DST, tlvs=tlv(0xE1, b"")), r"E1|sub"),
    ("v2_e1_duplicate_subtype", "v2", v2(src=SRC, dst=DST, tlvs=alibaba(endpoint=EP)
                                         + alibaba(endpoint=EP)), r"E1|duplicate"),
    ("http_get_on_v2", "v2", b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", r"."),
    ("http_get_on_any", "any", b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", r"."),
    ("tls_client_hello_on_any", "any",
     bytes.fromhex("160301010001" "0000fc0303") + os.urandom(32) + b"\x00" * 64, r"."),
]


@pytest.mark.parametrize("mode,data,detail_re", [c[1:] for c in MALFORMED],
                         ids=[c[0] for c in MALFORMED])
def test_malformed_header_is_400_and_never_reaches_the_upstream(tmp_path, start_plrelay, servers,
                                                                mode, data, detail_re):
    sentinel = servers(echo_handler, name="sentinel")
    # A long handshake_timeout: a verdict must come from the bytes, never from the deadline.
    p = started(tmp_path, start_plrelay, sentinel, proxy_protocol=mode,
                handshake_timeout="30s")
    baseline = p.settled_fd_count()
    rec = refused(p, data + b"payload that must not be relayed", 400, "bad_proxy_header")
    assert re.search(detail_re, rec["detail"]), "detail %r does not match %r" % (
        rec["detail"], detail_re)
    if "dgram" not in detail_re.lower():     # a DGRAM header parses; its source may be logged
        assert rec["real_client"] == rec["client"], rec
    assert sentinel.accepted == 0, "a malformed header caused an upstream connect"
    p.wait_fds(baseline)


def test_every_bad_proxy_header_line_is_counted_in_the_stop_line(tmp_path, start_plrelay,
                                                                 servers):
    """The stop line's "N bad PROXY header(s)" equals the number of 400 bad_proxy_header lines:
    every malformed class above, sent to one plrelay with a route per proxy_protocol mode."""
    sentinel = servers(echo_handler, name="sentinel")
    ports = {m: free_port() for m in ("v1", "v2", "any")}
    p = start_plrelay(make_config(tmp_path, {
        "r_" + m: route("127.0.0.1:%d" % ports[m], sentinel.addr, proxy_protocol=m,
                        handshake_timeout="30s") for m in ports}))
    for name, mode, data, _ in MALFORMED:
        p.port = ports[mode]
        refused(p, data + b"payload", 400, "bad_proxy_header")
    assert sentinel.accepted == 0
    lines = [r for r in p.access_records() if r["reason"] == "bad_proxy_header"]
    assert len(lines) == len(MALFORMED)
    counted = stopped_counts_after_stop(p)[4]
    details = sorted(set(r["detail"] for r in lines))
    assert counted == len(lines), (
        "stop line counts %d bad PROXY header(s) but %d lines say bad_proxy_header; details:\n%s"
        % (counted, len(lines), "\n".join(details)))


def stopped_counts_after_stop(p):
    assert p.stop() == 0, p.stderr()[-3000:]
    return stopped_counts(p)


def test_proxy_max_header_caps_the_v2_header_without_waiting_for_it(tmp_path, start_plrelay,
                                                                   servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", proxy_max_header=64,
                handshake_timeout="30s")
    fits = v2(src=SRC, dst=DST, tlvs=alibaba(endpoint=b"ep-" + b"a" * 29))
    assert len(fits) == 64                 # exactly at the cap: accepted
    s = relayed(p.port, fits)
    finish(s)
    assert up.accepted == 1
    big = v2(src=SRC, dst=DST, tlvs=tlv(ppv2.TLV_NOOP, b"\0" * 40))
    assert len(big) > 64
    rec = refused(p, big, 400, "bad_proxy_header")
    assert "cap" in rec["detail"], rec
    # Only the 16 fixed bytes of a header declaring 65535: refused at once, nothing awaited.
    rec = refused(p, ppv2.SIG + b"\x21\x11\xff\xff", 400, "bad_proxy_header", timeout=3)
    assert "cap" in rec["detail"], rec
    assert up.accepted == 1


def test_header_on_a_route_without_proxy_protocol_is_opaque_payload(tmp_path, start_plrelay,
                                                                    servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up)          # proxy_protocol defaults to off
    data = (v1("TCP4", SRC, DST) + v2(src=SRC, dst=DST, tlvs=alibaba(endpoint=EP))
            + b"and then the payload")
    s = relayed(p.port, b"", data)                    # echoed whole: header bytes included
    client = me(s)
    finish(s)
    rec = record_of(p, client)
    assert rec["status"] == 200 and rec["real_client"] == client and rec["endpoint_id"] == ""
    assert rec["bytes_in"] == len(data), rec


# ---- PrivateLink allowlists -------------------------------------------------------------

ID_KEYS = [
    # (key, header kwarg, reason, allowed id, another id)
    ("allow_endpoints", "endpoint", "denied_endpoint", EP, "ep-bp1otherendpoint000"),
    ("allow_vpcs", "vpc", "denied_vpc", VPC, "vpc-bp1othervpc00000000"),
    ("allow_endpoint_services", "service", "denied_endpoint_service", EPSRV,
     "epsrv-bp1otherservice000"),
]


@pytest.mark.parametrize("key,field,reason,allowed,other", ID_KEYS, ids=[k[0] for k in ID_KEYS])
def test_privatelink_allowlist_admits_the_listed_id_and_refuses_others_403(
        tmp_path, start_plrelay, servers, key, field, reason, allowed, other):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", **{key: allowed})
    full = {"vpc": VPC, "endpoint": EP, "service": EPSRV}

    # Refusals first, while the upstream has seen nothing: it must stay that way.
    wrong = dict(full, **{field: other})
    rec = refused(p, v2(src=SRC, dst=DST, tlvs=alibaba(**wrong)) + b"data", 403, reason)
    assert key in rec["detail"] and other in rec["detail"], rec
    assert rec["real_client"] == "192.0.2.7:5555", rec
    missing = dict(full)
    del missing[field]
    rec = refused(p, v2(src=SRC, dst=DST, tlvs=alibaba(**missing)) + b"data", 403, reason)
    assert key in rec["detail"], rec
    rec = refused(p, v2(src=SRC, dst=DST) + b"data", 403, reason)      # no TLV at all
    assert up.accepted == 0, "a denied client caused an upstream connect"

    s = relayed(p.port, v2(src=SRC, dst=DST, tlvs=alibaba(**full)))
    client = me(s)
    finish(s)
    rec = record_of(p, client)
    assert rec["status"] == 200 and rec["detail"] == "", rec
    assert (rec["vpc_id"], rec["endpoint_id"], rec["endpoint_service_id"]) == (VPC, EP, EPSRV)
    assert up.accepted == 1
    assert stopped_counts_after_stop(p)[3] == 3, "three denials counted"


def test_allowlists_combine_and_list_several_ids(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="any",
                allow_endpoints="ep-aaa, ep-bbb", allow_vpcs="vpc-111")
    for ep in ("ep-aaa", "ep-bbb"):
        s = relayed(p.port, v2(src=SRC, dst=DST, tlvs=alibaba(vpc="vpc-111", endpoint=ep)))
        client = me(s)
        finish(s)
        assert record_of(p, client)["endpoint_id"] == ep
    rec = refused(p, v2(src=SRC, dst=DST, tlvs=alibaba(vpc="vpc-222", endpoint="ep-aaa")),
                  403, "denied_vpc")
    assert "allow_vpcs" in rec["detail"] and "vpc-222" in rec["detail"], rec
    # A v1 header cannot carry ids: denied by the allowlist, not an error.
    rec = refused(p, v1("TCP4", SRC, DST), 403, "denied_endpoint")
    assert up.accepted == 2


def test_ids_are_compared_as_exact_bytes_and_escaped_in_the_log(tmp_path, start_plrelay,
                                                                 servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", allow_endpoints="ep-abc")
    for near in (b"ep-abc\x00", b"ep-ab", b"EP-ABC", b"ep-abc ", b"ep-abcd", b"\x00ep-abc"):
        rec = refused(p, v2(src=SRC, dst=DST, tlvs=alibaba(endpoint=near)), 403,
                      "denied_endpoint")
        assert rec["endpoint_id"] == near.decode("latin-1"), rec
    nasty = b"ep-\x00\n\"\\\xff\xc3\x28end"
    rec = refused(p, v2(src=SRC, dst=DST, tlvs=alibaba(endpoint=nasty, vpc=b"vpc-\x7f\x01")),
                  403, "denied_endpoint")
    assert rec["endpoint_id"] == nasty.decode("latin-1"), rec
    assert rec["vpc_id"] == "vpc-\x7f\x01", rec
    with open(p.access_log, "rb") as f:
        raw = f.read()
    line = [x for x in raw.split(b"\n") if b'"client":"%s"' % rec["client"].encode() in x][0]
    for esc in (br"\u0000", br"\u000a", br"\u00ff", br"\u00c3", br"\u007f", br"\u0001"):
        assert esc in line.lower(), "%r not escaped as \\u00XX in %r" % (esc, line)
    assert all(0x20 <= b < 0x7f for b in line), "raw control or non-ASCII bytes in the log line"
    assert up.accepted == 0
    s = relayed(p.port, v2(src=SRC, dst=DST, tlvs=alibaba(endpoint=b"ep-abc")))
    finish(s)
    assert up.accepted == 1


# ---- trusted peers and source ACLs ------------------------------------------------------

def test_untrusted_peer_is_refused_403_before_anything_is_read(tmp_path, start_plrelay,
                                                               servers):
    sentinel = servers(echo_handler, name="sentinel")
    p = started(tmp_path, start_plrelay, sentinel, proxy_protocol="v2",
                trusted_proxies="10.0.0.0/8, 127.0.0.5/32", handshake_timeout="30s")
    # Silent client: closed at once, without waiting for a header.
    rec = refused(p, b"", 403, "untrusted_proxy", timeout=3)
    assert "trusted_proxies" in rec["detail"], rec
    # A client that sends a header: still refused and the header is not used.
    rec = refused(p, v2(src=SRC, dst=DST, tlvs=alibaba(endpoint=EP)) + b"x", 403,
                  "untrusted_proxy", timeout=3)
    assert rec["real_client"] == rec["client"] and rec["endpoint_id"] == "", rec
    assert sentinel.accepted == 0
    # The trusted peer (127.0.0.5) is served and its header used.
    s = relayed(p.port, v2(src=SRC, dst=DST), source="127.0.0.5")
    client = me(s)
    finish(s)
    assert record_of(p, client)["real_client"] == "192.0.2.7:5555"


def test_deny_sources_match_the_header_address(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2",
                deny_sources="10.9.0.0/16, 2001:db8:bad::/48")
    rec = refused(p, v2(src=("10.9.1.1", 1000), dst=DST), 403, "denied_source")
    assert rec["detail"] == "deny_sources 10.9.0.0/16", rec
    assert rec["real_client"] == "10.9.1.1:1000", rec
    rec = refused(p, v2(src=("2001:db8:bad::7", 1), dst=("2001:db8::1", 2)), 403,
                  "denied_source")
    assert "2001:db8:bad::/48" in rec["detail"], rec
    assert up.accepted == 0
    s = relayed(p.port, v2(src=("10.8.1.1", 1000), dst=DST))
    finish(s)
    assert up.accepted == 1


def test_allow_sources_match_the_header_address_and_deny_wins(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2",
                allow_sources="10.0.0.0/8, 192.168.0.0/16", deny_sources="10.9.0.0/16")
    rec = refused(p, v2(src=("172.16.0.1", 1), dst=DST), 403, "denied_source")
    assert "allow_sources" in rec["detail"], rec
    rec = refused(p, v2(src=("10.9.0.1", 1), dst=DST), 403, "denied_source")
    assert rec["detail"] == "deny_sources 10.9.0.0/16", "deny_sources is checked first: %r" % rec
    # A LOCAL header has no addresses: the peer (127.0.0.1, not listed) is the real client.
    rec = refused(p, v2(command=ppv2.CMD_LOCAL) + b"data", 403, "denied_source")
    assert up.accepted == 0
    # The peer 127.0.0.1 is not listed: only the header's address can admit these.
    for src in (("192.168.3.4", 1), ("10.200.0.1", 2)):
        s = relayed(p.port, v2(src=src, dst=DST))
        finish(s)
    assert up.accepted == 2


def test_source_acls_use_the_peer_when_there_is_no_proxy_protocol(tmp_path, start_plrelay,
                                                                   servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, allow_sources="127.0.0.5/32, 127.0.0.6/32",
                deny_sources="127.0.0.6/32")
    rec = refused(p, b"hello", 403, "denied_source")
    assert rec["real_client"] == rec["client"]
    rec = refused(p, b"hello", 403, "denied_source", source="127.0.0.6")
    assert rec["detail"] == "deny_sources 127.0.0.6/32", rec
    assert up.accepted == 0
    s = relayed(p.port, b"", b"hello", source="127.0.0.5")
    finish(s)
    assert up.accepted == 1


# ---- limits -----------------------------------------------------------------------------

def test_max_connections_per_source_counts_the_real_client(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", max_connections_per_source=2)
    held = [relayed(p.port, v2(src=("10.1.1.1", 1000 + i), dst=DST)) for i in range(2)]
    try:
        rec = refused(p, v2(src=("10.1.1.1", 2000), dst=DST) + b"x", 503, "limit_source")
        assert "max_connections_per_source" in rec["detail"], rec
        assert rec["real_client"] == "10.1.1.1:2000", rec
        # The same client as an IPv4-mapped IPv6 address is the same client.
        refused(p, v2(src=("::ffff:10.1.1.1", 3000), dst=("::ffff:198.51.100.9", 443)), 503,
                "limit_source")
        assert up.accepted == 2, "a refused client caused an upstream connect"
        other = relayed(p.port, v2(src=("10.1.1.2", 1000), dst=DST))    # others unaffected
        finish(other)
        for s in held:                                                   # still relaying
            s.sendall(b"still here")
            assert recv_exact(s, 10) == b"still here"
        first = held.pop(0)
        client = me(first)
        finish(first)
        record_of(p, client)                                             # its slot is free
        again = relayed(p.port, v2(src=("10.1.1.1", 4000), dst=DST))
        held.append(again)
    finally:
        for s in held:
            s.close()
    assert up.accepted == 4


def test_accept_rate_refuses_a_burst_with_503_and_admits_again_later(tmp_path, start_plrelay,
                                                                     servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, accept_rate="5/s")
    socks = [connect(p.port) for _ in range(20)]          # a burst of 20, as fast as we can
    served, refused_n = 0, 0
    try:
        for s in socks:
            send_quietly(s, b"ping")
            try:
                got = s.recv(4)
            except (ConnectionResetError, socket.timeout):
                got = b""
            if got == b"ping":
                served += 1
            else:
                assert wait_closed(s) in ("eof", "reset")
                refused_n += 1
    finally:
        for s in socks:
            s.close()
    assert refused_n >= 1, "a burst of 20 at 5/s was never limited"
    assert served >= 1, "a burst of 20 at 5/s was refused entirely"
    assert served + refused_n == 20

    def admits():
        try:
            with connect(p.port, timeout=2) as s:
                s.sendall(b"later")
                return s.recv(5) == b"later"
        except OSError:
            return False
    wait_for(admits, 10, "a connection to be admitted again after the burst", interval=0.3)
    recs = p.wait_access(lambda r: r["reason"] == "limit_rate", count=refused_n)
    assert all(r["status"] == 503 and r["route"] == "r1" for r in recs), recs
    counts = stopped_counts_after_stop(p)
    assert up.accepted == len([r for r in p.access_records() if r["status"] == 200]), \
        "a connection refused by accept_rate reached the upstream"
    assert counts[2] == len([r for r in p.access_records() if r["reason"] == "limit_rate"]), \
        "the stop line's accept_rate count differs from the 503 limit_rate lines"


# ---- the slow-header storm --------------------------------------------------------------

def test_200_slow_headers_are_cut_at_the_deadline_while_a_client_is_served(
        tmp_path, start_plrelay, servers):
    timeout_s = 2.0
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="any",
                handshake_timeout="%dms" % int(timeout_s * 1000))
    s = relayed(p.port, v2(src=SRC, dst=DST))
    finish(s)
    p.wait_access(count=1)
    baseline = p.settled_fd_count()

    v2_partial = v2(src=SRC, dst=DST, tlvs=alibaba(endpoint=EP))   # 16+12+... bytes
    v1_partial = v1("TCP4", SRC, DST)
    storm = []      # dicts: sock, t0, kind, data, sent, closed_at
    sel = selectors.DefaultSelector()
    for i in range(210):
        kind = ("silent", "v2_dribble", "v1_dribble")[i % 3] if i < 200 else "local_silent"
        t0 = time.monotonic()
        sock = connect(p.port, timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = {"sock": sock, "t0": t0, "kind": kind, "sent": 0, "closed_at": None,
             "data": v2_partial if kind == "v2_dribble" else v1_partial}
        if kind == "local_silent":
            sock.sendall(v2(command=ppv2.CMD_LOCAL))
        storm.append(c)
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, c)
    stop_dribbling = threading.Event()

    def dribbler():      # one byte every 0.4 s: no header can complete before the deadline
        end = time.monotonic() + timeout_s + 10
        while not stop_dribbling.wait(0.4) and time.monotonic() < end:
            for c in storm:
                if c["kind"].endswith("dribble") and c["closed_at"] is None \
                        and c["sent"] < len(c["data"]) - 1:
                    try:
                        c["sock"].send(c["data"][c["sent"]:c["sent"] + 1])
                        c["sent"] += 1
                    except OSError:
                        pass
    t = threading.Thread(target=dribbler, daemon=True)
    t.start()

    # A normal client, served during the storm (several times, each promptly).
    normal_done = []
    for i in range(3):
        s = relayed(p.port, v2(src=("10.7.7.%d" % (i + 1), 7000), dst=DST), b"normal %d" % i)
        finish(s)
        normal_done.append(time.monotonic())

    deadline = storm[-1]["t0"] + timeout_s + 5.0
    open_n = len(storm)
    while open_n and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            c = key.data
            try:
                data = c["sock"].recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                c["closed_at"] = time.monotonic()
                sel.unregister(c["sock"])
                open_n -= 1
    stop_dribbling.set()
    t.join(timeout=5)
    sel.close()
    for c in storm:
        c["sock"].close()
    still_open = [c["kind"] for c in storm if c["closed_at"] is None]
    assert not still_open, "%d connection(s) not cut %.0fs after the deadline: %r" % (
        len(still_open), 5.0, sorted(set(still_open)))
    early = [(c["kind"], round(c["closed_at"] - c["t0"], 3)) for c in storm
             if c["closed_at"] - c["t0"] < timeout_s - 0.25]
    assert not early, "closed before handshake_timeout: %r" % early[:10]
    first_cut = min(c["closed_at"] for c in storm)
    assert max(normal_done) < first_cut, "the normal client was not served during the storm"

    recs = p.wait_access(lambda r: r["reason"] == "handshake_timeout", count=200, timeout=10)
    assert len(recs) == 200, "one 408 line per slow header (LOCAL+silence is a probe)"
    assert all(r["status"] == 408 and r["upstream_addr"] == "" for r in recs)
    assert all(re.search(r"\d+ ?ms|handshake", r["detail"]) for r in recs), recs[0]
    normal = [r for r in p.access_records() if r["status"] == 200]
    assert len(normal) == 4 and len(p.access_records()) == 204
    assert up.accepted == 4, "a slow header caused an upstream connect"
    p.wait_fds(baseline, timeout=10)
    assert stopped_counts_after_stop(p)[5] == 10, "LOCAL then silence counts as a probe"


# ---- probes -----------------------------------------------------------------------------

def test_probes_write_no_access_line_and_are_counted_at_stop(tmp_path, start_plrelay, servers):
    up = servers(echo_handler)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", handshake_timeout="2s")
    baseline = p.settled_fd_count()
    for _ in range(3):                                    # connect and close
        connect(p.port).close()
    for block in (b"", b"", b"\0" * 12):                  # LOCAL, then close
        s = connect(p.port)
        s.sendall(v2(command=ppv2.CMD_LOCAL, block=block))
        s.close()
    s = connect(p.port)                                   # LOCAL, then silence: cut, no line
    s.sendall(v2(command=ppv2.CMD_LOCAL))
    assert wait_closed(s, timeout=6) in ("eof", "reset")
    s.close()
    p.wait_fds(baseline)
    assert p.access_records() == [], "a probe wrote an access-log line"
    assert up.accepted == 0

    s = relayed(p.port, v2(command=ppv2.CMD_LOCAL), b"LOCAL then data is a client")
    client = me(s)
    finish(s)
    assert record_of(p, client)["real_client"] == client
    s = relayed(p.port, v2(src=SRC, dst=DST))
    finish(s)
    p.wait_access(count=2)
    p.wait_fds(baseline)
    counts = stopped_counts_after_stop(p)
    assert counts[5] == 7, "expected 7 probes in the stop line: %r" % (counts,)
    assert counts[4] == 0, "probes are not bad headers"
    assert len(p.access_records()) == 2


# ---- send_proxy -------------------------------------------------------------------------

def header_seen(up):
    wait_for(lambda: up.results, 10, "the upstream to read a PROXY header")
    res = up.results[-1]
    assert res["error"] is None, "upstream could not parse plrelay's header: %s" % res["error"]
    return res["header"]


def test_send_proxy_v2_passes_the_real_client_and_the_tlvs(tmp_path, start_plrelay, servers):
    up = servers(ppv2.proxy_header_peer)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", send_proxy="v2",
                send_proxy_tlvs="pass")
    tlvs = (tlv(ppv2.TLV_AUTHORITY, b"svc.example.com") + alibaba(vpc=VPC, endpoint=EP,
                                                                  service=EPSRV)
            + tlv(ppv2.TLV_UNIQUE_ID, b"id-42") + tlv(0xE1, b"\x09future-subtype"))
    payload = os.urandom(1 << 20)
    s = connect(p.port, timeout=30)
    s.sendall(v2(src=SRC, dst=DST, tlvs=tlvs, crc=True) + payload)
    got = recv_exact(s, len(payload), timeout=30)
    assert sha256(got) == sha256(payload), "payload changed on the way"
    finish(s)
    h = header_seen(up)
    assert (h.version, h.command, h.family) == (2, ppv2.CMD_PROXY, ppv2.FAM_INET), h
    assert (h.src, h.dst) == (SRC, DST), h
    sent = [x for x in ppv2.walk_tlvs(tlvs)]
    assert [x for x in h.tlvs if x[0] != ppv2.TLV_CRC32C] == sent, \
        "TLVs not passed on as received (a CRC32C, if any, must be fresh; parse checked it)"
    assert h.alibaba == {1: VPC.encode(), 2: EP.encode(), 3: EPSRV.encode(), 9: b"future-subtype"}


def test_send_proxy_v2_with_tlvs_none_sends_addresses_only(tmp_path, start_plrelay, servers):
    up = servers(ppv2.proxy_header_peer)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", send_proxy="v2",
                send_proxy_tlvs="none")
    src, dst = ("2001:db8::7", 4444), ("2001:db8::1", 443)
    s = relayed(p.port, v2(src=src, dst=dst, tlvs=alibaba(endpoint=EP, vpc=VPC)))
    finish(s)
    h = header_seen(up)
    assert (h.family, h.src, h.dst, h.tlvs) == (ppv2.FAM_INET6, src, dst, []), h


@pytest.mark.parametrize("incoming", ["v1_tcp4", "v2_tcp4", "v2_tcp6"])
def test_send_proxy_v1_writes_the_exact_line(tmp_path, start_plrelay, servers, incoming):
    up = servers(ppv2.proxy_header_peer)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="any", send_proxy="v1")
    if incoming == "v2_tcp6":
        hdr = v2(src=("2001:db8::7", 4444), dst=("2001:db8::1", 443))
        line = b"PROXY TCP6 2001:db8::7 2001:db8::1 4444 443\r\n"
    else:
        hdr = v1("TCP4", SRC, DST) if incoming == "v1_tcp4" else v2(src=SRC, dst=DST)
        line = b"PROXY TCP4 192.0.2.7 198.51.100.9 5555 443\r\n"
    s = relayed(p.port, hdr, b"payload right after")
    finish(s)
    assert header_seen(up).raw == line


@pytest.mark.parametrize("mode", ["v1", "v2"])
def test_send_proxy_without_incoming_header_uses_peer_and_local_address(tmp_path, start_plrelay,
                                                                        servers, mode):
    up = servers(ppv2.proxy_header_peer)
    p = started(tmp_path, start_plrelay, up, send_proxy=mode)
    s = relayed(p.port, b"", b"no header from this client", source="127.0.0.5")
    cport = s.getsockname()[1]
    finish(s)
    h = header_seen(up)
    assert (h.src, h.dst) == (("127.0.0.5", cport), ("127.0.0.1", p.port)), h
    if mode == "v2":
        assert h.command == ppv2.CMD_PROXY and h.tlvs == [], h


def test_send_proxy_v2_after_a_local_header_names_the_peer(tmp_path, start_plrelay, servers):
    up = servers(ppv2.proxy_header_peer)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", send_proxy="v2")
    s = relayed(p.port, v2(command=ppv2.CMD_LOCAL, block=b"\0" * 12), b"after LOCAL",
                source="127.0.0.6")
    cport = s.getsockname()[1]
    finish(s)
    h = header_seen(up)
    assert h.command == ppv2.CMD_PROXY and h.src == ("127.0.0.6", cport), h
    assert h.dst == ("127.0.0.1", p.port), h


@pytest.mark.parametrize("mode", ["v1", "v2"])
def test_send_proxy_with_a_unix_source_never_crashes(tmp_path, start_plrelay, servers, mode):
    up = servers(ppv2.proxy_header_peer)
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", send_proxy=mode)
    s = connect(p.port)
    client = me(s)
    s.sendall(v2(src=b"/run/a.sock", dst=b"/run/b.sock") + b"data")
    try:
        if recv_exact(s, 4, timeout=5) == b"data":
            res = up.results[-1]
            assert res["error"] is None, res
            if mode == "v1":
                assert res["header"].raw == b"PROXY UNKNOWN\r\n", res["header"]
        finish(s)
    except AssertionError:
        s.close()
    assert record_of(p, client)["status"] in (200, 400, 403)
    assert p.alive()


# ---- config errors ----------------------------------------------------------------------

CONFIG_ERRORS = [
    # (id, route options, the key whose line is reported, regex for the reason)
    ("endpoints_without_proxy_protocol", {"allow_endpoints": "ep-abc"}, "allow_endpoints",
     r"proxy_protocol"),
    ("vpcs_without_proxy_protocol", {"allow_vpcs": "vpc-abc"}, "allow_vpcs", r"proxy_protocol"),
    ("services_without_proxy_protocol", {"allow_endpoint_services": "epsrv-abc"},
     "allow_endpoint_services", r"proxy_protocol"),
    ("endpoints_with_v1", {"proxy_protocol": "v1", "allow_endpoints": "ep-abc"},
     "allow_endpoints", r"v2"),
    ("services_with_v1", {"proxy_protocol": "v1", "allow_endpoint_services": "epsrv-abc"},
     "allow_endpoint_services", r"v2"),
    ("endpoint_without_prefix", {"proxy_protocol": "v2", "allow_endpoints": "ep-ok, bp1abc"},
     "allow_endpoints", r"ep-"),
    ("vpc_with_endpoint_prefix", {"proxy_protocol": "v2", "allow_vpcs": "ep-abc"}, "allow_vpcs",
     r"vpc-"),
    ("service_with_vpc_prefix", {"proxy_protocol": "any", "allow_endpoint_services": "vpc-abc"},
     "allow_endpoint_services", r"epsrv-"),
    ("proxy_protocol_v3", {"proxy_protocol": "v3"}, "proxy_protocol", r"v3|off|v1"),
    ("send_proxy_v3", {"send_proxy": "v3"}, "send_proxy", r"v3|off"),
    ("send_proxy_tlvs_all", {"send_proxy_tlvs": "all"}, "send_proxy_tlvs", r"pass|none"),
    ("accept_rate_without_unit", {"accept_rate": "500"}, "accept_rate", r"/s|rate"),
    ("trusted_proxies_bad_cidr", {"proxy_protocol": "v2", "trusted_proxies": "10.0.0.0/33"},
     "trusted_proxies", r"33|CIDR|prefix"),
    ("deny_sources_not_an_address", {"deny_sources": "10.0.0.0/8, example.com"}, "deny_sources",
     r"example|CIDR|address"),
    ("proxy_max_header_below_16", {"proxy_protocol": "v2", "proxy_max_header": "8"},
     "proxy_max_header", r"range|16"),
    ("handshake_timeout_zero", {"proxy_protocol": "v2", "handshake_timeout": "0s"},
     "handshake_timeout", r"0|more"),
]


@pytest.mark.parametrize("opts,key,reason_re", [c[1:] for c in CONFIG_ERRORS],
                         ids=[c[0] for c in CONFIG_ERRORS])
def test_ingress_config_error_is_reported_with_file_and_line(tmp_path, opts, key, reason_re):
    text = make_config(tmp_path, {"r1": route("127.0.0.1:%d" % free_port(),
                                              "127.0.0.1:%d" % free_port(), **opts)})
    lineno = [i + 1 for i, line in enumerate(text.splitlines())
              if line.startswith(key + " =")][0]
    path, r = check_config(tmp_path, text)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    m = [x for x in r.stderr.splitlines() if x.startswith("%s:%d: " % (path, lineno))]
    assert m, "no '%s:%d: ...' error in:\n%s" % (path, lineno, r.stderr)
    assert any(re.search(reason_re, x) for x in m), (m, reason_re)
    assert "configuration OK" not in r.stdout


def test_full_ingress_config_passes_the_check(tmp_path):
    text = make_config(tmp_path, {"r1": route(
        "127.0.0.1:%d" % free_port(), "127.0.0.1:%d" % free_port(), proxy_protocol="v2",
        trusted_proxies="100.64.0.0/10, 127.0.0.0/8", handshake_timeout="5s",
        proxy_max_header="4k", allow_sources="10.0.0.0/8, 192.168.0.0/16",
        deny_sources="10.9.0.0/16", allow_endpoints=EP, allow_vpcs=VPC,
        allow_endpoint_services=EPSRV, max_connections_per_source=200, accept_rate="500/s",
        send_proxy="v2", send_proxy_tlvs="pass")})
    path, r = check_config(tmp_path, text)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "%s: configuration OK" % path


# ---- bulk data behind a header ----------------------------------------------------------

def test_8_mib_each_way_behind_a_v2_header_arrives_intact(tmp_path, start_plrelay, servers):
    from peers import stream_handler
    down = os.urandom(8 << 20)
    upload = os.urandom(8 << 20)
    up = servers(stream_handler(down))
    p = started(tmp_path, start_plrelay, up, proxy_protocol="v2", allow_endpoints=EP)
    s = connect(p.port, timeout=60)
    client = me(s)
    err = []

    def sender():
        try:
            s.sendall(v2(src=SRC, dst=DST, tlvs=alibaba(endpoint=EP)) + upload)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    got = recv_until_eof(s, timeout=120)
    t.join(timeout=60)
    s.close()
    assert not err, err
    assert hashlib.sha256(got).hexdigest() == sha256(down)
    wait_for(lambda: up.results, 60, "the upstream to finish")
    assert up.results[0]["received_sha"] == sha256(upload), "upload changed (header leaked?)"
    rec = record_of(p, client, timeout=30)
    assert rec["bytes_in"] == len(upload) and rec["bytes_out"] == len(down), rec
    assert rec["endpoint_id"] == EP and rec["real_client"] == "192.0.2.7:5555"
