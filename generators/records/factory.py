"""RecordFactory: one CloudTrail record dict from (rng, time, account, region, principal, catalog entry).

Records share constant sub-objects of the templates: treat records as read-only.
"""
from __future__ import annotations

import functools
import random
from bisect import bisect
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from cloudtrail_emulator.generators.catalog import Catalog, CatalogEntry, EntryBrief, compile_template
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population.agents import (
    CONSOLE_BACKEND,
    client_agent,
    console_agent,
    on_behalf,
    render_browser,
)
from cloudtrail_emulator.generators.records.identity import base_identity, session_age, with_session_created
from cloudtrail_emulator.generators.records.placeholders import RecordContext, pick_pooled
from cloudtrail_emulator.generators.records.pools import POOLS
from cloudtrail_emulator.generators.records.randoms import BASE32, chars, uuid4
from cloudtrail_emulator.generators.times import format_epoch
from cloudtrail_emulator.generators.versions import VPCE_ACCOUNT_VERSION

if TYPE_CHECKING:
    from cloudtrail_emulator.generators.population import Population, Principal

GLOBAL_REGION = "us-east-1"
_EPOCH_DAY0 = date(1970, 1, 1)
TLS_SHARE = 0.99          # of calls that can carry tlsDetails (not invoked by a service, not console-internal)
#: entries at least this likely get generated code for their templates; the long tail gets closures
CODEGEN_WEIGHT = 0.005


class _Compiled:
    """The fill functions of one entry."""

    __slots__ = ("request", "response", "additional", "resources", "details", "host", "resource_arn",
                 "errors", "error_cum")

    def __init__(self, entry: CatalogEntry):
        # generated code fills fastest but is costly to build: only for the entries drawn often
        build = functools.partial(compile_template, codegen=entry.weight >= CODEGEN_WEIGHT)
        self.request = build(entry.request)
        self.response = build(entry.response)
        self.additional = build(entry.additional) if entry.additional is not None else None
        self.resources = build(entry.resources) if entry.resources is not None else None
        self.details = build(entry.details) if entry.details is not None else None
        self.host = build(entry.host) if entry.host else None
        self.resource_arn = build(entry.resource_arn)
        self.errors = [(e.code, build(e.message) if e.message else None) for e in entry.errors]
        self.error_cum = list(accumulate(e.weight for e in entry.errors))


class RecordFactory:
    """Turns (time, account, region, principal, catalog entry, rng) into one record dict."""

    def __init__(self, population: Population, catalog: Catalog, *, data_events: bool = False):
        self.population = population
        self.catalog = catalog
        self.data_events = data_events
        self._aliases = {a.account_id: a.alias for a in population.accounts}
        self._compiled: dict[int, _Compiled] = {}
        self._pools: dict[tuple[str, str], tuple[str, ...]] = {}
        self._principals: dict[str, tuple[tuple, list[float]]] = {}
        self._entry_pools: dict[str, tuple[list[int], list[float]]] = {}
        self._principal_pools: dict[str | None, tuple[list[int], list[float]]] = {}  # by Principal.key
        self._brief_list: list[EntryBrief] | None = None
        self._agents: dict[str, dict[int, str]] = {}                      # template -> entry -> agent
        self._on_behalf: dict[int, tuple[str | None, float]] = {}         # entry -> rule
        self._browsers: dict[tuple[str, int], str] = {}                   # (agent, epoch day) -> agent
        self._versions: dict[tuple[str, str], str] = {}
        self._identities: dict[tuple[str, bool], tuple[dict, int | None]] = {}
        self._moment: tuple[datetime, int, str] | None = None  # the last event time, as epoch and text

    # --- drawing -------------------------------------------------------------------------------
    def pick_principal(self, rng: random.Random, account_id: str) -> Principal:
        """A principal of the account, by the population's activity weights."""
        cached = self._principals.get(account_id)
        if cached is None:
            principals = self.population.principals_in(account_id)
            if not principals:
                raise GeneratorError(f"account {account_id} has no principals in the population")
            cached = self._principals[account_id] = (principals, list(accumulate(p.weight for p in principals)))
        principals, cum = cached
        return principals[bisect(cum, rng.random() * cum[-1])]

    def pick_entry(self, rng: random.Random, principal: Principal | None = None) -> CatalogEntry:
        """A catalog entry this principal plausibly calls, by activity weight (reads dominate)."""
        pool = self._principal_pools.get(principal.key if principal else None)
        if pool is None:
            key = _caller_class(principal)
            pool = self._entry_pools.get(key)
            if pool is None:
                pool = self._entry_pools[key] = self._entry_pool(key)
            self._principal_pools[principal.key if principal else None] = pool
        indices, cum = pool
        return self.catalog.entry(indices[bisect(cum, rng.random() * cum[-1])])

    def _entry_pool(self, key: str) -> tuple[list[int], list[float]]:
        briefs = [b for b in self._briefs() if b.weight > 0 and (self.data_events or b.management)]
        if key.startswith("service:"):
            host = key[len("service:"):]
            chosen = [b for b in briefs if host in b.callers] or [b for b in briefs if "*" in b.callers]
        else:
            console = key == "console"
            chosen = [b for b in briefs if b.identity == "principal" or
                      (b.identity == "console" and console) or (b.identity.startswith("service:") and not console)]
        if not chosen:
            raise GeneratorError(f"the event catalog has nothing a {key} principal calls")
        return [b.index for b in chosen], list(accumulate(b.weight for b in chosen))

    def _briefs(self) -> list[EntryBrief]:
        if self._brief_list is None:
            self._brief_list = self.catalog.briefs()
        return self._brief_list

    # --- resources -----------------------------------------------------------------------------
    def pool(self, account_id: str, kind: str) -> tuple[str, ...]:
        """The account's named resources of a kind (stable for the population seed)."""
        key = (account_id, kind)
        values = self._pools.get(key)
        if values is None:
            size, maker = POOLS[kind]
            r = random.Random(f"{self.population.seed}:{account_id}:{kind}")
            alias = self._aliases.get(account_id, f"acct{account_id[-4:]}")
            if kind == "user":
                names = [p.username for p in self.population.principals_in(account_id)
                         if p.kind == "IAMUser" and p.username]
                values = tuple(dict.fromkeys(names)) or tuple(maker(r, alias) for _ in range(size))
            else:
                values = tuple(maker(r, alias) for _ in range(size))
            self._pools[key] = values
        return values

    def compiled(self, entry: CatalogEntry) -> _Compiled:
        c = self._compiled.get(entry.index)
        if c is None:
            c = self._compiled[entry.index] = _Compiled(entry)
        return c

    def _event_version(self, source: str, day: str) -> str:
        key = (source, day)
        v = self._versions.get(key)
        if v is None:
            v = self._versions[key] = self.catalog.event_version(source, day)
        return v

    def _identity(self, principal: Principal, epoch: int, rng: random.Random, console: bool) -> dict:
        """The principal's userIdentity for this event (session creation time drawn by kind of session)."""
        key = (principal.key, console)
        base = self._identities.get(key)
        if base is None:
            base = self._identities[key] = base_identity(principal, console)
        ui, longest = base
        if longest is None:
            return ui
        return with_session_created(ui, format_epoch(epoch - session_age(rng, longest)))

    def _origin(self, principal: Principal, entry: CatalogEntry, region: str, epoch: int,
               rng: random.Random) -> tuple[str, str, str | None]:
        """Where a principal's call comes from: (sourceIPAddress, userAgent, invokedBy or None)."""
        invoked_by = principal.invoked_by
        if invoked_by:
            return invoked_by, invoked_by, invoked_by
        rule = self._on_behalf.get(entry.index)
        if rule is None:
            rule = self._on_behalf[entry.index] = on_behalf(entry.event_source, entry.event_name)
        if rule[1] and rng.random() < rule[1]:   # a service calls with the principal's credentials
            return rule[0], CONSOLE_BACKEND, rule[0]  # type: ignore[return-value]
        agents = principal.user_agents
        if principal.console:
            template = console_agent(agents, entry.service)
        else:
            template = agents[int(rng.random() * len(agents))] if len(agents) > 1 else agents[0]
        agent = template
        if "{" in template or entry.event_source == "s3.amazonaws.com":   # per-call parts to fill
            rendered = self._agents.get(template)
            if rendered is None:
                rendered = self._agents[template] = {}
            agent = rendered.get(entry.index)
            if agent is None:
                agent = rendered[entry.index] = client_agent(template, entry.event_source, entry.event_name)
        if "{" in agent:   # a browser: its version on the record's day
            day = epoch // 86400
            browser = self._browsers.get((agent, day))
            if browser is None:
                browser = self._browsers[(agent, day)] = render_browser(agent, _EPOCH_DAY0 + timedelta(days=day))
            agent = browser
        addresses = principal.addresses
        if addresses is not None and addresses.per_call:   # workloads: their region's address per call
            return addresses.pick(region, epoch, rng.random()), agent, None
        source_ips = principal.source_ips   # people and CI: the session's address replaces this one
        return source_ips[int(rng.random() * len(source_ips))], agent, None

    # --- records -------------------------------------------------------------------------------
    def make(self, rng: random.Random, event_time: datetime, account_id: str, region: str,
             principal: Principal | None = None, entry: CatalogEntry | None = None, *,
             values: dict[str, Any] | None = None, fail: str | bool | None = None) -> dict:
        """One record in CloudTrail's key order; principal and entry are drawn when not given.

        ``values`` pins placeholders (``{"instance": "i-0..."}`` names that instance wherever the
        templates say ``{{instance}}``); ``fail`` forces the outcome: False succeeds, an error code of
        the entry fails with it, None draws by the entry's error rate.
        """
        when = event_time
        if when.tzinfo is not timezone.utc:
            if when.tzinfo is None:
                raise GeneratorError("event times must be timezone-aware (UTC)")
            when = when.astimezone(timezone.utc)
        if when.microsecond:
            when = when.replace(microsecond=0)
        # records come in time order, many to the same second: format each second once
        moment = self._moment
        if moment is None or moment[0] != when:
            epoch = int(when.timestamp())
            moment = self._moment = (when, epoch, format_epoch(epoch))
        _, epoch, event_time = moment
        if entry is None:
            if principal is None:
                principal = self.pick_principal(rng, account_id)
            entry = self.pick_entry(rng, principal)
        elif principal is None and not entry.identity.startswith("service:"):
            principal = self.pick_principal(rng, account_id)
        home = region   # where the caller is, before a global service's calls are recorded in us-east-1
        if entry.global_region:
            region = GLOBAL_REGION
        c = self.compiled(entry)
        rec = RecordContext(self, rng, account_id, region, when, principal, entry)
        if values:
            rec.cache.update(values)
        g = rec.get

        # who, from where
        identity = entry.identity
        if identity.startswith("service:"):
            host = identity[len("service:"):]
            user_identity: dict = {"accountId": account_id, "invokedBy": host}
            source_ip = agent = host
            invoked_by: str | None = host
            principal = None
        else:
            user_identity = self._identity(principal, epoch, rng, identity == "console")
            source_ip, agent, invoked_by = self._origin(principal, entry, home, epoch, rng)
            if invoked_by and not principal.invoked_by:
                user_identity = {**user_identity, "invokedBy": invoked_by}

        tls = None
        if c.host is not None and not invoked_by and agent != "AWS Internal" and rng.random() < TLS_SHARE:
            if when.year >= 2024 and rng.random() < 0.6 or rng.random() < 0.1:
                version, rec.cipher = "TLSv1.3", "TLS_AES_128_GCM_SHA256"
            else:
                version = "TLSv1.2"
            tls = {"tlsVersion": version, "cipherSuite": rec.cipher, "clientProvidedHostHeader": c.host(g)}

        style = entry.request_id
        if style == "uuid":
            rec.request_id = uuid4(rng)
        elif style == "s3":
            rec.request_id = chars(rng, BASE32, 16)  # 16 of [A-Z2-7], as S3's look

        day = event_time[:10]
        record: dict[str, Any] = {
            "eventVersion": self._event_version(entry.event_source, day),
            "userIdentity": user_identity,
            "eventTime": event_time,
            "eventSource": entry.event_source,
            "eventName": entry.event_name,
            "awsRegion": region,
            "sourceIPAddress": source_ip,
            "userAgent": agent,
        }
        if fail is None:
            failed = entry.error_rate and rng.random() < entry.error_rate
        else:
            failed = isinstance(fail, str)
        if failed:
            if isinstance(fail, str):
                code, message = next(((k, m) for k, m in c.errors if k == fail), (fail, None))
            else:
                code, message = c.errors[bisect(c.error_cum, rng.random() * c.error_cum[-1])]
            record["errorCode"] = code
            if message is not None:
                record["errorMessage"] = message(g)
            throttled = code in ("ThrottlingException", "Client.RequestLimitExceeded", "RequestLimitExceeded")
            record["requestParameters"] = None if throttled else c.request(g)
            record["responseElements"] = None
        else:
            record["requestParameters"] = c.request(g)
            record["responseElements"] = c.response(g)
        if c.additional is not None:
            record["additionalEventData"] = c.additional(g)
        if rec.request_id is not None:
            record["requestID"] = rec.request_id
        record["eventID"] = uuid4(rng)
        record["readOnly"] = entry.read_only
        if c.resources is not None:
            record["resources"] = c.resources(g)
        record["eventType"] = entry.event_type
        if entry.api_version:
            record["apiVersion"] = entry.api_version
        record["managementEvent"] = entry.management
        record["recipientAccountId"] = account_id
        if entry.shared_event or (principal is not None and principal.kind == "AWSService"):
            record["sharedEventID"] = uuid4(rng)
        if c.details is not None:
            record["serviceEventDetails"] = c.details(g)
        if entry.vpce_rate and not invoked_by and rng.random() < entry.vpce_rate:
            record["vpcEndpointId"] = pick_pooled(rec, "vpce")
            if record["eventVersion"] >= VPCE_ACCOUNT_VERSION:   # the endpoint's owner: the account's own
                record["vpcEndpointAccountId"] = account_id
        record["eventCategory"] = entry.category
        if tls is not None:
            record["tlsDetails"] = tls
        if principal is not None and principal.console and entry.event_type == "AwsApiCall":
            record["sessionCredentialFromConsole"] = "true"
        return record


def _caller_class(principal: Principal | None) -> str:
    """Which entry pool a principal draws from."""
    if principal is None:
        return "api"
    if principal.invoked_by:   # an AWS service, itself or through its service-linked role
        return f"service:{principal.invoked_by}"
    return "console" if principal.console else "api"
