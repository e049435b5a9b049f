"""The emulator's wire contract (/tmp/plprov-contract.md) walked end to end with the real client.

Every call goes through tests/support/apiclient_driver.c (libcurl, the C signer, the retry loop)
against tests/support/emulator.py, which checks each signature with its own implementation. The
walks build and tear down both topologies (nlb-ip with a real _reindex through the emulated
private path into the local ES REST cluster, and clb-ecs), then the error codes, faults and
async statuses one by one. Tests wait for statuses with a deadline and assert statuses, codes and
recorded events, never durations. Everything binds 127.0.0.1.

Run by hand:
    PLPROV_APICLIENT_DRIVER=build/tests/apiclient_driver \\
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_emulator_flows.py
"""

import json
import os
import subprocess
import time

import pytest

from emulatorproc import Emulator

DRIVER = os.environ.get("PLPROV_APICLIENT_DRIVER", "")
SANITIZE = os.environ.get("PLRELAY_SANITIZE", "OFF").upper() in ("ON", "1", "TRUE")
KEY_ID, SECRET = "testid", "flows-secret-0123456789"
ES_ID = "es-cn-flows"
REGION = "cn-hangzhou"
ZONES = [("cn-hangzhou-i", "vsw-i"), ("cn-hangzhou-j", "vsw-j")]
FAST = ["--base-delay-ms", "20", "--max-delay-ms", "100"]
WAIT_S = 30.0
SLOW_MS = 600000  # "never" within a test: interim statuses stay put

pytestmark = pytest.mark.skipif(not DRIVER, reason="PLPROV_APICLIENT_DRIVER is not set")


@pytest.fixture
def emu():
    e = Emulator(KEY_ID, SECRET, ES_ID, async_ms=150)
    yield e
    e.stop()


@pytest.fixture
def slow_emu():
    e = Emulator(KEY_ID, SECRET, ES_ID, async_ms=SLOW_MS)
    yield e
    e.stop()


class CallFailed(AssertionError):
    def __init__(self, out):
        super().__init__(json.dumps(out))
        self.out = out


def call(emu, product, action, *params, method=None, path=None, body=None, opts=()):
    """One API call through the C driver; -> the answer body, or raises CallFailed."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent",
           "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    cmd = [DRIVER, "--endpoint", emu.url] + FAST + list(opts)
    if method is not None:
        cmd += ["--method", method, "--path", path]
    if body is not None:
        cmd += ["--body", json.dumps(body)]
    if product != "elasticsearch" and not any(
            p.startswith("RegionId=") for p in params):
        params = ("RegionId=" + REGION,) + params
    p = subprocess.run(cmd + [product, action] + list(params), env=env, capture_output=True,
                       text=True, timeout=120)
    if SANITIZE:
        assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    assert p.stdout.strip(), p.stderr
    out = json.loads(p.stdout)
    if p.returncode != 0:
        raise CallFailed(out)
    return out["body"]


def fails(emu, product, action, *params, **kw):
    """The error of a call expected to fail (one attempt, no retries)."""
    kw["opts"] = list(kw.get("opts", ())) + ["--max-attempts", "1"]
    with pytest.raises(CallFailed) as e:
        call(emu, product, action, *params, **kw)
    return e.value.out


def es(emu, action, method, suffix="", body=None, *params):
    return call(emu, "elasticsearch", action, *params, method=method,
                path="/openapi/instances/%s%s" % (ES_ID, suffix), body=body)


def wait_for(what, probe, done):
    """Polls probe() until done(value) or the deadline; -> the last value."""
    deadline = time.monotonic() + WAIT_S
    while True:
        value = probe()
        if done(value):
            return value
        assert time.monotonic() < deadline, "%s: still %r" % (what, value)
        time.sleep(0.05)


def job_done(emu, job_id):
    jobs = wait_for("job %s" % job_id,
                    lambda: call(emu, "nlb", "ListAsynJobs", "JobIds.1=" + job_id)["Jobs"],
                    lambda j: j and j[0]["Status"] != "Processing")
    assert jobs[0]["Status"] == "Succeeded" and jobs[0]["Id"] == job_id


def nlb_status(emu, lb_id):
    return call(emu, "nlb", "GetLoadBalancerAttribute", "LoadBalancerId=" + lb_id)[
        "LoadBalancerStatus"]


def endpoint(emu, ep_id):
    eps = [e for e in es(emu, "ListVpcEndpoints", "GET", "/vpc-endpoints", None, "page=1",
                         "size=100")["Result"] if e["endpointId"] == ep_id]
    return eps[0] if eps else None


def connection(emu, svc_id, ep_id):
    conns = [c for c in call(emu, "privatelink", "ListVpcEndpointConnections",
                             "ServiceId=" + svc_id)["Connections"] if c["EndpointId"] == ep_id]
    return conns[0]["ConnectionStatus"] if conns else None


def instance(emu):
    return es(emu, "DescribeInstance", "GET")["Result"]


def set_whitelist(emu, value, token):
    r = es(emu, "UpdateInstanceSettings", "PATCH", "/instance-settings",
           {"esConfig": {"reindex.remote.whitelist": value}}, "clientToken=" + token,
           "updateStrategy=normal")
    assert r["Result"]["status"] == "activating"
    return wait_for("instance active", lambda: instance(emu), lambda i: i["status"] == "active")


def service_status(emu, svc_id):
    try:
        return call(emu, "privatelink", "GetVpcEndpointServiceAttribute",
                    "ServiceId=" + svc_id)["ServiceStatus"]
    except CallFailed as e:
        return e.out["code"]


def reindex(emu, host, src="src", dst="dst", user="elastic", password=None, local_pw=None):
    body = {"source": {"remote": {"host": host, "username": user,
                                  "password": password or emu.passwords["remote"]},
                       "index": src}, "dest": {"index": dst}}
    return emu.es_request("local", "POST", "/_reindex?wait_for_completion=true&refresh=true",
                          body, password=local_pw)


def build_nlb(emu, target_port):
    lb = call(emu, "nlb", "CreateLoadBalancer", "RegionId=" + REGION,
              "LoadBalancerType=Network", "AddressType=Intranet", "AddressIpVersion=ipv4",
              "VpcId=vpc-emulator", "ZoneMappings.1.ZoneId=" + ZONES[0][0],
              "ZoneMappings.1.VSwitchId=" + ZONES[0][1], "ZoneMappings.2.ZoneId=" + ZONES[1][0],
              "ZoneMappings.2.VSwitchId=" + ZONES[1][1], "LoadBalancerName=plrelay-flow",
              "LoadBalancerBillingConfig.PayType=PostPay", "ClientToken=tok-nlb")
    lb_id = lb["LoadbalancerId"]
    assert lb["JobId"] and lb["OrderId"]
    wait_for("nlb Active", lambda: nlb_status(emu, lb_id), lambda s: s == "Active")
    attr = call(emu, "nlb", "GetLoadBalancerAttribute", "LoadBalancerId=" + lb_id)
    assert attr["DNSName"] == "%s.%s.nlb.aliyuncsslb.com" % (lb_id, REGION)
    assert [(z["ZoneId"], z["VSwitchId"]) for z in attr["ZoneMappings"]] == ZONES
    sg = call(emu, "nlb", "CreateServerGroup", "RegionId=" + REGION,
              "ServerGroupName=plrelay-flow", "ServerGroupType=Ip", "VpcId=vpc-emulator",
              "Protocol=TCP", "Scheduler=Wrr", "HealthCheckConfig.HealthCheckEnabled=true",
              "HealthCheckConfig.HealthCheckType=TCP", "ClientToken=tok-sg")
    sg_id = sg["ServerGroupId"]
    job_done(emu, sg["JobId"])
    groups = call(emu, "nlb", "ListServerGroups", "ServerGroupIds.1=" + sg_id)["ServerGroups"]
    assert groups[0]["ServerGroupStatus"] == "Available" and groups[0]["ServerCount"] == 0
    server = ["Servers.1.ServerId=127.0.0.1", "Servers.1.ServerType=Ip",
              "Servers.1.ServerIp=127.0.0.1", "Servers.1.Port=%d" % target_port]
    add = call(emu, "nlb", "AddServersToServerGroup", "RegionId=" + REGION,
               "ServerGroupId=" + sg_id, *server, "Servers.1.Weight=100", "ClientToken=tok-add")
    job_done(emu, add["JobId"])
    servers = call(emu, "nlb", "ListServerGroupServers", "ServerGroupId=" + sg_id)
    assert servers["TotalCount"] == 1 and servers["NextToken"] == ""
    assert servers["Servers"][0]["Status"] == "Available"
    assert servers["Servers"][0]["Port"] == target_port
    lsn = call(emu, "nlb", "CreateListener", "RegionId=" + REGION, "LoadBalancerId=" + lb_id,
               "ListenerProtocol=TCP", "ListenerPort=9200", "ServerGroupId=" + sg_id,
               "ListenerDescription=plrelay", "ClientToken=tok-lsn")
    lsn_id = lsn["ListenerId"]
    assert lsn_id.startswith("lsn-") and lsn_id.endswith("@9200")
    wait_for("listener Running", lambda: call(emu, "nlb", "GetListenerAttribute",
                                              "ListenerId=" + lsn_id)["ListenerStatus"],
             lambda s: s == "Running")
    return lb_id, sg_id, lsn_id, server


def nlb_service(emu, lb_id, auto_accept="false"):
    svc = call(emu, "privatelink", "CreateVpcEndpointService", "ServiceResourceType=nlb",
               "Resource.1.ResourceType=nlb", "Resource.1.ResourceId=" + lb_id,
               "Resource.1.ZoneId=" + ZONES[0][0], "Resource.2.ResourceType=nlb",
               "Resource.2.ResourceId=" + lb_id, "Resource.2.ZoneId=" + ZONES[1][0],
               "AutoAcceptEnabled=" + auto_accept, "ServiceDescription=plrelay",
               "Payer=Endpoint", "ClientToken=tok-svc")
    assert svc["ServiceStatus"] in ("Creating", "Active")
    wait_for("service Active", lambda: service_status(emu, svc["ServiceId"]),
             lambda s: s == "Active")
    return svc["ServiceId"]


def create_endpoint(emu, svc_id, zone, token):
    return es(emu, "CreateVpcEndpoint", "POST", "/vpc-endpoints",
              {"serviceId": svc_id, "zoneId": zone}, "ClientToken=" + token,
              "dryRun=false")["Result"]


def test_the_driver_binary_exists():
    assert os.access(DRIVER, os.X_OK), "PLPROV_APICLIENT_DRIVER=%r is not executable" % DRIVER


def test_nlb_ip_flow_builds_reindexes_and_tears_down(emu):
    assert emu.es_docs("remote", "src", 5) == 5
    lb_id, sg_id, lsn_id, server = build_nlb(emu, emu.remote_rest_port)
    svc_id = nlb_service(emu, lb_id)
    attr = call(emu, "privatelink", "GetVpcEndpointServiceAttribute", "ServiceId=" + svc_id)
    assert attr["AutoAcceptEnabled"] is False and attr["ServiceResourceType"] == "nlb"
    ep = create_endpoint(emu, svc_id, ZONES[0][0], "tok-ep")
    assert ep["endpointDomain"] == "%s.%s.%s.privatelink.aliyuncs.com" % (
        ep["endpointId"], svc_id, REGION)
    assert endpoint(emu, ep["endpointId"])["connectionStatus"] == "Pending"
    assert connection(emu, svc_id, ep["endpointId"]) == "Pending"
    host = "http://%s:9200" % ep["endpointDomain"]
    status, doc = reindex(emu, host)
    assert status == 400 and "not whitelisted in reindex.remote.whitelist" in json.dumps(doc)

    call(emu, "privatelink", "EnableVpcEndpointConnection", "ServiceId=" + svc_id,
         "EndpointId=" + ep["endpointId"])
    wait_for("connected", lambda: endpoint(emu, ep["endpointId"])["connectionStatus"],
             lambda s: s == "Connected")
    assert connection(emu, svc_id, ep["endpointId"]) == "Connected"
    inst = set_whitelist(emu, ep["endpointDomain"] + ":9200", "tok-wl")
    assert inst["esConfig"]["reindex.remote.whitelist"] == ep["endpointDomain"] + ":9200"
    assert emu.resources()["whitelist"] == ep["endpointDomain"] + ":9200"

    status, doc = reindex(emu, host)
    assert status == 200, doc
    assert (doc["total"], doc["created"], doc["updated"], doc["failures"]) == (5, 5, 0, [])
    assert emu.es_request("local", "GET", "/dst/_count")[1]["count"] == 5
    assert emu.es_request("remote", "GET", "/src/_count")[1]["count"] == 5
    emu.es_docs("remote", "src", 2)
    status, doc = reindex(emu, host)
    assert status == 200 and (doc["created"], doc["updated"]) == (2, 5)
    res = emu.resources()
    for kind, ids in (("nlb", [lb_id]), ("server_groups", [sg_id]), ("nlb_listeners", [lsn_id]),
                      ("services", [svc_id]), ("endpoints", [ep["endpointId"]])):
        assert res[kind] == ids, kind
    assert len(res["servers"]) == 1

    # teardown, in reverse
    assert fails(emu, "nlb", "DeleteLoadBalancer", "LoadBalancerId=" + lb_id,
                 "ClientToken=tok-del-early")["code"] == "DependencyViolation.EndpointService"
    assert fails(emu, "privatelink", "DeleteVpcEndpointService",
                 "ServiceId=" + svc_id)["code"] == "EndpointServiceConnectionDependence"
    assert es(emu, "DeleteVpcEndpoint", "DELETE", "/vpc-endpoints/" + ep["endpointId"], None,
              "ClientToken=tok-ep-del")["Result"] is True
    wait_for("endpoint gone", lambda: endpoint(emu, ep["endpointId"]), lambda e: e is None)
    assert connection(emu, svc_id, ep["endpointId"]) is None
    inst = set_whitelist(emu, "", "tok-wl-clear")
    assert "reindex.remote.whitelist" not in inst["esConfig"]
    call(emu, "privatelink", "DeleteVpcEndpointService", "ServiceId=" + svc_id)
    wait_for("service gone", lambda: service_status(emu, svc_id),
             lambda s: s == "EndpointServiceNotFound")
    job_done(emu, call(emu, "nlb", "DeleteListener", "RegionId=" + REGION,
                       "ListenerId=" + lsn_id, "ClientToken=tok-lsn-del")["JobId"])
    assert fails(emu, "nlb", "GetListenerAttribute",
                 "ListenerId=" + lsn_id)["code"] == "ResourceNotFound.listener"
    job_done(emu, call(emu, "nlb", "RemoveServersFromServerGroup", "RegionId=" + REGION,
                       "ServerGroupId=" + sg_id, *server)["JobId"])
    job_done(emu, call(emu, "nlb", "DeleteServerGroup", "RegionId=" + REGION,
                       "ServerGroupId=" + sg_id, "ClientToken=tok-sg-del")["JobId"])
    job_done(emu, call(emu, "nlb", "DeleteLoadBalancer", "RegionId=" + REGION,
                       "LoadBalancerId=" + lb_id, "ClientToken=tok-nlb-del")["JobId"])
    assert fails(emu, "nlb", "GetLoadBalancerAttribute",
                 "LoadBalancerId=" + lb_id)["code"] == "ResourceNotFound.loadBalancer"
    res = emu.resources()
    assert all(res[k] == [] for k in res["counts"]), res
    assert res["whitelist"] == "" and res["jobs_processing"] == []
    assert all(r["signature_ok"] for r in emu.requests())


def clb_health(emu, lb_id):
    rows = call(emu, "slb", "DescribeHealthStatus", "LoadBalancerId=" + lb_id)
    return sorted((r["ListenerPort"], r["ServerId"], r["ServerHealthStatus"])
                  for r in rows["BackendServers"]["BackendServer"])


def test_clb_ecs_flow_builds_and_tears_down(emu):
    lb = call(emu, "slb", "CreateLoadBalancer", "AddressType=intranet", "VSwitchId=vsw-emulator",
              "VpcId=vpc-emulator", "LoadBalancerSpec=slb.s1.small",
              "LoadBalancerName=plrelay-clb", "PayType=PayOnDemand", "AddressIPVersion=ipv4",
              "DeleteProtection=off", "Address=10.0.5.6", "ClientToken=tok-clb")
    lb_id = lb["LoadBalancerId"]
    assert lb["Address"] == "10.0.5.6" and lb["NetworkType"] == "vpc"
    attr = lambda: call(emu, "slb", "DescribeLoadBalancerAttribute",  # noqa: E731
                        "LoadBalancerId=" + lb_id)
    wait_for("clb active", lambda: attr()["LoadBalancerStatus"], lambda s: s == "active")
    for port in (389, 3128):
        call(emu, "slb", "CreateLoadBalancerTCPListener", "LoadBalancerId=" + lb_id,
             "ListenerPort=%d" % port, "BackendServerPort=%d" % port, "Bandwidth=-1",
             "Scheduler=wrr", "HealthCheckType=tcp", "HealthCheckConnectPort=%d" % port,
             "Description=plrelay")
    assert fails(emu, "slb", "CreateLoadBalancerTCPListener", "LoadBalancerId=" + lb_id,
                 "ListenerPort=389", "BackendServerPort=389",
                 "Bandwidth=-1")["code"] == "ListenerAlreadyExists"
    tcp = lambda port: call(emu, "slb", "DescribeLoadBalancerTCPListenerAttribute",  # noqa
                            "LoadBalancerId=" + lb_id, "ListenerPort=%d" % port)
    assert tcp(389)["Status"] == "stopped" and tcp(389)["BackendServerPort"] == 389
    added = call(emu, "slb", "AddBackendServers", "LoadBalancerId=" + lb_id, "BackendServers="
                 + json.dumps([{"ServerId": i, "Weight": "100", "Type": "ecs"}
                               for i in ("i-relay1", "i-relay2")]))
    assert [b["ServerId"] for b in added["BackendServers"]["BackendServer"]] == [
        "i-relay1", "i-relay2"]
    assert fails(emu, "slb", "AddBackendServers", "LoadBalancerId=" + lb_id,
                 'BackendServers=[{"ServerId":"i-relay1","Type":"ecs"}]'
                 )["code"] == "BackendServer.AlreadyExists"
    assert {r[2] for r in clb_health(emu, lb_id)} == {"unavailable"}
    for port in (389, 3128):
        call(emu, "slb", "StartLoadBalancerListener", "LoadBalancerId=" + lb_id,
             "ListenerPort=%d" % port)
        wait_for("listener running", lambda: tcp(port)["Status"], lambda s: s == "running")
    assert clb_health(emu, lb_id) == [(389, "i-relay1", "normal"), (389, "i-relay2", "normal"),
                                      (3128, "i-relay1", "normal"), (3128, "i-relay2", "normal")]
    emu.health("i-relay2", "abnormal")
    assert {(r[1], r[2]) for r in clb_health(emu, lb_id)} == {("i-relay1", "normal"),
                                                              ("i-relay2", "abnormal")}
    emu.health("i-relay2", "normal")
    assert {r[2] for r in clb_health(emu, lb_id)} == {"normal"}
    a = attr()
    assert [p["ListenerPort"] for p in a["ListenerPortsAndProtocol"]["ListenerPortAndProtocol"]
            ] == [389, 3128]

    svc = call(emu, "privatelink", "CreateVpcEndpointService", "ServiceResourceType=slb",
               "Resource.1.ResourceType=slb", "Resource.1.ResourceId=" + lb_id,
               "AutoAcceptEnabled=true", "ServiceDescription=plrelay", "Payer=Endpoint",
               "ClientToken=tok-clb-svc")
    svc_id = svc["ServiceId"]
    wait_for("service Active", lambda: service_status(emu, svc_id), lambda s: s == "Active")
    assert call(emu, "privatelink", "ListVpcEndpointServices", "ResourceId=" + lb_id
                )["Services"][0]["ServiceId"] == svc_id
    ep = create_endpoint(emu, svc_id, "cn-hangzhou-k", "tok-clb-ep")
    wait_for("auto-accepted", lambda: connection(emu, svc_id, ep["endpointId"]),
             lambda s: s == "Connected")
    assert fails(emu, "slb", "DeleteLoadBalancer", "LoadBalancerId=" + lb_id
                 )["code"] == "DependencyViolation.EndpointService"

    # teardown: disconnect, delete the service (the endpoint turns ServiceDeleted), then the CLB
    call(emu, "privatelink", "DisableVpcEndpointConnection", "ServiceId=" + svc_id,
         "EndpointId=" + ep["endpointId"])
    wait_for("disconnected", lambda: connection(emu, svc_id, ep["endpointId"]),
             lambda s: s == "Disconnected")
    call(emu, "privatelink", "DeleteVpcEndpointService", "ServiceId=" + svc_id)
    wait_for("service gone", lambda: service_status(emu, svc_id),
             lambda s: s == "EndpointServiceNotFound")
    assert endpoint(emu, ep["endpointId"])["connectionStatus"] == "ServiceDeleted"
    es(emu, "DeleteVpcEndpoint", "DELETE", "/vpc-endpoints/" + ep["endpointId"])
    wait_for("endpoint gone", lambda: endpoint(emu, ep["endpointId"]), lambda e: e is None)
    call(emu, "slb", "StopLoadBalancerListener", "LoadBalancerId=" + lb_id, "ListenerPort=389")
    assert tcp(389)["Status"] == "stopped"
    assert {r[2] for r in clb_health(emu, lb_id) if r[0] == 389} == {"unavailable"}
    for port in (389, 3128):
        call(emu, "slb", "DeleteLoadBalancerListener", "LoadBalancerId=" + lb_id,
             "ListenerPort=%d" % port, "ListenerProtocol=tcp")
    assert fails(emu, "slb", "DescribeLoadBalancerTCPListenerAttribute", "LoadBalancerId="
                 + lb_id, "ListenerPort=389")["code"] == "Listener.NotFound"
    left = call(emu, "slb", "RemoveBackendServers", "LoadBalancerId=" + lb_id, "BackendServers="
                + json.dumps([{"ServerId": i, "Type": "ecs"} for i in ("i-relay1", "i-gone")]))
    assert [b["ServerId"] for b in left["BackendServers"]["BackendServer"]] == ["i-relay2"]
    call(emu, "slb", "DeleteLoadBalancer", "LoadBalancerId=" + lb_id)
    res = emu.resources()
    assert all(res[k] == [] for k in res["counts"]), res


def test_interim_statuses_jobs_and_locks_while_work_is_in_progress(slow_emu):
    emu = slow_emu  # ASYNC is far longer than the test: every interim status stays put
    zone_args = ["VpcId=vpc-emulator", "ZoneMappings.1.ZoneId=" + ZONES[0][0],
                 "ZoneMappings.1.VSwitchId=" + ZONES[0][1]]
    assert fails(emu, "nlb", "CreateLoadBalancer", *zone_args
                 )["code"] == "InvalidParameter.ZoneMappings"
    lb = call(emu, "nlb", "CreateLoadBalancer", *zone_args,
              "ZoneMappings.2.ZoneId=" + ZONES[1][0], "ZoneMappings.2.VSwitchId=" + ZONES[1][1],
              "LoadBalancerName=slow", "ClientToken=tok-slow")
    lb_id = lb["LoadbalancerId"]
    assert nlb_status(emu, lb_id) == "Provisioning"
    assert call(emu, "nlb", "ListLoadBalancers", "LoadBalancerNames.1=slow"
                )["LoadBalancers"][0]["LoadBalancerStatus"] == "Provisioning"
    jobs = call(emu, "nlb", "ListAsynJobs", "JobIds.1=" + lb["JobId"], "JobIds.2=job-unknown")
    assert [(j["Id"], j["Status"], j["ResourceId"]) for j in jobs["Jobs"]] == [
        (lb["JobId"], "Processing", lb_id)]
    assert jobs["TotalCount"] == 1
    sg = call(emu, "nlb", "CreateServerGroup", "ServerGroupName=slow", "ServerGroupType=Ip",
              "VpcId=vpc-emulator", "Protocol=TCP", "ClientToken=tok-slow-sg")
    assert call(emu, "nlb", "ListServerGroups", "ServerGroupIds.1=" + sg["ServerGroupId"]
                )["ServerGroups"][0]["ServerGroupStatus"] == "Creating"
    assert fails(emu, "nlb", "CreateListener", "LoadBalancerId=" + lb_id,
                 "ListenerProtocol=TCP", "ListenerPort=9200", "ServerGroupId="
                 + sg["ServerGroupId"])["code"] == "IncorrectStatus.loadBalancer"
    server = ["Servers.1.ServerId=10.0.0.9", "Servers.1.ServerType=Ip", "Servers.1.Port=9200"]
    out = fails(emu, "nlb", "AddServersToServerGroup", "ServerGroupId=" + sg["ServerGroupId"],
                *server)
    assert out["code"] == "Conflict.Lock" and out["kind"] == "retryable"
    assert fails(emu, "nlb", "DeleteLoadBalancer", "LoadBalancerId=" + lb_id
                 )["code"] == "Conflict.Lock"
    # the same ClientToken gets the first answer back, lock or not
    again = call(emu, "nlb", "CreateServerGroup", "ServerGroupName=slow", "ServerGroupType=Ip",
                 "VpcId=vpc-emulator", "Protocol=TCP", "ClientToken=tok-slow-sg")
    assert again == dict(sg, RequestId=again["RequestId"])
    assert len(emu.resources()["server_groups"]) == 1
    assert emu.resources()["jobs_processing"] == [lb["JobId"], sg["JobId"]]

    clb = call(emu, "slb", "CreateLoadBalancer", "LoadBalancerName=slow-clb")
    assert call(emu, "slb", "DescribeLoadBalancerAttribute", "LoadBalancerId="
                + clb["LoadBalancerId"])["LoadBalancerStatus"] == "inactive"
    assert fails(emu, "slb", "CreateLoadBalancerTCPListener", "LoadBalancerId="
                 + clb["LoadBalancerId"], "ListenerPort=389", "BackendServerPort=389",
                 "Bandwidth=-1")["code"] == "IncorrectStatus.LoadBalancer"
    assert fails(emu, "slb", "AddBackendServers", "LoadBalancerId=" + clb["LoadBalancerId"],
                 'BackendServers=[{"ServerId":"10.0.0.1"}]')["code"] == "InvalidParameter"
    assert fails(emu, "privatelink", "CreateVpcEndpointService", "ServiceResourceType=nlb",
                 "Resource.1.ResourceType=nlb", "Resource.1.ResourceId=nlb-missing",
                 "Resource.1.ZoneId=" + ZONES[0][0])["code"] == "ResourceNotFound.Resource"
    svc = call(emu, "privatelink", "CreateVpcEndpointService", "ServiceResourceType=slb",
               "Resource.1.ResourceType=slb", "Resource.1.ResourceId=" + clb["LoadBalancerId"])
    assert svc["ServiceStatus"] == "Creating"
    out = fails(emu, "elasticsearch", "CreateVpcEndpoint", method="POST",
                path="/openapi/instances/%s/vpc-endpoints" % ES_ID,
                body={"serviceId": svc["ServiceId"], "zoneId": ZONES[0][0]})
    assert out["code"] == "EndpointService.NotActive"

    r = es(emu, "UpdateInstanceSettings", "PATCH", "/instance-settings",
           {"esConfig": {"reindex.remote.whitelist": "a:9200"}}, "clientToken=tok-yml",
           "updateStrategy=normal")
    assert r["Result"]["status"] == "activating" and instance(emu)["status"] == "activating"
    r2 = es(emu, "UpdateInstanceSettings", "PATCH", "/instance-settings",
            {"esConfig": {"reindex.remote.whitelist": "a:9200"}}, "clientToken=tok-yml",
            "updateStrategy=normal")
    assert r2["Result"] == r["Result"]
    out = fails(emu, "elasticsearch", "UpdateInstanceSettings", "clientToken=tok-yml-2",
                method="PATCH", path="/openapi/instances/%s/instance-settings" % ES_ID,
                body={"esConfig": {"x": "y"}})
    assert out["code"] == "InstanceStatusNotSupportCurrentAction"
    assert instance(emu)["esConfig"] == {"reindex.remote.whitelist": "a:9200"}


def test_not_found_codes_of_every_product(emu):
    cases = [
        (["slb", "DescribeLoadBalancerAttribute", "LoadBalancerId=lb-x"],
         "InvalidLoadBalancerId.NotFound"),
        (["nlb", "GetLoadBalancerAttribute", "LoadBalancerId=nlb-x"],
         "ResourceNotFound.loadBalancer"),
        (["nlb", "GetListenerAttribute", "ListenerId=lsn-x@9200"], "ResourceNotFound.listener"),
        (["privatelink", "GetVpcEndpointServiceAttribute", "ServiceId=epsrv-x"],
         "EndpointServiceNotFound"),
    ]
    for args, code in cases:
        assert fails(emu, *args)["code"] == code, args
    made = emu.seed(topology="clb-ecs", listener_ports=[389], ecs=["i-a"], stage="service")
    assert fails(emu, "slb", "DescribeLoadBalancerTCPListenerAttribute", "LoadBalancerId="
                 + made["lb_id"], "ListenerPort=3128")["code"] == "Listener.NotFound"
    assert fails(emu, "slb", "DeleteLoadBalancerListener", "LoadBalancerId=" + made["lb_id"],
                 "ListenerPort=3128")["code"] == "Listener.NotFound"
    assert fails(emu, "privatelink", "EnableVpcEndpointConnection", "ServiceId="
                 + made["service_id"], "EndpointId=ep-x")["code"] == "EndpointConnectionNotFound"
    out = fails(emu, "elasticsearch", "DeleteVpcEndpoint", method="DELETE",
                path="/openapi/instances/%s/vpc-endpoints/ep-x" % ES_ID)
    assert out["code"] == "EndpointNotFound"


def test_nlb_conflicts_and_dependencies(emu):
    made = emu.seed(topology="nlb-ip", stage="lb", target_ip="10.0.0.7")
    lb_id = made["lb_id"]
    lsn = call(emu, "nlb", "ListListeners", "LoadBalancerIds.1=" + lb_id)["Listeners"][0]
    sg_id = lsn["ServerGroupId"]
    assert fails(emu, "nlb", "CreateListener", "LoadBalancerId=" + lb_id, "ListenerProtocol=TCP",
                 "ListenerPort=9200", "ServerGroupId=" + sg_id)["code"] == "Conflict.Port"
    assert fails(emu, "nlb", "AddServersToServerGroup", "ServerGroupId=" + sg_id,
                 "Servers.1.ServerId=10.0.0.7", "Servers.1.ServerType=Ip",
                 "Servers.1.Port=9200")["code"] == "ResourceAlreadyAssociated.server"
    assert fails(emu, "nlb", "DeleteServerGroup", "ServerGroupId=" + sg_id
                 )["code"] == "ResourceInUse.serverGroup"
    # deleting the NLB takes its listener with it; then the group can go
    job_done(emu, call(emu, "nlb", "DeleteLoadBalancer", "LoadBalancerId=" + lb_id)["JobId"])
    assert emu.resources()["nlb_listeners"] == []
    job_done(emu, call(emu, "nlb", "DeleteServerGroup", "ServerGroupId=" + sg_id)["JobId"])
    res = emu.resources()
    assert res["server_groups"] == [] and res["servers"] == []


def test_faults_pending_lock_and_late(emu):
    made = emu.seed(topology="nlb-ip", connection_status="Pending")
    enable = ["EnableVpcEndpointConnection", "ServiceId=" + made["service_id"],
              "EndpointId=" + made["endpoint_id"]]
    emu.fault("pending", count=1)
    call(emu, "privatelink", *enable)
    assert connection(emu, made["service_id"], made["endpoint_id"]) == "Pending"
    assert [r["fault"] for r in emu.requests("EnableVpcEndpointConnection")] == ["pending"]
    call(emu, "privatelink", *enable)
    wait_for("connected", lambda: connection(emu, made["service_id"], made["endpoint_id"]),
             lambda s: s == "Connected")
    call(emu, "privatelink", *enable)  # idempotent once Connected

    emu.fault("lock", count=1, action="CreateServerGroup")
    sg_args = ["CreateServerGroup", "ServerGroupName=late", "ServerGroupType=Ip",
               "VpcId=vpc-emulator", "ClientToken=tok-late"]
    first = call(emu, "nlb", *sg_args)
    assert [r["fault"] for r in emu.requests("CreateServerGroup")] == ["lock", None]
    # late: the server does the work, the client gives up waiting and retries the same token
    emu.fault("late", count=1, action="CreateServerGroup", delay_ms=5000)
    sg_args[-1] = "ClientToken=tok-late-2"
    second = call(emu, "nlb", *sg_args, opts=["--timeout-ms", "500"])
    seen = emu.requests("CreateServerGroup")[2:]
    assert seen[0]["fault"] == "late" and seen[0]["status"] == 200
    assert len(seen) >= 2 and all(r["fault"] is None for r in seen[1:])
    assert {r["client_token"] for r in seen} == {"tok-late-2"}
    ids = [first["ServerGroupId"], second["ServerGroupId"]]
    assert len(set(ids)) == 2
    assert sorted(emu.resources()["server_groups"]) == sorted(
        ids + [call(emu, "nlb", "ListListeners")["Listeners"][0]["ServerGroupId"]])


def test_fault_hide_keeps_a_new_resource_out_of_lists_for_n_answers(emu):
    emu.fault("hide", count=1, action="CreateServerGroup", lists=2)
    sg_args = ["CreateServerGroup", "ServerGroupName=hidden", "ServerGroupType=Ip",
               "VpcId=vpc-emulator", "ClientToken=tok-hide"]
    sg_id = call(emu, "nlb", *sg_args)["ServerGroupId"]
    assert [r["fault"] for r in emu.requests("CreateServerGroup")] == ["hide"]
    by_name = ["ListServerGroups", "ServerGroupNames.1=hidden"]
    assert call(emu, "nlb", "ListServerGroups", "ServerGroupNames.1=other")["ServerGroups"] == []
    assert call(emu, "nlb", *by_name)["ServerGroups"] == []
    assert call(emu, "nlb", "ListServerGroupServers", "ServerGroupId=" + sg_id)["TotalCount"] == 0
    assert call(emu, "nlb", *by_name)["ServerGroups"] == []
    # the same token is answered with the same group, before and after it shows up again
    assert call(emu, "nlb", *sg_args)["ServerGroupId"] == sg_id
    assert [g["ServerGroupId"] for g in call(emu, "nlb", *by_name)["ServerGroups"]] == [sg_id]
    assert emu.resources()["server_groups"] == [sg_id]


def test_reindex_failures_name_the_broken_hop(emu):
    emu.es_docs("remote", "src", 3)
    made = emu.seed(topology="nlb-ip", target_ip="127.0.0.1", target_port=emu.remote_rest_port,
                    whitelist=True)
    host = "http://%s:9200" % made["endpoint_domain"]
    status, doc = reindex(emu, host, local_pw="wrong")
    assert status == 401 and doc["error"]["type"] == "security_exception"
    assert doc["error"]["reason"] == "unable to authenticate user [elastic]"
    status, doc = reindex(emu, host, password="wrong")
    assert status == 401 and doc["error"]["type"] == "status_exception"
    assert "status 401" in doc["error"]["reason"]
    status, doc = reindex(emu, host, src="nope")
    assert status == 404
    status, doc = reindex(emu, "http://other.example:9200")
    assert status == 400 and doc["error"]["type"] == "illegal_argument_exception"
    assert doc["error"]["reason"] == ("[other.example:9200] not whitelisted in "
                                      "reindex.remote.whitelist")
    status, doc = reindex(emu, host)
    assert status == 200 and doc["total"] == 3
    call(emu, "privatelink", "DisableVpcEndpointConnection", "ServiceId=" + made["service_id"],
         "EndpointId=" + made["endpoint_id"])
    status, doc = reindex(emu, host)
    assert status == 500 and doc["error"]["type"] == "connect_exception"
    assert made["endpoint_id"] in doc["error"]["reason"]
    status, doc = emu.es_request("remote", "GET", "/src/_count", password="wrong")
    assert status == 401
    assert emu.es_request("local", "POST", "/dst/_refresh")[0] == 200
    assert emu.es_request("local", "DELETE", "/dst") == (200, {"acknowledged": True})
    status, doc = emu.es_request("local", "GET", "/dst/_count")
    assert status == 404 and doc["error"]["type"] == "index_not_found_exception"


def test_reindex_never_leaves_loopback(emu):
    made = emu.seed(topology="nlb-ip", target_ip="192.168.10.20", whitelist=True)
    status, doc = reindex(emu, "http://%s:9200" % made["endpoint_domain"])
    assert status == 500 and "loopback" in doc["error"]["reason"]


def test_seed_builds_final_states_visible_through_the_api(emu):
    made = emu.seed(topology="nlb-ip", zones=[z for z, _ in ZONES])
    assert nlb_status(emu, made["lb_id"]) == "Active"
    lsn = call(emu, "nlb", "ListListeners", "LoadBalancerIds.1=" + made["lb_id"])["Listeners"]
    assert [x["ListenerStatus"] for x in lsn] == ["Running"]
    servers = call(emu, "nlb", "ListServerGroupServers", "ServerGroupId="
                   + lsn[0]["ServerGroupId"])["Servers"]
    assert [s["Status"] for s in servers] == ["Available"]
    assert service_status(emu, made["service_id"]) == "Active"
    assert endpoint(emu, made["endpoint_id"])["connectionStatus"] == "Connected"
    out = fails(emu, "elasticsearch", "CreateVpcEndpoint", "ClientToken=tok-zone",
                method="POST", path="/openapi/instances/%s/vpc-endpoints" % ES_ID,
                body={"serviceId": made["service_id"], "zoneId": "cn-hangzhou-z"})
    assert out["code"] == "InvalidParameter.ZoneId"
    res = emu.resources()
    assert res["counts"] == {"slb": 0, "slb_listeners": 0, "slb_backends": 0, "nlb": 1,
                             "server_groups": 1, "servers": 1, "nlb_listeners": 1,
                             "services": 1, "endpoints": 1}
