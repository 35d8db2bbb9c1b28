"""Fixture: a moto S3 server on a free loopback port, with dummy AWS credentials in the environment."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[str]:
    """Endpoint URL (http://127.0.0.1:<port>) of a moto server running in a thread for the session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in DUMMY_ENV.items():
            mp.setenv(name, value)
        mp.delenv("AWS_SESSION_TOKEN", raising=False)
        mp.delenv("AWS_PROFILE", raising=False)
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()
