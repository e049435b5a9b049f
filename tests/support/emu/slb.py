"""slb — the CLB (Slb 2014-05-15, RPC, parameters in the query string) actions.

Served, per /tmp/plprov-contract.md and docs/alicloud-api.md §4.1:
  CreateLoadBalancer            ClientToken idempotent; `inactive` for ASYNC, then `active`;
                                honours Address (fixed private IP), else picks 10.0.x.y
  DescribeLoadBalancers         LoadBalancerId / LoadBalancerName filters
  DescribeLoadBalancerAttribute + LoadBalancerStatus, ListenerPorts(AndProtocol), BackendServers
  CreateLoadBalancerTCPListener new listeners `stopped`; ListenerAlreadyExists,
                                IncorrectStatus.LoadBalancer (LB not active)
  DescribeLoadBalancerTCPListenerAttribute   Status stopped/starting/running; Listener.NotFound
  StartLoadBalancerListener     `starting` for ASYNC then `running` (no-op when starting/running)
  StopLoadBalancerListener      `stopped` at once
  DeleteLoadBalancerListener    Listener.NotFound when absent
  AddBackendServers             JSON list, all-or-nothing; BackendServer.AlreadyExists; <= 20
  RemoveBackendServers          absent servers ignored; answers the remaining list
  DescribeHealthStatus          one row per (listener, backend): normal (running) / unavailable
                                (otherwise), overridden by POST /_emulator/health
  DeleteLoadBalancer            DependencyViolation.EndpointService while a service uses it;
                                takes its listeners and backends with it

Choices where the contract is silent:
  - An unknown LoadBalancerId answers 404 InvalidLoadBalancerId.NotFound on every action.
  - CreateLoadBalancerTCPListener requires ListenerPort, BackendServerPort and Bandwidth
    (MissingParameter otherwise), as the real API does; HealthCheckConnectPort defaults to the
    backend port.
  - A BackendServers list that is not JSON, has more than 20 entries, names a ServerId that
    does not start with `i-` or a Weight outside 0-100 answers 400 InvalidParameter (the message
    names the problem); a server named twice in one call counts as BackendServer.AlreadyExists.
  - ServerIp of a backend (shown by DescribeHealthStatus) is a stable 172.16.x.y made up from the
    ServerId. An unknown ListenerPort in DescribeHealthStatus gives an empty list.
  - A `starting` or `stopping` listener reports its backends `unavailable`.
"""

import hashlib
import json
import random

from .core import ApiError, dispatch, idempotent, need, need_port, public, rand_id

MAX_BACKENDS_PER_CALL = 20


def lb_of(state, params):
    lb_id = need(params, "LoadBalancerId")
    lb = state.slb.get(lb_id)
    if lb is None:
        raise ApiError(404, "InvalidLoadBalancerId.NotFound",
                       "The specified LoadBalancerId does not exist.")
    return lb


def listener_of(state, lb, port):
    lsn = state.slb_listeners.get("%s:%d" % (lb["LoadBalancerId"], port))
    if lsn is None:
        raise ApiError(404, "Listener.NotFound",
                       "The specified resource %d of listener is not found." % port)
    return lsn


def listeners(state, lb_id):
    return sorted((r for r in state.slb_listeners.values() if r["LoadBalancerId"] == lb_id),
                  key=lambda r: r["ListenerPort"])


def backends(state, lb_id):
    return [r for r in state.slb_backends.values() if r["LoadBalancerId"] == lb_id]


def backend_list(state, lb_id):
    return {"BackendServer": [{k: b[k] for k in ("ServerId", "Weight", "Type")}
                              for b in backends(state, lb_id)]}


def server_ip(server_id):
    d = hashlib.sha256(server_id.encode()).digest()
    return "172.16.%d.%d" % (d[0], 1 + d[1] % 254)


def new_lb(state, params, status="inactive"):
    lb = {"LoadBalancerId": rand_id("lb-"),
          "LoadBalancerName": params.get("LoadBalancerName") or "auto_named_slb",
          "LoadBalancerStatus": status,
          "Address": params.get("Address") or "10.0.%d.%d" % (random.randint(0, 255),
                                                                random.randint(1, 254)),
          "AddressType": params.get("AddressType", "intranet"),
          "AddressIPVersion": params.get("AddressIPVersion", "ipv4"),
          "VSwitchId": params.get("VSwitchId", ""), "VpcId": params.get("VpcId", ""),
          "RegionId": params.get("RegionId", "cn-hangzhou"), "NetworkType": "vpc",
          "LoadBalancerSpec": params.get("LoadBalancerSpec", "slb.s1.small"),
          "PayType": params.get("PayType", "PayOnDemand"),
          "DeleteProtection": params.get("DeleteProtection", "off")}
    state.slb[lb["LoadBalancerId"]] = lb
    return lb


def new_listener(state, lb_id, port, backend_port, params, status="stopped"):
    rec = {"LoadBalancerId": lb_id, "ListenerPort": port, "BackendServerPort": backend_port,
           "ListenerProtocol": "tcp", "Status": status,
           "Bandwidth": int(params.get("Bandwidth", "-1")),
           "Scheduler": params.get("Scheduler", "wrr"), "HealthCheck": "on",
           "HealthCheckType": params.get("HealthCheckType", "tcp"),
           "HealthCheckConnectPort": int(params.get("HealthCheckConnectPort") or backend_port),
           "Description": params.get("Description", "")}
    state.slb_listeners["%s:%d" % (lb_id, port)] = rec
    return rec


def new_backend(state, lb_id, server_id, weight=100, server_type="ecs"):
    state.slb_backends["%s:%s" % (lb_id, server_id)] = {
        "LoadBalancerId": lb_id, "ServerId": server_id, "Weight": weight, "Type": server_type,
        "ServerIp": server_ip(server_id)}


def parse_backends(params):
    raw = need(params, "BackendServers")
    try:
        items = json.loads(raw)
    except ValueError:
        raise ApiError(400, "InvalidParameter", "BackendServers is not a JSON list.")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ApiError(400, "InvalidParameter", "BackendServers is not a JSON list of objects.")
    if len(items) > MAX_BACKENDS_PER_CALL:
        raise ApiError(400, "InvalidParameter",
                       "BackendServers takes at most %d servers." % MAX_BACKENDS_PER_CALL)
    for i in items:
        if not str(i.get("ServerId", "")).startswith("i-"):
            raise ApiError(400, "InvalidParameter",
                           "BackendServers: ServerId %r is not an ECS instance (i-...)."
                           % i.get("ServerId"))
        if not str(i.get("Weight", 100)).isdigit() or not 0 <= int(i.get("Weight", 100)) <= 100:
            raise ApiError(400, "InvalidParameter",
                           "BackendServers: Weight of %s must be 0 to 100." % i["ServerId"])
    return items


def create_load_balancer(state, params, ctx):
    need(params, "RegionId")

    def create():
        lb = new_lb(state, params)
        state.stage(lb, {}, {"LoadBalancerStatus": "active"})
        return {k: lb[k] for k in ("LoadBalancerId", "LoadBalancerName", "Address", "VpcId",
                                   "VSwitchId", "NetworkType")}
    return idempotent(state, "slb", "CreateLoadBalancer", params, create)


def describe_load_balancers(state, params, ctx):
    need(params, "RegionId")
    lbs = [public(lb) for lb in state.slb.values()
           if params.get("LoadBalancerId") in (None, lb["LoadBalancerId"])
           and params.get("LoadBalancerName") in (None, lb["LoadBalancerName"])]
    return {"LoadBalancers": {"LoadBalancer": lbs}, "TotalCount": len(lbs), "PageNumber": 1,
            "PageSize": 10}


def describe_load_balancer_attribute(state, params, ctx):
    lb = lb_of(state, params)
    answer = public(lb)
    ports = [r["ListenerPort"] for r in listeners(state, lb["LoadBalancerId"])]
    answer["ListenerPortsAndProtocol"] = {"ListenerPortAndProtocol": [
        {"ListenerPort": p, "ListenerProtocol": "tcp"} for p in ports]}
    answer["ListenerPorts"] = {"ListenerPort": ports}
    answer["BackendServers"] = backend_list(state, lb["LoadBalancerId"])
    return answer


def create_tcp_listener(state, params, ctx):
    lb = lb_of(state, params)
    port = need_port(params, "ListenerPort")
    backend_port = need_port(params, "BackendServerPort")
    need(params, "Bandwidth")
    if lb["LoadBalancerStatus"] != "active":
        raise ApiError(400, "IncorrectStatus.LoadBalancer",
                       "The status of the load balancer %s is %s, not active."
                       % (lb["LoadBalancerId"], lb["LoadBalancerStatus"]))
    if "%s:%d" % (lb["LoadBalancerId"], port) in state.slb_listeners:
        raise ApiError(400, "ListenerAlreadyExists", "The specified listener port %d is "
                       "already in use." % port)
    new_listener(state, lb["LoadBalancerId"], port, backend_port, params)
    return {}


def describe_tcp_listener(state, params, ctx):
    lb = lb_of(state, params)
    lsn = listener_of(state, lb, need_port(params, "ListenerPort"))
    return public(lsn)


def start_listener(state, params, ctx):
    lb = lb_of(state, params)
    lsn = listener_of(state, lb, need_port(params, "ListenerPort"))
    if lsn["Status"] not in ("starting", "running"):
        state.stage(lsn, {"Status": "starting"}, {"Status": "running"})
    return {}


def stop_listener(state, params, ctx):
    lb = lb_of(state, params)
    lsn = listener_of(state, lb, need_port(params, "ListenerPort"))
    lsn.pop("_due", None)
    lsn.pop("_then", None)
    lsn["Status"] = "stopped"
    return {}


def delete_listener(state, params, ctx):
    lb = lb_of(state, params)
    port = need_port(params, "ListenerPort")
    listener_of(state, lb, port)
    if params.get("ListenerProtocol", "tcp").lower() != "tcp":
        raise ApiError(404, "Listener.NotFound",
                       "The specified resource %d of listener is not found." % port)
    state.slb_listeners.pop("%s:%d" % (lb["LoadBalancerId"], port))
    return {}


def add_backend_servers(state, params, ctx):
    lb = lb_of(state, params)
    items = parse_backends(params)
    lb_id = lb["LoadBalancerId"]
    seen = set()
    for i in items:
        sid = i["ServerId"]
        if "%s:%s" % (lb_id, sid) in state.slb_backends or sid in seen:
            raise ApiError(400, "BackendServer.AlreadyExists",
                           "The backend server %s is already added to %s." % (sid, lb_id))
        seen.add(sid)
    for i in items:
        new_backend(state, lb_id, i["ServerId"], int(i.get("Weight", 100)), i.get("Type", "ecs"))
    return {"LoadBalancerId": lb_id, "BackendServers": backend_list(state, lb_id)}


def remove_backend_servers(state, params, ctx):
    lb = lb_of(state, params)
    lb_id = lb["LoadBalancerId"]
    for i in parse_backends(params):
        state.slb_backends.pop("%s:%s" % (lb_id, i["ServerId"]), None)
    return {"LoadBalancerId": lb_id, "BackendServers": backend_list(state, lb_id)}


def describe_health_status(state, params, ctx):
    lb = lb_of(state, params)
    only = params.get("ListenerPort")
    rows = []
    for lsn in listeners(state, lb["LoadBalancerId"]):
        if only and str(lsn["ListenerPort"]) != only:
            continue
        for b in backends(state, lb["LoadBalancerId"]):
            status = "normal" if lsn["Status"] == "running" else "unavailable"
            rows.append({"ServerId": b["ServerId"], "ServerIp": b["ServerIp"],
                         "Port": lsn["BackendServerPort"], "ListenerPort": lsn["ListenerPort"],
                         "Protocol": "tcp",
                         "ServerHealthStatus": state.health.get(b["ServerId"], status)})
    return {"BackendServers": {"BackendServer": rows}}


def delete_load_balancer(state, params, ctx):
    lb = lb_of(state, params)
    lb_id = lb["LoadBalancerId"]
    users = [s["ServiceId"] for s in state.services.values()
             if lb_id in [r["ResourceId"] for r in s["_resources"]]]
    if users:
        raise ApiError(400, "DependencyViolation.EndpointService",
                       "The load balancer %s is a resource of endpoint service %s."
                       % (lb_id, users[0]))
    state.remove("slb", lb_id)
    return {}


ACTIONS = {
    "CreateLoadBalancer": create_load_balancer,
    "DescribeLoadBalancers": describe_load_balancers,
    "DescribeLoadBalancerAttribute": describe_load_balancer_attribute,
    "CreateLoadBalancerTCPListener": create_tcp_listener,
    "DescribeLoadBalancerTCPListenerAttribute": describe_tcp_listener,
    "StartLoadBalancerListener": start_listener,
    "StopLoadBalancerListener": stop_listener,
    "DeleteLoadBalancerListener": delete_listener,
    "AddBackendServers": add_backend_servers,
    "RemoveBackendServers": remove_backend_servers,
    "DescribeHealthStatus": describe_health_status,
    "DeleteLoadBalancer": delete_load_balancer,
}


def action(state, name, params, ctx):
    return dispatch(ACTIONS, state, name, params, ctx)
