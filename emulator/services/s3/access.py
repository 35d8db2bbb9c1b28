"""Who may call an S3 operation on a bucket: its owner account, or an account its bucket policy grants.

A signed caller from another account gets S3's `AccessDenied` ("Access Denied") on the bucket's
objects, listings, settings and policy unless a bucket policy statement allows it: Effect Allow,
Principal `*`, `{"AWS": "*"}`, the caller's account id, `arn:aws:iam::<account>:root` or the caller's
user ARN, the operation's IAM action (wildcards `*` and `?`, any case) and the bucket or object ARN
(wildcards, case-sensitive). An explicit Deny matching the caller wins, for the owner too (except
on the policy itself, so the owner can always repair it). Statements the emulator cannot evaluate
(a `Condition`, `NotPrincipal`, `NotAction`, `NotResource`) match nothing, Allow and Deny alike.
Bucket policy operations stay the owner's: a granted stranger gets 405 MethodNotAllowed, as AWS
answers. Unsigned calls (only possible without `--auth sigv4`) are not checked. DeleteObjects is
checked against `<bucket>/*`, not key by key. CloudTrail's own delivery writes in-process and is
checked against the policy by `services/cloudtrail/bucket_policy.py` instead.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from urllib.parse import unquote

from cloudtrail_emulator.emulator.pipeline.recorder import USER_NAME
from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.services.s3.exceptions import S3Error
from cloudtrail_emulator.emulator.services.s3.model import S3Backend
from cloudtrail_emulator.emulator.services.s3.wire import S3Request

#: the IAM action of each S3 operation whose action is not `s3:<operation>` (AWS's "Amazon S3 API
#: operations and permissions")
ACTIONS = {
    "HeadBucket": "ListBucket", "ListObjects": "ListBucket", "ListObjectsV2": "ListBucket",
    "HeadObject": "GetObject", "CopyObject": "PutObject", "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject", "CreateMultipartUpload": "PutObject", "CompleteMultipartUpload": "PutObject",
    "DeleteObjects": "DeleteObject", "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock", "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketEncryption": "GetEncryptionConfiguration", "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls", "DeleteBucketTagging": "PutBucketTagging",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration", "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration", "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
}
#: operations open to any caller: they address no existing bucket of someone else
_OPEN = frozenset({"ListBuckets", "CreateBucket"})
_POLICY_OPERATIONS = frozenset({"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"})
_COPY_OPERATIONS = frozenset({"CopyObject", "UploadPartCopy"})


def access_denied() -> S3Error:
    return S3Error("AccessDenied", 403, "Access Denied")


def authorize(backend: S3Backend, call: S3Request, operation: str | None, ctx: RequestContext) -> None:
    """Raise S3's error when the caller of `ctx` may not call `operation` on the addressed bucket
    (and, for a copy, read its source); return when it may, or when there is nothing to check."""
    if ctx.access_key is None or operation is None or operation in _OPEN or not call.bucket:
        return
    action = "s3:" + ACTIONS.get(operation, operation)
    _check(backend, call.bucket, call.key, action, ctx, policy_operation=operation in _POLICY_OPERATIONS,
           bucket_wide=operation == "DeleteObjects")
    if operation in _COPY_OPERATIONS and call.headers.get("x-amz-copy-source"):
        bucket, _, key = unquote(call.headers["x-amz-copy-source"].split("?", 1)[0]).lstrip("/").partition("/")
        if bucket:
            _check(backend, bucket, key, "s3:GetObject", ctx)


def _check(backend: S3Backend, bucket: str, key: str | None, action: str, ctx: RequestContext, *,
           policy_operation: bool = False, bucket_wide: bool = False) -> None:
    if not backend.bucket_exists(bucket):
        return                      # the handler answers NoSuchBucket, to anyone, as S3 does
    owner = backend.owner(bucket)
    resource = f"arn:aws:s3:::{bucket}" + ("/*" if bucket_wide else f"/{key}" if key is not None else "")
    decision = _decide(backend.state.policy(bucket), ctx.account_id, action, resource)
    if owner == ctx.account_id:
        if decision == "Deny" and not policy_operation:
            raise access_denied()
        return
    if decision != "Allow":
        raise access_denied()
    if policy_operation:
        raise S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.",
                      Method=action.removeprefix("s3:"), ResourceType="BUCKET")


def _decide(policy: str | None, account: str, action: str, resource: str) -> str | None:
    """"Deny" when a statement denies, else "Allow" when one allows, else None."""
    found = None
    for statement in _statements(policy):
        if _matches(statement, account, action, resource):
            if statement.get("Effect") == "Deny":
                return "Deny"
            if statement.get("Effect") == "Allow":
                found = "Allow"
    return found


@lru_cache(maxsize=64)
def _statements(policy: str | None) -> tuple[dict, ...]:
    if not policy:
        return ()
    try:
        document = json.loads(policy)
    except ValueError:
        return ()
    statements = _as_list(document.get("Statement")) if isinstance(document, dict) else []
    return tuple(s for s in statements if isinstance(s, dict))


def _as_list(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _matches(statement: dict, account: str, action: str, resource: str) -> bool:
    if statement.keys() & {"Condition", "NotPrincipal", "NotAction", "NotResource"}:
        return False
    return (_names_caller(statement.get("Principal"), account)
            and any(_glob(pattern, action, case=False) for pattern in _strings(statement.get("Action")))
            and any(_glob(pattern, resource, case=True) for pattern in _strings(statement.get("Resource"))))


def _names_caller(principal, account: str) -> bool:
    """Whether a Principal element names the caller: everyone, its account or its user."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    names = {"*", account, f"arn:aws:iam::{account}:root", f"arn:aws:iam::{account}:user/{USER_NAME}"}
    return any(name in names for name in _strings(principal.get("AWS")))


def _strings(value) -> list[str]:
    return [item for item in _as_list(value) if isinstance(item, str)]


@lru_cache(maxsize=512)
def _pattern(pattern: str, case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL if case else re.DOTALL | re.IGNORECASE)


def _glob(pattern: str, text: str, *, case: bool) -> bool:
    """IAM's wildcard match: `*` any run of characters, `?` one character, nothing else special."""
    return _pattern(pattern, case).fullmatch(text) is not None
