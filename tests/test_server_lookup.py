"""LookupEvents over boto3 against a running emulator whose index holds generated history."""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from botocore.exceptions import ClientError

from cloudtrail_emulator.emulator.config import EmulatorConfig, FixedClock
from cloudtrail_emulator.emulator.pipeline.events import EventStore, lookup_resources, lookup_username
from fixtures_server import EmulatorServer, start_emulator
from cloudtrail_emulator.generators.pipeline import generate
from cloudtrail_emulator.schemas import validate_record

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
ACCOUNT = "123456789012"
BEFORE_NOW = NOW - timedelta(seconds=1)     # excludes the LookupEvents calls the tests record


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _variant(record: dict, event_id: str, **changes) -> dict:
    out = copy.deepcopy(record)
    out["eventID"] = event_id
    out.update(changes)
    return out


@pytest.fixture(scope="module")
def history() -> list[dict]:
    records = list(generate(count=300, start=NOW - timedelta(days=2), end=NOW - timedelta(seconds=10),
                            seed=3))
    base = records[0]
    records += [
        _variant(base, "00000000-0000-4000-8000-000000000001", eventTime=_stamp(NOW - timedelta(days=91))),
        _variant(base, "00000000-0000-4000-8000-000000000002", eventTime=_stamp(NOW - timedelta(days=89))),
        _variant(base, "00000000-0000-4000-8000-000000000003", managementEvent=False, eventCategory="Data"),
        _variant(base, "00000000-0000-4000-8000-000000000004", recipientAccountId="210987654321"),
        _variant(base, "00000000-0000-4000-8000-000000000005", awsRegion="eu-west-1"),
    ]
    return records


@pytest.fixture(scope="module")
def server(history) -> Iterator[EmulatorServer]:
    running = start_emulator(EmulatorConfig(seed=1, clock=FixedClock(NOW)))
    running.state.events.add(history, deliver=False)
    try:
        yield running
    finally:
        running.running.stop()


@pytest.fixture(scope="module")
def client(server):
    return server.cloudtrail()


def _visible(history: list[dict]) -> list[dict]:
    """What LookupEvents may show the default account in us-east-1 before NOW."""
    floor = _stamp(NOW - timedelta(days=90))
    return [r for r in history if r["recipientAccountId"] == ACCOUNT and r["awsRegion"] == "us-east-1"
            and r.get("managementEvent", True) and floor <= r["eventTime"] <= _stamp(BEFORE_NOW)]


def _all(client, page_size: int = 50, **kwargs) -> list[dict]:
    pages = client.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": page_size},
                                                           **kwargs)
    return [event for page in pages for event in page["Events"]]


def _ids(events) -> list[str]:
    return [e["EventId"] if "EventId" in e else e["eventID"] for e in events]


def _expected_order(records: list[dict]) -> list[str]:
    """Newest first; equal times: the later added (higher seq) first."""
    indexed = list(enumerate(records))
    indexed.sort(key=lambda pair: (pair[1]["eventTime"], pair[0]), reverse=True)
    return [r["eventID"] for _, r in indexed]


ATTRIBUTES = {
    "EventId": lambda r: r["eventID"],
    "EventName": lambda r: r["eventName"],
    "ReadOnly": lambda r: "true" if r["readOnly"] else "false",
    "Username": lambda r: lookup_username(r.get("userIdentity")),
    "EventSource": lambda r: r["eventSource"],
    "AccessKeyId": lambda r: r["userIdentity"].get("accessKeyId"),
    "ResourceType": lambda r: [t for t, _ in lookup_resources(r)],
    "ResourceName": lambda r: [n for _, n in lookup_resources(r)],
}


@pytest.mark.parametrize("key", sorted(ATTRIBUTES))
def test_each_attribute_finds_exactly_its_events_newest_first(client, history, key):
    visible = _visible(history)
    value_of = ATTRIBUTES[key]
    values = [v for r in visible for v in (value_of(r) if isinstance(value_of(r), list) else [value_of(r)]) if v]
    value = max(set(values), key=values.count)          # the most common value: several events
    expected = [r for r in visible
                if value in (value_of(r) if isinstance(value_of(r), list) else [value_of(r)])]
    got = _all(client, LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}], EndTime=BEFORE_NOW)
    assert _ids(got) == _expected_order(expected)
    assert got, key


def test_events_carry_the_lookup_fields_and_the_whole_record(client, history):
    by_id = {r["eventID"]: r for r in history}
    events = client.lookup_events(EndTime=BEFORE_NOW, MaxResults=50)["Events"]
    assert len(events) == 50
    for event in events:
        record = by_id[event["EventId"]]
        assert json.loads(event["CloudTrailEvent"]) == record
        validate_record(json.loads(event["CloudTrailEvent"]))
        assert event["EventName"] == record["eventName"]
        assert event["EventSource"] == record["eventSource"]
        assert event["ReadOnly"] == ("true" if record["readOnly"] else "false")
        assert event["EventTime"] == datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc)
        assert event.get("Username") == lookup_username(record["userIdentity"])
        assert event.get("AccessKeyId") == record["userIdentity"].get("accessKeyId")
        assert [(r.get("ResourceType", ""), r["ResourceName"]) for r in event["Resources"]] == \
            lookup_resources(record)


def test_time_range_bounds_are_inclusive(client, history):
    visible = _visible(history)
    middle = sorted(r["eventTime"] for r in visible)[len(visible) // 2]
    at = datetime.strptime(middle, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    exact = _all(client, StartTime=at, EndTime=at)
    assert sorted(_ids(exact)) == sorted(r["eventID"] for r in visible if r["eventTime"] == middle)
    window = _all(client, StartTime=at - timedelta(hours=1), EndTime=at)
    assert _ids(window) == _expected_order(
        [r for r in visible if _stamp(at - timedelta(hours=1)) <= r["eventTime"] <= middle])


def test_paginator_visits_every_event_once_in_order(client, history):
    got = _all(client, page_size=7, EndTime=BEFORE_NOW)
    assert _ids(got) == _expected_order(_visible(history))
    assert len(set(_ids(got))) == len(got)


def test_window_is_ninety_days_and_excludes_data_other_accounts_and_regions(client, history):
    ids = set(_ids(_all(client, StartTime=NOW - timedelta(days=400), EndTime=BEFORE_NOW)))
    assert "00000000-0000-4000-8000-000000000002" in ids           # 89 days old
    for hidden in ("1", "3", "4", "5"):      # 91 days old, data event, other account, other region
        assert f"00000000-0000-4000-8000-00000000000{hidden}" not in ids


def test_other_account_and_region_see_their_own_events(server):
    theirs = server.cloudtrail(access_key="210987654321").lookup_events(EndTime=BEFORE_NOW)["Events"]
    assert _ids(theirs) == ["00000000-0000-4000-8000-000000000004"]
    ireland = server.cloudtrail(region="eu-west-1").lookup_events(EndTime=BEFORE_NOW)["Events"]
    assert _ids(ireland) == ["00000000-0000-4000-8000-000000000005"]


def test_insight_events_only_with_the_insight_category(server, history):
    insight = {"eventVersion": "1.07", "eventTime": _stamp(NOW - timedelta(hours=1)),
               "awsRegion": "us-east-1", "eventID": "00000000-0000-4000-8000-0000000000aa",
               "eventType": "AwsCloudTrailInsight", "recipientAccountId": ACCOUNT,
               "sharedEventID": "00000000-0000-4000-8000-0000000000bb", "eventCategory": "Insight",
               "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
               "insightDetails": {"state": "Start", "eventSource": "ec2.amazonaws.com",
                                  "eventName": "RunInstances", "insightType": "ApiCallRateInsight",
                                  "insightContext": {}}}
    validate_record(insight)
    server.state.events.add([insight], deliver=False)
    client = server.cloudtrail()
    got = client.lookup_events(EventCategory="insight")["Events"]
    assert _ids(got) == [insight["eventID"]]
    assert insight["eventID"] not in _ids(_all(client, EndTime=BEFORE_NOW))


def test_next_token_is_tied_to_its_query(client):
    first = client.lookup_events(MaxResults=5, EndTime=BEFORE_NOW)
    token = first["NextToken"]
    second = client.lookup_events(MaxResults=5, EndTime=BEFORE_NOW, NextToken=token)
    assert not set(_ids(first["Events"])) & set(_ids(second["Events"]))
    with pytest.raises(client.exceptions.InvalidNextTokenException):
        client.lookup_events(MaxResults=5, EndTime=BEFORE_NOW, NextToken=token, LookupAttributes=[
            {"AttributeKey": "ReadOnly", "AttributeValue": "true"}])
    with pytest.raises(client.exceptions.InvalidNextTokenException):
        client.lookup_events(NextToken="not-a-token")


@pytest.mark.parametrize("kwargs, error", [
    ({"MaxResults": 51}, "InvalidMaxResultsException"),
    ({"LookupAttributes": [{"AttributeKey": "eventname", "AttributeValue": "x"}]},
     "InvalidLookupAttributesException"),
    ({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "a"},
                           {"AttributeKey": "ReadOnly", "AttributeValue": "true"}]},
     "InvalidLookupAttributesException"),
    ({"StartTime": NOW, "EndTime": NOW - timedelta(seconds=1)}, "InvalidTimeRangeException"),
    ({"EventCategory": "bogus"}, "InvalidEventCategoryException"),
])
def test_bad_requests_get_modelled_errors(client, kwargs, error):
    with pytest.raises(getattr(client.exceptions, error)):
        client.lookup_events(**kwargs)


def test_throttle_is_opt_in_and_per_account_and_region():
    server = start_emulator(EmulatorConfig(seed=2, throttle_lookup=True))
    try:
        client = server.cloudtrail()
        client.lookup_events()
        client.lookup_events()
        with pytest.raises(ClientError) as raised:
            for _ in range(3):        # a slow machine may let a second pass between calls
                client.lookup_events()
        assert raised.value.response["Error"]["Code"] == "ThrottlingException"
        server.cloudtrail(region="eu-west-1").lookup_events()
    finally:
        server.running.stop()


# -- the store itself -------------------------------------------------------------------------

def test_store_sequence_duplicates_delivery_feed_and_clear(history, tmp_path):
    store = EventStore(tmp_path / "events.sqlite")
    assert store.add(history[:10], deliver=False) == (1, 10)
    assert store.add(history[5:15]) == (11, 15)          # 5 duplicates ignored
    assert store.add(history[:3]) == (0, -1)
    assert store.max_seq() == 15
    rows = store.since(0, 100)
    assert [seq for seq, _ in rows] == [11, 12, 13, 14, 15]
    assert [json.loads(body)["eventID"] for _, body in rows] == [r["eventID"] for r in history[10:15]]
    assert store.since(12, 2) == rows[2:4]
    store.clear()
    assert store.max_seq() == 0 and store.since(0, 10) == []
    assert store.add(history[:1]) == (16, 16)           # sequence numbers never repeat
    store.close()
    reopened = EventStore(tmp_path / "events.sqlite")
    assert reopened.since(0, 10) == [(16, orjson.dumps(history[0]))]
    reopened.close()
