"""Workloads' calls in an hour: instance profiles and Lambda roles, in credential windows every hour sees alike.

A role's calls in a region fall into windows ``[phase + k * W, phase + (k + 1) * W)``: W is its
credentials' lifetime (``records.identity.session_seconds``: ~6 h for an instance profile, 1 h for
a function's role) less EXPIRY_MARGIN, the phase fixed per (seed, role, region). A window's
credentials are issued by ``ec2.amazonaws.com`` / ``lambda.amazonaws.com`` at its first call, in
whichever hour that call is; its key, creationDate and working set come from an rng seeded by the
window, so every hour that uses it writes the same session. A window that began before the run was
issued before the trail starts. Which roles call in an hour, and when, is ``Handover.workload_hour``.
"""
from __future__ import annotations

import random
from datetime import datetime, timezone

from cloudtrail_emulator.generators.activity.handover import EXPIRY_MARGIN, Handover, RegionHours
from cloudtrail_emulator.generators.activity.issuing import CredentialIssuer
from cloudtrail_emulator.generators.activity.plan import Session, UnitPlan
from cloudtrail_emulator.generators.activity.work import THROTTLE_BURST_CHANCE, SessionWork
from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.records.identity import session_seconds

#: a window's session and the epoch its window ends (its credentials are used no later)
Window = tuple[Session, int]


def window_seconds(principal: Principal) -> int:
    """How long a workload role's credential window lasts: its credentials' lifetime less EXPIRY_MARGIN."""
    return session_seconds(principal) - EXPIRY_MARGIN


class WorkloadPlanner:
    """Plans the workload calls of a (unit, region) and the issuing calls of the windows they open there."""

    def __init__(self, seed: int, issuer: CredentialIssuer, work: SessionWork, handover: Handover):
        self.seed = seed
        self.issuer = issuer
        self.work = work
        self.handover = handover
        self._phases: dict[tuple[str, str], int] = {}

    def plan(self, plan: UnitPlan, region: str, hours: RegionHours, room: int) -> int:
        """Plans the hour's workload calls, at most ``room`` records with the issuing calls (calls past
        it are left out, issuing calls never); returns the records planned."""
        start = int(plan.start.timestamp())
        counts = hours.at(start)
        if counts is None:
            return 0
        hour = self.handover.workload_hour(plan.account, region, start, *counts)
        sessions: dict[tuple[str, int], Window] = {}
        timed: list[tuple[Principal, list[tuple[int, Window]]]] = []
        planned = 0
        for calls in hour.values():
            principal = calls.principal
            uses = []
            for t in calls.times:
                k, window_start = self._window(principal, region, start + t)
                window = sessions.get((principal.key, k))
                if window is None:
                    window, issued = self._open(plan, principal, region, k, window_start, hours)
                    sessions[(principal.key, k)] = window
                    planned += issued
                uses.append((t, window))
            timed.append((principal, uses))
        left = max(0, room - planned)
        rng = plan.rng
        for principal, uses in timed:
            uses = uses[:left]
            left -= len(uses)
            burst_from = len(uses)
            if len(uses) > 15 and rng.random() < THROTTLE_BURST_CHANCE["workload"]:
                burst = self.work.throttle_burst(rng, principal, None,
                                                 min(len(uses), rng.randint(10, 20)))
                burst_from = len(uses) - len(burst)
            for t, (session, _) in uses[:burst_from]:
                plan.add(t, session, self.work.draw(rng, principal), None, session.values)
            if burst_from < len(uses):   # a busy loop keeps its own pace from one of the calls' times
                at, (session, until) = uses[int(rng.random() * len(uses))]
                clock = float(at)
                for entry, fail, _, gap in burst:
                    plan.add(min(int(clock), until - start - 1), session, entry, fail, session.values)
                    clock += 1 + rng.expovariate(1 / gap)
            planned += len(uses)
        return planned

    def _window(self, principal: Principal, region: str, epoch: int) -> tuple[int, int]:
        """(k, start epoch) of the principal's window holding ``epoch``."""
        length = window_seconds(principal)
        phase = self._phases.get((principal.key, region))
        if phase is None:
            phase = self._phases[(principal.key, region)] = \
                random.Random(f"{self.seed}:{principal.key}:{region}:phase").randrange(length)
        k = (epoch - phase) // length
        return k, phase + k * length

    def _open(self, plan: UnitPlan, principal: Principal, region: str, k: int, window_start: int,
              hours: RegionHours) -> tuple[Window, int]:
        """The window's session, planning its issuing calls if its first call is in this hour.

        Returns the window and the issuing calls planned here.
        """
        length = window_seconds(principal)
        first = self._first_use(plan.account, principal, region, window_start, length, hours)
        issued_at = window_start if first is None else first
        rng = random.Random(f"{self.seed}:{principal.key}:{region}:{k}:window")
        scratch = UnitPlan(rng, plan.account, length, datetime.fromtimestamp(issued_at, tz=timezone.utc))
        issued = self.issuer.issue(scratch, principal, 0, 1)
        window = (issued.session, window_start + length)
        start = int(plan.start.timestamp())
        if first is None or hours.hour_of(first) != start:
            return window, 0
        for offset, _, session, entry, fail, values, patch in scratch.items:
            plan.add(first - start + offset, session, entry, fail, values, patch)
        return window, len(scratch.items)

    def _first_use(self, account: str, principal: Principal, region: str, window_start: int, length: int,
                   hours: RegionHours) -> int | None:
        """Epoch of the window's first call; None when the window began before the run."""
        hour = hours.hour_of(window_start)
        if hour is None:
            return None
        while hour < window_start + length:
            counts = hours.at(hour)
            if counts is None:
                break
            calls = self.handover.workload_hour(account, region, hour, *counts).get(principal.key)
            for t in calls.times if calls is not None else ():
                if window_start <= hour + t < window_start + length:
                    return hour + t
            hour += counts[1]
        raise AssertionError("a window is opened by a call in it")
