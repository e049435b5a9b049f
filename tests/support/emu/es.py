"""es — the Elasticsearch OpenAPI (2017-06-13, ROA: method + path + query + JSON body).

An ES private connection (endpoint) is stored once in state.endpoints and is also the
PrivateLink connection privatelink.py shows to the provider side.

Served, per /tmp/plprov-contract.md and docs/alicloud-api.md §4.4-§4.5:
  GET    /openapi/instances/{id}                        DescribeInstance: Result {instanceId,
         status active|activating, esVersion, port 9200, protocol HTTP, domain,
         networkConfig {vpcId}, esConfig}
  GET    /openapi/instances/{id}/vpc-endpoints          ListVpcEndpoints (page/size ignored:
         every endpoint of the instance, Deleting ones until they are gone)
  POST   /openapi/instances/{id}/vpc-endpoints          CreateVpcEndpoint ?ClientToken&dryRun,
         body {"serviceId","zoneId"}: Pending (or Connecting -> Connected when the service
         auto-accepts); 400 EndpointService.NotActive, 400 InvalidParameter.ZoneId
  DELETE /openapi/instances/{id}/vpc-endpoints/{ep}     DeleteVpcEndpoint: Result true;
         Deleting -> gone from both views; 404 EndpointNotFound
  PATCH  /openapi/instances/{id}/instance-settings      UpdateInstanceSettings ?clientToken
         &updateStrategy, body {"esConfig": {...}}: keys merge, "" removes a key; the instance
         is `activating` for 3*ASYNC, then `active`; 400 InstanceStatusNotSupportCurrentAction
         while activating; clientToken (lower-case c) idempotent
An unknown instance answers 404 InstanceNotFound.

Choices where the contract is silent:
  - CreateVpcEndpoint on a serviceId this emulator does not know is accepted and stays Pending
    for ever: it stands for another account's service (and keeps the older wire-form test, which
    uses a made-up serviceId, passing). The Active and zone checks apply to known services; the
    zone check only to nlb services, whose zones are their Resource.N.ZoneId values.
  - dryRun=true runs the checks and answers {"Result": {}} without creating anything.
  - endpointName is the endpointId; endpointStatus is Active (Deleting while it is deleted);
    the region in endpointDomain is the service's RegionId (cn-hangzhou for unknown services).
  - UpdateInstanceSettings also answers to POST (the docs list both); a missing or non-object
    esConfig is 400 InvalidParameter; updateStrategy other than blue_green|normal|intelligent is
    400 InvalidParameter. DescribeInstance shows the merged esConfig at once, but the REST
    cluster (esrest.py) only uses it once the instance is `active` again (the restart applies
    it). Values are stored as sent (a JSON list is accepted and read as the list of entries).
  - A second DeleteVpcEndpoint of an endpoint that is Deleting answers Result true.
  - The `slowconn` fault (CreateVpcEndpoint, optional delay_ms, default 1000) makes the next new
    endpoint of a service without auto-accept reach the service side late: it is `Connecting`
    and absent from ListVpcEndpointConnections (EnableVpcEndpointConnection answers 404
    EndpointConnectionNotFound) for delay_ms, then `Pending` as usual.
"""

import json
import re
import urllib.parse

from .core import GONE, ApiError, idempotent, iso_now, not_found_action, public, rand_id
from . import privatelink

ROUTES = [
    (r"/openapi/instances/([^/]+)", {"GET": "DescribeInstance"}),
    (r"/openapi/instances/([^/]+)/vpc-endpoints",
     {"GET": "ListVpcEndpoints", "POST": "CreateVpcEndpoint"}),
    (r"/openapi/instances/([^/]+)/vpc-endpoints/([^/]+)", {"DELETE": "DeleteVpcEndpoint"}),
    (r"/openapi/instances/([^/]+)/instance-settings",
     {"PATCH": "UpdateInstanceSettings", "POST": "UpdateInstanceSettings"}),
]
STRATEGIES = ("blue_green", "normal", "intelligent")


def instance_view(inst):
    return public(inst)


def endpoints_of(state, iid):
    return [e for e in state.endpoints.values() if e["_instance"] == iid]


def body_json(body):
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "InvalidParameter", "The request body is not JSON.")
    if not isinstance(doc, dict):
        raise ApiError(400, "InvalidParameter", "The request body is not a JSON object.")
    return doc


def new_endpoint(state, iid, svc_id, zone, region, status="Pending"):
    ep_id = rand_id("ep-")
    svc = state.services.get(svc_id)
    ep = {"endpointId": ep_id, "endpointName": ep_id,
          "endpointDomain": "%s.%s.%s.privatelink.aliyuncs.com" % (ep_id, svc_id, region),
          "serviceId": svc_id, "serviceName": svc["ServiceName"] if svc else svc_id,
          "endpointStatus": "Active", "connectionStatus": status,
          "endpointBusinessStatus": "Normal", "createTime": iso_now(),
          "_instance": iid, "_zone": zone}
    state.endpoints[ep_id] = ep
    return ep


def check_service(state, svc_id, zone):
    svc = state.services.get(svc_id)
    if svc is None:
        return None
    if svc["ServiceStatus"] != "Active":
        raise ApiError(400, "EndpointService.NotActive", "The endpoint service %s is %s, not "
                       "Active." % (svc_id, svc["ServiceStatus"]))
    zones = {r["ZoneId"] for r in svc["_resources"]}
    if svc["ServiceResourceType"] == "nlb" and zone not in zones:
        raise ApiError(400, "InvalidParameter.ZoneId", "The zone %r is not a zone of the "
                       "endpoint service %s (%s)." % (zone, svc_id, ", ".join(sorted(zones))))
    return svc


def create_endpoint(state, inst, query, body):
    doc = body_json(body)
    svc_id = doc.get("serviceId")
    if not svc_id:
        raise ApiError(400, "MissingParameter", "serviceId is mandatory.")
    zone = doc.get("zoneId", "")
    if query.get("dryRun", "false") == "true":
        check_service(state, svc_id, zone)
        return {"Result": {}}

    def create():
        svc = check_service(state, svc_id, zone)
        region = svc["RegionId"] if svc else query.get("RegionId", "cn-hangzhou")
        ep = new_endpoint(state, inst["instanceId"], svc_id, zone, region)
        slow = state.take_fault("CreateVpcEndpoint", kind="slowconn")
        if svc is not None and svc["AutoAcceptEnabled"]:
            privatelink.connect(state, ep)
        elif slow is not None:
            state.stage(ep, {"connectionStatus": "Connecting", "_unseen": True},
                        {"connectionStatus": "Pending", "_unseen": False},
                        after_s=slow.get("delay_ms", 1000) / 1000.0)
        return {"Result": {k: ep[k] for k in ("endpointId", "endpointName", "endpointDomain",
                                              "serviceId")}}
    params = dict(query)
    params["_path"] = "/openapi/instances/%s/vpc-endpoints" % inst["instanceId"]
    params["_body"] = json.dumps(doc, sort_keys=True)
    return idempotent(state, "elasticsearch", "CreateVpcEndpoint", params, create)


def delete_endpoint(state, inst, ep_id, query):
    def create():
        ep = state.endpoints.get(ep_id)
        if ep is None or ep["_instance"] != inst["instanceId"]:
            raise ApiError(404, "EndpointNotFound", "The endpoint %s is not found." % ep_id)
        if ep["connectionStatus"] != "Deleting":
            state.stage(ep, {"connectionStatus": "Deleting", "endpointStatus": "Deleting"}, GONE)
        return {"Result": True}
    params = dict(query)
    params["_path"] = "%s/%s" % (inst["instanceId"], ep_id)
    return idempotent(state, "elasticsearch", "DeleteVpcEndpoint", params, create)


def update_settings(state, inst, query, body):
    doc = body_json(body)
    changes = doc.get("esConfig")
    if not isinstance(changes, dict):
        raise ApiError(400, "InvalidParameter", "esConfig must be a JSON object.")
    if query.get("updateStrategy", "normal") not in STRATEGIES:
        raise ApiError(400, "InvalidParameter", "updateStrategy must be one of %s."
                       % ", ".join(STRATEGIES))

    def create():
        if inst["status"] != "active":
            raise ApiError(400, "InstanceStatusNotSupportCurrentAction", "The instance %s is "
                           "%s; this action needs it active." % (inst["instanceId"],
                                                                 inst["status"]))
        merged = dict(inst["esConfig"])
        for k, v in changes.items():
            if v == "":
                merged.pop(k, None)
            else:
                merged[k] = v
        state.stage(inst, {"status": "activating", "esConfig": merged},
                    {"status": "active", "_live_config": dict(merged)},
                    after_s=3 * state.async_s)
        return {"Result": instance_view(inst)}
    params = dict(query)
    params["_path"] = inst["instanceId"]
    params["_body"] = json.dumps(doc, sort_keys=True)
    return idempotent(state, "elasticsearch", "UpdateInstanceSettings", params, create,
                      token_name="clientToken")


def route(method, path):
    for pattern, methods in ROUTES:
        m = re.fullmatch(pattern, path)
        if m is not None and method in methods:
            return methods[method], [urllib.parse.unquote(g) for g in m.groups()]
    raise not_found_action()


def action(state, method, path, query_pairs, body, ctx):
    """-> (action name, answer)."""
    name, groups = route(method, path)
    inst = state.es.get(groups[0])
    if inst is None:
        raise ApiError(404, "InstanceNotFound",
                       "The specified instance does not exist. Check the instanceId please.")
    query = dict(query_pairs)
    if name == "DescribeInstance":
        return name, {"Result": instance_view(inst)}
    if name == "ListVpcEndpoints":
        eps = [public(e) for e in endpoints_of(state, inst["instanceId"])]
        return name, {"Result": eps, "Headers": {"X-Total-Count": len(eps)}}
    if name == "CreateVpcEndpoint":
        return name, create_endpoint(state, inst, query, body)
    if name == "DeleteVpcEndpoint":
        return name, delete_endpoint(state, inst, groups[1], query)
    return name, update_settings(state, inst, query, body)
