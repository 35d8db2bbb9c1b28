"""Serving an app on waitress (threads): in the foreground for the CLI, in a thread for tests."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from waitress.server import create_server

from emulator.app import create_app, state_of
from emulator.config import EmulatorConfig

THREADS = 8


def serve(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 4566) -> None:
    """Serve until interrupted."""
    app = create_app(config)
    server = create_server(app, host=host, port=port, threads=THREADS, ident="cloudtrail-emulator")
    try:
        server.run()
    finally:
        server.close()
        state_of(app).close()


@dataclass
class RunningServer:
    """A server on a background thread; `stop()` closes it and frees its state."""

    config: EmulatorConfig
    host: str
    port: int
    app: object
    _server: object = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Close the listener and every open connection on the loop thread, then join it."""
        server = self._server

        def close_all() -> None:
            for channel in list(server._map.values()):   # waitress keeps its channels there
                channel.close()

        server.trigger.pull_trigger(close_all)
        self._thread.join(timeout=5)
        server.task_dispatcher.shutdown()
        state_of(self.app).close()


def start_in_thread(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Bind (port 0: a free port), serve on a daemon thread, return at once with the bound port."""
    app = create_app(config)
    server = create_server(app, host=host, port=port, threads=THREADS, ident="cloudtrail-emulator")
    thread = threading.Thread(target=server.run, name=f"emulator-{server.effective_port}", daemon=True)
    thread.start()
    return RunningServer(config, host, int(server.effective_port), app, server, thread)
