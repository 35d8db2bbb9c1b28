"""The event catalog: breadth, coverage of the real trails, loading cost, eventVersion rules, templates."""
from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime, timezone

import pytest

from fixtures_paths import load_real_records
from cloudtrail_emulator.generators.catalog import DEFAULT_PATH, compile_template, load_catalog, parse_catalog
from cloudtrail_emulator.generators.errors import GeneratorError


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_breadth_and_reference_coverage(catalog):
    pairs = catalog.pairs()
    services = catalog.services()
    real = {(r["eventSource"], r["eventName"]) for r in load_real_records()}
    covered = real & pairs
    print(f"\ncatalog: {len(services)} services, {len(pairs)} pairs; reference pairs covered "
          f"{len(covered)}/{len(real)} ({100 * len(covered) / len(real):.1f}%); missing: {sorted(real - pairs)}")
    assert len(services) >= 40
    assert len(pairs) >= 300
    assert len(covered) >= 0.9 * len(real)


def test_catalog_file_is_small_and_loads_on_its_own(tmp_path):
    assert DEFAULT_PATH.stat().st_size < 1_000_000
    copy = tmp_path / "catalog.json.gz"
    shutil.copy(DEFAULT_PATH, copy)
    assert len(load_catalog(copy)) == len(load_catalog())


def test_event_versions_follow_service_and_era(catalog):
    # the reference trails' days (shared/reference/real-cloudtrail): 2023-07-10 and 2025-03-06
    assert catalog.event_version("cloudtrail.amazonaws.com", "2023-07-10") == "1.09"
    assert catalog.event_version("ec2.amazonaws.com", "2023-07-10") == "1.08"
    assert catalog.event_version("s3.amazonaws.com", "2023-07-10") == "1.08"
    for source in ("s3.amazonaws.com", "kms.amazonaws.com", "ssm.amazonaws.com"):
        assert catalog.event_version(source, "2025-03-06") == "1.11"
    assert catalog.event_version("sts.amazonaws.com", "2025-03-06") == "1.08"
    assert catalog.event_version("ec2.amazonaws.com", datetime(2025, 3, 6, tzinfo=timezone.utc)) == "1.10"
    # Stratus Red Team's detonation logs, 2024-07-31: cloudtrail-stop 1.10, secretsmanager 1.09
    assert catalog.event_version("cloudtrail.amazonaws.com", "2024-07-31T13:06:24Z") == "1.10"
    assert catalog.event_version("secretsmanager.amazonaws.com", "2024-07-31") == "1.09"


def test_entries_carry_cloudtrail_facts(catalog):
    assert catalog.get("s3.amazonaws.com", "GetObject").category == "Data"
    assert catalog.get("lambda.amazonaws.com", "Invoke").management is False
    assert catalog.get("ec2.amazonaws.com", "DescribeInstances").read_only is True
    assert catalog.get("ec2.amazonaws.com", "RunInstances").read_only is False
    assert catalog.get("signin.amazonaws.com", "ConsoleLogin").event_type == "AwsConsoleSignIn"
    assert catalog.get("lambda.amazonaws.com", "CreateFunction20150331").action == "lambda:CreateFunction"
    assert catalog.get("iam.amazonaws.com", "GetUser").global_region
    assert catalog.get("s3.amazonaws.com", "GetBucketAcl").request_id == "s3"
    with pytest.raises(GeneratorError, match="no catalog entry"):
        catalog.get("ec2.amazonaws.com", "NoSuchCall")


def test_every_entry_is_well_formed(catalog):
    for entry in catalog.entries:
        assert entry.event_source.endswith(".amazonaws.com")
        assert entry.event_name and entry.weight >= 0 and 0 <= entry.error_rate < 1
        assert entry.management or entry.category == "Data"


def test_templates_keep_json_types_and_share_values():
    seen = {}

    def g(name):
        return seen.setdefault(name, {"n": 7, "b": "bkt"}.get(name, name.upper()))

    fill = compile_template({"count": "{{n}}", "host": "{{b}}.s3.amazonaws.com", "fixed": {"a": [1, True, None]},
                             "list": ["{{b}}", "x-{{n}}-{{b}}"], "doc": '{"k":{"v":1}}'})
    assert fill(g) == {"count": 7, "host": "bkt.s3.amazonaws.com", "fixed": {"a": [1, True, None]},
                       "list": ["bkt", "x-7-bkt"], "doc": '{"k":{"v":1}}'}
    assert compile_template(None)(g) is None


def test_bad_catalog_files_raise_generator_error(tmp_path):
    with pytest.raises(GeneratorError, match="format"):
        parse_catalog({"format": 99, "entries": []})
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(gzip.compress(b"{not json"))
    with pytest.raises(GeneratorError, match="cannot read"):
        load_catalog(broken)
    empty = tmp_path / "empty.json.gz"
    empty.write_bytes(gzip.compress(json.dumps({"format": 1, "entries": []}).encode()))
    with pytest.raises(GeneratorError, match="empty"):
        load_catalog(empty)
