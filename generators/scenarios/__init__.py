"""Attack scenarios with ground truth: a registry of ATT&CK-mapped techniques played inside the baseline.

``run_scenario`` plays one scenario at a chosen time, account, region and actor and returns a
``ScenarioRun`` (records in call order, one label per record). The tactic modules register their
scenarios on import.
"""
import random
from collections.abc import Sequence
from datetime import datetime

from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.scenarios import (credential_access, defense_evasion, discovery, exfiltration,  # noqa: F401
                                                      impact, initial_access, persistence, privilege_escalation)
from cloudtrail_emulator.generators.scenarios.actors import ACTOR_TYPES, cast
from cloudtrail_emulator.generators.scenarios.base import Attack, Scenario, ScenarioRun, all_scenarios, get_scenario
from cloudtrail_emulator.generators.scenarios.techniques import Technique
from cloudtrail_emulator.generators.scenarios import insight_bursts  # noqa: F401

__all__ = ["ACTOR_TYPES", "Scenario", "ScenarioRun", "Technique", "all_scenarios", "get_scenario", "run_scenario"]


def run_scenario(scenario: Scenario, factory: RecordFactory, rng: random.Random, start: datetime,
                 account_id: str, region: str, principal: Principal | None = None,
                 actor: str | None = None, regions: Sequence[str] = ()) -> ScenarioRun:
    """Plays ``scenario`` from ``start`` as an ``actor`` type (drawn when None) or around ``principal``.

    ``regions`` are those the trail logs (default: ``region`` alone): calls elsewhere leave no record.
    """
    cast_as = cast(factory.population, account_id, scenario, rng, actor, principal)
    run = ScenarioRun(scenario, account_id, region, cast_as.principal, start, cast_as.kind, tuple(regions))
    attack = Attack(factory, rng, run, cast_as)
    attack.open_session()
    scenario.play(attack)
    return run
