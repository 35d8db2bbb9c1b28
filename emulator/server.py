"""Serving an app on cheroot (a threaded production WSGI server): in the foreground for the CLI, in
a thread for tests.

cheroot rather than waitress: waitress rewrites every response header name into Title-Case, and S3
user metadata must reach clients as lower-case `x-amz-meta-*` names (validate-logs looks up the
exact keys `signature` and `signature-algorithm`).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cheroot import wsgi

from cloudtrail_emulator.emulator.app import create_app, state_of
from cloudtrail_emulator.emulator.config import EmulatorConfig

THREADS = 16
SERVER_NAME = "cloudtrail-emulator"
#: how often the accept loop wakes (cheroot's default 0.5 s makes every stop() take that long)
POLL_SECONDS = 0.05


def _server(app, host: str, port: int) -> wsgi.Server:
    server = wsgi.Server((host, port), app, numthreads=THREADS, server_name=SERVER_NAME)
    server.expiration_interval = POLL_SECONDS
    server.prepare()            # binds now, so port 0 has its real number before serving starts
    return server


def serve(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 4566) -> None:
    """Serve until interrupted."""
    app = create_app(config)
    server = _server(app, host, port)
    try:
        server.serve()
    finally:
        server.stop()
        state_of(app).close()


@dataclass
class RunningServer:
    """A server on a background thread; `stop()` closes it and frees its state."""

    config: EmulatorConfig
    host: str
    port: int
    app: object
    _server: wsgi.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Close the listener and its connections, join the thread, then free the app's state."""
        self._server.stop()
        self._thread.join(timeout=5)
        state_of(self.app).close()


def start_in_thread(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Bind (port 0: a free port), serve on a daemon thread, return at once with the bound port."""
    app = create_app(config)
    server = _server(app, host, port)
    bound_port = server.bind_addr[1]
    thread = threading.Thread(target=server.serve, name=f"emulator-{bound_port}", daemon=True)
    thread.start()
    return RunningServer(config, host, int(bound_port), app, server, thread)
