"""core — the emulator's shared state, errors, lazy status transitions, idempotency and faults.

Everything the HTTP handlers share lives in one State behind one re-entrant lock: every API call,
admin call and data-plane call takes the lock, first settles the transitions that are due, then
reads or changes the tables. Nothing runs in the background.

Lazy transitions. A record that changes over time carries `_due` (a time.monotonic() instant) and
`_then` (either a dict of field -> value to apply, or GONE to delete the record). stage() sets
the interim value now and the final one for later; settle() applies every due transition, oldest
first, and runs the cascades of a deletion (a deleted NLB takes its listeners, a deleted server
group its servers, a deleted endpoint service turns its ES endpoints into `ServiceDeleted`).
The monotonic clock is used on purpose: POST /_emulator/clock moves the clock the signature checks
see, not the progress of the asynchronous jobs.

Tables (dicts keyed by id, insertion-ordered, records keep their public fields as the API spells
them and private bookkeeping under `_` keys that no view shows):
  slb            lb-...                     CLB instances
  slb_listeners  "lb-...:PORT"              CLB TCP listeners
  slb_backends   "lb-...:i-..."             CLB default-group backend servers
  nlb            nlb-...                    NLB instances
  server_groups  sgp-...                    NLB server groups
  servers        "sgp-...:IP:PORT"          NLB servers
  nlb_listeners  lsn-...@PORT               NLB listeners
  jobs           uuid                       NLB asynchronous jobs (JobId)
  services       epsrv-...                  PrivateLink endpoint services
  endpoints      ep-...                     ES private connections = PrivateLink connections
  es             es-...                     ES instances (from --es-instance)
  docs           {"local"|"remote": {index: {_id: _source}}}   the two REST clusters' data
  health         {server_id: status}        POST /_emulator/health overrides
"""

import json
import random
import string
import threading
import time
import urllib.parse

VERSIONS = {
    "2014-05-15": "slb",
    "2022-04-30": "nlb",
    "2020-04-15": "privatelink",
    "2017-06-13": "elasticsearch",
}
GONE = "__gone__"
DEFAULT_ASYNC_MS = 300
TABLES = ("slb", "slb_listeners", "slb_backends", "nlb", "server_groups", "servers",
          "nlb_listeners", "jobs", "services", "endpoints", "es")
ES_VPC = "vpc-emulator"
STS_KEY_ID = "STS.emulatorRoleKey"
STS_SECRET = "emulatorRoleSecret0123456789"
STS_TOKEN = "CAISemulatorSecurityToken" + "x" * 200
IMDS_TOKEN = "emulator-imds-token-0001"
IMDS_ROLE = "plrelay-emulator-role"
OWNER_ID = "1234567890123456"
# Faults answered straight away as an API error: kind -> (HTTP status, code, message).
ERROR_FAULTS = {
    "throttle": (400, "Throttling.User", "Request was denied due to user flow control."),
    "throttle503": (503, "ServiceUnavailable",
                    "The request has failed due to a temporary failure of the server."),
    "busy": (400, "SystemBusy", "System is busy, please try again later."),
    "5xx": (500, "InternalError",
            "The request processing has failed due to some unknown error."),
    "badsig": (400, "SignatureDoesNotMatch",
               "Specified signature is not matched with our calculation."),
    "lock": (400, "Conflict.Lock", "The resource is locked by another job, please try again."),
}
# Faults only the action that knows them consumes (not the generic dispatcher).
# Faults only the named action's handler consumes ("*": any handler that asks for the kind).
ACTION_FAULTS = {"pending": "EnableVpcEndpointConnection", "jobfail": "*", "hide": "*",
                 "slowconn": "CreateVpcEndpoint"}


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


def iso_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def write_reply(handler, status, data, content_type, extra=None):
    """One whole HTTP answer on a BaseHTTPRequestHandler; a client that already gave up is fine."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for k, v in (extra or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    try:
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True  # the client gave up (timeout, late fault): fine


def dispatch(actions, state, name, params, ctx):
    """Runs one RPC action from a product's table, or answers InvalidAction.NotFound."""
    fn = actions.get(name)
    if fn is None:
        raise not_found_action()
    return fn(state, params, ctx)


def not_found_action():
    return ApiError(404, "InvalidAction.NotFound", "Specified api is not found.")


class State:
    """Everything the handlers share, behind one re-entrant lock."""

    def __init__(self, keys, es_instances, async_ms=DEFAULT_ASYNC_MS, passwords=None):
        self.lock = threading.RLock()
        self.keys = dict(keys)  # AccessKeyId -> (secret, required security token or None)
        self.keys[STS_KEY_ID] = (STS_SECRET, STS_TOKEN)
        self.es_seed = list(es_instances)
        self.async_s = max(0, async_ms) / 1000.0
        self.passwords = dict(passwords or {"local": "local-es-password",
                                            "remote": "remote-es-password"})
        self.clock_offset_s = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = []
            self.imds = []
            self.faults = []
            self.nonces = set()
            self.tokens = {}  # (product, action, token) -> (fingerprint, response)
            for t in TABLES:
                setattr(self, t, {})
            self.docs = {"local": {}, "remote": {}}
            self.health = {}
            for i in self.es_seed:
                self.es[i] = {"instanceId": i, "status": "active", "esVersion":
                              "7.10.0_with_X-Pack", "port": 9200, "protocol": "HTTP",
                              "domain": "%s.elasticsearch.aliyuncs.com" % i,
                              "networkConfig": {"vpcId": ES_VPC, "type": "vpc"},
                              "esConfig": {}, "_live_config": {}}

    def now(self):
        """The clock the signature checks use (POST /_emulator/clock moves it)."""
        return time.time() + self.clock_offset_s

    def local_instance(self):
        """The instance the local REST cluster plays: the first --es-instance."""
        return self.es.get(self.es_seed[0]) if self.es_seed else None

    def take_fault(self, action, kind=None):
        """Consumes one armed fault matching action (and kind when given)."""
        with self.lock:
            for f in self.faults:
                if f["count"] <= 0 or f.get("action") not in (None, "", "*", action):
                    continue
                only_for = ACTION_FAULTS.get(f["kind"])
                if kind is None and only_for is not None:
                    continue  # left for the action that knows it
                if kind is not None and (f["kind"] != kind or only_for not in (None, "*", action)):
                    continue
                f["count"] -= 1
                return dict(f)
        return None

    # ---- lazy transitions ----
    def stage(self, rec, now_values, then_values, after_s=None):
        """Sets now_values at once and then_values (dict, or GONE) after the async delay."""
        rec.update(now_values)
        rec["_due"] = time.monotonic() + (self.async_s if after_s is None else after_s)
        rec["_then"] = then_values

    def settle(self):
        """Applies every transition that is due, oldest first, with its cascades."""
        with self.lock:
            now = time.monotonic()
            due = [(rec["_due"], t, key) for t in TABLES for key, rec in getattr(self, t).items()
                   if rec.get("_due") is not None and rec["_due"] <= now]
            for _, t, key in sorted(due, key=lambda d: d[0]):
                table = getattr(self, t)
                rec = table.get(key)
                if rec is None or rec.get("_due") is None:
                    continue  # removed by an earlier cascade
                then = rec.pop("_then")
                rec.pop("_due")
                if then == GONE:
                    self.remove(t, key)
                else:
                    rec.update(then)

    def remove(self, table, key):
        """Deletes one record and whatever cannot outlive it."""
        rec = getattr(self, table).pop(key, None)
        if rec is None:
            return
        if table == "slb":
            for t in ("slb_listeners", "slb_backends"):
                for k in [k for k, r in getattr(self, t).items() if r["LoadBalancerId"] == key]:
                    getattr(self, t).pop(k)
        elif table == "nlb":
            for k in [k for k, r in self.nlb_listeners.items() if r["LoadBalancerId"] == key]:
                self.nlb_listeners.pop(k)
        elif table == "server_groups":
            for k in [k for k, r in self.servers.items() if r["ServerGroupId"] == key]:
                self.servers.pop(k)
        elif table == "services":
            for ep in self.endpoints.values():
                if ep["serviceId"] == key and ep["connectionStatus"] != "Deleting":
                    ep.pop("_due", None)
                    ep.pop("_then", None)
                    ep["connectionStatus"] = "ServiceDeleted"


def hidden(rec):
    """True while a `hide` fault keeps rec out of list answers; each answer it is kept out of
    uses up one of its `lists`."""
    if rec.get("_hide_lists", 0) <= 0:
        return False
    rec["_hide_lists"] -= 1
    return True


def public(rec):
    """A record as the API shows it: without the `_` bookkeeping keys."""
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def idempotent(state, product, action, params, create, token_name="ClientToken"):
    """ClientToken semantics: same token + same parameters -> the first answer again.

    The caller holds state.lock, so a token is checked and recorded atomically."""
    token = params.get(token_name)
    if not token:
        return create()
    fingerprint = json.dumps(sorted((k, v) for k, v in params.items() if k != token_name))
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
        state.tokens[key] = (fingerprint, answer)
    return dict(answer)


def need(params, name):
    v = params.get(name)
    if not v:
        raise ApiError(400, "MissingParameter", "The input parameter \"%s\" that is mandatory "
                       "for processing this request is not supplied." % name)
    return v


def need_port(params, name):
    v = need(params, name)
    if not v.isdigit() or not 1 <= int(v) <= 65535:
        raise ApiError(400, "InvalidParameter", "%s must be a port from 1 to 65535." % name)
    return int(v)


def flat_list(params, name):
    """Name.1, Name.2, ... -> [values], or None when the filter is absent."""
    found = [(int(k[len(name) + 1:]), v) for k, v in params.items()
             if k.startswith(name + ".") and k[len(name) + 1:].isdigit()]
    return [v for _, v in sorted(found)] if found else None


def flat_objects(params, name):
    """Name.N.Field=V ... -> [{Field: V}] ordered by N (gaps skipped)."""
    found = {}
    prefix = name + "."
    for k, v in params.items():
        if not k.startswith(prefix):
            continue
        n, _, field = k[len(prefix):].partition(".")
        if n.isdigit() and field:
            found.setdefault(int(n), {})[field] = v
    return [found[n] for n in sorted(found)]


def filtered(items, params, filters):
    out = []
    for item in items:
        keep = True
        for param, field in filters:
            wanted = flat_list(params, param)
            if wanted is not None and item.get(field) not in wanted:
                keep = False
        if keep:
            out.append(item)
    return out
