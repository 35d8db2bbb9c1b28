"""Routing by the signed service, with the venv's `aws` CLI through AWS_ENDPOINT_URL and raw HTTP.

A request goes to the service of its SigV4 credential scope: STS, EC2 DescribeRegions and
Organizations are served and recorded under their own eventSource; IAM and the rest of EC2 answer
their own protocol's "not available" error (501, not retried) and leave no record; a request
whose shape belongs to another service than its signature is never executed by that service.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from cloudtrail_emulator.emulator.config import AccessKey, EmulatorConfig
from fixtures_server import EmulatorServer, start_emulator

AWS = Path(sys.executable).parent / "aws"
MEMBER = "555555555555"
OTHER = "210987654321"


def signed(service: str, key: str = "testing", region: str = "us-east-1") -> str:
    """An Authorization header naming `service` in its credential scope (--auth none reads only that)."""
    return (f"AWS4-HMAC-SHA256 Credential={key}/20240101/{region}/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)


@pytest.fixture(scope="module")
def server() -> EmulatorServer:
    config = EmulatorConfig(relax_bucket_policy=True, seed=0,
                            access_keys=(AccessKey("AKIAMEMBERKEY0000001", "secret", MEMBER),))
    running = start_emulator(config)
    try:
        yield running
    finally:
        running.running.stop()


def aws(server: EmulatorServer, *args: str, key: str = "testing") -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": key,
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        env.pop(name, None)
    return subprocess.run([str(AWS), *args, "--output", "json"], env=env, capture_output=True, text=True,
                          timeout=120)


def lookup(server: EmulatorServer, key: str, value: str) -> list[dict]:
    """Records LookupEvents shows the default account's caller for one attribute."""
    pages = server.cloudtrail().get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
    return [json.loads(e["CloudTrailEvent"]) for page in pages for e in page["Events"]]


def every_record(server: EmulatorServer) -> list[dict]:
    """Every record in the event store (all accounts and regions), read from the index itself."""
    return [json.loads(body) for _, body in server.state.events.since(0, 100_000)]


def test_sts_get_caller_identity_answers_and_is_recorded_under_sts(server):
    done = aws(server, "sts", "get-caller-identity")
    assert done.returncode == 0, done.stderr
    identity = json.loads(done.stdout)
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/emulator"
    assert identity["UserId"].startswith("AIDA") and len(identity["UserId"]) == 21
    mine = json.loads(aws(server, "sts", "get-caller-identity", key=OTHER).stdout)
    assert mine["Account"] == OTHER and mine["Arn"] == f"arn:aws:iam::{OTHER}:user/emulator"

    records = lookup(server, "EventName", "GetCallerIdentity")
    assert len(records) == 1
    record = records[0]
    assert record["eventSource"] == "sts.amazonaws.com" and record["eventName"] == "GetCallerIdentity"
    assert record["readOnly"] is True and record["managementEvent"] is True
    assert record["eventCategory"] == "Management" and record["eventType"] == "AwsApiCall"
    assert record["requestParameters"] is None and record["responseElements"] is None
    assert record["userIdentity"]["arn"] == identity["Arn"]
    assert record["userIdentity"]["principalId"] == identity["UserId"]
    assert record["recipientAccountId"] == "123456789012"


def test_unserved_services_answer_their_own_error_and_leave_no_record(server):
    before = len(every_record(server))
    users = aws(server, "iam", "list-users")
    assert users.returncode != 0
    assert "(NotImplemented) when calling the ListUsers operation: iam is not available" in users.stderr
    instances = aws(server, "ec2", "describe-instances")
    assert instances.returncode != 0
    assert "(NotImplemented) when calling the DescribeInstances operation: ec2 DescribeInstances is not " \
           "available" in instances.stderr
    assert len(every_record(server)) == before
    assert not lookup(server, "EventSource", "sns.amazonaws.com")
    assert not lookup(server, "EventSource", "iam.amazonaws.com")
    assert not lookup(server, "EventName", "ListUsers")
    assert not lookup(server, "EventName", "DescribeInstances")


def test_not_available_errors_in_each_protocol_shape(server):
    iam = requests.post(server.url + "/", data={"Action": "ListUsers", "Version": "2010-05-08"},
                        headers={"Authorization": signed("iam")}, timeout=30)
    assert iam.status_code == 501
    root = ET.fromstring(iam.content)
    assert root.tag == "{https://iam.amazonaws.com/doc/2010-05-08/}ErrorResponse"
    assert root.findtext("{*}Error/{*}Code") == "NotImplemented"
    assert root.findtext("{*}Error/{*}Type") == "Receiver"

    ec2 = requests.post(server.url + "/", data={"Action": "DescribeVpcs", "Version": "2016-11-15"},
                        headers={"Authorization": signed("ec2")}, timeout=30)
    assert ec2.status_code == 501
    root = ET.fromstring(ec2.content)
    assert root.tag == "Response" and root.findtext("Errors/Error/Code") == "NotImplemented"
    assert root.findtext("RequestID")

    dynamo = requests.post(server.url + "/", data=b"{}", headers={
        "Authorization": signed("dynamodb"), "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Content-Type": "application/x-amz-json-1.0"}, timeout=30)
    assert dynamo.status_code == 501 and dynamo.json()["__type"] == "NotImplemented"
    assert "dynamodb is not available" in dynamo.json()["message"]

    presigned = requests.get(server.url + "/", params={
        "Action": "GetUser", "Version": "2010-05-08", "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": "testing/20240101/us-east-1/iam/aws4_request"}, timeout=30)
    assert presigned.status_code == 501 and b"<Code>NotImplemented</Code>" in presigned.content


def test_a_request_signed_for_one_service_is_never_executed_by_another(server):
    before = len(every_record(server))
    body = json.dumps({"Name": "smuggled", "S3BucketName": "nowhere"})
    as_s3 = requests.post(server.url + "/", data=body, headers={
        "Authorization": signed("s3"), "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "CloudTrail_20131101.CreateTrail"}, timeout=30)
    # issue 11: the service the X-Amz-Target addresses refuses it as its AWS endpoint does
    assert as_s3.status_code == 400 and as_s3.json() == {
        "__type": "InvalidSignatureException",
        "message": "Credential should be scoped to correct service: 'cloudtrail'. "}
    as_sns = requests.post(server.url + "/", data=body, headers={
        "Authorization": signed("sns"), "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "CloudTrail_20131101.CreateTrail"}, timeout=30)
    assert as_sns.status_code == 400 and as_sns.json()["__type"] == "InvalidSignatureException"
    as_cloudtrail = requests.post(server.url + "/", data=b"{}", headers={
        "Authorization": signed("cloudtrail"), "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSOrganizationsV20161128.DescribeOrganization"}, timeout=30)
    assert as_cloudtrail.status_code == 400
    assert as_cloudtrail.json()["message"] == "Credential should be scoped to correct service: 'organizations'. "
    assert server.cloudtrail().describe_trails(trailNameList=["smuggled"])["trailList"] == []
    assert [r["eventName"] for r in every_record(server)[before:]] == ["DescribeTrails"]


@pytest.mark.parametrize("target", ["com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListTrails",
                                    "CloudTrail_20131101.ListTrails"])
def test_both_cloudtrail_target_forms(server, target):
    for auth in ({"Authorization": signed("cloudtrail")}, {}):       # signed, and unsigned by its shape
        answer = requests.post(server.url + "/", data=b"{}", headers={
            **auth, "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}, timeout=30)
        assert answer.status_code == 200 and "Trails" in answer.json()


def test_unsigned_query_requests_go_by_version(server):
    sts = requests.post(server.url + "/", data={"Action": "GetCallerIdentity", "Version": "2011-06-15"}, timeout=30)
    assert sts.status_code == 403
    root = ET.fromstring(sts.content)
    assert root.tag == "{https://sts.amazonaws.com/doc/2011-06-15/}ErrorResponse"
    assert root.findtext("{*}Error/{*}Code") == "MissingAuthenticationToken"
    ec2 = requests.post(server.url + "/", data={"Action": "DescribeRegions", "Version": "2016-11-15",
                                                "RegionName.1": "eu-west-1"}, timeout=30)
    assert ec2.status_code == 200
    root = ET.fromstring(ec2.content)
    assert root.tag == "{http://ec2.amazonaws.com/doc/2016-11-15/}DescribeRegionsResponse"
    assert [e.text for e in root.findall(".//{*}regionName")] == ["eu-west-1"]


def test_ec2_describe_regions(server):
    done = aws(server, "ec2", "describe-regions")
    assert done.returncode == 0, done.stderr
    regions = {r["RegionName"]: r for r in json.loads(done.stdout)["Regions"]}
    assert {"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1"} <= set(regions)
    assert not {"cn-north-1", "us-gov-west-1", "us-iso-east-1"} & set(regions)
    assert regions["eu-west-1"] == {"RegionName": "eu-west-1", "Endpoint": "ec2.eu-west-1.amazonaws.com",
                                    "OptInStatus": "opt-in-not-required"}
    everything = json.loads(aws(server, "ec2", "describe-regions", "--all-regions").stdout)["Regions"]
    assert {r["RegionName"] for r in everything} == set(regions)

    named = json.loads(aws(server, "ec2", "describe-regions", "--region-names", "us-east-1", "eu-west-1").stdout)
    assert sorted(r["RegionName"] for r in named["Regions"]) == ["eu-west-1", "us-east-1"]
    west = json.loads(aws(server, "ec2", "describe-regions", "--filters",
                          "Name=region-name,Values=eu-west-?").stdout)
    assert sorted(r["RegionName"] for r in west["Regions"]) == ["eu-west-1", "eu-west-2", "eu-west-3"]
    both = json.loads(aws(server, "ec2", "describe-regions", "--filters",
                          "Name=endpoint,Values=ec2.us-*", "Name=region-name,Values=*-2").stdout)
    assert sorted(r["RegionName"] for r in both["Regions"]) == ["us-east-2", "us-west-2"]
    bad = aws(server, "ec2", "describe-regions", "--region-names", "xx-nowhere-1")
    assert bad.returncode != 0 and "(InvalidParameterValue)" in bad.stderr
    bad_filter = aws(server, "ec2", "describe-regions", "--filters", "Name=colour,Values=blue")
    assert bad_filter.returncode != 0 and "(InvalidParameterValue)" in bad_filter.stderr

    records = lookup(server, "EventName", "DescribeRegions")
    assert {r["eventSource"] for r in records} == {"ec2.amazonaws.com"}
    plain = [r for r in records if r["requestParameters"] == {"regionSet": {}, "allRegions": False}]
    assert len(plain) == 1 and plain[0]["readOnly"] is True and plain[0]["managementEvent"] is True
    assert any(r["requestParameters"].get("regionSet") == {"items": [{"regionName": "us-east-1"},
                                                                     {"regionName": "eu-west-1"}]} for r in records)
    failed = [r for r in records if "errorCode" in r]
    assert {r["errorCode"] for r in failed} == {"Client.InvalidParameterValue"} and len(failed) == 2


def test_organizations_accounts(server):
    server.client("s3", access_key=OTHER).create_bucket(Bucket="routing-member-bucket")
    server.cloudtrail(access_key=OTHER).create_trail(Name="member-trail", S3BucketName="routing-member-bucket")
    done = aws(server, "organizations", "list-accounts")
    assert done.returncode == 0, done.stderr
    accounts = json.loads(done.stdout)["Accounts"]
    assert [a["Id"] for a in accounts] == ["123456789012", OTHER, MEMBER]
    org = server.config.organization
    member = accounts[2]
    assert member["Arn"] == f"arn:aws:organizations::123456789012:account/{org}/{MEMBER}"
    assert member["Status"] == "ACTIVE" and member["State"] == "ACTIVE" and member["JoinedMethod"] == "CREATED"
    described = json.loads(aws(server, "organizations", "describe-account", "--account-id", MEMBER).stdout)
    assert described["Account"] == member
    missing = aws(server, "organizations", "describe-account", "--account-id", "999999999999")
    assert missing.returncode != 0 and "(AccountNotFoundException)" in missing.stderr
    as_member = aws(server, "organizations", "list-accounts", key=MEMBER)
    assert as_member.returncode != 0 and "(AccessDeniedException)" in as_member.stderr

    client = server.client("organizations")
    first = client.list_accounts(MaxResults=2)
    assert [a["Id"] for a in first["Accounts"]] == ["123456789012", OTHER] and first["NextToken"]
    second = client.list_accounts(MaxResults=2, NextToken=first["NextToken"])
    assert [a["Id"] for a in second["Accounts"]] == [MEMBER] and "NextToken" not in second
    for bad in ({"MaxResults": 21}, {"NextToken": "not-a-token"}):
        with pytest.raises(ClientError) as caught:
            client.list_accounts(**bad)
        assert caught.value.response["Error"]["Code"] == "InvalidInputException"

    records = lookup(server, "EventSource", "organizations.amazonaws.com")
    names = [r["eventName"] for r in records]
    assert names.count("DescribeAccount") == 2 and names.count("ListAccounts") == 5
    found = [r for r in records if r["eventName"] == "DescribeAccount" and "errorCode" not in r]
    assert found[0]["requestParameters"] == {"accountId": MEMBER} and found[0]["readOnly"] is True
    assert {r["errorCode"] for r in records if "errorCode" in r} == {"AccountNotFoundException",
                                                                     "InvalidInputException"}


def test_moto_api_reset(server):
    server.client("s3").create_bucket(Bucket="routing-reset-bucket")
    server.cloudtrail().create_trail(Name="to-reset", S3BucketName="routing-reset-bucket")
    answer = requests.post(server.url + "/moto-api/reset", timeout=30)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert server.cloudtrail().describe_trails()["trailList"] == []
    assert not lookup(server, "EventName", "CreateTrail")
    wrong = requests.get(server.url + "/moto-api/reset", timeout=30)
    assert wrong.status_code == 400 and wrong.json() == {"Error": "Need to POST to reset Moto"}


def test_under_sigv4_the_verified_key_is_the_caller_and_ec2_refusals_are_ec2_shaped():
    config = EmulatorConfig(seed=0, auth="sigv4", access_keys=(AccessKey("AKIAROUTINGKEY000001", "s3cret", OTHER),))
    running = start_emulator(config)
    try:
        def client(service: str):
            return boto3.client(service, endpoint_url=running.url, region_name="eu-west-1",
                                aws_access_key_id="AKIAROUTINGKEY000001", aws_secret_access_key="s3cret")
        identity = client("sts").get_caller_identity()
        assert identity["Account"] == OTHER and identity["Arn"] == f"arn:aws:iam::{OTHER}:user/emulator"
        records = [json.loads(e["CloudTrailEvent"]) for e in client("cloudtrail").lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}])["Events"]]
        assert len(records) == 1 and records[0]["userIdentity"]["accessKeyId"] == "AKIAROUTINGKEY000001"
        assert records[0]["recipientAccountId"] == OTHER and records[0]["awsRegion"] == "eu-west-1"
        unsigned = requests.post(running.url + "/", data={"Action": "DescribeRegions", "Version": "2016-11-15"},
                                 timeout=30)
        assert unsigned.status_code == 403
        root = ET.fromstring(unsigned.content)
        assert root.tag == "Response" and root.findtext("Errors/Error/Code") == "MissingAuthenticationToken"
    finally:
        running.running.stop()
