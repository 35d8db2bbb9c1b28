"""LookupEvents benchmark: index N generated records, time lookups in process and over HTTP.

    .venv/bin/python bench/lookup_bench.py [--records 1000000] [--clients 4] [--seconds 5]

Prints: indexing rate; p50/p99 per lookup attribute key and for a time-range-only query (through
the LookupEvents handler, no HTTP); then requests/s of LookupEvents and DescribeTrails from several
keep-alive boto3 client processes against a server on 127.0.0.1 using that index.
"""
from __future__ import annotations

import argparse
import itertools
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cloudtrail_emulator.emulator.protocols.json11 import RequestContext  # noqa: E402
from cloudtrail_emulator.emulator.config import EmulatorConfig, FixedClock  # noqa: E402
from cloudtrail_emulator.emulator.pipeline.events import EventStore, lookup_resources, lookup_username  # noqa: E402
from cloudtrail_emulator.emulator.pipeline.lookup import LookupEvents  # noqa: E402
from cloudtrail_emulator.emulator.server import THREADS, start_in_thread  # noqa: E402
from cloudtrail_emulator.generators.pipeline import generate  # noqa: E402

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
ACCOUNT = "123456789012"


def _index(store: EventStore, count: int) -> list[dict]:
    """Add `count` records spread over 80 days; keep a sample to draw query values from."""
    sample: list[dict] = []
    records = generate(count=count, start=NOW - timedelta(days=80), end=NOW, seed=7)
    started = time.perf_counter()
    while True:
        chunk = list(itertools.islice(records, 50_000))
        if not chunk:
            break
        store.add(chunk, deliver=False)
        sample.extend(chunk[::1000])
        done = store.max_seq()
        print(f"  indexed {done:,} ({done / (time.perf_counter() - started):,.0f}/s)", end="\r")
    print()
    return sample


def _values(sample: list[dict], rng: random.Random) -> dict[str, list[str]]:
    mine = [r for r in sample if r["recipientAccountId"] == ACCOUNT and r["awsRegion"] == "us-east-1"]
    pick = lambda values: rng.sample(values, min(50, len(values)))  # noqa: E731
    return {
        "EventId": pick([r["eventID"] for r in mine]),
        "EventName": pick([r["eventName"] for r in mine]),
        "ReadOnly": ["true", "false"],
        "Username": pick([u for r in mine if (u := lookup_username(r["userIdentity"]))]),
        "EventSource": pick([r["eventSource"] for r in mine]),
        "AccessKeyId": pick([k for r in mine if (k := r["userIdentity"].get("accessKeyId"))]),
        "ResourceType": pick([t for r in mine for t, _ in lookup_resources(r) if t]),
        "ResourceName": pick([n for r in mine for _, n in lookup_resources(r)]),
    }


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:6.2f} ms  p99 {p99 * 1000:6.2f} ms  (n={len(ordered)})"


def _in_process(store: EventStore, values: dict[str, list[str]], rounds: int, rng: random.Random) -> None:
    handler = LookupEvents(store, FixedClock(NOW))
    ctx = RequestContext(ACCOUNT, "us-east-1", "bench")
    cases = {key: [{"LookupAttributes": [{"AttributeKey": key, "AttributeValue": v}]} for v in vals]
             for key, vals in values.items()}
    cases["(time range)"] = [{"StartTime": NOW - timedelta(days=rng.randrange(1, 80)),
                              "EndTime": NOW - timedelta(days=rng.randrange(0, 1))} for _ in range(50)]
    for name, params in cases.items():
        timings = []
        for i in range(rounds):
            p = dict(params[i % len(params)])
            started = time.perf_counter()
            out = handler(ctx, p)
            if "NextToken" in out and i % 2:          # every other round also reads a second page
                handler(ctx, {**p, "NextToken": out["NextToken"]})
            timings.append(time.perf_counter() - started)
        print(f"  {name:14} {_percentiles(timings)}")


def _client_loop(url: str, operation: str, seconds: float, queue) -> None:
    import boto3
    from botocore.config import Config
    client = boto3.client("cloudtrail", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          config=Config(retries={"max_attempts": 1}))
    call = getattr(client, operation)
    call()
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        call()
        done += 1
    queue.put(done)


def _over_http(url: str, clients: int, seconds: float) -> None:
    for operation in ("lookup_events", "describe_trails"):
        queue = multiprocessing.Queue()
        procs = [multiprocessing.Process(target=_client_loop, args=(url, operation, seconds, queue))
                 for _ in range(clients)]
        for proc in procs:
            proc.start()
        total = sum(queue.get() for _ in procs)
        for proc in procs:
            proc.join()
        print(f"  {operation:16} {total / seconds:8,.0f} requests/s ({clients} keep-alive clients)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="lookup-bench-") as tmp:
        data_dir = Path(tmp)
        store = EventStore(data_dir / "state" / "events.sqlite")
        print(f"indexing {args.records:,} generated records")
        started = time.perf_counter()
        sample = _index(store, args.records)
        print(f"  {args.records / (time.perf_counter() - started):,.0f} records/s overall, "
              f"{(data_dir / 'state' / 'events.sqlite').stat().st_size / 2**20:,.0f} MiB")
        print("LookupEvents in process (handler + SQLite, first page of 50)")
        _in_process(store, _values(sample, rng), args.rounds, rng)
        store.close()
        server = start_in_thread(EmulatorConfig(data_dir=data_dir, clock=FixedClock(NOW)))
        try:
            print(f"over HTTP (uvicorn, {THREADS} app threads)")
            _over_http(server.url, args.clients, args.seconds)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
