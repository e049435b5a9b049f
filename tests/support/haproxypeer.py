"""A real haproxy (Debian's package) in `mode tcp` standing in for the cloud NLB: it accepts the
test client and connects to plrelay with `send-proxy-v2`, so plrelay gets a PROXY v2 header
written by an independent implementation.

    with Haproxy(tmp_path, backend="127.0.0.1:%d" % plrelay_port,
                 server_opts="send-proxy-v2 proxy-v2-options crc32c,unique-id") as hp:
        s = connect(hp.port, source="127.0.0.5")

haproxy runs in the foreground (`haproxy -f CFG -db`) with its stderr in a file. Readiness is
its listening socket appearing in /proc/net/tcp, never a probe connection (which haproxy would
forward to plrelay as a connection of its own). Stopping sends SIGTERM and waits; every wait
has a deadline. available() says whether the binary exists, so a test can skip cleanly.
"""

import os
import shutil
import signal
import subprocess
import time

from peers import free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def available():
    return os.access(HAPROXY, os.X_OK)


def version():
    r = subprocess.run([HAPROXY, "-v"], capture_output=True, text=True, timeout=10)
    return r.stdout.splitlines()[0] if r.stdout else ""


def listening(port, host_hex="0100007F"):
    """True if a TCP socket listens on 127.0.0.1:port (read from /proc/net/tcp)."""
    want = "%s:%04X" % (host_hex, port)
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":
                    return True
    except OSError:
        return False
    return False


class Haproxy:
    """One haproxy process: frontend on 127.0.0.1:port, one backend server."""

    def __init__(self, workdir, backend, server_opts="send-proxy-v2", frontend_extra="",
                 name="haproxy", port=None):
        self.workdir = str(workdir)
        self.name = name
        self.port = port or free_port()
        self.backend = backend
        self.config_path = os.path.join(self.workdir, name + ".cfg")
        self.stderr_path = os.path.join(self.workdir, name + ".stderr")
        self.config = "\n".join([
            "global",
            "    maxconn 4096",
            "    nbthread 2",
            "",
            "defaults",
            "    mode tcp",
            "    timeout connect 5s",
            "    timeout client 60s",
            "    timeout server 60s",
            "",
            "frontend fe",
            "    bind 127.0.0.1:%d" % self.port,
            "    default_backend be",
        ] + (["    " + line for line in frontend_extra.splitlines() if line.strip()]) + [
            "",
            "backend be",
            "    server s1 %s %s" % (backend, server_opts),
            "",
        ])
        with open(self.config_path, "w") as f:
            f.write(self.config)
        self.proc = None

    def check_config(self):
        r = subprocess.run([HAPROXY, "-c", "-f", self.config_path], capture_output=True,
                           text=True, timeout=20)
        return r.returncode, r.stdout + r.stderr

    def start(self, timeout=10.0):
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen([HAPROXY, "-f", self.config_path, "-db"],
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.monotonic() + timeout
        while not listening(self.port):
            if self.proc.poll() is not None:
                raise AssertionError("haproxy exited with %d before listening:\n%s\nconfig:\n%s"
                                     % (self.proc.returncode, self.stderr(), self.config))
            if time.monotonic() >= deadline:
                raise AssertionError("haproxy not listening after %.0fs:\n%s"
                                     % (timeout, self.stderr()))
            time.sleep(0.05)
        return self

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout=10.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
