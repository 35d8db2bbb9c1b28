"""`cloudtrail-emulator validate` of a target that does not exist or holds no trail: exit code 2 and
one line on stderr, no traceback (issue 10), for local paths, the embedded store and S3 endpoints."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures_server import emulator_server, free_port  # noqa: F401  (fixture)

CLI = str(Path(sys.executable).parent / "cloudtrail-emulator")


def validate(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return subprocess.run([CLI, "validate", *args, "--data-dir", str(data)], capture_output=True, text=True,
                          timeout=120, env=env)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("cloudtrail-emulator: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def test_missing_directory(tmp_path):
    err = one_line_error(validate(str(tmp_path / "nowhere"), data=tmp_path / "data"))
    assert f"{tmp_path / 'nowhere'}: no such directory" in err
    assert not (tmp_path / "nowhere").exists()                 # reading creates nothing


def test_a_file_instead_of_a_directory(tmp_path):
    (tmp_path / "file.json.gz").write_bytes(b"x")
    err = one_line_error(validate(str(tmp_path / "file.json.gz"), data=tmp_path / "data"))
    assert "not a directory" in err


@pytest.mark.parametrize("content", [None, "notes.txt", "AWSLogs/readme.txt"])
def test_directory_without_a_trail(tmp_path, content):
    target = tmp_path / "empty"
    target.mkdir()
    if content:
        (target / content).parent.mkdir(parents=True, exist_ok=True)
        (target / content).write_text("not a trail")
    err = one_line_error(validate(str(target), data=tmp_path / "data"))
    assert f"no CloudTrail digests or log files under {target}" in err


def test_missing_bucket_in_the_embedded_store(tmp_path):
    err = one_line_error(validate("s3://no-such-bucket", data=tmp_path / "data"))
    assert "bucket no-such-bucket does not exist in the embedded store" in err
    assert not (tmp_path / "data" / "s3" / "no-such-bucket").exists()


def test_missing_and_empty_bucket_at_an_endpoint(tmp_path, emulator_server):  # noqa: F811
    err = one_line_error(validate("s3://absent-bucket", "--endpoint-url", emulator_server.url, data=tmp_path))
    assert f"bucket absent-bucket does not exist at S3 endpoint {emulator_server.url}" in err
    emulator_server.client("s3").create_bucket(Bucket="empty-trail-bucket")
    err = one_line_error(validate("s3://empty-trail-bucket/logs", "--endpoint-url", emulator_server.url,
                                  data=tmp_path))
    assert "no CloudTrail digests or log files under s3://empty-trail-bucket/logs" in err


def test_unreachable_endpoint(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"                     # nothing listens there
    err = one_line_error(validate("s3://some-bucket", "--endpoint-url", url, data=tmp_path))
    assert f"cannot reach S3 endpoint {url}" in err


def test_filters_that_leave_nothing_are_named(tmp_path):
    out, data = tmp_path / "trail", tmp_path / "data"
    made = subprocess.run([CLI, "generate", "--count", "30", "--start", "2024-05-01", "--end", "2024-05-01T01:00:00Z",
                           "--output", str(out), "--data-dir", str(data)], capture_output=True, timeout=120)
    assert made.returncode == 0, made.stderr
    err = one_line_error(validate(str(out), "--start", "2030-01-01", data=data))
    assert f"no CloudTrail digests or log files from 2030-01-01T00:00:00Z under {out}" in err
