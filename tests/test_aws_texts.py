"""CloudTrail's error texts and LookupEvents' EventTime as AWS writes them (docs/aws-texts.md names the
source of each text), read back through boto3, the `aws` CLI and the raw wire."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from cloudtrail_emulator.emulator.config import EmulatorConfig, ManualClock
from fixtures_server import start_emulator

AWS = Path(sys.executable).parent / "aws"
BUCKET = "texts-bucket"
AT = datetime(2025, 5, 6, 7, 8, 9, tzinfo=timezone.utc)       # 1746515289 in epoch seconds


@pytest.fixture(scope="module")
def server():
    running = start_emulator(EmulatorConfig(relax_bucket_policy=True, clock=ManualClock(AT)))
    try:
        running.client("s3").create_bucket(Bucket=BUCKET)
        yield running
    finally:
        running.running.stop()


def error_of(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_trail_not_found_names_the_trail(server):
    ct = server.cloudtrail("eu-west-1")
    assert error_of(ct.get_trail, Name="nope-trail") == (
        "TrailNotFoundException", "Unknown trail: nope-trail for the user: 123456789012")
    by_arn = "arn:aws:cloudtrail:us-east-2:123456789012:trail/nope-trail"
    assert error_of(ct.get_trail, Name=by_arn) == (
        "TrailNotFoundException", f"Unknown trail: {by_arn} for the user: 123456789012")
    as_arn = ("TrailNotFoundException",
              "Unknown trail: arn:aws:cloudtrail:eu-west-1:123456789012:trail/nope-trail for the user: 123456789012")
    for call in (ct.get_trail_status, ct.delete_trail, ct.start_logging, ct.stop_logging):
        assert error_of(call, Name="nope-trail") == as_arn
    assert error_of(ct.get_event_selectors, TrailName="nope-trail") == as_arn
    assert error_of(ct.get_trail_status, Name=by_arn) == (
        "TrailNotFoundException", f"Unknown trail: {by_arn} for the user: 123456789012")


@pytest.mark.parametrize("kwargs, expected", [
    ({"S3BucketName": BUCKET, "SnsTopicName": "no-such-topic"},
     ("InsufficientSnsTopicPolicyException", "SNS Topic does not exist or the topic policy is incorrect!")),
    ({"S3BucketName": "no-such-bucket-here"},
     ("S3BucketDoesNotExistException", "S3 bucket no-such-bucket-here does not exist!")),
    ({"S3BucketName": BUCKET, "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": False},
     ("InvalidParameterCombinationException", "Multi-Region trail must include global service events.")),
])
def test_create_trail_texts(server, kwargs, expected):
    assert error_of(server.cloudtrail().create_trail, Name="texts-trail", **kwargs) == expected


@pytest.mark.parametrize("name, message", [
    ("ab", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."),
    ("a" * 129, "Trail name too long. Maximum allowed length: 128 characters. "
                "Specified name length: 129 characters."),
    ("-trail", "Trail name must starts with a letter or number."),
    ("trail!", "Trail name must ends with a letter or number."),
    ("my#trail", "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, "
                 "periods (.), hyphens (-), and underscores (_)."),
    ("my..trail", "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_)."),
    ("192.168.1.10", "Trail names must not be formatted as an IP address."),
])
def test_trail_name_texts(server, name, message):
    assert error_of(server.cloudtrail().create_trail, Name=name, S3BucketName=BUCKET) == (
        "InvalidTrailNameException", message)


def test_limits_duplicates_and_selectors(server):
    ct = server.cloudtrail("ap-south-1")
    for i in range(5):
        ct.create_trail(Name=f"limit-{i}", S3BucketName=BUCKET)
    try:
        assert error_of(ct.create_trail, Name="limit-0", S3BucketName=BUCKET) == (
            "TrailAlreadyExistsException", "Trail limit-0 already exists for customer: 123456789012")
        assert error_of(ct.create_trail, Name="limit-5", S3BucketName=BUCKET) == (
            "MaximumNumberOfTrailsExceededException", "User: 123456789012 already has 5 trails in ap-south-1")
        assert error_of(ct.put_event_selectors, TrailName="limit-0", EventSelectors=[{"DataResources": [
            {"Type": "AWS::S3::Object", "Values": ["arn:aws:lambda:us-east-1:123456789012:function:f"]}]}]) == (
            "InvalidEventSelectorsException",
            "Value arn:aws:lambda:us-east-1:123456789012:function:f for DataResources.Values is invalid.")
    finally:
        for i in range(5):
            ct.delete_trail(Name=f"limit-{i}")


def test_tags_across_owners(server):
    ct = server.cloudtrail()
    mine = ct.create_trail(Name="tag-texts", S3BucketName=BUCKET)["TrailARN"]
    try:
        other = "arn:aws:cloudtrail:us-east-1:210987654321:trail/theirs"
        assert error_of(ct.list_tags, ResourceIdList=[mine, other]) == (
            "CloudTrailARNInvalidException", "You cannot have resources belonging to multiple owners")
        assert error_of(ct.list_tags, ResourceIdList=[other]) == (
            "CloudTrailARNInvalidException",
            "AccountID in ARN is wrong, you can only access resources with AccountID 123456789012.")
    finally:
        ct.delete_trail(Name="tag-texts")


def test_the_aws_cli_prints_the_text(server):
    env = {**os.environ, "AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    done = subprocess.run([str(AWS), "cloudtrail", "create-trail", "--name", "cli-trail", "--s3-bucket-name",
                           BUCKET, "--sns-topic-name", "missing-topic"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert ("An error occurred (InsufficientSnsTopicPolicyException) when calling the CreateTrail operation: "
            "SNS Topic does not exist or the topic policy is incorrect!") in done.stderr


def test_lookup_event_time_is_epoch_seconds_on_the_wire(server):
    server.cloudtrail().describe_trails()                       # recorded at AT
    body = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}]}
    answer = requests.post(f"{server.url}/", data=json.dumps(body), timeout=30, headers={
        "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250506/us-east-1/cloudtrail/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    assert answer.status_code == 200
    event = answer.json()["Events"][0]
    assert event["EventTime"] == 1746515289 and isinstance(event["EventTime"], int)
    assert json.loads(event["CloudTrailEvent"])["eventTime"] == "2025-05-06T07:08:09Z"
    looked = server.cloudtrail().lookup_events(LookupAttributes=body["LookupAttributes"])["Events"][0]
    assert looked["EventTime"] == AT                            # botocore reads it as a timestamp
