"""The signals that stop `serve` cleanly: SIGINT (Ctrl-C) and SIGTERM (`docker stop`, systemd,
Kubernetes). While serving, `serve` waits for them with `sigwait`; outside that loop (startup, a
seed) they raise KeyboardInterrupt and Terminated, which the CLI turns into exit codes 130 and 143."""
from __future__ import annotations

import signal

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


class Terminated(BaseException):
    """SIGTERM outside the serving loop: unwinds like KeyboardInterrupt does for SIGINT."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def catch_stop_signals() -> None:
    """Handlers for both stop signals (main thread only). A parent that ignored SIGINT (a shell's
    background job) must not make Ctrl-C or `kill -INT` a no-op, and as PID 1 in a container SIGTERM
    reaches only a process that has a handler for it."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_terminated)
