"""The one S3 routing table, built from botocore's S3 model: (method, bucket/key presence, query
sub-resource, selecting query or header members) -> operation name. Dispatch and recording both use it.

An operation of the model is addressed by its HTTP method and request URI (`/`, `/{Bucket}` or
`/{Bucket}/{Key+}`, with `?sub-resource` names). Operations sharing those (PutObject, CopyObject,
UploadPart, UploadPartCopy...) differ by their required query-string and header members
(`uploadId`, `x-amz-copy-source`...): the operation with the most of them present wins.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from cloudtrail_emulator.emulator.protocols.service_models import load_service_model

TARGETS = {"/": "service", "/{Bucket}": "bucket", "/{Bucket}/{Key+}": "object"}
# CloudTrail's eventName where it differs from the API operation's name
EVENT_NAMES = {
    "ListObjectsV2": "ListObjects",
    "GetBucketLifecycleConfiguration": "GetBucketLifecycle",
    "PutBucketLifecycleConfiguration": "PutBucketLifecycle",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "DeleteBucketPublicAccessBlock",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
}
# bucket-level operations CloudTrail logs as data events (object-level ones all are)
BUCKET_DATA_OPERATIONS = frozenset({"DeleteObjects", "ListObjects", "ListObjectsV2", "ListObjectVersions",
                                    "ListMultipartUploads"})


@dataclass(frozen=True)
class Route:
    """One operation's address: method, target, sub-resources, and the members that select it."""

    operation: str
    method: str
    target: str                       # "service" | "bucket" | "object"
    subresources: frozenset[str]
    query_selectors: frozenset[str]   # required query-string members (`uploadId`, `id`...)
    header_selectors: frozenset[str]  # required header members, lower case (`x-amz-copy-source`)
    deprecated: bool

    def score(self, args: Mapping[str, str], headers: Mapping[str, str]) -> int | None:
        """How many selecting members the request carries; None when this route does not apply."""
        if not self.subresources <= args.keys():
            return None
        selectors = len(self.query_selectors) + len(self.header_selectors)
        present = sum(name in args for name in self.query_selectors) + \
            sum(name in headers for name in self.header_selectors)
        return None if selectors and not present else present


@lru_cache(maxsize=1)
def routes() -> tuple[tuple[Route, ...], frozenset[str]]:
    """Every addressable S3 operation, and every sub-resource name the model knows."""
    model = load_service_model("s3")
    found = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        path, _, query = operation.http["requestUri"].partition("?")
        target = TARGETS.get(path)
        if target is None:
            continue
        members = operation.input_shape.members if operation.input_shape else {}
        required = [members[m].serialization for m in
                    (operation.input_shape.required_members if operation.input_shape else [])]
        found.append(Route(
            name, operation.http["method"], target,
            frozenset(part.split("=", 1)[0] for part in query.split("&") if part),
            frozenset(s["name"] for s in required if s.get("location") == "querystring"),
            frozenset(s["name"].lower() for s in required if s.get("location") == "header"),
            bool(operation.deprecated)))
    known = frozenset(sub for route in found for sub in route.subresources)
    return tuple(found), known


def operation_for(method: str, bucket: str, key: str | None, args: Mapping[str, str],
                  headers: Mapping[str, str]) -> str | None:
    """The S3 API operation a path-style request addresses, or None when no operation fits."""
    target = "service" if not bucket else "bucket" if key is None else "object"
    table, known = routes()
    lower = {name.lower(): value for name, value in headers.items()}
    plain = not args.keys() & known
    best: tuple[int, bool, int, str] | None = None
    for route in table:
        if route.method != method or route.target != target or (plain and route.subresources) \
                or (not plain and not route.subresources):
            continue
        score = route.score(args, lower)
        if score is None:
            continue
        rank = (-score, route.deprecated, len(route.operation), route.operation)
        if best is None or rank < best:
            best = rank
    return None if best is None else best[3]


def event_name(operation: str) -> str:
    """The eventName CloudTrail writes for an S3 API operation."""
    return EVENT_NAMES.get(operation, operation)


def s3_operation(method: str, bucket: str, key: str | None, args: Mapping[str, str],
                 headers: Mapping[str, str]) -> str | None:
    """The CloudTrail eventName of a path-style request (None when it addresses no operation)."""
    operation = operation_for(method, bucket, key, args, headers)
    return None if operation is None else event_name(operation)


def is_data_operation(operation: str, key: str | None) -> bool:
    """Whether CloudTrail logs the operation as a data event (object level, plus object listings)."""
    return key is not None or operation in BUCKET_DATA_OPERATIONS
