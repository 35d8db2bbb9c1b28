"""S3 request details the REST-XML layer reads: the addressed bucket and key, the body (aws-chunked
decoded, Content-MD5 and checksums verified), user metadata headers and conditional headers."""
from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote_to_bytes

import flask
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from cloudtrail_emulator.emulator.protocols import restxml as x
from cloudtrail_emulator.emulator.services.s3.exceptions import S3Error

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
CHUNK_FRAMING_ROOM = 64 * 1024   # aws-chunked framing on top of the object bytes
_CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "sha1": lambda data: hashlib.sha1(data).digest(),
    "sha256": lambda data: hashlib.sha256(data).digest(),
}


@dataclass
class S3Request:
    """One path-style request: the addressed bucket and key, query arguments, body."""

    request: flask.Request
    bucket: str
    key: str | None
    args: dict[str, str]
    body: bytes = b""

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def headers(self):
        return self.request.headers

    @property
    def resource(self) -> str:
        if not self.bucket:
            return "/"
        return f"/{self.bucket}" + (f"/{self.key}" if self.key is not None else "")


def addressed(request: flask.Request) -> S3Request:
    """Bucket, key and query arguments of a path-style request (the raw path: keys may hold `%2F`)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        try:
            path = unquote_to_bytes(path).decode("utf-8")
        except UnicodeDecodeError:
            raise S3Error("InvalidURI", 400, "Couldn't parse the specified URI.") from None
    else:
        path = request.path
    bucket, sep, key = path.lstrip("/").partition("/")
    return S3Request(request, bucket, key if sep and key else None,
                     {name: request.args.get(name, "") for name in request.args})


def read_body(call: S3Request, max_object_size: int) -> None:
    """Check the key's length and read the body of a PUT or POST (EntityTooLarge past the limit)."""
    if call.key is not None and len(call.key.encode("utf-8")) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", 400, "Your key is too long",
                      MaxSizeAllowed=str(MAX_KEY_BYTES), Size=str(len(call.key.encode("utf-8"))))
    if call.method not in ("PUT", "POST"):
        return
    length = call.request.content_length or 0
    if length > max_object_size + CHUNK_FRAMING_ROOM:
        error = S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size",
                        ProposedSize=str(length), MaxSizeAllowed=str(max_object_size))
        error.headers["Connection"] = "close"
        raise error
    try:
        call.body = call.request.get_data(cache=False)
    except RequestEntityTooLarge:
        error = S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size "
                        "of this server", ProposedSize=str(length))
        error.headers["Connection"] = "close"
        raise error from None
    except HTTPException as exc:
        raise S3Error("IncompleteBody", 400, f"The request body could not be read: {exc.description}") from None


def payload(call: S3Request, limit: int) -> bytes:
    """The request's object bytes: aws-chunked decoded, Content-MD5 and checksums verified."""
    headers = call.headers
    data, trailers = call.body, {}
    encodings = [e.strip().lower() for e in headers.get("Content-Encoding", "").split(",")]
    if "aws-chunked" in encodings or headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
        data, trailers = x.decode_aws_chunked(call.body)
        declared = headers.get("x-amz-decoded-content-length")
        if declared is not None and declared.strip() != str(len(data)):
            raise S3Error("IncompleteBody", 400, "You did not provide the number of bytes specified "
                          "by the x-amz-decoded-content-length HTTP header")
    if len(data) > limit:
        raise S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size",
                      ProposedSize=str(len(data)), MaxSizeAllowed=str(limit))
    md5 = headers.get("Content-MD5")
    if md5 is not None:
        try:
            expected = base64.b64decode(md5, validate=True)
        except ValueError:        # not base64, or a header holding non-ASCII characters
            expected = b""
        if len(expected) != 16:
            raise S3Error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.", **{"Content-MD5": md5})
        if hashlib.md5(data).digest() != expected:
            raise S3Error("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
    for algorithm, digest in _CHECKSUMS.items():
        name = f"x-amz-checksum-{algorithm}"
        sent = trailers.get(name) or headers.get(name)
        if sent is not None and base64.b64encode(digest(data)).decode() != sent.strip():
            raise S3Error("BadDigest", 400, f"The {algorithm.upper()} you specified did not match the "
                          "calculated checksum.")
    return data


def user_metadata(request: flask.Request) -> dict[str, str]:
    """`x-amz-meta-*` headers (repeated ones joined by commas); MetadataTooLarge past 2 KB."""
    metadata: dict[str, str] = {}
    for name, value in request.headers.items():
        lower = name.lower()
        if lower.startswith("x-amz-meta-"):
            field = lower[len("x-amz-meta-"):]
            metadata[field] = f"{metadata[field]},{value}" if field in metadata else value
    size = sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise S3Error("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size",
                      Size=str(size), MaxSizeAllowed=str(MAX_METADATA_BYTES))
    return metadata


def header_value(value: str) -> str:
    """A metadata value fit for an HTTP header: ASCII as is, else RFC 2047 (as S3 sends it)."""
    try:
        value.encode("ascii")
        return value
    except UnicodeEncodeError:
        return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode() + "?="


def check_conditions(headers, last_modified: datetime, etag: str) -> None:
    """PreconditionFailed / NotModified per If-Match, If-None-Match, If-(Un)Modified-Since."""
    modified = last_modified.replace(microsecond=0)

    def date(name: str) -> datetime | None:
        try:
            return parsedate_to_datetime(headers[name]) if name in headers else None
        except (TypeError, ValueError):
            return None

    def matches(name: str) -> bool:
        return any(t.strip() in ("*", etag) for t in headers[name].split(","))

    if "If-Match" in headers and not matches("If-Match"):
        raise S3Error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold",
                      Condition="If-Match")
    since = date("If-Unmodified-Since")
    if "If-Match" not in headers and since is not None and modified > since:
        raise S3Error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold",
                      Condition="If-Unmodified-Since")
    since = date("If-Modified-Since")
    if ("If-None-Match" in headers and matches("If-None-Match")) or (
            "If-None-Match" not in headers and since is not None and modified <= since):
        error = S3Error("NotModified", 304, "Not Modified")
        error.headers.update({"ETag": etag, "Last-Modified": x.http_date(last_modified)})
        raise error
