"""plprov's API client and credential chain against the local emulator (tests/support/emulator.py).

The driver binary (tests/support/apiclient_driver.c) is the real client: libcurl, the C signer,
the retry loop. The emulator verifies every signature with its own Python implementation, so an
accepted call proves the two agree. Everything runs on 127.0.0.1.

Run by hand:
    PLPROV_APICLIENT_DRIVER=build/tests/apiclient_driver \
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_apiclient_emulator.py
"""

import json
import os
import subprocess
import time

import pytest

from emulatorproc import Emulator

DRIVER = os.environ.get("PLPROV_APICLIENT_DRIVER", "")
SANITIZE = os.environ.get("PLRELAY_SANITIZE", "OFF").upper() in ("ON", "1", "TRUE")
KEY_ID, SECRET = "testid", "testsecret"
FAST = ["--base-delay-ms", "20", "--max-delay-ms", "200"]

# ctest always sets PLPROV_APICLIENT_DRIVER: a run without it (by hand) skips, a wrong path fails.
pytestmark = pytest.mark.skipif(not DRIVER, reason="PLPROV_APICLIENT_DRIVER is not set")


def test_the_driver_binary_exists():
    assert os.access(DRIVER, os.X_OK), "PLPROV_APICLIENT_DRIVER=%r is not executable" % DRIVER


@pytest.fixture
def emulator():
    emu = Emulator(KEY_ID, SECRET, "es-cn-test")
    yield emu
    emu.stop()


def driver_env(secret=SECRET, token=None, with_key=True):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    if with_key:
        env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = KEY_ID
        env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = secret
    if token is not None:
        env["ALIBABA_CLOUD_SECURITY_TOKEN"] = token
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def run(emu, *args, env=None, timeout=60, expect_json=True):
    cmd = [DRIVER, "--endpoint", emu.url] + list(args)
    p = subprocess.run(cmd, env=env if env is not None else driver_env(), capture_output=True,
                       text=True, timeout=timeout)
    if SANITIZE:
        assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    out = json.loads(p.stdout) if expect_json and p.stdout.strip() else p.stdout
    return p.returncode, out, p.stderr


def test_v3_signature_is_accepted_by_an_independent_verifier(emulator):
    rc, out, err = run(emulator, "slb", "DescribeLoadBalancers", "RegionId=cn-hangzhou")
    assert rc == 0, err
    assert out["ok"] and out["attempts"] == 1 and out["body"]["TotalCount"] == 0
    seen = emulator.requests("DescribeLoadBalancers")
    assert len(seen) == 1 and seen[0]["signature_ok"] and seen[0]["style"] == "v3"


def test_every_wire_form_is_accepted(emulator):
    cases = [
        ["nlb", "ListLoadBalancers", "RegionId=cn-hangzhou", "Tag.1.Key=a b*~é"],
        ["privatelink", "ListVpcEndpointServices", "RegionId=cn-hangzhou"],
        ["--style", "rpc", "slb", "DescribeLoadBalancers", "RegionId=cn-hangzhou"],
        ["--style", "rpc", "nlb", "ListLoadBalancers", "RegionId=cn-hangzhou"],
        ["--method", "GET", "--path", "/openapi/instances/es-cn-test", "elasticsearch",
         "DescribeInstance"],
        ["--style", "v3", "--method", "GET", "--path", "/openapi/instances/es-cn-test",
         "elasticsearch", "DescribeInstance"],
        ["--method", "POST", "--path", "/openapi/instances/es-cn-test/vpc-endpoints", "--body",
         '{"serviceId":"epsrv-1","zoneId":"cn-hangzhou-i"}', "elasticsearch",
         "CreateVpcEndpoint", "ClientToken=tok-es-1", "dryRun=false"],
    ]
    for args in cases:
        rc, out, err = run(emulator, *args)
        assert rc == 0, (args, out, err)
    styles = {(r["product"], r["style"]) for r in emulator.requests()}
    assert styles == {("nlb", "v3"), ("privatelink", "v3"), ("slb", "v2-rpc"), ("nlb", "v2-rpc"),
                      ("elasticsearch", "v2-roa"), ("elasticsearch", "v3")}
    assert all(r["signature_ok"] for r in emulator.requests())


def test_throttled_twice_then_success_with_the_same_client_token(emulator):
    emulator.fault("throttle", count=2, action="CreateLoadBalancer")
    rc, out, err = run(emulator, *FAST, "slb", "CreateLoadBalancer", "RegionId=cn-hangzhou",
                       "ClientToken=tok-create-1", "LoadBalancerName=relay")
    assert rc == 0, err
    assert out["attempts"] == 3
    seen = emulator.requests("CreateLoadBalancer")
    assert [r["fault"] for r in seen] == ["throttle", "throttle", None]
    assert {r["client_token"] for r in seen} == {"tok-create-1"}
    assert all(r["signature_ok"] for r in seen)
    rc, out, _ = run(emulator, "slb", "DescribeLoadBalancers", "RegionId=cn-hangzhou")
    assert out["body"]["TotalCount"] == 1


def test_busy_503_and_5xx_are_retried(emulator):
    emulator.fault("throttle503", count=1, action="ListVpcEndpointServices")
    emulator.fault("5xx", count=1, action="ListVpcEndpointServices")
    emulator.fault("busy", count=1, action="ListVpcEndpointServices")
    rc, out, err = run(emulator, *FAST, "privatelink", "ListVpcEndpointServices",
                       "RegionId=cn-hangzhou")
    assert rc == 0, err
    assert out["attempts"] == 4


def test_retries_stop_at_the_attempt_limit_with_a_clear_error(emulator):
    emulator.fault("throttle", count=10, action="DescribeLoadBalancers")
    rc, out, _ = run(emulator, *FAST, "--max-attempts", "3", "slb", "DescribeLoadBalancers",
                     "RegionId=cn-hangzhou")
    assert rc == 1
    assert out["kind"] == "retryable" and out["attempts"] == 3
    assert "Throttling.User" in out["error"] and "3 attempts" in out["error"]
    assert out["request_id"] and out["request_id"] in out["error"]
    assert len(emulator.requests("DescribeLoadBalancers")) == 3


def test_same_client_token_is_idempotent_and_a_mismatch_is_not_retried(emulator):
    base = ["slb", "CreateLoadBalancer", "RegionId=cn-hangzhou", "ClientToken=tok-idem"]
    rc1, out1, _ = run(emulator, *base, "LoadBalancerName=a")
    rc2, out2, _ = run(emulator, *base, "LoadBalancerName=a")
    assert rc1 == rc2 == 0
    assert out1["body"]["LoadBalancerId"] == out2["body"]["LoadBalancerId"]
    rc3, out3, _ = run(emulator, *FAST, *base, "LoadBalancerName=b")
    assert rc3 == 1 and out3["kind"] == "client" and out3["attempts"] == 1
    assert out3["code"] == "IdempotentParameterMismatch"


def test_bad_secret_gives_a_signature_error_once_with_request_id(emulator):
    rc, out, _ = run(emulator, *FAST, "slb", "DescribeLoadBalancers", "RegionId=cn-hangzhou",
                     env=driver_env(secret="not-the-secret"))
    assert rc == 1
    assert out["kind"] == "auth" and out["code"] == "SignatureDoesNotMatch"
    assert out["attempts"] == 1
    assert "DescribeLoadBalancers" in out["error"] and out["request_id"] in out["error"]
    assert "not-the-secret" not in out["error"]
    seen = emulator.requests("DescribeLoadBalancers")
    assert len(seen) == 1 and not seen[0]["signature_ok"]


def test_injected_bad_signature_reply_is_not_retried(emulator):
    emulator.fault("badsig", count=5)
    rc, out, _ = run(emulator, *FAST, "nlb", "ListLoadBalancers", "RegionId=cn-hangzhou")
    assert rc == 1 and out["kind"] == "auth" and out["attempts"] == 1


def test_oversized_body_is_an_error_not_a_retry(emulator):
    emulator.fault("oversize", count=3)
    rc, out, _ = run(emulator, *FAST, "slb", "DescribeLoadBalancers", "RegionId=cn-hangzhou")
    assert rc == 1
    assert out["kind"] == "response" and out["attempts"] == 1
    assert "too large" in out["error"]


def test_malformed_json_is_an_error(emulator):
    emulator.fault("malformed", count=1)
    rc, out, _ = run(emulator, *FAST, "slb", "DescribeLoadBalancers", "RegionId=cn-hangzhou")
    assert rc == 1 and out["kind"] == "response" and "not JSON" in out["error"]


def test_timeout_is_an_error_after_the_attempt_limit(emulator):
    emulator.fault("slow", count=2, delay_ms=2500)
    t0 = time.monotonic()
    rc, out, _ = run(emulator, *FAST, "--timeout-ms", "400", "--max-attempts", "2", "slb",
                     "DescribeLoadBalancers", "RegionId=cn-hangzhou")
    elapsed = time.monotonic() - t0
    assert rc == 1
    assert out["kind"] == "transport" and out["attempts"] == 2
    assert "timed out" in out["error"] and "no answer from" in out["error"]
    assert elapsed < 2.4, "the client waited for the slow server instead of timing out"


def test_a_timed_out_call_is_retried_and_succeeds(emulator):
    emulator.fault("slow", count=1, delay_ms=1500)
    rc, out, err = run(emulator, *FAST, "--timeout-ms", "400", "slb", "DescribeLoadBalancers",
                       "RegionId=cn-hangzhou")
    assert rc == 0, err
    assert out["attempts"] == 2


def test_refused_connection_is_a_transport_error(emulator):
    port = emulator.port
    emulator.proc.terminate()
    emulator.proc.wait(timeout=10)
    p = subprocess.run([DRIVER, "--endpoint", "http://127.0.0.1:%d" % port, *FAST,
                        "--max-attempts", "2", "slb", "DescribeLoadBalancers",
                        "RegionId=cn-hangzhou"],
                       env=driver_env(), capture_output=True, text=True, timeout=60)
    out = json.loads(p.stdout)
    assert p.returncode == 1 and out["kind"] == "transport" and out["attempts"] == 2


def test_clock_skew_is_reported_after_one_re_signed_attempt(emulator):
    emulator.admin("/_emulator/clock", {"offset_s": 3600})
    rc, out, _ = run(emulator, *FAST, "slb", "DescribeLoadBalancers", "RegionId=cn-hangzhou")
    assert rc == 1
    assert out["kind"] == "clock-skew" and out["code"] == "InvalidTimeStamp.Expired"
    assert out["attempts"] == 2
    assert "clock" in out["error"] and "NTP" in out["error"]
    assert "behind" in out["error"]


def test_not_found_is_recognised_for_rpc_and_roa(emulator):
    rc, out, _ = run(emulator, "slb", "DeleteLoadBalancer", "LoadBalancerId=lb-missing")
    assert rc == 1 and out["kind"] == "not-found"
    assert out["code"] == "InvalidLoadBalancerId.NotFound"
    rc, out, _ = run(emulator, "--method", "GET", "--path", "/openapi/instances/es-missing",
                     "elasticsearch", "DescribeInstance")
    assert rc == 1 and out["kind"] == "not-found" and out["code"] == "InstanceNotFound"
    assert out["request_id"] and out["request_id"] in out["error"]


def test_dry_run_redacts_and_sends_nothing(emulator):
    token = "STS-TOKEN-VALUE-0123456789abcdef"
    env = driver_env(token=token)
    for args in (["slb", "CreateLoadBalancer", "RegionId=cn-hangzhou", "ClientToken=t1"],
                 ["--style", "rpc", "nlb", "ListLoadBalancers", "RegionId=cn-hangzhou",
                  "ClientToken=t3"],
                 ["--method", "POST", "--path", "/openapi/instances/es-cn-test/vpc-endpoints",
                  "--body", '{"serviceId":"epsrv-1"}', "elasticsearch", "CreateVpcEndpoint",
                  "ClientToken=t2"]):
        rc, text, err = run(emulator, "--dry-run", *args, env=env, expect_json=False)
        assert rc == 0, err
        assert token not in text and SECRET not in text
        assert "<redacted>" in text
        assert "ClientToken=t" in text
    assert emulator.requests() == []


def test_sts_credentials_from_the_metadata_service_are_accepted(emulator):
    env = driver_env(with_key=False)
    rc, out, err = run(emulator, "--creds-only", "--metadata", emulator.url, env=env)
    assert rc == 0, err
    assert out["source"] == "ecs-ram-role" and out["sts"] is True
    assert "IMDSv2 token" in out["description"]
    rc, out, err = run(emulator, "--metadata", emulator.url, "slb", "DescribeLoadBalancers",
                       "RegionId=cn-hangzhou", env=env)
    assert rc == 0, err
    imds = emulator.admin("/_emulator/imds")
    assert imds[0]["method"] == "PUT"
    assert all(r["token"] == "emulator-imds-token-0001" for r in imds if r["method"] == "GET")


def test_no_credentials_names_every_source_tried(emulator):
    p = subprocess.run([DRIVER, "--creds-only"], env=driver_env(with_key=False),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID not set" in p.stderr
