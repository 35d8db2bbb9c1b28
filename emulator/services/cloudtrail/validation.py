"""Format rules for trail names, ARNs and the resources a trail points at (AWS's error names)."""
from __future__ import annotations

import re

from cloudtrail_emulator.emulator.services.cloudtrail.exceptions import (
    CloudTrailARNInvalidException,
    InvalidCloudWatchLogsLogGroupArnException,
    InvalidCloudWatchLogsRoleArnException,
    InvalidKmsKeyIdException,
    InvalidS3BucketNameException,
    InvalidS3PrefixException,
    InvalidSnsTopicNameException,
    InvalidTrailNameException,
)

TRAIL_ARN = re.compile(r"^arn:aws[a-z-]*:cloudtrail:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):trail/(.+)$")
_NAME_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")
_IP_LIKE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_UUID = r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
_KMS_KEY = re.compile(
    rf"^(?:{_UUID}|alias/[A-Za-z0-9/_-]+|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{{12}}:"
    rf"(?:key/{_UUID}|alias/[A-Za-z0-9/_-]+))$"
)
_LOG_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[\w./#-]{1,512}:\*$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}(\.fifo)?$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:([A-Za-z0-9_-]{1,256}(?:\.fifo)?)$")
MAX_PREFIX = 200


def _name_problem(name: str) -> str | None:
    """AWS's text for what is wrong with a trail name, checked in AWS's order (docs/aws-texts.md)."""
    if len(name) < 3:
        return (f"Trail name too short. Minimum allowed length: 3 characters. "
                f"Specified name length: {len(name)} characters.")
    if len(name) > 128:
        return (f"Trail name too long. Maximum allowed length: 128 characters. "
                f"Specified name length: {len(name)} characters.")
    if not name[0].isascii() or not name[0].isalnum():
        return "Trail name must starts with a letter or number."
    if not name[-1].isascii() or not name[-1].isalnum():
        return "Trail name must ends with a letter or number."
    if not _NAME_CHARS.match(name):
        return ("Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, "
                "periods (.), hyphens (-), and underscores (_).")
    if any(a in "._-" and b in "._-" for a, b in zip(name, name[1:])):
        return "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_)."
    if _IP_LIKE.match(name):
        return "Trail names must not be formatted as an IP address."
    return None


def check_trail_name(name: str) -> str:
    """FORMATS.md section 5; raises InvalidTrailNameException."""
    problem = _name_problem(name)
    if problem:
        raise InvalidTrailNameException(problem)
    return name


def parse_trail_arn(arn: str) -> tuple[str, str, str]:
    """(region, account, name) of a trail ARN; raises CloudTrailARNInvalidException."""
    match = TRAIL_ARN.match(arn)
    if match is None:
        raise CloudTrailARNInvalidException(
            f"ARN {arn} is not valid. A trail ARN looks like "
            "arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail")
    region, account, name = match.groups()
    check_trail_name(name)
    return region, account, name


def trail_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{account_id}:trail/{name}"


def check_bucket_name(name: str) -> str:
    if not _BUCKET.match(name) or ".." in name or _IP_LIKE.match(name):
        raise InvalidS3BucketNameException(f"Bucket name {name} is not valid.")
    return name


def check_prefix(prefix: str) -> str:
    if len(prefix) > MAX_PREFIX:
        raise InvalidS3PrefixException(
            f"S3 key prefix is {len(prefix)} characters long; the maximum is {MAX_PREFIX}.")
    return prefix


def check_kms_key_id(key_id: str) -> str:
    if not _KMS_KEY.match(key_id):
        raise InvalidKmsKeyIdException(f"KMS key id {key_id} is not valid: give a key id, key ARN, "
                                       "alias name or alias ARN.")
    return key_id


def kms_key_arn(key_id: str, region: str, account_id: str) -> str:
    """The ARN form AWS reports for a KmsKeyId given in any accepted form."""
    return key_id if key_id.startswith("arn:") else f"arn:aws:kms:{region}:{account_id}:" + (
        key_id if key_id.startswith("alias/") else f"key/{key_id}")


def check_cloudwatch(log_group_arn: str | None, role_arn: str | None) -> None:
    """Both or neither; each well formed."""
    if log_group_arn and not _LOG_GROUP_ARN.match(log_group_arn):
        raise InvalidCloudWatchLogsLogGroupArnException(
            f"CloudWatch Logs log group ARN {log_group_arn} is not valid: expected "
            "arn:aws:logs:<region>:<account>:log-group:<name>:*")
    if role_arn and not _ROLE_ARN.match(role_arn):
        raise InvalidCloudWatchLogsRoleArnException(
            f"CloudWatch Logs role ARN {role_arn} is not valid: expected arn:aws:iam::<account>:role/<name>")
    if log_group_arn and not role_arn:
        raise InvalidCloudWatchLogsRoleArnException(
            "A CloudWatch Logs log group needs a CloudWatch Logs role ARN.")
    if role_arn and not log_group_arn:
        raise InvalidCloudWatchLogsLogGroupArnException(
            "A CloudWatch Logs role needs a CloudWatch Logs log group ARN.")


def topic_arn(name_or_arn: str, region: str, account_id: str) -> str:
    """The topic ARN for a SnsTopicName given as a name or an ARN; raises InvalidSnsTopicNameException."""
    if _TOPIC_ARN.match(name_or_arn):
        return name_or_arn
    if not _TOPIC_NAME.match(name_or_arn):
        raise InvalidSnsTopicNameException(f"SNS topic name {name_or_arn} is not valid.")
    return f"arn:aws:sns:{region}:{account_id}:{name_or_arn}"
