"""`cloudtrail-emulator validate` on a local tree an adversary prepared (issue 11): a symbolic link
leading out of the tree is reported and never read; a forged digest gets one verdict, not one "not
found" line per file it names."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "cloudtrail-emulator")
DIGEST_DIR = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/01"
LOG_DIR = "AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01"


@pytest.fixture
def trail(tmp_path: Path) -> tuple[Path, Path]:
    """(trail directory, data dir with its keyring): 6 hours of a generated, valid trail."""
    out, data = tmp_path / "out", tmp_path / "data"
    subprocess.run([CLI, "generate", "--count", "200", "--output", str(out), "--data-dir", str(data),
                    "--seed", "1", "--workers", "1", "--start", "2024-05-01T00:00:00Z",
                    "--end", "2024-05-01T06:00:00Z"], check=True, capture_output=True, timeout=120)
    return out, data


def validate(out: Path, data: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "validate", str(out), "--data-dir", str(data)], capture_output=True,
                          text=True, timeout=60)


def test_links_out_of_the_tree_are_reported_not_read(trail, tmp_path):
    out, data = trail
    outside = tmp_path / "outside"
    outside.mkdir()
    fifo = outside / "blocks-whoever-opens-it"
    os.mkfifo(fifo)                      # opening it for reading would hang the validator
    named = sorted((out / LOG_DIR).glob("*.json.gz"))[0]      # a log file a digest names
    named.unlink()
    named.symlink_to(fifo)
    planted = out / LOG_DIR / "123456789012_CloudTrail_us-east-1_20240501T0305Z_planted0000000.json.gz"
    (outside / "elsewhere.json.gz").write_bytes(gzip.compress(b'{"Records": []}'))
    planted.symlink_to(outside / "elsewhere.json.gz")
    (outside / "region").mkdir()
    (out / "AWSLogs/123456789012/CloudTrail/eu-west-3").symlink_to(outside / "region")
    done = validate(out, data)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for key in (named.relative_to(out).as_posix(), planted.relative_to(out).as_posix(),
                "AWSLogs/123456789012/CloudTrail/eu-west-3/"):
        hits = [line for line in lines if key in line]
        assert len(hits) == 1 and "symbolic link out of the trail directory" in hits[0], (key, done.stdout)
    assert "Traceback" not in done.stderr


def test_a_forged_digest_gets_one_verdict_not_a_not_found_per_named_file(trail):
    out, data = trail
    digest_path = sorted((out / DIGEST_DIR).glob("*.json.gz"))[2]
    digest = json.loads(gzip.decompress(digest_path.read_bytes()))
    real = {entry["s3Object"] for entry in digest["logFiles"]}
    template = digest["logFiles"][0]
    digest["logFiles"] += [{**template, "s3Object": f"{LOG_DIR}/123456789012_CloudTrail_us-east-1_"
                            f"20240501T0200Z_forged{n:010d}.json.gz"} for n in range(300)]
    digest_path.write_bytes(gzip.compress(json.dumps(digest).encode()))   # signature now fails
    done = validate(out, data)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if digest_path.name in line and "INVALID" in line], done.stdout
    assert not [line for line in lines if "forged" in line], done.stdout[-3000:]
    assert not [line for line in lines if "not found" in line and any(k in line for k in real)]
