"""admin — the unsigned /_emulator/* endpoints the tests drive the emulator with.

  POST /_emulator/fault      {"kind", "count", "action"?, "delay_ms"?, "status"?}
  POST /_emulator/faults/clear   disarm every fault not yet consumed
  POST /_emulator/clock      {"offset_s": N}
  POST /_emulator/reset      forget requests, faults, resources, documents and health overrides
  POST /_emulator/seed       build (part of) a private path in its final state (see seed())
  POST /_emulator/health     {"server_id": "i-..", "status": "abnormal"} overrides
                             DescribeHealthStatus for that CLB backend on every listener;
                             "normal" clears the override
  POST /_emulator/es_docs    {"cluster": "remote"|"local", "index": I, "count": N} adds N
                             documents; answers {"cluster", "index", "count": total}
  GET  /_emulator/resources  ids of everything alive (see resources())
  GET  /_emulator/requests   every API request seen
  GET  /_emulator/imds       metadata-service requests seen

Choices where the contract is silent: resources() lists composite ids for the records that have
no id of their own ("lb-..:PORT" listeners, "lb-..:i-.." backends, "sgp-..:IP:PORT" servers),
counts records in transitional states (Deleting, Removing, ...) as alive until they are gone,
and adds "counts" (name -> number) and "jobs_processing"; "whitelist" is the esConfig value of
the first --es-instance ("" when unset). The seed's nlb-ip server is target_ip:target_port
(defaults 192.168.10.20 and listener_port).
"""

import json

from .core import ApiError, rand_id
from . import es, esrest, nlb, privatelink, slb

RESOURCE_TABLES = ("slb", "slb_listeners", "slb_backends", "nlb", "server_groups", "servers",
                   "nlb_listeners", "services", "endpoints")


def resources(state):
    with state.lock:
        state.settle()
        out = {t: list(getattr(state, t)) for t in RESOURCE_TABLES}
        inst = state.local_instance()
        out["whitelist"] = (inst["esConfig"].get("reindex.remote.whitelist", "")
                            if inst else "")
        out["counts"] = {t: len(out[t]) for t in RESOURCE_TABLES}
        out["jobs_processing"] = [j["Id"] for j in state.jobs.values()
                                  if j["Status"] == "Processing"]
    return out


def seed_clb(state, spec, name, region, vpc):
    lb = slb.new_lb(state, {"LoadBalancerName": name, "RegionId": region, "VpcId": vpc,
                            "VSwitchId": spec.get("vswitch_id", "vsw-emulator")},
                    status="active")
    for port in spec.get("listener_ports", []):
        slb.new_listener(state, lb["LoadBalancerId"], int(port), int(port), {},
                         status="running")
    for server_id in spec.get("ecs", []):
        slb.new_backend(state, lb["LoadBalancerId"], server_id)
    return lb["LoadBalancerId"], [{"ResourceType": "slb", "ResourceId": lb["LoadBalancerId"],
                                   "ZoneId": ""}]


def seed_nlb(state, spec, name, region, vpc):
    zones = spec.get("zones", ["%s-i" % region, "%s-j" % region])
    lb = nlb.new_nlb(state, {"LoadBalancerName": name, "RegionId": region, "VpcId": vpc},
                     [{"ZoneId": z, "VSwitchId": rand_id("vsw-")} for z in zones],
                     status="Active")
    lb_id = lb["LoadBalancerId"]
    sg = nlb.new_group(state, {"ServerGroupName": name, "ServerGroupType": "Ip", "VpcId": vpc,
                               "RegionId": region}, status="Available")
    port = int(spec.get("listener_port", 9200))
    ip = spec.get("target_ip", "192.168.10.20")
    nlb.new_server(state, sg["ServerGroupId"], {"ServerId": ip, "ServerIp": ip, "Port":
                                                int(spec.get("target_port", port))},
                   status="Available")
    nlb.new_listener(state, lb_id, port, sg["ServerGroupId"], {"RegionId": region},
                     status="Running")
    return lb_id, [{"ResourceType": "nlb", "ResourceId": lb_id, "ZoneId": z} for z in zones]


def seed(state, spec):
    """Builds a private path (or its first hops) straight into the state, in final states:
    {"topology": "clb-ecs"|"nlb-ip", "name", "region", "vpc_id",
     "listener_ports": [..], "ecs": [..], "vswitch_id"            (clb-ecs)
     "zones": [..], "target_ip", "target_port", "listener_port"   (nlb-ip)
     "es_instance", "connection_status": "Connected", "whitelist": bool, "auto_accept": bool,
     "stage": "lb"|"service"|"endpoint"|"all"}  -> {"lb_id", "service_id", "endpoint_id",
     "endpoint_domain"} (those it made)."""
    stage = spec.get("stage", "all")
    region = spec.get("region", "cn-hangzhou")
    name = spec.get("name", "plrelay")
    vpc = spec.get("vpc_id", "vpc-emulator")
    made = {}
    with state.lock:
        state.settle()
        topology = spec.get("topology", "clb-ecs")
        build = seed_clb if topology == "clb-ecs" else seed_nlb
        lb_id, res = build(state, spec, name, region, vpc)
        made["lb_id"] = lb_id
        if stage == "lb":
            return made
        svc = privatelink.new_service(state, {
            "RegionId": region, "ServiceResourceType": "slb" if topology == "clb-ecs" else "nlb",
            "ServiceDescription": "plrelay private path",
            "AutoAcceptEnabled": "true" if spec.get("auto_accept") else "false"}, res,
            status="Active")
        made["service_id"] = svc["ServiceId"]
        if stage == "service":
            return made
        inst = state.es.get(spec.get("es_instance", ""))
        if inst is None:
            raise ApiError(400, "EmulatorError", "seed: unknown es_instance")
        ep = es.new_endpoint(state, inst["instanceId"], svc["ServiceId"],
                             res[0]["ZoneId"], region,
                             status=spec.get("connection_status", "Connected"))
        made.update({"endpoint_id": ep["endpointId"], "endpoint_domain": ep["endpointDomain"]})
        if spec.get("whitelist"):
            inst["esConfig"]["reindex.remote.whitelist"] = "%s:%d" % (
                ep["endpointDomain"], int(spec.get("listener_port", 9200)))
            inst["_live_config"] = dict(inst["esConfig"])
    return made


def handle(state, method, path, body):
    """-> (HTTP status, JSON payload) for one admin request."""
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        return 400, {"error": "the admin body is not JSON"}
    if method == "POST" and path == "/_emulator/fault":
        doc.setdefault("count", 1)
        with state.lock:
            state.faults.append(doc)
        return 200, {"ok": True}
    if method == "POST" and path == "/_emulator/faults/clear":
        with state.lock:
            state.faults = []
        return 200, {"ok": True}
    if method == "POST" and path == "/_emulator/clock":
        state.clock_offset_s = int(doc.get("offset_s", 0))
        return 200, {"ok": True}
    if method == "POST" and path == "/_emulator/reset":
        state.reset()
        return 200, {"ok": True}
    if method == "POST" and path == "/_emulator/seed":
        try:
            return 200, seed(state, doc)
        except ApiError as e:
            return 400, {"error": e.message}
    if method == "POST" and path == "/_emulator/health":
        server_id, status = doc.get("server_id"), doc.get("status", "normal")
        if not server_id:
            return 400, {"error": "health needs server_id"}
        with state.lock:
            if status == "normal":
                state.health.pop(server_id, None)
            else:
                state.health[server_id] = status
        return 200, {"ok": True}
    if method == "POST" and path == "/_emulator/es_docs":
        cluster, index = doc.get("cluster"), doc.get("index")
        if cluster not in ("local", "remote") or not index:
            return 400, {"error": "es_docs needs cluster local|remote and index"}
        total = esrest.add_docs(state, cluster, index, int(doc.get("count", 1)))
        return 200, {"cluster": cluster, "index": index, "count": total}
    if method == "GET" and path == "/_emulator/resources":
        return 200, resources(state)
    if method == "GET" and path == "/_emulator/requests":
        with state.lock:
            return 200, list(state.requests)
    if method == "GET" and path == "/_emulator/imds":
        with state.lock:
            return 200, list(state.imds)
    return 404, {"error": "no such admin endpoint"}
