"""Server memory while a large S3 object goes in and out: one `cloudtrail-emulator serve` subprocess
(a real data dir), a boto3 multipart upload of `--mib` MiB in 8 MiB parts, then a GET of the whole
object; prints the server's peak RSS (VmHWM from /proc) before and after, and the times.

    .venv/bin/python bench/memory_bench.py --mib 1024

The suite runs the same round trip at 200 MiB (tests/test_hostile_bodies.py).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures_serve import Serve, cli_env  # noqa: E402
from test_hostile_bodies import MiB, big_object_round_trip, peak_rss_mib  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="object size in MiB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        server = Serve("--port", "0", "--data-dir", str(Path(tmp) / "data"),
                       env=cli_env(CTEMU_LOG_LEVEL="warning"))
        try:
            server.serving()
            before = peak_rss_mib(server.proc.pid)
            started = time.monotonic()
            big_object_round_trip(server.url, args.mib * MiB)
            seconds = time.monotonic() - started
            peak = peak_rss_mib(server.proc.pid)
        finally:
            server.stop()
    print(f"{args.mib} MiB multipart upload + GET in {seconds:.1f} s; server peak RSS {before:.0f} MiB at "
          f"start, {peak:.0f} MiB after; load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
