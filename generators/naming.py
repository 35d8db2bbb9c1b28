"""CloudTrail's naming rules, shared by the generator and the server."""
from __future__ import annotations

import ipaddress
import re

_TRAIL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]")
_ADJACENT_PUNCTUATION = re.compile(r"[._-]{2}")


def trail_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid trail name, or None when it is (AWS's rules)."""
    if not 3 <= len(name) <= 128:
        return "Trail name must be between 3 and 128 characters long."
    if not _TRAIL_NAME.fullmatch(name):
        return ("Trail name must contain only ASCII letters, numbers, periods, underscores and dashes, "
                "and start and end with a letter or number.")
    if _ADJACENT_PUNCTUATION.search(name):
        return "Trail name must not have adjacent periods, underscores or dashes."
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return None
    return "Trail name must not be formatted as an IP address."
