"""Reading a tree of CloudTrail log files: the files `generate --output DIR` writes, or real ones.

A tree is walked recursively (hidden folders such as a `.ctemu` sidecar are skipped) for files named
`*.json.gz`, `*.json`, `*.jsonl` or `*.jsonl.gz`, gzipped or not (told by the gzip magic bytes):
- a log file holds `{"Records": [...]}` (CloudTrail's delivered form) or a JSON array of records;
  a `.jsonl` file holds one record, or one `{"Records": [...]}` document, per line;
- files of a `CloudTrail-Digest` folder or named `*_CloudTrail-Digest_*` are skipped;
- files of a `CloudTrail-Insight` folder or named `*_CloudTrail-Insight_*` are Insights files: their
  records are kept apart (`LogSet.insight_records`).
Files are read in the order of their sorted paths, records in file order.
"""
from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from cloudtrail_emulator.generators.errors import GeneratorError

SUFFIXES = (".json.gz", ".json", ".jsonl", ".jsonl.gz")
DIGEST, INSIGHT = "CloudTrail-Digest", "CloudTrail-Insight"
_GZIP_MAGIC = b"\x1f\x8b"
_REQUIRED = ("eventTime", "eventSource", "eventName")


@dataclass
class LogSet:
    """The records of a tree's log files, how many each file held, and its Insights records."""

    root: Path
    records: list[dict] = field(default_factory=list)
    file_sizes: list[int] = field(default_factory=list)      # records per log file, in file order
    insight_records: list[dict] = field(default_factory=list)


def load_records(root: Path | str) -> list[dict]:
    """Every record of every log file under ``root``, in file order (GeneratorError when there is none)."""
    return read_tree(root).records


def read_tree(root: Path | str) -> LogSet:
    """The log files under ``root``; GeneratorError (one line) for a missing tree, no log files or a bad file."""
    root = Path(root)
    if not root.is_dir():
        raise GeneratorError(f"{root}: no such directory" if not root.exists() else f"{root}: not a directory")
    logs = LogSet(root)
    for parts in _candidate_files(root):
        kind = _kind(parts)
        path = root.joinpath(*parts)
        if kind == DIGEST:
            continue
        records = read_log_file(path)
        if kind == INSIGHT:
            logs.insight_records.extend(records)
            continue
        for index, record in enumerate(records):
            _check_record(path, index, record)
        logs.records.extend(records)
        logs.file_sizes.append(len(records))
    if not logs.file_sizes:
        raise GeneratorError(f"no CloudTrail log files ({', '.join('*' + s for s in SUFFIXES)}) under {root}")
    return logs


def read_log_file(path: Path) -> list[dict]:
    """The records of one log file (gzipped or not); GeneratorError naming the file when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GeneratorError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise GeneratorError(f"{path}: not a valid gzip file ({exc})") from None
    lines = path.name.endswith((".jsonl", ".jsonl.gz"))
    try:
        if lines:
            records: list = []
            for line in data.splitlines():
                if line.strip():
                    records.extend(_records(orjson.loads(line), path))
            return records
        return _records(orjson.loads(data), path)
    except orjson.JSONDecodeError as exc:
        raise GeneratorError(f"{path}: not valid JSON ({exc})") from None


def _records(document: object, path: Path) -> list:
    """The records of one decoded document: a `{"Records": [...]}` object, a list, or (JSON lines) one record."""
    if isinstance(document, dict):
        if isinstance(document.get("Records"), list):
            return document["Records"]
        if "eventTime" in document:
            return [document]
    elif isinstance(document, list):
        return document
    raise GeneratorError(f"{path}: no Records list (not a CloudTrail log file)")


def _check_record(path: Path, index: int, record: object) -> None:
    """A log record is an object with string eventTime (`YYYY-MM-DDTHH...`), eventSource and eventName."""
    if not isinstance(record, dict):
        raise GeneratorError(f"{path}: record {index} is not a JSON object")
    for key in _REQUIRED:
        if not isinstance(record.get(key), str):
            raise GeneratorError(f"{path}: record {index} has no {key}")
    stamp = record["eventTime"]
    if len(stamp) < 13 or stamp[4] != "-" or stamp[10] != "T":
        raise GeneratorError(f"{path}: record {index} has eventTime {stamp!r}, not YYYY-MM-DDTHH:MM:SSZ")


def _candidate_files(root: Path) -> list[tuple[str, ...]]:
    """Files with a log-file suffix under ``root`` outside hidden folders, as parts relative to ``root``,
    sorted part by part (as paths sort)."""
    found: list[tuple[str, ...]] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        relative = Path(folder).relative_to(root).parts
        found.extend((*relative, name) for name in files if name.endswith(SUFFIXES))
    return sorted(found)


def _kind(parts: tuple[str, ...]) -> str:
    """DIGEST, INSIGHT or "" (a log file) from a file's folders and name."""
    for part in parts:
        if part == DIGEST or f"_{DIGEST}_" in part:
            return DIGEST
        if part == INSIGHT or f"_{INSIGHT}_" in part:
            return INSIGHT
    return ""
