"""Prints eventVersion per service and year, shared requestIDs and session ages of a set of log files.

    .venv/bin/python bench/versions_figures.py DIR [DIR ...]

DIR holds CloudTrail log files (``*.json.gz``, digests skipped): a ``generate --output`` directory or
the reference trails (``../shared/reference/real-cloudtrail``). Reads the files as a consumer would,
without the generator's code. Results: bench/RESULTS.md ("eventVersion calendar, shared requestIDs,
session ages").
"""
from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

SERVICES = ("ec2", "iam", "secretsmanager", "cloudtrail", "s3", "sts", "signin", "kms", "ssm", "health")


def _records(directory: Path) -> list[dict]:
    records: list[dict] = []
    for path in sorted(directory.rglob("*.json.gz")):
        if "CloudTrail-Digest" not in path.parts:
            with gzip.open(path, "rb") as fh:
                records.extend(json.load(fh).get("Records", []))
    return records


def _session_kind(identity: dict) -> str:
    kind = identity.get("type", "none")
    if kind != "AssumedRole":
        return kind
    issuer = identity.get("sessionContext", {}).get("sessionIssuer", {}).get("arn", "")
    for marker, name in (("/aws-service-role/", "service-linked"), ("/service-role/", "service-role"),
                         ("AWSReservedSSO", "sso")):
        if marker in issuer:
            return f"AssumedRole:{name}"
    return "AssumedRole:other"


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def report(directory: Path) -> None:
    records = _records(directory)
    print(f"{directory}: {len(records)} records")
    versions = Counter((r["eventSource"].split(".", 1)[0], r["eventTime"][:4], r["eventVersion"]) for r in records)
    print("eventVersion per service and year:")
    for service in SERVICES:
        row = ", ".join(f"{year} {version} x{n}" for (s, year, version), n in sorted(versions.items()) if s == service)
        print(f"  {service:15s} {row}")
    by_id: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        if record.get("requestID"):
            by_id[record["requestID"]].append(record)
    shared = [group for group in by_id.values() if len(group) > 1]
    print(f"shared requestIDs: {len(shared)} ({sum(map(len, shared))} records)")
    kinds = Counter(tuple(sorted(f"{r['eventSource'].split('.')[0]}:{r['eventName']}" for r in g)) for g in shared)
    for kind, n in kinds.most_common():
        print(f"  {n:5d} {' + '.join(kind)}")
    ages: dict[str, list[float]] = defaultdict(list)
    for record in records:
        identity = record["userIdentity"]
        created = identity.get("sessionContext", {}).get("attributes", {}).get("creationDate")
        if created and len(created) == 20:
            ages[_session_kind(identity)].append((_parse(record["eventTime"]) - _parse(created)).total_seconds())
    print("session age at the call, seconds: kind, n, p10, p50, p90, max")
    for kind, values in sorted(ages.items()):
        values.sort()
        q = [values[min(len(values) - 1, int(p * len(values)))] for p in (0.1, 0.5, 0.9)]
        print(f"  {kind:28s} {len(values):6d} {q[0]:8.0f} {q[1]:8.0f} {q[2]:8.0f} {values[-1]:8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path)
    for directory in parser.parse_args().directories:
        report(directory)


if __name__ == "__main__":
    main()
