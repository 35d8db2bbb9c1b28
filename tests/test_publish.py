"""`cloudtrail-emulator publish DIR s3://bucket --endpoint-url URL` (issue 10): a trail generated locally,
uploaded with its S3 metadata into a bucket on a loopback emulator, is accepted whole by the venv's
`aws cloudtrail validate-logs`; a destination the digests were not signed for, a copy without its
signatures and a missing bucket are refused in one line before anything is written."""
from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fixtures_server import EmulatorServer, start_emulator

from cloudtrail_emulator.emulator.config import EmulatorConfig

BIN = Path(sys.executable).parent
BUCKET = "published-trail"
ACCOUNT = "123456789012"
RANGE = ("--start", "2024-05-01T00:00:00Z", "--end", "2024-05-01T03:00:00Z")


def env(server: EmulatorServer) -> dict[str, str]:
    return {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_ENDPOINT_URL": server.url}


def cli(server: EmulatorServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "cloudtrail-emulator"), *args], capture_output=True, text=True,
                          timeout=300, env=env(server))


@pytest.fixture
def server(tmp_path):
    # the emulator's data dir holds the keyring generate signs with: its ListPublicKeys serves those keys
    running = start_emulator(EmulatorConfig(data_dir=tmp_path / "state", relax_bucket_policy=True))
    try:
        yield running
    finally:
        running.running.stop()


def generated(server: EmulatorServer, out: Path, *extra: str) -> tuple[list[str], list[str]]:
    done = cli(server, "generate", "--count", "400", *RANGE, "--accounts", ACCOUNT, "--regions", "us-east-1,eu-west-1",
               "--seed", "4", "--output", str(out), "--data-dir", str(server.config.data_dir), *extra)
    assert done.returncode == 0, done.stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    return [f for f in files if "/CloudTrail/" in f], [f for f in files if "/CloudTrail-Digest/" in f]


def test_published_trail_passes_validate_logs(tmp_path, server):
    out = tmp_path / "trail"
    logs, digests = generated(server, out, "--bucket", BUCKET)
    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    done = cli(server, "publish", str(out), f"s3://{BUCKET}", "--endpoint-url", server.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"published {len(logs) + len(digests)} objects ({len(digests)} digests, ")
    listed = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
              for o in page.get("Contents", [])]
    assert sorted(listed) == sorted(logs + digests)
    head = s3.head_object(Bucket=BUCKET, Key=digests[0])
    assert set(head["Metadata"]) == {"signature", "signature-algorithm"}
    assert head["Metadata"]["signature-algorithm"] == "SHA256withRSA"

    cloudtrail = server.cloudtrail()
    arn = cloudtrail.create_trail(Name="management-events", S3BucketName=BUCKET, IsMultiRegionTrail=True,
                                  EnableLogFileValidation=True)["TrailARN"]
    for region in ("us-east-1", "eu-west-1"):          # validate-logs checks the region it runs in
        result = subprocess.run(
            [str(BIN / "aws"), "cloudtrail", "validate-logs", "--trail-arn", arn, "--verbose", "--region", region,
             "--start-time", "2024-05-01T00:00:00Z", "--end-time", "2024-05-01T04:00:00Z"],
            env=env(server), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "INVALID" not in result.stdout + result.stderr
        in_region = [d for d in digests if f"/CloudTrail-Digest/{region}/" in d]
        logs_in_region = [f for f in logs if f"/CloudTrail/{region}/" in f]
        assert len(in_region) >= 4 and logs_in_region
        assert f"{len(in_region)}/{len(in_region)} digest files valid" in result.stdout
        assert f"{len(logs_in_region)}/{len(logs_in_region)} log files valid" in result.stdout


class RecordingS3(http.server.BaseHTTPRequestHandler):
    """A loopback stand-in for an S3 endpoint that answers HeadBucket and PutObject with 200 and
    records each PUT's path and headers: what publish sends on the wire."""

    protocol_version = "HTTP/1.1"
    puts: list[tuple[str, dict[str, str]]] = []

    def _answer(self, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer()

    def do_PUT(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.puts.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        self._answer({"ETag": f'"{hashlib.md5(body).hexdigest()}"'})

    def log_message(self, *args) -> None:
        pass


def test_publish_sends_cloudtrails_content_headers_and_digests_last(tmp_path, server):
    out = tmp_path / "trail"
    logs, digests = generated(server, out, "--bucket", BUCKET)
    recorder = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingS3)
    thread = threading.Thread(target=recorder.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{recorder.server_address[1]}"
        done = cli(server, "publish", str(out), f"s3://{BUCKET}", "--endpoint-url", url, "--workers", "3")
        assert done.returncode == 0, done.stderr
    finally:
        recorder.shutdown()
        recorder.server_close()
    puts = RecordingS3.puts
    assert sorted(path for path, _ in puts) == sorted(f"/{BUCKET}/{key}" for key in logs + digests)
    for path, headers in puts:
        assert headers["content-type"] == "application/json" and headers["content-encoding"] == "gzip", path
        if "/CloudTrail-Digest/" in path:
            assert headers["x-amz-meta-signature-algorithm"] == "SHA256withRSA"
            assert len(headers["x-amz-meta-signature"]) == 512         # hex of an RSA-2048 signature
        else:
            assert not any(name.startswith("x-amz-meta-") for name in headers)
    kinds = ["digest" if "/CloudTrail-Digest/" in path else "log" for path, _ in puts]
    assert kinds == ["log"] * len(logs) + ["digest"] * len(digests)


def test_destination_the_digests_were_not_signed_for_is_refused(tmp_path, server):
    out = tmp_path / "trail"
    generated(server, out)                                       # signed for cloudtrail-emulator-logs
    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    done = cli(server, "publish", str(out), f"s3://{BUCKET}", "--endpoint-url", server.url)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "the digests were signed for s3://cloudtrail-emulator-logs (e.g. AWSLogs/" in done.stderr
    assert f"not s3://{BUCKET}, and validate-logs rejects a moved digest" in done.stderr
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)        # nothing written


def test_copy_without_signatures_and_missing_bucket_are_refused(tmp_path, server):
    out = tmp_path / "trail"
    generated(server, out, "--bucket", BUCKET)
    done = cli(server, "publish", str(out), f"s3://{BUCKET}", "--endpoint-url", server.url)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"bucket {BUCKET} does not exist at S3 endpoint {server.url}" in done.stderr

    shutil.copytree(out, tmp_path / "bare")                       # without .trail.ctemu beside it
    server.client("s3").create_bucket(Bucket=BUCKET)
    done = cli(server, "publish", str(tmp_path / "bare"), f"s3://{BUCKET}", "--endpoint-url", server.url)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "has no signature or signature-algorithm metadata in the source" in done.stderr


def test_publish_to_a_directory_copies_with_metadata(tmp_path, server):
    out = tmp_path / "trail"
    logs, digests = generated(server, out)
    done = cli(server, "publish", str(out), str(tmp_path / "copy"), "--data-dir", str(server.config.data_dir))
    assert done.returncode == 0, done.stderr
    valid = cli(server, "validate", str(tmp_path / "copy"), "--data-dir", str(server.config.data_dir))
    assert valid.returncode == 0, valid.stdout
    assert f"{len(digests)}/{len(digests)} digest files valid" in valid.stdout
