"""The CloudTrail model without HTTP: bucket policies, listeners and the delivery seams."""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import pytest

from cloudtrail_emulator.emulator.services.cloudtrail.bucket_policy import policy_allows_cloudtrail
from cloudtrail_emulator.emulator.services.cloudtrail.exceptions import InsufficientS3BucketPolicyException
from cloudtrail_emulator.emulator.services.cloudtrail.models import CloudTrailBackend, TrailSettings
from cloudtrail_emulator.emulator.config import FixedClock
from cloudtrail_emulator.emulator.seams import StoreBuckets
from cloudtrail_emulator.emulator.services.sns.models import SnsBackend
from cloudtrail_emulator.generators.stores import LocalStore

AT = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def cloudtrail_policy(bucket: str, prefix: str = "", owner: str = "123456789012") -> str:
    head = f"{prefix}/" if prefix else ""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
         "Action": ["s3:PutObject"], "Resource": f"arn:aws:s3:::{bucket}/{head}AWSLogs/{owner}/*"},
    ]})


@pytest.mark.parametrize("policy, prefix, allowed", [
    (cloudtrail_policy("b"), None, True),
    (cloudtrail_policy("b", "logs"), "logs", True),
    (cloudtrail_policy("b", "logs"), None, False),
    (cloudtrail_policy("b", owner="999999999999"), None, False),
    (cloudtrail_policy("other"), None, False),
    (None, None, False),
    ("not json", None, False),
    (json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}]}), None, True),
    (json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}]}), None, False),
])
def test_policy_check(policy, prefix, allowed):
    assert policy_allows_cloudtrail(policy, "b", prefix, "123456789012") is allowed


def test_organization_trails_need_the_org_path():
    policy = cloudtrail_policy("b", owner="o-abcdefghij")
    assert policy_allows_cloudtrail(policy, "b", None, "123456789012", "o-abcdefghij")
    assert not policy_allows_cloudtrail(policy, "b", None, "123456789012")


@pytest.fixture
def backend(tmp_path):
    store = LocalStore(tmp_path, fsync=False)
    store.create_bucket("open-bucket")
    store.create_bucket("closed-bucket")
    policies = {"open-bucket": cloudtrail_policy("open-bucket")}
    return CloudTrailBackend(clock=FixedClock(AT), buckets=StoreBuckets(store, policies.get),
                             topics=SnsBackend(clock=FixedClock(AT), rng=random.Random(1)), management_account="123456789012",
                             organization_id="o-abcdefghij")


def test_policy_consulted_on_create(backend):
    backend.create_trail("123456789012", "us-east-1", "ok-trail", TrailSettings(s3_bucket="open-bucket"))
    with pytest.raises(InsufficientS3BucketPolicyException):
        backend.create_trail("123456789012", "us-east-1", "no-trail", TrailSettings(s3_bucket="closed-bucket"))


def test_listeners_and_delivery_records(backend):
    changes = []
    backend.add_listener(changes.append)
    trail = backend.create_trail("123456789012", "us-east-1", "heard", TrailSettings(
        s3_bucket="open-bucket", is_multi_region=True))
    backend.start_logging("123456789012", "us-east-1", "heard")
    backend.start_logging("123456789012", "us-east-1", "heard")        # already logging: no event
    assert [c.kind for c in changes] == ["created", "started"]
    assert changes[1].trail.status.is_logging and changes[1].at == AT
    backend.record_delivery(trail.arn, AT)
    backend.record_digest_delivery(trail.arn, AT, error="AccessDenied")
    status = backend.get_trail("123456789012", "us-east-1", "heard").status
    assert status.latest_delivery_time == AT and status.latest_digest_delivery_error == "AccessDenied"
    assert status.latest_digest_delivery_time is None
    backend.stop_logging("123456789012", "us-east-1", trail.arn)
    backend.delete_trail("123456789012", "us-east-1", "heard")
    assert [c.kind for c in changes] == ["created", "started", "stopped", "deleted"]
