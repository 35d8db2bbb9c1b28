"""The pytest plugin as a stranger uses it: a test file written against the fixtures only (found through
the installed `pytest11` entry point, no conftest), run by pytester, outcomes asserted."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import pytest

from cloudtrail_emulator.emulator.services.cloudtrail.bucket_policy import policy_allows_cloudtrail
from cloudtrail_emulator.emulator.testing import cloudtrail_bucket_policy

pytest_plugins = ["pytester"]

STRANGER_TESTS = '''
import gzip
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

AWS = str(Path(sys.executable).with_name("aws"))


def aws(emulator, *args):
    done = subprocess.run([AWS, *args, "--output", "json"], env={**os.environ, **emulator.aws_env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.mark.parametrize("round_", [1, 2])
def test_function_scope_is_a_fresh_emulator(cloudtrail_emulator, round_):
    ct = cloudtrail_emulator.client("cloudtrail")
    assert ct.describe_trails()["trailList"] == []
    created = cloudtrail_emulator.create_trail("audit", prefix="team-a")
    assert created["S3BucketName"] == "audit-logs" and created["S3KeyPrefix"] == "team-a"
    [trail] = ct.describe_trails()["trailList"]
    assert trail["Name"] == "audit"
    assert ct.get_trail_status(Name="audit")["IsLogging"] is True


def test_boto3_create_trail_needs_the_policy(cloudtrail_emulator):
    s3 = cloudtrail_emulator.client("s3")
    s3.create_bucket(Bucket="bare-bucket")
    ct = cloudtrail_emulator.client("cloudtrail")
    with pytest.raises(ct.exceptions.InsufficientS3BucketPolicyException):
        ct.create_trail(Name="bare-trail", S3BucketName="bare-bucket")
    cloudtrail_emulator.create_trail_bucket("bare-bucket")
    ct.create_trail(Name="bare-trail", S3BucketName="bare-bucket", IsMultiRegionTrail=True)
    assert ct.describe_trails(trailNameList=["bare-trail"])["trailList"][0]["IsMultiRegionTrail"] is True


def test_aws_cli_with_aws_env(cloudtrail_emulator):
    cloudtrail_emulator.create_trail("cli-trail", "cli-bucket")
    trails = aws(cloudtrail_emulator, "cloudtrail", "describe-trails")["trailList"]
    assert [t["Name"] for t in trails] == ["cli-trail"]
    assert cloudtrail_emulator.aws_env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_injected_records_are_looked_up(cloudtrail_emulator):
    from cloudtrail_emulator.generators.pipeline import generate

    at = cloudtrail_emulator.config.clock.now() - timedelta(minutes=5)
    [record] = generate(count=1, start=at - timedelta(minutes=1), end=at, seed=5)
    record["userIdentity"] = {"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE00001",
                              "arn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012",
                              "accessKeyId": "AKIAEXAMPLEALICE0001", "userName": "alice"}
    assert cloudtrail_emulator.put_records([record]) == 1
    assert cloudtrail_emulator.put_records([record]) == 0
    found = cloudtrail_emulator.client("cloudtrail", region=record["awsRegion"]).lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "alice"}])["Events"]
    assert [e["EventName"] for e in found] == [record["eventName"]]
    assert json.loads(found[0]["CloudTrailEvent"]) == record
    from cloudtrail_emulator.emulator.testing import ControlApiError
    with pytest.raises(ControlApiError, match="ValidationException: record 0: eventTime"):
        cloudtrail_emulator.put_records([{**record, "eventTime": "yesterday"}])


def test_session_scope_shares_state_a(cloudtrail_emulator_session):
    cloudtrail_emulator_session.create_trail("shared-trail")


def test_session_scope_shares_state_b(cloudtrail_emulator_session, cloudtrail_emulator):
    ct = cloudtrail_emulator_session.client("cloudtrail")
    assert [t["Name"] for t in ct.describe_trails()["trailList"]] == ["shared-trail"]
    assert cloudtrail_emulator.url != cloudtrail_emulator_session.url
    assert cloudtrail_emulator.client("cloudtrail").describe_trails()["trailList"] == []
    assert cloudtrail_emulator_session.reset() == {"trails_deleted": 1}
    assert ct.describe_trails()["trailList"] == []


def test_history_and_delivery_through_the_control_api(cloudtrail_emulator):
    created = cloudtrail_emulator.create_trail("history-trail", EnableLogFileValidation=True)
    seeded = cloudtrail_emulator.seed_history("history-trail", days=0.1, count=40, seed=2)
    assert seeded["trail"] == created["TrailARN"] and seeded["records"] == 40
    assert created["TrailARN"] in cloudtrail_emulator.deliver()["trails"]
    keys = [o["Key"] for o in cloudtrail_emulator.client("s3").list_objects_v2(
        Bucket="history-trail-logs")["Contents"]]
    assert any("/CloudTrail/" in k for k in keys) and any("/CloudTrail-Digest/" in k for k in keys)


def test_history_takes_the_organisations_access_style(cloudtrail_emulator):
    from cloudtrail_emulator.emulator.testing import ControlApiError
    cloudtrail_emulator.create_trail("styled-trail")
    seeded = cloudtrail_emulator.seed_history("styled-trail", days=0.5, count=600, seed=4,
                                              access_style="identity-center")
    assert seeded["records"] == 600
    ct = cloudtrail_emulator.client("cloudtrail")
    found = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRoleWithSAML"}])
    assert found["Events"]          # people sign in through Identity Center (an iam-users history has none)
    with pytest.raises(ControlApiError, match="access_style must be one of"):
        cloudtrail_emulator.seed_history("styled-trail", days=0.1, access_style="okta")


def test_logs_in_tmp_path(cloudtrail_logs, tmp_path):
    logs = cloudtrail_logs(count=120, seed=7, accounts=2, regions=["us-east-1", "eu-west-1"])
    assert logs.directory.parent == tmp_path
    records = []
    for path in logs.paths:
        with gzip.open(path) as handle:
            records += json.load(handle)["Records"]
    assert len(records) == logs.summary.records == 120
    assert records == list(logs.records())
    assert {r["recipientAccountId"] for r in records} == set(logs.summary.accounts)
    assert all(k.startswith("AWSLogs/" + logs.summary.organization_id + "/") for k in logs.keys)
    assert logs.digest_keys and {r["awsRegion"] for r in records} <= {"us-east-1", "eu-west-1"}
    again = cloudtrail_logs(count=120, seed=7, accounts=2, regions=["us-east-1", "eu-west-1"])
    assert [p.read_bytes() for p in again.paths] == [p.read_bytes() for p in logs.paths]


def test_logs_with_a_scenario(cloudtrail_logs):
    logs = cloudtrail_logs(count=60, scenarios=["backdoor-iam-user"])
    labels = logs.labels
    names = {r["eventName"] for r in logs.records()}
    assert labels and "CreateUser" in names


def test_logs_in_an_emulator_bucket_validate(cloudtrail_emulator, cloudtrail_logs):
    from cloudtrail_emulator.generators.validate import validate_trail

    cloudtrail_emulator.create_trail("management-events", "trail-bucket")
    logs = cloudtrail_logs(bucket="trail-bucket", count=80, seed=1)
    listed = cloudtrail_emulator.client("s3").list_objects_v2(Bucket="trail-bucket")["Contents"]
    assert sorted(o["Key"] for o in listed) == logs.keys
    assert len(list(logs.records())) == 80
    report = validate_trail(cloudtrail_emulator.state.store, "trail-bucket", keyring=logs.keyring)
    assert report.ok and len(report.logs) == len(logs.log_keys), report.render()


def test_aws_validate_logs_accepts_logs_in_an_emulator_bucket(cloudtrail_emulator, cloudtrail_logs):
    created = cloudtrail_emulator.create_trail("management-events", "trail-bucket")
    logs = cloudtrail_logs(bucket="trail-bucket", count=80, seed=1)
    done = subprocess.run(
        [AWS, "cloudtrail", "validate-logs", "--trail-arn", created["TrailARN"],
         "--start-time", "2024-05-01T00:00:00Z", "--end-time", "2024-05-01T03:00:00Z"],
        env={**os.environ, **cloudtrail_emulator.aws_env}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(logs.log_keys)}/{len(logs.log_keys)} log files valid" in done.stdout
'''

FIXED_CLOCK_CONFTEST = '''
from datetime import datetime, timezone

import pytest
from cloudtrail_emulator.emulator.config import EmulatorConfig, FixedClock


@pytest.fixture
def cloudtrail_emulator_config():
    return EmulatorConfig(clock=FixedClock(datetime(2024, 5, 1, 12, tzinfo=timezone.utc)),
                          default_account="111122223333", relax_bucket_policy=True)
'''

FIXED_CLOCK_TESTS = '''
def test_overridden_config(cloudtrail_emulator):
    s3 = cloudtrail_emulator.client("s3")
    s3.create_bucket(Bucket="no-policy")
    created = cloudtrail_emulator.client("cloudtrail").create_trail(Name="fixed-trail", S3BucketName="no-policy")
    assert created["TrailARN"] == "arn:aws:cloudtrail:us-east-1:111122223333:trail/fixed-trail"
    assert cloudtrail_emulator.config.clock.now().hour == 12
'''


def test_entry_point_is_registered():
    entry = [e for e in metadata.entry_points(group="pytest11") if e.value == "cloudtrail_emulator.emulator.pytest_plugin"]
    assert [e.name for e in entry] == ["cloudtrail_emulator"]


def test_a_strangers_test_file_passes(pytester: pytest.Pytester):
    pytester.makepyfile(test_stranger=STRANGER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=13)


def test_config_fixture_can_be_overridden(pytester: pytest.Pytester):
    pytester.makeconftest(FIXED_CLOCK_CONFTEST)
    pytester.makepyfile(test_fixed=FIXED_CLOCK_TESTS)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_fixtures_are_listed_and_a_failing_test_fails(pytester: pytest.Pytester):
    pytester.makepyfile(test_fails='''
def test_no_trails(cloudtrail_emulator):
    assert cloudtrail_emulator.client("cloudtrail").describe_trails()["trailList"] == ["x"]
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    listed = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    listed.stdout.fnmatch_lines(["cloudtrail_emulator -- *", "cloudtrail_emulator_session *",
                                 "cloudtrail_logs -- *"])


def test_loading_the_plugin_starts_and_imports_nothing_heavy():
    code = ("import sys, cloudtrail_emulator.emulator.pytest_plugin; "
            "print(sorted(m for m in ('boto3', 'flask', 'cloudtrail_emulator.emulator.server', 'cloudtrail_emulator.generators.pipeline') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.replace("'", '"')) == []


@pytest.mark.parametrize("prefix, org", [(None, None), ("team/a", None), ("logs", "o-abcdefghij")])
def test_bucket_policy_passes_the_servers_check(prefix, org):
    policy = cloudtrail_bucket_policy("audit-bucket", ["123456789012"], prefix, org)
    assert policy_allows_cloudtrail(policy, "audit-bucket", prefix, "123456789012", None)
    assert policy_allows_cloudtrail(policy, "audit-bucket", prefix, "123456789012", org) is True
    assert not policy_allows_cloudtrail(policy, "audit-bucket", prefix, "210987654321", None)
