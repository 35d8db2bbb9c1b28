"""The S3-compatible REST-XML endpoint (path-style `/<bucket>/<key>`): wire <-> `S3Backend` only.

`S3Responses.handle` names the operation with the one routing table (emulator/services/s3/routing.py),
calls its handler and answers S3 XML, errors included; the request context records the call.
Nothing here raises to the caller: an unexpected failure becomes an `InternalError` answer.
"""
from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable, Iterator
from functools import partial
from typing import BinaryIO
from urllib.parse import unquote

import flask

from cloudtrail_emulator.emulator.protocols import restxml as x
from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.emulator.services.s3 import access, bucket_settings, listings, routing, spool, wire
from cloudtrail_emulator.emulator.services.s3.exceptions import (
    S3Error, invalid_argument, malformed_xml, method_not_allowed, no_such_bucket, no_such_key, not_implemented,
    unstorable)
from cloudtrail_emulator.emulator.services.s3.listings import xml as _xml
from cloudtrail_emulator.emulator.services.s3.model import COPY_CHUNK, S3Backend
from cloudtrail_emulator.emulator.services.s3.state import Part, Upload
from cloudtrail_emulator.emulator.services.s3.wire import S3Request
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores import BucketNotEmpty, NoSuchBucket, NoSuchKey, StoredObject

log = logging.getLogger(__name__)

EVENT_SOURCE = "s3.amazonaws.com"
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
# Sub-resources S3 knows that this endpoint does not implement: answered with NotImplemented.
UNSUPPORTED_SUBRESOURCES = frozenset({
    "accelerate", "analytics", "attributes", "cors", "intelligent-tiering", "inventory", "legal-hold",
    "metadataConfiguration", "metrics", "policyStatus", "requestPayment", "restore", "retention", "select",
    "session", "torrent", "versions", "website",
})
BUCKET_SUBRESOURCES = frozenset({"location", "policy", "uploads", "delete"}) | bucket_settings.SUBRESOURCES
OBJECT_SUBRESOURCES = frozenset({"uploads", "uploadId"})
# operations whose canned ACL header CloudTrail records (as a string: the reference CreateBucket records)
ACL_HEADER_OPERATIONS = frozenset({"CreateBucket", "PutBucketAcl"})
# operations whose body is an object: streamed to disk (spool.py), never read whole
STREAMED_OPERATIONS = frozenset({"PutObject", "UploadPart"})
RESPONSE_OVERRIDES = ("content-type", "content-language", "expires", "cache-control",
                      "content-disposition", "content-encoding")


def _empty(status: int = 204, headers: dict[str, str] | None = None) -> flask.Response:
    return flask.Response(b"", status, headers or {})


Handler = Callable[[S3Request, RequestContext], flask.Response]


class FileRange:
    """A WSGI response body: `size` bytes of an open file from byte `first`, read piece by piece;
    the file is closed when the server closes the body."""

    def __init__(self, fh: BinaryIO, first: int, size: int):
        self.fh, self.first, self.size = fh, first, size

    def __iter__(self) -> Iterator[bytes]:
        offset, left = self.first, self.size
        while left > 0:
            piece = os.pread(self.fh.fileno(), min(left, COPY_CHUNK), offset)
            if not piece:
                return
            offset += len(piece)
            left -= len(piece)
            yield piece

    def close(self) -> None:
        self.fh.close()


class S3Responses:
    """Path-style S3 REST over an `S3Backend`; one method per implemented operation."""

    def __init__(self, backend: S3Backend):
        self.backend = backend
        listing = {name: partial(getattr(listings, name), backend)
                   for name in ("list_buckets", "list_objects", "list_uploads", "list_parts")}
        self._handlers: dict[str, Handler] = {
            "ListBuckets": listing["list_buckets"], "CreateBucket": self._create_bucket,
            "HeadBucket": self._head_bucket, "DeleteBucket": self._delete_bucket,
            "GetBucketLocation": self._location, "PutBucketPolicy": self._put_policy,
            "GetBucketPolicy": self._get_policy, "DeleteBucketPolicy": self._delete_policy,
            "ListObjects": listing["list_objects"], "ListObjectsV2": listing["list_objects"],
            "ListMultipartUploads": listing["list_uploads"], "DeleteObjects": self._delete_objects,
            "GetObject": self._get_object, "HeadObject": self._get_object, "PutObject": self._put_object,
            "CopyObject": self._copy_object, "DeleteObject": self._delete_object,
            "CreateMultipartUpload": self._create_upload, "UploadPart": self._upload_part,
            "UploadPartCopy": self._upload_part, "CompleteMultipartUpload": self._complete_upload,
            "AbortMultipartUpload": self._abort_upload, "ListParts": listing["list_parts"],
        }
        self.settings = bucket_settings.BucketSettings(backend)
        self._handlers.update(self.settings.handlers())
        unknown = set(self._handlers) - {route.operation for route in routing.routes()[0]}
        if unknown:
            raise ValueError(f"S3 handlers for operations not in the model: {unknown}")

    # -- entry point ---------------------------------------------------------------------------

    def handle(self, request: flask.Request, ctx: RequestContext) -> flask.Response:
        """Answer one request; `ctx` gets the call (S3's own request id format)."""
        ctx.request_id = f"{self.backend.rng.getrandbits(64):016X}"
        ctx.addressed(EVENT_SOURCE, None)
        resource = "/"
        c: S3Request | None = None
        try:
            c = wire.addressed(request)
            resource = c.resource
            operation = routing.operation_for(c.method, c.bucket, c.key, c.args, c.headers)
            self._note(c, operation, ctx)
            access.authorize(self.backend, c, operation, ctx)
            wire.check_key_length(c)
            if c.method in ("PUT", "POST") and operation not in STREAMED_OPERATIONS:
                c.body = spool.read_small(c)
            response = self._dispatch(c, operation, ctx)
        except AwsError as error:
            if c is not None:
                spool.finish(c, error)
            response = self._error(request, error, resource, ctx)
        except Exception:  # noqa: BLE001 - a bug must still answer S3 XML, never a stack trace
            log.exception("S3 request %s %s failed", request.method, request.full_path)
            error = S3Error("InternalError", 500, "We encountered an internal error. Please try again.")
            response = self._error(request, error, resource, ctx)
        response.headers["x-amz-request-id"] = ctx.request_id
        response.headers["x-amz-id-2"] = base64.b64encode(ctx.request_id.encode()).decode()
        ctx.additional = {"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader",
                          "bytesTransferredIn": c.input.read_bytes if c is not None and c.input is not None
                          else request.content_length or 0,
                          "bytesTransferredOut": 0 if request.method == "HEAD" else response.content_length or 0,
                          "x-amz-id-2": response.headers["x-amz-id-2"]}
        return response

    @staticmethod
    def _note(c: S3Request, operation: str | None, ctx: RequestContext) -> None:
        """What the call is, as CloudTrail writes S3 calls (parameters not camel-cased, `Host` included)."""
        ctx.addressed(EVENT_SOURCE, None if operation is None else routing.event_name(operation))
        params: dict[str, str] = {"bucketName": c.bucket} if c.bucket else {}
        params["Host"] = c.request.host
        params.update({k: v for k, v in c.args.items() if not k.startswith("X-Amz-")})
        if c.key is not None:
            params["key"] = c.key
        if operation in ACL_HEADER_OPERATIONS and "x-amz-acl" in c.headers:
            params["x-amz-acl"] = c.headers["x-amz-acl"]
        ctx.request_parameters = params
        ctx.read_only = c.method in ("GET", "HEAD")
        ctx.data_event = operation is not None and routing.is_data_operation(operation, c.key)
        if c.bucket:
            ctx.resources = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{c.bucket}/{c.key}"}] \
                if c.key is not None else []
            ctx.resources.append({"accountId": ctx.account_id, "type": "AWS::S3::Bucket",
                                  "ARN": f"arn:aws:s3:::{c.bucket}"})

    @staticmethod
    def _error(request: flask.Request, error: AwsError, resource: str, ctx: RequestContext) -> flask.Response:
        if error.status >= 400:
            ctx.failed(error)
        bodiless = request.method == "HEAD" or error.status == 304
        body = b"" if bodiless else x.error_body(error, resource, ctx.request_id)
        response = flask.Response(body, status=error.status, content_type="application/xml")
        for name, value in error.headers.items():
            response.headers[name] = value
        return response

    def _dispatch(self, c: S3Request, operation: str | None, ctx: RequestContext) -> flask.Response:
        if not c.bucket:
            if operation == "ListBuckets":
                return self._handlers[operation](c, ctx)
            raise method_not_allowed(c.method, "SERVICE", "GET")
        handled = BUCKET_SUBRESOURCES if c.key is None else OBJECT_SUBRESOURCES
        for name in c.args:
            if name in UNSUPPORTED_SUBRESOURCES or (name in BUCKET_SUBRESOURCES | OBJECT_SUBRESOURCES
                                                    and name not in handled):
                raise not_implemented(f"?{name}", name)
        handler = self._handlers.get(operation or "")
        try:
            if operation not in ("CreateBucket", "PutBucketPolicy"):
                self.backend.require_bucket(c.bucket)
            if handler is None and operation is not None:
                raise not_implemented(operation, operation)
            if handler is None:
                raise method_not_allowed(c.method, "BUCKET", "GET, HEAD, PUT, DELETE") if c.key is None \
                    else method_not_allowed(c.method, "OBJECT", "GET, HEAD, PUT, DELETE, POST")
            return handler(c, ctx)
        except NoSuchBucket:
            raise no_such_bucket(c.bucket) from None
        except NoSuchKey:
            raise no_such_key(c.key or "") from None
        except BucketNotEmpty:
            raise S3Error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty",
                          BucketName=c.bucket) from None
        except GeneratorError as exc:
            raise unstorable(exc) from None

    # -- service and buckets -------------------------------------------------------------------

    def _create_bucket(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        region = ctx.region
        if c.body.strip():
            root = x.parse(c.body)
            if root.tag != "CreateBucketConfiguration":
                raise malformed_xml()
            constraint = x.child_text(root, "LocationConstraint")
            if constraint:
                region = self.backend.region_of_constraint(constraint)
        self.backend.create_bucket(c.bucket, region, ctx.account_id)
        locked = c.headers.get("x-amz-bucket-object-lock-enabled", "").strip().lower() == "true"
        self.settings.bucket_created(c.bucket, locked)
        return _empty(200, {"Location": f"/{c.bucket}"})

    def _head_bucket(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        return _empty(200, {"x-amz-bucket-region": self.backend.region(c.bucket)})

    def _delete_bucket(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        self.backend.delete_bucket(c.bucket)
        return _empty()

    def _location(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        root = x.new_root("LocationConstraint")
        region = self.backend.region(c.bucket)
        root.text = "" if region == "us-east-1" else region
        return _xml(root)

    def _put_policy(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        self.backend.put_policy(c.bucket, c.body)
        return _empty()

    def _get_policy(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        return flask.Response(self.backend.policy(c.bucket).encode("utf-8"), 200, content_type="application/json")

    def _delete_policy(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        self.backend.delete_policy(c.bucket)
        return _empty()

    def _object_headers(self, c: S3Request, obj: StoredObject) -> dict[str, str]:
        headers = {
            "ETag": self.backend.etag(c.bucket, c.key, obj),
            "Last-Modified": x.http_date(obj.last_modified),
            "Accept-Ranges": "bytes",
            "Content-Type": DEFAULT_CONTENT_TYPE,
        }
        for name, value in obj.metadata.items():
            headers[f"x-amz-meta-{name}"] = wire.header_value(value)
        for name in RESPONSE_OVERRIDES:
            if f"response-{name}" in c.args:
                headers[name.title()] = c.args[f"response-{name}"]
        return headers

    def _get_object(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        if c.method == "HEAD":
            obj, body = self.backend.store.head(c.bucket, c.key), None
        else:
            obj, body = self.backend.open_object(c.bucket, c.key)
        try:
            headers = self._object_headers(c, obj)
            wire.check_conditions(c.headers, obj.last_modified, headers["ETag"])
            status, first, last = 200, 0, obj.size - 1
            if "Range" in c.headers:
                span = x.parse_range(c.headers["Range"], obj.size)
                if span is not None:
                    status, (first, last) = 206, span
                    headers["Content-Range"] = f"bytes {first}-{last}/{obj.size}"
        except BaseException:
            if body is not None:
                body.close()
            raise
        content = FileRange(body, first, last - first + 1) if body is not None else b""
        response = flask.Response(content, status=status, headers=headers, direct_passthrough=True)
        response.headers["Content-Length"] = str(last - first + 1)
        return response

    def _put_object(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        metadata = wire.user_metadata(c.request)
        self.backend.check_storable(c.bucket, c.key, metadata)
        body = spool.spool(c, self.backend.max_object_size, self.backend.temp_dir(c.bucket))
        etag = self.backend.put_object(c.bucket, c.key, body, metadata)
        return _empty(200, {"ETag": etag})

    @staticmethod
    def _copy_source(c: S3Request) -> tuple[str, str]:
        source = unquote(c.headers["x-amz-copy-source"].split("?", 1)[0]).lstrip("/")
        bucket, _, key = source.partition("/")
        if not bucket or not key:
            raise invalid_argument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                                   "x-amz-copy-source", source)
        return bucket, key

    def _copy_object(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        bucket, key = self._copy_source(c)
        directive = c.headers.get("x-amz-metadata-directive", "COPY").upper()
        metadata = wire.user_metadata(c.request) if directive == "REPLACE" else {}
        copied = self.backend.copy_object(c.bucket, c.key, bucket, key, directive, metadata)
        root = x.new_root("CopyObjectResult")
        x.sub(root, "LastModified", x.iso8601(copied.last_modified))
        x.sub(root, "ETag", f'"{copied.etag}"')
        return _xml(root)

    def _delete_object(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        self.backend.delete_object(c.bucket, c.key)
        return _empty()

    def _delete_objects(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        request = x.parse(c.body)
        if request.tag != "Delete":
            raise malformed_xml()
        keys = [x.child_text(item, "Key") or "" for item in request.findall("Object")]
        quiet = (x.child_text(request, "Quiet") or "").strip().lower() == "true"
        root = x.new_root("DeleteResult")
        for key, failure in self.backend.delete_objects(c.bucket, keys):
            if failure is not None:
                error = x.sub(root, "Error")
                x.sub(error, "Key", key)
                x.sub(error, "Code", "InvalidArgument")
                x.sub(error, "Message", failure)
            elif not quiet:
                x.sub(x.sub(root, "Deleted"), "Key", key)
        return _xml(root)

    # -- multipart uploads ---------------------------------------------------------------------

    def _upload(self, c: S3Request):
        return self.backend.upload(c.bucket, c.key, c.args.get("uploadId", ""))

    def _create_upload(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        upload = self.backend.create_upload(c.bucket, c.key, wire.user_metadata(c.request))
        root = x.new_root("InitiateMultipartUploadResult")
        x.sub(root, "Bucket", c.bucket)
        x.sub(root, "Key", c.key)
        x.sub(root, "UploadId", upload.upload_id)
        return _xml(root)

    def _upload_part(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        upload = self._upload(c)
        number = self.backend.part_number(c.args.get("partNumber", ""))
        if "x-amz-copy-source" not in c.headers:
            body = spool.spool(c, self.backend.max_object_size, self.backend.part_dir(upload))
            part = self.backend.put_part(upload, number, body)
            return _empty(200, {"ETag": f'"{part.etag}"'})
        part = self._copy_part(c, upload, number)
        root = x.new_root("CopyPartResult")
        x.sub(root, "LastModified", x.iso8601(part.last_modified))
        x.sub(root, "ETag", f'"{part.etag}"')
        return _xml(root)

    def _copy_part(self, c: S3Request, upload: Upload, number: int) -> Part:
        source, body = self.backend.read_source(*self._copy_source(c))
        with body:
            text = c.headers.get("x-amz-copy-source-range")
            if text is None:
                return self.backend.copy_part(upload, number, body, 0, source.size)
            match = x.RANGE_RE.match(text.strip())
            if not match or not match[1] or not match[2] or int(match[2]) < int(match[1]) \
                    or int(match[2]) >= source.size:
                raise invalid_argument("The x-amz-copy-source-range value must be of the form bytes=first-last "
                                       "where first and last are the zero-based offsets of the first and last "
                                       "bytes to copy", "x-amz-copy-source-range", text)
            first = int(match[1])
            return self.backend.copy_part(upload, number, body, first, int(match[2]) - first + 1)

    def _complete_upload(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        upload = self._upload(c)
        request = x.parse(c.body)
        if request.tag != "CompleteMultipartUpload":
            raise malformed_xml()
        wanted = [((x.child_text(item, "PartNumber") or "").strip(),
                   (x.child_text(item, "ETag") or "").strip().strip('"').lower())
                  for item in request.findall("Part")]
        etag = self.backend.complete_upload(upload, wanted)
        root = x.new_root("CompleteMultipartUploadResult")
        x.sub(root, "Location", f"{c.request.host_url.rstrip('/')}/{c.bucket}/{c.key}")
        x.sub(root, "Bucket", c.bucket)
        x.sub(root, "Key", c.key)
        x.sub(root, "ETag", f'"{etag}"')
        return _xml(root)

    def _abort_upload(self, c: S3Request, ctx: RequestContext) -> flask.Response:
        self.backend.abort_upload(self._upload(c))
        return _empty()
