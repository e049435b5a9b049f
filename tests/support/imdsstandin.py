"""A stand-in for the ECS instance metadata service, run in the test process on a free loopback port.

It hands out the emulator's RAM-role STS credentials (tests/support/emu/core.py), so a client that
resolved them can then call tests/support/emulator.py. Unlike the emulator's own /latest/* routes
it can refuse the IMDSv2 token (token_status 403 or 404: the plain form must then be used) and
hand out credentials that expire soon (expires_in_s), and it records every request with the token
header it carried:

    with ImdsStandIn(token_status=404, expires_in_s=120) as imds:
        ... metadata_endpoint = imds.url ...
        imds.seen  # [{"method": "PUT", "path": "/latest/api/token", "token": None}, ...]
"""

import http.server
import json
import threading
import time

from emu.core import STS_KEY_ID, STS_SECRET, STS_TOKEN

TOKEN = "standin-imds-token-0042"
ROLE = "plrelay-standin-role"
BASE = "/latest/meta-data/ram/security-credentials/"


class ImdsStandIn:
    def __init__(self, token_status=200, expires_in_s=6 * 3600):
        self.token_status = token_status
        self.expires_in_s = expires_in_s
        self.seen = []
        self.lock = threading.Lock()
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body, content_type="text/plain"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_one(self):
                token = self.headers.get("X-aliyun-ecs-metadata-token")
                with standin.lock:
                    standin.seen.append({"method": self.command, "path": self.path,
                                         "token": token})
                if self.command == "PUT" and self.path == "/latest/api/token":
                    if standin.token_status != 200:
                        return self.answer(standin.token_status, "no token here")
                    if not self.headers.get("X-aliyun-ecs-metadata-token-ttl-seconds"):
                        return self.answer(400, "missing ttl")
                    return self.answer(200, TOKEN)
                if token is not None and token != TOKEN:
                    return self.answer(401, "bad token")
                if self.command == "GET" and self.path == BASE:
                    return self.answer(200, ROLE)
                if self.command == "GET" and self.path == BASE + ROLE:
                    when = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                         time.gmtime(time.time() + standin.expires_in_s))
                    return self.answer(200, json.dumps({
                        "Code": "Success", "AccessKeyId": STS_KEY_ID,
                        "AccessKeySecret": STS_SECRET, "SecurityToken": STS_TOKEN,
                        "Expiration": when, "LastUpdated": when}), "application/json")
                return self.answer(404, "not found")

            do_GET = do_PUT = handle_one

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def credential_fetches(self):
        with self.lock:
            return [r for r in self.seen if r["method"] == "GET" and r["path"] == BASE + ROLE]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
