"""Generated records: a run's plan and the streaming generator of its records.

``generate()`` yields records, reproducibly: every hourly unit of every account draws from its own
rng seeded by (seed, unit, region), so the same seed and options give the same records whatever the
number of processes that make them (``generators.pipeline`` writes them as a trail).
"""
from __future__ import annotations

import dataclasses
import heapq
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

from cloudtrail_emulator.generators.access_styles import DEFAULT_ACCESS_STYLE
from cloudtrail_emulator.generators.activity import ActivityModel
from cloudtrail_emulator.generators.activity.handover import RegionHours
from cloudtrail_emulator.generators.catalog import load_catalog
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import Population, build_population
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.scenarios import ScenarioRun
from cloudtrail_emulator.generators.scenarios.plan import ScenarioSpec, as_spec, play_scenarios
from cloudtrail_emulator.generators.timeline import UNIT, Plan, Unit, check_regions, make_plan, resolve_range
from cloudtrail_emulator.generators.times import parse_time


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What a generation run makes: picklable, so worker processes rebuild the same generator."""

    seed: int
    accounts: tuple[str, ...] | int
    plan: Plan
    scenarios: tuple[ScenarioSpec, ...] = ()
    noisy_admin: bool = False    # add admins' noisy but benign chores (see docs/activity.md)
    access_style: str = DEFAULT_ACCESS_STYLE   # how people and pipelines reach AWS (ACCESS_STYLE_CHOICES)

    def population(self) -> Population:
        """The run's population, the one ``plan_run`` returned."""
        accounts = self.accounts if isinstance(self.accounts, int) else list(self.accounts)
        return build_population(self.seed, accounts, self.access_style)


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
    noisy_admin: bool = False,
    access_style: str = DEFAULT_ACCESS_STYLE,
) -> tuple[RunOptions, Population]:
    """Checks the options and plans the run; ``now`` (default: the wall clock) ends an open range.

    ``scenarios`` (names or ``ScenarioSpec``) are attacks played inside the baseline (see
    ``generators.scenarios``); ``scenario_runs`` gives their records and labels. ``noisy_admin``
    adds the admins' rare chores that detection rules flag (trail maintenance, Run Command, ...).
    ``access_style`` says how the organisation's people and pipelines reach AWS (see
    ``generators.access_styles``): its IAM users by default, as in the reference trails.
    """
    if isinstance(accounts, int) and accounts < 1:
        raise GeneratorError(f"accounts must be at least 1, not {accounts}")
    population = build_population(seed, accounts if isinstance(accounts, int) else list(accounts), access_style)
    start, end = resolve_range(count, start, end, now or datetime.now(timezone.utc))
    plan = make_plan(
        count=count,
        start=start,
        end=end,
        accounts=tuple(a.account_id for a in population.accounts),
        regions=check_regions(tuple(regions)),
        seed=seed,
    )
    accounts_arg = accounts if isinstance(accounts, int) else tuple(accounts)
    specs = tuple(as_spec(s) for s in scenarios)
    return RunOptions(seed, accounts_arg, plan, specs, noisy_admin, access_style), population


def scenario_runs(options: RunOptions, population: Population | None = None) -> list[ScenarioRun]:
    """The run's scenarios as played (records and labels), the same records the run's output holds."""
    return UnitGenerator(options, population).scenario_runs


class UnitGenerator:
    """Makes the records of the run's work units; one per process."""

    def __init__(self, options: RunOptions, population: Population | None = None):
        self.options = options
        self.population = population or options.population()
        self.factory = RecordFactory(self.population, load_catalog())
        self.activity = ActivityModel(self.factory, noisy_admin=options.noisy_admin)
        self.scenario_runs = play_scenarios(options.scenarios, options.plan, options.seed, self.factory)
        self.injected: dict[tuple[str, int], list[dict]] = defaultdict(list)
        self._region_hours: dict[tuple[str, str], RegionHours] = {}
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
        return self.activity.records(rng, unit.account_id, region, unit.start, unit.end, n,
                                     self._hours(unit.account_id, region))

    def _hours(self, account: str, region: str) -> RegionHours:
        """The planned (records, span) of each hour of the run for one account and region."""
        hours = self._region_hours.get((account, region))
        if hours is None:
            plan = self.options.plan
            hours = self._region_hours[(account, region)] = RegionHours(int(plan.start.timestamp()), tuple(
                (dict(u.counts)[region], int((u.end - u.start).total_seconds()))
                for u in plan.units if u.account_id == account))
        return hours


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
    noisy_admin: bool = False,
    access_style: str = DEFAULT_ACCESS_STYLE,
) -> Iterator[dict]:
    """Yields realistic CloudTrail records, hour by hour; memory does not grow with ``count``.

    Without ``end`` the range ends at ``now`` (default: the wall clock); without ``start`` it spans
    one day. Pin ``start`` and ``end`` for reproducible output. ``scenarios`` adds attacks (their
    records come on top of ``count``; ``scenario_runs(plan_run(...)[0])`` gives their labels).
    """
    options, population = plan_run(
        count=count, start=start, end=end, seed=seed, accounts=accounts, regions=regions, now=now,
        scenarios=scenarios, noisy_admin=noisy_admin, access_style=access_style,
    )
    generator = UnitGenerator(options, population)
    for unit in options.plan.units:
        yield from generator.stream(unit)
