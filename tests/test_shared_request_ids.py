"""requestIDs shared between records only where real CloudTrail shares them (generated records, read back)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

from fixtures_paths import load_real_records

from cloudtrail_emulator.generators.pipeline import generate

START = datetime(2024, 6, 3, tzinfo=timezone.utc)
HEALTH_PAIR = ("health:DescribeEventAggregates", "health:DescribeEventAggregates")
SECRET_PAIR = ("secretsmanager:EndSecretVersionDelete", "secretsmanager:StartSecretVersionDelete")


def _shared(records) -> list[list[dict]]:
    by_id: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        if record.get("requestID"):
            by_id[record["requestID"]].append(record)
    return [group for group in by_id.values() if len(group) > 1]


def _kind(group: list[dict]) -> tuple[str, ...]:
    return tuple(sorted(f"{r['eventSource'].split('.')[0]}:{r['eventName']}" for r in group))


def test_the_reference_shares_request_ids_in_three_ways_only():
    kinds = {_kind(group) for group in _shared(load_real_records())}
    assert kinds == {HEALTH_PAIR, SECRET_PAIR, ("ec2:RunInstances", "sts:AssumeRole", "sts:AssumeRole")}


def test_generated_records_share_request_ids_as_real_ones_do():
    records = list(generate(count=60_000, start=START, end=START + timedelta(days=3), seed=5, accounts=3,
                            regions=["us-east-1", "eu-west-1"]))
    assert len(records) == 60_000           # a twin takes the place of a planned call: the count holds
    groups = _shared(records)
    kinds = [_kind(group) for group in groups]
    assert kinds.count(HEALTH_PAIR) >= 20 and kinds.count(SECRET_PAIR) >= 1, kinds
    assert set(kinds) <= {HEALTH_PAIR, SECRET_PAIR}
    for group in groups:
        first, second = group
        assert first["eventTime"] == second["eventTime"] and first["eventID"] != second["eventID"]
        assert list(first) == list(second) or set(first) ^ set(second) <= {"tlsDetails", "vpcEndpointId"}
        if _kind(group) == HEALTH_PAIR:      # the console session's call, and Health's own record of it
            console, service = sorted(group, key=lambda r: "invokedBy" in r["userIdentity"])
            assert console["sessionCredentialFromConsole"] == service["sessionCredentialFromConsole"] == "true"
            assert "invokedBy" not in console["userIdentity"]
            assert service["userIdentity"]["invokedBy"] == service["sourceIPAddress"] == "health.amazonaws.com"
            assert service["userAgent"] == "AWS Internal" and "tlsDetails" not in service
            assert service["userIdentity"]["arn"] == console["userIdentity"]["arn"]
        else:                                # Secrets Manager's deletion events of one secret
            assert first["additionalEventData"] == second["additionalEventData"]
            head = f"SecretDeleteMessage:{first['additionalEventData']['ARN']}:"
            assert first["requestID"].startswith(head) and first["requestID"].endswith(":Forced")
            requested = datetime.strptime(first["requestID"][len(head):-len(":Forced")], "%Y-%m-%dT%H:%M:%SZ")
            event = datetime.strptime(first["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
            assert requested.second == 0 and timedelta(0) < event - requested < timedelta(seconds=90)
    alone = [r for r in records if r["eventName"] == "DescribeEventAggregates"
             and r.get("sessionCredentialFromConsole") == "true"]
    paired = {id(r) for group in groups for r in group}
    assert sum(id(r) not in paired for r in alone) < 0.1 * len(alone)   # console Health calls come in pairs
