"""Classifying one record's fields: user-agent families, kinds of source address, workload sessions.

User-agent families, by prefix rules tried in order on the agent without a leading `[`:
| agent starts with / is | family |
|---|---|
| (missing or empty) | `(none)` |
| `AWS Internal` | `AWS Internal` |
| `signin.amazonaws.com` | `signin.amazonaws.com` |
| `console.amazonaws.com` | `console.amazonaws.com` (the console in general) |
| `console.<svc>.amazonaws.com` | `console.<svc>.amazonaws.com` (a service's console) |
| `<name>, aws-internal/...` or `<name>/<v>, aws-internal/...` | `<name>` (a service's console: `S3Console`, `RDS Console`, `AWSCloudTrail`) |
| another `<host>.amazonaws.com` | `AWS service host` |
| `aws-cli/` | `aws-cli` |
| `Boto3/`, `Botocore/` | `Boto3`, `Botocore` |
| `aws-sdk-<lang>/`, `aws-sdk-<lang>-v2/` | `aws-sdk-<lang>`, `aws-sdk-<lang>-v2` |
| `APN/1.0 HashiCorp/...` or `Terraform/` | `Terraform` |
| `Mozilla/` | `browser` |
| `stratus-red-team_` | `stratus-red-team` |
| anything else | `other: <first word>` (up to the first `/`, space or `,`) |

A console family belongs to one service: the family name lowercased without spaces, a leading `aws`
and a trailing `console` (`S3Console` -> `s3`, `RDS Console` -> `rds`, `AWSCloudTrail` ->
`cloudtrail`, `console.ec2.amazonaws.com` -> `ec2`), compared with the eventSource's first label.
"""
from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import NamedTuple

NONE = "(none)"
AWS_INTERNAL = "AWS Internal"
SIGNIN = "signin.amazonaws.com"
CONSOLE = "console.amazonaws.com"
SERVICE_HOST = "AWS service host"
BROWSER = "browser"

_CONSOLE_HOST = re.compile(r"console\.([a-z0-9-]+)\.amazonaws\.com$")
_CONSOLE_NAME = re.compile(r"([A-Za-z0-9][A-Za-z0-9 ]*?)(?:/[^,\s]*)?, aws-internal/")
_SDK = re.compile(r"(aws-sdk-[a-z]+(?:-v\d+)?)/")
_FIRST_WORD = re.compile(r"[^/\s,\[\]]{1,40}")
_PREFIXES = (("aws-cli/", "aws-cli"), ("Boto3/", "Boto3"), ("Botocore/", "Botocore"),
             ("APN/1.0 HashiCorp/", "Terraform"), ("Terraform/", "Terraform"), ("Mozilla/", BROWSER),
             ("stratus-red-team_", "stratus-red-team"))
_INSTANCE_SESSION = re.compile(r"AROA[A-Z0-9]+:i-[0-9a-f]{8,17}$")
LAMBDA_AGENT_MARK = "exec-env/AWS_Lambda"


class Family(NamedTuple):
    """A user-agent family and, for a service's console, that service (`S3Console` -> `s3`)."""

    name: str
    console: str | None = None


@lru_cache(maxsize=65536)
def agent_family(agent: str | None) -> Family:
    """The family of a userAgent (rules in the module docstring)."""
    text = (agent or "").lstrip("[").strip()
    if not text:
        return Family(NONE)
    if text in (AWS_INTERNAL, SIGNIN, CONSOLE):
        return Family(text)
    host = _CONSOLE_HOST.match(text)
    if host:
        return Family(text, host.group(1))
    console = _CONSOLE_NAME.match(text)
    if console:
        name = console.group(1).strip()
        return Family(name, name.lower().replace(" ", "").removeprefix("aws").removesuffix("console") or None)
    if text.endswith(".amazonaws.com") and " " not in text:
        return Family(SERVICE_HOST)
    for prefix, family in _PREFIXES:
        if text.startswith(prefix):
            return Family(family)
    sdk = _SDK.match(text)
    if sdk:
        return Family(sdk.group(1))
    word = _FIRST_WORD.match(text)
    return Family(f"other: {word.group(0) if word else text[:40]}")


def service_label(event_source: str) -> str:
    """The eventSource's first label (`s3.amazonaws.com` -> `s3`)."""
    return event_source.split(".", 1)[0]


@lru_cache(maxsize=65536)
def ip_kind(address: str) -> str:
    """`AWS Internal`, `service` (`*.amazonaws.com`), `private` or `public` (an IP literal), or `other`."""
    if not address:
        return "other"
    if address == AWS_INTERNAL:
        return AWS_INTERNAL
    if address.endswith(".amazonaws.com"):
        return "service"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "other"
    return "private" if ip.is_private else "public"


def is_workload_session(identity: dict, agent: str | None) -> bool:
    """An EC2 instance-profile session (principalId `AROA...:i-...`) or a Lambda function's session
    (an AssumedRole whose agent carries `exec-env/AWS_Lambda`): an approximation by the record alone."""
    if identity.get("type") != "AssumedRole":
        return False
    if _INSTANCE_SESSION.search(identity.get("principalId") or ""):
        return True
    return LAMBDA_AGENT_MARK in (agent or "")
