"""esrest — the two plain-HTTP Elasticsearch "clusters" the verify step talks to.

Each listens on its own 127.0.0.1 port (printed in the start line as es_rest_port and
remote_rest_port) and wants HTTP Basic auth as user `elastic` with its password (--es-password
for local, --remote-password for remote); anything else is 401 security_exception.

Both clusters:
  GET|POST /{index}/_count    {"count": N, "_shards": {...}}
  GET|POST /{index}/_search   every document of the index (hits.hits[]._id/_source)
  POST     /{index}/_refresh  {"_shards": {...}}
  DELETE   /{index}           {"acknowledged": true}
  GET      /                  the usual banner (cluster_name, version.number)
  an unknown index: 404 index_not_found_exception
Local cluster only (it plays the first --es-instance):
  POST /_reindex?wait_for_completion=true[&refresh=true] with source.remote {host, username,
  password}, source.index, dest.index. It checks, in order: host of the form
  http://H:P (else 400 illegal_argument_exception), "H:P" matched by the instance's live
  reindex.remote.whitelist (else 400 "[H:P] not whitelisted in reindex.remote.whitelist"), then
  walks the private path: H is the endpointDomain of an endpoint of the instance that is
  Connected -> its endpoint service is Active and has an NLB resource -> that NLB is Active and
  has a Running listener on P -> the listener's server group holds an Available server IP:PORT.
  A broken hop is 500 connect_exception whose reason names the hop. Then it really fetches
  http://IP:PORT/{source.index}/_search with the given username/password: a refused connection is
  500 connect_exception; an HTTP error from the remote (401 bad password, 404 no index) comes back
  with the remote's status as a status_exception whose reason says "status N" and carries the
  remote's body. Success: {"took", "timed_out": false, "total", "created", "updated",
  "failures": []}, the documents copied (same _id) into dest.index.

Choices where the contract is silent:
  - Only loopback servers (127.0.0.0/8) are fetched; any other IP is a broken hop ("the emulator
    only reaches loopback"), so a test never sends traffic off the machine.
  - https:// hosts are a broken hop (the remote cluster speaks plain HTTP).
  - The whitelist accepts `*` wildcards (as Elasticsearch does) and a JSON list as well as a comma
    string. It is the esConfig the instance had when it last became active, so a reindex right
    after UpdateInstanceSettings fails with "not whitelisted" until the restart is over.
  - A reindex without source.remote copies inside the local cluster. source.index may be a list.
    wait_for_completion=false is 400 illegal_argument_exception (not emulated); refresh is
    accepted and ignored (documents are visible at once).
  - Error bodies also carry `root_cause` (as Elasticsearch's do); the 401 also sends
    WWW-Authenticate. Unknown routes are 400 "no handler found for uri [..] and method [..]".
  - Documents made by POST /_emulator/es_docs are {"n": i, "message": "document i"} with _id
    "doc-i"; creating N more continues the numbering.
"""

import base64
import ipaddress
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .core import write_reply

SHARDS = {"total": 1, "successful": 1, "skipped": 0, "failed": 0}
FETCH_TIMEOUT_S = 10


class EsError(Exception):
    def __init__(self, status, etype, reason, extra=None):
        super().__init__(reason)
        self.status = status
        self.body = {"error": dict({"root_cause": [{"type": etype, "reason": reason}],
                                    "type": etype, "reason": reason}, **(extra or {})),
                     "status": status}


def index_missing(index):
    return EsError(404, "index_not_found_exception", "no such index [%s]" % index,
                   {"index": index, "resource.type": "index_or_alias", "resource.id": index,
                    "index_uuid": "_na_"})


def hop_broken(reason):
    return EsError(500, "connect_exception", "Connection refused (%s)" % reason)


def add_docs(state, cluster, index, count):
    """POST /_emulator/es_docs: count more documents in cluster/index; -> the new total."""
    with state.lock:
        docs = state.docs[cluster].setdefault(index, {})
        start = len(docs)
        for i in range(start + 1, start + count + 1):
            docs["doc-%d" % i] = {"n": i, "message": "document %d" % i}
        return len(docs)


def whitelist_entries(config):
    value = config.get("reindex.remote.whitelist", "")
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(i).strip() for i in items if str(i).strip()]


def whitelisted(entries, hostport):
    for e in entries:
        pattern = "".join(".*" if c == "*" else re.escape(c) for c in e)
        if re.fullmatch(pattern, hostport, re.IGNORECASE):
            return True
    return False


def resolve_path(state, inst, host, port):
    """Walks endpoint -> service -> NLB -> listener -> server; -> (ip, port, label)."""
    eps = [e for e in state.endpoints.values() if e["_instance"] == inst["instanceId"]
           and e["endpointDomain"].lower() == host.lower()]
    if not eps:
        raise hop_broken("[%s] is not the endpointDomain of a private connection of %s"
                         % (host, inst["instanceId"]))
    ep = eps[0]
    if ep["connectionStatus"] != "Connected":
        raise hop_broken("private connection %s is %s, not Connected" % (ep["endpointId"],
                                                                          ep["connectionStatus"]))
    svc = state.services.get(ep["serviceId"])
    if svc is None or svc["ServiceStatus"] != "Active":
        raise hop_broken("endpoint service %s is %s" % (
            ep["serviceId"], svc["ServiceStatus"] if svc else "gone"))
    nlbs = [state.nlb[r["ResourceId"]] for r in svc["_resources"]
            if r["ResourceType"] == "nlb" and r["ResourceId"] in state.nlb]
    if not nlbs:
        raise hop_broken("endpoint service %s has no NLB resource the emulator can follow"
                         % svc["ServiceId"])
    lb = nlbs[0]
    if lb["LoadBalancerStatus"] != "Active":
        raise hop_broken("NLB %s is %s" % (lb["LoadBalancerId"], lb["LoadBalancerStatus"]))
    lsns = [x for x in state.nlb_listeners.values()
            if x["LoadBalancerId"] == lb["LoadBalancerId"] and x["ListenerPort"] == port]
    if not lsns or lsns[0]["ListenerStatus"] != "Running":
        raise hop_broken("NLB %s has no Running listener on port %d%s" % (
            lb["LoadBalancerId"], port, " (it is %s)" % lsns[0]["ListenerStatus"] if lsns else ""))
    sg_id = lsns[0]["ServerGroupId"]
    servers = [s for s in state.servers.values()
               if s["ServerGroupId"] == sg_id and s["Status"] == "Available"]
    if sg_id not in state.server_groups or not servers:
        raise hop_broken("server group %s of listener %s has no Available server"
                         % (sg_id, lsns[0]["ListenerId"]))
    ip, sport = servers[0]["ServerIp"], servers[0]["Port"]
    try:
        loopback = ipaddress.ip_address(ip).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise hop_broken("server %s:%d of %s: the emulator only reaches loopback addresses"
                         % (ip, sport, sg_id))
    return ip, sport, "server %s:%d of server group %s" % (ip, sport, sg_id)


def fetch_remote(ip, port, index, user, password, label):
    url = "http://%s:%d/%s/_search" % (ip, port, urllib.parse.quote(index, safe=""))
    req = urllib.request.Request(url, data=b"{}", method="POST", headers={
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (user, password)).encode()).decode()})
    try:
        with urllib.request.urlopen(req, timeout=FETCH_TIMEOUT_S) as r:
            doc = json.loads(r.read())
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        raise EsError(e.code, "status_exception", "status %d from %s: body=%s"
                      % (e.code, label, text))
    except (urllib.error.URLError, OSError) as e:
        raise hop_broken("%s: %s" % (label, getattr(e, "reason", e)))
    return [(h["_id"], h["_source"]) for h in doc["hits"]["hits"]]


def reindex(state, query, doc):
    t0 = time.monotonic()
    if query.get("wait_for_completion", "true") != "true":
        raise EsError(400, "illegal_argument_exception",
                      "the emulator only runs _reindex with wait_for_completion=true")
    source, dest = doc.get("source") or {}, (doc.get("dest") or {}).get("index")
    indices = source.get("index")
    indices = indices if isinstance(indices, list) else [indices]
    if not dest or not all(isinstance(i, str) and i for i in indices):
        raise EsError(400, "action_request_validation_exception",
                      "Validation Failed: 1: use _reindex with source.index and dest.index;")
    remote = source.get("remote")
    fetched = []
    if remote is None:
        with state.lock:
            for i in indices:
                if i not in state.docs["local"]:
                    raise index_missing(i)
                fetched += list(state.docs["local"][i].items())
    else:
        host = str(remote.get("host", ""))
        m = re.fullmatch(r"([a-z]+)://([^:/]+):(\d+)(/.*)?", host)
        if m is None:
            raise EsError(400, "illegal_argument_exception", "[host] must be of the form "
                          "[scheme]://[host]:[port](/[pathPrefix])? but was [%s]" % host)
        scheme, h, p = m.group(1), m.group(2), int(m.group(3))
        with state.lock:
            state.settle()
            inst = state.local_instance()
            live = inst["_live_config"] if inst else {}
            if not whitelisted(whitelist_entries(live), "%s:%d" % (h, p)):
                raise EsError(400, "illegal_argument_exception",
                              "[%s:%d] not whitelisted in reindex.remote.whitelist" % (h, p))
            if scheme != "http":
                raise hop_broken("%s://: the remote cluster speaks plain HTTP" % scheme)
            ip, port, label = resolve_path(state, inst, h, p)
        for i in indices:
            fetched += fetch_remote(ip, port, i, remote.get("username", ""),
                                    remote.get("password", ""), label)
    with state.lock:
        target = state.docs["local"].setdefault(dest, {})
        created = sum(1 for k, _ in fetched if k not in target)
        target.update({k: dict(v) for k, v in fetched})
    return {"took": int((time.monotonic() - t0) * 1000), "timed_out": False,
            "total": len(fetched), "created": created, "updated": len(fetched) - created,
            "deleted": 0, "batches": 1 if fetched else 0, "version_conflicts": 0, "noops": 0,
            "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0,
            "requests_per_second": -1.0, "throttled_until_millis": 0, "failures": []}


def index_op(state, cluster, method, index, op):
    with state.lock:
        docs = state.docs[cluster].get(index)
        if docs is None:
            raise index_missing(index)
        if op == "_count" and method in ("GET", "POST"):
            return {"count": len(docs), "_shards": SHARDS}
        if op == "_search" and method in ("GET", "POST"):
            hits = [{"_index": index, "_type": "_doc", "_id": k, "_score": 1.0, "_source": v}
                    for k, v in docs.items()]
            return {"took": 1, "timed_out": False, "_shards": SHARDS,
                    "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 1.0,
                             "hits": hits}}
        if op == "_refresh" and method == "POST":
            return {"_shards": SHARDS}
        if op == "" and method == "DELETE":
            del state.docs[cluster][index]
            return {"acknowledged": True}
    return None


class EsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "emulator-es"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, payload, extra=None):
        write_reply(self, status, json.dumps(payload).encode(), "application/json; charset=UTF-8",
                    extra)

    def authenticated(self):
        want = self.server.state.passwords[self.server.cluster]
        auth = self.headers.get("Authorization", "")
        user = ""
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                user, pw = "", None
            if user == "elastic" and pw == want:
                return True
        reason = "unable to authenticate user [%s]" % (user or "elastic")
        body = {"error": {"root_cause": [{"type": "security_exception", "reason": reason}],
                          "type": "security_exception", "reason": reason}, "status": 401}
        self.reply(401, body, {"WWW-Authenticate": 'Basic realm="security" charset="UTF-8"'})
        return False

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        if not self.authenticated():
            return
        path, _, rawq = self.path.partition("?")
        query = dict(urllib.parse.parse_qsl(rawq, keep_blank_values=True))
        method, st, cluster = self.command, self.server.state, self.server.cluster
        try:
            answer = None
            if path == "/" and method == "GET":
                answer = {"name": "emulator-%s" % cluster, "cluster_name": cluster,
                          "version": {"number": "7.10.0"}, "tagline": "You Know, for Search"}
            elif path == "/_reindex" and method == "POST" and cluster == "local":
                try:
                    doc = json.loads(body or b"{}")
                except ValueError:
                    raise EsError(400, "parse_exception", "request body is not JSON")
                answer = reindex(st, query, doc if isinstance(doc, dict) else {})
            else:
                m = re.fullmatch(r"/([^/_][^/]*)(?:/(_count|_search|_refresh))?/?", path)
                if m is not None:
                    with st.lock:
                        st.settle()
                    answer = index_op(st, cluster, method, urllib.parse.unquote(m.group(1)),
                                      m.group(2) or "")
            if answer is None:
                return self.reply(400, {"error": "no handler found for uri [%s] and method [%s]"
                                        % (self.path, method), "status": 400})
            self.reply(200, answer)
        except EsError as e:
            self.reply(e.status, e.body)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


def start_cluster(state, cluster, port=0):
    """Serves one cluster on 127.0.0.1:port in a daemon thread; -> the server."""
    server = ThreadingHTTPServer(("127.0.0.1", port), EsHandler)
    server.daemon_threads = True
    server.state = state
    server.cluster = cluster
    threading.Thread(target=server.serve_forever, name="es-" + cluster, daemon=True).start()
    return server

