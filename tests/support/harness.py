"""Harness for the plrelay integration suite: run the real binary, read its logs, poke /proc.

Plrelay wraps one plrelay process: it writes the INI, starts `$PLRELAY_BIN -c FILE` (optionally
under `prlimit --nofile=N:N`), captures stderr to a file, and waits for the `[info] ready:` line
as the readiness event. It reads the JSON access log (one object per finished connection) and
the process's fd count, VmRSS and CPU time from /proc. Client-side helpers (connect, exact
reads, waiting for a close) live here too. Every wait has a deadline; nothing sleeps blindly.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLRELAY_BIN = os.environ.get("PLRELAY_BIN") or os.path.join(REPO, "build", "plrelay")
SANITIZE = os.environ.get("PLRELAY_SANITIZE", "OFF").upper() in ("ON", "1", "TRUE", "YES")
SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                      "ERROR: ThreadSanitizer", "WARNING: ThreadSanitizer")
READY_RE = re.compile(r"\[info\] ready: (\d+) route\(s\), (\d+) worker\(s\)")
LOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(error|warn|info|debug)\] ")


def wait_for(pred, timeout, what="condition", interval=0.05):
    """Poll pred() until it returns a truthy value (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- config -------------------------------------------------------------------------------

def route(listen, upstreams, **opts):
    """One [route] section as a dict; listen/upstreams take a string or a list."""
    r = {"mode": "tcp", "listen": listen, "upstreams": upstreams}
    r.update(opts)
    return r


def make_config(tmp_path, routes, **global_opts):
    """INI text: [global] (access_log defaults to tmp_path/access.log, workers to 2, drain to
    10s, log_level info) followed by one [route NAME] per entry of `routes`."""
    g = {"workers": 2, "log_level": "info", "drain_timeout": "10s",
         "access_log": os.path.join(str(tmp_path), "access.log")}
    g.update(global_opts)
    lines = ["[global]"] + ["%s = %s" % (k, _val(v)) for k, v in g.items()]
    for name, opts in routes.items():
        lines += ["", "[route %s]" % name]
        lines += ["%s = %s" % (k, _val(v)) for k, v in opts.items()]
    return "\n".join(lines) + "\n"


def _val(v):
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


# ---- the process --------------------------------------------------------------------------

def child_env():
    env = dict(os.environ)
    if SANITIZE:
        asan = env.get("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        if "quarantine_size_mb" not in asan:
            asan += ":quarantine_size_mb=16"     # keeps RSS meaningful for the memory tests
        env["ASAN_OPTIONS"] = asan
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


class Plrelay:
    """One plrelay process started from config text."""

    def __init__(self, workdir, config_text, name="plrelay", nofile=None):
        self.workdir = str(workdir)
        self.name = name
        self.config_path = os.path.join(self.workdir, name + ".ini")
        self.stderr_path = os.path.join(self.workdir, name + ".stderr")
        self.stdout_path = os.path.join(self.workdir, name + ".stdout")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        m = re.search(r"^\s*access_log\s*=\s*(\S+)\s*$", config_text, re.M)
        self.access_log = m.group(1) if m and m.group(1) not in ("stderr", "off") else None
        self.nofile = nofile
        self.proc = None
        self.returncode = None

    def start(self, ready_timeout=20.0):
        if not os.access(PLRELAY_BIN, os.X_OK):
            raise AssertionError("PLRELAY_BIN %r is not an executable" % PLRELAY_BIN)
        argv = [PLRELAY_BIN, "-c", self.config_path]
        preexec = None
        if self.nofile is not None:
            if shutil.which("prlimit"):
                argv = ["prlimit", "--nofile=%d:%d" % (self.nofile, self.nofile), "--"] + argv
            else:
                import resource
                n = self.nofile
                preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))  # noqa
        with open(self.stderr_path, "wb") as err, open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         env=child_env(), preexec_fn=preexec)
        self.pid = self.proc.pid
        deadline = time.monotonic() + ready_timeout
        while not READY_RE.search(self.stderr()):
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise AssertionError("plrelay exited with %d before ready; stderr:\n%s"
                                     % (self.returncode, self.stderr()))
            if time.monotonic() >= deadline:
                raise AssertionError("plrelay not ready after %.0fs; stderr:\n%s"
                                     % (ready_timeout, self.stderr()))
            time.sleep(0.05)
        return self

    # -- output ---------------------------------------------------------------------------
    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def access_records(self):
        """Every complete JSON line of the access log so far."""
        if not self.access_log or not os.path.exists(self.access_log):
            return []
        with open(self.access_log, "rb") as f:
            data = f.read().decode("utf-8", "replace")
        out = []
        for line in data.split("\n")[:-1]:       # the last piece is "" or an unfinished line
            if line.strip():
                out.append(json.loads(line))
        return out

    def wait_access(self, pred=lambda r: True, count=1, timeout=10.0, what=None):
        """Wait until at least `count` access records match pred; returns the matching ones."""
        def matching():
            recs = [r for r in self.access_records() if pred(r)]
            return recs if len(recs) >= count else None
        try:
            return wait_for(matching, timeout, what or "%d access-log record(s)" % count)
        except AssertionError as e:
            raise AssertionError("%s\naccess log so far:\n%s\nstderr tail:\n%s" % (
                e, "\n".join(json.dumps(r) for r in self.access_records()[-20:]),
                self.stderr()[-3000:])) from None

    # -- /proc ----------------------------------------------------------------------------
    def _fd_targets(self):
        d = "/proc/%d/fd" % self.pid
        out = []
        for name in os.listdir(d):
            try:
                out.append(os.readlink(os.path.join(d, name)))
            except FileNotFoundError:  # closed while we looked
                pass
        return out

    def fd_count(self):
        """Open fds other than pipes: sockets and files, what a session holds. Workers keep a
        bounded pool of empty pipes for splice(2) (pipe_count), which outlives sessions."""
        return sum(1 for t in self._fd_targets() if not t.startswith("pipe:"))

    def pipe_count(self):
        """Pipe fds (two per pipe): the workers' splice pools plus pipes in use."""
        return sum(1 for t in self._fd_targets() if t.startswith("pipe:"))

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS for pid %d" % self.pid)

    def cpu_seconds(self):
        """utime + stime of the whole process (all threads), in seconds."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def settled_fd_count(self, timeout=5.0):
        """The fd count once it has stayed the same for 4 samples 50 ms apart (a session that
        was just logged may still be closing its sockets)."""
        seen = []

        def stable():
            seen.append(self.fd_count())
            return len(seen) >= 4 and len(set(seen[-4:])) == 1
        wait_for(stable, timeout, "the fd count to settle")
        return seen[-1]

    def wait_fds(self, baseline, timeout=10.0):
        """Wait until the fd count is back to `baseline` (or below)."""
        wait_for(lambda: self.fd_count() <= baseline, timeout,
                 "plrelay fd count back to %d (now %d)" % (baseline, self.fd_count()))

    # -- lifecycle ------------------------------------------------------------------------
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=30.0):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("plrelay still running %.0fs later; stderr tail:\n%s"
                                 % (timeout, self.stderr()[-3000:])) from None
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        if self.alive():
            self.send_signal(sig)
        return self.wait_exit(timeout)

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)

    def sanitizer_errors(self):
        text = self.stderr()
        return [p for p in SANITIZER_PATTERNS if p in text] if SANITIZE else []


# ---- client side --------------------------------------------------------------------------

def connect(port, host="127.0.0.1", timeout=5.0, source=None):
    """A connected client socket; `source` binds it to that local address first (e.g.
    "127.0.0.5", to make a test client's address distinctive)."""
    s = socket.create_connection((host, port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    s.settimeout(timeout)
    return s


def recv_exact(sock, n, timeout=10.0):
    """Read exactly n bytes or fail (EOF or deadline)."""
    deadline = time.monotonic() + timeout
    buf = bytearray()
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("got %d of %d bytes before the deadline" % (len(buf), n))
        sock.settimeout(left)
        try:
            data = sock.recv(min(n - len(buf), 1 << 20))
        except socket.timeout:
            continue
        if not data:
            raise AssertionError("EOF after %d of %d bytes" % (len(buf), n))
        buf += data
    return bytes(buf)


def recv_until_eof(sock, timeout=30.0, limit=1 << 31):
    deadline = time.monotonic() + timeout
    buf = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no EOF after %d bytes within %.0fs" % (len(buf), timeout))
        sock.settimeout(left)
        try:
            data = sock.recv(1 << 20)
        except socket.timeout:
            continue
        if not data:
            return bytes(buf)
        buf += data
        if len(buf) > limit:
            raise AssertionError("more than %d bytes" % limit)


def echo_roundtrip(sock, payload, timeout=10.0):
    sock.settimeout(timeout)
    sock.sendall(payload)
    got = recv_exact(sock, len(payload), timeout)
    assert got == payload, "echo mismatch"


def wait_closed(sock, timeout=5.0):
    """Wait until the peer closes `sock`: returns "eof" or "reset". Incoming data is discarded.
    Fails if the socket is still open at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("connection still open after %.1fs" % timeout)
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            return "reset"
        if not data:
            return "eof"


def is_open(sock, wait=0.0):
    """True if the socket has neither EOF nor an error pending (optionally after `wait`)."""
    sock.settimeout(wait if wait > 0 else 0.001)
    try:
        data = sock.recv(1, socket.MSG_PEEK)
    except socket.timeout:
        return True
    except OSError:
        return False
    return bool(data)
