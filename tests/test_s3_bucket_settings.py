"""S3 bucket settings (acl, versioning, logging, public access block, encryption, ownership controls,
tagging, lifecycle, notification, object lock, replication) over real HTTP: boto3 and the aws CLI,
AWS's defaults and errors, persistence across a restart, per-account ListBuckets, and the CloudTrail
records these calls leave (read back through LookupEvents)."""
from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from cloudtrail_emulator.emulator.config import EmulatorConfig
from fixtures_server import EmulatorServer, start_emulator

AWS = Path(sys.executable).parent / "aws"
OWNER = "111111111111"
OTHER = "222222222222"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_names = itertools.count()


@pytest.fixture(scope="module")
def server():
    running = start_emulator(EmulatorConfig(seed=0))
    try:
        yield running
    finally:
        running.running.stop()


@pytest.fixture(scope="module")
def s3(server):
    return server.client("s3", access_key=OWNER)


@pytest.fixture
def bucket(s3) -> str:
    name = f"settings-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return name


def error_of(call, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def answer(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def raw(server: EmulatorServer, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- a new bucket: AWS's defaults and NoSuch errors ------------------------------------------------


def test_new_bucket_defaults(s3, bucket):
    acl = answer(s3.get_bucket_acl(Bucket=bucket))
    owner_id = acl["Owner"]["ID"]
    assert re.fullmatch(r"[0-9a-f]{64}", owner_id) and "DisplayName" not in acl["Owner"]
    assert acl["Grants"] == [{"Grantee": {"ID": owner_id, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]
    assert answer(s3.get_bucket_versioning(Bucket=bucket)) == {}
    assert answer(s3.get_bucket_logging(Bucket=bucket)) == {}
    assert answer(s3.get_public_access_block(Bucket=bucket)) == {"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}}
    assert answer(s3.get_bucket_encryption(Bucket=bucket)) == {"ServerSideEncryptionConfiguration": {"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}}
    assert answer(s3.get_bucket_ownership_controls(Bucket=bucket)) == {
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}
    assert answer(s3.get_bucket_notification_configuration(Bucket=bucket)) == {}


@pytest.mark.parametrize("call, code, message", [
    ("get_bucket_tagging", "NoSuchTagSet", "The TagSet does not exist"),
    ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    ("get_object_lock_configuration", "ObjectLockConfigurationNotFoundError",
     "Object Lock configuration does not exist for this bucket"),
    ("get_bucket_replication", "ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
])
def test_never_set_settings_answer_their_nosuch_error(s3, bucket, call, code, message):
    assert error_of(getattr(s3, call), Bucket=bucket) == (code, message, 404)


@pytest.mark.parametrize("call", [
    "get_bucket_acl", "get_bucket_versioning", "get_bucket_logging", "get_public_access_block",
    "get_bucket_encryption", "get_bucket_ownership_controls", "get_bucket_tagging",
    "get_bucket_lifecycle_configuration", "get_bucket_notification_configuration", "get_object_lock_configuration",
    "get_bucket_replication",
])
def test_missing_bucket_is_nosuchbucket(s3, call):
    assert error_of(getattr(s3, call), Bucket="no-such-settings-bucket") == (
        "NoSuchBucket", "The specified bucket does not exist", 404)


# -- Put, then Get -------------------------------------------------------------------------------


def test_put_then_get_round_trips(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert answer(s3.get_bucket_versioning(Bucket=bucket)) == {"Status": "Enabled"}

    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "audit"},
                                                             {"Key": "flag", "Value": "true"}]})
    assert answer(s3.get_bucket_tagging(Bucket=bucket)) == {
        "TagSet": [{"Key": "team", "Value": "audit"}, {"Key": "flag", "Value": "true"}]}

    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": False,
                                                                             "RestrictPublicBuckets": True})
    assert answer(s3.get_public_access_block(Bucket=bucket)) == {"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True}}

    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/trail"},
        "BucketKeyEnabled": True}]})
    assert answer(s3.get_bucket_encryption(Bucket=bucket)) == {"ServerSideEncryptionConfiguration": {"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/trail"},
        "BucketKeyEnabled": True}]}}

    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert answer(s3.get_bucket_ownership_controls(Bucket=bucket)) == {
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}}

    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    acl = answer(s3.get_bucket_acl(Bucket=bucket))
    assert acl["Grants"][1:] == [{"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]
    assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]

    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": bucket, "TargetPrefix": "access/"}})
    assert answer(s3.get_bucket_logging(Bucket=bucket)) == {
        "LoggingEnabled": {"TargetBucket": bucket, "TargetPrefix": "access/"}}

    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "expire-logs", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled", "Expiration": {"Days": 365}}]})
    lifecycle = answer(s3.get_bucket_lifecycle_configuration(Bucket=bucket))
    assert lifecycle["Rules"] == [{"ID": "expire-logs", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled",
                                   "Expiration": {"Days": 365}}]
    assert lifecycle["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"

    topic = f"arn:aws:sns:us-east-1:{OWNER}:bucket-events"
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [{
        "Id": "new-objects", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
    assert answer(s3.get_bucket_notification_configuration(Bucket=bucket)) == {"TopicConfigurations": [{
        "Id": "new-objects", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]}

    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}}})
    assert answer(s3.get_object_lock_configuration(Bucket=bucket)) == {"ObjectLockConfiguration": {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}}}}

    role = f"arn:aws:iam::{OWNER}:role/replication"
    rule = {"ID": "all", "Priority": 1, "Filter": {}, "Status": "Enabled",
            "Destination": {"Bucket": "arn:aws:s3:::replica-bucket"}, "DeleteMarkerReplication": {"Status": "Disabled"}}
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={"Role": role, "Rules": [rule]})
    assert answer(s3.get_bucket_replication(Bucket=bucket)) == {"ReplicationConfiguration": {"Role": role,
                                                                                           "Rules": [rule]}}


def test_deletes_return_to_default_or_nosuch(s3, bucket):
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.delete_bucket_tagging(Bucket=bucket)
    assert error_of(s3.get_bucket_tagging, Bucket=bucket)[0] == "NoSuchTagSet"
    s3.delete_public_access_block(Bucket=bucket)
    assert error_of(s3.get_public_access_block, Bucket=bucket) == (
        "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found", 404)
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    assert error_of(s3.get_bucket_ownership_controls, Bucket=bucket) == (
        "OwnershipControlsNotFoundError", "The bucket ownership controls were not found", 404)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "r", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
    s3.delete_bucket_lifecycle(Bucket=bucket)
    assert error_of(s3.get_bucket_lifecycle_configuration, Bucket=bucket)[0] == "NoSuchLifecycleConfiguration"


# -- S3's rules ------------------------------------------------------------------------------------


def test_acls_follow_object_ownership_and_block_public_access(s3, bucket):
    assert error_of(s3.put_bucket_acl, Bucket=bucket, ACL="public-read") == (
        "AccessControlListNotSupported", "The bucket does not allow ACLs", 400)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")   # the owner's ACL stays allowed
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{
        "ObjectOwnership": "BucketOwnerPreferred"}]})
    assert error_of(s3.put_bucket_acl, Bucket=bucket, ACL="public-read")[0::2] == ("AccessDenied", 403)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": False})
    s3.put_bucket_acl(Bucket=bucket, GrantRead=f'uri="{ALL_USERS}"')
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"] == [
        {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]
    assert error_of(s3.put_bucket_ownership_controls, Bucket=bucket, OwnershipControls={"Rules": [{
        "ObjectOwnership": "BucketOwnerEnforced"}]}) == (
        "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting", 400)


def test_acl_body_names_the_owner(s3, bucket):
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.delete_public_access_block(Bucket=bucket)
    grants = [{"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
              {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"},
               "Permission": "WRITE"}]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": grants})
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"] == [
        {"Grantee": {"ID": owner["ID"], "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}, grants[1]]
    assert error_of(s3.put_bucket_acl, Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": "0" * 64}, "Grants": grants})[0::2] == ("AccessDenied", 403)
    assert error_of(s3.put_bucket_acl, Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
        {"Grantee": {"Type": "Group", "URI": "http://example.com/group"}, "Permission": "READ"}]})[0] == \
        "InvalidArgument"


def test_settings_that_need_versioning(s3, bucket):
    lock = {"ObjectLockEnabled": "Enabled"}
    assert error_of(s3.put_object_lock_configuration, Bucket=bucket, ObjectLockConfiguration=lock) == (
        "InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration", 409)
    replication = {"Role": "arn:aws:iam::111111111111:role/r", "Rules": [{
        "Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::elsewhere"}, "Prefix": ""}]}
    assert error_of(s3.put_bucket_replication, Bucket=bucket, ReplicationConfiguration=replication) == (
        "InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication configuration", 400)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=lock)
    assert error_of(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})[0::2] \
        == ("InvalidBucketState", 409)


def test_create_bucket_with_object_lock(s3):
    s3.create_bucket(Bucket="locked-at-birth", ObjectLockEnabledForBucket=True)
    assert s3.get_object_lock_configuration(Bucket="locked-at-birth")["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"}
    assert s3.get_bucket_versioning(Bucket="locked-at-birth")["Status"] == "Enabled"


def test_invalid_settings_are_refused(s3, bucket):
    assert error_of(s3.put_bucket_logging, Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": "no-such-target-bucket", "TargetPrefix": ""}}) == (
        "InvalidTargetBucketForLogging", "The target bucket for logging does not exist", 400)
    assert error_of(s3.put_bucket_tagging, Bucket=bucket, Tagging={"TagSet": [
        {"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}) == (
        "InvalidTag", "Cannot provide multiple Tags with the same key", 400)
    assert error_of(s3.put_bucket_lifecycle_configuration, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "same", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "same", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 2}}]})[0] == "InvalidArgument"
    assert error_of(s3.put_bucket_encryption, Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]})[0] == \
        "InvalidArgument"


@pytest.mark.parametrize("sub, body, code", [
    ("versioning", b"<VersioningConfiguration><Status>Sometimes</Status></VersioningConfiguration>", "MalformedXML"),
    ("versioning", b"<Versioning/>", "MalformedXML"),
    ("versioning", b"<VersioningConfiguration><Colour>red</Colour></VersioningConfiguration>", "MalformedXML"),
    ("versioning", b"<VersioningConfiguration>", "MalformedXML"),
    ("tagging", b"<Tagging><TagSet><Tag><Key>only-key</Key></Tag></TagSet></Tagging>", "MalformedXML"),
    ("publicAccessBlock", b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>"
                          b"</PublicAccessBlockConfiguration>", "MalformedXML"),
    ("lifecycle", b"<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status><Expiration><Days>ten</Days>"
                  b"</Expiration></Rule></LifecycleConfiguration>", "MalformedXML"),
    ("ownershipControls", b"<OwnershipControls><Rule><ObjectOwnership>Anyone</ObjectOwnership></Rule>"
                          b"</OwnershipControls>", "MalformedXML"),
    ("acl", b"<AccessControlPolicy><AccessControlList/></AccessControlPolicy>", "MalformedACLError"),
    ("acl", b"", "MissingSecurityHeader"),
    ("encryption", b'<!DOCTYPE x [<!ENTITY a "b">]><ServerSideEncryptionConfiguration/>', "MalformedXML"),
])
def test_bad_bodies_get_s3_errors_never_500(server, s3, bucket, sub, body, code):
    status, data = raw(server, "PUT", f"/{bucket}?{sub}", body)
    assert (status, ET.fromstring(data).findtext("Code")) == (400, code)


def test_object_level_acl_is_still_not_implemented(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, data = raw(server, "GET", f"/{bucket}/k?acl")
    assert (status, ET.fromstring(data).findtext("Code")) == (501, "NotImplemented")


# -- owners: ListBuckets per account -------------------------------------------------------------


def test_list_buckets_lists_the_callers_buckets_only(server):
    mine, theirs = server.client("s3", access_key=OWNER), server.client("s3", access_key=OTHER)
    mine.create_bucket(Bucket="owned-by-first")
    theirs.create_bucket(Bucket="owned-by-second")
    first, second = mine.list_buckets(), theirs.list_buckets()
    assert "owned-by-first" in {b["Name"] for b in first["Buckets"]}
    assert "owned-by-second" not in {b["Name"] for b in first["Buckets"]}
    assert [b["Name"] for b in second["Buckets"]] == ["owned-by-second"]
    assert first["Owner"]["ID"] != second["Owner"]["ID"] and "DisplayName" not in first["Owner"]
    assert first["Owner"]["ID"] == mine.get_bucket_acl(Bucket="owned-by-first")["Owner"]["ID"]
    assert second["Owner"]["ID"] == theirs.get_bucket_acl(Bucket="owned-by-second")["Owner"]["ID"]
    assert error_of(theirs.create_bucket, Bucket="owned-by-first")[0::2] == ("BucketAlreadyExists", 409)
    assert error_of(mine.create_bucket, Bucket="owned-by-first")[0::2] == ("BucketAlreadyOwnedByYou", 409)


# -- a restart keeps settings and owners ---------------------------------------------------------


def test_settings_and_owners_survive_a_restart(tmp_path):
    first = start_emulator(EmulatorConfig(data_dir=tmp_path, seed=1))
    try:
        s3 = first.client("s3", access_key=OTHER)
        s3.create_bucket(Bucket="kept-settings")
        s3.put_bucket_versioning(Bucket="kept-settings", VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_tagging(Bucket="kept-settings", Tagging={"TagSet": [{"Key": "kept", "Value": "yes"}]})
        s3.delete_public_access_block(Bucket="kept-settings")
    finally:
        first.running.stop()
    second = start_emulator(EmulatorConfig(data_dir=tmp_path, seed=2))
    try:
        s3 = second.client("s3", access_key=OTHER)
        assert s3.get_bucket_versioning(Bucket="kept-settings")["Status"] == "Enabled"
        assert s3.get_bucket_tagging(Bucket="kept-settings")["TagSet"] == [{"Key": "kept", "Value": "yes"}]
        assert error_of(s3.get_public_access_block, Bucket="kept-settings")[0] == \
            "NoSuchPublicAccessBlockConfiguration"
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept-settings"]
        assert second.client("s3", access_key=OWNER).list_buckets()["Buckets"] == []
    finally:
        second.running.stop()


# -- the records ---------------------------------------------------------------------------------


def recorded(server: EmulatorServer, name: str, bucket: str) -> list[dict]:
    """The records of `name` on `bucket`, read back through LookupEvents."""
    events = server.cloudtrail(access_key=OWNER).lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    return [r for r in records if r["requestParameters"].get("bucketName") == bucket]


@pytest.mark.parametrize("call, kwargs, event, subresource", [
    ("get_bucket_acl", {}, "GetBucketAcl", "acl"),
    ("get_bucket_versioning", {}, "GetBucketVersioning", "versioning"),
    ("get_bucket_logging", {}, "GetBucketLogging", "logging"),
    ("get_public_access_block", {}, "GetBucketPublicAccessBlock", "publicAccessBlock"),
    ("get_bucket_encryption", {}, "GetBucketEncryption", "encryption"),
    ("get_bucket_ownership_controls", {}, "GetBucketOwnershipControls", "ownershipControls"),
    ("get_bucket_notification_configuration", {}, "GetBucketNotification", "notification"),
])
def test_get_records_are_management_reads(server, s3, bucket, call, kwargs, event, subresource):
    getattr(s3, call)(Bucket=bucket, **kwargs)
    [record] = recorded(server, event, bucket)
    assert (record["eventSource"], record["readOnly"], record["managementEvent"], record["eventCategory"]) == (
        "s3.amazonaws.com", True, True, "Management")
    assert record["requestParameters"] == {"bucketName": bucket, "Host": urlsplit(server.url).netloc,
                                           subresource: ""}
    assert record["resources"] == [{"accountId": OWNER, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    assert "errorCode" not in record and record["responseElements"] is None


@pytest.mark.parametrize("call, event, code", [
    ("get_bucket_tagging", "GetBucketTagging", "NoSuchTagSet"),
    ("get_bucket_lifecycle_configuration", "GetBucketLifecycle", "NoSuchLifecycleConfiguration"),
    ("get_object_lock_configuration", "GetBucketObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"),
    ("get_bucket_replication", "GetBucketReplication", "ReplicationConfigurationNotFoundError"),
])
def test_nosuch_records_carry_the_error(server, s3, bucket, call, event, code):
    with pytest.raises(ClientError):
        getattr(s3, call)(Bucket=bucket)
    [record] = recorded(server, event, bucket)
    assert (record["errorCode"], record["readOnly"], record["managementEvent"]) == (code, True, True)


def test_put_records_carry_the_body_as_cloudtrail_writes_it(server, s3, bucket):
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "StratusRedTeam", "Value": "true"}]})
    [record] = recorded(server, "PutBucketTagging", bucket)
    assert (record["eventSource"], record["readOnly"], record["managementEvent"]) == ("s3.amazonaws.com", False, True)
    assert record["requestParameters"]["tagging"] == ""
    # as in the reference record of PutBucketTagging: xmlns kept, one Tag an object, "true" a boolean
    assert record["requestParameters"]["Tagging"] == {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                                                      "TagSet": {"Tag": {"Key": "StratusRedTeam", "Value": True}}}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "nuke", "Filter": {"Prefix": "*"}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
    [record] = recorded(server, "PutBucketLifecycle", bucket)
    assert record["requestParameters"]["lifecycle"] == ""
    assert record["requestParameters"]["LifecycleConfiguration"]["Rule"] == {
        "Expiration": {"Days": 1}, "ID": "nuke", "Filter": {"Prefix": "*"}, "Status": "Enabled"}
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, GrantRead=f'uri="{ALL_USERS}"')
    [record] = recorded(server, "DeleteBucketPublicAccessBlock", bucket)
    assert (record["readOnly"], record["managementEvent"]) == (False, True)
    assert record["requestParameters"]["publicAccessBlock"] == ""
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "READ"}]})
    body = [r for r in recorded(server, "PutBucketAcl", bucket) if "AccessControlPolicy" in r["requestParameters"]]
    assert body[0]["requestParameters"]["AccessControlPolicy"]["AccessControlList"]["Grant"]["Grantee"] == {
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "xsi:type": "CanonicalUser", "ID": owner["ID"]}


# -- the aws CLI ---------------------------------------------------------------------------------


def test_aws_cli_reads_and_writes_settings(server, tmp_path):
    env = {**os.environ, "AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": OWNER,
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    env.pop("AWS_PROFILE", None)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([str(AWS), "s3api", *args, "--output", "json"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert (done.returncode == 0) == ok, done.stderr
        return done

    def get(*args: str) -> dict:
        out = run(*args).stdout
        return json.loads(out) if out.strip() else {}

    name = "cli-settings-bucket"
    run("create-bucket", "--bucket", name)
    acl = get("get-bucket-acl", "--bucket", name)
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL" and acl["Grants"][0]["Grantee"]["Type"] == "CanonicalUser"
    assert get("get-bucket-versioning", "--bucket", name) == {}
    assert get("get-bucket-logging", "--bucket", name) == {}
    assert get("get-public-access-block", "--bucket", name)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    assert get("get-bucket-encryption", "--bucket", name)["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert get("get-bucket-ownership-controls", "--bucket", name)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    for command, code in [("get-bucket-tagging", "NoSuchTagSet"),
                          ("get-bucket-lifecycle-configuration", "NoSuchLifecycleConfiguration"),
                          ("get-object-lock-configuration", "ObjectLockConfigurationNotFoundError"),
                          ("get-bucket-replication", "ReplicationConfigurationNotFoundError")]:
        assert f"({code})" in run(command, "--bucket", name, ok=False).stderr
    run("put-bucket-versioning", "--bucket", name, "--versioning-configuration", "Status=Enabled")
    assert get("get-bucket-versioning", "--bucket", name) == {"Status": "Enabled"}
    run("put-bucket-tagging", "--bucket", name, "--tagging", "TagSet=[{Key=env,Value=prod}]")
    assert get("get-bucket-tagging", "--bucket", name) == {"TagSet": [{"Key": "env", "Value": "prod"}]}
    run("put-public-access-block", "--bucket", name, "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=false")
    assert get("get-public-access-block", "--bucket", name)["PublicAccessBlockConfiguration"][
        "RestrictPublicBuckets"] is False
    run("put-bucket-lifecycle-configuration", "--bucket", name, "--lifecycle-configuration",
        json.dumps({"Rules": [{"ID": "expire", "Filter": {"Prefix": ""}, "Status": "Enabled",
                               "Expiration": {"Days": 90}}]}))
    assert get("get-bucket-lifecycle-configuration", "--bucket", name)["Rules"][0]["Expiration"] == {"Days": 90}
    assert "(NoSuchBucket)" in run("get-bucket-acl", "--bucket", "no-such-cli-bucket", ok=False).stderr
