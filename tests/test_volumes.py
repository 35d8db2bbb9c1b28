"""Volumes as a consumer sees them: days, hours and accounts that vary as real activity does, and log
files whose sizes match the reference files at the reference's volume."""
from __future__ import annotations

import gzip
import json
import random
import re
import statistics
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from cloudtrail_emulator.generators.pipeline import generate
from cloudtrail_emulator.generators.population import build_population
from cloudtrail_emulator.generators.trail.logfiles import iter_log_files
from cloudtrail_emulator.generators.volumes import VolumeModel
from fixtures_paths import REAL_LOGS

WEEK = dict(seed=5, accounts=3, regions=["us-east-1", "eu-west-1"],
            start=datetime(2024, 6, 3, tzinfo=timezone.utc), end=datetime(2024, 6, 10, tzinfo=timezone.utc))


def _cv(values: list[int]) -> float:
    return statistics.pstdev(values) / statistics.mean(values)


@pytest.fixture(scope="module")
def week() -> Counter:
    """(account, day, hour) -> records of the issue's baseline week (at a fifth of its count)."""
    counts: Counter = Counter()
    for record in generate(count=20_000, **WEEK):
        at = record["eventTime"]
        counts[(record["recipientAccountId"], at[:10], int(at[11:13]))] += 1
    return counts


def _days(week: Counter, account: str | None = None) -> dict[str, int]:
    days: Counter = Counter()
    for (a, day, _), n in week.items():
        if account is None or a == account:
            days[day] += n
    return dict(sorted(days.items()))


def test_the_count_stays_exact(week):
    assert sum(week.values()) == 20_000


def test_weekdays_vary(week):
    days = _days(week)
    weekdays = [n for day, n in days.items() if date.fromisoformat(day).weekday() < 5]
    assert len(weekdays) == 5 and _cv(weekdays) >= 0.1        # was 0: every weekday the same count


def test_the_same_hour_differs_across_weekdays(week):
    weekdays = [d for d in _days(week) if date.fromisoformat(d).weekday() < 5]
    alike = [h for h in range(24) if len({sum(n for (_, d, hh), n in week.items() if d == day and hh == h)
                                          for day in weekdays}) == 1]
    assert not alike


def test_accounts_differ_in_size_and_character(week):
    accounts = sorted({a for a, _, _ in week})
    daily = {a: list(_days(week, a).values()) for a in accounts}
    assert len({tuple(v) for v in daily.values()}) == len(accounts) == 3
    totals = sorted(sum(v) for v in daily.values())
    assert totals[-1] >= 2 * totals[0]                         # a big account and a small one

    def weekend_share(account: str) -> float:
        days = _days(week, account)
        return sum(n for d, n in days.items() if date.fromisoformat(d).weekday() >= 5) / sum(days.values())

    def night_share(account: str) -> float:
        return sum(n for (a, _, h), n in week.items() if a == account and h < 6) / sum(daily[account])
    shares = sorted(weekend_share(a) for a in accounts)
    nights = sorted(night_share(a) for a in accounts)
    assert shares[-1] >= 2 * shares[0] and nights[-1] >= 2 * nights[0]   # a 24/7 account, an office-hours one


def test_daily_counts_are_overdispersed():
    """Over four weeks, an account's weekday counts vary far more than Poisson counts would."""
    counts: Counter = Counter()
    start = datetime(2024, 3, 4, tzinfo=timezone.utc)
    for record in generate(count=40_000, seed=9, accounts=2, start=start, end=start + timedelta(days=28)):
        counts[(record["recipientAccountId"], record["eventTime"][:10])] += 1
    for account in {a for a, _ in counts}:
        weekdays = [n for (a, d), n in counts.items() if a == account and date.fromisoformat(d).weekday() < 5]
        assert statistics.variance(weekdays) > 10 * statistics.mean(weekdays)


def _sizes(files) -> tuple[float, float]:
    sizes = [f if isinstance(f, int) else f.record_count for f in files]
    return statistics.median(sizes), sum(n == 1 for n in sizes) / len(sizes)


def test_log_files_at_the_reference_volume_look_like_the_reference():
    """The reference set holds ~3,000 records in an hour of one account and region; at that volume the
    files have the reference's sizes (median 20 records, 7 % single-record files)."""
    real = []
    for path in sorted(REAL_LOGS.glob("invictus-aws-dataset/*.json.gz")):
        real.append(len(json.loads(gzip.decompress(path.read_bytes()))["Records"]))
    real_median, real_single = _sizes(real)
    span = re.compile(r"_(\d{8}T\d{4})Z_")
    stamps = sorted({span.search(p.name).group(1) for p in REAL_LOGS.glob("invictus-aws-dataset/*.json.gz")})
    hours = (datetime.strptime(stamps[-1], "%Y%m%dT%H%M") - datetime.strptime(stamps[0], "%Y%m%dT%H%M")
             + timedelta(minutes=5)) / timedelta(hours=1)
    per_hour = round(sum(real) / hours)
    assert 2000 <= per_hour <= 4000
    start = datetime(2024, 6, 4, 8, tzinfo=timezone.utc)
    records = [r for r in generate(count=per_hour * 8, seed=4, start=start, end=start + timedelta(hours=8))
               if r["awsRegion"] == "us-east-1"]
    median, single = _sizes(iter_log_files(records, "123456789012", "us-east-1", random.Random(1)))
    assert real_median / 2 <= median <= real_median * 2
    assert single <= real_single * 2


def test_people_keep_their_accounts_office_hours():
    """Seed 8's first account works an hour before UTC's day curve, its second an hour after: the share
    of each hour's records that people make follows each account's own office day."""
    start = datetime(2024, 6, 3, tzinfo=timezone.utc)
    early, late = (a.account_id for a in build_population(8, 3).accounts[:2])
    volumes = VolumeModel(8)
    assert (volumes.account(early).office_shift, volumes.account(late).office_shift) == (-1, 1)
    records = list(generate(count=60_000, seed=8, accounts=3, regions=("us-east-1",), start=start,
                            end=start + timedelta(days=5)))

    def mean_people_hour(account: str) -> float:
        total: Counter[int] = Counter()
        people: Counter[int] = Counter()
        for r in records:
            if r["recipientAccountId"] == account:
                hour, identity = int(r["eventTime"][11:13]), r["userIdentity"]
                total[hour] += 1
                people[hour] += identity.get("type") == "IAMUser" and not identity.get("userName", "").startswith(
                    ("terraform-ci", "github-actions"))
        share = [people[h] / total[h] if total[h] else 0.0 for h in range(24)]
        return sum(h * s for h, s in enumerate(share)) / sum(share)

    assert mean_people_hour(late) - mean_people_hour(early) > 1.1   # UTC's curve for both gave 0.6 h
