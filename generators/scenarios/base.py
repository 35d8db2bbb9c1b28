"""Scenario machinery: techniques, the registry, and ``Attack``, which writes an attack's records.

A scenario is a function ``play(attack)`` that calls ``attack.call(...)`` once per API call the
attacker makes, in order. ``Attack`` builds each record with the project's ``RecordFactory`` (so
identity, request IDs, TLS details and eventVersion follow the baseline's rules), then overrides
what the attack needs (request/response, error, source IP, user agent) and puts the keys back in
CloudTrail's order. Every record carries its ground-truth label.
"""
from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cloudtrail_emulator.generators.catalog import CatalogEntry
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import Principal, render_user_agent
from cloudtrail_emulator.generators.records import POOLS, RecordFactory, uuid4
from cloudtrail_emulator.generators.scenarios.techniques import VALID_CLOUD_ACCOUNTS, Technique
from cloudtrail_emulator.generators.times import format_time

if TYPE_CHECKING:
    from cloudtrail_emulator.generators.scenarios.actors import Actor

#: CloudTrail's key order (records/factory.py writes the same); overrides are re-sorted to it
KEY_ORDER = (
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
    "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
    "responseElements", "additionalEventData", "requestID", "eventID", "readOnly", "resources",
    "eventType", "apiVersion", "managementEvent", "recipientAccountId", "sharedEventID",
    "serviceEventDetails", "vpcEndpointId", "vpcEndpointAccountId", "eventCategory", "tlsDetails", "sessionCredentialFromConsole",
)
_RANK = {k: i for i, k in enumerate(KEY_ORDER)}
KEEP: Any = object()   # "leave the factory's value"
DROP: Any = object()   # "leave the key out"

#: hosting / VPN / Tor exit ranges attackers are often seen from (first two octets)
ATTACKER_NETS = ((185, 220), (45, 137), (193, 32), (5, 188), (91, 219), (104, 244), (179, 43), (23, 129))
ATTACKER_AGENTS = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#kali.2024 md/prompt#off "
    "md/command#{command}",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#6.5.0-kali3-amd64 md/arch#x86_64 lang/python#3.11.9 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/{service}#1.31.1",
)
BROWSER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/124.0.0.0 Safari/537.36")
TRUFFLEHOG_AGENT = "TruffleHog"
S3_BROWSER_AGENT = "S3 Browser/11.5.7 (https://s3browser.com)"


#: actor types (see actors.py) of a scenario any credentials can play
ANY_SESSION = ("user", "role", "sso", "federated")
#: ... of one calling IAM or STS: GetFederationToken sessions cannot call IAM, nor STS but GetCallerIdentity
IAM_CAPABLE = ("user", "role", "sso")


@dataclass(frozen=True)
class Scenario:
    """One attack technique played as a sequence of API calls."""

    name: str
    description: str
    techniques: tuple[Technique, ...]       # the first is the scenario's main technique
    play: Callable[[Attack], None]
    actors: tuple[str, ...] = ANY_SESSION   # actor types it plausibly runs as (drawn from the seed)
    console: bool = False                   # an IAM user actor signs in to the console
    stratus: str | None = None              # the Stratus Red Team technique id it emulates, if one exists

    @property
    def tactic(self) -> str:
        return self.techniques[0].tactic


@dataclass
class ScenarioRun:
    """A played scenario: its records in call order and their labels (same order)."""

    scenario: Scenario
    account_id: str
    region: str
    principal: Principal      # the identity of the attack's calls (after any issuing call)
    start: datetime
    actor: str = "user"       # the actor type (actors.ACTOR_TYPES)
    regions: tuple[str, ...] = ()   # the regions the trail logs (default: the run's region)
    records: list[dict] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)


_REGISTRY: dict[str, Scenario] = {}
_STRATUS: dict[str, str] = {}    # Stratus Red Team id -> scenario name


def register(scenario: Scenario) -> Scenario:
    """Adds a scenario to the registry (names and Stratus ids are unique)."""
    if scenario.name in _REGISTRY or scenario.name in _STRATUS:
        raise GeneratorError(f"scenario {scenario.name!r} registered twice")
    if scenario.stratus is not None:
        if scenario.stratus in _STRATUS or scenario.stratus in _REGISTRY:
            raise GeneratorError(f"Stratus technique {scenario.stratus!r} registered twice")
        _STRATUS[scenario.stratus] = scenario.name
    _REGISTRY[scenario.name] = scenario
    return scenario


def scenario(name: str, description: str, *techniques: Technique, actors: tuple[str, ...] = ANY_SESSION,
             console: bool = False, stratus: str | None = None):
    """Decorator registering ``play`` as a scenario."""
    def wrap(play: Callable[[Attack], None]) -> Callable[[Attack], None]:
        register(Scenario(name, description, techniques, play, actors, console, stratus))
        return play
    return wrap


def all_scenarios() -> tuple[Scenario, ...]:
    """Every registered scenario, by name."""
    return tuple(_REGISTRY[n] for n in sorted(_REGISTRY))


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name`` or emulating Stratus Red Team technique ``name``; GeneratorError otherwise."""
    try:
        return _REGISTRY[_STRATUS.get(name, name)]
    except KeyError:
        raise GeneratorError(f"unknown scenario {name!r} (see `cloudtrail-emulator scenarios list`)") from None


class Attack:
    """Writes one scenario's records: a clock, the attacker's network identity, and ``call``."""

    def __init__(self, factory: RecordFactory, rng: random.Random, run: ScenarioRun, actor: Actor):
        self.factory = factory
        self.rng = rng
        self.run = run
        self.account = run.account_id
        self.region = run.region
        self.actor = actor
        self.principal = actor.principal
        self.session: Principal | None = None   # a session opened by the actor: its identity is fixed
        self.now = run.start
        net = ATTACKER_NETS[int(rng.random() * len(ATTACKER_NETS))]
        self.ip = f"{net[0]}.{net[1]}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        self.agent = BROWSER_AGENT if actor.principal.console else ATTACKER_AGENTS[int(rng.random() * len(ATTACKER_AGENTS))]
        self.technique = run.scenario.techniques[0]

    def open_session(self) -> None:
        """Writes the actor's issuing call (labelled T1078.004) and goes on as the session it opens."""
        if self.actor.opening is None:
            return
        main, self.technique = self.technique, VALID_CLOUD_ACCOUNTS
        self.session = self.principal = self.run.principal = self.actor.opening(self)
        self.technique = main
        if self.run.records:
            self.wait(1, 8)

    @property
    def cli(self) -> bool:
        """Whether the attacker's tool is the AWS CLI (its requests differ from the SDKs' for some calls)."""
        return self.agent.startswith("aws-cli/")

    # --- helpers for scenario bodies -------------------------------------------------------------
    def wait(self, low: float, high: float) -> None:
        """Advances the clock by a random number of seconds in [low, high]."""
        self.now += timedelta(seconds=self.rng.uniform(low, high))

    def uses(self, technique: Technique) -> None:
        """Labels the following calls with ``technique``."""
        self.technique = technique

    def pool(self, kind: str) -> tuple[str, ...]:
        """The account's named resources of a kind (the same names the baseline uses)."""
        return self.factory.pool(self.account, kind)

    def pick(self, kind: str) -> str:
        values = self.pool(kind)
        return values[int(self.rng.random() * len(values))]

    def own_user(self) -> str | None:
        """The IAM user whose key the attacker holds (directly or behind the session it opened), if any."""
        holder = self.actor.origin or self.actor.principal
        return holder.username if holder.kind == "IAMUser" else None

    def other_user(self) -> str:
        """An IAM user name of the account that is not the one whose key the attacker holds."""
        names = [u for u in self.pool("user") if u != self.own_user()] or list(self.pool("user"))
        return names[int(self.rng.random() * len(names))]

    def foreign_account(self) -> str:
        """A 12-digit account id outside the population (the attacker's)."""
        own = {a.account_id for a in self.factory.population.accounts}
        while True:
            candidate = str(self.rng.randrange(10**11, 10**12))
            if candidate not in own:
                return candidate

    def inventory(self, kind: str, low: int, high: int) -> tuple[str, ...]:
        """All the account's resources of a kind an enumeration finds: the pool (what the baseline uses)
        and more of the same shape, ``low``..``high`` in all (stable per population seed and account)."""
        pool = self.pool(kind)
        r = random.Random(f"{self.factory.population.seed}:{self.account}:{kind}:inventory")
        _, maker = POOLS[kind]
        names = dict.fromkeys(pool)
        want = r.randint(max(low, len(pool)), max(high, len(pool)))
        alias = next(a.alias for a in self.factory.population.accounts if a.account_id == self.account)
        while len(names) < want:
            names[maker(r, alias)] = None
        return tuple(names)

    def next_token(self) -> str:
        """A pagination token as AWS services return them (opaque base64)."""
        return "AAEAA" + base64.b64encode(self.rng.randbytes(270)).decode()

    def uuid(self) -> str:
        return uuid4(self.rng)

    def hex(self, n: int) -> str:
        return "%0*x" % (n, self.rng.getrandbits(4 * n))

    def ctime(self) -> str:
        """The IAM response date style, "Jul 10, 2023 12:24:29 PM", at the current clock."""
        t = self.now
        return f"{t:%b} {t.day}, {t.year} {t.hour % 12 or 12}:{t:%M:%S} {'AM' if t.hour < 12 else 'PM'}"

    # --- the record writer -----------------------------------------------------------------------
    def call(self, event_source: str, event_name: str, *, request: Any = KEEP, response: Any = KEEP,
             error: tuple[str | None, str | None] | None = None, additional: Any = KEEP, resources: Any = KEEP,
             read_only: bool | None = None, agent: str | None = None, ip: str | None = None,
             principal: Principal | None = None, like: tuple[str, str] | None = None,
             management: bool | None = None, region: str | None = None) -> dict:
        """Appends one call's record; ``like`` names the catalog pair to model an uncatalogued call on.

        ``error`` is (errorCode or None, errorMessage or None): a failed call has null responseElements
        (except sign-in failures, written with a None errorCode, which keep theirs).
        ``region`` defaults to the run's; a call in a region the trail does not log leaves no record. ``agent`` and ``ip`` default to the attacker's (a browser for console sessions); a console session
        starts at the scenario's start.
        """
        catalog = self.factory.catalog
        try:
            entry: CatalogEntry = catalog.get(event_source, event_name)
        except GeneratorError:
            if like is None:
                raise
            entry = catalog.get(*like)
        who = principal or self.principal
        region = region or self.region
        logged = entry.global_region or region in (self.run.regions or (self.region,))
        record = dict(self.factory.make(self.rng, self.now, self.account, region, who, entry))
        record["eventName"] = event_name
        record["eventSource"] = event_source
        record.pop("errorCode", None)
        record.pop("errorMessage", None)
        record.pop("vpcEndpointId", None)
        record.pop("vpcEndpointAccountId", None)
        record["sourceIPAddress"] = ip or self.ip
        if who is self.session:
            record["userIdentity"] = who.user_identity
        elif who.console:
            _start_session(record, self.run.start)
        chosen = self.agent if agent is None else agent
        if chosen:
            chosen = render_user_agent(chosen, event_source, event_name)
            if event_source == "s3.amazonaws.com" and "/" in chosen and not chosen.startswith("["):
                chosen = f"[{chosen}]"
            record["userAgent"] = chosen
        if request is not KEEP:
            record["requestParameters"] = request
        if response is not KEEP:
            record["responseElements"] = response
        if error is not None:
            code, message = error
            if code is not None:   # sign-in failures carry only an errorMessage and keep their response
                record["errorCode"] = code
                record["responseElements"] = None
            if message is not None:
                record["errorMessage"] = message
        for key, value in (("additionalEventData", additional), ("resources", resources)):
            if value is DROP:
                record.pop(key, None)
            elif value is not KEEP:
                record[key] = value
        if read_only is not None:
            record["readOnly"] = read_only
        if management is not None:
            record["managementEvent"] = management
            record["eventCategory"] = "Management" if management else "Data"
        ordered = {k: record[k] for k in sorted(record, key=lambda k: _RANK.get(k, len(_RANK)))}
        if not logged:   # the call happened, in a region this trail does not log
            return ordered
        self.run.records.append(ordered)
        self.run.labels.append({
            "eventID": ordered["eventID"],
            "scenario": self.run.scenario.name,
            "technique": self.technique.id,
            "tactic": self.technique.tactic,
            "step": len(self.run.records),
        })
        return ordered


def _start_session(record: dict, start: datetime) -> None:
    """Sets a console session's creationDate to the sign-in (the scenario's start)."""
    context = record["userIdentity"].get("sessionContext")
    if context and "attributes" in context:
        attributes = {**context["attributes"], "creationDate": format_time(start)}
        record["userIdentity"] = {**record["userIdentity"], "sessionContext": {**context, "attributes": attributes}}


def access_denied(attack: Attack, action: str, resource: str) -> tuple[str, str]:
    """(errorCode, errorMessage) of an IAM-style AccessDenied for the attacking principal."""
    arn = attack.principal.user_identity.get("arn", f"arn:aws:iam::{attack.account}:root")
    return ("AccessDenied", f"User: {arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action")
