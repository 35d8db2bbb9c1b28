"""What a session does once it has credentials: ordinary calls, resource lifecycles, error bursts."""
from __future__ import annotations

import random
import zlib
from typing import Any

from cloudtrail_emulator.generators.activity.personas import persona_of
from cloudtrail_emulator.generators.activity.plan import Call, Session
from cloudtrail_emulator.generators.activity.portfolio import Portfolios
from cloudtrail_emulator.generators.catalog import CatalogEntry
from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.records import POOLS, RecordFactory

#: chance that a session creates a resource and works with it (see LIFECYCLES)
LIFECYCLE_CHANCE = {"developer": 0.15, "admin": 0.2, "console": 0.1, "ci": 0.35}
#: chance that a session probes something it may not do (3-8 denials within a minute)
DENIAL_BURST_CHANCE = 0.08
#: chance that a session (or a workload's hour) runs a Describe loop into the API's rate limit
THROTTLE_BURST_CHANCE = {"developer": 0.04, "ci": 0.12, "workload": 0.15}
#: most throttled calls in one burst: a baseline stays below CloudTrail Insights' 10 errors a minute
MAX_THROTTLED = 8
DENIAL_CODES = ("AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation")
THROTTLE_CODES = ("ThrottlingException", "Client.RequestLimitExceeded", "Throttling")
#: placeholders a session keeps for all its calls (the resources it works on)
WORKING_SET = ("bucket", "instance", "function", "secret", "param", "table", "queue", "loggroup",
               "kmskey", "cluster", "stack")
#: resource lifecycles: (placeholder kind, calls; the last one, the deletion, happens 60 % of the time)
LIFECYCLES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("instance", (("ec2", "RunInstances"), ("ec2", "CreateTags"), ("ec2", "DescribeInstances"),
                  ("ec2", "DescribeInstanceStatus"), ("ec2", "DescribeInstances"), ("ec2", "TerminateInstances"))),
    ("bucket", (("s3", "CreateBucket"), ("s3", "PutBucketEncryption"), ("s3", "PutBucketTagging"),
                ("s3", "GetBucketLocation"), ("s3", "ListObjects"), ("s3", "DeleteBucket"))),
    ("secret", (("secretsmanager", "CreateSecret"), ("secretsmanager", "DescribeSecret"),
                ("secretsmanager", "GetSecretValue"), ("secretsmanager", "PutSecretValue"),
                ("secretsmanager", "GetSecretValue"), ("secretsmanager", "DeleteSecret"))),
    ("kmskey", (("kms", "CreateKey"), ("kms", "DescribeKey"), ("kms", "ScheduleKeyDeletion"))),
    ("role", (("iam", "CreateRole"), ("iam", "AttachRolePolicy"), ("iam", "GetRole"),
              ("iam", "DetachRolePolicy"), ("iam", "DeleteRole"))),
    ("param", (("ssm", "PutParameter"), ("ssm", "GetParameter"), ("ssm", "GetParameter"),
               ("ssm", "DeleteParameter"))),
    ("function", (("lambda", "CreateFunction20150331"), ("lambda", "GetFunction20150331v2"),
                  ("lambda", "DeleteFunction20150331"))),
)
#: calls SigmaHQ's high-severity rules take for attack indicators: ordinary work leaves them to the
#: scenarios (the catalog's long tail would otherwise draw one now and then)
ATTACK_INDICATORS = frozenset(f"{service}.amazonaws.com:{name}" for service, name in (
    ("kms", "ImportKeyMaterial"), ("kms", "DeleteImportedKeyMaterial"), ("guardduty", "DeleteDetector"),
    ("guardduty", "UpdateDetector"), ("guardduty", "CreateIPSet"), ("ec2", "DeleteFlowLogs"),
    ("config", "StopConfigurationRecorder"), ("config", "DeleteDeliveryChannel"), ("rds", "DeleteDBCluster"),
    ("rds", "ModifyDBCluster"), ("rds", "RestoreDBInstanceFromDBSnapshot"), ("iam", "UpdateLoginProfile"),
    ("sso", "AssociateDirectory"), ("sso", "DisassociateDirectory"), ("securityhub", "UpdateFindings"),
    ("securityhub", "DeleteInsight"), ("securityhub", "UpdateInsight"),
    ("sso-directory", "EnableExternalIdPConfigurationForDirectory"),
    ("sso-directory", "DisableExternalIdPConfigurationForDirectory")))
#: what a real organisation's admins do now and then that detection content flags: never in a default
#: baseline; with ``noisy_admin`` an admin session does one of them (with its follow-up) at
#: NOISY_ADMIN_CHANCE. Each: (relative weight, the calls in order as (service, name, mean seconds before it)).
NOISY_ADMIN: tuple[tuple[float, tuple[tuple[str, str, float], ...]], ...] = (
    (4.0, (("ssm", "SendCommand", 0.0), ("ssm", "GetCommandInvocation", 20.0))),           # Run Command
    (3.0, (("securityhub", "GetFindings", 0.0), ("securityhub", "BatchUpdateFindings", 30.0))),  # triage
    (2.0, (("iam", "ListAccessKeys", 0.0), ("iam", "CreateAccessKey", 15.0),                # a service user's
           ("iam", "DeleteAccessKey", 120.0))),                                              # key rotated
    (2.0, (("ec2", "CreateSnapshot", 0.0), ("ec2", "ModifySnapshotAttribute", 60.0))),     # for a sibling account
    (1.0, (("rds", "DescribeDBClusters", 0.0), ("rds", "ModifyDBCluster", 40.0))),
    (0.6, (("cloudtrail", "PutEventSelectors", 0.0), ("cloudtrail", "GetEventSelectors", 10.0))),
    (0.3, (("cloudtrail", "StopLogging", 0.0), ("cloudtrail", "StartLogging", 240.0))),    # trail maintenance
    (0.1, (("cloudtrail", "DeleteTrail", 0.0),)),                                           # an old trail retired
)
NOISY_ADMIN_CHANCE = 0.2
#: the calls of NOISY_ADMIN that detection content flags: the default baseline never draws them
NOISY_CALLS = frozenset(f"{service}.amazonaws.com:{name}" for service, name in (
    ("cloudtrail", "StopLogging"), ("cloudtrail", "PutEventSelectors"), ("cloudtrail", "DeleteTrail"),
    ("ec2", "ModifySnapshotAttribute"), ("iam", "CreateAccessKey"), ("ssm", "SendCommand"),
    ("securityhub", "BatchUpdateFindings"), ("rds", "ModifyDBCluster")))


class SessionWork:
    """Draws the calls of sessions: the work itself, after the credentials are issued."""

    def __init__(self, factory: RecordFactory, aliases: dict[str, str], noisy_admin: bool = False):
        self.factory = factory
        self.aliases = aliases
        self.noisy_admin = noisy_admin
        self.portfolios = Portfolios(factory.population, factory.catalog, ATTACK_INDICATORS | NOISY_CALLS)
        self._personas: dict[str, str] = {}

        def entry(service: str, name: str) -> CatalogEntry:
            return factory.catalog.get(f"{service}.amazonaws.com", name)

        self.caller_identity = entry("sts", "GetCallerIdentity")
        self.lifecycles = [(kind, [entry(*step) for step in steps]) for kind, steps in LIFECYCLES]
        self.noisy = [[(entry(service, name), gap) for service, name, gap in calls] for _, calls in NOISY_ADMIN]
        self.noisy_weights = [weight for weight, _ in NOISY_ADMIN]

    def working_set(self, rng: random.Random, account: str, caller_arn: str) -> dict[str, Any]:
        """The resources a session works on: a few of the account's, skewed to the busy ones."""
        values: dict[str, Any] = {"callerArn": caller_arn}
        for kind in WORKING_SET:
            pool = self.factory.pool(account, kind)
            values[kind] = pool[int(len(pool) * rng.random() ** 2)]
        secret = values["secret"]
        values["mixed:6"] = secret_suffix(account, secret)
        return values

    def session_calls(self, rng: random.Random, persona: str, session: Session, k: int) -> list[Call]:
        """The calls after the issuing ones: work, maybe a resource's lifecycle and an error burst."""
        principal = session.principal
        segments: list[list[Call]] = []
        free = k
        if rng.random() < LIFECYCLE_CHANCE[persona]:
            life = self.lifecycle(rng, principal.account_id, session.values)
            if len(life) <= free:
                segments.append(life)
                free -= len(life)
        if free >= 3 and rng.random() < DENIAL_BURST_CHANCE:
            burst = self.denial_burst(rng, principal, session.values, min(free, rng.randint(3, 8)))
            segments.append(burst)
            free -= len(burst)
        if self.noisy_admin and persona == "admin" and rng.random() < NOISY_ADMIN_CHANCE:
            chore = [(entry, False, session.values, gap)
                     for entry, gap in rng.choices(self.noisy, weights=self.noisy_weights)[0]]
            if len(chore) <= free:
                segments.append(chore)
                free -= len(chore)
        if free >= 10 and rng.random() < THROTTLE_BURST_CHANCE.get(persona, 0.0):
            burst = self.throttle_burst(rng, principal, session.values, min(free, rng.randint(10, 20)))
            segments.append(burst)
            free -= len(burst)
        filler = [(self.draw(rng, principal), None, session.values, 0.0) for _ in range(free)]
        rng.shuffle(segments)
        calls: list[Call] = []
        for segment in segments:
            cut = int(rng.random() * (len(filler) + 1))
            calls += filler[:cut] + segment
            filler = filler[cut:]
        return calls + filler

    def persona(self, principal: Principal) -> str:
        """The principal's persona (memoised)."""
        persona = self._personas.get(principal.key)
        if persona is None:
            persona = self._personas[principal.key] = persona_of(principal)
        return persona

    def draw(self, rng: random.Random, principal: Principal) -> CatalogEntry:
        """An ordinary call of the principal: from its account's portfolio (AWS services: their own calls)."""
        persona = self.persona(principal)
        if persona == "service":
            for _ in range(5):
                entry = self.factory.pick_entry(rng, principal)
                if f"{entry.event_source}:{entry.event_name}" not in ATTACK_INDICATORS:
                    return entry
            return self.caller_identity
        return self.factory.catalog.entry(self.portfolios.of(principal.account_id).pick(rng, persona, principal.key))

    def service_outcome(self, rng: random.Random, entry: CatalogEntry) -> str | bool:
        """How an AWS service's own call ends: its entry's errors, but never a denial (AWS grants itself)."""
        if not entry.error_rate or rng.random() >= entry.error_rate:
            return False
        codes = [(e.code, e.weight) for e in entry.errors if e.code not in DENIAL_CODES]
        if not codes:
            return False
        return rng.choices([c for c, _ in codes], weights=[w for _, w in codes])[0]

    def _find(self, rng: random.Random, principal: Principal, codes: tuple[str, ...],
              read_only: bool | None) -> tuple[CatalogEntry, str] | None:
        """An entry the principal calls that can fail with one of ``codes`` (and that code)."""
        for _ in range(40):
            entry = self.draw(rng, principal)
            if entry.identity.startswith("service:") or (read_only is not None and entry.read_only != read_only):
                continue
            code = next((e.code for e in entry.errors if e.code in codes), None)
            if code is not None:
                return entry, code
        return None

    def denial_burst(self, rng: random.Random, principal: Principal, values: dict | None, n: int) -> list[Call]:
        """A principal probing something it may not do: n denials a few seconds apart."""
        pinned = {"callerArn": values["callerArn"]} if values else None
        calls: list[Call] = []
        first = self._find(rng, principal, DENIAL_CODES, None)
        while first is not None and len(calls) < n:
            found = first if rng.random() < 0.6 else (self._find(rng, principal, DENIAL_CODES, None) or first)
            calls.append((found[0], found[1], pinned, 5.0))
        return calls

    def throttle_burst(self, rng: random.Random, principal: Principal, values: dict | None,
                       n: int) -> list[Call]:
        """A busy Describe loop: n calls under a second apart, the middle ones mostly throttled."""
        found = self._find(rng, principal, THROTTLE_CODES, True)
        if found is None:
            return []
        entry, code = found
        low, high = int(n * 0.3), int(n * 0.8)
        calls: list[Call] = []
        throttled = 0
        for i in range(n):
            fail: str | bool = False
            if low <= i < high and throttled < MAX_THROTTLED and rng.random() < 0.7:
                fail, throttled = code, throttled + 1
            calls.append((entry, fail, values, 0.6))
        return calls

    def lifecycle(self, rng: random.Random, account: str, values: dict | None) -> list[Call]:
        """A resource created, used and (mostly) deleted, with one id throughout."""
        kind, steps = self.lifecycles[int(rng.random() * len(self.lifecycles))]
        alias = self.aliases.get(account, account)
        name = POOLS[kind][1](rng, alias)
        pinned = {**(values or {}), kind: name}
        if kind == "secret":
            pinned["mixed:6"] = secret_suffix(account, name)
        if kind == "role":
            pinned["ALNUM:17"] = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(17))
        keep = steps if rng.random() < 0.6 else steps[:-1]
        return [(entry, False, pinned, 0.0) for entry in keep]


def secret_suffix(account: str, name: str) -> str:
    """The 6 characters Secrets Manager appends to a secret's ARN, stable per secret."""
    r = random.Random(zlib.crc32(f"{account}:{name}".encode()))
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(6))
