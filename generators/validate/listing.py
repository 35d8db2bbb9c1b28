"""The one listing of `[prefix/]AWSLogs/`: digest chains and log files, filtered as asked."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cloudtrail_emulator.generators.stores import ObjectStore
from cloudtrail_emulator.generators.trail.digests import PERIOD
from cloudtrail_emulator.generators.trail.layout import DIGEST, LOG, awslogs_root, parse_key
from cloudtrail_emulator.generators.validate.digests import Digest


@dataclass
class Listing:
    """What one listing of `[prefix/]AWSLogs/` found."""

    keys: set[str] = field(default_factory=set)
    chains: dict[tuple[str | None, str, str, str, str], list[Digest]] = field(default_factory=dict)
    logs: dict[str, tuple[str | None, str, str, datetime]] = field(default_factory=dict)  # org, acct, region, name time


def scan(store: ObjectStore, bucket: str, root: str, trail_name: str | None,
          accounts: set[str] | None, regions: set[str] | None,
          start: datetime | None, end: datetime | None) -> Listing:
    """Sort the keys under `root` into digest chains and log files, keeping those asked for."""
    listing = Listing()
    digest_end_limit = None if end is None else end + PERIOD
    for key in store.list(bucket, root):
        listing.keys.add(key)
        found = parse_key(key)
        if found is None or awslogs_root(found.prefix) != root:
            continue
        org, account, region, at = found.org_id, found.account_id, found.region, found.at
        if found.kind == LOG:
            if _wanted(account, region, accounts, regions) and _in(at, start, end):
                listing.logs[key] = (org, account, region, at)
        elif found.kind == DIGEST:
            if (_wanted(account, region, accounts, regions)
                    and (trail_name is None or found.trail_name == trail_name)
                    and _in(at, start, digest_end_limit)):
                chain_id = (org, account, region, found.trail_name, found.home_region)
                listing.chains.setdefault(chain_id, []).append(Digest(key, chain_id, at))
    return listing


def _wanted(account: str, region: str, accounts: set[str] | None, regions: set[str] | None) -> bool:
    return (accounts is None or account in accounts) and (regions is None or region in regions)


def _in(at: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or at >= start) and (end is None or at <= end)
