"""Attack scenarios with ground truth: a registry of ATT&CK-mapped techniques played inside the baseline.

``run_scenario`` plays one scenario at a chosen time, account, region and principal and returns a
``ScenarioRun`` (records in call order, one label per record). The tactic modules register their
scenarios on import.
"""
import random
from datetime import datetime

from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.scenarios import (credential_access, defense_evasion, discovery, exfiltration,  # noqa: F401
                                  impact, initial_access, persistence, privilege_escalation)
from cloudtrail_emulator.generators.scenarios import insight_bursts  # noqa: F401
from cloudtrail_emulator.generators.scenarios.base import (Attack, Scenario, ScenarioRun, Technique, all_scenarios,
                                       default_principal, get_scenario)

__all__ = ["Scenario", "ScenarioRun", "Technique", "all_scenarios", "get_scenario", "run_scenario"]


def run_scenario(scenario: Scenario, factory: RecordFactory, rng: random.Random, start: datetime,
                 account_id: str, region: str, principal: Principal | None = None) -> ScenarioRun:
    """Plays ``scenario`` from ``start`` as ``principal`` (default: one of its preferred kind)."""
    who = principal or default_principal(factory.population, account_id, scenario, rng)
    run = ScenarioRun(scenario, account_id, region, who, start)
    scenario.play(Attack(factory, rng, run))
    return run
