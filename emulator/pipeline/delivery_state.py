"""What live delivery remembers per trail, persisted atomically in `<data_dir>/state/delivery.json`.

Per trail: the event cursor (last sequence number written to log files), an intent journal for the
batch being written (so a crash re-writes the same objects under the same keys), the trail's
`TrailSnapshot` (what it selects and where its files go; a stopped or deleted trail keeps its last
one), and per (account, region) the digest chain position: the open period's start, the previous
digest (key, hash, signature, period), the log files delivered in the open period (without bodies)
and the end of a digest being written (so that a crash while writing an early-ended digest re-writes
that digest instead of forking the chain). A chain is rebuilt from this for each period it closes.

The document is `{"version": 2, "trails": {arn: ...}}`. A file of the first format (no version, a
`settings` dict per trail instead of a snapshot) is read, not discarded: its settings give the
snapshot's name, account, home region and destination, and `DeliveryState.upgraded` names those
trails so that the delivery engine takes the rest of the snapshot (regions, selectors, topic) from
the trail as it is at start-up, which is what the first format's code read at each delivery.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cloudtrail_emulator.emulator.persistence import JsonStateFile
from cloudtrail_emulator.emulator.pipeline.trail_snapshot import Destination, TrailSnapshot
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.writer import WriterState


@dataclass
class TrailDelivery:
    """Delivery progress of one trail: its event cursor, its snapshot, its trail writer's state."""

    cursor: int                                  # highest event seq already in log files (or skipped)
    snapshot: TrailSnapshot                      # what the trail selects, where its chains go
    writer: WriterState = field(default_factory=WriterState)   # chains and the journalled batch

    def to_json(self) -> dict:
        return {"cursor": self.cursor, "snapshot": self.snapshot.to_json(), **self.writer.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> "TrailDelivery":
        snapshot = TrailSnapshot.from_json(data["snapshot"]) if "snapshot" in data else \
            _first_format_snapshot(data["settings"])
        return cls(data["cursor"], snapshot, WriterState.from_json(data))


def _first_format_snapshot(settings: dict) -> TrailSnapshot:
    """The first format's `settings` (bucket, prefix, name, home_region, account, org_id, validation)."""
    return TrailSnapshot(settings["name"], settings["account"], settings["home_region"],
                         Destination(settings["bucket"], settings["prefix"] or "", settings["org_id"],
                                     bool(settings["validation"])))


class DeliveryState:
    """Every trail's `TrailDelivery`, keyed by trail ARN; saved whole after each change."""

    VERSION = 2

    def __init__(self, state_file: JsonStateFile | None):
        self._file = state_file
        self._unsaved = False
        self.lock = threading.RLock()
        document = (state_file.load() if state_file is not None else None) or {}
        if document.get("version", 1) > self.VERSION:
            raise GeneratorError(f"delivery state version {document['version']} is newer than this "
                                 f"emulator's ({self.VERSION}): upgrade cloudtrail-emulator")
        self.trails: dict[str, TrailDelivery] = {
            arn: TrailDelivery.from_json(data) for arn, data in document.get("trails", {}).items()}
        #: trails read from a first-format file: their snapshots hold only name and destination
        self.upgraded: set[str] = set() if document.get("version") else set(self.trails)

    def save(self) -> None:
        """Write the whole document; on failure (OSError) it stays unsaved until `flush` succeeds."""
        if self._file is not None:
            self._unsaved = True
            self._file.save({"version": self.VERSION,
                             "trails": {arn: t.to_json() for arn, t in sorted(self.trails.items())}})
            self._unsaved = False

    def flush(self) -> None:
        """Save again if the last save failed: before any object is written, the file holds every
        intent in memory (a batch begun while the save failed must be on disk before its objects)."""
        if self._unsaved:
            self.save()

    def clear(self) -> None:
        with self.lock:
            self.trails.clear()
            self.save()
