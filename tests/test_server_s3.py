"""The S3 REST endpoint over real HTTP: boto3, the aws CLI, and raw requests for the odd cases."""
from __future__ import annotations

import base64
import hashlib
import http.client
import itertools
import json
import os
import random
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import boto3
import botocore.session
import flask
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.serialize import create_serializer
from werkzeug.serving import make_server

from cloudtrail_emulator.emulator.config import EmulatorConfig
from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.services.s3.exceptions import S3Error
from cloudtrail_emulator.emulator.services.s3.model import S3Backend
from cloudtrail_emulator.emulator.services.s3.responses import S3Responses
from cloudtrail_emulator.emulator.services.s3.routing import operation_for
from cloudtrail_emulator.emulator.services.s3.spool import Spooled
from fixtures_server import start_emulator
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores import LocalStore

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_names = itertools.count()


@pytest.fixture(scope="module")
def s3(emulator_server):
    return emulator_server.client("s3")


@pytest.fixture
def bucket(s3) -> str:
    name = f"bucket-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return name


def raw(server, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """(status, headers (case-insensitive lookup, wire spelling in .items()), body) of one unsigned request."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def error_code(body: bytes) -> str:
    root = ET.fromstring(body)
    assert root.tag == "Error"
    assert root.findtext("RequestId") and root.findtext("Message") is not None
    return root.findtext("Code")


def lower(metadata: dict[str, str]) -> dict[str, str]:
    """The metadata, after checking its names came back lower-case as S3 sends them."""
    assert all(name == name.lower() for name in metadata), metadata
    return metadata


def client_error(call, *args, **kwargs) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


DIRECT_MAX_OBJECT = 64 * 1024


@dataclass
class DirectServer:
    url: str
    s3: object


@pytest.fixture(scope="module")
def direct(tmp_path_factory) -> Iterator[DirectServer]:
    """The S3 endpoint alone in a minimal Flask app on werkzeug: its own wire output, whatever server hosts it."""
    api = S3Responses(S3Backend(LocalStore(tmp_path_factory.mktemp("direct-s3"), fsync=False), None,
                                rng=random.Random(7), max_object_size=DIRECT_MAX_OBJECT))
    app = flask.Flask("s3-only")
    methods = ["GET", "HEAD", "PUT", "POST", "DELETE"]

    @app.route("/", defaults={"path": ""}, methods=methods)
    @app.route("/<path:path>", methods=methods)
    def everything(path: str) -> flask.Response:
        return api.handle(flask.request, RequestContext(account_id="123456789012", region="us-east-1",
                                                        request_id=""))

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing", config=Config(s3={"addressing_style": "path"}))
    try:
        yield DirectServer(url, client)
    finally:
        server.shutdown()
        thread.join(timeout=5)


# -- buckets -----------------------------------------------------------------------------------


def test_bucket_lifecycle(s3, emulator_server):
    s3.create_bucket(Bucket="life-east")
    s3.create_bucket(Bucket="life-west", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert {"life-east", "life-west"} <= set(names) and names == sorted(names)
    assert s3.get_bucket_location(Bucket="life-east")["LocationConstraint"] is None
    assert s3.get_bucket_location(Bucket="life-west")["LocationConstraint"] == "eu-west-1"
    head = s3.head_bucket(Bucket="life-west")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"
    assert client_error(s3.create_bucket, Bucket="life-east") == ("BucketAlreadyOwnedByYou", 409)
    assert client_error(s3.create_bucket, Bucket="Bad_Name") == ("InvalidBucketName", 400)
    s3.put_object(Bucket="life-east", Key="k", Body=b"x")
    assert client_error(s3.delete_bucket, Bucket="life-east") == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket="life-east", Key="k")
    s3.delete_bucket(Bucket="life-east")
    assert client_error(s3.head_bucket, Bucket="life-east") == ("404", 404)
    assert client_error(s3.delete_bucket, Bucket="life-east") == ("NoSuchBucket", 404)
    assert client_error(s3.list_objects_v2, Bucket="life-east") == ("NoSuchBucket", 404)
    assert emulator_server.state.s3.bucket_exists("life-west")
    assert not emulator_server.state.s3.bucket_exists("life-east")


def test_location_of_bad_xml_body_is_malformed(emulator_server):
    status, _, body = raw(emulator_server, "PUT", "/bad-config", b"<CreateBucketConfiguration><Loc")
    assert (status, error_code(body)) == (400, "MalformedXML")


def test_bucket_policy(s3, bucket, emulator_server):
    assert client_error(s3.get_bucket_policy, Bucket=bucket) == ("NoSuchBucketPolicy", 404)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/123456789012/*",
        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]}, indent=1)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == policy
    assert emulator_server.state.s3.bucket_policy(bucket) == policy
    bad = [
        "not json",
        "{",
        json.dumps({"Version": "2012-10-17"}),
        json.dumps({"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "s3:*",
                                   "Resource": f"arn:aws:s3:::{bucket}"}]}),
        json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                   "Resource": "arn:aws:s3:::some-other-bucket/*"}]}),
    ]
    for text in bad:
        assert client_error(s3.put_bucket_policy, Bucket=bucket, Policy=text) == ("MalformedPolicy", 400)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == policy
    s3.delete_bucket_policy(Bucket=bucket)
    assert client_error(s3.get_bucket_policy, Bucket=bucket) == ("NoSuchBucketPolicy", 404)
    assert emulator_server.state.s3.bucket_policy(bucket) is None


# -- objects -----------------------------------------------------------------------------------


def _check_lower_case_metadata(server, s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="digest.json.gz", Body=b"body",
                  Metadata={"Signature": "abc123", "signature-algorithm": "SHA256withRSA"})
    status, _, _ = raw(server, "PUT", f"/{bucket}/raw", b"data",
                       {"X-Amz-Meta-Signature": "def", "X-AMZ-META-Mixed-Case": "v"})
    assert status == 200
    for key, expected in [("digest.json.gz", {"x-amz-meta-signature": "abc123",
                                              "x-amz-meta-signature-algorithm": "SHA256withRSA"}),
                          ("raw", {"x-amz-meta-signature": "def", "x-amz-meta-mixed-case": "v"})]:
        for method in ("GET", "HEAD"):
            _, headers, _ = raw(server, method, f"/{bucket}/{key}")
            meta = {name: value for name, value in headers.items() if name.lower().startswith("x-amz-meta-")}
            assert meta == expected  # exact spelling on the wire: validate-logs looks up "signature"
    got = s3.get_object(Bucket=bucket, Key="digest.json.gz")
    assert got["Metadata"] == {"signature": "abc123", "signature-algorithm": "SHA256withRSA"}


def test_s3api_sends_metadata_names_lower_case(direct):
    direct.s3.create_bucket(Bucket="meta-case")
    _check_lower_case_metadata(direct, direct.s3, "meta-case")


def test_emulator_server_sends_metadata_names_lower_case(emulator_server, s3, bucket):
    _check_lower_case_metadata(emulator_server, s3, bucket)


def test_get_and_head_headers(s3, bucket, emulator_server):
    body = os.urandom(1000)
    s3.put_object(Bucket=bucket, Key="obj", Body=body)
    status, headers, data = raw(emulator_server, "GET", f"/{bucket}/obj")
    assert status == 200 and data == body
    assert headers["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", headers["Last-Modified"])
    assert parsedate_to_datetime(headers["Last-Modified"]).tzinfo is not None
    assert headers["Content-Length"] == "1000"
    status, head_headers, data = raw(emulator_server, "HEAD", f"/{bucket}/obj")
    assert status == 200 and data == b"" and head_headers["Content-Length"] == "1000"
    head = s3.head_object(Bucket=bucket, Key="obj")
    assert head["ContentLength"] == 1000 and head["ETag"] == headers["ETag"]


def test_missing_objects(s3, bucket, emulator_server):
    assert client_error(s3.get_object, Bucket=bucket, Key="nope") == ("NoSuchKey", 404)
    assert client_error(s3.head_object, Bucket=bucket, Key="nope") == ("404", 404)
    status, _, body = raw(emulator_server, "HEAD", f"/{bucket}/nope")
    assert (status, body) == (404, b"")
    status, _, body = raw(emulator_server, "GET", f"/{bucket}/nope")
    assert (status, error_code(body)) == (404, "NoSuchKey")
    assert ET.fromstring(body).findtext("Resource") == f"/{bucket}/nope"
    assert client_error(s3.get_object, Bucket="no-such-bucket-here", Key="k") == ("NoSuchBucket", 404)


def test_ranges(s3, bucket, emulator_server):
    body = bytes(range(100))
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    for header, first, last in [("bytes=10-19", 10, 19), ("bytes=90-", 90, 99), ("bytes=-5", 95, 99),
                                ("bytes=95-500", 95, 99), ("bytes=-500", 0, 99)]:
        got = s3.get_object(Bucket=bucket, Key="r", Range=header)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == f"bytes {first}-{last}/100"
        assert got["Body"].read() == body[first:last + 1]
        assert got["ContentLength"] == last - first + 1
    status, headers, data = raw(emulator_server, "GET", f"/{bucket}/r", headers={"Range": "bytes=100-"})
    assert (status, error_code(data), headers["Content-Range"]) == (416, "InvalidRange", "bytes */100")
    assert client_error(s3.get_object, Bucket=bucket, Key="r", Range="bytes=-0") == ("InvalidRange", 416)
    status, _, data = raw(emulator_server, "GET", f"/{bucket}/r", headers={"Range": "bytes=5-2"})
    assert (status, data) == (200, body)  # a syntactically invalid range is ignored, as S3 does


def test_conditional_get(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v1")["ETag"]
    assert client_error(s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag) == ("304", 304)
    assert client_error(s3.get_object, Bucket=bucket, Key="c", IfMatch='"0"') == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"v1"


def test_delete_object_is_idempotent(s3, bucket):
    s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    for _ in range(2):
        assert s3.delete_object(Bucket=bucket, Key="d")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client_error(s3.head_object, Bucket=bucket, Key="d") == ("404", 404)


def test_delete_objects(s3, bucket):
    for key in ("a", "b", "c/d"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "missing"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "missing"]
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "c/d"}], "Quiet": True})
    assert "Deleted" not in result and "Errors" not in result
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_copy_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src key+é", Body=b"payload", Metadata={"a": "1"})
    result = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src key+é"})
    assert result["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="copy")
    assert got["Body"].read() == b"payload" and lower(got["Metadata"]) == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/copy", MetadataDirective="REPLACE",
                   Metadata={"B": "2"})
    assert lower(s3.head_object(Bucket=bucket, Key="copy")["Metadata"]) == {"b": "2"}
    assert client_error(s3.copy_object, Bucket=bucket, Key="copy",
                        CopySource=f"{bucket}/copy") == ("InvalidRequest", 400)
    assert client_error(s3.copy_object, Bucket=bucket, Key="x",
                        CopySource=f"{bucket}/missing") == ("NoSuchKey", 404)


def test_content_md5_is_checked(emulator_server, bucket):
    body = b"checked"
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    assert raw(emulator_server, "PUT", f"/{bucket}/m", body, {"Content-MD5": good})[0] == 200
    status, _, data = raw(emulator_server, "PUT", f"/{bucket}/m", b"other", {"Content-MD5": good})
    assert (status, error_code(data)) == (400, "BadDigest")
    status, _, data = raw(emulator_server, "PUT", f"/{bucket}/m", body, {"Content-MD5": "nothex!"})
    assert (status, error_code(data)) == (400, "InvalidDigest")
    assert raw(emulator_server, "GET", f"/{bucket}/m")[2] == body


def _aws_chunked(payload: bytes, sizes: list[int], trailer: str = "") -> bytes:
    out, pos = b"", 0
    for size in sizes:
        chunk = payload[pos:pos + size]
        pos += size
        out += f"{len(chunk):x};chunk-signature={'0' * 64}\r\n".encode() + chunk + b"\r\n"
    out += f"0;chunk-signature={'0' * 64}\r\n".encode()
    return out + trailer.encode() + b"\r\n"


def test_aws_chunked_bodies_are_decoded(s3, bucket, emulator_server):
    payload = os.urandom(3000)
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "3000",
               "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-trailer": "x-amz-checksum-crc32"}
    body = _aws_chunked(payload, [1024, 1024, 952], f"x-amz-checksum-crc32:{crc}\r\n")
    assert raw(emulator_server, "PUT", f"/{bucket}/chunked", body, headers)[0] == 200
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == payload
    wrong = {**headers, "x-amz-decoded-content-length": "2999"}
    status, _, data = raw(emulator_server, "PUT", f"/{bucket}/chunked", body, wrong)
    assert (status, error_code(data)) == (400, "IncompleteBody")
    bad_crc = _aws_chunked(payload, [3000], "x-amz-checksum-crc32:AAAAAA==\r\n")
    status, _, data = raw(emulator_server, "PUT", f"/{bucket}/chunked", bad_crc, headers)
    assert (status, error_code(data)) == (400, "BadDigest")
    # a file-object body from boto3 itself (its CRC32 checksum header is verified) stores the payload
    with open(__file__, "rb") as fh:
        s3.put_object(Bucket=bucket, Key="from-file", Body=fh)
    assert s3.get_object(Bucket=bucket, Key="from-file")["Body"].read() == Path(__file__).read_bytes()


# -- multipart ---------------------------------------------------------------------------------


def test_upload_file_multipart(s3, bucket, tmp_path):
    source = tmp_path / "big.bin"
    data = os.urandom(12 * 1024 * 1024)
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(source), bucket, "big.bin", ExtraArgs={"Metadata": {"Kind": "big"}}, Config=config)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    digests = b"".join(hashlib.md5(data[i:i + 5 * 1024 * 1024]).digest() for i in range(0, len(data), 5 * 1024 * 1024))
    assert head["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-3"'
    assert head["ContentLength"] == len(data) and lower(head["Metadata"]) == {"kind": "big"}
    target = tmp_path / "back.bin"
    s3.download_file(bucket, "big.bin", str(target), Config=config)
    assert target.read_bytes() == data
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_multipart_errors_and_listing(s3, bucket):
    big, small = b"a" * (5 * 1024 * 1024), b"tail"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload_id]
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=small)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=2, Body=small)["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, e1, 4), (2, e2, 4)]

    def complete(part_list):
        return client_error(s3.complete_multipart_upload, Bucket=bucket, Key="mp", UploadId=upload_id,
                            MultipartUpload={"Parts": part_list})

    assert complete([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]) == ("EntityTooSmall", 400)
    assert complete([{"PartNumber": 1, "ETag": '"0000"'}]) == ("InvalidPart", 400)
    assert complete([{"PartNumber": 3, "ETag": e1}]) == ("InvalidPart", 400)
    assert complete([{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]) == ("InvalidPartOrder", 400)
    assert client_error(s3.upload_part, Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=10001,
                        Body=b"x") == ("InvalidArgument", 400)
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=big)["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == big + small
    assert client_error(s3.list_parts, Bucket=bucket, Key="mp", UploadId=upload_id) == ("NoSuchUpload", 404)

    other = s3.create_multipart_upload(Bucket=bucket, Key="aborted")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=other)
    assert client_error(s3.upload_part, Bucket=bucket, Key="aborted", UploadId=other, PartNumber=1,
                        Body=b"x") == ("NoSuchUpload", 404)
    assert client_error(s3.abort_multipart_upload, Bucket=bucket, Key="aborted",
                        UploadId="not-an-id") == ("NoSuchUpload", 404)


def test_upload_part_copy(s3, bucket):
    source = os.urandom(6 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="source", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    first = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "source"},
                                CopySourceRange=f"bytes=0-{5 * 1024 * 1024 - 1}")["CopyPartResult"]["ETag"]
    second = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=2,
                                 CopySource=f"{bucket}/source",
                                 CopySourceRange=f"bytes={5 * 1024 * 1024}-{len(source) - 1}")["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]})
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == source


# -- listing -----------------------------------------------------------------------------------

LIST_KEYS = ["a.txt", "dir/1", "dir/2", "dir/sub/3", "dir2/x", "e/f/g", "zeta", "Zulu", "é/1", "a b+c"]


def _expected(keys, prefix="", delimiter=""):
    contents, prefixes = [], set()
    for key in sorted(keys, key=lambda k: k.encode()):
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix):]
        if delimiter and delimiter in rest:
            prefixes.add(prefix + rest[:rest.index(delimiter) + len(delimiter)])
        else:
            contents.append(key)
    return contents, sorted(prefixes, key=lambda p: p.encode())


@pytest.fixture(scope="module")
def listing_bucket(s3):
    s3.create_bucket(Bucket="listing-bucket")
    for key in LIST_KEYS:
        s3.put_object(Bucket="listing-bucket", Key=key, Body=key.encode())
    return "listing-bucket"


@pytest.mark.parametrize("prefix,delimiter", [("", ""), ("", "/"), ("dir", "/"), ("dir/", "/"), ("", "e")])
def test_list_objects_paginators(s3, listing_bucket, prefix, delimiter):
    contents, prefixes = _expected(LIST_KEYS, prefix, delimiter)
    for operation in ("list_objects", "list_objects_v2"):
        pages = list(s3.get_paginator(operation).paginate(
            Bucket=listing_bucket, Prefix=prefix, Delimiter=delimiter, PaginationConfig={"PageSize": 2}))
        got_keys = [c["Key"] for page in pages for c in page.get("Contents", [])]
        got_prefixes = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
        assert got_keys == contents, operation
        assert sorted(got_prefixes, key=lambda p: p.encode()) == prefixes, operation
        assert len(got_prefixes) == len(set(got_prefixes))
        assert len(pages) == max(1, -(-(len(contents) + len(prefixes)) // 2))
        assert all(page["IsTruncated"] for page in pages[:-1]) and not pages[-1]["IsTruncated"]
        if operation == "list_objects_v2":
            assert all(page["KeyCount"] == len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
                       for page in pages)
        elif delimiter:
            assert all("NextMarker" in page for page in pages[:-1])


def test_list_objects_details(s3, listing_bucket):
    everything = s3.list_objects(Bucket=listing_bucket)["Contents"]
    assert [c["Key"] for c in everything] == sorted(LIST_KEYS, key=lambda k: k.encode())
    first = everything[0]
    assert first["Size"] == len(first["Key"].encode()) and first["ETag"].startswith('"') and "Owner" in first
    v2 = s3.list_objects_v2(Bucket=listing_bucket, StartAfter="dir/2", MaxKeys=2)
    assert [c["Key"] for c in v2["Contents"]] == ["dir/sub/3", "dir2/x"] and "Owner" not in v2["Contents"][0]
    assert v2["IsTruncated"] and v2["KeyCount"] == 2 and v2["StartAfter"] == "dir/2"
    owned = s3.list_objects_v2(Bucket=listing_bucket, FetchOwner=True, MaxKeys=1)
    assert owned["Contents"][0]["Owner"]["ID"]
    after = s3.list_objects(Bucket=listing_bucket, Marker="e/f/g")["Contents"]
    assert [c["Key"] for c in after] == ["zeta", "é/1"]
    assert client_error(s3.list_objects_v2, Bucket=listing_bucket,
                        ContinuationToken="garbage") == ("InvalidArgument", 400)
    assert client_error(s3.list_objects, Bucket=listing_bucket, MaxKeys=-1) == ("InvalidArgument", 400)


def test_encoding_type_url(emulator_server, listing_bucket, s3):
    status, _, body = raw(emulator_server, "GET", f"/{listing_bucket}?encoding-type=url&prefix=a%20&delimiter=%2B")
    root = ET.fromstring(body)
    assert status == 200 and root.findtext(f"{NS}EncodingType") == "url"
    assert root.findtext(f"{NS}Prefix") == "a+" and root.findtext(f"{NS}Delimiter") == "%2B"
    assert [p.findtext(f"{NS}Prefix") for p in root.iter(f"{NS}CommonPrefixes")] == ["a+b%2B"]
    status, _, body = raw(emulator_server, "GET", f"/{listing_bucket}?list-type=2&encoding-type=url&prefix=%C3%A9")
    assert [k.text for k in ET.fromstring(body).iter(f"{NS}Key")] == ["%C3%A9/1"]
    status, _, body = raw(emulator_server, "GET", f"/{listing_bucket}?encoding-type=url&marker=a%20b%2Bc&max-keys=1&delimiter=/")
    root = ET.fromstring(body)
    assert root.findtext(f"{NS}Marker") == "a+b%2Bc" and root.findtext(f"{NS}NextMarker") == "a.txt"
    # boto3 asks for encoding-type=url itself and decodes: the odd keys come back intact
    assert "a b+c" in [c["Key"] for c in s3.list_objects(Bucket=listing_bucket)["Contents"]]
    status, _, body = raw(emulator_server, "GET", f"/{listing_bucket}?encoding-type=base64")
    assert (status, error_code(body)) == (400, "InvalidArgument")


# -- the aws CLI -------------------------------------------------------------------------------


def test_aws_cli_cp_and_ls(emulator_server, bucket, tmp_path):
    aws = Path(sys.executable).parent / "aws"
    env = {**os.environ, "AWS_ENDPOINT_URL": emulator_server.url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    env.pop("AWS_PROFILE", None)
    source = tmp_path / "upload.bin"
    data = os.urandom(9 * 1024 * 1024)  # above the CLI's 8 MB multipart threshold
    source.write_bytes(data)

    def run(*args):
        done = subprocess.run([str(aws), *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("s3", "cp", str(source), f"s3://{bucket}/logs/upload file.bin")
    listing = run("s3", "ls", "--recursive", f"s3://{bucket}/")
    assert re.search(rf"\s{len(data)} logs/upload file\.bin$", listing.strip())
    assert "PRE logs/" in run("s3", "ls", f"s3://{bucket}/")
    assert re.search(rf"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d {bucket}$", run("s3", "ls"), re.M)
    run("s3", "cp", f"s3://{bucket}/logs/upload file.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == data


# -- raw HTTP: bad input gets S3 errors, never a 500 -------------------------------------------


@pytest.mark.parametrize("method,path,body,code,status", [
    ("POST", "/{b}?delete", b"<Delete><Object><Key>a</Key>", "MalformedXML", 400),
    ("POST", "/{b}?delete", b"<Delete></Delete>", "MalformedXML", 400),
    ("POST", "/{b}?delete", b'<!DOCTYPE x [<!ENTITY a "b">]><Delete/>', "MalformedXML", 400),
    ("POST", "/{b}/k?uploadId=" + "0" * 64, b"<CompleteMultipartUpload/>", "NoSuchUpload", 404),
    ("GET", "/{b}?website", b"", "NotImplemented", 501),   # ?acl is served since issue 10
    ("PUT", "/{b}/k?tagging", b"<Tagging/>", "NotImplemented", 501),
    ("GET", "/{b}/k?location", b"", "NotImplemented", 501),
    ("PATCH", "/{b}/k", b"", "MethodNotAllowed", 405),
    ("POST", "/{b}/k", b"", "MethodNotAllowed", 405),
    ("POST", "/{b}?location", b"", "MethodNotAllowed", 405),
    ("PUT", "/", b"", "MethodNotAllowed", 405),
    ("PUT", "/{b}/a/../../../escape.txt", b"x", "InvalidArgument", 400),
    ("PUT", "/{b}/%2E%2E/%2E%2E/escape.txt", b"x", "InvalidArgument", 400),
    ("PUT", "/{b}/.ctemu/meta/x", b"x", "InvalidArgument", 400),
    ("GET", "/{b}/a/../../escape.txt", b"", "InvalidArgument", 400),
    ("PUT", "/{b}/" + "k" * 1025, b"x", "KeyTooLongError", 400),
    ("PUT", "/{b}/%FF%FE", b"x", "InvalidURI", 400),
    ("GET", "/{b}?max-keys=lots", b"", "InvalidArgument", 400),
    ("GET", "/{b}?list-type=3", b"", "InvalidArgument", 400),
    ("PUT", "/{b}?policy", b"[]", "MalformedPolicy", 400),
    ("PUT", "/{b}/k?partNumber=1&uploadId=../../x", b"x", "NoSuchUpload", 404),
])
def test_raw_errors(emulator_server, bucket, method, path, body, code, status):
    got_status, headers, data = raw(emulator_server, method, path.format(b=bucket), body)
    assert got_status == status, data
    assert error_code(data) == code
    assert headers["Content-Type"].startswith("application/xml")


def test_escape_attempts_write_nothing_outside_the_store(emulator_server, bucket):
    for path in (f"/{bucket}/../escape-{bucket}", f"/{bucket}/a/%2e%2e/%2e%2e/escape-{bucket}"):
        assert raw(emulator_server, "PUT", path, b"x")[0] in (400, 404)
    root = Path(emulator_server.state.store.root)
    # where the two paths would land if they escaped: beside the store, or in it outside the bucket
    # (not a walk of the store's parent: that is the shared temp directory, busy with other tests)
    assert not (root.parent / f"escape-{bucket}").exists()
    assert not list(root.rglob(f"escape-{bucket}"))


def test_entity_too_large(direct):
    direct.s3.create_bucket(Bucket="size-limit")
    status, _, data = raw(direct, "PUT", "/size-limit/big", b"x" * (DIRECT_MAX_OBJECT + 1))
    assert (status, error_code(data)) == (400, "EntityTooLarge")
    assert raw(direct, "PUT", "/size-limit/ok", b"x" * DIRECT_MAX_OBJECT)[0] == 200
    parts = urlsplit(direct.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:  # a huge Content-Length is refused without waiting for the body
        conn.putrequest("PUT", "/size-limit/huge")
        conn.putheader("Content-Length", str(6 * 1024**3))
        conn.endheaders()
        response = conn.getresponse()
        assert (response.status, error_code(response.read())) == (400, "EntityTooLarge")
    finally:
        conn.close()


# -- persistence -------------------------------------------------------------------------------


def test_state_survives_a_restart(tmp_path):
    config = EmulatorConfig(data_dir=tmp_path, seed=1)
    server = start_emulator(config)
    try:
        s3 = server.client("s3", region="eu-central-1")
        s3.create_bucket(Bucket="kept", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        policy = json.dumps({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                           "Resource": "arn:aws:s3:::kept/*"}})
        s3.put_bucket_policy(Bucket="kept", Policy=policy)
        upload_id = s3.create_multipart_upload(Bucket="kept", Key="later", Metadata={"m": "1"})["UploadId"]
        etag = s3.upload_part(Bucket="kept", Key="later", UploadId=upload_id, PartNumber=1, Body=b"p1")["ETag"]
    finally:
        server.running.stop()
    server = start_emulator(EmulatorConfig(data_dir=tmp_path, seed=2))
    try:
        s3 = server.client("s3", region="eu-central-1")
        assert s3.get_bucket_location(Bucket="kept")["LocationConstraint"] == "eu-central-1"
        assert s3.get_bucket_policy(Bucket="kept")["Policy"] == policy
        s3.complete_multipart_upload(Bucket="kept", Key="later", UploadId=upload_id,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
        got = s3.get_object(Bucket="kept", Key="later")
        assert got["Body"].read() == b"p1" and lower(got["Metadata"]) == {"m": "1"}
        assert got["ETag"] == f'"{hashlib.md5(hashlib.md5(b"p1").digest()).hexdigest()}-1"'
    finally:
        server.running.stop()
    assert (tmp_path / "s3" / "kept" / "later").read_bytes() == b"p1"  # a plain file in the data dir


def test_unreadable_state_is_a_clear_error(tmp_path):
    (tmp_path / "s3.json").write_text("{not json")
    with pytest.raises(GeneratorError, match="unreadable S3 state"):
        S3Backend(LocalStore(tmp_path / "objects"), tmp_path)


def _dummy(shape, name: str):
    if name in ("Bucket", "Key"):
        return {"Bucket": "bucket", "Key": "dir/key"}[name]
    if shape.type_name == "list":
        return ["ETag"]
    return {"string": "x", "integer": 1, "long": 1, "boolean": True, "blob": b"x",
            "timestamp": datetime(2024, 1, 1)}.get(shape.type_name)


def test_routing_table_names_every_request_botocore_serialises():
    """Each path-style S3 operation, serialised by botocore with its required address members, routes
    to itself, or to a twin with the same method and URI (deprecated aliases, ListDirectoryBuckets)."""
    model = botocore.session.get_session().get_service_model("s3")
    serializer = create_serializer("rest-xml", include_validation=False)
    checked = 0
    for name in model.operation_names:
        operation = model.operation_model(name)
        if operation.http["requestUri"].partition("?")[0] not in ("/", "/{Bucket}", "/{Bucket}/{Key+}"):
            continue
        shape = operation.input_shape
        params = {m: _dummy(shape.members[m], m) for m in (shape.required_members if shape else [])
                  if shape.members[m].serialization.get("location") in ("uri", "querystring", "header")}
        request = serializer.serialize_to_request(params, operation)
        path, _, extra = request["url_path"].partition("?")
        args = {**dict(request["query_string"]), **dict(parse_qsl(extra, keep_blank_values=True))}
        bucket, sep, key = path.lstrip("/").partition("/")
        routed = operation_for(request["method"], bucket, key if sep and key else None, args, request["headers"])
        assert routed is not None, name
        if routed != name:
            twin = model.operation_model(routed)
            assert twin.http == operation.http and not twin.deprecated, (name, routed)
        checked += 1
    assert checked > 100


def spooled_part(backend: S3Backend, upload, data: bytes) -> Spooled:
    """A part body written where the S3 endpoint streams parts to (the backend takes files, not bytes)."""
    path = Path(backend.part_dir(upload)) / f"test-part-{len(data)}"
    path.write_bytes(data)
    return Spooled(str(path), len(data), hashlib.md5(data).hexdigest())


def test_backend_rules_hold_without_http(tmp_path):
    """The S3 model enforces S3's rules on its own: part order and size, duplicate buckets, policies."""
    backend = S3Backend(LocalStore(tmp_path / "objects", fsync=False), None, rng=random.Random(3))
    backend.create_bucket("rules-bucket", "eu-west-1", "111111111111")
    with pytest.raises(S3Error) as duplicate:
        backend.create_bucket("rules-bucket", "eu-west-1", "111111111111")
    assert (duplicate.value.code, duplicate.value.status) == ("BucketAlreadyOwnedByYou", 409)
    assert backend.region("rules-bucket") == "eu-west-1"
    upload = backend.create_upload("rules-bucket", "big", {})
    first = backend.put_part(upload, 1, spooled_part(backend, upload, b"a" * 10))
    second = backend.put_part(upload, 2, spooled_part(backend, upload, b"b"))
    with pytest.raises(S3Error) as order:
        backend.complete_upload(upload, [("2", second.etag), ("1", first.etag)])
    assert order.value.code == "InvalidPartOrder"
    with pytest.raises(S3Error) as small:
        backend.complete_upload(upload, [("1", first.etag), ("2", second.etag)])
    assert small.value.code == "EntityTooSmall" and small.value.fields["PartNumber"] == "1"
    with pytest.raises(S3Error) as policy:
        backend.put_policy("rules-bucket", b'{"Statement": []}')
    assert policy.value.code == "MalformedPolicy"
