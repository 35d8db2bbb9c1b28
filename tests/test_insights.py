"""CloudTrail Insights: detection over generated trails, the files' layout, and live delivery by the server."""
from __future__ import annotations

import gzip
import json
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from cloudtrail_emulator import schemas
from cloudtrail_emulator.emulator.config import EmulatorConfig
from fixtures_server import start_emulator
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.insights import InsightDetector, InsightSettings, detect_insights
from cloudtrail_emulator.generators.trail.layout import insight_file_key
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.pipeline import generate, generate_trail, plan_run, scenario_runs
from cloudtrail_emulator.generators.scenarios.plan import ScenarioSpec
from cloudtrail_emulator.generators.stores import LocalStore
from cloudtrail_emulator.generators.validate import validate_trail

START = datetime(2024, 5, 1, tzinfo=timezone.utc)
ATTACK = datetime(2024, 5, 1, 3, 0, tzinfo=timezone.utc)
#: an attacker repeating key deletion and discovery: DisableKey/ScheduleKeyDeletion and denied List calls spike
BURST = [ScenarioSpec("kms-key-deletion", at=ATTACK)] * 5 + [ScenarioSpec("discovery-burst", at=ATTACK)] * 8
INSIGHT_KEY = re.compile(r"^AWSLogs/(?:o-[a-z0-9]{10,32}/)?(\d{12})/CloudTrail-Insight/([a-z0-9-]+)/(\d{4})/(\d\d)/(\d\d)/"
                         r"\1_CloudTrail-Insight_\2_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$")


def _pairs(records: list[dict]) -> dict[str, dict[str, dict]]:
    """sharedEventID -> {state: record}; fails on a repeated state."""
    pairs: dict[str, dict[str, dict]] = {}
    for record in records:
        states = pairs.setdefault(record["sharedEventID"], {})
        assert record["insightDetails"]["state"] not in states
        states[record["insightDetails"]["state"]] = record
    return pairs


def _insight_records(root: Path) -> tuple[list[str], list[dict]]:
    keys = sorted(str(p.relative_to(root)) for p in root.rglob("*.json.gz") if "CloudTrail-Insight" in p.parts)
    records = [r for key in keys for r in json.loads(gzip.decompress((root / key).read_bytes()))["Records"]]
    return keys, records


def _check_insight_files(root: Path) -> list[tuple[str, str, str | None]]:
    """Reads a trail's Insights files back, checks their keys and records against AWS's shape; the
    (insightType, eventName, errorCode) of each Start/End pair."""
    keys, records = _insight_records(root)
    for key in keys:
        match = INSIGHT_KEY.match(key)
        assert match, key
        assert match.group(6)[:8] == "".join(match.group(3, 4, 5))
        assert int(match.group(6)[11:13]) % 5 == 0
    for record in records:
        schemas.validate_record(record)
        assert list(record) == ["eventVersion", "eventTime", "awsRegion", "eventID", "eventType",
                                "recipientAccountId", "sharedEventID", "insightDetails", "eventCategory"]
    pairs = _pairs(records)
    assert len(pairs) * 2 == len(records)
    kinds = []
    for states in pairs.values():
        start, end = states["Start"], states["End"]
        assert start["eventTime"] < end["eventTime"] and start["eventID"] != end["eventID"]
        details = start["insightDetails"]
        kinds.append((details["insightType"], details["eventName"], details.get("errorCode")))
        assert end["insightDetails"]["eventName"] == details["eventName"]
        stats_start = details["insightContext"]["statistics"]
        stats_end = end["insightDetails"]["insightContext"]["statistics"]
        assert "insightDuration" not in stats_start and stats_end["insightDuration"] >= 1
        assert stats_end["baselineDuration"] >= 60
        assert stats_start["insight"]["average"] >= 10 * max(stats_start["baseline"]["average"], 1)
        duration = (datetime.strptime(end["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
                    - datetime.strptime(start["eventTime"], "%Y-%m-%dT%H:%M:%SZ"))
        assert duration == timedelta(minutes=stats_end["insightDuration"])
        attributes = [a["attribute"] for a in details["insightContext"]["attributions"]]
        if details["insightType"] == "ApiCallRateInsight":
            assert start["eventVersion"] == "1.07" and attributes == ["userIdentityArn", "userAgent", "errorCode"]
        else:
            assert start["eventVersion"] == "1.08" and attributes == ["userIdentityArn", "userAgent"]
            assert details["errorCode"]
    return kinds


def test_generated_trail_with_a_burst_has_insight_pairs_in_insight_files(tmp_path):
    out = tmp_path / "trail"
    summary = generate_trail(str(out), data_dir=tmp_path / "data", start=START, end=START + timedelta(hours=6),
                             seed=1, scenarios=BURST, insights=True)
    kinds = _check_insight_files(out)
    assert summary.insight_records == 2 * len(kinds) >= 4
    assert summary.insight_files == len(_insight_records(out)[0])
    names = {(kind, name) for kind, name, _ in kinds}
    assert ("ApiCallRateInsight", "DisableKey") in names and ("ApiCallRateInsight", "ScheduleKeyDeletion") in names
    assert {error for kind, _, error in kinds if kind == "ApiErrorRateInsight"} <= {
        "AccessDenied", "Client.UnauthorizedOperation", "AccessDeniedException"}
    assert any(kind == "ApiErrorRateInsight" for kind, _, _ in kinds)
    # insight files are outside the digests: the trail still validates
    report = validate_trail(LocalStore.directory(out, "cloudtrail-emulator-logs"), "cloudtrail-emulator-logs",
                            keyring=Keyring(tmp_path / "data"))
    assert report.ok, report.render()


def test_a_baseline_week_has_a_handful_of_insights(tmp_path):
    """The issue's baseline (was: no Insights event at all): deploy waves, automation loops and
    error storms make a few Insights events a week, not dozens (replaces the flat-baseline test)."""
    out = tmp_path / "trail"
    generate_trail(str(out), data_dir=tmp_path / "data", count=100_000, seed=5, accounts=3,
                   regions=["us-east-1", "eu-west-1"], start=datetime(2024, 6, 3, tzinfo=timezone.utc),
                   end=datetime(2024, 6, 10, tzinfo=timezone.utc), insights=True, validation=False)
    kinds = _check_insight_files(out)
    assert 3 <= len(kinds) <= 15
    assert {kind for kind, _, _ in kinds} == {"ApiCallRateInsight", "ApiErrorRateInsight"}


@pytest.mark.parametrize("name, kind, event", [("ec2-miner-launch-flood", "ApiCallRateInsight", "RunInstances"),
                                               ("secrets-denied-storm", "ApiErrorRateInsight", "GetSecretValue")])
def test_each_insight_scenario_yields_its_insight(name, kind, event):
    spec = ScenarioSpec(name, at=ATTACK)
    options, population = plan_run(start=START, end=START + timedelta(hours=5), seed=2, scenarios=[spec])
    [run] = scenario_runs(options, population)
    found = [r for r in detect_insights(generate(start=START, end=START + timedelta(hours=5), seed=2,
                                                 scenarios=[spec]), random.Random(0))
             if r["insightDetails"]["insightType"] == kind and r["insightDetails"]["eventName"] == event]
    assert [r["insightDetails"]["state"] for r in found] == ["Start", "End"]
    start = found[0]
    assert ATTACK <= datetime.strptime(start["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) \
        <= ATTACK + timedelta(minutes=5)
    users = start["insightDetails"]["insightContext"]["attributions"][0]
    assert users["attribute"] == "userIdentityArn"
    callers = {r["userIdentity"]["arn"] for r in run.records if r["eventName"] == event}
    assert [users["insight"][0]["value"]] == list(callers)   # the actor's session, after its issuing call


def test_detection_is_deterministic_and_needs_a_baseline():
    def run(start: datetime) -> list[dict]:
        return list(detect_insights(generate(start=start, end=START + timedelta(hours=4), seed=1, scenarios=BURST),
                                    random.Random(7)))
    first = run(START)
    assert first and first == run(START)
    assert run(ATTACK - timedelta(minutes=30)) == []      # half an hour of baseline: under the warm-up


def test_an_insight_lasts_while_the_rate_stays_high():
    detector = InsightDetector(random.Random(0), InsightSettings(warmup=timedelta(minutes=10)))

    def call(at: datetime, name: str = "CreateUser", **extra) -> dict:
        return {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/a"},
                "eventTime": f"{at:%Y-%m-%dT%H:%M:%SZ}", "eventSource": "iam.amazonaws.com", "eventName": name,
                "awsRegion": "us-east-1", "userAgent": "aws-cli/2", "readOnly": False, "eventType": "AwsApiCall",
                "managementEvent": True, "recipientAccountId": "111122223333", "eventCategory": "Management",
                **extra}
    out = [r for m in range(30) for r in detector.add(call(START + timedelta(minutes=m)))]
    burst = START + timedelta(minutes=30)
    for m, n in ((0, 20), (1, 12), (2, 3)):        # 20 a minute, then 12 (above half the threshold), then 3
        out += [r for i in range(n) for r in detector.add(call(burst + timedelta(minutes=m, seconds=i)))]
    out += detector.add(call(burst + timedelta(minutes=3), "GetUser", readOnly=True))
    assert [r["insightDetails"]["state"] for r in out] == ["Start"]
    out += detector.advance(burst + timedelta(minutes=10))
    start, end = out
    assert start["eventTime"] == "2024-05-01T00:30:00Z" and end["eventTime"] == "2024-05-01T00:32:00Z"
    stats = end["insightDetails"]["insightContext"]["statistics"]
    assert stats == {"baseline": {"average": 1}, "insight": {"average": 16}, "insightDuration": 2,
                     "baselineDuration": 30}
    users = end["insightDetails"]["insightContext"]["attributions"][0]
    assert users == {"attribute": "userIdentityArn",
                     "insight": [{"value": "arn:aws:iam::111122223333:user/a", "average": 16}],
                     "baseline": [{"value": "arn:aws:iam::111122223333:user/a", "average": 1}]}


def test_insight_key_layout_and_bad_settings():
    at = datetime(2024, 5, 1, 12, 7, 30, tzinfo=timezone.utc)
    assert insight_file_key("p", "111122223333", "eu-west-1", at, "A" * 16, "o-abcdefghij") == (
        "p/AWSLogs/o-abcdefghij/111122223333/CloudTrail-Insight/eu-west-1/2024/05/01/"
        "111122223333_CloudTrail-Insight_eu-west-1_20240501T1205Z_AAAAAAAAAAAAAAAA.json.gz")
    with pytest.raises(GeneratorError):
        InsightSettings(types=("Bogus",))
    with pytest.raises(GeneratorError):
        InsightSettings(factor=1)


# -- live delivery by the server -------------------------------------------------------------------

ACCOUNT = "123456789012"
BUCKET = "insight-trail"


def _api_call(at: datetime, name: str, n: int, error: str | None = None, read_only: bool = False) -> dict:
    record = {"eventVersion": "1.09",
              "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": f"arn:aws:iam::{ACCOUNT}:user/ops",
                               "accountId": ACCOUNT, "accessKeyId": "AKIAEXAMPLEEXAMPLE12", "userName": "ops"},
              "eventTime": f"{at:%Y-%m-%dT%H:%M:%SZ}", "eventSource": "iam.amazonaws.com", "eventName": name,
              "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.30"}
    if error:
        record |= {"errorCode": error, "errorMessage": "denied"}
    return record | {"requestParameters": {"userName": f"u{n}"}, "responseElements": None,
                     "requestID": f"00000000-0000-4000-8000-{n:012d}", "eventID": f"11111111-0000-4000-8000-{n:012d}",
                     "readOnly": read_only, "eventType": "AwsApiCall", "managementEvent": True,
                     "recipientAccountId": ACCOUNT, "eventCategory": "Management"}


def test_server_delivers_insights_for_trails_with_insight_selectors():
    server = start_emulator(EmulatorConfig(relax_bucket_policy=True, delivery_interval=3600))
    try:
        server.client("s3").create_bucket(Bucket=BUCKET)
        ct = server.cloudtrail()
        ct.create_trail(Name="watched", S3BucketName=BUCKET)
        ct.put_insight_selectors(TrailName="watched", InsightSelectors=[{"InsightType": "ApiCallRateInsight"},
                                                                         {"InsightType": "ApiErrorRateInsight"}])
        ct.start_logging(Name="watched")
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        burst = now - timedelta(minutes=20)
        baseline = [_api_call(now - timedelta(hours=3) + timedelta(minutes=5 * i), "CreateUser", i) for i in range(30)]
        spike = [_api_call(burst + timedelta(seconds=2 * i), "CreateUser", 100 + i) for i in range(25)]
        denied = [_api_call(burst + timedelta(seconds=2 * i + 1), "GetUser", 200 + i, "AccessDenied", True)
                  for i in range(15)]
        records = sorted(baseline + spike + denied, key=lambda r: r["eventTime"])
        answer = requests.post(f"{server.url}/_emulator/records", json={"Records": records}, timeout=30)
        assert answer.status_code == 200 and answer.json()["added"] == len(records)
        assert requests.post(f"{server.url}/_emulator/deliver", timeout=60).status_code == 200

        s3 = server.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"AWSLogs/{ACCOUNT}/CloudTrail-Insight/")
                .get("Contents", [])]
        assert keys and all(INSIGHT_KEY.match(k) for k in keys)
        delivered = [r for k in keys
                     for r in json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()))["Records"]]
        for record in delivered:
            schemas.validate_record(record)
        pairs = _pairs(delivered)
        found = {(s["Start"]["insightDetails"]["insightType"], s["Start"]["insightDetails"]["eventName"]): s
                 for s in pairs.values()}
        assert set(found) == {("ApiCallRateInsight", "CreateUser"), ("ApiErrorRateInsight", "GetUser")}
        for states in found.values():
            assert states["Start"]["eventTime"] == f"{burst:%Y-%m-%dT%H:%M:%SZ}"
            assert states["End"]["eventTime"] > states["Start"]["eventTime"]
        assert found[("ApiErrorRateInsight", "GetUser")]["Start"]["insightDetails"]["errorCode"] == "AccessDenied"

        insight_ids = {r["eventID"] for r in delivered}
        looked_up = ct.lookup_events(EventCategory="insight")["Events"]
        assert {e["EventId"] for e in looked_up} == insight_ids
        assert all(json.loads(e["CloudTrailEvent"])["eventType"] == "AwsCloudTrailInsight" for e in looked_up)
        management = ct.lookup_events(MaxResults=50)["Events"]
        assert management and not insight_ids & {e["EventId"] for e in management}
        log_records = [r for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"AWSLogs/{ACCOUNT}/CloudTrail/")["Contents"]
                       for r in json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()))[
                           "Records"]]
        assert not insight_ids & {r["eventID"] for r in log_records}     # insight records stay out of log files
    finally:
        server.running.stop()


def test_server_trail_without_insight_selectors_gets_no_insight_files():
    server = start_emulator(EmulatorConfig(relax_bucket_policy=True, delivery_interval=3600))
    try:
        server.client("s3").create_bucket(Bucket=BUCKET)
        ct = server.cloudtrail()
        ct.create_trail(Name="plain", S3BucketName=BUCKET)
        ct.start_logging(Name="plain")
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        records = [_api_call(now - timedelta(hours=2) + timedelta(minutes=5 * i), "CreateUser", i) for i in range(20)]
        records += [_api_call(now - timedelta(minutes=20, seconds=-i), "CreateUser", 100 + i) for i in range(25)]
        requests.post(f"{server.url}/_emulator/records", json=sorted(records, key=lambda r: r["eventTime"]), timeout=30)
        requests.post(f"{server.url}/_emulator/deliver", timeout=60)
        listed = server.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"AWSLogs/{ACCOUNT}/CloudTrail-Insight/")
        assert listed.get("KeyCount") == 0 and ct.lookup_events(EventCategory="insight")["Events"] == []
    finally:
        server.running.stop()
