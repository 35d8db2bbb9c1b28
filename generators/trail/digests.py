"""The hourly digest chain of one (trail, account, region): building, signing, key names.

`build_digest` is the one place a digest is made (a pure function of chain, period, log files,
previous digest and keyring); `DigestChain` keeps one chain's open period in memory around it, and
`generators.trail.writer` keeps chains as serialisable state for the trail writer.

Periods tile time from `started_at` (when validation was turned on, not the top of the hour): each
digest covers [previous end, end) with end at most one hour later; `close_period(end)` with an
earlier end delivers a final digest early (StopLogging, DeleteTrail). A log file belongs to the
period in which it was delivered. Every period yields a digest, with `logFiles: []` when empty.
The first digest of a chain started without `previous` is a starting digest (the five
previousDigest* keys present as null); later ones link to their predecessor.
"""
from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import orjson

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.times import format_time, require_utc
from cloudtrail_emulator.generators.trail.layout import digest_key

if TYPE_CHECKING:
    from cloudtrail_emulator.generators.trail.logfiles import LogFile

PERIOD = timedelta(hours=1)
SIGNATURE_ALGORITHM = "SHA256withRSA"
HASH_ALGORITHM = "SHA-256"


@dataclass(frozen=True)
class Digest:
    key: str
    body: bytes                # gzip of the digest JSON
    raw_sha256: str            # hex SHA-256 of the uncompressed JSON (the next digest links to it)
    signature: str             # hex
    metadata: dict[str, str]   # {"signature": ..., "signature-algorithm": "SHA256withRSA"}
    start: datetime
    end: datetime


def string_to_sign(end_time: str, bucket: str, key: str, raw_sha256: str,
                   previous_signature: str | None) -> bytes:
    """The four `\\n`-joined parts CloudTrail signs (FORMATS.md section 2)."""
    return "\n".join(
        (end_time, f"{bucket}/{key}", raw_sha256, previous_signature or "null")
    ).encode()


@dataclass(frozen=True)
class ChainId:
    """What names and addresses one chain's digests: (trail, account, region) and where they go."""

    bucket: str
    prefix: str
    account_id: str
    region: str
    trail_name: str
    home_region: str
    org_id: str | None = None

    def key(self, end: datetime) -> str:
        """Object key of the chain's digest ending at `end`."""
        return digest_key(self.prefix, self.account_id, self.region, self.trail_name, self.home_region,
                          end, self.org_id)


def build_digest(chain: ChainId, start: datetime, end: datetime, log_files: Iterable[LogFile],
                 previous: Digest | None, keyring: Keyring) -> Digest:
    """The signed digest of `chain` for [start, end) listing `log_files` (in delivery order) and
    linking to `previous` (None: a starting digest). Pure: the same inputs give the same bytes."""
    files = sorted(log_files, key=lambda f: (f.delivered_at, f.key))
    key = chain.key(end)
    signing_key = keyring.key_for(chain.region, end)
    end_time = format_time(end)
    document = {
        "awsAccountId": chain.account_id,
        "digestStartTime": format_time(start),
        "digestEndTime": end_time,
        "digestS3Bucket": chain.bucket,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": signing_key.fingerprint,
        "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
        "newestEventTime": max((f.newest_event_time for f in files), default=None),
        "oldestEventTime": min((f.oldest_event_time for f in files), default=None),
        "previousDigestS3Bucket": None if previous is None else chain.bucket,
        "previousDigestS3Object": None if previous is None else previous.key,
        "previousDigestHashValue": None if previous is None else previous.raw_sha256,
        "previousDigestHashAlgorithm": None if previous is None else HASH_ALGORITHM,
        "previousDigestSignature": None if previous is None else previous.signature,
        "logFiles": [
            {
                "s3Bucket": chain.bucket,
                "s3Object": f.key,
                "hashValue": f.sha256,
                "hashAlgorithm": HASH_ALGORITHM,
                "newestEventTime": f.newest_event_time,
                "oldestEventTime": f.oldest_event_time,
            }
            for f in files
        ],
    }
    raw = orjson.dumps(document)
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    signature = signing_key.sign(string_to_sign(
        end_time, chain.bucket, key, raw_sha256, None if previous is None else previous.signature
    )).hex()
    metadata = {"signature": signature, "signature-algorithm": SIGNATURE_ALGORITHM}
    return Digest(key, gzip.compress(raw, mtime=0), raw_sha256, signature, metadata, start, end)


class DigestChain:
    """One chain: (trail, account, region). Feed log files, close periods."""

    def __init__(self, *, bucket: str, prefix: str, account_id: str, region: str, trail_name: str,
                 home_region: str, keyring: Keyring, org_id: str | None = None,
                 previous: Digest | None = None, started_at: datetime):
        self.bucket = bucket
        self.prefix = prefix
        self.account_id = account_id
        self.region = region
        self.trail_name = trail_name
        self.home_region = home_region
        self.org_id = org_id
        self._keyring = keyring
        self._previous = previous
        self._start = require_utc(started_at, "digest chain start")
        if self._start.microsecond:
            raise GeneratorError(f"digest chain start must be whole seconds, got {format_time(self._start)}")
        if previous is not None and self._start != previous.end:
            raise GeneratorError(
                f"digest chain continues at {format_time(self._start)} but its previous digest "
                f"ends at {format_time(previous.end)}; periods must tile (start a new chain instead)"
            )
        self._pending: list[LogFile] = []

    @property
    def period_start(self) -> datetime:
        """Start of the open period."""
        return self._start

    @property
    def period_end(self) -> datetime:
        """End of the open period when it runs its full hour."""
        return self._start + PERIOD

    @property
    def previous(self) -> Digest | None:
        return self._previous

    def add(self, log_file: LogFile) -> None:
        """Queue a log file for the period in which it was delivered."""
        if log_file.delivered_at < self._start:
            raise GeneratorError(
                f"log file {log_file.key} was delivered at {format_time(log_file.delivered_at)}, "
                f"before the open digest period starts ({format_time(self._start)})"
            )
        if (log_file.account_id, log_file.region) != (self.account_id, self.region):
            raise GeneratorError(
                f"log file {log_file.key} belongs to {log_file.account_id}/{log_file.region}, "
                f"not to this chain's {self.account_id}/{self.region}"
            )
        self._pending.append(log_file)

    def close_period(self, end: datetime) -> Digest:
        """The digest for [last end, end); `end` may fall before the full hour (a final digest)."""
        end = require_utc(end, "digest end")
        if not self._start < end <= self.period_end or end.microsecond:
            raise GeneratorError(
                f"digest end {end.isoformat()} must be whole seconds after the period start "
                f"{format_time(self._start)} and at most one hour later"
            )
        included = [f for f in self._pending if f.delivered_at < end]
        self._pending = [f for f in self._pending if f.delivered_at >= end]
        chain = ChainId(self.bucket, self.prefix, self.account_id, self.region, self.trail_name,
                        self.home_region, self.org_id)
        digest = build_digest(chain, self._start, end, included, self._previous, self._keyring)
        self._previous = digest
        self._start = end
        return digest

