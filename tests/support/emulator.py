#!/usr/bin/env python3
"""emulator — a local stand-in for the few Alibaba Cloud OpenAPI actions the provisioner uses.

Python 3 standard library only. It listens on 127.0.0.1 (never anything else), verifies the
signature of every request with its OWN implementation of docs/alicloud-api.md §2 (ACS3-HMAC-SHA256,
HMAC-SHA1 RPC and HMAC-SHA1 ROA: written from the doc, not from src/provision/sign.c), keeps a little
state in memory, and injects faults on demand. It also plays the ECS metadata service (§3 step 5),
handing out STS credentials that it then accepts.

Products are told apart by API version (x-acs-version header or Version parameter):
  slb 2014-05-15          CreateLoadBalancer (ClientToken idempotency), DescribeLoadBalancers
                          (LoadBalancerName filter), DescribeLoadBalancerAttribute (listeners,
                          backend servers), DeleteLoadBalancer
  nlb 2022-04-30          ListLoadBalancers (LoadBalancerNames.N), ListServerGroups
                          (ServerGroupNames.N / ServerGroupIds.N), ListListeners (LoadBalancerIds.N)
                          (parameters in a form body)
  privatelink 2020-04-15  CreateVpcEndpointService (ClientToken), ListVpcEndpointServices
                          (ResourceId filter), ListVpcEndpointConnections (from the ES endpoints
                          whose serviceId is the service)
  elasticsearch 2017-06-13 (ROA) GET /openapi/instances/{id} (DescribeInstance),
                          GET|POST /openapi/instances/{id}/vpc-endpoints

Start:  emulator.py --port 0 --access-key-id ID --access-key-secret SECRET [--es-instance ID]
        [--fault KIND[:COUNT[:ACTION]]]...
It prints one JSON line {"port": N} on stdout once it listens, then serves until killed.

Admin endpoints (plain HTTP, unsigned, loopback only):
  POST /_emulator/fault   {"kind": K, "count": N, "action": A?, "delay_ms": D?, "status": S?}
        kinds: throttle (400 Throttling.User), throttle503 (503 ServiceUnavailable),
               busy (400 SystemBusy), 5xx (500 InternalError), badsig (400 SignatureDoesNotMatch),
               slow (sleep delay_ms, then answer normally), oversize (200 with a 5 MiB body),
               malformed (200 with a body that is not JSON), reset (close without answering)
  POST /_emulator/clock   {"offset_s": N}   the emulator's clock (Date header, time checks) moves
  POST /_emulator/reset   forget requests, faults and resources
  POST /_emulator/seed    build (part of) a private path directly in the state, for read tests:
        {"topology": "clb-ecs"|"nlb-ip", "name": N, "region": R, "vpc_id": V,
         "listener_ports": [..], "ecs": [..]            (clb-ecs)
         "zones": [..], "target_ip": IP, "listener_port": 9200   (nlb-ip)
         "es_instance": ID, "connection_status": "Connected", "whitelist": true,
         "stage": "lb"|"service"|"endpoint"|"all"}      (stop after that hop; default all)
        answers {"lb_id", "service_id", "endpoint_id", "endpoint_domain"} (those it made)
  GET  /_emulator/requests  every API request seen: action, product, style, params, client_token,
                            signature_ok, fault, status
  GET  /_emulator/imds      metadata-service requests seen (method, path, token presented)
"""

import argparse
import base64
import calendar
import email.utils
import hashlib
import hmac
import json
import random
import re
import socket
import string
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSIONS = {
    "2014-05-15": "slb",
    "2022-04-30": "nlb",
    "2020-04-15": "privatelink",
    "2017-06-13": "elasticsearch",
}
TIME_WINDOW_S = 15 * 60
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
OVERSIZE_BYTES = 5 * 1024 * 1024

STS_KEY_ID = "STS.emulatorRoleKey"
STS_SECRET = "emulatorRoleSecret0123456789"
STS_TOKEN = "CAISemulatorSecurityToken" + "x" * 200
IMDS_TOKEN = "emulator-imds-token-0001"
IMDS_ROLE = "plrelay-emulator-role"


def pct(s):
    """RFC 3986 encoding, as §2.1: only A-Z a-z 0-9 - _ . ~ stay literal."""
    return urllib.parse.quote(s, safe="")


def parse_pairs(raw):
    """'a=b&c=d' -> [(name, value)], %XX decoded, '+' left alone (the API never sends it)."""
    pairs = []
    if not raw:
        return pairs
    for part in raw.split("&"):
        if part == "":
            continue
        name, _, value = part.partition("=")
        pairs.append((urllib.parse.unquote(name), urllib.parse.unquote(value)))
    return pairs


def rand_id(prefix, n=22):
    alphabet = string.ascii_lowercase + string.digits
    return prefix + "".join(random.choice(alphabet) for _ in range(n))


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class State:
    """Everything the handlers share, behind one lock."""

    def __init__(self, keys, es_instances):
        self.lock = threading.Lock()
        self.keys = dict(keys)  # AccessKeyId -> (secret, required security token or None)
        self.keys[STS_KEY_ID] = (STS_SECRET, STS_TOKEN)
        self.es_seed = list(es_instances)
        self.clock_offset_s = 0
        self.reset()

    def reset(self):
        self.requests = []
        self.imds = []
        self.faults = []
        self.nonces = set()
        self.load_balancers = {}
        self.endpoint_services = {}
        self.nlbs = {}
        self.server_groups = {}
        self.nlb_listeners = {}
        self.tokens = {}  # (product, action, ClientToken) -> (fingerprint, response)
        self.es = {i: {"instanceId": i, "status": "active", "esVersion": "7.10.0_with_X-Pack",
                       "port": 9200, "protocol": "HTTP", "esConfig": {}, "endpoints": []}
                   for i in self.es_seed}

    def now(self):
        return time.time() + self.clock_offset_s

    def take_fault(self, action):
        with self.lock:
            for f in self.faults:
                if f["count"] > 0 and f.get("action") in (None, "", "*", action):
                    f["count"] -= 1
                    return dict(f)
        return None


# ---- signature verification (independent of the C signer) -----------------------------------

def iso_to_unix(text):
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise ApiError(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.")


def check_time(state, when):
    if abs(state.now() - when) > TIME_WINDOW_S:
        raise ApiError(400, "InvalidTimeStamp.Expired",
                       "Specified time stamp or date value is expired.")


def check_nonce(state, nonce):
    if not nonce:
        raise ApiError(400, "MissingSignatureNonce", "SignatureNonce is mandatory.")
    with state.lock:
        if nonce in state.nonces:
            raise ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        state.nonces.add(nonce)


def lookup_key(state, key_id):
    with state.lock:
        found = state.keys.get(key_id)
    if found is None:
        raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    return found


def check_token(required, presented):
    if required is not None and presented != required:
        raise ApiError(400, "InvalidSecurityToken.Mismatch",
                       "Specified SecurityToken is not valid for this AccessKeyId.")


def bad_signature(string_to_sign):
    # The real gateway echoes its string-to-sign; so do we (it never contains the secret).
    raise ApiError(400, "SignatureDoesNotMatch",
                   "Specified signature is not matched with our calculation. server string to "
                   "sign is:" + string_to_sign)


def verify_v3(state, req):
    m = re.fullmatch(r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),"
                     r"Signature=([0-9a-f]{64})", req["authorization"])
    if m is None:
        raise ApiError(400, "IncompleteSignature", "The Authorization header is malformed.")
    key_id, signed, signature = m.groups()
    secret, token = lookup_key(state, key_id)
    names = signed.split(";")
    h = req["headers"]
    if names != sorted(names) or any(n != n.lower() for n in names):
        raise ApiError(400, "IncompleteSignature", "SignedHeaders must be lower-case and sorted.")
    for need in ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                 "x-acs-content-sha256"):
        if need not in names:
            raise ApiError(400, "IncompleteSignature", "Header %s must be signed." % need)
    for name in h:
        if (name.startswith("x-acs-") or name == "content-type") and name not in names:
            raise ApiError(400, "IncompleteSignature", "Header %s is not signed." % name)
    if h["x-acs-content-sha256"] != hashlib.sha256(req["body"]).hexdigest():
        raise ApiError(400, "InvalidParameter.ContentSHA256", "x-acs-content-sha256 mismatch.")
    path = "/".join(pct(urllib.parse.unquote(s)) for s in req["path"].split("/")) or "/"
    query = "&".join("%s=%s" % kv for kv in sorted((pct(k), pct(v)) for k, v in req["query"]))
    canonical_headers = "".join("%s:%s\n" % (n, h.get(n, "").strip()) for n in names)
    canonical = "\n".join([req["method"], path, query, canonical_headers, signed,
                           h["x-acs-content-sha256"]])
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expect = hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expect, signature):
        bad_signature(sts)
    check_time(state, iso_to_unix(h["x-acs-date"]))
    check_nonce(state, h["x-acs-signature-nonce"])
    check_token(token, h.get("x-acs-security-token"))
    return key_id


def verify_v2_rpc(state, req, params):
    given = dict(params)
    signature = given.pop("Signature", None)
    if signature is None:
        raise ApiError(400, "MissingSignature", "Signature is mandatory.")
    if given.get("SignatureMethod") != "HMAC-SHA1" or given.get("SignatureVersion") != "1.0":
        raise ApiError(400, "InvalidSignatureMethod", "HMAC-SHA1 / 1.0 expected.")
    secret, token = lookup_key(state, given.get("AccessKeyId", ""))
    canonical = "&".join("%s=%s" % kv for kv in sorted((pct(k), pct(v)) for k, v in given.items()))
    sts = req["method"] + "&" + pct("/") + "&" + pct(canonical)
    expect = base64.b64encode(hmac.new((secret + "&").encode(), sts.encode(),
                                       hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expect, signature):
        bad_signature(sts)
    check_time(state, iso_to_unix(given.get("Timestamp", "")))
    check_nonce(state, given.get("SignatureNonce"))
    check_token(token, given.get("SecurityToken"))
    return given["AccessKeyId"]


def verify_v2_roa(state, req):
    m = re.fullmatch(r"acs ([^:]+):(.+)", req["authorization"])
    if m is None:
        raise ApiError(400, "IncompleteSignature", "The Authorization header is malformed.")
    key_id, signature = m.groups()
    secret, token = lookup_key(state, key_id)
    h = req["headers"]
    if req["body"]:
        md5 = base64.b64encode(hashlib.md5(req["body"]).digest()).decode()
        if h.get("content-md5") != md5:
            raise ApiError(400, "InvalidContentMD5", "Content-MD5 does not match the body.")
    acs = "".join("%s:%s\n" % (n, h[n].strip()) for n in sorted(h) if n.startswith("x-acs-"))
    resource = req["path"]
    if req["query"]:
        resource += "?" + "&".join(k if v == "" else "%s=%s" % (k, v)
                                   for k, v in sorted(req["query"]))
    sts = "\n".join([req["method"], h.get("accept", ""), h.get("content-md5", ""),
                     h.get("content-type", ""), h.get("date", "")]) + "\n" + acs + resource
    expect = base64.b64encode(hmac.new(secret.encode(), sts.encode(),
                                       hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expect, signature):
        bad_signature(sts.replace("\n", "#"))
    check_time(state, email.utils.parsedate_to_datetime(h.get("date", "")).timestamp())
    check_nonce(state, h.get("x-acs-signature-nonce"))
    check_token(token, h.get("x-acs-security-token"))
    if token is not None and h.get("x-acs-accesskey-id") != key_id:
        raise ApiError(400, "IncompleteSignature", "x-acs-accesskey-id must name the STS key.")
    return key_id


# ---- actions ----------------------------------------------------------------------------------

def idempotent(state, product, action, params, create):
    """ClientToken semantics: same token + same parameters -> the first answer again."""
    token = params.get("ClientToken")
    if not token:
        return create()
    fingerprint = json.dumps(sorted((k, v) for k, v in params.items() if k != "ClientToken"))
    key = (product, action, token)
    with state.lock:
        seen = state.tokens.get(key)
    if seen is not None:
        if seen[0] != fingerprint:
            raise ApiError(400, "IdempotentParameterMismatch",
                           "The request uses the same client token as a previous, but "
                           "non-identical request.")
        return dict(seen[1])
    answer = create()
    with state.lock:
        state.tokens[key] = (fingerprint, answer)
    return dict(answer)


def need(params, name):
    v = params.get(name)
    if not v:
        raise ApiError(400, "MissingParameter", "The input parameter \"%s\" that is mandatory "
                       "for processing this request is not supplied." % name)
    return v


def slb_action(state, action, params):
    if action == "CreateLoadBalancer":
        need(params, "RegionId")

        def create():
            lb = {"LoadBalancerId": rand_id("lb-"), "LoadBalancerName":
                  params.get("LoadBalancerName", "auto_named_slb"),
                  "LoadBalancerStatus": "active", "Address": "10.0.%d.%d" % (
                      random.randint(0, 255), random.randint(1, 254)),
                  "AddressType": params.get("AddressType", "intranet"),
                  "VSwitchId": params.get("VSwitchId", ""), "VpcId": params.get("VpcId", ""),
                  "RegionId": params["RegionId"], "NetworkType": "vpc"}
            with state.lock:
                state.load_balancers[lb["LoadBalancerId"]] = lb
            return {k: lb[k] for k in ("LoadBalancerId", "LoadBalancerName", "Address", "VpcId",
                                       "VSwitchId", "NetworkType")}
        return idempotent(state, "slb", action, params, create)
    if action == "DescribeLoadBalancers":
        need(params, "RegionId")
        with state.lock:
            lbs = [{k: v for k, v in lb.items() if not k.startswith("_")}
                   for lb in state.load_balancers.values()
                   if params.get("LoadBalancerId") in (None, lb["LoadBalancerId"])
                   and params.get("LoadBalancerName") in (None, lb["LoadBalancerName"])]
        return {"LoadBalancers": {"LoadBalancer": lbs}, "TotalCount": len(lbs), "PageNumber": 1,
                "PageSize": 10}
    if action == "DescribeLoadBalancerAttribute":
        lb_id = need(params, "LoadBalancerId")
        with state.lock:
            lb = state.load_balancers.get(lb_id)
            if lb is None:
                raise ApiError(404, "InvalidLoadBalancerId.NotFound",
                               "The specified LoadBalancerId does not exist.")
            answer = {k: v for k, v in lb.items() if not k.startswith("_")}
            answer["ListenerPortsAndProtocol"] = {"ListenerPortAndProtocol": [
                {"ListenerPort": p, "ListenerProtocol": "tcp"} for p in lb.get("_listeners", [])]}
            answer["ListenerPorts"] = {"ListenerPort": list(lb.get("_listeners", []))}
            answer["BackendServers"] = {"BackendServer": [
                {"ServerId": i, "Weight": 100, "Type": "ecs"} for i in lb.get("_backends", [])]}
        return answer
    if action == "DeleteLoadBalancer":
        lb_id = need(params, "LoadBalancerId")
        with state.lock:
            if state.load_balancers.pop(lb_id, None) is None:
                raise ApiError(404, "InvalidLoadBalancerId.NotFound",
                               "The specified LoadBalancerId does not exist.")
        return {}
    raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found.")


def flat_list(params, name):
    """Name.1, Name.2, ... -> [values], or None when the filter is absent."""
    found = [(int(k[len(name) + 1:]), v) for k, v in params.items()
             if k.startswith(name + ".") and k[len(name) + 1:].isdigit()]
    return [v for _, v in sorted(found)] if found else None


def filtered(items, params, filters):
    out = []
    for item in items:
        keep = True
        for param, field in filters:
            wanted = flat_list(params, param)
            if wanted is not None and item.get(field) not in wanted:
                keep = False
        if keep:
            out.append(dict(item))
    return out


def nlb_action(state, action, params):
    tables = {"ListLoadBalancers": ("LoadBalancers", "nlbs",
                                    [("LoadBalancerIds", "LoadBalancerId"),
                                     ("LoadBalancerNames", "LoadBalancerName")]),
              "ListServerGroups": ("ServerGroups", "server_groups",
                                   [("ServerGroupIds", "ServerGroupId"),
                                    ("ServerGroupNames", "ServerGroupName")]),
              "ListListeners": ("Listeners", "nlb_listeners",
                                [("LoadBalancerIds", "LoadBalancerId"),
                                 ("ListenerIds", "ListenerId")])}
    if action in tables:
        key, attr, filters = tables[action]
        with state.lock:
            items = filtered(getattr(state, attr).values(), params, filters)
        return {key: items, "TotalCount": len(items), "MaxResults": 100, "NextToken": ""}
    raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found.")


def privatelink_action(state, action, params):
    if action == "CreateVpcEndpointService":
        region = need(params, "RegionId")

        def create():
            sid = rand_id("epsrv-")
            svc = {"ServiceId": sid, "ServiceName": "com.aliyuncs.privatelink.%s.%s" % (region,
                                                                                      sid),
                   "ServiceDomain": "%s.%s.privatelink.aliyuncs.com" % (sid, region),
                   "ServiceStatus": "Active", "ServiceResourceType":
                   params.get("ServiceResourceType", "slb"),
                   "AutoAcceptEnabled": params.get("AutoAcceptEnabled", "false") == "true",
                   "_resources": [v for k, v in params.items()
                                  if re.fullmatch(r"Resource\.\d+\.ResourceId", k)]}
            with state.lock:
                state.endpoint_services[sid] = svc
            return {k: svc[k] for k in ("ServiceId", "ServiceName", "ServiceDomain",
                                        "ServiceStatus")}
        return idempotent(state, "privatelink", action, params, create)
    if action == "ListVpcEndpointServices":
        need(params, "RegionId")
        with state.lock:
            services = [{k: v for k, v in s.items() if not k.startswith("_")}
                        for s in state.endpoint_services.values()
                        if params.get("ResourceId") in [None] + s.get("_resources", [])]
        return {"Services": services, "MaxResults": 50, "NextToken": ""}
    if action == "ListVpcEndpointConnections":
        need(params, "RegionId")
        sid = need(params, "ServiceId")
        with state.lock:
            if sid not in state.endpoint_services:
                raise ApiError(404, "EndpointServiceNotFound",
                               "The specified endpoint service is not found.")
            conns = [{"EndpointId": ep["endpointId"], "ConnectionStatus": ep["connectionStatus"],
                      "EndpointOwnerId": "1234567890123456", "Bandwidth": 3072,
                      "ServiceId": sid}
                     for inst in state.es.values() for ep in inst["endpoints"]
                     if ep["serviceId"] == sid]
        return {"Connections": conns, "MaxResults": 50, "NextToken": ""}
    raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found.")


def es_action(state, method, path, query, body):
    m = re.fullmatch(r"/openapi/instances/([^/]+)(/vpc-endpoints)?", path)
    if m is None:
        raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found.")
    iid = urllib.parse.unquote(m.group(1))
    with state.lock:
        inst = state.es.get(iid)
        if inst is None:
            raise ApiError(404, "InstanceNotFound",
                           "The specified instance does not exist. Check the instanceId please.")
        if m.group(2) is None and method == "GET":
            return "DescribeInstance", {"Result": {k: v for k, v in inst.items()
                                                   if k != "endpoints"}}
        if m.group(2) is not None and method == "GET":
            return "ListVpcEndpoints", {"Result": list(inst["endpoints"])}
    if m.group(2) is not None and method == "POST":
        doc = json.loads(body or b"{}")

        def create():
            ep = {"endpointId": rand_id("ep-"), "serviceId": doc.get("serviceId", ""),
                  "connectionStatus": "Pending"}
            ep["endpointDomain"] = "%s.%s.privatelink.aliyuncs.com" % (ep["endpointId"],
                                                                       ep["serviceId"])
            with state.lock:
                inst["endpoints"].append(ep)
            return {"Result": dict(ep)}
        params = dict(query)
        params["body"] = json.dumps(doc, sort_keys=True)
        return "CreateVpcEndpoint", idempotent(state, "elasticsearch", "CreateVpcEndpoint",
                                               params, create)
    raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found.")


def seed(state, spec):
    """Builds a private path (or its first hops) straight into the state: see the docstring."""
    stage = spec.get("stage", "all")
    region = spec.get("region", "cn-hangzhou")
    name = spec.get("name", "plrelay")
    vpc = spec.get("vpc_id", "vpc-emulator")
    made = {}
    with state.lock:
        if spec.get("topology", "clb-ecs") == "clb-ecs":
            lb_id = rand_id("lb-")
            state.load_balancers[lb_id] = {
                "LoadBalancerId": lb_id, "LoadBalancerName": name, "LoadBalancerStatus": "active",
                "Address": "10.0.1.%d" % random.randint(1, 254), "AddressType": "intranet",
                "VSwitchId": spec.get("vswitch_id", "vsw-emulator"), "VpcId": vpc,
                "RegionId": region, "NetworkType": "vpc",
                "_listeners": list(spec.get("listener_ports", [])),
                "_backends": list(spec.get("ecs", []))}
            rtype = "slb"
        else:
            lb_id = rand_id("nlb-")
            zones = spec.get("zones", ["%s-i" % region, "%s-j" % region])
            state.nlbs[lb_id] = {
                "LoadBalancerId": lb_id, "LoadBalancerName": name, "LoadBalancerStatus": "Active",
                "AddressType": "Intranet", "VpcId": vpc,
                "DNSName": "%s.%s.nlb.aliyuncsslb.com" % (lb_id, region),
                "ZoneMappings": [{"ZoneId": z, "VSwitchId": rand_id("vsw-")} for z in zones]}
            sg_id = rand_id("sgp-")
            state.server_groups[sg_id] = {
                "ServerGroupId": sg_id, "ServerGroupName": name, "ServerGroupStatus": "Available",
                "ServerGroupType": "Ip", "Protocol": "TCP", "VpcId": vpc, "ServerCount": 1,
                "RelatedLoadBalancerIds": [lb_id]}
            port = int(spec.get("listener_port", 9200))
            lsn = "%s@%d" % (rand_id("lsn-"), port)
            state.nlb_listeners[lsn] = {
                "ListenerId": lsn, "LoadBalancerId": lb_id, "ListenerPort": port,
                "ListenerProtocol": "TCP", "ListenerStatus": "Running", "ServerGroupId": sg_id}
            rtype = "nlb"
        made["lb_id"] = lb_id
        if stage == "lb":
            return made
        sid = rand_id("epsrv-")
        state.endpoint_services[sid] = {
            "ServiceId": sid, "ServiceName": "com.aliyuncs.privatelink.%s.%s" % (region, sid),
            "ServiceDomain": "%s.%s.privatelink.aliyuncs.com" % (sid, region),
            "ServiceStatus": "Active", "ServiceResourceType": rtype,
            "ServiceDescription": "plrelay private path",
            "AutoAcceptEnabled": bool(spec.get("auto_accept", False)), "_resources": [lb_id]}
        made["service_id"] = sid
        if stage == "service":
            return made
        inst = state.es.get(spec.get("es_instance", ""))
        if inst is None:
            raise ApiError(400, "EmulatorError", "seed: unknown es_instance")
        ep_id = rand_id("ep-")
        domain = "%s.%s.%s.privatelink.aliyuncs.com" % (ep_id, sid, region)
        inst["endpoints"].append({"endpointId": ep_id, "serviceId": sid,
                                  "endpointDomain": domain, "endpointStatus": "Active",
                                  "connectionStatus": spec.get("connection_status", "Connected")})
        made.update({"endpoint_id": ep_id, "endpoint_domain": domain})
        if spec.get("whitelist"):
            inst["esConfig"]["reindex.remote.whitelist"] = "%s:%d" % (
                domain, int(spec.get("listener_port", 9200)))
    return made


# ---- HTTP -------------------------------------------------------------------------------------

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
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        body = self.read_body()
        path, _, rawq = self.path.partition("?")
        if path.startswith("/_emulator/"):
            return self.admin(method, path, body)
        if path.startswith("/latest/"):
            return self.imds(method, path)
        return self.api(method, path, rawq, body)

    # ---- admin ----
    def admin(self, method, path, body):
        st = self.state
        if method == "POST" and path == "/_emulator/fault":
            f = json.loads(body or b"{}")
            f.setdefault("count", 1)
            with st.lock:
                st.faults.append(f)
            return self.reply(200, {"ok": True})
        if method == "POST" and path == "/_emulator/clock":
            st.clock_offset_s = int(json.loads(body or b"{}").get("offset_s", 0))
            return self.reply(200, {"ok": True})
        if method == "POST" and path == "/_emulator/reset":
            with st.lock:
                st.reset()
            return self.reply(200, {"ok": True})
        if method == "POST" and path == "/_emulator/seed":
            try:
                return self.reply(200, seed(st, json.loads(body or b"{}")))
            except ApiError as e:
                return self.reply(400, {"error": e.message})
        if method == "GET" and path == "/_emulator/requests":
            with st.lock:
                return self.reply(200, list(st.requests))
        if method == "GET" and path == "/_emulator/imds":
            with st.lock:
                return self.reply(200, list(st.imds))
        return self.reply(404, {"error": "no such admin endpoint"})

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
    def api(self, method, path, rawq, body):
        st = self.state
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = {"method": method, "path": path, "query": parse_pairs(rawq), "headers": headers,
               "body": body, "authorization": headers.get("authorization", "")}
        rec = {"method": method, "path": path, "signature_ok": False, "fault": None}
        request_id = str(uuid.uuid4()).upper()
        roa = path.startswith("/openapi/")
        try:
            params = dict(req["query"])
            form = headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
            if form:
                params.update(parse_pairs(body.decode()))
            if req["authorization"].startswith("ACS3-HMAC-SHA256"):
                style, version, action = "v3", headers.get("x-acs-version"), \
                    headers.get("x-acs-action")
            elif req["authorization"].startswith("acs "):
                style, version, action = "v2-roa", headers.get("x-acs-version"), \
                    headers.get("x-acs-action")
            else:
                style, version, action = "v2-rpc", params.get("Version"), params.get("Action")
            product = VERSIONS.get(version or "")
            rec.update({"style": style, "product": product, "action": action,
                        "params": {k: v for k, v in params.items()
                                   if k not in ("Signature", "SecurityToken")},
                        "client_token": params.get("ClientToken") or params.get("clientToken")})
            if product is None:
                raise ApiError(400, "InvalidVersion", "Specified parameter Version is not valid.")
            if style == "v3":
                verify_v3(st, req)
            elif style == "v2-roa":
                verify_v2_roa(st, req)
            else:
                verify_v2_rpc(st, req, params)
            rec["signature_ok"] = True
            if style == "v2-rpc":  # the signer's own parameters are not the action's
                for k in ("Action", "Version", "AccessKeyId", "SignatureMethod",
                          "SignatureVersion", "SignatureNonce", "Timestamp", "Format",
                          "Signature", "SecurityToken"):
                    params.pop(k, None)
            fault = st.take_fault(action)
            if fault is not None:
                rec["fault"] = fault["kind"]
                if self.inject(fault, request_id, rec):
                    return
            if product == "elasticsearch":
                if not roa:
                    raise ApiError(400, "InvalidAction.NotFound", "Elasticsearch is ROA.")
                action2, answer = es_action(st, method, path, req["query"], body)
                rec["action"] = action or action2
            elif roa:
                raise ApiError(400, "InvalidAction.NotFound", "RPC products take Action.")
            elif product == "slb":
                answer = slb_action(st, action, params)
            elif product == "nlb":
                answer = nlb_action(st, action, params)
            else:
                answer = privatelink_action(st, action, params)
            answer = dict(answer)
            answer["RequestId"] = request_id
            rec["status"] = 200
            self.record(rec)
            self.reply(200, answer, extra={"x-acs-request-id": request_id})
        except ApiError as e:
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
        errors = {"throttle": (400, "Throttling.User",
                               "Request was denied due to user flow control."),
                  "throttle503": (503, "ServiceUnavailable",
                                  "The request has failed due to a temporary failure of the "
                                  "server."),
                  "busy": (400, "SystemBusy", "System is busy, please try again later."),
                  "5xx": (500, "InternalError", "The request processing has failed due to some "
                          "unknown error."),
                  "badsig": (400, "SignatureDoesNotMatch",
                             "Specified signature is not matched with our calculation.")}
        if kind in errors:
            status, code, message = errors[kind]
            raise ApiError(fault.get("status", status), code, message)
        if kind == "slow":
            time.sleep(fault.get("delay_ms", 3000) / 1000.0)
            return False
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-key-id", default="testid")
    ap.add_argument("--access-key-secret", default="testsecret")
    ap.add_argument("--security-token", default=None,
                    help="require this STS token with --access-key-id")
    ap.add_argument("--es-instance", action="append", default=[])
    ap.add_argument("--fault", action="append", default=[],
                    help="KIND[:COUNT[:ACTION]] injected from the start")
    args = ap.parse_args(argv)

    state = State({args.access_key_id: (args.access_key_secret, args.security_token)},
                  args.es_instance)
    for spec in args.fault:
        kind, _, rest = spec.partition(":")
        count, _, action = rest.partition(":")
        state.faults.append({"kind": kind, "count": int(count or 1), "action": action or None})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = state
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
