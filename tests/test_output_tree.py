"""`generate --output DIR` leaves exactly a CloudTrail bucket's objects in DIR (issue 10): the digests'
signature metadata and the store's lock sit in the hidden sibling `.DIR.ctemu/`, scenario labels in
`DIR.labels.jsonl`; `validate DIR` reads both; a tree written before (`DIR/.ctemu/`) still validates
and is cleaned up by the next writer; the server's embedded store keeps its bucket directories clean
too."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures_server import start_emulator

from cloudtrail_emulator.emulator.config import EmulatorConfig

CLI = str(Path(sys.executable).parent / "cloudtrail-emulator")
ACCOUNT = "123456789012"
# FORMATS.md section 1, literally: log files and digest files (no organization, no prefix)
LOG_KEY = re.compile(r"^AWSLogs/\d{12}/CloudTrail/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/"
                     r"\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$")
DIGEST_KEY = re.compile(r"^AWSLogs/\d{12}/CloudTrail-Digest/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/"
                        r"\d{12}_CloudTrail-Digest_[a-z0-9-]+_[A-Za-z0-9._-]+_[a-z0-9-]+_\d{8}T\d{6}Z\.json\.gz$")
# CloudTrail Insights files (AWS user guide, "CloudTrail Insights events"): the log-file name with CloudTrail-Insight
INSIGHT_KEY = re.compile(r"^AWSLogs/\d{12}/CloudTrail-Insight/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/"
                         r"\d{12}_CloudTrail-Insight_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$")
ATTACK = "2024-05-01T03:00:00Z"
# an attacker repeating key deletion and discovery: enough API-rate spikes for Insights files
SCENARIOS = [("kms-key-deletion", ATTACK)] * 5 + [("discovery-burst", ATTACK)] * 8


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def walk(directory: Path) -> tuple[list[str], list[str]]:
    """(files, directories) under `directory`, hidden ones included, as relative POSIX paths."""
    files, dirs = [], []
    for root, dirnames, filenames in os.walk(directory):
        base = Path(root).relative_to(directory)
        dirs += [(base / d).as_posix() for d in dirnames]
        files += [(base / f).as_posix() for f in filenames]
    return sorted(files), sorted(dirs)


def generate(out: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    scenario_args = [arg for name, at in SCENARIOS for arg in ("--scenario", name, "--scenario-time", at)]
    done = cli("generate", "--start", "2024-05-01T00:00:00Z", "--end", "2024-05-01T06:00:00Z", "--seed", "1",
               "--accounts", ACCOUNT, "--insights", *scenario_args, "--output", str(out), "--data-dir", str(data),
               *extra)
    assert done.returncode == 0, done.stderr
    return done


def assert_valid(out: Path, data: Path) -> str:
    done = cli("validate", str(out), "--data-dir", str(data))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "INVALID" not in done.stdout
    return done.stdout


def test_output_dir_holds_only_cloudtrail_objects(tmp_path):
    out, data = tmp_path / "trail", tmp_path / "data"
    done = generate(out, data)
    files, dirs = walk(out)
    strays = [f for f in files if not (LOG_KEY.match(f) or DIGEST_KEY.match(f) or INSIGHT_KEY.match(f))]
    assert strays == []
    assert all(d == "AWSLogs" or d.startswith("AWSLogs/") for d in dirs), dirs
    kinds = {kind: sum(1 for f in files if pattern.match(f))
             for kind, pattern in (("log", LOG_KEY), ("digest", DIGEST_KEY), ("insight", INSIGHT_KEY))}
    assert kinds["log"] > 50 and kinds["digest"] >= 6 and kinds["insight"] >= 1, kinds

    # the labels and the store's own files are beside it, where the summary says
    labels = tmp_path / "trail.labels.jsonl"
    assert f"labels in {labels}" in done.stdout
    assert {json.loads(line)["scenario"] for line in labels.read_text().splitlines()} == \
        {"kms-key-deletion", "discovery-burst"}
    sidecar = tmp_path / ".trail.ctemu"
    assert (sidecar / "lock").is_file()
    metas = [p for p in (sidecar / "meta").rglob("*") if p.is_file()]
    assert len(metas) == kinds["digest"] and all(p.name.endswith(".json.gz.meta") for p in metas)
    out_text = assert_valid(out, data)
    assert f"{kinds['digest']}/{kinds['digest']} digest files valid" in out_text


def test_tree_with_ctemu_inside_still_validates_and_the_next_writer_moves_it_out(tmp_path):
    out, data = tmp_path / "old", tmp_path / "data"
    generate(out, data)
    shutil.move(tmp_path / ".old.ctemu", out / ".ctemu")          # the layout written before issue 10
    before = assert_valid(out, data)
    assert "digest files valid" in before

    done = cli("generate", "--count", "50", "--start", "2024-05-02T00:00:00Z", "--end", "2024-05-02T01:00:00Z",
               "--prefix", "second", "--output", str(out), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert not (out / ".ctemu").exists() and (tmp_path / ".old.ctemu" / "meta").is_dir()
    files, _ = walk(out)
    assert all(f.startswith(("AWSLogs/", "second/AWSLogs/")) for f in files)
    assert_valid(out, data)


def test_copy_without_its_sidecar_names_the_missing_signatures(tmp_path):
    out, data = tmp_path / "trail", tmp_path / "data"
    assert cli("generate", "--count", "40", "--start", "2024-05-01", "--end", "2024-05-01T01:30:00Z",
               "--output", str(out), "--data-dir", str(data)).returncode == 0
    shutil.copytree(out, tmp_path / "copy")
    done = cli("validate", str(tmp_path / "copy"), "--data-dir", str(data))
    assert done.returncode == 1
    assert "INVALID: signature metadata missing" in done.stdout


@pytest.mark.skipif(not os.path.ismount("/dev/shm") or not os.access("/dev/shm", os.W_OK),
                    reason="needs the writable mount point /dev/shm")
def test_a_mount_point_as_output_is_refused_in_one_line():
    done = cli("generate", "--count", "10", "--start", "2024-05-01", "--end", "2024-05-01T01:00:00Z",
               "--output", "/dev/shm", "--data-dir", "/dev/shm/.ctemu-test-never-written")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "/dev/shm is a mount point" in done.stderr, done.stderr
    assert not os.path.exists("/dev/.shm.ctemu")


def test_served_bucket_directories_hold_only_their_objects(tmp_path):
    server = start_emulator(EmulatorConfig(data_dir=tmp_path / "state"))
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="plain-bucket")
        s3.put_object(Bucket="plain-bucket", Key="a/b.json.gz", Body=b"x", Metadata={"signature": "ab12"})
        assert s3.get_object(Bucket="plain-bucket", Key="a/b.json.gz")["Metadata"] == {"signature": "ab12"}
    finally:
        server.running.stop()
    root = tmp_path / "state" / "s3"
    assert walk(root / "plain-bucket")[0] == ["a/b.json.gz"]
    assert (root / ".plain-bucket.ctemu" / "meta" / "a" / "b.json.gz.meta").is_file()


def test_served_bucket_written_before_the_sidecar_keeps_its_metadata(tmp_path):
    server = start_emulator(EmulatorConfig(data_dir=tmp_path / "state"))
    try:
        server.client("s3").create_bucket(Bucket="old-bucket")
        server.client("s3").put_object(Bucket="old-bucket", Key="k", Body=b"x", Metadata={"signature": "cd34"})
    finally:
        server.running.stop()
    root = tmp_path / "state" / "s3"
    shutil.move(root / ".old-bucket.ctemu", root / "old-bucket" / ".ctemu")      # an older data dir
    server = start_emulator(EmulatorConfig(data_dir=tmp_path / "state"))
    try:
        s3 = server.client("s3")
        assert s3.get_object(Bucket="old-bucket", Key="k")["Metadata"] == {"signature": "cd34"}
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="old-bucket")["Contents"]] == ["k"]
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["old-bucket"]
    finally:
        server.running.stop()
