"""The eventVersion calendar: which record format version CloudTrail wrote for a service from a date.

CloudTrail does not move every service to a new eventVersion at once: in July 2023 cloudtrail's own
events were 1.09 and every other service's 1.08; by mid-2024 ec2, iam and secretsmanager wrote 1.09
and cloudtrail 1.10, while ssm, signin and sts stayed at 1.08; in 2025 s3, kms, ssm and health write
1.11, ec2 1.10 and sts still 1.08. What each minor version added (AWS CloudTrail User Guide, "CloudTrail
record contents"): 1.08 `addendum`, `edgeDeviceDetails`, `sessionCredentialFromConsole`,
`tlsDetails`; 1.09 `vpcEndpointAccountId`; 1.11 `eventContext` (CloudTrail Lake's enrichment with
resource tags and global condition keys, a late-2024 feature); the page names no field of 1.10.

Dated observations the calendar follows (service: day -> version, source):

- ``ref`` = /work/shared/reference/real-cloudtrail: invictus-aws-dataset (2023-07-10: cloudtrail 1.09,
  every other service 1.08) and cloud-snitch (2025-03-06: ec2 1.10; s3, kms, ssm, health 1.11; sts 1.08);
- ``stratus`` = Stratus Red Team's detonation logs (github.com/DataDog/stratus-red-team,
  ``detonation-logs/``, real trails of its detonations): ec2 2024-07-30 1.09 (ec2-get-password-data),
  secretsmanager 2024-07-31 1.09 (secretsmanager-retrieve-secrets, -batch-retrieve-secrets),
  cloudtrail 2024-07-31 1.10 (cloudtrail-stop), iam 2024-08-01 1.09 (iam-create-admin-user),
  ssm 2024-08-01 1.08 (ssm-retrieve-securestring-parameters), signin 2024-08-02 1.08
  (console-login-without-mfa), ec2-instance-connect 2024-11-26 1.08, sts 2024-11-30 1.08
  (sts-federation-token);
- ``docs``: Wazuh's documentation of its CloudTrail module, cloudtrail StartLogging 2023-07-19 1.09;
  AWS Glue Data Quality developer guide (monitoring encryption keys), kms Decrypt 2024-07-02 1.09;
- public trails of Stratus detonations and the TryHackMe Advent of Cyber 2024 room: s3
  PutBucketPolicy 2024-09-18 1.10, s3 ListObjects 2024-10-21 1.10.

Where two observations of different versions frame a change, the change is put at the first of the
month nearest their midpoint (the exact day is not published), 1.11 not before 2024-11-01 (s3 was
still 1.10 on 2024-10-21). Services never observed keep the default; a service observed at one
version keeps it until an observation says otherwise.
"""
from __future__ import annotations

from bisect import bisect_right

DEFAULT = "*"
#: the first eventVersion with `vpcEndpointAccountId` beside `vpcEndpointId` (compared as text: "1.xx")
VPCE_ACCOUNT_VERSION = "1.09"

#: eventSource -> ((first day, version), ...) oldest first; DEFAULT for every service not listed.
#: 1.05 before 2020 and 1.08 from 2020 for every service are the catalog's earlier defaults, kept.
CALENDAR: dict[str, tuple[tuple[str, str], ...]] = {
    # ref 2023-07 1.08 for all but cloudtrail; stratus: ssm, signin, sts, ec2-instance-connect 1.08 in 2024
    DEFAULT: (("1970-01-01", "1.05"), ("2020-01-01", "1.08")),
    # ref 2023-07-10 1.09, docs 2023-07-19 1.09 (start of 1.09 unobserved: 2023); stratus 2024-07-31 1.10
    "cloudtrail.amazonaws.com": (("1970-01-01", "1.05"), ("2020-01-01", "1.08"), ("2023-01-01", "1.09"),
                                 ("2024-01-01", "1.10")),
    # ref 2023-07-10 1.08; stratus 2024-07-30 1.09; ref 2025-03-06 1.10
    "ec2.amazonaws.com": (("1970-01-01", "1.05"), ("2020-01-01", "1.08"), ("2024-01-01", "1.09"),
                          ("2024-11-01", "1.10")),
    # ref 2023-07-10 1.08; stratus 2024-08-01 1.09 (no dated 2025 record seen: 1.09 kept)
    "iam.amazonaws.com": (("1970-01-01", "1.05"), ("2020-01-01", "1.08"), ("2024-01-01", "1.09")),
    # ref 2023-07-10 1.08; stratus 2024-07-31 1.09 (no dated 2025 record seen: 1.09 kept)
    "secretsmanager.amazonaws.com": (("1970-01-01", "1.05"), ("2020-01-01", "1.08"), ("2024-01-01", "1.09")),
    # ref 2023-07-10 1.08; docs 2024-07-02 1.09; ref 2025-03-06 1.11
    "kms.amazonaws.com": (("1970-01-01", "1.05"), ("2020-01-01", "1.08"), ("2024-01-01", "1.09"),
                          ("2024-11-01", "1.11")),
    # ref 2023-07-10 1.08; public trails 2024-09-18 and 2024-10-21 1.10; ref 2025-03-06 1.11
    "s3.amazonaws.com": (("1970-01-01", "1.05"), ("2020-01-01", "1.08"), ("2024-02-01", "1.10"),
                         ("2024-11-01", "1.11")),
    # stratus 2024-08-01 1.08; ref 2025-03-06 1.11
    "ssm.amazonaws.com": (("1970-01-01", "1.05"), ("2020-01-01", "1.08"), ("2024-11-01", "1.11")),
    # ref 2023-07-10 1.08, 2025-03-06 1.11
    "health.amazonaws.com": (("1970-01-01", "1.05"), ("2020-01-01", "1.08"), ("2024-11-01", "1.11")),
}

_STARTS = {source: [day for day, _ in rules] for source, rules in CALENDAR.items()}


def event_version(event_source: str, day: str) -> str:
    """eventVersion CloudTrail wrote for ``event_source`` on ``day`` (``YYYY-MM-DD``)."""
    rules = CALENDAR.get(event_source) or CALENDAR[DEFAULT]
    starts = _STARTS.get(event_source) or _STARTS[DEFAULT]
    return rules[max(0, bisect_right(starts, day) - 1)][1]
