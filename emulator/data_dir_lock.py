"""One process at a time on a data dir: an OS lock (`fcntl.flock`) on `<data_dir>/lock`.

`serve` holds it while it runs, `seed` while it writes; a second one refuses with one line naming
the holder. The OS releases the lock when the holding process ends, however it ends (SIGKILL too),
so a stale lock file never blocks anyone: the file stays, only the lock on it counts. Within one
process the lock is re-entrant (`serve --seed` seeds under the lock it already holds).
"""
from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cloudtrail_emulator.generators.errors import GeneratorError

LOCK_FILE = "lock"

_held: dict[Path, list[int]] = {}       # resolved data dir -> [fd, depth] for locks this process holds
_guard = threading.Lock()


class DataDirError(GeneratorError):
    """The data dir is held by another process, or cannot be used at all (one line for the CLI)."""

    exit_code = 1


@contextmanager
def hold_data_dir(data_dir: Path | str | None, holder: str) -> Iterator[None]:
    """Hold the data dir's lock for the block (`holder`: what this process does there, e.g. "serve");
    `None` (`:memory:`) takes no lock. DataDirError when another process holds it or the directory
    cannot be created or written."""
    if data_dir is None:
        yield
        return
    key = _acquire(Path(data_dir), holder)
    try:
        yield
    finally:
        _release(key)


def _acquire(data_dir: Path, holder: str) -> Path:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = data_dir.resolve()
    except OSError as exc:
        raise DataDirError(f"cannot use data dir {data_dir}: {exc.strerror or exc}") from None
    with _guard:
        if key in _held:
            _held[key][1] += 1
            return key
        path = key / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DataDirError(f"cannot write data dir {data_dir}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = _holder_of(fd)
            os.close(fd)
            raise DataDirError(f"data dir {data_dir} is in use by {who}: stop it first, or give this "
                               "one another --data-dir") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {holder}\n".encode())
        _held[key] = [fd, 1]
        return key


def _release(key: Path) -> None:
    with _guard:
        entry = _held[key]
        entry[1] -= 1
        if entry[1] == 0:
            del _held[key]
            os.close(entry[0])        # closing the last descriptor releases the flock


def _holder_of(fd: int) -> str:
    """`cloudtrail-emulator serve (pid 123)` from the lock file, as far as its holder wrote it."""
    try:
        pid, _, what = os.pread(fd, 200, 0).decode(errors="replace").strip().partition(" ")
    except OSError:
        pid, what = "", ""
    if not pid.isdigit():
        return "another cloudtrail-emulator process"
    return f"cloudtrail-emulator {what or 'process'} (pid {pid})"
