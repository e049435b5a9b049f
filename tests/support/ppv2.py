"""PROXY protocol v1/v2 for the tests: build headers (valid or deliberately broken) and parse the
header plrelay sends upstream (send_proxy), independently of plrelay's own C parser.

Built from haproxy doc/proxy-protocol.txt (see ../shared/docs/reliability.md §3). Builders take
keyword overrides for every field a malformed-input test wants to break (version nibble,
command, family/protocol byte, declared length, raw address block). Alibaba PrivateLink ids
travel in TLV 0xE1 whose first value byte is a sub-type: 0x01 VPC id, 0x02 endpoint id, 0x03
endpoint-service id.

    hdr = v2(src=("10.1.2.3", 4567), dst=("10.0.0.1", 443),
             tlvs=alibaba(endpoint=b"ep-bp1abc", vpc=b"vpc-bp1x"), crc=True)
    info = parse(hdr + payload)      # -> (header_len, Header) ; ValueError on a bad header

Everything is bytes in, bytes out; nothing here touches a socket except proxy_header_peer,
a TcpServer handler that reads and checks the header in front of an echo.
"""

import socket
import struct

SIG = b"\r\n\r\n\x00\r\nQUIT\n"

# TLV types (spec §2.2) and the Alibaba 0xE1 sub-types.
TLV_ALPN = 0x01
TLV_AUTHORITY = 0x02
TLV_CRC32C = 0x03
TLV_NOOP = 0x04
TLV_UNIQUE_ID = 0x05
TLV_SSL = 0x20
TLV_SSL_VERSION = 0x21
TLV_SSL_CN = 0x22
TLV_SSL_CIPHER = 0x23
TLV_SSL_SIG_ALG = 0x24
TLV_SSL_KEY_ALG = 0x25
TLV_NETNS = 0x30
TLV_AWS = 0xEA
TLV_ALIBABA = 0xE1
ALI_VPC = 0x01
ALI_ENDPOINT = 0x02
ALI_SERVICE = 0x03

CMD_LOCAL = 0
CMD_PROXY = 1

FAM_UNSPEC, FAM_INET, FAM_INET6, FAM_UNIX = 0, 1, 2, 3
PROTO_UNSPEC, PROTO_STREAM, PROTO_DGRAM = 0, 1, 2
_BLOCK = {FAM_UNSPEC: 0, FAM_INET: 12, FAM_INET6: 36, FAM_UNIX: 216}


# ---- CRC32C (Castagnoli, reflected 0x82F63B78) -------------------------------------------

def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


# ---- builders ---------------------------------------------------------------------------

def v1(proto="TCP4", src=None, dst=None, raw=None):
    """A v1 line: v1("TCP4", ("192.168.0.1", 56324), ("192.168.0.11", 443)) ->
    b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\\r\\n"; v1("UNKNOWN") -> b"PROXY UNKNOWN\\r\\n".
    raw: the text after "PROXY " (without CRLF) for hand-made broken lines."""
    if raw is not None:
        return b"PROXY " + (raw.encode() if isinstance(raw, str) else raw) + b"\r\n"
    if proto == "UNKNOWN":
        return b"PROXY UNKNOWN\r\n"
    return ("PROXY %s %s %s %d %d\r\n" % (proto, src[0], dst[0], src[1], dst[1])).encode()


def tlv(t, value):
    """type(1) length(2, BE) value."""
    return struct.pack("!BH", t, len(value)) + value


def alibaba(vpc=None, endpoint=None, service=None):
    """The 0xE1 TLVs for the ids given (bytes or str), one TLV per sub-type, in sub-type order."""
    out = b""
    for sub, ident in ((ALI_VPC, vpc), (ALI_ENDPOINT, endpoint), (ALI_SERVICE, service)):
        if ident is not None:
            out += tlv(TLV_ALIBABA, bytes([sub]) + _b(ident))
    return out


def _b(x):
    return x.encode() if isinstance(x, str) else bytes(x)


def _family_of(addr):
    if isinstance(addr, (bytes, bytearray)):
        return FAM_UNIX
    return FAM_INET6 if ":" in addr[0] else FAM_INET


def address_block(family, src, dst):
    if family == FAM_INET:
        return (socket.inet_pton(socket.AF_INET, src[0]) + socket.inet_pton(socket.AF_INET, dst[0])
                + struct.pack("!HH", src[1], dst[1]))
    if family == FAM_INET6:
        return (socket.inet_pton(socket.AF_INET6, src[0])
                + socket.inet_pton(socket.AF_INET6, dst[0]) + struct.pack("!HH", src[1], dst[1]))
    if family == FAM_UNIX:
        return _b(src).ljust(108, b"\0")[:108] + _b(dst).ljust(108, b"\0")[:108]
    return b""


def v2(src=None, dst=None, tlvs=b"", command=CMD_PROXY, family=None, proto=PROTO_STREAM,
       crc=False, version=2, fam_byte=None, length=None, block=None):
    """A v2 header. src/dst: (ip, port) tuples (IPv4 or IPv6 by the text) or bytes (UNIX path).
    command LOCAL without src gives a bare LOCAL header (len 0 unless block/length say so).
    crc=True appends a CRC32C TLV computed over the finished header (last TLV).
    Overrides for broken headers: version (high nibble), fam_byte (whole byte 14), length
    (declared len, whatever follows), block (raw address block instead of the real one)."""
    if family is None:
        family = _family_of(src) if src is not None else FAM_UNSPEC
    if block is None:
        block = address_block(family, src, dst) if src is not None else b""
    body = block + tlvs
    if crc:
        body += tlv(TLV_CRC32C, b"\0\0\0\0")
    ver_cmd = ((version & 0xF) << 4) | (command & 0xF)
    fb = fam_byte if fam_byte is not None else ((family << 4) | (proto if family else 0))
    hdr = SIG + bytes([ver_cmd, fb]) + struct.pack("!H", len(body) if length is None else length)
    hdr += body
    if crc:
        c = crc32c(hdr)
        hdr = hdr[:-4] + struct.pack("!I", c)
    return hdr


def flip_bit(data, byte_index, bit=0):
    b = bytearray(data)
    b[byte_index] ^= 1 << bit
    return bytes(b)


# ---- parser (for what plrelay sends upstream) -------------------------------------------

class Header:
    """A parsed header: version 1 or 2, command, family, transport, src/dst as (ip, port)
    (None when the header carries no addresses), tlvs [(type, value)], alibaba {sub: id},
    crc (None: no CRC TLV, True: matched; a mismatch raises), raw (the header bytes)."""

    def __init__(self, **kw):
        self.version = kw.get("version")
        self.command = kw.get("command", CMD_PROXY)
        self.family = kw.get("family", FAM_UNSPEC)
        self.transport = kw.get("transport", PROTO_UNSPEC)
        self.src = kw.get("src")
        self.dst = kw.get("dst")
        self.tlvs = kw.get("tlvs", [])
        self.alibaba = kw.get("alibaba", {})
        self.crc = kw.get("crc")
        self.raw = kw.get("raw", b"")

    def tlv_values(self, t):
        return [v for (tt, v) in self.tlvs if tt == t]

    def __repr__(self):
        return "Header(v%s cmd=%s fam=%s src=%r dst=%r tlvs=%r)" % (
            self.version, self.command, self.family, self.src, self.dst, self.tlvs)


def walk_tlvs(data):
    """[(type, value)] for a TLV region that must walk exactly to its end (ValueError if not)."""
    out, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 3:
            raise ValueError("stray bytes after the TLVs")
        t, n = struct.unpack("!BH", data[pos:pos + 3])
        if pos + 3 + n > len(data):
            raise ValueError("TLV 0x%02x overruns the header" % t)
        out.append((t, data[pos + 3:pos + 3 + n]))
        pos += 3 + n
    return out


def parse(buf):
    """(header_len, Header) for a complete header at the start of buf; None if buf is a valid
    but incomplete prefix; ValueError for anything else."""
    if buf[:1] == b"P":
        if len(buf) < 6:
            if not b"PROXY "[:len(buf)] == buf:
                raise ValueError("not a PROXY header")
            return None
        if not buf.startswith(b"PROXY "):
            raise ValueError("not a PROXY header")
        end = buf.find(b"\r\n")
        if end == -1:
            if len(buf) >= 107:
                raise ValueError("v1: no CRLF within 107 bytes")
            return None
        line = buf[:end].decode("ascii")
        parts = line.split(" ")
        if parts[1] == "UNKNOWN":
            return end + 2, Header(version=1, raw=buf[:end + 2])
        if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
            raise ValueError("v1: bad line %r" % line)
        af = socket.AF_INET if parts[1] == "TCP4" else socket.AF_INET6
        for a in parts[2:4]:
            socket.inet_pton(af, a)
        ports = [int(x) for x in parts[4:6]]
        if any(str(p) != x or not 0 <= p <= 65535 for p, x in zip(ports, parts[4:6])):
            raise ValueError("v1: bad port in %r" % line)
        return end + 2, Header(version=1, family=FAM_INET if af == socket.AF_INET else FAM_INET6,
                               transport=PROTO_STREAM, src=(parts[2], ports[0]),
                               dst=(parts[3], ports[1]), raw=buf[:end + 2])
    if len(buf) < 16:
        if SIG[:len(buf)] != buf[:12]:
            raise ValueError("not a PROXY header")
        return None
    if buf[:12] != SIG:
        raise ValueError("not a PROXY header")
    ver, cmd = buf[12] >> 4, buf[12] & 0xF
    fam, proto = buf[13] >> 4, buf[13] & 0xF
    n = struct.unpack("!H", buf[14:16])[0]
    if ver != 2 or cmd not in (CMD_LOCAL, CMD_PROXY):
        raise ValueError("v2: bad version/command byte 0x%02x" % buf[12])
    if fam not in _BLOCK or proto > 2:
        raise ValueError("v2: bad family/protocol byte 0x%02x" % buf[13])
    if len(buf) < 16 + n:
        return None
    raw = buf[:16 + n]
    h = Header(version=2, command=cmd, family=fam, transport=proto, raw=raw)
    if cmd == CMD_LOCAL or fam == FAM_UNSPEC:
        return 16 + n, h
    blen = _BLOCK[fam]
    if n < blen:
        raise ValueError("v2: len %d shorter than the address block %d" % (n, blen))
    block = raw[16:16 + blen]
    if fam == FAM_INET:
        h.src = (socket.inet_ntop(socket.AF_INET, block[0:4]), struct.unpack("!H", block[8:10])[0])
        h.dst = (socket.inet_ntop(socket.AF_INET, block[4:8]), struct.unpack("!H", block[10:12])[0])
    elif fam == FAM_INET6:
        h.src = (socket.inet_ntop(socket.AF_INET6, block[0:16]),
                 struct.unpack("!H", block[32:34])[0])
        h.dst = (socket.inet_ntop(socket.AF_INET6, block[16:32]),
                 struct.unpack("!H", block[34:36])[0])
    else:
        h.src, h.dst = block[:108], block[108:216]
    h.tlvs = walk_tlvs(raw[16 + blen:])
    for t, v in h.tlvs:
        if t == TLV_ALIBABA:
            if not v:
                raise ValueError("0xE1 TLV without sub-type")
            if v[0] in h.alibaba:
                raise ValueError("duplicate 0xE1 sub-type %d" % v[0])
            h.alibaba[v[0]] = v[1:]
    crcs = h.tlv_values(TLV_CRC32C)
    if crcs:
        if len(crcs) != 1 or len(crcs[0]) != 4:
            raise ValueError("bad CRC32C TLV")
        off = 16 + blen
        zeroed = bytearray(raw)
        for t, v in h.tlvs:           # locate the CRC value and zero it
            if t == TLV_CRC32C:
                zeroed[off + 3:off + 7] = b"\0\0\0\0"
                break
            off += 3 + len(v)
        if crc32c(bytes(zeroed)) != struct.unpack("!I", crcs[0])[0]:
            raise ValueError("v2: CRC32C mismatch")
        h.crc = True
    return 16 + n, h


# ---- a peer that checks the header plrelay sends --------------------------------------------

def proxy_header_peer(conn, server):
    """TcpServer handler: read until a complete PROXY header has arrived (at most 10 s and
    65551 bytes), record dict(header=Header or None, error=str or None, first=the bytes read
    before the header was complete) in server.results, then echo everything after the header
    (including payload that arrived in the same segment) until EOF. A missing or broken header
    is recorded and the connection closed without echoing."""
    import time
    buf = bytearray()
    deadline = time.monotonic() + 10
    result = {"header": None, "error": None}
    conn.settimeout(0.2)
    while True:
        try:
            got = parse(bytes(buf))
        except ValueError as e:
            result["error"] = str(e)
            break
        if got is not None:
            n, h = got
            result["header"] = h
            del buf[:n]
            break
        if time.monotonic() > deadline or server.stopping.is_set() or len(buf) > 65551:
            result["error"] = "no complete header (%d bytes)" % len(buf)
            break
        try:
            data = conn.recv(65536)
        except socket.timeout:
            continue
        if not data:
            result["error"] = "EOF after %d bytes, inside the header" % len(buf)
            break
        buf += data
    server.add_result(result)
    if result["error"] is not None:
        return
    conn.settimeout(30)
    if buf:
        conn.sendall(bytes(buf))
    while not server.stopping.is_set():
        try:
            data = conn.recv(256 * 1024)
        except socket.timeout:
            break
        if not data:
            break
        conn.sendall(data)
    try:
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass
