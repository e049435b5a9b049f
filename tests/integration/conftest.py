"""pytest fixtures for the plrelay integration suite.

Run one file as ctest does:
    PLRELAY_BIN=build/plrelay PLRELAY_SANITIZE=OFF \
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_relay.py

Fixtures
- start_plrelay(config_text, nofile=None, ready_timeout=20): starts the binary, waits for the
  `[info] ready:` line; at teardown sends SIGTERM if it still runs, waits, and asserts exit code 0
  and (PLRELAY_SANITIZE=ON) no sanitizer report in its stderr.
- servers(handler, **kw): a peers.TcpServer stopped at teardown.
- tmp_path (pytest's own) for configs, logs and hosts files.
The peers (echo, source/sink, reset, black hole, DNS) are in tests/support/peers.py and the process
wrapper and client helpers in tests/support/harness.py.
"""

import re
import os
import resource
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "support"))

import harness  # noqa: E402
import peers  # noqa: E402

# The tests hold hundreds of sockets on both sides of the relay; plrelay inherits this too.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _hard == resource.RLIM_INFINITY or _hard > _soft:
    resource.setrlimit(resource.RLIMIT_NOFILE,
                       (min(_hard, 65536) if _hard != resource.RLIM_INFINITY else 65536, _hard))


@pytest.fixture
def start_plrelay(tmp_path):
    started = []

    def _start(config_text, nofile=None, ready_timeout=20.0, name=None):
        p = harness.Plrelay(tmp_path, config_text, name=name or "plrelay%d" % len(started),
                            nofile=nofile)
        started.append(p)
        return p.start(ready_timeout=ready_timeout)

    yield _start

    problems = []
    for p in started:
        if p.proc is None:
            continue
        if p.alive():
            try:
                p.stop(timeout=30)
            except AssertionError as e:
                p.kill()
                problems.append("%s: did not exit on SIGTERM: %s" % (p.name, e))
                continue
        if p.returncode is None:
            p.returncode = p.proc.returncode
        if p.returncode != 0:
            problems.append("%s: exit code %s; stderr tail:\n%s"
                            % (p.name, p.returncode, p.stderr()[-4000:]))
        # Invariant: every read paused for backpressure is resumed (or ended with its session).
        m = re.search(r"reads paused (\d+) / resumed (\d+)", p.stderr())
        if p.returncode == 0 and m and m.group(1) != m.group(2):
            problems.append("%s: reads paused %s times but resumed %s times"
                            % (p.name, m.group(1), m.group(2)))
        bad = p.sanitizer_errors()
        if bad:
            problems.append("%s: sanitizer reported %s; stderr:\n%s"
                            % (p.name, bad, p.stderr()[-8000:]))
    assert not problems, "\n".join(problems)


@pytest.fixture
def servers():
    started = []

    def _make(handler, **kw):
        s = peers.TcpServer(handler, **kw)
        started.append(s)
        return s

    yield _make
    for s in started:
        s.stop()
