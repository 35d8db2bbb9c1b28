"""Who plays a scenario: stolen IAM user keys, a role session, a federated user, an SSO session or root.

An actor type says what credentials the attacker holds. Session credentials come from somewhere: a
stolen IAM user key calls ``sts AssumeRole`` or ``GetFederationToken`` first (that record opens the
scenario, by the user's AKIA key), a stolen IAM Identity Center session starts with the member
account's ``AssumeRoleWithSAML``, and stolen EC2 instance credentials were issued by the instance's
metadata service before the attack (no call of the attacker). From then on every record carries the
same session: the same ASIA key, ARN and ``creationDate``.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from cloudtrail_emulator.generators.activity.issuing import saml_user
from cloudtrail_emulator.generators.activity.issuing_records import assumed_role, saml_patch, sts_time, with_session
from cloudtrail_emulator.generators.activity.personas import STYLE_WEIGHTS
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import Population, Principal, session_key_id
from cloudtrail_emulator.generators.times import format_time

if TYPE_CHECKING:
    from cloudtrail_emulator.generators.scenarios.base import Attack, Scenario

ACTOR_TYPES = ("user", "role", "federated", "sso", "root")
#: how often each type is drawn among a scenario's plausible ones: most intrusions use session credentials
ACTOR_WEIGHTS = {"user": 3.0, "role": 4.0, "sso": 2.0, "federated": 1.0, "root": 1.0}
#: of "role" actors, the share holding an EC2 instance's stolen credentials (the rest assume a role)
INSTANCE_SHARE = 0.4
#: a population category -> the actor type a principal of it plays as
_CATEGORY_ACTOR = {"user": "user", "console-user": "user", "role": "role", "instance": "role", "ci": "role",
                   "sso": "sso", "federated": "federated", "root": "root"}
STS = "sts.amazonaws.com"
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@dataclass(frozen=True)
class Actor:
    """The attacker's credentials: the principal the calls run as, and what lies behind it."""

    kind: str                            # one of ACTOR_TYPES
    principal: Principal                 # userIdentity of the scenario's calls (a session's is fixed)
    origin: Principal | None = None      # the stolen IAM user that opened a role or federated session
    opening: Callable[[Attack], Principal] | None = None   # writes the issuing call, returns the session


def choose_kind(scenario: Scenario, rng: random.Random, requested: str | None, style: str | None = None) -> str:
    """The requested actor type (checked against the scenario's and the organisation's access style),
    else one drawn by ACTOR_WEIGHTS among those the style has (no stolen SSO session where nobody
    signs in through IAM Identity Center)."""
    absent = {"sso"} if style is not None and STYLE_WEIGHTS[style][0].get("sso", 1.0) == 0 else set()
    if requested is not None:
        if requested not in ACTOR_TYPES:
            raise GeneratorError(f"unknown scenario actor {requested!r} (one of {', '.join(ACTOR_TYPES)})")
        if requested not in scenario.actors:
            raise GeneratorError(f"scenario {scenario.name} runs as {'|'.join(scenario.actors)}, not {requested}")
        if requested in absent:
            raise GeneratorError(f"scenario {scenario.name}: an {style} organisation has no IAM Identity Center "
                                 f"sessions to steal (choose --access-style identity-center, mixed or per-account)")
        return requested
    kinds = [k for k in scenario.actors if k not in absent] or list(scenario.actors)
    weights = [ACTOR_WEIGHTS[k] for k in kinds]
    point, total = rng.random() * sum(weights), 0.0
    for kind, weight in zip(kinds, weights):
        total += weight
        if point < total:
            return kind
    return kinds[-1]


def cast(population: Population, account: str, scenario: Scenario, rng: random.Random,
         kind: str | None = None, principal: Principal | None = None) -> Actor:
    """The actor of one run: of type ``kind`` (drawn when None), or around a pinned ``principal``."""
    if principal is not None:
        kind = _CATEGORY_ACTOR.get(principal.category)
        if kind is None:
            raise GeneratorError(f"scenario {scenario.name} cannot run as {principal.key}")
    else:
        kind = choose_kind(scenario, rng, kind, population.access_style(account))
    people = population.principals_in(account)

    def pick(*categories: str) -> Principal:
        found = [p for p in people if p.category in categories]
        if not found:
            raise GeneratorError(f"account {account} has no {'/'.join(categories)} principal for {scenario.name}")
        return found[int(rng.random() * len(found))]

    if kind == "root":
        return Actor(kind, principal or pick("root"))
    if kind == "user":
        return Actor(kind, principal or pick("console-user" if scenario.console else "user"))
    if kind == "sso":   # an intruder takes the session of a permission set that can do the job
        able = [p for p in people if p.category == "sso" and any(f"AWSReservedSSO_{name}_" in p.user_identity["arn"]
                                                                 for name in ("AdministratorAccess", "PowerUserAccess"))]
        target = principal or (able[int(rng.random() * len(able))] if able else pick("sso"))
        return Actor(kind, target, None, lambda attack: _open_sso(attack, target))
    if kind == "federated":
        if principal is not None:    # the federated user of the population: its broker issues the token
            issuer = principal.user_identity["sessionContext"]["sessionIssuer"]["arn"]
            origin = next((p for p in people if p.kind == "IAMUser" and p.user_identity["arn"] == issuer
                           and not p.console), None) or pick("user")
            name = principal.username or _federated_name(origin, rng)
        else:
            origin = pick("user")
            name = _federated_name(origin, rng)
        return Actor(kind, origin, origin, lambda attack: _open_federated(attack, origin, name))
    target = principal or (pick("instance") if rng.random() < INSTANCE_SHARE else pick("role"))
    if target.category == "instance":
        return Actor(kind, target, None, lambda attack: _stolen_instance_session(attack, target))
    origin = pick("user")
    return Actor(kind, origin, origin, lambda attack: _open_role(attack, origin, target))


def _federated_name(origin: Principal, rng: random.Random) -> str:
    """The name an attacker gives GetFederationToken: the user's own, or a tool-like one."""
    names = (origin.username or "user", "admin", "backup", "support")
    return names[int(rng.random() * len(names))]


def _session(base: Principal, identity: dict, key: str, name: str) -> Principal:
    """``base`` as the session ``identity`` (fixed for the run) holding ``key``."""
    return dataclasses.replace(base, user_identity=identity, access_key_id=key, username=name, console=False)


def _credentials(attack: Attack, key: str, hours: int = 1) -> dict:
    """The credentials an STS response returns for ``key`` (AssumeRole's default: one hour)."""
    return {"accessKeyId": key, "sessionToken": base64.b64encode(attack.rng.randbytes(96)).decode(),
            "expiration": sts_time(attack.now + timedelta(hours=hours))}


def _open_role(attack: Attack, origin: Principal, role: Principal) -> Principal:
    """The stolen user's key assumes a role (``aws sts assume-role``); the run goes on in its session."""
    issuer = role.user_identity["sessionContext"]["sessionIssuer"]
    epoch = int(attack.now.timestamp())
    name = origin.username if attack.rng.random() < 0.5 else f"botocore-session-{epoch}"
    key = session_key_id(attack.account, attack.rng)
    assumed_arn = f"arn:aws:sts::{attack.account}:assumed-role/{issuer['userName']}/{name}"
    assumed_id = f"{issuer['principalId']}:{name}"
    attack.call(STS, "AssumeRole", principal=origin,
                request={"roleArn": issuer["arn"], "roleSessionName": name},
                response={"credentials": _credentials(attack, key),
                          "assumedRoleUser": {"assumedRoleId": assumed_id, "arn": assumed_arn}},
                resources=[{"accountId": attack.account, "type": "AWS::IAM::Role", "ARN": issuer["arn"]}])
    identity = with_session(role.user_identity, key, format_time(attack.now), "false", assumed_id, assumed_arn)
    return _session(role, identity, key, name)


def federate(attack: Attack, name: str) -> None:
    """The attacker's IAM user key gets a federation token; the run goes on as the federated user."""
    attack.session = attack.principal = attack.run.principal = _open_federated(attack, attack.principal, name)


def _open_federated(attack: Attack, origin: Principal, name: str) -> Principal:
    """The stolen user's key gets a federation token with an allow-all policy (survives the key's removal)."""
    key = session_key_id(attack.account, attack.rng)
    arn = f"arn:aws:sts::{attack.account}:federated-user/{name}"
    attack.call(STS, "GetFederationToken", principal=origin, read_only=False,
                request={"name": name, "policy": ALLOW_ALL},
                response={"credentials": _credentials(attack, key, 12),    # GetFederationToken's default
                          "federatedUser": {"federatedUserId": f"{attack.account}:{name}", "arn": arn},
                          "packedPolicySize": attack.rng.randint(4, 9)})
    user = origin.user_identity
    identity = {"type": "FederatedUser", "principalId": f"{attack.account}:{name}", "arn": arn,
                "accountId": attack.account, "accessKeyId": key,
                "sessionContext": {
                    "sessionIssuer": {"type": "IAMUser", "principalId": user["principalId"], "arn": user["arn"],
                                      "accountId": attack.account, "userName": user["userName"]},
                    "webIdFederationData": {},
                    "attributes": {"creationDate": format_time(attack.now), "mfaAuthenticated": "false"}}}
    return Principal(f"{attack.account}:federated/{name}", "FederatedUser", attack.account, identity, key,
                     name, origin.source_ips, origin.user_agents, False, None, 0.0)


def _open_sso(attack: Attack, target: Principal) -> Principal:
    """A stolen IAM Identity Center session: the member account logs its AssumeRoleWithSAML first."""
    caller = saml_user(attack.factory.population.seed, target)   # the baseline's user of this person
    issuer = target.user_identity["sessionContext"]["sessionIssuer"]
    name = target.username or "user"
    key = session_key_id(attack.account, attack.rng)
    role_id = target.user_identity["principalId"].split(":", 1)[0]
    assumed = assumed_role(attack.account, issuer["arn"], role_id, name, target.user_identity["arn"], key)
    record = attack.call(STS, "AssumeRoleWithSAML", principal=caller)
    saml_patch(caller, assumed, name)(record, attack.rng, attack.now)
    identity = with_session(target.user_identity, key, format_time(attack.now), "false")
    return _session(target, identity, key, name)


def _stolen_instance_session(attack: Attack, instance: Principal) -> Principal:
    """An EC2 instance's role credentials taken from its metadata service, issued before the attack."""
    key = session_key_id(attack.account, attack.rng)
    created = attack.now - timedelta(seconds=attack.rng.randint(300, 6 * 3600))
    identity = with_session(instance.user_identity, key, format_time(created), "false")
    return _session(instance, identity, key, instance.username or "instance")
