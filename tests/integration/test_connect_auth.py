"""`mode = connect` with the features around it: Basic proxy authentication (`auth =
basic:FILE`, crypt(3) hashes) with real curl, and a connect route behind the PROXY-protocol
ingress (the NLB in front, admitting by PrivateLink endpoint id) — the policy of both layers
applies before any upstream connect.
"""

import subprocess

from fwdpeers import OriginServer, connect_route
from harness import PLRELAY_BIN, connect, make_config, recv_until_eof
from peers import free_port
import ppv2


def users_file(tmp_path, user, password):
    hashed = subprocess.run(["openssl", "passwd", "-6", password], check=True,
                            capture_output=True, text=True).stdout.strip()
    path = tmp_path / "watcher.users"
    path.write_text("# test users\n%s:%s\n" % (user, hashed))
    return str(path)


def curl_status(proxy, url):
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10",
                        "-x", proxy, url], capture_output=True, text=True)
    return r.stdout


def test_auth_requires_good_basic_credentials(tmp_path, start_plrelay):
    with OriginServer() as origin:
        hosts = tmp_path / "hosts"
        hosts.write_text("127.0.0.1 ok.test\n")
        port = free_port()
        dest = "ok.test:%d" % origin.port
        route = connect_route("127.0.0.1:%d" % port, dest, "127.0.0.1:%d" % origin.port,
                              auth="basic:" + users_file(tmp_path, "watcher", "s3cret"))
        p = start_plrelay(make_config(tmp_path, {"fwd": route}, hosts_file=str(hosts)))
        url = "http://%s/len/5" % dest
        assert curl_status("http://127.0.0.1:%d" % port, url) == "407"
        assert curl_status("http://watcher:wrong@127.0.0.1:%d" % port, url) == "407"
        assert curl_status("http://nobody:s3cret@127.0.0.1:%d" % port, url) == "407"
        assert origin.seen() == [], "a refused request must not reach the origin"
        assert curl_status("http://watcher:s3cret@127.0.0.1:%d" % port, url) == "200"
        assert curl_status("http://watcher:s3cret@127.0.0.1:%d" % port, url) == "200"
        assert len(origin.seen()) == 2
        recs = p.wait_access(count=5)
        assert [r["status"] for r in recs] == [407, 407, 407, 200, 200]
        assert {r["reason"] for r in recs[:3]} == {"auth_required"}
        assert "no Proxy-Authorization" in recs[0]["detail"]
        assert "s3cret" not in p.stderr() and "wrong" not in p.stderr()


def test_auth_file_with_a_plain_password_is_a_config_error(tmp_path):
    users = tmp_path / "plain.users"
    users.write_text("watcher:s3cret\n")
    ini = tmp_path / "bad.ini"
    ini.write_text("[route fwd]\nmode = connect\nlisten = 127.0.0.1:%d\n"
                   "allow_destinations = ok.test:80\nauth = basic:%s\n" % (free_port(), users))
    r = subprocess.run([PLRELAY_BIN, "-t", "-c", str(ini)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "%s:5:" % ini in r.stderr and "crypt(3) hash" in r.stderr, r.stderr


def test_connect_route_behind_proxy_protocol_admits_by_endpoint_id(tmp_path, start_plrelay):
    with OriginServer() as origin:
        port = free_port()
        dest = "127.0.0.1:%d" % origin.port
        route = connect_route("127.0.0.1:%d" % port, dest, dest, proxy_protocol="v2",
                              allow_endpoints="ep-bp1good")
        p = start_plrelay(make_config(tmp_path, {"fwd": route}))
        request = ("GET http://%s/len/5 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                   % (dest, dest)).encode()
        for ep in (b"ep-bp1good", b"ep-bp1evil"):
            hdr = ppv2.v2(src=("10.1.2.3", 40000), dst=("10.0.0.1", 3128),
                          tlvs=ppv2.alibaba(endpoint=ep))
            with connect(port) as s:
                s.sendall(hdr + request)
                data = recv_until_eof(s)
            assert data.startswith(b"HTTP/1.") == (ep == b"ep-bp1good"), data[:80]
        recs = p.wait_access(count=2)
        ok = [r for r in recs if r["endpoint_id"] == "ep-bp1good"]
        bad = [r for r in recs if r["endpoint_id"] == "ep-bp1evil"]
        assert ok and ok[0]["reason"] == "request_done" and ok[0]["real_client"] == "10.1.2.3:40000"
        assert bad and bad[0]["status"] == 403 and bad[0]["reason"] == "denied_endpoint"
        assert len(origin.seen()) == 1, "the denied endpoint must not reach the origin"
