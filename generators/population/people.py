"""The organisation's people and accounts: logins, e-mails, machines, addresses, account ids and aliases."""
from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from faker import Faker

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population.addresses import (
    HOME_LEASE_DAYS,
    PersonAddresses,
    nat_pool,
    public_ipv4,
    public_ipv6,
)
from cloudtrail_emulator.generators.population.agents import Device, draw_device

DEFAULT_ACCOUNT_ID = "123456789012"
MAX_ACCOUNTS = 1000

_ENVIRONMENTS = ("prod", "staging", "dev", "security", "log-archive", "shared-services", "sandbox",
                 "data", "network", "audit")


@dataclass(frozen=True)
class Person:
    login: str                 # "jsmith"
    email: str
    admin: bool
    addresses: PersonAddresses
    device: Device

    @property
    def ips(self) -> tuple[str, ...]:
        """Every address the person calls from."""
        return self.addresses.all()


def slug(text: str) -> str:
    """Lowercase letters and digits, other runs of characters made one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _account_ids(rng: random.Random, count: int) -> list[str]:
    ids = [DEFAULT_ACCOUNT_ID]
    while len(ids) < count:
        candidate = f"{rng.randrange(10**11, 10**12)}"
        if candidate not in ids:
            ids.append(candidate)
    return ids


def checked_account_ids(accounts: int | Sequence[str], rng: random.Random) -> list[str]:
    """The account ids of a count (the first `DEFAULT_ACCOUNT_ID`) or of a checked list."""
    if isinstance(accounts, bool) or isinstance(accounts, (str, bytes)):
        raise GeneratorError(f"accounts must be a count or a list of 12-digit account ids, not {accounts!r}")
    if isinstance(accounts, int):
        if not 1 <= accounts <= MAX_ACCOUNTS:
            raise GeneratorError(f"accounts must be between 1 and {MAX_ACCOUNTS}, not {accounts}")
        return _account_ids(rng, accounts)
    ids = list(accounts)
    if not ids:
        raise GeneratorError("accounts: the list of account ids is empty")
    for account_id in ids:
        if not (isinstance(account_id, str) and re.fullmatch(r"\d{12}", account_id)):
            raise GeneratorError(f"accounts: {account_id!r} is not a 12-digit account id")
    if len(set(ids)) != len(ids):
        raise GeneratorError("accounts: the list of account ids has duplicates")
    return ids


def account_alias(company: str, index: int, org: bool) -> str:
    """The alias of the index-th account: management first in an organization, then environments."""
    if not org:
        return f"{company}-prod"
    if index == 0:
        return f"{company}-management"
    if index <= len(_ENVIRONMENTS):
        return f"{company}-{_ENVIRONMENTS[index - 1]}"
    return f"{company}-workload-{index}"


def draw_people(rng: random.Random, fake: Faker, company: str, count: int) -> list[Person]:
    """`count` people with distinct logins, one in four an admin, most working from an office some days."""
    offices = [nat_pool(rng, rng.randint(3, 4)) for _ in range(rng.randint(1, 2))]
    vpn = nat_pool(rng, 2)
    people: list[Person] = []
    logins: set[str] = set()
    while len(people) < count:
        first, last = fake.first_name(), fake.last_name()
        login = slug(first[0] + last).replace("-", "")
        if login in logins:
            continue
        logins.add(login)
        office = rng.choice(offices) if rng.random() < 0.75 else ()
        v6 = rng.random() < 0.25   # the home ISP hands out IPv6
        homes = tuple(public_ipv6(rng) if v6 else public_ipv4(rng) for _ in range(12))
        where = PersonAddresses(office, homes, vpn, rng.randint(*HOME_LEASE_DAYS), rng.randrange(60))
        email = f"{slug(first)}.{slug(last)}@{company}.com".replace("-", "")
        people.append(Person(login, email, admin=len(people) % 4 == 0, addresses=where, device=draw_device(rng)))
    return people
