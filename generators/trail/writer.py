"""The trail writer: records -> log files -> digest periods and chains -> signatures -> the store.

One ``TrailWriter`` per trail destination (bucket, prefix, trail name, home region, organization).
Its state (``WriterState``: per "account/region" chain the open period, the previous digest, the
log files delivered in the open period, a journalled closing end; and a journalled batch) is plain
data with ``to_json``/``from_json``, so a crash-safe caller can persist it and resume.

Contract, two ways in:

(a) Generated history: ``LogFileBatches`` turns one account's time-ordered records into log files
    (one ``LogFileBatcher`` per region, its rng given by the caller) and writes each as its window
    closes; the caller hands the files (bodies dropped) to ``TrailWriter.add_files`` in delivery
    order, calls ``close_until(moment)`` as time advances (every full period ending by then) and
    ``finish(end)`` (an early final period) or ``close_all()`` at the end.
(b) Live delivery names its own files: ``begin_batch(last_seq, at)`` journals the batch (persisted),
    ``write_file(records, at, seq_suffix(...))`` writes one file of one account and region under a
    key fixed by ``at`` and its seq range (a re-run after a crash overwrites the same object and
    queues it once), ``end_batch()`` clears the journal. Periods close with ``close(ends)`` ("account/
    region" -> end; an end before the full period is an early final digest, e.g. StopLogging):
    every end is journalled and persisted before any digest is written, the moved chains are
    persisted after; ``close(state.journalled())`` after a restart re-writes an interrupted close
    (the same bytes under the same keys, as digests are deterministic).

``persist`` (a callable given to the writer) is called at those two points; history passes none.
Digest bytes come from ``digests.build_digest`` alone.
"""
from __future__ import annotations

import dataclasses
import hashlib
import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores import ObjectStore
from cloudtrail_emulator.generators.times import format_time, parse_iso
from cloudtrail_emulator.generators.trail.digests import PERIOD, ChainId, Digest, build_digest
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.trail.logfiles import (DEFAULT_COMPRESSLEVEL, SUFFIX_ALPHABET, LogFile,
                                                           LogFileBatcher, encode_log_file, log_file_key,
                                                           name_time)


@dataclass(frozen=True)
class TrailTarget:
    """Where and under which trail the files go."""

    bucket: str
    prefix: str = ""
    trail_name: str = "management-events"
    home_region: str = "us-east-1"
    compresslevel: int = DEFAULT_COMPRESSLEVEL


def chain_key(account: str, region: str) -> str:
    return f"{account}/{region}"


def seq_suffix(trail: str, account: str, region: str, first: int, last: int) -> str:
    """16 alphanumerics fixed by (trail, account, region, seq range): re-delivery overwrites."""
    digest = hashlib.sha256(f"{trail}|{account}|{region}|{first}|{last}".encode()).digest()
    return "".join(SUFFIX_ALPHABET[b % len(SUFFIX_ALPHABET)] for b in digest[:16])


@dataclass
class ChainState:
    """One (trail, account, region) digest chain between two closes."""

    period_start: datetime
    previous: Digest | None = None      # body b"" and no metadata: only key/hash/signature/times matter
    files: list[LogFile] = field(default_factory=list)     # delivered in the open period, no bodies
    closing: datetime | None = None     # end of the digest being written (intent): redone after a crash

    def to_json(self) -> dict:
        prev = None if self.previous is None else {
            "key": self.previous.key, "raw_sha256": self.previous.raw_sha256,
            "signature": self.previous.signature, "start": self.previous.start.isoformat(),
            "end": self.previous.end.isoformat()}
        files = [{**dataclasses.asdict(f), "body": None, "delivered_at": f.delivered_at.isoformat()}
                 for f in self.files]
        return {"period_start": self.period_start.isoformat(), "previous": prev, "files": files,
                "closing": None if self.closing is None else self.closing.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> ChainState:
        prev = data.get("previous")
        previous = None if prev is None else Digest(
            prev["key"], b"", prev["raw_sha256"], prev["signature"], {}, parse_iso(prev["start"]),
            parse_iso(prev["end"]))
        files = [LogFile(**{**f, "body": b"", "delivered_at": parse_iso(f["delivered_at"])})
                 for f in data.get("files", [])]
        closing = data.get("closing")
        return cls(parse_iso(data["period_start"]), previous, files, None if closing is None else parse_iso(closing))


@dataclass
class WriterState:
    """A trail writer's chains ("account/region" -> chain) and the batch being written, if any."""

    chains: dict[str, ChainState] = field(default_factory=dict)
    batch: tuple[int, datetime] | None = None     # (up-to seq, delivery time) journalled by begin_batch

    def journalled(self) -> dict[str, datetime]:
        """The closes a crash interrupted: chain key -> journalled end."""
        return {key: chain.closing for key, chain in self.chains.items() if chain.closing is not None}

    def to_json(self) -> dict:
        return {"chains": {k: c.to_json() for k, c in sorted(self.chains.items())},
                "batch": None if self.batch is None else [self.batch[0], self.batch[1].isoformat()]}

    @classmethod
    def from_json(cls, data: dict) -> WriterState:
        batch = data.get("batch")
        return cls({k: ChainState.from_json(c) for k, c in data.get("chains", {}).items()},
                   None if batch is None else (batch[0], parse_iso(batch[1])))


def _bodiless(log_file: LogFile) -> LogFile:
    return log_file if not log_file.body else dataclasses.replace(log_file, body=b"")


class TrailWriter:
    """Writes one trail's log files and digest chains into a store; see the module docstring."""

    def __init__(self, store: ObjectStore, target: TrailTarget, keyring: Keyring, *,
                 org_id: str | None = None, validation: bool = True, state: WriterState | None = None,
                 interval: timedelta = PERIOD, persist: Callable[[], None] | None = None):
        self.store, self.target, self.keyring = store, target, keyring
        self.org_id, self.validation, self.interval = org_id, validation, interval
        self.state = state if state is not None else WriterState()
        self._persist = persist or (lambda: None)
        self.digests = 0        # digests this writer wrote

    # -- chains --------------------------------------------------------------------------------

    def open_chain(self, account: str, region: str, start: datetime,
                   previous: Digest | None = None) -> ChainState:
        """The chain of (account, region), begun at `start` (after `previous`) when it has none yet."""
        return self.state.chains.setdefault(chain_key(account, region), ChainState(start, previous))

    def chain_ends(self) -> dict[tuple[str, str], Digest]:
        """(account, region) -> the last digest each chain wrote (without body)."""
        return {tuple(key.split("/")): chain.previous for key, chain in self.state.chains.items()
                if chain.previous is not None}

    def add_files(self, files: Iterable[LogFile]) -> None:
        """Queue log files already in the store to their chains' open periods (once per key)."""
        if not self.validation:
            return
        queued: dict[str, set[str]] = {}     # chain key -> keys in its open period, made once a call
        for log_file in files:
            key = chain_key(log_file.account_id, log_file.region)
            chain = self.state.chains.get(key)
            if chain is None:
                raise GeneratorError(f"log file for a region outside the trail: {log_file.key}")
            if log_file.delivered_at < chain.period_start:
                raise GeneratorError(
                    f"log file {log_file.key} was delivered at {format_time(log_file.delivered_at)}, "
                    f"before the open digest period starts ({format_time(chain.period_start)})")
            keys = queued.get(key)
            if keys is None:
                keys = queued[key] = {f.key for f in chain.files}
            if log_file.key not in keys:
                keys.add(log_file.key)
                chain.files.append(_bodiless(log_file))

    # -- (b) explicit batches --------------------------------------------------------------------

    def begin_batch(self, last_seq: int, at: datetime) -> None:
        """Journal the batch about to be written (events up to `last_seq`, delivered at `at`)."""
        self.state.batch = (last_seq, at)
        self._persist()

    def end_batch(self) -> None:
        self.state.batch = None
        self._persist()

    def write_file(self, records: list[dict], at: datetime, suffix: str) -> LogFile:
        """One log file of one account and region, delivered at `at`, its key named by the 5-minute
        mark after its newest record (`logfiles.name_time`) and `suffix`; queued to its chain (opened
        at `at` when new)."""
        account, region = records[0]["recipientAccountId"], records[0]["awsRegion"]
        body, sha = encode_log_file(records, self.target.compresslevel)
        times = [r["eventTime"] for r in records]
        newest = max(int(parse_iso(t).timestamp()) for t in times)
        named = datetime.fromtimestamp(name_time(newest), timezone.utc)
        key = log_file_key(self.target.prefix, account, region, named, suffix, self.org_id)
        self.store.put(self.target.bucket, key, body)
        log_file = LogFile(key, b"", sha, at, min(times), max(times), account, region, len(records))
        if self.validation:
            self.open_chain(account, region, at)
            self.add_files([log_file])
        return log_file

    # -- closing periods -------------------------------------------------------------------------

    def journal(self, ends: Mapping[str, datetime]) -> bool:
        """Record each chain's intended end; True when something new must be persisted."""
        changed = False
        for key, end in ends.items():
            chain = self.state.chains[key]
            if end <= chain.period_start:
                changed |= chain.closing is not None
                chain.closing = None
            elif chain.closing != end:
                chain.closing = end         # journal the end first: an early end is not re-derivable
                changed = True
        return changed

    def write_journalled(self) -> dict[str, GeneratorError | None]:
        """Write the digest of every chain with a journalled end and move it on (in memory); the
        store's error where a write failed (that chain keeps its period and journal)."""
        results: dict[str, GeneratorError | None] = {}
        for key, chain in self.state.chains.items():
            if chain.closing is None:
                continue
            end = chain.closing
            account, region = key.split("/")
            chain_id = ChainId(self.target.bucket, self.target.prefix, account, region, self.target.trail_name,
                               self.target.home_region, self.org_id)
            digest = build_digest(chain_id, chain.period_start, end,
                                  [f for f in chain.files if f.delivered_at < end], chain.previous, self.keyring)
            try:
                self.store.put(self.target.bucket, digest.key, digest.body, digest.metadata)
            except GeneratorError as exc:
                results[key] = exc
                continue
            results[key] = None
            self.digests += 1
            chain.previous = dataclasses.replace(digest, body=b"", metadata={})
            chain.files = [f for f in chain.files if f.delivered_at >= end]
            chain.period_start, chain.closing = end, None
        return results

    def close(self, ends: Mapping[str, datetime]) -> dict[str, GeneratorError | None]:
        """Close chains at the given ends (journal, persist, write, persist); errors as write_journalled."""
        if self.journal(ends):
            self._persist()
        results = self.write_journalled()
        if any(error is None for error in results.values()):
            self._persist()
        return results

    def close_due(self, moment: datetime) -> dict[str, GeneratorError | None]:
        """Close every full period that ends at or before `moment`, round by round (a chain behind by
        several periods takes one round each); a chain whose digest failed stops there (its error)."""
        results: dict[str, GeneratorError | None] = {}
        failed: set[str] = set()
        while True:
            due = {key: chain.period_start + self.interval for key, chain in self.state.chains.items()
                   if chain.period_start + self.interval <= moment and key not in failed}
            if not due:
                return results
            round_results = self.close(due)
            results.update(round_results)
            failed |= {key for key, error in round_results.items() if error is not None}

    def close_until(self, moment: datetime) -> None:
        """``close_due`` that raises the first failed write."""
        self._raise_first(self.close_due(moment))

    def close_all(self) -> None:
        """Close full periods until every queued log file is in a digest."""
        while any(chain.files for chain in self.state.chains.values()):
            self.close_until(min(c.period_start for c in self.state.chains.values()) + self.interval)

    def finish(self, end: datetime) -> None:
        """Close every chain at `end`: full periods up to it, then an early final one ending there.
        Every queued log file must be delivered before `end`."""
        self.close_until(end)
        late = [f.key for chain in self.state.chains.values() for f in chain.files if f.delivered_at >= end]
        if late:
            raise GeneratorError(f"log file {late[0]} is delivered after the chains close ({format_time(end)})")
        self._raise_first(self.close({key: end for key, chain in self.state.chains.items()
                                      if chain.period_start < end}))

    @staticmethod
    def _raise_first(results: Mapping[str, GeneratorError | None]) -> None:
        for error in results.values():
            if error is not None:
                raise error


class Behind:
    """Calls run by a few threads while the caller goes on (one thread: in submission order), e.g.
    a local store's file creations and renames or an event index's inserts (system calls and C
    code, run without the GIL) overlapping the generation of the next records.

    At most ``backlog`` calls wait (memory stays bounded); ``drain`` waits for all of them and
    raises the first error, as does the ``call`` that finds the backlog full."""

    def __init__(self, threads: int = 4, backlog: int = 64):
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="behind")
        self._backlog = backlog
        self._pending: deque[Future] = deque()

    def call(self, function: Callable[..., object], *args: object) -> None:
        self._pending.append(self._pool.submit(function, *args))
        while len(self._pending) > self._backlog:
            self._pending.popleft().result()

    def drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        """Drain, then stop the threads (also after an error)."""
        try:
            self.drain()
        finally:
            self._pool.shutdown(cancel_futures=True)

    def __enter__(self) -> Behind:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        """Drain when the block succeeded; after an error, only stop the threads (that error wins)."""
        if kind is None:
            self.close()
        else:
            self._pool.shutdown(cancel_futures=True)


class PutsBehind(Behind):
    """A store's ``put`` of log files (no metadata) done behind, by ``Behind``'s threads."""

    def __enter__(self) -> PutsBehind:
        return self

    def __init__(self, store: ObjectStore, threads: int = 4, backlog: int = 64):
        super().__init__(threads, backlog)
        self.store = store

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self.call(self.store.put, bucket, key, body)


class LogFileBatches:
    """One account's time-ordered records -> one trail's log files, each written as its window closes.

    A ``LogFileBatcher`` per region, its rng from ``rng_for(region)`` (made at the region's first
    record); ``finish`` gives the files (no bodies) by region, then in delivery order."""

    def __init__(self, store: ObjectStore | PutsBehind, target: TrailTarget, account_id: str, org_id: str | None,
                 rng_for: Callable[[str], random.Random]):
        self.store, self.target, self.account_id, self.org_id = store, target, account_id, org_id
        self._rng_for = rng_for
        self._batchers: dict[str, LogFileBatcher] = {}
        self._files: dict[str, list[LogFile]] = {}
        self.records = 0
        self.size = 0       # bytes written

    def add(self, record: dict) -> None:
        self.records += 1
        region = record["awsRegion"]
        batcher = self._batchers.get(region)
        if batcher is None:
            batcher = self._batchers[region] = LogFileBatcher(
                self.account_id, region, self._rng_for(region), self.target.prefix, self.org_id,
                compresslevel=self.target.compresslevel)
            self._files[region] = []
        files = batcher.add(record)
        if files:
            self._write(region, files)

    def finish(self) -> list[LogFile]:
        for region, batcher in self._batchers.items():
            self._write(region, batcher.flush())
        return [f for region in sorted(self._files) for f in self._files[region]]

    def _write(self, region: str, files: list[LogFile]) -> None:
        for log_file in files:
            self.store.put(self.target.bucket, log_file.key, log_file.body)
            self.size += len(log_file.body)
            self._files[region].append(_bodiless(log_file))
