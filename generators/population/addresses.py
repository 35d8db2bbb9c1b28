"""Public source IP addresses: people's offices and homes, CI runners, cloud compute."""
from __future__ import annotations

import ipaddress
import random
from collections.abc import Sequence

_IPV6_PREFIXES = ("2a02:8108", "2600:1700", "2601:647", "2a01:cb00", "2003:e2", "2a00:23c5")
CI_OCTETS = (4, 13, 20, 40, 52, 104)              # Azure-hosted runners (GitHub Actions)
EC2_OCTETS = (3, 18, 34, 35, 44, 52, 54, 98)      # AWS / GCP compute


def public_ipv4(rng: random.Random, first_octets: Sequence[int] | None = None) -> str:
    """A global IPv4 address, its first octet drawn from `first_octets` when given."""
    while True:
        first = rng.choice(first_octets) if first_octets else rng.randrange(1, 224)
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
