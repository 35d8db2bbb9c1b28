"""`serve` stops cleanly on SIGINT (even when started as a background job, which inherits an ignored
SIGINT) and on SIGTERM: requests in flight finish, and a restart on the same data delivers nothing twice."""
from __future__ import annotations

import gzip
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from fixtures_serve import Serve, cli_env, refuses_connections
from fixtures_server import free_port

from cloudtrail_emulator.emulator.testing import cloudtrail_bucket_policy

CLI = str(Path(sys.executable).parent / "cloudtrail-emulator")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_sigint_stops_a_server_whose_parent_ignored_sigint(tmp_path):
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([CLI, "serve", "--port", str(port), "--data-dir", ":memory:"], stdout=log,
                              stderr=subprocess.STDOUT,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):                       # a condition, bounded
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.05)
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 130, (tmp_path / "serve.log").read_text()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()


# -- SIGTERM: the clean stop of `docker stop`, systemd and Kubernetes -----------------------------

ACCOUNT = "123456789012"
BUCKET = "sigterm-logs"


def _client(url: str, service: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))


def _deliver(url: str) -> None:
    with urllib.request.urlopen(urllib.request.Request(f"{url}/_emulator/deliver", method="POST"),
                                timeout=60) as answer:
        assert answer.status == 200


def _delivered(url: str) -> dict[str, list[dict]]:
    """Every delivered log file's key -> its records."""
    s3 = _client(url, "s3")
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for o in page.get("Contents", []) if "/CloudTrail/" in o["Key"] and o["Key"].endswith(".json.gz")]
    return {k: json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()))["Records"]
            for k in keys}


def _start_add_tags(url: str, trail_arn: str) -> tuple[socket.socket, bytes]:
    """An AddTags call whose body is held back: returns once the server answered `100 Continue`, i.e.
    a worker has the request and waits for its body."""
    body = json.dumps({"ResourceId": trail_arn, "TagsList": [{"Key": "in-flight", "Value": "yes"}]}).encode()
    request = AWSRequest(method="POST", url=f"{url}/", data=body, headers={
        "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.AddTags",
        "Content-Type": "application/x-amz-json-1.1", "Expect": "100-continue"})
    SigV4Auth(Credentials("testing", "testing"), "cloudtrail", "us-east-1").add_auth(request)
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = socket.create_connection((host, int(port)), timeout=30)
    head = ["POST / HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in request.headers.items()]
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    assert conn.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    return conn, body


def _finish(conn: socket.socket, body: bytes) -> bytes:
    """Send the held-back body; the whole answer."""
    conn.sendall(body)
    answer = b""
    while chunk := conn.recv(65536):
        answer += chunk
        if b"\r\n\r\n" in answer and answer.split(b"\r\n\r\n", 1)[1].endswith(b"}"):
            break
    conn.close()
    return answer


def test_sigterm_finishes_the_request_in_flight_and_nothing_is_delivered_twice(tmp_path):
    data = tmp_path / "data"
    server = Serve("--port", "0", "--data-dir", str(data)).serving()
    try:
        s3, ct = _client(server.url, "s3"), _client(server.url, "cloudtrail")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_bucket_policy(BUCKET, [ACCOUNT]))
        arn = ct.create_trail(Name="sigterm-trail", S3BucketName=BUCKET, EnableLogFileValidation=True)["TrailARN"]
        ct.start_logging(Name=arn)
        ct.describe_trails()
        _deliver(server.url)
        before = _delivered(server.url)
        assert before
        ct.get_trail_status(Name=arn)            # recorded, not delivered yet when the stop comes
        conn, body = _start_add_tags(server.url, arn)
        server.send(signal.SIGTERM)
        assert refuses_connections(server.port)  # stopping: no new connections...
        assert server.proc.poll() is None        # ...while the request in flight holds the stop
        answer = _finish(conn, body)
    finally:
        code = server.stop(signal.SIGTERM)
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert code == 0, server.stderr
    assert "cloudtrail-emulator: stopped cleanly (SIGTERM)" in server.lines, server.stderr
    assert any(re.search(r"INFO POST cloudtrail AddTags 200 ", line) for line in server.lines), server.stderr

    again = Serve("--port", "0", "--data-dir", str(data)).serving()     # the restart on the same data
    try:
        assert _client(again.url, "cloudtrail").list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] \
            == [{"Key": "in-flight", "Value": "yes"}]
        _deliver(again.url)
        after = _delivered(again.url)
    finally:
        assert again.stop(signal.SIGTERM) == 0, again.stderr
    assert {k: before[k] for k in before} == {k: after[k] for k in before}      # earlier files untouched
    records = [r for recs in after.values() for r in recs]
    ids = [r["eventID"] for r in records]
    assert len(ids) == len(set(ids))                                           # nothing delivered twice
    names = [r["eventName"] for r in records]
    assert names.count("AddTags") == 1 and names.count("GetTrailStatus") == 1
    assert names.count("StartLogging") == 1 and names.count("DescribeTrails") == 1 and names.count("ListTags") == 1


def test_sigterm_before_serving_starts_stops_too(tmp_path):
    """SIGTERM while `serve --seed` is still seeding: the seed unwinds and the process exits 143."""
    server = Serve("--port", "0", "--data-dir", str(tmp_path / "data"), "--seed",
                   env=cli_env(CTEMU_SEED_COUNT="200000"))
    lock = tmp_path / "data" / "lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().startswith(f"{server.proc.pid} serve")):
        assert time.monotonic() < deadline and server.proc.poll() is None, server.stderr
        time.sleep(0.02)
    code = server.stop(signal.SIGTERM)
    assert code == 143 and server.lines[-2:] == ["cloudtrail-emulator: terminated", "<eof>"], server.stderr
