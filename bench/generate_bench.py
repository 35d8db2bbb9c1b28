"""Generates a trail into the local store and prints records/s, CPU time and peak RSS of all processes.

    .venv/bin/python bench/generate_bench.py [--count 1000000] [--workers N] [--regions us-east-1]

CPU seconds (this process plus its finished workers) divided into the records give a rate that
other load on the machine disturbs less than the wall clock does; user and system seconds are shown
apart, as the system part is mostly the file system's cost of creating one file per log file, which
depends on where the tree goes (``--dir``, default the system's temporary directory) more than on
the generator. Results: bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cloudtrail_emulator.generators.trail.logfiles import DEFAULT_COMPRESSLEVEL
from cloudtrail_emulator.generators.pipeline import generate_trail


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _cpu_seconds() -> tuple[float, float]:
    """(user, system) CPU time of this process and of its waited-for children (the pool's workers)."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + children.ru_utime, mine.ru_stime + children.ru_stime


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                children = [int(c) for c in task.read_text().split()]
            except FileNotFoundError:
                continue
            found.extend(children)
            todo.extend(children)
    return found


class PeakRss:
    """Samples the summed RSS of this process and its descendants every 100 ms."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            total = _rss_kb(me) + sum(_rss_kb(p) for p in _descendants(me))
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(0.1)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--regions", default="us-east-1")
    parser.add_argument("--accounts", type=int, default=1)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--gzip-level", type=int, default=DEFAULT_COMPRESSLEVEL)
    parser.add_argument("--dir", help="where the temporary output tree goes (default: the system's temporary directory)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ct-bench-", dir=args.dir))
    end = datetime(2024, 6, 1, tzinfo=timezone.utc)
    try:
        with PeakRss() as rss:
            began = time.perf_counter()
            cpu_began = _cpu_seconds()
            summary = generate_trail(
                str(work / "out"), data_dir=work / "data", count=args.count,
                start=end - timedelta(hours=args.hours), end=end, seed=1,
                accounts=args.accounts, regions=args.regions.split(","), workers=args.workers,
                compresslevel=args.gzip_level,
            )
            wall = time.perf_counter() - began
            user, system = (after - before for after, before in zip(_cpu_seconds(), cpu_began))
            cpu = user + system
        print(f"records        {summary.records}")
        print(f"log files      {summary.log_files} ({summary.log_bytes / 1e6:.1f} MB gzip)")
        print(f"digests        {summary.digests}")
        print(f"wall seconds   {wall:.2f}")
        print(f"records/s      {summary.records / wall:,.0f}")
        print(f"CPU seconds    {cpu:.2f} (all processes; {summary.records / cpu:,.0f} records per CPU-second)")
        print(f"  user/system  {user:.2f} / {system:.2f}")
        print(f"gzip level     {args.gzip_level}")
        print(f"load average   {os.getloadavg()[0]:.2f} (1 min, at the end)")
        print(f"peak RSS (MB)  {rss.peak_kb / 1024:.0f}  (this process and all workers, summed)")
        print(f"cores          {os.cpu_count()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
