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
"""
from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from faker import Faker

from cloudtrail_emulator.generators.errors import GeneratorError

DEFAULT_ACCOUNT_ID = "123456789012"
CREATION_DATE_PLACEHOLDER = "1970-01-01T00:00:00Z"
MAX_ACCOUNTS = 1000

CATEGORIES = (
    "user",            # IAMUser with a long-term AKIA key (CLI, SDKs, Terraform)
    "console-user",    # IAMUser signed in to the console (ASIA session key, sessionContext)
    "role",            # IAM role assumed by a person from the CLI
    "ci",              # IAM role assumed by a CI system (Terraform)
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

    @cached_property
    def _by_account(self) -> dict[str, tuple[Principal, ...]]:
        grouped: dict[str, list[Principal]] = {a.account_id: [] for a in self.accounts}
        for principal in self.principals:
            grouped[principal.account_id].append(principal)
        return {acct: tuple(items) for acct, items in grouped.items()}

    @cached_property
    def _by_key(self) -> dict[str, Principal]:
        return {p.key: p for p in self.principals}

    def principals_in(self, account_id: str) -> tuple[Principal, ...]:
        return self._by_account.get(account_id, ())

    def principal(self, key: str) -> Principal:
        """The principal with this key; GeneratorError when there is none."""
        try:
            return self._by_key[key]
        except KeyError:
            raise GeneratorError(f"no principal {key!r} in the population") from None


def render_user_agent(user_agent: str, event_source: str, event_name: str) -> str:
    """Fill the per-call parts of a user agent: `{command}` (AWS CLI) and `{service}` (Go SDK v2)."""
    if "{" not in user_agent:
        return user_agent
    service = event_source.split(".", 1)[0]
    operation = re.sub(r"\d{8}(v\d+)?$", "", event_name)
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", operation).lower()
    cli_service = _CLI_SERVICE_NAMES.get(service, service)
    return user_agent.replace("{command}", f"{cli_service}.{words}").replace("{service}", service)


_CLI_SERVICE_NAMES = {"s3": "s3api", "monitoring": "cloudwatch", "elasticloadbalancing": "elbv2",
                      "email": "ses", "states": "stepfunctions", "es": "opensearch"}


# ---------------------------------------------------------------------------------------------
# Identifiers and addresses

_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _aws_id(prefix: str, account_id: str, rng: random.Random, length: int) -> str:
    """An AWS unique id: prefix, then base32 whose first 48 bits hold the account id as AWS does."""
    value = ((int(account_id) << 7 | rng.getrandbits(7)) << 32) | rng.getrandbits(32)  # 80 bits
    body = "".join(_BASE32[(value >> (5 * i)) & 31] for i in range(15, -1, -1))
    return prefix + body + "".join(rng.choice(_BASE32) for _ in range(length - 20))


def session_key_id(account_id: str, rng: random.Random) -> str:
    """A fresh temporary (ASIA...) access key id of the account, as STS issues them."""
    return _aws_id("ASIA", account_id, rng, 20)


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def _public_ipv4(rng: random.Random, first_octets: Sequence[int] | None = None) -> str:
    while True:
        first = rng.choice(first_octets) if first_octets else rng.randrange(1, 224)
        addr = ipaddress.IPv4Address((first << 24) | rng.getrandbits(24))
        if addr.is_global:
            return str(addr)


_IPV6_PREFIXES = ("2a02:8108", "2600:1700", "2601:647", "2a01:cb00", "2003:e2", "2a00:23c5")


def _public_ipv6(rng: random.Random) -> str:
    while True:
        groups = rng.choice(_IPV6_PREFIXES).split(":")
        groups += [f"{rng.getrandbits(16):x}" for _ in range(8 - len(groups))]
        addr = ipaddress.IPv6Address(":".join(groups))
        if addr.is_global:
            return str(addr)


_CI_OCTETS = (4, 13, 20, 40, 52, 104)              # Azure-hosted runners (GitHub Actions)
_EC2_OCTETS = (3, 18, 34, 35, 44, 52, 54, 98)      # AWS / GCP compute


# ---------------------------------------------------------------------------------------------
# User agents


def _boto3(rng: random.Random, os_part: str, arch: str, extra: str = "") -> str:
    patch = rng.randrange(0, 160)
    py = f"3.{rng.choice((10, 11, 12))}.{rng.randrange(1, 12)}"
    return (f"Boto3/1.34.{patch} md/Botocore#1.34.{patch} ua/2.0 {os_part} md/arch#{arch} "
            f"lang/python#{py} md/pyimpl#CPython {extra}cfg/retry-mode#legacy Botocore/1.34.{patch}")


def _aws_cli(rng: random.Random, os_part: str, arch: str, distrib: str | None) -> str:
    distrib_part = f" md/distrib#{distrib}" if distrib else ""
    return (f"aws-cli/2.15.{rng.randrange(0, 60)} md/awscrt#0.19.{rng.randrange(1, 20)} ua/2.0 {os_part} "
            f"md/arch#{arch} lang/python#3.11.{rng.randrange(6, 9)} md/pyimpl#CPython "
            f"cfg/retry-mode#standard md/installer#exe{distrib_part} md/prompt#off md/command#{{command}}")


def _go_v2_tail(rng: random.Random) -> str:
    return (f"aws-sdk-go-v2/1.25.{rng.randrange(0, 4)} os/linux lang/go#1.22.{rng.randrange(0, 6)} "
            f"md/GOOS#linux md/GOARCH#amd64 api/{{service}}#1.{rng.randrange(20, 160)}.{rng.randrange(0, 9)}")


def _terraform(rng: random.Random) -> tuple[str, str]:
    """Two agents of one Terraform run: resources on SDK v2 and on SDK v1."""
    head = (f"APN/1.0 HashiCorp/1.0 Terraform/1.7.{rng.randrange(0, 6)} (+https://www.terraform.io) "
            f"terraform-provider-aws/5.{rng.randrange(30, 50)}.0 "
            f"(+https://registry.terraform.io/providers/hashicorp/aws)")
    v1 = f"aws-sdk-go/1.51.{rng.randrange(0, 30)} (go1.22.{rng.randrange(0, 6)}; linux; amd64)"
    return f"{head} {_go_v2_tail(rng)}", f"{head} {v1}"


def _java(rng: random.Random) -> str:
    jdk = f"17.0.{rng.randrange(8, 13)}"
    return (f"aws-sdk-java/2.25.{rng.randrange(0, 70)} Linux/5.10.{rng.randrange(200, 240)}-"
            f"{rng.randrange(200, 230)}.{rng.randrange(800, 900)}.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/"
            f"{jdk}+7-LTS Java/{jdk} vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy")


def _ssm_agent(rng: random.Random) -> str:
    go = f"go1.21.{rng.randrange(1, 10)}"
    return f"aws-sdk-go/1.50.{rng.randrange(0, 40)} ({go}; linux; amd64) amazon-ssm-agent/"


def _s3_console(rng: random.Random) -> str:
    build = rng.randrange(362, 402)
    return (f"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.{rng.randrange(480, 700)} "
            f"Linux/5.10.{rng.randrange(180, 230)}-{rng.randrange(150, 220)}.{rng.randrange(700, 900)}"
            f".amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.{build}-b08 java/1.8.0_{build} "
            f"vendor/Oracle_Corporation cfg/retry-mode/standard]")


@dataclass(frozen=True)
class _Device:
    """One person's machine: the shapes of the clients they run."""
    os_part: str
    arch: str
    distrib: str | None
    browser: str

    def cli(self, rng: random.Random) -> str:
        return _aws_cli(rng, self.os_part, self.arch, self.distrib)

    def boto3(self, rng: random.Random) -> str:
        return _boto3(rng, self.os_part, self.arch)


def _device(rng: random.Random) -> _Device:
    chrome = f"{rng.randrange(118, 125)}.0.0.0"
    kind = rng.choices(("mac", "linux", "windows"), weights=(5, 3, 2))[0]
    if kind == "mac":
        browser = rng.choice((
            f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome} Safari/537.36",
            f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            f"Version/17.{rng.randrange(0, 5)} Safari/605.1.15"))
        return _Device(f"os/macos#23.{rng.randrange(0, 5)}.0", rng.choice(("arm64", "x86_64")), None, browser)
    if kind == "linux":
        ff = rng.randrange(115, 124)
        browser = f"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{ff}.0) Gecko/20100101 Firefox/{ff}.0"
        kernel = f"6.5.0-{rng.randrange(14, 40)}-generic"
        return _Device(f"os/linux#{kernel}", "x86_64", "ubuntu.22", browser)
    browser = (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
               f"Chrome/{chrome} Safari/537.36 Edg/{chrome}")
    return _Device("os/windows#10", "amd64", None, browser)


# ---------------------------------------------------------------------------------------------
# People and accounts


@dataclass(frozen=True)
class _Person:
    login: str                 # "jsmith"
    email: str
    admin: bool
    ips: tuple[str, ...]
    device: _Device


_ENVIRONMENTS = ("prod", "staging", "dev", "security", "log-archive", "shared-services", "sandbox",
                 "data", "network", "audit")
_PERMISSION_SETS = ("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "ViewOnlyAccess",
                    "DeveloperAccess", "SecurityAudit")
_APP_SUFFIXES = ("api", "worker", "web", "etl", "jobs", "sync")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _account_ids(rng: random.Random, count: int) -> list[str]:
    ids = [DEFAULT_ACCOUNT_ID]
    while len(ids) < count:
        candidate = f"{rng.randrange(10**11, 10**12)}"
        if candidate not in ids:
            ids.append(candidate)
    return ids


def _checked_account_ids(accounts: int | Sequence[str], rng: random.Random) -> list[str]:
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


def build_population(seed: int, accounts: int | Sequence[str] = 1) -> Population:
    """The population of a seed: one account `123456789012`, or an organization of several."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise GeneratorError(f"seed must be an integer, not {seed!r}")
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    ids = _checked_account_ids(accounts, rng)
    company = _slug(fake.last_name())
    org = len(ids) > 1
    organization_id = "o-" + _alnum(rng, 10) if org else None
    account_list = tuple(Account(account_id, _alias(company, index, org), org and index == 0)
                         for index, account_id in enumerate(ids))
    people = _people(rng, fake, company, count=min(4 + 2 * len(ids), 40))
    builder = _Builder(rng, fake, people, sso_region=rng.choice((None, "eu-west-1", "us-west-2")))
    principals = tuple(p for account in account_list for p in builder.account(account, org))
    return Population(seed, account_list, organization_id, principals)


def _alias(company: str, index: int, org: bool) -> str:
    if not org:
        return f"{company}-prod"
    if index == 0:
        return f"{company}-management"
    if index <= len(_ENVIRONMENTS):
        return f"{company}-{_ENVIRONMENTS[index - 1]}"
    return f"{company}-workload-{index}"


def _people(rng: random.Random, fake: Faker, company: str, count: int) -> list[_Person]:
    offices = [_public_ipv4(rng) for _ in range(rng.randint(1, 2))]
    people: list[_Person] = []
    logins: set[str] = set()
    while len(people) < count:
        first, last = fake.first_name(), fake.last_name()
        login = _slug(first[0] + last).replace("-", "")
        if login in logins:
            continue
        logins.add(login)
        ips = [rng.choice(offices)] if rng.random() < 0.7 else []
        target = rng.randint(1, 3)
        while len(ips) < target:
            ips.append(_public_ipv6(rng) if rng.random() < 0.25 else _public_ipv4(rng))
        email = f"{_slug(first)}.{_slug(last)}@{company}.com".replace("-", "")
        people.append(_Person(login, email, admin=len(people) % 4 == 0, ips=tuple(ips), device=_device(rng)))
    return people


# ---------------------------------------------------------------------------------------------
# userIdentity shapes


def _attributes(mfa: bool) -> dict:
    return {"creationDate": CREATION_DATE_PLACEHOLDER, "mfaAuthenticated": "true" if mfa else "false"}


def _role_identity(account_id: str, role: str, role_path: str, role_id: str, session: str,
                   access_key: str | None, mfa: bool = False, web_identity: dict | None = None,
                   ec2_delivery: bool = False, invoked_by: str | None = None) -> dict:
    context: dict = {
        "sessionIssuer": {"type": "Role", "principalId": role_id,
                          "arn": f"arn:aws:iam::{account_id}:role/{role_path}{role}",
                          "accountId": account_id, "userName": role},
        "webIdFederationData": web_identity or {},
        "attributes": _attributes(mfa),
    }
    if ec2_delivery:
        context["ec2RoleDelivery"] = "2.0"
    identity: dict = {"type": "AssumedRole", "principalId": f"{role_id}:{session}",
                      "arn": f"arn:aws:sts::{account_id}:assumed-role/{role}/{session}",
                      "accountId": account_id}
    if access_key:
        identity["accessKeyId"] = access_key
    identity["sessionContext"] = context
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return identity


def _user_identity(account_id: str, user_id: str, name: str, access_key: str,
                   console_mfa: bool | None) -> dict:
    """An IAM user's identity; with `console_mfa` set, that of its console session."""
    identity: dict = {"type": "IAMUser", "principalId": user_id,
                      "arn": f"arn:aws:iam::{account_id}:user/{name}",
                      "accountId": account_id, "accessKeyId": access_key, "userName": name}
    if console_mfa is not None:
        identity["sessionContext"] = {"sessionIssuer": {}, "webIdFederationData": {},
                                      "attributes": _attributes(console_mfa)}
    return identity


# Services acting for the account: (host, weight); service-linked roles: (role, host, session, weight).
_SERVICES = (("config.amazonaws.com", 3.0), ("cloudformation.amazonaws.com", 2.0),
             ("autoscaling.amazonaws.com", 1.5), ("ssm.amazonaws.com", 2.0), ("lambda.amazonaws.com", 1.5),
             ("ec2.amazonaws.com", 1.5), ("logs.amazonaws.com", 1.0), ("cloudtrail.amazonaws.com", 1.0),
             ("elasticloadbalancing.amazonaws.com", 0.8))
_SERVICE_ROLES = (("AWSServiceRoleForConfig", "config.amazonaws.com", "AWSConfig-Describe", 3.0),
                  ("AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com", "AutoScaling", 1.5),
                  ("AWSServiceRoleForAmazonSSM", "ssm.amazonaws.com", "SSM", 1.0),
                  ("AWSServiceRoleForECS", "ecs.amazonaws.com", "ecs-service-scheduler", 1.0),
                  ("AWSServiceRoleForAmazonInspector2", "inspector2.amazonaws.com", "MandoService{digits}",
                   0.8),
                  ("AWSServiceRoleForTrustedAdvisor", "trustedadvisor.amazonaws.com", "TrustedAdvisor", 0.5),
                  ("AWSServiceRoleForSSO", "sso.amazonaws.com", "AWS-SSO", 0.3))
_ORG_ROLE = ("AWSServiceRoleForOrganizations", "organizations.amazonaws.com", "AWSOrganizations", 0.3)


class _Builder:
    """Makes the principals of each account from the organisation's people."""

    def __init__(self, rng: random.Random, fake: Faker, people: list[_Person], sso_region: str | None):
        self.rng = rng
        self.fake = fake
        self.people = people
        self.sso_path = "aws-reserved/sso.amazonaws.com/" + (f"{sso_region}/" if sso_region else "")
        self.ci_ips = tuple(_public_ipv4(rng, _CI_OCTETS) for _ in range(rng.randint(3, 5)))
        self.terraform = _terraform(rng)
        runner_os = f"os/linux#6.5.0-{rng.randrange(1015, 1030)}-azure"
        self.runner_cli = _aws_cli(rng, runner_os, "x86_64", "ubuntu.22")

    def account(self, account: Account, org: bool) -> list[Principal]:
        acct = account.account_id
        rng = self.rng
        users = rng.sample(self.people, k=min(len(self.people), rng.randint(2, 5)))
        out: list[Principal] = []
        for person in users:
            out += self._iam_user(acct, person)
        for person in rng.sample(users, k=rng.randint(1, 2)):
            out.append(self._user_role(acct, person))
        out.append(self._ci_role(acct))
        out.append(self._github_role(acct))
        sso_people = rng.sample(self.people, k=min(len(self.people), rng.randint(2, 6)))
        for person in sso_people:
            out += self._sso(acct, person)
        out += self._federated(acct)
        out.append(self._root(acct, rng.choice([p for p in self.people if p.admin])))
        for _ in range(rng.randint(1, 3)):
            out.append(self._instance(acct))
        for _ in range(rng.randint(1, 2)):
            out.append(self._lambda(acct))
        out += [self._service(acct, host, weight) for host, weight in _SERVICES]
        roles = _SERVICE_ROLES + ((_ORG_ROLE,) if account.is_management else ())
        out += [self._service_role(acct, *spec) for spec in roles]
        return out

    # -- humans --------------------------------------------------------------------------------

    def _iam_user(self, acct: str, person: _Person) -> list[Principal]:
        rng = self.rng
        user_id = _aws_id("AIDA", acct, rng, 21)
        key_id = _aws_id("AKIA", acct, rng, 20)
        agents = [person.device.cli(rng), person.device.cli(rng), person.device.boto3(rng)]
        if rng.random() < 0.4:
            agents += self.terraform
        cli = Principal(
            f"{acct}:user/{person.login}", "IAMUser", acct,
            _user_identity(acct, user_id, person.login, key_id, None), key_id, person.login,
            person.ips, tuple(agents), False, None, 2.0 if person.admin else 3.0)
        if not (person.admin or rng.random() < 0.5):
            return [cli]
        session_key = _aws_id("ASIA", acct, rng, 20)
        console = Principal(
            f"{acct}:console-user/{person.login}", "IAMUser", acct,
            _user_identity(acct, user_id, person.login, session_key, rng.random() < 0.8), session_key,
            person.login, person.ips, self._console_agents(person), True, None, 1.5)
        return [cli, console]

    def _console_agents(self, person: _Person) -> tuple[str, ...]:
        return ("AWS Internal", person.device.browser, _s3_console(self.rng))

    def _user_role(self, acct: str, person: _Person) -> Principal:
        rng = self.rng
        role = rng.choice(("Admin", "ReadOnly", "PowerUser", "DeployRole", "OrganizationAccountAccessRole"))
        session = person.login if rng.random() < 0.6 else \
            f"botocore-session-{rng.randrange(1_690_000_000, 1_710_000_000)}"
        key_id = _aws_id("ASIA", acct, rng, 20)
        identity = _role_identity(acct, role, "", _aws_id("AROA", acct, rng, 21), session, key_id, mfa=True)
        return Principal(f"{acct}:role/{role}/{person.login}", "AssumedRole", acct, identity, key_id, session,
                         person.ips, (person.device.cli(rng), person.device.boto3(rng)), False, None, 1.5)

    def _sso(self, acct: str, person: _Person) -> list[Principal]:
        rng = self.rng
        permission_set = "AdministratorAccess" if person.admin else rng.choice(_PERMISSION_SETS[1:])
        role = f"AWSReservedSSO_{permission_set}_{_hex(rng, 16)}"
        role_id = _aws_id("AROA", acct, rng, 21)
        out = []
        for category, console, weight in (("sso", False, 2.0), ("sso-console", True, 1.5)):
            key_id = _aws_id("ASIA", acct, rng, 20)
            identity = _role_identity(acct, role, self.sso_path, role_id, person.email, key_id)
            agents = self._console_agents(person) if console else \
                (person.device.cli(rng), person.device.boto3(rng))
            out.append(Principal(f"{acct}:{category}/{permission_set}/{person.email}", "AssumedRole", acct,
                                 identity, key_id, person.email, person.ips, agents, console, None, weight))
        return out

    def _federated(self, acct: str) -> list[Principal]:
        """A federation broker (IAM user) and the federated users it issues tokens to."""
        rng = self.rng
        broker, broker_id = "federation-broker", _aws_id("AIDA", acct, rng, 21)
        broker_key = _aws_id("AKIA", acct, rng, 20)
        broker_ips = (_public_ipv4(rng, _EC2_OCTETS),)
        out = [Principal(f"{acct}:user/{broker}", "IAMUser", acct,
                         _user_identity(acct, broker_id, broker, broker_key, None), broker_key, broker,
                         broker_ips, (_java(rng),), False, None, 0.3)]
        for person in rng.sample(self.people, k=rng.randint(1, 2)):
            name = person.login
            key_id = _aws_id("ASIA", acct, rng, 20)
            identity = {
                "type": "FederatedUser", "principalId": f"{acct}:{name}",
                "arn": f"arn:aws:sts::{acct}:federated-user/{name}", "accountId": acct, "accessKeyId": key_id,
                "sessionContext": {
                    "sessionIssuer": {"type": "IAMUser", "principalId": broker_id,
                                      "arn": f"arn:aws:iam::{acct}:user/{broker}", "accountId": acct,
                                      "userName": broker},
                    "webIdFederationData": {},
                    "attributes": _attributes(False)}}
            out.append(Principal(f"{acct}:federated/{name}", "FederatedUser", acct, identity, key_id, name,
                                 person.ips, (person.device.boto3(rng), _java(rng)), False, None, 0.5))
        return out

    def _root(self, acct: str, admin: _Person) -> Principal:
        key_id = _aws_id("ASIA", acct, self.rng, 20)
        identity = {"type": "Root", "principalId": acct, "arn": f"arn:aws:iam::{acct}:root",
                    "accountId": acct, "accessKeyId": key_id,
                    "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {},
                                       "attributes": _attributes(True)}}
        return Principal(f"{acct}:root", "Root", acct, identity, key_id, "root", admin.ips,
                         ("AWS Internal", admin.device.browser), True, None, 0.05)

    # -- automation ----------------------------------------------------------------------------

    def _ci_role(self, acct: str) -> Principal:
        rng = self.rng
        role, session = "terraform-ci", f"aws-go-sdk-{rng.randrange(10**18, 10**19)}"
        key_id = _aws_id("ASIA", acct, rng, 20)
        identity = _role_identity(acct, role, "", _aws_id("AROA", acct, rng, 21), session, key_id)
        return Principal(f"{acct}:ci/{role}", "AssumedRole", acct, identity, key_id, session,
                         tuple(rng.sample(self.ci_ips, k=2)), self.terraform, False, None, 4.0)

    def _github_role(self, acct: str) -> Principal:
        rng = self.rng
        role, session = "github-actions-deploy", "GitHubActions"
        key_id = _aws_id("ASIA", acct, rng, 20)
        web = {"federatedProvider": f"arn:aws:iam::{acct}:oidc-provider/token.actions.githubusercontent.com",
               "attributes": {}}
        identity = _role_identity(acct, role, "", _aws_id("AROA", acct, rng, 21), session, key_id,
                                  web_identity=web)
        return Principal(f"{acct}:web-identity/{role}", "AssumedRole", acct, identity, key_id, session,
                         self.ci_ips, (self.runner_cli, *self.terraform), False, None, 3.0)

    def _app_name(self) -> str:
        return f"{_slug(self.fake.word())}-{self.rng.choice(_APP_SUFFIXES)}"

    def _instance(self, acct: str) -> Principal:
        rng = self.rng
        role, session = f"{self._app_name()}-ec2-role", f"i-0{_hex(rng, 16)}"
        key_id = _aws_id("ASIA", acct, rng, 20)
        identity = _role_identity(acct, role, "", _aws_id("AROA", acct, rng, 21), session, key_id,
                                  ec2_delivery=True)
        kernel = (f"os/linux#6.1.{rng.randrange(50, 80)}-{rng.randrange(60, 99)}."
                  f"{rng.randrange(100, 140)}.amzn2023.x86_64")
        agents = (_ssm_agent(rng), _boto3(rng, kernel, "x86_64"))
        return Principal(f"{acct}:instance/{session}", "AssumedRole", acct, identity, key_id, session,
                         (_public_ipv4(rng, _EC2_OCTETS),), agents, False, None, 2.0)

    def _lambda(self, acct: str) -> Principal:
        rng = self.rng
        function = f"{self._app_name()}-handler"
        role = f"{function}-role-{_alnum(rng, 8)}"
        key_id = _aws_id("ASIA", acct, rng, 20)
        identity = _role_identity(acct, role, "service-role/", _aws_id("AROA", acct, rng, 21), function,
                                  key_id)
        kernel = (f"os/linux#5.10.{rng.randrange(200, 240)}-{rng.randrange(200, 240)}."
                  f"{rng.randrange(800, 999)}.amzn2.x86_64")
        agent = _boto3(rng, kernel, "x86_64", extra="exec-env/AWS_Lambda_python3.11 ")
        ips = tuple(_public_ipv4(rng, _EC2_OCTETS) for _ in range(3))
        return Principal(f"{acct}:lambda/{role}", "AssumedRole", acct, identity, key_id, function,
                         ips, (agent,), False, None, 1.5)

    def _service(self, acct: str, host: str, weight: float) -> Principal:
        identity = {"type": "AWSService", "invokedBy": host}
        return Principal(f"{acct}:service/{host}", "AWSService", acct, identity, None, None,
                         (host,), (host,), False, host, weight)

    def _service_role(self, acct: str, role: str, host: str, session: str, weight: float) -> Principal:
        session = session.format(digits=self.rng.randrange(10**18, 10**19))
        role_id = _aws_id("AROA", acct, self.rng, 21)
        identity = _role_identity(acct, role, f"aws-service-role/{host}/", role_id, session, None,
                                  invoked_by=host)
        return Principal(f"{acct}:service-role/{role}", "AssumedRole", acct, identity, None, session,
                         (host,), (host,), False, host, weight)
