"""Opt-in AWS Signature Version 4 verification (`serve --auth sigv4`).

Follows AWS's documented algorithm ("Create a signed AWS API request"): canonical request (method,
canonical URI, canonical query string, canonical headers, signed headers, payload hash), string to
sign (`AWS4-HMAC-SHA256`, the X-Amz-Date, the credential scope, the canonical request's SHA-256) and
the HMAC-SHA256 signing-key chain (`AWS4<secret>` -> date -> region -> service -> `aws4_request`).
Both the `Authorization` header and presigned query strings (X-Amz-Algorithm, -Credential, -Date,
-Expires, -SignedHeaders, -Signature) are checked. S3 signs the `x-amz-content-sha256` value as
sent (a hex SHA-256, `UNSIGNED-PAYLOAD` or `STREAMING-...`): the S3 endpoint checks a hex value
against the body as it streams in, and the chunk signatures of a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`
body against the `ChunkChain` the verifier leaves in the WSGI environ (`CHUNK_CHAIN_KEY`); other
services sign the SHA-256 of the body (read whole: their bodies are small).

Failures answer the codes AWS answers, in the protocol's error shape (the app's AwsError handler):
see `ERRORS`. The control API (`/_emulator/`) stays open. Before the key is looked up, the credential
scope must fit the service that would execute the request (`dispatch.scope_error`); after the
signature, `host` and every `x-amz-*` header sent must be among the signed headers.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, unquote

from flask import Flask, request

from cloudtrail_emulator.emulator.config import AccessKey, Clock
from cloudtrail_emulator.emulator.protocols.dispatch import (AUTH_ACCOUNT_KEY, CONTROL_PREFIXES, Protocol, auth_fields,
                                                             classify, route_of, scope_parts)
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.generators.times import KEY_SECOND, parse_key_second

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNED_CHUNKS = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"   # and its -TRAILER variant
CHUNK_CHAIN_KEY = "cloudtrail_emulator.sigv4.chunk_chain"
#: the S3 payload hash the verified signature covers (header, or a presigned URL's query): spool.py
#: checks and decodes the body by it, never by a header the signature does not cover
SIGNED_PAYLOAD_KEY = "cloudtrail_emulator.sigv4.signed_payload"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW = timedelta(minutes=15)
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_UNRESERVED = "-_.~"


# (JSON 1.1 code, status), (S3 code, status), (Query code, status) per failure kind, as AWS answers
ERRORS: dict[str, tuple[tuple[str, int], tuple[str, int], tuple[str, int]]] = {
    "missing": (("MissingAuthenticationTokenException", 400), ("AccessDenied", 403),
                ("MissingAuthenticationToken", 403)),
    "malformed": (("IncompleteSignatureException", 400), ("AuthorizationHeaderMalformed", 400),
                  ("IncompleteSignature", 400)),
    "unknown_key": (("UnrecognizedClientException", 400), ("InvalidAccessKeyId", 403),
                    ("InvalidClientTokenId", 403)),
    "signature": (("InvalidSignatureException", 400), ("SignatureDoesNotMatch", 403),
                  ("SignatureDoesNotMatch", 403)),
    "skewed": (("InvalidSignatureException", 400), ("RequestTimeTooSkewed", 403), ("SignatureDoesNotMatch", 403)),
    "expired": (("InvalidSignatureException", 400), ("AccessDenied", 403), ("SignatureDoesNotMatch", 403)),
}
MESSAGES = {
    "missing": "Request is missing Authentication Token",
    "unknown_key": "The security token included in the request is invalid.",
    "signature": "The request signature we calculated does not match the signature you provided. "
                 "Check your AWS Secret Access Key and signing method. Consult the service documentation "
                 "for details.",
    "expired": "Request has expired",
}
S3_MESSAGES = {
    "missing": "Access Denied",
    "unknown_key": "The AWS Access Key Id you provided does not exist in our records.",
    "signature": "The request signature we calculated does not match the signature you provided. "
                 "Check your key and signing method.",
}


def auth_error(kind: str, detail: str | None = None) -> AwsError:
    """The AWS error for a failure `kind`, coded for the current request's protocol."""
    protocol = classify(request)
    column = 1 if protocol is Protocol.S3 else 2 if protocol in (Protocol.QUERY, Protocol.EC2) else 0
    code, status = ERRORS[kind][column]
    messages = S3_MESSAGES if column == 1 else MESSAGES
    return AwsError(detail or messages.get(kind) or MESSAGES.get(kind, code), code=code, status=status)


@dataclass(frozen=True)
class Signed:
    """The signature parts of one request, from its Authorization header or its query string."""

    access_key: str
    date: str                 # YYYYMMDD of the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str             # YYYYMMDDTHHMMSSZ
    expires: int | None       # presigned URLs only
    presigned: bool


def _signed_parts(args: Mapping[str, str], headers: Mapping[str, str]) -> Signed | None:
    """None when the request carries no credentials at all; AwsError when they are malformed."""
    header = headers.get("Authorization")
    if header is not None:
        algorithm, _, rest = header.strip().partition(" ")
        if algorithm != ALGORITHM:
            raise auth_error("malformed", f"Unsupported Authorization type: only {ALGORITHM} is accepted")
        try:
            fields = auth_fields(rest)
        except ValueError as exc:
            raise auth_error("malformed", f"The authorization header is malformed: {exc}") from None
        credential, names = fields.get("Credential", ""), fields.get("SignedHeaders", "")
        signature, amz_date, expires = fields.get("Signature", ""), headers.get("X-Amz-Date", ""), None
    elif "X-Amz-Signature" in args or "X-Amz-Credential" in args:
        if args.get("X-Amz-Algorithm") != ALGORITHM:
            raise auth_error("malformed", f"X-Amz-Algorithm must be {ALGORITHM}")
        credential, names = args.get("X-Amz-Credential", ""), args.get("X-Amz-SignedHeaders", "")
        signature, amz_date = args.get("X-Amz-Signature", ""), args.get("X-Amz-Date", "")
        try:
            expires = int(args.get("X-Amz-Expires", ""))
        except ValueError:
            raise auth_error("malformed", "X-Amz-Expires must be a number of seconds") from None
        if not 1 <= expires <= MAX_PRESIGN_SECONDS:
            raise auth_error("malformed", f"X-Amz-Expires must be between 1 and {MAX_PRESIGN_SECONDS} seconds")
    elif "AWSAccessKeyId" in args and "Signature" in args:
        raise auth_error("malformed", f"Signature Version 2 is not supported: sign with {ALGORITHM} (s3v4)")
    else:
        return None
    scope = scope_parts(credential)
    if scope is None or not names or not signature:
        raise auth_error("malformed", "The authorization is incomplete: Credential=<key>/<date>/<region>/"
                                      "<service>/aws4_request, SignedHeaders and Signature are required")
    if not re.fullmatch(r"\d{8}T\d{6}Z", amz_date) or amz_date[:8] != scope[1]:
        raise auth_error("malformed", "X-Amz-Date must be YYYYMMDDTHHMMSSZ on the credential scope's date")
    return Signed(scope[0], scope[1], scope[2], scope[3], tuple(names.lower().split(";")), signature.lower(),
                  amz_date, expires, header is None)


def _uri_encode(text: str) -> str:
    return quote(text.encode("utf-8", "surrogateescape"), safe=_UNRESERVED)


def canonical_uri(raw_path: str, service: str) -> str:
    """Each segment of the path as sent decoded and URI-encoded: once for S3, twice (after removing
    `.`/`..` segments) for the other services; an encoded `/` stays inside its segment."""
    path = raw_path or "/"
    if service != "s3":
        normalized = posixpath.normpath(path) if path != "/" else "/"
        path = "/" + normalized.lstrip("/") + ("/" if path.endswith("/") and normalized != "/" else "")
    segments = [_uri_encode(unquote(segment, errors="surrogateescape")) for segment in path.split("/")]
    if service != "s3":
        segments = [_uri_encode(segment) for segment in segments]
    return "/".join(segments)


def canonical_query(raw_query: str, presigned: bool) -> str:
    """Every name=value pair decoded and re-encoded, sorted; a presigned URL's signature left out."""
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name, value = unquote(name, errors="surrogateescape"), unquote(value, errors="surrogateescape")
        if presigned and name == "X-Amz-Signature":
            continue
        pairs.append((_uri_encode(name), _uri_encode(value)))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def canonical_headers(names: tuple[str, ...], headers) -> str:
    """`name:value\\n` per signed header: values trimmed, inner runs of spaces collapsed, repeats joined by `,`."""
    lines = []
    for name in names:
        values = headers.getlist(name)
        joined = ",".join(" ".join(v.split()) for v in values)
        lines.append(f"{name}:{joined}\n")
    return "".join(lines)


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def expected_signature(secret: str, signed: Signed, method: str, raw_path: str, raw_query: str, headers,
                       payload_hash: str) -> str:
    """The hex signature AWS computes for these request parts."""
    canonical = "\n".join([
        method, canonical_uri(raw_path, signed.service), canonical_query(raw_query, signed.presigned),
        canonical_headers(signed.signed_headers, headers), ";".join(signed.signed_headers), payload_hash,
    ])
    scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
    string_to_sign = "\n".join([ALGORITHM, signed.amz_date, scope,
                                hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()])
    key = signing_key(secret, signed.date, signed.region, signed.service)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


#: the one `x-amz-*` header that may go unsigned: S3 checks its value against the body (and a header
#: signature covers it as the payload line); the other services sign the body's own hash
_UNSIGNED_ALLOWED = frozenset({"x-amz-content-sha256"})


def _require_signed_headers(signed: Signed, headers) -> None:
    """AWS's refusal when `host`, or an `x-amz-*` header the request carries (an `X-Amz-Target`
    added to a captured request...), is not among the signed headers."""
    if "host" not in signed.signed_headers:
        raise auth_error("signature", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    unsigned = sorted({name.lower() for name in headers.keys() if name.lower().startswith("x-amz-")}
                      - set(signed.signed_headers) - _UNSIGNED_ALLOWED)
    if not unsigned:
        return
    if classify(request) is Protocol.S3:
        raise AwsError("There were headers present in the request which were not signed", code="AccessDenied",
                       status=403, fields={"HeadersNotSigned": ", ".join(unsigned)})
    names = ", ".join(f"'{'-'.join(part.capitalize() for part in name.split('-'))}'" for name in unsigned)
    raise auth_error("signature", f"{names} must be a 'SignedHeader' in the AWS Authorization.")


@dataclass
class ChunkChain:
    """The signatures an aws-chunked body must carry: each chunk signs its data's SHA-256 and the
    signature before it, starting from the request's own (the seed); a trailer signs its lines."""

    key: bytes
    amz_date: str
    scope: str
    previous: str

    def _next(self, kind: str, *hashes: str) -> str:
        text = "\n".join([f"{ALGORITHM}-{kind}", self.amz_date, self.scope, self.previous, *hashes])
        self.previous = hmac.new(self.key, text.encode("utf-8"), hashlib.sha256).hexdigest()
        return self.previous

    def chunk_ok(self, data_sha256: str, signature: str) -> bool:
        """Whether `signature` is the next chunk's (whose data hashes to `data_sha256`)."""
        return hmac.compare_digest(self._next("PAYLOAD", EMPTY_SHA256, data_sha256), signature.lower())

    def trailer_ok(self, trailer: bytes, signature: str) -> bool:
        """Whether `signature` signs the trailer lines (`name:value\\n` each, as sent)."""
        return hmac.compare_digest(self._next("TRAILER", hashlib.sha256(trailer).hexdigest()), signature.lower())


class SigV4Verifier:
    """A `before_request` hook: every AWS API request must carry a valid signature of a known key."""

    def __init__(self, keys: Mapping[str, AccessKey], clock: Clock, max_body_bytes: int):
        self.keys = dict(keys)
        self.clock = clock
        self.max_body_bytes = max_body_bytes

    def install(self, app: Flask) -> None:
        app.before_request(self.verify)

    def verify(self) -> None:
        """Raise the AWS error for a missing, malformed, unknown, wrong or expired signature."""
        if request.path.startswith(CONTROL_PREFIXES):
            return
        signed = _signed_parts(request.args, request.headers)
        if signed is None:
            raise auth_error("missing")
        conflict = route_of(request).conflict
        if conflict is not None:
            raise conflict
        key = self.keys.get(signed.access_key)
        if key is None:
            raise auth_error("unknown_key")
        self._check_time(signed)
        raw_path, _, raw_query = self._raw_target().partition("?")
        payload = self._payload_hash(signed)
        wanted = expected_signature(key.secret_access_key, signed, request.method, raw_path, raw_query,
                                    request.headers, payload)
        if not hmac.compare_digest(wanted, signed.signature):
            raise auth_error("signature")
        _require_signed_headers(signed, request.headers)
        if signed.service == "s3":
            self._expect_payload(key, signed, payload)
        if key.account_id:
            request.environ[AUTH_ACCOUNT_KEY] = key.account_id

    @staticmethod
    def _expect_payload(key: AccessKey, signed: Signed, payload: str) -> None:
        """Leave the signed payload hash, and for signed chunks their `ChunkChain`, to spool.py. Signed
        chunks only come with a header signature of the same algorithm: SigV4a's ECDSA chunks, or
        chunks announced by a presigned URL, would go unchecked, so they are refused."""
        request.environ[SIGNED_PAYLOAD_KEY] = payload
        if payload.startswith(SIGNED_CHUNKS) and not signed.presigned:
            scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
            request.environ[CHUNK_CHAIN_KEY] = ChunkChain(
                signing_key(key.secret_access_key, signed.date, signed.region, signed.service), signed.amz_date,
                scope, signed.signature)
        elif payload.startswith("STREAMING-AWS4-"):
            raise auth_error("signature", f"x-amz-content-sha256 {payload} needs chunk signatures of the "
                                          f"request's own algorithm ({ALGORITHM}, in the Authorization header)")

    def _check_time(self, signed: Signed) -> None:
        try:
            at = parse_key_second(signed.amz_date)
            end = at + timedelta(seconds=signed.expires or 0)
        except (ValueError, OverflowError):
            raise auth_error("malformed", f"X-Amz-Date {signed.amz_date} is not a valid time") from None
        now = self.clock.now()
        if signed.expires is not None:
            if now > end:
                raise auth_error("expired")
            if at - now > MAX_SKEW:
                raise auth_error("skewed", "Request is not yet valid (X-Amz-Date is in the future)")
        elif abs(now - at) > MAX_SKEW:
            raise auth_error("skewed", f"Signature expired: {signed.amz_date} is now earlier or later than "
                                       f"{now.strftime(KEY_SECOND)} +/- 15 min.")

    @staticmethod
    def _raw_target() -> str:
        """The request target exactly as sent (the WSGI bridge keeps it in REQUEST_URI)."""
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        if raw:
            return "/" + raw.split("://", 1)[1].partition("/")[2] if "://" in raw.split("?", 1)[0] else raw
        query = request.query_string.decode("latin-1")
        return request.path + ("?" + query if query else "")

    def _payload_hash(self, signed: Signed) -> str:
        """What the client signed as the payload: S3's x-amz-content-sha256, else the body's SHA-256."""
        if signed.service == "s3":
            if signed.presigned:
                return request.args.get("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
            sent = request.headers.get("x-amz-content-sha256")
            if not sent:
                raise AwsError("Missing required header for this request: x-amz-content-sha256",
                               code="InvalidRequest", status=400)
            return sent
        return hashlib.sha256(self._body()).hexdigest()

    def _body(self) -> bytes:
        """Read the body from the WSGI input and put it back, so the handlers read it as usual."""
        environ = request.environ
        stream = environ["wsgi.input"]
        length = request.content_length
        if length is not None and length > self.max_body_bytes:
            raise AwsError(f"Request body of {length} bytes exceeds the limit of {self.max_body_bytes} bytes",
                           code="RequestEntityTooLargeException", status=413)
        body = stream.read(length) if length is not None else stream.read(self.max_body_bytes + 1)
        if len(body) > self.max_body_bytes:
            raise AwsError(f"Request body exceeds the limit of {self.max_body_bytes} bytes",
                           code="RequestEntityTooLargeException", status=413)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return body
