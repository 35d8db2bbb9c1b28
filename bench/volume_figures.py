"""Issue 12's volume figures for a generated output directory: daily counts, their spread, hours,
accounts, Insights events and records per log file (read back from the delivered gzip files).

    cloudtrail-emulator generate --count 100000 --seed 5 --accounts 3 \\
        --regions us-east-1,eu-west-1 --start 2024-06-03 --end 2024-06-10 --output DIR --insights
    python bench/volume_figures.py DIR
"""
from __future__ import annotations

import gzip
import json
import statistics
import sys
from collections import Counter
from datetime import date
from pathlib import Path


def _cv(values: list[int]) -> float:
    mean = sum(values) / len(values)
    return statistics.pstdev(values) / mean if mean else 0.0


def figures(root: Path) -> dict:
    """The figures of one output directory."""
    per_day: Counter = Counter()
    per_account_day: Counter = Counter()
    per_hour: Counter = Counter()
    file_sizes: list[int] = []
    insights: list[dict] = []
    for path in sorted(root.rglob("*.json.gz")):
        if "CloudTrail-Digest" in path.parts:
            continue
        records = json.loads(gzip.decompress(path.read_bytes()))["Records"]
        if "CloudTrail-Insight" in path.parts:
            insights += records
            continue
        file_sizes.append(len(records))
        for record in records:
            day = record["eventTime"][:10]
            per_day[day] += 1
            per_account_day[(record["recipientAccountId"], day)] += 1
            per_hour[(day, record["eventTime"][11:13])] += 1
    days = sorted(per_day)
    weekdays = [d for d in days if date.fromisoformat(d).weekday() < 5]
    accounts = sorted({a for a, _ in per_account_day})
    daily = {a: [per_account_day[(a, d)] for d in days] for a in accounts}
    same_hour_alike = sum(len({per_hour[(d, f"{h:02d}")] for d in weekdays}) == 1 for h in range(24))
    starts = [r for r in insights if r["insightDetails"]["state"] == "Start"]
    sizes = sorted(file_sizes)
    return {
        "daily": [per_day[d] for d in days],
        "weekday_cv": round(_cv([per_day[d] for d in weekdays]), 3),
        "accounts_daily": daily,
        "accounts_identical": len({tuple(v) for v in daily.values()}) < len(daily),
        "hours_identical_on_all_weekdays": same_hour_alike,
        "insight_records": len(insights),
        "insights": sorted(Counter((s["insightDetails"]["insightType"], s["insightDetails"]["eventName"],
                                    s["insightDetails"].get("errorCode")) for s in starts).items()),
        "log_files": len(sizes),
        "records_per_file_median": statistics.median(sizes) if sizes else 0,
        "single_record_files": round(sum(n == 1 for n in sizes) / len(sizes), 3) if sizes else 0,
    }


if __name__ == "__main__":
    for key, value in figures(Path(sys.argv[1])).items():
        print(f"{key}: {value}")
