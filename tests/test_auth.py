"""`serve --auth sigv4`: signed requests of configured keys pass, everything else gets AWS's errors.

boto3, botocore's own signer, urllib (presigned URLs) and the aws CLI are the clients; the server
verifies with its own implementation of the documented algorithm (emulator/auth.py).
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from cloudtrail_emulator.emulator.protocols.sigv4 import Signed, expected_signature
from cloudtrail_emulator.emulator.cli import main
from cloudtrail_emulator.emulator.config import AccessKey, EmulatorConfig, SystemClock
from fixtures_server import EmulatorServer, start_emulator

KEY, SECRET, ACCOUNT = "AKIDEMULATORTEST001", "s3cr3t/Key+wJalrXUtnFEMI", "210987654321"
OTHER_KEY, OTHER_SECRET = "AKIDEMULATORTEST002", "another-secret"
BUCKET = "auth-bucket"


@dataclass
class ShiftedClock(SystemClock):
    """The wall clock moved by `offset`: lets a test age presigned URLs without sleeping."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


@pytest.fixture(scope="module")
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture(scope="module")
def server(clock: ShiftedClock) -> Iterator[EmulatorServer]:
    config = EmulatorConfig(relax_bucket_policy=True, seed=0, clock=clock, auth="sigv4",
                            access_keys=(AccessKey(KEY, SECRET, ACCOUNT), AccessKey(OTHER_KEY, OTHER_SECRET)))
    running = start_emulator(config)
    try:
        client(running, "s3").create_bucket(Bucket=BUCKET)
        yield running
    finally:
        running.running.stop()


def client(server: EmulatorServer, service: str, key: str = KEY, secret: str = SECRET, unsigned: bool = False):
    config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                    signature_version=UNSIGNED if unsigned else "s3v4" if service == "s3" else None)
    return boto3.client(service, endpoint_url=server.url, region_name="eu-west-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=config)


def error_of(excinfo) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# -- the right keys ---------------------------------------------------------------------------------

def test_cloudtrail_with_a_configured_key_acts_in_its_account(server: EmulatorServer) -> None:
    cloudtrail = client(server, "cloudtrail")
    arn = cloudtrail.create_trail(Name="signed-trail", S3BucketName=BUCKET)["TrailARN"]
    assert arn == f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/signed-trail"
    assert [t["Name"] for t in cloudtrail.describe_trails()["trailList"]] == ["signed-trail"]


def test_s3_put_get_presigned_get_and_multipart_upload(server: EmulatorServer, tmp_path: Path) -> None:
    s3 = client(server, "s3")
    s3.put_object(Bucket=BUCKET, Key="dir/a b+c~é.txt", Body=b"hello")
    assert s3.get_object(Bucket=BUCKET, Key="dir/a b+c~é.txt")["Body"].read() == b"hello"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "dir/a b+c~é.txt"},
                                    ExpiresIn=300)
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.read() == b"hello"
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    s3.upload_file(str(big), BUCKET, "big.bin", Config=TransferConfig(multipart_threshold=5 * 1024 * 1024,
                                                                     multipart_chunksize=5 * 1024 * 1024))
    assert s3.head_object(Bucket=BUCKET, Key="big.bin")["ETag"].endswith('-3"')
    assert s3.get_object(Bucket=BUCKET, Key="big.bin")["Body"].read() == big.read_bytes()


def test_s3_streaming_signed_upload_passes(server: EmulatorServer) -> None:
    """boto3 signs uploads over plain HTTP with a STREAMING-... or UNSIGNED-PAYLOAD content hash."""
    s3 = client(server, "s3")
    s3.upload_fileobj(io.BytesIO(b"x" * 1000), BUCKET, "streamed.bin")
    assert s3.get_object(Bucket=BUCKET, Key="streamed.bin")["ContentLength"] == 1000


def test_sns_with_a_configured_key(server: EmulatorServer) -> None:
    sns = client(server, "sns", OTHER_KEY, OTHER_SECRET)
    arn = sns.create_topic(Name="signed-topic")["TopicArn"]
    assert arn == "arn:aws:sns:eu-west-1:123456789012:signed-topic"
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


def test_the_control_api_stays_open(server: EmulatorServer) -> None:
    with urllib.request.urlopen(f"{server.url}/_emulator/health", timeout=10) as answer:
        assert json.loads(answer.read())["status"] == "ok"


# -- refusals ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("service,call,key,secret,code,status", [
    ("cloudtrail", lambda c: c.describe_trails(), KEY, "wrong", "InvalidSignatureException", 400),
    ("cloudtrail", lambda c: c.describe_trails(), "AKIDUNKNOWN", SECRET, "UnrecognizedClientException", 400),
    ("s3", lambda c: c.list_objects_v2(Bucket=BUCKET), KEY, "wrong", "SignatureDoesNotMatch", 403),
    ("s3", lambda c: c.put_object(Bucket=BUCKET, Key="k", Body=b"x"), KEY, "wrong", "SignatureDoesNotMatch", 403),
    ("s3", lambda c: c.list_objects_v2(Bucket=BUCKET), "AKIDUNKNOWN", SECRET, "InvalidAccessKeyId", 403),
    ("sns", lambda c: c.list_topics(), KEY, "wrong", "SignatureDoesNotMatch", 403),
    ("sns", lambda c: c.list_topics(), "AKIDUNKNOWN", SECRET, "InvalidClientTokenId", 403),
], ids=["ct-secret", "ct-key", "s3-secret", "s3-put-secret", "s3-key", "sns-secret", "sns-key"])
def test_wrong_secret_or_unknown_key(server: EmulatorServer, service, call, key, secret, code, status) -> None:
    with pytest.raises(ClientError) as excinfo:
        call(client(server, service, key, secret))
    assert error_of(excinfo) == (code, status)


@pytest.mark.parametrize("service,call,code,status", [
    ("cloudtrail", lambda c: c.describe_trails(), "MissingAuthenticationTokenException", 400),
    ("s3", lambda c: c.list_objects_v2(Bucket=BUCKET), "AccessDenied", 403),
    ("sns", lambda c: c.list_topics(), "MissingAuthenticationToken", 403),
])
def test_no_credentials_at_all(server: EmulatorServer, service, call, code, status) -> None:
    with pytest.raises(ClientError) as excinfo:
        call(client(server, service, unsigned=True))
    assert error_of(excinfo) == (code, status)


def _http_error(url: str) -> tuple[int, str, str]:
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(url, timeout=10)
    root = ET.fromstring(excinfo.value.read())
    return excinfo.value.code, root.findtext("Code"), root.findtext("Message")


def test_expired_presigned_url(server: EmulatorServer, clock: ShiftedClock) -> None:
    s3 = client(server, "s3")
    s3.put_object(Bucket=BUCKET, Key="soon-gone", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "soon-gone"}, ExpiresIn=60)
    clock.offset = timedelta(seconds=61)
    try:
        assert _http_error(url) == (403, "AccessDenied", "Request has expired")
    finally:
        clock.offset = timedelta(0)


def test_tampered_presigned_url(server: EmulatorServer) -> None:
    s3 = client(server, "s3")
    s3.put_object(Bucket=BUCKET, Key="one", Body=b"1")
    s3.put_object(Bucket=BUCKET, Key="two", Body=b"2")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "one"}, ExpiresIn=300)
    assert _http_error(url.replace("/one?", "/two?"))[:2] == (403, "SignatureDoesNotMatch")
    assert _http_error(url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000"))[:2] == (403, "SignatureDoesNotMatch")
    assert _http_error(url + "&response-content-type=text%2Fhtml")[:2] == (403, "SignatureDoesNotMatch")
    unknown = client(server, "s3", "AKIDUNKNOWN", SECRET).generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "one"}, ExpiresIn=300)
    assert _http_error(unknown)[:2] == (403, "InvalidAccessKeyId")


def test_aws_cli_with_a_bad_secret_fails(server: EmulatorServer) -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": "bad", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": server.url, "AWS_MAX_ATTEMPTS": "1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.pop("AWS_PROFILE", None)
    aws = Path(sys.executable).parent / "aws"
    done = subprocess.run([str(aws), "cloudtrail", "describe-trails"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "InvalidSignatureException" in done.stderr
    env["AWS_SECRET_ACCESS_KEY"] = SECRET
    good = subprocess.run([str(aws), "cloudtrail", "describe-trails"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert good.returncode == 0, good.stderr


# -- the algorithm against botocore's signer --------------------------------------------------------

@pytest.mark.parametrize("service,url", [
    ("s3", "https://h.example/bucket/dir/a%20b%2Bc~%C3%A9/..%2F/./x?list-type=2&prefix=a%2Fb&uploads&z=%20&a=2&a=1"),
    ("cloudtrail", "https://h.example/"),
    ("sns", "https://h.example/a/./b/../c//?Action=ListTopics&NextToken=a%2Bb%3D"),
])
def test_signature_matches_botocores_signer(service: str, url: str) -> None:
    credentials = Credentials(KEY, SECRET)
    request = AWSRequest("POST", url, data=b'{"x": 1}', headers={"Content-Type": "application/x-amz-json-1.1",
                                                                 "X-Custom": "  a   b  "})
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(credentials, service, "eu-central-1").add_auth(request)
    authorization = request.headers["Authorization"]
    fields = dict(part.strip().split("=", 1) for part in authorization.split(" ", 1)[1].split(","))
    scope = fields["Credential"].split("/")
    signed = Signed(scope[0], scope[1], scope[2], scope[3], tuple(fields["SignedHeaders"].split(";")),
                    fields["Signature"], request.headers["X-Amz-Date"], None, False)
    path, _, query = url.split("h.example", 1)[1].partition("?")
    payload = request.headers.get("X-Amz-Content-SHA256") or __import__("hashlib").sha256(b'{"x": 1}').hexdigest()
    headers = _Headers({k.lower(): v for k, v in request.headers.items()} | {"host": "h.example"})
    assert expected_signature(SECRET, signed, "POST", path, query, headers, payload) == fields["Signature"]


class _Headers(dict):
    """The `getlist` a Werkzeug header map has."""

    def getlist(self, name: str) -> list[str]:
        return [self[name]] if name in self else []


def test_serve_refuses_bad_auth_options(capsys) -> None:
    assert main(["serve", "--auth", "sigv4", "--data-dir", ":memory:"]) == 2
    assert "needs at least one --access-key" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["serve", "--auth", "sigv4", "--access-key", "AKID:SECRET:notanaccount"])
    assert "must be 12 digits" in capsys.readouterr().err


@pytest.mark.parametrize("query", [
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={key}%2F20241399%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20241399T999999Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={key}%2F99991231%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=99991231T235959Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={key}&X-Amz-Signature=00",
    "AWSAccessKeyId={key}&Signature=abc&Expires=1",
], ids=["bad-date", "year-9999", "short-credential", "sigv2"])
def test_malformed_presigned_queries_are_client_errors(server: EmulatorServer, query: str) -> None:
    status, code, _ = _http_error(f"{server.url}/{BUCKET}/one?" + query.format(key=KEY))
    assert status == 400 and code == "AuthorizationHeaderMalformed"
