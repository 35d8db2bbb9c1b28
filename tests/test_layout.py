"""The AWSLogs/ key layout: build -> parse round trips, and keys named like AWS's real files."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.layout import (
    DIGEST, INSIGHT, LOG, TrailKey, awslogs_root, digest_key, insight_file_key, log_file_key, parse_key, parse_name)
from fixtures_paths import REAL_LOGS

UTC = timezone.utc
PLACES = [("", None), ("team/logs", None), ("", "o-abcdefghij"), ("a/b", "o-0123456789abcdef")]


@pytest.mark.parametrize("prefix,org", PLACES)
@pytest.mark.parametrize("build,kind", [(log_file_key, LOG), (insight_file_key, INSIGHT)])
def test_file_keys_round_trip(prefix, org, build, kind):
    delivered = datetime(2024, 2, 29, 23, 59, 41, 123000, tzinfo=UTC)
    key = build(prefix, "111122223333", "eu-west-1", delivered, "Ab3dEf6hIj9lMn0p", org)
    assert parse_key(key) == TrailKey(kind, prefix, org, "111122223333", "eu-west-1",
                                      datetime(2024, 2, 29, 23, 55, tzinfo=UTC), suffix="Ab3dEf6hIj9lMn0p")
    assert str(parse_key(key)) == key


@pytest.mark.parametrize("prefix,org", PLACES)
@pytest.mark.parametrize("trail", ["management-events", "my_trail.v2", "x_us-east-1"])
def test_digest_keys_round_trip(prefix, org, trail):
    end = datetime(2023, 12, 31, 23, 17, 5, tzinfo=UTC)
    key = digest_key(prefix, "111122223333", "ap-south-1", trail, "us-east-1", end, org)
    assert parse_key(key) == TrailKey(DIGEST, prefix, org, "111122223333", "ap-south-1", end,
                                      trail_name=trail, home_region="us-east-1")
    assert str(parse_key(key)) == key


def test_literal_keys_parse_to_written_fields():
    assert parse_key("AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/"
                     "218007301253_CloudTrail_us-east-1_20230710T1240Z_C1qUFaqvZS64BcIN.json.gz") == TrailKey(
        LOG, "", None, "218007301253", "us-east-1", datetime(2023, 7, 10, 12, 40, tzinfo=UTC),
        suffix="C1qUFaqvZS64BcIN")
    assert parse_key("pre/fix/AWSLogs/o-exampleorgid/222222222222/CloudTrail/us-east-1/2025/03/06/"
                     "222222222222_CloudTrail_us-east-1_20250306T0230Z_QF6qcgyiaVnSueXa.json.gz") == TrailKey(
        LOG, "pre/fix", "o-exampleorgid", "222222222222", "us-east-1", datetime(2025, 3, 6, 2, 30, tzinfo=UTC),
        suffix="QF6qcgyiaVnSueXa")
    assert parse_key("AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/12/29/111122223333_CloudTrail-Digest_"
                     "us-east-2_awscloudtrail-example_us-east-2_20151229T150000Z.json.gz") == TrailKey(
        DIGEST, "", None, "111122223333", "us-east-2", datetime(2015, 12, 29, 15, tzinfo=UTC),
        trail_name="awscloudtrail-example", home_region="us-east-2")
    assert parse_key("AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2019/10/27/"
                     "123456789012_CloudTrail-Insight_us-east-1_20191027T0505Z_6vfHDfCiDeJwCdY0.json.gz") == TrailKey(
        INSIGHT, "", None, "123456789012", "us-east-1", datetime(2019, 10, 27, 5, 5, tzinfo=UTC),
        suffix="6vfHDfCiDeJwCdY0")


def test_builders_write_the_literal_keys():
    assert log_file_key("", "218007301253", "us-east-1", datetime(2023, 7, 10, 12, 44, 59, tzinfo=UTC),
                        "C1qUFaqvZS64BcIN") == ("AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/"
                                                "218007301253_CloudTrail_us-east-1_20230710T1240Z_C1qUFaqvZS64BcIN.json.gz")
    assert digest_key("/p/", "111122223333", "us-east-2", "awscloudtrail-example", "us-east-2",
                      datetime(2015, 12, 29, 15, tzinfo=UTC), "o-aa11bb22cc") == (
        "p/AWSLogs/o-aa11bb22cc/111122223333/CloudTrail-Digest/us-east-2/2015/12/29/111122223333_CloudTrail-Digest_"
        "us-east-2_awscloudtrail-example_us-east-2_20151229T150000Z.json.gz")
    assert awslogs_root("") == "AWSLogs/" and awslogs_root("/x/y/") == "x/y/AWSLogs/"


def test_real_file_names_parse_as_log_files():
    names = sorted(p.name for p in REAL_LOGS.glob("*/*.json.gz"))
    assert "218007301253_CloudTrail_us-east-1_20230710T1145Z_s7dpHbl38neqZbm2.json.gz" in names
    assert parse_name("333333333333_CloudTrail_us-east-1_20250306T0320Z_ZgdYr0lP8M9fWEH8.json.gz") == TrailKey(
        LOG, "", None, "333333333333", "us-east-1", datetime(2025, 3, 6, 3, 20, tzinfo=UTC),
        suffix="ZgdYr0lP8M9fWEH8")
    for name in names:
        parsed = parse_name(name)
        assert parsed is not None and parsed.kind == LOG and parsed.name == name


@pytest.mark.parametrize("key", [
    "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/02/111122223333_CloudTrail_us-east-1_20240501T1200Z_AAAAAAAAAAAAAAAA.json.gz",
    "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/999999999999_CloudTrail_us-east-1_20240501T1200Z_AAAAAAAAAAAAAAAA.json.gz",
    "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_eu-west-1_20240501T1200Z_AAAAAAAAAAAAAAAA.json.gz",
    "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T1200Z_AAAAAAAAAAAAAAAA.json.gz",
    "AWSLogs/111122223333/CloudTrail/us-east-1/2024/13/01/111122223333_CloudTrail_us-east-1_20241301T1200Z_AAAAAAAAAAAAAAAA.json.gz",
    "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T1200Z_AAAA.json.gz",
    "AWSLogs/labels.jsonl",
])
def test_keys_off_the_layout_are_not_parsed(key):
    assert parse_key(key) is None


def test_builders_reject_bad_fields():
    at = datetime(2024, 5, 1, tzinfo=UTC)
    with pytest.raises(GeneratorError):
        log_file_key("", "1234", "us-east-1", at, "A" * 16)
    with pytest.raises(GeneratorError):
        insight_file_key("", "111122223333", "us-east-1", datetime(2024, 5, 1), "A" * 16)
