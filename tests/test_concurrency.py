"""Concurrency: many clients at once against one `cloudtrail-emulator serve` process while it delivers.

Each worker thread has its own boto3 session and mixes trail calls on its own trails (create,
describe, status, start, delete), LookupEvents, S3 traffic in its own bucket, record injection and
/_emulator/deliver. Each worker's trails live in a region of its own (AWS allows 5 per account and region); a
multi-region audit trail takes the account's management events and every S3 data event.
Afterwards every injected record and every answered call is in exactly one of the audit trail's log
files, the injected management events are in LookupEvents, the chain validates with
`aws cloudtrail validate-logs`, and no answer was a 5xx. The long variant is `bench/concurrency_soak.py`.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from botocore.exceptions import ClientError

from cloudtrail_emulator.generators.stores import LocalStore
from test_crash_safety import (ServerProcess, assert_one_chain, check_visible, cloudtrail_policy,
                               delivered, make_record, make_trail, utc_now, validate_logs)

AUDIT_BUCKET = "audit-bucket"
AUDIT_TRAIL = "audit"
#: one region per worker for its own trails: AWS allows 5 trails per account and region
WORKER_REGIONS = ("us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1",
                  "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "ap-south-1",
                  "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2")
MAX_OWN_TRAILS = 3


@dataclass
class Tally:
    """One worker's account of what it did and what came back."""

    injected: set[str] = field(default_factory=set)          # eventIDs answered 200
    management: set[str] = field(default_factory=set)        # ... of those, management events
    calls: dict[str, str] = field(default_factory=dict)      # requestID -> operation, answered AWS calls
    server_errors: list[str] = field(default_factory=list)   # every 5xx (or unexpected failure)
    operations: Counter = field(default_factory=Counter)
    slowest_deliver: float = 0.0                             # seconds, the longest /_emulator/deliver


class Worker:
    """One client: its own session, bucket, trails and random stream."""

    def __init__(self, server: ServerProcess, index: int, seed: int):
        self.server, self.index = server, index
        self.rng = random.Random(seed * 1000 + index)
        self.region = WORKER_REGIONS[index]
        self.ct, self.s3 = server.client("cloudtrail", region=self.region), server.client("s3")
        self.http = requests.Session()
        self.bucket = f"worker-{index}-bucket"
        self.user = f"soak-{index}"
        self.tally = Tally()
        self.trails: list[str] = []
        self.objects: list[str] = []
        self.serial = 0
        for client in (self.ct, self.s3):
            client.meta.events.register("after-call", self._after_call)

    def _after_call(self, http_response, parsed: dict, model, **_) -> None:
        """botocore hook: remember every answered call's request id and operation."""
        if http_response.status_code < 300:
            self.tally.calls[parsed["ResponseMetadata"]["RequestId"]] = model.name

    def setup(self) -> None:
        self.s3.create_bucket(Bucket=self.bucket)
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=cloudtrail_policy(self.bucket))

    def run(self, operations: int) -> Tally:
        """Do `operations` random operations (a count, not a duration: a busy machine takes longer to
        do the same work)."""
        ops = [(self.trail_op, 6), (self.lookup, 4), (self.s3_op, 8), (self.inject, 8), (self.deliver, 1)]
        funcs, weights = zip(*ops)
        for _ in range(operations):
            op = self.rng.choices(funcs, weights)[0]
            self.tally.operations[op.__name__] += 1
            try:
                op()
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                self.tally.server_errors.append(f"{op.__name__}: {status} {exc}")
            except Exception as exc:       # a dropped connection is as bad as a 5xx here
                self.tally.server_errors.append(f"{op.__name__}: {type(exc).__name__}: {exc}")
        return self.tally

    def trail_op(self) -> None:
        if not self.trails or (len(self.trails) < MAX_OWN_TRAILS and self.rng.random() < 0.5):
            self.serial += 1
            name = f"w{self.index}-t{self.serial}"
            self.ct.create_trail(Name=name, S3BucketName=self.bucket,
                                 EnableLogFileValidation=self.rng.random() < 0.5)
            self.trails.append(name)
            return
        name = self.rng.choice(self.trails)
        choice = self.rng.random()
        if choice < 0.3:
            found = self.ct.describe_trails(trailNameList=[name])["trailList"]
            assert [t["Name"] for t in found] == [name], found
        elif choice < 0.55:
            self.ct.get_trail_status(Name=name)
        elif choice < 0.75:
            self.ct.start_logging(Name=name)
        else:
            self.ct.delete_trail(Name=name)
            self.trails.remove(name)

    def lookup(self) -> None:
        attribute = self.rng.choice([{"AttributeKey": "Username", "AttributeValue": self.user},
                                     {"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}])
        self.ct.lookup_events(LookupAttributes=[attribute], MaxResults=10)

    def s3_op(self) -> None:
        choice = self.rng.random()
        if choice < 0.4 or not self.objects:
            self.serial += 1
            key = f"obj/{self.serial}.txt"
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=self.rng.randbytes(64))
            self.objects.append(key)
        elif choice < 0.6:
            self.s3.get_object(Bucket=self.bucket, Key=self.rng.choice(self.objects))["Body"].read()
        elif choice < 0.8:
            self.s3.list_objects_v2(Bucket=self.bucket, Prefix="obj/")
        else:
            key = self.objects.pop(self.rng.randrange(len(self.objects)))
            self.s3.delete_object(Bucket=self.bucket, Key=key)

    def inject(self) -> None:
        now = utc_now()
        batch = [make_record(self.rng, now, data=self.rng.random() < 0.3, bucket=self.bucket, user=self.user)
                 for _ in range(self.rng.randint(1, 10))]
        answer = self.http.post(f"{self.server.url}/_emulator/records", json=batch, timeout=30)
        if answer.status_code != 200:
            self.tally.server_errors.append(f"records: {answer.status_code} {answer.text[:200]}")
            return
        self.tally.injected.update(r["eventID"] for r in batch)
        self.tally.management.update(r["eventID"] for r in batch if r["managementEvent"])

    def deliver(self) -> None:
        began = time.monotonic()
        answer = self.http.post(f"{self.server.url}/_emulator/deliver", timeout=120)
        self.tally.slowest_deliver = max(self.tally.slowest_deliver, time.monotonic() - began)
        if answer.status_code != 200:
            self.tally.server_errors.append(f"deliver: {answer.status_code} {answer.text[:200]}")


@dataclass
class ConcurrencyResult:
    workers: int
    seconds: float
    operations: Counter
    injected: int
    calls: int
    delivered_records: int
    log_files: int
    digests: int
    validate: tuple[str, str]
    slowest_deliver: float


def looked_up(server: ServerProcess, user: str) -> set[str]:
    """eventIDs LookupEvents returns for a Username (every page)."""
    ct = server.client("cloudtrail")      # injected records are in the home region
    pages = ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": user}],
        PaginationConfig={"PageSize": 50})
    return {e["EventId"] for page in pages for e in page["Events"]}


def concurrency_soak(tmp: Path, seed: int, workers: int, operations: int) -> ConcurrencyResult:
    """Run `workers` clients (at most len(WORKER_REGIONS)) for `operations` operations each, then
    check delivery and lookup (see module doc)."""
    data_dir = tmp / "data"
    server = ServerProcess(data_dir, delivery_interval=0.5, digest_interval=5)
    started_at = utc_now()
    server.start()
    try:
        arn = make_trail(server, AUDIT_TRAIL, AUDIT_BUCKET, data_events=True, multi_region=True)
        crew = [Worker(server, i, seed) for i in range(workers)]
        for worker in crew:
            worker.setup()
        threads = [threading.Thread(target=w.run, args=(operations,)) for w in crew]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        errors = [e for w in crew for e in w.tally.server_errors]
        assert not errors, f"{len(errors)} failed calls, e.g. {errors[:5]}"
        assert server.control("deliver").status_code == 200

        store = LocalStore(data_dir / "s3")
        logs, digest_count = check_visible(store, AUDIT_BUCKET)
        records, digests = delivered(store, AUDIT_BUCKET)
        ids = Counter(r["eventID"] for r in records)
        duplicated = [i for i, n in ids.items() if n > 1]
        assert not duplicated, f"{len(duplicated)} eventIDs delivered more than once, e.g. {duplicated[:3]}"
        injected = set().union(*(w.tally.injected for w in crew))
        lost = injected - set(ids)
        assert not lost, f"{len(lost)} injected records never delivered, e.g. {sorted(lost)[:3]}"
        calls = {i: op for w in crew for i, op in w.tally.calls.items()}
        request_ids = Counter(r.get("requestID") for r in records if r.get("userAgent") != "crash-soak")
        assert "ListObjectsV2" in calls.values()       # regression: bucket-level data events were dropped
        missing = Counter(op for i, op in calls.items() if i not in request_ids)
        assert not missing, f"answered calls never delivered: {dict(missing)}"
        assert all(request_ids[c] == 1 for c in calls), "an answered call delivered twice"
        for worker in crew:
            absent = worker.tally.management - looked_up(server, worker.user)
            assert not absent, f"{len(absent)} injected management events missing from LookupEvents"
        assert_one_chain(digests)
        verdict = validate_logs(server.url, arn, started_at)
    finally:
        server.stop()
    operations = sum((w.tally.operations for w in crew), Counter())
    return ConcurrencyResult(workers, elapsed, operations, len(injected), len(calls), len(records), logs,
                             digest_count, verdict, max(w.tally.slowest_deliver for w in crew))


def test_concurrent_clients_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    result = concurrency_soak(tmp_path, seed=3, workers=8, operations=60)
    assert result.injected > 100 and result.calls > 100
    assert {"trail_op", "lookup", "s3_op", "inject", "deliver"} <= set(result.operations)
