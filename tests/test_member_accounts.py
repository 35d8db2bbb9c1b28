"""The organization trail as a member account sees it (every account is a member of the emulator's one
organization; a 12-digit access key id acts as that account): DescribeTrails, GetTrail, GetTrailStatus,
ListTrails and GetEventSelectors show it with the management account's ARN, by ARN only where AWS
needs the ARN; a member cannot change or delete it. Over boto3 and the `aws` CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from cloudtrail_emulator.emulator.config import EmulatorConfig
from fixtures_server import EmulatorServer, start_emulator

AWS = Path(sys.executable).parent / "aws"
BUCKET = "org-bucket"
MANAGEMENT = "123456789012"
MEMBER = "210987654321"
ORG_ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail"
OWN_ARN = "arn:aws:cloudtrail:eu-west-1:210987654321:trail/own-trail"


@pytest.fixture(scope="module")
def server():
    """The management account's multi-region organization trail (logging) and a member's own trail."""
    running = start_emulator(EmulatorConfig(relax_bucket_policy=True))
    try:
        running.client("s3").create_bucket(Bucket=BUCKET)
        ct = running.cloudtrail()
        ct.create_trail(Name="org-trail", S3BucketName=BUCKET, S3KeyPrefix="org", IsOrganizationTrail=True,
                        IsMultiRegionTrail=True, EnableLogFileValidation=True)
        ct.start_logging(Name="org-trail")
        running.cloudtrail("eu-west-1", MEMBER).create_trail(Name="own-trail", S3BucketName=BUCKET)
        yield running
    finally:
        running.running.stop()


def member(server: EmulatorServer, region: str = "us-east-1"):
    return server.cloudtrail(region, access_key=MEMBER)


def error_of(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as excinfo:
        call(*args, **kwargs)
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


ORG_TRAIL = {
    "Name": "org-trail", "S3BucketName": BUCKET, "S3KeyPrefix": "org", "IncludeGlobalServiceEvents": True,
    "IsMultiRegionTrail": True, "HomeRegion": "us-east-1", "TrailARN": ORG_ARN,
    "LogFileValidationEnabled": True, "HasCustomEventSelectors": False, "HasInsightSelectors": False,
    "IsOrganizationTrail": True,
}


def test_describe_trails_shows_the_organization_trail(server):
    assert member(server).describe_trails()["trailList"] == [ORG_TRAIL]
    eu = member(server, "eu-west-1").describe_trails()["trailList"]
    assert [t["TrailARN"] for t in eu] == [OWN_ARN, ORG_ARN]      # in ARN order
    assert eu[1] == ORG_TRAIL
    # a shadow trail is the replication of an organization trail in member accounts
    assert member(server).describe_trails(includeShadowTrails=False)["trailList"] == []
    assert [t["TrailARN"] for t in member(server, "eu-west-1").describe_trails(
        includeShadowTrails=False)["trailList"]] == [OWN_ARN]
    # names address the member's own trails only; the organization trail by its ARN
    assert member(server).describe_trails(trailNameList=["org-trail"])["trailList"] == []
    assert member(server).describe_trails(trailNameList=[ORG_ARN])["trailList"] == [ORG_TRAIL]


def test_get_trail_and_status_by_arn(server):
    assert member(server).get_trail(Name=ORG_ARN)["Trail"] == ORG_TRAIL
    assert member(server, "ap-southeast-2").get_trail(Name=ORG_ARN)["Trail"]["TrailARN"] == ORG_ARN
    status = member(server).get_trail_status(Name=ORG_ARN)
    assert status["IsLogging"] is True and "StartLoggingTime" in status
    selectors = member(server).get_event_selectors(TrailName=ORG_ARN)
    assert selectors["TrailARN"] == ORG_ARN
    assert selectors["EventSelectors"] == [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                            "DataResources": [], "ExcludeManagementEventSources": []}]


def test_by_name_a_member_gets_trail_not_found(server):
    assert error_of(member(server).get_trail, Name="org-trail") == (
        "TrailNotFoundException", "Unknown trail: org-trail for the user: 210987654321")
    unknown = ("TrailNotFoundException",
               "Unknown trail: arn:aws:cloudtrail:us-east-1:210987654321:trail/org-trail for the user: 210987654321")
    assert error_of(member(server).get_trail_status, Name="org-trail") == unknown
    assert error_of(member(server).get_event_selectors, TrailName="org-trail") == unknown
    assert error_of(member(server).start_logging, Name="org-trail") == unknown


def test_list_trails_includes_the_organization_trail(server):
    assert member(server).list_trails()["Trails"] == [
        {"TrailARN": OWN_ARN, "Name": "own-trail", "HomeRegion": "eu-west-1"},
        {"TrailARN": ORG_ARN, "Name": "org-trail", "HomeRegion": "us-east-1"},
    ]
    assert server.cloudtrail().list_trails()["Trails"] == [
        {"TrailARN": ORG_ARN, "Name": "org-trail", "HomeRegion": "us-east-1"}]


NOT_MANAGEMENT = ("NotOrganizationMasterAccountException",
                  "The request was made by account 210987654321, which is not the management account of "
                  "organization {org}.")


@pytest.mark.parametrize("operation, kwargs", [
    ("update_trail", {"Name": ORG_ARN, "S3KeyPrefix": "mine"}),
    ("delete_trail", {"Name": ORG_ARN}),
    ("start_logging", {"Name": ORG_ARN}),
    ("stop_logging", {"Name": ORG_ARN}),
    ("put_event_selectors", {"TrailName": ORG_ARN, "EventSelectors": [{"ReadWriteType": "ReadOnly"}]}),
    ("put_insight_selectors", {"TrailName": ORG_ARN, "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]}),
])
def test_a_member_cannot_change_the_organization_trail(server, operation, kwargs):
    code, message = error_of(getattr(member(server), operation), **kwargs)
    assert (code, message) == (NOT_MANAGEMENT[0], NOT_MANAGEMENT[1].format(org=server.config.organization))
    assert server.cloudtrail().get_trail(Name="org-trail")["Trail"] == ORG_TRAIL
    assert server.cloudtrail().get_trail_status(Name="org-trail")["IsLogging"] is True


@pytest.mark.parametrize("operation, kwargs", [
    ("add_tags", {"ResourceId": ORG_ARN, "TagsList": [{"Key": "owner", "Value": "member"}]}),
    ("remove_tags", {"ResourceId": ORG_ARN, "TagsList": [{"Key": "owner"}]}),
    ("list_tags", {"ResourceIdList": [ORG_ARN]}),
])
def test_tags_of_another_accounts_trail_are_refused(server, operation, kwargs):
    assert error_of(getattr(member(server), operation), **kwargs) == (
        "CloudTrailARNInvalidException",
        "AccountID in ARN is wrong, you can only access resources with AccountID 210987654321.")


def aws(server: EmulatorServer, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": MEMBER,
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return subprocess.run([str(AWS), "cloudtrail", *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_aws_cli_in_a_member_account(server):
    described = aws(server, "describe-trails")
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["trailList"] == [ORG_TRAIL]
    status = aws(server, "get-trail-status", "--name", ORG_ARN)
    assert status.returncode == 0 and json.loads(status.stdout)["IsLogging"] is True
    stopped = aws(server, "stop-logging", "--name", ORG_ARN)
    assert stopped.returncode != 0
    assert "An error occurred (NotOrganizationMasterAccountException) when calling the StopLogging operation: " \
           "The request was made by account 210987654321" in stopped.stderr
    deleted = aws(server, "delete-trail", "--name", "org-trail")
    assert deleted.returncode != 0
    assert "(TrailNotFoundException) when calling the DeleteTrail operation: Unknown trail: " \
           "arn:aws:cloudtrail:us-east-1:210987654321:trail/org-trail for the user: 210987654321" in deleted.stderr
    assert server.cloudtrail().get_trail_status(Name=ORG_ARN)["IsLogging"] is True
