"""Measures loading the catalog and RecordFactory.make() on one core: microseconds per drawn record."""
from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cloudtrail_emulator.generators.catalog import load_catalog  # noqa: E402
from cloudtrail_emulator.generators.population import build_population  # noqa: E402
from cloudtrail_emulator.generators.records import RecordFactory  # noqa: E402


def main(count: int = 200_000) -> None:
    began = time.perf_counter()
    catalog = load_catalog()
    print(f"catalog load: {(time.perf_counter() - began) * 1000:.0f} ms (imports warm, file cold or cached)")
    population = build_population(1, 3)
    factory = RecordFactory(population, catalog)
    rng = random.Random(1)
    start = datetime(2024, 5, 1, tzinfo=timezone.utc)
    accounts = [a.account_id for a in population.accounts]
    for label in ("first pass (compiles templates on first use)", "second pass (steady state)"):
        began = time.perf_counter()
        for i in range(count):
            factory.make(rng, start + timedelta(seconds=i), accounts[i % 3], "us-east-1")
        elapsed = time.perf_counter() - began
        print(f"{label}: {count} records in {elapsed:.2f} s, {elapsed / count * 1e6:.1f} us/record, "
              f"{count / elapsed:,.0f} records/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
