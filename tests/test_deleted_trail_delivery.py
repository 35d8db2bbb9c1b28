"""A deleted trail's pending events are delivered by the settings it last had (issue 9, typed state).

A multi-region trail with management events and S3 object-level data events for two buckets; calls
in us-east-1 and eu-west-1, one of them on an S3 bucket the selectors do not name; DeleteTrail; then
delivery. Every selected call must be in a log file of its own region, listed in that region's digest
chain, and nothing else. Checked over HTTP with boto3, by reading the gzip files back, by verifying
the digests the way FORMATS.md describes (independent of the emulator's code), and with the venv's
`aws cloudtrail validate-logs` for each region's chain.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from cloudtrail_emulator.emulator.config import ManualClock
from fixtures_server import EmulatorServer
from test_server_delivery import ACCOUNT, cloudtrail_policy, control, start

AWS = Path(sys.executable).parent / "aws"
TRAIL = "every-region"
LOG_BUCKET = "trail-logs"
EAST, WEST = "us-east-1", "eu-west-1"
DATA = {EAST: "data-east", WEST: "data-west"}     # object-level data events selected
UNSELECTED = "data-unselected"                    # in eu-west-1; its object calls must not be delivered
BEGIN = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)


def request_id(response: dict) -> str:
    return response["ResponseMetadata"]["RequestId"]


def make_calls(server: EmulatorServer, clock: ManualClock) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """Management and S3 object calls in both regions: ({requestID: (eventName, region)} of the calls
    the trail selects, {requestIDs} of the calls it must not deliver)."""
    selected: dict[str, tuple[str, str]] = {}
    unselected: set[str] = set()
    for region in (EAST, WEST):
        clock.advance(30)
        ct, s3 = server.cloudtrail(region), server.client("s3", region)
        selected[request_id(ct.describe_trails())] = ("DescribeTrails", region)
        selected[request_id(ct.list_trails())] = ("ListTrails", region)
        bucket = DATA[region]
        put = s3.put_object(Bucket=bucket, Key=f"in/{region}.txt", Body=region.encode())
        selected[request_id(put)] = ("PutObject", region)
        got = s3.get_object(Bucket=bucket, Key=f"in/{region}.txt")
        got["Body"].read()
        selected[request_id(got)] = ("GetObject", region)
    west = server.client("s3", WEST)
    unselected.add(request_id(west.put_object(Bucket=UNSELECTED, Key="out/x.txt", Body=b"x")))
    unselected.add(request_id(west.get_object(Bucket=UNSELECTED, Key="out/x.txt")))
    return selected, unselected


def read_bucket(server: EmulatorServer) -> tuple[dict[str, bytes], dict[str, tuple[bytes, dict]]]:
    """({log file key: uncompressed bytes}, {digest key: (uncompressed bytes, S3 metadata)}) over S3."""
    s3 = server.client("s3")
    logs, digests = {}, {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=LOG_BUCKET):
        for item in page.get("Contents", []):
            obj = s3.get_object(Bucket=LOG_BUCKET, Key=item["Key"])
            raw = gzip.decompress(obj["Body"].read())
            if "/CloudTrail-Digest/" in item["Key"]:
                digests[item["Key"]] = (raw, obj["Metadata"])
            elif "/CloudTrail/" in item["Key"]:
                logs[item["Key"]] = raw
    return logs, digests


def key_region(key: str) -> str:
    """The region folder of `AWSLogs/<account>/<CloudTrail|CloudTrail-Digest>/<region>/...`."""
    parts = key.split("/")
    return parts[parts.index("AWSLogs") + 3]


def check_digests(server: EmulatorServer, digests: dict[str, tuple[bytes, dict]],
                  logs: dict[str, bytes]) -> dict[str, list[dict]]:
    """FORMATS.md §2 by hand: each digest's RSA signature against its region's ListPublicKeys, each
    listed log file's SHA-256, each chain linked. {region: digests in end-time order}."""
    chains: dict[str, list[dict]] = {}
    for key, (raw, meta) in digests.items():
        data = json.loads(raw)
        region = key_region(key)
        keys = server.cloudtrail(region).list_public_keys(
            StartTime=BEGIN - timedelta(hours=1), EndTime=BEGIN + timedelta(hours=3))["PublicKeyList"]
        public = {k["Fingerprint"]: k["Value"] for k in keys}[data["digestPublicKeyFingerprint"]]
        message = "\n".join([data["digestEndTime"], f"{LOG_BUCKET}/{key}", hashlib.sha256(raw).hexdigest(),
                             data["previousDigestSignature"] or "null"]).encode()
        serialization.load_der_public_key(public).verify(
            bytes.fromhex(meta["signature"]), message, padding.PKCS1v15(), hashes.SHA256())
        assert data["digestS3Object"] == key and key.split("_")[-3:-1] == [TRAIL, EAST]
        for listed in data["logFiles"]:
            assert key_region(listed["s3Object"]) == region, (key, listed["s3Object"])
            assert listed["hashValue"] == hashlib.sha256(logs[listed["s3Object"]]).hexdigest()
        chains.setdefault(region, []).append({**data, "_sha": hashlib.sha256(raw).hexdigest(),
                                              "_signature": meta["signature"]})
    for chain in chains.values():
        chain.sort(key=lambda d: d["digestEndTime"])
        assert chain[0]["previousDigestSignature"] is None
        for prev, cur in zip(chain, chain[1:]):
            assert cur["digestStartTime"] == prev["digestEndTime"]
            assert cur["previousDigestHashValue"] == prev["_sha"]
            assert cur["previousDigestSignature"] == prev["_signature"]
    return chains


def validate_logs(server: EmulatorServer, arn: str, region: str) -> str:
    """`aws cloudtrail validate-logs` on one region's chain. The trail is deleted, so DescribeTrails
    cannot name its bucket: `--s3-bucket` is the CLI's option for that (it then reads the trail's name
    and home region from the ARN). The chain it walks is that of `--region` (without the option, the
    home region's, whatever AWS_DEFAULT_REGION says)."""
    env = {**os.environ, "AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": region,
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    result = subprocess.run(
        [str(AWS), "cloudtrail", "validate-logs", "--trail-arn", arn, "--s3-bucket", LOG_BUCKET, "--region", region, "--verbose",
         "--start-time", (BEGIN - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "--end-time", (BEGIN + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")],
        env=env, capture_output=True, text=True, timeout=120)
    out = result.stdout + result.stderr
    assert result.returncode == 0 and "INVALID" not in out, out
    return out


def make_trail(server: EmulatorServer) -> tuple[str, str]:
    """The log bucket, the data buckets, and the multi-region trail with its data selectors, logging:
    (trail ARN, StartLogging's requestID)."""
    east = server.client("s3", EAST)
    east.create_bucket(Bucket=LOG_BUCKET)
    east.put_bucket_policy(Bucket=LOG_BUCKET, Policy=cloudtrail_policy(LOG_BUCKET, ACCOUNT))
    east.create_bucket(Bucket=DATA[EAST])
    for bucket in (DATA[WEST], UNSELECTED):
        server.client("s3", WEST).create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": WEST})
    ct = server.cloudtrail(EAST)
    arn = ct.create_trail(Name=TRAIL, S3BucketName=LOG_BUCKET, IsMultiRegionTrail=True,
                          EnableLogFileValidation=True)["TrailARN"]
    ct.put_event_selectors(TrailName=TRAIL, EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object",
                           "Values": [f"arn:aws:s3:::{DATA[EAST]}/", f"arn:aws:s3:::{DATA[WEST]}/"]}]}])
    return arn, request_id(ct.start_logging(Name=TRAIL))


def delivered_calls(server: EmulatorServer) -> dict[str, tuple[str, str]]:
    """{requestID: (eventName, awsRegion)} of every delivered record, each in its region's files once."""
    logs, _ = read_bucket(server)
    records = [(key, r) for key, raw in logs.items() for r in json.loads(raw)["Records"]]
    assert all(key_region(key) == r["awsRegion"] for key, r in records)
    assert all(n == 1 for n in Counter(r["eventID"] for _, r in records).values())
    return {r["requestID"]: (r["eventName"], r["awsRegion"]) for _, r in records}


def test_deleted_multi_region_trail_delivers_its_pending_events_by_its_last_selectors(tmp_path):
    clock = ManualClock(BEGIN)
    server = start(tmp_path, clock=clock)
    try:
        arn, started = make_trail(server)
        selected = {started: ("StartLogging", EAST)}
        calls, unselected = make_calls(server, clock)
        selected.update(calls)
        clock.advance(30)
        ct = server.cloudtrail(EAST)
        selected[request_id(ct.delete_trail(Name=TRAIL))] = ("DeleteTrail", EAST)
        assert ct.describe_trails()["trailList"] == []

        assert control(server, "deliver").status_code == 200     # applies the deletion
        logs, digests = read_bucket(server)
        records = [(key, r) for key, raw in logs.items() for r in json.loads(raw)["Records"]]
        assert not any(r["requestID"] in unselected for _, r in records)
        assert all(r["recipientAccountId"] == ACCOUNT for _, r in records)
        assert all(key_region(key) == r["awsRegion"] for key, r in records)   # each in its region's files
        ids = Counter(r["eventID"] for _, r in records)
        assert all(n == 1 for n in ids.values())
        found = {r["requestID"]: (r["eventName"], r["awsRegion"]) for _, r in records}
        assert {i: found.get(i) for i in selected} == selected
        assert {r["eventCategory"] for _, r in records} == {"Management", "Data"}

        chains = check_digests(server, digests, logs)
        assert set(chains) == {EAST, WEST}
        listed = {f["s3Object"] for chain in chains.values() for d in chain for f in d["logFiles"]}
        assert listed == set(logs)                                  # every log file in its region's chain
        for region in (EAST, WEST):
            out = validate_logs(server, arn, region)
            assert f"{len(chains[region])}/{len(chains[region])} digest files valid" in out, out
            region_logs = sum(1 for k in logs if key_region(k) == region)
            assert f"{region_logs}/{region_logs} log files valid" in out, out
    finally:
        server.running.stop()


def test_a_deletion_lost_in_a_crash_is_finished_by_the_saved_snapshot(tmp_path):
    """The process stops after DeleteTrail was answered but before delivery applied it: on restart the
    trail is gone from the model, and its saved snapshot still delivers its pending events."""
    clock = ManualClock(BEGIN)
    server = start(tmp_path, clock=clock)
    try:
        arn, started = make_trail(server)
        assert control(server, "deliver").status_code == 200       # delivery state saved, with its snapshot
        selected, unselected = make_calls(server, clock)
        server.cloudtrail(EAST).delete_trail(Name=TRAIL)
    finally:
        server.running.stop()                  # nothing advanced the clock: the deletion was never applied
    server = start(tmp_path, clock=clock)
    try:
        assert control(server, "deliver").status_code == 200
        found = delivered_calls(server)
        assert {i: found.get(i) for i in selected} == selected and not unselected & set(found)
        _, digests = read_bucket(server)
        assert {key_region(k) for k in digests} == {EAST, WEST}
        clock.advance(60)
        after = server.client("s3", WEST).put_object(Bucket=DATA[WEST], Key="in/after.txt", Body=b"z")
        assert control(server, "deliver").status_code == 200
        assert request_id(after) not in delivered_calls(server)      # the deleted trail logs no more
        assert read_bucket(server)[1].keys() == digests.keys()       # and its chains ended
        for region in (EAST, WEST):
            validate_logs(server, arn, region)
    finally:
        server.running.stop()


def first_format(document: dict) -> dict:
    """A delivery state document as the first format wrote it: no version, per trail `settings`."""
    trails = {}
    for arn, td in document["trails"].items():
        snap = td.pop("snapshot")
        trails[arn] = {**td, "settings": {
            "bucket": snap["bucket"], "prefix": snap["prefix"], "name": snap["name"],
            "home_region": snap["home_region"], "account": snap["account_id"],
            "org_id": snap["organization_id"], "validation": snap["log_file_validation"]}}
    return {"trails": trails}


def test_a_first_format_state_file_is_read_and_takes_the_trails_selectors(tmp_path):
    """A state file of the first format (settings without regions or selectors) after an upgrade:
    the chains continue, and the trail's own regions and data selectors decide what is delivered."""
    clock = ManualClock(BEGIN)
    server = start(tmp_path, clock=clock)
    try:
        arn, _ = make_trail(server)
        assert control(server, "deliver").status_code == 200
        selected, unselected = make_calls(server, clock)
    finally:
        server.running.stop()
    path = tmp_path / "state" / "delivery.json"
    path.write_text(json.dumps(first_format(json.loads(path.read_text()))))
    server = start(tmp_path, clock=clock)
    try:
        assert control(server, "deliver").status_code == 200
        found = delivered_calls(server)
        assert {i: found.get(i) for i in selected} == selected and not unselected & set(found)
        assert json.loads(path.read_text())["version"] == 2
        out = validate_logs(server, arn, EAST)
        assert "No log files were delivered" not in out           # one chain across the upgrade
        validate_logs(server, arn, WEST)
    finally:
        server.running.stop()
