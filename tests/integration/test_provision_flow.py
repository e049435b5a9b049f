"""plrelay-provision end to end against the local cloud emulator: plan -> apply -> status -> verify
-> re-apply (no write) -> destroy (nothing left), for both topologies, plus an apply killed midway,
injected faults, a connection that stays Pending, a bad secret and --dry-run.

The binary is the real CLI (config, credential chain, libcurl, the C signer, apply/destroy and
verify). tests/support/emulator.py checks every signature with its own implementation, runs NLB
jobs and endpoint-service creation asynchronously, and serves two plain-HTTP Elasticsearch
clusters: `verify` on nlb-ip makes the local one reindex from the remote one through the
emulated path (endpoint domain -> service -> NLB listener -> server group -> target_ip:port), so
the remote cluster's port is the target. Everything listens on 127.0.0.1. Assertions are on
statuses, exit codes and the emulator's request log, never on timing.

Run by hand:
    PLPROV_PROVISION_BIN=build/plrelay-provision \\
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_provision_flow.py
"""

import json
import os
import signal
import subprocess
import time

import pytest

from emulatorproc import ES_PASSWORD, REMOTE_PASSWORD, Emulator

BIN = os.environ.get("PLPROV_PROVISION_BIN", "")
DRIVER = os.environ.get("PLPROV_APICLIENT_DRIVER", "")
KEY_ID, SECRET = "flowid", "flow-secret-0123456789abcdef"
ES_ID = "es-cn-flow"
WRITE_PREFIXES = ("Create", "Add", "Enable", "Disable", "Start", "Stop", "Delete", "Remove",
                  "Update")

pytestmark = pytest.mark.skipif(not BIN, reason="PLPROV_PROVISION_BIN is not set")


@pytest.fixture
def emu():
    e = Emulator(KEY_ID, SECRET, ES_ID, async_ms=150)
    yield e
    e.stop()


def driver(e, product, action, *params, method=None, path=None, body=None):
    """One signed call through tests/support/apiclient_driver (plays another account's tools)."""
    args = [DRIVER, "--endpoint", e.url]
    if method is not None:
        args += ["--method", method, "--path", path, "--body", body]
    p = subprocess.run(args + [product, action] + list(params), env=env(), capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)["body"]


def write_config(tmp_path, e, topology, extra="", auto_accept=False, wait_timeout=30):
    text = """[provider]
region = cn-hangzhou
state_file = state.json
endpoint_slb = {u}
endpoint_nlb = {u}
endpoint_privatelink = {u}
endpoint_elasticsearch = {u}
metadata_endpoint = {u}
wait_timeout = {w}
es_wait_timeout = {w}
[elasticsearch]
instance_id = {es}
url = {es_url}
username = elastic
password_env = ES_PASSWORD
[path]
topology = {t}
name = plrelay-flow
vpc_id = vpc-emulator
[endpoint_service]
auto_accept = {aa}
""".format(u=e.url, es=ES_ID, es_url=e.es_url, t=topology, w=wait_timeout,
           aa="true" if auto_accept else "false")
    if topology == "clb-ecs":
        text += ("[clb]\nvswitch_id = vsw-emulator\necs_instances = i-relay1, i-relay2\n"
                 "listener_ports = 389, 3128\n")
    else:
        text += ("[nlb]\nzones = cn-hangzhou-i:vsw-i, cn-hangzhou-j:vsw-j\n"
                 "target_ip = 127.0.0.1\ntarget_port = %d\n"
                 "[verify]\nsource_index = logs\nremote_password_env = REMOTE_PASSWORD\n"
                 % e.remote_rest_port)
    path = tmp_path / ("provision-%s.ini" % topology)
    path.write_text(text + extra)
    return str(path)


def env(secret=SECRET):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret,
            "ES_PASSWORD": ES_PASSWORD, "REMOTE_PASSWORD": REMOTE_PASSWORD}


def run(args, secret=SECRET, timeout=240):
    p = subprocess.run([BIN] + args, env=env(secret), capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    for stream in (p.stdout, p.stderr):
        assert SECRET not in stream and secret not in stream
        assert ES_PASSWORD not in stream and REMOTE_PASSWORD not in stream
    return p


def writes(e, since=0):
    return [r for r in e.requests()[since:] if r.get("action", "").startswith(WRITE_PREFIXES)]


def alive(e):
    res = e.resources()
    return {k: v for k, v in res.items() if isinstance(v, list) and v}


@pytest.mark.parametrize("topology", ["nlb-ip", "clb-ecs"])
def test_full_lifecycle(tmp_path, emu, topology):
    if topology == "nlb-ip":
        emu.es_docs("remote", "logs", 57)
    cfg = write_config(tmp_path, emu, topology)

    p = run(["-c", cfg, "plan"])
    assert p.returncode == 4, p.stderr
    assert "CreateLoadBalancer" in p.stdout and "CreateVpcEndpoint" in p.stdout

    p = run(["-c", cfg, "apply", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert "apply: done" in p.stdout
    assert "waiting for" in p.stderr, "asynchronous hops are waited for"
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["endpoint_domain"].endswith(".privatelink.aliyuncs.com")
    assert all("client_token" not in v for v in state["resources"].values()), state

    p = run(["-c", cfg, "status", "--json"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["healthy"] is True

    p = run(["-c", cfg, "verify", "--json"])
    assert p.returncode == 0, p.stdout + p.stderr
    report = json.loads(p.stdout)
    assert report["ok"] is True
    if topology == "nlb-ip":
        assert report["source_count"] == report["dest_count"] == 57
        assert emu.resources()["whitelist"] == state["endpoint_domain"] + ":9200"

    before = len(emu.requests())
    p = run(["-c", cfg, "apply", "--yes", "--json"])
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is True and doc["changed"] is False and doc["calls"] == []
    assert writes(emu, before) == [], "a built path makes no write call"
    assert run(["-c", cfg, "plan"]).returncode == 0

    before, built = len(emu.requests()), alive(emu)
    p = run(["-c", cfg, "destroy", "--dry-run"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert "DeleteVpcEndpointService" in p.stdout and "<redacted>" in p.stdout
    assert writes(emu, before) == [] and alive(emu) == built, "a dry run deletes nothing"
    assert (tmp_path / "state.json").exists()

    p = run(["-c", cfg, "destroy", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert not (tmp_path / "state.json").exists()
    assert alive(emu) == {}, emu.resources()
    assert emu.resources().get("whitelist", "") == ""
    p = run(["-c", cfg, "destroy", "--yes", "--json"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["changed"] is False, "destroying nothing is done at once"


def test_destroy_disconnects_a_foreign_connection_that_blocks_the_service(tmp_path):
    if not DRIVER:
        pytest.skip("PLPROV_APICLIENT_DRIVER is not set")
    e = Emulator(KEY_ID, SECRET, ES_ID, async_ms=150, extra_args=["--es-instance", "es-cn-other"])
    try:
        cfg = write_config(tmp_path, e, "clb-ecs", auto_accept=True)
        assert run(["-c", cfg, "apply", "--yes"]).returncode == 0
        service = e.resources()["services"][0]
        # another cluster connects to the same service; auto-accept lets it in
        driver(e, "elasticsearch", "CreateVpcEndpoint", method="POST",
               path="/openapi/instances/es-cn-other/vpc-endpoints",
               body=json.dumps({"serviceId": service}))
        ours = json.loads((tmp_path / "state.json").read_text())["resources"]["endpoint"]["id"]

        def foreign_connected():
            conns = driver(e, "privatelink", "ListVpcEndpointConnections", "RegionId=cn-hangzhou",
                           "ServiceId=" + service)["Connections"]
            return any(c["EndpointId"] != ours and c["ConnectionStatus"] == "Connected"
                       for c in conns)

        deadline = time.monotonic() + 60
        while not foreign_connected():
            assert time.monotonic() < deadline, "the foreign connection never connected"
            time.sleep(0.2)

        p = run(["-c", cfg, "destroy", "--yes"])
        assert p.returncode == 0, p.stdout + p.stderr
        actions = [r["action"] for r in e.requests()]
        first = actions.index("DeleteVpcEndpointService")
        assert "DisableVpcEndpointConnection" in actions[first:], \
            "the dependency is resolved by disconnecting, in order"
        assert actions.count("DeleteVpcEndpointService") == 2
        assert e.resources()["services"] == [] and e.resources()["slb"] == []
    finally:
        e.stop()


def test_clb_verify_names_the_unhealthy_listener(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "clb-ecs")
    assert run(["-c", cfg, "apply", "--yes"]).returncode == 0
    emu.health("i-relay1", "abnormal")
    emu.health("i-relay2", "abnormal")
    p = run(["-c", cfg, "verify"])
    assert p.returncode == 4, p.stdout + p.stderr
    assert "FAILED at clb backends 389" in p.stdout
    assert "i-relay1" in p.stdout
    p = run(["-c", cfg, "status", "--json"])
    assert p.returncode == 4, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    backends = [h for h in doc["hops"] if h["hop"] == "backend"]
    assert [h["state"] for h in backends] == ["unhealthy", "unhealthy"], backends
    assert "389 abnormal" in backends[0]["detail"]


def kill_apply_at(emu, cfg, action):
    """Starts apply and SIGKILLs it once the emulator has seen `action` (armed `late` before:
    the cloud did the work, the client dies before the answer arrives)."""
    proc = subprocess.Popen([BIN, "-c", cfg, "apply", "--yes"], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not emu.requests(action):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "apply never reached " + action
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()


def saved_tokens(tmp_path):
    """{resource key: client_token} of every token still in the state file."""
    state = json.loads((tmp_path / "state.json").read_text())
    return {k: v["client_token"] for k, v in state["resources"].items() if "client_token" in v}


@pytest.mark.parametrize("action,table,key", [
    ("CreateServerGroup", "server_groups", "server_group"),
    ("CreateListener", "nlb_listeners", "listener")])
def test_apply_killed_midway_resumes_without_duplicates(tmp_path, emu, action, table, key):
    cfg = write_config(tmp_path, emu, "nlb-ip")
    # the cloud does the work, then the answer is late: the client dies before it arrives; the
    # list the next run reads lags behind, so it must send the create again
    emu.fault("late", count=1, action=action, delay_ms=20000)
    emu.fault("hide", count=1, action=action, lists=1)
    kill_apply_at(emu, cfg, action)
    token = saved_tokens(tmp_path)[key]
    assert emu.requests(action)[0]["client_token"] == token, "the token was saved before the call"
    made = emu.resources()[table]
    assert len(made) == 1, made

    p = run(["-c", cfg, "apply", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    creates = emu.requests(action)
    assert len(creates) == 2, "the hidden resource was created again"
    assert all(r["client_token"] == token and r["status"] == 200 for r in creates), creates
    res = emu.resources()
    assert res[table] == made, "the repeated create answered with the same resource"
    assert len(res["nlb"]) == 1 and len(res["server_groups"]) == 1, res
    assert len(res["nlb_listeners"]) == 1 and len(res["services"]) == 1, res
    assert len(res["endpoints"]) == 1, res
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["resources"][key]["id"] == made[0].split(":")[0]
    assert saved_tokens(tmp_path) == {}


def test_a_token_left_by_a_killed_add_is_not_replayed_for_a_later_add(tmp_path, emu):
    if not DRIVER:
        pytest.skip("PLPROV_APICLIENT_DRIVER is not set")
    cfg = write_config(tmp_path, emu, "nlb-ip")
    emu.fault("late", count=1, action="AddServersToServerGroup", delay_ms=20000)
    kill_apply_at(emu, cfg, "AddServersToServerGroup")
    first = emu.requests("AddServersToServerGroup")[0]["client_token"]
    assert saved_tokens(tmp_path) == {"server": first}

    p = run(["-c", cfg, "apply", "--yes"])  # finds the server the killed run added
    assert p.returncode == 0, p.stdout + p.stderr
    assert saved_tokens(tmp_path) == {}, "a hop found in the wanted state drops its token"

    sg = emu.resources()["server_groups"][0]
    driver(emu, "nlb", "RemoveServersFromServerGroup", "RegionId=cn-hangzhou",
           "ServerGroupId=" + sg, "Servers.1.ServerId=127.0.0.1", "Servers.1.ServerType=Ip",
           "Servers.1.Port=%d" % emu.remote_rest_port)
    deadline = time.monotonic() + 30
    while emu.resources()["servers"]:
        assert time.monotonic() < deadline, "the out-of-band removal never finished"
        time.sleep(0.1)

    p = run(["-c", cfg, "apply", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert emu.resources()["servers"] == ["%s:127.0.0.1:%d" % (sg, emu.remote_rest_port)]
    adds = emu.requests("AddServersToServerGroup")
    assert len(adds) == 2 and adds[1]["client_token"] != first, "a fresh token for a new add"
    assert saved_tokens(tmp_path) == {}


def test_a_whitelist_found_as_wanted_drops_the_token_a_killed_run_left(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "nlb-ip")
    emu.fault("late", count=1, action="UpdateInstanceSettings", delay_ms=20000)
    kill_apply_at(emu, cfg, "UpdateInstanceSettings")
    assert list(saved_tokens(tmp_path)) == ["whitelist"]
    p = run(["-c", cfg, "apply", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(emu.requests("UpdateInstanceSettings")) == 1, "the entry was there already"
    assert saved_tokens(tmp_path) == {}


def test_a_token_saved_for_other_parameters_is_replaced_after_a_mismatch(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "nlb-ip")
    emu.fault("late", count=1, action="CreateListener", delay_ms=20000)
    kill_apply_at(emu, cfg, "CreateListener")
    old = saved_tokens(tmp_path)["listener"]
    # the config changes before the next run: the saved token now names another create
    text = open(cfg).read().replace("[nlb]\n", "[nlb]\nlistener_port = 9201\n")
    open(cfg, "w").write(text)

    p = run(["-c", cfg, "apply", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert "reading the hop again" in p.stderr
    creates = emu.requests("CreateListener")
    assert [r.get("code") for r in creates] == [None, "IdempotentParameterMismatch", None]
    assert creates[1]["client_token"] == old and creates[2]["client_token"] != old
    assert sorted(lsn.split("@")[1] for lsn in emu.resources()["nlb_listeners"]) == \
        ["9200", "9201"]
    assert saved_tokens(tmp_path) == {}


def nlb(e, action, *params):
    return driver(e, "nlb", action, "RegionId=cn-hangzhou", *params)


def foreign_nlb(e, name):
    """Another NLB (with a server group) built by hand; -> (lb id, server group id)."""
    lb = nlb(e, "CreateLoadBalancer", "LoadBalancerType=Network", "AddressType=Intranet",
             "VpcId=vpc-emulator", "ZoneMappings.1.ZoneId=cn-hangzhou-i",
             "ZoneMappings.1.VSwitchId=vsw-i", "ZoneMappings.2.ZoneId=cn-hangzhou-j",
             "ZoneMappings.2.VSwitchId=vsw-j", "LoadBalancerName=" + name)["LoadbalancerId"]
    sg = nlb(e, "CreateServerGroup", "ServerGroupName=" + name + "-sg", "ServerGroupType=Ip",
             "VpcId=vpc-emulator")["ServerGroupId"]
    deadline = time.monotonic() + 30
    while nlb(e, "GetLoadBalancerAttribute", "LoadBalancerId=" + lb)["LoadBalancerStatus"] \
            != "Active" or e.resources()["jobs_processing"]:
        assert time.monotonic() < deadline, "the foreign NLB never became Active"
        time.sleep(0.1)
    return lb, sg


def record(tmp_path, key, rid):
    path = tmp_path / "state.json"
    state = json.loads(path.read_text())
    state["resources"].setdefault(key, {})["id"] = rid
    path.write_text(json.dumps(state))


def test_destroy_also_deletes_what_the_state_recorded_under_another_name(tmp_path, emu):
    if not DRIVER:
        pytest.skip("PLPROV_APICLIENT_DRIVER is not set")
    cfg = write_config(tmp_path, emu, "nlb-ip")
    assert run(["-c", cfg, "apply", "--yes"]).returncode == 0
    _, sg = foreign_nlb(emu, "renamed")  # a group this path made, renamed since
    record(tmp_path, "server_group", sg)
    p = run(["-c", cfg, "destroy", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    res = emu.resources()
    assert res["server_groups"] == [] and res["nlb_listeners"] == [], res
    assert len(res["nlb"]) == 1, "the other NLB is not ours"
    assert not (tmp_path / "state.json").exists()


def test_destroy_keeps_the_state_file_while_a_recorded_id_still_exists(tmp_path, emu):
    if not DRIVER:
        pytest.skip("PLPROV_APICLIENT_DRIVER is not set")
    cfg = write_config(tmp_path, emu, "nlb-ip")
    assert run(["-c", cfg, "apply", "--yes"]).returncode == 0
    lb, sg = foreign_nlb(emu, "elsewhere")
    lsn = nlb(emu, "CreateListener", "LoadBalancerId=" + lb, "ListenerProtocol=TCP",
              "ListenerPort=9300", "ServerGroupId=" + sg)["ListenerId"]
    record(tmp_path, "listener", lsn)  # on an NLB destroy neither finds nor recorded
    p = run(["-c", cfg, "destroy", "--yes", "--json"])
    assert p.returncode == 1, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["failed_hop"] == "state", doc
    assert "listener %s recorded in the state file still exists" % lsn in doc["error"], doc
    assert (tmp_path / "state.json").exists()
    assert emu.resources()["nlb_listeners"] == [lsn], "only the foreign listener is left"


def test_destroy_refuses_a_name_that_matches_several_load_balancers(tmp_path, emu):
    if not DRIVER:
        pytest.skip("PLPROV_APICLIENT_DRIVER is not set")
    cfg = write_config(tmp_path, emu, "nlb-ip")
    assert run(["-c", cfg, "apply", "--yes"]).returncode == 0
    foreign_nlb(emu, "plrelay-flow")
    before, built = len(emu.requests()), alive(emu)
    p = run(["-c", cfg, "destroy", "--yes", "--json"])
    assert p.returncode == 1, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["failed_hop"] == "nlb" and "several load balancers" in doc["error"], doc
    assert writes(emu, before) == [] and alive(emu) == built, "nothing was deleted"
    assert (tmp_path / "state.json").exists()


def test_destroy_removes_the_recorded_whitelist_entry_when_the_endpoint_is_gone(tmp_path, emu):
    if not DRIVER:
        pytest.skip("PLPROV_APICLIENT_DRIVER is not set")
    cfg = write_config(tmp_path, emu, "nlb-ip")
    assert run(["-c", cfg, "apply", "--yes"]).returncode == 0
    ep = json.loads((tmp_path / "state.json").read_text())["resources"]["endpoint"]["id"]
    driver(emu, "elasticsearch", "DeleteVpcEndpoint", method="DELETE",
           path="/openapi/instances/%s/vpc-endpoints/%s" % (ES_ID, ep), body="")
    deadline = time.monotonic() + 30
    while emu.resources()["endpoints"]:
        assert time.monotonic() < deadline, "the endpoint was never deleted"
        time.sleep(0.1)
    assert emu.resources()["whitelist"] != ""
    p = run(["-c", cfg, "destroy", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert emu.resources()["whitelist"] == ""
    assert alive(emu) == {}, emu.resources()


def test_destroy_keys_each_endpoint_delete_token_by_the_endpoint(tmp_path, emu):
    if not DRIVER:
        pytest.skip("PLPROV_APICLIENT_DRIVER is not set")
    cfg = write_config(tmp_path, emu, "clb-ecs")
    assert run(["-c", cfg, "apply", "--yes"]).returncode == 0
    service = emu.resources()["services"][0]
    driver(emu, "elasticsearch", "CreateVpcEndpoint", method="POST",
           path="/openapi/instances/%s/vpc-endpoints" % ES_ID,
           body=json.dumps({"serviceId": service}))
    emu.fault("late", count=1, action="DeleteVpcEndpoint", delay_ms=20000)
    proc = subprocess.Popen([BIN, "-c", cfg, "destroy", "--yes"], env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not emu.requests("DeleteVpcEndpoint"):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = emu.requests("DeleteVpcEndpoint")[0]
    ep = first["path"].rsplit("/", 1)[1]
    assert saved_tokens(tmp_path) == {"endpoint_delete:" + ep: first["client_token"]}
    p = run(["-c", cfg, "destroy", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    deletes = emu.requests("DeleteVpcEndpoint")
    by_ep = {}
    for r in deletes:
        by_ep.setdefault(r["path"].rsplit("/", 1)[1], set()).add(r["client_token"])
    assert len(by_ep) == 2 and all(len(t) == 1 for t in by_ep.values()), by_ep
    assert by_ep[ep] == {first["client_token"]}, "the killed delete is resent with its token"
    assert alive(emu) == {} and not (tmp_path / "state.json").exists()


def test_transient_faults_are_retried_with_the_same_token(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "nlb-ip")
    emu.fault("throttle", count=2, action="CreateLoadBalancer")
    emu.fault("lock", count=1, action="CreateListener")
    emu.fault("5xx", count=1, action="CreateVpcEndpointService")
    emu.fault("busy", count=1, action="EnableVpcEndpointConnection")
    p = run(["-c", cfg, "apply", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    creates = emu.requests("CreateLoadBalancer")
    assert len(creates) == 3
    assert len({r["client_token"] for r in creates}) == 1
    assert len(emu.requests("CreateListener")) == 2
    assert len(emu.requests("CreateVpcEndpointService")) == 2
    assert len(emu.resources()["nlb"]) == 1


def test_a_connection_left_pending_fails_the_wait_then_apply_completes(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "clb-ecs", wait_timeout=4)
    emu.fault("pending", count=1000)  # every accept is ignored: the connection stays Pending
    p = run(["-c", cfg, "apply", "--yes", "--json"])
    assert p.returncode == 1
    doc = json.loads(p.stdout)
    assert doc["ok"] is False and doc["failed_hop"] == "es connection"
    assert "timed out" in doc["error"] and "Pending" in doc["error"]
    assert len(emu.requests("EnableVpcEndpointConnection")) >= 2, "each poll accepts again"
    emu.clear_faults()
    p = run(["-c", cfg, "apply", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(emu.resources()["endpoints"]) == 1, "no second endpoint"


def test_an_ignored_accept_is_sent_again_while_waiting(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "clb-ecs")
    emu.fault("pending", count=1)  # the first accept is ignored
    p = run(["-c", cfg, "apply", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert [r["fault"] for r in emu.requests("EnableVpcEndpointConnection")] == ["pending", None]


def test_a_connection_that_reaches_the_service_late_is_accepted_once_pending(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "nlb-ip")
    # Connecting and not listed by the service for 2.5 s, then Pending
    emu.fault("slowconn", count=1, delay_ms=2500)
    p = run(["-c", cfg, "apply", "--yes"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Connecting" in p.stderr, "the wait saw the connection before it was Pending"
    enables = emu.requests("EnableVpcEndpointConnection")
    assert [r["status"] for r in enables] == [200], "accepted once, when it was Pending"
    assert len(emu.requests("ListVpcEndpointConnections")) >= 2, "not listed, then Pending"
    p = run(["-c", cfg, "status", "--json"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["healthy"] is True


def test_a_failed_nlb_job_stops_apply_at_its_hop(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "nlb-ip")
    emu.fault("jobfail", count=1, action="CreateListener")
    p = run(["-c", cfg, "apply", "--yes", "--json"])
    assert p.returncode == 1, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is False and doc["failed_hop"] == "nlb listener", doc
    assert "failed: ResourceJobFailed" in doc["error"], doc["error"]
    assert emu.requests("CreateVpcEndpointService") == [], "nothing after the failed hop"


def test_a_bad_secret_is_one_clear_error_without_retries(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "clb-ecs")
    p = run(["-c", cfg, "apply", "--yes"], secret="not-the-secret-0123456789")
    assert p.returncode == 1
    assert "SignatureDoesNotMatch" in p.stderr
    assert "RequestId" in p.stderr
    assert len(emu.requests()) == 1, "no retry storm"


def test_dry_run_prints_redacted_calls_and_writes_nothing(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "nlb-ip")
    p = run(["-c", cfg, "apply", "--dry-run"])
    assert p.returncode == 0, p.stderr
    for action in ("CreateLoadBalancer", "CreateServerGroup", "AddServersToServerGroup",
                   "CreateListener", "CreateVpcEndpointService", "CreateVpcEndpoint",
                   "EnableVpcEndpointConnection", "UpdateInstanceSettings"):
        assert action in p.stdout, action
    assert "<redacted>" in p.stdout
    assert "dry run, nothing was sent" in p.stdout
    assert writes(emu) == []
    assert alive(emu) == {}
    assert not (tmp_path / "state.json").exists(), "a dry run leaves no state behind"


def test_a_state_file_of_another_path_is_refused(tmp_path, emu):
    cfg = write_config(tmp_path, emu, "clb-ecs")
    (tmp_path / "state.json").write_text(json.dumps(
        {"version": 1, "topology": "nlb-ip", "name": "plrelay-flow", "region": "cn-hangzhou",
         "resources": {}}))
    p = run(["-c", cfg, "apply", "--yes"])
    assert p.returncode == 2
    assert "belongs to topology \"nlb-ip\"" in p.stderr
    assert emu.requests() == []
