"""S3's listings as REST-XML: buckets, objects (v1 and v2), parts of an upload, uploads in progress."""
from __future__ import annotations

import base64
from collections.abc import Callable

import flask

from cloudtrail_emulator.emulator.protocols import restxml as x
from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.services.s3.exceptions import invalid_argument
from cloudtrail_emulator.emulator.services.s3.model import MAX_LIST_KEYS, S3Backend, canonical_id
from cloudtrail_emulator.emulator.services.s3.wire import S3Request
from cloudtrail_emulator.generators.stores import NoSuchKey


def xml(root, status: int = 200) -> flask.Response:
    """An XML answer."""
    return flask.Response(x.to_bytes(root), status=status, content_type="application/xml")


def owner(parent, account_id: str, tag: str = "Owner") -> None:
    """An `<Owner>` (or `tag`) element: the account's canonical id (S3 stopped returning
    `DisplayName` on November 21, 2025)."""
    x.sub(x.sub(parent, tag), "ID", canonical_id(account_id))


def _decode_token(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        text = ""
    if not text.startswith("v2:"):
        raise invalid_argument("The continuation token provided is incorrect", "continuation-token", token)
    return text[3:]


def _max_keys(args: dict[str, str]) -> int:
    text = args.get("max-keys", str(MAX_LIST_KEYS))
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise invalid_argument("Provided max-keys not an integer or within integer range", "max-keys", text)
    return min(value, MAX_LIST_KEYS)


def list_buckets(backend: S3Backend, c: S3Request, ctx: RequestContext) -> flask.Response:
    """The caller account's buckets (not other accounts')."""
    root = x.new_root("ListAllMyBucketsResult")
    owner(root, ctx.account_id)
    buckets = x.sub(root, "Buckets")
    for info in backend.buckets(ctx.account_id):
        bucket = x.sub(buckets, "Bucket")
        x.sub(bucket, "Name", info.name)
        x.sub(bucket, "CreationDate", x.iso8601(info.created))
        x.sub(bucket, "BucketRegion", info.region)
    return xml(root)


def list_objects(backend: S3Backend, c: S3Request, ctx: RequestContext) -> flask.Response:
    a = c.args
    encoding = a.get("encoding-type")
    if encoding is not None and encoding != "url":
        raise invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", encoding)
    enc = x.url_encode if encoding == "url" else (lambda value: value)
    prefix, delimiter = a.get("prefix", ""), a.get("delimiter", "")
    max_keys = _max_keys(a)
    v2 = a.get("list-type") == "2"
    if "list-type" in a and not v2:
        raise invalid_argument("Invalid List Type specified in Request", "list-type", a["list-type"])
    root = x.new_root("ListBucketResult")
    x.sub(root, "Name", c.bucket)
    x.sub(root, "Prefix", enc(prefix))
    if v2:
        token = a.get("continuation-token")
        after = _decode_token(token) if token is not None else a.get("start-after", "")
        entries, truncated = backend.page(c.bucket, prefix, delimiter, after, max_keys)
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
        entries, truncated = backend.page(c.bucket, prefix, delimiter, marker, max_keys)
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
            _contents(backend, root, c, ctx, name, enc, with_owner)
    for name, is_prefix in entries:
        if is_prefix:
            x.sub(x.sub(root, "CommonPrefixes"), "Prefix", enc(name))
    return xml(root)


def _contents(backend: S3Backend, root, c: S3Request, ctx: RequestContext, key: str, enc: Callable[[str], str],
              with_owner: bool) -> None:
    try:
        obj = backend.store.head(c.bucket, key)
    except NoSuchKey:
        return  # deleted while listing
    item = x.sub(root, "Contents")
    x.sub(item, "Key", enc(key))
    x.sub(item, "LastModified", x.iso8601(obj.last_modified))
    x.sub(item, "ETag", backend.etag(c.bucket, key, obj))
    x.sub(item, "Size", obj.size)
    if with_owner:
        owner(item, ctx.account_id)
    x.sub(item, "StorageClass", "STANDARD")


def list_parts(backend: S3Backend, c: S3Request, ctx: RequestContext) -> flask.Response:
    upload = backend.upload(c.bucket, c.key, c.args.get("uploadId", ""))
    try:
        marker = int(c.args.get("part-number-marker", "0") or "0")
        max_parts = min(int(c.args.get("max-parts", str(MAX_LIST_KEYS))), MAX_LIST_KEYS)
    except ValueError:
        raise invalid_argument("part-number-marker and max-parts must be integers") from None
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
    owner(root, ctx.account_id, "Initiator")
    owner(root, ctx.account_id)
    x.sub(root, "StorageClass", "STANDARD")
    for part in page:
        item = x.sub(root, "Part")
        x.sub(item, "PartNumber", part.number)
        x.sub(item, "LastModified", x.iso8601(part.last_modified))
        x.sub(item, "ETag", f'"{part.etag}"')
        x.sub(item, "Size", part.size)
    return xml(root)


def list_uploads(backend: S3Backend, c: S3Request, ctx: RequestContext) -> flask.Response:
    prefix = c.args.get("prefix", "")
    root = x.new_root("ListMultipartUploadsResult")
    x.sub(root, "Bucket", c.bucket)
    x.sub(root, "KeyMarker", "")
    x.sub(root, "UploadIdMarker", "")
    x.sub(root, "Prefix", prefix)
    x.sub(root, "MaxUploads", MAX_LIST_KEYS)
    x.sub(root, "IsTruncated", False)
    for upload in backend.uploads(c.bucket, prefix):
        item = x.sub(root, "Upload")
        x.sub(item, "Key", upload.key)
        x.sub(item, "UploadId", upload.upload_id)
        owner(item, ctx.account_id, "Initiator")
        owner(item, ctx.account_id)
        x.sub(item, "StorageClass", "STANDARD")
        x.sub(item, "Initiated", x.iso8601(upload.initiated))
    return xml(root)
