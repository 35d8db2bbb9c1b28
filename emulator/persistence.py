"""Atomic JSON state files under `<data_dir>/state/`."""
from __future__ import annotations

import json
from pathlib import Path

from cloudtrail_emulator.generators.atomic_file import write_atomic
from cloudtrail_emulator.generators.errors import GeneratorError


class JsonStateFile:
    """One JSON document, replaced atomically on every save."""

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> dict | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise GeneratorError(f"state file {self.path} is corrupt: {exc}") from None

    def save(self, document: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(document, indent=1, sort_keys=True).encode())
