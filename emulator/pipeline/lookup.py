"""LookupEvents over the event index: attributes, time window, category, pages, optional throttle."""
from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

import orjson

from cloudtrail_emulator.emulator.protocols.json11 import RequestContext
from cloudtrail_emulator.emulator.services.cloudtrail.exceptions import CloudTrailError, InvalidTimeRangeException
from cloudtrail_emulator.emulator.config import Clock
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.emulator.pipeline.events import (ATTRIBUTE_COLUMNS, KIND_INSIGHT, KIND_MANAGEMENT, RESOURCE_COLUMNS, EventStore, Query,
                             lookup_username)
from cloudtrail_emulator.generators.times import parse_time

WINDOW = timedelta(days=90)
MAX_RESULTS = 50
KEYS = frozenset(ATTRIBUTE_COLUMNS) | frozenset(RESOURCE_COLUMNS)


class InvalidLookupAttributesException(CloudTrailError): ...
class InvalidMaxResultsException(CloudTrailError): ...
class InvalidNextTokenException(CloudTrailError): ...
class InvalidEventCategoryException(CloudTrailError): ...


class ThrottlingException(AwsError):
    code = "ThrottlingException"


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


class Throttle:
    """At most `rate` calls per second per key (sliding one-second window, monotonic clock)."""

    def __init__(self, rate: int, monotonic: Callable[[], float] = time.monotonic):
        self.rate = rate
        self._monotonic = monotonic
        self._calls: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: tuple[str, str]) -> bool:
        now = self._monotonic()
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - 1.0:
                calls.popleft()
            if len(calls) >= self.rate:
                return False
            calls.append(now)
            return True


class LookupEvents:
    """The LookupEvents handler: `LookupEvents(store, clock)(ctx, params) -> output dict`.

    `delay` hides events whose eventTime is less than that old on `clock` (AWS shows an event within
    minutes of the call; zero shows it at once)."""

    def __init__(self, store: EventStore, clock: Clock, *, throttle: Throttle | None = None,
                 delay: timedelta = timedelta(0)):
        if delay < timedelta(0):
            raise ValueError(f"the LookupEvents delay must not be negative, not {delay.total_seconds()} s")
        self.store = store
        self.clock = clock
        self.throttle = throttle
        self.delay = delay

    def __call__(self, ctx: RequestContext, p: dict) -> dict:
        if self.throttle is not None and not self.throttle.admit((ctx.account_id, ctx.region)):
            raise ThrottlingException("Rate exceeded")
        attribute = _attribute(p.get("LookupAttributes") or [])
        kind = _kind(p.get("EventCategory"))
        limit = p.get("MaxResults", MAX_RESULTS)
        if not 1 <= limit <= MAX_RESULTS:
            raise InvalidMaxResultsException(f"Value {limit} for MaxResults is invalid: it must be "
                                             f"between 1 and {MAX_RESULTS}.")
        now = self.clock.now()
        start, end = p.get("StartTime"), p.get("EndTime", now)
        if start is not None and start > end:
            raise InvalidTimeRangeException()
        first = max(start or now - WINDOW, now - WINDOW)
        last = min(end, now - self.delay)
        fingerprint = _fingerprint(ctx, p)
        after = _read_token(p["NextToken"], fingerprint) if p.get("NextToken") else None
        query = Query(ctx.account_id, ctx.region, kind, _epoch(first), _epoch(last), limit + 1,
                      attribute, after)
        found = self.store.lookup(query) if _epoch(first) <= _epoch(last) else []
        out: dict = {"Events": [_event(row.body, row.resources) for row in found[:limit]]}
        if len(found) > limit:
            last = found[limit - 1]
            out["NextToken"] = _token(last.event_time, last.seq, fingerprint)
        return out


def _attribute(attributes: list[dict]) -> tuple[str, str] | None:
    if len(attributes) > 1:
        raise InvalidLookupAttributesException("You cannot specify more than one lookup attribute.")
    if not attributes:
        return None
    key, value = attributes[0]["AttributeKey"], attributes[0]["AttributeValue"]
    if key not in KEYS:
        raise InvalidLookupAttributesException(
            f"Invalid AttributeKey {key!r}: it must be one of {', '.join(sorted(KEYS))}.")
    if not 1 <= len(value) <= 2000:
        raise InvalidLookupAttributesException("AttributeValue must be 1 to 2000 characters long.")
    return key, value


def _kind(category: str | None) -> int:
    if category is None:
        return KIND_MANAGEMENT
    if category != "insight":
        raise InvalidEventCategoryException(f"Invalid EventCategory {category!r}: the only value is insight.")
    return KIND_INSIGHT


def _fingerprint(ctx: RequestContext, p: dict) -> str:
    """What a NextToken is tied to: caller's account and region and every query parameter but paging."""
    shown = {k: (v.timestamp() if isinstance(v, datetime) else v) for k, v in p.items()
             if k not in ("NextToken", "MaxResults")}
    raw = orjson.dumps([ctx.account_id, ctx.region, shown], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(raw).hexdigest()[:24]


def _token(event_time: int, seq: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"1:{event_time}:{seq}:{fingerprint}".encode()).decode()


def _read_token(token: str, fingerprint: str) -> tuple[int, int]:
    try:
        version, at, seq, tied = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        if version == "1" and tied == fingerprint:
            return int(at), int(seq)
    except (ValueError, UnicodeError, binascii.Error):
        pass
    raise InvalidNextTokenException("Invalid NextToken: it does not belong to this query.")


def _event(body: bytes, resources: list[tuple[str, str]]) -> dict:
    """One `Event` of the output from the stored record."""
    record = orjson.loads(body)
    read_only = record.get("readOnly")
    return {
        "EventId": record["eventID"],
        "EventName": record.get("eventName"),
        "ReadOnly": None if read_only is None else ("true" if read_only else "false"),
        "AccessKeyId": (record.get("userIdentity") or {}).get("accessKeyId"),
        "EventTime": parse_time(record["eventTime"]),
        "EventSource": record.get("eventSource"),
        "Username": lookup_username(record.get("userIdentity")),
        "Resources": [{"ResourceType": t, "ResourceName": n} if t else {"ResourceName": n}
                      for t, n in resources],
        "CloudTrailEvent": body.decode("utf-8"),
    }
