"""The activity model: a unit's records as the work of personas, in sessions that hang together.

The plan fixes how many records an (hour, account, region) holds; this module decides who makes
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

Everything is drawn from the unit's rng, so a unit's records depend only on (seed, unit, region).
"""
from __future__ import annotations

import base64
import random
import zlib
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from cloudtrail_emulator.generators.catalog import CatalogEntry
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import Principal, session_key_id
from cloudtrail_emulator.generators.records import POOLS, RecordFactory, uuid4
from cloudtrail_emulator.generators.timeline import HOURLY_RHYTHM
from cloudtrail_emulator.generators.times import format_time

PERSONAS = ("developer", "admin", "console", "ci", "workload", "service")
#: share of the records per persona at an average moment, before the persona's rhythm
BASE_SHARES = {"developer": 0.28, "admin": 0.07, "console": 0.12, "ci": 0.18, "workload": 0.15,
               "service": 0.20}
#: mean records per session (issuing calls included), per persona
SESSION_SIZE = {"developer": 30, "admin": 20, "console": 40, "ci": 60}
#: mean seconds between two calls of a session
CALL_GAP = {"developer": 20.0, "admin": 25.0, "console": 12.0, "ci": 1.5}
#: chance that a session creates a resource and works with it (see LIFECYCLES)
LIFECYCLE_CHANCE = {"developer": 0.15, "admin": 0.2, "console": 0.1, "ci": 0.35}
#: chance that a session probes something it may not do (3-8 denials within a minute)
DENIAL_BURST_CHANCE = 0.08
#: chance that a session (or a workload's hour) runs a Describe loop into the API's rate limit
THROTTLE_BURST_CHANCE = {"developer": 0.04, "ci": 0.12, "workload": 0.15}
#: most throttled calls in one burst: a baseline stays below CloudTrail Insights' 10 errors a minute
MAX_THROTTLED = 8
#: below this many seconds a unit is too short for sessions: the services' steady calls fill it
MIN_SESSION_SPAN = 60
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
    ("sso", "AssociateDirectory"), ("sso", "DisassociateDirectory"),
    ("sso-directory", "EnableExternalIdPConfigurationForDirectory"),
    ("sso-directory", "DisableExternalIdPConfigurationForDirectory")))
_ADMIN_MARKERS = ("AdministratorAccess", ":role/Admin/", "OrganizationAccountAccessRole")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RHYTHM_MEAN = sum(HOURLY_RHYTHM) / len(HOURLY_RHYTHM)

Patch = Callable[[dict, random.Random, datetime], None]


def persona_of(principal: Principal) -> str:
    """Which persona a principal acts as (one of PERSONAS)."""
    category = principal.category
    if category in ("service", "service-role"):
        return "service"
    if category in ("instance", "lambda"):
        return "workload"
    if category in ("ci", "web-identity"):
        return "ci"
    if category == "root" or any(marker in principal.key for marker in _ADMIN_MARKERS):
        return "admin"
    if category in ("console-user", "sso-console"):
        return "console"
    return "developer"


def persona_rhythm(persona: str, at: datetime) -> float:
    """Relative activity of a persona at a moment: timeline's day curve, shaped per persona."""
    day = HOURLY_RHYTHM[at.hour] / _RHYTHM_MEAN
    weekend = at.weekday() >= 5
    if persona in ("developer", "console"):
        return day ** 2 * (0.1 if weekend else 1.0)
    if persona == "admin":
        return day ** 1.5 * (0.25 if weekend else 1.0)
    if persona == "ci":
        return (0.4 + 0.6 * day) * (0.5 if weekend else 1.0)
    return 1.0


def sts_time(t: datetime) -> str:
    """STS's expiration style: "Mar 6, 2025, 3:28:21 AM"."""
    return (f"{_MONTHS[t.month - 1]} {t.day}, {t.year}, {t.hour % 12 or 12}:{t.minute:02d}:{t.second:02d} "
            f"{'AM' if t.hour < 12 else 'PM'}")


@dataclass(slots=True)
class _Session:
    """Who makes a run of calls and with which credentials."""

    principal: Principal                 # the factory draws entries, agents and addresses for it
    identity: dict | None = None         # userIdentity of its calls (the session key); None: the principal's
    ip: str | None = None                # the one address the session calls from
    values: dict[str, Any] | None = None  # placeholders pinned for its calls


#: one planned record: (offset s, order, session, entry, fail, values, patch)
_Item = tuple[int, int, _Session, CatalogEntry, Any, "dict[str, Any] | None", "Patch | None"]
#: one call of a session before it is timed: (entry, fail, values, mean gap before it in s)
_Call = tuple[CatalogEntry, Any, "dict[str, Any] | None", float]


class _UnitPlan:
    """The items of one (unit, region), being planned."""

    def __init__(self, rng: random.Random, account: str, span: int, start: datetime):
        self.rng = rng
        self.account = account
        self.span = span
        self.start = start
        self.items: list[_Item] = []

    def add(self, offset: int, session: _Session, entry: CatalogEntry, fail: Any = None,
            values: dict[str, Any] | None = None, patch: Patch | None = None) -> None:
        self.items.append((min(offset, self.span - 1), len(self.items), session, entry, fail, values, patch))


class ActivityModel:
    """Plans and writes the records of (unit, region)s; one per RecordFactory."""

    def __init__(self, factory: RecordFactory):
        self.factory = factory
        self.population = factory.population
        self.aliases = {a.account_id: a.alias for a in self.population.accounts}

        def entry(service: str, name: str) -> CatalogEntry:
            return factory.catalog.get(f"{service}.amazonaws.com", name)

        self.assume_role = entry("sts", "AssumeRole")
        self.web_identity = entry("sts", "AssumeRoleWithWebIdentity")
        self.saml = entry("sts", "AssumeRoleWithSAML")
        self.federation = entry("sts", "GetFederationToken")
        self.console_login = entry("signin", "ConsoleLogin")
        self.caller_identity = entry("sts", "GetCallerIdentity")
        self.lifecycles = [(kind, [entry(*step) for step in steps]) for kind, steps in LIFECYCLES]
        self._personas: dict[str, dict[str, tuple[list[Principal], list[float]]]] = {}
        self._own: dict[str, _Session] = {}
        self._issuers: dict[str, Principal] = {}

    # --- the unit ------------------------------------------------------------------------------
    def records(self, rng: random.Random, account: str, region: str, start: datetime, end: datetime,
                n: int) -> Iterator[dict]:
        """The n records of an account's region in [start, end), in time order."""
        span = int((end - start).total_seconds())
        plan = _UnitPlan(rng, account, span, start)
        for persona, budget in self._budgets(account, start + (end - start) / 2, n, span):
            if budget:
                self._plan_persona(plan, persona, budget)
        plan.items.sort(key=lambda item: (item[0], item[1]))
        return self._write(plan, region)

    def _write(self, plan: _UnitPlan, region: str) -> Iterator[dict]:
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
        return list(zip(present, _apportion(n, weights)))

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

    def _pick(self, plan: _UnitPlan, persona: str) -> Principal:
        members, cum = self._persona_table(plan.account)[persona]
        return members[bisect(cum, plan.rng.random() * cum[-1])]

    # --- personas ------------------------------------------------------------------------------
    def _plan_persona(self, plan: _UnitPlan, persona: str, budget: int) -> None:
        rng = plan.rng
        if persona == "service":
            for _ in range(budget):
                principal = self._pick(plan, persona)
                plan.add(int(rng.random() * plan.span), self._own_session(principal), self._draw(rng, principal))
            return
        if persona == "workload":
            self._plan_workloads(plan, budget)
            return
        mean = SESSION_SIZE[persona]
        while budget > 0:
            size = min(budget, max(2, int(rng.gammavariate(2.0, mean / 2))))
            self._plan_session(plan, persona, self._pick(plan, persona), size)
            budget -= size

    def _plan_workloads(self, plan: _UnitPlan, budget: int) -> None:
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
            session = self._issue(plan, principal, issued, 1).session
            calls = [(self._draw(rng, principal), None, session.values, 0.0) for _ in range(count - 1)]
            if count > 15 and rng.random() < THROTTLE_BURST_CHANCE["workload"]:
                burst = self._throttle_burst(rng, principal, session.values, min(count - 1, rng.randint(10, 20)))
                calls[len(calls) - len(burst):] = burst
            times = sorted(issued + 1 + int(rng.random() * (plan.span - issued - 1)) for _ in calls)
            burst_at = times[len(times) // 2] if times else 0
            for when, (entry, fail, values, gap) in zip(times, calls):
                if gap:   # a burst keeps its own pace, from the middle of the hour
                    burst_at = min(plan.span - 1, burst_at + int(rng.expovariate(1 / gap)))
                    when = burst_at
                plan.add(when, session, entry, fail, values)

    def _plan_session(self, plan: _UnitPlan, persona: str, principal: Principal, size: int) -> None:
        """One person's or pipeline's session of exactly ``size`` records."""
        rng, span = plan.rng, plan.span
        gap = CALL_GAP[persona]
        room = max(1, int(span - min(span * 0.9, size * (gap + 1))) - 6)
        clock = float(int(rng.random() * room))
        steps = self._issue(plan, principal, int(clock), size)
        session = steps.session
        clock = float(steps.last) + 1
        calls = self._session_calls(rng, persona, session, size - steps.count)
        for entry, fail, values, call_gap in calls:
            plan.add(min(span - 1, int(clock)), session, entry, fail, values)
            clock += 1 + rng.expovariate(1 / (call_gap or gap))

    def _session_calls(self, rng: random.Random, persona: str, session: _Session, k: int) -> list[_Call]:
        """The calls after the issuing ones: work, maybe a resource's lifecycle and an error burst."""
        principal = session.principal
        segments: list[list[_Call]] = []
        free = k
        if rng.random() < LIFECYCLE_CHANCE[persona]:
            life = self._lifecycle(rng, principal.account_id, session.values)
            if len(life) <= free:
                segments.append(life)
                free -= len(life)
        if free >= 3 and rng.random() < DENIAL_BURST_CHANCE:
            burst = self._denial_burst(rng, principal, session.values, min(free, rng.randint(3, 8)))
            segments.append(burst)
            free -= len(burst)
        if free >= 10 and rng.random() < THROTTLE_BURST_CHANCE.get(persona, 0.0):
            burst = self._throttle_burst(rng, principal, session.values, min(free, rng.randint(10, 20)))
            segments.append(burst)
            free -= len(burst)
        filler = [(self._draw(rng, principal), None, session.values, 0.0) for _ in range(free)]
        rng.shuffle(segments)
        calls: list[_Call] = []
        for segment in segments:
            cut = int(rng.random() * (len(filler) + 1))
            calls += filler[:cut] + segment
            filler = filler[cut:]
        return calls + filler

    def _draw(self, rng: random.Random, principal: Principal) -> CatalogEntry:
        """An ordinary call of the principal (sign-ins only start sessions; no attack indicators)."""
        for _ in range(5):
            entry = self.factory.pick_entry(rng, principal)
            if entry.event_type != "AwsConsoleSignIn" and \
                    f"{entry.event_source}:{entry.event_name}" not in ATTACK_INDICATORS:
                return entry
        return self.caller_identity

    # --- bursts and lifecycles -----------------------------------------------------------------
    def _find(self, rng: random.Random, principal: Principal, codes: tuple[str, ...],
              read_only: bool | None) -> tuple[CatalogEntry, str] | None:
        """An entry the principal calls that can fail with one of ``codes`` (and that code)."""
        for _ in range(40):
            entry = self._draw(rng, principal)
            if entry.identity.startswith("service:") or (read_only is not None and entry.read_only != read_only):
                continue
            code = next((e.code for e in entry.errors if e.code in codes), None)
            if code is not None:
                return entry, code
        return None

    def _denial_burst(self, rng: random.Random, principal: Principal, values: dict | None, n: int) -> list[_Call]:
        """A principal probing something it may not do: n denials a few seconds apart."""
        pinned = {"callerArn": values["callerArn"]} if values else None
        calls: list[_Call] = []
        first = self._find(rng, principal, DENIAL_CODES, None)
        while first is not None and len(calls) < n:
            found = first if rng.random() < 0.6 else (self._find(rng, principal, DENIAL_CODES, None) or first)
            calls.append((found[0], found[1], pinned, 5.0))
        return calls

    def _throttle_burst(self, rng: random.Random, principal: Principal, values: dict | None,
                        n: int) -> list[_Call]:
        """A busy Describe loop: n calls under a second apart, the middle ones mostly throttled."""
        found = self._find(rng, principal, THROTTLE_CODES, True)
        if found is None:
            return []
        entry, code = found
        low, high = int(n * 0.3), int(n * 0.8)
        calls: list[_Call] = []
        throttled = 0
        for i in range(n):
            fail: str | bool = False
            if low <= i < high and throttled < MAX_THROTTLED and rng.random() < 0.7:
                fail, throttled = code, throttled + 1
            calls.append((entry, fail, values, 0.6))
        return calls

    def _lifecycle(self, rng: random.Random, account: str, values: dict | None) -> list[_Call]:
        """A resource created, used and (mostly) deleted, with one id throughout."""
        kind, steps = self.lifecycles[int(rng.random() * len(self.lifecycles))]
        alias = self.aliases.get(account, account)
        name = POOLS[kind][1](rng, alias)
        pinned = {**(values or {}), kind: name}
        if kind == "secret":
            pinned["mixed:6"] = _secret_suffix(account, name)
        if kind == "role":
            pinned["ALNUM:17"] = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(17))
        keep = steps if rng.random() < 0.6 else steps[:-1]
        return [(entry, False, pinned, 0.0) for entry in keep]

    # --- credentials ---------------------------------------------------------------------------
    def _own_session(self, principal: Principal) -> _Session:
        """The principal calling with its own identity (services, IAM users' long-term keys)."""
        session = self._own.get(principal.key)
        if session is None:
            session = self._own[principal.key] = _Session(principal)
        return session

    def _working_set(self, rng: random.Random, account: str, caller_arn: str) -> dict[str, Any]:
        """The resources a session works on: a few of the account's, skewed to the busy ones."""
        values: dict[str, Any] = {"callerArn": caller_arn}
        for kind in WORKING_SET:
            pool = self.factory.pool(account, kind)
            values[kind] = pool[int(len(pool) * rng.random() ** 2)]
        secret = values["secret"]
        values["mixed:6"] = _secret_suffix(account, secret)
        return values

    def _issue(self, plan: _UnitPlan, principal: Principal, at: int, size: int) -> _Issued:
        """Plans the calls that give a principal its session; returns the session and their count."""
        rng, account = plan.rng, plan.account
        category = principal.category
        ip = principal.source_ips[int(rng.random() * len(principal.source_ips))]
        arn = principal.user_identity.get("arn", f"arn:aws:iam::{account}:root")
        if category == "user" or principal.access_key_id is None:
            session = _Session(principal, None, ip, self._working_set(rng, account, arn))
            return _Issued(session, 0, at - 1)
        created = format_time(plan.start + timedelta(seconds=at))
        key = session_key_id(account, rng)
        base = principal.user_identity
        mfa = base.get("sessionContext", {}).get("attributes", {}).get("mfaAuthenticated", "false")
        if category in ("console-user", "root"):
            identity = _with_session(base, key, created, mfa)
            session = _Session(principal, identity, ip, self._working_set(rng, account, arn))
            plan.add(at, session, self.console_login, False, None, _console_login(mfa == "true"))
            return _Issued(session, 1, at)
        if category == "federated":
            broker = self._issuer_user(principal, f"{account}:user/federation-broker")
            name = principal.username or "federated"
            identity = _with_session(base, key, created, mfa)
            plan.add(at, _Session(broker, None, None, None), self.federation, False, None,
                     _federation_token(account, name, key))
            return _Issued(_Session(principal, identity, ip, self._working_set(rng, account, arn)), 1, at)
        # assumed roles: a CI run first gets the deploy role's session, then assumes its own role
        issuer: _Session | None = None
        count = 0
        if category == "ci":
            issuer, count, at = self._ci_issuer(plan, principal, at, size, ip)
        created = format_time(plan.start + timedelta(seconds=at))
        issuer_info = base["sessionContext"]["sessionIssuer"]
        session_name = _session_name(principal, plan.start + timedelta(seconds=at), rng)
        role_arn, role_id = issuer_info["arn"], issuer_info["principalId"]
        assumed_arn = f"arn:aws:sts::{account}:assumed-role/{issuer_info['userName']}/{session_name}"
        identity = _with_session(base, key, created, mfa, f"{role_id}:{session_name}", assumed_arn)
        session = _Session(principal, identity, ip, self._working_set(rng, account, assumed_arn))
        assumed = _assumed(account, role_arn, role_id, session_name, assumed_arn, key)
        if category in ("sso", "sso-console"):
            saml_user = self._saml_user(principal)
            plan.add(at, _Session(saml_user, None, ip, None), self.saml, False, None,
                     _saml_response(saml_user, assumed, principal.username or session_name))
            if category == "sso-console" and size >= 2:
                plan.add(at + 1, session, self.console_login, False, None, _console_login(False))
                return _Issued(session, 2, at + 1)
            return _Issued(session, 1, at)
        if category == "web-identity":
            self._plan_web_identity(plan, principal, at, assumed, ip)
            return _Issued(session, 1, at)
        if category in ("instance", "lambda"):
            host = "ec2.amazonaws.com" if category == "instance" else "lambda.amazonaws.com"
            issuer = self._own_session(self._service_principal(account, host))
        elif issuer is None:
            issuer = _Session(self._person_user(principal), None, ip, None)
        plan.add(at, issuer, self.assume_role, False, None, _assume_role(assumed))
        return _Issued(session, count + 1, at)

    def _ci_issuer(self, plan: _UnitPlan, principal: Principal, at: int, size: int,
                   ip: str) -> tuple[_Session, int, int]:
        """A pipeline run's start: OIDC into the deploy role and a check of it (when the run has room).

        Returns the session that assumes the CI role, the calls planned and the time to assume it.
        """
        deploy = next((p for p in self.population.principals_in(plan.account) if p.category == "web-identity"),
                      None)
        if deploy is None or size < 4:
            return _Session(self._person_user(principal), None, ip, None), 0, at
        first = self._issue(plan, deploy, at, 2)
        step = first.last + 1 + int(plan.rng.random() * 3)
        plan.add(step, first.session, self.caller_identity, False, first.session.values)
        return first.session, first.count + 1, step + 1

    def _plan_web_identity(self, plan: _UnitPlan, principal: Principal, at: int, assumed: dict, ip: str) -> None:
        """GitHub Actions' OIDC token exchanged for the deploy role's session."""
        provider = principal.user_identity["sessionContext"]["webIdFederationData"].get(
            "federatedProvider", f"arn:aws:iam::{plan.account}:oidc-provider/token.actions.githubusercontent.com")
        repos = self.factory.pool(plan.account, "repo")
        org = self.aliases.get(plan.account, "org").split("-")[0]
        subject = f"repo:{org}/{repos[int(plan.rng.random() * len(repos))]}:ref:refs/heads/main"
        user = self._issuer(f"{plan.account}:web-identity-user/{principal.key}", "WebIdentityUser", plan.account, {
            "type": "WebIdentityUser", "principalId": f"{provider}:sts.amazonaws.com:{subject}",
            "userName": subject, "identityProvider": provider}, principal)
        identity = {**user.user_identity, "principalId": f"{provider}:sts.amazonaws.com:{subject}", "userName": subject}
        plan.add(at, _Session(user, identity, ip, None), self.web_identity, False, None,
                 _web_identity_response(assumed, subject, provider))

    # --- issuers -------------------------------------------------------------------------------
    def _issuer(self, key: str, kind: str, account: str, identity: dict, like: Principal) -> Principal:
        """A caller outside the population (an OIDC or SAML user), made once per key."""
        found = self._issuers.get(key)
        if found is None:
            found = self._issuers[key] = Principal(key, kind, account, identity, None, identity.get("userName"),
                                                   like.source_ips, like.user_agents, False, None, 0.0)
        return found

    def _saml_user(self, principal: Principal) -> Principal:
        """The Identity Center user behind a permission-set session, as the member account sees it."""
        account, email = principal.account_id, principal.username or "user"
        digest = random.Random(f"{self.population.seed}:{account}:saml")
        provider = (f"arn:aws:iam::{account}:saml-provider/"
                    f"AWSSSO_{'%016x' % digest.getrandbits(64)}_DO_NOT_DELETE")
        qualifier = base64.b64encode(digest.randbytes(20)).decode()
        return self._issuer(f"{account}:saml-user/{principal.key}", "SAMLUser", account, {
            "type": "SAMLUser", "principalId": f"{qualifier}:{email}", "userName": email,
            "identityProvider": provider}, principal)

    def _person_user(self, principal: Principal) -> Principal:
        """The IAM user (long-term key) of the person behind a role session, else any such user."""
        login = principal.key.rsplit("/", 1)[-1]
        users = [p for p in self.population.principals_in(principal.account_id) if p.category == "user"]
        mine = [p for p in users if p.username == login]
        if not (mine or users):
            raise GeneratorError(f"account {principal.account_id} has no IAM user to assume roles")
        return (mine or users)[0]

    def _issuer_user(self, principal: Principal, key: str) -> Principal:
        """The population's principal ``key`` (e.g. the federation broker), else the person's IAM user."""
        try:
            return self.population.principal(key)
        except GeneratorError:
            return self._person_user(principal)

    def _service_principal(self, account: str, host: str) -> Principal:
        """The AWS service that hands an instance or function its role's credentials."""
        return self.population.principal(f"{account}:service/{host}")


@dataclass(frozen=True, slots=True)
class _Issued:
    """A session and how its issuing calls were planned: their count and the last one's offset."""

    session: _Session
    count: int
    last: int


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Integer shares of ``total`` proportional to ``weights`` (largest remainder, stable ties)."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    shares = [int(x) for x in exact]
    for i in sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))[:total - sum(shares)]:
        shares[i] += 1
    return shares


def _secret_suffix(account: str, name: str) -> str:
    """The 6 characters Secrets Manager appends to a secret's ARN, stable per secret."""
    r = random.Random(zlib.crc32(f"{account}:{name}".encode()))
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(6))


def _session_name(principal: Principal, at: datetime, rng: random.Random) -> str:
    """The role session name a client picks: SDK defaults carry the time, people their login."""
    name = principal.username or "session"
    epoch = int(at.timestamp())
    if name.startswith("botocore-session-"):
        return f"botocore-session-{epoch}"
    if name.startswith("aws-go-sdk-"):
        return f"aws-go-sdk-{epoch}{rng.randrange(10**9):09d}"
    return name


def _with_session(base: dict, key: str, created: str, mfa: str, principal_id: str | None = None,
                  arn: str | None = None) -> dict:
    """``base`` with the session's key, creation time and, for role sessions, its id and ARN."""
    out: dict = {}
    for k, v in base.items():
        if k == "accessKeyId":
            v = key
        elif k == "principalId" and principal_id:
            v = principal_id
        elif k == "arn" and arn:
            v = arn
        elif k == "sessionContext" and "attributes" in v:
            v = {**v, "attributes": {**v["attributes"], "creationDate": created, "mfaAuthenticated": mfa}}
        out[k] = v
    return out


def _assumed(account: str, role_arn: str, role_id: str, session_name: str, assumed_arn: str, key: str) -> dict:
    return {"account": account, "roleArn": role_arn, "sessionName": session_name, "key": key,
            "assumedRoleUser": {"assumedRoleId": f"{role_id}:{session_name}", "arn": assumed_arn}}


def _credentials(rng: random.Random, when: datetime, key: str) -> dict:
    return {"accessKeyId": key, "sessionToken": base64.b64encode(rng.randbytes(96)).decode(),
            "expiration": sts_time(when + timedelta(hours=1))}


def _role_resources(record: dict, assumed: dict) -> None:
    if "resources" in record:
        record["resources"] = [{"accountId": assumed["account"], "type": "AWS::IAM::Role", "ARN": assumed["roleArn"]}]


def _assume_role(assumed: dict) -> Patch:
    """Writes the session's role, name and key into an AssumeRole record."""
    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        request = record["requestParameters"] or {}
        record["requestParameters"] = {**request, "roleArn": assumed["roleArn"],
                                       "roleSessionName": assumed["sessionName"]}
        response = record["responseElements"] or {}
        record["responseElements"] = {**response, "credentials": _credentials(rng, when, assumed["key"]),
                                      "assumedRoleUser": assumed["assumedRoleUser"]}
        _role_resources(record, assumed)
    return patch


def _web_identity_response(assumed: dict, subject: str, provider: str) -> Patch:
    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        _assume_role(assumed)(record, rng, when)
        response = record["responseElements"]
        record["responseElements"] = {**response, "subjectFromWebIdentityToken": subject, "provider": provider}
    return patch


def _saml_response(saml_user: Principal, assumed: dict, subject: str) -> Patch:
    provider = saml_user.user_identity["identityProvider"]
    qualifier = saml_user.user_identity["principalId"].split(":", 1)[0]

    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        record["requestParameters"] = {"sAMLAssertionID": "_" + uuid4(rng), "roleSessionName": assumed["sessionName"],
                                       "roleArn": assumed["roleArn"], "principalArn": provider,
                                       "durationSeconds": 3600}
        record["responseElements"] = {
            "credentials": _credentials(rng, when, assumed["key"]),
            "assumedRoleUser": assumed["assumedRoleUser"],
            "subject": subject, "subjectType": "persistent",
            "issuer": f"https://portal.sso.us-east-1.amazonaws.com/saml/assertion/{uuid4(rng)}",
            "audience": "https://signin.aws.amazon.com/saml", "nameQualifier": qualifier}
        _role_resources(record, assumed)
    return patch


def _federation_token(account: str, name: str, key: str) -> Patch:
    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        record["requestParameters"] = {"name": name, "durationSeconds": 3600}
        record["responseElements"] = {
            "credentials": _credentials(rng, when, key),
            "federatedUser": {"federatedUserId": f"{account}:{name}",
                              "arn": f"arn:aws:sts::{account}:federated-user/{name}"},
            "packedPolicySize": 6}
    return patch


def _console_login(mfa: bool) -> Patch:
    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        additional = record.get("additionalEventData")
        if additional is not None:
            record["additionalEventData"] = {**additional, "MFAUsed": "Yes" if mfa else "No"}
    return patch
