"""`serve --auth sigv4` against hostile callers, over raw HTTP (tests/hostile_sigv4.py builds the
requests) and boto3: a signature holds only for the service, headers and region it covers, and a
bucket belongs to the account that created it unless its bucket policy grants another.
"""
from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudtrail_emulator.emulator.config import AccessKey, EmulatorConfig
from fixtures_server import EmulatorServer, start_emulator
from hostile_sigv4 import Hostile, ambiguous_credentials, cross_account_requests, send, service_mismatch_replays

OWNER_KEY, OWNER_SECRET, OWNER = "AKIAOWNERKEY00000001", "owner-secret", "111111111111"
OTHER_KEY, OTHER_SECRET, OTHER = "AKIAOTHERKEY00000002", "other-secret", "222222222222"
THIRD_KEY, THIRD_SECRET, THIRD = "AKIATHIRDKEY00000003", "third-secret", "333333333333"
BUCKET, OTHER_BUCKET, TRAIL = "owned-bucket", "other-bucket", "guarded-trail"


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(relax_bucket_policy=True, seed=0, auth="sigv4", access_keys=(
        AccessKey(OWNER_KEY, OWNER_SECRET, OWNER), AccessKey(OTHER_KEY, OTHER_SECRET, OTHER),
        AccessKey(THIRD_KEY, THIRD_SECRET, THIRD)))
    running = start_emulator(config)
    try:
        s3 = client(running, "s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"owner's object")
        client(running, "s3", OTHER_KEY, OTHER_SECRET).create_bucket(Bucket=OTHER_BUCKET)
        cloudtrail = client(running, "cloudtrail")
        cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET)
        cloudtrail.start_logging(Name=TRAIL)
        yield running
    finally:
        running.running.stop()


def client(server: EmulatorServer, service: str, key: str = OWNER_KEY, secret: str = OWNER_SECRET,
           region: str = "us-east-1"):
    config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                    signature_version="s3v4" if service == "s3" else None)
    return boto3.client(service, endpoint_url=server.url, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, config=config)


def record_count(server: EmulatorServer) -> int:
    return len(server.state.events.since(0, 1_000_000))


def error_of(call, *args, **kwargs) -> tuple[str, int]:
    with pytest.raises(ClientError) as excinfo:
        call(*args, **kwargs)
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def assert_refused(server: EmulatorServer, hostile: Hostile) -> None:
    answer = send(server.url, hostile.request)
    assert (answer.status, answer.code) == (hostile.status, hostile.code), (hostile.name, answer)
    if hostile.message is not None:
        assert answer.message == hostile.message, (hostile.name, answer)


# -- the signed service, headers and region ---------------------------------------------------------

def _mismatch_names() -> list[str]:
    return [h.name for h in service_mismatch_replays("http://127.0.0.1:1", "k", "s", BUCKET, TRAIL)]


@pytest.mark.parametrize("name", _mismatch_names())
def test_a_replayed_signature_is_refused_not_recorded_and_has_no_effect(server: EmulatorServer, name: str) -> None:
    hostile = {h.name: h for h in service_mismatch_replays(server.url, OWNER_KEY, OWNER_SECRET, BUCKET, TRAIL)}[name]
    before = record_count(server)
    assert_refused(server, hostile)
    assert record_count(server) == before
    cloudtrail = client(server, "cloudtrail")
    assert [t["Name"] for t in cloudtrail.describe_trails(trailNameList=[TRAIL])["trailList"]] == [TRAIL]
    assert cloudtrail.get_trail_status(Name=TRAIL)["IsLogging"] is True
    s3 = client(server, "s3")
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"owner's object"
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="copied")


def test_s3_refusal_names_the_unsigned_headers(server: EmulatorServer) -> None:
    hostile = {h.name: h for h in service_mismatch_replays(server.url, OWNER_KEY, OWNER_SECRET, BUCKET, TRAIL)}
    answer = send(server.url, hostile["s3-put-with-added-copy-source"].request)
    assert answer.fields["HeadersNotSigned"] == "x-amz-copy-source"
    answer = send(server.url, hostile["s3-header-region-outside-the-partition"].request)
    assert answer.fields["Region"] == "us-east-1"


def test_sdks_and_the_cli_paths_still_pass(server: EmulatorServer) -> None:
    """boto3 signs every header it sends, in every region of the partition."""
    for region in ("us-east-1", "eu-central-1", "ap-southeast-2"):
        assert client(server, "cloudtrail", region=region).describe_trails()["trailList"] is not None
        assert client(server, "sts", region=region).get_caller_identity()["Account"] == OWNER
    s3 = client(server, "s3")
    s3.put_object(Bucket=BUCKET, Key="acl/k", Body=b"x", ACL="bucket-owner-full-control",
                  Metadata={"a": "b"})
    s3.copy_object(Bucket=BUCKET, Key="acl/copy", CopySource={"Bucket": BUCKET, "Key": "acl/k"})
    assert s3.head_object(Bucket=BUCKET, Key="acl/copy")["Metadata"] == {"a": "b"}


def test_default_mode_refuses_a_mismatch_too() -> None:
    """Without --auth the scope is read, not verified: a request signed for S3 still never runs as CloudTrail."""
    running = start_emulator(EmulatorConfig(relax_bucket_policy=True, seed=0))
    try:
        cloudtrail = running.cloudtrail()
        running.client("s3").create_bucket(Bucket=BUCKET)
        cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET)
        for hostile in service_mismatch_replays(running.url, "testing", "testing", BUCKET, TRAIL)[:7]:
            assert_refused(running, hostile)
        assert [t["Name"] for t in cloudtrail.describe_trails()["trailList"]] == [TRAIL]
    finally:
        running.running.stop()


# -- bucket ownership -------------------------------------------------------------------------------

def _cross_names() -> list[str]:
    return [h.name for h in cross_account_requests("http://127.0.0.1:1", "k", "s", BUCKET, OTHER_BUCKET)]


@pytest.mark.parametrize("name", _cross_names())
def test_another_accounts_key_gets_access_denied(server: EmulatorServer, name: str) -> None:
    hostile = {h.name: h for h in cross_account_requests(server.url, OTHER_KEY, OTHER_SECRET, BUCKET,
                                                         OTHER_BUCKET)}[name]
    assert_refused(server, hostile)
    s3 = client(server, "s3")
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"owner's object"
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="planted")
    assert error_of(s3.get_bucket_policy, Bucket=BUCKET)[0] == "NoSuchBucketPolicy"
    assert error_of(s3.get_bucket_tagging, Bucket=BUCKET)[0] == "NoSuchTagSet"
    assert "Contents" not in client(server, "s3", OTHER_KEY, OTHER_SECRET).list_objects_v2(Bucket=OTHER_BUCKET)


def test_a_denied_call_is_recorded_with_access_denied(server: EmulatorServer) -> None:
    before = record_count(server)
    assert error_of(client(server, "s3", OTHER_KEY, OTHER_SECRET).get_object, Bucket=BUCKET, Key="k") == \
        ("AccessDenied", 403)
    record = json.loads(server.state.events.since(0, 1_000_000)[before][1])
    assert record["eventName"] == "GetObject" and record["errorCode"] == "AccessDenied"
    assert record["userIdentity"]["accountId"] == OTHER


def test_the_bucket_policy_grants_what_it_names(server: EmulatorServer) -> None:
    bucket = "shared-bucket"
    s3 = client(server, "s3")
    s3.create_bucket(Bucket=bucket)
    for key in ("shared/a.txt", "shared/secret-b.txt", "private/c.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
         "Action": ["s3:Get*", "S3:LISTBUCKET"], "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/shared/*"]},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/shared/secret-?.txt"},
        {"Effect": "Allow", "Principal": {"AWS": THIRD}, "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}},
    ]}))
    other = client(server, "s3", OTHER_KEY, OTHER_SECRET)
    assert other.get_object(Bucket=bucket, Key="shared/a.txt")["Body"].read() == b"shared/a.txt"
    assert [o["Key"] for o in other.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "private/c.txt", "shared/a.txt", "shared/secret-b.txt"]
    assert error_of(other.get_object, Bucket=bucket, Key="private/c.txt") == ("AccessDenied", 403)
    assert error_of(other.get_object, Bucket=bucket, Key="shared/secret-b.txt") == ("AccessDenied", 403)
    assert error_of(other.put_object, Bucket=bucket, Key="shared/new", Body=b"x") == ("AccessDenied", 403)
    # the policy is the owner's even where it grants s3:Get* to others: 405, as AWS answers
    assert error_of(other.get_bucket_policy, Bucket=bucket) == ("MethodNotAllowed", 405)
    # an explicit Deny binds the owner too
    assert error_of(s3.get_object, Bucket=bucket, Key="shared/secret-b.txt") == ("AccessDenied", 403)
    # a statement with a condition the emulator does not evaluate grants nothing
    third = client(server, "s3", THIRD_KEY, THIRD_SECRET)
    assert error_of(third.get_object, Bucket=bucket, Key="shared/a.txt") == ("AccessDenied", 403)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"]


def test_cloudtrail_delivers_into_another_accounts_bucket_through_its_policy(server: EmulatorServer) -> None:
    bucket = "central-logs"
    owner = client(server, "s3", OTHER_KEY, OTHER_SECRET)
    owner.create_bucket(Bucket=bucket)
    owner.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{THIRD}/*"}]}))
    cloudtrail = client(server, "cloudtrail", THIRD_KEY, THIRD_SECRET)
    cloudtrail.create_trail(Name="to-central", S3BucketName=bucket)
    cloudtrail.start_logging(Name="to-central")
    cloudtrail.describe_trails()
    assert requests.post(f"{server.url}/_emulator/deliver", timeout=60).status_code == 200
    keys = [o["Key"] for o in owner.list_objects_v2(Bucket=bucket, Prefix=f"AWSLogs/{THIRD}/")["Contents"]]
    assert keys and all(k.startswith(f"AWSLogs/{THIRD}/CloudTrail/us-east-1/") for k in keys)
    assert owner.get_object(Bucket=bucket, Key=keys[0])["ContentLength"] > 0
    third = client(server, "s3", THIRD_KEY, THIRD_SECRET)
    assert error_of(third.list_objects_v2, Bucket=bucket) == ("AccessDenied", 403)
    assert error_of(third.get_object, Bucket=bucket, Key=keys[0]) == ("AccessDenied", 403)


def test_default_mode_enforces_ownership_for_signed_callers_only() -> None:
    """Without --auth a 12-digit access key id acts as that account: other accounts are refused,
    unsigned (anonymous) calls are not checked (documented)."""
    running = start_emulator(EmulatorConfig(relax_bucket_policy=True, seed=0))
    try:
        running.client("s3").create_bucket(Bucket=BUCKET)
        running.client("s3").put_object(Bucket=BUCKET, Key="k", Body=b"x")
        stranger = running.client("s3", access_key=OTHER)
        assert error_of(stranger.get_object, Bucket=BUCKET, Key="k") == ("AccessDenied", 403)
        assert error_of(stranger.list_objects_v2, Bucket=BUCKET) == ("AccessDenied", 403)
        anonymous = boto3.client("s3", endpoint_url=running.url, region_name="us-east-1",
                                 config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}))
        assert anonymous.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"
    finally:
        running.running.stop()


def _ambiguous_names() -> list[str]:
    return [h.name for h in ambiguous_credentials("http://127.0.0.1:1", "k", "s", BUCKET, OWNER)]


@pytest.mark.parametrize("name", _ambiguous_names())
def test_an_authorization_header_read_two_ways_is_malformed(server: EmulatorServer, name: str) -> None:
    """Routing, the account and the signature check read one credential: a valid signature of the
    other account's key, with the owner's account or another region named first or a YYYY scope
    date, neither reads the owner's object nor creates a topic in that region."""
    hostile = {h.name: h for h in ambiguous_credentials(server.url, OTHER_KEY, OTHER_SECRET, BUCKET, OWNER)}[name]
    before = record_count(server)
    assert_refused(server, hostile)
    assert record_count(server) == before
    topics = client(server, "sns", OTHER_KEY, OTHER_SECRET, region="eu-west-3").list_topics()["Topics"]
    assert not [t for t in topics if t["TopicArn"].endswith(":replayed")]
