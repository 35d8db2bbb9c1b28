"""Source IP addresses: people's offices, homes and VPN, CI runners, workloads inside AWS.

Who calls from where (see ``docs/activity.md``, "Addresses"):

- people: their office's NAT addresses on working days (offices share a small NAT pool), their home
  address otherwise (a residential address that changes every few weeks), sometimes the company VPN;
- CI: GitHub-hosted runners, a fresh Azure VM per job, so an address of Azure's published ranges;
- workloads (EC2 instance profiles, Lambda, the federation broker's server): EC2 addresses of the
  region the call is recorded in, from `AWS_EC2_PREFIXES`.
"""
from __future__ import annotations

import ipaddress
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

_IPV6_PREFIXES = ("2a02:8108", "2600:1700", "2601:647", "2a01:cb00", "2003:e2", "2a00:23c5")

#: EC2 public address blocks per region, as AWS publishes them in ip-ranges.json (service EC2). A few
#: large blocks per region suffice: a workload's address must be inside its region's published ranges.
AWS_EC2_PREFIXES: dict[str, tuple[str, ...]] = {
    "us-east-1": ("3.224.0.0/12", "44.192.0.0/11", "52.44.0.0/15", "54.144.0.0/14", "98.80.0.0/12"),
    "us-east-2": ("3.128.0.0/15", "18.216.0.0/14", "13.58.0.0/15"),
    "us-west-1": ("13.56.0.0/16", "54.176.0.0/15"),
    "us-west-2": ("34.208.0.0/12", "44.224.0.0/11", "54.184.0.0/13"),
    "ca-central-1": ("15.222.0.0/15", "35.182.0.0/15"),
    "eu-west-1": ("34.240.0.0/13", "52.208.0.0/13", "3.248.0.0/13"),
    "eu-west-2": ("3.8.0.0/14", "35.176.0.0/15"),
    "eu-central-1": ("3.120.0.0/14", "18.184.0.0/15", "35.156.0.0/14"),
    "eu-north-1": ("13.48.0.0/15", "16.170.0.0/15"),
    "ap-northeast-1": ("13.112.0.0/14", "18.176.0.0/15"),
    "ap-southeast-1": ("13.228.0.0/15", "54.254.0.0/16"),
    "ap-southeast-2": ("13.236.0.0/14", "3.104.0.0/14"),
    "ap-south-1": ("13.232.0.0/14", "65.0.0.0/14"),
    "sa-east-1": ("18.228.0.0/16", "54.232.0.0/16"),
}
#: a region without a row of its own calls from these (still inside AWS)
DEFAULT_AWS_REGION = "us-east-1"
#: Azure public blocks (Microsoft's published ranges) where GitHub-hosted Actions runners run
AZURE_PREFIXES = ("13.64.0.0/11", "20.36.0.0/14", "40.74.0.0/15", "52.224.0.0/11", "104.208.0.0/13")

#: days a home address lasts before the ISP hands out another, per person between these bounds
HOME_LEASE_DAYS = (14, 42)
#: per session: chance of working from the office on a working day (people with an office), else home
OFFICE_SHARE = 0.6
#: chance a session goes through the company VPN (from home or a trip)
VPN_SHARE = 0.1


#: first octets mostly held by cloud providers (AWS, Azure, Google): no home or office draws from them
_CLOUD_OCTETS = frozenset({3, 13, 15, 16, 18, 20, 34, 35, 40, 44, 52, 54, 98, 104})


def public_ipv4(rng: random.Random) -> str:
    """A global IPv4 address outside the big clouds' blocks: an ISP's or a company's."""
    while True:
        first = rng.randrange(1, 224)
        if first in _CLOUD_OCTETS:
            continue
        addr = ipaddress.IPv4Address((first << 24) | rng.getrandbits(24))
        if addr.is_global:
            return str(addr)


def public_ipv6(rng: random.Random) -> str:
    """A global IPv6 address of a residential ISP."""
    while True:
        groups = rng.choice(_IPV6_PREFIXES).split(":")
        groups += [f"{rng.getrandbits(16):x}" for _ in range(8 - len(groups))]
        addr = ipaddress.IPv6Address(":".join(groups))
        if addr.is_global:
            return str(addr)


def address_in(rng: random.Random, prefixes: Sequence[str]) -> str:
    """A host address inside one of ``prefixes``."""
    network = ipaddress.ip_network(rng.choice(prefixes))
    return str(network.network_address + 1 + rng.randrange(network.num_addresses - 2))


def nat_pool(rng: random.Random, size: int) -> tuple[str, ...]:
    """An office's NAT addresses: consecutive addresses of one small public block."""
    base = ipaddress.IPv4Address(public_ipv4(rng)) if size else None
    return tuple(str(base + i) for i in range(size)) if base else ()


class Addresses(Protocol):
    """Where a principal calls from."""

    #: True: each call has its own (the region's) address; False: a session pins one (`issuing`)
    per_call: bool

    def pick(self, region: str | None, epoch: int, u: float) -> str:
        """The address of a call or session at ``epoch`` (s) in ``region`` (None: the caller's own), ``u`` uniform."""

    def all(self) -> tuple[str, ...]:
        """The addresses the principal is known by (``Principal.source_ips``)."""


@dataclass(frozen=True)
class PersonAddresses:
    """A person's office NAT pool (empty: remote), successive home addresses and the company VPN."""

    per_call = False

    office: tuple[str, ...]
    homes: tuple[str, ...]
    vpn: tuple[str, ...]
    lease_days: int
    phase: int             # days: people's home addresses do not all change on the same day

    def home(self, epoch: int) -> str:
        days = epoch // 86400 + self.phase
        return self.homes[(days // self.lease_days) % len(self.homes)]

    def pick(self, region: str | None, epoch: int, u: float) -> str:
        if u < VPN_SHARE:
            return self.vpn[int(u / VPN_SHARE * len(self.vpn))]
        u = (u - VPN_SHARE) / (1 - VPN_SHARE)
        if self.office and (epoch // 86400 + 3) % 7 < 5 and u < OFFICE_SHARE:   # Monday to Friday
            return self.office[int(u / OFFICE_SHARE * len(self.office))]
        return self.home(epoch)

    def all(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.office + self.homes + self.vpn))


@dataclass(frozen=True)
class RunnerAddresses:
    """CI runners: a fresh VM per job, each with its own address of the provider's ranges."""

    per_call = False

    pool: tuple[str, ...]

    def pick(self, region: str | None, epoch: int, u: float) -> str:
        return self.pool[int(u * len(self.pool))]

    def all(self) -> tuple[str, ...]:
        return self.pool


@dataclass(frozen=True)
class CloudAddresses:
    """A workload in AWS: ``per_region`` EC2 addresses of the region it runs in, stable per principal."""

    per_call = True

    key: str
    per_region: int
    _cache: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def region_pool(self, region: str | None) -> tuple[str, ...]:
        region = region if region in AWS_EC2_PREFIXES else DEFAULT_AWS_REGION
        pool = self._cache.get(region)
        if pool is None:
            rng = random.Random(f"{self.key}:{region}")
            pool = self._cache[region] = tuple(address_in(rng, AWS_EC2_PREFIXES[region])
                                               for _ in range(self.per_region))
        return pool

    def pick(self, region: str | None, epoch: int, u: float) -> str:
        pool = self.region_pool(region)
        return pool[int(u * len(pool))]

    def all(self) -> tuple[str, ...]:
        return self.region_pool(DEFAULT_AWS_REGION)
