"""server — the OpenAPI port: request parsing, signature check, faults, dispatch, replies.

One ThreadingHTTPServer on 127.0.0.1 serves three things: the signed API (products told apart by
API version: x-acs-version header or Version parameter), the unsigned admin endpoints
(/_emulator/*, admin.py) and the ECS metadata-service stand-in (/latest/*). Every API request is
recorded (action, product, style, params, client_token, signature_ok, fault, status, code).

Faults (POST /_emulator/fault or --fault) are taken after the signature check, per action:
error kinds answer at once (core.ERROR_FAULTS: throttle, throttle503, busy, 5xx, badsig, lock);
slow sleeps delay_ms then answers normally; late performs the action, records it, sleeps
delay_ms (default 3000), then answers (a client killed meanwhile leaves the work done);
oversize/malformed/reset send a broken answer; pending is consumed by EnableVpcEndpointConnection
itself (privatelink.py), jobfail and hide by the NLB actions (nlb.py), slowconn by
CreateVpcEndpoint (es.py).
"""

import email.utils
import json
import socket
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .core import (ERROR_FAULTS, IMDS_ROLE, IMDS_TOKEN, STS_KEY_ID, STS_SECRET, STS_TOKEN,
                   VERSIONS, ApiError, parse_pairs, write_reply)
from . import admin, es, nlb, privatelink, sigcheck, slb

OVERSIZE_BYTES = 5 * 1024 * 1024
RPC_PRODUCTS = {"slb": slb.action, "nlb": nlb.action, "privatelink": privatelink.action}
SIGNER_PARAMS = ("Action", "Version", "AccessKeyId", "SignatureMethod", "SignatureVersion",
                 "SignatureNonce", "Timestamp", "Format", "Signature", "SecurityToken")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "emulator"

    def log_message(self, fmt, *args):  # quiet: the tests read /_emulator/requests instead
        pass

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.server.state.now(), usegmt=True)

    @property
    def state(self):
        return self.server.state

    def reply(self, status, payload, raw=None, content_type="application/json", extra=None):
        data = raw if raw is not None else json.dumps(payload).encode()
        write_reply(self, status, data, content_type, extra)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def dispatch(self):
        method = self.command
        body = self.read_body()
        path, _, rawq = self.path.partition("?")
        if path.startswith("/_emulator/"):
            status, payload = admin.handle(self.state, method, path, body)
            return self.reply(status, payload)
        if path.startswith("/latest/"):
            return self.imds(method, path)
        return self.api(method, path, rawq, body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = dispatch

    # ---- ECS metadata service stand-in ----
    def imds(self, method, path):
        token = self.headers.get("X-aliyun-ecs-metadata-token")
        with self.state.lock:
            self.state.imds.append({"method": method, "path": path, "token": token})
        base = "/latest/meta-data/ram/security-credentials/"
        if method == "PUT" and path == "/latest/api/token":
            if not self.headers.get("X-aliyun-ecs-metadata-token-ttl-seconds"):
                return self.reply(400, None, raw=b"missing ttl", content_type="text/plain")
            return self.reply(200, None, raw=IMDS_TOKEN.encode(), content_type="text/plain")
        if token is not None and token != IMDS_TOKEN:
            return self.reply(401, None, raw=b"bad token", content_type="text/plain")
        if method == "GET" and path == base:
            return self.reply(200, None, raw=IMDS_ROLE.encode(), content_type="text/plain")
        if method == "GET" and path == base + IMDS_ROLE:
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 6 * 3600))
            return self.reply(200, {"Code": "Success", "AccessKeyId": STS_KEY_ID,
                                    "AccessKeySecret": STS_SECRET, "SecurityToken": STS_TOKEN,
                                    "Expiration": expires, "LastUpdated": expires})
        return self.reply(404, None, raw=b"not found", content_type="text/plain")

    # ---- the API ----
    def identify(self, req, params):
        """Signature style, product and action of a request, and its signature checked."""
        headers, auth = req["headers"], req["authorization"]
        if auth.startswith("ACS3-HMAC-SHA256"):
            style, version, action = "v3", headers.get("x-acs-version"), \
                headers.get("x-acs-action")
        elif auth.startswith("acs "):
            style, version, action = "v2-roa", headers.get("x-acs-version"), \
                headers.get("x-acs-action")
        else:
            style, version, action = "v2-rpc", params.get("Version"), params.get("Action")
        return style, VERSIONS.get(version or ""), action

    def verify(self, style, req, params):
        if style == "v3":
            sigcheck.verify_v3(self.state, req)
        elif style == "v2-roa":
            sigcheck.verify_v2_roa(self.state, req)
        else:
            sigcheck.verify_v2_rpc(self.state, req, params)
            for k in SIGNER_PARAMS:  # the signer's own parameters are not the action's
                params.pop(k, None)

    def perform(self, product, action, req, params, ctx):
        """Runs one action under the state lock, after settling what is due."""
        st = self.state
        with st.lock:
            st.settle()
            if product == "elasticsearch":
                if not req["path"].startswith("/openapi/"):
                    raise ApiError(400, "InvalidAction.NotFound", "Elasticsearch is ROA.")
                name, answer = es.action(st, req["method"], req["path"], req["query"],
                                         req["body"], ctx)
                return action or name, answer
            if req["path"].startswith("/openapi/"):
                raise ApiError(400, "InvalidAction.NotFound", "RPC products take Action.")
            return action, RPC_PRODUCTS[product](st, action, params, ctx)

    def api(self, method, path, rawq, body):
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = {"method": method, "path": path, "query": parse_pairs(rawq), "headers": headers,
               "body": body, "authorization": headers.get("authorization", "")}
        rec = {"method": method, "path": path, "signature_ok": False, "fault": None}
        request_id = str(uuid.uuid4()).upper()
        roa = path.startswith("/openapi/")
        try:
            params = dict(req["query"])
            if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                params.update(parse_pairs(body.decode()))
            style, product, action = self.identify(req, params)
            rec.update({"style": style, "product": product, "action": action,
                        "params": {k: v for k, v in params.items()
                                   if k not in ("Signature", "SecurityToken")},
                        "client_token": params.get("ClientToken") or params.get("clientToken")})
            if product is None:
                raise ApiError(400, "InvalidVersion", "Specified parameter Version is not valid.")
            self.verify(style, req, params)
            rec["signature_ok"] = True
            fault = self.state.take_fault(action)
            if fault is not None:
                rec["fault"] = fault["kind"]
                if self.inject(fault, request_id, rec):
                    return
            ctx = {"fault": None}
            rec["action"], answer = self.perform(product, action, req, params, ctx)
            rec["fault"] = rec["fault"] or ctx["fault"]
            answer = dict(answer)
            answer["RequestId"] = request_id
            rec["status"] = 200
            self.record(rec)
            if fault is not None and fault["kind"] == "late":
                time.sleep(fault.get("delay_ms", 3000) / 1000.0)
            self.reply(200, answer, extra={"x-acs-request-id": request_id})
        except Exception as exc:  # an ApiError, or an emulator bug answered as one
            e = exc if isinstance(exc, ApiError) else ApiError(
                500, "InternalError", "emulator bug: %s: %s" % (type(exc).__name__, exc))
            if not isinstance(exc, ApiError):
                traceback.print_exc()
            rec["status"] = e.status
            rec["code"] = e.code
            self.record(rec)
            self.reply(e.status, self.error_body(roa, e, request_id),
                       extra={"x-acs-request-id": request_id})

    def error_body(self, roa, e, request_id):
        if roa:  # the ROA (Elasticsearch) shape: no HostId / Recommend
            return {"RequestId": request_id, "Code": e.code, "Message": e.message}
        return {"RequestId": request_id, "HostId": self.headers.get("Host", ""), "Code": e.code,
                "Message": e.message,
                "Recommend": "https://api.alibabacloud.com/troubleshoot?q=%s" % e.code}

    def record(self, rec):
        with self.state.lock:
            self.state.requests.append(rec)

    def inject(self, fault, request_id, rec):
        """Applies a fault. True when the answer has been sent (or withheld) already."""
        kind = fault["kind"]
        if kind in ERROR_FAULTS:
            status, code, message = ERROR_FAULTS[kind]
            raise ApiError(fault.get("status") or status, code, message)
        if kind == "slow":
            time.sleep(fault.get("delay_ms", 3000) / 1000.0)
            return False
        if kind == "late":
            return False  # api() performs the action, then sleeps
        rec["status"] = 200
        self.record(rec)
        if kind == "oversize":
            filler = b'{"RequestId":"%s","Blob":"' % request_id.encode()
            data = filler + b"x" * OVERSIZE_BYTES + b'"}'
            self.reply(200, None, raw=data)
            return True
        if kind == "malformed":
            self.reply(200, None, raw=b'{"RequestId": "%s", "Broken": ' % request_id.encode())
            return True
        if kind == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        raise ApiError(500, "EmulatorError", "unknown fault kind %r" % kind)


def start_api(state, port=0):
    """The API server on 127.0.0.1:port (not yet serving); -> the server."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.state = state
    return server
