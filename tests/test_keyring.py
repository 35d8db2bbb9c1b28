"""Keyring: windows, rotation, persistence, permissions, two processes on one keyring."""
from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.keyring import Keyring

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)


def verify(public_der: bytes, signature: bytes, data: bytes) -> None:
    """Raises InvalidSignature unless `signature` is RSA PKCS#1 v1.5 SHA-256 over `data`."""
    key = serialization.load_der_public_key(public_der)
    key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


def test_key_signs_and_fingerprint_is_md5_of_pkcs1_der():
    ring = Keyring(None)
    key = ring.key_for("us-east-1", T0)
    assert key.region == "us-east-1"
    assert key.fingerprint == hashlib.md5(key.public_der).hexdigest()
    assert len(key.fingerprint) == 32 and key.fingerprint == key.fingerprint.lower()
    # PKCS#1 RSAPublicKey, not SubjectPublicKeyInfo: re-serialising as PKCS1 gives the same bytes
    loaded = serialization.load_der_public_key(key.public_der)
    assert loaded.key_size == 2048
    assert loaded.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.PKCS1) == key.public_der
    verify(key.public_der, key.sign(b"hello"), b"hello")


def test_windows_rotate_cover_past_times_and_never_overlap():
    rotation = timedelta(days=30)
    ring = Keyring(None, rotation=rotation)
    first = ring.key_for("eu-west-1", T0)
    assert first.valid_from <= T0 < first.valid_to
    assert first.valid_to - first.valid_from == rotation
    assert ring.key_for("eu-west-1", first.valid_to - timedelta(seconds=1)) is first
    nxt = ring.key_for("eu-west-1", first.valid_to)
    assert nxt.fingerprint != first.fingerprint and nxt.valid_from == first.valid_to
    past = ring.key_for("eu-west-1", T0 - timedelta(days=400))
    assert past.valid_from <= T0 - timedelta(days=400) < past.valid_to
    other_region = ring.key_for("us-west-2", T0)
    assert other_region.fingerprint != first.fingerprint
    keys = ring.public_keys(T0 - timedelta(days=500), T0 + timedelta(days=100), region="eu-west-1")
    assert [k.fingerprint for k in keys] == [past.fingerprint, first.fingerprint, nxt.fingerprint]
    for a, b in zip(keys, keys[1:]):
        assert a.valid_to <= b.valid_from
    assert ring.public_keys(T0, T0 + timedelta(hours=2), region="eu-west-1") == [first]
    assert {k.region for k in ring.public_keys(T0, T0)} == {"eu-west-1", "us-west-2"}


def test_new_window_is_clipped_to_neighbours_of_another_rotation(tmp_path):
    Keyring(tmp_path, rotation=timedelta(days=30)).key_for("us-east-1", T0)
    ring = Keyring(tmp_path, rotation=timedelta(days=45))
    existing = ring.key_for("us-east-1", T0)
    before = ring.key_for("us-east-1", existing.valid_from - timedelta(seconds=1))
    after = ring.key_for("us-east-1", existing.valid_to)
    assert before.valid_to == existing.valid_from
    assert after.valid_from == existing.valid_to


def test_persisted_keys_reload_with_private_files_0600(tmp_path):
    ring = Keyring(tmp_path)
    key = ring.key_for("us-east-1", T0)
    folder = tmp_path / "keyring"
    pem = folder / f"{key.fingerprint}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    index = json.loads((folder / "index.json").read_text())
    assert index["keys"] == [{
        "region": "us-east-1", "fingerprint": key.fingerprint,
        "valid_from": key.valid_from.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "valid_to": key.valid_to.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }]

    again = Keyring(tmp_path)
    reloaded = again.by_fingerprint(key.fingerprint)
    assert reloaded is not None
    assert (reloaded.public_der, reloaded.valid_from, reloaded.valid_to) == (
        key.public_der, key.valid_from, key.valid_to)
    assert again.key_for("us-east-1", T0 + timedelta(minutes=5)).fingerprint == key.fingerprint
    verify(key.public_der, reloaded.sign(b"data"), b"data")
    assert again.by_fingerprint("0" * 32) is None


def test_a_running_keyring_sees_keys_another_one_created(tmp_path):
    server = Keyring(tmp_path)
    assert server.public_keys(T0, T0) == []
    created = Keyring(tmp_path).key_for("ap-south-1", T0)
    assert [k.fingerprint for k in server.public_keys(T0, T0)] == [created.fingerprint]
    assert server.key_for("ap-south-1", T0).fingerprint == created.fingerprint


def test_two_processes_creating_the_same_window_agree(tmp_path):
    script = (
        "import sys; from datetime import datetime, timezone; from pathlib import Path;"
        "from cloudtrail_emulator.generators.trail.keyring import Keyring;"
        "k = Keyring(Path(sys.argv[1])).key_for('us-east-2', datetime(2024, 5, 1, tzinfo=timezone.utc));"
        "print(k.fingerprint)"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outputs[0] == outputs[1]
    assert len(json.loads((tmp_path / "keyring" / "index.json").read_text())["keys"]) == 1


def test_bad_input_raises_generator_error(tmp_path):
    with pytest.raises(GeneratorError):
        Keyring(None).key_for("us-east-1", datetime(2024, 5, 1))
    with pytest.raises(GeneratorError):
        Keyring(None, rotation=timedelta(minutes=5))
    (tmp_path / "keyring").mkdir()
    (tmp_path / "keyring" / "index.json").write_text("{not json")
    with pytest.raises(GeneratorError, match="unreadable"):
        Keyring(tmp_path)
