"""Random identifiers drawn from an rng: version-4 UUIDs and strings over an alphabet."""
from __future__ import annotations

import functools
import random

_HEX = "0123456789abcdef"
UPPER_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"
MIXED = LOWER_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_UUID_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in _HEX}  # a hex digit -> RFC 4122 variant digit


def uuid4(rng: random.Random) -> str:
    """A random (version 4) UUID string drawn from ``rng``."""
    # version and variant set on the text: masking a 128-bit int costs twice as much
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_UUID_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def chars(rng: random.Random, alphabet: str, n: int) -> str:
    """n characters of ``alphabet`` (random byte b -> alphabet[b % size]: a slight bias is irrelevant here)."""
    return rng.randbytes(n).translate(_byte_table(alphabet)).decode()


@functools.cache
def _byte_table(alphabet: str) -> bytes:
    """The bytes.translate table mapping each byte value b to alphabet[b % len(alphabet)] (ASCII)."""
    return bytes(ord(alphabet[b % len(alphabet)]) for b in range(256))
