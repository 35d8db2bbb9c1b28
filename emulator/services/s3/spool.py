"""S3 request bodies as they stream in: aws-chunked framing decoded (chunk signatures checked against
the SigV4 chain), sizes capped with S3's codes, and the body checked against what the client declared
(`x-amz-content-sha256`, Content-MD5, `x-amz-checksum-*` headers or trailers) before anything commits.

Object bodies (PutObject, UploadPart) go to a file in a directory the caller names (the store's temp
area, an upload's folder), never whole into memory; other bodies (XML documents) are small and read
into memory under `MAX_MESSAGE_BYTES`.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cloudtrail_emulator.emulator.protocols.sigv4 import CHUNK_CHAIN_KEY, S3_MESSAGES, SIGNED_PAYLOAD_KEY, ChunkChain
from cloudtrail_emulator.emulator.services.s3.exceptions import S3Error, invalid_argument
from cloudtrail_emulator.emulator.services.s3.wire import READ_SIZE, BodyInput, S3Request, incomplete_body

MAX_MESSAGE_BYTES = 16 * 1024 * 1024    # a non-object body (XML document): S3's MaxMessageLengthExceeded past it
#: an unread body up to this size is read and dropped before an error answer (app.py's too), so the
#: client finishes sending and reads the answer instead of a broken pipe; past it: Connection: close
DRAIN_LIMIT = 16 * 1024 * 1024
MAX_CHUNK_LINE = 4096                   # `<hex size>;chunk-signature=<64 hex>` or one trailer line
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_VALUES = ("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
                    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER")
_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_CHUNK_SIZE = re.compile(rb"^[0-9a-fA-F]{1,16}$")
#: checksums S3 verifies that this endpoint can compute (CRC32C / CRC64NVME bodies are stored unchecked)
CHECKSUMS: dict[str, Callable[[], "_Digest"]] = {
    "crc32": lambda: _Crc32(), "sha1": hashlib.sha1, "sha256": hashlib.sha256,
}


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


class _Crc32:
    """zlib's CRC32 behind hashlib's update/digest interface."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


@dataclass(frozen=True)
class Spooled:
    """An object body written to `path`: its size and MD5 (hex: the ETag)."""

    path: str
    size: int
    md5: str


def too_large(size: int, limit: int) -> S3Error:
    return S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size",
                   ProposedSize=str(size), MaxSizeAllowed=str(limit))


class _Body:
    """One request's body, decoded piece by piece, with the digests its headers ask to check."""

    def __init__(self, call: S3Request, limit: int, too_big: Callable[[int], S3Error]):
        headers = call.headers
        self.call, self.limit, self.too_big = call, limit, too_big
        # under --auth sigv4 the value the signature covers (a presigned URL's may be in its query)
        self.content_sha = call.request.environ.get(SIGNED_PAYLOAD_KEY, headers.get("x-amz-content-sha256"))
        sha = self.content_sha
        if sha is not None and sha != UNSIGNED and sha not in STREAMING_VALUES and not _HEX_SHA256.match(sha):
            raise invalid_argument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-"
                                   "TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-"
                                   "PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-"
                                   "ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
                                   "x-amz-content-sha256", sha)
        encodings = [e.strip().lower() for e in headers.get("Content-Encoding", "").split(",")]
        self.chunked = "aws-chunked" in encodings or (sha or "").startswith("STREAMING-")
        self.chain: ChunkChain | None = call.request.environ.get(CHUNK_CHAIN_KEY) if self.chunked else None
        self.declared = _declared_length(call, self.chunked)
        if self.declared is not None and self.declared > limit:
            raise too_big(self.declared)
        self.md5 = hashlib.md5()
        self.sha256 = hashlib.sha256() if sha and _HEX_SHA256.match(sha) else None
        trailing = {t.strip().lower() for t in headers.get("x-amz-trailer", "").split(",")}
        self.checksums = {name: make() for name, make in CHECKSUMS.items()
                          if f"x-amz-checksum-{name}" in headers or f"x-amz-checksum-{name}" in trailing}
        self.trailers: dict[str, str] = {}
        self.size = 0

    def pieces(self) -> Iterator[bytes]:
        """The object bytes, each piece counted and digested; EntityTooLarge past the limit."""
        source = _chunks(self.call.body_input(), self.chain, self.trailers, self.too_big, self.limit) if self.chunked \
            else iter(lambda: self.call.body_input().read(READ_SIZE), b"")
        for piece in source:
            self.size += len(piece)
            if self.size > self.limit:
                raise self.too_big(self.size)
            self.md5.update(piece)
            if self.sha256 is not None:
                self.sha256.update(piece)
            for digest in self.checksums.values():
                digest.update(piece)
            yield piece

    def verify(self) -> None:
        """What the client declared about the body, checked against what came."""
        headers = self.call.headers
        if self.declared is not None and self.declared != self.size:
            raise S3Error("IncompleteBody", 400, "You did not provide the number of bytes specified by the "
                          "x-amz-decoded-content-length HTTP header") if self.chunked else incomplete_body()
        if self.sha256 is not None and self.sha256.hexdigest() != self.content_sha.lower():
            raise S3Error("XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not "
                          "match what was computed.", ClientComputedContentSHA256=self.content_sha,
                          S3ComputedContentSHA256=self.sha256.hexdigest())
        md5 = headers.get("Content-MD5")
        if md5 is not None:
            try:
                expected = base64.b64decode(md5, validate=True)
            except (ValueError, binascii.Error):
                expected = b""
            if len(expected) != 16:
                raise S3Error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.",
                              **{"Content-MD5": md5})
            if self.md5.digest() != expected:
                raise S3Error("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
        for name, digest in self.checksums.items():
            sent = self.trailers.get(f"x-amz-checksum-{name}") or headers.get(f"x-amz-checksum-{name}")
            if sent is None:
                raise S3Error("IncompleteBody", 400, f"The x-amz-trailer header names x-amz-checksum-{name} but "
                              "the body has no such trailer")
            if base64.b64encode(digest.digest()).decode() != sent.strip():
                raise S3Error("BadDigest", 400, f"The {name.upper()} you specified did not match the calculated "
                              "checksum.")


def _declared_length(call: S3Request, chunked: bool) -> int | None:
    """The body's announced size: x-amz-decoded-content-length for aws-chunked, else Content-Length."""
    if not chunked:
        return call.request.content_length
    text = call.headers.get("x-amz-decoded-content-length")
    if text is None:
        return None
    if not text.strip().isdigit():
        raise invalid_argument("x-amz-decoded-content-length must be a number of bytes",
                               "x-amz-decoded-content-length", text)
    return int(text)


def _chunks(raw: BodyInput, chain: ChunkChain | None, trailers: dict[str, str],
            too_big: Callable[[int], S3Error], limit: int) -> Iterator[bytes]:
    """The data of an aws-chunked body (`<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n`..., a
    zero-size chunk, trailer lines, an empty line); each chunk's signature checked against `chain`, a
    chunk announced larger than `limit` refused before it is read."""
    malformed = S3Error("IncompleteBody", 400, "The request body is not valid aws-chunked encoding")
    while True:
        line = raw.read_line(MAX_CHUNK_LINE)
        if line is None:
            raise malformed
        size_text, _, extension = line.partition(b";")
        if not _CHUNK_SIZE.match(size_text.strip()):
            raise malformed
        size = int(size_text, 16)
        if size > limit:
            raise too_big(size)
        name, _, signature = extension.decode("latin-1").partition("=")
        if chain is not None and (name.strip() != "chunk-signature" or not signature):
            raise malformed
        sha = hashlib.sha256()
        for piece in raw.read_exactly(size):
            if chain is not None:
                sha.update(piece)
            yield piece
        if chain is not None and not chain.chunk_ok(sha.hexdigest(), signature.strip()):
            raise S3Error("SignatureDoesNotMatch", 403, S3_MESSAGES["signature"])
        if size == 0:
            break
        if b"".join(raw.read_exactly(2)) != b"\r\n":
            raise malformed
    signed_lines, signature = b"", None
    while (line := raw.read_line(MAX_CHUNK_LINE)):
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or signature is not None:
            raise malformed
        if name.strip().lower() == "x-amz-trailer-signature":
            signature = value.strip()
            continue
        signed_lines += line + b"\n"
        trailers[name.strip().lower()] = value.strip()
    if chain is not None and signed_lines and not (signature and chain.trailer_ok(signed_lines, signature)):
        raise S3Error("SignatureDoesNotMatch", 403, S3_MESSAGES["signature"])


def spool(call: S3Request, limit: int, directory: str, too_big: Callable[[int], S3Error] | None = None) -> Spooled:
    """Stream the object body into a new file in `directory`, checked (see the module docstring);
    the file is removed again when anything fails."""
    body = _Body(call, limit, too_big or (lambda size: too_large(size, limit)))
    fd, path = tempfile.mkstemp(dir=directory, prefix="spool-")
    try:
        with os.fdopen(fd, "wb") as out:
            for piece in body.pieces():
                out.write(piece)
        body.verify()
    except BaseException:
        Path(path).unlink(missing_ok=True)       # gone already when an abort removed the upload's folder
        raise
    return Spooled(path, body.size, body.md5.hexdigest())


def read_small(call: S3Request) -> bytes:
    """A non-object body (an XML document), checked as object bodies are; MaxMessageLengthExceeded
    past `MAX_MESSAGE_BYTES`."""
    def too_big(size: int) -> S3Error:
        return S3Error("MaxMessageLengthExceeded", 400, "Your request was too big.")

    body = _Body(call, MAX_MESSAGE_BYTES, too_big)
    data = b"".join(body.pieces())
    body.verify()
    return data


def finish(call: S3Request, error: S3Error) -> None:
    """Before an error answer: read what is left of the body (up to DRAIN_LIMIT), so the client gets the
    answer instead of a broken pipe; past that, the answer closes the connection."""
    if call.method in ("PUT", "POST") and not call.body_input().drain(DRAIN_LIMIT):
        error.headers["Connection"] = "close"
