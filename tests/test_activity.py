"""The activity model through generate(): sessions, resource lifecycles, error bursts, rhythm."""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from cloudtrail_emulator.generators.activity import PERSONAS, persona_of
from cloudtrail_emulator.generators.catalog import load_catalog
from cloudtrail_emulator.generators.run import UnitGenerator, generate, plan_run
from cloudtrail_emulator.generators.population import build_population
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.schemas import record_validator

START = datetime(2024, 3, 4, 8, tzinfo=timezone.utc)       # a Monday morning ...
END = datetime(2024, 3, 5, 8, tzinfo=timezone.utc)         # ... to Tuesday morning
#: a "mixed" organisation: every kind of session acts (IAM users, people's roles, SSO, OIDC pipelines)
RUN = dict(count=8000, start=START, end=END, seed=21, accounts=2, regions=["us-east-1", "eu-west-1"],
           access_style="mixed")
RUN_START = START.strftime("%Y-%m-%dT%H:%M:%SZ")
ISSUERS = ("AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML", "GetFederationToken")
DENIALS = ("AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation")
THROTTLES = ("ThrottlingException", "Client.RequestLimitExceeded", "Throttling")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(generate(**RUN))


def _seconds(record: dict) -> int:
    return int(datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%S%z").timestamp())


def test_records_validate_and_come_in_time_order(records):
    validator = record_validator()
    bad = [r for r in records if not validator.is_valid(r)]
    assert len(records) == RUN["count"]
    assert not bad, next(validator.iter_errors(bad[0])).message
    for account in {r["recipientAccountId"] for r in records}:   # units come account by account
        times = [r["eventTime"] for r in records if r["recipientAccountId"] == account]
        assert times == sorted(times)
    assert {r["recipientAccountId"] for r in records} == {a.account_id for a in build_population(21, 2).accounts}
    assert {"us-east-1", "eu-west-1"} <= {r["awsRegion"] for r in records}


def test_every_session_key_is_used_after_the_call_that_issued_it_by_that_session(records):
    issued: dict[str, tuple[int, str, str]] = {}     # key -> (position, session ARN, eventTime)
    logins: dict[tuple[str, str], int] = {}          # (ARN, eventTime) -> position
    uses = resumed = 0
    for i, record in enumerate(records):
        identity = record["userIdentity"]
        if record["eventName"] in ISSUERS and "errorCode" not in record and record["responseElements"]:
            response = record["responseElements"]
            session = response.get("assumedRoleUser") or response["federatedUser"]
            key = response["credentials"]["accessKeyId"]
            assert key.startswith("ASIA") and len(key) == 20 and key not in issued
            issued[key] = (i, session["arn"], record["eventTime"])
            assert record["awsRegion"] == "us-east-1"   # STS's global endpoint
        if record["eventName"] == "ConsoleLogin":
            logins[(identity.get("arn"), record["eventTime"])] = i
            assert record["awsRegion"] == "us-east-1"
        key = identity.get("accessKeyId", "")
        if not key.startswith("ASIA"):
            continue
        uses += 1
        created = identity["sessionContext"]["attributes"]["creationDate"]
        if key in issued:
            position, arn, at = issued[key]
            assert (arn, at) == (identity["arn"], created), record
            assert position < i and at <= record["eventTime"]
            if identity["type"] == "AssumedRole":
                assert identity["principalId"].startswith("AROA")
                assert identity["principalId"].endswith(":" + arn.rsplit("/", 1)[1])
        elif (identity["arn"], created) in logins:   # a console session: its principal's sign-in
            assert logins[(identity["arn"], created)] < i, record
        else:   # a session under way when the trail starts: its issuing call came before the run
            resumed += 1
            assert created < RUN_START, record
    assert uses > 0.4 * len(records)
    assert 0 < resumed < 0.1 * uses   # only the first hours' sessions; every later one is issued in the trail
    issuers = Counter(records[position]["eventName"] for position, _, _ in issued.values())
    assert {"AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"} <= set(issuers), issuers
    assert logins


def test_long_term_keys_and_services_need_no_session(records):
    kinds = Counter(r["userIdentity"].get("accessKeyId", "none")[:4] for r in records)
    assert kinds["AKIA"] > 100 and kinds["ASIA"] > 1000
    services = [r for r in records if r["userIdentity"].get("invokedBy")]
    assert len(services) > 300


def test_created_resources_are_used_and_deleted_by_their_creator(records):
    factory = RecordFactory(build_population(21, 2), load_catalog())
    lifecycles = 0
    for i, record in enumerate(records):
        if record["eventName"] != "RunInstances" or "errorCode" in record or "arn" not in record["userIdentity"]:
            continue
        creator = record["userIdentity"]["arn"]
        instance = record["responseElements"]["instancesSet"]["items"][0]["instanceId"]
        later = [r for r in records[i + 1:] if instance in json.dumps(r["requestParameters"])]
        mine = [r["eventName"] for r in later if r["userIdentity"].get("arn") == creator]
        if instance not in factory.pool(record["recipientAccountId"], "instance"):   # a new instance
            assert len(mine) == len(later) and "DescribeInstances" in mine   # nobody else knows it
            lifecycles += "TerminateInstances" in mine
    assert lifecycles >= 1
    secrets = [r for r in records if r["eventName"] == "CreateSecret" and
               r["requestParameters"]["name"] not in factory.pool(r["recipientAccountId"], "secret")]
    assert secrets
    for created in secrets:
        arn = created["responseElements"]["arn"]
        assert any(arn == (r["requestParameters"] or {}).get("secretId") and
                   r["userIdentity"]["arn"] == created["userIdentity"]["arn"] for r in records)


def _bursts(records: list[dict], codes: tuple[str, ...], size: int) -> list[list[dict]]:
    """Runs of at least ``size`` failures with ``codes`` by one principal within a minute."""
    by_caller: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        if record.get("errorCode") in codes:
            by_caller[record["userIdentity"].get("arn", "")].append(record)
    found = []
    for failures in by_caller.values():
        for i in range(len(failures) - size + 1):
            window = failures[i:i + size]
            if _seconds(window[-1]) - _seconds(window[0]) <= 60:
                found.append(window)
    return found


def test_access_denied_and_throttling_come_in_bursts(records):
    assert _bursts(records, DENIALS, 3)
    throttled = _bursts(records, THROTTLES, 4)
    assert throttled
    # Describe loops: the same call, read-only (a window may also catch a caller's stray throttle)
    loops = [b for b in throttled if len({r["eventName"] for r in b}) == 1 and b[0]["readOnly"] is True]
    assert len(loops) >= 0.8 * len(throttled)
    errors = sum("errorCode" in r for r in records) / len(records)
    assert 0.04 < errors < 0.15


def test_personas_keep_their_own_rhythm(records):
    """Services run around the clock, people in the working day: services own the night."""
    def service_share(hours: range) -> float:
        chosen = [r for r in records if int(r["eventTime"][11:13]) in hours]
        return sum(1 for r in chosen if r["userIdentity"].get("invokedBy")) / len(chosen)

    assert service_share(range(0, 5)) > 1.5 * service_share(range(12, 17))
    assert {persona_of(p) for p in build_population(21, 2).principals} == set(PERSONAS)


def test_same_seed_same_records_other_seed_other_records(records):
    small = dict(RUN, count=1500)
    first = list(generate(**small))
    assert first == list(generate(**small))
    assert first != list(generate(**dict(small, seed=22)))


def test_a_unit_does_not_depend_on_the_units_made_before_it():
    """Workers make units in any order: each unit's records depend only on (seed, unit, region)."""
    options, population = plan_run(**dict(RUN, count=3000, end=START + timedelta(hours=4)))
    in_order = [list(UnitGenerator(options, population).stream(unit)) for unit in options.plan.units]
    backwards = UnitGenerator(options)
    for unit in reversed(options.plan.units):
        assert list(backwards.stream(unit)) == in_order[unit.index]
