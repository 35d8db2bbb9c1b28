"""Every API call the emulator answers becomes a CloudTrail record: checked through boto3 and LookupEvents."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from cloudtrail_emulator.emulator.config import EmulatorConfig, FixedClock
from cloudtrail_emulator.emulator.pipeline.recorder import user_identity
from cloudtrail_emulator.emulator.services.s3.routing import s3_operation
from fixtures_server import EmulatorServer, start_emulator
from cloudtrail_emulator.schemas import validate_record

BUCKET = "recorded-trail-bucket"


def _records(server: EmulatorServer) -> list[dict]:
    return [json.loads(body) for _, body in server.state.events.since(0, 100_000)]


def _lookup(server: EmulatorServer, name: str, **client_args) -> list[dict]:
    events = server.cloudtrail(**client_args).lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
    return events


@pytest.fixture(scope="module")
def trail(emulator_server) -> dict:
    emulator_server.client("s3").create_bucket(Bucket=BUCKET)
    return emulator_server.cloudtrail().create_trail(Name="recorded", S3BucketName=BUCKET)


def test_create_trail_is_recorded_with_parameters_and_identity(emulator_server, trail):
    [event] = _lookup(emulator_server, "CreateTrail")
    record = json.loads(event["CloudTrailEvent"])
    validate_record(record)
    assert record["requestParameters"] == {"name": "recorded", "s3BucketName": BUCKET}
    assert record["responseElements"]["trailARN"] == trail["TrailARN"]
    assert record["responseElements"]["name"] == "recorded"
    assert record["requestID"] == trail["ResponseMetadata"]["RequestId"]
    assert record["userIdentity"] == user_identity("testing", "123456789012")
    assert record["userIdentity"]["userName"] == "emulator" == event["Username"]
    assert event["AccessKeyId"] == record["userIdentity"]["accessKeyId"]
    assert record["userAgent"].startswith("Boto3/")
    assert record["sourceIPAddress"] == "127.0.0.1"
    assert (record["eventSource"], record["readOnly"], record["managementEvent"], record["eventCategory"]) == \
        ("cloudtrail.amazonaws.com", False, True, "Management")
    assert {"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "recorded"} in event["Resources"]
    assert {"ResourceType": "AWS::S3::Bucket", "ResourceName": BUCKET} in event["Resources"]


def test_reads_have_null_response_elements(emulator_server, trail):
    emulator_server.cloudtrail().describe_trails()
    record = json.loads(_lookup(emulator_server, "DescribeTrails")[0]["CloudTrailEvent"])
    assert record["readOnly"] is True and record["responseElements"] is None


def test_failed_call_carries_error_code_and_message(emulator_server):
    client = emulator_server.cloudtrail()
    with pytest.raises(client.exceptions.TrailNotFoundException):
        client.get_trail(Name="missing-trail")
    record = json.loads(_lookup(emulator_server, "GetTrail")[0]["CloudTrailEvent"])
    validate_record(record)
    assert record["errorCode"] == "TrailNotFoundException"
    assert record["errorMessage"]
    assert record["requestParameters"] == {"name": "missing-trail"}
    assert record["responseElements"] is None


def test_s3_put_object_is_a_data_event_not_in_lookup(emulator_server, trail):
    s3 = emulator_server.client("s3")
    put = s3.put_object(Bucket=BUCKET, Key="dir/file.txt", Body=b"hello")
    assert _lookup(emulator_server, "PutObject") == []
    [record] = [r for r in _records(emulator_server) if r["eventName"] == "PutObject"]
    validate_record(record)
    assert record["managementEvent"] is False and record["eventCategory"] == "Data"
    assert record["requestParameters"]["bucketName"] == BUCKET
    assert record["requestParameters"]["key"] == "dir/file.txt"
    assert record["requestID"] == put["ResponseMetadata"]["RequestId"]
    assert record["resources"] == [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{BUCKET}/dir/file.txt"},
        {"accountId": "123456789012", "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{BUCKET}"}]
    [create] = _lookup(emulator_server, "CreateBucket")
    assert json.loads(create["CloudTrailEvent"])["managementEvent"] is True


def test_s3_error_is_recorded_with_its_code(emulator_server, trail):
    s3 = emulator_server.client("s3")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="absent")
    [record] = [r for r in _records(emulator_server) if r["eventName"] == "GetObject"]
    assert record["errorCode"] == "NoSuchKey" and record["readOnly"] is True


def test_twelve_digit_key_records_in_that_account(emulator_server):
    emulator_server.cloudtrail(access_key="111122223333").list_trails()
    [event] = _lookup(emulator_server, "ListTrails", access_key="111122223333")
    record = json.loads(event["CloudTrailEvent"])
    assert record["recipientAccountId"] == "111122223333"
    assert record["userIdentity"]["arn"] == "arn:aws:iam::111122223333:user/emulator"
    assert all(json.loads(e["CloudTrailEvent"])["recipientAccountId"] == "123456789012"
               for e in _lookup(emulator_server, "ListTrails"))


def test_lookup_events_is_recorded_and_control_calls_are_not(emulator_server):
    before = emulator_server.state.events.max_seq()
    with urllib.request.urlopen(f"{emulator_server.url}/_emulator/health") as response:
        assert response.status == 200
    assert emulator_server.state.events.max_seq() == before
    _lookup(emulator_server, "CreateTrail")
    assert emulator_server.state.events.max_seq() == before + 1
    record = json.loads(_lookup(emulator_server, "LookupEvents")[0]["CloudTrailEvent"])
    assert record["requestParameters"] == {"lookupAttributes": [
        {"attributeKey": "EventName", "attributeValue": "CreateTrail"}]}
    assert record["readOnly"] is True


def test_every_recorded_record_validates(emulator_server, trail):
    records = _records(emulator_server)
    assert len(records) >= 5
    for record in records:
        validate_record(record)


def test_recorded_events_survive_a_restart(tmp_path):
    config = EmulatorConfig(data_dir=tmp_path, relax_bucket_policy=True, seed=5)
    first = start_emulator(config)
    try:
        first.client("s3").create_bucket(Bucket=BUCKET)
        first.cloudtrail().create_trail(Name="durable", S3BucketName=BUCKET)
    finally:
        first.running.stop()
    assert (tmp_path / "state" / "events.sqlite").exists()
    second = start_emulator(config)
    try:
        [event] = _lookup(second, "CreateTrail")
        assert json.loads(event["CloudTrailEvent"])["requestParameters"]["name"] == "durable"
    finally:
        second.running.stop()


@pytest.mark.parametrize("method, path, args, headers, name", [
    ("GET", "/", {}, {}, "ListBuckets"),
    ("PUT", "/b", {}, {}, "CreateBucket"),
    ("GET", "/b", {"list-type": "2"}, {}, "ListObjects"),
    ("PUT", "/b", {"policy": ""}, {}, "PutBucketPolicy"),
    ("GET", "/b", {"location": ""}, {}, "GetBucketLocation"),
    ("POST", "/b", {"delete": ""}, {}, "DeleteObjects"),
    ("PUT", "/b/k", {}, {"x-amz-copy-source": "/b/j"}, "CopyObject"),
    ("POST", "/b/k", {"uploads": ""}, {}, "CreateMultipartUpload"),
    ("PUT", "/b/k", {"uploadId": "u", "partNumber": "1"}, {}, "UploadPart"),
    ("POST", "/b/k", {"uploadId": "u"}, {}, "CompleteMultipartUpload"),
    ("DELETE", "/b/k", {"uploadId": "u"}, {}, "AbortMultipartUpload"),
    ("HEAD", "/b/k", {}, {}, "HeadObject"),
])
def test_s3_operation_names(method, path, args, headers, name):
    bucket, sep, key = path.lstrip("/").partition("/")
    assert s3_operation(method, bucket, key if sep and key else None, args, headers) == name


# -- the record is what the handler answered ---------------------------------------------------------

def _only(server: EmulatorServer, name: str, answer: dict | None = None) -> dict:
    """The one record of `name` (of the call answered with `answer`, when given)."""
    request_id = None if answer is None else answer["ResponseMetadata"]["RequestId"]
    [record] = [r for r in _records(server)
                if r["eventName"] == name and request_id in (None, r["requestID"])]
    return record


@pytest.fixture(scope="module")
def dated_server() -> Iterator[EmulatorServer]:
    """An emulator whose clock stands at 2024-11-05: CloudTrail wrote eventVersion 1.10 then, S3 1.11."""
    server = start_emulator(EmulatorConfig(clock=FixedClock(datetime(2024, 11, 5, 12, tzinfo=timezone.utc)),
                                           relax_bucket_policy=True))
    try:
        yield server
    finally:
        server.running.stop()


def test_s3_get_object_is_a_data_read_with_the_answered_request_id(dated_server):
    s3 = dated_server.client("s3")
    s3.create_bucket(Bucket="dated-bucket")
    s3.put_object(Bucket="dated-bucket", Key="a/b.txt", Body=b"12345")
    got = s3.get_object(Bucket="dated-bucket", Key="a/b.txt")
    assert got["Body"].read() == b"12345"
    record = _only(dated_server, "GetObject")
    validate_record(record)
    assert (record["readOnly"], record["managementEvent"], record["eventCategory"]) == (True, False, "Data")
    assert record["eventVersion"] == "1.11"
    assert record["eventTime"] == "2024-11-05T12:00:00Z"
    assert record["requestID"] == got["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert record["additionalEventData"]["bytesTransferredOut"] == 5
    assert record["responseElements"] is None and "errorCode" not in record
    create = _only(dated_server, "CreateBucket")
    assert (create["readOnly"], create["managementEvent"]) == (False, True)


def test_create_trail_is_a_management_write_with_cloudtrails_event_version(dated_server):
    dated_server.client("s3").create_bucket(Bucket="dated-trail-bucket")
    created = dated_server.cloudtrail().create_trail(Name="dated", S3BucketName="dated-trail-bucket")
    record = _only(dated_server, "CreateTrail")
    validate_record(record)
    assert record["eventVersion"] == "1.10"   # cloudtrail 1.10 since 2024-07-31 (Stratus cloudtrail-stop log)
    assert (record["readOnly"], record["managementEvent"], record["eventCategory"]) == (False, True, "Management")
    assert record["requestID"] == created["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert record["responseElements"]["trailARN"] == created["TrailARN"]


def test_event_version_follows_the_date_of_the_call(tmp_path):
    server = start_emulator(EmulatorConfig(clock=FixedClock(datetime(2022, 6, 1, tzinfo=timezone.utc))))
    try:
        server.cloudtrail().list_trails()
        server.client("s3").list_buckets()
        assert _only(server, "ListTrails")["eventVersion"] == "1.08"
        assert _only(server, "ListBuckets")["eventVersion"] == "1.08"
    finally:
        server.running.stop()


@pytest.mark.parametrize("service, call, name", [
    ("cloudtrail", lambda c: c.get_trail(Name="no-such-trail"), "GetTrail"),
    ("s3", lambda c: c.get_bucket_policy(Bucket="no-such-bucket-here"), "GetBucketPolicy"),
    ("s3", lambda c: c.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x"), "PutObject"),
    ("sns", lambda c: c.get_topic_attributes(TopicArn="arn:aws:sns:us-east-1:123456789012:absent"),
     "GetTopicAttributes"),
    ("sns", lambda c: c.create_topic(Name="bad name!"), "CreateTopic"),
])
def test_error_record_carries_what_the_client_was_answered(dated_server, service, call, name):
    client = dated_server.client(service)
    with pytest.raises(ClientError) as raised:
        call(client)
    answer = raised.value.response
    header = "x-amz-request-id" if service == "s3" else "x-amzn-requestid"
    [record] = [r for r in _records(dated_server)
                if r["eventName"] == name and r["requestID"] == answer["ResponseMetadata"]["HTTPHeaders"][header]]
    validate_record(record)
    assert (record["errorCode"], record["errorMessage"]) == (answer["Error"]["Code"], answer["Error"]["Message"])
    assert record["responseElements"] is None


def test_sns_call_is_recorded_with_its_parsed_parameters(dated_server):
    sns = dated_server.client("sns")
    created = sns.create_topic(Name="recorded-topic", Attributes={"DisplayName": "Shown"})
    record = _only(dated_server, "CreateTopic", created)
    validate_record(record)
    assert record["eventSource"] == "sns.amazonaws.com" and record["eventVersion"] == "1.08"
    assert record["requestParameters"]["name"] == "recorded-topic"
    assert record["responseElements"] == {"topicArn": created["TopicArn"]}
    assert record["requestID"] == created["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def test_unknown_operations_and_control_calls_are_not_recorded(dated_server):
    before = dated_server.state.events.max_seq()
    request = urllib.request.Request(f"{dated_server.url}/", data=b"{}", method="POST", headers={
        "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.MakeCoffee",
        "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)
    assert raised.value.code == 400
    assert dated_server.state.events.max_seq() == before
