"""Log-file checks: the hash of a listed log file, and why a stored one is listed by no digest."""
from __future__ import annotations

import bisect
import hashlib
import zlib
from datetime import datetime, timedelta

from cloudtrail_emulator.generators.stores import NoSuchBucket, NoSuchKey, ObjectStore
from cloudtrail_emulator.generators.validate.report import FileVerdict, ValidationReport, Verdict

_DELIVERY_SLACK = timedelta(minutes=1)   # delivery is at most a minute after the time in the name


def check_log(store: ObjectStore, bucket: str, key: str, expected: str) -> Verdict:
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


def judge_unlisted(report: ValidationReport, logs: dict[str, tuple[str | None, str, str, datetime]],
                    referenced: set[tuple[str, str]],
                    coverage: dict[tuple[str | None, str, str], list[tuple[datetime, datetime]]]) -> None:
    """Add a verdict for every log file in the store that no digest lists."""
    covered: dict[tuple[str | None, str, str], Coverage] = {}
    for key, (org, account, region, at) in logs.items():
        if (report.bucket, key) in referenced:
            continue
        place = (org, account, region)
        if place not in covered:
            covered[place] = Coverage(coverage.get(place, []))
        report.logs.append(FileVerdict("log", report.bucket, key, covered[place].unlisted_verdict(at)))


class Coverage:
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
