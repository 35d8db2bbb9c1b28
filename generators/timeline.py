"""Plans a generation run: checks its options and splits the record count into hourly work units.

A run covers ``[start, end)``. Time is cut into consecutive hours counted from ``start``; each hour
of each account is one *work unit* that can be generated on its own (its own seeded rng), which is
what lets a run stream in constant memory and spread over several processes while staying
byte-for-byte reproducible. The count is shared out over units and regions by weight with the
largest-remainder method, so the total is exact. The weights are the volume model
(``generators.volumes``): accounts of different sizes and characters, days and hours that vary as
real activity does; every weight depends only on (seed, account, day), so a run of any range or
number of processes plans the same hour alike.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.times import format_time
from cloudtrail_emulator.generators.volumes import VolumeModel

UNIT = timedelta(hours=1)
DEFAULT_SPAN = timedelta(days=1)
#: records per hour per account and region at an average moment, when only a time range is given
DEFAULT_HOURLY_RATE = 600


@functools.cache
def known_regions() -> frozenset[str]:
    """The commercial AWS regions, from botocore's endpoint data (read directly: a session costs more)."""
    from botocore.loaders import Loader

    partitions = Loader().load_data("endpoints")["partitions"]
    return frozenset(region for p in partitions if p["partition"] == "aws" for region in p["regions"])


def check_regions(regions: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Returns the regions without duplicates, or raises for an empty list or an unknown name."""
    if not regions:
        raise GeneratorError("at least one region is needed")
    unknown = [r for r in regions if r not in known_regions()]
    if unknown:
        raise GeneratorError(f"unknown region: {', '.join(unknown)}")
    return tuple(dict.fromkeys(regions))


def utc(value: datetime) -> datetime:
    """Makes a datetime timezone-aware UTC (naive ones are taken as UTC), whole seconds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Unit:
    """One hour (or less, at the end) of one account's activity across the run's regions."""

    index: int
    account_id: str
    start: datetime
    end: datetime
    counts: tuple[tuple[str, int], ...]  # (region, records) for each region of the run

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


@dataclass(frozen=True)
class Plan:
    start: datetime
    end: datetime
    count: int
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    units: tuple[Unit, ...]


def resolve_range(
    count: int | None, start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """Fills in a missing end (now) and start (one day before the end)."""
    if count is not None and count < 0:
        raise GeneratorError(f"count must be zero or more, not {count}")
    end = utc(end) if end is not None else utc(now)
    start = utc(start) if start is not None else end - DEFAULT_SPAN
    if end <= start:
        raise GeneratorError(f"end ({format_time(end)}) must be after start ({format_time(start)})")
    return start, end


def make_plan(
    *,
    count: int | None,
    start: datetime,
    end: datetime,
    accounts: tuple[str, ...],
    regions: tuple[str, ...],
    seed: int = 0,
) -> Plan:
    """Cuts [start, end) into hourly units per account and shares ``count`` out over them by the
    volume model of ``seed`` (see ``generators.volumes``)."""
    spans: list[tuple[datetime, datetime]] = []
    t = start
    while t < end:
        spans.append((t, min(t + UNIT, end)))
        t += UNIT
    volumes = VolumeModel(seed)
    weights = [
        volumes.hour_weight(account, s) * ((e - s) / UNIT) * rw
        for s, e in spans
        for account in accounts
        for rw in volumes.region_weights(account, len(regions))
    ]
    if count is None:
        count = round(DEFAULT_HOURLY_RATE * sum(weights))
    shares = _apportion(count, weights)
    units = []
    i = 0
    per_unit = len(regions)
    for k, (s, e) in enumerate(spans):
        for a, account in enumerate(accounts):
            base = (k * len(accounts) + a) * per_unit
            counts = tuple(zip(regions, shares[base : base + per_unit]))
            units.append(Unit(index=i, account_id=account, start=s, end=e, counts=counts))
            i += 1
    return Plan(start=start, end=end, count=count, accounts=accounts, regions=regions, units=tuple(units))


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Integer shares of ``total`` proportional to ``weights`` (largest remainder, stable ties)."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    shares = [math.floor(x) for x in exact]
    left = total - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares
