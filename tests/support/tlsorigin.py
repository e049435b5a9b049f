"""TLS test origins for the plrelay integration suite, built with the `openssl` CLI only.

- make_ca(dir, name): a throw-away CA (EC P-256, self-signed, CA:TRUE, keyCertSign) in `dir`;
  returns a TestCa with .cert / .key paths.
- TestCa.issue(dir, dns_name): a server certificate for `dns_name` (subjectAltName DNS:name,
  serverAuth) signed by that CA; returns (cert_path, key_path).
- SServer(cert, key, docroot): `openssl s_server -WWW` on 127.0.0.1:PORT serving the files of
  `docroot` (`GET /name` answers "HTTP/1.0 200 ok" + the file and closes). Started in its own
  process group, ready once a TCP connect to its port succeeds; stop() (or the context manager)
  ends it and reaps it. Nothing here touches the network beyond 127.0.0.1.

Every subprocess call has a timeout; nothing is left running after stop().
"""

import os
import signal
import socket
import subprocess
import time

OPENSSL = "openssl"


def _run(argv, cwd=None):
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(argv), r.returncode, r.stdout,
                                                         r.stderr))
    return r


class TestCa:
    __test__ = False      # not a pytest test class

    def __init__(self, directory, name):
        self.dir = str(directory)
        self.name = name
        self.cert = os.path.join(self.dir, name + "-ca.pem")
        self.key = os.path.join(self.dir, name + "-ca.key")
        _run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2",
              "-subj", "/CN=plrelay test CA %s" % name,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])

    def issue(self, directory, dns_name):
        """A leaf certificate for dns_name signed by this CA: (cert_path, key_path)."""
        d = str(directory)
        base = os.path.join(d, "%s-%s" % (self.name, dns_name))
        key, csr, cert, ext = base + ".key", base + ".csr", base + ".pem", base + ".ext"
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectAltName=DNS:%s\n" % dns_name)
        _run([OPENSSL, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=%s" % dns_name])
        _run([OPENSSL, "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
              "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext])
        return cert, key


def make_ca(directory, name="ca"):
    return TestCa(directory, name)


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SServer:
    """`openssl s_server -WWW` on 127.0.0.1:.port serving the files of `docroot`; its output goes
    to .log_path (next to docroot) for failure messages."""

    def __init__(self, cert, key, docroot, ready_timeout=15.0):
        self.docroot = os.path.abspath(str(docroot))
        self.proc = None
        for _ in range(5):             # the port was free a moment ago; retry if taken since
            self.port = _free_port()
            self.log_path = os.path.join(os.path.dirname(self.docroot),
                                         "s_server.%d.log" % self.port)
            argv = [OPENSSL, "s_server", "-accept", "127.0.0.1:%d" % self.port,
                    "-cert", cert, "-key", key, "-WWW", "-quiet"]
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(argv, cwd=self.docroot, stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True)
            if self._wait_ready(ready_timeout):
                return
            self.stop()
        raise AssertionError("openssl s_server did not start; output:\n%s" % self.output())

    def _wait_ready(self, timeout):
        """Ready once a TCP connect to the port succeeds (-quiet prints no banner)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
