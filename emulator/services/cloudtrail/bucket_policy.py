"""Does an S3 bucket policy let CloudTrail deliver a trail's log files? (CreateTrail/UpdateTrail check)"""
from __future__ import annotations

import json
from collections.abc import Sequence
from fnmatch import fnmatchcase

from cloudtrail_emulator.generators.trail.layout import awslogs_root

_SERVICE = "cloudtrail.amazonaws.com"


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []


def _names_cloudtrail(principal) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return principal.get("AWS") == "*" or _SERVICE in _as_list(principal.get("Service"))


def _allows(statement: dict, action: str, resource: str) -> bool:
    if statement.get("Effect") != "Allow" or not _names_cloudtrail(statement.get("Principal")):
        return False
    actions = [a.lower() for a in _as_list(statement.get("Action")) if isinstance(a, str)]
    if not any(fnmatchcase(action.lower(), pattern) for pattern in actions):
        return False
    resources = [r for r in _as_list(statement.get("Resource")) if isinstance(r, str)]
    return any(fnmatchcase(resource, pattern) for pattern in resources)


def policy_allows_cloudtrail(policy: str | None, bucket: str, prefix: str | None, account_id: str,
                             org_id: str | None = None) -> bool:
    """True when the policy allows CloudTrail s3:GetBucketAcl on the bucket and s3:PutObject on the
    trail's `[prefix/]AWSLogs/<account>/` (or `AWSLogs/<org id>/` for organization trails) keys."""
    if not policy:
        return False
    try:
        document = json.loads(policy)
    except ValueError:
        return False
    statements = [s for s in _as_list(document.get("Statement") if isinstance(document, dict) else None)
                  if isinstance(s, dict)]
    object_arn = f"arn:aws:s3:::{bucket}/{awslogs_root(prefix)}{org_id or account_id}/probe"
    return (any(_allows(s, "s3:GetBucketAcl", f"arn:aws:s3:::{bucket}") for s in statements)
            and any(_allows(s, "s3:PutObject", object_arn) for s in statements))


def cloudtrail_bucket_policy(bucket: str, account_ids: Sequence[str], prefix: str | None = None,
                             org_id: str | None = None) -> str:
    """The bucket policy AWS documents for CloudTrail: GetBucketAcl on the bucket, PutObject (with
    bucket-owner-full-control) on `[prefix/]AWSLogs/<account>/*` per account (and `AWSLogs/<org id>/*`)."""
    root = f"arn:aws:s3:::{bucket}/{awslogs_root(prefix)}"
    owners = [*account_ids, *([org_id] if org_id else [])]
    service = {"Service": "cloudtrail.amazonaws.com"}
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": service,
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": service, "Action": "s3:PutObject",
         "Resource": [f"{root}{owner}/*" for owner in owners],
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
    ]})
