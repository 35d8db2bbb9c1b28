"""The synthetic organisation: accounts, principals, identifiers, addresses and agents."""
from __future__ import annotations

import base64
import ipaddress
import re
from itertools import combinations

import pytest

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import (
    CATEGORIES,
    CREATION_DATE_PLACEHOLDER,
    Population,
    build_population,
    render_user_agent,
)

HUMAN_CATEGORIES = {"user", "console-user", "role", "sso", "sso-console", "federated", "root"}
SERVICE_CATEGORIES = {"service", "service-role"}


@pytest.fixture(scope="module")
def single() -> Population:
    return build_population(7)


@pytest.fixture(scope="module")
def org() -> Population:
    return build_population(7, 6)


# -- accounts and organization -----------------------------------------------------------------


def test_default_is_one_standalone_account(single):
    (account,) = single.accounts
    assert account.account_id == "123456789012"
    assert account.is_management is False
    assert single.organization_id is None
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*-prod", account.alias)
    assert single.principals_in("123456789012") == single.principals


def test_organization_of_n_accounts(org):
    ids = [a.account_id for a in org.accounts]
    assert len(ids) == 6 == len(set(ids))
    assert ids[0] == "123456789012"
    assert all(re.fullmatch(r"\d{12}", i) for i in ids)
    assert [a.is_management for a in org.accounts] == [True] + [False] * 5
    assert re.fullmatch(r"o-[a-z0-9]{10}", org.organization_id)
    assert len({a.alias for a in org.accounts}) == 6
    assert all(re.fullmatch(r"[a-z0-9-]+", a.alias) for a in org.accounts)
    for account_id in ids:
        in_account = org.principals_in(account_id)
        assert in_account and all(p.account_id == account_id for p in in_account)
        assert all(p.user_identity.get("accountId", account_id) == account_id for p in in_account)
    assert sum(len(org.principals_in(i)) for i in ids) == len(org.principals)
    assert org.principals_in("999999999999") == ()
    org_roles = [p for p in org.principals if p.key.endswith("service-role/AWSServiceRoleForOrganizations")]
    assert [p.account_id for p in org_roles] == ["123456789012"]


def test_member_account_ids_come_from_the_seed():
    assert build_population(1, 4).accounts == build_population(1, 4).accounts
    assert build_population(1, 4).accounts[1:] != build_population(2, 4).accounts[1:]


def test_explicit_account_ids_are_used_in_order():
    population = build_population(3, ["111122223333", "444455556666"])
    assert [a.account_id for a in population.accounts] == ["111122223333", "444455556666"]
    assert population.accounts[0].is_management and population.organization_id
    assert {p.account_id for p in population.principals} == {"111122223333", "444455556666"}
    alone = build_population(3, ["111122223333"])
    assert alone.organization_id is None and not alone.accounts[0].is_management


@pytest.mark.parametrize("accounts", [0, -2, 1001, True, "123456789012", [], ["12345"], [123456789012],
                                      ["123456789012", "123456789012"], ["12345678901a"]])
def test_bad_accounts_raise_a_one_line_error(accounts):
    with pytest.raises(GeneratorError) as caught:
        build_population(1, accounts)
    assert "\n" not in str(caught.value) and "accounts" in str(caught.value)


@pytest.mark.parametrize("seed", ["1", 1.5, None, False])
def test_bad_seed_raises(seed):
    with pytest.raises(GeneratorError, match="seed"):
        build_population(seed)


# -- determinism -------------------------------------------------------------------------------


def test_same_seed_gives_an_equal_population(org):
    assert build_population(7, 6) == org


def test_different_seed_gives_different_names_and_keys(single):
    other = build_population(8)
    assert {p.access_key_id for p in other.principals}.isdisjoint(
        {p.access_key_id for p in single.principals} - {None})
    names = lambda pop: {p.username for p in pop.principals if p.category in ("user", "sso")}  # noqa: E731
    assert names(other) != names(single)


def test_principal_lookup_by_key(single):
    first = single.principals[0]
    assert single.principal(first.key) is first
    with pytest.raises(GeneratorError, match="no principal"):
        single.principal("123456789012:user/nobody")


# -- kinds and shapes --------------------------------------------------------------------------


def test_every_category_and_kind_is_present(single, org):
    for population in (single, org):
        for account in population.accounts:
            principals = population.principals_in(account.account_id)
            assert {p.category for p in principals} == set(CATEGORIES)
            kinds = {"IAMUser", "AssumedRole", "Root", "FederatedUser", "AWSService"}
            assert {p.kind for p in principals} == kinds


def test_keys_are_unique_and_weights_positive(org):
    assert len({p.key for p in org.principals}) == len(org.principals)
    assert all(p.weight > 0 for p in org.principals)
    assert all(p.key.startswith(p.account_id + ":") for p in org.principals)
    assert all(p.kind == p.user_identity["type"] for p in org.principals)


def test_access_keys(org):
    for p in org.principals:
        if p.category in SERVICE_CATEGORIES:
            assert p.access_key_id is None and "accessKeyId" not in p.user_identity
            continue
        key = p.access_key_id
        assert len(key) == 20 and re.fullmatch(r"(AKIA|ASIA)[A-Z2-7]{16}", key), key
        assert p.user_identity["accessKeyId"] == key
        assert key.startswith("AKIA") == (p.category in ("user", "ci-user")), p.key   # long-term keys
        # AWS ids carry the account id in their first 48 bits after the prefix.
        raw = int.from_bytes(base64.b32decode(key[4:])[:6], "big")
        assert f"{(raw & 0x7FFFFFFFFF80) >> 7:012d}" == p.account_id


def test_principal_ids_and_arns(org):
    for p in org.principals:
        ui, acct = p.user_identity, p.account_id
        if p.kind == "IAMUser":
            assert re.fullmatch(r"AIDA[A-Z2-7]{17}", ui["principalId"])
            assert ui["arn"] == f"arn:aws:iam::{acct}:user/{ui['userName']}"
            assert re.fullmatch(r"[\w+=,.@-]{1,64}", ui["userName"])
        elif p.kind == "AssumedRole":
            issuer = ui["sessionContext"]["sessionIssuer"]
            role_id, session = ui["principalId"].split(":", 1)
            assert re.fullmatch(r"AROA[A-Z2-7]{17}", role_id) and role_id == issuer["principalId"]
            assert issuer["type"] == "Role" and issuer["accountId"] == acct
            assert re.fullmatch(rf"arn:aws:iam::{acct}:role/([\w+=,.@-]+/)*{re.escape(issuer['userName'])}",
                                issuer["arn"])
            assert ui["arn"] == f"arn:aws:sts::{acct}:assumed-role/{issuer['userName']}/{session}"
            assert re.fullmatch(r"[\w+=,.@-]{2,64}", session)
        elif p.kind == "Root":
            assert ui["principalId"] == acct and ui["arn"] == f"arn:aws:iam::{acct}:root"
        elif p.kind == "FederatedUser":
            name = ui["principalId"].split(":", 1)[1]
            assert ui["principalId"] == f"{acct}:{name}"
            assert ui["arn"] == f"arn:aws:sts::{acct}:federated-user/{name}"
            assert ui["sessionContext"]["sessionIssuer"]["type"] == "IAMUser"
        else:
            assert ui == {"type": "AWSService", "invokedBy": p.invoked_by}


def test_special_roles(single):
    by_category = {}
    for p in single.principals:
        by_category.setdefault(p.category, []).append(p)
    for p in by_category["sso"] + by_category["sso-console"]:
        role = p.user_identity["sessionContext"]["sessionIssuer"]
        assert re.fullmatch(r"AWSReservedSSO_[A-Za-z]+_[0-9a-f]{16}", role["userName"])
        assert "/aws-reserved/sso.amazonaws.com/" in role["arn"]
        assert re.fullmatch(r"[\w.+-]+@[\w.-]+\.[a-z]+", p.username)
    for p in by_category["web-identity"]:
        web = p.user_identity["sessionContext"]["webIdFederationData"]
        assert web["federatedProvider"].endswith(":oidc-provider/token.actions.githubusercontent.com")
        assert isinstance(web["attributes"], dict)
    for p in by_category["service-role"]:
        role = p.user_identity["sessionContext"]["sessionIssuer"]
        assert role["userName"].startswith("AWSServiceRoleFor")
        assert f":role/aws-service-role/{p.invoked_by}/" in role["arn"]
        assert p.user_identity["invokedBy"] == p.invoked_by
    for p in by_category["instance"]:
        assert p.user_identity["sessionContext"]["ec2RoleDelivery"] == "2.0"


def test_session_attributes(org):
    for p in org.principals:
        context = p.user_identity.get("sessionContext")
        if context is None:
            assert p.category in ("user", "ci-user", "service")
            continue
        assert context["attributes"]["creationDate"] == CREATION_DATE_PLACEHOLDER
        assert context["attributes"]["mfaAuthenticated"] in ("true", "false")


def test_usernames_follow_lookup_events(org):
    for p in org.principals:
        ui = p.user_identity
        expected = {"IAMUser": lambda: ui["userName"], "Root": lambda: "root", "AWSService": lambda: None,
                    "AssumedRole": lambda: ui["arn"].rsplit("/", 1)[1],
                    "FederatedUser": lambda: ui["arn"].rsplit("/", 1)[1]}[p.kind]()
        assert p.username == expected, p.key


# -- addresses and agents ----------------------------------------------------------------------


def test_source_addresses(org):
    ipv6 = 0
    for p in org.principals:
        if p.category in SERVICE_CATEGORIES:
            assert p.source_ips == (p.invoked_by,) and p.invoked_by.endswith(".amazonaws.com")
            continue
        assert p.invoked_by is None
        assert p.source_ips and len(set(p.source_ips)) == len(p.source_ips)
        for ip in p.source_ips:
            address = ipaddress.ip_address(ip)
            assert address.is_global and not address.is_multicast, (p.key, ip)
            ipv6 += address.version == 6
        if p.category in HUMAN_CATEGORIES - {"root"}:   # office NAT pool, leased home addresses, VPN
            assert p.addresses is not None and set(p.addresses.all()) == set(p.source_ips)
    assert ipv6 > 0


def test_user_agents_have_real_client_shapes(org):
    shapes = {
        "boto3": r"Boto3/1\.34\.(\d+) md/Botocore#1\.34\.\1 ua/2\.0 os/\w+#\S+ md/arch#\w+ "
                 r"lang/python#3\.\d+\.\d+ md/pyimpl#CPython (exec-env/\S+ )?cfg/retry-mode#legacy "
                 r"Botocore/1\.34\.\1",
        "cli": r"aws-cli/2\.15\.\d+ md/awscrt#\S+ ua/2\.0 os/\w+#\S+ md/arch#\w+ lang/python#3\.11\.\d+ "
               r"md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe( md/distrib#\S+)? md/prompt#off "
               r"md/command#\{command\}",
        "terraform": r"APN/1\.0 HashiCorp/1\.0 Terraform/1\.\d+\.\d+ \(\+https://www\.terraform\.io\) "
                     r"terraform-provider-aws/5\.\d+\.\d+ "
                     r"\(\+https://registry\.terraform\.io/providers/hashicorp/aws\) "
                     r"aws-sdk-go(-v2)?/.+",
        "java": r"aws-sdk-java/2\.\d+\.\d+ .+",
        "ssm-agent": r"aws-sdk-go/1\.\d+\.\d+ \(go[\d.]+; linux; amd64\) amazon-ssm-agent/",
        "console": r"AWS Internal|Mozilla/5\.0 \(.+|\[S3Console/0\.4, aws-internal/3 .+\]",
        "service": r"[a-z0-9-]+\.amazonaws\.com",
    }
    seen = set()
    for p in org.principals:
        assert p.user_agents
        for agent in p.user_agents:
            matched = [name for name, shape in shapes.items() if re.fullmatch(shape, agent)]
            assert matched, agent
            seen.update(matched)
            if p.console:
                assert matched == ["console"], (p.key, agent)
            if p.category in SERVICE_CATEGORIES:
                assert agent == p.invoked_by
    assert seen == set(shapes)
    console_categories = ("console-user", "sso-console", "root")
    assert {p.console for p in org.principals if p.category in console_categories} == {True}


@pytest.mark.parametrize("source, name, fragment", [
    ("ec2.amazonaws.com", "DescribeInstances", "md/command#ec2.describe-instances"),
    ("s3.amazonaws.com", "ListBuckets", "md/command#s3api.list-buckets"),
    ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "md/command#lambda.update-function-code"),
    ("iam.amazonaws.com", "GetAccountAuthorizationDetails",
     "md/command#iam.get-account-authorization-details"),
])
def test_render_user_agent_names_the_cli_command(single, source, name, fragment):
    cli = next(a for p in single.principals for a in p.user_agents if a.startswith("aws-cli/"))
    rendered = render_user_agent(cli, source, name)
    assert rendered.endswith(fragment) and "{" not in rendered


def test_render_user_agent_fills_the_go_api_and_leaves_others_alone(single):
    agents = {a for p in single.principals for a in p.user_agents}
    go = next(a for a in agents if "aws-sdk-go-v2" in a)
    assert re.search(r" api/kms#1\.\d+\.\d+$", render_user_agent(go, "kms.amazonaws.com", "Decrypt"))
    plain = [a for a in agents if "{" not in a]
    assert plain and all(render_user_agent(a, "ec2.amazonaws.com", "RunInstances") == a for a in plain)


# -- calibration against real records ----------------------------------------------------------


def _order_pairs(records: list[dict]) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(type, path) -> the (earlier, later) key pairs seen in real userIdentity objects."""
    pairs: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def visit(kind: str, path: str, obj: dict) -> None:
        pairs.setdefault((kind, path), set()).update(combinations(obj, 2))
        pairs.setdefault(("*", path), set()).update(combinations(obj, 2))
        for key, value in obj.items():
            if isinstance(value, dict):
                visit(kind, f"{path}.{key}", value)

    for record in records:
        identity = record["userIdentity"]
        visit(identity.get("type", "?"), "userIdentity", identity)
    return pairs


def _violations(pairs: set[tuple[str, str]], obj: dict) -> list[tuple[str, str]]:
    return [(a, b) for a, b in combinations(obj, 2) if (b, a) in pairs]


def test_user_identity_key_order_matches_real_records(real_records, org):
    pairs = _order_pairs(real_records)
    real_types = {kind for kind, _ in pairs} - {"*", "?"}
    assert {"IAMUser", "AssumedRole", "AWSService"} <= real_types
    checked_types = set()

    def check(kind: str, path: str, obj: dict) -> None:
        for scope in (kind, "*"):
            assert not _violations(pairs.get((scope, path), set()), obj), (kind, path, list(obj))
        for key, value in obj.items():
            if isinstance(value, dict):
                check(kind, f"{path}.{key}", value)

    for p in org.principals:
        check(p.kind, "userIdentity", p.user_identity)
        checked_types.add(p.kind)
    assert real_types - {"?"} <= checked_types


def test_user_identity_keys_are_ones_real_records_use(real_records, org):
    real_keys: dict[str, set[str]] = {}
    for record in real_records:
        identity = record["userIdentity"]
        real_keys.setdefault(identity.get("type"), set()).update(identity)
    for p in org.principals:
        if p.kind in real_keys:
            assert set(p.user_identity) <= real_keys[p.kind], p.key
