"""Closing digest periods: every chain of the followed trails, through each trail's writer.

Crash safety is the trail writer's journal (generators/trail/writer.py): an end is journalled and
saved before its digest is written, so a run after a crash writes the same digest again.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from cloudtrail_emulator.emulator.pipeline.delivery_faults import status_error
from cloudtrail_emulator.emulator.pipeline.delivery_state import DeliveryState, TrailDelivery
from cloudtrail_emulator.emulator.services.cloudtrail.models import CloudTrailBackend
from cloudtrail_emulator.generators.trail.digests import PERIOD
from cloudtrail_emulator.generators.trail.writer import TrailWriter


class DigestCloser:
    """Closes due, early-ended and interrupted digest periods; reports each to the trail status."""

    def __init__(self, backend: CloudTrailBackend, state: DeliveryState,
                 writer: Callable[[str, TrailDelivery], TrailWriter], interval: timedelta):
        self.backend, self.state, self.writer, self.interval = backend, state, writer, interval

    @staticmethod
    def final_ends(td: TrailDelivery, now: datetime) -> dict[str, datetime]:
        """Each chain's early end after every file delivered so far (delivery times are clamped to
        period starts), at most a full period after its start."""
        chains = td.writer.chains
        end = max([now, *(c.period_start for c in chains.values())]) + timedelta(seconds=1)
        return {key: min(end, chain.period_start + PERIOD) for key, chain in chains.items()}

    def finish_interrupted(self, now: datetime) -> None:
        """Digests whose write a crash interrupted: write them again with the journalled end."""
        self.close_many({arn: (td, {}) for arn, td in self.state.trails.items() if td.writer.journalled()}, now)

    def close_due(self, trails: list[tuple[str, TrailDelivery]], now: datetime) -> None:
        """Close every full period that is due, in rounds (a chain behind by several periods takes
        one round each); a chain whose digest failed waits for the next run."""
        failed: dict[str, set[str]] = defaultdict(set)
        while True:
            due = {arn: (td, {key: chain.period_start + self.interval
                              for key, chain in td.writer.chains.items()
                              if chain.period_start + self.interval <= now and key not in failed[arn]})
                   for arn, td in trails}
            due = {arn: closes for arn, closes in due.items() if closes[1]}
            if not due:
                return
            for arn, keys in self.close_many(due, now).items():
                failed[arn] |= keys

    def close_many(self, closes: dict[str, tuple[TrailDelivery, dict[str, datetime]]],
                    now: datetime) -> dict[str, set[str]]:
        """Close each trail's chains at the given ends (chain key -> end) through its trail writer,
        and write any end journalled before; per trail, the chain keys whose digest write failed.

        Crash safety as one chain at a time, with two state saves for the whole batch instead of two
        per chain: every end is journalled before any digest is written, and the moved chains are
        saved after all writes; a crash in between re-writes the journalled digests (the same bytes
        under the same keys) on the next run."""
        writers = {arn: self.writer(arn, td) for arn, (td, _) in closes.items()}
        if any([writer.journal(closes[arn][1]) for arn, writer in writers.items()]):
            self.state.save()
        failed: dict[str, set[str]] = {}
        delivered = []
        for arn, writer in writers.items():
            results = writer.write_journalled()
            failed[arn] = {key for key, error in results.items() if error is not None}
            for error in {status_error(e) for e in results.values() if e is not None}:
                self.backend.record_digest_delivery(arn, now, error=error)
            if any(error is None for error in results.values()):
                delivered.append(arn)
        if delivered:
            self.state.save()
        for arn in delivered:        # each record rewrites the trails' state file
            self.backend.record_digest_delivery(arn, now)
        return failed
