"""Long crash soak: SIGKILL `cloudtrail-emulator serve` many times under traffic, and `generate` mid-run.

    .venv/bin/python bench/crash_soak.py --kills 20 --seed 1
    .venv/bin/python bench/crash_soak.py --faults --kills 40 --seed 1     # as root: read-only/full rounds too

The checks are those of tests/test_crash_safety.py (no partial object, every accepted record and
answered call in exactly one log file, one unbroken digest chain, `aws cloudtrail validate-logs`).
With `--faults` the data dir sits on its own tmpfs (tests/fixtures_faults.py) and rounds also turn it
read-only or fill it under traffic, restored under traffic or after a SIGKILL.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures_faults import DataDirFaults  # noqa: E402
from test_crash_safety import crash_soak, generate_kills, iter_summary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="server kills (default: %(default)s)")
    parser.add_argument("--generate-kills", type=int, default=5, help="generate kills (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-answers", type=int, default=60, help="most answers to the traffic between kills")
    parser.add_argument("--faults", action="store_true", help="also read-only and full data dir rounds (root)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crash-soak-") as tmp:
        began = time.monotonic()
        objects = generate_kills(Path(tmp), args.seed, args.generate_kills, count=60000)
        print(f"generate: {args.generate_kills} kills, {objects} visible objects checked whole, "
              f"{time.monotonic() - began:.1f} s")
        faults = DataDirFaults(Path(tmp) / "faulty", size_mb=96).mount() if args.faults else None
        try:
            result = crash_soak(Path(tmp), args.seed, args.kills, max_answers=args.max_answers, faults=faults)
        finally:
            if faults is not None:
                faults.close()
        for line in iter_summary(result):
            print(f"serve: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
