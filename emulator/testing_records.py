"""A record builder for tests: a whole CloudTrail record from a few fields, the rest filled by the
generator's own record factory (``generators.records``), so it is as realistic and consistent as a
generated trail's records (identity, source IP and user agent of one principal, request and response
of the event's catalog templates, eventVersion of the service and date, key order).

    build = RecordBuilder(seed=1)
    record = build("CreateUser", user="alice", event_time="2024-05-01T10:00:00Z")
    emulator.put_records([record, build("DeleteTrail", error_code="TrailNotFoundException")])

Export: ``RecordBuilder`` (reproducible for a seed: each call draws the next record), ``make_record``
(one record from a fresh random seed).
"""
from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from cloudtrail_emulator.generators.catalog import Catalog, CatalogEntry, load_catalog
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import Population, Principal, build_population
from cloudtrail_emulator.generators.population.identifiers import aws_id
from cloudtrail_emulator.generators.population.identities import user_identity
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.times import parse_iso

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


class RecordBuilder:
    """Builds CloudTrail records from a few fields; the same seed and calls give the same records."""

    def __init__(self, seed: int = 0, account_id: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION):
        self.seed = seed
        self.account_id = account_id
        self.region = region
        self._rng = random.Random(f"records:{seed}")
        self._catalog: Catalog = load_catalog()
        self._factories: dict[str, RecordFactory] = {}
        self._sources: dict[str, list[str]] = {}
        for source, name in sorted(self._catalog.pairs()):
            self._sources.setdefault(name, []).append(source)

    def _factory(self, account_id: str) -> RecordFactory:
        factory = self._factories.get(account_id)
        if factory is None:
            population: Population = build_population(self.seed, [account_id])
            factory = self._factories[account_id] = RecordFactory(population, self._catalog)
        return factory

    def _entry(self, event_name: str, event_source: str | None) -> CatalogEntry:
        """The catalog entry; without `event_source`, the service where `event_name` is most common."""
        if event_source is not None:
            return self._catalog.get(event_source, event_name)
        sources = self._sources.get(event_name)
        if not sources:
            raise GeneratorError(f"event {event_name!r} is not in the event catalog: check the name, or give "
                                 "event_source for a known service")
        return max((self._catalog.get(source, event_name) for source in sources), key=lambda e: e.weight)

    def _user(self, factory: RecordFactory, account_id: str, name: str) -> Principal:
        """IAM user `name` of the account, calling from the addresses and agents of one of its users."""
        principals = factory.population.principals_in(account_id)
        base = next((p for p in principals if p.kind == "IAMUser" and not p.console),
                    next(p for p in principals if p.kind != "AWSService"))
        rng = random.Random(f"{self.seed}:{account_id}:user:{name}")
        key_id = aws_id("AKIA", account_id, rng, 20)
        identity = user_identity(account_id, aws_id("AIDA", account_id, rng, 21), name, key_id, None)
        return dataclasses.replace(base, key=f"{account_id}:user/{name}", kind="IAMUser", user_identity=identity,
                                   access_key_id=key_id, username=name, console=False, invoked_by=None)

    def record(self, event_name: str, event_source: str | None = None, *, account_id: str | None = None,
               region: str | None = None, event_time: datetime | str | None = None, user: str | None = None,
               error_code: str | None = None, values: Mapping[str, Any] | None = None, **fields: Any) -> dict:
        """One record of `event_name` in `event_source` (e.g. "iam.amazonaws.com"; default: the service
        in which the event catalog sees that name most often, iam for CreateUser).

        `account_id` and `region` default to the builder's; `event_time` (aware datetime or ISO 8601)
        to now; `user` names the IAM user who called (default: a principal of the account drawn as
        generated trails draw them); `error_code` makes the call fail with that code (default: it
        succeeds); `values` pins template placeholders (``{"user": "bob"}``); `fields` replace
        top-level record fields last (``sourceIPAddress="203.0.113.9"``). Global services keep
        us-east-1 as AWS logs them.
        """
        account_id = account_id or self.account_id
        if not (isinstance(account_id, str) and account_id.isdigit() and len(account_id) == 12):
            raise GeneratorError(f"account ids are 12 digits, not {account_id!r}")
        entry = self._entry(event_name, event_source)
        if isinstance(event_time, str):
            event_time = parse_iso(event_time)
        when = (event_time or datetime.now(timezone.utc)).astimezone(timezone.utc)
        factory = self._factory(account_id)
        principal = None
        if user is not None:
            if entry.identity.startswith("service:"):
                raise GeneratorError(f"{entry.event_source} {event_name} is called by "
                                     f"{entry.identity[len('service:'):]}, not by a user")
            principal = self._user(factory, account_id, user)
        record = factory.make(self._rng, when, account_id, region or self.region, principal, entry,
                              values=dict(values) if values else None, fail=error_code or False)
        record.update(fields)
        return record

    __call__ = record


_shared: RecordBuilder | None = None


def make_record(event_name: str, event_source: str | None = None, **options: Any) -> dict:
    """One record (options as `RecordBuilder.record`) from a builder seeded at random once per process:
    every call draws a new record (a new eventID)."""
    global _shared
    if _shared is None:
        _shared = RecordBuilder(seed=random.SystemRandom().getrandbits(32))
    return _shared.record(event_name, event_source, **options)
