"""Helpers for the `connect` mode (forward proxy) integration tests: the route config, an HTTP
response reader for raw client sockets, and a plain-HTTP origin server that records what it was
sent.

- connect_route(listen, allow, private=None, **opts): one [route] dict with mode = connect.
- HttpReader(sock): reads HTTP/1.x responses off a socket, keeping bytes that belong to the next
  response (pipelining); framing by Content-Length, chunked or until EOF, none for HEAD / 1xx /
  204 / 304. Every read has a deadline.
- OriginServer(): http.server on 127.0.0.1 (a thread per connection) whose paths choose the
  response shape:
      /len/N        200 with an N-byte body (Content-Length)
      /chunked/N    200 with an N-byte body in 3 chunks (Transfer-Encoding: chunked)
      /unframed/N   200 with an N-byte body and neither length nor chunking (ends at close)
      /status/N     status N with an empty body (Content-Length: 0 unless 204/304)
      /echo         200 echoing the request body (Content-Length)
  Bodies are deterministic (body_for(path, n)), so a client can check exactly what it got. Every
  request is recorded in .requests as dict(method, path, version, headers=[(name, value)],
  body). It always closes after one response, as plrelay asks it to.
"""

import http.server
import socket
import threading
import time


def connect_route(listen, allow, private=None, **opts):
    r = {"mode": "connect", "listen": listen, "allow_destinations": allow}
    if private:
        r["allow_private_destinations"] = private
    r.update(opts)
    return r


def body_for(path, n):
    """n deterministic bytes that name the path (so responses cannot be confused)."""
    seed = path.encode() + b"|"
    return (seed * (n // len(seed) + 1))[:n]


class Response:
    def __init__(self, status, reason, version, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers            # [(name, value)] in wire order
        self.body = body
        self.raw_head = raw_head

    def header(self, name):
        """The values of a field (case-insensitive), in order."""
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return "Response(%d %r, %r, body=%r)" % (self.status, self.reason, self.headers,
                                                 self.body[:120])


class HttpReader:
    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no complete response before the deadline; have %r"
                                 % bytes(self.buf[:300]))
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        if not data:
            self.eof = True
            return
        self.buf += data

    def _take_until(self, marker, deadline):
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[:i + len(marker)])
                del self.buf[:i + len(marker)]
                return out
            if self.eof:
                raise AssertionError("EOF before %r; have %r" % (marker, bytes(self.buf[:300])))
            self._fill(deadline)

    def _take(self, n, deadline):
        while len(self.buf) < n:
            if self.eof:
                raise AssertionError("EOF after %d of %d body bytes" % (len(self.buf), n))
            self._fill(deadline)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def response(self, method="GET", timeout=None):
        """The next response (interim 1xx heads are skipped)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            raw = self._take_until(b"\r\n\r\n", deadline)
            lines = raw[:-4].split(b"\r\n")
            parts = lines[0].split(b" ", 2)
            assert len(parts) >= 2 and parts[0].startswith(b"HTTP/1."), \
                "bad status line %r" % lines[0]
            status = int(parts[1])
            headers = []
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
            resp = Response(status, parts[2].decode("latin-1") if len(parts) > 2 else "",
                            parts[0].decode(), headers, b"", raw)
            if 100 <= status < 200:
                continue
            break
        te = ",".join(resp.header("Transfer-Encoding")).lower()
        cl = resp.header("Content-Length")
        if method == "HEAD" or status in (204, 304):
            return resp
        if te:
            assert te.strip().endswith("chunked"), "unexpected Transfer-Encoding %r" % te
            body = bytearray()
            while True:
                size_line = self._take_until(b"\r\n", deadline)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self._take_until(b"\r\n", deadline) != b"\r\n":
                        pass                       # trailers
                    break
                body += self._take(size, deadline)
                assert self._take(2, deadline) == b"\r\n", "chunk not followed by CRLF"
            resp.body = bytes(body)
        elif cl:
            resp.body = self._take(int(cl[0]), deadline)
        else:
            while not self.eof:
                self._fill(deadline)
            resp.body = bytes(self.buf)
            self.buf.clear()
        return resp

    def at_eof(self, timeout=5.0):
        """True once the peer closed (nothing else may arrive); fails on extra bytes."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            try:
                self._fill(deadline)
            except ConnectionResetError:
                self.eof = True
                break
            assert not self.buf, "unexpected bytes after the response: %r" % bytes(self.buf[:200])
        return True


class _OriginHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10                           # a silent connection cannot hold a thread forever

    def log_message(self, *args):          # keep pytest output quiet
        pass

    def _record(self, body):
        self.server.origin.record({
            "method": self.command, "path": self.path, "version": self.request_version,
            "headers": list(self.headers.items()), "body": body})

    def _body_in(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, headers, body, head_only):
        self.send_response_only(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if not head_only and body:
            self.wfile.write(body)

    def _serve(self, head_only=False):
        body_in = self._body_in()
        self._record(body_in)
        self.close_connection = True
        parts = self.path.split("?", 1)[0].split("/")
        kind = parts[1] if len(parts) > 1 else ""
        n = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
        if kind == "len":
            b = body_for(self.path, n)
            self._send(200, [("Content-Type", "application/octet-stream"),
                             ("Content-Length", str(len(b))), ("Connection", "close")],
                       b, head_only)
        elif kind == "chunked":
            b = body_for(self.path, n)
            thirds = [b[:n // 3], b[n // 3:2 * n // 3], b[2 * n // 3:]]
            wire = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in thirds if c) + b"0\r\n\r\n"
            self._send(200, [("Transfer-Encoding", "chunked"), ("Connection", "close")],
                       wire, head_only)
        elif kind == "unframed":
            b = body_for(self.path, n)
            self._send(200, [("Content-Type", "text/plain")], b, head_only)
        elif kind == "status":
            hs = [] if n in (204, 304) else [("Content-Length", "0")]
            self._send(n, hs, b"", head_only)
        elif kind == "echo":
            self._send(200, [("Content-Length", str(len(body_in)))], body_in, head_only)
        else:
            self._send(404, [("Content-Length", "0")], b"", head_only)

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def do_PUT(self):
        self._serve()

    def do_HEAD(self):
        self._serve(head_only=True)


class OriginServer:
    def __init__(self, host="127.0.0.1"):
        self.lock = threading.Lock()
        self.requests = []
        self.httpd = http.server.ThreadingHTTPServer((host, 0), _OriginHandler)
        self.httpd.daemon_threads = True
        self.httpd.timeout = 10
        self.httpd.origin = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True, name="origin")
        self.thread.start()

    def record(self, req):
        with self.lock:
            self.requests.append(req)

    def seen(self):
        with self.lock:
            return list(self.requests)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def header_values(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]
