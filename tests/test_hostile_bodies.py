"""Hostile S3 bodies over real HTTP: size limits with S3's codes (chunked or not, nothing stored),
`x-amz-content-sha256` and aws-chunked chunk signatures checked under `--auth sigv4`, checksum
trailers, keys the local store cannot hold answered with S3 errors (nothing half-written), and the
server's memory bounded while a large multipart object goes in and out.

The request classes come from hostile_http.body_requests (the fuzz sends them too).
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import io
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from cloudtrail_emulator.emulator.config import AccessKey, EmulatorConfig
from fixtures_serve import Serve, cli_env
from fixtures_server import EmulatorServer, start_emulator
from hostile_http import Hostile, MiB, aws_chunked, body_requests, crc32_b64, send

KEY, SECRET = "AKIDBODIESTEST000001", "bodies/secret+Key"
LIMIT = 1024 * 1024          # the test server's max_object_bytes
BUCKET = "hostile-bodies"


def error_code(body: bytes) -> str | None:
    return ET.fromstring(body).findtext("Code") if body.startswith(b"<?xml") and b"<Error>" in body else None


# -- servers and clients -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def limited() -> Iterator[EmulatorServer]:
    """No auth, objects capped at LIMIT bytes."""
    server = start_emulator(EmulatorConfig(relax_bucket_policy=True, seed=0, max_object_bytes=LIMIT))
    try:
        server.client("s3").create_bucket(Bucket=BUCKET)
        yield server
    finally:
        server.running.stop()


@pytest.fixture(scope="module")
def signed() -> Iterator[EmulatorServer]:
    """`--auth sigv4` with one key."""
    server = start_emulator(EmulatorConfig(relax_bucket_policy=True, seed=0, auth="sigv4",
                                           access_keys=(AccessKey(KEY, SECRET),)))
    try:
        s3(server).create_bucket(Bucket=BUCKET)
        yield server
    finally:
        server.running.stop()


def s3(server: EmulatorServer):
    return boto3.client("s3", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET,
                        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))


def missing(client, key: str) -> bool:
    try:
        client.head_object(Bucket=BUCKET, Key=key)
    except ClientError as exc:
        return exc.response["Error"]["Code"] in ("404", "NoSuchKey")
    return False


# -- size limits -------------------------------------------------------------------------------

@pytest.mark.parametrize("request_", body_requests(BUCKET, LIMIT), ids=lambda r: r.name)
def test_hostile_request_gets_its_s3_error(limited, request_: Hostile):
    status, _, body = send(limited.url, request_)
    assert status == request_.status, body
    assert error_code(body) == request_.code, body
    if request_.absent:
        assert missing(limited.client("s3"), request_.absent)
    assert set(limited.state.store.list(BUCKET)) <= {"within-limit"}   # no hostile request stored anything


def test_within_the_limit_is_stored_whole_chunked_or_not(limited):
    body = bytes(range(256)) * (LIMIT // 256)
    assert send(limited.url, Hostile("at the limit", "PUT", f"/{BUCKET}/within-limit", body=body, chunked=True,
                                     status=200))[0] == 200
    got = limited.client("s3").get_object(Bucket=BUCKET, Key="within-limit")["Body"].read()
    assert got == body


def test_a_chunked_put_past_64_mib_is_stored_whole_not_cut(emulator_server):
    """The default limit is AWS's 5 GiB: a 65 MiB chunked PUT is stored whole (it used to be cut to 64 MiB)."""
    client = emulator_server.client("s3")
    client.create_bucket(Bucket="past-64")
    body = b"0123456789abcdef" * (65 * MiB // 16)
    status, _, answer = send(emulator_server.url, Hostile("65 MiB", "PUT", "/past-64/big", body=body, chunked=True))
    assert status == 200, answer
    head = client.head_object(Bucket="past-64", Key="big")
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'


def test_parts_and_uploads_keep_s3_caps(limited):
    client = limited.client("s3")
    upload = client.create_multipart_upload(Bucket=BUCKET, Key="mp")["UploadId"]
    with pytest.raises(ClientError) as too_big:
        client.upload_part(Bucket=BUCKET, Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * (LIMIT + 1))
    assert too_big.value.response["Error"]["Code"] == "EntityTooLarge"
    with pytest.raises(ClientError) as number:
        client.upload_part(Bucket=BUCKET, Key="mp", UploadId=upload, PartNumber=10001, Body=b"p")
    assert number.value.response["Error"]["Code"] == "InvalidArgument"
    etags = [client.upload_part(Bucket=BUCKET, Key="mp", UploadId=upload, PartNumber=n, Body=body)["ETag"]
             for n, body in ((1, b"p" * 10), (2, b"q" * 10))]
    for parts, code in ([(2, etags[1]), (1, etags[0])], "InvalidPartOrder"), ([(1, etags[1])], "InvalidPart"), \
                       ([(1, etags[0]), (2, etags[1])], "EntityTooSmall"):
        with pytest.raises(ClientError) as refused:
            client.complete_multipart_upload(Bucket=BUCKET, Key="mp", UploadId=upload, MultipartUpload={
                "Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]})
        assert refused.value.response["Error"]["Code"] == code
    assert missing(client, "mp")


# -- x-amz-content-sha256 and aws-chunked signatures under --auth sigv4 --------------------------

class _SeedAuth(S3SigV4Auth):
    """botocore's S3 signer, signing the x-amz-content-sha256 value the test chose."""

    def __init__(self, payload: str):
        super().__init__(Credentials(KEY, SECRET), "s3", "us-east-1")
        self._payload = payload

    def payload(self, request) -> str:
        return self._payload


def signed_put(url: str, key: str, headers: dict[str, str], payload: str) -> tuple[dict[str, str], str]:
    """Headers of a header-signed PUT of `key` whose x-amz-content-sha256 is `payload`; and the signature."""
    request = AWSRequest("PUT", f"{url}/{BUCKET}/{quote(key)}", headers=dict(headers))
    _SeedAuth(payload).add_auth(request)
    out = {name: value for name, value in request.headers.items() if name.lower() != "host"}
    return out, out["Authorization"].rsplit("Signature=", 1)[1]


def chunk_signatures(seed: str, amz_date: str, chunks: list[bytes]) -> list[str]:
    """Each chunk's signature, chained from the seed (AWS docs, "Transferring Payload in Multiple Chunks")."""
    key = ("AWS4" + SECRET).encode()
    for part in (amz_date[:8], "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    empty = hashlib.sha256(b"").hexdigest()
    previous, out = seed, []
    for chunk in chunks:
        text = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, empty,
                          hashlib.sha256(chunk).hexdigest()])
        previous = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        out.append(previous)
    return out


def signed_chunked_put(url: str, key: str, data: bytes, size: int, tamper: bool = False,
                       crc32: str | None = None) -> Hostile:
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD PUT of `data` in `size`-byte chunks (one chunk's data
    replaced after signing when `tamper`); with `crc32`, the -TRAILER variant carrying that checksum
    in a signed trailer."""
    chunks = [data[i:i + size] for i in range(0, len(data), size)] + [b""]
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))}
    if crc32 is not None:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    headers, seed = signed_put(url, key, headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
                               + ("-TRAILER" if crc32 is not None else ""))
    signatures = chunk_signatures(seed, headers["X-Amz-Date"], chunks)
    if tamper:
        chunks[0] = bytes(reversed(chunks[0]))
    body = b"".join(b"%x;chunk-signature=%s\r\n%s\r\n" % (len(c), s.encode(), c) for c, s in zip(chunks, signatures))
    if crc32 is not None:   # the trailer signs its lines, chained from the last chunk's signature
        body = body[:-2] + trailer_lines(signatures[-1], headers["X-Amz-Date"], {"x-amz-checksum-crc32": crc32})
    return Hostile("signed aws-chunked", "PUT", f"/{BUCKET}/{quote(key)}", headers, body)


def trailer_lines(previous: str, amz_date: str, trailer: dict[str, str]) -> bytes:
    """Trailer lines and their signature (AWS docs, "Including Trailing Headers"), then the final CRLF."""
    key = ("AWS4" + SECRET).encode()
    for part in (amz_date[:8], "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signed = "".join(f"{name}:{value}\n" for name, value in trailer.items()).encode()
    text = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, f"{amz_date[:8]}/us-east-1/s3/aws4_request", previous,
                      hashlib.sha256(signed).hexdigest()])
    signature = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    lines = "".join(f"{name}:{value}\r\n" for name, value in trailer.items())
    return f"{lines}x-amz-trailer-signature:{signature}\r\n\r\n".encode()


def test_a_replaced_body_breaks_the_signed_payload_hash(signed):
    data, other = b"the signed body", b"a body replaced"
    headers, _ = signed_put(signed.url, "replaced", {"Content-Length": str(len(data))},
                            hashlib.sha256(data).hexdigest())
    assert send(signed.url, Hostile("original", "PUT", f"/{BUCKET}/replaced", headers, data))[0] == 200
    headers, _ = signed_put(signed.url, "replaced-2", {"Content-Length": str(len(data))},
                            hashlib.sha256(data).hexdigest())
    status, _, body = send(signed.url, Hostile("replaced", "PUT", f"/{BUCKET}/replaced-2", headers, other))
    assert (status, error_code(body)) == (400, "XAmzContentSHA256Mismatch"), body
    assert b"The provided 'x-amz-content-sha256' header does not match what was computed." in body
    assert missing(s3(signed), "replaced-2")


def test_signed_chunks_are_checked_chunk_by_chunk(signed):
    data = bytes(range(256)) * 1000            # 256,000 bytes in 64 KiB chunks and a short last one
    good = signed_chunked_put(signed.url, "chunked-ok", data, 65536)
    status, _, body = send(signed.url, good)
    assert status == 200, body
    assert s3(signed).get_object(Bucket=BUCKET, Key="chunked-ok")["Body"].read() == data
    status, _, body = send(signed.url, signed_chunked_put(signed.url, "chunked-tampered", data, 65536, tamper=True))
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch"), body
    assert missing(s3(signed), "chunked-tampered")


def test_signed_trailers_carry_the_checksum(signed):
    data = b"signed trailer " * 9000
    status, _, body = send(signed.url, signed_chunked_put(signed.url, "trailer-signed", data, 65536,
                                                          crc32=crc32_b64(data)))
    assert status == 200, body
    assert s3(signed).get_object(Bucket=BUCKET, Key="trailer-signed")["Body"].read() == data
    wrong = signed_chunked_put(signed.url, "trailer-wrong", data, 65536, crc32=crc32_b64(b"other"))
    assert error_code(send(signed.url, wrong)[2]) == "BadDigest"
    forged = signed_chunked_put(signed.url, "trailer-forged", data, 65536, crc32=crc32_b64(data))
    forged.body = forged.body.replace(b"x-amz-trailer-signature:", b"x-amz-trailer-signature:0")
    assert error_code(send(signed.url, forged)[2]) == "SignatureDoesNotMatch"
    assert missing(s3(signed), "trailer-wrong") and missing(s3(signed), "trailer-forged")


class _PinnedPresign(S3SigV4QueryAuth):
    """botocore's presigner, signing the payload hash the URL's X-Amz-Content-Sha256 pins."""

    def __init__(self, payload: str):
        super().__init__(Credentials(KEY, SECRET), "s3", "us-east-1", expires=300)
        self._payload = payload

    def payload(self, request) -> str:
        return self._payload


def test_a_presigned_put_pinned_to_a_payload_hash_takes_only_that_body(signed):
    """The hash a presigned URL signs (X-Amz-Content-Sha256 in its query) is the one the body must
    match: a header the signature does not cover does not decide it."""
    good, evil = b"the body the URL was signed for", b"another body"
    pinned = hashlib.sha256(good).hexdigest()
    request = AWSRequest("PUT", f"{signed.url}/{BUCKET}/pinned?X-Amz-Content-Sha256={pinned}")
    _PinnedPresign(pinned).add_auth(request)
    url = request.prepare().url
    path = url.split(signed.url, 1)[1]
    status, _, body = send(signed.url, Hostile("evil", "PUT", path, {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, evil))
    assert (status, error_code(body)) == (400, "XAmzContentSHA256Mismatch"), body
    assert missing(s3(signed), "pinned")
    assert send(signed.url, Hostile("good", "PUT", path, body=good))[0] == 200
    assert s3(signed).get_object(Bucket=BUCKET, Key="pinned")["Body"].read() == good


@pytest.mark.parametrize("payload", ["STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
                                     "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"])
def test_sigv4a_chunks_under_an_hmac_signature_are_refused(signed, payload):
    """SigV4a's ECDSA chunk signatures cannot be checked under an AWS4-HMAC-SHA256 header
    signature: refused, not stored with the chunk signatures unchecked."""
    data = b"ecdsa chunks " * 50
    headers, _ = signed_put(signed.url, "ecdsa", {"Content-Encoding": "aws-chunked",
                                                  "x-amz-decoded-content-length": str(len(data))}, payload)
    zero = "0" * 144
    body = b"%x;chunk-signature=%s\r\n%s\r\n0;chunk-signature=%s\r\n\r\n" % (
        len(data), zero.encode(), data, zero.encode())
    status, _, answer = send(signed.url, Hostile("ecdsa", "PUT", f"/{BUCKET}/ecdsa", headers, body))
    assert (status, error_code(answer)) == (403, "SignatureDoesNotMatch"), answer
    assert missing(s3(signed), "ecdsa")


def test_an_upload_aborted_while_its_part_streams_in_answers_no_such_upload(limited):
    """The part's spool file goes with the aborted upload's folder: the part's answer is NoSuchUpload
    (it was a 500 with a FileNotFoundError), and nothing is left."""
    client = limited.client("s3")
    upload = client.create_multipart_upload(Bucket=BUCKET, Key="aborted-mid-part")["UploadId"]
    folder = Path(limited.state.s3.state.part_dir(upload))
    half = b"p" * 4096
    with socket.create_connection(("127.0.0.1", limited.running.port), timeout=30) as sock:
        sock.sendall(f"PUT /{BUCKET}/aborted-mid-part?partNumber=1&uploadId={upload} HTTP/1.1\r\n"
                     f"Host: 127.0.0.1\r\nContent-Length: {2 * len(half)}\r\n\r\n".encode() + half)
        wait_for(lambda: any(folder.glob("spool-*")), "the part streaming into its spool file")
        client.abort_multipart_upload(Bucket=BUCKET, Key="aborted-mid-part", UploadId=upload)
        sock.sendall(half)
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = response.read()
    assert (response.status, error_code(answer)) == (404, "NoSuchUpload"), answer
    assert not folder.exists()


def wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_unsigned_payload_and_checksum_trailers_pass(signed):
    data = b"trailer-checked " * 5000
    headers, _ = signed_put(signed.url, "trailer", {
        "Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(data))}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    body = aws_chunked(data, 8192, {"x-amz-checksum-crc32": crc32_b64(data)})
    status, _, answer = send(signed.url, Hostile("trailer", "PUT", f"/{BUCKET}/trailer", headers, body))
    assert status == 200, answer
    headers, _ = signed_put(signed.url, "unsigned", {}, "UNSIGNED-PAYLOAD")
    assert send(signed.url, Hostile("unsigned", "PUT", f"/{BUCKET}/unsigned", headers, data))[0] == 200
    client = s3(signed)
    assert client.get_object(Bucket=BUCKET, Key="trailer")["Body"].read() == data
    client.put_object(Bucket=BUCKET, Key="boto3", Body=data)      # botocore's own default (CRC32 header)
    assert client.get_object(Bucket=BUCKET, Key="boto3", Range="bytes=16-31")["Body"].read() == data[16:32]


def test_aws_cli_copies_a_multipart_object_both_ways_under_sigv4(signed, tmp_path):
    """`aws s3 cp` (multipart past 8 MiB, its own checksums and payload hashes) up and down, signed."""
    source = tmp_path / "up.bin"
    source.write_bytes(bytes(range(256)) * (12 * MiB // 256))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": signed.url, "AWS_MAX_ATTEMPTS": "1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.pop("AWS_PROFILE", None)
    aws = str(Path(sys.executable).parent / "aws")
    for args in ([str(source), f"s3://{BUCKET}/cli.bin"], [f"s3://{BUCKET}/cli.bin", str(tmp_path / "down.bin")]):
        done = subprocess.run([aws, "s3", "cp", *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "down.bin").read_bytes() == source.read_bytes()
    assert s3(signed).head_object(Bucket=BUCKET, Key="cli.bin")["ETag"].endswith('-2"')


# -- keys the local store cannot hold ----------------------------------------------------------

def test_odd_keys_get_s3_errors_and_nothing_half_written(emulator_server):
    client = emulator_server.client("s3")
    client.create_bucket(Bucket="odd-keys")
    client.put_object(Bucket="odd-keys", Key="a.meta/b", Body=b"below", Metadata={"m": "1"})
    with pytest.raises(ClientError) as refused:
        client.put_object(Bucket="odd-keys", Key="a", Body=b"new", Metadata={"m": "2"})
    assert refused.value.response["Error"]["Code"] == "InvalidArgument"
    assert "a.meta/" in refused.value.response["Error"]["Message"]
    assert missing_in(client, "odd-keys", "a")
    assert client.get_object(Bucket="odd-keys", Key="a.meta/b")["Body"].read() == b"below"
    client.put_object(Bucket="odd-keys", Key="x", Body=b"object")
    with pytest.raises(ClientError) as below_object:
        client.put_object(Bucket="odd-keys", Key="x/y", Body=b"nested")
    assert below_object.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as create:
        client.create_multipart_upload(Bucket="odd-keys", Key="x/y")
    assert create.value.response["Error"]["Code"] == "InvalidArgument"
    assert client.list_multipart_uploads(Bucket="odd-keys").get("Uploads", []) == []
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="odd-keys").get("Contents", [])]
    assert keys == ["a.meta/b", "x"]


def missing_in(client, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "404"
    return False


# -- memory ------------------------------------------------------------------------------------

class _Pattern(io.RawIOBase):
    """`size` bytes of a repeating pattern, read without ever holding them all."""

    def __init__(self, size: int):
        self.left = size
        self.block = bytes(range(256)) * 4096

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left, len(self.block))
        buffer[:n] = self.block[:n]
        self.left -= n
        return n


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        line = next(line for line in fh if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def big_object_round_trip(url: str, size: int) -> None:
    """Multipart-upload `size` bytes (8 MiB parts), then GET it whole, checking its MD5."""
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing", config=Config(s3={"addressing_style": "path"}))
    client.create_bucket(Bucket="memory")
    transfer = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=2)
    client.upload_fileobj(io.BufferedReader(_Pattern(size), 1024 * 1024), "memory", "big", Config=transfer)
    expected = hashlib.md5()
    source = io.BufferedReader(_Pattern(size), 1024 * 1024)
    while piece := source.read(MiB):
        expected.update(piece)
    got = hashlib.md5()
    for piece in client.get_object(Bucket="memory", Key="big")["Body"].iter_chunks(MiB):
        got.update(piece)
    assert got.hexdigest() == expected.hexdigest()


def test_memory_stays_bounded_for_a_200_mib_multipart_object(tmp_path):
    server = Serve("--port", "0", "--data-dir", str(tmp_path / "data"), env=cli_env(CTEMU_LOG_LEVEL="warning"))
    try:
        server.serving()
        before = peak_rss_mib(server.proc.pid)
        big_object_round_trip(server.url, 200 * MiB)
        peak = peak_rss_mib(server.proc.pid)
    finally:
        server.stop()
    assert peak - before < 60, f"server peak RSS grew from {before:.0f} MiB to {peak:.0f} MiB"
