"""The placeholders of catalog templates, resolved per record by `RecordContext.get`.

Templates of the catalog are compiled once per entry; per record the factory resolves the placeholders
they use (each name once per record, so ``{{bucket}}`` in ``bucketName`` and ``Host`` agree).
Placeholder vocabulary (``{{name}}``, ``{{name.2}}`` for a second independent value of the same kind,
``{{name:arg}}`` for arguments):

- context: account, region, requestId, callerArn, callerName, action, resourceArn, cipher, az,
  time (eventTime), ctime (IAM "Jul 10, 2023 11:54:39 AM"), expiry[:seconds] (STS
  "Mar 6, 2025, 3:28:21 AM"), epochms, isoms (Lambda "2023-07-10T12:25:32.895+0000")
- fresh values: uuid, UUID, hex:N, HEX:N, alnum:N, ALNUM:N, mixed:N, digits:N, int:lo:hi, akid,
  asia, b64:N (N random bytes, base64), b64url:N, ip (private), pubip
- named resources of the account, stable for a population seed (see ``POOLS``): bucket, instance,
  vpc, subnet, sg, role, user, function, secret, param, kmskey, ...
"""
from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from cloudtrail_emulator.generators.catalog import CatalogEntry
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.records.pools import POOLS
from cloudtrail_emulator.generators.records.randoms import LOWER_ALNUM, MIXED, UPPER_ALNUM, chars, uuid4
from cloudtrail_emulator.generators.times import format_time

if TYPE_CHECKING:
    from cloudtrail_emulator.generators.population import Principal
    from cloudtrail_emulator.generators.records.factory import RecordFactory

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class RecordContext:
    """Per-record state and the placeholder resolver ``get``."""

    __slots__ = ("factory", "rng", "account", "region", "when", "principal", "entry", "request_id",
                 "cipher", "cache")

    def __init__(self, factory: RecordFactory, rng: random.Random, account: str, region: str,
                 when: datetime, principal: Principal | None, entry: CatalogEntry):
        self.factory, self.rng, self.account, self.region = factory, rng, account, region
        self.when, self.principal, self.entry = when, principal, entry
        self.request_id: str | None = None
        self.cipher = "ECDHE-RSA-AES128-GCM-SHA256"
        self.cache: dict[str, Any] = {"account": account, "region": region}  # the commonest, up front

    def get(self, name: str) -> Any:
        cache = self.cache
        if name in cache:
            return cache[name]
        fn, args = _PARSED.get(name) or _parse(name)
        value = cache[name] = fn(self, args)
        return value


def pick_pooled(rec: RecordContext, kind: str) -> str:
    """One of the account's named resources of `kind`, for this record."""
    pool = rec.factory.pool(rec.account, kind)
    return pool[int(len(pool) * rec.rng.random() ** 2)]  # skewed: a few resources get most calls


def _caller_arn(rec: RecordContext) -> str:
    p = rec.principal
    arn = p.user_identity.get("arn") if p else None
    return arn or f"arn:aws:iam::{rec.account}:root"


def _expiry(rec: RecordContext, args: tuple[str, ...]) -> str:
    t = rec.when + timedelta(seconds=int(args[0]) if args else 3600)
    hour = t.hour % 12 or 12
    return f"{MONTHS[t.month - 1]} {t.day}, {t.year}, {hour}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"


def _ctime(rec: RecordContext, args: tuple[str, ...]) -> str:
    t = rec.when
    hour = t.hour % 12 or 12
    return f"{MONTHS[t.month - 1]} {t.day}, {t.year} {hour}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"


_Gen = Callable[[RecordContext, tuple[str, ...]], Any]
VOCABULARY: dict[str, _Gen] = {
    "account": lambda rec, a: rec.account,
    "region": lambda rec, a: rec.region,
    "requestId": lambda rec, a: rec.request_id,
    "callerArn": lambda rec, a: _caller_arn(rec),
    "callerName": lambda rec, a: (rec.principal.username if rec.principal else None) or "root",
    "action": lambda rec, a: rec.entry.action,
    "resourceArn": lambda rec, a: rec.factory.compiled(rec.entry).resource_arn(rec.get),
    "cipher": lambda rec, a: rec.cipher,
    "az": lambda rec, a: rec.region + "abc"[int(rec.rng.random() * 3)],
    "time": lambda rec, a: format_time(rec.when),
    "ctime": _ctime,
    "expiry": _expiry,
    "epochms": lambda rec, a: int(rec.when.timestamp()) * 1000,
    "isoms": lambda rec, a: rec.when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rec.rng.randrange(1000):03d}+0000",
    "uuid": lambda rec, a: uuid4(rec.rng),
    "UUID": lambda rec, a: uuid4(rec.rng).upper(),
    "hex": lambda rec, a: "%0*x" % (int(a[0]), rec.rng.getrandbits(4 * int(a[0]))),
    "HEX": lambda rec, a: "%0*X" % (int(a[0]), rec.rng.getrandbits(4 * int(a[0]))),
    "alnum": lambda rec, a: chars(rec.rng, LOWER_ALNUM, int(a[0])),
    "ALNUM": lambda rec, a: chars(rec.rng, UPPER_ALNUM, int(a[0])),
    "mixed": lambda rec, a: chars(rec.rng, MIXED, int(a[0])),
    "digits": lambda rec, a: chars(rec.rng, "0123456789", int(a[0])),
    "int": lambda rec, a: int(a[0]) + int(rec.rng.random() * (int(a[1]) - int(a[0]) + 1)),  # randint, cheaper
    "akid": lambda rec, a: "AKIA" + chars(rec.rng, UPPER_ALNUM, 16),
    "asia": lambda rec, a: "ASIA" + chars(rec.rng, UPPER_ALNUM, 16),
    "b64": lambda rec, a: base64.b64encode(rec.rng.randbytes(int(a[0]))).decode(),
    "b64url": lambda rec, a: base64.urlsafe_b64encode(rec.rng.randbytes(int(a[0]))).decode().rstrip("="),
    "ip": lambda rec, a: f"10.{rec.rng.randrange(256)}.{rec.rng.randrange(256)}.{rec.rng.randrange(1, 255)}",
    "pubip": lambda rec, a: f"{rec.rng.choice((3, 18, 34, 44, 52, 54))}.{rec.rng.randrange(256)}."
                            f"{rec.rng.randrange(256)}.{rec.rng.randrange(1, 255)}",
}
_PARSED: dict[str, tuple[_Gen, tuple[str, ...]]] = {}


def _parse(name: str) -> tuple[_Gen, tuple[str, ...]]:
    """(generator, arguments) for a placeholder name, memoised."""
    parsed = _PARSED.get(name)
    if parsed is None:
        head, *args = name.split(":")
        base = head.split(".", 1)[0]
        if base in VOCABULARY:
            parsed = (VOCABULARY[base], tuple(args))
        elif base in POOLS:
            parsed = (lambda rec, a, kind=base: pick_pooled(rec, kind), ())
        else:
            raise GeneratorError(f"unknown catalog placeholder {{{{{name}}}}}")
        _PARSED[name] = parsed
    return parsed
