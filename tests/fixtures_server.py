"""Fixture: the emulator server on a free loopback port, `:memory:` state, stopped afterwards."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from botocore.config import Config

from cloudtrail_emulator.emulator.app import state_of
from cloudtrail_emulator.emulator.config import EmulatorConfig
from cloudtrail_emulator.emulator.server import RunningServer, start_in_thread
from cloudtrail_emulator.emulator.state import EmulatorState


@dataclass
class EmulatorServer:
    """A running emulator: its URL, config and state, and boto3 clients pointed at it."""

    running: RunningServer

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def config(self) -> EmulatorConfig:
        return self.running.config

    @property
    def state(self) -> EmulatorState:
        return state_of(self.running.app)

    def client(self, service: str, region: str = "us-east-1", access_key: str = "testing"):
        """A boto3 client with dummy credentials; a 12-digit `access_key` acts as that account."""
        return boto3.client(
            service, endpoint_url=self.url, region_name=region, aws_access_key_id=access_key,
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def cloudtrail(self, region: str = "us-east-1", access_key: str = "testing"):
        return self.client("cloudtrail", region, access_key)


def start_emulator(config: EmulatorConfig | None = None) -> EmulatorServer:
    """Start an emulator on 127.0.0.1 (free port); call `.running.stop()` when done."""
    return EmulatorServer(start_in_thread(config or EmulatorConfig(), "127.0.0.1", 0))


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[EmulatorServer]:
    """One `:memory:` emulator per test module (bucket policy checks relaxed)."""
    server = start_emulator(EmulatorConfig(relax_bucket_policy=True, seed=0))
    try:
        yield server
    finally:
        server.running.stop()


def free_port() -> int:
    """A loopback port free right now (for servers started as subprocesses)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
