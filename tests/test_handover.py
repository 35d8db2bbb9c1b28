"""Sessions that outlive their hour keep their issuing call in the trail, whatever hour they are used in."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from cloudtrail_emulator.generators.pipeline import generate

START = datetime(2024, 6, 3, tzinfo=timezone.utc)
RUN = dict(count=40_000, start=START, end=START + timedelta(days=2), seed=5, accounts=3,
           regions=("us-east-1", "eu-west-1"))
RUN_START = "2024-06-03T00:00:00Z"
MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"), 1)}


def _epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def _sts_epoch(text: str) -> int:
    """STS's 'Jun 3, 2024, 7:05:09 PM' as an epoch."""
    month, day, year, clock, half = text.replace(",", "").split()
    hour, minute, second = (int(x) for x in clock.split(":"))
    hour = hour % 12 + (12 if half == "PM" else 0)
    return int(datetime(int(year), MONTHS[month], int(day), hour, minute, second, tzinfo=timezone.utc).timestamp())


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(generate(**RUN))


def test_every_session_key_begun_in_the_run_has_its_issuing_call_before_its_calls(records):
    issued: dict[str, tuple[int, dict]] = {}
    signed_in: set[tuple[str, str]] = set()
    unissued = []
    for i, record in enumerate(records):
        response = record.get("responseElements")
        if isinstance(response, dict) and "credentials" in response:
            issued[response["credentials"]["accessKeyId"]] = (i, record)
        if record["eventName"] == "ConsoleLogin" and (response or {}).get("ConsoleLogin") == "Success":
            signed_in.add((record["userIdentity"].get("arn"), record["eventTime"]))
        identity = record["userIdentity"]
        key = identity.get("accessKeyId", "")
        if not key.startswith("ASIA"):
            continue
        created = identity["sessionContext"]["attributes"]["creationDate"]
        if key in issued:
            assert issued[key][1]["eventTime"] == created and issued[key][0] < i, record
        elif (identity.get("arn"), created) not in signed_in:
            unissued.append(record)
    assert all(r["userIdentity"]["sessionContext"]["attributes"]["creationDate"] < RUN_START for r in unissued)
    assert len(unissued) < 0.01 * len(records)


def test_sessions_are_used_across_hours_until_their_credentials_expire(records):
    expiry: dict[str, int] = {}
    hours: dict[str, set[int]] = defaultdict(set)
    for record in records:
        response = record.get("responseElements")
        if isinstance(response, dict) and "credentials" in response:
            credentials = response["credentials"]
            expiry[credentials["accessKeyId"]] = _sts_epoch(credentials["expiration"])
        key = record["userIdentity"].get("accessKeyId", "")
        if key in expiry:
            assert _epoch(record["eventTime"]) < expiry[key], record
            hours[key].add(_epoch(record["eventTime"]) // 3600)
    crossing = [key for key, seen in hours.items() if len(seen) > 1]
    assert len(crossing) > 0.1 * len(hours)        # sessions under way at an hour boundary
    instance = [r for r in records if r["eventName"] == "AssumeRole"        # an instance's profile session
                and r["userIdentity"].get("invokedBy") == "ec2.amazonaws.com"
                and (r["requestParameters"] or {}).get("roleSessionName", "").startswith("i-")]
    assert instance
    for record in instance:   # instance-profile credentials live about six hours
        lifetime = _sts_epoch(record["responseElements"]["credentials"]["expiration"]) - _epoch(record["eventTime"])
        assert lifetime == 6 * 3600
    assert max(len(hours[r["responseElements"]["credentials"]["accessKeyId"]]) for r in instance) >= 3
