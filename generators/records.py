"""RecordFactory: one CloudTrail record dict from (rng, time, account, region, principal, catalog entry).

Templates of the catalog are compiled once per entry; per record the factory resolves the placeholders
they use (each name once per record, so ``{{bucket}}`` in ``bucketName`` and ``Host`` agree).
Placeholder vocabulary (``{{name}}``, ``{{name.2}}`` for a second independent value of the same kind,
``{{name:arg}}`` for arguments):

- context: account, region, requestId, callerArn, callerName, action, resourceArn, cipher, az,
  time (eventTime), ctime (IAM "Jul 10, 2023 11:54:39 AM"), expiry[:seconds] (STS
  "Mar 6, 2025, 3:28:21 AM"), epochms, isoms (Lambda "2023-07-10T12:25:32.895+0000")
- fresh values: uuid, UUID, hex:N, HEX:N, alnum:N, ALNUM:N, mixed:N, digits:N, int:lo:hi, akid,
  asia, b64:N (N random bytes, base64), b64url:N, ip (private), pubip
- named resources of the account, stable for a population seed (see ``POOLS``): bucket, instance,
  vpc, subnet, sg, role, user, function, secret, param, kmskey, ...

Records share constant sub-objects of the templates: treat records as read-only.
"""
from __future__ import annotations

import base64
import functools
import random
from bisect import bisect
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Callable

from cloudtrail_emulator.generators.catalog import Catalog, CatalogEntry, EntryBrief, compile_template
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import render_user_agent
from cloudtrail_emulator.generators.times import format_epoch, format_time

if TYPE_CHECKING:
    from cloudtrail_emulator.generators.population import Population, Principal

GLOBAL_REGION = "us-east-1"
MAX_SESSION_SECONDS = 12 * 3600
TLS_SHARE = 0.99          # of calls that can carry tlsDetails (not invoked by a service, not console-internal)
#: entries at least this likely get generated code for their templates; the long tail gets closures
CODEGEN_WEIGHT = 0.005
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HEX = "0123456789abcdef"
_UPPER_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"
_MIXED = _LOWER_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_UUID_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in _HEX}  # a hex digit -> RFC 4122 variant digit
WORDS = ("app", "api", "web", "data", "billing", "orders", "auth", "payments", "analytics", "etl",
         "reports", "search", "users", "inventory", "media", "notify", "ingest", "backup", "ml", "ops",
         "build", "deploy", "monitoring", "frontend", "backend", "batch", "events", "audit", "cache")
ENVS = ("prod", "staging", "dev", "test", "shared")


def uuid4(rng: random.Random) -> str:
    """A random (version 4) UUID string drawn from ``rng``."""
    # version and variant set on the text: masking a 128-bit int costs twice as much
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_UUID_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def _chars(rng: random.Random, alphabet: str, n: int) -> str:
    """n characters of ``alphabet`` (random byte b -> alphabet[b % size]: a slight bias is irrelevant here)."""
    return rng.randbytes(n).translate(_byte_table(alphabet)).decode()


@functools.cache
def _byte_table(alphabet: str) -> bytes:
    """The bytes.translate table mapping each byte value b to alphabet[b % len(alphabet)] (ASCII)."""
    return bytes(ord(alphabet[b % len(alphabet)]) for b in range(256))


def _hexid(prefix: str, n: int = 17) -> Callable[[random.Random, str], str]:
    return lambda r, alias: prefix + "%0*x" % (n, r.getrandbits(4 * n))


def _named(pattern: str) -> Callable[[random.Random, str], str]:
    """Pool maker from a pattern: {w} a word, {e} an environment, {a} the account alias, {h} 4 hex."""
    def make(r: random.Random, alias: str) -> str:
        return pattern.format(w=r.choice(WORDS), e=r.choice(ENVS), a=alias, h="%04x" % r.getrandbits(16),
                              w2=r.choice(WORDS))
    return make


#: kind -> (pool size, maker(rng, account alias)); values are stable per (population seed, account)
POOLS: dict[str, tuple[int, Callable[[random.Random, str], str]]] = {
    "bucket": (10, _named("{a}-{w}-{w2}-{h}")), "object": (40, _named("{w}/{e}/{w2}-{h}.json")),
    "instance": (12, _hexid("i-")), "vpc": (3, _hexid("vpc-")), "subnet": (8, _hexid("subnet-")),
    "sg": (8, _hexid("sg-")), "rtb": (6, _hexid("rtb-")), "igw": (3, _hexid("igw-")),
    "eni": (10, _hexid("eni-")), "vol": (12, _hexid("vol-")), "snap": (8, _hexid("snap-")),
    "ami": (6, _hexid("ami-")), "eipalloc": (4, _hexid("eipalloc-")), "nat": (3, _hexid("nat-")),
    "acl": (3, _hexid("acl-")), "lt": (3, _hexid("lt-")), "vpce": (2, _hexid("vpce-")),
    "dopt": (1, _hexid("dopt-")), "sgr": (8, _hexid("sgr-")), "assoc": (8, _hexid("rtbassoc-")),
    "kmskey": (5, lambda r, a: uuid4(r)),
    "role": (10, _named("{w}-{e}-role")), "user": (8, _named("{w}-{e}-user")),
    "policy": (8, _named("{w}-{e}-policy")), "profile": (4, _named("{w}-{e}-instance-profile")),
    "function": (10, _named("{w}-{w2}-{e}")), "secret": (8, _named("{e}/{w}/{w2}")),
    "param": (12, _named("/{e}/{w}/{w2}")), "loggroup": (8, _named("/aws/lambda/{w}-{w2}-{e}")),
    "table": (6, _named("{w}-{e}")), "queue": (6, _named("{w}-{w2}-{e}")), "topic": (5, _named("{w}-{e}-alerts")),
    "cluster": (3, _named("{w}-{e}")), "db": (4, _named("{w}-{e}-db")), "trail": (2, _named("{a}-{w}-trail")),
    "stack": (6, _named("{w}-{w2}-{e}")), "zone": (3, lambda r, a: "Z" + _chars(r, _UPPER_ALNUM, 13)),
    "keypair": (4, _named("{w}-{e}-key")), "repo": (6, _named("{w}-{w2}")), "word": (12, _named("{w}-{w2}")),
    "detector": (1, lambda r, a: "%032x" % r.getrandbits(128)),
}


class _Record:
    """Per-record state and the placeholder resolver ``get``."""

    __slots__ = ("factory", "rng", "account", "region", "when", "principal", "entry", "request_id",
                 "cipher", "cache")

    def __init__(self, factory: RecordFactory, rng: random.Random, account: str, region: str,
                 when: datetime, principal: Principal | None, entry: CatalogEntry):
        self.factory, self.rng, self.account, self.region = factory, rng, account, region
        self.when, self.principal, self.entry = when, principal, entry
        self.request_id: str | None = None
        self.cipher = "ECDHE-RSA-AES128-GCM-SHA256"
        self.cache: dict[str, Any] = {"account": account, "region": region}  # the commonest, up front

    def get(self, name: str) -> Any:
        cache = self.cache
        if name in cache:
            return cache[name]
        fn, args = _PARSED.get(name) or _parse(name)
        value = cache[name] = fn(self, args)
        return value


def _pool(rec: _Record, kind: str) -> str:
    pool = rec.factory._pools.get((rec.account, kind)) or rec.factory.pool(rec.account, kind)
    return pool[int(len(pool) * rec.rng.random() ** 2)]  # skewed: a few resources get most calls


def _caller_arn(rec: _Record) -> str:
    p = rec.principal
    arn = p.user_identity.get("arn") if p else None
    return arn or f"arn:aws:iam::{rec.account}:root"


def _expiry(rec: _Record, args: tuple[str, ...]) -> str:
    t = rec.when + timedelta(seconds=int(args[0]) if args else 3600)
    hour = t.hour % 12 or 12
    return f"{MONTHS[t.month - 1]} {t.day}, {t.year}, {hour}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"


def _ctime(rec: _Record, args: tuple[str, ...]) -> str:
    t = rec.when
    hour = t.hour % 12 or 12
    return f"{MONTHS[t.month - 1]} {t.day}, {t.year} {hour}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"


_Gen = Callable[[_Record, tuple[str, ...]], Any]
VOCABULARY: dict[str, _Gen] = {
    "account": lambda rec, a: rec.account,
    "region": lambda rec, a: rec.region,
    "requestId": lambda rec, a: rec.request_id,
    "callerArn": lambda rec, a: _caller_arn(rec),
    "callerName": lambda rec, a: (rec.principal.username if rec.principal else None) or "root",
    "action": lambda rec, a: rec.entry.action,
    "resourceArn": lambda rec, a: rec.factory.compiled(rec.entry).resource_arn(rec.get),
    "cipher": lambda rec, a: rec.cipher,
    "az": lambda rec, a: rec.region + "abc"[int(rec.rng.random() * 3)],
    "time": lambda rec, a: format_time(rec.when),
    "ctime": _ctime,
    "expiry": _expiry,
    "epochms": lambda rec, a: int(rec.when.timestamp()) * 1000,
    "isoms": lambda rec, a: rec.when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rec.rng.randrange(1000):03d}+0000",
    "uuid": lambda rec, a: uuid4(rec.rng),
    "UUID": lambda rec, a: uuid4(rec.rng).upper(),
    "hex": lambda rec, a: "%0*x" % (int(a[0]), rec.rng.getrandbits(4 * int(a[0]))),
    "HEX": lambda rec, a: "%0*X" % (int(a[0]), rec.rng.getrandbits(4 * int(a[0]))),
    "alnum": lambda rec, a: _chars(rec.rng, _LOWER_ALNUM, int(a[0])),
    "ALNUM": lambda rec, a: _chars(rec.rng, _UPPER_ALNUM, int(a[0])),
    "mixed": lambda rec, a: _chars(rec.rng, _MIXED, int(a[0])),
    "digits": lambda rec, a: _chars(rec.rng, "0123456789", int(a[0])),
    "int": lambda rec, a: int(a[0]) + int(rec.rng.random() * (int(a[1]) - int(a[0]) + 1)),  # randint, cheaper
    "akid": lambda rec, a: "AKIA" + _chars(rec.rng, _UPPER_ALNUM, 16),
    "asia": lambda rec, a: "ASIA" + _chars(rec.rng, _UPPER_ALNUM, 16),
    "b64": lambda rec, a: base64.b64encode(rec.rng.randbytes(int(a[0]))).decode(),
    "b64url": lambda rec, a: base64.urlsafe_b64encode(rec.rng.randbytes(int(a[0]))).decode().rstrip("="),
    "ip": lambda rec, a: f"10.{rec.rng.randrange(256)}.{rec.rng.randrange(256)}.{rec.rng.randrange(1, 255)}",
    "pubip": lambda rec, a: f"{rec.rng.choice((3, 18, 34, 44, 52, 54))}.{rec.rng.randrange(256)}."
                            f"{rec.rng.randrange(256)}.{rec.rng.randrange(1, 255)}",
}
_PARSED: dict[str, tuple[_Gen, tuple[str, ...]]] = {}


def _parse(name: str) -> tuple[_Gen, tuple[str, ...]]:
    """(generator, arguments) for a placeholder name, memoised."""
    parsed = _PARSED.get(name)
    if parsed is None:
        head, *args = name.split(":")
        base = head.split(".", 1)[0]
        if base in VOCABULARY:
            parsed = (VOCABULARY[base], tuple(args))
        elif base in POOLS:
            parsed = (lambda rec, a, kind=base: _pool(rec, kind), ())
        else:
            raise GeneratorError(f"unknown catalog placeholder {{{{{name}}}}}")
        _PARSED[name] = parsed
    return parsed


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
        self._agents: dict[tuple[str, int], str] = {}
        self._versions: dict[tuple[str, str], str] = {}
        self._identities: dict[tuple[str, bool], tuple[dict, bool]] = {}
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
        """The principal's userIdentity for this event (session creation time resolved)."""
        key = (principal.key, console)
        base = self._identities.get(key)
        if base is None:
            base = self._identities[key] = _base_identity(principal, console)
        ui, session = base
        if not session:
            return ui
        created = epoch - int(rng.random() * MAX_SESSION_SECONDS)
        return _with_session_created(ui, format_epoch(created))

    def _agent(self, template: str, entry: CatalogEntry) -> str:
        """A user agent with its per-call parts filled for this entry (memoised)."""
        key = (template, entry.index)
        agent = self._agents.get(key)
        if agent is None:
            agent = self._agents[key] = render_user_agent(template, entry.event_source, entry.event_name)
        return agent

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
        if entry.global_region:
            region = GLOBAL_REGION
        c = self.compiled(entry)
        rec = _Record(self, rng, account_id, region, when, principal, entry)
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
            invoked_by = principal.invoked_by
            source_ips, agents = principal.source_ips, principal.user_agents
            source_ip = source_ips[int(rng.random() * len(source_ips))]
            agent = agents[int(rng.random() * len(agents))]
            if "{" in agent:
                agent = self._agent(agent, entry)
            if invoked_by:
                source_ip = agent = invoked_by
            elif entry.event_source == "s3.amazonaws.com" and "/" in agent and agent[0] != "[":
                agent = f"[{agent}]"

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
            rec.request_id = _chars(rng, _BASE32, 16)  # 16 of [A-Z2-7], as S3's look

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
            record["vpcEndpointId"] = _pool(rec, "vpce")
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
    if principal.kind == "AWSService" and principal.invoked_by:
        return f"service:{principal.invoked_by}"
    return "console" if principal.console else "api"


def _base_identity(principal: Principal, console: bool) -> tuple[dict, bool]:
    """The principal's userIdentity as written for this kind of call, and whether it holds a session."""
    ui = principal.user_identity
    if console:
        ui = {k: v for k, v in ui.items() if k not in ("accessKeyId", "invokedBy")
              and not (k == "sessionContext" and ui.get("type") != "AssumedRole")}
    context = ui.get("sessionContext")
    return ui, bool(context and "attributes" in context)


def _with_session_created(ui: dict, created: str) -> dict:
    """A copy of ``ui`` with sessionContext.attributes.creationDate set (the rest stays shared)."""
    context = ui["sessionContext"]  # updating existing keys keeps their places in the copies
    return {**ui, "sessionContext": {**context, "attributes": {**context["attributes"], "creationDate": created}}}
