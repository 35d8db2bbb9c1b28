"""The `AWSLogs/` key layout of a trail's bucket, built and parsed in one place (FORMATS.md §1).

    [prefix/]AWSLogs/[o-id/]<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<suffix>.json.gz
    [prefix/]AWSLogs/[o-id/]<acct>/CloudTrail-Insight/<region>/YYYY/MM/DD/<acct>_CloudTrail-Insight_<region>_<YYYYMMDDTHHmmZ>_<suffix>.json.gz
    [prefix/]AWSLogs/[o-id/]<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/<acct>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHMMSSZ>.json.gz

The date folders are the date of the time in the name: the delivery time floored to 5 minutes for
log and insight files, the end time for digests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.times import KEY_MINUTE, KEY_SECOND, parse_key_second

LOG = "CloudTrail"
DIGEST = "CloudTrail-Digest"
INSIGHT = "CloudTrail-Insight"
SUFFIX = ".json.gz"

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_SUFFIX_RE = re.compile(r"^[A-Za-z0-9]{16}$")
_ORG_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_FILE_NAME_RE = re.compile(
    r"(?P<account>\d{12})_(?P<kind>CloudTrail|CloudTrail-Insight)_(?P<region>[^/_]+)_"
    r"(?P<ts>\d{8}T\d{4}Z)_(?P<suffix>[A-Za-z0-9]{16})\.json\.gz")
_DIGEST_NAME_RE = re.compile(
    r"(?P<account>\d{12})_(?P<kind>CloudTrail-Digest)_(?P<region>[^/_]+)_(?P<trail>[^/]+)_"
    rf"(?P<home>{_REGION})_(?P<ts>\d{{8}}T\d{{6}}Z)\.json\.gz")
_FOLDER_RE = re.compile(
    r"(?:(?P<prefix>.+)/)?AWSLogs/(?:(?P<org>o-[a-z0-9]+)/)?(?P<account>\d{12})/"
    r"(?P<kind>CloudTrail|CloudTrail-Digest|CloudTrail-Insight)/(?P<region>[^/]+)/"
    r"(?P<date>\d{4}/\d{2}/\d{2})/(?P<name>[^/]+)")


@dataclass(frozen=True)
class TrailKey:
    """The fields of one trail object key; `str(key)` builds it."""

    kind: str                  # LOG, DIGEST or INSIGHT
    prefix: str                # without leading or trailing "/"; "" for none
    org_id: str | None
    account_id: str
    region: str
    at: datetime               # the time in the name (UTC): minutes for LOG/INSIGHT, seconds for DIGEST
    suffix: str = ""           # LOG/INSIGHT: the 16 alphanumerics
    trail_name: str = ""       # DIGEST
    home_region: str = ""      # DIGEST

    def __str__(self) -> str:
        return f"{folder(self.kind, self.prefix, self.account_id, self.region, self.org_id)}{self.at:%Y/%m/%d}/{self.name}"

    @property
    def name(self) -> str:
        """The file name (the key's last part)."""
        if self.kind == DIGEST:
            return (f"{digest_name_start(self.account_id, self.region, self.trail_name, self.home_region)}"
                    f"{self.at.strftime(KEY_SECOND)}{SUFFIX}")
        return f"{self.account_id}_{self.kind}_{self.region}_{self.at.strftime(KEY_MINUTE)}_{self.suffix}{SUFFIX}"


def awslogs_root(prefix: str | None) -> str:
    """`[prefix/]AWSLogs/` (slashes around `prefix` are dropped)."""
    head = (prefix or "").strip("/")
    return f"{head}/AWSLogs/" if head else "AWSLogs/"


def folder(kind: str, prefix: str | None, account_id: str, region: str, org_id: str | None = None) -> str:
    """`[prefix/]AWSLogs/[o-id/]<account>/<kind>/<region>/`, the folder above the date folders."""
    return f"{awslogs_root(prefix)}{org_id + '/' if org_id else ''}{account_id}/{kind}/{region}/"


def digest_name_start(account_id: str, region: str, trail_name: str, home_region: str) -> str:
    """The part of a digest's file name before its timestamp."""
    return f"{account_id}_{DIGEST}_{region}_{trail_name}_{home_region}_"


def _check(account_id: str, region: str, org_id: str | None) -> None:
    if not _ACCOUNT_RE.match(account_id):
        raise GeneratorError(f"invalid account id {account_id!r}: 12 digits expected")
    if org_id is not None and not _ORG_RE.match(org_id):
        raise GeneratorError(f"invalid organization id {org_id!r}")
    if not region or "/" in region or "_" in region:
        raise GeneratorError(f"invalid region {region!r}")


def _file_key(kind: str, prefix: str, account_id: str, region: str, delivered: datetime, suffix: str,
              org_id: str | None) -> str:
    _check(account_id, region, org_id)
    if not _SUFFIX_RE.match(suffix):
        raise GeneratorError(f"invalid log file suffix {suffix!r}: 16 letters or digits expected")
    if delivered.tzinfo is None:
        raise GeneratorError(f"delivery time {delivered} has no timezone; UTC is required")
    at = delivered.astimezone(timezone.utc)
    at = at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0)
    return str(TrailKey(kind, prefix.strip("/"), org_id, account_id, region, at, suffix))


def log_file_key(prefix: str, account_id: str, region: str, delivered: datetime, suffix: str,
                 org_id: str | None = None) -> str:
    """Key of a log file delivered at `delivered` (the name time is its 5-minute mark, UTC)."""
    return _file_key(LOG, prefix, account_id, region, delivered, suffix, org_id)


def insight_file_key(prefix: str, account_id: str, region: str, delivered: datetime, suffix: str,
                     org_id: str | None = None) -> str:
    """Key of an Insights file delivered at `delivered`, named like a log file."""
    return _file_key(INSIGHT, prefix, account_id, region, delivered, suffix, org_id)


def digest_key(prefix: str, account_id: str, region: str, trail_name: str, home_region: str,
               end: datetime, org_id: str | None = None) -> str:
    """Key of the digest ending at `end` (date folders and file timestamp are the end time)."""
    return str(TrailKey(DIGEST, prefix.strip("/"), org_id, account_id, region, end.astimezone(timezone.utc),
                        trail_name=trail_name, home_region=home_region))


def parse_name(name: str) -> TrailKey | None:
    """The fields a log, insight or digest file name holds (prefix "", no org id), or None."""
    try:
        if match := _FILE_NAME_RE.fullmatch(name):
            return TrailKey(match["kind"], "", None, match["account"], match["region"],
                            parse_key_second(match["ts"][:-1] + "00Z"), match["suffix"])
        if match := _DIGEST_NAME_RE.fullmatch(name):
            return TrailKey(DIGEST, "", None, match["account"], match["region"], parse_key_second(match["ts"]),
                            trail_name=match["trail"], home_region=match["home"])
    except ValueError:          # digits that are no date
        pass
    return None


def parse_key(key: str) -> TrailKey | None:
    """The fields of a trail object key, or None when `key` is not one (folders and name must agree)."""
    match = _FOLDER_RE.fullmatch(key)
    named = parse_name(match["name"]) if match else None
    if (named is None or named.kind != match["kind"] or named.account_id != match["account"]
            or named.region != match["region"] or f"{named.at:%Y/%m/%d}" != match["date"]):
        return None
    return TrailKey(named.kind, match["prefix"] or "", match["org"], named.account_id, named.region, named.at,
                    named.suffix, named.trail_name, named.home_region)
