"""The test author's helpers (issue 10), used as a user would through the installed plugin's fixtures
and `cloudtrail_emulator.emulator.testing`: the record builder, the record reader, the environment
patch."""
from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from jsonschema import Draft202012Validator

from cloudtrail_emulator.emulator.testing import (RecordBuilder, aws_environment, make_record, read_records,
                                                  write_logs)
from cloudtrail_emulator.generators.errors import GeneratorError

REPO = Path(__file__).resolve().parents[1]
AWS = str(Path(sys.executable).parent / "aws")
RECORD_SCHEMA = Draft202012Validator(json.loads((REPO / "schemas" / "record.schema.json").read_text()))
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# CloudTrail's key order (docs/architecture.md, records/): the keys every management call record has
ORDER = ["eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
         "userAgent", "requestParameters", "responseElements", "eventID", "readOnly", "eventType",
         "managementEvent", "recipientAccountId", "eventCategory"]


def in_order(record: dict) -> list[str]:
    return [key for key in record if key in ORDER]


# -- the record builder -----------------------------------------------------------------------------

def test_a_record_from_a_few_fields(cloudtrail_records):
    record = cloudtrail_records("CreateUser", user="alice", event_time="2024-05-01T10:00:00Z")
    assert not list(RECORD_SCHEMA.iter_errors(record))
    assert in_order(record) == ORDER
    assert record["eventSource"] == "iam.amazonaws.com" and record["eventName"] == "CreateUser"
    assert record["eventTime"] == "2024-05-01T10:00:00Z" and record["awsRegion"] == "us-east-1"
    identity = record["userIdentity"]
    assert identity["type"] == "IAMUser" and identity["userName"] == "alice"
    assert identity["arn"] == "arn:aws:iam::123456789012:user/alice" and identity["accountId"] == "123456789012"
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", identity["accessKeyId"])
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", identity["principalId"])
    assert record["recipientAccountId"] == "123456789012" and record["readOnly"] is False
    assert record["managementEvent"] is True and record["eventCategory"] == "Management"
    assert record["eventType"] == "AwsApiCall" and UUID.match(record["eventID"])
    assert "errorCode" not in record and record["responseElements"]["user"]["userName"]
    # the same user calls from the same place with the same key every time
    again = cloudtrail_records("ListUsers", user="alice", event_time="2024-05-01T10:01:00Z")
    assert again["userIdentity"] == identity
    assert again["eventID"] != record["eventID"]


def test_options_errors_overrides_and_global_services(cloudtrail_records):
    failed = cloudtrail_records("DeleteTrail", "cloudtrail.amazonaws.com", error_code="TrailNotFoundException",
                                event_time=datetime(2024, 6, 1, 8, 30, tzinfo=timezone.utc))
    assert failed["errorCode"] == "TrailNotFoundException" and failed["responseElements"] is None
    assert failed["eventTime"] == "2024-06-01T08:30:00Z" and not list(RECORD_SCHEMA.iter_errors(failed))
    ec2 = cloudtrail_records("RunInstances", account_id="210987654321", region="eu-west-1",
                             sourceIPAddress="203.0.113.9")
    assert ec2["eventSource"] == "ec2.amazonaws.com" and ec2["awsRegion"] == "eu-west-1"
    assert ec2["recipientAccountId"] == "210987654321" and ec2["sourceIPAddress"] == "203.0.113.9"
    assert not list(RECORD_SCHEMA.iter_errors(ec2))
    iam = cloudtrail_records("CreateUser", region="eu-west-1")
    assert iam["awsRegion"] == "us-east-1"                      # IAM is logged in us-east-1, as AWS does
    with pytest.raises(GeneratorError, match="'NoSuchCall' is not in the event catalog"):
        cloudtrail_records("NoSuchCall")
    with pytest.raises(GeneratorError, match="account ids are 12 digits"):
        cloudtrail_records("ListUsers", account_id="42")


def test_same_seed_same_records_and_make_record_is_fresh():
    def batch() -> list[dict]:
        build = RecordBuilder(seed=3)
        return [build("GetObject", event_time="2024-05-01T00:00:00Z"), build("AssumeRole"),
                build("ConsoleLogin", event_time="2024-05-01T00:00:05Z")]

    first, second = batch(), batch()
    assert [r["eventID"] for r in first] == [r["eventID"] for r in second]
    assert first[0] == second[0] and first[2] == second[2]
    assert make_record("ListBuckets")["eventID"] != make_record("ListBuckets")["eventID"]


def test_built_records_are_found_by_lookup_and_delivered(cloudtrail_emulator, cloudtrail_records):
    cloudtrail_emulator.create_trail("audit", "audit-logs")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    records = [cloudtrail_records("CreateUser", user="mallory", event_time=now - timedelta(minutes=3)),
               cloudtrail_records("AttachUserPolicy", user="mallory", event_time=now - timedelta(minutes=2))]
    assert cloudtrail_emulator.put_records(records) == 2
    found = cloudtrail_emulator.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "mallory"}])["Events"]
    assert sorted(e["EventId"] for e in found) == sorted(r["eventID"] for r in records)
    cloudtrail_emulator.deliver()
    delivered = {r["eventID"]: r for r in cloudtrail_emulator.read_records("audit-logs")}
    assert all(delivered[r["eventID"]] == r for r in records)


# -- the reader ---------------------------------------------------------------------------------------

def read_by_hand(directory: Path) -> list[dict]:
    """Every record of every log file under the directory, gunzipped here."""
    return [r for path in sorted(directory.rglob("*.json.gz")) if "/CloudTrail/" in path.as_posix()
            for r in json.loads(gzip.decompress(path.read_bytes()))["Records"]]


def test_reading_a_directory_with_filters(tmp_path):
    logs = write_logs(tmp_path / "trail", count=300, seed=2, accounts=2, regions=["us-east-1", "eu-west-1"],
                      start=datetime(2024, 5, 1, tzinfo=timezone.utc), end=datetime(2024, 5, 1, 3, tzinfo=timezone.utc))
    every = read_by_hand(tmp_path / "trail")
    assert len(every) == 300
    key = lambda r: r["eventID"]  # noqa: E731
    assert sorted(read_records(tmp_path / "trail"), key=key) == sorted(every, key=key)
    member = logs.summary.accounts[1]
    assert sorted(map(key, read_records(tmp_path / "trail", account_ids=[member], regions=["eu-west-1"]))) == \
        sorted(r["eventID"] for r in every if r["recipientAccountId"] == member and r["awsRegion"] == "eu-west-1")
    window = list(read_records(str(tmp_path / "trail"), start="2024-05-01T01:00:00Z",
                               end=datetime(2024, 5, 1, 1, 30, tzinfo=timezone.utc)))
    expected = [r for r in every if "2024-05-01T01:00:00Z" <= r["eventTime"] <= "2024-05-01T01:30:00Z"]
    assert window and sorted(map(key, window)) == sorted(map(key, expected))
    with pytest.raises(GeneratorError, match="no such directory"):
        list(read_records(tmp_path / "absent"))


def test_reading_one_trail_of_a_shared_bucket(cloudtrail_emulator):
    cloudtrail_emulator.create_trail_bucket("shared-logs")
    first = cloudtrail_emulator.write_logs("shared-logs", count=60, seed=1, trail_name="first-trail")
    second = cloudtrail_emulator.write_logs("shared-logs", count=40, seed=2, trail_name="second-trail",
                                            start=datetime(2024, 5, 1, 2, tzinfo=timezone.utc))
    ids = lambda records: sorted(r["eventID"] for r in records)  # noqa: E731
    assert ids(cloudtrail_emulator.read_records("shared-logs", trail_name="first-trail")) == ids(first.records())
    assert ids(cloudtrail_emulator.read_records("shared-logs", trail_name="second-trail")) == ids(second.records())
    assert len(ids(cloudtrail_emulator.read_records("shared-logs"))) == 100
    with aws_environment(cloudtrail_emulator.url):
        assert len(list(read_records("s3://shared-logs", endpoint_url=cloudtrail_emulator.url))) == 100
        with pytest.raises(GeneratorError, match="bucket absent-logs does not exist at S3 endpoint"):
            read_records("s3://absent-logs", endpoint_url=cloudtrail_emulator.url)


# -- the environment ----------------------------------------------------------------------------------

def test_code_under_test_reaches_the_emulator(cloudtrail_emulator_env):
    cloudtrail_emulator_env.create_trail("app-trail", "app-trail-logs")
    # code under test that knows nothing of the emulator: default clients, the `aws` CLI
    names = [t["Name"] for t in boto3.client("cloudtrail").describe_trails()["trailList"]]
    assert names == ["app-trail"]
    assert "app-trail-logs" in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
    assert boto3.client("sns").list_topics()["Topics"] == []
    done = subprocess.run([AWS, "cloudtrail", "describe-trails", "--output", "json"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [t["Name"] for t in json.loads(done.stdout)["trailList"]] == ["app-trail"]
    for service in ("CLOUDTRAIL", "S3", "SNS"):
        assert os.environ[f"AWS_ENDPOINT_URL_{service}"] == cloudtrail_emulator_env.url


def test_the_environment_is_restored_exactly(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "developer")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4566")        # e.g. LocalStack's
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real-token")
    monkeypatch.delenv("AWS_ENDPOINT_URL_CLOUDTRAIL", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    before = dict(os.environ)
    with aws_environment("http://127.0.0.1:1", region="eu-west-1") as values:
        assert os.environ["AWS_ENDPOINT_URL_S3"] == os.environ["AWS_ENDPOINT_URL_CLOUDTRAIL"] == "http://127.0.0.1:1"
        assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == "eu-west-1"
        assert "AWS_PROFILE" not in os.environ and "AWS_SESSION_TOKEN" not in os.environ
        assert values["AWS_ACCESS_KEY_ID"] == "testing"
    assert dict(os.environ) == before
    with pytest.raises(RuntimeError), aws_environment("http://127.0.0.1:1"):
        raise RuntimeError("the test fails inside")
    assert dict(os.environ) == before
