"""The synthetic AWS organisation: accounts and the principals that act in them.

Built once per seed (Faker, seeded, is used only while building), then reused for every record.

Principal keys read `<account id>:<category>/<name>` (`<account id>:root` for the root user); the
category (see `CATEGORIES`, `Principal.category`) says what sort of actor it is, beyond the
userIdentity type: an IAM user calling with its access key (`user`) and the same user signed in
to the console (`console-user`) are two principals with different userIdentity objects.

`Principal.user_identity` is the userIdentity object exactly as CloudTrail writes it. It is shared:
copy it before changing it. Where a session exists, `sessionContext.attributes.creationDate` holds
`CREATION_DATE_PLACEHOLDER`; the record factory writes the real session start per event.

User agents of the AWS CLI and the Go SDK v2 name the call: they hold `{command}` / `{service}`
placeholders that `render_user_agent()` fills per event.

Modules: `model` (the types), `people` (people, account ids and aliases), `principals` (each
account's principals), `identities` (userIdentity shapes), `identifiers` (AWS ids), `addresses`,
`agents` (user agents).
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from faker import Faker

from cloudtrail_emulator.generators.access_styles import DEFAULT_ACCESS_STYLE, account_style
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population.agents import render_user_agent
from cloudtrail_emulator.generators.population.identifiers import alnum_string, session_key_id
from cloudtrail_emulator.generators.population.identities import CREATION_DATE_PLACEHOLDER
from cloudtrail_emulator.generators.population.model import CATEGORIES, Account, Population, Principal
from cloudtrail_emulator.generators.population.people import (
    DEFAULT_ACCOUNT_ID,
    MAX_ACCOUNTS,
    account_alias,
    checked_account_ids,
    draw_people,
    slug,
)
from cloudtrail_emulator.generators.population.principals import PrincipalBuilder

__all__ = ["CATEGORIES", "CREATION_DATE_PLACEHOLDER", "DEFAULT_ACCOUNT_ID", "MAX_ACCOUNTS", "Account",
           "Population", "Principal", "build_population", "render_user_agent", "session_key_id"]


def build_population(seed: int, accounts: int | Sequence[str] = 1,
                     access_style: str = DEFAULT_ACCESS_STYLE) -> Population:
    """The population of a seed: one account `123456789012`, or an organization of several.

    ``access_style`` (see ``generators.access_styles``) says how people and pipelines reach the
    accounts: the organisation's choice, or ``per-account`` (each account's drawn from the seed).
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise GeneratorError(f"seed must be an integer, not {seed!r}")
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    ids = checked_account_ids(accounts, rng)
    company = slug(fake.last_name())
    org = len(ids) > 1
    organization_id = "o-" + alnum_string(rng, 10) if org else None
    account_list = tuple(Account(account_id, account_alias(company, index, org), org and index == 0)
                         for index, account_id in enumerate(ids))
    people = draw_people(rng, fake, company, count=min(4 + 2 * len(ids), 40))
    builder = PrincipalBuilder(rng, fake, people, sso_region=rng.choice((None, "eu-west-1", "us-west-2")))
    styles = {a.account_id: account_style(access_style, seed, a.account_id) for a in account_list}
    principals = tuple(p for account in account_list
                       for p in builder.account(account, seed, styles[account.account_id]))
    return Population(seed, account_list, organization_id, principals, styles)
