"""ActivityModel: shares a unit's records out over personas and plans their sessions in time order."""
from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import accumulate

from cloudtrail_emulator.generators.activity.bursts import BurstPlanner
from cloudtrail_emulator.generators.activity.issuing import CredentialIssuer
from cloudtrail_emulator.generators.activity.personas import (
    BASE_SHARES,
    CALL_GAP,
    PERSONAS,
    SESSION_SIZE,
    STYLE_WEIGHTS,
    activity_weight,
    apportion,
    persona_of,
    persona_rhythm,
)
from cloudtrail_emulator.generators.activity.plan import Members, Session, UnitPlan, pick_weighted
from cloudtrail_emulator.generators.activity.twins import Twins
from cloudtrail_emulator.generators.activity.work import THROTTLE_BURST_CHANCE, SessionWork
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.records.identity import ROLE_SESSION_SECONDS

#: below this many seconds a unit is too short for sessions: the services' steady calls fill it
MIN_SESSION_SPAN = 60
#: a workload's calls per credential refresh (an instance profile or a function's role session)
WORKLOAD_CALLS_PER_CREDENTIAL = 60
#: how long before its first call in a unit a session that began earlier may have begun (seconds)
RESUMED_AGE = 3000
#: a session's last call comes at least this long before its credentials expire (SDKs refresh early)
EXPIRY_MARGIN = 60


class ActivityModel:
    """Plans and writes the records of (unit, region)s; one per RecordFactory."""

    def __init__(self, factory: RecordFactory, *, noisy_admin: bool = False):
        self.factory = factory
        self.population = factory.population
        self.noisy_admin = noisy_admin
        self.work = SessionWork(factory, {a.account_id: a.alias for a in self.population.accounts}, noisy_admin)
        self.issuer = CredentialIssuer(factory, self.work)
        self.twins = Twins(factory.catalog)
        self.bursts = BurstPlanner(factory, self.issuer, self.members)
        self._personas: dict[str, dict[str, tuple[list[Principal], list[float]]]] = {}

    def records(self, rng: random.Random, account: str, region: str, start: datetime, end: datetime,
                n: int) -> Iterator[dict]:
        """The n records of an account's region in [start, end), in time order."""
        span = int((end - start).total_seconds())
        plan = UnitPlan(rng, account, span, start)
        n -= self.bursts.plan(plan, n)      # deploy waves, automation loops, error storms (Insights)
        for persona, budget in self._budgets(account, start + (end - start) / 2, n, span):
            if budget:
                self._plan_persona(plan, persona, budget)
        self.twins.pair(plan)
        plan.items.sort(key=lambda item: (item[0], item[1]))
        return self._write(plan, region)

    def _write(self, plan: UnitPlan, region: str) -> Iterator[dict]:
        make, rng, account = self.factory.make, plan.rng, plan.account
        last, when = -1, plan.start
        for offset, _, session, entry, fail, values, patch in plan.items:
            if offset != last:
                last, when = offset, plan.start + timedelta(seconds=offset)
            record = make(rng, when, account, region, session.principal, entry, values=values, fail=fail)
            identity = session.identity
            if identity is not None and not entry.identity.startswith("service:"):
                ui = record["userIdentity"]
                record["userIdentity"] = identity if "accessKeyId" in ui else \
                    {k: identity.get(k, v) for k, v in ui.items()}
                if "invokedBy" in ui:   # a service called with the session's credentials
                    record["userIdentity"] = {**record["userIdentity"], "invokedBy": ui["invokedBy"]}
            if session.ip is not None and record["sourceIPAddress"] in session.principal.source_ips:
                record["sourceIPAddress"] = session.ip
            if patch is not None:
                patch(record, rng, when)
            yield record

    def _budgets(self, account: str, middle: datetime, n: int, span: int) -> list[tuple[str, int]]:
        """The unit's count shared out over the account's personas by share and rhythm."""
        table = self._persona_table(account)
        if span < MIN_SESSION_SPAN:   # too short for sessions: the services' steady calls fill it
            if "service" not in table:
                raise GeneratorError(f"account {account} has no AWS service principals")
            return [("service", n)]
        present = [p for p in PERSONAS if p in table]
        if not present:
            raise GeneratorError(f"account {account} has no principals in the population")
        shares = STYLE_WEIGHTS[self.population.access_style(account)][1]
        weights = [BASE_SHARES[p] * shares.get(p, 1.0) * persona_rhythm(p, middle) for p in present]
        return list(zip(present, apportion(n, weights)))

    def _persona_table(self, account: str) -> dict[str, tuple[list[Principal], list[float]]]:
        table = self._personas.get(account)
        if table is None:
            grouped: dict[str, list[Principal]] = {}
            style = self.population.access_style(account)
            for principal in self.population.principals_in(account):
                if principal.category == "root" and not self.noisy_admin:
                    continue   # root signs in only for the rare chores it alone can do: noisy admin activity
                if activity_weight(principal, style) > 0:
                    grouped.setdefault(persona_of(principal), []).append(principal)
            table = self._personas[account] = {
                persona: (members, list(accumulate(activity_weight(p, style) for p in members)))
                for persona, members in grouped.items()}
        return table

    def members(self, account: str, persona: str) -> Members | None:
        """The account's principals acting as ``persona``, weighted as the model draws them (None: none)."""
        return self._persona_table(account).get(persona)

    def _pick(self, plan: UnitPlan, persona: str) -> Principal:
        return pick_weighted(plan.rng, self._persona_table(plan.account)[persona])

    def _plan_persona(self, plan: UnitPlan, persona: str, budget: int) -> None:
        rng = plan.rng
        if persona == "service":
            work = self.work
            for _ in range(budget):
                principal = self._pick(plan, persona)
                entry = work.draw(rng, principal)
                plan.add(int(rng.random() * plan.span), self.issuer.own_session(principal), entry,
                         work.service_outcome(rng, entry))
            return
        if persona == "workload":
            self._plan_workloads(plan, budget)
            return
        mean = SESSION_SIZE[persona]
        while budget > 0:
            size = max(2, int(rng.gammavariate(2.0, mean / 2)))
            if size <= budget:
                self._plan_session(plan, persona, self._pick(plan, persona), size)
                budget -= size
                continue
            # the budget holds part of a session: its start (issuing calls) with the chance that
            # this part is its first, else calls of a session that began before; never a console
            # session (its sign-in is what detections pair console calls with)
            resumed = rng.random() * size >= budget and persona != "console"
            self._plan_session(plan, persona, self._pick(plan, persona), budget, resumed)
            budget = 0

    def _plan_workloads(self, plan: UnitPlan, budget: int) -> None:
        """Instances and functions: a credential refresh now and then, calls through the hour."""
        rng = plan.rng
        counts: dict[str, int] = {}
        chosen: dict[str, Principal] = {}
        for _ in range(budget):
            principal = self._pick(plan, "workload")
            counts[principal.key] = counts.get(principal.key, 0) + 1
            chosen[principal.key] = principal
        for key, count in counts.items():
            principal = chosen[key]
            issued = int(rng.random() * plan.span * 0.2)
            if rng.random() * WORKLOAD_CALLS_PER_CREDENTIAL < count:
                session = self.issuer.issue(plan, principal, issued, 1).session
                count -= 1
                first, end = issued + 1, plan.span
            else:   # credentials from before the unit: used until they expire
                began = self._resumed_start(plan, 0)
                session = self._resumed(plan, principal, began, count)
                first, end = 0, min(plan.span, began + ROLE_SESSION_SECONDS - EXPIRY_MARGIN)
            calls = [(self.work.draw(rng, principal), None, session.values, 0.0) for _ in range(count)]
            if count > 15 and rng.random() < THROTTLE_BURST_CHANCE["workload"]:
                burst = self.work.throttle_burst(rng, principal, session.values, min(count, rng.randint(10, 20)))
                calls[len(calls) - len(burst):] = burst
            times = sorted(first + int(rng.random() * (end - first)) for _ in calls)
            burst_at = times[len(times) // 2] if times else 0
            for when, (entry, fail, values, gap) in zip(times, calls):
                if gap:   # a burst keeps its own pace, from the middle of the hour
                    burst_at = min(end - 1, burst_at + int(rng.expovariate(1 / gap)))
                    when = burst_at
                plan.add(when, session, entry, fail, values)

    def _plan_session(self, plan: UnitPlan, persona: str, principal: Principal, size: int,
                      resumed: bool = False) -> None:
        """One person's or pipeline's session of exactly ``size`` records in this unit.

        A ``resumed`` session began before the unit (its issuing calls are not in it): all its
        records here are work.
        """
        rng, span = plan.rng, plan.span
        gap = CALL_GAP[persona]
        room = max(1, int(span - min(span * 0.9, size * (gap + 1))) - 6)
        clock = float(int(rng.random() * room))
        last = span - 1
        if resumed:
            began = self._resumed_start(plan, int(clock) + int(size * (gap + 1)))
            session = self._resumed(plan, principal, began, size)
            last = min(last, began + ROLE_SESSION_SECONDS - EXPIRY_MARGIN)
            count = 0
        else:
            steps = self.issuer.issue(plan, principal, int(clock), size)
            session, count = steps.session, steps.count
            clock = float(steps.last) + 1
        calls = self.work.session_calls(rng, persona, session, size - count)
        for entry, fail, values, call_gap in calls:
            plan.add(min(last, int(clock)), session, entry, fail, values)
            clock += 1 + rng.expovariate(1 / (call_gap or gap))

    @staticmethod
    def _resumed_start(plan: UnitPlan, until: int) -> int:
        """When a session that is still at work at offset ``until`` began: before the unit, at most
        RESUMED_AGE s earlier, and late enough that its one-hour credentials mostly outlive ``until``."""
        oldest = max(-RESUMED_AGE, until - ROLE_SESSION_SECONDS + EXPIRY_MARGIN)
        return -10 - int(plan.rng.random() * max(0, -10 - oldest))   # a CI chain takes a few s

    def _resumed(self, plan: UnitPlan, principal: Principal, began: int, size: int) -> Session:
        """A session of ``principal`` whose issuing calls began at offset ``began``, before the unit.

        Its issuing calls belong to an earlier hour of the trail: planned on a scratch plan, dropped.
        """
        scratch = UnitPlan(plan.rng, plan.account, plan.span, plan.start)
        return self.issuer.issue(scratch, principal, began, size).session
