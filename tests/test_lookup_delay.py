"""LookupEvents visibility: at once by default; `lookup_delay_seconds` hides events younger than that on
the emulator's clock, as AWS shows an event only minutes after the call."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cloudtrail_emulator.emulator.config import EmulatorConfig, ManualClock
from fixtures_server import start_emulator

BEGIN = datetime(2025, 6, 1, 8, 0, tzinfo=timezone.utc)
BY_NAME = [{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}]


def described(ct) -> list[datetime]:
    """Event times of the DescribeTrails calls LookupEvents shows now."""
    return [e["EventTime"] for e in ct.lookup_events(LookupAttributes=BY_NAME)["Events"]]


def test_events_show_at_once_by_default():
    server = start_emulator(EmulatorConfig(clock=ManualClock(BEGIN)))
    try:
        ct = server.cloudtrail()
        ct.describe_trails()
        assert described(ct) == [BEGIN]
    finally:
        server.running.stop()


def test_a_delay_hides_younger_events_on_the_clock():
    clock = ManualClock(BEGIN)
    server = start_emulator(EmulatorConfig(clock=clock, lookup_delay_seconds=300))
    try:
        ct = server.cloudtrail()
        ct.describe_trails()                                   # 08:00:00
        assert described(ct) == []
        clock.advance(299)
        assert described(ct) == []
        assert ct.lookup_events(LookupAttributes=BY_NAME, EndTime=clock.now())["Events"] == []
        clock.advance(1)                                       # 08:05:00: five minutes old
        assert described(ct) == [BEGIN]
        ct.describe_trails()                                   # 08:05:00, hidden until 08:10:00
        clock.advance(150)
        assert described(ct) == [BEGIN]
        clock.advance(150)
        assert described(ct) == [datetime(2025, 6, 1, 8, 5, tzinfo=timezone.utc), BEGIN]
    finally:
        server.running.stop()


def test_a_negative_delay_is_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        start_emulator(EmulatorConfig(lookup_delay_seconds=-1))
