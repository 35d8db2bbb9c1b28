"""The generator's public entry points: a streaming record generator and a trail writer.

``generate()`` (``generators.run``) yields records; ``write_history()`` / ``write_trail()`` make
the same records once and deliver them, through the trail writer (``generators.trail.writer``), as
log files and an hourly signed digest chain per account and region of each trail in an object
store, on several processes, feeding an optional record sink (an event index) in the same pass.
Reproducible: the same seed and options (and, for signatures, the same keyring) give the same bytes
whatever the number of processes, as every unit draws from its own rng and digests are built here
in unit order.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import multiprocessing
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from cloudtrail_emulator.generators.access_styles import DEFAULT_ACCESS_STYLE
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.insights import InsightDetector, InsightSettings, insight_files
from cloudtrail_emulator.generators.labels import labels_file, write_labels, write_labels_file
from cloudtrail_emulator.generators.naming import trail_name_problem
from cloudtrail_emulator.generators.population import Population
from cloudtrail_emulator.generators.run import RunOptions, UnitGenerator, generate, plan_run, scenario_runs
from cloudtrail_emulator.generators.scenarios.plan import ScenarioSpec
from cloudtrail_emulator.generators.stores import ObjectStore, local_directory, open_target
from cloudtrail_emulator.generators.timeline import Unit
from cloudtrail_emulator.generators.trail.digests import Digest
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.trail.logfiles import DEFAULT_COMPRESSLEVEL, LogFile
from cloudtrail_emulator.generators.trail.writer import Behind, LogFileBatches, PutsBehind, TrailTarget, TrailWriter

__all__ = ["HistoryTrail", "RunOptions", "TrailSummary", "TrailTarget", "generate", "generate_trail", "plan_run",
           "scenario_runs", "write_history", "write_trail"]

DEFAULT_TRAIL = "management-events"
DEFAULT_DATA_DIR = Path(".cloudtrail-emulator")
#: below this many records a run stays in one process: starting workers would cost more than it saves
PARALLEL_THRESHOLD = 50_000
#: cyclic-GC thresholds while generating. Records are acyclic dicts (reference counting frees them)
#: that live for a 5-minute window, so with the default (700, 10, 10) the collector re-scans each
#: of them several times: ~20 % of the run. Collecting 100x less often keeps memory bounded.
GENERATION_GC_THRESHOLD = (100_000, 10, 10)
#: records per call of a ``write_history`` sink
SINK_CHUNK = 5000


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
    labels: list[dict] = dataclasses.field(default_factory=list)  # ground truth of the scenarios it took
    labels_key: str | None = None   # the labels object in the bucket, when written there
    labels_file: Path | None = None  # the labels file beside a local output directory (generate_trail)
    insight_records: int = 0        # CloudTrail Insights records (Start and End), when asked for
    insight_files: int = 0
    chain_ends: dict[tuple[str, str], Digest] = dataclasses.field(default_factory=dict)  # each chain's last digest

    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


# --- delivery ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class HistoryTrail:
    """One trail a run's records go to: its destination, whose records it takes, how its chains end.

    ``close_at`` ends the chains there with an early final period (a live chain can continue from
    it) instead of running on in full hours past the last file; ``insights`` also writes CloudTrail
    Insights files for the records it takes (``generators.insights``)."""

    target: TrailTarget
    org_id: str | None = None
    accounts: tuple[str, ...] | None = None     # None: every account of the run
    validation: bool = True
    close_at: datetime | None = None
    insights: InsightSettings | None = None
    labels_in_store: bool = True                # False: labels only in the summary, not as an object

    def takes(self, account: str) -> bool:
        return self.accounts is None or account in self.accounts


@dataclasses.dataclass
class _UnitResult:
    """A unit's record count, per trail (records, bytes, files without bodies), and its records if kept."""

    unit: Unit
    count: int
    files: list[tuple[int, int, list[LogFile]]]
    records: list[dict] | None


_Output = tuple[TrailTarget, str | None, tuple[str, ...] | None]      # (target, org id, accounts)
_worker: tuple[UnitGenerator, PutsBehind, list[_Output], bool] | None = None


def _init_worker(options: RunOptions, open_store: Callable[[], ObjectStore], outputs: list[_Output],
                 keep: bool) -> None:
    global _worker
    gc.set_threshold(*GENERATION_GC_THRESHOLD)  # the worker process only generates
    _worker = (UnitGenerator(options), PutsBehind(open_store()), outputs, keep)


def _run_unit_in_worker(unit: Unit) -> _UnitResult:
    assert _worker is not None, "worker not initialised"
    result = _deliver_unit(*_worker, unit)
    _worker[1].drain()          # the unit's files are in the store when the main process sees them
    return result


def _deliver_unit(generator: UnitGenerator, store: PutsBehind, outputs: list[_Output], keep: bool,
                  unit: Unit) -> _UnitResult:
    """Makes a unit's records once and writes each trail's log files from them as windows close.

    Every trail's batcher of a region draws from the same rng seed (seed, unit, region), so a trail
    gets the files it would get alone; memory holds a few 5-minute windows, not the hour (plus the
    unit's records when ``keep``, for the caller's sink and Insights)."""
    seed = generator.options.seed

    def rng_for(region: str) -> random.Random:
        return random.Random(f"{seed}:{unit.index}:{region}:files")

    batches = [LogFileBatches(store, target, unit.account_id, org_id, rng_for)
               if accounts is None or unit.account_id in accounts else None
               for target, org_id, accounts in outputs]
    active = [b for b in batches if b is not None]
    records: list[dict] | None = [] if keep else None
    count = 0
    for record in generator.stream(unit):
        count += 1
        for batch in active:
            batch.add(record)
        if records is not None:
            records.append(record)
    return _UnitResult(unit, count, [(0, 0, []) if b is None else (b.records, b.size, b.finish()) for b in batches],
                       records)


def write_history(
    store: ObjectStore,
    trails: Sequence[HistoryTrail],
    options: RunOptions,
    *,
    keyring: Keyring,
    population: Population | None = None,
    open_store: Callable[[], ObjectStore] | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    sink: Callable[[list[dict]], None] | None = None,
) -> list[TrailSummary]:
    """Generates a planned run's records once and delivers them to every trail of ``trails`` (each
    takes its accounts' records) as log files and digests in ``store``; one summary per trail.

    ``sink`` gets the run's records in chunks of ``SINK_CHUNK``, in generation order (e.g. an event
    index), in the same pass. With ``open_store`` (a picklable callable returning an equivalent
    store) and more than one worker, units are generated and their files written by a process pool;
    digests, Insights and the sink are always fed here, in unit order, so the bytes do not depend on
    ``workers``.
    """
    plan = options.plan
    population = population or options.population()
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if plan.count >= PARALLEL_THRESHOLD else 1
    # IAM, STS and sign-in events land in us-east-1 whatever regions the run names, as AWS logs them
    chain_regions = tuple(dict.fromkeys((*plan.regions, "us-east-1")))
    writers, summaries = [], []
    for trail in trails:
        if not store.bucket_exists(trail.target.bucket):
            store.create_bucket(trail.target.bucket)
        writer = TrailWriter(store, trail.target, keyring, org_id=trail.org_id, validation=trail.validation)
        accounts = plan.accounts if trail.accounts is None else trail.accounts
        if trail.validation:
            for account in accounts:
                for region in chain_regions:
                    writer.open_chain(account, region, plan.start)
        writers.append(writer)
        summaries.append(TrailSummary(start=plan.start, end=plan.end, regions=chain_regions, accounts=accounts,
                                      organization_id=trail.org_id))
    detectors = [None if t.insights is None else InsightDetector(random.Random(f"{options.seed}:insights"), t.insights)
                 for t in trails]
    found: list[list[dict]] = [[] for _ in trails]
    chunk: list[dict] = []
    generator = UnitGenerator(options, population) if workers <= 1 or options.scenarios else None
    outputs = [(t.target, t.org_id, t.accounts) for t in trails]
    keep = sink is not None or any(detectors)
    began = time.perf_counter()
    # the sink's inserts overlap generation, in order (one thread)
    with Behind(threads=1, backlog=2) as sinking, \
            contextlib.closing(_unit_results(generator, store, options, outputs, keep, open_store, workers)) as results:
        for result in results:
            for writer, summary, (count, size, files) in zip(writers, summaries, result.files):
                writer.close_until(result.unit.start)
                writer.add_files(files)
                summary.records += count
                summary.log_files += len(files)
                summary.log_bytes += size
            for record in result.records or ():
                for trail, detector, insights in zip(trails, detectors, found):
                    if detector is not None and trail.takes(record["recipientAccountId"]):
                        insights += detector.add(record)
                if sink is not None:
                    chunk.append(record)
                    if len(chunk) >= SINK_CHUNK:
                        sinking.call(sink, chunk)
                        chunk = []
            if progress is not None:
                progress(result.count)
        if sink is not None and chunk:
            sinking.call(sink, chunk)
    for trail, writer, summary, detector, insights in zip(trails, writers, summaries, detectors, found):
        if trail.validation:
            if trail.close_at is not None:
                writer.finish(trail.close_at)
            else:
                writer.close_until(plan.end)
                writer.close_all()
            summary.digests = writer.digests
            summary.chain_ends = writer.chain_ends()
        if generator is not None and generator.scenario_runs:
            labels = [label for run in generator.scenario_runs if trail.takes(run.account_id) for label in run.labels]
            summary.labels = labels
            if labels and trail.labels_in_store:
                summary.labels_key = write_labels(store, trail.target.bucket, trail.target.prefix, labels)
        if detector is not None:
            insights += detector.flush()
            summary.insight_records, summary.insight_files = len(insights), _write_insights(
                store, trail, insights, random.Random(f"{options.seed}:insight-files"))
    for summary in summaries:
        summary.seconds = time.perf_counter() - began
    return summaries


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
    sink: Callable[[list[dict]], None] | None = None,
    labels_in_store: bool = True,
) -> TrailSummary:
    """Delivers a planned run's log files and digests into ``store`` under ``target`` (``write_history``
    with one trail taking every account).

    ``org_id`` puts every key under ``AWSLogs/<org_id>/`` (default: the population's organization when
    the run has several accounts); ``close_at``, ``insights`` and ``labels_in_store`` as ``HistoryTrail``.
    """
    population = population or options.population()
    if org_id is None:
        org_id = population.organization_id if len(options.plan.accounts) > 1 else None
    trail = HistoryTrail(target, org_id, validation=validation, close_at=close_at, insights=insights,
                         labels_in_store=labels_in_store)
    [summary] = write_history(store, [trail], options, keyring=keyring, population=population,
                              open_store=open_store, workers=workers, progress=progress, sink=sink)
    return summary


def _write_insights(store: ObjectStore, trail: HistoryTrail, found: list[dict], rng: random.Random) -> int:
    """Writes a trail's Insights records as Insights files; their number."""
    files = insight_files(found, rng, trail.target.prefix, trail.org_id)
    for insight_file in files:
        store.put(trail.target.bucket, insight_file.key, insight_file.body)
    return len(files)


def _unit_results(generator: UnitGenerator | None, store: ObjectStore, options: RunOptions,
                  outputs: list[_Output], keep: bool, open_store: Callable[[], ObjectStore] | None,
                  workers: int) -> Iterator[_UnitResult]:
    """The units' results in plan order, made here or by a pool of worker processes."""
    units = options.plan.units
    if workers <= 1 or open_store is None or len(units) < 2:
        generator = generator or UnitGenerator(options)
        with PutsBehind(store) as behind, _gc_threshold(GENERATION_GC_THRESHOLD):
            for unit in units:
                yield _deliver_unit(generator, behind, outputs, keep, unit)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(options, open_store, outputs, keep)) as pool:
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
    noisy_admin: bool = False,
    access_style: str = DEFAULT_ACCESS_STYLE,
) -> TrailSummary:
    """Generates a trail's records and delivers them as log files and signed digests to ``target``.

    ``target`` is a local directory or ``s3://bucket[/prefix]`` (the S3 endpoint at ``endpoint_url``,
    or the embedded store under ``data_dir`` without one); ``prefix`` goes after the target's own
    prefix, in front of ``AWSLogs/``. Signing keys are kept in ``data_dir``'s keyring. ``insights``
    (True: the default ``InsightSettings``) adds CloudTrail Insights files for unusual API rates.
    A local directory receives only the bucket's objects; scenario labels go beside it
    (``labels.labels_file``), a bucket gets them as the object ``[prefix/]labels.jsonl``.
    ``noisy_admin`` and ``access_style`` are ``plan_run``'s.
    """
    data_dir = Path(data_dir)
    problem = trail_name_problem(trail_name)
    if problem:
        raise GeneratorError(f"invalid trail name {trail_name!r}: {problem}")
    options, population = plan_run(
        count=count, start=start, end=end, seed=seed, accounts=accounts, regions=regions, now=now,
        scenarios=scenarios, noisy_admin=noisy_admin, access_style=access_style,
    )
    store, bucket_name, target_prefix = open_target(target, data_dir=data_dir, endpoint_url=endpoint_url,
                                                    bucket=bucket, fsync=False)
    key_prefix = "/".join(p.strip("/") for p in (target_prefix, prefix) if p.strip("/"))
    trail = TrailTarget(bucket=bucket_name, prefix=key_prefix, trail_name=trail_name,
                        home_region=home_region or options.plan.regions[0], compresslevel=compresslevel)
    directory = local_directory(target)
    summary = write_trail(
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
        labels_in_store=directory is None,
    )
    if directory is not None and summary.labels:
        summary.labels_file = write_labels_file(labels_file(directory), summary.labels)
    return summary
