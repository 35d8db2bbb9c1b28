"""The real `aws cloudtrail validate-logs` against the emulator: seeded history plus live deliveries,
an organization trail, a restart, and tampered files it must name."""
from __future__ import annotations

import gzip
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from fixtures_server import EmulatorServer
from test_server_delivery import ACCOUNT, BUCKET, control, make_trail, start

AWS = Path(sys.executable).parent / "aws"


def validate_logs(server: EmulatorServer, arn: str, *extra: str) -> subprocess.CompletedProcess:
    began = server.config.clock.now() - timedelta(days=1)
    env = {**os.environ, "AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return subprocess.run(
        [str(AWS), "cloudtrail", "validate-logs", "--trail-arn", arn, "--verbose",
         "--start-time", began.strftime("%Y-%m-%dT%H:%M:%SZ"), *extra],
        env=env, capture_output=True, text=True, timeout=120)


def counts(result: subprocess.CompletedProcess) -> tuple[str, str]:
    """The "N/T digest files valid" and "N/T log files valid" lines."""
    lines = result.stdout.splitlines()
    digest = next(line for line in lines if "digest files valid" in line)
    logs = next(line for line in lines if "log files valid" in line)
    return digest, logs


def all_valid(result: subprocess.CompletedProcess) -> tuple[int, int]:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INVALID" not in result.stdout + result.stderr
    digest, logs = counts(result)
    good, total = (int(x) for x in digest.split()[0].split("/"))
    assert good == total
    good_logs, total_logs = (int(x) for x in logs.split()[0].split("/"))
    assert good_logs == total_logs
    return total, total_logs


def test_history_plus_live_validates_and_tampering_is_named(tmp_path):
    server = start(tmp_path)
    try:
        arn = make_trail(server)
        seeded = control(server, "history", {"trail": arn, "days": 0.2, "count": 200, "seed": 3})
        assert seeded.status_code == 200, seeded.text
        server.cloudtrail().describe_trails()
        control(server, "deliver")
        server.cloudtrail().list_trails()
        control(server, "deliver")
        digests, logs = all_valid(validate_logs(server, arn))
        assert digests >= seeded.json()["digests"] + 2 and logs > seeded.json()["log_files"]

        s3 = server.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        log_key = next(k for k in keys if "/CloudTrail/" in k)
        body = s3.get_object(Bucket=BUCKET, Key=log_key)["Body"].read()
        s3.put_object(Bucket=BUCKET, Key=log_key, Body=gzip.compress(gzip.decompress(body) + b" "))
        broken = validate_logs(server, arn)
        assert broken.returncode == 1
        assert f"Log file\ts3://{BUCKET}/{log_key}\tINVALID: hash value doesn't match" in broken.stderr

        s3.put_object(Bucket=BUCKET, Key=log_key, Body=body)
        digest_key = sorted(k for k in keys if "/CloudTrail-Digest/" in k)[-1]
        obj = s3.get_object(Bucket=BUCKET, Key=digest_key)
        raw = gzip.decompress(obj["Body"].read()).replace(b'"awsAccountId":"', b'"awsAccountId": "')
        s3.put_object(Bucket=BUCKET, Key=digest_key, Body=gzip.compress(raw), Metadata=obj["Metadata"])
        broken = validate_logs(server, arn)
        assert broken.returncode == 1
        assert f"s3://{BUCKET}/{digest_key}\tINVALID: signature verification failed" in broken.stderr
    finally:
        server.running.stop()


def test_organization_trail_validates_per_account(tmp_path):
    server = start(tmp_path)
    member = "210987654321"
    try:
        arn = make_trail(server, "org-trail", organization=True)
        seeded = control(server, "history", {"trail": arn, "days": 0.1, "count": 120, "seed": 5,
                                             "accounts": [member]})
        assert seeded.status_code == 200, seeded.text
        assert seeded.json()["organization_id"] == server.config.organization
        server.cloudtrail(access_key=member).list_trails()       # a live call in the member account
        server.cloudtrail().describe_trails()
        control(server, "deliver")
        for account in (ACCOUNT, member):
            digests, logs = all_valid(validate_logs(server, arn, "--account-id", account))
            assert digests >= 2 and logs >= 2
        keys = [o["Key"] for o in server.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert all(k.startswith(f"AWSLogs/{server.config.organization}/") for k in keys)
    finally:
        server.running.stop()


def test_chain_validates_across_a_restart(tmp_path):
    server = start(tmp_path, digest_interval=60)
    try:
        arn = make_trail(server)
        control(server, "history", {"trail": arn, "days": 0.1, "count": 60, "seed": 9})
        server.cloudtrail().describe_trails()
        control(server, "deliver")
    finally:
        server.running.stop()
    server = start(tmp_path, digest_interval=60)
    try:
        server.cloudtrail().list_trails()
        control(server, "deliver")
        result = validate_logs(server, arn)
        all_valid(result)
        assert "No log files were delivered" not in result.stdout + result.stderr   # one unbroken chain
    finally:
        server.running.stop()
