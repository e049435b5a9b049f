"""privatelink — the PrivateLink (2020-04-15, RPC, query string) endpoint-service actions.

A connection is the ES private connection (es.py's endpoint) seen from the provider side: both
views read the one record in state.endpoints, so a status changed here shows in ListVpcEndpoints
and the other way round.

Served, per /tmp/plprov-contract.md and docs/alicloud-api.md §4.3:
  CreateVpcEndpointService        ClientToken idempotent; Creating -> Active; the resources
                                  (Resource.N.ResourceType/ResourceId[/ZoneId]) must exist:
                                  `lb-` in the CLB table, `nlb-` in the NLB table, else
                                  400 ResourceNotFound.Resource
  GetVpcEndpointServiceAttribute  404 EndpointServiceNotFound when unknown or gone
  ListVpcEndpointServices         ResourceId filter (also ServiceId, ServiceName)
  ListVpcEndpointConnections      the ES endpoints of the service (EndpointId, ConnectionStatus
                                  filters)
  EnableVpcEndpointConnection     Connecting -> Connected; idempotent when Connected/Connecting;
                                  the `pending` fault leaves it Pending (and still answers 200)
  DisableVpcEndpointConnection    Disconnecting -> Disconnected
  DeleteVpcEndpointService        EndpointServiceConnectionDependence while a connection is
                                  Connected/Connecting/Disconnecting; Deleting -> gone, then its
                                  ES endpoints show connectionStatus ServiceDeleted

Choices where the contract is silent:
  - A Resource.N without ResourceType takes ServiceResourceType; ZoneId is stored, not checked
    here (es.py checks the endpoint's zoneId against it). No Resource.N at all is allowed.
  - Enable on a Disconnecting / Deleting / ServiceDeleted connection, and Disable on a Deleting /
    ServiceDeleted one, answer 400 EndpointConnectionOperationDenied (retryable per §6). Enable
    while the service is not Active answers 400 EndpointServiceOperationDenied.
  - Enable of a Disconnected connection reconnects it (Connecting -> Connected).
  - Disable of a Pending connection rejects it: Disconnecting -> Disconnected; Disable of a
    Disconnected / Disconnecting one is a no-op 200.
  - The `pending` fault is consumed by any Enable call that finds its connection; the armed call
    changes nothing (Pending stays Pending, Disconnected stays Disconnected).
  - A second DeleteVpcEndpointService while the service is Deleting answers 200.
  - A connection es.py's `slowconn` fault keeps `_unseen` is not listed and not found here.
  - An endpoint service's connections keep their status while it is Deleting; they turn
    ServiceDeleted when it is gone (an endpoint already Deleting just goes).
"""

from .core import (ES_VPC, GONE, OWNER_ID, ApiError, dispatch, flat_objects, idempotent, iso_now,
                   need, public, rand_id)

LB_TABLES = {"slb": "slb", "nlb": "nlb"}


def service_of(state, sid):
    svc = state.services.get(sid)
    if svc is None:
        raise ApiError(404, "EndpointServiceNotFound",
                       "The specified endpoint service %s is not found." % sid)
    return svc


def service_view(svc):
    out = public(svc)
    out["Zones"] = sorted({r["ZoneId"] for r in svc["_resources"] if r.get("ZoneId")})
    return out


def connection_of(state, sid, ep_id):
    ep = state.endpoints.get(ep_id)
    if ep is None or ep["serviceId"] != sid or ep.get("_unseen"):
        raise ApiError(404, "EndpointConnectionNotFound",
                       "The endpoint connection %s of service %s is not found." % (ep_id, sid))
    return ep


def connection_view(ep):
    return {"ServiceId": ep["serviceId"], "EndpointId": ep["endpointId"],
            "ConnectionStatus": ep["connectionStatus"], "EndpointOwnerId": OWNER_ID,
            "EndpointVpcId": ES_VPC, "Bandwidth": 3072, "ModifiedTime": ep["createTime"],
            "ResourceOwner": False}


def connect(state, ep):
    state.stage(ep, {"connectionStatus": "Connecting"}, {"connectionStatus": "Connected"})


def new_service(state, params, resources, status="Creating"):
    region = params.get("RegionId", "cn-hangzhou")
    sid = rand_id("epsrv-")
    svc = {"ServiceId": sid, "ServiceName": "com.aliyuncs.privatelink.%s.%s" % (region, sid),
           "ServiceDomain": "%s.%s.privatelink.aliyuncs.com" % (sid, region),
           "ServiceStatus": status, "ServiceBusinessStatus": "Normal", "ServiceType": "Interface",
           "ServiceResourceType": params.get("ServiceResourceType", "slb"),
           "ServiceDescription": params.get("ServiceDescription", ""),
           "AutoAcceptEnabled": params.get("AutoAcceptEnabled", "false") == "true",
           "Payer": params.get("Payer", "Endpoint"), "ZoneAffinityEnabled": False,
           "RegionId": region, "CreateTime": iso_now(), "_resources": resources}
    state.services[sid] = svc
    return svc


def resources_param(state, params):
    default_type = params.get("ServiceResourceType", "slb")
    out = []
    for r in flat_objects(params, "Resource"):
        rtype = r.get("ResourceType") or default_type
        rid = r.get("ResourceId", "")
        table = LB_TABLES.get(rtype)
        prefix = "nlb-" if rtype == "nlb" else "lb-"
        if table is None or not rid.startswith(prefix) or rid not in getattr(state, table):
            raise ApiError(400, "ResourceNotFound.Resource",
                           "The specified %s resource %s is not found." % (rtype, rid))
        out.append({"ResourceType": rtype, "ResourceId": rid, "ZoneId": r.get("ZoneId", "")})
    return out


def create_service(state, params, ctx):
    need(params, "RegionId")

    def create():
        svc = new_service(state, params, resources_param(state, params))
        state.stage(svc, {}, {"ServiceStatus": "Active"})
        return {k: svc[k] for k in ("ServiceId", "ServiceName", "ServiceDomain",
                                    "ServiceStatus")}
    return idempotent(state, "privatelink", "CreateVpcEndpointService", params, create)


def get_service(state, params, ctx):
    return service_view(service_of(state, need(params, "ServiceId")))


def list_services(state, params, ctx):
    need(params, "RegionId")
    services = [service_view(s) for s in state.services.values()
                if params.get("ResourceId") in [None] + [r["ResourceId"] for r in s["_resources"]]
                and params.get("ServiceId") in (None, s["ServiceId"])
                and params.get("ServiceName") in (None, s["ServiceName"])]
    return {"Services": services, "MaxResults": 50, "NextToken": ""}


def list_connections(state, params, ctx):
    need(params, "RegionId")
    sid = need(params, "ServiceId")
    service_of(state, sid)
    conns = [connection_view(ep) for ep in state.endpoints.values()
             if ep["serviceId"] == sid and not ep.get("_unseen")
             and params.get("EndpointId") in (None, ep["endpointId"])
             and params.get("ConnectionStatus") in (None, ep["connectionStatus"])]
    return {"Connections": conns, "MaxResults": 50, "NextToken": ""}


def denied(ep, verb):
    return ApiError(400, "EndpointConnectionOperationDenied", "Cannot %s the endpoint "
                    "connection %s while it is %s." % (verb, ep["endpointId"],
                                                        ep["connectionStatus"]))


def enable_connection(state, params, ctx):
    sid = need(params, "ServiceId")
    svc = service_of(state, sid)
    ep = connection_of(state, sid, need(params, "EndpointId"))
    if state.take_fault("EnableVpcEndpointConnection", kind="pending") is not None:
        ctx["fault"] = "pending"
        return {}
    status = ep["connectionStatus"]
    if status in ("Connected", "Connecting"):
        return {}
    if status not in ("Pending", "Disconnected"):
        raise denied(ep, "enable")
    if svc["ServiceStatus"] != "Active":
        raise ApiError(400, "EndpointServiceOperationDenied", "The endpoint service %s is %s."
                       % (sid, svc["ServiceStatus"]))
    connect(state, ep)
    return {}


def disable_connection(state, params, ctx):
    sid = need(params, "ServiceId")
    service_of(state, sid)
    ep = connection_of(state, sid, need(params, "EndpointId"))
    status = ep["connectionStatus"]
    if status in ("Disconnected", "Disconnecting"):
        return {}
    if status not in ("Pending", "Connecting", "Connected"):
        raise denied(ep, "disable")
    state.stage(ep, {"connectionStatus": "Disconnecting"}, {"connectionStatus": "Disconnected"})
    return {}


def delete_service(state, params, ctx):
    sid = need(params, "ServiceId")
    svc = service_of(state, sid)
    if svc["ServiceStatus"] == "Deleting":
        return {}
    busy = [ep["endpointId"] for ep in state.endpoints.values() if ep["serviceId"] == sid
            and ep["connectionStatus"] in ("Connected", "Connecting", "Disconnecting")]
    if busy:
        raise ApiError(400, "EndpointServiceConnectionDependence", "The endpoint service %s "
                       "still has a connection from endpoint %s." % (sid, busy[0]))
    state.stage(svc, {"ServiceStatus": "Deleting"}, GONE)
    return {}


ACTIONS = {
    "CreateVpcEndpointService": create_service,
    "GetVpcEndpointServiceAttribute": get_service,
    "ListVpcEndpointServices": list_services,
    "ListVpcEndpointConnections": list_connections,
    "EnableVpcEndpointConnection": enable_connection,
    "DisableVpcEndpointConnection": disable_connection,
    "DeleteVpcEndpointService": delete_service,
}


def action(state, name, params, ctx):
    return dispatch(ACTIONS, state, name, params, ctx)
