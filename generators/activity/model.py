"""ActivityModel: shares a unit's records out over personas and plans their sessions in time order."""
from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import accumulate

from cloudtrail_emulator.generators.activity.issuing import CredentialIssuer
from cloudtrail_emulator.generators.activity.personas import (
    BASE_SHARES,
    CALL_GAP,
    PERSONAS,
    SESSION_SIZE,
    apportion,
    persona_of,
    persona_rhythm,
)
from cloudtrail_emulator.generators.activity.plan import UnitPlan
from cloudtrail_emulator.generators.activity.work import THROTTLE_BURST_CHANCE, SessionWork
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.records import RecordFactory

#: below this many seconds a unit is too short for sessions: the services' steady calls fill it
MIN_SESSION_SPAN = 60


class ActivityModel:
    """Plans and writes the records of (unit, region)s; one per RecordFactory."""

    def __init__(self, factory: RecordFactory):
        self.factory = factory
        self.population = factory.population
        self.work = SessionWork(factory, {a.account_id: a.alias for a in self.population.accounts})
        self.issuer = CredentialIssuer(factory, self.work)
        self._personas: dict[str, dict[str, tuple[list[Principal], list[float]]]] = {}

    def records(self, rng: random.Random, account: str, region: str, start: datetime, end: datetime,
                n: int) -> Iterator[dict]:
        """The n records of an account's region in [start, end), in time order."""
        span = int((end - start).total_seconds())
        plan = UnitPlan(rng, account, span, start)
        for persona, budget in self._budgets(account, start + (end - start) / 2, n, span):
            if budget:
                self._plan_persona(plan, persona, budget)
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
        weights = [BASE_SHARES[p] * persona_rhythm(p, middle) for p in present]
        return list(zip(present, apportion(n, weights)))

    def _persona_table(self, account: str) -> dict[str, tuple[list[Principal], list[float]]]:
        table = self._personas.get(account)
        if table is None:
            grouped: dict[str, list[Principal]] = {}
            for principal in self.population.principals_in(account):
                grouped.setdefault(persona_of(principal), []).append(principal)
            table = self._personas[account] = {
                persona: (members, list(accumulate(p.weight for p in members)))
                for persona, members in grouped.items()}
        return table

    def _pick(self, plan: UnitPlan, persona: str) -> Principal:
        members, cum = self._persona_table(plan.account)[persona]
        return members[bisect(cum, plan.rng.random() * cum[-1])]

    def _plan_persona(self, plan: UnitPlan, persona: str, budget: int) -> None:
        rng = plan.rng
        if persona == "service":
            for _ in range(budget):
                principal = self._pick(plan, persona)
                plan.add(int(rng.random() * plan.span), self.issuer.own_session(principal), self.work.draw(rng, principal))
            return
        if persona == "workload":
            self._plan_workloads(plan, budget)
            return
        mean = SESSION_SIZE[persona]
        while budget > 0:
            size = min(budget, max(2, int(rng.gammavariate(2.0, mean / 2))))
            self._plan_session(plan, persona, self._pick(plan, persona), size)
            budget -= size

    def _plan_workloads(self, plan: UnitPlan, budget: int) -> None:
        """Instances and functions: one credential refresh each, then calls through the hour."""
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
            session = self.issuer.issue(plan, principal, issued, 1).session
            calls = [(self.work.draw(rng, principal), None, session.values, 0.0) for _ in range(count - 1)]
            if count > 15 and rng.random() < THROTTLE_BURST_CHANCE["workload"]:
                burst = self.work.throttle_burst(rng, principal, session.values, min(count - 1, rng.randint(10, 20)))
                calls[len(calls) - len(burst):] = burst
            times = sorted(issued + 1 + int(rng.random() * (plan.span - issued - 1)) for _ in calls)
            burst_at = times[len(times) // 2] if times else 0
            for when, (entry, fail, values, gap) in zip(times, calls):
                if gap:   # a burst keeps its own pace, from the middle of the hour
                    burst_at = min(plan.span - 1, burst_at + int(rng.expovariate(1 / gap)))
                    when = burst_at
                plan.add(when, session, entry, fail, values)

    def _plan_session(self, plan: UnitPlan, persona: str, principal: Principal, size: int) -> None:
        """One person's or pipeline's session of exactly ``size`` records."""
        rng, span = plan.rng, plan.span
        gap = CALL_GAP[persona]
        room = max(1, int(span - min(span * 0.9, size * (gap + 1))) - 6)
        clock = float(int(rng.random() * room))
        steps = self.issuer.issue(plan, principal, int(clock), size)
        session = steps.session
        clock = float(steps.last) + 1
        calls = self.work.session_calls(rng, persona, session, size - steps.count)
        for entry, fail, values, call_gap in calls:
            plan.add(min(span - 1, int(clock)), session, entry, fail, values)
            clock += 1 + rng.expovariate(1 / (call_gap or gap))
