"""pytest fixtures for code that talks to CloudTrail or reads CloudTrail logs (registered as a `pytest11`
entry point: installing cloudtrail-emulator is enough, nothing to import in conftest.py).

Fixtures:

- `cloudtrail_emulator` (function scope): a fresh emulator for each test, on a free 127.0.0.1 port,
  `:memory:` state (no trails, buckets, events or keys shared with any other test), stopped after the
  test. An `cloudtrail_emulator.emulator.testing.Emulator`: `.url`, `.client("cloudtrail")` / `.client("s3")` (boto3,
  dummy credentials, us-east-1, path-style S3; `client(service, region=, account_id=)`), `.aws_env`
  (merge over `os.environ` for the `aws` CLI), `.create_trail(name, bucket=None, prefix=None,
  start_logging=True, **CreateTrail args)`, `.create_trail_bucket(bucket, prefix=None)` (the bucket
  policy CloudTrail needs), `.write_logs(bucket, ...)`, `.state` (the in-process state), and the
  control API (docs/control-api.md): `.put_records(records)` (exact records, schema-checked, into the
  event index that LookupEvents and live delivery read), `.seed_history(trail, days=..., ...)`,
  `.deliver()`, `.reset()`, `.control(operation, body)`.
- `cloudtrail_emulator_config` (function scope): the `EmulatorConfig` the fixture above starts with
  (default `EmulatorConfig()`: `:memory:`, account 123456789012, wall clock). Override it in a
  conftest.py or test module to pin the clock (`FixedClock`), relax the bucket-policy check, etc.;
  keep `data_dir=None` (or a `tmp_path` directory) so tests stay isolated.
- `cloudtrail_emulator_session` (session scope): one emulator shared by every test of the session
  (per xdist worker) that asks for it, default `EmulatorConfig()`. State carries over between tests:
  use unique trail and bucket names, or call `.reset()` (trails and events go; buckets, topics and
  keys stay). Never the same instance as `cloudtrail_emulator`.
- `cloudtrail_logs` (function scope): a factory `cloudtrail_logs(count=100, seed=0, accounts=1,
  regions=("us-east-1",), start=None, end=None, scenarios=(), prefix="", trail_name=...,
  digests=True, bucket=None)` writing signed log files (and hourly digests) into a new directory
  under `tmp_path`, or, with `bucket=`, into that bucket of the test's `cloudtrail_emulator` (started
  only then), signed with the emulator's keys. Returns `cloudtrail_emulator.emulator.testing.WrittenLogs`: `.keys`,
  `.log_keys`, `.digest_keys`, `.paths`, `.directory`, `.summary`, `.records()`, `.read(key)`.
  Default window: one hour from 2024-05-01T00:00Z, so the same arguments give the same files.
- `cloudtrail_records` (function scope): a `cloudtrail_emulator.emulator.testing.RecordBuilder`
  (seed 0, account 123456789012, us-east-1): `cloudtrail_records("CreateUser", user="alice",
  event_time="2024-05-01T10:00:00Z")` is a whole, realistic record (for `put_records`, fixtures, files);
  `event_source=`, `account_id=`, `region=`, `error_code=`, `values=` and top-level field overrides.
- `cloudtrail_emulator_env` (function scope): the test's `cloudtrail_emulator`, with `os.environ`
  pointing every AWS SDK and CLI at it during the test (`AWS_ENDPOINT_URL`,
  `AWS_ENDPOINT_URL_CLOUDTRAIL`/`_S3`/`_SNS`, dummy credentials, region; profile and session token
  unset), restored afterwards: for code under test that builds its own clients.

Loading this plugin imports nothing heavy: the emulator, boto3 and the generators are imported when
a fixture is first requested.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cloudtrail_emulator.emulator.config import EmulatorConfig
    from cloudtrail_emulator.emulator.testing import Emulator, RecordBuilder, WrittenLogs


@pytest.fixture(scope="session")
def _cloudtrail_boto_session():
    """One boto3 session for every emulator's clients: its loaded service models are reused."""
    import boto3

    return boto3.session.Session()


@pytest.fixture
def cloudtrail_emulator_config() -> "EmulatorConfig":
    """The `cloudtrail_emulator`'s settings: override this fixture to change them (clock, accounts...)."""
    from cloudtrail_emulator.emulator.config import EmulatorConfig

    return EmulatorConfig()


@pytest.fixture
def cloudtrail_emulator(cloudtrail_emulator_config, _cloudtrail_boto_session) -> Iterator["Emulator"]:
    """A fresh emulator for this test only (see the module docstring)."""
    from cloudtrail_emulator.emulator.testing import start_emulator

    emulator = start_emulator(cloudtrail_emulator_config, session=_cloudtrail_boto_session)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def cloudtrail_emulator_session(_cloudtrail_boto_session) -> Iterator["Emulator"]:
    """One `:memory:` emulator shared by the whole session: state carries over between tests."""
    from cloudtrail_emulator.emulator.testing import start_emulator

    emulator = start_emulator(session=_cloudtrail_boto_session)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def cloudtrail_logs(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., "WrittenLogs"]:
    """Factory writing signed CloudTrail log files into `tmp_path` or an emulator bucket."""
    from cloudtrail_emulator.emulator.testing import write_logs

    calls = itertools.count()

    def make(*, bucket: str | None = None, **options) -> "WrittenLogs":
        if bucket is not None:
            return request.getfixturevalue("cloudtrail_emulator").write_logs(bucket, **options)
        return write_logs(tmp_path / f"cloudtrail-logs-{next(calls)}", data_dir=tmp_path / "cloudtrail-keys",
                          **options)

    return make


@pytest.fixture
def cloudtrail_records() -> "RecordBuilder":
    """Builds whole CloudTrail records from a few fields (see the module docstring)."""
    from cloudtrail_emulator.emulator.testing import RecordBuilder

    return RecordBuilder()


@pytest.fixture
def cloudtrail_emulator_env(cloudtrail_emulator) -> Iterator["Emulator"]:
    """The test's emulator, with the environment pointing every AWS SDK and CLI at it (restored after)."""
    with cloudtrail_emulator.environment():
        yield cloudtrail_emulator
