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
        opening = {"T1078.004": "initial-access"}     # the stolen key's call that opens a session
        assert all({**opening, **ids}[label["technique"]] == label["tactic"] for label in run.labels)
        assert decode_labels(encode_labels(run.labels)) == run.labels


def test_failures_an_attacker_hits_are_written_as_cloudtrail_writes_them(played):
    by_name = {run.scenario.name: run for run in played}
    login = by_name["console-login-without-mfa"].records
    assert login[0]["errorMessage"] == "Failed authentication" and "errorCode" not in login[0]
    success = next(r for r in login if r["responseElements"] == {"ConsoleLogin": "Success"})
    assert success["additionalEventData"]["MFAUsed"] == "No"
    denied = next(r for r in by_name["attach-admin-policy-to-user"].records if r["eventName"] == "AttachGroupPolicy")
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
    with pytest.raises(GeneratorError, match="runs as user, not role"):
        plan_run(count=100, start=START, end=END, seed=3, scenarios=[ScenarioSpec("leaked-access-key", actor="role")])
    with pytest.raises(GeneratorError, match="unknown scenario actor"):
        plan_run(count=100, start=START, end=END, seed=3, scenarios=[ScenarioSpec("kms-key-deletion", actor="admin")])
    with pytest.raises(GeneratorError, match="no principal"):
        scenario_runs(*plan_run(count=100, start=START, end=END, seed=3,
                                scenarios=[ScenarioSpec("disable-guardduty", principal="nobody")]))


def test_cli_lists_scenarios_with_attack_and_stratus_ids(capsys):
    assert main(["scenarios", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(all_scenarios()) >= 46
    lines = {line.split()[0]: line.split() for line in out}
    assert lines["console-login-without-mfa"][1:4] == ["initial-access", "T1078.004,T1110.001",
                                                       "aws.initial-access.console-login-without-mfa"]
    assert lines["stop-cloudtrail-logging"][2:4] == ["T1562.008", "aws.defense-evasion.cloudtrail-stop"]
    assert lines["ssm-parameter-harvest"][2:4] == ["T1552", "aws.credential-access.ssm-retrieve-securestring-parameters"]
    assert lines["backdoor-iam-user"][2:5] == ["T1136.003,T1098.001", "aws.persistence.iam-create-admin-user",
                                              "user|role|sso"]
    assert lines["kms-key-deletion"][3] == "-"                   # no Stratus technique
    assert lines["root-console-login"][4] == "root"


def test_a_scenario_is_found_by_its_stratus_id_with_the_same_records():
    assert get_scenario("aws.defense-evasion.cloudtrail-stop").name == "stop-cloudtrail-logging"
    by_id = scenario_runs(*plan_run(count=100, start=START, end=END, seed=3,
                                    scenarios=["aws.persistence.iam-create-admin-user"]))
    by_name = scenario_runs(*plan_run(count=100, start=START, end=END, seed=3, scenarios=["backdoor-iam-user"]))
    assert by_id[0].scenario.name == "backdoor-iam-user" and by_id[0].records == by_name[0].records


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


# --- actors -------------------------------------------------------------------------------------

def _actor_runs(name: str, actor: str | None, seeds: range, style: str = "mixed") -> list:
    """The scenario's runs over seeds, in an organisation of ``style`` (mixed: every kind of actor)."""
    return [run for seed in seeds
            for run in scenario_runs(*plan_run(count=50, start=START, end=END, seed=seed, access_style=style,
                                               scenarios=[ScenarioSpec(name, actor=actor)]))]


def _acting(run) -> list[dict]:
    """The records of the attack's own calls (without a call that opened its session)."""
    first = run.records[0]
    opened = first["eventName"] in ("AssumeRole", "GetFederationToken", "AssumeRoleWithSAML") and \
        first["userIdentity"] != run.records[-1]["userIdentity"]
    return run.records[1:] if opened else run.records


def test_actors_vary_across_seeds_and_most_use_session_credentials():
    types = [_acting(run)[-1]["userIdentity"]["type"] for run in _actor_runs("stop-cloudtrail-logging", None, range(24))]
    assert {"IAMUser", "AssumedRole", "FederatedUser"} <= set(types)
    assert types.count("IAMUser") < len(types) / 2
    ssos = [r for run in _actor_runs("disable-guardduty", None, range(24)) for r in _acting(run)
            if "AWSReservedSSO_" in r["userIdentity"].get("arn", "")]
    assert ssos
    assert {run.records[0]["userIdentity"]["type"] for run in _actor_runs("root-console-login", None, range(4))} \
        == {"Root"}


def test_actors_are_those_the_organisation_has():
    """An IAM-users organisation (the default) has no Identity Center sessions to steal."""
    kinds = {run.actor for run in _actor_runs("disable-guardduty", None, range(24), "iam-users")}
    assert "sso" not in kinds and {"user", "role"} <= kinds
    with pytest.raises(GeneratorError, match="no IAM Identity Center sessions"):
        _actor_runs("disable-guardduty", "sso", range(1), "iam-users")


@pytest.mark.parametrize("actor, opening, caller, session", [
    ("role", {"AssumeRole", None}, {"IAMUser", None}, "AssumedRole"),
    ("federated", {"GetFederationToken"}, {"IAMUser"}, "FederatedUser"),
    ("sso", {"AssumeRoleWithSAML"}, {"SAMLUser"}, "AssumedRole"),
])
def test_a_chosen_actor_keeps_one_session_opened_by_its_issuing_call(actor, opening, caller, session):
    runs = _actor_runs("disable-aws-config", actor, range(8))
    for run in runs:
        acting = _acting(run)
        identities = {json.dumps(r["userIdentity"], sort_keys=True) for r in acting}
        assert len(identities) == 1, run.actor                  # same key, ARN and creationDate on every call
        identity = acting[0]["userIdentity"]
        key, created = identity["accessKeyId"], identity["sessionContext"]["attributes"]["creationDate"]
        assert identity["type"] == session and key.startswith("ASIA") and run.actor == actor
        first = run.records[0] if len(acting) < len(run.records) else None
        assert (first and first["eventName"]) in opening and (first and first["userIdentity"]["type"]) in caller
        if first is not None:        # the session begins with the call that issued it
            assert first["responseElements"]["credentials"]["accessKeyId"] == key
            assert created == first["eventTime"] and first["sourceIPAddress"] == acting[0]["sourceIPAddress"]
        else:                        # EC2 instance credentials stolen from the metadata service, issued earlier
            assert created < acting[0]["eventTime"] and identity["sessionContext"].get("ec2RoleDelivery") == "2.0"
    if actor == "role":
        assert {run.records[0]["eventName"] for run in runs} >= {"AssumeRole", "DescribeConfigurationRecorders"}


def test_the_cli_plays_a_scenario_as_the_chosen_actor(tmp_path, capsys):
    out, data = tmp_path / "out", tmp_path / "data"
    assert main(["generate", "--count", "200", "--start", "2024-05-01", "--end", "2024-05-01T04:00:00Z", "--seed", "4",
                 "--output", str(out), "--data-dir", str(data), "--scenario", "aws.defense-evasion.cloudtrail-stop",
                 "--scenario-actor", "federated"]) == 0
    ids = {label["eventID"] for label in decode_labels((tmp_path / "out.labels.jsonl").read_bytes())}
    records = [r for path in (out / "AWSLogs").rglob("*.json.gz") if "Digest" not in str(path)
               for r in json.loads(gzip.decompress(path.read_bytes()))["Records"] if r["eventID"] in ids]
    names = {r["eventName"]: r["userIdentity"]["type"] for r in records}
    assert names == {"GetFederationToken": "IAMUser", "DescribeTrails": "FederatedUser",
                     "GetTrailStatus": "FederatedUser", "StopLogging": "FederatedUser"}
    capsys.readouterr()
    assert main(["generate", "--count", "10", "--start", "2024-05-01", "--end", "2024-05-01T01:00:00Z",
                 "--output", str(tmp_path / "x"), "--data-dir", str(data), "--scenario", "root-console-login",
                 "--scenario-actor", "sso"]) == 2
    assert "runs as root, not sso" in capsys.readouterr().err


# --- calls as the tools send them ---------------------------------------------------------------

def _records(name: str, seeds: range = range(6), actor: str = "user") -> list[dict]:
    return [r for run in _actor_runs(name, actor, seeds) for r in run.records]


def test_request_keys_are_those_the_cli_and_sdks_send():
    keys = {(r["eventName"], tuple(sorted(r["requestParameters"] or {})))
            for name in ("ec2-userdata-backdoor", "ssm-parameter-harvest", "ssm-parameters-by-path-decrypt",
                         "secrets-manager-batch-harvest", "secrets-manager-harvest", "guardduty-trusted-ipset")
            for r in _records(name)}
    by_call: dict[str, set] = {}
    for call, k in keys:
        by_call.setdefault(call, set()).add(k)
    assert by_call["ModifyInstanceAttribute"] == {("attribute", "instanceId", "value"), ("instanceId", "userData")}
    assert by_call["DescribeParameters"] <= {(), ("nextToken",), ("maxResults",), ("maxResults", "nextToken")}
    assert ("nextToken",) in by_call["DescribeParameters"]
    assert by_call["GetParameters"] == {("names", "withDecryption")}
    assert by_call["GetParametersByPath"] == {("path", "recursive", "withDecryption"),
                                              ("nextToken", "path", "recursive", "withDecryption")}
    assert by_call["BatchGetSecretValue"] == {("filters",), ("filters", "nextToken")}
    assert by_call["GetSecretValue"] == {("secretId",)}
    assert by_call["CreateIPSet"] == {("activate", "clientToken", "detectorId", "format", "location", "name")}


#: request keys a scenario sends that the reference files' records of that call lack: other CLI options
OTHER_OPTIONS = {("ec2.amazonaws.com", "CreateSnapshot"): {"description"},
                 ("ec2.amazonaws.com", "RunInstances"): {"groupSet", "placement"},   # --placement AvailabilityZone=
                 ("ec2.amazonaws.com", "ModifyInstanceAttribute"): {"attribute", "value", "userData"}}


def test_request_keys_match_the_real_records_of_the_same_call(played):
    real: dict[tuple[str, str], set[str]] = {}
    for path in sorted(REAL.glob("*/*.json.gz")):
        for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            if isinstance(record.get("requestParameters"), dict):
                real.setdefault((record["eventSource"], record["eventName"]), set()).update(record["requestParameters"])
    checked = 0
    for run in played:
        for record in run.records:
            call = (record["eventSource"], record["eventName"])
            if call in real and isinstance(record["requestParameters"], dict):
                checked += 1
                extra = set(record["requestParameters"]) - real[call] - OTHER_OPTIONS.get(call, set())
                assert not extra, (run.scenario.name, call, extra)
    assert checked >= 60


def test_harvests_read_dozens_like_real_tools():
    secrets = {r["requestParameters"]["secretId"].rsplit("-", 1)[0] for r in _records("secrets-manager-harvest", range(1))
               if r["eventName"] == "GetSecretValue"}
    params = [n for r in _records("ssm-parameter-harvest", range(1)) if r["eventName"] == "GetParameters"
              for n in r["requestParameters"]["names"]]
    assert len(secrets) >= 25 and len(params) == len(set(params)) >= 40    # the pools hold 8 and 12
    assert all(len(r["requestParameters"]["names"]) <= 10 for r in _records("ssm-parameter-harvest", range(1))
               if r["eventName"] == "GetParameters")


def test_region_sweeps_reach_every_region_the_trail_logs():
    regions = ("us-east-1", "eu-west-1", "ap-southeast-2")
    [run] = scenario_runs(*plan_run(count=50, start=START, end=END, seed=2, regions=regions,
                                    scenarios=[ScenarioSpec("secrets-manager-batch-harvest", actor="user")]))
    assert {r["awsRegion"] for r in run.records} == set(regions)
    home = [r for r in run.records if r["awsRegion"] == "us-east-1"]
    assert len(home) >= 2 and all(r["readOnly"] for r in run.records)
