"""Start tests/support/emulator.py as a process on free loopback ports and talk to its admin
endpoints and its two Elasticsearch REST clusters; shared by the apiclient, plrelay-provision and
emulator-flow integration tests."""

import base64
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

EMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "emulator.py")
ES_PASSWORD = "local-es-password"
REMOTE_PASSWORD = "remote-es-password"


class Emulator:
    def __init__(self, key_id, secret, es_instance, async_ms=300, es_password=ES_PASSWORD,
                 remote_password=REMOTE_PASSWORD, extra_args=()):
        self.stderr = tempfile.TemporaryFile(mode="w+")  # a file: never blocks the emulator
        self.proc = subprocess.Popen(
            [sys.executable, EMULATOR, "--port", "0", "--access-key-id", key_id,
             "--access-key-secret", secret, "--es-instance", es_instance,
             "--async-ms", str(async_ms), "--es-password", es_password,
             "--remote-password", remote_password] + list(extra_args),
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise AssertionError("emulator did not start: %s" % self.stderr_text())
        ports = json.loads(line)
        self.port = ports["port"]
        self.es_rest_port = ports["es_rest_port"]
        self.remote_rest_port = ports["remote_rest_port"]
        self.url = "http://127.0.0.1:%d" % self.port
        self.es_url = "http://127.0.0.1:%d" % self.es_rest_port
        self.remote_url = "http://127.0.0.1:%d" % self.remote_rest_port
        self.es_instance = es_instance
        self.async_ms = async_ms
        self.passwords = {"local": es_password, "remote": remote_password}

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()

    def stderr_text(self):
        """What the emulator wrote on stderr so far (tracebacks of handler bugs)."""
        self.stderr.seek(0)
        return self.stderr.read()

    def admin(self, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method="GET" if data is None else "POST")
        with urllib.request.urlopen(req, timeout=10) as r:  # loopback only
            return json.loads(r.read())

    def fault(self, kind, count=1, action=None, **extra):
        self.admin("/_emulator/fault", dict(kind=kind, count=count, action=action, **extra))

    def clear_faults(self):
        """Disarms every fault not consumed yet."""
        self.admin("/_emulator/faults/clear", {})

    def seed(self, **spec):
        spec.setdefault("es_instance", self.es_instance)
        return self.admin("/_emulator/seed", spec)

    def requests(self, action=None):
        return [r for r in self.admin("/_emulator/requests")
                if action is None or r.get("action") == action]

    def resources(self):
        """Ids of everything alive: slb, slb_listeners, ..., endpoints, whitelist, counts."""
        return self.admin("/_emulator/resources")

    def health(self, server_id, status):
        """Overrides DescribeHealthStatus for one CLB backend; "normal" clears it."""
        return self.admin("/_emulator/health", {"server_id": server_id, "status": status})

    def es_docs(self, cluster, index, count):
        """Adds count documents to index on the "local" or "remote" cluster; -> the new total."""
        return self.admin("/_emulator/es_docs", {"cluster": cluster, "index": index,
                                                 "count": count})["count"]

    def es_request(self, cluster, method, path, body=None, password=None, user="elastic"):
        """One call to a REST cluster; -> (HTTP status, decoded JSON body)."""
        base = self.es_url if cluster == "local" else self.remote_url
        pw = self.passwords[cluster] if password is None else password
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(base + path, data=data, method=method, headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(
                ("%s:%s" % (user, pw)).encode()).decode()})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:  # loopback only
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")
