"""Issue 11's hostile request classes as a fuzz strategy: raw framing the HTTP server refuses, S3 bodies
past the limits or with wrong hashes (hostile_http), SigV4 service-mismatch replays and cross-account S3
calls, ambiguous Authorization headers (hostile_sigv4), each sent as built or with one header dropped or one body byte changed."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from fuzz_wire import Req
from hostile_http import Hostile, body_requests, framing_requests
from hostile_sigv4 import Raw, ambiguous_credentials, cross_account_requests, service_mismatch_replays
from hypothesis import strategies as st

from cloudtrail_emulator.emulator.config import AccessKey

#: raw requests longer than this stay in test_http_framing (its 100 MB header)
MAX_RAW = 1024 * 1024
#: signed requests are signed again after this long (presigned URLs expire after 300 s)
RESIGN_SECONDS = 60


@dataclass
class Target:
    """What the hostile requests aim at on the fuzz server."""

    url: str
    bucket: str             # owned by `key`'s account (`account`), holds an object `k`
    account: str
    trail: str
    key: AccessKey
    other: AccessKey        # a key of another account, owner of `other_bucket`
    other_bucket: str
    object_limit: int       # the server's max_object_bytes


def _from_body(hostile: Hostile, host: str) -> Req:
    headers = tuple(hostile.headers.items())
    if not hostile.chunked:
        return Req(hostile.method, hostile.path, headers, hostile.body)
    head = [f"{hostile.method} {hostile.path} HTTP/1.1", f"Host: {host}", "Transfer-Encoding: chunked"]
    head += [f"{name}: {value}" for name, value in headers]
    body = hostile.body
    framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    return Req(hostile.method, hostile.path, headers, b"", raw="\r\n".join(head).encode() + b"\r\n\r\n" + framed)


def _from_signed(raw: Raw) -> Req:
    headers = tuple((k, v) for k, v in raw.headers.items() if k.lower() != "host")
    return Req(raw.method, raw.target, headers, raw.body)


@dataclass
class HostileSet:
    """The requests, signed again every RESIGN_SECONDS so replays stay within SigV4's time window."""

    target: Target
    _built: list[Req] = field(default_factory=list)
    _at: float = 0.0

    def build(self) -> list[Req]:
        t, host = self.target, self.target.url.split("://", 1)[1]
        path = f"/{t.bucket}/framed"
        framing = [Req("PUT", path, (), b"", raw=raw) for raw in framing_requests(path, host).values()
                   if len(raw) <= MAX_RAW]
        bodies = [_from_body(h, host) for h in body_requests(t.bucket, t.object_limit)]
        signed = [_from_signed(h.request) for h in
                  service_mismatch_replays(t.url, t.key.access_key_id, t.key.secret_access_key, t.bucket, t.trail)
                  + cross_account_requests(t.url, t.other.access_key_id, t.other.secret_access_key, t.bucket,
                                           t.other_bucket)
                  + ambiguous_credentials(t.url, t.other.access_key_id, t.other.secret_access_key, t.bucket,
                                          t.account)]
        return framing + bodies + signed

    def get(self, index: int) -> Req:
        if not self._built or time.monotonic() - self._at > RESIGN_SECONDS:
            self._built, self._at = self.build(), time.monotonic()
        return self._built[index]


def _mutated(req: Req, draw) -> Req:
    """`req` as built, with one header dropped, or with one body byte changed (raw requests: as built)."""
    if req.raw is not None:
        return req
    how = draw(st.sampled_from(["as built", "as built", "drop a header", "change a body byte"]))
    if how == "drop a header" and req.headers:
        drop = draw(st.integers(0, len(req.headers) - 1))
        return Req(req.method, req.path, req.headers[:drop] + req.headers[drop + 1:], req.body)
    if how == "change a body byte" and req.body:
        at = draw(st.integers(0, len(req.body) - 1))
        return Req(req.method, req.path, req.headers,
                   req.body[:at] + bytes([req.body[at] ^ draw(st.integers(1, 255))]) + req.body[at + 1:])
    return req


def hostile_requests(target: Target) -> st.SearchStrategy[Req]:
    """One of the hostile requests aimed at `target`, maybe mutated."""
    requests = HostileSet(target)
    count = len(requests.build())

    @st.composite
    def one(draw) -> Req:
        return _mutated(requests.get(draw(st.integers(0, count - 1))), draw)

    return one()
