"""Symbolic links in a local trail directory that lead out of it: each reported, none read.

A validator reading `AWSLogs/...` through a link to `/etc` or another trail's tree would judge files
that are not in the trail it was asked about (and read whatever the link names). Only a `LocalStore`
has links; any other store has none.
"""
from __future__ import annotations

import os
from pathlib import Path

from cloudtrail_emulator.generators.stores import LocalStore, ObjectStore


class EscapingLinks:
    """Links under `root` in a bucket's directory whose target resolves outside that directory:
    key (a directory's ends with "/") -> where it leads."""

    def __init__(self, store: ObjectStore, bucket: str, root: str):
        self.links: dict[str, str] = {}
        if isinstance(store, LocalStore):
            base = store.bucket_path(bucket)
            self._find(base.resolve(), base, root)

    def _find(self, real_base: Path, base: Path, root: str) -> None:
        top = base / root
        if self._note(real_base, base, top):
            return
        for directory, dirs, files in os.walk(top):      # does not descend into linked directories
            for name in dirs + files:
                self._note(real_base, base, Path(directory, name))

    def _note(self, real_base: Path, base: Path, path: Path) -> bool:
        """Note `path` if it is a link leading out of `real_base`; True when noted."""
        if not path.is_symlink():
            return False
        target = Path(os.path.realpath(path))
        if target == real_base or real_base in target.parents:
            return False
        key = path.relative_to(base).as_posix()
        self.links[key + "/" if target.is_dir() else key] = str(target)
        return True

    def leads_out(self, key: str) -> str | None:
        """Where the link that `key` is, or lies under, leads; None for a key inside the tree."""
        if key in self.links:
            return self.links[key]
        return next((target for link, target in self.links.items()
                     if link.endswith("/") and key.startswith(link)), None)
