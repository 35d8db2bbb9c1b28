"""Fixture: a data dir on its own small tmpfs that a test turns read-only or full, and back.

    faults = data_dir_faults            # pytest fixture (skips where mounting is not permitted)
    server = ServerProcess(faults.data_dir)
    faults.read_only(); ...; faults.writable()
    faults.fill(); ...; faults.free()

`read_only()` mounts a read-only bind of the data dir over itself: every path opened from then on
is read-only (EROFS), while files the server already holds open (its SQLite database and WAL) keep
writing, as on a file system whose new writes are refused. `fill()` writes a filler file beside the
data dir until the tmpfs has no byte left (ENOSPC for every write that needs a new block).
Needs root (CAP_SYS_ADMIN) for `mount`; the mounts are undone at teardown.
"""
from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["DataDirFaults", "data_dir_faults"]


class DataDirFaults:
    """A data dir on a tmpfs of `size_mb` MiB at `root`, with read-only and disk-full switches."""

    def __init__(self, root: Path, size_mb: int = 48):
        self.root, self.size_mb = root, size_mb
        self.data_dir = root / "data"
        self.filler = root / "filler"
        self._read_only = False
        self._mounted = False

    @staticmethod
    def _mount(*args: str) -> None:
        subprocess.run(["mount", *args], check=True, capture_output=True, text=True)

    def mount(self) -> "DataDirFaults":
        """Mount the tmpfs (CalledProcessError or PermissionError where mounting is not allowed)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._mount("-t", "tmpfs", "-o", f"size={self.size_mb}m", "tmpfs", str(self.root))
        self._mounted = True
        self.data_dir.mkdir()
        return self

    def read_only(self) -> None:
        """From now on every path opened under the data dir is read-only."""
        if not self._read_only:
            self._mount("--bind", "-o", "ro", str(self.data_dir), str(self.data_dir))
            self._read_only = True

    def writable(self) -> None:
        if self._read_only:
            subprocess.run(["umount", str(self.data_dir)], check=True, capture_output=True)
            self._read_only = False

    def fill(self) -> int:
        """Write the filler until the file system is full; the bytes written."""
        written = 0
        with open(self.filler, "ab", buffering=0) as out:
            for size in (1 << 20, 1 << 12, 1):
                try:
                    while True:
                        written += out.write(bytes(size))
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
        return written

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def free_bytes(self) -> int:
        stat = os.statvfs(self.root)
        return stat.f_bavail * stat.f_frsize

    def close(self) -> None:
        """Undo everything (lazily: a server killed a moment ago may still hold files)."""
        self.writable()
        if self._mounted:
            subprocess.run(["umount", "-l", str(self.root)], check=False, capture_output=True)
            self._mounted = False


@pytest.fixture
def data_dir_faults(tmp_path: Path) -> Iterator[DataDirFaults]:
    """A `DataDirFaults` under tmp_path, mounted; skipped where tmpfs cannot be mounted (not root)."""
    faults = DataDirFaults(tmp_path / "faulty")
    try:
        faults.mount()
    except (subprocess.CalledProcessError, PermissionError, FileNotFoundError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {getattr(exc, 'stderr', '') or exc}")
    try:
        yield faults
    finally:
        faults.close()
