"""Placing scenarios in a run: which time, account, region and principal each one plays at.

Each requested scenario draws from its own rng seeded by (run seed, position, name), so a run's
scenario records do not depend on the baseline's records, on the other scenarios or on workers.
Without a time, a scenario starts at a moment drawn from that rng such that it ends inside the range.
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.scenarios import ScenarioRun, get_scenario, run_scenario
from cloudtrail_emulator.generators.scenarios.actors import choose_kind
from cloudtrail_emulator.generators.timeline import Plan, utc
from cloudtrail_emulator.generators.times import format_time, parse_time


@dataclass(frozen=True)
class ScenarioSpec:
    """One scenario to play in a run; None fields are drawn from the seed (account: the first)."""

    name: str                          # a scenario's name or the Stratus Red Team id it emulates
    at: datetime | None = None
    principal: str | None = None      # a Principal.key of the population
    account_id: str | None = None
    actor: str | None = None          # an actor type (actors.ACTOR_TYPES)


def as_spec(value: str | ScenarioSpec) -> ScenarioSpec:
    """A spec from a name or a spec: the scenario's own name, its time made UTC, its actor type checked."""
    spec = value if isinstance(value, ScenarioSpec) else ScenarioSpec(value)
    scenario = get_scenario(spec.name)
    if spec.actor is not None:
        choose_kind(scenario, random.Random(0), spec.actor)
    return dataclasses.replace(spec, name=scenario.name, at=utc(spec.at) if spec.at else None)


def play_scenarios(specs: tuple[ScenarioSpec, ...], plan: Plan, seed: int,
                   factory: RecordFactory) -> list[ScenarioRun]:
    """Plays every spec inside the plan's range; GeneratorError when one cannot fit."""
    runs = []
    for position, spec in enumerate(specs):
        scenario = get_scenario(spec.name)
        account = spec.account_id or plan.accounts[0]
        if account not in plan.accounts:
            raise GeneratorError(f"scenario {spec.name}: account {account} is not in the run")
        principal = None
        if spec.principal is not None:
            principal = next((p for p in factory.population.principals_in(account) if p.key == spec.principal), None)
            if principal is None:
                raise GeneratorError(f"scenario {spec.name}: no principal {spec.principal!r} in account {account}")
        region = plan.regions[0]
        rng_seed = f"{seed}:scenario:{position}:{scenario.name}"

        def play(start: datetime) -> ScenarioRun:
            return run_scenario(scenario, factory, random.Random(rng_seed), start, account, region, principal,
                                spec.actor, plan.regions)

        trial = play(plan.start)
        duration = _last_time(trial) - plan.start
        if spec.at is not None:
            start = spec.at
            if start < plan.start or start + duration >= plan.end:
                raise GeneratorError(f"scenario {spec.name} ({duration.total_seconds():.0f} s) at "
                                     f"{format_time(start)} does not fit in the run's range")
        else:
            room = int((plan.end - plan.start - duration).total_seconds()) - 1
            if room < 0:
                raise GeneratorError(f"scenario {spec.name} needs {duration.total_seconds():.0f} s; the range is shorter")
            start = plan.start + timedelta(seconds=random.Random(rng_seed + ":start").randint(0, room))
        runs.append(play(start))
    return runs


def _last_time(run: ScenarioRun) -> datetime:
    return parse_time(run.records[-1]["eventTime"])
