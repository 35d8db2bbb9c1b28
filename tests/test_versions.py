"""eventVersion per service and date, read from generated records as a consumer reads them.

Expected versions are literals from dated real records (sources in generators/versions.py):
- 2023-07-10: the Invictus reference trail (shared/reference/real-cloudtrail/invictus-aws-dataset):
  cloudtrail 1.09, every other service 1.08;
- 2024-07-31: Stratus Red Team detonation logs (github.com/DataDog/stratus-red-team, detonation-logs/):
  ec2 1.09 (ec2-get-password-data, 2024-07-30), iam 1.09 (iam-create-admin-user, 2024-08-01),
  secretsmanager 1.09 (secretsmanager-retrieve-secrets, 2024-07-31), cloudtrail 1.10 (cloudtrail-stop,
  2024-07-31), signin 1.08 (console-login-without-mfa, 2024-08-02), ssm 1.08 (2024-08-01);
  kms 1.09 (AWS Glue Data Quality guide's Decrypt record, 2024-07-02); s3 1.10 (public trails,
  2024-09-18 and 2024-10-21); sts 1.08 (sts-federation-token, 2024-11-30, and the 2025 reference);
- 2025-03-06: the cloud-snitch reference trail: ec2 1.10, s3/kms/ssm 1.11, sts 1.08; iam,
  secretsmanager, cloudtrail and signin keep their last observed version (no dated 2025 record).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from cloudtrail_emulator.generators.pipeline import generate

EXPECTED = {
    "2023-07-10": {"ec2": "1.08", "iam": "1.08", "secretsmanager": "1.08", "cloudtrail": "1.09", "s3": "1.08",
                   "sts": "1.08", "signin": "1.08", "kms": "1.08", "ssm": "1.08"},
    "2024-07-31": {"ec2": "1.09", "iam": "1.09", "secretsmanager": "1.09", "cloudtrail": "1.10", "s3": "1.10",
                   "sts": "1.08", "signin": "1.08", "kms": "1.09", "ssm": "1.08"},
    "2025-03-06": {"ec2": "1.10", "iam": "1.09", "secretsmanager": "1.09", "cloudtrail": "1.10", "s3": "1.11",
                   "sts": "1.08", "signin": "1.08", "kms": "1.11", "ssm": "1.11"},
}


@pytest.mark.parametrize("day", sorted(EXPECTED))
def test_generated_records_carry_the_version_aws_wrote_that_day(day):
    start = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
    seen: dict[str, set[str]] = defaultdict(set)
    for record in generate(count=12_000, start=start, end=start + timedelta(days=1), seed=7, accounts=2):
        seen[record["eventSource"].split(".", 1)[0]].add(record["eventVersion"])
    for service, version in EXPECTED[day].items():
        assert seen[service] == {version}, (day, service, seen[service])


@pytest.mark.parametrize("day", ["2023-07-10", "2024-07-31"])
def test_vpc_endpoint_owner_is_written_from_version_1_09(day):
    # AWS CloudTrail User Guide, record contents: vpcEndpointAccountId "Since: 1.09"
    start = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
    through_endpoints = [r for r in generate(count=12_000, start=start, end=start + timedelta(days=1), seed=7,
                                             accounts=2) if "vpcEndpointId" in r]
    assert len(through_endpoints) > 20
    owners = 0
    for record in through_endpoints:
        if record["eventVersion"] in ("1.09", "1.10", "1.11"):
            keys = list(record)
            assert record["vpcEndpointAccountId"] == record["recipientAccountId"], record
            assert keys.index("vpcEndpointAccountId") == keys.index("vpcEndpointId") + 1
            owners += 1
        else:
            assert record["eventVersion"] == "1.08" and "vpcEndpointAccountId" not in record, record
    assert (owners > 0) == (day >= "2024")
