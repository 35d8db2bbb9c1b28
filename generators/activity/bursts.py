"""Bursts: the minutes in which one API is called far more than usual, as real accounts have them.

CloudTrail Insights (``generators.insights``) fires on a minute with at least 10 write calls (or
errors) of one API at 10 times its baseline. Ordinary sessions never do that; real accounts do,
now and then:

- a deploy wave: a pipeline run pushing one change to many resources (parameters, task
  definitions, function versions, target registrations, tags): 12-40 write calls of one API,
  ~2.5 s apart, by a CI principal on weekday working hours (the account's, its office shift applied);
- an automation loop: a workload repeating one write call (tagging, log streams, snapshots,
  network interfaces) 12-30 times in a minute or two, at any hour;
- an error storm: a workload whose permission was just taken away (a key policy, an IAM change)
  retrying one call that now fails with the service's denial code, 15-45 times, ~2 s apart.

A burst is planned for a (unit, region) with its kind's chance (``BURSTS``), from the unit's rng,
before the personas share the rest of the unit's count: its records are part of the count, so
``--count`` stays exact, and a unit still depends only on (seed, unit, region). A unit with fewer
than twice the burst's calls gets none. The chances give a handful of bursts a week in a
three-account, two-region run; not every burst makes an Insights event (a burst cut by a minute
mark, an API that is busy anyway).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cloudtrail_emulator.generators.activity.issuing import CredentialIssuer
from cloudtrail_emulator.generators.activity.plan import Members, UnitPlan, pick_weighted
from cloudtrail_emulator.generators.catalog import CatalogEntry
from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.volumes import OFFICE_CURVE, VolumeModel


@dataclass(frozen=True)
class BurstKind:
    """One kind of burst: who makes it, how often, which calls and how they fail."""

    name: str
    persona: str                                  # "ci" or "workload"
    chance: float                                 # per (unit, region) hour, before the hour's shape
    office_hours: bool                            # shaped by the office curve and absent on weekends
    calls: tuple[int, int]                        # calls in the burst (inclusive range)
    gap: float                                    # mean seconds between two calls, beyond 1 s
    apis: tuple[tuple[str, str, str | None], ...]  # (service, eventName, errorCode or None)
    pinned: bool                                  # all calls on the session's resources (else varied)


BURSTS = (
    BurstKind("deploy-wave", "ci", 0.006, True, (12, 40), 1.5, (
        ("ssm", "PutParameter", None), ("ecs", "RegisterTaskDefinition", None),
        ("lambda", "PublishVersion20150331", None), ("lambda", "UpdateFunctionCode20150331v2", None),
        ("elasticloadbalancing", "RegisterTargets", None), ("autoscaling", "UpdateAutoScalingGroup", None),
        ("ec2", "CreateLaunchTemplateVersion", None)), pinned=False),
    BurstKind("automation-loop", "workload", 0.0015, False, (12, 30), 2.5, (
        ("ec2", "CreateTags", None), ("logs", "CreateLogStream", None), ("ec2", "CreateSnapshot", None),
        ("ec2", "CreateNetworkInterface", None), ("logs", "PutRetentionPolicy", None)), pinned=False),
    BurstKind("error-storm", "workload", 0.0015, False, (15, 45), 1.0, (
        ("kms", "Decrypt", "AccessDeniedException"), ("kms", "GenerateDataKey", "AccessDeniedException"),
        ("ssm", "GetParameter", "AccessDeniedException"), ("ssm", "GetParameters", "AccessDeniedException"),
        ("ec2", "DescribeInstances", "Client.UnauthorizedOperation")), pinned=True),
)


class BurstPlanner:
    """Plans a (unit, region)'s burst, if it gets one."""

    def __init__(self, factory: RecordFactory, issuer: CredentialIssuer,
                 members: Callable[[str, str], Members | None], volumes: VolumeModel):
        self.issuer = issuer
        self.volumes = volumes          # the accounts' office hours
        self.members = members          # the activity model's principals of a persona, weighted
        self.kinds = [(kind, [(factory.catalog.get(f"{service}.amazonaws.com", name), code)
                              for service, name, code in kind.apis]) for kind in BURSTS]

    def plan(self, plan: UnitPlan, n: int) -> int:
        """Plans at most one burst into ``plan``; returns the records it planned (0 without a burst)."""
        rng = plan.rng
        draw = rng.random()
        office = OFFICE_CURVE[self.volumes.office_hour(plan.account, plan.start)] if plan.start.weekday() < 5 else 0.0
        for kind, apis in self.kinds:
            chance = kind.chance * (office if kind.office_hours else 1.0)
            if draw >= chance:
                draw -= chance
                continue
            calls = rng.randint(*kind.calls)
            length = int(calls * (1 + kind.gap)) + 30       # seconds the burst and its credentials take
            members = self.members(plan.account, kind.persona)
            if members is None or n < 2 * calls or plan.span < 2 * length:
                return 0
            entry, code = apis[int(rng.random() * len(apis))]
            return self._plan_burst(plan, kind, pick_weighted(rng, members), entry, code, calls, length)
        return 0

    def _plan_burst(self, plan: UnitPlan, kind: BurstKind, principal: Principal, entry: CatalogEntry,
                    code: str | None, calls: int, length: int) -> int:
        rng, span = plan.rng, plan.span
        at = int(rng.random() * (span - length))
        issued = self.issuer.issue(plan, principal, at, calls + 4)
        session = issued.session
        values = session.values if kind.pinned or session.values is None else \
            {"callerArn": session.values["callerArn"]}
        clock = float(issued.last + 1 + rng.randint(1, 20))
        for _ in range(calls):
            plan.add(min(span - 1, int(clock)), session, entry, code or False, values)
            clock += 1 + rng.expovariate(1 / kind.gap)
        return issued.count + calls
