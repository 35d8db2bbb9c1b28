"""ActivityModel: shares a unit's records out over personas and plans their sessions in time order."""
from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import accumulate

from cloudtrail_emulator.generators.activity.bursts import BurstPlanner
from cloudtrail_emulator.generators.activity.handover import HOUR, Crossing, Handover, RegionHours
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
from cloudtrail_emulator.generators.activity.work import SessionWork
from cloudtrail_emulator.generators.activity.workloads import WorkloadPlanner
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.volumes import VolumeModel

#: below this many seconds a unit is too short for sessions: the services' steady calls fill it
MIN_SESSION_SPAN = 60


class ActivityModel:
    """Plans and writes the records of (unit, region)s; one per RecordFactory."""

    def __init__(self, factory: RecordFactory, *, noisy_admin: bool = False):
        self.factory = factory
        self.population = factory.population
        self.noisy_admin = noisy_admin
        self.work = SessionWork(factory, {a.account_id: a.alias for a in self.population.accounts}, noisy_admin)
        self.issuer = CredentialIssuer(factory, self.work)
        self.twins = Twins(factory.catalog)
        self.volumes = VolumeModel(self.population.seed)    # the accounts' office hours
        self.bursts = BurstPlanner(factory, self.issuer, self.members, self.volumes)
        self.handover = Handover(self.population.seed, self.issuer, self.budgets, self.members)
        self.workloads = WorkloadPlanner(self.population.seed, self.issuer, self.work, self.handover)
        self._personas: dict[str, dict[str, tuple[list[Principal], list[float]]]] = {}

    def records(self, rng: random.Random, account: str, region: str, start: datetime, end: datetime,
                n: int, hours: RegionHours) -> Iterator[dict]:
        """The n records of an account's region in [start, end), in time order; ``hours`` holds the
        planned counts of the region's hours (sessions that cross hours are decided from them)."""
        span = int((end - start).total_seconds())
        plan = UnitPlan(rng, account, span, start)
        left = n - self.bursts.plan(plan, n)      # deploy waves, automation loops, error storms (Insights)
        weights = self._weights(account, start + (end - start) / 2, span)
        inbound, outbound = self._crossings(account, region, start, n, span, hours)
        issuing = sum(len(c.issuing) for c in outbound)      # written whatever the hour holds
        left -= issuing
        if "workload" in weights:
            left -= self.workloads.plan(plan, region, hours, left)
        # crossings need 64 records on both sides, a burst takes at most half of n (and its issuing
        # calls), a workload hour's issuing calls a fraction of its share: this cannot go below zero
        assert left >= 0, f"unit {account} {start} {region}: {n} records cannot hold its issuing calls"
        parts: dict[str, int] = {}
        room = left
        for crossing, later in [(c, True) for c in inbound] + [(c, False) for c in outbound]:
            calls = min(crossing.after if later else crossing.before, room)
            room -= calls
            parts[crossing.persona] = parts.get(crossing.persona, 0) + calls + (0 if later else len(crossing.issuing))
            self._plan_crossing(plan, crossing, calls, later)
        others = [p for p in weights if p != "workload"]
        shares = dict(zip(others, apportion(left + issuing, [weights[p] for p in others])))
        for persona, budget in self._whole_sessions(plan.rng, _less(shares, parts)).items():
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

    def _weights(self, account: str, middle: datetime, span: int) -> dict[str, float]:
        """The weight of each of the account's personas at a moment: share, access style and rhythm."""
        table = self._persona_table(account)
        if span < MIN_SESSION_SPAN:   # too short for sessions: the services' steady calls fill it
            if "service" not in table:
                raise GeneratorError(f"account {account} has no AWS service principals")
            return {"service": 1.0}
        present = [p for p in PERSONAS if p in table]
        if not present:
            raise GeneratorError(f"account {account} has no principals in the population")
        shares = STYLE_WEIGHTS[self.population.access_style(account)][1]
        hour = self.volumes.office_hour(account, middle)
        return {p: BASE_SHARES[p] * shares.get(p, 1.0) * persona_rhythm(p, middle, hour) for p in present}

    def budgets(self, account: str, middle: datetime, n: int, span: int) -> dict[str, int]:
        """An hour's n records shared out over the account's personas (before bursts)."""
        weights = self._weights(account, middle, span)
        return dict(zip(weights, apportion(n, list(weights.values()))))

    @staticmethod
    def _whole_sessions(rng: random.Random, budgets: dict[str, int]) -> dict[str, int]:
        """Sessions are decided first: the records of the personas whose share of the hour is smaller
        than their sessions are pooled and go to whole sessions, each to a persona drawn by its share
        (the last one cut to what is left). Their shares hold on average, and a small run has fewer
        sessions, not smaller ones, so its issuing calls stay in proportion."""
        small = [p for p, b in budgets.items() if 0 < b < SESSION_SIZE.get(p, 0)]
        if len(small) < 2:
            return budgets
        out = dict(budgets)
        pool = sum(budgets[p] for p in small)
        weights = [budgets[p] for p in small]
        for persona in small:
            out[persona] = 0
        while pool > 0:
            persona = rng.choices(small, weights=weights)[0]
            size = min(pool, max(2, int(rng.gammavariate(2.0, SESSION_SIZE[persona] / 2))))
            out[persona] += size
            pool -= size
        return out

    def _crossings(self, account: str, region: str, start: datetime, n: int, span: int,
                   hours: RegionHours) -> tuple[list[Crossing], list[Crossing]]:
        """The sessions under way at the hour's start and at its end (the first hour's come from before
        the run, as if the hour before held as many records; the last hour's end crosses into nothing)."""
        epoch = int(start.timestamp())
        here = (n, span)
        before = hours.at(epoch - HOUR) or (n, HOUR)
        after = hours.at(epoch + span)
        inbound = self.handover.crossings(account, region, start, before, here)
        outbound = self.handover.crossings(account, region, start + timedelta(seconds=span), here, after) \
            if after is not None else []
        return inbound, outbound

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
        mean = SESSION_SIZE[persona]
        sizes: list[int] = []
        while budget > 0:   # sessions are drawn whole; what cannot hold another goes to the last one
            size = max(2, int(rng.gammavariate(2.0, mean / 2)))
            if size > budget and sizes:
                sizes[-1] += budget
                break
            sizes.append(min(size, budget))
            budget -= sizes[-1]
        for size in sizes:
            self._plan_session(plan, persona, self._pick(plan, persona), size)

    def _plan_session(self, plan: UnitPlan, persona: str, principal: Principal, size: int) -> None:
        """One person's or pipeline's session of exactly ``size`` records in this unit."""
        rng, span = plan.rng, plan.span
        gap = CALL_GAP[persona]
        room = max(1, int(span - min(span * 0.9, size * (gap + 1))) - 6)
        steps = self.issuer.issue(plan, principal, int(rng.random() * room), size)
        self._plan_calls(plan, persona, steps.session, size - steps.count, steps.last + 1, span - 1)

    def _plan_calls(self, plan: UnitPlan, persona: str, session: Session, k: int, clock: float, last: int) -> None:
        """k calls of a session from offset ``clock`` at its persona's pace, none after ``last``."""
        rng, gap = plan.rng, CALL_GAP[persona]
        for entry, fail, values, call_gap in self.work.session_calls(rng, persona, session, k):
            plan.add(min(last, int(clock)), session, entry, fail, values)
            clock += 1 + rng.expovariate(1 / (call_gap or gap))

    def _plan_crossing(self, plan: UnitPlan, crossing: Crossing, calls: int, later: bool) -> None:
        """A crossing session's part in this hour: its ``calls`` here, after its issuing calls in the
        earlier hour; from the hour's start, before its credentials expire, in the later one."""
        if later:
            self._plan_calls(plan, crossing.persona, crossing.session, calls, plan.rng.random() * 30,
                             min(plan.span - 1, crossing.expires))
            return
        for offset, _, session, entry, fail, values, patch in crossing.issuing:
            plan.add(plan.span + offset, session, entry, fail, values, patch)
        self._plan_calls(plan, crossing.persona, crossing.session, calls, plan.span + crossing.last_issuing + 1,
                         plan.span - 1)


def _less(budgets: dict[str, int], parts: dict[str, int]) -> dict[str, int]:
    """``budgets`` less what each persona already planned; a persona's excess comes off the largest others."""
    out = {p: b - parts.get(p, 0) for p, b in budgets.items()}
    owed = -sum(b for b in out.values() if b < 0)
    for persona in sorted(out, key=lambda p: (-out[p], p)):
        if out[persona] < 0:
            out[persona] = 0
        elif owed:
            taken = min(owed, out[persona])
            out[persona] -= taken
            owed -= taken
    return out
