"""plrelay-provision's command line against the local emulator: the read-only commands (es-settings,
status, plan), --json on every failure path, verify's secrets, credentials from a metadata-service
stand-in (tests/support/imdsstandin.py) named by metadata_endpoint, and the progress line.

The binary is the real CLI: config loader, credential chain from the environment, libcurl, the C
signer and the typed reads. tests/support/emulator.py verifies every signature with its own
implementation and is seeded (POST /_emulator/seed) with a built, half-built or absent private
path of either topology. Everything runs on 127.0.0.1; the secret never appears in any output.

Run by hand:
    PLPROV_PROVISION_BIN=build/plrelay-provision \\
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_provision_cli.py
"""

import json
import os
import pty
import re
import select
import subprocess
import time

import pytest

from emulatorproc import Emulator
from imdsstandin import ImdsStandIn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("PLPROV_PROVISION_BIN", "")
KEY_ID, SECRET = "testid", "provision-secret-0123456789"
ES_ID = "es-cn-test"

# ctest always sets PLPROV_PROVISION_BIN: a run without it (by hand) skips, a wrong path fails.
pytestmark = pytest.mark.skipif(not BIN, reason="PLPROV_PROVISION_BIN is not set")

RELAY_INI = """[global]
workers = 1
[route ldap]
mode = tcp
listen = 0.0.0.0:389
upstreams = dc1.corp.example:389
[route watcher]
mode = connect
listen = 0.0.0.0:3128
allow_destinations = hooks.slack.com:443
"""


@pytest.fixture
def emulator():
    emu = Emulator(KEY_ID, SECRET, ES_ID)
    yield emu
    emu.stop()


def write_config(tmp_path, emu_url, topology="clb-ecs", extra=""):
    url = emu_url or "http://127.0.0.1:9"
    text = """[provider]
region = cn-hangzhou
state_file = state.json
endpoint_slb = {u}
endpoint_nlb = {u}
endpoint_privatelink = {u}
endpoint_elasticsearch = {u}
metadata_endpoint = {u}
[elasticsearch]
instance_id = {es}
username = elastic
password_env = ES_PASSWORD
[path]
topology = {t}
name = plrelay-test
vpc_id = vpc-emulator
""".format(u=url, es=ES_ID, t=topology)
    if topology == "clb-ecs":
        text += ("[clb]\nvswitch_id = vsw-emulator\necs_instances = i-relay1, i-relay2\n"
                 "listener_ports = 389, 3128\n")
    else:
        text += ("[nlb]\nzones = cn-hangzhou-i:vsw-i, cn-hangzhou-j:vsw-j\n"
                 "target_ip = 192.168.10.20\n")
    path = tmp_path / ("provision-%s.ini" % topology)
    path.write_text(text + extra)
    return str(path)


def base_env(secret=SECRET, keys=True, es_password=True, home="/nonexistent"):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
    if keys:
        env.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret})
    if es_password:
        env["ES_PASSWORD"] = "es-password-never-shown"
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def run(args, secret=SECRET, timeout=60, env=None):
    env = env if env is not None else base_env(secret)
    p = subprocess.run([BIN] + args, env=env, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    for stream in (p.stdout, p.stderr):
        assert secret not in stream
        assert "es-password-never-shown" not in stream
    return p


def hops(doc):
    return {(h["hop"], h["id"]) if h["hop"] in ("backend", "connection") else h["hop"]: h
            for h in doc["hops"]}


def test_the_binary_exists():
    assert os.access(BIN, os.X_OK), "PLPROV_PROVISION_BIN=%r is not executable" % BIN


def test_help_documents_the_exit_codes():
    p = run(["--help"])
    assert p.returncode == 0
    assert "Exit status" in p.stdout
    for code in ("0  ", "1  ", "2  ", "3  ", "4  "):
        assert "\n  " + code in p.stdout


def test_config_errors_all_reported_with_lines(tmp_path):
    bad = tmp_path / "bad.ini"
    bad.write_text("[provider]\nregion = cn hangzhou\n[elasticsearch]\npassword = x\n")
    p = run(["-c", str(bad), "status"])
    assert p.returncode == 2
    assert "bad.ini:2: region:" in p.stderr
    assert "bad.ini:4: a password never goes in this file" in p.stderr
    assert "[path] needs topology" in p.stderr


def test_changes_without_a_terminal_need_yes(tmp_path, emulator):
    cfg = write_config(tmp_path, emulator.url)
    for cmd in ("apply", "destroy"):
        p = run(["-c", cfg, cmd])
        assert p.returncode == 2, p.stderr
        assert "pass --yes" in p.stderr
    assert [r for r in emulator.requests() if not r["action"].startswith(("Describe", "List"))] \
        == [], "nothing was written"


def test_es_settings_placeholder_then_state_domain(tmp_path):
    cfg = write_config(tmp_path, None, topology="nlb-ip")
    p = run(["-c", cfg, "es-settings"])
    assert p.returncode == 0, p.stderr
    assert 'reindex.remote.whitelist: "<endpoint-domain>:9200"' in p.stdout
    domain = "ep-abc.epsrv-def.cn-hangzhou.privatelink.aliyuncs.com"
    (tmp_path / "state.json").write_text(json.dumps({"endpoint_domain": domain}))
    p = run(["-c", cfg, "es-settings", "--json"])
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["domain_known"] is True
    assert doc["settings"] == {"reindex.remote.whitelist": domain + ":9200"}


def test_es_settings_from_a_relay_config(tmp_path):
    cfg = write_config(tmp_path, None)
    relay = tmp_path / "plrelay.ini"
    relay.write_text(RELAY_INI)
    domain = "ep-1.epsrv-1.cn-hangzhou.privatelink.aliyuncs.com"
    (tmp_path / "state.json").write_text(json.dumps({"endpoint_domain": domain}))
    p = run(["-c", cfg, "es-settings", "--relay-config", str(relay), "--json"])
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)["settings"]
    assert s["xpack.http.proxy.host"] == domain
    assert s["xpack.http.proxy.port"] == 3128
    assert s["xpack.security.authc.realms.ldap.ldap.url"] == "ldap://%s:389" % domain


def test_status_and_plan_of_nothing_built(emulator, tmp_path):
    cfg = write_config(tmp_path, emulator.url)
    p = run(["-c", cfg, "status", "--json"])
    assert p.returncode == 4, p.stderr
    doc = json.loads(p.stdout)
    h = hops(doc)
    assert h["clb"]["state"] == "not found" and h["clb"]["ok"] is False
    assert h["es instance"]["state"] == "active" and h["es instance"]["ok"] is True
    assert doc["errors"] == []
    p = run(["-c", cfg, "plan"])
    assert p.returncode == 4, p.stderr
    lines = [ln.split()[2] for ln in p.stdout.splitlines()]
    assert lines == ["CreateLoadBalancer", "CreateLoadBalancerTCPListener",
                     "StartLoadBalancerListener", "CreateLoadBalancerTCPListener",
                     "StartLoadBalancerListener", "AddBackendServers", "AddBackendServers",
                     "CreateVpcEndpointService", "CreateVpcEndpoint",
                     "EnableVpcEndpointConnection"]
    seen = emulator.requests()
    assert seen and all(r["signature_ok"] for r in seen)
    assert {r["style"] for r in seen if r["product"] == "elasticsearch"} == {"v2-roa"}
    assert {r["style"] for r in seen if r["product"] == "slb"} == {"v3"}


def test_clb_path_built_is_healthy_and_in_sync(emulator, tmp_path):
    made = emulator.seed(topology="clb-ecs", name="plrelay-test", listener_ports=[389, 3128],
                         ecs=["i-relay1", "i-relay2"])
    cfg = write_config(tmp_path, emulator.url)
    p = run(["-c", cfg, "status", "--json"])
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["healthy"] is True
    h = hops(doc)
    assert h["clb"]["id"] == made["lb_id"]
    assert h["endpoint service"]["id"] == made["service_id"]
    assert h[("connection", made["endpoint_id"])]["state"] == "Connected"
    assert made["endpoint_domain"] in h["es endpoint"]["detail"]
    assert h[("backend", "i-relay2")]["state"] == "attached"
    p = run(["-c", cfg, "status"])
    assert p.returncode == 0 and "HOP" in p.stdout and made["lb_id"] in p.stdout
    p = run(["-c", cfg, "plan", "--json"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"in_sync": True, "truncated": False, "steps": []}
    p = run(["-c", cfg, "plan"])
    assert "in sync" in p.stdout


def test_clb_half_built_and_pending_connection(emulator, tmp_path):
    emulator.seed(topology="clb-ecs", name="plrelay-test", listener_ports=[389],
                  ecs=["i-relay1"], connection_status="Pending")
    cfg = write_config(tmp_path, emulator.url)
    p = run(["-c", cfg, "plan", "--json"])
    assert p.returncode == 4, p.stderr
    steps = json.loads(p.stdout)["steps"]
    assert [s["action"] for s in steps] == ["CreateLoadBalancerTCPListener",
                                            "StartLoadBalancerListener", "AddBackendServers",
                                            "EnableVpcEndpointConnection"]
    assert "3128" in steps[0]["detail"] and "i-relay2" in steps[2]["detail"]
    p = run(["-c", cfg, "status", "--json"])
    assert p.returncode == 4
    h = hops(json.loads(p.stdout))
    assert h["es endpoint"]["state"] == "Pending" and h["es endpoint"]["ok"] is False


def test_nlb_path_whitelist_missing_then_set(emulator, tmp_path):
    emulator.seed(topology="nlb-ip", name="plrelay-test")
    cfg = write_config(tmp_path, emulator.url, topology="nlb-ip")
    p = run(["-c", cfg, "plan", "--json"])
    assert p.returncode == 4, p.stderr
    steps = json.loads(p.stdout)["steps"]
    assert [s["action"] for s in steps] == ["UpdateInstanceSettings"]
    emulator.admin("/_emulator/reset", {})
    made = emulator.seed(topology="nlb-ip", name="plrelay-test", whitelist=True)
    p = run(["-c", cfg, "status", "--json"])
    assert p.returncode == 0, p.stdout + p.stderr
    h = hops(json.loads(p.stdout))
    assert h["nlb"]["id"] == made["lb_id"] and h["server group"]["state"] == "Available"
    assert h["listener"]["state"] == "Running"
    assert h["es whitelist"]["ok"] is True
    p = run(["-c", cfg, "plan"])
    assert p.returncode == 0 and "in sync" in p.stdout


def test_bad_secret_is_a_clear_signature_error_without_retry_storm(emulator, tmp_path):
    cfg = write_config(tmp_path, emulator.url)
    p = run(["-c", cfg, "status"], secret="wrong-secret-abcdefgh")
    assert p.returncode == 1
    assert "SignatureDoesNotMatch" in p.stdout + p.stderr
    assert len(emulator.requests()) <= 4  # one attempt per independent read, none retried


def test_missing_credentials_exit_3(tmp_path):
    cfg = write_config(tmp_path, "http://127.0.0.1:9")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent",
           "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
    p = subprocess.run([BIN, "-c", cfg, "status"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 3, p.stderr
    assert "no credentials" in p.stderr


# ---- --json: one document on stdout whatever the outcome ----------------------------------

COMMANDS = [["status"], ["plan"], ["verify"], ["apply", "--yes"], ["destroy", "--yes"]]


def failure_doc(p, command, code):
    """stdout is exactly one JSON document saying the run failed with `code`."""
    assert p.returncode == code, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is False and doc["exit"] == code, doc
    assert doc["command"] == command, doc
    assert isinstance(doc["errors"], list) and doc["errors"], doc
    assert isinstance(doc["error"], str) and doc["error"] == doc["errors"][0], doc
    return doc


def test_json_failure_documents_for_an_invalid_config(tmp_path):
    bad = tmp_path / "bad.ini"
    bad.write_text("[provider]\nregion = cn hangzhou\n[elasticsearch]\npassword = x\n")
    for args in COMMANDS + [["es-settings"]]:
        p = run(["-c", str(bad), "--json"] + args)
        doc = failure_doc(p, args[0], 2)
        assert doc["error"].startswith(str(bad) + ":2: region:"), doc
        assert any("a password never goes in this file" in e for e in doc["errors"]), doc
        assert "bad.ini:2: region:" in p.stderr, "the text stays on stderr"


def test_json_failure_documents_without_credentials(tmp_path):
    cfg = write_config(tmp_path, "http://127.0.0.1:9")
    env = base_env(keys=False)
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    for args in COMMANDS:
        p = run(["-c", cfg, "--json"] + args, env=env)
        doc = failure_doc(p, args[0], 3)
        assert doc["error"].startswith("no credentials:"), doc
        assert "no credentials" in p.stderr


def test_json_failure_documents_with_a_bad_secret(emulator, tmp_path):
    emulator.seed(topology="clb-ecs", name="plrelay-test", listener_ports=[389, 3128],
                  ecs=["i-relay1", "i-relay2"])
    cfg = write_config(tmp_path, emulator.url)
    for args in COMMANDS:
        p = run(["-c", cfg, "--json"] + args, secret="wrong-secret-abcdefgh")
        assert p.returncode == 1, (args, p.stdout, p.stderr)
        doc = json.loads(p.stdout)
        assert doc["ok"] is False, (args, doc)
        assert doc["exit"] == 1 and doc["command"] == args[0], doc
        assert "SignatureDoesNotMatch" in doc["error"], doc
        assert doc["errors"] and doc["errors"][0] == doc["error"], doc
        if args[0] in ("apply", "destroy"):  # their own report: the hop and the calls made
            assert doc["failed_hop"] and doc["calls"] == [], doc
    assert all(not r["signature_ok"] for r in emulator.requests())


def test_json_failure_documents_for_usage_errors(emulator, tmp_path):
    cfg = write_config(tmp_path, emulator.url)
    p = run(["-c", cfg, "--json", "frobnicate"])
    doc = failure_doc(p, "frobnicate", 2)
    assert "unknown command" in doc["error"]
    p = run(["-c", cfg, "--json", "apply"])
    doc = failure_doc(p, "apply", 2)
    assert "pass --yes" in doc["error"]
    p = run(["--json", "status"])  # no -c
    assert p.returncode == 2
    assert json.loads(p.stdout)["ok"] is False


def test_json_success_documents_are_unchanged(emulator, tmp_path):
    emulator.seed(topology="clb-ecs", name="plrelay-test", listener_ports=[389, 3128],
                  ecs=["i-relay1", "i-relay2"])
    cfg = write_config(tmp_path, emulator.url)
    p = run(["-c", cfg, "plan", "--json"])
    assert p.returncode == 0 and json.loads(p.stdout) == {"in_sync": True, "truncated": False,
                                                          "steps": []}
    p = run(["-c", cfg, "status", "--json"])
    assert p.returncode == 0 and "ok" not in json.loads(p.stdout)


# ---- verify reads the ES passwords only where they are used --------------------------------

def test_verify_clb_needs_no_es_password(emulator, tmp_path):
    emulator.seed(topology="clb-ecs", name="plrelay-test", listener_ports=[389, 3128],
                  ecs=["i-relay1", "i-relay2"])
    cfg = write_config(tmp_path, emulator.url)
    p = run(["-c", cfg, "verify", "--json"], env=base_env(es_password=False))
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["ok"] is True


def test_verify_nlb_still_requires_the_es_password(emulator, tmp_path):
    emulator.seed(topology="nlb-ip", name="plrelay-test", whitelist=True)
    cfg = write_config(tmp_path, emulator.url, topology="nlb-ip")
    p = run(["-c", cfg, "verify", "--json"], env=base_env(es_password=False))
    doc = failure_doc(p, "verify", 3)
    assert "ES_PASSWORD" in doc["error"], doc
    assert emulator.requests() == [], "no call before the secrets are known"


# ---- credentials from the metadata service, through the config's metadata_endpoint ---------

def metadata_config(tmp_path, emu, imds):
    cfg = write_config(tmp_path, emu.url)
    text = open(cfg).read().replace("metadata_endpoint = %s\n" % emu.url,
                                    "metadata_endpoint = %s\n" % imds.url)
    assert "metadata_endpoint = %s\n" % imds.url in text
    with open(cfg, "w") as f:
        f.write(text)
    return cfg


def metadata_env(tmp_path):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return base_env(keys=False, home=str(home))


def test_metadata_endpoint_credentials_with_the_imdsv2_token(emulator, tmp_path):
    emulator.seed(topology="clb-ecs", name="plrelay-test", listener_ports=[389, 3128],
                  ecs=["i-relay1", "i-relay2"])
    with ImdsStandIn() as imds:
        cfg = metadata_config(tmp_path, emulator, imds)
        p = run(["-c", cfg, "status", "--json"], env=metadata_env(tmp_path))
        seen = list(imds.seen)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["healthy"] is True
    assert seen[0]["method"] == "PUT" and seen[0]["path"] == "/latest/api/token"
    gets = [r for r in seen if r["method"] == "GET"]
    assert len(gets) == 2 and all(r["token"] == "standin-imds-token-0042" for r in gets), seen
    reqs = emulator.requests()
    assert reqs and all(r["signature_ok"] for r in reqs)
    assert emulator.admin("/_emulator/imds") == [], "the emulator's own metadata routes unused"


@pytest.mark.parametrize("token_status", [404, 403])
def test_metadata_endpoint_plain_form_when_the_token_is_refused(emulator, tmp_path,
                                                                token_status):
    emulator.seed(topology="clb-ecs", name="plrelay-test", listener_ports=[389, 3128],
                  ecs=["i-relay1", "i-relay2"])
    with ImdsStandIn(token_status=token_status) as imds:
        cfg = metadata_config(tmp_path, emulator, imds)
        p = run(["-c", cfg, "plan", "--json"], env=metadata_env(tmp_path))
        seen = list(imds.seen)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["in_sync"] is True
    assert seen[0]["method"] == "PUT"
    gets = [r for r in seen if r["method"] == "GET"]
    assert len(gets) == 2 and all(r["token"] is None for r in gets), seen


def test_metadata_credentials_near_expiry_are_fetched_again(emulator, tmp_path):
    emulator.seed(topology="clb-ecs", name="plrelay-test", listener_ports=[389, 3128],
                  ecs=["i-relay1", "i-relay2"])
    with ImdsStandIn(expires_in_s=120) as imds:
        cfg = metadata_config(tmp_path, emulator, imds)
        p = run(["-c", cfg, "status", "--json"], env=metadata_env(tmp_path))
        fetches = imds.credential_fetches()
    assert p.returncode == 0, p.stdout + p.stderr
    # once at start-up, once more before the first signed request (expiring within 5 min); the
    # stand-in hands out the same expiry again, so the client waits a minute before asking again
    assert len(fetches) == 2, fetches


# ---- progress: a rewritten line on a terminal, plain lines otherwise -----------------------

def run_with_tty_stderr(args, timeout=120):
    """Runs the CLI with stderr on a pseudo-terminal; returns (rc, stdout, terminal bytes)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN] + args, env=base_env(), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif p.poll() is not None:
            break
    os.close(master)
    out = p.stdout.read().decode()
    p.stdout.close()
    rc = p.wait(timeout=30)
    return rc, out, b"".join(chunks).decode(errors="replace")


WAIT_LINE = re.compile(r"waiting for [^\r\n]*?\(\d+s\)")


def test_progress_is_one_rewritten_line_on_a_terminal_and_plain_lines_otherwise(tmp_path):
    for mode in ("tty", "plain"):
        emu = Emulator(KEY_ID, SECRET, ES_ID, async_ms=2600)
        try:
            d = tmp_path / mode
            d.mkdir()
            cfg = write_config(d, emu.url)
            if mode == "tty":
                rc, out, term = run_with_tty_stderr(["-c", cfg, "apply", "--yes"])
                assert rc == 0, out + term
                rewrites = term.count("\r\x1b[Kwaiting for ")
                assert rewrites >= 2, repr(term)
                # the line is rewritten in place: no progress text ends with a line break
                assert not re.search(r"waiting for [^\r\n]*\(\d+s\)\r?\n", term), repr(term)
                assert "apply: done" in out
            else:
                p = run(["-c", cfg, "apply", "--yes"])
                assert p.returncode == 0, p.stdout + p.stderr
                assert "\r" not in p.stderr and "\x1b" not in p.stderr
                lines = [ln for ln in p.stderr.splitlines() if WAIT_LINE.fullmatch(ln)]
                assert lines, p.stderr
                # every wait's first poll is shown (at 0 s), even when nothing is there yet
                firsts = {}
                for ln in lines:
                    firsts.setdefault(ln.split(":")[0], ln)
                assert all(ln.endswith("(0s)") for ln in firsts.values()), lines
                shown = [re.sub(r" \(\d+s\)$", "", ln) for ln in lines]
                assert all(a != b for a, b in zip(shown, shown[1:])), \
                    "an unchanged status prints once: %r" % lines
        finally:
            emu.stop()
