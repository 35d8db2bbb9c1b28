"""`cloudtrail-emulator serve` as a user runs it: the venv's console script as a subprocess, its
stderr collected line by line (read on a thread so the pipe never fills), waits bounded by
conditions (the "serving on" line, a port that stops answering), stopped by its pid only."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

CLI = str(Path(sys.executable).parent / "cloudtrail-emulator")
SERVING = re.compile(r"serving on (http://[^ ]+)")


def cli_env(**settings: str) -> dict[str, str]:
    """The test's environment without CTEMU_* settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTEMU_")}
    return {**env, **settings}


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else cli_env())


class Serve:
    """One `serve` subprocess; `url` once it printed its serving line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, **popen):
        self.proc = subprocess.Popen([CLI, "serve", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=env if env is not None else cli_env(), **popen)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = ""

    def _read(self) -> None:
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<eof>")
            self._changed.notify_all()

    @property
    def stderr(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match:
        """The first stderr line matching `pattern`; fails at end of output or after `timeout` s."""
        regex = re.compile(pattern)
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(regex.search(l) for l in self.lines) or "<eof>" in self.lines, timeout)
            match = next((m for l in self.lines if (m := regex.search(l))), None)
        assert found and match, f"no line matching {pattern!r}:\n" + self.stderr
        return match

    def serving(self, timeout: float = 60) -> "Serve":
        """Wait for the serving line; `self.url` is the URL it names."""
        self.url = self.wait_for_line(SERVING.pattern, timeout).group(1)
        return self

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def send(self, signum: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signum)

    def wait(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send `signum`, wait; SIGKILL if it has not exited after 30 s (then fail)."""
        self.send(signum)
        try:
            return self.wait()
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.wait()


def refuses_connections(port: int, timeout: float = 30) -> bool:
    """True once nothing listens on 127.0.0.1:`port` any more (checked every 20 ms, up to `timeout` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        time.sleep(0.02)
    return False
