"""emu — the local Alibaba Cloud OpenAPI emulator behind tests/support/emulator.py.

core (state, lazy transitions, idempotency, faults), sigcheck (signature verification),
server (the API port, admin and metadata dispatch), admin (/_emulator/*), one module per
product (slb, nlb, privatelink, es) and esrest (the two plain-HTTP Elasticsearch clusters).
"""
