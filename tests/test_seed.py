"""`cloudtrail-emulator seed`: a demo organization that `serve` continues and the real
`aws cloudtrail validate-logs` accepts trail by trail; a second seed changes nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
import requests

from cloudtrail_emulator.emulator.cli import main
from cloudtrail_emulator.emulator.config import EmulatorConfig
from cloudtrail_emulator.emulator.server import start_in_thread

AWS = Path(sys.executable).parent / "aws"
MANAGEMENT = "123456789012"


def seed(data_dir: Path, capsys, *extra: str) -> str:
    code = main(["seed", "--data-dir", str(data_dir), "--accounts", "2", "--days", "1", "--count", "400",
                 "--scenario", "discovery-burst", "--scenario", "update-assume-role-policy", *extra])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def stored_objects(data_dir: Path) -> list[str]:
    root = data_dir / "s3"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".ctemu" not in p.parts)


def validate_logs(url: str, arn: str, access_key: str, *extra: str) -> subprocess.CompletedProcess:
    began = datetime.now(timezone.utc) - timedelta(days=2)
    env = {**os.environ, "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": access_key,
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return subprocess.run(
        [str(AWS), "cloudtrail", "validate-logs", "--trail-arn", arn,
         "--start-time", began.strftime("%Y-%m-%dT%H:%M:%SZ"), *extra],
        env=env, capture_output=True, text=True, timeout=120)


def valid_counts(result: subprocess.CompletedProcess) -> tuple[int, int]:
    """(digest files, log files) validate-logs checked; every one of them valid."""
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INVALID" not in result.stdout + result.stderr
    counts = []
    for what in ("digest files valid", "log files valid"):
        line = next(line for line in result.stdout.splitlines() if what in line)
        good, total = (int(x) for x in line.split()[0].split("/"))
        assert good == total
        counts.append(total)
    return counts[0], counts[1]


def test_seed_is_idempotent_and_every_trail_validates_after_serve(tmp_path, capsys):
    first = seed(tmp_path, capsys)
    assert "trails (2 new, 0 already there)" in first
    objects = stored_objects(tmp_path)
    assert any("/CloudTrail-Digest/" in k for k in objects) and any(k.endswith("labels.jsonl") for k in objects)

    second = seed(tmp_path, capsys)
    assert "trails (0 new, 2 already there)" in second
    assert stored_objects(tmp_path) == objects            # nothing written twice, nothing added

    running = start_in_thread(EmulatorConfig(data_dir=tmp_path), "127.0.0.1", 0)
    try:
        trails = boto3.client("cloudtrail", endpoint_url=running.url, region_name="us-east-1",
                              aws_access_key_id=MANAGEMENT, aws_secret_access_key="x").describe_trails()["trailList"]
        org = next(t for t in trails if t["IsOrganizationTrail"])
        assert org["LogFileValidationEnabled"] and org["IsMultiRegionTrail"] and org["SnsTopicARN"]
        manifest = json.loads((tmp_path / "state" / "seed.json").read_text())
        member_arn = next(a for a in manifest["trails"] if a != org["TrailARN"])
        member = member_arn.split(":")[4]
        assert requests.post(f"{running.url}/_emulator/deliver", timeout=60).status_code == 200

        history = manifest["history"]
        for account in (MANAGEMENT, member):
            digests, logs = valid_counts(validate_logs(running.url, org["TrailARN"], MANAGEMENT,
                                                       "--account-id", account))
            assert digests > 24 and logs > 10
        digests, logs = valid_counts(validate_logs(running.url, member_arn, member))
        assert digests > history[member_arn]["digests"] and logs >= history[member_arn]["log_files"]
    finally:
        running.stop()


def test_seed_history_goes_to_an_external_bucket(tmp_path, moto_s3, capsys):
    boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1").create_bucket(Bucket="demo-logs")
    extra = ("--endpoint-url", moto_s3, "--bucket", "demo-logs", "--count", "200")
    out = seed(tmp_path, capsys, *extra)
    assert "s3://demo-logs/org-trail" in out and "2 new" in out
    assert not (tmp_path / "state").exists()                 # no emulator state for an external store
    assert main(["validate", "s3://demo-logs/org-trail", "--endpoint-url", moto_s3,
                 "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert "0 new, 2 already there" in seed(tmp_path, capsys, *extra)


@pytest.mark.parametrize("args, message", [
    (["--accounts", "0"], "--accounts must be at least 1"),
    (["--days", "91"], "--days must be more than 0 and at most 90"),
    (["--scenario", "no-such-scenario"], "no-such-scenario"),
    (["--endpoint-url", "http://127.0.0.1:9"], "--endpoint-url needs --bucket"),
])
def test_bad_options_fail_in_one_line(tmp_path, capsys, args, message):
    assert main(["seed", "--data-dir", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "state").exists() and not (tmp_path / "s3").exists()   # checked before anything is made
