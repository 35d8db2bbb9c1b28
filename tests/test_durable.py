"""Nothing answered that is not recorded, and a server that survives its data dir turning read-only
or full (tests/fixtures_faults.py puts the data dir into those states).

A real `cloudtrail-emulator serve` subprocess on a data dir of its own tmpfs; boto3 and raw HTTP
against it. The ledger of every 2xx-answered call is checked against the delivered log files once
the data dir writes again: each answered call delivered exactly once, one valid digest chain,
`aws cloudtrail validate-logs` passes.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudtrail_emulator.generators.stores import LocalStore
from fixtures_faults import DataDirFaults
from test_crash_safety import (ACCOUNT, BUCKET, REGION, TRAIL, ServerProcess, assert_one_chain, delivered,
                               make_trail, utc_now, validate_logs)

NO_RETRIES = Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"},
                    connect_timeout=2, read_timeout=20)


def client(server: ServerProcess, service: str):
    """A boto3 client that does not retry: each 5xx is seen as it was answered."""
    return boto3.session.Session().client(service, endpoint_url=server.url, region_name=REGION,
                                          aws_access_key_id=ACCOUNT, aws_secret_access_key="testing",
                                          config=NO_RETRIES)


def wait_until(condition, what: str, timeout: float = 60):
    """The condition's value once truthy; generous deadline (it is a condition, not a delay)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)
    return value


def assert_each_delivered_once(data_dir: Path, answered: list[str]) -> list[dict]:
    records, digests = delivered(LocalStore(data_dir / "s3"), BUCKET)
    request_ids = Counter(r.get("requestID") for r in records)
    missing = [i for i in answered if request_ids[i] == 0]
    twice = [i for i in answered if request_ids[i] > 1]
    assert not missing, f"{len(missing)} of {len(answered)} 2xx-answered calls not delivered"
    assert not twice, f"{len(twice)} answered calls delivered more than once"
    assert len({r["eventID"] for r in records}) == len(records), "an eventID delivered twice"
    assert_one_chain(digests)
    return records


def start_server(faults: DataDirFaults, tmp_path: Path) -> ServerProcess:
    server = ServerProcess(faults.data_dir, delivery_interval=1, digest_interval=3, log=tmp_path / "server.log")
    server.start()
    return server


def test_full_data_dir_refuses_before_the_action_and_answers_no_unrecorded_2xx(
        data_dir_faults: DataDirFaults, tmp_path: Path) -> None:
    started_at = utc_now()
    server = start_server(data_dir_faults, tmp_path)
    try:
        arn = make_trail(server)
        ct, s3, sns = client(server, "cloudtrail"), client(server, "s3"), client(server, "sns")
        answered = [ct.describe_trails()["ResponseMetadata"]["RequestId"]]
        data_dir_faults.fill()
        refused = None
        for _ in range(5000):      # the WAL may have room for some records: answered and recorded
            try:
                answered.append(ct.describe_trails()["ResponseMetadata"]["RequestId"])
            except ClientError as exc:
                refused = exc.response
                break
        assert refused is not None, "every call answered 2xx on a full disk"
        # the first failure is found writing the record, after the call ran: 500, never 2xx
        assert refused["ResponseMetadata"]["HTTPStatusCode"] == 500, refused
        assert refused["Error"]["Code"] == "InternalFailure", refused
        # known unwritable now: refused before it takes effect, in each protocol's error shape
        with pytest.raises(ClientError) as created:
            ct.create_trail(Name="during-outage", S3BucketName=BUCKET)
        assert created.value.response["Error"]["Code"] == "ServiceUnavailable"
        assert created.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        put = requests.put(f"{server.url}/{BUCKET}/during-outage.txt", data=b"x", timeout=20)
        assert put.status_code == 503 and b"<Code>ServiceUnavailable</Code>" in put.content, put.content
        with pytest.raises(ClientError) as listed:
            sns.list_topics()
        assert listed.value.response["Error"]["Code"] == "ServiceUnavailable"
        retrying = boto3.session.Session().client(      # the SDK's default retries: each attempt refused
            "cloudtrail", endpoint_url=server.url, region_name=REGION, aws_access_key_id=ACCOUNT,
            aws_secret_access_key="testing", config=Config(retries={"mode": "standard"}))
        with pytest.raises(ClientError) as retried:
            retrying.create_trail(Name="retried-during-outage", S3BucketName=BUCKET)
        assert retried.value.response["Error"]["Code"] == "ServiceUnavailable"
        assert retried.value.response["ResponseMetadata"]["RetryAttempts"] == 2
        assert server.proc.poll() is None
        data_dir_faults.free()
        answered.append(ct.describe_trails()["ResponseMetadata"]["RequestId"])
        names = [t["Name"] for t in ct.describe_trails()["trailList"]]
        assert "during-outage" not in names and "retried-during-outage" not in names
        with pytest.raises(ClientError) as missing:
            s3.head_object(Bucket=BUCKET, Key="during-outage.txt")
        assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        answered.append(ct.stop_logging(Name=TRAIL)["ResponseMetadata"]["RequestId"])
        assert server.control("deliver").status_code == 200
        records = assert_each_delivered_once(data_dir_faults.data_dir, answered)
        # the call answered 500 did run: its record, kept while the store could not write, is delivered
        unrecorded = refused["ResponseMetadata"]["RequestId"]
        assert [r["requestID"] for r in records].count(unrecorded) == 1
        validate_logs(server.url, arn, started_at)
    finally:
        server.stop()


def test_read_only_data_dir_shows_latest_delivery_error_then_delivers_everything_once(
        data_dir_faults: DataDirFaults, tmp_path: Path) -> None:
    started_at = utc_now()
    server = start_server(data_dir_faults, tmp_path)
    try:
        arn = make_trail(server)
        ct = client(server, "cloudtrail")
        answered = [ct.describe_trails()["ResponseMetadata"]["RequestId"]]
        # the WAL index lives in heap memory: no shared mapping the kernel could fail with SIGBUS
        assert not (data_dir_faults.data_dir / "state" / "events.sqlite-shm").exists()
        data_dir_faults.read_only()
        for _ in range(5):
            answered.append(ct.describe_trails()["ResponseMetadata"]["RequestId"])
        status = wait_until(lambda: (s := ct.get_trail_status(Name=TRAIL)).get("LatestDeliveryError") and s,
                            "LatestDeliveryError while the data dir is read-only")
        answered.append(status["ResponseMetadata"]["RequestId"])
        assert status["LatestDeliveryError"] == "InternalError"
        assert server.proc.poll() is None
        data_dir_faults.writable()
        status = wait_until(lambda: "LatestDeliveryError" not in (s := ct.get_trail_status(Name=TRAIL)) and s,
                            "delivery resumes once the data dir is writable")
        answered.append(status["ResponseMetadata"]["RequestId"])
        answered.append(ct.stop_logging(Name=TRAIL)["ResponseMetadata"]["RequestId"])
        assert server.control("deliver").status_code == 200
        assert_each_delivered_once(data_dir_faults.data_dir, answered)
        validate_logs(server.url, arn, started_at)
    finally:
        server.stop()


@pytest.mark.parametrize("raw, stored", [
    (b'"lone-\\ud800-surrogate"', "lone-\ufffd-surrogate"),
    (b"123456789012345678901234567890", 1.2345678901234568e29),
], ids=["lone-surrogate", "integer-over-64-bits"])
def test_a_value_orjson_refuses_is_recorded_not_dropped(emulator_server, raw: bytes, stored) -> None:
    """JSON allows "\\ud800" and integers of any length; orjson refuses both, so the record keeps
    the call with U+FFFD or the number as a float: the call is answered in its protocol and recorded,
    never a 500."""
    body = b'{"trailNameList": [' + raw + b']}'
    answer = requests.post(emulator_server.url + "/", data=body, timeout=20, headers={
        "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails",
        "Content-Type": "application/x-amz-json-1.1"})
    assert answer.status_code == 400, answer.text
    request_id = answer.headers["x-amzn-RequestId"]
    events = emulator_server.cloudtrail().lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    mine = [r for r in records if r["requestID"] == request_id]
    assert len(mine) == 1
    assert mine[0]["requestParameters"]["trailNameList"] == [stored]
    assert mine[0]["errorCode"] == answer.json()["__type"]


def test_records_still_unwritten_at_shutdown_are_named_in_the_log(
        data_dir_faults: DataDirFaults, tmp_path: Path) -> None:
    server = start_server(data_dir_faults, tmp_path)
    try:
        make_trail(server)
        ct = client(server, "cloudtrail")
        data_dir_faults.fill()
        refused = None
        for _ in range(5000):
            try:
                ct.describe_trails()
            except ClientError as exc:
                refused = exc.response
                break
        assert refused is not None and refused["Error"]["Code"] == "InternalFailure", refused
    finally:
        server.stop()       # still full: the kept record cannot be written at shutdown either
    log = (tmp_path / "server.log").read_text()
    line = next((x for x in log.splitlines() if "were never written" in x), None)
    assert line is not None, log[-3000:]
    assert "1 record(s) of calls answered 500" in line and refused["ResponseMetadata"]["RequestId"] in line
