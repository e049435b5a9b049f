"""nlb — the NLB (2022-04-30, RPC, parameters in a form body) actions and their async jobs.

Every write starts a job (JobId) that is `Processing` for ASYNC ms, then `Succeeded`; the
resource it changes reaches its final state at the same instant. While a job on an NLB or a
server group is Processing, every other write on that NLB / server group answers
400 Conflict.Lock (the client retries it); a retry with the same ClientToken gets the first
answer back before any lock or state check.

Served, per /tmp/plprov-contract.md and docs/alicloud-api.md §4.2:
  CreateLoadBalancer        `LoadbalancerId` (sic), JobId, OrderId; Provisioning -> Active;
                            InvalidParameter.ZoneMappings for fewer than 2 zones
  GetLoadBalancerAttribute  DNSName nlb-xxx.<region>.nlb.aliyuncsslb.com, ZoneMappings[];
                            ResourceNotFound.loadBalancer
  ListLoadBalancers         LoadBalancerIds.N / LoadBalancerNames.N
  CreateServerGroup         Creating -> Available
  ListServerGroups          ServerGroupIds.N / ServerGroupNames.N, ServerCount
  AddServersToServerGroup   servers Adding -> Available; ResourceAlreadyAssociated.server
  ListServerGroupServers    Servers[], TotalCount, NextToken ""
  RemoveServersFromServerGroup   servers Removing -> gone
  CreateListener            ListenerId lsn-<rand>@<port>; Provisioning -> Running;
                            IncorrectStatus.loadBalancer, Conflict.Port
  ListListeners             LoadBalancerIds.N / ListenerIds.N
  GetListenerAttribute      ResourceNotFound.listener
  ListAsynJobs              JobIds.N; unknown ids omitted
  DeleteListener            Deleting -> gone
  DeleteServerGroup         ResourceInUse.serverGroup while a listener uses it; Deleting -> gone
  DeleteLoadBalancer        DependencyViolation.EndpointService while a service uses it;
                            Deleting -> gone, with its listeners

Choices where the contract is silent:
  - Which resources a job locks: the NLB for CreateLoadBalancer, CreateListener, DeleteListener
    and DeleteLoadBalancer; the server group for CreateServerGroup, AddServersToServerGroup,
    RemoveServersFromServerGroup and DeleteServerGroup. A listener job does not lock the server
    group it names.
  - Order of checks on a write: existence (404) -> status (IncorrectStatus.loadBalancer for an
    NLB that is not Active: Provisioning or Deleting) -> Conflict.Lock -> conflicts
    (Conflict.Port, ResourceAlreadyAssociated.server, ResourceInUse.serverGroup, dependency).
    An Active NLB stays Active while its listener jobs run (no `Configuring` state).
  - Unknown server groups answer 404 ResourceNotFound.serverGroup, unknown jobs are omitted.
  - RemoveServersFromServerGroup ignores servers that are not in the group (still a job).
  - For an Ip server, ServerIp defaults to ServerId; Weight defaults to 100 (0-100, else 400
    InvalidParameter); ServerId, ServerType and Port are required (MissingParameter).
  - Jobs never fail on their own; the `jobfail` fault (armed for an action) makes the job of
    that action's next write end `Failed` with ErrorCode `ResourceJobFailed` (the resource
    changes it carried still happen, as a job that failed late would leave them).
  - ListListeners filters by LoadBalancerIds.N and ListenerIds.N; ListServerGroupServers also
    takes ServerIds.N.
  - The `hide` fault (armed for CreateLoadBalancer, CreateServerGroup or CreateListener, with
    "lists": N, default 1) keeps the resource that action's next create makes out of the next N
    ListLoadBalancers / ListServerGroups / ListListeners answers that would show it (a list that
    lags behind the write), so a client that resumes must send its create again. Get* reads
    still see it.
"""

import random
import uuid

from .core import (GONE, ApiError, dispatch, filtered, flat_list, flat_objects, hidden,
                   idempotent, need, need_port, public, rand_id)


# ---- records and views ----

def nlb_of(state, lb_id):
    lb = state.nlb.get(lb_id)
    if lb is None:
        raise ApiError(404, "ResourceNotFound.loadBalancer",
                       "The specified resource %s of loadBalancer is not found." % lb_id)
    return lb


def group_of(state, sg_id):
    sg = state.server_groups.get(sg_id)
    if sg is None:
        raise ApiError(404, "ResourceNotFound.serverGroup",
                       "The specified resource %s of serverGroup is not found." % sg_id)
    return sg


def listener_of(state, lsn_id):
    lsn = state.nlb_listeners.get(lsn_id)
    if lsn is None:
        raise ApiError(404, "ResourceNotFound.listener",
                       "The specified resource %s of listener is not found." % lsn_id)
    return lsn


def servers_of(state, sg_id):
    return [s for s in state.servers.values() if s["ServerGroupId"] == sg_id]


def group_view(state, sg):
    out = public(sg)
    out["ServerCount"] = len(servers_of(state, sg["ServerGroupId"]))
    out["RelatedLoadBalancerIds"] = sorted({lsn["LoadBalancerId"]
                                            for lsn in state.nlb_listeners.values()
                                            if lsn["ServerGroupId"] == sg["ServerGroupId"]})
    return out


def new_nlb(state, params, zones, status="Provisioning"):
    lb_id = rand_id("nlb-")
    region = params.get("RegionId", "cn-hangzhou")
    lb = {"LoadBalancerId": lb_id, "LoadBalancerName": params.get("LoadBalancerName", ""),
          "LoadBalancerStatus": status, "LoadBalancerType": "Network",
          "AddressType": params.get("AddressType", "Intranet"),
          "AddressIpVersion": params.get("AddressIpVersion", "ipv4"),
          "VpcId": params.get("VpcId", ""), "RegionId": region,
          "DNSName": "%s.%s.nlb.aliyuncsslb.com" % (lb_id, region),
          "LoadBalancerBillingConfig": {"PayType": params.get(
              "LoadBalancerBillingConfig.PayType", "PostPay")},
          "ZoneMappings": [{"ZoneId": z["ZoneId"], "VSwitchId": z["VSwitchId"],
                            "LoadBalancerAddresses": [{"PrivateIPv4Address": "10.1.%d.%d" % (
                                n, random.randint(1, 254))}]}
                           for n, z in enumerate(zones)]}
    state.nlb[lb_id] = lb
    return lb


def new_group(state, params, status="Creating"):
    sg = {"ServerGroupId": rand_id("sgp-"), "ServerGroupName": params.get("ServerGroupName", ""),
          "ServerGroupStatus": status, "ServerGroupType": params.get("ServerGroupType",
                                                                      "Instance"),
          "Protocol": params.get("Protocol", "TCP"), "Scheduler": params.get("Scheduler", "Wrr"),
          "VpcId": params.get("VpcId", ""), "RegionId": params.get("RegionId", "cn-hangzhou"),
          "HealthCheck": {"HealthCheckEnabled": params.get(
              "HealthCheckConfig.HealthCheckEnabled", "true") == "true",
              "HealthCheckType": params.get("HealthCheckConfig.HealthCheckType", "TCP")}}
    state.server_groups[sg["ServerGroupId"]] = sg
    return sg


def new_server(state, sg_id, s, status="Adding"):
    key = "%s:%s:%d" % (sg_id, s["ServerId"], int(s["Port"]))
    rec = {"ServerGroupId": sg_id, "ServerId": s["ServerId"],
           "ServerIp": s.get("ServerIp") or s["ServerId"], "ServerType": s.get("ServerType", "Ip"),
           "Port": int(s["Port"]), "Weight": int(s.get("Weight", 100)), "Status": status}
    state.servers[key] = rec
    return rec


def new_listener(state, lb_id, port, sg_id, params, status="Provisioning"):
    lsn_id = "%s@%d" % (rand_id("lsn-", 20), port)
    rec = {"ListenerId": lsn_id, "LoadBalancerId": lb_id, "ListenerPort": port,
           "ListenerProtocol": params.get("ListenerProtocol", "TCP"), "ListenerStatus": status,
           "ServerGroupId": sg_id, "ListenerDescription": params.get("ListenerDescription", ""),
           "RegionId": params.get("RegionId", "cn-hangzhou")}
    state.nlb_listeners[lsn_id] = rec
    return rec


# ---- jobs and locks ----

def check_lock(state, resource_id):
    for job in state.jobs.values():
        if job["Status"] == "Processing" and resource_id in job["_locks"]:
            raise ApiError(400, "Conflict.Lock", "The resource %s is locked by job %s, please "
                           "try again later." % (resource_id, job["Id"]))


def start_job(state, resource_id, locks, changes):
    """One job on resource_id; changes = [(record, now_values, then_values)] due with it."""
    job = {"Id": str(uuid.uuid4()), "Status": "Processing", "ErrorCode": "", "ErrorMessage": "",
           "ResourceId": resource_id, "_locks": list(locks)}
    state.stage(job, {}, {"Status": "Succeeded"})
    state.jobs[job["Id"]] = job
    for rec, now_values, then_values in changes:
        state.stage(rec, now_values, then_values)
        rec["_due"] = job["_due"]
    return job["Id"]


def write(state, params, action, create):
    return idempotent(state, "nlb", action, params, create)


def active_nlb(state, lb_id):
    lb = nlb_of(state, lb_id)
    if lb["LoadBalancerStatus"] != "Active":
        raise ApiError(400, "IncorrectStatus.loadBalancer", "The status of the resource %s "
                       "of loadBalancer is %s." % (lb_id, lb["LoadBalancerStatus"]))
    return lb


# ---- actions ----

def create_load_balancer(state, params, ctx):
    need(params, "VpcId")
    zones = flat_objects(params, "ZoneMappings")
    if len(zones) < 2 or any(not z.get("ZoneId") or not z.get("VSwitchId") for z in zones):
        raise ApiError(400, "InvalidParameter.ZoneMappings",
                       "ZoneMappings needs at least 2 zones, each with ZoneId and VSwitchId.")

    def create():
        lb = new_nlb(state, params, zones)
        job = start_job(state, lb["LoadBalancerId"], [lb["LoadBalancerId"]],
                        [(lb, {}, {"LoadBalancerStatus": "Active"})])
        return {"LoadbalancerId": lb["LoadBalancerId"], "JobId": job,
                "OrderId": str(random.randint(10 ** 12, 10 ** 13 - 1))}
    return write(state, params, "CreateLoadBalancer", create)


def get_load_balancer_attribute(state, params, ctx):
    return public(nlb_of(state, need(params, "LoadBalancerId")))


def list_load_balancers(state, params, ctx):
    items = filtered([public(lb) for lb in state.nlb.values()], params,
                     [("LoadBalancerIds", "LoadBalancerId"),
                      ("LoadBalancerNames", "LoadBalancerName")])
    items = [i for i in items if not hidden(state.nlb[i["LoadBalancerId"]])]
    return {"LoadBalancers": items, "TotalCount": len(items), "MaxResults": 100,
            "NextToken": ""}


def create_server_group(state, params, ctx):
    need(params, "ServerGroupName")
    need(params, "VpcId")

    def create():
        sg = new_group(state, params)
        job = start_job(state, sg["ServerGroupId"], [sg["ServerGroupId"]],
                        [(sg, {}, {"ServerGroupStatus": "Available"})])
        return {"ServerGroupId": sg["ServerGroupId"], "JobId": job}
    return write(state, params, "CreateServerGroup", create)


def list_server_groups(state, params, ctx):
    items = filtered([group_view(state, sg) for sg in state.server_groups.values()], params,
                     [("ServerGroupIds", "ServerGroupId"),
                      ("ServerGroupNames", "ServerGroupName")])
    items = [i for i in items if not hidden(state.server_groups[i["ServerGroupId"]])]
    return {"ServerGroups": items, "TotalCount": len(items), "MaxResults": 100,
            "NextToken": ""}


def servers_param(params):
    items = flat_objects(params, "Servers")
    if not items:
        raise ApiError(400, "MissingParameter", "The input parameter \"Servers\" that is "
                       "mandatory for processing this request is not supplied.")
    for s in items:
        for name in ("ServerId", "ServerType", "Port"):
            if not s.get(name):
                raise ApiError(400, "MissingParameter", "The input parameter \"Servers.N.%s\" "
                               "that is mandatory for processing this request is not "
                               "supplied." % name)
        need_port(s, "Port")
        if not str(s.get("Weight", 100)).isdigit() or not 0 <= int(s.get("Weight", 100)) <= 100:
            raise ApiError(400, "InvalidParameter", "Servers.N.Weight must be 0 to 100.")
    return items


def add_servers(state, params, ctx):
    sg_id = need(params, "ServerGroupId")
    items = servers_param(params)

    def create():
        group_of(state, sg_id)
        check_lock(state, sg_id)
        seen = set()
        for s in items:
            key = "%s:%s:%d" % (sg_id, s["ServerId"], int(s["Port"]))
            if key in state.servers or key in seen:
                raise ApiError(400, "ResourceAlreadyAssociated.server", "The server %s:%s is "
                               "already in server group %s." % (s["ServerId"], s["Port"], sg_id))
            seen.add(key)
        recs = [new_server(state, sg_id, s) for s in items]
        job = start_job(state, sg_id, [sg_id], [(r, {}, {"Status": "Available"}) for r in recs])
        return {"ServerGroupId": sg_id, "JobId": job}
    return write(state, params, "AddServersToServerGroup", create)


def list_server_group_servers(state, params, ctx):
    sg_id = need(params, "ServerGroupId")
    group_of(state, sg_id)
    items = filtered([public(s) for s in servers_of(state, sg_id)], params,
                     [("ServerIds", "ServerId")])
    return {"Servers": items, "TotalCount": len(items), "MaxResults": 100, "NextToken": ""}


def remove_servers(state, params, ctx):
    sg_id = need(params, "ServerGroupId")
    items = servers_param(params)

    def create():
        group_of(state, sg_id)
        check_lock(state, sg_id)
        keys = ["%s:%s:%d" % (sg_id, s["ServerId"], int(s["Port"])) for s in items]
        recs = [state.servers[k] for k in keys if k in state.servers]
        job = start_job(state, sg_id, [sg_id], [(r, {"Status": "Removing"}, GONE)
                                                for r in recs])
        return {"ServerGroupId": sg_id, "JobId": job}
    return write(state, params, "RemoveServersFromServerGroup", create)


def create_listener(state, params, ctx):
    lb_id = need(params, "LoadBalancerId")
    port = need_port(params, "ListenerPort")
    sg_id = need(params, "ServerGroupId")
    need(params, "ListenerProtocol")

    def create():
        active_nlb(state, lb_id)
        group_of(state, sg_id)
        check_lock(state, lb_id)
        if any(lsn["LoadBalancerId"] == lb_id and lsn["ListenerPort"] == port
               for lsn in state.nlb_listeners.values()):
            raise ApiError(400, "Conflict.Port", "The port %d of load balancer %s is already "
                           "used by a listener." % (port, lb_id))
        lsn = new_listener(state, lb_id, port, sg_id, params)
        job = start_job(state, lsn["ListenerId"], [lb_id],
                        [(lsn, {}, {"ListenerStatus": "Running"})])
        return {"ListenerId": lsn["ListenerId"], "JobId": job}
    return write(state, params, "CreateListener", create)


def list_listeners(state, params, ctx):
    items = filtered([public(lsn) for lsn in state.nlb_listeners.values()], params,
                     [("LoadBalancerIds", "LoadBalancerId"), ("ListenerIds", "ListenerId")])
    items = [i for i in items if not hidden(state.nlb_listeners[i["ListenerId"]])]
    return {"Listeners": items, "TotalCount": len(items), "MaxResults": 100, "NextToken": ""}


def get_listener_attribute(state, params, ctx):
    return public(listener_of(state, need(params, "ListenerId")))


def list_asyn_jobs(state, params, ctx):
    wanted = flat_list(params, "JobIds")
    ids = wanted if wanted is not None else list(state.jobs)
    jobs = [public(state.jobs[i]) for i in ids if i in state.jobs]
    return {"Jobs": jobs, "TotalCount": len(jobs)}


def delete_listener(state, params, ctx):
    lsn_id = need(params, "ListenerId")

    def create():
        lsn = listener_of(state, lsn_id)
        check_lock(state, lsn["LoadBalancerId"])
        job = start_job(state, lsn_id, [lsn["LoadBalancerId"]],
                        [(lsn, {"ListenerStatus": "Deleting"}, GONE)])
        return {"JobId": job}
    return write(state, params, "DeleteListener", create)


def delete_server_group(state, params, ctx):
    sg_id = need(params, "ServerGroupId")

    def create():
        sg = group_of(state, sg_id)
        check_lock(state, sg_id)
        users = [lsn["ListenerId"] for lsn in state.nlb_listeners.values()
                 if lsn["ServerGroupId"] == sg_id]
        if users:
            raise ApiError(400, "ResourceInUse.serverGroup", "The server group %s is used by "
                           "listener %s." % (sg_id, users[0]))
        job = start_job(state, sg_id, [sg_id],
                        [(sg, {"ServerGroupStatus": "Deleting"}, GONE)])
        return {"JobId": job}
    return write(state, params, "DeleteServerGroup", create)


def delete_load_balancer(state, params, ctx):
    lb_id = need(params, "LoadBalancerId")

    def create():
        lb = nlb_of(state, lb_id)
        check_lock(state, lb_id)
        users = [s["ServiceId"] for s in state.services.values()
                 if lb_id in [r["ResourceId"] for r in s["_resources"]]]
        if users:
            raise ApiError(400, "DependencyViolation.EndpointService", "The load balancer %s "
                           "is a resource of endpoint service %s." % (lb_id, users[0]))
        changes = [(lb, {"LoadBalancerStatus": "Deleting"}, GONE)]
        changes += [(lsn, {"ListenerStatus": "Deleting"}, GONE)
                    for lsn in state.nlb_listeners.values() if lsn["LoadBalancerId"] == lb_id]
        return {"JobId": start_job(state, lb_id, [lb_id], changes)}
    return write(state, params, "DeleteLoadBalancer", create)


ACTIONS = {
    "CreateLoadBalancer": create_load_balancer,
    "GetLoadBalancerAttribute": get_load_balancer_attribute,
    "ListLoadBalancers": list_load_balancers,
    "CreateServerGroup": create_server_group,
    "ListServerGroups": list_server_groups,
    "AddServersToServerGroup": add_servers,
    "ListServerGroupServers": list_server_group_servers,
    "RemoveServersFromServerGroup": remove_servers,
    "CreateListener": create_listener,
    "ListListeners": list_listeners,
    "GetListenerAttribute": get_listener_attribute,
    "ListAsynJobs": list_asyn_jobs,
    "DeleteListener": delete_listener,
    "DeleteServerGroup": delete_server_group,
    "DeleteLoadBalancer": delete_load_balancer,
}


HIDE_TABLES = {"CreateLoadBalancer": ("LoadbalancerId", "nlb"),
               "CreateServerGroup": ("ServerGroupId", "server_groups"),
               "CreateListener": ("ListenerId", "nlb_listeners")}


def action(state, name, params, ctx):
    fail = hide = None
    if name.startswith(("Create", "Add", "Remove", "Delete")):
        fail = state.take_fault(name, kind="jobfail")
    if name in HIDE_TABLES:
        hide = state.take_fault(name, kind="hide")
    answer = dispatch(ACTIONS, state, name, params, ctx)
    if hide is not None:
        field, table = HIDE_TABLES[name]
        rec = getattr(state, table).get(answer.get(field))
        if rec is not None:
            ctx["fault"] = "hide"
            rec["_hide_lists"] = int(hide.get("lists", 1))
    job = state.jobs.get(answer.get("JobId")) if fail is not None else None
    if job is not None:
        ctx["fault"] = "jobfail"
        job["_then"] = {"Status": "Failed", "ErrorCode": "ResourceJobFailed",
                        "ErrorMessage": "The job of %s failed (injected)." % name}
    return answer
