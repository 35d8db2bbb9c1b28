"""Reading a trail's records back, as a consumer does: list ``[prefix/]AWSLogs/``, gunzip each log file
and yield its ``Records``, from a local directory (``generate --output``), an ``s3://`` bucket (any S3
endpoint, or the embedded store of a data dir) or any ObjectStore.

    for record in read_records("./trail", regions=["eu-west-1"], start="2024-05-01T10:00:00Z"):
        ...
    records = list(read_records("s3://audit-logs", endpoint_url=emulator.url))

Export: ``read_records`` (a target), ``trail_records`` (a store and bucket).
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores import ObjectStore, open_source
from cloudtrail_emulator.generators.times import format_time, parse_iso, require_utc
from cloudtrail_emulator.generators.trail.layout import DIGEST, INSIGHT, LOG, awslogs_root, parse_key

DEFAULT_DATA_DIR = Path(".cloudtrail-emulator")
#: a log file holds records from before the time in its name, delivered within ~15 minutes: a file
#: named more than this after `end` holds nothing up to `end`
DELIVERY_MARGIN = timedelta(hours=1)

Moment = datetime | str | None


def _moment(value: Moment, what: str) -> datetime | None:
    if value is None:
        return None
    return parse_iso(value) if isinstance(value, str) else require_utc(value, what)


def _trail_files(store: ObjectStore, bucket: str, digest_keys: list[str]) -> set[str]:
    """Every log-file key the given digests list."""
    listed: set[str] = set()
    for key in digest_keys:
        data = json.loads(gzip.decompress(store.get(bucket, key).body))
        listed.update(entry["s3Object"] for entry in data.get("logFiles", []) if entry.get("s3Bucket") == bucket)
    return listed


def trail_records(store: ObjectStore, bucket: str, prefix: str = "", *, trail_name: str | None = None,
                  account_ids: Iterable[str] | None = None, regions: Iterable[str] | None = None,
                  start: Moment = None, end: Moment = None, insights: bool = False) -> Iterator[dict]:
    """The records of the log files under `[prefix/]AWSLogs/` of `bucket`, file by file in key order.

    `trail_name` keeps the files that trail's digests list (a bucket shared by several trails);
    `account_ids` and `regions` the files of those accounts and regions; `start`/`end` (aware
    datetimes or ISO 8601, inclusive) the records whose eventTime lies between them. `insights`
    reads the CloudTrail Insights files (CloudTrail-Insight/) instead of the log files.
    """
    first, last = _moment(start, "start"), _moment(end, "end")
    accounts = None if account_ids is None else set(account_ids)
    wanted_regions = None if regions is None else set(regions)
    kind = INSIGHT if insights else LOG
    files, digests = [], []
    for key in store.list(bucket, awslogs_root(prefix.strip("/"))):
        parsed = parse_key(key)
        if parsed is None:
            continue
        if parsed.kind == DIGEST and parsed.trail_name == trail_name:
            digests.append(key)
        if parsed.kind != kind or (accounts is not None and parsed.account_id not in accounts) \
                or (wanted_regions is not None and parsed.region not in wanted_regions):
            continue
        if (first and parsed.at < first) or (last and parsed.at > last + DELIVERY_MARGIN):
            continue
        files.append(key)
    if trail_name is not None:
        listed = _trail_files(store, bucket, digests)
        files = [key for key in files if key in listed]
    low = format_time(first) if first else None
    high = format_time(last) if last else None
    for key in files:
        try:
            records = json.loads(gzip.decompress(store.get(bucket, key).body))["Records"]
        except (OSError, EOFError, ValueError, KeyError) as exc:
            raise GeneratorError(f"s3://{bucket}/{key} is not a CloudTrail log file: {exc}") from None
        for record in records:
            at = record.get("eventTime", "")
            if (low is None or at >= low) and (high is None or at <= high):
                yield record


def read_records(target: str | Path, *, data_dir: Path | str = DEFAULT_DATA_DIR, endpoint_url: str | None = None,
                 **filters) -> Iterator[dict]:
    """The records of a trail at `target`: a local directory, or ``s3://bucket[/prefix]`` at
    `endpoint_url` (credentials from the AWS_* variables) or, without it, in the embedded store of
    `data_dir`; `filters` as `trail_records`. A missing directory or bucket raises GeneratorError."""
    store, bucket, prefix = open_source(str(target), data_dir=Path(data_dir), endpoint_url=endpoint_url)
    return trail_records(store, bucket, prefix, **filters)
