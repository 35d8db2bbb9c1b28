"""The `realism` command end to end: figures of handcrafted log files equal the literals they were
built for, the reference compared with itself, a small generated run, and bad input."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from fixtures_paths import REAL_LOGS, load_real_records

from cloudtrail_emulator.generators.catalog import load_catalog
from cloudtrail_emulator.generators.realism import load_records

CLI = str(Path(sys.executable).parent / "cloudtrail-emulator")
LOGS = "AWSLogs/111111111111/CloudTrail/us-east-1/2024/06/0{day}"
CONSOLE_AGENT = "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10 OpenJDK_64-Bit_Server_VM/25.372-b08]"
PUBLIC_IP = "54.240.197.1"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "realism", *args], capture_output=True, text=True, timeout=300)


def report(*args: str) -> dict:
    done = run(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def write_gz(path: Path, document: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps(document).encode()))


def record(time: str, source: str, name: str, identity: dict, **fields: object) -> dict:
    return {"eventVersion": "1.08", "userIdentity": identity, "eventTime": time, "eventSource": source,
            "eventName": name, "awsRegion": "us-east-1", **fields}


ALICE = {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111111111111:user/alice",
         "accountId": "111111111111", "userName": "alice"}
INSTANCE = {"type": "AssumedRole", "principalId": "AROAEXAMPLEROLE:i-0123456789abcdef0",
            "arn": "arn:aws:sts::111111111111:assumed-role/app/i-0123456789abcdef0", "accountId": "111111111111"}
ROOT = {"type": "Root", "principalId": "222222222222", "arn": "arn:aws:iam::222222222222:root",
        "accountId": "222222222222"}


@pytest.fixture(scope="module")
def handmade(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 records in 2 log files (a Monday and a Tuesday, 2 accounts), a digest and an Insights pair."""
    root = tmp_path_factory.mktemp("handmade")
    first = [
        record("2024-06-03T10:00:00Z", "s3.amazonaws.com", "ListBuckets", ALICE, sourceIPAddress="AWS Internal",
               userAgent=CONSOLE_AGENT, requestID="REQ1", readOnly=True, recipientAccountId="111111111111"),
        record("2024-06-03T11:00:00Z", "ec2.amazonaws.com", "ModifySnapshotAttribute", INSTANCE,
               sourceIPAddress=PUBLIC_IP, userAgent=CONSOLE_AGENT, requestID="REQ1", readOnly=False,
               errorCode="Client.UnauthorizedOperation", recipientAccountId="111111111111"),
    ]
    second = [record("2024-06-04T09:00:00Z", "signin.amazonaws.com", "ConsoleLogin", ROOT, sourceIPAddress=PUBLIC_IP,
                     userAgent="Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
                     errorMessage="Failed authentication", responseElements={"ConsoleLogin": "Failure"},
                     readOnly=False, recipientAccountId="222222222222", eventVersion="1.09")]
    write_gz(root / LOGS.format(day=3) / "111111111111_CloudTrail_us-east-1_20240603T1105Z_aaaaaaaaaaaaaaaa.json.gz",
             {"Records": first})
    write_gz(root / LOGS.format(day=4) / "111111111111_CloudTrail_us-east-1_20240604T0905Z_bbbbbbbbbbbbbbbb.json.gz",
             {"Records": second})
    write_gz(root / "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2024/06/04/"
             "111111111111_CloudTrail-Digest_us-east-1_t_us-east-1_20240604T100000Z.json.gz",
             {"awsAccountId": "111111111111", "logFiles": []})
    insight = {"eventVersion": "1.07", "eventTime": "2024-06-03T10:00:00Z", "eventType": "AwsCloudTrailInsight",
               "insightDetails": {"state": "Start", "eventSource": "ec2.amazonaws.com",
                                  "eventName": "RunInstances", "insightType": "ApiCallRateInsight"}}
    end = {**insight, "insightDetails": {**insight["insightDetails"], "state": "End"}}
    write_gz(root / "AWSLogs/111111111111/CloudTrail-Insight/us-east-1/2024/06/03/"
             "111111111111_CloudTrail-Insight_us-east-1_20240603T1030Z_cccccccccccccccc.json.gz",
             {"Records": [insight, end]})
    return root


def test_handmade_figures_are_the_literals(handmade):
    out = report(str(handmade), "--reference", str(handmade))
    f = out["generated"]["figures"]
    assert f["files"] == {"log_files": 2, "records": 3, "records_per_file_median": 1.5,
                          "single_record_file_share": 0.5, "insight_records": 2, "insight_events": 1,
                          "insight_types": {"ApiCallRateInsight": 1}}
    volumes = f["volumes"]
    assert volumes["days"] == {"2024-06-03": 2, "2024-06-04": 1}
    assert volumes["weekday_cv"] == pytest.approx(0.5 ** 0.5 / 1.5)       # stdev(2, 1) / mean
    assert volumes["weekend_cv"] is None
    assert (volumes["hours_identical_across_weekdays"], volumes["hours_compared"]) == (0, 3)
    assert volumes["accounts"] == {"111111111111": {"2024-06-03": 2, "2024-06-04": 0},
                                   "222222222222": {"2024-06-03": 0, "2024-06-04": 1}}
    assert volumes["identical_account_pairs"] == []
    assert f["portfolio"] == {"event_sources": 3, "pairs": 3, "pairs_seen_once": 3,
                              "sources_per_account": {"111111111111": 2, "222222222222": 1}}
    agents = f["agents"]
    assert agents["families"] == {"S3Console": 2, "browser": 1}
    assert agents["console_off_service"] == {"S3Console": {"ec2.amazonaws.com": 1}}
    assert agents["console_off_service_records"] == 1
    assert (agents["console_logins"], agents["console_login_families"]) == (1, {"browser": 1})
    assert agents["console_login_failed_share"] == 1.0
    addresses = f["addresses"]
    assert addresses["aws_internal_share"] == round(1 / 3, 6)
    assert addresses["service_hosted_share"] == 0.0
    assert addresses["distinct_source_addresses"] == 2
    assert (addresses["distinct_ips"], addresses["top_ip"], addresses["top_ip_share"]) == (1, PUBLIC_IP,
                                                                                          round(2 / 3, 6))
    assert (addresses["workload_session_records"], addresses["workload_sessions_from_ip"]) == (1, 1)
    assert addresses["distinct_arns"] == 3
    identity = f["identity"]
    assert identity["types"] == {"IAMUser": round(1 / 3, 6), "AssumedRole": round(1 / 3, 6), "Root": round(1 / 3, 6)}
    assert (identity["sts_share"], identity["assume_role_share"]) == (0.0, 0.0)
    assert identity["read_only_share"] == round(1 / 3, 6)
    assert identity["error_share"] == round(1 / 3, 6)
    assert (identity["root_records"], identity["root_console_logins"]) == (1, 1)
    assert f["versions"] == {"ec2.amazonaws.com": {"2024": ["1.08"]}, "s3.amazonaws.com": {"2024": ["1.08"]},
                             "signin.amazonaws.com": {"2024": ["1.09"]}}
    assert f["request_ids"] == {"shared_ids": 1, "records_sharing": 2}
    assert f["indicators"] == {"StopLogging": 0, "DeleteTrail": 0, "ModifySnapshotAttribute": 1, "SendCommand": 0,
                               "CreateAccessKey for another user": 0}
    assert out["comparison"]["identity_type_tvd"] == 0
    assert out["comparison"]["reference_pairs"] == 3
    assert out["comparison"]["reference_pairs_present_share"] == 1.0


def test_handmade_text_report(handmade):
    done = run(str(handmade), "--reference", str(handmade))
    assert done.returncode == 0, done.stderr
    rows = {line[:46].strip(): line[46:].split() for line in done.stdout.splitlines() if line.startswith("  ")}
    assert rows["AWS Internal"] == ["33.3%", "33.3%"]
    assert rows["log files"] == ["2", "2"]
    assert rows["records per log file, median"] == ["1.5", "1.5"]
    assert rows["console agents off their service (records)"] == ["1", "1"]
    assert rows["ConsoleLogin failed"] == ["100.0%", "100.0%"]
    assert rows["requestIDs shared between records"] == ["1", "1"]
    assert rows["identity-type total variation distance"] == ["0.000"]
    assert "console agents off their service: S3Console on ec2 1" in done.stdout


def test_against_the_real_files_distance_is_computed_from_both(handmade):
    """TVD between the handmade identity types (a third each) and the reference's, counted here."""
    real = load_real_records()
    counts = Counter(r.get("userIdentity", {}).get("type") or "(none)" for r in real)
    ref = {k: n / len(real) for k, n in counts.items()}
    mine = {"IAMUser": 1 / 3, "AssumedRole": 1 / 3, "Root": 1 / 3}
    expected = sum(abs(mine.get(k, 0) - ref.get(k, 0)) for k in set(mine) | set(ref)) / 2
    out = report(str(handmade), "--reference", str(REAL_LOGS))
    assert out["comparison"]["identity_type_tvd"] == pytest.approx(expected, abs=1e-5)
    assert out["reference"]["figures"]["files"]["records"] == len(real)


def test_reference_against_itself():
    real = load_real_records()
    out = report(str(REAL_LOGS), "--reference", str(REAL_LOGS))
    comparison = out["comparison"]
    assert comparison["identity_type_tvd"] == 0
    assert comparison["reference_pairs_present_share"] == 1.0
    pairs = {(r["eventSource"], r["eventName"]) for r in real}
    producible = len(pairs & load_catalog().pairs()) / len(pairs)
    assert comparison["reference_pairs"] == len(pairs)
    assert comparison["reference_pairs_producible_share"] == pytest.approx(producible, abs=1e-6)
    figures = out["generated"]["figures"]
    internal = sum(r.get("sourceIPAddress") == "AWS Internal" for r in real) / len(real)
    assert figures["addresses"]["aws_internal_share"] == pytest.approx(internal, abs=1e-6)
    assert figures["files"]["log_files"] == len(list(REAL_LOGS.glob("*/*.json.gz")))
    assert out["generated"]["figures"] == out["reference"]["figures"]


def test_reader_reads_the_reference_as_the_fixture_does():
    """`load_records` is what `fixtures_paths.load_real_records` could be: same records, same order."""
    assert load_records(REAL_LOGS) == load_real_records()


def test_plain_json_and_json_lines(tmp_path):
    one = record("2024-06-08T10:00:00Z", "sts.amazonaws.com", "AssumeRole", ALICE, readOnly=True)
    (tmp_path / "a.json").write_text(json.dumps({"Records": [one, one]}))
    (tmp_path / "b.jsonl").write_text(json.dumps(one) + "\n\n" + json.dumps(one) + "\n")
    figures = report(str(tmp_path), "--reference", str(tmp_path))["generated"]["figures"]
    assert (figures["files"]["log_files"], figures["files"]["records"]) == (2, 4)
    assert figures["identity"]["sts_share"] == 1.0 and figures["identity"]["assume_role_share"] == 1.0
    assert figures["volumes"]["weekend_cv"] is None and figures["volumes"]["weekend_days"] == 1


def test_generated_run_reports(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([CLI, "generate", "--count", "3000", "--seed", "3", "--start", "2024-06-03",
                           "--end", "2024-06-04", "--output", str(out), "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = run(str(out))
    assert text.returncode == 0, text.stderr
    assert "identity-type total variation distance" in text.stdout
    figures = report(str(out))["generated"]["figures"]
    logs = [p for p in out.rglob("*.json.gz") if "/CloudTrail/" in p.as_posix()]
    assert figures["files"]["records"] == 3000
    assert figures["files"]["log_files"] == len(logs)


@pytest.mark.parametrize("case", ["missing", "empty", "corrupt-gzip", "truncated-gzip", "no-records",
                                  "missing-reference", "record-without-time"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, handmade, case):
    target, extra = tmp_path / "tree", []
    target.mkdir()
    log = target / "x_CloudTrail_us-east-1_20240603T1105Z_aaaaaaaaaaaaaaaa.json.gz"
    if case == "missing":
        target = tmp_path / "nowhere"
    elif case == "corrupt-gzip":
        log.write_bytes(b"\x1f\x8b" + b"not gzip at all")
    elif case == "truncated-gzip":
        log.write_bytes(gzip.compress(b'{"Records": []}')[:-6])
    elif case == "no-records":
        write_gz(log, {"something": 1})
    elif case == "record-without-time":
        write_gz(log, {"Records": [{"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"}]})
    elif case == "missing-reference":
        target, extra = handmade, ["--reference", str(tmp_path / "no-reference")]
    done = run(str(target), *extra)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("cloudtrail-emulator: error: ")
    if case in ("corrupt-gzip", "truncated-gzip", "no-records", "record-without-time"):
        assert log.name in done.stderr
