"""`validate_trail`: list once, read the digests, walk the chains, check the log files, judge the rest."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores import ObjectStore
from cloudtrail_emulator.generators.times import require_utc
from cloudtrail_emulator.generators.trail.digests import PERIOD
from cloudtrail_emulator.generators.trail.keyring import Keyring, SigningKey
from cloudtrail_emulator.generators.trail.layout import awslogs_root
from cloudtrail_emulator.generators.validate.chains import Missing, link_chain
from cloudtrail_emulator.generators.validate.digests import PublicKeys, read_digest
from cloudtrail_emulator.generators.validate.links import EscapingLinks
from cloudtrail_emulator.generators.validate.listing import scan
from cloudtrail_emulator.generators.validate.logs import check_log, judge_unlisted
from cloudtrail_emulator.generators.validate.report import FileVerdict, ValidationReport, Verdict


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
    listing = scan(store, bucket, awslogs_root(prefix), trail_name,
                    None if account_ids is None else set(account_ids),
                    None if regions is None else set(regions), start, end)
    chains = listing.chains
    links = EscapingLinks(store, bucket, awslogs_root(prefix))

    keys = PublicKeys(keyring, public_keys)
    all_digests = [d for chain in chains.values() for d in chain]
    for digest in all_digests:
        if (target := links.leads_out(digest.key)) is not None:
            digest.verdict, digest.detail = Verdict.OUTSIDE_TREE, f"leads to {target}"
    with ThreadPoolExecutor(max_workers=workers) if workers > 1 else nullcontext() as pool:
        run = map if pool is None else pool.map
        list(run(lambda d: read_digest(store, bucket, d, keys),
                 [d for d in all_digests if d.verdict is not Verdict.OUTSIDE_TREE]))

        missing: list[Missing] = []
        coverage: dict[tuple[str | None, str, str], list[tuple[datetime, datetime]]] = {}
        for chain_id, chain in chains.items():
            chain.sort(key=lambda d: (d.end_from_key, d.key))
            chain_missing = link_chain(chain, bucket, listing.keys, store, report)
            spans = coverage.setdefault(chain_id[:3], [])
            # an unreadable digest is assumed to have covered the hour before its key's time
            spans += [(d.start, d.end) if d.start is not None else (d.end - PERIOD, d.end) for d in chain]
            spans += [(m.after or m.before - PERIOD, m.before) for m in chain_missing]
            missing += chain_missing

        refs: dict[tuple[str, str], str] = {}
        named_by_valid: set[tuple[str, str]] = set()      # named by a digest judged valid
        for digest in all_digests:
            for entry in (digest.data or {}).get("logFiles", []):
                ref = (entry["s3Bucket"], entry["s3Object"])
                refs.setdefault(ref, entry["hashValue"])
                if digest.verdict is Verdict.VALID:
                    named_by_valid.add(ref)
        readable = {ref: value for ref, value in refs.items() if ref[0] != bucket or not links.leads_out(ref[1])}
        verdicts = run(lambda ref: check_log(store, ref[0][0], ref[0][1], ref[1]), readable.items())
        for (log_bucket, log_key), verdict in zip(readable, verdicts):
            # an invalid digest has one verdict: the files only it names are not each "not found"
            if verdict is not Verdict.NOT_FOUND or (log_bucket, log_key) in named_by_valid:
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

    for key, target in links.links.items():     # each link out of the tree: one verdict, never read
        if not any(key == d.key for d in all_digests):
            report.logs.append(FileVerdict("log", bucket, key, Verdict.OUTSIDE_TREE, f"leads to {target}"))
    inside = {key: found for key, found in listing.logs.items() if links.leads_out(key) is None}
    judge_unlisted(report, inside, set(refs), coverage)
    report.digests.sort(key=lambda v: (v.bucket, v.key))
    report.logs.sort(key=lambda v: (v.bucket, v.key))
    return report
