"""RecordFactory: records in CloudTrail's key order and JSON types, realistic values, deterministic."""
from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from fixtures_paths import load_real_records
from cloudtrail_emulator.generators.catalog import load_catalog
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import build_population
from cloudtrail_emulator.generators.records import RecordFactory

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
S3_REQUEST_ID = re.compile(r"^[0-9A-Z]{16}$")
EVENT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CORE_KEYS = ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
             "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "eventID", "readOnly",
             "eventType", "managementEvent", "recipientAccountId", "eventCategory")
WHEN = datetime(2023, 7, 10, 12, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def population():
    return build_population(11, 2)


@pytest.fixture(scope="module")
def factory(population):
    return RecordFactory(population, load_catalog())


@pytest.fixture(scope="module")
def real():
    return load_real_records()


@pytest.fixture(scope="module")
def real_order(real):
    """Every (a, b) with key a before key b in some real record, at the top level and in userIdentity."""
    before = set()
    for record in real:
        for keys in (list(record), list(record["userIdentity"])):
            before.update((a, b) for i, a in enumerate(keys) for b in keys[i + 1:])
    return before


def _json_type(value) -> str:
    return {bool: "bool", int: "number", float: "number", str: "string", list: "list", dict: "object",
            type(None): "null"}[type(value)]


@pytest.fixture(scope="module")
def real_types(real):
    types = defaultdict(set)
    for record in real:
        for key, value in record.items():
            types[key].add(_json_type(value))
        for key, value in record["userIdentity"].items():
            types["userIdentity." + key].add(_json_type(value))
        attributes = record["userIdentity"].get("sessionContext", {}).get("attributes", {})
        for key, value in attributes.items():
            types["attributes." + key].add(_json_type(value))
    return types


def _check_shape(record: dict, real_order: set, real_types: dict) -> None:
    for keys in (list(record), list(record["userIdentity"])):
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                assert (b, a) not in real_order, f"{record['eventName']}: {a} before {b} contradicts real records"
    assert all(k in record for k in CORE_KEYS), record["eventName"]
    for key, value in record.items():
        if key in real_types:
            assert _json_type(value) in real_types[key], f"{record['eventName']}.{key}"
    for key, value in record["userIdentity"].items():
        if "userIdentity." + key in real_types:
            assert _json_type(value) in real_types["userIdentity." + key], key
    attributes = record["userIdentity"].get("sessionContext", {}).get("attributes", {})
    for key, value in attributes.items():
        assert _json_type(value) in real_types["attributes." + key], key
    assert EVENT_TIME.match(record["eventTime"])
    assert UUID.match(record["eventID"])
    request_id = record.get("requestID")
    if record["eventSource"] == "s3.amazonaws.com" and "bucketName" in (record["requestParameters"] or {}):
        assert S3_REQUEST_ID.match(request_id)
    elif record["eventSource"] == "s3.amazonaws.com":  # ListBuckets: S3 style; S3 Control: UUIDs
        assert S3_REQUEST_ID.match(request_id) or UUID.match(request_id)
    elif request_id is not None and record["eventType"] == "AwsApiCall":
        assert UUID.match(request_id)


def test_reference_pairs_match_real_order_and_types(factory, population, real, real_order, real_types):
    catalog = factory.catalog
    rng = random.Random(3)
    account = population.accounts[0].account_id
    pairs = sorted({(r["eventSource"], r["eventName"]) for r in real} & catalog.pairs())
    for source, name in pairs:
        entry = catalog.get(source, name)
        for principal in population.principals_in(account)[::3]:
            _check_shape(factory.make(rng, WHEN, account, "eu-west-1", principal, entry), real_order, real_types)


def test_every_catalog_entry_makes_a_valid_record(factory, population, real_order, real_types):
    rng = random.Random(4)
    account = population.accounts[1].account_id
    for entry in factory.catalog.entries:
        record = factory.make(rng, WHEN, account, "us-west-2", entry=entry)
        _check_shape(record, real_order, real_types)
        assert record["eventSource"] == entry.event_source and record["eventName"] == entry.event_name
        assert record["managementEvent"] is entry.management
        assert record["eventCategory"] == ("Management" if entry.management else "Data")


def test_real_s3_request_ids_have_the_checked_shape(real):
    ids = [r["requestID"] for r in real if "bucketName" in (r["requestParameters"] or {})]
    assert ids and all(S3_REQUEST_ID.match(i) for i in ids)


def test_same_seed_same_records(population):
    def run(seed):
        factory = RecordFactory(population, load_catalog())
        rng = random.Random(seed)
        account = population.accounts[0].account_id
        return [factory.make(rng, WHEN + timedelta(seconds=i), account, "us-east-1") for i in range(300)]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_drawn_records_are_realistic(factory, population):
    rng = random.Random(9)
    account = population.accounts[0].account_id
    records = [factory.make(rng, WHEN + timedelta(seconds=i), account, "eu-central-1") for i in range(4000)]
    reads = sum(r["readOnly"] for r in records) / len(records)
    errors = sum("errorCode" in r for r in records) / len(records)
    print(f"\nreads {reads:.1%}, errors {errors:.1%}, tlsDetails {sum('tlsDetails' in r for r in records) / 4000:.1%}")
    assert 0.78 <= reads <= 0.95
    assert 0.03 <= errors <= 0.12
    assert all(r["managementEvent"] for r in records)  # data events only when asked for
    assert len({r["eventSource"] for r in records}) >= 15
    for r in records:
        assert r["recipientAccountId"] == account
        assert r["eventTime"] == "2023-07-10T" + (WHEN + timedelta(seconds=records.index(r))).strftime("%H:%M:%SZ") \
            if r is records[0] else True
        invoked_by = r["userIdentity"].get("invokedBy")
        if invoked_by:
            assert "tlsDetails" not in r and r["sourceIPAddress"] == invoked_by
        attributes = r["userIdentity"].get("sessionContext", {}).get("attributes")
        if attributes:
            created = datetime.strptime(attributes["creationDate"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            event = datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            assert event - timedelta(hours=12) <= created <= event
        if r["eventSource"] in ("iam.amazonaws.com", "signin.amazonaws.com", "sts.amazonaws.com"):
            assert r["awsRegion"] == "us-east-1"
        if "{" in r["userAgent"]:
            pytest.fail(f"unfilled user agent {r['userAgent']}")
    assert Counter(r["awsRegion"] for r in records)["eu-central-1"] > 2000


def test_data_events_when_asked(population):
    factory = RecordFactory(population, load_catalog(), data_events=True)
    rng = random.Random(2)
    account = population.accounts[0].account_id
    records = [factory.make(rng, WHEN, account, "us-east-1") for _ in range(3000)]
    data = [r for r in records if not r["managementEvent"]]
    assert data and all(r["eventCategory"] == "Data" for r in data)


def test_event_specific_shapes(factory, population):
    catalog = factory.catalog
    rng = random.Random(1)
    account = population.accounts[0].account_id
    user = next(p for p in population.principals_in(account) if p.kind == "IAMUser" and not p.console)
    console = next(p for p in population.principals_in(account) if p.console)

    assume = factory.make(rng, WHEN, account, "us-east-1", user, catalog.get("sts.amazonaws.com", "AssumeRole"))
    if "errorCode" not in assume:
        credentials = assume["responseElements"]["credentials"]
        assert re.match(r"^ASIA[0-9A-Z]{16}$", credentials["accessKeyId"])
        assert credentials["expiration"] == "Jul 10, 2023, 1:30:15 PM"

    bucket = factory.make(rng, WHEN, account, "us-east-1", user, catalog.get("s3.amazonaws.com", "GetBucketAcl"))
    params = bucket["requestParameters"]
    assert params["Host"] == f"{params['bucketName']}.s3.us-east-1.amazonaws.com"
    assert bucket["resources"][0]["ARN"] == f"arn:aws:s3:::{params['bucketName']}"
    assert set(bucket["additionalEventData"]) >= {"SignatureVersion", "CipherSuite", "bytesTransferredIn",
                                                  "AuthenticationMethod", "x-amz-id-2", "bytesTransferredOut"}

    login = factory.make(rng, WHEN, account, "eu-west-1", console, catalog.get("signin.amazonaws.com", "ConsoleLogin"))
    assert login["awsRegion"] == "us-east-1" and login["responseElements"] == {"ConsoleLogin": "Success"}
    assert "requestID" not in login and "accessKeyId" not in login["userIdentity"]
    assert set(login["additionalEventData"]) == {"LoginTo", "MobileVersion", "MFAUsed"}

    described = factory.make(rng, WHEN, account, "us-east-1", console,
                             catalog.get("ec2.amazonaws.com", "DescribeInstances"))
    assert described["sessionCredentialFromConsole"] == "true"
    instance = described["requestParameters"]["instancesSet"]["items"][0]["instanceId"]
    assert re.match(r"^i-[0-9a-f]{17}$", instance)


def test_naive_times_are_refused(factory, population):
    with pytest.raises(GeneratorError, match="timezone"):
        factory.make(random.Random(1), datetime(2023, 1, 1), population.accounts[0].account_id, "us-east-1")
