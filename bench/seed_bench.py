"""Times `cloudtrail-emulator seed --accounts 3 --days 2` (what `make run` does) into fresh data dirs.

    python bench/seed_bench.py [--cli PATH] [--runs N]

`--cli` is the command to run (default: this venv's `cloudtrail-emulator`), e.g. another checkout's,
or `"python -m cloudtrail_emulator.emulator.cli"` with `PYTHONPATH` naming another tree, to compare
before and after. Prints, per run, wall seconds, the child's user and system CPU seconds, and the
1-minute load average before the run (the machine is shared: wall time follows the load).
"""
from __future__ import annotations

import argparse
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(cli: str) -> tuple[float, float, float]:
    """(wall, user, system) seconds of one seed into a fresh data dir."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="seed-bench-") as data_dir:
        began = time.perf_counter()
        done = subprocess.run([*shlex.split(cli), "seed", "--accounts", "3", "--days", "2", "--data-dir", data_dir],
                              capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"seed failed: {done.stderr.strip()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default=str(Path(sys.executable).parent / "cloudtrail-emulator"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"cli {args.cli}, {os.cpu_count()} CPUs")
    for _ in range(args.runs):
        load = os.getloadavg()[0]
        wall, user, system = run_once(args.cli)
        print(f"seed: {wall:6.2f} s wall, {user:5.2f} s user, {system:5.2f} s sys (load before {load:.2f})")


if __name__ == "__main__":
    main()
