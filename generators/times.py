"""Time formats of CloudTrail and its files, in one place (Python 3.10: no 'Z' in `fromisoformat`).

- `TIME_FORMAT` `2024-05-01T12:00:00Z`: eventTime, digest times, key validity, API responses.
- `KEY_MINUTE` `20240501T1200Z` (log-file and insight names), `KEY_SECOND` `20240501T120000Z`
  (digest names; also SigV4's X-Amz-Date).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from cloudtrail_emulator.generators.errors import GeneratorError

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
KEY_MINUTE = "%Y%m%dT%H%MZ"
KEY_SECOND = "%Y%m%dT%H%M%SZ"
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_KEY_SECOND_RE = re.compile(r"\d{8}T\d{6}Z")


def format_time(at: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` (an aware time is converted to UTC first)."""
    return (at.astimezone(timezone.utc) if at.tzinfo is not None else at).strftime(TIME_FORMAT)


def format_epoch(seconds: float) -> str:
    """`format_time` of epoch seconds."""
    return time.strftime(TIME_FORMAT, time.gmtime(seconds))


def format_millis(at: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ` (S3 XML bodies, SNS Timestamp); an aware time is converted to UTC."""
    at = at.astimezone(timezone.utc) if at.tzinfo is not None else at
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """Inverse of `format_time` (aware UTC); ValueError for any other shape."""
    if not isinstance(text, str) or not _TIME_RE.fullmatch(text):
        raise ValueError(f"not a YYYY-MM-DDTHH:MM:SSZ time: {text!r}")
    return datetime.fromisoformat(text[:-1] + "+00:00")


def to_epoch(text: str) -> int:
    """Epoch seconds of a `YYYY-MM-DDTHH:MM:SSZ` time; ValueError for any other shape."""
    return int(parse_time(text).timestamp())


def parse_iso(text: str) -> datetime:
    """Any ISO 8601 time `fromisoformat` reads, 'Z' included; no offset means UTC. ValueError if not."""
    at = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def parse_key_second(text: str) -> datetime:
    """Inverse of `KEY_SECOND` (`20240501T120000Z`, aware UTC); ValueError for any other shape."""
    if not _KEY_SECOND_RE.fullmatch(text):
        raise ValueError(f"not a YYYYMMDDTHHMMSSZ time: {text!r}")
    return datetime.strptime(text, KEY_SECOND).replace(tzinfo=timezone.utc)


def whole_second(at: datetime) -> datetime:
    """`at` in UTC without its microseconds."""
    return at.astimezone(timezone.utc).replace(microsecond=0)


def require_utc(at: datetime, what: str) -> datetime:
    """`at` converted to UTC; GeneratorError if it is naive."""
    if at.tzinfo is None:
        raise GeneratorError(f"{what} must be timezone-aware (UTC), got {at.isoformat()}")
    return at.astimezone(timezone.utc)
