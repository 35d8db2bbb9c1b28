"""The S3-compatible REST endpoint (path-style `/<bucket>/<key>`) over an ObjectStore.

`S3Api.handle` turns one Flask request into one response: it parses the wire format, calls the
object store (objects) or `S3State` (regions, policies, multipart uploads), and answers S3 XML,
S3 XML errors included. Nothing here raises to the caller: an unexpected failure becomes an
`InternalError` answer.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import random
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes

import flask
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from cloudtrail_emulator.emulator.protocols import restxml as x
from cloudtrail_emulator.emulator.config import Clock, SystemClock
from cloudtrail_emulator.emulator.services.s3.state import S3State, Upload, check_policy
from cloudtrail_emulator.emulator.protocols.restxml import S3Error
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores import (BucketNotEmpty, InvalidBucketName, NoSuchBucket, NoSuchKey, ObjectStore,
                               StoredObject, check_bucket_name)

log = logging.getLogger(__name__)

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
MAX_OBJECT_SIZE = 5 * 1024**3
MIN_PART_SIZE = 5 * 1024**2
MAX_PART_NUMBER = 10000
MAX_LIST_KEYS = 1000
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
AFTER_EVERY_SUFFIX = "\U0010ffff"  # sorts after any character a key can continue with

# Sub-resources S3 knows that this endpoint does not implement: answered with NotImplemented.
UNSUPPORTED_SUBRESOURCES = frozenset({
    "accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering",
    "inventory", "legal-hold", "lifecycle", "logging", "metadataConfiguration", "metrics",
    "notification", "object-lock", "ownershipControls", "policyStatus", "publicAccessBlock",
    "replication", "requestPayment", "restore", "retention", "select", "session", "tagging",
    "torrent", "versioning", "versions", "website",
})
BUCKET_SUBRESOURCES = frozenset({"location", "policy", "uploads", "delete"})
OBJECT_SUBRESOURCES = frozenset({"uploads", "uploadId"})
RESPONSE_OVERRIDES = ("content-type", "content-language", "expires", "cache-control",
                      "content-disposition", "content-encoding")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "sha1": lambda data: hashlib.sha1(data).digest(),
    "sha256": lambda data: hashlib.sha256(data).digest(),
}


@dataclass
class _Call:
    """One request, parsed: the addressed bucket and key, query arguments, body."""
    request: flask.Request
    region: str
    account_id: str
    request_id: str
    bucket: str
    key: str | None
    args: dict[str, str]
    body: bytes

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def resource(self) -> str:
        if not self.bucket:
            return "/"
        return f"/{self.bucket}" + (f"/{self.key}" if self.key is not None else "")


def _no_such_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", 404, "The specified bucket does not exist", BucketName=bucket)


def _no_such_upload(upload_id: str) -> S3Error:
    return S3Error("NoSuchUpload", 404, "The specified upload does not exist. The upload ID may be "
                   "invalid, or the upload may have been aborted or completed.", UploadId=upload_id)


def _invalid_argument(message: str, name: str | None = None, value: str | None = None) -> S3Error:
    extra = {"ArgumentName": name, "ArgumentValue": value or ""} if name else {}
    return S3Error("InvalidArgument", 400, message, **extra)


def _method_not_allowed(method: str, resource_type: str, allow: str) -> S3Error:
    error = S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.",
                    Method=method, ResourceType=resource_type)
    error.headers["Allow"] = allow
    return error


def _header_value(value: str) -> str:
    """A metadata value fit for an HTTP header: ASCII as is, else RFC 2047 (as S3 sends it)."""
    try:
        value.encode("ascii")
        return value
    except UnicodeEncodeError:
        return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode() + "?="


class S3Api:
    """Path-style S3 REST over an ObjectStore; bucket-level state in `state_dir` (None: memory)."""

    def __init__(self, store: ObjectStore, state_dir: Path | None, *,
                 clock: Clock | None = None, rng: random.Random | None = None,
                 max_object_size: int = MAX_OBJECT_SIZE):
        self.store = store
        self._rng = rng if rng is not None else random.Random()
        self.state = S3State(state_dir, clock or SystemClock(), self._rng)
        self.max_object_size = max_object_size

    # -- for the CloudTrail side ---------------------------------------------------------------

    def bucket_exists(self, name: str) -> bool:
        try:
            check_bucket_name(name)
        except InvalidBucketName:
            return False
        return self.store.bucket_exists(name)

    def bucket_policy(self, name: str) -> str | None:
        """The bucket's policy document as it was put, or None (also for a missing bucket)."""
        return self.state.policy(name) if self.bucket_exists(name) else None

    # -- entry point ---------------------------------------------------------------------------

    def handle(self, request: flask.Request, region: str, account_id: str) -> flask.Response:
        request_id = f"{self._rng.getrandbits(64):016X}"
        resource = "/"
        try:
            call = self._parse(request, region, account_id, request_id)
            resource = call.resource
            response = self._dispatch(call)
        except S3Error as error:
            response = self._error(request, error, resource, request_id)
        except Exception:  # noqa: BLE001 - a bug must still answer S3 XML, never a stack trace
            log.exception("S3 request %s %s failed", request.method, request.full_path)
            error = S3Error("InternalError", 500, "We encountered an internal error. Please try again.")
            response = self._error(request, error, resource, request_id)
        response.headers["x-amz-request-id"] = request_id
        response.headers["x-amz-id-2"] = base64.b64encode(request_id.encode()).decode()
        return response

    def _error(self, request: flask.Request, error: S3Error, resource: str, request_id: str) -> flask.Response:
        bodiless = request.method == "HEAD" or error.status == 304
        body = b"" if bodiless else x.error_body(error, resource, request_id)
        response = flask.Response(body, status=error.status, content_type="application/xml")
        for name, value in error.headers.items():
            response.headers[name] = value
        return response

    def _parse(self, request: flask.Request, region: str, account_id: str, request_id: str) -> _Call:
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
        call = _Call(request, region, account_id, request_id, bucket, key if sep and key else None,
                     {name: request.args.get(name, "") for name in request.args}, b"")
        if call.key is not None and len(call.key.encode("utf-8")) > MAX_KEY_BYTES:
            raise S3Error("KeyTooLongError", 400, "Your key is too long",
                          MaxSizeAllowed=str(MAX_KEY_BYTES), Size=str(len(call.key.encode("utf-8"))))
        if request.method in ("PUT", "POST"):
            length = request.content_length or 0
            limit = self.max_object_size + 64 * 1024  # room for aws-chunked framing
            if length > limit:
                error = S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size",
                                ProposedSize=str(length), MaxSizeAllowed=str(self.max_object_size))
                error.headers["Connection"] = "close"
                raise error
            try:
                call.body = request.get_data(cache=False)
            except RequestEntityTooLarge:
                error = S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size "
                                "of this server", ProposedSize=str(length))
                error.headers["Connection"] = "close"
                raise error from None
            except HTTPException as exc:
                raise S3Error("IncompleteBody", 400, f"The request body could not be read: {exc.description}") from None
        return call

    # -- routing -------------------------------------------------------------------------------

    def _dispatch(self, c: _Call) -> flask.Response:
        if not c.bucket:
            if c.method == "GET":
                return self._list_buckets(c)
            raise _method_not_allowed(c.method, "SERVICE", "GET")
        handled = BUCKET_SUBRESOURCES if c.key is None else OBJECT_SUBRESOURCES
        for name in c.args:
            if name in UNSUPPORTED_SUBRESOURCES or (name in BUCKET_SUBRESOURCES | OBJECT_SUBRESOURCES
                                                    and name not in handled):
                raise S3Error("NotImplemented", 501, "A header or query you provided requested a function "
                              f"that is not implemented: ?{name}", Header=name)
        try:
            return self._bucket_operation(c) if c.key is None else self._object_operation(c)
        except NoSuchBucket:
            raise _no_such_bucket(c.bucket) from None
        except NoSuchKey:
            raise S3Error("NoSuchKey", 404, "The specified key does not exist.", Key=c.key or "") from None
        except BucketNotEmpty:
            raise S3Error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty",
                          BucketName=c.bucket) from None
        except GeneratorError as exc:
            raise _invalid_argument(f"This request cannot be served by the object store: {exc}") from None

    def _bucket_operation(self, c: _Call) -> flask.Response:
        a, m = c.args, c.method
        if m == "PUT" and "policy" in a:
            return self._put_policy(c)
        if m == "PUT" and not a.keys() & BUCKET_SUBRESOURCES:
            return self._create_bucket(c)
        self._require_bucket(c.bucket)
        if m == "GET":
            if "location" in a:
                return self._xml(self._location(c))
            if "policy" in a:
                return self._get_policy(c)
            if "uploads" in a:
                return self._list_uploads(c)
            if "delete" not in a:
                return self._list_objects(c)
        elif m == "HEAD" and not a.keys() & BUCKET_SUBRESOURCES:
            return flask.Response(b"", 200, {"x-amz-bucket-region": self.state.region(c.bucket)})
        elif m == "DELETE" and "policy" in a:
            self.state.set_policy(c.bucket, None)
            return flask.Response(b"", 204)
        elif m == "DELETE" and not a.keys() & BUCKET_SUBRESOURCES:
            self.store.delete_bucket(c.bucket)
            self.state.forget_bucket(c.bucket)
            return flask.Response(b"", 204)
        elif m == "POST" and "delete" in a:
            return self._delete_objects(c)
        raise _method_not_allowed(m, "BUCKET", "GET, HEAD, PUT, DELETE")

    def _object_operation(self, c: _Call) -> flask.Response:
        a, m = c.args, c.method
        self._require_bucket(c.bucket)
        if m in ("GET", "HEAD") and "uploadId" not in a and "uploads" not in a:
            return self._get_object(c, with_body=m == "GET")
        if m == "GET" and "uploadId" in a:
            return self._list_parts(c)
        if m == "PUT" and "uploadId" in a:
            return self._upload_part(c)
        if m == "PUT" and "uploads" not in a:
            return self._copy_object(c) if "x-amz-copy-source" in c.request.headers else self._put_object(c)
        if m == "DELETE" and "uploadId" in a:
            self._upload(c)
            self.state.finish_upload(a["uploadId"])
            return flask.Response(b"", 204)
        if m == "DELETE" and "uploads" not in a:
            self.store.delete(c.bucket, c.key)
            self.state.forget_etag(c.bucket, c.key)
            return flask.Response(b"", 204)
        if m == "POST" and "uploads" in a:
            return self._create_upload(c)
        if m == "POST" and "uploadId" in a:
            return self._complete_upload(c)
        raise _method_not_allowed(m, "OBJECT", "GET, HEAD, PUT, DELETE, POST")

    # -- helpers -------------------------------------------------------------------------------

    def _require_bucket(self, bucket: str) -> None:
        if not self.bucket_exists(bucket):
            raise _no_such_bucket(bucket)

    @staticmethod
    def _xml(root, status: int = 200) -> flask.Response:
        return flask.Response(x.to_bytes(root), status=status, content_type="application/xml")

    def _owner(self, parent, account_id: str, tag: str = "Owner") -> None:
        owner = x.sub(parent, tag)
        x.sub(owner, "ID", hashlib.sha256(f"canonical-user:{account_id}".encode()).hexdigest())
        x.sub(owner, "DisplayName", account_id)

    def _etag(self, bucket: str, key: str, obj: StoredObject) -> str:
        return f'"{self.state.etag(bucket, key, obj.etag)}"'

    @staticmethod
    def _user_metadata(request: flask.Request) -> dict[str, str]:
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

    def _payload(self, c: _Call, limit: int) -> bytes:
        """The request's object bytes: aws-chunked decoded, Content-MD5 and checksums verified."""
        headers = c.request.headers
        data, trailers = c.body, {}
        encodings = [e.strip().lower() for e in headers.get("Content-Encoding", "").split(",")]
        if "aws-chunked" in encodings or headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
            data, trailers = x.decode_aws_chunked(c.body)
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
                raise S3Error("BadDigest", 400, f"The {algorithm.upper()} you specified did not match the calculated checksum.")
        return data

    # -- service and buckets -------------------------------------------------------------------

    def _list_buckets(self, c: _Call) -> flask.Response:
        root = x.new_root("ListAllMyBucketsResult")
        self._owner(root, c.account_id)
        buckets = x.sub(root, "Buckets")
        for name in self.store.list_buckets():
            bucket = x.sub(buckets, "Bucket")
            x.sub(bucket, "Name", name)
            x.sub(bucket, "CreationDate", x.iso8601(self.state.creation_date(name)))
            x.sub(bucket, "BucketRegion", self.state.region(name))
        return self._xml(root)

    def _create_bucket(self, c: _Call) -> flask.Response:
        try:
            check_bucket_name(c.bucket)
        except InvalidBucketName as exc:
            raise S3Error("InvalidBucketName", 400, f"The specified bucket is not valid: {exc}",
                          BucketName=c.bucket) from None
        region = c.region
        if c.body.strip():
            root = x.parse(c.body)
            if root.tag != "CreateBucketConfiguration":
                raise S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not "
                              "validate against our published schema")
            constraint = x.child_text(root, "LocationConstraint")
            if constraint:
                if constraint == "EU":
                    constraint = "eu-west-1"
                if not _REGION_RE.match(constraint):
                    raise S3Error("InvalidLocationConstraint", 400,
                                  "The specified location-constraint is not valid", LocationConstraint=constraint)
                region = constraint
        if self.store.bucket_exists(c.bucket):
            raise S3Error("BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket "
                          "succeeded and you already own it.", BucketName=c.bucket)
        self.store.create_bucket(c.bucket)
        self.state.bucket_created(c.bucket, region)
        return flask.Response(b"", 200, {"Location": f"/{c.bucket}"})

    def _location(self, c: _Call):
        root = x.new_root("LocationConstraint")
        region = self.state.region(c.bucket)
        root.text = "" if region == "us-east-1" else region
        return root

    def _put_policy(self, c: _Call) -> flask.Response:
        self._require_bucket(c.bucket)
        try:
            text = c.body.decode("utf-8")
        except UnicodeDecodeError:
            raise S3Error("MalformedPolicy", 400, "Policies must be valid UTF-8 JSON") from None
        check_policy(text, c.bucket)
        self.state.set_policy(c.bucket, text)
        return flask.Response(b"", 204)

    def _get_policy(self, c: _Call) -> flask.Response:
        policy = self.state.policy(c.bucket)
        if policy is None:
            raise S3Error("NoSuchBucketPolicy", 404, "The bucket policy does not exist", BucketName=c.bucket)
        return flask.Response(policy.encode("utf-8"), 200, content_type="application/json")

    # -- listing -------------------------------------------------------------------------------

    def _entries(self, bucket: str, prefix: str, delimiter: str, after: str) -> Iterator[tuple[str, bool]]:
        """(key, False) and (common prefix, True) in ascending order, all sorting after `after`."""
        start = after
        rolled_up = None
        while True:
            for key in self.store.list(bucket, prefix, start_after=start):
                if rolled_up is not None and key.startswith(rolled_up):
                    continue
                cut = key.find(delimiter, len(prefix)) if delimiter else -1
                if cut < 0:
                    yield key, False
                    continue
                rolled_up = key[:cut + len(delimiter)]
                if rolled_up > after:
                    yield rolled_up, True
                start = rolled_up + AFTER_EVERY_SUFFIX
                break
            else:
                return

    @staticmethod
    def _max_keys(c: _Call) -> int:
        text = c.args.get("max-keys", str(MAX_LIST_KEYS))
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            raise _invalid_argument("Provided max-keys not an integer or within integer range", "max-keys", text)
        return min(value, MAX_LIST_KEYS)

    def _page(self, c: _Call, prefix: str, delimiter: str, after: str,
              max_keys: int) -> tuple[list[tuple[str, bool]], bool]:
        entries: list[tuple[str, bool]] = []
        for entry in self._entries(c.bucket, prefix, delimiter, after):
            if len(entries) >= max_keys:
                return entries, max_keys > 0
            entries.append(entry)
        return entries, False

    def _list_objects(self, c: _Call) -> flask.Response:
        a = c.args
        encoding = a.get("encoding-type")
        if encoding is not None and encoding != "url":
            raise _invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", encoding)
        enc = x.url_encode if encoding == "url" else (lambda value: value)
        prefix, delimiter = a.get("prefix", ""), a.get("delimiter", "")
        max_keys = self._max_keys(c)
        v2 = a.get("list-type") == "2"
        if "list-type" in a and not v2:
            raise _invalid_argument("Invalid List Type specified in Request", "list-type", a["list-type"])
        root = x.new_root("ListBucketResult")
        x.sub(root, "Name", c.bucket)
        x.sub(root, "Prefix", enc(prefix))
        if v2:
            token = a.get("continuation-token")
            after = self._decode_token(token) if token is not None else a.get("start-after", "")
            entries, truncated = self._page(c, prefix, delimiter, after, max_keys)
            if token is not None:
                x.sub(root, "ContinuationToken", token)
            if truncated:
                x.sub(root, "NextContinuationToken",
                      base64.urlsafe_b64encode(("v2:" + entries[-1][0]).encode()).decode())
            x.sub(root, "KeyCount", len(entries))
            if "start-after" in a:
                x.sub(root, "StartAfter", enc(a["start-after"]))
            with_owner = a.get("fetch-owner") == "true"
        else:
            marker = a.get("marker", "")
            entries, truncated = self._page(c, prefix, delimiter, marker, max_keys)
            x.sub(root, "Marker", enc(marker))
            if truncated and delimiter:
                x.sub(root, "NextMarker", enc(entries[-1][0]))
            with_owner = True
        x.sub(root, "MaxKeys", max_keys)
        if delimiter:
            x.sub(root, "Delimiter", enc(delimiter))
        x.sub(root, "IsTruncated", truncated)
        if encoding:
            x.sub(root, "EncodingType", encoding)
        for name, is_prefix in entries:
            if not is_prefix:
                self._contents(root, c, name, enc, with_owner)
        for name, is_prefix in entries:
            if is_prefix:
                x.sub(x.sub(root, "CommonPrefixes"), "Prefix", enc(name))
        return self._xml(root)

    def _contents(self, root, c: _Call, key: str, enc: Callable[[str], str], with_owner: bool) -> None:
        try:
            obj = self.store.head(c.bucket, key)
        except NoSuchKey:
            return  # deleted while listing
        item = x.sub(root, "Contents")
        x.sub(item, "Key", enc(key))
        x.sub(item, "LastModified", x.iso8601(obj.last_modified))
        x.sub(item, "ETag", self._etag(c.bucket, key, obj))
        x.sub(item, "Size", obj.size)
        if with_owner:
            self._owner(item, c.account_id)
        x.sub(item, "StorageClass", "STANDARD")

    @staticmethod
    def _decode_token(token: str) -> str:
        try:
            text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
        except (ValueError, UnicodeError):
            text = ""
        if not text.startswith("v2:"):
            raise _invalid_argument("The continuation token provided is incorrect", "continuation-token", token)
        return text[3:]

    # -- objects -------------------------------------------------------------------------------

    def _object_headers(self, c: _Call, obj: StoredObject) -> dict[str, str]:
        headers = {
            "ETag": self._etag(c.bucket, c.key, obj),
            "Last-Modified": x.http_date(obj.last_modified),
            "Accept-Ranges": "bytes",
            "Content-Type": DEFAULT_CONTENT_TYPE,
        }
        for name, value in obj.metadata.items():
            headers[f"x-amz-meta-{name}"] = _header_value(value)
        for name in RESPONSE_OVERRIDES:
            if f"response-{name}" in c.args:
                headers[name.title()] = c.args[f"response-{name}"]
        return headers

    def _check_conditions(self, c: _Call, obj: StoredObject, etag: str) -> None:
        headers = c.request.headers
        modified = obj.last_modified.replace(microsecond=0)

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
            error.headers.update({"ETag": etag, "Last-Modified": x.http_date(obj.last_modified)})
            raise error

    def _get_object(self, c: _Call, with_body: bool) -> flask.Response:
        obj = self.store.get(c.bucket, c.key) if with_body else self.store.head(c.bucket, c.key)
        headers = self._object_headers(c, obj)
        self._check_conditions(c, obj, headers["ETag"])
        status, first, last = 200, 0, obj.size - 1
        if "Range" in c.request.headers:
            span = x.parse_range(c.request.headers["Range"], obj.size)
            if span is not None:
                status, (first, last) = 206, span
                headers["Content-Range"] = f"bytes {first}-{last}/{obj.size}"
        body = obj.body[first:last + 1] if with_body else b""
        response = flask.Response(body, status=status, headers=headers)
        response.headers["Content-Length"] = str(last - first + 1)
        return response

    def _put_object(self, c: _Call) -> flask.Response:
        data = self._payload(c, self.max_object_size)
        self.store.put(c.bucket, c.key, data, self._user_metadata(c.request))
        self.state.forget_etag(c.bucket, c.key)
        return flask.Response(b"", 200, {"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

    def _copy_source(self, c: _Call) -> tuple[str, str]:
        source = unquote(c.request.headers["x-amz-copy-source"].split("?", 1)[0]).lstrip("/")
        bucket, _, key = source.partition("/")
        if not bucket or not key:
            raise _invalid_argument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                                    "x-amz-copy-source", source)
        self._require_bucket(bucket)
        return bucket, key

    def _read_source(self, bucket: str, key: str) -> StoredObject:
        try:
            return self.store.get(bucket, key)
        except NoSuchKey:
            raise S3Error("NoSuchKey", 404, "The specified key does not exist.", Key=key) from None

    def _copy_object(self, c: _Call) -> flask.Response:
        bucket, key = self._copy_source(c)
        directive = c.request.headers.get("x-amz-metadata-directive", "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise _invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", directive)
        source = self._read_source(bucket, key)
        if (bucket, key) == (c.bucket, c.key) and directive == "COPY":
            raise S3Error("InvalidRequest", 400, "This copy request is illegal because it is trying to copy an "
                          "object to itself without changing the object's metadata, storage class, website "
                          "redirect location or encryption attributes.")
        metadata = source.metadata if directive == "COPY" else self._user_metadata(c.request)
        self.store.put(c.bucket, c.key, source.body, metadata)
        self.state.forget_etag(c.bucket, c.key)
        copied = self.store.head(c.bucket, c.key)
        root = x.new_root("CopyObjectResult")
        x.sub(root, "LastModified", x.iso8601(copied.last_modified))
        x.sub(root, "ETag", f'"{copied.etag}"')
        return self._xml(root)

    def _delete_objects(self, c: _Call) -> flask.Response:
        request = x.parse(c.body)
        objects = request.findall("Object")
        if request.tag != "Delete" or not objects or len(objects) > MAX_LIST_KEYS:
            raise S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not validate "
                          "against our published schema")
        quiet = (x.child_text(request, "Quiet") or "").strip().lower() == "true"
        root = x.new_root("DeleteResult")
        for item in objects:
            key = x.child_text(item, "Key")
            if not key:
                raise S3Error("MalformedXML", 400, "Every Object needs a non-empty Key")
            try:
                self.store.delete(c.bucket, key)
                self.state.forget_etag(c.bucket, key)
            except GeneratorError as exc:
                error = x.sub(root, "Error")
                x.sub(error, "Key", key)
                x.sub(error, "Code", "InvalidArgument")
                x.sub(error, "Message", str(exc))
                continue
            if not quiet:
                x.sub(x.sub(root, "Deleted"), "Key", key)
        return self._xml(root)

    # -- multipart uploads ---------------------------------------------------------------------

    def _upload(self, c: _Call) -> Upload:
        upload_id = c.args.get("uploadId", "")
        upload = self.state.upload(upload_id)
        if upload is None or (upload.bucket, upload.key) != (c.bucket, c.key):
            raise _no_such_upload(upload_id)
        return upload

    def _create_upload(self, c: _Call) -> flask.Response:
        upload = self.state.create_upload(c.bucket, c.key, self._user_metadata(c.request))
        root = x.new_root("InitiateMultipartUploadResult")
        x.sub(root, "Bucket", c.bucket)
        x.sub(root, "Key", c.key)
        x.sub(root, "UploadId", upload.upload_id)
        return self._xml(root)

    def _upload_part(self, c: _Call) -> flask.Response:
        upload = self._upload(c)
        text = c.args.get("partNumber", "")
        if not text.isdigit() or not 1 <= int(text) <= MAX_PART_NUMBER:
            raise _invalid_argument(f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
                                    "partNumber", text)
        if "x-amz-copy-source" in c.request.headers:
            data = self._copied_part(c)
        else:
            data = self._payload(c, MAX_OBJECT_SIZE)
        part = self.state.put_part(upload.upload_id, int(text), data, hashlib.md5(data).hexdigest())
        if "x-amz-copy-source" not in c.request.headers:
            return flask.Response(b"", 200, {"ETag": f'"{part.etag}"'})
        root = x.new_root("CopyPartResult")
        x.sub(root, "LastModified", x.iso8601(part.last_modified))
        x.sub(root, "ETag", f'"{part.etag}"')
        return self._xml(root)

    def _copied_part(self, c: _Call) -> bytes:
        source = self._read_source(*self._copy_source(c))
        text = c.request.headers.get("x-amz-copy-source-range")
        if text is None:
            return source.body
        match = x.RANGE_RE.match(text.strip())
        if not match or not match[1] or not match[2] or int(match[2]) < int(match[1]) \
                or int(match[2]) >= source.size:
            raise _invalid_argument("The x-amz-copy-source-range value must be of the form bytes=first-last "
                                    "where first and last are the zero-based offsets of the first and last bytes to copy",
                                    "x-amz-copy-source-range", text)
        return source.body[int(match[1]):int(match[2]) + 1]

    def _complete_upload(self, c: _Call) -> flask.Response:
        upload = self._upload(c)
        request = x.parse(c.body)
        wanted = request.findall("Part")
        if request.tag != "CompleteMultipartUpload" or not wanted:
            raise S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not validate "
                          "against our published schema")
        numbers: list[int] = []
        for item in wanted:
            number_text = (x.child_text(item, "PartNumber") or "").strip()
            etag = (x.child_text(item, "ETag") or "").strip().strip('"').lower()
            if not number_text.isdigit():
                raise S3Error("MalformedXML", 400, "Every Part needs a numeric PartNumber")
            number = int(number_text)
            if numbers and number <= numbers[-1]:
                raise S3Error("InvalidPartOrder", 400, "The list of parts was not in ascending order. "
                              "Parts must be ordered by part number.", UploadId=upload.upload_id)
            stored = upload.parts.get(number)
            if stored is None or stored.etag != etag:
                raise S3Error("InvalidPart", 400, "One or more of the specified parts could not be found. The part "
                              "may not have been uploaded, or the specified entity tag may not match the part's "
                              "entity tag.", UploadId=upload.upload_id, PartNumber=str(number), ETag=etag)
            numbers.append(number)
        for number in numbers[:-1]:
            if upload.parts[number].size < MIN_PART_SIZE:
                raise S3Error("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed "
                              "object size.", ProposedSize=str(upload.parts[number].size),
                              MinSizeAllowed=str(MIN_PART_SIZE), PartNumber=str(number))
        data = b"".join(self.state.part_data(upload.upload_id, n) for n in numbers)
        digests = b"".join(bytes.fromhex(upload.parts[n].etag) for n in numbers)
        etag = f"{hashlib.md5(digests).hexdigest()}-{len(numbers)}"
        self.store.put(c.bucket, c.key, data, upload.metadata)
        self.state.remember_etag(c.bucket, c.key, hashlib.md5(data).hexdigest(), etag)
        self.state.finish_upload(upload.upload_id)
        root = x.new_root("CompleteMultipartUploadResult")
        x.sub(root, "Location", f"{c.request.host_url.rstrip('/')}/{c.bucket}/{c.key}")
        x.sub(root, "Bucket", c.bucket)
        x.sub(root, "Key", c.key)
        x.sub(root, "ETag", f'"{etag}"')
        return self._xml(root)

    def _list_parts(self, c: _Call) -> flask.Response:
        upload = self._upload(c)
        try:
            marker = int(c.args.get("part-number-marker", "0") or "0")
            max_parts = min(int(c.args.get("max-parts", str(MAX_LIST_KEYS))), MAX_LIST_KEYS)
        except ValueError:
            raise _invalid_argument("part-number-marker and max-parts must be integers") from None
        parts = [p for n, p in sorted(upload.parts.items()) if n > marker]
        page, truncated = parts[:max(max_parts, 0)], len(parts) > max(max_parts, 0)
        root = x.new_root("ListPartsResult")
        x.sub(root, "Bucket", c.bucket)
        x.sub(root, "Key", c.key)
        x.sub(root, "UploadId", upload.upload_id)
        x.sub(root, "PartNumberMarker", marker)
        x.sub(root, "NextPartNumberMarker", page[-1].number if page else marker)
        x.sub(root, "MaxParts", max_parts)
        x.sub(root, "IsTruncated", truncated)
        self._owner(root, c.account_id, "Initiator")
        self._owner(root, c.account_id)
        x.sub(root, "StorageClass", "STANDARD")
        for part in page:
            item = x.sub(root, "Part")
            x.sub(item, "PartNumber", part.number)
            x.sub(item, "LastModified", x.iso8601(part.last_modified))
            x.sub(item, "ETag", f'"{part.etag}"')
            x.sub(item, "Size", part.size)
        return self._xml(root)

    def _list_uploads(self, c: _Call) -> flask.Response:
        prefix = c.args.get("prefix", "")
        root = x.new_root("ListMultipartUploadsResult")
        x.sub(root, "Bucket", c.bucket)
        x.sub(root, "KeyMarker", "")
        x.sub(root, "UploadIdMarker", "")
        x.sub(root, "Prefix", prefix)
        x.sub(root, "MaxUploads", MAX_LIST_KEYS)
        x.sub(root, "IsTruncated", False)
        for upload in self.state.uploads(c.bucket):
            if not upload.key.startswith(prefix):
                continue
            item = x.sub(root, "Upload")
            x.sub(item, "Key", upload.key)
            x.sub(item, "UploadId", upload.upload_id)
            self._owner(item, c.account_id, "Initiator")
            self._owner(item, c.account_id)
            x.sub(item, "StorageClass", "STANDARD")
            x.sub(item, "Initiated", x.iso8601(upload.initiated))
        return self._xml(root)
