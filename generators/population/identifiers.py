"""AWS unique ids (AIDA/AKIA/AROA/ASIA...) and random hex and alphanumeric strings."""
from __future__ import annotations

import random

_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def aws_id(prefix: str, account_id: str, rng: random.Random, length: int) -> str:
    """An AWS unique id: prefix, then base32 whose first 48 bits hold the account id as AWS does."""
    value = ((int(account_id) << 7 | rng.getrandbits(7)) << 32) | rng.getrandbits(32)  # 80 bits
    body = "".join(_BASE32[(value >> (5 * i)) & 31] for i in range(15, -1, -1))
    return prefix + body + "".join(rng.choice(_BASE32) for _ in range(length - 20))


def session_key_id(account_id: str, rng: random.Random) -> str:
    """A fresh temporary (ASIA...) access key id of the account, as STS issues them."""
    return aws_id("ASIA", account_id, rng, 20)


def hex_string(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def alnum_string(rng: random.Random, n: int) -> str:
    """n lowercase letters and digits."""
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))
