"""`cloudtrail-emulator validate` against `aws cloudtrail validate-logs` on the same 7-day trail.

    .venv/bin/python bench/validate_bench.py [--records 300000] [--days 7] [--regions us-east-1]

A `cloudtrail-emulator serve --data-dir DIR --relax-bucket-policy` subprocess gets a bucket and a
trail (multi-region, log file validation on; not logging), then POST /_emulator/history writes
`--records` generated records over `--days` days into the trail's bucket: log files and the hourly
digest chain validate-logs expects for that trail name and home region. Then, on the same files:

- `cloudtrail-emulator validate s3://BUCKET --data-dir DIR` (reads the embedded store directly), and
- `aws cloudtrail validate-logs --trail-arn ARN --start-time ...` (AWS_ENDPOINT_URL = the server),

both timed (wall clock). Both must find everything valid; then one log file and one digest are
altered on disk and both must name exactly those two files.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from peers_bench import BIN, cloudtrail, free_port, start, _headers, _send  # noqa: E402

BUCKET = "validate-bench-logs"
TRAIL = "validate-bench"
_NAMED = re.compile(r"^(Log|Digest) file\s+s3://(\S+)\s+INVALID", re.MULTILINE)


def _call(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None,
          timeout: float = 1800) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    text = response.read()
    conn.close()
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: HTTP {response.status} {text[:300]!r}")
    return orjson.loads(text) if text.strip().startswith(b"{") else {}


def make_trail(port: int, records: int, days: float, regions: list[str]) -> dict:
    """Bucket, trail and its signed history through the server; the history's answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    if _send(conn, ("PUT", f"/{BUCKET}", _headers("s3", {"Content-Length": "0"}), b"")) >= 300:
        raise SystemExit("CreateBucket failed")
    conn.close()
    method, path, headers, body = cloudtrail("CreateTrail", {
        "Name": TRAIL, "S3BucketName": BUCKET, "IsMultiRegionTrail": True,
        "EnableLogFileValidation": True})
    created = _call(port, method, path, body, headers)
    history = {"trail": created["TrailARN"], "days": days, "count": records, "seed": 11,
               "regions": regions}
    return _call(port, "POST", "/_emulator/history", orjson.dumps(history),
                 {"Content-Type": "application/json"})


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """(wall seconds, exit code, stdout + stderr) of `command`."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    return time.perf_counter() - started, done.returncode, done.stdout + done.stderr


def named(output: str) -> set[str]:
    """The s3://bucket/key of every file an output calls INVALID."""
    return {f"s3://{m.group(2)}" for m in _NAMED.finditer(output)}


def _rewrite(path: Path, change) -> None:
    """Replace a gzipped JSON object on disk by `change(object)`, gzipped again."""
    data = orjson.loads(gzip.decompress(path.read_bytes()))
    change(data)
    path.write_bytes(gzip.compress(orjson.dumps(data)))


def tamper(data_dir: Path) -> tuple[str, str]:
    """Alter the 10th log file (one record's eventName) and the 5th digest (its end time)."""
    root = data_dir / "s3" / BUCKET
    logs = sorted(p for p in root.rglob("*.json.gz") if "/CloudTrail/" in str(p))
    digests = sorted(p for p in root.rglob("*.json.gz") if "/CloudTrail-Digest/" in str(p))
    log, digest = logs[min(10, len(logs) - 1)], digests[min(5, len(digests) - 1)]
    _rewrite(log, lambda d: d["Records"][0].update(eventName="Tampered"))
    _rewrite(digest, lambda d: d.update(digestEndTime=d["digestEndTime"].replace(":00Z", ":01Z")))
    return (f"s3://{BUCKET}/{log.relative_to(root).as_posix()}",
            f"s3://{BUCKET}/{digest.relative_to(root).as_posix()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--regions", default="us-east-1",
                        help="comma-separated; validate-logs checks the home region's chain only")
    parser.add_argument("--show", action="store_true", help="print both tools' summaries in full")
    args = parser.parse_args()
    regions = args.regions.split(",")
    with tempfile.TemporaryDirectory(prefix="validate-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        port = free_port()
        server = start([str(BIN / "cloudtrail-emulator"), "serve", "--data-dir", str(data_dir),
                        "--port", str(port), "--relax-bucket-policy"], port, Path(tmp) / "serve.log",
                       "/_emulator/health")
        try:
            started = time.perf_counter()
            history = make_trail(port, args.records, args.days, regions)
            print(f"history: {history['records']:,} records, {history['log_files']:,} log files, "
                  f"{history['digests']:,} digests, {history['start']} to {history['end']} "
                  f"({time.perf_counter() - started:.1f} s)")
            start_time = (datetime.fromisoformat(history["start"].replace("Z", "+00:00"))
                          - timedelta(hours=1)).astimezone(timezone.utc)
            ours = [str(BIN / "cloudtrail-emulator"), "validate", f"s3://{BUCKET}",
                    "--data-dir", str(data_dir)]
            env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                   "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_DEFAULT_REGION": regions[0], "AWS_PAGER": ""}
            theirs = [str(BIN / "aws"), "cloudtrail", "validate-logs", "--trail-arn", history["trail"],
                      "--start-time", start_time.strftime("%Y-%m-%dT%H:%M:%SZ")]
            print(f"load average (1 min) before: {os.getloadavg()[0]:.1f}")
            for label, expected in (("untouched", set()), ("tampered", None)):
                if expected is None:
                    expected = set(tamper(data_dir))
                    print(f"altered: {sorted(expected)}")
                results = {"cloudtrail-emulator validate": timed(ours),
                           "aws cloudtrail validate-logs": timed(theirs, env)}
                for name, (seconds, code, output) in results.items():
                    found = named(output)
                    verdict = "names exactly the altered files" if found == expected else \
                        f"DIFFERS: also {sorted(found - expected)}, missed {sorted(expected - found)}"
                    summary = output.strip().splitlines()[-1] if output.strip() else ""
                    if args.show:
                        print("\n".join(line for line in output.splitlines()[-8:] if line.strip()))
                    print(f"{label:9} {name:29} {seconds:7.1f} s  exit {code}  {verdict}  | {summary}")
                ratio = results["aws cloudtrail validate-logs"][0] / results["cloudtrail-emulator validate"][0]
                print(f"{label:9} ours is {ratio:.1f}x faster; load average (1 min) now "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
