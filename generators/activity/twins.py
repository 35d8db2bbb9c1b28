"""Requests CloudTrail logs as two records sharing one requestID ("twins"), planned as such.

Every other record carries a requestID of its own. The reference trails (Invictus, 2023-07-10)
share 45 requestIDs between 92 records, in three ways:

- 23: the console's Health widget. ``health DescribeEventAggregates`` of a console session is logged
  once as the session's call and once more with ``invokedBy: health.amazonaws.com`` (``sourceIPAddress``
  the service, ``userAgent`` ``AWS Internal``), same second, same requestID. The real twin carries
  another ASIA key, one no record of the trail issues; here it keeps the session's key, so the
  twin adds no key that no call issued;
- 20: Secrets Manager deleting a secret. ``StartSecretVersionDelete`` and ``EndSecretVersionDelete``
  (``AwsServiceEvent``) come in the same second with the requestID
  ``SecretDeleteMessage:<secret ARN>:<minute of the deletion request>:Forced``, the request 5-30 s
  before them;
- 2: ``RunInstances`` with an instance profile, whose requestID the instance role's ``AssumeRole``
  records by ``ec2.amazonaws.com`` carry. Not made here: the catalog's RunInstances launches no
  instance profile.

The activity model plans its records before writing them. ``Twins.pair`` turns, for each call
logged as twins, the next plain call of the same session (a working-set call without forced outcome
or patch) into the second record: the unit keeps its count, the pair its second. The twin is written
from the first record (same key order, its own eventID) by the patch the pair shares.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cloudtrail_emulator.generators.activity.plan import Item, Patch, Session, UnitPlan
from cloudtrail_emulator.generators.catalog import Catalog, CatalogEntry
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.times import format_time

HEALTH = "health.amazonaws.com"
SECRETS = "secretsmanager.amazonaws.com"
#: seconds between a secret's deletion request and Secrets Manager's Start/End events (reference: 5-28)
SECRET_DELETE_DELAY = (5, 30)

#: builds the second record from the first: (first, second as made, rng, time) -> None, in place
Derive = Callable[[dict, dict, random.Random, datetime], None]


@dataclass(frozen=True, slots=True)
class _Pairing:
    """How one catalog entry's calls become twins."""

    first: CatalogEntry                  # the entry the first record is written as
    second: CatalogEntry                 # the entry the second record is planned as
    console_only: bool                   # only calls of console sessions
    request_id: Callable[[dict, random.Random, datetime], str | None]   # the shared id (None: the first's)
    derive: Derive


class Twins:
    """The pairings of a catalog, and the planning of twins into a unit's plan."""

    def __init__(self, catalog: Catalog):
        self._pairings: dict[int, _Pairing] = {}
        try:
            health = catalog.get(HEALTH, "DescribeEventAggregates")
            start = catalog.get(SECRETS, "StartSecretVersionDelete")
            end = catalog.get(SECRETS, "EndSecretVersionDelete")
        except GeneratorError:   # a catalog without them: no twins
            return
        self._pairings[health.index] = _Pairing(health, health, True, _own_request_id, _health_for_console)
        deletion = _Pairing(start, end, False, _secret_delete_request_id, _secret_delete_end)
        self._pairings[start.index] = self._pairings[end.index] = deletion

    def pair(self, plan: UnitPlan) -> None:
        """Makes the plan's twin-logged calls twins, each with the next plain call of its session."""
        if not self._pairings:
            return
        items, taken = plan.items, set()
        for i, item in enumerate(items):
            pairing = self._pairings.get(item[3].index)
            session = item[2]
            if pairing is None or i in taken or (pairing.console_only and not session.principal.console):
                continue
            j = next((k for k in range(i + 1, len(items)) if k not in taken and self._plain(items[k], session)),
                     None)
            if j is None:
                continue
            taken.add(j)
            first, second = _patches(pairing)
            items[i] = (item[0], item[1], session, pairing.first, item[4], item[5], _chain(item[6], first))
            items[j] = (item[0], items[j][1], session, pairing.second, False, items[j][5], second)

    def _plain(self, item: Item, session: Session) -> bool:
        """A call of this session that nothing else depends on (a working-set call, outcome drawn)."""
        return (item[2] is session and item[5] is session.values and item[4] is None and item[6] is None
                and item[3].index not in self._pairings)


def _patches(pairing: _Pairing) -> tuple[Patch, Patch]:
    """The patches of a pair: the first sets the shared requestID, the second is derived from it."""
    written: list[dict] = []

    def first(record: dict, rng: random.Random, when: datetime) -> None:
        request_id = pairing.request_id(record, rng, when)
        if request_id is not None:
            record["requestID"] = request_id
        written.append(record)

    def second(record: dict, rng: random.Random, when: datetime) -> None:
        pairing.derive(written[0], record, rng, when)

    return first, second


def _chain(before: Patch | None, after: Patch) -> Patch:
    if before is None:
        return after

    def both(record: dict, rng: random.Random, when: datetime) -> None:
        before(record, rng, when)
        after(record, rng, when)
    return both


def _copy_of(first: dict, second: dict) -> None:
    """Turns ``second`` into a copy of ``first`` (its key order) that keeps its own eventID."""
    event_id = second["eventID"]
    second.clear()
    second.update(first)
    second["eventID"] = event_id


def _own_request_id(record: dict, rng: random.Random, when: datetime) -> str | None:
    return None


def _health_for_console(first: dict, second: dict, rng: random.Random, when: datetime) -> None:
    """The Health service's own record of a console call: invokedBy, no TLS details."""
    _copy_of(first, second)
    second["userIdentity"] = {**first["userIdentity"], "invokedBy": HEALTH}
    second["sourceIPAddress"] = HEALTH
    second["userAgent"] = "AWS Internal"
    second.pop("tlsDetails", None)
    second.pop("vpcEndpointId", None)
    second.pop("vpcEndpointAccountId", None)


def _secret_delete_request_id(record: dict, rng: random.Random, when: datetime) -> str | None:
    arn = (record.get("additionalEventData") or {}).get("ARN")
    if not arn:
        return None
    requested = when - timedelta(seconds=rng.randint(*SECRET_DELETE_DELAY))
    return f"SecretDeleteMessage:{arn}:{format_time(requested.replace(second=0))}:Forced"


def _secret_delete_end(first: dict, second: dict, rng: random.Random, when: datetime) -> None:
    _copy_of(first, second)
    second["eventName"] = "EndSecretVersionDelete"
