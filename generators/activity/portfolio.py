"""Service portfolios: which services an account uses and which of their calls each persona makes.

A real account uses a few dozen services, decided by its workloads. Every account has the core
services (`CORE`); it runs one or two workload profiles (`PROFILES`: a web application, a data
platform, a serverless application, containers, delivery pipelines) and, the organisation's
management account always and others sometimes, the security and governance tooling
(`SECURITY`); its admins explore a few more services in the console (`EXPLORED`). All of it is
drawn once per (seed, account), so an account keeps its character across units and runs.

Within a service, the calls the catalog tunes (``w`` in ``catalog.json``) keep their weights; the
service's other calls form its long tail, ranked once per account (Zipf, ``TAIL_EXPONENT``), so a
few of them recur and most never show. Who draws what (see ``docs/activity.md``):

- workloads: each instance or function a few calls of its own, from the tuned calls of the
  account's services and the heads of its profile services;
- developers: those and a thin tail of their services' other calls;
- console users: as developers, with a thicker read-only tail (the console describes a lot);
- CI: as developers, with the tail's writes (a Terraform apply provisions and destroys);
- admins: everything, with the explored services and the control-plane writes.
- AWS services: the calls the catalog says they make (``by``), as before.

Calls that issue credentials are never drawn: sessions plan them (`issuing`). Control-plane
writes (IAM, Organizations, CloudTrail, Config, ...) belong to admins and CI.
"""
from __future__ import annotations

import random
from bisect import bisect
from itertools import accumulate

from cloudtrail_emulator.generators.catalog import Catalog, CatalogEntry, EntryBrief
from cloudtrail_emulator.generators.population import Account, Population

#: every account's services
CORE = ("sts", "iam", "s3", "ec2", "kms", "cloudtrail", "config", "ssm", "logs", "monitoring", "signin", "health",
        "secretsmanager", "lambda", "cloudformation", "sqs", "dynamodb")
#: workload profiles: the services a kind of workload adds
PROFILES = {
    "web-app": ("elasticloadbalancing", "autoscaling", "rds", "route53", "acm", "cloudfront", "wafv2",
                "elasticache"),
    "data": ("glue", "athena", "lakeformation", "redshift", "kinesis", "firehose", "elasticmapreduce", "states"),
    "serverless": ("apigateway", "sns", "events", "states", "xray", "cognito-idp"),
    "containers": ("ecs", "ecr", "eks", "elasticloadbalancing", "application-autoscaling", "servicediscovery",
                   "autoscaling"),
    "delivery": ("codebuild", "codepipeline", "codedeploy", "ecr"),
}
#: chance of each profile's being an account's first profile (the second is any other, PROFILE_PAIR)
PROFILE_CHANCE = {"web-app": 0.35, "data": 0.2, "serverless": 0.25, "containers": 0.2}
PROFILE_PAIR = 0.5
#: security and governance tooling: the management account's, and SECURITY_CHANCE of the others
SECURITY = ("organizations", "sso", "identitystore", "guardduty", "securityhub", "access-analyzer", "inspector2",
            "ram", "account", "ce", "budgets")
SECURITY_CHANCE = 0.3
#: services admins look at in the console now and then; each account's admins explore EXPLORE_COUNT
EXPLORED = ("notifications", "resource-explorer-2", "devops-guru", "rolesanywhere", "ce", "servicecatalog-appregistry",
            "route53resolver", "trustedadvisor", "support", "compute-optimizer", "cost-optimization-hub",
            "servicequotas", "budgets", "backup", "bedrock", "tagging", "securityhub", "guardduty", "ram", "account",
            "autoscaling", "rds", "route53", "elasticloadbalancing", "organizations")
EXPLORE_COUNT = (4, 8)
#: services whose writes only admins and CI make
CONTROL_PLANE = frozenset(("iam", "organizations", "sso", "identitystore", "cloudtrail", "config", "guardduty",
                           "securityhub", "access-analyzer", "inspector2", "account", "ram", "rolesanywhere"))
#: calls that issue credentials: planned by sessions (`issuing`), never drawn as work
ISSUING = frozenset(("sts.amazonaws.com:AssumeRole", "sts.amazonaws.com:AssumeRoleWithWebIdentity",
                     "sts.amazonaws.com:AssumeRoleWithSAML", "sts.amazonaws.com:GetFederationToken",
                     "sts.amazonaws.com:GetSessionToken"))
#: weight of a profile service without tuned calls (the tuned services' weights sum to ~100)
PROFILE_SERVICE_MASS = 1.5
#: weight of the untuned calls of one service, per persona: (services in use, explored services)
TAIL_MASS = {"workload": (0.0, 0.0), "developer": (0.03, 0.0), "console": (0.08, 0.04), "ci": (0.06, 0.0),
             "admin": (0.1, 0.06)}
#: how many distinct calls one instance or function makes (drawn from the workload pool)
WORKLOAD_CALLS = (8, 25)
#: how many of a service's ranked calls a persona draws (the head; admins and console users: all)
HEAD = {"workload": 6, "developer": 10, "ci": 15, "console": 30}
#: verbs of the writes a service's users make routinely (others, such as Delete or Failover, are rare)
COMMON_WRITES = ("Create", "Put", "Update", "Tag", "Untag", "Start", "Send", "Register", "Associate", "Attach",
                 "Set", "Add", "Enable", "Modify", "Batch", "Invoke", "Publish", "Run", "Submit", "Upload")
#: Zipf exponent of a service's ranked calls
TAIL_EXPONENT = 1.8
#: a write's weight relative to the catalog's (tuned calls) or to a read of the same rank (the tail), per
#: persona: pipelines apply changes, workloads register and report, people mostly look
WRITE_FACTOR = {"ci": 6.0, "workload": 5.0, "admin": 2.5, "developer": 2.0, "console": 1.6}
#: drawn weight of sts GetCallerIdentity relative to the catalog's: tools call it, sessions do not loop on it
CALLER_IDENTITY_FACTOR = 0.25
#: catalog weights above this are tuned calls; the long tail's rows weigh at most this
TAIL_CUT = 0.0011

Pool = tuple[list[int], list[float]]


class Portfolio:
    """An account's services and, per persona, the weighted calls its principals draw."""

    def __init__(self, seed: int, account: Account, catalog: Catalog, briefs: list[EntryBrief],
                 names: dict[str, list[str]], excluded: frozenset[str]):
        rng = random.Random(f"{seed}:{account.account_id}:portfolio")
        first = rng.choices(list(PROFILE_CHANCE), weights=list(PROFILE_CHANCE.values()))[0]
        self.profiles = [first]
        if rng.random() < PROFILE_PAIR:
            self.profiles.append(rng.choice([p for p in PROFILES if p != first]))
        used = list(CORE) + [s for p in self.profiles for s in PROFILES[p]]
        if account.is_management or rng.random() < SECURITY_CHANCE:
            used += SECURITY
        self.services = frozenset(f"{s}.amazonaws.com" for s in used)
        others = [s for s in EXPLORED if f"{s}.amazonaws.com" not in self.services]
        self.explored = frozenset(f"{s}.amazonaws.com" for s in rng.sample(others, k=min(len(others),
                                                                                        rng.randint(*EXPLORE_COUNT))))
        self._catalog = catalog
        self._seed = seed
        self._rng = rng
        self._ranked = self._rank(briefs, names, excluded)
        self._pools: dict[str, Pool] = {}

    def _rank(self, briefs: list[EntryBrief], names: dict[str, list[str]],
              excluded: frozenset[str]) -> dict[str, tuple[list, list]]:
        """Per service of the account: its tuned entries, and its other entries in this account's rank order."""
        by_source: dict[str, tuple[list, list]] = {}
        never = excluded | ISSUING
        for source in sorted(self.services | self.explored):
            tuned, tail = by_source.setdefault(source, ([], []))
            for name in names.get(source, ()):
                entry = self._catalog.get(source, name)
                brief = briefs[entry.index]
                if brief.weight <= 0 or not brief.management or f"{source}:{name}" in never or \
                        entry.event_type == "AwsConsoleSignIn":
                    continue
                (tuned if brief.weight > TAIL_CUT else tail).append((brief, entry))
            by_source[source] = (tuned, self._ranking(tail))
        return by_source

    def _ranking(self, tail: list[tuple[EntryBrief, CatalogEntry]]) -> list[tuple[EntryBrief, CatalogEntry]]:
        """A service's untuned calls in this account's order of use: reads, with every third rank a
        common write (create, put, update, tag, ...); rarer writes (delete, failover, ...) last."""
        reads, writes, rare = [], [], []
        for item in tail:
            entry = item[1]
            (reads if entry.read_only else writes if entry.event_name.startswith(COMMON_WRITES) else rare).append(item)
        for group in (reads, writes, rare):
            self._rng.shuffle(group)
        ranked = []
        while reads or writes:
            ranked.append((writes if (len(ranked) % 3 == 2 or not reads) and writes else reads).pop())
        return ranked + rare

    def pool(self, persona: str) -> Pool:
        """The persona's calls in this account: catalog indices and cumulative weights."""
        pool = self._pools.get(persona)
        if pool is None:
            pool = self._pools[persona] = self._build(persona)
        return pool

    def pick(self, rng: random.Random, persona: str, principal: str) -> int:
        """A catalog index the persona calls, by weight (a workload: one of its own few calls)."""
        indices, cum = self.pool(persona) if persona != "workload" else self.workload_pool(principal)
        return indices[bisect(cum, rng.random() * cum[-1])]

    def workload_pool(self, principal: str) -> Pool:
        """An instance's or function's own calls: WORKLOAD_CALLS of the workload pool, drawn by weight
        once per (seed, principal), keeping their weights (an application calls the same few APIs)."""
        pool = self._pools.get(principal)
        if pool is None:
            indices, cum = self.pool("workload")
            rng = random.Random(f"{self._seed}:{principal}:calls")
            target = rng.randint(*WORKLOAD_CALLS)
            chosen: dict[int, float] = {}
            for _ in range(target * 4):   # a small pool may hold fewer calls than the target
                at = bisect(cum, rng.random() * cum[-1])
                chosen[indices[at]] = cum[at] - (cum[at - 1] if at else 0.0)
                if len(chosen) >= target:
                    break
            pool = self._pools[principal] = (list(chosen), list(accumulate(chosen.values())))
        return pool

    def _build(self, persona: str) -> Pool:
        admin_writes = persona in ("admin", "ci")
        used_mass, explored_mass = TAIL_MASS[persona]
        write_factor = WRITE_FACTOR[persona]
        indices: list[int] = []
        weights: list[float] = []
        for source, (tuned, tail) in self._ranked.items():
            service = source.split(".", 1)[0]
            explored = source not in self.services
            if explored and not explored_mass or persona == "workload" and (
                    service in CONTROL_PLANE or service in SECURITY):
                continue
            writes = admin_writes or service not in CONTROL_PLANE
            if explored:   # admins' looks around: the service's tuned calls lead its ranking
                tail, tuned = tuned + tail, []
            for brief, entry in tuned:
                if entry.read_only or writes:
                    factor = CALLER_IDENTITY_FACTOR if entry.event_name == "GetCallerIdentity" else \
                        1.0 if entry.read_only else write_factor
                    indices.append(brief.index)
                    weights.append(brief.weight * factor)
            mass = explored_mass if explored else used_mass if tuned else PROFILE_SERVICE_MASS
            if not mass:
                continue
            ranked = [(brief, entry) for brief, entry in tail if entry.read_only or writes]
            if persona in HEAD:
                ranked = ranked[:HEAD[persona]]
            zipf = [(1.0 if entry.read_only else write_factor) / (rank + 1) ** TAIL_EXPONENT
                    for rank, (_, entry) in enumerate(ranked)]
            total = sum(zipf)
            for (brief, _), z in zip(ranked, zipf):
                indices.append(brief.index)
                weights.append(mass * z / total)
        return indices, list(accumulate(weights))


class Portfolios:
    """The portfolio of every account of a population, made on first use."""

    def __init__(self, population: Population, catalog: Catalog, excluded: frozenset[str]):
        self.population = population
        self.catalog = catalog
        self.excluded = excluded
        self._briefs = catalog.briefs()
        names: dict[str, list[str]] = {}
        for source, name in sorted(catalog.pairs()):
            names.setdefault(source, []).append(name)
        self._names = names
        self._accounts = {a.account_id: a for a in population.accounts}
        self._made: dict[str, Portfolio] = {}

    def of(self, account_id: str) -> Portfolio:
        """The account's portfolio (stable per seed and account)."""
        made = self._made.get(account_id)
        if made is None:
            made = self._made[account_id] = Portfolio(self.population.seed, self._accounts[account_id],
                                                      self.catalog, self._briefs, self._names, self.excluded)
        return made
