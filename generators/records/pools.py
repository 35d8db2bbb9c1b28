"""The named resources of an account (buckets, instances, roles, ...): pool sizes and name makers."""
from __future__ import annotations

import random
from typing import Callable

from cloudtrail_emulator.generators.records.randoms import UPPER_ALNUM, chars, uuid4

WORDS = ("app", "api", "web", "data", "billing", "orders", "auth", "payments", "analytics", "etl",
         "reports", "search", "users", "inventory", "media", "notify", "ingest", "backup", "ml", "ops",
         "build", "deploy", "monitoring", "frontend", "backend", "batch", "events", "audit", "cache")
ENVS = ("prod", "staging", "dev", "test", "shared")


def _hexid(prefix: str, n: int = 17) -> Callable[[random.Random, str], str]:
    return lambda r, alias: prefix + "%0*x" % (n, r.getrandbits(4 * n))


def _named(pattern: str) -> Callable[[random.Random, str], str]:
    """Pool maker from a pattern: {w} a word, {e} an environment, {a} the account alias, {h} 4 hex."""
    def make(r: random.Random, alias: str) -> str:
        return pattern.format(w=r.choice(WORDS), e=r.choice(ENVS), a=alias, h="%04x" % r.getrandbits(16),
                              w2=r.choice(WORDS))
    return make


#: kind -> (pool size, maker(rng, account alias)); values are stable per (population seed, account)
POOLS: dict[str, tuple[int, Callable[[random.Random, str], str]]] = {
    "bucket": (10, _named("{a}-{w}-{w2}-{h}")), "object": (40, _named("{w}/{e}/{w2}-{h}.json")),
    "instance": (12, _hexid("i-")), "vpc": (3, _hexid("vpc-")), "subnet": (8, _hexid("subnet-")),
    "sg": (8, _hexid("sg-")), "rtb": (6, _hexid("rtb-")), "igw": (3, _hexid("igw-")),
    "eni": (10, _hexid("eni-")), "vol": (12, _hexid("vol-")), "snap": (8, _hexid("snap-")),
    "ami": (6, _hexid("ami-")), "eipalloc": (4, _hexid("eipalloc-")), "nat": (3, _hexid("nat-")),
    "acl": (3, _hexid("acl-")), "lt": (3, _hexid("lt-")), "vpce": (2, _hexid("vpce-")),
    "dopt": (1, _hexid("dopt-")), "sgr": (8, _hexid("sgr-")), "assoc": (8, _hexid("rtbassoc-")),
    "kmskey": (5, lambda r, a: uuid4(r)),
    "role": (10, _named("{w}-{e}-role")), "user": (8, _named("{w}-{e}-user")),
    "policy": (8, _named("{w}-{e}-policy")), "profile": (4, _named("{w}-{e}-instance-profile")),
    "function": (10, _named("{w}-{w2}-{e}")), "secret": (8, _named("{e}/{w}/{w2}")),
    "param": (12, _named("/{e}/{w}/{w2}")), "loggroup": (8, _named("/aws/lambda/{w}-{w2}-{e}")),
    "table": (6, _named("{w}-{e}")), "queue": (6, _named("{w}-{w2}-{e}")), "topic": (5, _named("{w}-{e}-alerts")),
    "cluster": (3, _named("{w}-{e}")), "db": (4, _named("{w}-{e}-db")), "trail": (2, _named("{a}-{w}-trail")),
    "stack": (6, _named("{w}-{w2}-{e}")), "zone": (3, lambda r, a: "Z" + chars(r, UPPER_ALNUM, 13)),
    "keypair": (4, _named("{w}-{e}-key")), "repo": (6, _named("{w}-{w2}")), "word": (12, _named("{w}-{w2}")),
    "detector": (1, lambda r, a: "%032x" % r.getrandbits(128)),
}
