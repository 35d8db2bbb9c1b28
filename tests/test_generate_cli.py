"""The generate and validate commands end to end, read back as outside tools read the files."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

CLI = str(Path(sys.executable).parent / "cloudtrail-emulator")
RANGE = ["--start", "2024-03-04T08:00:00Z", "--end", "2024-03-04T11:30:00Z"]
LOG_KEY = (r"AWSLogs/(o-[a-z0-9]{10}/)?\d{12}/CloudTrail/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/"
           r"\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{2}[0-5][05]Z_[A-Za-z0-9]{16}\.json\.gz")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def files_under(root: Path) -> dict[str, Path]:
    """Object keys (paths relative to root) of the visible files, hidden bookkeeping left out."""
    return {
        p.relative_to(root).as_posix(): p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def single_member(path: Path) -> bytes:
    """The bytes of the one gzip member the file must hold (fails on trailing data)."""
    data = path.read_bytes()
    inflater = zlib.decompressobj(wbits=31)
    raw = inflater.decompress(data) + inflater.flush()
    assert inflater.eof and inflater.unused_data == b"", f"{path} is not exactly one gzip member"
    return raw


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    base = tmp_path_factory.mktemp("trail")
    out, data = base / "out", base / "data"
    done = run("generate", "--count", "3000", *RANGE, "--seed", "7", "--regions", "us-east-1,eu-west-1",
               "--output", str(out), "--data-dir", str(data), "--bucket", "my-trail-bucket")
    assert done.returncode == 0, done.stderr
    return out, data, done


def test_summary_names_what_was_written(trail):
    _, _, done = trail
    assert "3000 records" in done.stdout
    assert "digest files" in done.stdout and "records/s" in done.stdout


def test_log_files_are_single_gzip_members_of_compact_records(trail):
    out, _, _ = trail
    logs = {k: p for k, p in files_under(out).items() if "/CloudTrail/" in k}
    assert logs
    total = 0
    for key, path in logs.items():
        assert re.fullmatch(LOG_KEY, key), key
        raw = single_member(path)
        document = json.loads(raw)
        assert raw == json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        records = document["Records"]
        assert records
        region = key.split("/")[3]
        assert all(r["awsRegion"] == region for r in records)
        total += len(records)
    assert total == 3000


def _public_keys(data: Path) -> dict[str, bytes]:
    """Fingerprint -> PKCS#1 DER of every public key the keyring persisted, read as files."""
    from cloudtrail_emulator.generators.trail.keyring import Keyring

    keyring = Keyring(data)
    keys = keyring.public_keys(datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))
    return {k.fingerprint: k.public_der for k in keys}


def test_digests_sign_and_hash_as_formats_md_says(trail):
    out, data, _ = trail
    files = files_under(out)
    digests = sorted(k for k in files if "/CloudTrail-Digest/" in k)
    keys = _public_keys(data)
    assert digests and keys
    by_chain: dict[tuple[str, str], list[dict]] = {}
    for key in digests:
        raw = single_member(files[key])
        digest = json.loads(raw)
        assert digest["digestS3Bucket"] == "my-trail-bucket" and digest["digestS3Object"] == key
        der = keys[digest["digestPublicKeyFingerprint"]]
        assert hashlib.md5(der).hexdigest() == digest["digestPublicKeyFingerprint"]
        digest["_raw"] = raw
        by_chain.setdefault((digest["awsAccountId"], key.split("/")[3]), []).append(digest)
        for entry in digest["logFiles"]:
            assert hashlib.sha256(single_member(files[entry["s3Object"]])).hexdigest() == entry["hashValue"]
    assert {region for _, region in by_chain} == {"us-east-1", "eu-west-1"}
    for chain in by_chain.values():
        chain.sort(key=lambda d: d["digestEndTime"])
        assert chain[0]["previousDigestSignature"] is None
        for earlier, later in zip(chain, chain[1:]):
            assert later["digestStartTime"] == earlier["digestEndTime"]
            assert later["previousDigestHashValue"] == hashlib.sha256(earlier["_raw"]).hexdigest()
            assert later["previousDigestS3Object"] == earlier["digestS3Object"]


def test_signatures_verify_with_the_public_key(trail):
    """Signatures read back through the store's metadata, verified with cryptography primitives."""
    from cloudtrail_emulator.generators.stores import LocalStore

    out, data, _ = trail
    store = LocalStore.directory(out, "my-trail-bucket")
    keys = _public_keys(data)
    digests = sorted(k for k in store.list("my-trail-bucket", "AWSLogs/") if "/CloudTrail-Digest/" in k)
    for key in digests:
        obj = store.get("my-trail-bucket", key)
        assert obj.metadata["signature-algorithm"] == "SHA256withRSA"
        raw = gzip.decompress(obj.body)
        digest = json.loads(raw)
        string_to_sign = "\n".join([
            digest["digestEndTime"],
            f"{digest['digestS3Bucket']}/{digest['digestS3Object']}",
            hashlib.sha256(raw).hexdigest(),
            digest["previousDigestSignature"] or "null",
        ]).encode()
        public = serialization.load_der_public_key(
            _pkcs1_to_spki(keys[digest["digestPublicKeyFingerprint"]])
        )
        public.verify(bytes.fromhex(obj.metadata["signature"]), string_to_sign, padding.PKCS1v15(),
                      hashes.SHA256())


def _pkcs1_to_spki(der: bytes) -> bytes:
    """Wraps a PKCS#1 RSAPublicKey DER in a SubjectPublicKeyInfo, as openssl rsa -RSAPublicKey_in does."""
    algorithm = bytes.fromhex("300d06092a864886f70d0101010500")
    bit_string = b"\x03" + _der_length(len(der) + 1) + b"\x00" + der
    body = algorithm + bit_string
    return b"\x30" + _der_length(len(body)) + body


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def test_untouched_trail_validates_clean(trail):
    out, data, _ = trail
    done = run("validate", str(out), "--data-dir", str(data), "--bucket", "my-trail-bucket")
    assert done.returncode == 0, done.stdout + done.stderr


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, trail):
    out, data, _ = trail
    again = tmp_path / "again"
    done = run("generate", "--count", "3000", *RANGE, "--seed", "7", "--regions", "us-east-1,eu-west-1",
               "--output", str(again), "--data-dir", str(data), "--bucket", "my-trail-bucket",
               "--workers", "2")
    assert done.returncode == 0, done.stderr
    first, second = files_under(out), files_under(again)
    assert first.keys() == second.keys()
    assert all(first[k].read_bytes() == second[k].read_bytes() for k in first)

    other = tmp_path / "other"
    done = run("generate", "--count", "3000", *RANGE, "--seed", "8", "--regions", "us-east-1,eu-west-1",
               "--output", str(other), "--data-dir", str(data), "--bucket", "my-trail-bucket")
    assert done.returncode == 0, done.stderr
    assert set(files_under(other)) != set(first)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--count", "-5"], "zero or more"),
        (["--regions", "us-moon-1"], "unknown region"),
        (["--start", "2024-03-05T00:00:00Z", "--end", "2024-03-04T00:00:00Z"], "must be after"),
        (["--start", "yesterday"], "ISO 8601"),
        (["--accounts", "0"], "at least one"),
        (["--trail-name", "a..b"], "trail name"),
    ],
)
def test_bad_options_fail_in_one_line_and_write_nothing(tmp_path: Path, args: list[str], message: str):
    out = tmp_path / "out"
    base = ["generate", "--count", "10", "--output", str(out), "--data-dir", str(tmp_path / "d")]
    done = run(*base, *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() or not any(out.iterdir())


def test_unwritable_target_fails_cleanly(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    done = run("generate", "--count", "10", "--output", str(blocker / "out"), "--data-dir", str(tmp_path / "d"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_unreachable_endpoint_fails_cleanly(tmp_path: Path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    done = subprocess.run([CLI, "generate", "--count", "10", "--output", "s3://nowhere/logs",
                           "--endpoint-url", f"http://127.0.0.1:{port}", "--data-dir", str(tmp_path / "d")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_generate_into_and_validate_from_an_s3_compatible_server(tmp_path: Path, moto_s3: str):
    """moto's S3 server stands in for any S3 endpoint: files land there and validate from there."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1")
    s3.create_bucket(Bucket="fixture-logs")
    data = str(tmp_path / "data")
    done = run("generate", "--count", "1500", *RANGE, "--seed", "3", "--accounts", "2",
               "--output", "s3://fixture-logs/team", "--endpoint-url", moto_s3, "--data-dir", data)
    assert done.returncode == 0, done.stderr
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="fixture-logs")
            for o in page.get("Contents", [])]
    digests = [k for k in keys if "/CloudTrail-Digest/" in k]
    assert digests and all(re.match(r"team/AWSLogs/o-[a-z0-9]{10}/\d{12}/", k) for k in keys)
    head = s3.head_object(Bucket="fixture-logs", Key=digests[0])
    assert set(head["Metadata"]) == {"signature", "signature-algorithm"}
    records = 0
    for key in keys:
        if "/CloudTrail/" in key:
            body = s3.get_object(Bucket="fixture-logs", Key=key)["Body"].read()
            records += len(json.loads(gzip.decompress(body))["Records"])
    assert records == 1500

    clean = run("validate", "s3://fixture-logs/team", "--endpoint-url", moto_s3, "--data-dir", data)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    victim = next(k for k in keys if "/CloudTrail/" in k)
    s3.put_object(Bucket="fixture-logs", Key=victim, Body=gzip.compress(b'{"Records":[]}'))
    tampered = run("validate", "s3://fixture-logs/team", "--endpoint-url", moto_s3, "--data-dir", data)
    assert tampered.returncode == 1
    assert victim in tampered.stdout + tampered.stderr


@pytest.mark.parametrize("damage", ["change-log-byte", "delete-log", "delete-digest", "move-digest"])
def test_validate_names_each_kind_of_tampering(tmp_path: Path, trail, damage: str):
    import shutil

    from cloudtrail_emulator.generators.stores import LocalStore

    out, data, _ = trail
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    shutil.copytree(out.parent / f".{out.name}.ctemu", tmp_path / ".copy.ctemu")    # the digests' metadata
    files = files_under(copy)
    logs = sorted(k for k in files if "/CloudTrail/" in k)
    digests = sorted(k for k in files if "/CloudTrail-Digest/" in k)
    if damage == "change-log-byte":
        victim = logs[len(logs) // 2]
        raw = bytearray(gzip.decompress(files[victim].read_bytes()))
        raw[20] = ord("X") if raw[20] != ord("X") else ord("Y")
        files[victim].write_bytes(gzip.compress(bytes(raw)))
        expected = "hash"
    elif damage == "delete-log":
        victim = logs[3]
        files[victim].unlink()
        expected = "not found"
    elif damage == "delete-digest":
        victim = digests[2]
        files[victim].unlink()
        expected = "not found"
    else:
        victim = digests[2]
        # same folder, a timestamp one second later: a well-formed key the digest does not name
        later = re.sub(r"(\d{8}T\d{4})(\d{2})Z", lambda m: f"{m[1]}{(int(m[2]) + 1) % 60:02d}Z",
                       files[victim].name)
        store = LocalStore.directory(copy, "my-trail-bucket")       # moved as S3 moves: with metadata
        obj = store.get("my-trail-bucket", victim)
        store.put("my-trail-bucket", victim.rsplit("/", 1)[0] + "/" + later, obj.body, obj.metadata)
        store.delete("my-trail-bucket", victim)
        expected = "moved"
    done = run("validate", str(copy), "--data-dir", str(data), "--bucket", "my-trail-bucket")
    report = done.stdout + done.stderr
    assert done.returncode == 1, report
    assert victim.rsplit("/", 1)[-1] in report or damage == "move-digest"
    assert expected in report.lower(), report
