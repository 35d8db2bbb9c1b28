"""The population's types: accounts, principals and the population that holds them."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population.addresses import Addresses

CATEGORIES = (
    "user",            # IAMUser with a long-term AKIA key (CLI, SDKs, Terraform)
    "console-user",    # IAMUser signed in to the console (ASIA session key, sessionContext)
    "role",            # IAM role assumed by a person from the CLI
    "ci",              # IAM role assumed by a CI system (Terraform)
    "ci-user",         # IAMUser whose long-term AKIA key a CI system holds (a deploy user)
    "web-identity",    # IAM role assumed through OIDC (GitHub Actions)
    "sso",             # IAM Identity Center permission-set role, CLI
    "sso-console",     # IAM Identity Center permission-set role, console
    "federated",       # FederatedUser from GetFederationToken
    "root",            # the account's root user, console
    "instance",        # EC2 instance-profile role
    "lambda",          # Lambda execution role
    "service",         # AWSService acting for the account
    "service-role",    # service-linked role (AWSServiceRoleFor...) used by its service
)


@dataclass(frozen=True)
class Account:
    account_id: str            # 12 digits
    alias: str                 # e.g. "acme-prod"
    is_management: bool        # the organization's management account (False without organization)


@dataclass(frozen=True)
class Principal:
    key: str                   # "<account>:<category>/<name>", unique in the population
    kind: str                  # userIdentity.type
    account_id: str
    user_identity: dict        # as CloudTrail writes it (key order kept); creationDate is a placeholder
    access_key_id: str | None  # AKIA... long-term, ASIA... session, None for services
    username: str | None       # what LookupEvents calls Username
    source_ips: tuple[str, ...]   # addresses, or the service host name for services
    user_agents: tuple[str, ...]  # may hold {command}/{service}: see render_user_agent()
    console: bool              # calls come from the AWS console
    invoked_by: str | None     # service host name for services acting for the account
    weight: float              # relative share of activity
    addresses: Addresses | None = None  # where each call or session comes from; None: any of source_ips
    admin: bool = False        # acts with administrator rights (an admin's IAM user, an admin role)

    @property
    def category(self) -> str:
        """One of CATEGORIES, read from the key."""
        return self.key.split(":", 1)[1].split("/", 1)[0]


@dataclass(frozen=True)
class Population:
    seed: int
    accounts: tuple[Account, ...]
    organization_id: str | None    # "o-" + 10 lowercase alphanumerics when more than one account
    principals: tuple[Principal, ...]
    access_styles: dict[str, str]  # account id -> how its people and pipelines reach it (ACCESS_STYLES)

    @cached_property
    def _by_account(self) -> dict[str, tuple[Principal, ...]]:
        grouped: dict[str, list[Principal]] = {a.account_id: [] for a in self.accounts}
        for principal in self.principals:
            grouped[principal.account_id].append(principal)
        return {acct: tuple(items) for acct, items in grouped.items()}

    @cached_property
    def _by_key(self) -> dict[str, Principal]:
        return {p.key: p for p in self.principals}

    def access_style(self, account_id: str) -> str:
        """How the account's people and pipelines reach AWS (one of ACCESS_STYLES)."""
        return self.access_styles[account_id]

    def principals_in(self, account_id: str) -> tuple[Principal, ...]:
        return self._by_account.get(account_id, ())

    def principal(self, key: str) -> Principal:
        """The principal with this key; GeneratorError when there is none."""
        try:
            return self._by_key[key]
        except KeyError:
            raise GeneratorError(f"no principal {key!r} in the population") from None
