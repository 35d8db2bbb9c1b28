"""Access styles: how an organisation's people and pipelines reach AWS (generate --access-style).

The default (iam-users) is the reference trails' style: the identity types of a default run are
compared with the reference files, read here by their own simple code.
"""
from __future__ import annotations

import gzip
import ipaddress
import json
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cloudtrail_emulator.generators.population import build_population
from cloudtrail_emulator.generators.run import generate

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "real-cloudtrail"
CLI = str(Path(sys.executable).parent / "cloudtrail-emulator")
#: the issue's baseline (three accounts, two regions, a week), at a smaller count
WEEK = dict(start=datetime(2024, 6, 3, tzinfo=timezone.utc), end=datetime(2024, 6, 10, tzinfo=timezone.utc),
            accounts=3, regions=("us-east-1", "eu-west-1"))
SSO_ROLE = ":assumed-role/AWSReservedSSO_"
DEPLOY_USERS = ("terraform-ci", "github-actions-deploy")
#: Azure blocks where GitHub-hosted runners run
AZURE = tuple(ipaddress.ip_network(block) for block in
              ("13.64.0.0/11", "20.36.0.0/14", "40.74.0.0/15", "52.224.0.0/11", "104.208.0.0/13"))


def _type_shares(records: list[dict]) -> dict[str, float]:
    counts = Counter(r.get("userIdentity", {}).get("type", "(none)") for r in records)
    return {kind: n / len(records) for kind, n in counts.items()}


def _distance(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in a.keys() | b.keys()) / 2


@pytest.fixture(scope="module")
def reference_types() -> dict[str, float]:
    records: list[dict] = []
    for path in sorted(REFERENCE.rglob("*.json.gz")):
        with gzip.open(path, "rt") as fh:
            records += json.load(fh)["Records"]
    assert len(records) > 2000
    return _type_shares(records)


@pytest.fixture(scope="module")
def default_week() -> list[dict]:
    return list(generate(count=30_000, seed=5, **WEEK))


@pytest.fixture(scope="module")
def center_week() -> list[dict]:
    return list(generate(count=20_000, seed=5, access_style="identity-center", **WEEK))


def _arn(record: dict) -> str:
    return record["userIdentity"].get("arn", "")


@pytest.mark.parametrize("seed", [5, 8])
def test_a_default_run_has_the_reference_identity_types(seed, reference_types, default_week):
    records = default_week if seed == 5 else list(generate(count=15_000, seed=seed, **WEEK))
    shares = _type_shares(records)
    assert _distance(shares, reference_types) <= 0.3            # the bound; was 0.685 at 100k
    assert shares["IAMUser"] >= 0.65 and shares.get("AWSService", 0) < 0.12


def test_iam_users_organisation_has_no_identity_center_and_ci_with_deploy_users(default_week):
    assert not [r for r in default_week if SSO_ROLE in _arn(r)]
    kinds = {r["userIdentity"].get("type") for r in default_week}
    assert not kinds & {"SAMLUser", "WebIdentityUser"}
    assert not [r for r in default_week if r["eventName"] in ("AssumeRoleWithSAML", "AssumeRoleWithWebIdentity")]
    for name in DEPLOY_USERS:   # pipelines call with a deploy user's long-term key, Terraform among them
        calls = [r for r in default_week if _arn(r).endswith(f":user/{name}")]
        assert len(calls) > 300, name
        assert {r["userIdentity"]["accessKeyId"][:4] for r in calls} == {"AKIA"}
        assert {r["userIdentity"]["type"] for r in calls} == {"IAMUser"}
        own = [r for r in calls if "invokedBy" not in r["userIdentity"]]   # not a service with its key
        assert all(any(ipaddress.ip_address(r["sourceIPAddress"]) in block for block in AZURE) for r in own)
        assert sum("Terraform" in r["userAgent"] for r in calls) > 0.3 * len(calls)
    people_roles = [r for r in default_week if r["userIdentity"].get("type") == "AssumedRole"
                    and "sessionContext" in r["userIdentity"] and r["userIdentity"].get("invokedBy") is None
                    and not _workload(r)]
    assert len(people_roles) < 0.01 * len(default_week)      # people's role sessions are rare


def _workload(record: dict) -> bool:
    """A role session of an instance, a function or a service-linked role."""
    arn = _arn(record)
    issuer = record["userIdentity"]["sessionContext"]["sessionIssuer"].get("arn", "")
    return "/i-" in arn or "-handler-role-" in arn or "/aws-service-role/" in issuer


def test_a_long_term_key_session_often_checks_its_caller(default_week):
    checks = [r for r in default_week if r["eventName"] == "GetCallerIdentity"
              and r["userIdentity"].get("accessKeyId", "").startswith("AKIA")]
    assert len(checks) > 200
    sts = sum(r["eventSource"] == "sts.amazonaws.com" for r in default_week)
    assert 0.02 <= sts / len(default_week) <= 0.05                 # the bounds; reference 2.3 %


def test_identity_center_organisation_works_through_permission_sets(center_week):
    sso = [r for r in center_week if SSO_ROLE in _arn(r)]
    assert len(sso) > 0.2 * len(center_week)
    assert [r for r in center_week if r["eventName"] == "AssumeRoleWithSAML"
            and r["userIdentity"]["type"] == "SAMLUser"]
    assert [r for r in center_week if r["userIdentity"].get("type") == "WebIdentityUser"]
    assert [r for r in center_week if r["eventName"] == "ConsoleLogin" and SSO_ROLE in _arn(r)]
    assert not [r for r in center_week if any(_arn(r).endswith(f":user/{n}") for n in DEPLOY_USERS)]
    # people's IAM users are break-glass: their access keys make no calls but a rare AssumeRole
    people = {p.user_identity["arn"] for p in build_population(5, 3, "identity-center").principals
              if p.kind == "IAMUser" and p.user_identity["userName"] != "federation-broker"}
    human = [r for r in center_week if _arn(r) in people]
    assert {r["eventName"] for r in human} <= {"AssumeRole"} and len(human) < 0.002 * len(center_week)


def test_the_style_is_the_organisations_unless_per_account():
    assert set(build_population(3, 6).access_styles.values()) == {"iam-users"}
    assert set(build_population(3, 6, "mixed").access_styles.values()) == {"mixed"}
    drawn = build_population(3, 6, "per-account").access_styles
    assert len(set(drawn.values())) > 1 and drawn == build_population(3, 6, "per-account").access_styles


def test_the_generate_command_takes_an_access_style(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([CLI, "generate", "--count", "3000", "--start", "2024-06-03T00:00:00Z",
                           "--end", "2024-06-04T00:00:00Z", "--seed", "5", "--no-digests",
                           "--access-style", "identity-center", "--output", str(out),
                           "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    records = []
    for path in sorted(out.rglob("*.json.gz")):
        with gzip.open(path, "rt") as fh:
            records += json.load(fh)["Records"]
    assert len(records) == 3000 and [r for r in records if SSO_ROLE in _arn(r)]


@pytest.mark.parametrize("command", ["generate", "seed"])
def test_a_bad_access_style_is_one_line_and_exit_2(tmp_path, command):
    args = [CLI, command, "--access-style", "sso-only", "--data-dir", str(tmp_path / "data")]
    if command == "generate":
        args += ["--output", str(tmp_path / "out")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "--access-style" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_the_seed_command_takes_an_access_style(tmp_path):
    data = tmp_path / "data"
    done = subprocess.run([CLI, "seed", "--data-dir", str(data), "--count", "1500", "--days", "1", "--scenarios", "0",
                           "--access-style", "identity-center"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    records = []
    for path in sorted(data.rglob("*.json.gz")):
        if "CloudTrail-Digest" not in path.parts:
            with gzip.open(path, "rt") as fh:
                records += json.load(fh)["Records"]
    assert len(records) >= 1500 and [r for r in records if SSO_ROLE in _arn(r)]
