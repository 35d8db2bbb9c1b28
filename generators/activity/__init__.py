"""The activity model: a unit's records as the work of personas, in sessions that hang together.

The plan fixes how many records an (hour, account, region) holds; this package decides who makes
them and how they connect (see ``docs/activity.md`` for the mixes and why):

- personas (developer, admin, console, ci, workload, service) share the count by their own daily
  and weekly rhythm, so nights belong to services and CI, working hours to people;
- people and CI work in sessions: the call that issues the credentials comes first (``sts
  AssumeRole``, ``AssumeRoleWithWebIdentity``, ``AssumeRoleWithSAML``, ``GetFederationToken``,
  ``signin ConsoleLogin``), its response carries a fresh ASIA key, and every later call of the
  session carries that key, the session's ARN and ``creationDate`` = the issuing call's time;
  IAM users' long-term AKIA keys work without sessions; AWS services keep a steady cadence;
- a session works on a few resources of the account's pools, may create one and describe, use
  and delete it later (same id), and may hit an AccessDenied or a throttling burst.

Everything is drawn from the unit's rng, or (for what several hours must agree on: sessions that
cross an hour, workload credential windows) from rngs seeded by the session's place in time, so a
unit's records depend only on (seed, unit, region) and the run's planned counts.

Modules: `model` (`ActivityModel`: budgets per persona, planning, writing), `personas` (who acts
as which persona, shares and rhythm), `issuing` (the calls that issue a session's credentials),
`issuing_records` (their requests and responses, session identities), `handover` (sessions that
cross an hour boundary, decided alike by both hours), `workloads` (instances' and functions' calls
in credential windows), `work` (a session's calls,
lifecycles, bursts, noisy admin chores), `bursts` (deploy waves, automation loops, error storms:
the bursts CloudTrail Insights sees), `portfolio` (each account's services and the calls each
persona draws), `plan` (sessions and the unit's planned calls), `twins` (requests logged as
two records sharing one requestID).
"""
from __future__ import annotations

from cloudtrail_emulator.generators.activity.issuing_records import sts_time
from cloudtrail_emulator.generators.activity.model import MIN_SESSION_SPAN, ActivityModel
from cloudtrail_emulator.generators.activity.personas import (
    BASE_SHARES,
    CALL_GAP,
    PERSONAS,
    SESSION_SIZE,
    persona_of,
    persona_rhythm,
)
from cloudtrail_emulator.generators.activity.plan import Patch
from cloudtrail_emulator.generators.activity.work import (
    ATTACK_INDICATORS,
    DENIAL_BURST_CHANCE,
    DENIAL_CODES,
    LIFECYCLE_CHANCE,
    LIFECYCLES,
    MAX_THROTTLED,
    THROTTLE_BURST_CHANCE,
    THROTTLE_CODES,
    WORKING_SET,
)

__all__ = ["ATTACK_INDICATORS", "BASE_SHARES", "CALL_GAP", "DENIAL_BURST_CHANCE", "DENIAL_CODES",
           "LIFECYCLES", "LIFECYCLE_CHANCE", "MAX_THROTTLED", "MIN_SESSION_SPAN", "PERSONAS", "SESSION_SIZE",
           "THROTTLE_BURST_CHANCE", "THROTTLE_CODES", "WORKING_SET", "ActivityModel", "Patch", "persona_of",
           "persona_rhythm", "sts_time"]
