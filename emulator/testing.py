"""Test helpers usable without pytest: an in-process emulator with ready clients, trail buckets with
the policy CloudTrail needs, exact record injection, signed log files written on demand, a record
builder, a reader of a trail's records and an environment patch for code under test.

    with start_emulator() as emulator:
        emulator.create_trail("audit", "audit-logs")
        emulator.client("cloudtrail").describe_trails()
        subprocess.run(["aws", "cloudtrail", "describe-trails"], env={**os.environ, **emulator.aws_env})
        emulator.put_records([make_record("CreateUser", user="alice")])
        with emulator.environment():            # AWS_ENDPOINT_URL*, credentials, region; restored after
            my_code_under_test()
        records = list(emulator.read_records("audit-logs"))

The pytest plugin (`cloudtrail_emulator.emulator.pytest_plugin`) wraps these in fixtures. The record
builder lives in `testing_records`, the reader in `testing_reader`, the environment in `testing_env`;
import them from here.
"""
from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudtrail_emulator.emulator.app import state_of
from cloudtrail_emulator.emulator.services.cloudtrail.bucket_policy import cloudtrail_bucket_policy
from cloudtrail_emulator.emulator.config import EmulatorConfig
from cloudtrail_emulator.emulator.server import RunningServer, start_in_thread
from cloudtrail_emulator.emulator.state import EmulatorState
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.pipeline import TrailSummary, TrailTarget, generate_trail, plan_run, write_trail
from cloudtrail_emulator.generators.scenarios.plan import ScenarioSpec
from cloudtrail_emulator.generators.trail.layout import DIGEST, LOG, parse_key
from cloudtrail_emulator.generators.stores import Credentials, S3Store
from cloudtrail_emulator.emulator.testing_env import (ACCESS_KEY, DEFAULT_REGION, SECRET_KEY, aws_env,
                                                      aws_environment, patched_environ)
from cloudtrail_emulator.emulator.testing_reader import read_records, trail_records
from cloudtrail_emulator.emulator.testing_records import RecordBuilder, make_record

__all__ = ["ControlApiError", "Emulator", "RecordBuilder", "WrittenLogs", "aws_env", "aws_environment",
           "cloudtrail_bucket_policy", "make_record", "patched_environ", "read_records", "start_emulator",
           "trail_records", "write_logs"]
#: generated logs cover [LOGS_START, LOGS_START + LOGS_SPAN) unless told otherwise: fixed, so output is reproducible
LOGS_START = datetime(2024, 5, 1, tzinfo=timezone.utc)
LOGS_SPAN = timedelta(hours=1)
_CLIENT_CONFIG = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                        connect_timeout=5, read_timeout=30)


class ControlApiError(GeneratorError):
    """A 4xx answer of the control API."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class WrittenLogs:
    """What a logs factory call wrote: where, which keys, the run summary and the records back."""

    bucket: str
    prefix: str
    keys: list[str]                 # every object written (log files, digests; labels in a bucket), ascending
    summary: TrailSummary
    directory: Path | None          # local target: objects are files under it; None for a bucket
    keyring: Keyring                # signed the digests (validate with it)
    _read: Any = field(repr=False)  # key -> object bytes

    @property
    def log_keys(self) -> list[str]:
        return [k for k in self.keys if getattr(parse_key(k), "kind", None) == LOG]

    @property
    def digest_keys(self) -> list[str]:
        return [k for k in self.keys if getattr(parse_key(k), "kind", None) == DIGEST]

    @property
    def paths(self) -> list[Path]:
        """The log files as local paths (local targets only)."""
        if self.directory is None:
            raise GeneratorError(f"logs were written to bucket {self.bucket!r}, not to a directory")
        return [self.directory / key for key in self.log_keys]

    @property
    def labels(self) -> list[dict]:
        """The scenarios' ground-truth labels (eventID, scenario, technique, tactic, step), in order."""
        return self.summary.labels

    def read(self, key: str) -> bytes:
        return self._read(key)

    def records(self) -> Iterator[dict]:
        """Every record of every log file, file by file in key order."""
        for key in self.log_keys:
            yield from json.loads(gzip.decompress(self._read(key)))["Records"]


@dataclass
class Emulator:
    """A running in-process emulator: its URL, boto3 clients and `aws` CLI environment pointed at it."""

    running: RunningServer
    region: str = DEFAULT_REGION
    session: boto3.session.Session = field(default_factory=boto3.session.Session, repr=False)
    _clients: dict[tuple, Any] = field(default_factory=dict, repr=False)

    @property
    def url(self) -> str:
        return self.running.url

    endpoint_url = url

    @property
    def port(self) -> int:
        return self.running.port

    @property
    def app(self):
        return self.running.app

    @property
    def state(self) -> EmulatorState:
        return state_of(self.running.app)

    @property
    def config(self) -> EmulatorConfig:
        return self.running.config

    @property
    def account_id(self) -> str:
        return self.config.default_account

    def client(self, service: str, region: str | None = None, account_id: str | None = None):
        """A boto3 client (cached per service, region, account) with dummy credentials and path-style S3;
        `account_id` (12 digits) acts as that account, the default account otherwise."""
        key = (service, region or self.region, account_id)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, endpoint_url=self.url, region_name=key[1],
                aws_access_key_id=account_id or ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                config=_CLIENT_CONFIG)
        return self._clients[key]

    @property
    def aws_env(self) -> dict[str, str]:
        """Variables that point the `aws` CLI (and any SDK) here: merge over `os.environ`."""
        return aws_env(self.url, self.region)

    def environment(self):
        """A context manager pointing every AWS SDK and CLI used in it here (`aws_environment`)."""
        return aws_environment(self.url, self.region)

    def read_records(self, bucket: str, prefix: str = "", **filters) -> Iterator[dict]:
        """The records of the log files in one of this emulator's buckets, read through its S3
        endpoint; `filters` as `trail_records` (trail_name, account_ids, regions, start, end, insights)."""
        store = S3Store(self.url, self.region, Credentials(ACCESS_KEY, SECRET_KEY))
        return trail_records(store, bucket, prefix, **filters)

    def control(self, operation: str, body: Any = None) -> dict:
        """POST to the control API (`/_emulator/<operation>`, docs/control-api.md); its JSON answer.
        A 4xx answer raises ControlApiError with the server's code and message."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_emulator/{operation}", data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            error = json.loads(exc.read() or b"{}")
            raise ControlApiError(error.get("__type", str(exc.code)), error.get("message", exc.reason)) from None

    def put_records(self, records: Iterable[dict]) -> int:
        """Add exact records (schema-checked) to the event index that LookupEvents and live delivery
        read (`POST /_emulator/records`); returns how many were new (a known eventID is skipped)."""
        return self.control("records", {"Records": list(records)})["added"]

    def reset(self) -> dict:
        """Delete every trail, forget every event and delivery state (buckets, topics, keys stay)."""
        return self.control("reset")

    def seed_history(self, trail: str, **fields) -> dict:
        """Generated history for a trail (`POST /_emulator/history`: days, count, seed, regions, accounts)."""
        return self.control("history", {"trail": trail, **fields})

    def deliver(self) -> dict:
        """Deliver pending log files and close every open digest period now (`POST /_emulator/deliver`)."""
        return self.control("deliver")

    def create_trail_bucket(self, bucket: str, prefix: str | None = None,
                            account_ids: Sequence[str] | None = None, org_id: str | None = None) -> str:
        """Create `bucket` (if missing) with the policy CloudTrail needs for `account_ids` (default: the
        emulator's default account) and `org_id`; returns the policy text."""
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=bucket)   # any account's bucket (ListBuckets shows only ours)
        except ClientError:
            s3.create_bucket(Bucket=bucket)
        policy = cloudtrail_bucket_policy(bucket, account_ids or [self.account_id], prefix, org_id)
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)
        return policy

    def create_trail(self, name: str, bucket: str | None = None, *, prefix: str | None = None,
                     start_logging: bool = True, **create_args) -> dict:
        """Create a trail delivering to `bucket` (default `<name>-logs`; created with CloudTrail's policy),
        start logging it unless told not to; returns CreateTrail's response. `create_args` go to
        CreateTrail as is (IsMultiRegionTrail=True, ...)."""
        bucket = bucket or f"{name}-logs"
        org_id = self.config.organization if create_args.get("IsOrganizationTrail") else None
        self.create_trail_bucket(bucket, prefix, org_id=org_id)
        cloudtrail = self.client("cloudtrail")
        args = {"Name": name, "S3BucketName": bucket, **({"S3KeyPrefix": prefix} if prefix else {}), **create_args}
        created = cloudtrail.create_trail(**args)
        created.pop("ResponseMetadata", None)
        if start_logging:
            cloudtrail.start_logging(Name=created["TrailARN"])
        return created

    def write_logs(self, bucket: str, **options) -> WrittenLogs:
        """Generate signed log files into `bucket` of this emulator's object store, signed with its keyring
        (so ListPublicKeys and `aws cloudtrail validate-logs` accept them); options as `write_logs`."""
        return _write_to_store(self.state, bucket, **options)

    def stop(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self.running.stop()

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_emulator(config: EmulatorConfig | None = None, *, region: str = DEFAULT_REGION,
                   session: boto3.session.Session | None = None) -> Emulator:
    """Start an emulator on a free 127.0.0.1 port (default: `:memory:` state); `stop()` it when done."""
    running = start_in_thread(config or EmulatorConfig(), "127.0.0.1", 0)
    return Emulator(running, region, session or boto3.session.Session())


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    start = start or (end - LOGS_SPAN if end else LOGS_START)
    return start, end or start + LOGS_SPAN


def write_logs(directory: Path | str, *, data_dir: Path | str | None = None, count: int = 100, seed: int = 0,
               accounts: int | Sequence[str] = 1, regions: Sequence[str] = (DEFAULT_REGION,),
               start: datetime | None = None, end: datetime | None = None,
               scenarios: Sequence[str | ScenarioSpec] = (), prefix: str = "",
               trail_name: str = "management-events", bucket: str = "cloudtrail-emulator-logs",
               digests: bool = True) -> WrittenLogs:
    """Generate `count` records as signed log files under `directory` (keys = relative paths); the keyring
    lives in `data_dir` (default `<directory>/../<directory name>-keys`). Default window: one hour
    from 2024-05-01T00:00Z."""
    directory = Path(directory)
    data_dir = Path(data_dir) if data_dir is not None else directory.parent / f"{directory.name}-keys"
    start, end = _window(start, end)
    summary = generate_trail(str(directory), data_dir=data_dir, bucket=bucket, prefix=prefix,
                             trail_name=trail_name, count=count, start=start, end=end, seed=seed,
                             accounts=accounts, regions=regions, workers=1, validation=digests,
                             scenarios=scenarios)
    keys = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())
    return WrittenLogs(bucket, prefix, keys, summary, directory, Keyring(data_dir),
                       lambda key: (directory / key).read_bytes())


def _write_to_store(state: EmulatorState, bucket: str, *, count: int = 100, seed: int = 0,
                    accounts: int | Sequence[str] = 1, regions: Sequence[str] = (DEFAULT_REGION,),
                    start: datetime | None = None, end: datetime | None = None,
                    scenarios: Sequence[str | ScenarioSpec] = (), prefix: str = "",
                    trail_name: str = "management-events", digests: bool = True) -> WrittenLogs:
    """`write_logs` into an emulator's own object store, signed with its keyring."""
    start, end = _window(start, end)
    options, population = plan_run(count=count, start=start, end=end, seed=seed, accounts=accounts,
                                   regions=regions, scenarios=scenarios)
    target = TrailTarget(bucket=bucket, prefix=prefix.strip("/"), trail_name=trail_name,
                         home_region=options.plan.regions[0])
    store = state.store
    before = set(store.list(bucket)) if store.bucket_exists(bucket) else set()
    summary = write_trail(store, target, options, keyring=state.keyring, population=population, workers=1,
                          validation=digests)
    keys = sorted(set(store.list(bucket, target.prefix)) - before)
    return WrittenLogs(bucket, target.prefix, keys, summary, None, state.keyring,
                       lambda key: store.get(bucket, key).body)
