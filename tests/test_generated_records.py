"""Records from the public generate() API: schema-valid at volume, reproducible, well formed."""
from __future__ import annotations

import itertools
import uuid
from collections import Counter
from datetime import datetime, timezone

from cloudtrail_emulator.generators.pipeline import generate
from cloudtrail_emulator.schemas import record_validator

START = datetime(2024, 3, 4, tzinfo=timezone.utc)
END = datetime(2024, 3, 6, tzinfo=timezone.utc)


def test_hundred_thousand_records_validate_against_the_schema():
    validator = record_validator()
    count = 0
    bad = []
    for record in generate(count=100_000, start=START, end=END, seed=3, accounts=3,
                           regions=["us-east-1", "eu-west-1"]):
        count += 1
        if not validator.is_valid(record):
            bad.append(record)
    assert count == 100_000
    assert not bad, next(record_validator().iter_errors(bad[0])).message


def test_generate_streams_in_time_order_inside_the_range():
    records = list(itertools.islice(generate(count=5000, start=START, end=END, seed=1), 5000))
    times = [r["eventTime"] for r in records]
    assert len(records) == 5000
    assert all("2024-03-04T00:00:00Z" <= t < "2024-03-06T00:00:00Z" for t in times)
    assert len({r["eventID"] for r in records}) == 5000
    assert all(uuid.UUID(r["eventID"]).version == 4 for r in records)


def test_same_seed_same_records_other_seed_other_records():
    first = list(generate(count=2000, start=START, end=END, seed=11))
    assert first == list(generate(count=2000, start=START, end=END, seed=11))
    assert first != list(generate(count=2000, start=START, end=END, seed=12))


def test_organization_spreads_over_accounts_and_regions():
    records = list(generate(count=6000, start=START, end=END, seed=5, accounts=4,
                            regions=["us-east-1", "eu-west-1", "ap-southeast-2"]))
    accounts = Counter(r["recipientAccountId"] for r in records)
    regions = Counter(r["awsRegion"] for r in records)
    assert len(accounts) == 4 and "123456789012" in accounts
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(regions)
    # the working day is busier than the night
    by_hour = Counter(int(r["eventTime"][11:13]) for r in records)
    assert by_hour[15] > by_hour[3]
