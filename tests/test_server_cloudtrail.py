"""The CloudTrail trail API over real HTTP with boto3: every operation, paginators, modelled errors."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError
from fixtures_server import start_emulator

from cloudtrail_emulator.emulator.config import EmulatorConfig

BUCKET = "trail-logs"


@pytest.fixture(scope="module")
def server(emulator_server):
    emulator_server.state.store.create_bucket(BUCKET)
    return emulator_server


@pytest.fixture
def ct(server):
    """A CloudTrail client in us-east-1 that deletes the trails it made afterwards."""
    client = server.cloudtrail()
    yield client
    for region in ("us-east-1", "eu-west-1", "ap-south-1"):
        regional = server.cloudtrail(region)
        for trail in regional.describe_trails(includeShadowTrails=False)["trailList"]:
            regional.delete_trail(Name=trail["TrailARN"])


def code_of(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_create_get_update_delete(ct):
    made = ct.create_trail(Name="main-trail", S3BucketName=BUCKET, S3KeyPrefix="logs",
                           EnableLogFileValidation=True, KmsKeyId="alias/trail-key",
                           TagsList=[{"Key": "team", "Value": "sec"}])
    arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main-trail"
    assert made["TrailARN"] == arn and made["S3KeyPrefix"] == "logs"
    assert made["KmsKeyId"] == "arn:aws:kms:us-east-1:123456789012:alias/trail-key"
    trail = ct.get_trail(Name=arn)["Trail"]
    assert trail["HomeRegion"] == "us-east-1" and trail["LogFileValidationEnabled"] is True
    assert trail["HasCustomEventSelectors"] is False and trail["IsMultiRegionTrail"] is False
    updated = ct.update_trail(Name="main-trail", S3KeyPrefix="", KmsKeyId="", IsMultiRegionTrail=True)
    assert "S3KeyPrefix" not in updated and "KmsKeyId" not in updated and updated["IsMultiRegionTrail"]
    assert ct.describe_trails(trailNameList=["main-trail"])["trailList"][0]["IsMultiRegionTrail"]
    ct.delete_trail(Name="main-trail")
    with pytest.raises(ct.exceptions.TrailNotFoundException):
        ct.get_trail(Name="main-trail")


def test_multi_region_trail_is_a_shadow_elsewhere(server, ct):
    ct.create_trail(Name="everywhere", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    ct.create_trail(Name="local-only", S3BucketName=BUCKET)
    eu = server.cloudtrail("eu-west-1")
    shadows = eu.describe_trails()["trailList"]
    assert [(t["Name"], t["HomeRegion"]) for t in shadows] == [("everywhere", "us-east-1")]
    assert eu.describe_trails(includeShadowTrails=False)["trailList"] == []
    assert eu.get_trail(Name="everywhere")["Trail"]["HomeRegion"] == "us-east-1"
    assert eu.get_trail_status(Name="everywhere")["IsLogging"] is False
    with pytest.raises(eu.exceptions.InvalidHomeRegionException):
        eu.delete_trail(Name="everywhere")
    with pytest.raises(eu.exceptions.InvalidHomeRegionException):
        eu.start_logging(Name="everywhere")
    with pytest.raises(eu.exceptions.TrailAlreadyExistsException):
        eu.create_trail(Name="everywhere", S3BucketName=BUCKET)
    eu.create_trail(Name="local-only", S3BucketName=BUCKET)      # single-region names are per region
    names = {(t["Name"], t["HomeRegion"]) for t in ct.list_trails()["Trails"]}
    assert names == {("everywhere", "us-east-1"), ("local-only", "us-east-1"), ("local-only", "eu-west-1")}


@pytest.mark.parametrize("name", ["ab", "-trail", "trail-", "my..trail", "a_-b", "192.168.1.10",
                                  "has space", "x" * 129])
def test_bad_trail_names(ct, name):
    with pytest.raises(ct.exceptions.InvalidTrailNameException):
        ct.create_trail(Name=name, S3BucketName=BUCKET)


@pytest.mark.parametrize("kwargs, error", [
    ({"S3BucketName": "no-such-bucket"}, "S3BucketDoesNotExistException"),
    ({"S3BucketName": "Bad_Bucket"}, "InvalidS3BucketNameException"),
    ({"S3BucketName": BUCKET, "S3KeyPrefix": "p" * 201}, "InvalidS3PrefixException"),
    ({"S3BucketName": BUCKET, "SnsTopicName": "trail-topic"}, "InsufficientSnsTopicPolicyException"),
    ({"S3BucketName": BUCKET, "SnsTopicName": "bad topic!"}, "InvalidSnsTopicNameException"),
    ({"S3BucketName": BUCKET, "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": False},
     "InvalidParameterCombinationException"),
    ({"S3BucketName": BUCKET, "KmsKeyId": "not a key"}, "InvalidKmsKeyIdException"),
    ({"S3BucketName": BUCKET, "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g",
      "CloudWatchLogsRoleArn": "arn:aws:iam::123456789012:role/r"}, "InvalidCloudWatchLogsLogGroupArnException"),
    ({"S3BucketName": BUCKET, "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"},
     "InvalidCloudWatchLogsRoleArnException"),
    ({"S3BucketName": BUCKET, "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*",
      "CloudWatchLogsRoleArn": "role/r"}, "InvalidCloudWatchLogsRoleArnException"),
])
def test_create_trail_validation(ct, kwargs, error):
    with pytest.raises(ClientError) as excinfo:
        ct.create_trail(Name="checked-trail", **kwargs)
    assert code_of(excinfo) == error
    assert getattr(ct.exceptions, error)      # a modelled exception class


def test_cloudwatch_and_kms_accepted_when_well_formed(ct):
    made = ct.create_trail(
        Name="cw-trail", S3BucketName=BUCKET, KmsKeyId="1234abcd-12ab-34cd-56ef-1234567890ab",
        CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:*",
        CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/CloudTrail_CloudWatchLogs_Role")
    assert made["KmsKeyId"] == "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert made["CloudWatchLogsRoleArn"].endswith("role/CloudTrail_CloudWatchLogs_Role")


def test_duplicates_limits_and_addressing(ct):
    ct.create_trail(Name="trail-1", S3BucketName=BUCKET)
    with pytest.raises(ct.exceptions.TrailAlreadyExistsException):
        ct.create_trail(Name="trail-1", S3BucketName=BUCKET)
    for i in range(2, 6):
        ct.create_trail(Name=f"trail-{i}", S3BucketName=BUCKET)
    with pytest.raises(ct.exceptions.MaximumNumberOfTrailsExceededException):
        ct.create_trail(Name="trail-6", S3BucketName=BUCKET)
    with pytest.raises(ct.exceptions.CloudTrailARNInvalidException):
        ct.get_trail(Name="arn:aws:cloudtrail:us-east-1:123456789012:nottrail/x")
    with pytest.raises(ct.exceptions.TrailNotFoundException):
        ct.get_trail(Name="arn:aws:cloudtrail:us-east-1:123456789012:trail/missing")
    found = ct.describe_trails(trailNameList=["trail-1", "arn:aws:cloudtrail:us-east-1:123456789012:trail/trail-2",
                                              "missing"])["trailList"]
    assert [t["Name"] for t in found] == ["trail-1", "trail-2"]


def test_start_stop_logging_and_status(ct):
    ct.create_trail(Name="logged", S3BucketName=BUCKET)
    status = ct.get_trail_status(Name="logged")
    assert status["IsLogging"] is False and "StartLoggingTime" not in status
    ct.start_logging(Name="logged")
    status = ct.get_trail_status(Name="logged")
    assert status["IsLogging"] is True
    assert abs(status["StartLoggingTime"] - datetime.now(timezone.utc)) < timedelta(minutes=1)
    ct.stop_logging(Name="logged")
    status = ct.get_trail_status(Name="logged")
    assert status["IsLogging"] is False and status["StopLoggingTime"] >= status["StartLoggingTime"]
    assert status["TimeLoggingStopped"].endswith("Z")


def test_event_selectors(ct):
    arn = ct.create_trail(Name="selective", S3BucketName=BUCKET)["TrailARN"]
    got = ct.get_event_selectors(TrailName="selective")
    assert got["TrailARN"] == arn
    assert got["EventSelectors"] == [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                      "DataResources": [], "ExcludeManagementEventSources": []}]
    put = ct.put_event_selectors(TrailName="selective", EventSelectors=[{
        "ReadWriteType": "WriteOnly",
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bucket/"]}]}])
    assert put["EventSelectors"][0]["IncludeManagementEvents"] is True
    assert ct.get_trail(Name="selective")["Trail"]["HasCustomEventSelectors"] is True
    advanced = [{"Name": "writes", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["false"]}]}]
    ct.put_event_selectors(TrailName=arn, AdvancedEventSelectors=advanced)
    got = ct.get_event_selectors(TrailName=arn)
    assert got["AdvancedEventSelectors"] == advanced and "EventSelectors" not in got


@pytest.mark.parametrize("kwargs, error", [
    ({"EventSelectors": [{"ReadWriteType": "All"}], "AdvancedEventSelectors": [
        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]},
     "InvalidParameterCombinationException"),
    ({"EventSelectors": [{"ReadWriteType": "All"}] * 6}, "InvalidEventSelectorsException"),
    ({"EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Object",
                                             "Values": ["arn:aws:s3:::b/"]}] * 251}]},
     "InvalidEventSelectorsException"),
    ({"EventSelectors": [{"DataResources": [{"Type": "AWS::EC2::Instance", "Values": ["x"]}]}]},
     "InvalidEventSelectorsException"),
    ({"EventSelectors": [{"ReadWriteType": "read-only"}]}, "InvalidEventSelectorsException"),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}]},
     "InvalidEventSelectorsException"),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}]},
     "InvalidEventSelectorsException"),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                     {"Field": "colour", "Equals": ["red"]}]}]},
     "InvalidEventSelectorsException"),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "eventName", "Equals": [f"E{i}" for i in range(500)]}]}]},
     "InvalidEventSelectorsException"),
])
def test_event_selector_rules(ct, kwargs, error):
    ct.create_trail(Name="strict", S3BucketName=BUCKET)
    with pytest.raises(ClientError) as excinfo:
        ct.put_event_selectors(TrailName="strict", **kwargs)
    assert code_of(excinfo) == error


def test_insight_selectors(ct):
    ct.create_trail(Name="insightful", S3BucketName=BUCKET)
    with pytest.raises(ct.exceptions.InsightNotEnabledException):
        ct.get_insight_selectors(TrailName="insightful")
    ct.put_insight_selectors(TrailName="insightful", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    got = ct.get_insight_selectors(TrailName="insightful")
    assert got["InsightSelectors"] == [{"InsightType": "ApiCallRateInsight"}]
    assert ct.get_trail(Name="insightful")["Trail"]["HasInsightSelectors"] is True
    with pytest.raises(ct.exceptions.InvalidInsightSelectorsException):
        ct.put_insight_selectors(TrailName="insightful", InsightSelectors=[
            {"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiCallRateInsight"}])
    with pytest.raises(ct.exceptions.InvalidInsightSelectorsException):
        ct.put_insight_selectors(TrailName="insightful", InsightSelectors=[{"InsightType": "Bogus"}])


def test_tags(ct):
    arn = ct.create_trail(Name="tagged", S3BucketName=BUCKET, TagsList=[{"Key": "a", "Value": "1"}])["TrailARN"]
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    listed = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"]
    assert listed == [{"ResourceId": arn, "TagsList": [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]}]
    ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "a"}])
    assert ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ct.exceptions.TagsLimitExceededException):
        ct.add_tags(ResourceId=arn, TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with pytest.raises(ct.exceptions.InvalidTagParameterException):
        ct.add_tags(ResourceId=arn, TagsList=[{"Key": "aws:reserved", "Value": "v"}])
    with pytest.raises(ct.exceptions.ResourceNotFoundException):
        ct.list_tags(ResourceIdList=[arn.replace("tagged", "untagged")])
    with pytest.raises(ct.exceptions.CloudTrailARNInvalidException):
        ct.add_tags(ResourceId="tagged", TagsList=[{"Key": "c", "Value": "v"}])


def test_list_trails_paginator():
    server = start_emulator(EmulatorConfig(relax_bucket_policy=True, api_page_size=2))
    try:
        server.state.store.create_bucket(BUCKET)
        for region in ("us-east-1", "eu-west-1"):
            client = server.cloudtrail(region)
            for i in range(3):
                client.create_trail(Name=f"{region}-t{i}", S3BucketName=BUCKET)
        pages = list(server.cloudtrail().get_paginator("list_trails").paginate())
        assert [len(p["Trails"]) for p in pages] == [2, 2, 2]
        assert len({t["TrailARN"] for p in pages for t in p["Trails"]}) == 6
        with pytest.raises(server.cloudtrail().exceptions.InvalidTokenException):
            server.cloudtrail().list_trails(NextToken="garbage")
    finally:
        server.running.stop()


def test_list_public_keys(server):
    ct = server.cloudtrail("eu-west-1")
    now = datetime.now(timezone.utc)
    keys = ct.list_public_keys(StartTime=now - timedelta(hours=1), EndTime=now + timedelta(hours=2))["PublicKeyList"]
    assert keys, "a current key always exists"
    for key in keys:
        assert isinstance(key["Value"], bytes) and key["Value"][0] == 0x30      # DER SEQUENCE
        assert key["Fingerprint"] == hashlib.md5(key["Value"]).hexdigest()
        assert key["ValidityStartTime"] <= now + timedelta(hours=2) and key["ValidityEndTime"] > now
    assert ct.list_public_keys(StartTime=now - timedelta(days=3650), EndTime=now - timedelta(days=3000)) \
        ["PublicKeyList"] == []
    with pytest.raises(ct.exceptions.InvalidTimeRangeException):
        ct.list_public_keys(StartTime=now, EndTime=now - timedelta(hours=1))


def test_organizations_and_accounts(server):
    org = server.client("organizations").describe_organization()["Organization"]
    assert org["Id"] == server.config.organization and org["MasterAccountId"] == "123456789012"
    other = server.cloudtrail(access_key="210987654321")
    made = other.create_trail(Name="member-trail", S3BucketName=BUCKET)
    assert made["TrailARN"] == "arn:aws:cloudtrail:us-east-1:210987654321:trail/member-trail"
    assert server.cloudtrail().describe_trails(trailNameList=["member-trail"])["trailList"] == []
    with pytest.raises(other.exceptions.NotOrganizationMasterAccountException):
        other.create_trail(Name="org-trail", S3BucketName=BUCKET, IsOrganizationTrail=True)
    assert server.cloudtrail().create_trail(Name="org-trail", S3BucketName=BUCKET,
                                            IsOrganizationTrail=True)["IsOrganizationTrail"]
    server.cloudtrail().delete_trail(Name="org-trail")
    other.delete_trail(Name="member-trail")


def test_bucket_policy_enforced_unless_relaxed():
    server = start_emulator(EmulatorConfig())
    try:
        server.state.store.create_bucket(BUCKET)
        with pytest.raises(server.cloudtrail().exceptions.InsufficientS3BucketPolicyException):
            server.cloudtrail().create_trail(Name="strict-trail", S3BucketName=BUCKET)
    finally:
        server.running.stop()


def test_state_survives_a_restart(tmp_path):
    config = EmulatorConfig(data_dir=tmp_path, relax_bucket_policy=True)
    first = start_emulator(config)
    try:
        first.state.store.create_bucket(BUCKET)
        ct = first.cloudtrail()
        arn = ct.create_trail(Name="durable", S3BucketName=BUCKET, TagsList=[{"Key": "k", "Value": "v"}])["TrailARN"]
        ct.put_event_selectors(TrailName="durable", EventSelectors=[{"ReadWriteType": "ReadOnly"}])
        ct.start_logging(Name="durable")
    finally:
        first.running.stop()
    assert (tmp_path / "state" / "cloudtrail.json").is_file()
    second = start_emulator(config)
    try:
        ct = second.cloudtrail()
        assert ct.get_trail_status(Name="durable")["IsLogging"] is True
        assert ct.get_event_selectors(TrailName="durable")["EventSelectors"][0]["ReadWriteType"] == "ReadOnly"
        assert ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] == [{"Key": "k", "Value": "v"}]
    finally:
        second.running.stop()
