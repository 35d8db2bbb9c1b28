"""Scenario machinery: techniques, the registry, and ``Attack``, which writes an attack's records.

A scenario is a function ``play(attack)`` that calls ``attack.call(...)`` once per API call the
attacker makes, in order. ``Attack`` builds each record with the project's ``RecordFactory`` (so
identity, request IDs, TLS details and eventVersion follow the baseline's rules), then overrides
what the attack needs (request/response, error, source IP, user agent) and puts the keys back in
CloudTrail's order. Every record carries its ground-truth label.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cloudtrail_emulator.generators.catalog import CatalogEntry
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import Population, Principal, render_user_agent
from cloudtrail_emulator.generators.records import RecordFactory, uuid4
from cloudtrail_emulator.generators.times import format_time

#: CloudTrail's key order (records/factory.py writes the same); overrides are re-sorted to it
KEY_ORDER = (
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
    "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
    "responseElements", "additionalEventData", "requestID", "eventID", "readOnly", "resources",
    "eventType", "apiVersion", "managementEvent", "recipientAccountId", "sharedEventID",
    "serviceEventDetails", "vpcEndpointId", "eventCategory", "tlsDetails", "sessionCredentialFromConsole",
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


@dataclass(frozen=True)
class Technique:
    """A MITRE ATT&CK (Enterprise) technique and the tactic it serves in the scenario."""

    id: str        # "T1098.001"
    name: str
    tactic: str    # ATT&CK tactic short name, e.g. "persistence"


@dataclass(frozen=True)
class Scenario:
    """One attack technique played as a sequence of API calls."""

    name: str
    description: str
    techniques: tuple[Technique, ...]       # the first is the scenario's main technique
    play: Callable[[Attack], None]
    actor: tuple[str, ...] = ("user",)      # principal categories it runs as by default, in preference order

    @property
    def tactic(self) -> str:
        return self.techniques[0].tactic


@dataclass
class ScenarioRun:
    """A played scenario: its records in call order and their labels (same order)."""

    scenario: Scenario
    account_id: str
    region: str
    principal: Principal
    start: datetime
    records: list[dict] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)


_REGISTRY: dict[str, Scenario] = {}


def register(scenario: Scenario) -> Scenario:
    """Adds a scenario to the registry (names are unique)."""
    if scenario.name in _REGISTRY:
        raise GeneratorError(f"scenario {scenario.name!r} registered twice")
    _REGISTRY[scenario.name] = scenario
    return scenario


def scenario(name: str, description: str, *techniques: Technique, actor: tuple[str, ...] = ("user",)):
    """Decorator registering ``play`` as a scenario."""
    def wrap(play: Callable[[Attack], None]) -> Callable[[Attack], None]:
        register(Scenario(name, description, techniques, play, actor))
        return play
    return wrap


def all_scenarios() -> tuple[Scenario, ...]:
    """Every registered scenario, by name."""
    return tuple(_REGISTRY[n] for n in sorted(_REGISTRY))


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; GeneratorError naming the choices otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise GeneratorError(f"unknown scenario {name!r} (see `cloudtrail-emulator scenarios list`)") from None


def default_principal(population: Population, account_id: str, scenario: Scenario,
                      rng: random.Random) -> Principal:
    """A principal of the account in the scenario's preferred category (any human one as a fallback)."""
    principals = population.principals_in(account_id)
    for category in scenario.actor:
        matches = [p for p in principals if p.category == category]
        if matches:
            return matches[int(rng.random() * len(matches))]
    humans = [p for p in principals if p.kind in ("IAMUser", "AssumedRole") and p.access_key_id
              and p.category not in ("service-role", "instance", "lambda")]
    if not humans:
        raise GeneratorError(f"account {account_id} has no principal to run scenario {scenario.name!r} as")
    return humans[int(rng.random() * len(humans))]


class Attack:
    """Writes one scenario's records: a clock, the attacker's network identity, and ``call``."""

    def __init__(self, factory: RecordFactory, rng: random.Random, run: ScenarioRun):
        self.factory = factory
        self.rng = rng
        self.run = run
        self.account = run.account_id
        self.region = run.region
        self.principal = run.principal
        self.now = run.start
        net = ATTACKER_NETS[int(rng.random() * len(ATTACKER_NETS))]
        self.ip = f"{net[0]}.{net[1]}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        self.agent = BROWSER_AGENT if run.principal.console else ATTACKER_AGENTS[int(rng.random() * len(ATTACKER_AGENTS))]
        self.technique = run.scenario.techniques[0]

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

    def other_user(self) -> str:
        """An IAM user name of the account that is not the attacking principal's."""
        names = [u for u in self.pool("user") if u != self.principal.username] or list(self.pool("user"))
        return names[int(self.rng.random() * len(names))]

    def foreign_account(self) -> str:
        """A 12-digit account id outside the population (the attacker's)."""
        own = {a.account_id for a in self.factory.population.accounts}
        while True:
            candidate = str(self.rng.randrange(10**11, 10**12))
            if candidate not in own:
                return candidate

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
             management: bool | None = None) -> dict:
        """Appends one call's record; ``like`` names the catalog pair to model an uncatalogued call on.

        ``error`` is (errorCode or None, errorMessage or None): a failed call has null responseElements
        (except sign-in failures, written with a None errorCode, which keep theirs).
        ``agent`` and ``ip`` default to the attacker's (a browser for console sessions); a console session
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
        record = dict(self.factory.make(self.rng, self.now, self.account, self.region, who, entry))
        record["eventName"] = event_name
        record["eventSource"] = event_source
        record.pop("errorCode", None)
        record.pop("errorMessage", None)
        record.pop("vpcEndpointId", None)
        record["sourceIPAddress"] = ip or self.ip
        if who.console:
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
