"""How long `start_emulator()` (what the pytest fixture calls) takes to start and stop a server.

    .venv/bin/python bench/fixture_start_bench.py [--runs 20]

Prints the first start (it pays the imports and the service models' loading) and the median and
worst of the next starts and stops. Results: bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from cloudtrail_emulator.emulator.testing import start_emulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    began = time.perf_counter()
    start_emulator().stop()
    first = time.perf_counter() - began
    starts, stops = [], []
    for _ in range(args.runs):
        began = time.perf_counter()
        emulator = start_emulator()
        starts.append(time.perf_counter() - began)
        began = time.perf_counter()
        emulator.stop()
        stops.append(time.perf_counter() - began)
    print(f"first start+stop  {first:.3f} s")
    print(f"start             median {statistics.median(starts):.3f} s, worst {max(starts):.3f} s")
    print(f"stop              median {statistics.median(stops):.3f} s, worst {max(stops):.3f} s")
    print(f"load average      {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
