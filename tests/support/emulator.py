#!/usr/bin/env python3
"""emulator — a local stand-in for the Alibaba Cloud OpenAPI actions the provisioner uses.

Python 3 standard library only. It listens on 127.0.0.1 (never anything else), verifies the
signature of every request with its OWN implementation of docs/alicloud-api.md §2 (ACS3-HMAC-SHA256,
HMAC-SHA1 RPC and HMAC-SHA1 ROA: written from the doc, not from src/provision/sign.c), keeps its
resources in memory, and injects faults on demand. It also plays the ECS metadata service (§3 step
5), handing out STS credentials that it then accepts, and two plain-HTTP Elasticsearch clusters
(local and remote) for the verify step's _reindex/_count.

The wire contract is /tmp/plprov-contract.md; the code is the package tests/support/emu/, one
module per product, each documenting its actions and the choices made where the contract is
silent:
  slb 2014-05-15          emu/slb.py          CLB, listeners, backends, health
  nlb 2022-04-30          emu/nlb.py          NLB, server groups, servers, listeners, jobs
  privatelink 2020-04-15  emu/privatelink.py  endpoint services and their connections
  elasticsearch 2017-06-13 (ROA) emu/es.py    instance, private connections, YML settings
  ES REST (plain HTTP)    emu/esrest.py       _count/_search/_refresh/DELETE, local _reindex
Statuses that change over time (inactive -> active, Provisioning -> Active, Connecting ->
Connected, Deleting -> gone, ...) change ASYNC ms after the call (--async-ms, default 300; the
ES restart after UpdateInstanceSettings takes 3*ASYNC) and are settled lazily, from timestamps,
whenever a request reads the state: no background threads besides the HTTP servers.

Start:  emulator.py --port 0 --access-key-id ID --access-key-secret SECRET [--es-instance ID]...
        [--security-token T] [--async-ms 300] [--es-password P] [--remote-password P]
        [--fault KIND[:COUNT[:ACTION]]]...
It prints one JSON line {"port": N, "es_rest_port": L, "remote_rest_port": R} on stdout once all
three ports listen, then serves until killed. The local cluster plays the first --es-instance.

Admin endpoints (plain HTTP, unsigned, loopback only, on the API port; emu/admin.py):
  POST /_emulator/fault   {"kind": K, "count": N, "action": A?, "delay_ms": D?, "status": S?}
        kinds: throttle (400 Throttling.User), throttle503 (503 ServiceUnavailable),
               busy (400 SystemBusy), 5xx (500 InternalError), badsig (400 SignatureDoesNotMatch),
               lock (400 Conflict.Lock), slow (sleep delay_ms, then answer normally),
               late (perform the action, then sleep delay_ms before answering),
               pending (the next N EnableVpcEndpointConnection calls leave the connection
               Pending), jobfail (the NLB job of the next N writes of `action` ends Failed),
               oversize (200 with a 5 MiB body), malformed (200 with a body that is
               not JSON), reset (close without answering)
  POST /_emulator/clock   {"offset_s": N}   the emulator's clock (Date header, time checks) moves
  POST /_emulator/reset   forget requests, faults, resources, documents and health overrides
  POST /_emulator/seed    build (part of) a private path directly in its final state (Active,
        Running, Connected...), for read tests:
        {"topology": "clb-ecs"|"nlb-ip", "name": N, "region": R, "vpc_id": V,
         "listener_ports": [..], "ecs": [..]            (clb-ecs)
         "zones": [..], "target_ip": IP, "target_port": P, "listener_port": 9200   (nlb-ip)
         "es_instance": ID, "connection_status": "Connected", "whitelist": true,
         "auto_accept": false, "stage": "lb"|"service"|"endpoint"|"all"}
        (stop after that hop; default all)
        answers {"lb_id", "service_id", "endpoint_id", "endpoint_domain"} (those it made)
  POST /_emulator/health  {"server_id": "i-..", "status": "abnormal"|"normal"}
  POST /_emulator/es_docs {"cluster": "remote"|"local", "index": I, "count": N}
  GET  /_emulator/resources  ids of everything alive, the whitelist, counts
  GET  /_emulator/requests  every API request seen: action, product, style, params, client_token,
                            signature_ok, fault, status
  GET  /_emulator/imds      metadata-service requests seen (method, path, token presented)
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emu import esrest, server  # noqa: E402
from emu.core import DEFAULT_ASYNC_MS, State  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-key-id", default="testid")
    ap.add_argument("--access-key-secret", default="testsecret")
    ap.add_argument("--security-token", default=None,
                    help="require this STS token with --access-key-id")
    ap.add_argument("--es-instance", action="append", default=[])
    ap.add_argument("--async-ms", type=int, default=DEFAULT_ASYNC_MS,
                    help="how long asynchronous operations stay in their interim status")
    ap.add_argument("--es-password", default="local-es-password",
                    help="password of user elastic on the local ES REST cluster")
    ap.add_argument("--remote-password", default="remote-es-password",
                    help="password of user elastic on the remote ES REST cluster")
    ap.add_argument("--fault", action="append", default=[],
                    help="KIND[:COUNT[:ACTION]] injected from the start")
    args = ap.parse_args(argv)

    state = State({args.access_key_id: (args.access_key_secret, args.security_token)},
                  args.es_instance, async_ms=args.async_ms,
                  passwords={"local": args.es_password, "remote": args.remote_password})
    for spec in args.fault:
        kind, _, rest = spec.partition(":")
        count, _, action = rest.partition(":")
        state.faults.append({"kind": kind, "count": int(count or 1), "action": action or None})
    api = server.start_api(state, args.port)
    local = esrest.start_cluster(state, "local")
    remote = esrest.start_cluster(state, "remote")
    print(json.dumps({"port": api.server_address[1], "es_rest_port": local.server_address[1],
                      "remote_rest_port": remote.server_address[1]}), flush=True)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
