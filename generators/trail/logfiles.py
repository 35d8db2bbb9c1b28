"""Log files as CloudTrail delivers them: ~5-minute batches, gzip encoding, hashes (key names: layout.py).

Delivery model (calibrated on the real files in ../shared/reference/real-cloudtrail):

- Window: the file-name time T is a multiple of 5 minutes; a record whose eventTime lies in
  [T - 5 min, T) is delivered in a file named T, so a file's newest record is 0-5 minutes older
  than its name.
- Late records: `late_fraction` (3 %) of a window's records, likelier toward the window's end, miss
  the cut and ride in the next window's files. Only when that next window has records of its own,
  and each file keeps at least one on-time record, so the 0-5 minute rule holds while such files
  span up to ~10 minutes, as real ones do.
- Several files per window (CloudTrail writes from several hosts): 1 + U(0, 2.6 log2(1 + n / 12))
  files for n records, at least ceil(n / max_records_per_file), with skewed (exponential) shares
  per host. Calibrated on the reference's volume (~3,000 records an hour in one account and region:
  2-12 files a window, median 20 records a file, 7 % single-record files): at that volume this
  gives a median of ~23 and ~5 %; at 100 records an hour (a window of ~8 records) a median of ~4
  and ~15 %, as small windows make small files.
- Order inside a file: by time, except ~15 % of records displaced by up to two minutes, so small
  files are usually sorted and large ones almost never.
- delivered_at: T plus 5-60 seconds.

The batcher streams: feed records in time order, completed files come out as windows close, so
memory holds one window (plus its late records), never the whole history. Every random choice
comes from the rng passed in: the same records and seed give the same files, byte for byte.
"""
from __future__ import annotations

import hashlib
import math
import random
import re
import string
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from datetime import datetime, timedelta, timezone

import orjson
from isal import isal_zlib

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.times import format_epoch, to_epoch
from cloudtrail_emulator.generators.trail.layout import log_file_key

WINDOW_SECONDS = 300
#: levels 1-3 deflate with ISA-L (igzip): ~5x faster than zlib's level 1 at zlib level 2-3's ratio, so
#: compression stops dominating generation; 0 and 4-9 use zlib. Real files carry XFL=2 (level 9): pass 9 to match
DEFAULT_COMPRESSLEVEL = 1
ISAL_LEVELS = range(1, 4)
LATE_FRACTION = 0.03
MAX_RECORDS_PER_FILE = 1000
#: a window of n records is written by 1 + U(0, HOST_SPREAD * log2(1 + n / HOST_RECORDS)) hosts (files)
HOST_SPREAD = 2.6
HOST_RECORDS = 12
DISPLACED_FRACTION = 0.15
MAX_DISPLACEMENT_SECONDS = 120
DELIVERY_LAG_SECONDS = (5, 60)
SUFFIX_ALPHABET = string.ascii_letters + string.digits

_EVENT_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")  # fullmatch: ASCII digits


@dataclass(frozen=True)
class LogFile:
    key: str  # full object key, prefix included
    body: bytes  # gzip (one member) of compact {"Records":[...]}
    sha256: str  # lowercase hex SHA-256 of the *uncompressed* JSON bytes
    delivered_at: datetime  # the delivery instant (file-name minute + lag seconds), UTC
    oldest_event_time: str  # "YYYY-MM-DDTHH:MM:SSZ"
    newest_event_time: str
    account_id: str
    region: str
    record_count: int


def encode_log_file(records: list[dict], compresslevel: int = DEFAULT_COMPRESSLEVEL) -> tuple[bytes, str]:
    """(one gzip member of compact `{"Records":[...]}`, hex SHA-256 of the uncompressed bytes).

    The gzip header is fixed (mtime 0, no file name, OS byte 3 as in real files), so equal records
    give equal bytes (for a given compressor version; see ``DEFAULT_COMPRESSLEVEL``).
    """
    if not 0 <= compresslevel <= 9:
        raise GeneratorError(f"invalid compression level {compresslevel}: 0-9 expected")
    try:
        raw = orjson.dumps({"Records": records})
    except orjson.JSONEncodeError as exc:
        raise GeneratorError(f"log records are not JSON-serialisable: {exc}") from None
    xfl = 2 if compresslevel == 9 else 4 if compresslevel == 1 else 0
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes((xfl, 3))
    library = isal_zlib if compresslevel in ISAL_LEVELS else zlib
    deflate = library.compressobj(compresslevel, library.DEFLATED, -library.MAX_WBITS)
    body = deflate.compress(raw) + deflate.flush()
    trailer = struct.pack("<II", isal_zlib.crc32(raw), len(raw) & 0xFFFFFFFF)
    return header + body + trailer, hashlib.sha256(raw).hexdigest()


def name_time(newest: int) -> int:
    """The time in a log file's name (epoch seconds) for its newest on-time record at `newest`: the
    5-minute mark after it, when its window closes (FORMATS.md section 1). Generated history and live
    delivery both name files by it."""
    return (newest // WINDOW_SECONDS + 1) * WINDOW_SECONDS


def _epoch(value: object, day: tuple[str, int]) -> tuple[int, tuple[str, int]]:
    """(epoch seconds of the eventTime text `value`, the (date text, its midnight's epoch) it fell on);
    GeneratorError for anything but a possible `YYYY-MM-DDTHH:MM:SSZ`. `day` is the last call's date,
    so records in time order parse each date once and each second by its digits."""
    if not isinstance(value, str) or not _EVENT_TIME_RE.fullmatch(value):
        raise GeneratorError(f"record without a valid eventTime (YYYY-MM-DDTHH:MM:SSZ): {value!r}")
    hour, minute, second = int(value[11:13]), int(value[14:16]), int(value[17:19])
    if hour > 23 or minute > 59 or second > 59:
        raise GeneratorError(f"record with an impossible eventTime: {value!r}")
    date = value[:10]
    if date != day[0]:
        try:
            day = (date, to_epoch(f"{date}T00:00:00Z"))
        except ValueError:
            raise GeneratorError(f"record with an impossible eventTime: {value!r}") from None
    return day[1] + hour * 3600 + minute * 60 + second, day


_Item = tuple[int, dict]  # (epoch seconds, record)


class LogFileBatcher:
    """Streams one (account, region)'s time-ordered records into delivery files; see the module doc."""

    def __init__(self, account_id: str, region: str, rng: random.Random, prefix: str = "",
                 org_id: str | None = None, *, late_fraction: float = LATE_FRACTION,
                 max_records_per_file: int = MAX_RECORDS_PER_FILE,
                 compresslevel: int = DEFAULT_COMPRESSLEVEL):
        if not 0 <= late_fraction <= 0.5:
            raise GeneratorError(f"late_fraction {late_fraction} outside 0-0.5")
        if max_records_per_file < 1:
            raise GeneratorError(f"max_records_per_file must be positive, not {max_records_per_file}")
        log_file_key(prefix, account_id, region, datetime(2000, 1, 1, tzinfo=timezone.utc), "A" * 16, org_id)
        self.account_id, self.region, self.prefix, self.org_id = account_id, region, prefix, org_id
        self._rng = rng
        self._late_fraction = late_fraction
        self._max_records = max_records_per_file
        self._compresslevel = compresslevel
        self._window_end: int | None = None  # epoch seconds of the open window's file-name time
        self._on_time: list[_Item] = []
        self._late: list[_Item] = []  # records of the previous window that missed its delivery
        # the last eventTime, its epoch seconds, its window (a value no record holds before the first)
        self._last_time: tuple[object, int, int] = (object(), 0, 0)
        self._day: tuple[str, int] = ("", 0)  # the last eventTime's date and its midnight (epoch seconds)

    def add(self, record: dict) -> list[LogFile]:
        """Take the next record (time order); return the files of any window this closes."""
        # records in time order share seconds: parse each eventTime text once
        value = record.get("eventTime") if isinstance(record, dict) else None
        last = self._last_time
        if value == last[0]:
            t, end = last[1], last[2]
        else:
            t, self._day = _epoch(value, self._day)
            end = name_time(t)
            self._last_time = (value, t, end)
        out: list[LogFile] = []
        if end != self._window_end:
            if self._window_end is None:
                self._window_end = end
            elif end < self._window_end:
                raise GeneratorError(
                    f"records must arrive in time order: {record['eventTime']} after the window ending "
                    f"{format_epoch(self._window_end)} closed")
            else:
                out = self._close(next_window_busy=end == self._window_end + WINDOW_SECONDS)
                self._window_end = end
        self._on_time.append((t, record))
        return out

    def flush(self) -> list[LogFile]:
        """Deliver what is left (call once, after the last record)."""
        if self._window_end is None:
            return []
        out = self._close(next_window_busy=False)
        self._window_end = None
        return out

    def _close(self, next_window_busy: bool) -> list[LogFile]:
        """Deliver the open window: its on-time records plus the previous window's late ones."""
        assert self._window_end is not None
        on_time, late_in = self._on_time, self._late
        late_out: list[_Item] = []
        if next_window_busy and self._late_fraction > 0:
            start = self._window_end - WINDOW_SECONDS
            kept: list[_Item] = []
            for item in on_time:
                ramp = 2 * (item[0] - start + 1) / WINDOW_SECONDS  # averages 1 over the window
                (late_out if self._rng.random() < self._late_fraction * ramp else kept).append(item)
            if not kept:
                kept.append(late_out.pop())
            on_time = kept
        self._on_time, self._late = [], late_out
        files = [self._make_file(group) for group in self._split(on_time, late_in)]
        files.sort(key=lambda f: (f.delivered_at, f.key))
        return files

    def _split(self, on_time: list[_Item], late_in: list[_Item]) -> list[list[_Item]]:
        """Share one window's records among hosts; every group holds at least one on-time record."""
        rng, n = self._rng, len(on_time)
        hosts = 1 + int(rng.random() * HOST_SPREAD * math.log2(1 + n / HOST_RECORDS))
        hosts = min(n, max(hosts, math.ceil((n + len(late_in)) / self._max_records)))
        cum_weights = list(accumulate(rng.expovariate(1.0) for _ in range(hosts)))
        assignment = rng.choices(range(hosts), cum_weights=cum_weights, k=n)
        for host, index in enumerate(rng.sample(range(n), hosts)):
            assignment[index] = host
        groups: list[tuple[list[_Item], list[_Item]]] = [([], []) for _ in range(hosts)]
        for host, item in zip(assignment, on_time):
            groups[host][0].append(item)
        for host, item in zip(rng.choices(range(hosts), cum_weights=cum_weights, k=len(late_in)), late_in):
            groups[host][1].append(item)
        files: list[list[_Item]] = []
        for own, late in groups:
            pieces = min(len(own), math.ceil((len(own) + len(late)) / self._max_records))
            size = math.ceil(len(own) / pieces)
            chunks = [own[i:i + size] for i in range(0, len(own), size)]
            for i, item in enumerate(late):
                chunks[i % len(chunks)].append(item)
            files.extend(chunks)
        return files

    def _make_file(self, items: list[_Item]) -> LogFile:
        rng = self._rng
        jittered = sorted(
            items,
            key=lambda item: item[0] + (rng.uniform(0, MAX_DISPLACEMENT_SECONDS)
                                        if rng.random() < DISPLACED_FRACTION else 0))
        records = [record for _, record in jittered]
        body, sha = encode_log_file(records, self._compresslevel)
        times = [record["eventTime"] for record in records]
        assert self._window_end is not None
        delivered = datetime.fromtimestamp(self._window_end, tz=timezone.utc) + timedelta(
            seconds=rng.randint(*DELIVERY_LAG_SECONDS))
        suffix = "".join(rng.choices(SUFFIX_ALPHABET, k=16))
        return LogFile(
            key=log_file_key(self.prefix, self.account_id, self.region, delivered, suffix, self.org_id),
            body=body, sha256=sha, delivered_at=delivered,
            oldest_event_time=min(times), newest_event_time=max(times),
            account_id=self.account_id, region=self.region, record_count=len(records))


def iter_log_files(records: Iterable[dict], account_id: str, region: str, rng: random.Random,
                   prefix: str = "", org_id: str | None = None, **options) -> Iterator[LogFile]:
    """Stream delivery files out of a time-ordered record stream (options as LogFileBatcher)."""
    batcher = LogFileBatcher(account_id, region, rng, prefix, org_id, **options)
    for record in records:
        yield from batcher.add(record)
    yield from batcher.flush()

