"""Checks a trail's digest chains and log files in a store and names every bad file.

Reaches every verdict of `aws cloudtrail validate-logs` (digest not found, invalid format, missing
signature metadata, moved from its original location, public key not found, signature verification
failed; log file not found, hash mismatch, invalid format, data after the gzip member) and is
stricter in ways validate-logs is not (FORMATS.md section 4):

- Each linked digest's previousDigestS3Object/Bucket must name the chain's preceding digest, and
  previousDigestHashValue / previousDigestSignature must equal that digest's actual SHA-256 and
  signature ("previous digest link does not match"); a link to a digest that is gone makes that
  digest "not found".
- A linked digest must start where its predecessor ends ("period gap"). A starting digest after
  others is a chain restart: a note, not an error, as in validate-logs.
- A signing key of another region counts as "public key not found" when the keys' regions are known.
- Log files in the store that no digest lists are reported, never as tampering: "not in any
  digest" (a warning: the file was delivered inside a digested period yet is listed nowhere, e.g.
  inserted later, or listed only by a deleted digest), "awaiting a digest" (delivered after the
  newest digest ended) or "outside digest coverage" (delivered while no chain ran: before validation
  was turned on, between chains, or in a region without digests). Only invalid verdicts fail the
  report. With `trail_name`, log files digested by other trails sharing the prefix count as not digested.
- Log files listed by a digest whose signature fails are still checked (their verdicts are
  reported), since the list is the best evidence of what should be there.

Speed: one listing of `[prefix/]AWSLogs/` finds digests and log files together; every object is
read once (on a thread pool when `workers` > 1, for remote stores); signatures are
verified with `cryptography` against public keys loaded once per fingerprint.
"""
from __future__ import annotations

import bisect
import enum
import hashlib
import zlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cloudtrail_emulator.generators.trail.digests import PERIOD, string_to_sign
from cloudtrail_emulator.generators.times import format_time, parse_time, require_utc
from cloudtrail_emulator.generators.trail.layout import DIGEST, LOG, awslogs_root, parse_key
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.keyring import Keyring, SigningKey
from cloudtrail_emulator.generators.stores import NoSuchBucket, NoSuchKey, ObjectStore

_REQUIRED = ("digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object",
             "previousDigestSignature", "digestEndTime", "digestStartTime", "logFiles")
_DELIVERY_SLACK = timedelta(minutes=1)   # delivery is at most a minute after the time in the name


class Severity(enum.Enum):
    OK = "valid"
    INVALID = "INVALID"
    WARNING = "WARNING"
    NOTICE = "NOTE"


class Verdict(enum.Enum):
    """What the validator concluded about one file; the value is (message, severity)."""

    VALID = ("valid", Severity.OK)
    NOT_FOUND = ("not found", Severity.INVALID)
    INVALID_FORMAT = ("invalid format", Severity.INVALID)
    UNSIGNED = ("signature metadata missing", Severity.INVALID)
    MOVED = ("has been moved from its original location", Severity.INVALID)
    PUBLIC_KEY_NOT_FOUND = ("public key not found", Severity.INVALID)
    SIGNATURE_FAILED = ("signature verification failed", Severity.INVALID)
    BROKEN_LINK = ("previous digest link does not match the previous digest", Severity.INVALID)
    PERIOD_GAP = ("period does not start where the previous digest ends", Severity.INVALID)
    HASH_MISMATCH = ("hash value doesn't match", Severity.INVALID)
    TRAILING_DATA = ("unexpected data after end of compressed stream", Severity.INVALID)
    NOT_IN_DIGEST = ("not in any digest", Severity.WARNING)
    AWAITING_DIGEST = ("awaiting a digest", Severity.NOTICE)
    OUTSIDE_COVERAGE = ("outside digest coverage", Severity.NOTICE)

    @property
    def message(self) -> str:
        return self.value[0]

    @property
    def severity(self) -> Severity:
        return self.value[1]


@dataclass(frozen=True)
class FileVerdict:
    kind: str                  # "digest" | "log"
    bucket: str
    key: str
    verdict: Verdict
    detail: str = ""

    def line(self) -> str:
        """`Digest file<TAB>s3://b/k<TAB>INVALID: reason`, the way validate-logs prints it."""
        label = "Digest file" if self.kind == "digest" else "Log file"
        if self.verdict is Verdict.VALID:
            status = "valid"
        else:
            status = f"{self.verdict.severity.value}: {self.verdict.message}"
        if self.detail:
            status += f" ({self.detail})"
        return f"{label}\ts3://{self.bucket}/{self.key}\t{status}"


@dataclass
class ValidationReport:
    bucket: str
    prefix: str
    start: datetime | None
    end: datetime | None
    digests: list[FileVerdict] = field(default_factory=list)
    logs: list[FileVerdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    found_start: datetime | None = None
    found_end: datetime | None = None

    @property
    def problems(self) -> list[FileVerdict]:
        """Every invalid verdict, digests first."""
        return [v for v in self.digests + self.logs if v.verdict.severity is Severity.INVALID]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        """0 when nothing is invalid, 1 otherwise (as validate-logs)."""
        return 0 if self.ok else 1

    def count(self, kind: str, verdict: Verdict) -> int:
        return sum(1 for v in (self.digests if kind == "digest" else self.logs) if v.verdict is verdict)

    def render(self, verbose: bool = False) -> str:
        """Text for a terminal: invalid files and warnings (every file when verbose), notes, totals."""
        location = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        lines = [f"Validating digests and log files in {location}", ""]
        shown = (Severity.INVALID, Severity.WARNING)
        for item in self.digests + self.logs:
            if verbose or item.verdict.severity in shown:
                lines.append(item.line())
        lines += self.notes
        if self.start or self.end:
            lines.append(f"\nResults requested for {_show(self.start)} to {_show(self.end)}")
        if not self.digests:
            lines.append("No digests found")
        elif self.found_start and self.found_end:
            lines.append(f"Results found for {_show(self.found_start)} to {_show(self.found_end)}:")
        lines.append("")
        lines += _ratio(self.digests, "digest") + _ratio(self.logs, "log")
        for verdict in (Verdict.NOT_IN_DIGEST, Verdict.AWAITING_DIGEST, Verdict.OUTSIDE_COVERAGE):
            if n := self.count("log", verdict):
                lines.append(f"{n} log files {verdict.message}")
        return "\n".join(lines) + "\n"


def _show(at: datetime | None) -> str:
    return "-" if at is None else format_time(at)


def _ratio(items: list[FileVerdict], name: str) -> list[str]:
    judged = [v for v in items if v.verdict.severity in (Severity.OK, Severity.INVALID)]
    if not judged:
        return []
    valid = sum(1 for v in judged if v.verdict is Verdict.VALID)
    text = f"{valid}/{len(judged)} {name} files valid"
    if valid < len(judged):
        text += f", {len(judged) - valid}/{len(judged)} {name} files INVALID"
    return [text]


class _PublicKeys:
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
class _Digest:
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


def _read_digest(store: ObjectStore, bucket: str, digest: _Digest, keys: _PublicKeys) -> None:
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


def _check_log(store: ObjectStore, bucket: str, key: str, expected: str) -> Verdict:
    """Hash the first gzip member of a log file and compare, as validate-logs does."""
    try:
        body = store.get(bucket, key).body
    except (NoSuchKey, NoSuchBucket):
        return Verdict.NOT_FOUND
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        raw = inflater.decompress(body) + inflater.flush()
    except zlib.error:
        return Verdict.INVALID_FORMAT
    if inflater.unused_data or not inflater.eof:
        return Verdict.TRAILING_DATA if inflater.unused_data else Verdict.INVALID_FORMAT
    return Verdict.VALID if hashlib.sha256(raw).hexdigest() == expected else Verdict.HASH_MISMATCH


@dataclass(frozen=True)
class _Missing:
    """A digest a link names but the store lacks, with the time it must have covered."""

    bucket: str
    key: str
    after: datetime | None     # end of the digest listed before it, if any
    before: datetime           # start of the digest that links to it


def _link_chain(chain: list[_Digest], bucket: str, exists: set[str], store: ObjectStore,
                report: ValidationReport) -> list[_Missing]:
    """Stricter checks between consecutive digests of one chain (ascending by end time)."""
    missing: list[_Missing] = []
    previous: _Digest | None = None
    for digest in chain:
        data = digest.data
        if data is None:
            previous = digest
            continue
        link_bucket, link_key = data.get("previousDigestS3Bucket"), data.get("previousDigestS3Object")
        start = parse_time(data["digestStartTime"])
        if link_key is None:
            if previous is not None:
                report.notes.append(
                    f"No log files were delivered by CloudTrail between {_show(previous.end)} and "
                    f"{_show(start)} (chain restarted at s3://{bucket}/{digest.key})"
                )
        elif previous is not None and link_bucket == bucket and link_key == previous.key:
            if digest.verdict is Verdict.VALID and previous.data is not None and (
                data.get("previousDigestHashValue") != previous.raw_sha256
                or (previous.signature is not None
                    and data.get("previousDigestSignature") != previous.signature)
            ):
                digest.verdict = Verdict.BROKEN_LINK
                digest.detail = "hash or signature differs from the previous digest's"
            elif digest.verdict is Verdict.VALID and previous.data is not None and start != previous.end:
                digest.verdict = Verdict.PERIOD_GAP
                digest.detail = f"starts {_show(start)}, previous ends {_show(previous.end)}"
        elif not _exists(store, bucket, exists, link_bucket, link_key):
            missing.append(_Missing(str(link_bucket), str(link_key),
                                    None if previous is None else previous.end, start))
        elif previous is not None and digest.verdict is Verdict.VALID:
            digest.verdict = Verdict.BROKEN_LINK
            digest.detail = f"links to s3://{link_bucket}/{link_key}, not to s3://{bucket}/{previous.key}"
        previous = digest
    return missing


def _exists(store: ObjectStore, bucket: str, listed: set[str], link_bucket: Any, link_key: Any) -> bool:
    if not isinstance(link_bucket, str) or not isinstance(link_key, str):
        return False
    if link_bucket == bucket:
        return link_key in listed
    try:
        store.head(link_bucket, link_key)
    except (NoSuchKey, NoSuchBucket):
        return False
    return True


def _utc(at: datetime | None, what: str) -> datetime | None:
    return None if at is None else require_utc(at, what)


def validate_trail(store: ObjectStore, bucket: str, prefix: str = "", *,
                   keyring: Keyring | None = None,
                   public_keys: Mapping[str, bytes] | Iterable[SigningKey] | None = None,
                   trail_name: str | None = None, account_ids: Iterable[str] | None = None,
                   regions: Iterable[str] | None = None, start: datetime | None = None,
                   end: datetime | None = None, workers: int = 1) -> ValidationReport:
    """Validate every digest chain (and the log files it lists) under `[prefix/]AWSLogs/`.

    Public keys come from `keyring`, or `public_keys` (fingerprint -> PKCS#1 DER, or SigningKeys).
    Digests whose end time lies in [start, end + 1 hour] are checked, as validate-logs does; log
    files in the store are looked at when their name's time lies in [start, end]. `workers` > 1
    fetches and hashes on that many threads: worth it for a remote S3Store, not for a LocalStore.
    """
    start, end = _utc(start, "start time"), _utc(end, "end time")
    if start and end and start > end:
        raise GeneratorError("start time must not be after end time")
    if keyring is None and public_keys is None:
        raise GeneratorError("validation needs a keyring or public keys")
    if not store.bucket_exists(bucket):
        raise GeneratorError(f"bucket {bucket} does not exist")
    prefix = prefix.strip("/")
    report = ValidationReport(bucket, prefix, start, end)
    listing = _scan(store, bucket, awslogs_root(prefix), trail_name,
                    None if account_ids is None else set(account_ids),
                    None if regions is None else set(regions), start, end)
    chains = listing.chains

    keys = _PublicKeys(keyring, public_keys)
    all_digests = [d for chain in chains.values() for d in chain]
    with ThreadPoolExecutor(max_workers=workers) if workers > 1 else nullcontext() as pool:
        run = map if pool is None else pool.map
        list(run(lambda d: _read_digest(store, bucket, d, keys), all_digests))

        missing: list[_Missing] = []
        coverage: dict[tuple[str | None, str, str], list[tuple[datetime, datetime]]] = {}
        for chain_id, chain in chains.items():
            chain.sort(key=lambda d: (d.end_from_key, d.key))
            chain_missing = _link_chain(chain, bucket, listing.keys, store, report)
            spans = coverage.setdefault(chain_id[:3], [])
            # an unreadable digest is assumed to have covered the hour before its key's time
            spans += [(d.start, d.end) if d.start is not None else (d.end - PERIOD, d.end) for d in chain]
            spans += [(m.after or m.before - PERIOD, m.before) for m in chain_missing]
            missing += chain_missing

        refs: dict[tuple[str, str], str] = {}
        for digest in all_digests:
            for entry in (digest.data or {}).get("logFiles", []):
                refs.setdefault((entry["s3Bucket"], entry["s3Object"]), entry["hashValue"])
        verdicts = run(lambda ref: _check_log(store, ref[0][0], ref[0][1], ref[1]), refs.items())
        for (log_bucket, log_key), verdict in zip(refs, verdicts):
            report.logs.append(FileVerdict("log", log_bucket, log_key, verdict))

    for digest in all_digests:
        report.digests.append(FileVerdict("digest", bucket, digest.key, digest.verdict, digest.detail))
        if digest.verdict is Verdict.VALID and digest.start is not None:
            found_from = max(digest.start, start) if start else digest.start
            found_to = min(digest.end, end) if end else digest.end
            report.found_start = min(filter(None, (report.found_start, found_from)))
            report.found_end = max(filter(None, (report.found_end, found_to)))
    for gone in missing:
        report.digests.append(FileVerdict("digest", gone.bucket, gone.key, Verdict.NOT_FOUND,
                                          "a later digest links to it"))

    _judge_unlisted(report, listing.logs, set(refs), coverage)
    report.digests.sort(key=lambda v: (v.bucket, v.key))
    report.logs.sort(key=lambda v: (v.bucket, v.key))
    return report


@dataclass
class _Listing:
    """What one listing of `[prefix/]AWSLogs/` found."""

    keys: set[str] = field(default_factory=set)
    chains: dict[tuple[str | None, str, str, str, str], list[_Digest]] = field(default_factory=dict)
    logs: dict[str, tuple[str | None, str, str, datetime]] = field(default_factory=dict)  # org, acct, region, name time


def _scan(store: ObjectStore, bucket: str, root: str, trail_name: str | None,
          accounts: set[str] | None, regions: set[str] | None,
          start: datetime | None, end: datetime | None) -> _Listing:
    """Sort the keys under `root` into digest chains and log files, keeping those asked for."""
    listing = _Listing()
    digest_end_limit = None if end is None else end + PERIOD
    for key in store.list(bucket, root):
        listing.keys.add(key)
        found = parse_key(key)
        if found is None or awslogs_root(found.prefix) != root:
            continue
        org, account, region, at = found.org_id, found.account_id, found.region, found.at
        if found.kind == LOG:
            if _wanted(account, region, accounts, regions) and _in(at, start, end):
                listing.logs[key] = (org, account, region, at)
        elif found.kind == DIGEST:
            if (_wanted(account, region, accounts, regions)
                    and (trail_name is None or found.trail_name == trail_name)
                    and _in(at, start, digest_end_limit)):
                chain_id = (org, account, region, found.trail_name, found.home_region)
                listing.chains.setdefault(chain_id, []).append(_Digest(key, chain_id, at))
    return listing


def _judge_unlisted(report: ValidationReport, logs: dict[str, tuple[str | None, str, str, datetime]],
                    referenced: set[tuple[str, str]],
                    coverage: dict[tuple[str | None, str, str], list[tuple[datetime, datetime]]]) -> None:
    """Add a verdict for every log file in the store that no digest lists."""
    covered: dict[tuple[str | None, str, str], _Coverage] = {}
    for key, (org, account, region, at) in logs.items():
        if (report.bucket, key) in referenced:
            continue
        place = (org, account, region)
        if place not in covered:
            covered[place] = _Coverage(coverage.get(place, []))
        report.logs.append(FileVerdict("log", report.bucket, key, covered[place].unlisted_verdict(at)))


class _Coverage:
    """The union of the time spans digests cover, for bisecting."""

    def __init__(self, spans: list[tuple[datetime, datetime]]):
        merged: list[list[datetime]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [m[0] for m in merged]
        self._ends = [m[1] for m in merged]

    def covers(self, first: datetime, last: datetime) -> bool:
        """True when [first, last] lies inside one covered stretch."""
        i = bisect.bisect_right(self._starts, first) - 1
        return i >= 0 and last < self._ends[i]

    def unlisted_verdict(self, at: datetime) -> Verdict:
        """Why a log file named `at` that no digest lists is unlisted."""
        if not self._ends:
            return Verdict.OUTSIDE_COVERAGE
        if at >= self._ends[-1] - _DELIVERY_SLACK:
            return Verdict.AWAITING_DIGEST
        if self.covers(at, at + _DELIVERY_SLACK):
            return Verdict.NOT_IN_DIGEST
        return Verdict.OUTSIDE_COVERAGE


def _wanted(account: str, region: str, accounts: set[str] | None, regions: set[str] | None) -> bool:
    return (accounts is None or account in accounts) and (regions is None or region in regions)


def _in(at: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or at >= start) and (end is None or at <= end)
