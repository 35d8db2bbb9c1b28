"""Walking one digest chain: the links between consecutive digests, and the digests they name but lack."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudtrail_emulator.generators.stores import NoSuchBucket, NoSuchKey, ObjectStore
from cloudtrail_emulator.generators.times import parse_time
from cloudtrail_emulator.generators.validate.digests import Digest
from cloudtrail_emulator.generators.validate.report import ValidationReport, Verdict, show_time


@dataclass(frozen=True)
class Missing:
    """A digest a link names but the store lacks, with the time it must have covered."""

    bucket: str
    key: str
    after: datetime | None     # end of the digest listed before it, if any
    before: datetime           # start of the digest that links to it


def link_chain(chain: list[Digest], bucket: str, exists: set[str], store: ObjectStore,
                report: ValidationReport) -> list[Missing]:
    """Stricter checks between consecutive digests of one chain (ascending by end time)."""
    missing: list[Missing] = []
    previous: Digest | None = None
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
                    f"No log files were delivered by CloudTrail between {show_time(previous.end)} and "
                    f"{show_time(start)} (chain restarted at s3://{bucket}/{digest.key})"
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
                digest.detail = f"starts {show_time(start)}, previous ends {show_time(previous.end)}"
        elif not _exists(store, bucket, exists, link_bucket, link_key):
            missing.append(Missing(str(link_bucket), str(link_key),
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
