"""Volume figures: records per UTC day, per account per day, per hour of day across weekdays.

Days are the UTC days with records (a generated week has records every day; the reference files are
two unrelated one-day collections, so their volume figures describe no trail). Weekdays are Monday
to Friday. A coefficient of variation (CV) is the sample standard deviation
(n - 1) over the mean, None for fewer than two days or a zero mean. Partial first and last days
count as they are.
"""
from __future__ import annotations

import statistics
from collections import Counter
from datetime import date
from itertools import combinations

HOURS = 24


def volume_figures(records: list[dict]) -> dict:
    """Daily counts and their CVs, account-by-day counts, identical hours and identical accounts."""
    per_day_hour: Counter[tuple[str, int]] = Counter()
    per_account_day: Counter[tuple[str, str]] = Counter()
    for record in records:
        stamp = record["eventTime"]
        day = stamp[:10]
        per_day_hour[(day, int(stamp[11:13]))] += 1
        per_account_day[(str(record.get("recipientAccountId") or "(none)"), day)] += 1
    days = sorted({day for day, _ in per_day_hour})
    daily = {day: 0 for day in days}
    for (day, _), n in per_day_hour.items():
        daily[day] += n
    weekdays = [day for day in days if date.fromisoformat(day).weekday() < 5]
    weekend = [day for day in days if date.fromisoformat(day).weekday() >= 5]
    accounts = sorted({account for account, _ in per_account_day})
    by_account = {account: {day: per_account_day[(account, day)] for day in days} for account in accounts}
    totals = [sum(series.values()) for series in by_account.values()]
    identical_hours, compared_hours = _identical_hours(per_day_hour, weekdays)
    return {
        "days": daily,
        "weekday_cv": cv([daily[d] for d in weekdays]),
        "weekend_cv": cv([daily[d] for d in weekend]),
        "weekdays": len(weekdays),
        "weekend_days": len(weekend),
        "accounts": by_account,
        "account_totals_cv": cv(totals),
        "account_weekday_cv": {account: cv([series[d] for d in weekdays]) for account, series in by_account.items()},
        "hours_identical_across_weekdays": identical_hours,
        "hours_compared": compared_hours,
        "identical_account_pairs": [[a, b] for a, b in combinations(accounts, 2)
                                    if by_account[a] == by_account[b]],
    }


def cv(values: list[int]) -> float | None:
    """Sample standard deviation over mean; None for fewer than two values or a zero mean."""
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean else None


def _identical_hours(per_day_hour: Counter[tuple[str, int]], weekdays: list[str]) -> tuple[int, int]:
    """Of the hours of day with records on some weekday, how many have the same count on every weekday
    (with at least two weekdays to compare), and how many were compared."""
    if len(weekdays) < 2:
        return 0, 0
    identical = compared = 0
    for hour in range(HOURS):
        counts = [per_day_hour[(day, hour)] for day in weekdays]
        if any(counts):
            compared += 1
            identical += len(set(counts)) == 1
    return identical, compared
