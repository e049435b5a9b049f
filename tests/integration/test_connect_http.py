"""`mode = connect` (issue 4), absolute-form requests (`GET http://host:port/path HTTP/1.1`) end to
end through the real plrelay on loopback: how Watcher reaches plain-http webhooks through
xpack.http.proxy.* (docs/anchors-and-es-traffic.md §2.1: short requests, keep-alive reuse).

- curl -x with two URLs reuses one proxy connection ("Re-using existing connection"), one
  access-log line per request on the same client connection.
- Raw clients: sequential requests of every framing (Content-Length, chunked, HEAD, 204, POST
  with a body, empty body, 1 MiB) on one connection, then `Connection: close`; a pipelined pair in
  one write; HTTP/1.0 with and without keep-alive; an unframed response ends the connection; an
  idle kept-alive connection is closed at idle_timeout without another log line.
- The origin sees origin form, Host from the target, `Via: 1.1 plrelay`, `Connection: close`, and
  none of the client's hop-by-hop fields; the client sees one `Connection` field of ours and none
  of the origin's hop-by-hop fields.
- Each request on a kept-alive connection is checked on its own (a second one to an unlisted or
  guarded destination is refused); a malformed origin response is 502 bad_response; a closed
  origin port is 502 upstream_refused.

Origins are tests/support/fwdpeers.OriginServer (http.server) or raw TcpServer handlers for the
malformed responses; every one is on 127.0.0.1, opened by allow_private_destinations.
"""

import os
import re
import socket
import subprocess

import pytest

from fwdpeers import HttpReader, OriginServer, body_for, connect_route, header_values
from harness import connect, make_config
from peers import DnsServer, free_port, hostport


# ---- fixtures and helpers ------------------------------------------------------------------

@pytest.fixture
def dns():
    with DnsServer() as d:
        yield d


@pytest.fixture
def origin():
    with OriginServer() as o:
        yield o


def start_fwd(tmp_path, start_plrelay, dns, allow, private=None, hosts="", **opts):
    hosts_path = tmp_path / "hosts"
    hosts_path.write_text(hosts)
    port = free_port()
    opts.setdefault("max_header_bytes", "8k")
    opts.setdefault("handshake_timeout", "5s")
    opts.setdefault("connect_timeout", "2s")
    text = make_config(tmp_path, {"fwd": connect_route("127.0.0.1:%d" % port, allow, private,
                                                        **opts)},
                       hosts_file=str(hosts_path), dns_servers=dns.addr)
    return start_plrelay(text), port


def origin_route(tmp_path, start_plrelay, dns, o, hosts="127.0.0.1 ok.test\n", **opts):
    """A route that lists ok.test:O (O = the origin's port) and opens 127.0.0.1:O."""
    return start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % o.port,
                     private="127.0.0.1:%d" % o.port, hosts=hosts, **opts)


def me(sock):
    return hostport(*sock.getsockname()[:2])


def request(method, url, version="HTTP/1.1", headers=(), body=b"", host=True):
    """A request head (+ body) in absolute form; Host is the URL's authority unless given."""
    m = re.match(r"http://([^/]+)", url)
    lines = ["%s %s %s" % (method, url, version)]
    if host and not any(k.lower() == "host" for k, _ in headers):
        lines.append("Host: %s" % m.group(1))
    lines += ["%s: %s" % (k, v) for k, v in headers]
    if body:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def curl_env():
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def records_of(p, client, count, timeout=10.0):
    return p.wait_access(lambda r: r["client"] == client, count=count, timeout=timeout,
                         what="%d access-log line(s) of %s" % (count, client))


# ---- curl ------------------------------------------------------------------------------------

def test_curl_plain_http_reuses_one_proxy_connection_for_two_requests(tmp_path, start_plrelay,
                                                                      dns, origin):
    O = origin.port
    p, port = origin_route(tmp_path, start_plrelay, dns, origin)
    urls = ["http://ok.test:%d/len/5" % O, "http://ok.test:%d/len/7" % O]
    r = subprocess.run(["curl", "-sS", "-v", "--max-time", "20", "-x",
                        "http://127.0.0.1:%d" % port,
                        "--resolve", "ok.test:%d:127.0.0.1" % O] + urls,
                       capture_output=True, timeout=60, env=curl_env())
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 0, err
    assert r.stdout == body_for("/len/5", 5) + body_for("/len/7", 7), r.stdout
    assert "Re-using existing connection" in err, err
    assert len(re.findall(r"Connected to 127\.0\.0\.1", err)) == 1, err
    assert "GET http://ok.test:%d/len/5 HTTP/1.1" % O in err, err
    recs = p.wait_access(count=2)
    assert recs[0]["client"] == recs[1]["client"], "two proxy connections: %r" % recs
    assert [r["detail"] for r in recs] == ["GET ok.test:%d -> 200" % O] * 2, recs
    for rec in recs:
        assert (rec["status"], rec["reason"]) == (200, "request_done"), rec
        assert rec["upstream"] == "ok.test:%d" % O, rec
        assert rec["upstream_addr"] == "127.0.0.1:%d" % O, rec
    seen = origin.seen()
    assert [s["path"] for s in seen] == ["/len/5", "/len/7"], seen


# ---- keep-alive with raw clients --------------------------------------------------------------

def test_sequential_requests_of_every_framing_share_one_client_connection(tmp_path,
                                                                          start_plrelay, dns,
                                                                          origin):
    O = origin.port
    p, port = origin_route(tmp_path, start_plrelay, dns, origin)
    base = "http://ok.test:%d" % O
    post_body = os.urandom(3000)
    steps = [   # method, path, body, expected status, expected body
        ("GET", "/len/5", b"", 200, body_for("/len/5", 5)),
        ("GET", "/chunked/1000", b"", 200, body_for("/chunked/1000", 1000)),
        ("HEAD", "/len/50", b"", 200, b""),
        ("GET", "/status/204", b"", 204, b""),
        ("GET", "/status/404", b"", 404, b""),
        ("POST", "/echo", post_body, 200, post_body),
        ("GET", "/len/0", b"", 200, b""),
        ("GET", "/len/1048576", b"", 200, body_for("/len/1048576", 1048576)),
        ("GET", "/len/3", b"", 200, body_for("/len/3", 3)),
    ]
    s = connect(port, timeout=10)
    client = me(s)
    rd = HttpReader(s, timeout=15)
    for method, path, body, status, want in steps:
        s.sendall(request(method, base + path, body=body))
        resp = rd.response(method)
        assert resp.status == status, (path, resp)
        assert resp.body == want, (path, len(resp.body), len(want))
        assert resp.header("Connection") == ["keep-alive"], (path, resp)
        if path == "/len/50":
            assert resp.header("Content-Length") == ["50"], resp
    s.sendall(request("GET", base + "/len/4", headers=[("Connection", "close")]))
    resp = rd.response()
    assert resp.body == body_for("/len/4", 4)
    assert resp.header("Connection") == ["close"], resp
    assert rd.at_eof(timeout=5), "plrelay kept the connection after Connection: close"
    s.close()
    recs = records_of(p, client, len(steps) + 1)
    want_details = ["%s ok.test:%d -> %d" % (m, O, st) for m, _, _, st, _ in steps] + \
        ["GET ok.test:%d -> 200" % O]
    assert [r["detail"] for r in recs] == want_details, recs
    assert all((r["status"], r["reason"]) == (200, "request_done") for r in recs), recs
    assert len(p.access_records()) == len(steps) + 1, "an extra line for the connection's end"
    assert [x["path"] for x in origin.seen()] == [st[1] for st in steps] + ["/len/4"]
    assert origin.seen()[5]["body"] == post_body


def test_pipelined_requests_in_one_write_are_answered_in_order(tmp_path, start_plrelay, dns,
                                                               origin):
    O = origin.port
    p, port = origin_route(tmp_path, start_plrelay, dns, origin)
    base = "http://ok.test:%d" % O
    body = b"pipelined body"
    data = request("GET", base + "/len/11") + request("POST", base + "/echo", body=body) + \
        request("GET", base + "/chunked/50") + \
        request("GET", base + "/len/2", headers=[("Connection", "close")])
    s = connect(port)
    client = me(s)
    s.sendall(data)
    rd = HttpReader(s, timeout=10)
    assert rd.response().body == body_for("/len/11", 11)
    assert rd.response().body == body
    assert rd.response().body == body_for("/chunked/50", 50)
    last = rd.response()
    assert last.body == body_for("/len/2", 2) and last.header("Connection") == ["close"], last
    assert rd.at_eof()
    s.close()
    recs = records_of(p, client, 4)
    assert [r["detail"].split(" ")[0] for r in recs] == ["GET", "POST", "GET", "GET"], recs
    assert [x["path"] for x in origin.seen()] == ["/len/11", "/echo", "/chunked/50", "/len/2"]


@pytest.mark.parametrize("version,conn,keep", [
    ("HTTP/1.0", None, False),
    ("HTTP/1.0", "keep-alive", True),
    ("HTTP/1.1", None, True),
    ("HTTP/1.1", "close", False),
], ids=["1.0", "1.0-keep-alive", "1.1", "1.1-close"])
def test_keep_alive_follows_the_client_version_and_connection_field(tmp_path, start_plrelay, dns,
                                                                    origin, version, conn, keep):
    O = origin.port
    p, port = origin_route(tmp_path, start_plrelay, dns, origin)
    headers = [("Connection", conn)] if conn else []
    s = connect(port)
    client = me(s)
    s.sendall(request("GET", "http://ok.test:%d/len/9" % O, version=version, headers=headers))
    rd = HttpReader(s)
    resp = rd.response()
    assert resp.body == body_for("/len/9", 9)
    assert resp.header("Connection") == ["keep-alive" if keep else "close"], resp
    if keep:
        s.sendall(request("GET", "http://ok.test:%d/len/8" % O, version=version,
                          headers=headers))
        assert rd.response().body == body_for("/len/8", 8)
        s.close()
        records_of(p, client, 2)
    else:
        assert rd.at_eof()
        s.close()
        records_of(p, client, 1)


def test_unframed_response_is_relayed_until_close_and_ends_the_connection(tmp_path,
                                                                          start_plrelay, dns,
                                                                          origin):
    O = origin.port
    p, port = origin_route(tmp_path, start_plrelay, dns, origin)
    s = connect(port)
    client = me(s)
    s.sendall(request("GET", "http://ok.test:%d/unframed/70000" % O))
    rd = HttpReader(s)
    resp = rd.response()      # no length: read until plrelay's close
    assert resp.body == body_for("/unframed/70000", 70000)
    assert resp.header("Connection") == ["close"], resp
    s.close()
    rec = records_of(p, client, 1)[0]
    assert rec["detail"] == "GET ok.test:%d -> 200" % O, rec


def test_idle_kept_alive_connection_is_closed_at_idle_timeout_without_a_line(tmp_path,
                                                                            start_plrelay, dns,
                                                                            origin):
    O = origin.port
    p, port = origin_route(tmp_path, start_plrelay, dns, origin, idle_timeout="1s")
    s = connect(port)
    s.sendall(request("GET", "http://ok.test:%d/len/1" % O))
    rd = HttpReader(s)
    assert rd.response().header("Connection") == ["keep-alive"]
    assert rd.at_eof(timeout=8), "the idle connection was not closed"
    s.close()
    p.wait_access(count=1)
    p.settled_fd_count()          # the session is gone: a line for it would be written by now
    assert len(p.access_records()) == 1, p.access_records()


# ---- what the origin and the client see -------------------------------------------------------

def test_origin_gets_origin_form_with_host_via_and_no_hop_by_hop_fields(tmp_path, start_plrelay,
                                                                        dns, origin):
    O = origin.port
    p, port = origin_route(tmp_path, start_plrelay, dns, origin)
    s = connect(port)
    s.sendall(request("GET", "http://OK.test:%d/len/6?q=1&r=%%20" % O, headers=[
        ("Host", "spoofed.example:1"),
        ("User-Agent", "Apache-HttpClient/4.5.14 (Java/17)"),
        ("Connection", "keep-alive, X-Hop"),
        ("X-Hop", "drop me"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Connection", "keep-alive"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
        ("TE", "trailers"),
        ("Upgrade", "h2c"),
        ("Via", "1.1 earlier-hop"),
        ("X-End", "kept"),
    ]))
    rd = HttpReader(s)
    assert rd.response().body == body_for("/len/6?q=1&r=%20", 6)
    s.close()
    seen = origin.seen()
    assert len(seen) == 1
    req = seen[0]
    h = req["headers"]
    assert req["method"] == "GET" and req["path"] == "/len/6?q=1&r=%20", req
    assert req["version"] == "HTTP/1.1", req
    assert header_values(h, "Host") == ["ok.test:%d" % O], h
    assert header_values(h, "Connection") == ["close"], h
    assert header_values(h, "Via") == ["1.1 earlier-hop", "1.1 plrelay"], h
    assert header_values(h, "User-Agent") == ["Apache-HttpClient/4.5.14 (Java/17)"], h
    assert header_values(h, "X-End") == ["kept"], h
    for hop in ("X-Hop", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "TE",
                "Upgrade"):
        assert header_values(h, hop) == [], "%s reached the origin: %r" % (hop, h)


def raw_origin(servers, response, hold=False):
    """A TcpServer that reads one request head, answers `response` (bytes) and closes (or, with
    hold, keeps the connection open until plrelay closes it)."""
    def handler(conn, server):
        conn.settimeout(10)
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
        server.add_result(buf)
        if response:
            conn.sendall(response)
        while hold and not server.stopping.is_set():
            try:
                if not conn.recv(65536):
                    break
            except socket.timeout:
                continue
            except OSError:
                break
    return servers(handler, name="raw-origin")


def test_client_gets_our_connection_field_and_none_of_the_origins_hop_by_hop(tmp_path,
                                                                           start_plrelay, dns,
                                                                           servers):
    o = raw_origin(servers, b"HTTP/1.1 200 OK\r\nConnection: close, X-Private\r\n"
                            b"Keep-Alive: timeout=5, max=100\r\nProxy-Connection: close\r\n"
                            b"Content-Length: 2\r\nX-Kept: 1\r\n\r\nhi")
    p, port = origin_route(tmp_path, start_plrelay, dns, o)
    s = connect(port)
    s.sendall(request("GET", "http://ok.test:%d/" % o.port))
    rd = HttpReader(s)
    resp = rd.response()
    assert resp.body == b"hi"
    assert resp.header("Connection") == ["keep-alive"], resp
    assert resp.header("Keep-Alive") == [] and resp.header("Proxy-Connection") == [], resp
    assert resp.header("X-Kept") == ["1"], resp
    s.close()
    p.wait_access(count=1)


# ---- each request is checked on its own --------------------------------------------------------

@pytest.mark.parametrize("second,reason", [
    ("http://other.test:{O}/len/1", "denied_destination"),     # not on the list
    ("http://ok.test:{O1}/len/1", "denied_destination"),       # listed name, other port
    ("http://meta.test:{O}/len/1", "blocked_address"),         # listed, resolves to metadata
    ("http://127.0.0.1:{O}/len/1", "blocked_address"),         # listed literal, guarded
], ids=["unlisted-name", "unlisted-port", "guarded-name", "guarded-literal"])
def test_each_request_on_a_kept_alive_connection_is_checked_on_its_own(
        tmp_path, start_plrelay, dns, second, reason):
    """The first request is served (ok.test -> the origin on 127.0.0.2, opened by an exception
    for exactly 127.0.0.2:O); the second on the same connection is refused by its own check."""
    with OriginServer(host="127.0.0.2") as origin:
        O = origin.port
        O1 = O + 1 if O < 65535 else O - 1
        p, port = start_fwd(tmp_path, start_plrelay, dns,
                            "ok.test:%d, meta.test:%d, 127.0.0.0/8:%d" % (O, O, O),
                            private="127.0.0.2:%d" % O,
                            hosts="127.0.0.2 ok.test\n127.0.0.2 other.test\n"
                                  "169.254.169.254 meta.test\n")
        s = connect(port)
        client = me(s)
        s.sendall(request("GET", "http://ok.test:%d/len/3" % O))
        rd = HttpReader(s)
        first = rd.response()
        assert first.body == body_for("/len/3", 3), first
        assert first.header("Connection") == ["keep-alive"], first
        s.sendall(request("GET", second.format(O=O, O1=O1)))
        resp = rd.response()
        assert resp.status == 403, resp
        assert resp.header("Connection") == ["close"], resp
        assert rd.at_eof()
        s.close()
        recs = records_of(p, client, 2)
        assert (recs[0]["status"], recs[0]["reason"]) == (200, "request_done"), recs
        assert (recs[1]["status"], recs[1]["reason"]) == (403, reason), recs
        assert recs[1]["upstream_addr"] == "" and recs[1]["attempts"] == 0, recs
        assert [x["path"] for x in origin.seen()] == ["/len/3"], "the refused request got through"


def test_absolute_form_without_port_means_80_and_is_checked_as_such(tmp_path, start_plrelay, dns,
                                                                     origin):
    p, port = origin_route(tmp_path, start_plrelay, dns, origin)
    s = connect(port)
    client = me(s)
    s.sendall(request("GET", "http://ok.test/len/1"))
    rd = HttpReader(s)
    resp = rd.response()
    assert resp.status == 403, resp
    assert rd.at_eof()
    s.close()
    rec = records_of(p, client, 1)[0]
    assert rec["reason"] == "denied_destination", rec
    assert rec["detail"] == "ok.test:80: no allow_destinations entry matches", rec
    assert origin.seen() == []


# ---- origin failures -------------------------------------------------------------------------

@pytest.mark.parametrize("response", [
    b"HTTP/1.1 200 OK\nContent-Length: 2\n\nhi",                                 # bare LF
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi",
    b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 2\r\n\r\nhi",        # obs-fold
    b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi",                          # space before :
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
    b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
    b"",                                                                         # closed, silent
    b"HTTP/1.1 200 OK\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n",                  # head > 16 KiB
    b"HTTP/1.1 200 OK\r\nX-Big: " + b"b" * 20000,                                # ... unfinished
], ids=["bare-lf", "te-and-cl", "conflicting-cl", "obs-fold", "space-before-colon",
        "101-upgrade", "not-http", "no-response", "huge-head", "huge-head-unfinished"])
def test_malformed_origin_response_is_502_bad_response(tmp_path, start_plrelay, dns, servers,
                                                       response):
    """PLR_FWD_RESPONSE_HEAD_MAX_BYTES (16 KiB): a longer response head is a 502, whether it ends
    or not (the unfinished one is held open, so only the limit can answer)."""
    o = raw_origin(servers, response, hold=response.startswith(b"HTTP/1.1 200 OK\r\nX-Big") and
                   not response.endswith(b"\r\n\r\n"))
    p, port = origin_route(tmp_path, start_plrelay, dns, o)
    s = connect(port)
    client = me(s)
    s.sendall(request("GET", "http://ok.test:%d/x" % o.port))
    rd = HttpReader(s)
    resp = rd.response()
    assert resp.status == 502, resp
    assert resp.header("Connection") == ["close"], resp
    assert rd.at_eof()
    s.close()
    rec = records_of(p, client, 1)[0]
    assert (rec["status"], rec["reason"]) == (502, "bad_response"), rec
    assert rec["upstream_addr"] == "127.0.0.1:%d" % o.port, rec


def test_absolute_form_to_a_closed_port_is_502_upstream_refused(tmp_path, start_plrelay, dns):
    closed = free_port()
    p, port = start_fwd(tmp_path, start_plrelay, dns, "ok.test:%d" % closed,
                        private="127.0.0.1:%d" % closed, hosts="127.0.0.1 ok.test\n")
    s = connect(port)
    client = me(s)
    s.sendall(request("GET", "http://ok.test:%d/" % closed))
    rd = HttpReader(s)
    resp = rd.response()
    assert resp.status == 502, resp
    assert rd.at_eof()
    s.close()
    rec = records_of(p, client, 1)[0]
    assert (rec["status"], rec["reason"]) == (502, "upstream_refused"), rec


def test_client_half_close_after_the_request_still_gets_the_response(tmp_path, start_plrelay, dns,
                                                                     origin):
    O = origin.port
    p, port = origin_route(tmp_path, start_plrelay, dns, origin)
    s = connect(port)
    client = me(s)
    s.sendall(request("GET", "http://ok.test:%d/len/12" % O))
    s.shutdown(socket.SHUT_WR)
    rd = HttpReader(s)
    assert rd.response().body == body_for("/len/12", 12)
    assert rd.at_eof()
    s.close()
    rec = records_of(p, client, 1)[0]
    assert rec["detail"] == "GET ok.test:%d -> 200" % O, rec
