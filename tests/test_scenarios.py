"""Scenarios: schema-valid records in CloudTrail's key order, labels, reproducibility, placement, CLI."""
from __future__ import annotations

import gzip
import json
import random
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cloudtrail_emulator.emulator.cli import main
from cloudtrail_emulator.generators.catalog import load_catalog
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.labels import decode_labels, encode_labels
from cloudtrail_emulator.generators.pipeline import generate, plan_run, scenario_runs
from cloudtrail_emulator.generators.population import build_population
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.scenarios import all_scenarios, get_scenario, run_scenario
from cloudtrail_emulator.generators.scenarios.plan import ScenarioSpec
from cloudtrail_emulator.schemas import record_validator

REAL = Path(__file__).resolve().parents[2] / "shared" / "reference" / "real-cloudtrail"
START = datetime(2024, 5, 1, tzinfo=timezone.utc)
END = datetime(2024, 5, 1, 6, tzinfo=timezone.utc)
TACTICS = {"initial-access", "execution", "persistence", "privilege-escalation", "defense-evasion",
           "credential-access", "discovery", "collection", "exfiltration", "impact"}


@pytest.fixture(scope="module")
def played():
    population = build_population(5, 2)
    factory = RecordFactory(population, load_catalog())
    account = population.accounts[1].account_id
    return [run_scenario(s, factory, random.Random(s.name), START, account, "eu-west-1") for s in all_scenarios()]


def _real_key_order() -> dict[str, int]:
    """Position of each top-level key, from the real records (their order is one total order)."""
    order: list[str] = []
    for path in sorted(REAL.glob("*/*.json.gz")):
        for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            keys = list(record)
            for i, key in enumerate(keys):
                if key not in order:
                    before = [k for k in keys[:i] if k in order]
                    order.insert(order.index(before[-1]) + 1 if before else 0, key)
    return {k: i for i, k in enumerate(order)}


def test_the_library_covers_the_tactics_with_25_or_more_techniques():
    scenarios = all_scenarios()
    assert len(scenarios) >= 25
    assert {t.tactic for s in scenarios for t in s.techniques} >= TACTICS - {"collection"}
    for s in scenarios:
        assert s.description and s.techniques
        assert all(t.id.startswith("T1") and t.tactic in TACTICS for t in s.techniques)
    with pytest.raises(GeneratorError, match="unknown scenario"):
        get_scenario("no-such-attack")


def test_records_validate_and_keep_cloudtrails_key_order(played):
    validator = record_validator()
    rank = _real_key_order()
    for run in played:
        assert run.records, run.scenario.name
        for record in run.records:
            assert validator.is_valid(record), (run.scenario.name, next(validator.iter_errors(record)).message)
            known = [rank[k] for k in record if k in rank]
            assert known == sorted(known), (run.scenario.name, list(record))
            assert record["recipientAccountId"] == run.account_id


def test_records_are_in_time_order_from_the_start_with_the_attackers_address(played):
    for run in played:
        times = [r["eventTime"] for r in run.records]
        assert times == sorted(times) and times[0] == "2024-05-01T00:00:00Z", run.scenario.name
        addresses = {r["sourceIPAddress"] for r in run.records}
        assert len(addresses) == 1 and not addresses & set(run.principal.source_ips), run.scenario.name


def test_labels_match_the_records(played):
    for run in played:
        assert [label["eventID"] for label in run.labels] == [r["eventID"] for r in run.records]
        assert [label["step"] for label in run.labels] == list(range(1, len(run.records) + 1))
        ids = {t.id: t.tactic for t in run.scenario.techniques}
        assert all(ids[label["technique"]] == label["tactic"] for label in run.labels)
        assert decode_labels(encode_labels(run.labels)) == run.labels


def test_failures_an_attacker_hits_are_written_as_cloudtrail_writes_them(played):
    by_name = {run.scenario.name: run for run in played}
    login = by_name["console-login-without-mfa"].records
    assert login[0]["errorMessage"] == "Failed authentication" and "errorCode" not in login[0]
    success = next(r for r in login if r["responseElements"] == {"ConsoleLogin": "Success"})
    assert success["additionalEventData"]["MFAUsed"] == "No"
    denied = by_name["attach-admin-policy-to-user"].records[0]
    assert denied["errorCode"] == "AccessDenied" and denied["responseElements"] is None
    assert "is not authorized to perform: iam:AttachGroupPolicy" in denied["errorMessage"]
    share = by_name["ebs-snapshot-shared-externally"].records[-1]
    outsider = share["requestParameters"]["createVolumePermission"]["add"]["items"][0]["userId"]
    assert len(outsider) == 12 and outsider != share["recipientAccountId"]


def test_runs_are_reproducible_and_placed_inside_the_range():
    names = ["leaked-access-key", "s3-mass-deletion"]
    options, population = plan_run(count=500, start=START, end=END, seed=3, scenarios=names)
    first = scenario_runs(options, population)
    again = scenario_runs(*plan_run(count=500, start=START, end=END, seed=3, scenarios=names))
    assert [r.records for r in first] == [r.records for r in again]
    assert [r.labels for r in first] == [r.labels for r in again]
    for run in first:
        assert START <= run.start and run.records[-1]["eventTime"] < "2024-05-01T06:00:00Z"
    records = list(generate(count=500, start=START, end=END, seed=3, scenarios=names))
    ids = {r["eventID"] for r in records}
    assert all(label["eventID"] in ids for run in first for label in run.labels)
    assert len(records) == 500 + sum(len(r.records) for r in first)


def test_a_pinned_time_and_principal_are_used_and_checked():
    population = build_population(3)
    who = next(p for p in population.principals if p.category == "user")
    at = datetime(2024, 5, 1, 2, 30, tzinfo=timezone.utc)
    spec = ScenarioSpec("stop-cloudtrail-logging", at=at, principal=who.key)
    [run] = scenario_runs(*plan_run(count=100, start=START, end=END, seed=3, scenarios=[spec]))
    assert run.records[0]["eventTime"] == "2024-05-01T02:30:00Z"
    assert all(r["userIdentity"]["arn"] == who.user_identity["arn"] for r in run.records)
    late = ScenarioSpec("discovery-burst", at=datetime(2024, 5, 1, 5, 59, 50, tzinfo=timezone.utc))
    with pytest.raises(GeneratorError, match="does not fit"):
        scenario_runs(*plan_run(count=100, start=START, end=END, seed=3, scenarios=[late]))
    with pytest.raises(GeneratorError, match="no principal"):
        scenario_runs(*plan_run(count=100, start=START, end=END, seed=3,
                                scenarios=[ScenarioSpec("disable-guardduty", principal="nobody")]))


def test_cli_lists_scenarios(capsys):
    assert main(["scenarios", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(all_scenarios())
    assert any(line.startswith("console-login-without-mfa") and "T1078.004" in line and "initial-access" in line
               for line in out)


def test_cli_generates_scenarios_with_labels_and_a_valid_trail(tmp_path, capsys):
    out, data = tmp_path / "out", tmp_path / "data"
    args = ["generate", "--count", "1500", "--start", "2024-05-01", "--end", "2024-05-01T04:00:00Z", "--seed", "9",
            "--output", str(out), "--data-dir", str(data), "--scenario", "discovery-burst",
            "--scenario-time", "2024-05-01T00:59:50Z", "--scenario", "disable-guardduty"]
    assert main(args) == 0
    labels = decode_labels((tmp_path / "out.labels.jsonl").read_bytes())     # beside the trail, not in it
    assert {label["scenario"] for label in labels} == {"disable-guardduty", "discovery-burst"}
    delivered = {}
    for path in (out / "AWSLogs").rglob("*.json.gz"):
        if "CloudTrail-Digest" not in str(path):
            for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
                delivered[record["eventID"]] = record
    assert len(delivered) == 1500 + len(labels)
    assert all(label["eventID"] in delivered for label in labels)
    burst = [delivered[label["eventID"]]["eventTime"] for label in labels if label["scenario"] == "discovery-burst"]
    assert burst[0] == "2024-05-01T00:59:50Z" and burst[-1] > "2024-05-01T01:00:00Z"  # spans two hourly units
    capsys.readouterr()
    assert main(["validate", str(out), "--data-dir", str(data)]) == 0
    assert main(["generate", "--count", "10", "--start", "2024-05-01", "--end", "2024-05-01T01:00:00Z",
                 "--output", str(tmp_path / "x"), "--data-dir", str(data), "--scenario", "nope"]) == 2
    assert "unknown scenario 'nope'" in capsys.readouterr().err
