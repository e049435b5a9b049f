"""sigcheck — verifies every request's signature with the emulator's OWN implementation.

Written from docs/alicloud-api.md §2, not from src/provision/sign.c, so an accepted request proves
the C signer and the doc agree: ACS3-HMAC-SHA256 (V3, any product), HMAC-SHA1 RPC (V2, query or
form parameters) and HMAC-SHA1 ROA (V2, the Elasticsearch SDK's form). Each verifier also checks
the time window, the nonce (never twice) and, for STS keys, the security token; failures are
ApiErrors with the gateway's codes. SignatureDoesNotMatch echoes the server's string-to-sign, as
the real gateway does (it never contains the secret).
"""

import base64
import calendar
import email.utils
import hashlib
import hmac
import re
import time
import urllib.parse

from .core import ApiError, pct

TIME_WINDOW_S = 15 * 60



def iso_to_unix(text):
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise ApiError(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.")


def check_time(state, when):
    if abs(state.now() - when) > TIME_WINDOW_S:
        raise ApiError(400, "InvalidTimeStamp.Expired",
                       "Specified time stamp or date value is expired.")


def check_nonce(state, nonce):
    if not nonce:
        raise ApiError(400, "MissingSignatureNonce", "SignatureNonce is mandatory.")
    with state.lock:
        if nonce in state.nonces:
            raise ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        state.nonces.add(nonce)


def lookup_key(state, key_id):
    with state.lock:
        found = state.keys.get(key_id)
    if found is None:
        raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    return found


def check_token(required, presented):
    if required is not None and presented != required:
        raise ApiError(400, "InvalidSecurityToken.Mismatch",
                       "Specified SecurityToken is not valid for this AccessKeyId.")


def bad_signature(string_to_sign):
    # The real gateway echoes its string-to-sign; so do we (it never contains the secret).
    raise ApiError(400, "SignatureDoesNotMatch",
                   "Specified signature is not matched with our calculation. server string to "
                   "sign is:" + string_to_sign)


def verify_v3(state, req):
    m = re.fullmatch(r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),"
                     r"Signature=([0-9a-f]{64})", req["authorization"])
    if m is None:
        raise ApiError(400, "IncompleteSignature", "The Authorization header is malformed.")
    key_id, signed, signature = m.groups()
    secret, token = lookup_key(state, key_id)
    names = signed.split(";")
    h = req["headers"]
    if names != sorted(names) or any(n != n.lower() for n in names):
        raise ApiError(400, "IncompleteSignature", "SignedHeaders must be lower-case and sorted.")
    for need in ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                 "x-acs-content-sha256"):
        if need not in names:
            raise ApiError(400, "IncompleteSignature", "Header %s must be signed." % need)
    for name in h:
        if (name.startswith("x-acs-") or name == "content-type") and name not in names:
            raise ApiError(400, "IncompleteSignature", "Header %s is not signed." % name)
    if h["x-acs-content-sha256"] != hashlib.sha256(req["body"]).hexdigest():
        raise ApiError(400, "InvalidParameter.ContentSHA256", "x-acs-content-sha256 mismatch.")
    path = "/".join(pct(urllib.parse.unquote(s)) for s in req["path"].split("/")) or "/"
    query = "&".join("%s=%s" % kv for kv in sorted((pct(k), pct(v)) for k, v in req["query"]))
    canonical_headers = "".join("%s:%s\n" % (n, h.get(n, "").strip()) for n in names)
    canonical = "\n".join([req["method"], path, query, canonical_headers, signed,
                           h["x-acs-content-sha256"]])
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expect = hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expect, signature):
        bad_signature(sts)
    check_time(state, iso_to_unix(h["x-acs-date"]))
    check_nonce(state, h["x-acs-signature-nonce"])
    check_token(token, h.get("x-acs-security-token"))
    return key_id


def verify_v2_rpc(state, req, params):
    given = dict(params)
    signature = given.pop("Signature", None)
    if signature is None:
        raise ApiError(400, "MissingSignature", "Signature is mandatory.")
    if given.get("SignatureMethod") != "HMAC-SHA1" or given.get("SignatureVersion") != "1.0":
        raise ApiError(400, "InvalidSignatureMethod", "HMAC-SHA1 / 1.0 expected.")
    secret, token = lookup_key(state, given.get("AccessKeyId", ""))
    canonical = "&".join("%s=%s" % kv for kv in sorted((pct(k), pct(v)) for k, v in given.items()))
    sts = req["method"] + "&" + pct("/") + "&" + pct(canonical)
    expect = base64.b64encode(hmac.new((secret + "&").encode(), sts.encode(),
                                       hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expect, signature):
        bad_signature(sts)
    check_time(state, iso_to_unix(given.get("Timestamp", "")))
    check_nonce(state, given.get("SignatureNonce"))
    check_token(token, given.get("SecurityToken"))
    return given["AccessKeyId"]


def verify_v2_roa(state, req):
    m = re.fullmatch(r"acs ([^:]+):(.+)", req["authorization"])
    if m is None:
        raise ApiError(400, "IncompleteSignature", "The Authorization header is malformed.")
    key_id, signature = m.groups()
    secret, token = lookup_key(state, key_id)
    h = req["headers"]
    if req["body"]:
        md5 = base64.b64encode(hashlib.md5(req["body"]).digest()).decode()
        if h.get("content-md5") != md5:
            raise ApiError(400, "InvalidContentMD5", "Content-MD5 does not match the body.")
    acs = "".join("%s:%s\n" % (n, h[n].strip()) for n in sorted(h) if n.startswith("x-acs-"))
    resource = req["path"]
    if req["query"]:
        resource += "?" + "&".join(k if v == "" else "%s=%s" % (k, v)
                                   for k, v in sorted(req["query"]))
    sts = "\n".join([req["method"], h.get("accept", ""), h.get("content-md5", ""),
                     h.get("content-type", ""), h.get("date", "")]) + "\n" + acs + resource
    expect = base64.b64encode(hmac.new(secret.encode(), sts.encode(),
                                       hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expect, signature):
        bad_signature(sts.replace("\n", "#"))
    try:
        when = email.utils.parsedate_to_datetime(h.get("date", "")).timestamp()
    except (TypeError, ValueError):
        raise ApiError(400, "InvalidTimeStamp.Format", "The Date header is not valid.")
    check_time(state, when)
    check_nonce(state, h.get("x-acs-signature-nonce"))
    check_token(token, h.get("x-acs-security-token"))
    if token is not None and h.get("x-acs-accesskey-id") != key_id:
        raise ApiError(400, "IncompleteSignature", "x-acs-accesskey-id must name the STS key.")
    return key_id
