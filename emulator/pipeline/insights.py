"""Live CloudTrail Insights: per logging trail with insight selectors, a detector over its new events.

Each delivery run (`Delivery.run`, under its lock) feeds the events a trail selects since the last
run, sorted by eventTime, to the trail's `generators.insights.InsightDetector` (only the types its
GetInsightSelectors names), then closes the minutes before now. The Start/End records found go to the
trail's bucket as `CloudTrail-Insight` files (no digests cover them, as on AWS) and into the event index
with `deliver=False`, where `LookupEvents(EventCategory="insight")` finds them.

The detectors live in memory: after a restart a trail's baseline starts again from its undelivered
events. Events whose eventTime is older than a trail's last closed minute count in its open minute.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from cloudtrail_emulator.emulator.pipeline.events import EventStore
from cloudtrail_emulator.emulator.pipeline.trail_snapshot import TrailSnapshot
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.insights import InsightDetector, InsightSettings, insight_files
from cloudtrail_emulator.generators.stores import ObjectStore

log = logging.getLogger(__name__)
PAGE = 5000


@dataclass
class _Watch:
    """One trail's detector and how far it has read the event index."""

    types: tuple[str, ...]
    cursor: int
    detector: InsightDetector = field(repr=False)


class InsightDelivery:
    """The detectors of the trails with insight selectors; `run` is called by the delivery engine."""

    def __init__(self, *, events: EventStore, store: ObjectStore,
                 selects: Callable[[TrailSnapshot, dict], bool], settings: InsightSettings | None = None):
        self.events, self.store = events, store
        self.selects = selects          # selection.trail_selects: which events a trail logs
        self.settings = settings or InsightSettings()
        self._watches: dict[str, _Watch] = {}

    def run(self, trails: Mapping[str, tuple[TrailSnapshot, int]], now: datetime) -> int:
        """Analyse each logging trail's new events (`trails`: arn -> its snapshot and log delivery
        cursor, where a new detector starts); returns the number of insight records delivered."""
        delivered = 0
        watched = set()
        for trail, cursor in trails.values():
            types = trail.insight_types
            if not types:
                continue
            watched.add(trail.arn)
            watch = self._watches.get(trail.arn)
            if watch is None or watch.types != types:
                settings = InsightSettings(**{**self.settings.__dict__, "types": types})
                watch = self._watches[trail.arn] = _Watch(
                    types, cursor, InsightDetector(random.Random(f"{trail.arn}:{cursor}"), settings))
            delivered += self._analyse(trail, watch, now)
        for arn in [a for a in self._watches if a not in watched]:
            del self._watches[arn]
        return delivered

    def reset(self) -> None:
        self._watches.clear()

    def _analyse(self, trail: TrailSnapshot, watch: _Watch, now: datetime) -> int:
        records = []
        while rows := self.events.since(watch.cursor, PAGE):
            for _, body in rows:
                record = orjson.loads(body)
                if self.selects(trail, record):
                    records.append(record)
            watch.cursor = rows[-1][0]
        found = [r for record in sorted(records, key=lambda r: r["eventTime"]) for r in watch.detector.add(record)]
        found += watch.detector.advance(now)
        if not found:
            return 0
        d = trail.destination
        rng = random.Random(f"{trail.arn}:{watch.cursor}:{found[0]['eventID']}")
        try:
            for insight_file in insight_files(found, rng, d.prefix, d.organization_id):
                self.store.put(d.bucket, insight_file.key, insight_file.body)
        except GeneratorError as exc:       # the index still gets them; files need the bucket back
            log.warning("insight delivery for %s failed: %s", trail.arn, exc)
        self.events.add(found, deliver=False)
        return len(found)
