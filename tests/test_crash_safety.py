"""Crash safety: SIGKILL `cloudtrail-emulator serve` and `generate` at seeded random moments, and
turn the server's data dir read-only or full under traffic (tests/fixtures_faults.py).

The server runs as a real subprocess on its data dir; between kills the test injects records,
makes API calls and forces deliveries (some kills land right after /_emulator/deliver is called).
After the last restart: no partial object is visible in the store, every accepted (2xx-answered)
record and every 2xx-answered API call is in exactly one delivered log file (calls answered 5xx while
the data dir could not be written are not counted), the digest chain is unbroken and
`aws cloudtrail validate-logs` passes. The long variant is `bench/crash_soak.py`.
"""
from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudtrail_emulator.generators.stores import LocalStore
from fixtures_faults import DataDirFaults
from fixtures_server import free_port

BIN = Path(sys.executable).parent
CLI = BIN / "cloudtrail-emulator"
AWS = BIN / "aws"
ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "crash-bucket"
TRAIL = "crash-trail"
CLIENT_CONFIG = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                       connect_timeout=2, read_timeout=20)


def utc_now() -> datetime:
    """The wall clock the server also uses (the test harness is the only caller)."""
    return datetime.now(timezone.utc)


class ServerProcess:
    """`cloudtrail-emulator serve` as a child process on a data dir; killed by its pid only."""

    def __init__(self, data_dir: Path, *, delivery_interval: float = 1.0, digest_interval: int = 3,
                 log: Path | None = None):
        self.data_dir, self.delivery_interval, self.digest_interval = data_dir, delivery_interval, digest_interval
        self.log = log or data_dir.parent / f"{data_dir.name}-server.log"
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [str(CLI), "serve", "--data-dir", str(self.data_dir), "--port", str(self.port),
                 "--delivery-interval", str(self.delivery_interval),
                 "--digest-interval", str(self.digest_interval)],
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/_emulator/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        raise AssertionError("server did not answer /_emulator/health within 20 s")

    def kill(self) -> None:
        """SIGKILL by pid and reap."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        """SIGINT (clean shutdown), SIGKILL if it hangs."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def client(self, service: str, access_key: str = ACCOUNT, region: str = REGION):
        session = boto3.session.Session()       # one session per caller: sessions are not thread-safe
        return session.client(service, endpoint_url=self.url, region_name=region,
                              aws_access_key_id=access_key, aws_secret_access_key="testing",
                              config=CLIENT_CONFIG)

    def control(self, op: str, body=None, timeout: float = 60) -> requests.Response:
        return requests.post(f"{self.url}/_emulator/{op}", json=body, timeout=timeout)


def make_record(rng: random.Random, at: datetime, *, data: bool = False, bucket: str = BUCKET,
                user: str = "soak") -> dict:
    """A schema-valid record of ACCOUNT/REGION by IAM user `user`: a management call, or an S3 data
    event on `bucket`."""
    event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    key = f"injected/{event_id}.txt"
    identity = {"type": "IAMUser", "principalId": "AIDAEXAMPLESOAKUSER01",
                "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}", "accountId": ACCOUNT,
                "accessKeyId": "AKIAEXAMPLESOAK00001", "userName": user}
    head = {"eventVersion": "1.09", "userIdentity": identity, "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "s3.amazonaws.com" if data else "ec2.amazonaws.com",
            "eventName": "GetObject" if data else "DescribeInstances", "awsRegion": REGION,
            "sourceIPAddress": "198.51.100.7", "userAgent": "crash-soak",
            "requestParameters": {"bucketName": bucket, "key": key} if data else None,
            "responseElements": None, "requestID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "eventID": event_id, "readOnly": True}
    resources = {"resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                               {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]}
    tail = {"eventType": "AwsApiCall", "managementEvent": not data, "recipientAccountId": ACCOUNT,
            "eventCategory": "Data" if data else "Management"}
    return {**head, **(resources if data else {}), **tail}


def cloudtrail_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "Write", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*"}]})


def make_trail(server: ServerProcess, name: str = TRAIL, bucket: str = BUCKET, *, data_events: bool = False,
               multi_region: bool = False) -> str:
    """Bucket with CloudTrail's policy, a validating trail (optionally with S3 data events and in every
    region), logging."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket))
    ct = server.client("cloudtrail")
    arn = ct.create_trail(Name=name, S3BucketName=bucket, EnableLogFileValidation=True,
                          IsMultiRegionTrail=multi_region)["TrailARN"]
    if data_events:
        ct.put_event_selectors(TrailName=name, EventSelectors=[{
            "ReadWriteType": "All", "IncludeManagementEvents": True,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
    ct.start_logging(Name=name)
    return arn


# -- what is visible in a store ----------------------------------------------------------------

def check_gzip_json(body: bytes, where: str) -> object:
    """A complete single-member gzip whose JSON parses."""
    inflater = zlib.decompressobj(wbits=31)
    raw = inflater.decompress(body) + inflater.flush()
    assert inflater.eof, f"{where}: truncated gzip"
    assert inflater.unused_data == b"", f"{where}: data after the gzip member"
    return json.loads(raw)


def check_visible(store: LocalStore, bucket: str) -> tuple[int, int]:
    """Every listed object is whole; digests carry their signature metadata. (log files, digests)."""
    logs = digests = 0
    for key in store.list(bucket):
        if not key.endswith(".json.gz"):
            continue
        obj = store.get(bucket, key)
        data = check_gzip_json(obj.body, key)
        if "/CloudTrail-Digest/" in key:
            assert obj.metadata.get("signature") and obj.metadata.get("signature-algorithm") == "SHA256withRSA", key
            assert {"digestStartTime", "digestEndTime", "logFiles"} <= set(data), key
            digests += 1
        else:
            assert isinstance(data, dict) and isinstance(data.get("Records"), list), key
            logs += 1
    return logs, digests


def check_visible_files(directory: Path) -> int:
    """Every *.json.gz a file-system walk finds outside .ctemu/ is whole (what gunzip would see)."""
    seen = 0
    for path in directory.rglob("*.json.gz"):
        if ".ctemu" in path.relative_to(directory).parts:
            continue
        check_gzip_json(path.read_bytes(), str(path))
        seen += 1
    return seen


def delivered(store: LocalStore, bucket: str) -> tuple[list[dict], list[dict]]:
    """(records of every log file, digests sorted by end time) of a bucket."""
    records, digests = [], []
    for key in store.list(bucket):
        data = json.loads(gzip.decompress(store.get(bucket, key).body))
        if "/CloudTrail-Digest/" in key:
            digests.append({**data, "_key": key})
        elif "/CloudTrail/" in key:
            records.extend(data["Records"])
    return records, sorted(digests, key=lambda d: d["digestEndTime"])


def assert_one_chain(digests: list[dict]) -> int:
    """One chain per account and region, from a starting digest to the end: each period starts where
    the last ended and names the last digest. The number of chains."""
    chains: dict[str, list[dict]] = {}
    for digest in digests:
        chains.setdefault(digest["_key"].rsplit("/", 4)[0], []).append(digest)
    assert chains
    for chain in chains.values():
        assert chain[0]["previousDigestSignature"] is None, chain[0]["_key"]
        for prev, cur in zip(chain, chain[1:]):
            assert cur["digestStartTime"] == prev["digestEndTime"], (prev["_key"], cur["_key"])
            assert cur["previousDigestS3Object"] == prev["_key"]
    return len(chains)


def validate_logs(url: str, arn: str, start: datetime) -> tuple[str, str]:
    """Run `aws cloudtrail validate-logs`; assert exit 0 and everything valid; the two count lines."""
    env = {**os.environ, "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": ACCOUNT,
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    result = subprocess.run(
        [str(AWS), "cloudtrail", "validate-logs", "--trail-arn", arn, "--verbose",
         "--start-time", (start - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")],
        env=env, capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "INVALID" not in out and "No log files were delivered" not in out, out[-4000:]
    lines = result.stdout.splitlines()
    digest_line = next(line for line in lines if "digest files valid" in line)
    log_line = next(line for line in lines if "log files valid" in line)
    for line in (digest_line, log_line):
        good, total = line.split()[0].split("/")
        assert good == total and int(total) > 0, line
    return digest_line, log_line


# -- the server soak -----------------------------------------------------------------------------

@dataclass
class Ledger:
    """What the clients know got in: injected eventIDs answered 200, requestIDs of answered calls,
    and how many answers came back (the soak waits on `answered` to decide when to kill)."""

    accepted: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    answers: int = 0
    refusals: int = 0         # 5xx answers (the data dir could not be written)
    answered: threading.Condition = field(default_factory=threading.Condition)

    def refused(self) -> None:
        with self.answered:
            self.refusals += 1
            self.answered.notify_all()

    def wait_for_attempts(self, attempts: int, timeout: float = 120) -> None:
        """Until `attempts` answers of any status (2xx or 5xx) in all."""
        with self.answered:
            assert self.answered.wait_for(lambda: self.answers + self.refusals >= attempts, timeout), \
                f"{self.answers + self.refusals} answers of any status, not {attempts}, within {timeout} s"

    def add(self, *, accepted: list[str] = (), call: str | None = None) -> None:
        with self.answered:
            self.accepted.update(accepted)
            if call is not None:
                self.calls.add(call)
            self.answers += 1
            self.answered.notify_all()

    def wait_for(self, answers: int, timeout: float = 120) -> None:
        """Until `answers` answers in all, at least one of each kind (a record batch, an API call)."""
        with self.answered:
            assert self.answered.wait_for(
                lambda: self.answers >= answers and self.accepted and self.calls, timeout), \
                f"{self.answers} answers, not {answers}, within {timeout} s"


def traffic(server: ServerProcess, ledger: Ledger, rng: random.Random, stop: threading.Event) -> None:
    """Inject records and make CloudTrail calls until `stop` or the server dies."""
    ct = server.client("cloudtrail")
    session = requests.Session()
    calls = [lambda: ct.describe_trails(), lambda: ct.get_trail_status(Name=TRAIL), lambda: ct.list_trails(),
             lambda: ct.lookup_events(MaxResults=5)]
    while not stop.is_set():
        try:
            if rng.random() < 0.6:
                batch = [make_record(rng, utc_now()) for _ in range(rng.randint(1, 20))]
                answer = session.post(f"{server.url}/_emulator/records", json=batch, timeout=20)
                if answer.status_code >= 500:       # the event store could not be written
                    ledger.refused()
                    continue
                assert answer.status_code == 200, answer.text
                ledger.add(accepted=[r["eventID"] for r in batch])
            else:
                response = rng.choice(calls)()
                ledger.add(call=response["ResponseMetadata"]["RequestId"])
        except AssertionError:
            raise
        except ClientError as exc:
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] >= 500, exc.response
            ledger.refused()
        except Exception:          # the kill landed mid-call (connection refused or reset)
            return


@dataclass
class SoakResult:
    kills: int
    accepted: int
    calls: int
    log_files: int
    digests: int
    delivered_records: int
    seconds: float
    validate: tuple[str, str]
    faults: int = 0           # rounds that turned the data dir read-only or full
    refusals: int = 0         # 5xx answers meanwhile (never counted as accepted)


def crash_soak(tmp: Path, seed: int, kills: int, *, max_answers: int = 40,
               faults: DataDirFaults | None = None) -> SoakResult:
    """Kill/restart the server `kills` times under traffic, then check everything (see module doc).

    Each round kills once its traffic got 1 to `max_answers` answers (a count, not a delay, so a busy
    machine changes how long a round takes, not what it does); half the rounds ask for a delivery
    first and kill after 0-3 more answers, while it may be writing. With `faults` (the data dir on
    its own tmpfs) a round may instead turn the data dir read-only or fill it, let the traffic get
    1 to `max_answers` answers of any status, then either restore it under traffic or SIGKILL the
    server first and restore it while the server is down."""
    began = time.monotonic()
    rng = random.Random(seed)
    data_dir = tmp / "data" if faults is None else faults.data_dir
    server = ServerProcess(data_dir, log=tmp / "soak-server.log")
    ledger = Ledger()
    faulted = 0
    started_at = utc_now()
    server.start()
    try:
        arn = make_trail(server)
        store = LocalStore(data_dir / "s3")
        for round_no in range(kills):
            stop = threading.Event()
            worker = threading.Thread(target=traffic, args=(server, ledger, random.Random(rng.random()), stop))
            worker.start()
            ledger.wait_for(ledger.answers + rng.randint(1, max_answers))
            fault = None if faults is None else rng.choice([None, "read_only", "full"])
            if fault is not None:
                faulted += 1
                (faults.read_only if fault == "read_only" else faults.fill)()
                ledger.wait_for_attempts(ledger.answers + ledger.refusals + rng.randint(1, max_answers))
                if rng.random() < 0.5:        # recover under traffic, then go on to the kill
                    (faults.writable if fault == "read_only" else faults.free)()
                    fault = None
                    ledger.wait_for(ledger.answers + rng.randint(1, max_answers))
            elif rng.random() < 0.5:          # kill mid-delivery: right after asking for one
                asked = threading.Event()
                threading.Thread(target=_deliver_quietly, args=(server, asked), daemon=True).start()
                asked.wait(30)
                ledger.wait_for(ledger.answers + rng.randint(0, 3))
            server.kill()
            stop.set()
            worker.join(timeout=30)
            if fault is not None:             # killed while faulty: restored while down
                (faults.writable if fault == "read_only" else faults.free)()
            check_visible(store, BUCKET)
            if rng.random() < 0.3:           # sometimes stay down across a digest period
                wall_clock_passes(utc_now() + timedelta(seconds=server.digest_interval))
            server.start()
        server.client("cloudtrail").describe_trails()
        server.client("cloudtrail").stop_logging(Name=TRAIL)
        assert server.control("deliver").status_code == 200
        logs, digest_count = check_visible(store, BUCKET)
        records, digests = delivered(store, BUCKET)
        ids = Counter(r["eventID"] for r in records)
        duplicated = [i for i, n in ids.items() if n > 1]
        assert not duplicated, f"{len(duplicated)} eventIDs delivered more than once, e.g. {duplicated[:3]}"
        lost = ledger.accepted - set(ids)
        assert not lost, f"{len(lost)} accepted records never delivered, e.g. {sorted(lost)[:3]}"
        request_ids = Counter(r.get("requestID") for r in records if r.get("eventSource") == "cloudtrail.amazonaws.com")
        missing = ledger.calls - set(request_ids)
        assert not missing, f"{len(missing)} answered API calls not delivered, e.g. {sorted(missing)[:3]}"
        assert all(request_ids[i] == 1 for i in ledger.calls), "an answered API call delivered twice"
        assert_one_chain(digests)
        assert {r["eventName"] for r in records} >= {"StartLogging", "StopLogging"}
        verdict = validate_logs(server.url, arn, started_at)
    finally:
        server.stop()
    return SoakResult(kills, len(ledger.accepted), len(ledger.calls), logs, digest_count, len(records),
                      time.monotonic() - began, verdict, faulted, ledger.refusals)


def _deliver_quietly(server: ServerProcess, asked: threading.Event) -> None:
    asked.set()
    try:
        server.control("deliver", timeout=20)
    except requests.RequestException:
        pass


def wall_clock_passes(moment: datetime) -> None:
    """Wait until the system clock reads `moment`. Only for a server subprocess that is down: it reads
    the system clock, so a digest period passing while it is down takes real time (an in-process
    server would take a ManualClock instead)."""
    while (remaining := (moment - utc_now()).total_seconds()) > 0:
        time.sleep(remaining)


# -- generate ----------------------------------------------------------------------------------

def visible_objects(directory: Path) -> int:
    """How many *.json.gz a file-system walk finds outside .ctemu/."""
    return sum(1 for path in directory.rglob("*.json.gz")
               if ".ctemu" not in path.relative_to(directory).parts)


def generate_kills(tmp: Path, seed: int, kills: int, count: int = 30000) -> int:
    """SIGKILL `generate` mid-run `kills` times, each once it has written a random number of objects
    (up to about half of a run's count/30); every visible object stays whole. Objects checked."""
    rng = random.Random(seed)
    out, data_dir = tmp / "out", tmp / "gen-data"
    checked = 0
    for n in range(kills):
        target = (visible_objects(out) if out.exists() else 0) + rng.randint(1, max(1, count // 60))
        proc = subprocess.Popen(
            [str(CLI), "generate", "--count", str(count), "--output", str(out), "--data-dir", str(data_dir),
             "--seed", str(n), "--workers", "1", "--start", "2024-05-01T00:00:00Z", "--end", "2024-05-02T00:00:00Z"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while proc.poll() is None and not (out.exists() and visible_objects(out) >= target):
            assert time.monotonic() < deadline, f"generate wrote fewer than {target} objects in 120 s"
            time.sleep(0.01)                # a poll interval: the condition is the object count
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        store = LocalStore.directory(out)
        logs, digests = check_visible(store, "cloudtrail-emulator-logs")
        assert check_visible_files(out) == logs + digests
        checked += logs + digests
    return checked


def test_sigkill_generate_leaves_no_partial_object(tmp_path: Path) -> None:
    assert generate_kills(tmp_path, seed=11, kills=3) > 0


def test_sigkill_serve_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = crash_soak(tmp_path, seed=7, kills=4)
    assert result.accepted > 0 and result.calls > 0 and result.digests >= 2


def test_sigkill_read_only_and_full_data_dir_lose_and_duplicate_nothing(
        data_dir_faults: DataDirFaults, tmp_path: Path) -> None:
    """The short soak with faults; the long one is `bench/crash_soak.py --faults`."""
    result = crash_soak(tmp_path, seed=3, kills=5, faults=data_dir_faults)
    assert result.accepted > 0 and result.calls > 0 and result.digests >= 2
    assert result.faults >= 2        # 5xx answers meanwhile depend on when the WAL runs out of room


def iter_summary(result: SoakResult) -> Iterator[str]:
    """Lines for a report."""
    yield f"kills {result.kills}, accepted records {result.accepted}, answered calls {result.calls}"
    if result.faults:
        yield f"read-only or full data dir in {result.faults} rounds, {result.refusals} answers 5xx meanwhile"
    yield f"delivered records {result.delivered_records} in {result.log_files} log files, {result.digests} digests"
    yield f"validate-logs: {result.validate[0].strip()}; {result.validate[1].strip()}"
    yield f"{result.seconds:.1f} s"


def test_sigkill_right_after_stop_logging_still_ends_the_chain(tmp_path: Path) -> None:
    """The stop is applied after a restart: its record delivered, a final digest, nothing after."""
    server = ServerProcess(tmp_path / "data", delivery_interval=30, digest_interval=2)
    started_at = utc_now()
    server.start()
    try:
        arn = make_trail(server)
        server.client("cloudtrail").describe_trails()
        assert server.control("deliver").status_code == 200
        stop_id = server.client("cloudtrail").stop_logging(Name=TRAIL)["ResponseMetadata"]["RequestId"]
        server.kill()                       # before the scheduler (30 s away) applies the stop
        wall_clock_passes(utc_now() + timedelta(seconds=2.5))     # a digest period passes while down
        server.start()
        assert server.control("deliver").status_code == 200
        store = LocalStore(tmp_path / "data" / "s3")
        records, digests = delivered(store, BUCKET)
        assert [r["requestID"] for r in records].count(stop_id) == 1
        assert_one_chain(digests)
        wall_clock_passes(utc_now() + timedelta(seconds=2.5))     # a period after the final digest
        assert server.control("deliver").status_code == 200
        assert delivered(store, BUCKET)[1] == digests       # stopped: no digest after the final one
        validate_logs(server.url, arn, started_at)
    finally:
        server.stop()
