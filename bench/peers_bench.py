"""Throughput against a peer: our server and moto's server side by side, same load, same requests.

    .venv/bin/python bench/peers_bench.py [--clients 4] [--seconds 8] [--records 20000]

Starts `cloudtrail-emulator serve --data-dir :memory: --relax-bucket-policy` and `moto_server` as
subprocesses on free 127.0.0.1 ports, creates one bucket (through each server's S3 endpoint) and one
trail in each, then for every operation runs `--clients` load processes, each on one keep-alive
`http.client` connection sending pre-built SigV4-shaped JSON 1.1 requests (an Authorization header
with a credential scope; neither server checks signatures) back to back for `--seconds`.
Prints requests/s and p50/p99 latency per operation and server, and LookupEvents on ours after
POSTing `--records` generated records through /_emulator/records.
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloudtrail_emulator.generators.pipeline import generate  # noqa: E402

BIN = Path(sys.executable).parent
TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "peers-bench-bucket"
TRAIL = "peers-bench-trail"
AMZ_DATE = "20250601T000000Z"

#: one request: (method, path, headers, body)
Request = tuple[str, str, dict[str, str], bytes]


def _headers(service: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """SigV4-shaped headers: credential scope and signed-header list, a dummy signature."""
    signed = "host;x-amz-date" + (";x-amz-target" if extra and "X-Amz-Target" in extra else "")
    auth = (f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{AMZ_DATE[:8]}/{REGION}/{service}/aws4_request, "
            f"SignedHeaders={signed}, Signature={'0' * 64}")
    return {"Authorization": auth, "X-Amz-Date": AMZ_DATE, **(extra or {})}


def cloudtrail(operation: str, params: dict) -> Request:
    """A CloudTrail JSON 1.1 request."""
    headers = _headers("cloudtrail", {"X-Amz-Target": TARGET + operation,
                                      "Content-Type": "application/x-amz-json-1.1"})
    return ("POST", "/", headers, orjson.dumps(params))


def _describe_trails(_: int) -> list[Request]:
    return [cloudtrail("DescribeTrails", {})]


def _get_trail_status(_: int) -> list[Request]:
    return [cloudtrail("GetTrailStatus", {"Name": TRAIL})]


def _create_delete(n: int) -> list[Request]:
    name = f"bench-{os.getpid()}-{n}"
    return [cloudtrail("CreateTrail", {"Name": name, "S3BucketName": BUCKET}),
            cloudtrail("DeleteTrail", {"Name": name})]


def _lookup_events(_: int) -> list[Request]:
    return [cloudtrail("LookupEvents", {"LookupAttributes": [
        {"AttributeKey": "EventSource", "AttributeValue": "ec2.amazonaws.com"}], "MaxResults": 50})]


#: operation -> requests of its n-th round (built before the clock starts, a round at a time)
OPERATIONS: dict[str, Callable[[int], list[Request]]] = {
    "DescribeTrails": _describe_trails, "GetTrailStatus": _get_trail_status,
    "CreateTrail+DeleteTrail": _create_delete, "LookupEvents": _lookup_events,
}


def _send(conn: http.client.HTTPConnection, req: Request) -> int:
    method, path, headers, body = req
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def _client(port: int, operation: str, seconds: float, rounds: int, barrier, results) -> None:
    """One load process: pre-build `rounds` rounds, wait for the others, send them until time is up."""
    build = OPERATIONS[operation]
    prebuilt = [build(n) for n in range(rounds)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for req in build(-1):                          # warm the connection (and the server's path)
        _send(conn, req)
    latencies: list[float] = []
    errors = 0
    barrier.wait()
    clock = time.perf_counter
    deadline = clock() + seconds
    for batch in prebuilt:
        started = clock()
        for req in batch:
            if _send(conn, req) >= 400:
                errors += 1
        done = clock()
        latencies.append((done - started) / len(batch))
        if done >= deadline:
            break
    conn.close()
    results.put((len(latencies) * len(prebuilt[0]), latencies, errors, clock() - deadline + seconds))


@dataclass(frozen=True)
class Figures:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_us: float          # server process CPU (user + system) per request
    load: tuple[float, float]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_run(port: int, pid: int, operation: str, clients: int, seconds: float, rounds: int) -> Figures:
    """Run `clients` load processes against `port` (server process `pid`); requests/s over the
    slowest client's span."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(clients), ctx.Queue()
    procs = [ctx.Process(target=_client, args=(port, operation, seconds, rounds, barrier, results))
             for _ in range(clients)]
    load_before = os.getloadavg()[0]
    for proc in procs:
        proc.start()
    cpu_before = cpu_seconds(pid)
    outcomes = [results.get(timeout=seconds + 120) for _ in procs]
    cpu = cpu_seconds(pid) - cpu_before
    for proc in procs:
        proc.join()
    requests = sum(o[0] for o in outcomes)
    span = max(o[3] for o in outcomes)
    latencies = sorted(itertools.chain.from_iterable(o[1] for o in outcomes))
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Figures(requests / span, latencies[len(latencies) // 2] * 1000, p99 * 1000,
                   sum(o[2] for o in outcomes), cpu / requests * 1e6, (load_before, os.getloadavg()[0]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen, path: str = "/") -> None:
    """Until the server at `port` answers anything, or fail if it exited."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: {proc.args}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def start(command: list[str], port: int, log: Path, health: str = "/") -> subprocess.Popen:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("wb"), cwd=log.parent)
    wait_for(port, proc, health)
    return proc


def setup(port: int) -> None:
    """The bucket (S3 endpoint) and the trail GetTrailStatus asks about."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status = _send(conn, ("PUT", f"/{BUCKET}", _headers("s3", {"Content-Length": "0"}), b""))
    if status >= 300:
        raise SystemExit(f"CreateBucket on port {port}: HTTP {status}")
    for op, params in (("CreateTrail", {"Name": TRAIL, "S3BucketName": BUCKET}),
                       ("StartLogging", {"Name": TRAIL})):
        method, path, headers, body = cloudtrail(op, params)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read()
        if response.status >= 300:
            raise SystemExit(f"{op} on port {port}: HTTP {response.status} {text[:200]!r}")
    conn.close()


def post_records(port: int, count: int) -> int:
    """Index `count` generated records (this account and region) through /_emulator/records."""
    end = datetime(2025, 6, 1, tzinfo=timezone.utc)
    records = generate(count=count, start=end - timedelta(days=7), end=end, seed=3, accounts=[ACCOUNT],
                       regions=[REGION])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    added = 0
    for chunk in _chunks(records, 5000):
        conn.request("POST", "/_emulator/records", body=orjson.dumps({"Records": chunk}),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        answer = orjson.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"/_emulator/records: HTTP {response.status} {answer}")
        added += answer["added"]
    conn.close()
    return added


def _chunks(items, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="load processes (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=8.0, help="per operation and server")
    parser.add_argument("--records", type=int, default=20_000, help="records indexed for LookupEvents")
    parser.add_argument("--rounds", type=int, default=60_000, help="pre-built rounds per client (cap)")
    parser.add_argument("--only", choices=("ours", "moto"), help="run one server only")
    args = parser.parse_args()
    servers: dict[str, tuple[int, subprocess.Popen]] = {}
    with tempfile.TemporaryDirectory(prefix="peers-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if args.only != "moto":
                port = free_port()
                command = [str(BIN / "cloudtrail-emulator"), "serve", "--data-dir", ":memory:",
                           "--port", str(port), "--relax-bucket-policy"]
                servers["ours"] = (port, start(command, port, workdir / "ours.log", "/_emulator/health"))
            if args.only != "ours":
                port = free_port()
                moto = shutil.which("moto_server", path=str(BIN)) or "moto_server"
                servers["moto"] = (port, start([moto, "-H", "127.0.0.1", "-p", str(port)], port,
                                               workdir / "moto.log", "/moto-api/"))
            for port, _ in servers.values():
                setup(port)
            if "ours" in servers:
                started = time.perf_counter()
                added = post_records(servers["ours"][0], args.records)
                print(f"indexed {added:,} records on ours in {time.perf_counter() - started:.1f} s")
            print(f"{args.clients} keep-alive client processes, {args.seconds:g} s per run, "
                  f"{os.cpu_count()} cores")
            print(f"{'operation':26} {'server':6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
                  f"{'errors':>6} {'CPU us/req':>10}  load 1m")
            for operation in OPERATIONS:
                for name, (port, proc) in servers.items():
                    if operation == "LookupEvents" and name == "moto":
                        continue
                    f = load_run(port, proc.pid, operation, args.clients, args.seconds, args.rounds)
                    print(f"{operation:26} {name:6} {f.requests_per_s:8,.0f} {f.p50_ms:8.2f} "
                          f"{f.p99_ms:8.2f} {f.errors:6} {f.server_cpu_us:10,.0f}  {f.load[0]:.1f} -> {f.load[1]:.1f}", flush=True)
        finally:
            for _, proc in servers.values():
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    main()
