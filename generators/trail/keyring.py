"""RSA-2048 signing keys per region with validity windows, rotation and on-disk persistence.

Windows of one region never overlap. A new key's window is the rotation-period tile (counted from
the Unix epoch) that holds the requested instant, clipped so it does not overlap the region's
existing keys; so a key created for a past time covers that time, and two keyrings with the same
rotation agree on the tiles.

On disk (`<data_dir>/keyring/`): `index.json` (region, fingerprint, valid_from, valid_to of every
key) and one `<fingerprint>.pem` (PKCS#8, mode 0600) per key, both written atomically. Creation
holds an exclusive `fcntl` lock on `keyring/.lock` and re-reads the index first, so two processes
opening the same keyring never create two keys for one window.
"""
from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cloudtrail_emulator.generators.atomic_file import write_atomic
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.times import format_time, parse_time, require_utc

DEFAULT_ROTATION = timedelta(days=30)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_INDEX = "index.json"
_LOCK = ".lock"


def public_der(private_key: rsa.RSAPrivateKey) -> bytes:
    """PKCS#1 RSAPublicKey DER of a key (what ListPublicKeys returns)."""
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )


def fingerprint_of(der: bytes) -> str:
    """Lowercase hex MD5 of PKCS#1 RSAPublicKey DER bytes."""
    return hashlib.md5(der).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    region: str
    fingerprint: str           # lowercase hex MD5 of the PKCS#1 RSAPublicKey DER
    public_der: bytes          # PKCS#1 RSAPublicKey DER
    valid_from: datetime
    valid_to: datetime
    _private: rsa.RSAPrivateKey = field(repr=False, compare=False)

    def sign(self, data: bytes) -> bytes:
        """RSA PKCS#1 v1.5 signature with SHA-256."""
        return self._private.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def covers(self, at: datetime) -> bool:
        return self.valid_from <= at < self.valid_to


class Keyring:
    """Signing keys of every region; `data_dir=None` keeps them in memory only."""

    def __init__(self, data_dir: Path | None, rotation: timedelta = DEFAULT_ROTATION):
        if rotation < timedelta(hours=1):
            raise GeneratorError(f"key rotation period must be at least one hour, got {rotation}")
        if rotation % timedelta(seconds=1):
            raise GeneratorError(f"key rotation period must be whole seconds, got {rotation}")
        self.rotation = rotation
        self._dir = None if data_dir is None else Path(data_dir) / "keyring"
        self._keys: dict[str, SigningKey] = {}           # by fingerprint
        self._index_stamp: tuple[int, int] | None = None
        self._mutex = threading.Lock()
        if self._dir is not None:
            try:
                self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise GeneratorError(f"cannot create keyring directory {self._dir}: {exc}") from None
            self._refresh()

    def key_for(self, region: str, at: datetime) -> SigningKey:
        """The region's key valid at `at`, created (and persisted) if there is none."""
        at = require_utc(at, "key time")
        if not region:
            raise GeneratorError("a signing key needs a region")
        with self._mutex:
            found = self._find(region, at)
            if found is not None:
                return found
            with self._creation_lock():
                self._refresh()
                found = self._find(region, at)
                if found is None:
                    found = self._create(region, at)
            return found

    def public_keys(self, start: datetime, end: datetime, region: str | None = None) -> list[SigningKey]:
        """Keys whose validity window meets [start, end], oldest first."""
        start, end = require_utc(start, "start time"), require_utc(end, "end time")
        with self._mutex:
            self._refresh()
            keys = [
                k for k in self._keys.values()
                if k.valid_from <= end and k.valid_to > start and (region is None or k.region == region)
            ]
        return sorted(keys, key=lambda k: (k.valid_from, k.region))

    def by_fingerprint(self, fingerprint: str) -> SigningKey | None:
        with self._mutex:
            key = self._keys.get(fingerprint)
            if key is None:
                self._refresh()
                key = self._keys.get(fingerprint)
        return key

    def _find(self, region: str, at: datetime) -> SigningKey | None:
        for key in self._keys.values():
            if key.region == region and key.covers(at):
                return key
        return None

    def _window(self, region: str, at: datetime) -> tuple[datetime, datetime]:
        """The rotation tile holding `at`, clipped to the region's neighbouring keys."""
        tile = (at - _EPOCH) // self.rotation
        valid_from = _EPOCH + tile * self.rotation
        valid_to = valid_from + self.rotation
        for key in self._keys.values():
            if key.region != region:
                continue
            if key.valid_to <= at:
                valid_from = max(valid_from, key.valid_to)
            elif key.valid_from > at:
                valid_to = min(valid_to, key.valid_from)
        return valid_from, valid_to

    def _create(self, region: str, at: datetime) -> SigningKey:
        valid_from, valid_to = self._window(region, at)
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = public_der(private)
        key = SigningKey(region, fingerprint_of(der), der, valid_from, valid_to, private)
        if self._dir is not None:
            pem = private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            try:
                write_atomic(self._dir / f"{key.fingerprint}.pem", pem, 0o600)
                self._keys[key.fingerprint] = key
                self._write_index()
            except OSError as exc:
                self._keys.pop(key.fingerprint, None)
                raise GeneratorError(f"cannot write signing key under {self._dir}: {exc}") from None
        else:
            self._keys[key.fingerprint] = key
        return key

    def _write_index(self) -> None:
        assert self._dir is not None
        entries = [
            {"region": k.region, "fingerprint": k.fingerprint,
             "valid_from": format_time(k.valid_from), "valid_to": format_time(k.valid_to)}
            for k in sorted(self._keys.values(), key=lambda k: (k.region, k.valid_from))
        ]
        path = self._dir / _INDEX
        write_atomic(path, orjson.dumps({"keys": entries}, option=orjson.OPT_INDENT_2), 0o644)
        st = path.stat()
        self._index_stamp = (st.st_mtime_ns, st.st_ino)

    def _refresh(self) -> None:
        """Reload the index if another process (or nobody yet) changed it."""
        if self._dir is None:
            return
        path = self._dir / _INDEX
        try:
            st = path.stat()
        except FileNotFoundError:
            return
        stamp = (st.st_mtime_ns, st.st_ino)
        if stamp == self._index_stamp:
            return
        try:
            entries = orjson.loads(path.read_bytes())["keys"]
            for entry in entries:
                fp = entry["fingerprint"]
                if fp in self._keys:
                    continue
                private = self._load_private(fp)
                self._keys[fp] = SigningKey(
                    entry["region"], fp, public_der(private), parse_time(entry["valid_from"]),
                    parse_time(entry["valid_to"]), private,
                )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GeneratorError(f"keyring index {path} is unreadable: {exc}") from None
        self._index_stamp = stamp

    def _load_private(self, fingerprint: str) -> rsa.RSAPrivateKey:
        """A stored key, read without OpenSSL's slow consistency check (the fingerprint is checked)."""
        assert self._dir is not None
        path = self._dir / f"{fingerprint}.pem"
        private = serialization.load_pem_private_key(
            path.read_bytes(), None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError(f"{path} is not an RSA key")
        if fingerprint_of(public_der(private)) != fingerprint:
            raise ValueError(f"{path} does not match its fingerprint")
        return private

    @contextmanager
    def _creation_lock(self) -> Iterator[None]:
        if self._dir is None:
            yield
            return
        with open(self._dir / _LOCK, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
