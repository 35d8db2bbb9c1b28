"""The one time module: CloudTrail's formats, written and read the way Python 3.10 can."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.times import (
    format_epoch, format_millis, format_time, parse_iso, parse_key_second, parse_time, require_utc, to_epoch,
    whole_second)

UTC = timezone.utc


def test_cloudtrail_time_both_ways():
    at = datetime(2024, 5, 1, 12, 3, 4, 567890, tzinfo=UTC)
    assert format_time(at) == "2024-05-01T12:03:04Z"
    assert format_time(at.astimezone(timezone(timedelta(hours=2)))) == "2024-05-01T12:03:04Z"
    assert parse_time("2024-05-01T12:03:04Z") == datetime(2024, 5, 1, 12, 3, 4, tzinfo=UTC)
    assert to_epoch("2024-05-01T12:03:04Z") == 1714564984
    assert format_epoch(1714564984) == "2024-05-01T12:03:04Z"
    for bad in ("2024-05-01T12:03:04", "2024-05-01T12:03:04.5Z", "2024-5-01T12:03:04Z", "2024-02-30T00:00:00Z", 17):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_other_shapes():
    assert parse_iso("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_iso("2024-05-01T12:00:00Z") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_iso("2024-05-01T14:00:00+02:00") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_key_second("20240501T120304Z") == datetime(2024, 5, 1, 12, 3, 4, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_key_second("20240501T1203Z")
    assert format_millis(datetime(2024, 5, 1, 12, 3, 4, 567890, tzinfo=UTC)) == "2024-05-01T12:03:04.567Z"
    assert whole_second(datetime(2024, 5, 1, 14, 3, 4, 999999, tzinfo=timezone(timedelta(hours=2)))) == \
        datetime(2024, 5, 1, 12, 3, 4, tzinfo=UTC)
    with pytest.raises(GeneratorError, match="start time must be timezone-aware"):
        require_utc(datetime(2024, 5, 1), "start time")
