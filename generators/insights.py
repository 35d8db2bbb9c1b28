"""CloudTrail Insights: unusual API call and error rates found in a record stream, and their files.

``InsightDetector`` reads records in time order (per account and region) and counts, per minute:
- ``ApiCallRateInsight``: write management API calls (``AwsApiCall``, ``readOnly`` false), per
  eventSource + eventName, errors included;
- ``ApiErrorRateInsight``: management API calls that answered an error, read or write, per
  eventSource + eventName + errorCode.

Each count is compared with its baseline: the average calls per minute over the trailing
``baseline_window`` (zero minutes included, capped to the time the detector has watched the account
and region). A minute with at least ``min_count`` calls and at least ``factor`` times the baseline,
once ``warmup`` minutes of baseline exist, starts an Insights event: a ``Start`` record (eventTime:
that minute). It lasts while each following minute keeps at least half that threshold; the first
minute below it ends it with an ``End`` record (eventTime: the end of the last unusual minute) with
the same ``sharedEventID``, the insight's duration and the baseline's duration. Unusual minutes do not
enter the baseline. Memory holds, per API, the baseline window's non-empty minutes.

Records are shaped as CloudTrail writes them for trails (eventVersion 1.07 for call-rate, 1.08 for
error-rate insights, which name their errorCode); attributions list the top ``top`` user identity
ARNs, user agents and (call rate only) error codes ("null": no error) of the first minute (Start) or
the whole insight (End) and of the baseline. Delivery: ``insight_files`` batches them into
``AWSLogs/<account>/CloudTrail-Insight/<region>/...`` files like log files (no digests cover them).
"""
from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.logfiles import (DELIVERY_LAG_SECONDS, SUFFIX_ALPHABET, WINDOW_SECONDS, LogFile,
                                 encode_log_file)
from cloudtrail_emulator.generators.trail.layout import insight_file_key
from cloudtrail_emulator.generators.records import uuid4
from cloudtrail_emulator.generators.times import format_epoch, parse_time

CALL_RATE, ERROR_RATE = "ApiCallRateInsight", "ApiErrorRateInsight"
INSIGHT_TYPES = (CALL_RATE, ERROR_RATE)
EVENT_VERSIONS = {CALL_RATE: "1.07", ERROR_RATE: "1.08"}
_ATTRIBUTES = {CALL_RATE: ("userIdentityArn", "userAgent", "errorCode"),
               ERROR_RATE: ("userIdentityArn", "userAgent")}

Key = tuple[str, str, str, str | None]      # (insight type, eventSource, eventName, errorCode)
Attrs = Counter  # Counter[(attribute, value)]


@dataclass(frozen=True)
class InsightSettings:
    """What counts as unusual; the defaults suit generated baselines (~600 records/hour)."""

    types: tuple[str, ...] = INSIGHT_TYPES
    baseline_window: timedelta = timedelta(days=7)
    warmup: timedelta = timedelta(hours=1)
    min_count: int = 10
    factor: float = 10.0
    top: int = 5

    def __post_init__(self) -> None:
        unknown = [t for t in self.types if t not in INSIGHT_TYPES]
        if unknown or not self.types:
            raise GeneratorError(f"insight types must be among {', '.join(INSIGHT_TYPES)}, not {self.types!r}")
        if self.min_count < 1 or self.factor <= 1 or self.top < 1:
            raise GeneratorError("insight settings: min_count and top must be at least 1, factor above 1")
        if not timedelta(minutes=1) <= self.warmup <= self.baseline_window:
            raise GeneratorError("insight settings: warmup must be from one minute to the baseline window")


@dataclass
class _Active:
    """An insight in progress."""

    shared_id: str
    start: int                  # epoch minute
    keep: float                 # a minute needs this many calls to continue it
    baseline_average: float
    baseline_minutes: int
    baseline_attrs: list[dict]
    minutes: int = 0
    count: int = 0
    attrs: Attrs = field(default_factory=Counter)


@dataclass
class _Series:
    """One API's (and error code's) baseline minutes in one account and region."""

    window: deque = field(default_factory=deque)    # (minute, count, attrs), oldest first
    total: int = 0
    attrs: Attrs = field(default_factory=Counter)
    active: _Active | None = None

    def expire(self, before: int) -> None:
        while self.window and self.window[0][0] < before:
            _, count, attrs = self.window.popleft()
            self.total -= count
            self.attrs.subtract(attrs)
            for gone in [k for k in attrs if self.attrs[k] <= 0]:
                del self.attrs[gone]

    def push(self, minute: int, count: int, attrs: Attrs) -> None:
        self.window.append((minute, count, attrs))
        self.total += count
        self.attrs.update(attrs)


@dataclass
class _Group:
    """One account and region: its open minute's tallies and its APIs' baselines."""

    account: str
    region: str
    first: int
    minute: int
    tallies: dict[Key, list] = field(default_factory=dict)   # key -> [count, attrs]
    series: dict[Key, _Series] = field(default_factory=dict)


def _minute(event_time: str) -> int:
    try:
        at = parse_time(event_time)
    except (TypeError, ValueError):
        raise GeneratorError(f"record without a valid eventTime (YYYY-MM-DDTHH:MM:SSZ): {event_time!r}") from None
    return int(at.timestamp()) // 60


def _number(value: float) -> float | int:
    """Averages as CloudTrail prints them: whole numbers bare, others to 10 decimals."""
    return int(value) if value == int(value) else round(value, 10)


def _keys(record: dict, types: tuple[str, ...]) -> list[Key]:
    """The insight series a record counts in (none for data, insight or non-API events)."""
    if record.get("eventType") != "AwsApiCall" or record.get("managementEvent") is False \
            or record.get("eventCategory", "Management") != "Management":
        return []
    source, name, error = record.get("eventSource"), record.get("eventName"), record.get("errorCode")
    keys: list[Key] = []
    if CALL_RATE in types and record.get("readOnly") is False:
        keys.append((CALL_RATE, source, name, None))
    if ERROR_RATE in types and error:
        keys.append((ERROR_RATE, source, name, error))
    return keys


def _attributes(record: dict) -> Attrs:
    identity = record.get("userIdentity") or {}
    arn = identity.get("arn") or identity.get("invokedBy") or identity.get("principalId") or "null"
    return Counter({("userIdentityArn", arn): 1, ("userAgent", record.get("userAgent") or "null"): 1,
                    ("errorCode", record.get("errorCode") or "null"): 1})


class InsightDetector:
    """Streams records (time-ordered per account and region) into Insights Start/End records."""

    def __init__(self, rng: random.Random, settings: InsightSettings | None = None):
        self.rng = rng
        self.settings = settings or InsightSettings()
        self._window = int(self.settings.baseline_window.total_seconds()) // 60
        self._warmup = int(self.settings.warmup.total_seconds()) // 60
        self._groups: dict[tuple[str, str], _Group] = {}

    def add(self, record: dict) -> list[dict]:
        """Count one record; returns the insight records the minutes it closes produced.

        A record older than its account and region's open minute counts in that minute."""
        keys = _keys(record, self.settings.types)
        if not keys:
            return []
        minute = _minute(record.get("eventTime"))
        where = (record["recipientAccountId"], record["awsRegion"])
        group = self._groups.get(where)
        out: list[dict] = []
        if group is None:
            group = self._groups[where] = _Group(*where, first=minute, minute=minute)
        elif minute > group.minute:
            out = self._move(group, minute)
        attrs = _attributes(record)
        for key in keys:
            tally = group.tallies.setdefault(key, [0, Counter()])
            tally[0] += 1
            tally[1].update(attrs)
        return out

    def advance(self, until: datetime) -> list[dict]:
        """Close every minute before ``until`` (no more records will come for them)."""
        minute = int(until.timestamp()) // 60
        return [r for g in self._groups.values() if minute > g.minute for r in self._move(g, minute)]

    def flush(self) -> list[dict]:
        """After the last record: close the open minutes and end every insight in progress."""
        return [r for g in self._groups.values() for r in self._move(g, g.minute + 2)]

    def _move(self, group: _Group, minute: int) -> list[dict]:
        out = self._close(group, group.minute)
        if minute > group.minute + 1 and any(s.active for s in group.series.values()):
            out += self._close(group, group.minute + 1)
        group.minute = minute
        return out

    def _close(self, group: _Group, minute: int) -> list[dict]:
        """Judge one finished minute of every series that had calls in it or an insight open."""
        tallies, group.tallies = group.tallies, {}
        keys = list(tallies) + [k for k, s in group.series.items() if s.active and k not in tallies]
        out: list[dict] = []
        s = self.settings
        elapsed = min(self._window, minute - group.first)
        for key in keys:
            count, attrs = tallies.get(key, (0, Counter()))
            series = group.series.setdefault(key, _Series())
            series.expire(minute - self._window)
            active = series.active
            if active is not None:
                if count >= active.keep:
                    active.minutes += 1
                    active.count += count
                    active.attrs.update(attrs)
                    continue
                out.append(self._end(group, key, active, minute))
                series.active = None
            if count:
                average = series.total / elapsed if elapsed else 0.0
                threshold = max(s.min_count, s.factor * average)
                if elapsed >= self._warmup and count >= threshold:
                    series.active = _Active(uuid4(self.rng), minute, threshold / 2, average, elapsed,
                                            self._attributions(key, series.attrs, elapsed), 1, count, attrs)
                    out.append(self._start(group, key, series.active))
                    continue
                series.push(minute, count, attrs)
            if not series.window and series.active is None:
                del group.series[key]
        return out

    def _attributions(self, key: Key, attrs: Attrs, minutes: int) -> list[dict]:
        """Per attribute, its top values with their average calls per minute."""
        result = []
        for attribute in _ATTRIBUTES[key[0]]:
            values = sorted(((n, v) for (a, v), n in attrs.items() if a == attribute and n > 0),
                            key=lambda item: (-item[0], item[1]))[: self.settings.top]
            result.append([{"value": v, "average": _number(n / minutes)} for n, v in values] if minutes else [])
        return result

    def _context(self, key: Key, active: _Active, insight_attrs: list[list[dict]], insight_average: float,
                 end: bool) -> dict:
        statistics: dict = {"baseline": {"average": _number(active.baseline_average)},
                            "insight": {"average": _number(insight_average)}}
        if end:
            statistics["insightDuration"] = active.minutes
            statistics["baselineDuration"] = active.baseline_minutes
        attributions = [{"attribute": attribute, "insight": insight, "baseline": baseline}
                        for attribute, insight, baseline in zip(_ATTRIBUTES[key[0]], insight_attrs,
                                                                active.baseline_attrs)]
        return {"statistics": statistics, "attributions": attributions}

    def _start(self, group: _Group, key: Key, active: _Active) -> dict:
        context = self._context(key, active, self._attributions(key, active.attrs, 1), active.count, end=False)
        return self._record(group, key, "Start", active, active.start, context)

    def _end(self, group: _Group, key: Key, active: _Active, minute: int) -> dict:
        context = self._context(key, active, self._attributions(key, active.attrs, active.minutes),
                                active.count / active.minutes, end=True)
        return self._record(group, key, "End", active, minute, context)

    def _record(self, group: _Group, key: Key, state: str, active: _Active, minute: int, context: dict) -> dict:
        kind, source, name, error = key
        details: dict = {"state": state, "eventSource": source, "eventName": name, "insightType": kind}
        if error is not None:
            details["errorCode"] = error
        details["insightContext"] = context
        return {"eventVersion": EVENT_VERSIONS[kind], "eventTime": format_epoch(minute * 60), "awsRegion": group.region,
                "eventID": uuid4(self.rng), "eventType": "AwsCloudTrailInsight",
                "recipientAccountId": group.account, "sharedEventID": active.shared_id,
                "insightDetails": details, "eventCategory": "Insight"}


def detect_insights(records: Iterable[dict], rng: random.Random,
                    settings: InsightSettings | None = None) -> Iterator[dict]:
    """The Insights records of a time-ordered record stream (each pair's End after its Start)."""
    detector = InsightDetector(rng, settings)
    for record in records:
        yield from detector.add(record)
    yield from detector.flush()


# -- delivery ------------------------------------------------------------------------------------


def insight_files(records: Iterable[dict], rng: random.Random, prefix: str = "",
                  org_id: str | None = None) -> list[LogFile]:
    """Insight records as delivered files: one per account, region and 5-minute window, in delivery order.

    As for log files, a record is in the file named by the 5-minute mark after its eventTime,
    delivered 5-60 s after that mark."""
    windows: dict[tuple[str, str, int], list[dict]] = {}
    for record in records:
        end = (_minute(record["eventTime"]) * 60 // WINDOW_SECONDS + 1) * WINDOW_SECONDS
        windows.setdefault((record["recipientAccountId"], record["awsRegion"], end), []).append(record)
    files = []
    for (account, region, end), batch in sorted(windows.items(), key=lambda item: (item[0][2], item[0][:2])):
        batch.sort(key=lambda r: r["eventTime"])
        delivered = datetime.fromtimestamp(end + rng.randint(*DELIVERY_LAG_SECONDS), timezone.utc)
        suffix = "".join(rng.choice(SUFFIX_ALPHABET) for _ in range(16))
        body, sha = encode_log_file(batch)
        files.append(LogFile(insight_file_key(prefix, account, region, delivered, suffix, org_id), body, sha,
                             delivered, batch[0]["eventTime"], batch[-1]["eventTime"], account, region,
                             len(batch)))
    return files
