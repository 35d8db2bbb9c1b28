"""Serving the Flask app on uvicorn (an asyncio HTTP/1.1 server: uvloop + httptools) through
wsgi_bridge.py (WSGI on a bounded thread pool, a2wsgi's streaming input): in the foreground for the
CLI, in a thread for tests.

The event loop holds every connection, so slow or silent clients cost a socket, not a worker thread;
only complete request heads reach the THREADS workers. Request-head limits, the head timeout and the
framing refusals are in http_protocol.py. Response header names go out lower-case (uvicorn writes
them so, as HTTP/2 does): S3 user metadata reaches clients as `x-amz-meta-*`, the exact names
validate-logs looks up (`signature`, `signature-algorithm`); waitress was ruled out for writing
them Title-Case.

`serve` (the CLI's foreground server) is built on `start_in_thread`/`RunningServer.stop` only: the
data-dir lock, the listen check, the stop signals and the shutdown order live here, apart from the
HTTP server itself.
"""
from __future__ import annotations

import errno
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn

from cloudtrail_emulator.emulator import access_log
from cloudtrail_emulator.emulator.app import create_app, state_of
from cloudtrail_emulator.emulator.config import EmulatorConfig
from cloudtrail_emulator.emulator.data_dir_lock import hold_data_dir
from cloudtrail_emulator.emulator.http_protocol import HEAD_TIMEOUT_SECONDS, guarded_protocol
from cloudtrail_emulator.emulator.wsgi_bridge import WsgiBridge
from cloudtrail_emulator.emulator.stop_signals import STOP_SIGNALS, catch_stop_signals
from cloudtrail_emulator.generators.errors import GeneratorError

#: worker threads running the app (requests whose head is complete); more requests queue for one
THREADS = 16
SERVER_NAME = "cloudtrail-emulator"
#: how long a stop waits for requests in flight before cutting them (below Docker's 10 s grace)
DRAIN_SECONDS = 5
BACKLOG = 1024
LOCALSTACK_PORT = 4566


class ListenError(GeneratorError):
    """The server cannot listen where it was asked to (one line for the CLI)."""

    exit_code = 1


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` (port 0: a free port), so the port is known and connections
    queue before the event loop runs."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0,
                                                         socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def _server(asgi_app, head_timeout: float) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(
        asgi_app, loop="auto", http=guarded_protocol(head_timeout), lifespan="off", ws="none",
        interface="asgi3", proxy_headers=False, server_header=False, headers=[("Server", SERVER_NAME)],
        timeout_keep_alive=int(head_timeout), timeout_graceful_shutdown=DRAIN_SECONDS,
        log_config=None, log_level="warning", access_log=False))


def check_listen(host: str, port: int) -> None:
    """ListenError with a helpful line when `host:port` cannot be bound (in use, privileged, no such
    address); binds a probe socket the way servers do (SO_REUSEADDR) and closes it at once."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0,
                                                             socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ListenError(f"cannot listen on {host}: {exc.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ListenError(_listen_problem(host, port, exc)) from None


def _listen_problem(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        hint = (" (4566 is LocalStack's port too: stop LocalStack, or serve on another port such as "
                "--port 4567 and point clients at it)" if port == LOCALSTACK_PORT else "")
        return f"port {port} on {host} is already in use{hint}; --port 0 picks a free port"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port}: ports below 1024 need privileges; choose another --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: not an address of this machine (0.0.0.0 listens on all)"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def serve(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 4566, *,
          ready: Callable[[str], None] | None = None) -> int:
    """Serve until SIGINT or SIGTERM, then stop cleanly: stop accepting, let requests in flight finish
    (up to DRAIN_SECONDS), stop delivery, close the state. Holds the data dir's lock throughout;
    `ready(url)` is called once listening (port 0: the real port). Returns the signal that stopped it.
    Main thread only (it installs signal handlers); tests and libraries use `start_in_thread`."""
    with hold_data_dir(config.data_dir, "serve"):
        check_listen(host, port)
        catch_stop_signals()
        # blocked before any server thread starts, so every thread inherits the mask and the signal
        # waits for `sigwait` below instead of interrupting whatever thread it lands on
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            running = start_in_thread(config, host, port)
            try:
                if ready is not None:
                    ready(running.url)
                signum = signal.sigwait(STOP_SIGNALS)
            finally:
                running.stop()
            while STOP_SIGNALS & signal.sigpending():     # a second Ctrl-C during the stop: already stopping
                signal.sigwait(STOP_SIGNALS)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return signum


@dataclass
class RunningServer:
    """A server on a background thread; `stop()` closes it and frees its state."""

    config: EmulatorConfig
    host: str
    port: int
    app: object
    _server: uvicorn.Server = field(repr=False)
    _workers: WsgiBridge = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to DRAIN_SECONDS), join the thread, then
        free the app's state."""
        self._server.should_exit = True
        self._thread.join(timeout=DRAIN_SECONDS + 5)
        self._workers.workers.shutdown()
        state_of(self.app).close()


def start_in_thread(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0, *,
                    head_timeout: float = HEAD_TIMEOUT_SECONDS) -> RunningServer:
    """Bind (port 0: a free port), serve on a daemon thread, return at once with the bound port.
    `head_timeout`: seconds a client has to finish a request head (from connecting or its last answer)."""
    app = create_app(config)
    access_log.install(app)
    try:
        sock = _listen(host, port)
    except BaseException:
        state_of(app).close()
        raise
    workers = WsgiBridge(app, THREADS)
    server = _server(workers, head_timeout)
    bound_port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"emulator-{bound_port}",
                              daemon=True)
    thread.start()
    return RunningServer(config, host, int(bound_port), app, server, workers, thread)
