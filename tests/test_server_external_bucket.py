"""A trail whose bucket lives on an outside S3-compatible endpoint (moto's server here): CreateTrail
checks that bucket and its policy there, live delivery writes log files and signed digests there, and
`aws cloudtrail validate-logs` accepts them with S3 pointed at that endpoint."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from test_server_delivery import ACCOUNT, cloudtrail_policy, control, start

AWS = Path(sys.executable).parent / "aws"
BUCKET = "outside-trail-logs"


@pytest.fixture
def outside_s3(moto_s3: str):
    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=BUCKET)
    yield s3
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def test_trail_delivers_into_a_bucket_on_an_outside_endpoint(tmp_path, moto_s3, outside_s3):
    server = start(tmp_path, external_buckets={BUCKET: moto_s3})
    try:
        ct = server.cloudtrail()
        with pytest.raises(ct.exceptions.InsufficientS3BucketPolicyException):
            ct.create_trail(Name="outside", S3BucketName=BUCKET, EnableLogFileValidation=True)
        outside_s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET, ACCOUNT))
        arn = ct.create_trail(Name="outside", S3BucketName=BUCKET, EnableLogFileValidation=True)["TrailARN"]
        ct.start_logging(Name="outside")
        ct.describe_trails()
        ct.get_trail_status(Name="outside")
        assert control(server, "deliver").status_code == 200

        keys = [item["Key"] for page in outside_s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
                for item in page.get("Contents", [])]
        logs = [k for k in keys if "/CloudTrail/" in k]
        digests = [k for k in keys if "/CloudTrail-Digest/" in k]
        assert logs and digests
        names = {r["eventName"] for k in logs
                 for r in json.loads(gzip.decompress(outside_s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()))
                 ["Records"]}
        assert {"StartLogging", "DescribeTrails"} <= names
        assert set(outside_s3.head_object(Bucket=BUCKET, Key=digests[0])["Metadata"]) == {
            "signature", "signature-algorithm"}
        assert not server.state.store.bucket_exists(BUCKET) or not list(server.state.store.list(BUCKET))

        began = server.config.clock.now() - timedelta(hours=2)
        env = {**os.environ, "AWS_ENDPOINT_URL_CLOUDTRAIL": server.url, "AWS_ENDPOINT_URL_S3": moto_s3,
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
               "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        done = subprocess.run([str(AWS), "cloudtrail", "validate-logs", "--trail-arn", arn, "--verbose",
                               "--start-time", began.strftime("%Y-%m-%dT%H:%M:%SZ")],
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "INVALID" not in done.stdout + done.stderr
        assert f"{len(digests)}/{len(digests)} digest files valid" in done.stdout
    finally:
        server.running.stop()


def test_an_unreachable_outside_endpoint_is_a_cloudtrail_error_not_a_failure(tmp_path, moto_s3):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    server = start(tmp_path, external_buckets={"far-away": dead})
    try:
        ct = server.cloudtrail()
        with pytest.raises(ct.exceptions.S3BucketDoesNotExistException, match="cannot reach"):
            ct.create_trail(Name="unreachable", S3BucketName="far-away")
    finally:
        server.running.stop()
