"""Sessions that outlive their hour: decided alike by every hour they touch, so each keeps its issuing call.

Work units are made independently (``generators.timeline``), so a session that begins in one hour
and is used in a later one must come from what both hours can compute: the hours' planned counts
(``RegionHours``) and rngs seeded by the session's place in time, never by a unit's rng. The hour
that holds a session's start writes its issuing calls; later hours use the same key, creationDate,
address and working set. No record uses a session key whose issuing call falls inside the run and
is not written (the run's first hours resume sessions begun before the trail starts, as any trail
cut in time does).

- People and pipelines (developer, admin and ci personas; never console sessions, whose sign-in
  detections pair with their calls): at each hour boundary at most one session per persona is
  under way, with the chance that one of that persona's sessions spans a given moment.
  ``crossings`` draws them; the earlier hour writes the issuing calls and first calls, the later
  hour the rest, before the credentials expire.
- Workloads (instance profiles, Lambda roles): each role's calls in a region fall into credential
  windows of fixed length and phase (`WorkloadSessions`), a window's credentials issued at its
  first call, by the hour that holds that call. Which roles call and when is drawn per hour from
  an rng of its own (``workload_hour``), so every hour can tell whether an earlier one used a window.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from datetime import datetime, timedelta, timezone

from cloudtrail_emulator.generators.activity.issuing import CredentialIssuer
from cloudtrail_emulator.generators.activity.personas import CALL_GAP, SESSION_SIZE
from cloudtrail_emulator.generators.activity.plan import Item, Members, Session, UnitPlan, pick_weighted
from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.records.identity import session_seconds
from cloudtrail_emulator.generators.timeline import UNIT

#: the records of each persona in an hour of an account (middle of the hour, n, span s), before bursts
Budgets = Callable[[str, datetime, int, int], dict[str, int]]

#: the personas whose sessions may cross an hour boundary
CROSSING_PERSONAS = ("developer", "admin", "ci")
#: how long before the boundary a crossing session may have begun (seconds)
CROSSING_AGE = 3000
#: a session's last call comes at least this long before its credentials expire (SDKs refresh early)
EXPIRY_MARGIN = 60
#: hours with fewer records than this on either side of a boundary let no session cross it
MIN_CROSSING_RECORDS = 64
HOUR = int(UNIT.total_seconds())
#: an hour's workload calls per role calling in it, at least (a quiet hour's calls come from few roles)
CALLS_PER_ROLE = 12
#: credential windows a workload role may open in one hour (its windows are shorter than an hour)
WINDOWS_PER_HOUR = 2
#: memoised crossings and workload hours kept per process (units of one account come in hour order)
_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class Crossing:
    """A session under way at an hour boundary: offsets are from the later hour's start."""

    persona: str
    session: Session
    issuing: tuple[Item, ...]    # its issuing calls (negative offsets: before the boundary)
    last_issuing: int            # offset of its last issuing call
    before: int                  # its work calls in the earlier hour, after the issuing calls
    after: int                   # its calls in the later hour
    expires: int                 # offset of its credentials' expiry, less EXPIRY_MARGIN


@dataclass(frozen=True)
class RegionHours:
    """The planned records of each hour of one (account, region) in the run: what neighbours see."""

    start: int                              # epoch of the run's first hour
    counts: tuple[tuple[int, int], ...]     # (records, span s) of each hour, in order

    def at(self, epoch: int) -> tuple[int, int] | None:
        """(records, span) of the hour starting at ``epoch``; None if no hour of the run starts then."""
        index, rest = divmod(epoch - self.start, HOUR)
        return self.counts[index] if not rest and 0 <= index < len(self.counts) else None

    def hour_of(self, epoch: int) -> int | None:
        """Start of the run's hour holding ``epoch``; None outside the run."""
        index = (epoch - self.start) // HOUR
        return self.start + index * HOUR if 0 <= index < len(self.counts) else None


class _Memo(dict):
    """A dict that makes what it lacks and forgets its oldest entries past _CACHE_SIZE."""

    def get_or_make(self, key: object, make: Callable[[], Any]) -> Any:
        found = self.get(key)
        if found is None:
            if len(self) >= _CACHE_SIZE:
                del self[next(iter(self))]
            found = self[key] = make()
        return found


class Handover:
    """Decides the sessions that cross hour boundaries, for every hour alike (one per ActivityModel)."""

    def __init__(self, seed: int, issuer: CredentialIssuer, budgets: Budgets,
                 members: Callable[[str, str], Members | None]):
        self.seed = seed
        self.issuer = issuer
        self.budgets = budgets
        self.members = members
        self._crossings = _Memo()
        self._hours = _Memo()

    def crossings(self, account: str, region: str, boundary: datetime, before: tuple[int, int],
                  after: tuple[int, int]) -> list[Crossing]:
        """The sessions under way at ``boundary``, given the (n, span) of the hours on each side."""
        return self._crossings.get_or_make((account, region, boundary, before, after),
                                           lambda: self._draw_crossings(account, region, boundary, before, after))

    def _draw_crossings(self, account: str, region: str, boundary: datetime, before: tuple[int, int],
                        after: tuple[int, int]) -> list[Crossing]:
        if min(before[0], after[0]) < MIN_CROSSING_RECORDS:
            return []
        earlier = self.budgets(account, boundary - timedelta(seconds=before[1] // 2), *before)
        later = self.budgets(account, boundary + timedelta(seconds=after[1] // 2), *after)
        rng = random.Random(f"{self.seed}:{account}:{region}:{int(boundary.timestamp())}:crossing")
        out = []
        for persona in CROSSING_PERSONAS:
            members = self.members(account, persona)
            budget = min(earlier.get(persona, 0), later.get(persona, 0))
            gap = CALL_GAP[persona]
            # sessions an hour x how long one lasts = how many are under way at a moment
            if members is None or budget < 4 or rng.random() >= min(0.8, budget * (gap + 1) / HOUR):
                continue
            principal = pick_weighted(rng, members)
            size = max(4, int(rng.gammavariate(2.0, SESSION_SIZE[persona] / 2)))
            later_part = min(later[persona] // 2, max(1, int(size * rng.random())))
            earlier_part = min(earlier[persona] // 2, size - later_part)
            began = -60 - min(CROSSING_AGE, int(earlier_part * (gap + 1)) + int(rng.random() * 60))
            scratch = UnitPlan(rng, account, after[1], boundary)   # failed sign-ins first take <= 48 s
            issued = self.issuer.issue(scratch, principal, began, size)
            out.append(Crossing(persona, issued.session, tuple(scratch.items), issued.last,
                                max(0, earlier_part - issued.count), later_part,
                                issued.last + session_seconds(principal) - EXPIRY_MARGIN))
        return out

    def workload_hour(self, account: str, region: str, start: int, n: int, span: int) -> dict[str, WorkloadCalls]:
        """The workload roles that call in an hour (its start epoch, records, span) and when, from the
        hour's own rng: offsets sorted. Each role's calls and the (at most two) credential windows
        they may open fit in the workload persona's share of the hour."""
        return self._hours.get_or_make((account, region, start, n, span),
                                       lambda: self._draw_workload_hour(account, region, start, n, span))

    def _draw_workload_hour(self, account: str, region: str, start: int, n: int,
                            span: int) -> dict[str, WorkloadCalls]:
        at = datetime.fromtimestamp(start + span // 2, tz=timezone.utc)
        budget = self.budgets(account, at, n, span).get("workload", 0)
        members = self.members(account, "workload")
        calls: dict[str, WorkloadCalls] = {}
        if not budget or members is None:
            return calls
        rng = random.Random(f"{self.seed}:{account}:{region}:{start}:workloads")
        roles = max(1, budget // CALLS_PER_ROLE)
        cost = 0
        while True:
            principal = pick_weighted(rng, members)
            found = calls.get(principal.key)
            for _ in range(8):   # a quiet hour's calls come from its few busy roles
                if found is not None or len(calls) < roles:
                    break
                principal = pick_weighted(rng, members)
                found = calls.get(principal.key)
            else:
                found = next(iter(calls.values()))
            cost += 1 if found is not None else 1 + WINDOWS_PER_HOUR
            if cost > budget:
                break
            if found is None:
                found = calls[principal.key] = WorkloadCalls(principal, [])
            found.times.append(int(rng.random() * span))
        for found in calls.values():
            found.times.sort()
        return calls


@dataclass(slots=True)
class WorkloadCalls:
    """A workload role's calls in one hour of a region: their offsets from the hour's start."""

    principal: Principal
    times: list[int]
