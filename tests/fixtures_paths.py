"""Fixtures naming the shared reference material that sits beside the repository."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
REAL_LOGS = REFERENCE / "real-cloudtrail"


def load_real_records() -> list[dict]:
    """Every record of every real log file, in file order."""
    records: list[dict] = []
    for path in sorted(REAL_LOGS.glob("*/*.json.gz")):
        with gzip.open(path, "rb") as fh:
            records.extend(json.load(fh)["Records"])
    return records


@pytest.fixture(scope="session")
def real_records() -> list[dict]:
    records = load_real_records()
    assert records, f"no reference logs under {REAL_LOGS}"
    return records
