"""Live delivery, seeded history and the control API, over HTTP against a running emulator.

Files are checked the way outside tools read them: gunzip, parse, verify each digest's RSA signature
with `cryptography` against the key ListPublicKeys returns, following FORMATS.md.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from cloudtrail_emulator.emulator.config import EmulatorConfig, ManualClock
from fixtures_server import EmulatorServer, start_emulator

BUCKET = "trail-bucket"
ACCOUNT = "123456789012"
BEGIN = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)     # a ManualClock's start


def cloudtrail_policy(bucket: str, owner: str) -> str:
    """The bucket policy AWS documents for CloudTrail (owner: account id or organization id)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{owner}/*"},
    ]})


def start(data_dir: Path, **options) -> EmulatorServer:
    options.setdefault("digest_interval", 3600)
    # no seed: a seeded recorder restarts its eventID sequence, and the index drops repeated IDs
    return start_emulator(EmulatorConfig(data_dir=data_dir, **options))


def make_trail(server: EmulatorServer, name: str = "live", organization: bool = False,
               bucket: str = BUCKET) -> str:
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)
    owner = server.config.organization if organization else ACCOUNT
    s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket, owner))
    ct = server.cloudtrail()
    arn = ct.create_trail(Name=name, S3BucketName=bucket, EnableLogFileValidation=True,
                          IsOrganizationTrail=organization)["TrailARN"]
    ct.start_logging(Name=name)
    return arn


def control(server: EmulatorServer, op: str, body=None) -> requests.Response:
    return requests.post(f"{server.url}/_emulator/{op}", json=body, timeout=60)


def objects(server: EmulatorServer, kind: str, bucket: str = BUCKET) -> dict[str, bytes]:
    """Every object of a kind ("CloudTrail" or "CloudTrail-Digest") fetched over the S3 endpoint."""
    s3 = server.client("s3")
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", []) if f"/{kind}/" in o["Key"]]
    return {k: s3.get_object(Bucket=bucket, Key=k) for k in keys}


def digests(server: EmulatorServer, bucket: str = BUCKET) -> list[tuple[str, dict, dict]]:
    """(key, digest JSON, S3 metadata) in end-time order; signature checked against ListPublicKeys."""
    keys = {k["Fingerprint"]: k["Value"] for k in server.cloudtrail().list_public_keys()["PublicKeyList"]}
    out = []
    for key, obj in objects(server, "CloudTrail-Digest", bucket).items():
        raw = gzip.decompress(obj["Body"].read())
        data = json.loads(raw)
        meta = obj["Metadata"]
        public = serialization.load_der_public_key(keys[data["digestPublicKeyFingerprint"]])  # PKCS#1 DER
        message = "\n".join([data["digestEndTime"], f"{bucket}/{key}", hashlib.sha256(raw).hexdigest(),
                             data["previousDigestSignature"] or "null"]).encode()
        public.verify(bytes.fromhex(meta["signature"]), message, padding.PKCS1v15(), hashes.SHA256())
        out.append((key, data, {"sha": hashlib.sha256(raw).hexdigest(), **meta}))
    return sorted(out, key=lambda d: d[1]["digestEndTime"])


def assert_chained(chain: list[tuple[str, dict, dict]]) -> None:
    """Each digest starts where the previous ended and names its key, hash and signature."""
    for (prev_key, prev, prev_meta), (_, cur, _) in zip(chain, chain[1:]):
        assert cur["digestStartTime"] == prev["digestEndTime"]
        assert cur["previousDigestS3Object"] == prev_key
        assert cur["previousDigestHashValue"] == prev_meta["sha"]
        assert cur["previousDigestSignature"] == prev_meta["signature"]


def log_records(server: EmulatorServer, bucket: str = BUCKET) -> dict[str, list[dict]]:
    return {k: json.loads(gzip.decompress(o["Body"].read()))["Records"]
            for k, o in objects(server, "CloudTrail", bucket).items()}


def test_live_delivery_writes_selected_records_and_a_chain(tmp_path):
    server = start(tmp_path)
    try:
        arn = make_trail(server)
        ct = server.cloudtrail()
        ct.describe_trails()
        ct.list_trails()
        server.client("s3").put_object(Bucket=BUCKET, Key="data/object.txt", Body=b"x")  # a data event
        assert control(server, "deliver").status_code == 200
        files = log_records(server)
        assert files and all("/AWSLogs/" not in k and k.startswith(f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/")
                             for k in files)
        names = [r["eventName"] for records in files.values() for r in records]
        assert {"StartLogging", "DescribeTrails", "ListTrails"} <= set(names)
        assert "PutObject" not in names            # data events need a data selector
        chain = digests(server)
        assert len(chain) == 1 and chain[0][1]["previousDigestSignature"] is None
        listed = {f["s3Object"]: f["hashValue"] for f in chain[0][1]["logFiles"]}
        assert set(listed) == set(files)
        for key, obj in objects(server, "CloudTrail").items():
            assert hashlib.sha256(gzip.decompress(obj["Body"].read())).hexdigest() == listed[key]

        ct.get_trail_status(Name="live")
        assert control(server, "deliver").status_code == 200
        status = ct.get_trail_status(Name="live")
        assert status["IsLogging"] and status["LatestDeliveryTime"] and status["LatestDigestDeliveryTime"]
        ct.stop_logging(Name="live")
        assert control(server, "deliver").status_code == 200      # applies the stop: final digest
        chain = digests(server)
        assert len(chain) == 3
        assert_chained(chain)
        final_files = [r["eventName"] for f in chain[-1][1]["logFiles"] for r in files.get(f["s3Object"], [])]
        assert "PutObject" not in final_files
        stopped = {r["eventName"] for records in log_records(server).values() for r in records}
        assert "StopLogging" in stopped and "GetTrailStatus" in stopped
        assert arn.endswith(":trail/live")
    finally:
        server.running.stop()


def test_data_selectors_and_injected_records(tmp_path):
    server = start(tmp_path)
    try:
        make_trail(server)
        server.cloudtrail().put_event_selectors(TrailName="live", EventSelectors=[{
            "ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{BUCKET}/data/"]}]}])
        s3 = server.client("s3")
        s3.put_object(Bucket=BUCKET, Key="data/a.txt", Body=b"a")
        s3.put_object(Bucket=BUCKET, Key="other/b.txt", Body=b"b")
        s3.get_object(Bucket=BUCKET, Key="data/a.txt")
        record = json.loads(gzip.decompress(next(iter(
            (Path(__file__).resolve().parents[2] / "shared" / "reference" / "real-cloudtrail")
            .glob("*/*.json.gz"))).read_bytes()))["Records"][0]
        bad = control(server, "records", {"Records": [{**record, "eventTime": "yesterday"}]})
        assert bad.status_code == 400 and "record 0: eventTime" in bad.json()["message"]
        injected = {**record, "eventID": "11111111-2222-4333-8444-555555555555",
                    "recipientAccountId": ACCOUNT, "awsRegion": "us-east-1", "readOnly": False,
                    "managementEvent": False, "eventCategory": "Data", "eventName": "PutObject",
                    "resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{BUCKET}/data/z"}]}
        added = control(server, "records", [injected, injected])
        assert added.status_code == 200 and added.json()["added"] == 1
        control(server, "deliver")
        delivered = [r for records in log_records(server).values() for r in records]
        keys = sorted(r["requestParameters"]["key"] for r in delivered if r["eventID"] != injected["eventID"])
        assert keys == ["data/a.txt"]                     # write-only, data/ prefix only
        assert any(r["eventID"] == injected["eventID"] for r in delivered)
    finally:
        server.running.stop()


def test_restart_continues_the_chain_and_catches_up(tmp_path):
    clock = ManualClock(BEGIN)
    server = start(tmp_path, digest_interval=1, clock=clock)
    try:
        make_trail(server)
        server.cloudtrail().describe_trails()
        control(server, "deliver")
        before = digests(server)
        seen = {k for k, _, _ in before}
    finally:
        server.running.stop()
    # the server is down for a few digest periods; the restart delivers a digest for each of them
    clock.advance(3.5)
    server = start(tmp_path, digest_interval=1, clock=clock)
    try:
        server.cloudtrail().list_trails()
        control(server, "deliver")
        chain = digests(server)
        assert seen < {k for k, _, _ in chain}
        assert len(chain) >= len(before) + 3          # two missed periods at least, then /deliver's
        assert any(not d["logFiles"] for _, d, _ in chain[len(before):-1])
        assert_chained(chain)
        assert chain[0][1]["previousDigestSignature"] is None
        assert all(d["previousDigestSignature"] for _, d, _ in chain[1:])
        names = [r["eventName"] for records in log_records(server).values() for r in records]
        assert names.count("DescribeTrails") == 1 and "ListTrails" in names   # nothing lost or doubled
    finally:
        server.running.stop()


def test_history_then_live_is_one_chain_and_reset_forgets(tmp_path):
    server = start(tmp_path)
    try:
        arn = make_trail(server)
        answer = control(server, "history", {"trail": arn, "days": 0.25, "count": 300, "seed": 7})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["records"] == 300 and body["digests"] >= 6
        looked = server.cloudtrail().lookup_events(MaxResults=50)["Events"]
        assert looked
        server.cloudtrail().describe_trails()
        control(server, "deliver")
        chain = digests(server)
        assert_chained(chain)
        assert chain[0][1]["previousDigestSignature"] is None
        assert all(d["previousDigestSignature"] for _, d, _ in chain[1:])
        assert sum(len(d["logFiles"]) for _, d, _ in chain) == len(log_records(server))
        again = control(server, "history", {"trail": "live", "days": 0.1})
        assert again.status_code == 409
        assert control(server, "history", {"trail": "nope"}).status_code == 404
        assert control(server, "history", {"trail": "live", "days": -1}).status_code == 400

        assert control(server, "reset").json() == {"trails_deleted": 1}
        assert server.cloudtrail().describe_trails()["trailList"] == []
        assert server.state.events.count() <= 1      # only the DescribeTrails just answered
    finally:
        server.running.stop()


def test_scheduler_delivers_on_its_own(tmp_path):
    """The scheduler thread sleeps on the injected clock: advancing it makes it deliver and close."""
    clock = ManualClock(BEGIN)
    server = start(tmp_path, delivery_interval=0.2, digest_interval=1, clock=clock)
    try:
        assert server.state.delivery.wait_for_run(BEGIN, timeout=60)   # the run at start-up
        make_trail(server)
        server.cloudtrail().describe_trails()
        assert not digests(server) and not log_records(server)     # the clock stands: nothing is due
        for _ in range(2):
            assert server.state.delivery.wait_for_run(clock.advance(1), timeout=60)
        chain = digests(server)
        assert len(chain) >= 2 and log_records(server)
        assert_chained(chain)
    finally:
        server.running.stop()


@pytest.mark.parametrize("when", [datetime(2024, 1, 1, tzinfo=timezone.utc)])
def test_selector_rules(when):
    from cloudtrail_emulator.emulator.services.cloudtrail.models import Trail
    from cloudtrail_emulator.emulator.pipeline.selection import trail_selects as selects
    from cloudtrail_emulator.emulator.pipeline.trail_snapshot import TrailSnapshot

    def trail_selects(trail: Trail, record: dict) -> bool:
        return selects(TrailSnapshot.of(trail, "o-exampleorg1"), record)

    trail = Trail(name="t", account_id=ACCOUNT, home_region="us-east-1", s3_bucket=BUCKET)
    base = {"recipientAccountId": ACCOUNT, "awsRegion": "us-east-1", "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances", "readOnly": False, "managementEvent": True,
            "eventCategory": "Management", "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert trail_selects(trail, base)
    assert not trail_selects(trail, {**base, "awsRegion": "eu-west-1"})
    assert not trail_selects(trail, {**base, "recipientAccountId": "210987654321"})
    org = Trail(name="o", account_id=ACCOUNT, home_region="us-east-1", s3_bucket=BUCKET,
                is_organization=True, is_multi_region=True)
    assert trail_selects(org, {**base, "awsRegion": "eu-west-1", "recipientAccountId": "210987654321"})
    trail.advanced_event_selectors = [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "eventName", "NotStartsWith": ["Describe", "List"]}]}]
    assert trail_selects(trail, base)
    assert not trail_selects(trail, {**base, "eventName": "DescribeInstances"})
    trail.advanced_event_selectors = [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{BUCKET}/logs/"]}]}]
    data = {**base, "managementEvent": False, "eventCategory": "Data",
            "resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{BUCKET}/logs/x"}]}
    assert trail_selects(trail, data) and not trail_selects(trail, base)


def test_sns_notification_per_log_file(tmp_path):
    server = start(tmp_path)
    try:
        topic = server.client("sns").create_topic(Name="trail-topic")["TopicArn"]
        make_trail(server)
        ct = server.cloudtrail()
        ct.update_trail(Name="live", SnsTopicName=topic)
        ct.describe_trails()
        control(server, "deliver")
        status = ct.get_trail_status(Name="live")
        assert status.get("LatestNotificationTime") and not status.get("LatestNotificationError")
    finally:
        server.running.stop()


def test_a_start_logging_the_delivery_never_saw_loses_no_event(tmp_path):
    """The process dies after StartLogging was answered but before delivery applied the change: on
    restart delivery starts at StartLogging's position, so the events in between are delivered."""
    server = start(tmp_path, delivery_interval=3600)
    try:
        arn = make_trail(server)
        server.cloudtrail().describe_trails()
        assert server.cloudtrail().get_trail_status(Name=arn).get("LatestDeliveryTime") is None
    finally:
        server.running.stop()
    (tmp_path / "state" / "delivery.json").unlink()      # as if the change had never been applied
    server = start(tmp_path, delivery_interval=3600)
    try:
        control(server, "deliver")
        names = [r["eventName"] for records in log_records(server).values() for r in records]
        assert "StartLogging" in names and "DescribeTrails" in names
    finally:
        server.running.stop()


def test_history_right_after_start_logging_links_to_the_live_chain(tmp_path):
    """History seeded before the scheduler thread applied StartLogging (held off here by holding the
    delivery lock, as a busy machine does by not scheduling it) still ends where the live chain
    starts, and the live chain's first digest names history's last."""
    from cloudtrail_emulator.emulator.control import HistoryRequest, seed_history
    server = start(tmp_path)
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET, ACCOUNT))
        ct = server.cloudtrail()
        arn = ct.create_trail(Name="live", S3BucketName=BUCKET, EnableLogFileValidation=True)["TrailARN"]
        with server.state.delivery.lock:
            ct.start_logging(Name="live")
            summary = seed_history(server.running.app, HistoryRequest(arn, days=0.1, count=50, seed=3))
        assert summary["digests"] >= 2
        ct.describe_trails()
        assert control(server, "deliver").status_code == 200
        chain = digests(server)
        assert_chained(chain)
        assert chain[0][1]["previousDigestSignature"] is None
        assert all(d["previousDigestSignature"] for _, d, _ in chain[1:])
    finally:
        server.running.stop()
