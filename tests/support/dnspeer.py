"""A tiny UDP DNS responder for the plrelay integration tests (re-exported by peers.py).

Hand-written encoder/decoder for just what the tests need: one question per query, answers with
A or AAAA records (name compressed as a pointer to the question), a configurable TTL and rcode,
plus "silent" (never answer) and "garbage" (a truncated reply promising 5 answers) modes.
Binds 127.0.0.1.
"""

import socket
import struct
import threading

POLL_S = 0.2

QTYPE_A, QTYPE_AAAA = 1, 28
RCODE_NOERROR, RCODE_SERVFAIL, RCODE_NXDOMAIN = 0, 2, 3


def dns_decode_question(msg):
    """(id, flags, qname, qtype, end offset of the question). Raises ValueError if malformed."""
    if len(msg) < 12:
        raise ValueError("short header")
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if qdcount != 1:
        raise ValueError("qdcount %d" % qdcount)
    labels, off = [], 12
    while True:
        if off >= len(msg):
            raise ValueError("truncated name")
        n = msg[off]
        off += 1
        if n == 0:
            break
        if n & 0xC0 or off + n > len(msg):
            raise ValueError("bad label")
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
    if off + 4 > len(msg):
        raise ValueError("truncated question")
    qtype, _qclass = struct.unpack("!HH", msg[off:off + 4])
    return qid, flags, ".".join(labels).lower(), qtype, off + 4


def dns_encode_answer(query, rcode, addresses, qtype, ttl):
    """A response echoing the question of `query` with one record per address."""
    qid, flags, _name, _qt, qend = dns_decode_question(query)
    rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | (rcode & 0xF)   # QR AA RD RA
    out = bytearray(struct.pack("!HHHHHH", qid, rflags, 1, len(addresses), 0, 0))
    out += query[12:qend]
    family = socket.AF_INET if qtype == QTYPE_A else socket.AF_INET6
    for a in addresses:
        rdata = socket.inet_pton(family, a)
        out += struct.pack("!HHHIH", 0xC00C, qtype, 1, ttl, len(rdata)) + rdata
    return bytes(out)


class DnsServer:
    """UDP DNS responder on 127.0.0.1. Answers per name (case-insensitive, no trailing dot):
    set(name, a=[...], aaaa=[...], ttl=1) for answers, set(name, rcode=RCODE_NXDOMAIN|SERVFAIL),
    set(name) for NOERROR with no records, set(name, mode="silent"|"garbage"). Unknown names get
    NXDOMAIN. Every query is recorded in .queries as (name, qtype)."""

    def __init__(self, host="127.0.0.1"):
        self.lock = threading.Lock()
        self.records = {}
        self.queries = []
        self.stopping = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(POLL_S)
        self.port = self.sock.getsockname()[1]
        self.addr = "%s:%d" % (host, self.port)
        self.thread = threading.Thread(target=self._loop, daemon=True, name="dns")
        self.thread.start()

    def set(self, name, a=(), aaaa=(), ttl=1, rcode=RCODE_NOERROR, mode="answer"):
        with self.lock:
            self.records[name.lower().rstrip(".")] = {
                "a": list(a), "aaaa": list(aaaa), "ttl": ttl, "rcode": rcode, "mode": mode}

    def queries_for(self, name):
        with self.lock:
            return [q for q in self.queries if q[0] == name.lower()]

    def _loop(self):
        while not self.stopping.is_set():
            try:
                msg, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                reply = self._answer(msg)
            except ValueError:
                continue
            if reply is not None:
                try:
                    self.sock.sendto(reply, peer)
                except OSError:
                    pass

    def _answer(self, msg):
        _qid, _flags, name, qtype, _end = dns_decode_question(msg)
        with self.lock:
            self.queries.append((name, qtype))
            rec = self.records.get(name)
        if rec is None:
            return dns_encode_answer(msg, RCODE_NXDOMAIN, [], qtype, 0)
        if rec["mode"] == "silent":
            return None
        if rec["mode"] == "garbage":     # a response header that promises 5 answers, then junk
            return msg[:2] + struct.pack("!HHHHH", 0x8180, 1, 5, 0, 0) + b"\x07bad\xff\xc0"
        addrs = []
        if rec["rcode"] == RCODE_NOERROR:
            addrs = rec["a"] if qtype == QTYPE_A else rec["aaaa"] if qtype == QTYPE_AAAA else []
        return dns_encode_answer(msg, rec["rcode"], addrs, qtype, rec["ttl"])

    def close(self):
        self.stopping.set()
        self.sock.close()
        self.thread.join(timeout=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
