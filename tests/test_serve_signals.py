"""`serve` stops on SIGINT even when started as a background job (which inherits an ignored SIGINT)."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from fixtures_server import free_port

CLI = str(Path(sys.executable).parent / "cloudtrail-emulator")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_sigint_stops_a_server_whose_parent_ignored_sigint(tmp_path):
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([CLI, "serve", "--port", str(port), "--data-dir", ":memory:"], stdout=log,
                              stderr=subprocess.STDOUT,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):                       # a condition, bounded
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.05)
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 130, (tmp_path / "serve.log").read_text()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
