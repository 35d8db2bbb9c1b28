"""One process at a time on a data dir: `serve` and `seed` refuse a data dir that a running server
holds, with one line naming it; the OS drops the lock with its holder, SIGKILL included."""
from __future__ import annotations

import os
import signal

from fixtures_serve import Serve, run_cli

from cloudtrail_emulator.emulator.data_dir_lock import hold_data_dir


def refusal(data_dir, holder: str, pid: int) -> str:
    return (f"cloudtrail-emulator: error: data dir {data_dir} is in use by cloudtrail-emulator {holder} "
            f"(pid {pid}): stop it first, or give this one another --data-dir")


def test_a_second_serve_or_seed_refuses_a_held_data_dir(tmp_path):
    data = tmp_path / "data"
    first = Serve("--port", "0", "--data-dir", str(data)).serving()
    try:
        for args in (["serve", "--port", "0"], ["seed", "--count", "10"]):
            result = run_cli(*args, "--data-dir", str(data))
            assert result.returncode == 1, result.stderr
            assert result.stderr.strip().splitlines() == [refusal(data, "serve", first.proc.pid)]
        assert first.proc.poll() is None                       # the holder serves on, undisturbed
    finally:
        assert first.stop(signal.SIGTERM) == 0, first.stderr
    assert not (data / "state" / "seed.json").exists()        # the refused seed wrote nothing


def test_sigkill_leaves_no_stale_lock(tmp_path):
    data = tmp_path / "data"
    killed = Serve("--port", "0", "--data-dir", str(data)).serving()
    killed.kill()
    assert (data / "lock").exists()                            # the file stays; its lock went with the process
    again = Serve("--port", "0", "--data-dir", str(data)).serving()
    assert again.stop(signal.SIGINT) == 130, again.stderr


def test_memory_servers_take_no_lock(tmp_path):
    servers = [Serve("--port", "0", "--data-dir", ":memory:", cwd=tmp_path).serving() for _ in range(2)]
    try:
        assert servers[0].port != servers[1].port
    finally:
        for server in servers:
            assert server.stop(signal.SIGTERM) == 0, server.stderr
    assert list(tmp_path.iterdir()) == []


def test_serve_refuses_a_data_dir_a_seed_holds(tmp_path):
    """The lock `seed` takes (in this test process: seed.py holds it exactly so) keeps `serve` out."""
    data = tmp_path / "data"
    with hold_data_dir(data, "seed"):
        result = run_cli("serve", "--port", "0", "--data-dir", str(data))
    assert result.returncode == 1
    assert result.stderr.strip() == refusal(data, "seed", os.getpid())
    server = Serve("--port", "0", "--data-dir", str(data)).serving()        # released: serves
    assert server.stop(signal.SIGTERM) == 0, server.stderr
