"""The real AWS SDK for JavaScript v3 (tests/js, installed by `make test` with `npm ci`) against a
loopback server: node scripts as subprocesses, their JSON output checked here.

The SDK sends the short `X-Amz-Target` (`CloudTrail_20131101.<Operation>`); every call below failed
with UnknownOperationException before the emulator accepted that form.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from fixtures_server import start_emulator

from cloudtrail_emulator.emulator.config import AccessKey, EmulatorConfig

JS = Path(__file__).parent / "js"
NODE_TIMEOUT = 120


def node(server, script: str, *args: str, access_key: str = "testing") -> dict:
    """Run `tests/js/<script>` against `server`; its one JSON document."""
    binary = shutil.which("node")
    if binary is None or not (JS / "node_modules" / "@aws-sdk" / "client-cloudtrail").is_dir():
        pytest.fail("node and tests/js/node_modules are needed: run `make test` (it runs `npm ci` in tests/js)")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": "testing"}
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION"):
        env.pop(name, None)
    done = subprocess.run([binary, str(JS / script), server.url, *args], env=env, capture_output=True,
                          text=True, timeout=NODE_TIMEOUT, cwd=JS)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_trail_crud_selectors_and_public_keys(emulator_server):
    out = node(emulator_server, "trail_crud.mjs", "js-trail", "js-trail-bucket")
    arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/js-trail"
    assert out["created"]["TrailARN"] == arn and out["created"]["S3BucketName"] == "js-trail-bucket"
    assert [t["TrailARN"] for t in out["described"]["trailList"]] == [arn]
    assert out["got"]["Trail"]["Name"] == "js-trail" and out["got"]["Trail"]["IsMultiRegionTrail"] is False
    assert {"TrailARN": arn, "Name": "js-trail", "HomeRegion": "us-east-1"} in out["listed"]["Trails"]
    assert out["updated"]["LogFileValidationEnabled"] is True and out["updated"]["IsMultiRegionTrail"] is True
    assert out["statusLogging"]["IsLogging"] is True and out["statusLogging"]["StartLoggingTime"]
    assert out["statusStopped"]["IsLogging"] is False and out["statusStopped"]["StopLoggingTime"]
    basic = out["selectors"]["EventSelectors"]
    assert basic == [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
                      "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::js-trail-bucket/"]}],
                      "ExcludeManagementEventSources": []}]
    advanced = out["advanced"]["AdvancedEventSelectors"]
    assert [s["Name"] for s in advanced] == ["management writes", "s3 objects"]
    assert advanced[1]["FieldSelectors"] == [{"Field": "eventCategory", "Equals": ["Data"]},
                                             {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]
    assert "EventSelectors" not in out["advanced"]
    keys = out["publicKeys"]["PublicKeyList"]
    assert keys and all(len(k["Fingerprint"]) == 32 and k["Value"] for k in keys)
    assert out["afterDelete"]["name"] == "TrailNotFoundException" and out["afterDelete"]["status"] == 400


def test_lookup_events_filter_and_paginator(emulator_server):
    ct = emulator_server.cloudtrail(access_key="210987654321")
    for _ in range(7):
        ct.list_public_keys()
    out = node(emulator_server, "lookup.mjs", "ListPublicKeys", "2", access_key="210987654321")
    pages = out["pages"]
    events = [e for page in pages for e in page]     # LookupEvents shows the caller's account only
    assert len(events) == 7 and len(pages) == 4 and [len(p) for p in pages] == [2, 2, 2, 1]
    assert {e["record"]["recipientAccountId"] for e in events} == {"210987654321"}
    assert len({e["EventId"] for e in events}) == len(events)
    assert {e["EventName"] for e in events} == {"ListPublicKeys"}
    assert {e["EventSource"] for e in events} == {"cloudtrail.amazonaws.com"}
    assert all(e["record"]["eventID"] == e["EventId"] for e in events)
    assert [e["EventTime"] for e in events] == sorted((e["EventTime"] for e in events), reverse=True)
    assert out["firstIsDate"] is True and out["hasNextToken"] is True


def test_a_delivered_log_file_read_through_s3(emulator_server):
    node(emulator_server, "trail_crud.mjs", "js-delivery-probe", "js-delivery-bucket")   # bucket + a trail
    ct = emulator_server.cloudtrail()
    ct.create_trail(Name="js-delivered", S3BucketName="js-delivery-bucket")
    ct.start_logging(Name="js-delivered")
    ct.describe_trails(trailNameList=["js-delivered"])
    answer = requests.post(f"{emulator_server.url}/_emulator/deliver", timeout=60)
    assert answer.status_code == 200, answer.text
    out = node(emulator_server, "read_log.mjs", "js-delivery-bucket")
    assert out["logs"], out["keys"]
    for log in out["logs"]:
        assert log["key"].startswith("AWSLogs/123456789012/CloudTrail/us-east-1/")
        assert log["key"].endswith(".json.gz") and log["records"]
    records = [r for log in out["logs"] for r in log["records"]]
    described = [r for r in records if r["eventName"] == "DescribeTrails"]
    assert len(described) == 1 and described[0]["eventSource"] == "cloudtrail.amazonaws.com"
    assert described[0]["requestParameters"] == {"trailNameList": ["js-delivered"]}
    assert "StartLogging" in {r["eventName"] for r in records}


def test_the_sdks_own_signatures_pass_sigv4_checks():
    """Under `--auth sigv4` (scope, signed `host` and `x-amz-*` headers, S3 payload hashes) the
    JavaScript SDK's signer, a second one beside botocore's, is accepted for CloudTrail and S3 calls,
    and a wrong secret is refused."""
    key = AccessKey("AKIDJSSIGV4TEST00001", "testing", "123456789012")
    server = start_emulator(EmulatorConfig(relax_bucket_policy=True, seed=0, auth="sigv4", access_keys=(key,)))
    try:
        out = node(server, "trail_crud.mjs", "js-signed", "js-signed-bucket", access_key=key.access_key_id)
        assert out["created"]["TrailARN"] == "arn:aws:cloudtrail:us-east-1:123456789012:trail/js-signed"
        assert out["statusLogging"]["IsLogging"] is True
        assert out["afterDelete"]["name"] == "TrailNotFoundException"
        refused = boto3.client("cloudtrail", endpoint_url=server.url, region_name="us-east-1",
                               aws_access_key_id=key.access_key_id, aws_secret_access_key="not-the-secret")
        with pytest.raises(ClientError) as raised:
            refused.describe_trails()
        assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"
    finally:
        server.running.stop()
