"""One log line per request: `POST cloudtrail CreateTrail 200 3.1ms` (method, service, operation,
status, milliseconds until the answer's last byte was handed to the server).

The service and operation are the request context's (emulator/protocols/context.py) once the
handler ran; `-` where no service spoke (an unknown target, a refused signature). Control API calls
show as service `_emulator` and their path; health probes (`GET /_emulator/health`, every few
seconds under Docker's HEALTHCHECK) log at DEBUG, everything else at INFO.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask, Response, request

from cloudtrail_emulator.emulator.protocols import context

log = logging.getLogger(__name__)

_ENVIRON_KEY = "cloudtrail_emulator.access_log"
CONTROL_PREFIX = "/_emulator/"
HEALTH_PATH = "/_emulator/health"
AMAZONAWS = ".amazonaws.com"


def install(app: Flask) -> None:
    """Log every request `app` answers (idempotent)."""
    if isinstance(app.wsgi_app, _AccessLog):
        return
    app.after_request(_note_operation)
    app.wsgi_app = _AccessLog(app.wsgi_app)        # type: ignore[method-assign]


def _note_operation(response: Response) -> Response:
    """Copy the handler's service and operation where the WSGI wrapper finds them after the request."""
    note = request.environ.get(_ENVIRON_KEY)
    ctx = context.current()
    if note is not None and ctx is not None:
        note["service"] = ctx.event_source.removesuffix(AMAZONAWS) if ctx.event_source else "-"
        note["operation"] = ctx.operation or "-"
    return response


class _AccessLog:
    """WSGI middleware: times the request and logs one line when the answer is finished."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not log.isEnabledFor(logging.DEBUG if environ.get("PATH_INFO") == HEALTH_PATH else logging.INFO):
            return self.app(environ, start_response)
        began = time.perf_counter()
        note: dict[str, Any] = {}
        environ[_ENVIRON_KEY] = note

        def noting_start_response(status: str, headers: list, *args: Any) -> Any:
            note["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, *args)

        body = self.app(environ, noting_start_response)
        return _Logged(body, lambda: _emit(environ, note, began))


class _Logged:
    """The answer's body; logs the request when the server closes it."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]):
        self.body, self.on_close = body, on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.on_close()


def _emit(environ: dict[str, Any], note: dict[str, Any], began: float) -> None:
    path = environ.get("PATH_INFO", "")
    service, operation = note.get("service", "-"), note.get("operation", "-")
    if path.startswith(CONTROL_PREFIX):
        service, operation = "_emulator", path.removeprefix(CONTROL_PREFIX) or "-"
    level = logging.DEBUG if path == HEALTH_PATH else logging.INFO
    log.log(level, "%s %s %s %s %.1fms", environ.get("REQUEST_METHOD", "-"), service, operation,
            note.get("status", "-"), (time.perf_counter() - began) * 1000)
