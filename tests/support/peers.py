"""Test peers for the plrelay integration suite: small loopback servers with known behaviour.

Every peer here binds 127.0.0.0/8 only, runs in daemon threads, keeps what it saw (byte counts,
SHA-256 digests, accept counts, DNS queries) for the test to assert on, and is a context manager
whose exit closes every socket it owns. Nothing blocks without a timeout, so a peer can never
hang a test run: the worst case is a thread that notices the stop flag within ~0.2 s.

Peers
- TcpServer(handler): accept loop; one thread per connection running handler(conn, server).
  Handlers: echo_handler, sink_handler, trickle_handler(interval, count), speak_first(greeting),
  stream_handler(payload) (send a payload while hashing everything received),
  reply_after_eof(reply), reply_then_half_close(request_len, reply), reset_mid_stream(...),
  source_handler(...) (push bytes until a size or a deadline).
- BlackHole: a loopback port whose SYNs are dropped (nftables rule, or a listener with a full
  accept queue when nft is unavailable).
- DnsServer (dnspeer.py, re-exported here): a UDP DNS responder with per-name A/AAAA answers,
  TTL and rcode.
"""

import hashlib
import os
import socket
import struct
import subprocess
import threading
import time

POLL_S = 0.2            # how often blocked peer threads look at their stop flag
CHUNK = 256 * 1024      # socket read/write size used by the peers

threading.stack_size(512 * 1024)   # hundreds of connection threads stay cheap


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def hostport(host, port):
    """"127.0.0.1:80" or "[::1]:80", as plrelay writes addresses."""
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def free_port(host="127.0.0.1"):
    """A TCP port that was free on `host` a moment ago (bind port 0, read it, close)."""
    with socket.socket(family_of(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_on_all(hosts):
    """One port number free on every address in `hosts` (e.g. 127.0.0.1 and 127.0.0.2)."""
    for _ in range(200):
        port = free_port(hosts[0])
        socks = []
        try:
            for h in hosts:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((h, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no port free on all of %r" % (hosts,))


def random_bytes(n):
    return os.urandom(n)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def set_rst_on_close(sock):
    """SO_LINGER {1, 0}: close() sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class TcpServer:
    """Threaded TCP server on loopback (IPv4, or IPv6 when host is "::1"). handler(conn, server)
    runs in its own thread per connection; the connection is closed when it returns.
    Exceptions are kept in .errors."""

    def __init__(self, handler, host="127.0.0.1", port=0, backlog=1024, name="server"):
        self.handler = handler
        self.name = name
        self.stopping = threading.Event()    # handlers wind down
        self.closing = threading.Event()     # the accept loop ends
        self.lock = threading.Lock()
        self.accepted = 0
        self.active = 0              # connections whose handler has not returned yet
        self.results = []            # handlers append per-connection results here
        self.errors = []
        self.conns = []
        self.threads = []
        self.sock = socket.socket(family_of(host), socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(backlog)
        self.sock.settimeout(POLL_S)
        self.host, self.port = self.sock.getsockname()[:2]
        self.addr = hostport(self.host, self.port)
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True,
                                          name=name + "-accept")
        self._acceptor.start()

    def _accept_loop(self):
        while not self.closing.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self.lock:
                self.accepted += 1
                self.active += 1
                self.conns.append(conn)
            t = threading.Thread(target=self._run, args=(conn,), daemon=True,
                                 name=self.name + "-conn")
            with self.lock:
                self.threads.append(t)
            t.start()

    def _run(self, conn):
        try:
            self.handler(conn, self)
        except Exception as e:  # recorded for tests that care; resets are often expected
            with self.lock:
                self.errors.append(e)
        finally:
            try:
                conn.close()
            except OSError:
                pass
            with self.lock:
                self.active -= 1

    def add_result(self, result):
        with self.lock:
            self.results.append(result)

    def close_listener(self):
        """Stop accepting: new connects to this port are refused from now on. Connections
        already accepted carry on."""
        self.closing.set()
        try:
            self.sock.close()
        except OSError:
            pass
        self._acceptor.join(timeout=2)

    def stop(self):
        self.stopping.set()
        self.close_listener()
        with self.lock:
            conns = list(self.conns)
            threads = list(self.threads)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _recv(conn, server):
    """recv with the stop flag honoured; returns b'' on EOF or when the server stops."""
    conn.settimeout(POLL_S)
    while not server.stopping.is_set():
        try:
            return conn.recv(CHUNK)
        except socket.timeout:
            continue
    return b""


def _sendall(conn, data):
    conn.settimeout(30)
    conn.sendall(data)


def echo_handler(conn, server):
    """Echo everything; on EOF pass the half-close on and finish."""
    while True:
        data = _recv(conn, server)
        if not data:
            break
        _sendall(conn, data)
    try:
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def sink_handler(conn, server):
    """Read and discard until EOF. Result: dict(received=n)."""
    n = 0
    while True:
        data = _recv(conn, server)
        if not data:
            break
        n += len(data)
    server.add_result({"received": n})


def trickle_handler(interval_s, count):
    """Send one byte every interval_s, count times, then read until EOF (never closes first)."""
    def handler(conn, server):
        for _ in range(count):
            if server.stopping.wait(interval_s):
                return
            _sendall(conn, b".")
        sink_handler(conn, server)
    return handler


def speak_first(greeting):
    """Send `greeting` right after accept, then echo."""
    def handler(conn, server):
        _sendall(conn, greeting)
        echo_handler(conn, server)
    return handler


def stream_handler(payload):
    """Send `payload` (then SHUT_WR) while concurrently reading and hashing everything the peer
    sends until EOF. Result: dict(received=n, received_sha=hex, sent=n)."""
    def handler(conn, server):
        sent = {"n": 0, "err": None}

        def sender():
            try:
                conn.settimeout(120)
                view = memoryview(payload)
                for off in range(0, len(view), CHUNK):
                    conn.sendall(view[off:off + CHUNK])
                    sent["n"] += len(view[off:off + CHUNK])
                conn.shutdown(socket.SHUT_WR)
            except OSError as e:
                sent["err"] = e

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        h = hashlib.sha256()
        n = 0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not server.stopping.is_set():
            try:
                data = conn.recv(CHUNK)
            except socket.timeout:
                continue
            if not data:
                break
            h.update(data)
            n += len(data)
        t.join(timeout=120)
        server.add_result({"received": n, "received_sha": h.hexdigest(), "sent": sent["n"],
                           "send_error": sent["err"]})
    return handler


def reply_after_eof(reply):
    """Read until the peer's EOF, then send `reply` and close. Result: bytes received (sha)."""
    def handler(conn, server):
        buf = bytearray()
        while True:
            data = _recv(conn, server)
            if not data:
                break
            buf += data
        server.add_result({"received": len(buf), "received_sha": sha256(bytes(buf))})
        _sendall(conn, reply)
        conn.shutdown(socket.SHUT_WR)
    return handler


def reply_then_half_close(request_len, reply):
    """Read `request_len` bytes, send `reply`, SHUT_WR (our FIN goes first), then keep reading
    until the peer's EOF. Result: everything received (length and sha)."""
    def handler(conn, server):
        buf = bytearray()
        while len(buf) < request_len:
            data = _recv(conn, server)
            if not data:
                break
            buf += data
        _sendall(conn, reply)
        conn.shutdown(socket.SHUT_WR)
        while True:
            data = _recv(conn, server)
            if not data:
                break
            buf += data
        server.add_result({"received": len(buf), "received_sha": sha256(bytes(buf))})
    return handler


def reset_mid_stream(greeting_len, reset_after_rx, reset_event):
    """Send greeting_len bytes, read until reset_after_rx bytes arrived, then close with RST
    (SO_LINGER {1,0}) and set reset_event."""
    def handler(conn, server):
        _sendall(conn, b"g" * greeting_len)
        got = 0
        while got < reset_after_rx:
            data = _recv(conn, server)
            if not data:
                break
            got += len(data)
        set_rst_on_close(conn)
        conn.close()
        reset_event.set()
    return handler


class SourceState:
    """Shared between a source_handler and the test: progress and final digest."""

    def __init__(self):
        self.sent = 0
        self.last_progress = time.monotonic()
        self.finished = threading.Event()   # sending is over (SHUT_WR done, sha final)
        self.done = threading.Event()       # the handler returned (peer EOF or error)
        self.sha = None
        self.error = None


def source_handler(state, total_bytes, deadline_s, block=None):
    """Push `block` repeatedly until total_bytes were sent or deadline_s passed, then SHUT_WR
    and wait for the peer's EOF. Progress is visible in `state` while it runs."""
    block = block or random_bytes(CHUNK)

    def handler(conn, server):
        h = hashlib.sha256()
        end = time.monotonic() + deadline_s
        conn.settimeout(POLL_S)
        try:
            while state.sent < total_bytes and time.monotonic() < end \
                    and not server.stopping.is_set():
                piece = block[:min(len(block), total_bytes - state.sent)]
                try:
                    n = conn.send(piece)
                except socket.timeout:
                    continue
                h.update(piece[:n])
                state.sent += n
                state.last_progress = time.monotonic()
            conn.shutdown(socket.SHUT_WR)
            state.sha = h.hexdigest()
            state.finished.set()
            end = time.monotonic() + 60
            while time.monotonic() < end and _recv(conn, server):
                pass
        except OSError as e:
            state.error = e
            state.sha = h.hexdigest()
            state.finished.set()
        finally:
            state.done.set()
    return handler


# ---- black hole ---------------------------------------------------------------------------

class BlackHole:
    """A 127.0.0.1 port whose SYNs are silently dropped, so connect() can only time out.

    Preferred: an nftables table with an output-hook rule dropping tcp to that port (needs root
    and nft). Fallback: a listener with backlog 0 whose accept queue the test fills first; Linux
    then drops further SYNs. Which one works is probed at run time (.mode says which);
    PLRELAY_TEST_NO_NFT=1 in the environment forces the fallback."""

    def __init__(self):
        self.table = None
        self.listener = None
        self.fillers = []
        self.port = None
        self.mode = None
        use_nft = os.environ.get("PLRELAY_TEST_NO_NFT") != "1"   # "1" forces the fallback
        if use_nft and self._try_nft() and self._probe_drops():
            self.mode = "nft"
            return
        self._cleanup_nft()
        self._setup_backlog()
        if not self._probe_drops():
            self.close()
            raise RuntimeError("could not build a black-holed loopback port")
        self.mode = "backlog"

    @staticmethod
    def remove_stale_tables():
        """Delete plrelay_test_<pid>_* tables left by test processes that died mid-test."""
        try:
            r = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True,
                               timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return
        for line in r.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].startswith("plrelay_test_"):
                pid = parts[2].split("_")[2]
                if pid.isdigit() and not os.path.exists("/proc/" + pid):
                    subprocess.run(["nft", "delete", "table", parts[1], parts[2]],
                                   capture_output=True, timeout=10)

    def _try_nft(self):
        self.remove_stale_tables()
        self.port = free_port()
        table = "plrelay_test_%d_%d" % (os.getpid(), self.port)
        cmds = [["nft", "add", "table", "inet", table],
                ["nft", "add", "chain", "inet", table, "out",
                 "{ type filter hook output priority 0 ; }"],
                ["nft", "add", "rule", "inet", table, "out", "ip", "daddr", "127.0.0.1",
                 "tcp", "dport", str(self.port), "drop"]]
        for i, cmd in enumerate(cmds):
            try:
                r = subprocess.run(cmd, capture_output=True, timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                return False
            if r.returncode != 0:
                return False
            if i == 0:
                self.table = table
        return True

    def _cleanup_nft(self):
        if self.table:
            subprocess.run(["nft", "delete", "table", "inet", self.table],
                           capture_output=True, timeout=10)
            self.table = None

    def _setup_backlog(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        for _ in range(4):     # backlog 0 admits one; the rest sit in SYN_SENT
            f = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            f.setblocking(False)
            try:
                f.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(f)
        time.sleep(0.2)

    def _probe_drops(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            try:
                s.connect(("127.0.0.1", self.port))
            except socket.timeout:
                return True
            except OSError:
                return False
            return False

    def close(self):
        self._cleanup_nft()
        for f in self.fillers:
            f.close()
        self.fillers = []
        if self.listener:
            self.listener.close()
            self.listener = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# The DNS responder lives in dnspeer.py; re-exported so tests import every peer from here.
from dnspeer import QTYPE_A, QTYPE_AAAA  # noqa: E402,F401
from dnspeer import RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_SERVFAIL, DnsServer  # noqa: E402,F401
