"""Ground truth for generated attacks: one label per scenario record, stored beside the logs.

A label is ``{"eventID", "scenario", "technique", "tactic", "step"}`` (step: the record's 1-based
position in its scenario run), one compact JSON label per line, in scenario order. A trail written
to a bucket gets the object ``[prefix/]labels.jsonl`` next to ``AWSLogs/`` (``validate`` ignores it:
it is outside ``AWSLogs/``); a trail written to a local directory ``DIR``, which holds only what a
CloudTrail bucket holds, gets the file ``DIR.labels.jsonl`` beside it (``labels_file``).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import orjson

from cloudtrail_emulator.generators.atomic_file import write_atomic
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores import ObjectStore

LABELS_NAME = "labels.jsonl"
FIELDS = ("eventID", "scenario", "technique", "tactic", "step")


def labels_key(prefix: str = "") -> str:
    """The labels object's key for a trail written under ``prefix``."""
    return f"{prefix.strip('/')}/{LABELS_NAME}" if prefix.strip("/") else LABELS_NAME


def labels_file(directory: Path | str) -> Path:
    """The labels file of a trail written to the local directory ``directory``: ``<directory>.labels.jsonl``."""
    path = Path(os.path.abspath(directory))
    return path.with_name(f"{path.name}.{LABELS_NAME}")


def write_labels_file(path: Path, labels: Iterable[dict]) -> Path:
    """Writes the labels to ``path`` atomically (a reader sees the old file or the new one); returns it."""
    body = encode_labels(labels)
    try:
        write_atomic(path, body, 0o644)
    except OSError as exc:
        raise GeneratorError(f"cannot write the labels to {path}: {exc.strerror or exc}") from None
    return path


def encode_labels(labels: Iterable[dict]) -> bytes:
    """JSON lines, keys in FIELDS order."""
    return b"".join(orjson.dumps({k: label[k] for k in FIELDS}) + b"\n" for label in labels)


def decode_labels(body: bytes) -> list[dict]:
    """The labels of a labels.jsonl body; GeneratorError on a malformed line."""
    labels = []
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        try:
            label = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise GeneratorError(f"{LABELS_NAME} line {number} is not JSON") from None
        if not isinstance(label, dict) or set(label) != set(FIELDS):
            raise GeneratorError(f"{LABELS_NAME} line {number} is not a label")
        labels.append(label)
    return labels


def write_labels(store: ObjectStore, bucket: str, prefix: str, labels: Iterable[dict]) -> str:
    """Puts the labels object; returns its key."""
    key = labels_key(prefix)
    store.put(bucket, key, encode_labels(labels))
    return key


def read_labels(store: ObjectStore, bucket: str, prefix: str = "") -> list[dict]:
    """The labels a trail's run wrote (NoSuchKey when it had no scenarios)."""
    return decode_labels(store.get(bucket, labels_key(prefix)).body)
