"""S3 request details the REST-XML layer reads: the addressed bucket and key, the body as sent
(`BodyInput`: decoded and checked in spool.py), user metadata headers and conditional headers."""
from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote_to_bytes

import flask
from werkzeug.exceptions import HTTPException

from cloudtrail_emulator.emulator.protocols import restxml as x
from cloudtrail_emulator.emulator.services.s3.exceptions import S3Error

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
READ_SIZE = 64 * 1024       # pieces of a body read at once (small: larger ones fragment the heap)


@dataclass
class S3Request:
    """One path-style request: the addressed bucket and key, query arguments, body."""

    request: flask.Request
    bucket: str
    key: str | None
    args: dict[str, str]
    body: bytes = b""          # small (XML/JSON) bodies only; object bodies stream (spool.py)
    input: BodyInput | None = None

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def headers(self):
        return self.request.headers

    def body_input(self) -> BodyInput:
        """The body as sent (made on first use, then shared: what was read stays read)."""
        if self.input is None:
            environ = self.request.environ
            chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
            length = self.request.content_length
            self.input = BodyInput(environ, 0 if length is None and not chunked else length)
        return self.input

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


def check_key_length(call: S3Request) -> None:
    """KeyTooLongError for a key over S3's 1024 bytes."""
    if call.key is not None and len(call.key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", 400, "Your key is too long", MaxSizeAllowed=str(MAX_KEY_BYTES),
                      Size=str(len(call.key.encode("utf-8", "surrogatepass"))))


def incomplete_body() -> S3Error:
    return S3Error("IncompleteBody", 400, "You did not provide the number of bytes specified by the "
                   "Content-Length HTTP header")


class BodyInput:
    """The request body as sent, read from `wsgi.input` in pieces: never past Content-Length (absent
    for a chunked request, which ends where the input ends); IncompleteBody when it ends early."""

    def __init__(self, environ: dict, length: int | None):
        self._stream = environ["wsgi.input"]
        self._left = length
        self._buffer = b""
        self.read_bytes = 0
        self.ended = length == 0

    def read(self, size: int) -> bytes:
        """Up to `size` bytes (fewer only at the end); b"" once the body is over."""
        if self._buffer:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
            return data
        want = size if self._left is None else min(size, self._left)
        if want <= 0:
            self.ended = True
            return b""
        try:
            data = self._stream.read(want)
        except (OSError, ValueError, HTTPException):
            raise incomplete_body() from None
        if not data:
            self.ended = True
            if self._left:
                raise incomplete_body()
            return b""
        self.read_bytes += len(data)
        if self._left is not None:
            self._left -= len(data)
        return data

    def read_exactly(self, size: int) -> Iterator[bytes]:
        """Pieces making exactly `size` bytes; IncompleteBody when the body ends before."""
        while size > 0:
            data = self.read(min(size, READ_SIZE))
            if not data:
                raise incomplete_body()
            size -= len(data)
            yield data

    def read_line(self, limit: int) -> bytes | None:
        """The next CRLF-ended line without its CRLF; None at the body's clean end; IncompleteBody
        for a line longer than `limit` or cut short."""
        line = b""
        while True:
            end = line.find(b"\r\n")
            if end >= 0:
                self._buffer = line[end + 2:] + self._buffer
                return line[:end]
            if len(line) > limit:
                raise incomplete_body()
            data = self.read(limit + 2)
            if not data:
                if line:
                    raise incomplete_body()
                return None
            line += data

    def drain(self, limit: int) -> bool:
        """Read and drop the rest of the body when it is known to fit in `limit` bytes (a chunked one: up
        to `limit` bytes); whether the body is now over. A larger announced rest is left unread."""
        if self._left is not None and self._left > limit:
            return False
        while limit > 0 and not self.ended:
            try:
                data = self.read(min(limit, READ_SIZE))
            except S3Error:
                return True
            limit -= len(data)
        return self.ended


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
