"""The generator's public entry points: a streaming record generator and a trail writer.

``generate()`` yields records; ``write_trail()`` turns the same records into delivered log files and
an hourly signed digest chain per account and region in an object store, on several processes.
Both are reproducible: the same seed and options (and, for signatures, the same keyring) give the
same bytes whatever the number of processes, because every hourly unit of every account draws from
its own rng seeded by (seed, unit, region) and the digests are built in unit order.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import heapq
import multiprocessing
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

from cloudtrail_emulator.generators.activity import ActivityModel
from cloudtrail_emulator.generators.catalog import load_catalog
from cloudtrail_emulator.generators.trail.digests import DigestChain
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.insights import InsightDetector, InsightSettings, insight_files
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.labels import write_labels
from cloudtrail_emulator.generators.trail.logfiles import DEFAULT_COMPRESSLEVEL, LogFile, LogFileBatcher
from cloudtrail_emulator.generators.naming import trail_name_problem
from cloudtrail_emulator.generators.population import Population, build_population
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.scenarios import ScenarioRun
from cloudtrail_emulator.generators.scenarios.plan import ScenarioSpec, as_spec, play_scenarios
from cloudtrail_emulator.generators.stores import ObjectStore, open_target
from cloudtrail_emulator.generators.timeline import UNIT, Plan, Unit, check_regions, make_plan, resolve_range
from cloudtrail_emulator.generators.times import format_time, parse_time

DEFAULT_TRAIL = "management-events"
DEFAULT_DATA_DIR = Path(".cloudtrail-emulator")
#: below this many records a run stays in one process: starting workers would cost more than it saves
PARALLEL_THRESHOLD = 50_000
#: cyclic-GC thresholds while generating. Records are acyclic dicts (reference counting frees them)
#: that live for a 5-minute window, so with the default (700, 10, 10) the collector re-scans each
#: of them several times: ~20 % of the run. Collecting 100x less often keeps memory bounded.
GENERATION_GC_THRESHOLD = (100_000, 10, 10)


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What a generation run makes: picklable, so worker processes rebuild the same generator."""

    seed: int
    accounts: tuple[str, ...] | int
    plan: Plan
    scenarios: tuple[ScenarioSpec, ...] = ()


@dataclasses.dataclass(frozen=True)
class TrailTarget:
    """Where and under which trail the files go."""

    bucket: str
    prefix: str = ""
    trail_name: str = DEFAULT_TRAIL
    home_region: str = "us-east-1"
    compresslevel: int = DEFAULT_COMPRESSLEVEL


@dataclasses.dataclass
class TrailSummary:
    """What ``write_trail`` delivered."""

    records: int = 0
    log_files: int = 0
    digests: int = 0
    log_bytes: int = 0
    seconds: float = 0.0
    start: datetime | None = None
    end: datetime | None = None
    regions: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    organization_id: str | None = None
    labels_key: str | None = None   # the ground-truth labels object, when the run had scenarios
    insight_records: int = 0        # CloudTrail Insights records (Start and End), when asked for
    insight_files: int = 0

    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def plan_run(
    *,
    count: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    seed: int = 0,
    accounts: int | Sequence[str] = 1,
    regions: Sequence[str] = ("us-east-1",),
    now: datetime | None = None,
    scenarios: Sequence[str | ScenarioSpec] = (),
) -> tuple[RunOptions, Population]:
    """Checks the options and plans the run; ``now`` (default: the wall clock) ends an open range.

    ``scenarios`` (names or ``ScenarioSpec``) are attacks played inside the baseline (see
    ``generators.scenarios``); ``scenario_runs`` gives their records and labels.
    """
    if isinstance(accounts, int) and accounts < 1:
        raise GeneratorError(f"accounts must be at least 1, not {accounts}")
    population = build_population(seed, accounts if isinstance(accounts, int) else list(accounts))
    start, end = resolve_range(count, start, end, now or datetime.now(timezone.utc))
    plan = make_plan(
        count=count,
        start=start,
        end=end,
        accounts=tuple(a.account_id for a in population.accounts),
        regions=check_regions(tuple(regions)),
    )
    accounts_arg = accounts if isinstance(accounts, int) else tuple(accounts)
    return RunOptions(seed, accounts_arg, plan, tuple(as_spec(s) for s in scenarios)), population


def scenario_runs(options: RunOptions, population: Population | None = None) -> list[ScenarioRun]:
    """The run's scenarios as played (records and labels), the same records the run's output holds."""
    return _UnitGenerator(options, population).scenario_runs


class _UnitGenerator:
    """Makes the records of one work unit; one per process."""

    def __init__(self, options: RunOptions, population: Population | None = None):
        self.options = options
        self.population = population or build_population(
            options.seed,
            options.accounts if isinstance(options.accounts, int) else list(options.accounts),
        )
        self.factory = RecordFactory(self.population, load_catalog())
        self.activity = ActivityModel(self.factory)
        self.scenario_runs = play_scenarios(options.scenarios, options.plan, options.seed, self.factory)
        self.injected: dict[tuple[str, int], list[dict]] = defaultdict(list)
        for run in self.scenario_runs:
            for record in run.records:
                hour = int((parse_time(record["eventTime"]) - options.plan.start) / UNIT)
                self.injected[(run.account_id, hour)].append(record)

    def stream(self, unit: Unit) -> Iterator[dict]:
        """The unit's records in time order, made as they are consumed (memory holds a few records).

        Each region's records come from its own rng in time order and are merged by eventTime; at
        equal times, the run's region order first, then the scenarios' records.
        """
        injected = self.injected.get((unit.account_id, int((unit.start - self.options.plan.start) / UNIT)), [])
        sources = [self._region_records(unit, region, n) for region, n in unit.counts]
        return heapq.merge(*sources, sorted(injected, key=_event_time), key=_event_time)

    def _region_records(self, unit: Unit, region: str, n: int) -> Iterator[dict]:
        """The region's n records in time order: personas' sessions, see ``generators.activity``."""
        rng = random.Random(f"{self.options.seed}:{unit.index}:{region}")
        return self.activity.records(rng, unit.account_id, region, unit.start, unit.end, n)


def _event_time(record: dict) -> str:
    return record["eventTime"]


def generate(
    *,
    count: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    seed: int = 0,
    accounts: int | Sequence[str] = 1,
    regions: Sequence[str] = ("us-east-1",),
    now: datetime | None = None,
    scenarios: Sequence[str | ScenarioSpec] = (),
) -> Iterator[dict]:
    """Yields realistic CloudTrail records, hour by hour; memory does not grow with ``count``.

    Without ``end`` the range ends at ``now`` (default: the wall clock); without ``start`` it spans
    one day. Pin ``start`` and ``end`` for reproducible output. ``scenarios`` adds attacks (their
    records come on top of ``count``; ``scenario_runs(plan_run(...)[0])`` gives their labels).
    """
    options, population = plan_run(
        count=count, start=start, end=end, seed=seed, accounts=accounts, regions=regions, now=now,
        scenarios=scenarios,
    )
    generator = _UnitGenerator(options, population)
    for unit in options.plan.units:
        yield from generator.stream(unit)


# --- delivery ---------------------------------------------------------------------------------

_worker: tuple[_UnitGenerator, ObjectStore, TrailTarget, str | None] | None = None


def _init_worker(options: RunOptions, open_store: Callable[[], ObjectStore], target: TrailTarget,
                 org_id: str | None) -> None:
    global _worker
    gc.set_threshold(*GENERATION_GC_THRESHOLD)  # the worker process only generates
    _worker = (_UnitGenerator(options), open_store(), target, org_id)


def _run_unit_in_worker(unit: Unit) -> tuple[int, int, list[LogFile]]:
    assert _worker is not None, "worker not initialised"
    return _deliver_unit(*_worker, unit)


def _deliver_unit(generator: _UnitGenerator, store: ObjectStore, target: TrailTarget,
                  org_id: str | None, unit: Unit) -> tuple[int, int, list[LogFile]]:
    """Makes a unit's records and writes its log files; returns (records, bytes, files without bodies).

    Records stream into one batcher per logged region and each file is written as its window
    closes, so memory holds a few 5-minute windows, not the hour. Files are listed by region, then
    in delivery order.
    """
    batchers: dict[str, LogFileBatcher] = {}
    delivered: dict[str, list[LogFile]] = {}
    count = size = 0

    def write(region: str, files: list[LogFile]) -> None:
        nonlocal size
        for log_file in files:
            store.put(target.bucket, log_file.key, log_file.body)
            size += len(log_file.body)
            delivered[region].append(dataclasses.replace(log_file, body=b""))

    for record in generator.stream(unit):
        count += 1
        region = record["awsRegion"]
        batcher = batchers.get(region)
        if batcher is None:
            rng = random.Random(f"{generator.options.seed}:{unit.index}:{region}:files")
            batcher = batchers[region] = LogFileBatcher(unit.account_id, region, rng, target.prefix, org_id,
                                                        compresslevel=target.compresslevel)
            delivered[region] = []
        write(region, batcher.add(record))
    for region, batcher in batchers.items():
        write(region, batcher.flush())
    return count, size, [f for region in sorted(delivered) for f in delivered[region]]


class _Chains:
    """The digest chains of a run, closed hour by hour as the units that feed them complete."""

    def __init__(self, store: ObjectStore, target: TrailTarget, keyring: Keyring, accounts: Iterable[str],
                 regions: Iterable[str], org_id: str | None, started_at: datetime):
        self.store = store
        self.target = target
        self.next_close = started_at + UNIT
        self.pending: list[LogFile] = []
        self.chains = {
            (account, region): DigestChain(
                bucket=target.bucket,
                prefix=target.prefix,
                account_id=account,
                region=region,
                trail_name=target.trail_name,
                home_region=target.home_region,
                keyring=keyring,
                org_id=org_id,
                started_at=started_at,
            )
            for account in accounts
            for region in regions
        }
        self.digests = 0

    def add(self, files: list[LogFile]) -> None:
        self.pending.extend(files)

    def close_until(self, moment: datetime) -> None:
        """Closes every period that ends at or before ``moment``."""
        while self.next_close <= moment:
            self._close(self.next_close)

    def close_all(self) -> None:
        """Closes periods until every pending file is in a digest."""
        while self.pending:
            self._close(self.next_close)

    def close_early(self, end: datetime) -> None:
        """Closes the open period at ``end`` (an early end); every file must be delivered before it."""
        late = [f.key for f in self.pending if f.delivered_at >= end]
        if late:
            raise GeneratorError(f"log file {late[0]} is delivered after the chains close ({format_time(end)})")
        if end > self.next_close - UNIT:
            self._close(end)

    def _close(self, end: datetime) -> None:
        due = [f for f in self.pending if f.delivered_at < end]
        self.pending = [f for f in self.pending if f.delivered_at >= end]
        for log_file in due:
            chain = self.chains.get((log_file.account_id, log_file.region))
            if chain is None:
                raise GeneratorError(f"log file for a region outside the trail: {log_file.key}")
            chain.add(log_file)
        for chain in self.chains.values():
            digest = chain.close_period(end)
            self.store.put(self.target.bucket, digest.key, digest.body, digest.metadata)
            self.digests += 1
        self.next_close = end + UNIT


def write_trail(
    store: ObjectStore,
    target: TrailTarget,
    options: RunOptions,
    *,
    keyring: Keyring,
    population: Population | None = None,
    open_store: Callable[[], ObjectStore] | None = None,
    workers: int | None = None,
    validation: bool = True,
    progress: Callable[[int], None] | None = None,
    org_id: str | None = None,
    close_at: datetime | None = None,
    insights: InsightSettings | None = None,
) -> TrailSummary:
    """Delivers a planned run's log files and digests into ``store`` under ``target``.

    With ``open_store`` (a picklable callable returning an equivalent store) and more than one
    worker, units are generated and written by a process pool; digests are always built here, in
    unit order, so the bytes do not depend on ``workers``.
    ``org_id`` puts every key under ``AWSLogs/<org_id>/`` (default: the population's organization when
    the run has several accounts). ``close_at`` ends the chains there with an early final period
    (a live chain can continue from it) instead of running on in full hours past the last file.
    ``insights`` also writes CloudTrail Insights files (``generators.insights``; a second pass over
    the records, in this process).
    """
    plan = options.plan
    population = population or build_population(
        options.seed, options.accounts if isinstance(options.accounts, int) else list(options.accounts)
    )
    if org_id is None:
        org_id = population.organization_id if len(plan.accounts) > 1 else None
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if plan.count >= PARALLEL_THRESHOLD else 1
    if not store.bucket_exists(target.bucket):
        store.create_bucket(target.bucket)
    # IAM, STS and sign-in events land in us-east-1 whatever regions the run names, as AWS logs them
    chain_regions = tuple(dict.fromkeys((*plan.regions, "us-east-1")))
    chains = _Chains(store, target, keyring, plan.accounts, chain_regions, org_id, plan.start) if validation else None
    summary = TrailSummary(start=plan.start, end=plan.end, regions=chain_regions, accounts=plan.accounts,
                           organization_id=org_id)
    began = time.perf_counter()
    for unit, (count, size, files) in zip(plan.units, _unit_results(store, target, options, population, org_id,
                                                              open_store, workers)):
        if chains is not None:
            chains.close_until(unit.start)
            chains.add(files)
        summary.records += count
        summary.log_files += len(files)
        summary.log_bytes += size
        if progress is not None:
            progress(count)
    if chains is not None:
        if close_at is not None:
            chains.close_until(close_at)
            chains.close_early(close_at)
        else:
            chains.close_until(plan.end)
            chains.close_all()
        summary.digests = chains.digests
    if options.scenarios:
        labels = [label for run in scenario_runs(options, population) for label in run.labels]
        summary.labels_key = write_labels(store, target.bucket, target.prefix, labels)
    if insights is not None:
        summary.insight_records, summary.insight_files = _write_insights(store, target, options, population,
                                                                         org_id, insights)
    summary.seconds = time.perf_counter() - began
    return summary


def _write_insights(store: ObjectStore, target: TrailTarget, options: RunOptions, population: Population,
                    org_id: str | None, settings: InsightSettings) -> tuple[int, int]:
    """Runs the records through the Insights detector and writes its files; (records, files)."""
    generator = _UnitGenerator(options, population)
    detector = InsightDetector(random.Random(f"{options.seed}:insights"), settings)
    found: list[dict] = []
    for unit in options.plan.units:
        for record in generator.stream(unit):
            found += detector.add(record)
    found += detector.flush()
    files = insight_files(found, random.Random(f"{options.seed}:insight-files"), target.prefix, org_id)
    for insight_file in files:
        store.put(target.bucket, insight_file.key, insight_file.body)
    return len(found), len(files)


def _unit_results(store: ObjectStore, target: TrailTarget, options: RunOptions, population: Population,
                  org_id: str | None, open_store: Callable[[], ObjectStore] | None,
                  workers: int) -> Iterator[tuple[int, int, list[LogFile]]]:
    """The units' results in plan order, made here or by a pool of worker processes."""
    units = options.plan.units
    if workers <= 1 or open_store is None or len(units) < 2:
        generator = _UnitGenerator(options, population)
        with _gc_threshold(GENERATION_GC_THRESHOLD):
            for unit in units:
                yield _deliver_unit(generator, store, target, org_id, unit)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(options, open_store, target, org_id)) as pool:
        yield from pool.imap(_run_unit_in_worker, units, chunksize=1)


@contextlib.contextmanager
def _gc_threshold(threshold: tuple[int, int, int]) -> Iterator[None]:
    """Sets the cyclic collector's thresholds for the block, restoring the caller's after it."""
    previous = gc.get_threshold()
    gc.set_threshold(*threshold)
    try:
        yield
    finally:
        gc.set_threshold(*previous)




def _reopen(target: str, data_dir: Path, endpoint_url: str | None, bucket: str | None) -> ObjectStore:
    """Opens the store a worker process writes to (picklable by reference)."""
    return open_target(target, data_dir=data_dir, endpoint_url=endpoint_url, bucket=bucket, fsync=False)[0]


def generate_trail(
    target: str,
    *,
    data_dir: Path | str = DEFAULT_DATA_DIR,
    endpoint_url: str | None = None,
    bucket: str | None = None,
    prefix: str = "",
    trail_name: str = DEFAULT_TRAIL,
    home_region: str | None = None,
    count: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    seed: int = 0,
    accounts: int | Sequence[str] = 1,
    regions: Sequence[str] = ("us-east-1",),
    now: datetime | None = None,
    workers: int | None = None,
    validation: bool = True,
    compresslevel: int = DEFAULT_COMPRESSLEVEL,
    progress: Callable[[int], None] | None = None,
    scenarios: Sequence[str | ScenarioSpec] = (),
    insights: bool | InsightSettings = False,
) -> TrailSummary:
    """Generates a trail's records and delivers them as log files and signed digests to ``target``.

    ``target`` is a local directory or ``s3://bucket[/prefix]`` (the S3 endpoint at ``endpoint_url``,
    or the embedded store under ``data_dir`` without one); ``prefix`` goes after the target's own
    prefix, in front of ``AWSLogs/``. Signing keys are kept in ``data_dir``'s keyring. ``insights``
    (True: the default ``InsightSettings``) adds CloudTrail Insights files for unusual API rates.
    """
    data_dir = Path(data_dir)
    problem = trail_name_problem(trail_name)
    if problem:
        raise GeneratorError(f"invalid trail name {trail_name!r}: {problem}")
    options, population = plan_run(
        count=count, start=start, end=end, seed=seed, accounts=accounts, regions=regions, now=now,
        scenarios=scenarios,
    )
    store, bucket_name, target_prefix = open_target(target, data_dir=data_dir, endpoint_url=endpoint_url,
                                                    bucket=bucket, fsync=False)
    key_prefix = "/".join(p.strip("/") for p in (target_prefix, prefix) if p.strip("/"))
    trail = TrailTarget(bucket=bucket_name, prefix=key_prefix, trail_name=trail_name,
                        home_region=home_region or options.plan.regions[0], compresslevel=compresslevel)
    return write_trail(
        store,
        trail,
        options,
        keyring=Keyring(data_dir),
        population=population,
        open_store=functools.partial(_reopen, target, data_dir, endpoint_url, bucket),
        workers=workers,
        validation=validation,
        progress=progress,
        insights=InsightSettings() if insights is True else insights or None,
    )
