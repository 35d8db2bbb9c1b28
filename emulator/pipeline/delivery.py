"""Live delivery: events in the index -> log files and signed digest chains in each logging trail's bucket.

A scheduler thread in the server process wakes every `delivery_interval` (5 minutes, like AWS) and
writes the new events each logging trail selects as log files, then closes every digest period that
is due (`digest_interval`, an hour, from the moment logging started). It sleeps on the injected
clock (`Clock.sleep_until`), so a test's `ManualClock.advance` drives it. Trail lifecycle changes
(StartLogging, StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors) arrive through the
CloudTrail model's listener and are applied by the same code under one lock. Each logging trail's
delivery state holds its `TrailSnapshot`, replaced at each applied change; a stopped or deleted
trail's pending events are delivered by the snapshot it last had, and a new destination (bucket,
prefix, validation) ends the chains and starts new ones.

Crash safety: before writing a batch, the trail's state records its intent (events up to seq N,
delivery time T); log-file keys derive from (trail, account, region, seq range) and T, so a re-run
after a crash overwrites the same objects. The cursor advances only after the objects are written.
Digest bytes are deterministic too (fixed gzip header, deterministic RSA PKCS#1 v1.5).
A data dir that cannot be written stops a run where it failed (delivery_faults.py).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import orjson

from cloudtrail_emulator.emulator.services.cloudtrail.models import CloudTrailBackend, Trail, TrailChange
from cloudtrail_emulator.emulator.config import Clock, Wakeup
from cloudtrail_emulator.emulator.pipeline.delivery_digests import DigestCloser
from cloudtrail_emulator.emulator.pipeline.delivery_faults import RETRY_AFTER_OS_ERROR, WriteFaults, status_error
from cloudtrail_emulator.emulator.pipeline.delivery_state import DeliveryState, TrailDelivery
from cloudtrail_emulator.emulator.pipeline.events import EventStore
from cloudtrail_emulator.emulator.pipeline.insights import InsightDelivery
from cloudtrail_emulator.emulator.pipeline.selection import trail_selects
from cloudtrail_emulator.emulator.pipeline.trail_snapshot import TrailSnapshot
from cloudtrail_emulator.generators.trail.digests import PERIOD, Digest
from cloudtrail_emulator.generators.trail.writer import ChainState, TrailTarget, TrailWriter, chain_key, seq_suffix
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.trail.logfiles import MAX_RECORDS_PER_FILE
from cloudtrail_emulator.generators.stores import ObjectStore
from cloudtrail_emulator.generators.times import format_time, whole_second

log = logging.getLogger(__name__)
DELIVERY_INTERVAL = timedelta(minutes=5)
DIGEST_INTERVAL = PERIOD
RETRY = timedelta(milliseconds=50)
PAGE = 5000
Publisher = Callable[[str, str, list[str]], None]     # (topic ARN, bucket, [key])


class HistoryConflict(GeneratorError):
    """Seeded history cannot go in front of a chain that already delivered digests."""


class Delivery:
    """The delivery engine and its scheduler thread; every public method is thread-safe."""

    def __init__(self, *, backend: CloudTrailBackend, events: EventStore, store: ObjectStore,
                 keyring: Keyring, clock: Clock, organization_id: str, state: DeliveryState,
                 delivery_interval: timedelta = DELIVERY_INTERVAL,
                 digest_interval: timedelta = DIGEST_INTERVAL,
                 publisher: Callable[[], Publisher | None] = lambda: None):
        if not timedelta(seconds=1) <= digest_interval <= PERIOD or digest_interval.microseconds:
            raise GeneratorError("the digest interval must be whole seconds from 1 to 3600")
        if delivery_interval <= timedelta(0):
            raise GeneratorError("the delivery interval must be positive")
        self.backend, self.events, self.store, self.keyring = backend, events, store, keyring
        self.clock, self.organization_id, self.state = clock, organization_id, state
        self.delivery_interval, self.digest_interval = delivery_interval, digest_interval
        self._publisher = publisher
        self.lock = state.lock
        self._changes: list[tuple[TrailChange, int]] = []
        self._changes_lock = threading.Lock()
        self._wake = Wakeup()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_delivery: datetime | None = None
        self._ran = threading.Condition()
        self._ran_at: datetime | None = None    # the clock when the scheduler's last finished run began
        self._forced_started = 0      # deliver_now runs begun (numbered in order, under the lock)
        self._forced_done = 0         # the number of the last deliver_now run that finished
        self.insights = InsightDelivery(events=events, store=store, selects=trail_selects)
        self.faults = WriteFaults(backend)
        self.digests = DigestCloser(backend, state, self._writer, digest_interval)
        backend.add_listener(self._on_change)
        self._upgrade_first_format()

    def _upgrade_first_format(self) -> None:
        """Trails read from a first-format state file: the rest of their snapshot from the trail now."""
        current = {t.arn: t for t in self.backend.trails()}
        for arn in self.state.upgraded:
            td, trail = self.state.trails[arn], current.get(arn)
            if trail is not None:
                td.snapshot = dataclasses.replace(self._snapshot(trail), destination=td.snapshot.destination)
        self.state.upgraded.clear()

    def _snapshot(self, trail: Trail) -> TrailSnapshot:
        return TrailSnapshot.of(trail, self.organization_id)

    # -- lifecycle ---------------------------------------------------------------------------

    def _on_change(self, change: TrailChange) -> None:
        """Model listener (called under the model's lock): queue the change with the event cursor."""
        with self._changes_lock:
            self._changes.append((change, self.events.max_seq()))
        if change.kind == "started":      # a stop waits for the next run: its own record comes after
            self._wake.set()

    def start(self) -> None:
        """Catch up (missed digests after a restart) and run the scheduler thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="cloudtrail-delivery", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            began = self.clock.now()
            try:
                self.run()
            except OSError:       # reported by `faults`; the next run retries
                pass
            except Exception:     # keep delivering other trails next time; the trail status has the error
                log.exception("delivery run failed")
            with self._ran:
                self._ran_at = began
                self._ran.notify_all()
            self.clock.sleep_until(self._next_due(), self._wake)
            self._wake.clear()

    def _next_due(self) -> datetime:
        """The next delivery or digest close on the clock (a failed digest is retried 50 ms later)."""
        now = self.clock.now()
        due = [(self._last_delivery or now) + self.delivery_interval]
        with self.lock:
            due += [c.period_start + self.digest_interval
                    for t in self.state.trails.values() for c in t.writer.chains.values()]
        return max(min(due), now + (RETRY_AFTER_OS_ERROR if self.faults.failing else RETRY))

    def wait_for_run(self, at: datetime, timeout: float) -> bool:
        """Wait (at most `timeout` real seconds) until a scheduler run that began with the clock at or
        after `at` has finished; False on timeout. Tests advance a `ManualClock`, then call this."""
        with self._ran:
            return self._ran.wait_for(lambda: self._ran_at is not None and self._ran_at >= at, timeout)

    # -- the work ----------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A run's writes: the state file saved first if a save failed; an OSError stops the run."""
        try:
            self.state.flush()
            yield
        except OSError as exc:
            self.faults.failed(exc, list(self.state.trails), whole_second(self.clock.now()))
            raise
        self.faults.succeeded()

    def run(self, *, force_logs: bool = False) -> None:
        """Apply queued trail changes, deliver log files when due (or forced), close due digests."""
        with self.lock, self._writing():
            now = whole_second(self.clock.now())
            self.digests.finish_interrupted(now)
            self._apply_changes()
            self._finish_lost_changes(now)
            self._adopt_logging_trails(now)
            deliver = force_logs or self._last_delivery is None or \
                now >= self._last_delivery + self.delivery_interval
            if deliver:     # Insights first: a new detector starts at the trail's undelivered events
                self.insights.run({a: (td.snapshot, td.cursor) for a, td in self.state.trails.items()}, now)
            for arn, td in list(self.state.trails.items()):
                if deliver or td.writer.batch is not None:
                    self._deliver_logs(arn, td, now)
            self.digests.close_due(list(self.state.trails.items()), now)
            if deliver:
                self._last_delivery = now
            self.state.save()

    def deliver_now(self) -> None:
        """Deliver pending log files and close every open digest period now (an early end).

        Callers that queued for the lock while another run was going share the next run: when one of
        them gets the lock, a run that began after each of them arrived has finished (it saw their
        events and the clock after their call), so they return at once."""
        arrived = self._forced_started
        with self.lock:
            if self._forced_done > arrived:
                return
            self._forced_started += 1
            number = self._forced_started
            self.run(force_logs=True)
            with self._writing():
                now = whole_second(self.clock.now())
                self.digests.close_many({arn: (td, self.digests.final_ends(td, now)) for arn, td in self.state.trails.items()},
                                 now)
                self.state.save()
            self._forced_done = number

    def reset(self) -> None:
        """Forget queued changes and every trail's delivery state."""
        with self.lock:
            with self._changes_lock:
                self._changes.clear()
            self.state.clear()
            self.insights.reset()

    def _adopt_logging_trails(self, now: datetime) -> None:
        """Logging trails without delivery state: where nothing was delivered since StartLogging (the
        process died before it applied the change), start at the StartLogging position and time so no
        event in between is skipped; otherwise (a lost state file) start now."""
        for trail in self.backend.trails():
            if trail.status.is_logging and trail.arn not in self.state.trails:
                status = trail.status
                delivered = max((t for t in (status.latest_delivery_time, status.latest_digest_delivery_time)
                                 if t is not None), default=None)
                if status.start_logging_seq is not None and status.start_logging_time is not None and (
                        delivered is None or delivered < status.start_logging_time):
                    self._start(self._snapshot(trail), status.start_logging_seq,
                                whole_second(status.start_logging_time))
                else:
                    self._start(self._snapshot(trail), self.events.max_seq(), now)

    def _finish_lost_changes(self, now: datetime) -> None:
        """Trails that stopped logging, or were deleted, while their change was lost (queued in memory
        when the process died): deliver by their last snapshot up to the stop (a deleted trail: up to
        now), write the final digests, stop following them."""
        current = {t.arn: t for t in self.backend.trails()}
        with self._changes_lock:         # read after the trails: a change made in between is queued
            queued = {change.trail.arn for change, _ in self._changes}
        for arn, td in list(self.state.trails.items()):
            trail = current.get(arn)
            if arn in queued or (trail is not None and trail.status.is_logging):
                continue
            stopped = None if trail is None else trail.status.stop_logging_time
            self._finish(arn, td, whole_second(stopped or now))
            del self.state.trails[arn]
            self.state.save()

    def _apply_changes(self) -> None:
        with self._changes_lock:
            changes, self._changes = self._changes, []
        for change, seq in changes:
            snapshot, at = self._snapshot(change.trail), whole_second(change.at)
            td = self.state.trails.get(snapshot.arn)
            if change.kind == "started":
                if td is None:          # else adopted already, from the StartLogging position
                    self._start(snapshot, seq, at)
            elif change.kind in ("stopped", "deleted") and td is not None:
                self._finish(snapshot.arn, td, at)         # by the snapshot it has: the last applied
                del self.state.trails[snapshot.arn]
            elif change.kind == "updated" and td is not None:
                if snapshot.destination != td.snapshot.destination:
                    self._finish(snapshot.arn, td, at)
                    self._start(snapshot, td.cursor, at)
                else:
                    td.snapshot = snapshot
            self.state.save()

    def _start(self, snapshot: TrailSnapshot, cursor: int, at: datetime) -> None:
        """Logging (re)starts: new chains, a starting digest first."""
        td = TrailDelivery(cursor=cursor, snapshot=snapshot)
        if snapshot.destination.log_file_validation:
            td.writer.chains[chain_key(snapshot.account_id, snapshot.home_region)] = ChainState(at)
        self.state.trails[snapshot.arn] = td

    def _finish(self, arn: str, td: TrailDelivery, at: datetime) -> None:
        """StopLogging / DeleteTrail / a new destination: deliver the events up to `at` (the call's
        own record included), then final digests."""
        self._deliver_logs(arn, td, at, until=at)
        self.digests.close_many({arn: (td, self.digests.final_ends(td, at))}, at)
        td.writer.chains.clear()

    # -- log files -----------------------------------------------------------------------------

    def _deliver_logs(self, arn: str, td: TrailDelivery, now: datetime,
                      until: datetime | None = None) -> None:
        """Write the events after the cursor (only those up to `until` when given) as log files: a
        batch journalled before (a crash or a failed write left it) as it was, then the rest."""
        while True:
            resumed = td.writer.batch is not None
            if not resumed:
                last = self.events.max_seq()
                if last <= td.cursor:
                    return
                at = max([now, *(c.period_start for c in td.writer.chains.values())])
                self._writer(arn, td).begin_batch(last, at)
            last, at = td.writer.batch
            try:
                files = self._write_batch(arn, td.snapshot, td, last, at, until)
            except GeneratorError as exc:
                self.backend.record_delivery(arn, at, error=status_error(exc))
                return
            td.cursor = last
            self._writer(arn, td).end_batch()
            if files:
                self.backend.record_delivery(arn, at)
                self._notify(arn, td.snapshot, files, at)
            if not resumed:
                return

    def _write_batch(self, arn: str, trail: TrailSnapshot, td: TrailDelivery, last: int, at: datetime,
                     until: datetime | None) -> list[str]:
        latest = None if until is None else format_time(until)
        groups: dict[tuple[str, str], list[tuple[int, dict]]] = defaultdict(list)
        keys: list[str] = []
        cursor = td.cursor
        while cursor < last:
            rows = [(seq, body) for seq, body in self.events.since(cursor, PAGE) if seq <= last]
            if not rows:
                break
            for seq, body in rows:
                record = orjson.loads(body)
                if trail_selects(trail, record) and (latest is None or record["eventTime"] <= latest):
                    group = groups[(record["recipientAccountId"], record["awsRegion"])]
                    group.append((seq, record))
                    if len(group) >= MAX_RECORDS_PER_FILE:
                        keys.append(self._write_file(arn, td, group, at))
                        group.clear()
            cursor = rows[-1][0]
        for group in groups.values():
            if group:
                keys.append(self._write_file(arn, td, group, at))
        return keys

    def _write_file(self, arn: str, td: TrailDelivery, items: list[tuple[int, dict]],
                    at: datetime) -> str:
        """One log file of one account and region; its key is fixed by the trail and the seq range."""
        records = [record for _, record in items]
        suffix = seq_suffix(arn, records[0]["recipientAccountId"], records[0]["awsRegion"], items[0][0], items[-1][0])
        return self._writer(arn, td).write_file(records, at, suffix).key

    def _writer(self, arn: str, td: TrailDelivery) -> TrailWriter:
        """The trail writer over `td`'s state, by the trail's snapshot; it persists through `self.state`."""
        s, d = td.snapshot, td.snapshot.destination
        return TrailWriter(self.store, TrailTarget(d.bucket, d.prefix, s.name, s.home_region), self.keyring,
                           org_id=d.organization_id, validation=d.log_file_validation, state=td.writer,
                           interval=self.digest_interval, persist=self.state.save)

    def _notify(self, arn: str, trail: TrailSnapshot, keys: list[str], at: datetime) -> None:
        publish = self._publisher()
        if not trail.sns_topic_arn or publish is None:
            return
        for key in keys:
            try:
                publish(trail.sns_topic_arn, trail.destination.bucket, [key])
            except Exception as exc:       # the trail status reports it, delivery goes on
                self.backend.record_notification(arn, at, error=f"{type(exc).__name__}: {exc}")
                return
        self.backend.record_notification(arn, at)

    # -- seeded history ------------------------------------------------------------------------

    def history_end(self, trail: Trail, now: datetime) -> datetime:
        """Where seeded history must end for live delivery to continue its chains: where the open
        live chains start (logging start), else now. GeneratorError once live digests exist.
        Queued trail changes are applied first: a StartLogging the scheduler thread has not seen yet
        already has its chain."""
        with self.lock:
            self._apply_changes()
        td = self.state.trails.get(trail.arn)
        if td is None or not td.writer.chains:
            return whole_second(now)
        if any(c.previous is not None for c in td.writer.chains.values()):
            raise HistoryConflict(f"trail {trail.name} already delivered digests; seed history before "
                                 "its first digest (or reset and start again)")
        return min(c.period_start for c in td.writer.chains.values())

    def adopt_history(self, trail: Trail, last_digests: dict[tuple[str, str], Digest]) -> None:
        """Link the trail's live chains to the last digests of seeded history that end where they start."""
        td = self.state.trails.get(trail.arn)
        if td is None or not td.snapshot.destination.log_file_validation:
            return
        for (account, region), digest in last_digests.items():
            chain = td.writer.chains.setdefault(chain_key(account, region), ChainState(digest.end))
            if chain.period_start == digest.end and chain.previous is None:
                chain.previous = Digest(digest.key, b"", digest.raw_sha256, digest.signature, {},
                                        digest.start, digest.end)
        self.state.save()
