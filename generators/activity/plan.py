"""A unit's plan: sessions (who calls, with which credentials) and the timed calls planned for them."""
from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudtrail_emulator.generators.catalog import CatalogEntry
from cloudtrail_emulator.generators.population import Principal

#: changes a written record (request, response of a credential-issuing call); gets the unit's rng and time
Patch = Callable[[dict, random.Random, datetime], None]

#: principals and their cumulative weights, to draw from with `pick_weighted`
Members = tuple[list[Principal], list[float]]


def pick_weighted(rng: random.Random, members: Members) -> Principal:
    """One of the members, by weight (one draw of ``rng``)."""
    principals, cum = members
    return principals[bisect(cum, rng.random() * cum[-1])]


@dataclass(slots=True)
class Session:
    """Who makes a run of calls and with which credentials."""

    principal: Principal                 # the factory draws entries, agents and addresses for it
    identity: dict | None = None         # userIdentity of its calls (the session key); None: the principal's
    ip: str | None = None                # the one address the session calls from
    values: dict[str, Any] | None = None  # placeholders pinned for its calls


@dataclass(frozen=True, slots=True)
class Issued:
    """A session and how its issuing calls were planned: their count and the last one's offset."""

    session: Session
    count: int
    last: int


#: one planned record: (offset s, order, session, entry, fail, values, patch)
Item = tuple[int, int, Session, CatalogEntry, Any, "dict[str, Any] | None", "Patch | None"]
#: one call of a session before it is timed: (entry, fail, values, mean gap before it in s)
Call = tuple[CatalogEntry, Any, "dict[str, Any] | None", float]


class UnitPlan:
    """The items of one (unit, region), being planned."""

    def __init__(self, rng: random.Random, account: str, span: int, start: datetime):
        self.rng = rng
        self.account = account
        self.span = span
        self.start = start
        self.items: list[Item] = []

    def add(self, offset: int, session: Session, entry: CatalogEntry, fail: Any = None,
            values: dict[str, Any] | None = None, patch: Patch | None = None) -> None:
        self.items.append((min(offset, self.span - 1), len(self.items), session, entry, fail, values, patch))
