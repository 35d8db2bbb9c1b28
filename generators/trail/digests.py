"""The hourly digest chain of one (trail, account, region): building, signing, key names.

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
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import orjson

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.times import format_time, parse_time, require_utc
from cloudtrail_emulator.generators.trail.layout import DIGEST, digest_key, folder, parse_name

if TYPE_CHECKING:
    from cloudtrail_emulator.generators.trail.logfiles import LogFile
    from cloudtrail_emulator.generators.stores import ObjectStore

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


def load_digest(store: ObjectStore, bucket: str, key: str) -> Digest:
    """A digest read back from a store, e.g. to resume its chain in another process."""
    obj = store.get(bucket, key)
    try:
        raw = zlib.decompress(obj.body, zlib.MAX_WBITS | 16)
        data = orjson.loads(raw)
        start, end = parse_time(data["digestStartTime"]), parse_time(data["digestEndTime"])
        signature = obj.metadata["signature"]
    except (zlib.error, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise GeneratorError(f"s3://{bucket}/{key} is not a signed digest: {exc}") from None
    return Digest(key, obj.body, hashlib.sha256(raw).hexdigest(), signature,
                  dict(obj.metadata), start, end)


def latest_digest_key(store: ObjectStore, bucket: str, prefix: str, account_id: str, region: str,
                      trail_name: str, home_region: str, org_id: str | None = None) -> str | None:
    """Key of the chain's newest digest in the store, or None."""
    best: tuple[datetime, str] | None = None
    for key in store.list(bucket, folder(DIGEST, prefix, account_id, region, org_id)):
        name = parse_name(key.rsplit("/", 1)[-1])
        if (name is not None and name.kind == DIGEST and (name.trail_name, name.home_region) == (trail_name, home_region)
                and name.account_id == account_id and name.region == region):
            if best is None or name.at > best[0]:
                best = (name.at, key)
    return None if best is None else best[1]


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

    @classmethod
    def resume(cls, store: ObjectStore, *, bucket: str, prefix: str, account_id: str, region: str,
               trail_name: str, home_region: str, keyring: Keyring, org_id: str | None = None,
               started_at: datetime | None = None) -> DigestChain:
        """Continue the chain stored in `store`: link to its newest digest, start where it ended.

        With no stored digest, or with `started_at` after the stored chain's end (logging was
        restarted), the chain begins at `started_at` with a starting digest. To catch up on hours
        missed while no process ran, resume without `started_at` and call `close_until`.
        """
        key = latest_digest_key(store, bucket, prefix, account_id, region, trail_name,
                                home_region, org_id)
        previous = None if key is None else load_digest(store, bucket, key)
        if previous is None and started_at is None:
            raise GeneratorError(
                f"no digest of trail {trail_name} in s3://{bucket} for {account_id}/{region} "
                "to resume, and no start time given"
            )
        if previous is not None and started_at is not None and started_at > previous.end:
            previous = None
        start = started_at if previous is None else previous.end
        return cls(bucket=bucket, prefix=prefix, account_id=account_id, region=region,
                   trail_name=trail_name, home_region=home_region, keyring=keyring,
                   org_id=org_id, previous=previous, started_at=start)

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
        included = sorted((f for f in self._pending if f.delivered_at < end),
                          key=lambda f: (f.delivered_at, f.key))
        self._pending = [f for f in self._pending if f.delivered_at >= end]
        digest = self._build(end, included)
        self._previous = digest
        self._start = end
        return digest

    def close_until(self, until: datetime) -> list[Digest]:
        """Close every full-hour period that ends at or before `until`."""
        until = require_utc(until, "time")
        digests = []
        while self.period_end <= until:
            digests.append(self.close_period(self.period_end))
        return digests

    def _build(self, end: datetime, log_files: list[LogFile]) -> Digest:
        key = digest_key(self.prefix, self.account_id, self.region, self.trail_name,
                         self.home_region, end, self.org_id)
        signing_key = self._keyring.key_for(self.region, end)
        prev = self._previous
        end_time = format_time(end)
        document = {
            "awsAccountId": self.account_id,
            "digestStartTime": format_time(self._start),
            "digestEndTime": end_time,
            "digestS3Bucket": self.bucket,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": signing_key.fingerprint,
            "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
            "newestEventTime": max((f.newest_event_time for f in log_files), default=None),
            "oldestEventTime": min((f.oldest_event_time for f in log_files), default=None),
            "previousDigestS3Bucket": None if prev is None else self.bucket,
            "previousDigestS3Object": None if prev is None else prev.key,
            "previousDigestHashValue": None if prev is None else prev.raw_sha256,
            "previousDigestHashAlgorithm": None if prev is None else HASH_ALGORITHM,
            "previousDigestSignature": None if prev is None else prev.signature,
            "logFiles": [
                {
                    "s3Bucket": self.bucket,
                    "s3Object": f.key,
                    "hashValue": f.sha256,
                    "hashAlgorithm": HASH_ALGORITHM,
                    "newestEventTime": f.newest_event_time,
                    "oldestEventTime": f.oldest_event_time,
                }
                for f in log_files
            ],
        }
        raw = orjson.dumps(document)
        raw_sha256 = hashlib.sha256(raw).hexdigest()
        signature = signing_key.sign(string_to_sign(
            end_time, self.bucket, key, raw_sha256, None if prev is None else prev.signature
        )).hex()
        metadata = {"signature": signature, "signature-algorithm": SIGNATURE_ALGORITHM}
        return Digest(key, gzip.compress(raw, mtime=0), raw_sha256, signature, metadata,
                      self._start, end)

