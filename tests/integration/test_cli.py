"""plrelay's command line: --version, --help and its documented exit codes, `-t` config checks
(every error of a broken file reported as `file:line: reason`, exit 1), refusing to start on a
broken or missing config (exit 1), a usage error (exit 2), a bind failure (exit 3), and the shape
of the stderr log lines including the `ready` line.
"""

import re
import socket
import subprocess

import pytest

import harness
from harness import PLRELAY_BIN, make_config, route
from peers import free_port


def run(*args, timeout=20):
    r = subprocess.run([PLRELAY_BIN] + list(args), capture_output=True, text=True,
                       timeout=timeout, env=harness.child_env(), stdin=subprocess.DEVNULL)
    if harness.SANITIZE:
        bad = [p for p in harness.SANITIZER_PATTERNS if p in r.stderr]
        assert not bad, "sanitizer report from plrelay %s:\n%s" % (" ".join(args), r.stderr)
    return r


def good_config(tmp_path):
    return make_config(tmp_path, {"r1": route("127.0.0.1:%d" % free_port(),
                                              "127.0.0.1:%d" % free_port())})


# Each entry: (line number, a regex one of which the reason must match). Written so that the
# line numbers below are the real ones of BROKEN.
BROKEN = """[global]
workers = 1
bogus_key = 1
drain_timeout = 10

[route a]
mode = tcp
listen = 127.0.0.1:70000
upstreams = 127.0.0.1:{up}

[route b]
mode = tcp
listen = 127.0.0.1:{dup}
upstreams = 127.0.0.1:{up}

[route c]
mode = tcp
listen = 127.0.0.1:{dup}
upstreams = 127.0.0.1:{up}

[route d]
mode = tcp
listen = 127.0.0.1:{other}
upstreams =
"""
BROKEN_EXPECT = [
    (3, r"bogus_key|unknown"),
    (4, r"duration|unit|drain_timeout"),
    (8, r"70000|port"),
    (18, r"already|duplicate|twice|same|in use|route b"),
    (24, r"upstream|empty"),
]


def write_broken(tmp_path):
    path = tmp_path / "broken.ini"
    path.write_text(BROKEN.format(up=free_port(), dup=free_port(), other=free_port()))
    return str(path)


def test_version_prints_name_and_version():
    r = run("--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "plrelay 0.1.0"


def test_help_documents_options_and_exit_status():
    r = run("--help")
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert "-c" in text and "-t" in text and "--version" in text
    assert re.search(r"exit status", text, re.I), text
    section = text[re.search(r"exit status", text, re.I).start():]
    for code in ("0", "1", "2", "3"):
        assert re.search(r"(^|\s)%s\b" % code, section), "exit code %s not documented:\n%s" % (
            code, section)


def test_unknown_option_is_a_usage_error():
    r = run("--no-such-option")
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.strip(), "a usage error should say something on stderr"


def test_check_mode_accepts_a_good_config(tmp_path):
    path = tmp_path / "good.ini"
    path.write_text(good_config(tmp_path))
    r = run("-t", "-c", str(path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "%s: configuration OK" % path


def test_check_mode_reports_every_error_with_file_and_line(tmp_path):
    path = write_broken(tmp_path)
    r = run("-t", "-c", path)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    found = {}
    for line in r.stderr.splitlines():
        m = re.match(re.escape(path) + r":(\d+): (.+)$", line)
        if m:
            found.setdefault(int(m.group(1)), []).append(m.group(2))
    for lineno, reason_re in BROKEN_EXPECT:
        assert lineno in found, "no error reported for line %d; stderr:\n%s" % (lineno, r.stderr)
        assert any(re.search(reason_re, x, re.I) for x in found[lineno]), \
            "line %d reason %r does not match %r" % (lineno, found[lineno], reason_re)
    assert "configuration OK" not in r.stdout


def test_missing_upstreams_key_is_reported_at_the_route_header(tmp_path):
    path = tmp_path / "noup.ini"
    path.write_text("[global]\nworkers = 1\n\n[route lonely]\nmode = tcp\nlisten = 127.0.0.1:%d\n"
                    % free_port())
    r = run("-t", "-c", str(path))
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert re.search(re.escape(str(path)) + r":4: .*upstream", r.stderr, re.I), r.stderr


def test_start_with_broken_config_refuses_with_exit_1(tmp_path):
    path = write_broken(tmp_path)
    r = run("-c", path)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert re.search(re.escape(path) + r":3: ", r.stderr), r.stderr
    assert not harness.READY_RE.search(r.stderr), r.stderr


@pytest.mark.parametrize("check", [True, False], ids=["check_mode", "start"])
def test_missing_config_file_exits_1_naming_the_file(tmp_path, check):
    path = str(tmp_path / "does-not-exist.ini")
    r = run(*(["-t"] if check else []), "-c", path)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert path in r.stderr, r.stderr


def test_bind_failure_is_a_startup_failure_exit_3(tmp_path):
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)   # no SO_REUSEPORT: plrelay
    try:                                                           # cannot share it
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        path = tmp_path / "busy.ini"
        path.write_text(make_config(tmp_path, {"r1": route("127.0.0.1:%d" % port,
                                                           "127.0.0.1:%d" % free_port())}))
        r = run("-c", str(path))
        assert r.returncode == 3, (r.returncode, r.stderr)
        assert str(port) in r.stderr, "the log should name the address it could not bind"
    finally:
        holder.close()


def test_stderr_log_lines_have_timestamp_and_level_and_a_ready_line(tmp_path, start_plrelay):
    p = start_plrelay(make_config(tmp_path, {
        "r1": route("127.0.0.1:%d" % free_port(), "127.0.0.1:%d" % free_port()),
        "r2": route("127.0.0.1:%d" % free_port(), "127.0.0.1:%d" % free_port())}, workers=2))
    m = harness.READY_RE.search(p.stderr())
    assert m and m.group(1) == "2" and m.group(2) == "2", p.stderr()
    assert p.stop() == 0
    for line in p.stderr().splitlines():
        assert harness.LOG_LINE_RE.match(line), "malformed log line: %r" % line
