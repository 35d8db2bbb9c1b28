"""Long concurrency soak: many clients against one `cloudtrail-emulator serve` while it delivers.

    .venv/bin/python bench/concurrency_soak.py --workers 16 --operations 400

The checks are those of tests/test_concurrency.py (every injected record and answered call in
exactly one log file, management events in LookupEvents, validate-logs, no 5xx).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_concurrency import WORKER_REGIONS, concurrency_soak  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=16, choices=range(1, len(WORKER_REGIONS) + 1),
                        metavar=f"1-{len(WORKER_REGIONS)}")
    parser.add_argument("--operations", type=int, default=400, help="operations per worker")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="concurrency-soak-") as tmp:
        r = concurrency_soak(Path(tmp), args.seed, args.workers, args.operations)
    print(f"{r.workers} workers for {r.seconds:.1f} s: {sum(r.operations.values())} operations "
          f"({dict(r.operations)})")
    print(f"injected records {r.injected}, answered calls {r.calls}; delivered {r.delivered_records} "
          f"records in {r.log_files} log files, {r.digests} digests")
    print(f"slowest /_emulator/deliver: {r.slowest_deliver:.1f} s")
    print(f"validate-logs: {r.validate[0].strip()}; {r.validate[1].strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
