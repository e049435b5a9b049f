"""Start tests/support/emulator.py as a process on a free loopback port and talk to its admin
endpoints; shared by the apiclient and plrelay-provision integration tests."""

import json
import os
import subprocess
import sys
import urllib.request

EMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "emulator.py")


class Emulator:
    def __init__(self, key_id, secret, es_instance):
        self.proc = subprocess.Popen(
            [sys.executable, EMULATOR, "--port", "0", "--access-key-id", key_id,
             "--access-key-secret", secret, "--es-instance", es_instance],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise AssertionError("emulator did not start: %s" % self.proc.stderr.read())
        self.port = json.loads(line)["port"]
        self.url = "http://127.0.0.1:%d" % self.port
        self.es_instance = es_instance

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def admin(self, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method="GET" if data is None else "POST")
        with urllib.request.urlopen(req, timeout=10) as r:  # loopback only
            return json.loads(r.read())

    def fault(self, kind, count=1, action=None, **extra):
        self.admin("/_emulator/fault", dict(kind=kind, count=count, action=action, **extra))

    def seed(self, **spec):
        spec.setdefault("es_instance", self.es_instance)
        return self.admin("/_emulator/seed", spec)

    def requests(self, action=None):
        return [r for r in self.admin("/_emulator/requests")
                if action is None or r.get("action") == action]
