"""The rules a bucket setting must follow beyond its XML schema, as S3 applies them on Put, and the
values S3 fills in (rule ids, unset flags). `check(subresource, value, bucket, settings)` returns the
value to store or raises the S3 error."""
from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from cloudtrail_emulator.emulator.services.s3.bucket_acl import grants_others
from cloudtrail_emulator.emulator.services.s3.exceptions import S3Error, invalid_argument, malformed_xml

if TYPE_CHECKING:
    from cloudtrail_emulator.emulator.services.s3.bucket_settings import BucketSettings

MAX_BUCKET_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_LIFECYCLE_RULES = 1000
MAX_RULE_ID = 255
_LIFECYCLE_ACTIONS = ("Expiration", "Transitions", "NoncurrentVersionTransitions", "NoncurrentVersionExpiration",
                      "AbortIncompleteMultipartUpload")

Rule = Callable[[dict, str, "BucketSettings"], dict]


def check(subresource: str, value: dict, bucket: str, settings: BucketSettings) -> dict:
    """The value to store for a Put of `subresource` on `bucket`; S3's error when it breaks a rule."""
    rule = _RULES.get(subresource)
    return rule(value, bucket, settings) if rule else value


def _versioning_enabled(bucket: str, settings: BucketSettings) -> bool:
    return (settings.current(bucket, "versioning") or {}).get("Status") == "Enabled"


def _fresh_id(settings: BucketSettings) -> str:
    """An id S3 gives a rule or notification configuration put without one."""
    return base64.b64encode(str(uuid.UUID(int=settings.backend.rng.getrandbits(128))).encode()).decode()


def _versioning(value: dict, bucket: str, settings: BucketSettings) -> dict:
    previous = settings.current(bucket, "versioning") or {}
    locked = settings.current(bucket, "object-lock") is not None
    if locked and value.get("Status", "Enabled") != "Enabled":
        raise S3Error("InvalidBucketState", 409, "An Object Lock configuration is present on this bucket, so the "
                      "versioning state cannot be changed.", BucketName=bucket)
    return {**previous, **value}


def _logging(value: dict, bucket: str, settings: BucketSettings) -> dict:
    target = value.get("LoggingEnabled", {}).get("TargetBucket")
    if target is not None and not settings.backend.bucket_exists(target):
        raise S3Error("InvalidTargetBucketForLogging", 400, "The target bucket for logging does not exist",
                      TargetBucket=target)
    return value


def _public_access_block(value: dict, bucket: str, settings: BucketSettings) -> dict:
    flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    return {flag: value.get(flag, False) for flag in flags}


def _encryption(value: dict, bucket: str, settings: BucketSettings) -> dict:
    if len(value["Rules"]) != 1:
        raise malformed_xml()
    rule = value["Rules"][0]
    default = rule.get("ApplyServerSideEncryptionByDefault")
    if default and "KMSMasterKeyID" in default and default["SSEAlgorithm"] not in ("aws:kms", "aws:kms:dsse"):
        raise invalid_argument("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms "
                               "or aws:kms:dsse", "ApplyServerSideEncryptionByDefault")
    return {"Rules": [{**rule, "BucketKeyEnabled": rule.get("BucketKeyEnabled", False)}]}


def _ownership(value: dict, bucket: str, settings: BucketSettings) -> dict:
    if len(value["Rules"]) != 1:
        raise malformed_xml()
    enforced = value["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    if enforced and grants_others(settings.current(bucket, "acl"), settings.backend.owner(bucket)):
        raise S3Error("InvalidBucketAclWithObjectOwnership", 400,
                      "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
    return value


def _tagging(value: dict, bucket: str, settings: BucketSettings) -> dict:
    tags = value["TagSet"]
    if len(tags) > MAX_BUCKET_TAGS:
        raise S3Error("InvalidTag", 400, f"Bucket tag count cannot be greater than {MAX_BUCKET_TAGS}")
    keys = [tag["Key"] for tag in tags]
    if len(set(keys)) != len(keys):
        raise S3Error("InvalidTag", 400, "Cannot provide multiple Tags with the same key")
    for tag in tags:
        if not tag["Key"]:
            raise S3Error("InvalidTag", 400, "The TagKey you have provided is invalid")
        if len(tag["Key"]) > MAX_TAG_KEY:
            raise S3Error("InvalidTag", 400, f"The TagKey you have provided is too long, max {MAX_TAG_KEY}")
        if len(tag["Value"]) > MAX_TAG_VALUE:
            raise S3Error("InvalidTag", 400, f"The TagValue you have provided is too long, max {MAX_TAG_VALUE}")
        if tag["Key"].lower().startswith("aws:"):
            raise S3Error("InvalidTag", 400, "System tags cannot be added/updated by requester")
    return value


def _lifecycle(value: dict, bucket: str, settings: BucketSettings) -> dict:
    rules = value.get("Rules", [])
    if not rules or len(rules) > MAX_LIFECYCLE_RULES:
        raise malformed_xml()
    for rule in rules:
        rule.setdefault("ID", _fresh_id(settings))
        if len(rule["ID"]) > MAX_RULE_ID:
            raise invalid_argument(f"ID length should not exceed allowed limit of {MAX_RULE_ID}", "ID", rule["ID"])
        if ("Filter" in rule) == ("Prefix" in rule):
            raise malformed_xml()
        if not any(action in rule for action in _LIFECYCLE_ACTIONS):
            raise S3Error("InvalidRequest", 400, "At least one action needs to be specified in a rule")
        days = rule.get("Expiration", {}).get("Days")
        if days is not None and days <= 0:
            raise invalid_argument("'Days' for Expiration action must be a positive integer", "Days", str(days))
    ids = [rule["ID"] for rule in rules]
    if len(set(ids)) != len(ids):
        raise invalid_argument("Rule ID must be unique. Found same ID for more than one rule", "ID",
                               next(i for i in ids if ids.count(i) > 1))
    return value


def _notification(value: dict, bucket: str, settings: BucketSettings) -> dict:
    for kind in ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations"):
        for configuration in value.get(kind, []):
            configuration.setdefault("Id", _fresh_id(settings))
    return value


def _object_lock(value: dict, bucket: str, settings: BucketSettings) -> dict:
    if value.get("ObjectLockEnabled") != "Enabled":
        raise malformed_xml()
    retention = value.get("Rule", {}).get("DefaultRetention")
    if retention is not None:
        periods = [retention[p] for p in ("Days", "Years") if p in retention]
        if "Mode" not in retention or len(periods) != 1:
            raise malformed_xml()
        if periods[0] <= 0:
            raise invalid_argument("Default retention period must be a positive integer value",
                                   "DefaultRetention", str(periods[0]))
    if not _versioning_enabled(bucket, settings):
        raise S3Error("InvalidBucketState", 409, "Versioning must be 'Enabled' on the bucket to apply a Object "
                      "Lock configuration", BucketName=bucket)
    return value


def _replication(value: dict, bucket: str, settings: BucketSettings) -> dict:
    if not value["Rules"]:
        raise malformed_xml()
    if not _versioning_enabled(bucket, settings):
        raise S3Error("InvalidRequest", 400, "Versioning must be 'Enabled' on the bucket to apply a replication "
                      "configuration")
    for rule in value["Rules"]:
        rule.setdefault("ID", _fresh_id(settings))
    return value


_RULES: dict[str, Rule] = {
    "versioning": _versioning, "logging": _logging, "publicAccessBlock": _public_access_block,
    "encryption": _encryption, "ownershipControls": _ownership, "tagging": _tagging, "lifecycle": _lifecycle,
    "notification": _notification, "object-lock": _object_lock, "replication": _replication,
}
