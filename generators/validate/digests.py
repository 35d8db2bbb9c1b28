"""Reading one digest file: fetch, parse, check its format and location, verify its signature."""
from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cloudtrail_emulator.generators.stores import NoSuchKey, ObjectStore
from cloudtrail_emulator.generators.times import parse_time
from cloudtrail_emulator.generators.trail.digests import string_to_sign
from cloudtrail_emulator.generators.trail.keyring import Keyring, SigningKey
from cloudtrail_emulator.generators.validate.report import Verdict

_REQUIRED = ("digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object",
             "previousDigestSignature", "digestEndTime", "digestStartTime", "logFiles")


class PublicKeys:
    """Fingerprint -> loaded RSA public key (and its region when known), loaded once each."""

    def __init__(self, keyring: Keyring | None,
                 public_keys: Mapping[str, bytes] | Iterable[SigningKey] | None):
        self._keyring = keyring
        self._der: dict[str, tuple[bytes, str | None]] = {}
        if isinstance(public_keys, Mapping):
            self._der = {fp: (der, None) for fp, der in public_keys.items()}
        elif public_keys is not None:
            self._der = {k.fingerprint: (k.public_der, k.region) for k in public_keys}
        self._loaded: dict[str, tuple[rsa.RSAPublicKey, str | None] | None] = {}

    def get(self, fingerprint: str) -> tuple[rsa.RSAPublicKey, str | None] | None:
        if fingerprint not in self._loaded:
            self._loaded[fingerprint] = self._load(fingerprint)
        return self._loaded[fingerprint]

    def _load(self, fingerprint: str) -> tuple[rsa.RSAPublicKey, str | None] | None:
        entry = self._der.get(fingerprint)
        if entry is None and self._keyring is not None:
            key = self._keyring.by_fingerprint(fingerprint)
            entry = None if key is None else (key.public_der, key.region)
        if entry is None:
            return None
        try:
            loaded = serialization.load_der_public_key(entry[0])
        except ValueError:
            return None
        return (loaded, entry[1]) if isinstance(loaded, rsa.RSAPublicKey) else None


@dataclass
class Digest:
    """One listed digest key, and what reading it found."""

    key: str
    chain: tuple[str | None, str, str, str, str]   # org, account, region, trail, home region
    end_from_key: datetime
    verdict: Verdict = Verdict.VALID
    detail: str = ""
    data: dict[str, Any] | None = None             # parsed JSON when its format is valid
    raw_sha256: str | None = None
    signature: str | None = None

    @property
    def start(self) -> datetime | None:
        return None if self.data is None else parse_time(self.data["digestStartTime"])

    @property
    def end(self) -> datetime:
        return self.end_from_key if self.data is None else parse_time(self.data["digestEndTime"])


def read_digest(store: ObjectStore, bucket: str, digest: Digest, keys: PublicKeys) -> None:
    """Fetch, parse and verify one digest in place (the verdicts validate-logs gives)."""
    try:
        obj = store.get(bucket, digest.key)
    except NoSuchKey:
        digest.verdict = Verdict.NOT_FOUND
        return
    try:
        raw = zlib.decompress(obj.body, zlib.MAX_WBITS | 16)
        data = orjson.loads(raw)
        if not isinstance(data, dict) or any(k not in data for k in _REQUIRED):
            raise ValueError("missing keys")
        parse_time(data["digestStartTime"]), parse_time(data["digestEndTime"])
        if not all(isinstance(data[k], str) for k in ("digestS3Bucket", "digestS3Object")) or not (
            data["previousDigestSignature"] is None or isinstance(data["previousDigestSignature"], str)
        ):
            raise ValueError("bad field types")
        if not isinstance(data["logFiles"], list) or not all(
            isinstance(f, dict) and all(isinstance(f.get(k), str) for k in ("s3Bucket", "s3Object", "hashValue"))
            for f in data["logFiles"]
        ):
            raise ValueError("bad logFiles")
    except (zlib.error, ValueError, TypeError):
        digest.verdict = Verdict.INVALID_FORMAT
        return
    digest.data = data
    digest.raw_sha256 = hashlib.sha256(raw).hexdigest()
    signature = obj.metadata.get("signature")
    if signature is None or "signature-algorithm" not in obj.metadata:
        digest.verdict = Verdict.UNSIGNED
        return
    digest.signature = signature
    if data["digestS3Bucket"] != bucket or data["digestS3Object"] != digest.key:
        digest.verdict = Verdict.MOVED
        digest.detail = f"written for s3://{data['digestS3Bucket']}/{data['digestS3Object']}"
        return
    fingerprint = data["digestPublicKeyFingerprint"]
    found = keys.get(fingerprint) if isinstance(fingerprint, str) else None
    region = digest.chain[2]
    if found is None or (found[1] is not None and found[1] != region):
        digest.verdict = Verdict.PUBLIC_KEY_NOT_FOUND
        digest.detail = f"region {region}, fingerprint {fingerprint}"
        return
    try:
        found[0].verify(
            bytes.fromhex(signature),
            string_to_sign(data["digestEndTime"], bucket, digest.key, digest.raw_sha256,
                           data["previousDigestSignature"]),
            padding.PKCS1v15(), hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        digest.verdict = Verdict.SIGNATURE_FAILED
