"""Credentials for sessions: the calls that issue them, planned before the session's own calls.

An issuing call (``sts AssumeRole``, ``AssumeRoleWithWebIdentity``, ``AssumeRoleWithSAML``,
``GetFederationToken``, ``signin ConsoleLogin``) returns a fresh ASIA key; every later call of the
session carries that key, the session's ARN and ``creationDate`` = the issuing call's time. IAM
users' long-term AKIA keys and AWS services need no issuing call; a run with a long-term key often
begins with ``sts GetCallerIdentity`` (Terraform's AWS provider, scripts checking whose key they hold).
"""
from __future__ import annotations

import base64
import random
from datetime import timedelta

from cloudtrail_emulator.generators.activity.issuing_records import (
    assume_role_patch,
    assumed_role,
    console_login_patch,
    failed_login_patch,
    federation_token_patch,
    fumble_rate,
    role_session_name,
    saml_patch,
    web_identity_patch,
    with_session,
)
from cloudtrail_emulator.generators.activity.plan import Issued, Session, UnitPlan
from cloudtrail_emulator.generators.activity.work import SessionWork
from cloudtrail_emulator.generators.catalog import CatalogEntry
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.population import Principal, session_key_id
from cloudtrail_emulator.generators.population.agents import is_browser
from cloudtrail_emulator.generators.records import RecordFactory
from cloudtrail_emulator.generators.records.identity import session_seconds
from cloudtrail_emulator.generators.times import format_time

#: the chance that a session with a long-term key begins by checking whose key it is
CALLER_CHECK_CHANCE = 0.6
#: sessions of fewer records (a quiet hour's cut sessions, a quick look) skip the check
CHECKED_SESSION = 6


def outside_caller(key: str, kind: str, account: str, identity: dict, like: Principal) -> Principal:
    """A caller outside the population (an OIDC or SAML user) with the addresses and agents of ``like``."""
    agents = tuple(a for a in like.user_agents if is_browser(a)) if like.console else like.user_agents
    return Principal(key, kind, account, identity, None, identity.get("userName"), like.source_ips, agents, False,
                     None, 0.0, like.addresses)


def saml_user_key(principal: Principal) -> str:
    return f"{principal.account_id}:saml-user/{principal.key}"


def saml_user(seed: int, principal: Principal) -> Principal:
    """The Identity Center user behind a permission-set session, as the member account sees it (its
    SAML provider is the account's one `AWSSSO_..._DO_NOT_DELETE`, fixed per (seed, account))."""
    account, email = principal.account_id, principal.username or "user"
    digest = random.Random(f"{seed}:{account}:saml")
    provider = f"arn:aws:iam::{account}:saml-provider/AWSSSO_{'%016x' % digest.getrandbits(64)}_DO_NOT_DELETE"
    qualifier = base64.b64encode(digest.randbytes(20)).decode()
    return outside_caller(saml_user_key(principal), "SAMLUser", account, {
        "type": "SAMLUser", "principalId": f"{qualifier}:{email}", "userName": email,
        "identityProvider": provider}, principal)


class CredentialIssuer:
    """Plans the calls that give principals their sessions; remembers the callers it made up."""

    def __init__(self, factory: RecordFactory, work: SessionWork):
        self.factory = factory
        self.population = factory.population
        self.work = work

        def entry(service: str, name: str) -> CatalogEntry:
            return factory.catalog.get(f"{service}.amazonaws.com", name)

        self.assume_role = entry("sts", "AssumeRole")
        self.web_identity = entry("sts", "AssumeRoleWithWebIdentity")
        self.saml = entry("sts", "AssumeRoleWithSAML")
        self.federation = entry("sts", "GetFederationToken")
        self.console_login = entry("signin", "ConsoleLogin")
        self._own: dict[str, Session] = {}
        self._issuers: dict[str, Principal] = {}

    def own_session(self, principal: Principal) -> Session:
        """The principal calling with its own identity (services, IAM users' long-term keys)."""
        session = self._own.get(principal.key)
        if session is None:
            session = self._own[principal.key] = Session(principal)
        return session

    def issue(self, plan: UnitPlan, principal: Principal, at: int, size: int) -> Issued:
        """Plans the calls that give a principal its session; returns the session and their count."""
        rng, account = plan.rng, plan.account
        category = principal.category
        ip = self._address(principal, int(plan.start.timestamp()) + at, rng)
        arn = principal.user_identity.get("arn", f"arn:aws:iam::{account}:root")
        if category in ("user", "ci-user") or principal.access_key_id is None:
            session = Session(principal, None, ip, self.work.working_set(rng, account, arn))
            if principal.access_key_id is None or size < CHECKED_SESSION or rng.random() >= CALLER_CHECK_CHANCE:
                return Issued(session, 0, at - 1)
            plan.add(at, session, self.work.caller_identity, False, session.values)
            return Issued(session, 1, at)
        created = format_time(plan.start + timedelta(seconds=at))
        key = session_key_id(account, rng)
        base = principal.user_identity
        mfa = base.get("sessionContext", {}).get("attributes", {}).get("mfaAuthenticated", "false")
        if category in ("console-user", "root"):
            failed = self._failed_logins(plan, principal, at, size, ip, mfa == "true")
            at += 20 * failed
            identity = with_session(base, key, format_time(plan.start + timedelta(seconds=at)), mfa)
            session = Session(principal, identity, ip, self.work.working_set(rng, account, arn))
            plan.add(at, session, self.console_login, False, None, console_login_patch(mfa == "true"))
            return Issued(session, 1 + failed, at)
        if category == "federated":
            broker = self._issuer_user(principal, f"{account}:user/federation-broker")
            name = principal.username or "federated"
            identity = with_session(base, key, created, mfa)
            plan.add(at, Session(broker, None, None, None), self.federation, False, None,
                     federation_token_patch(account, name, key))
            return Issued(Session(principal, identity, ip, self.work.working_set(rng, account, arn)), 1, at)
        # assumed roles: a CI run first gets the deploy role's session, then assumes its own role
        issuer: Session | None = None
        count = 0
        if category == "ci":
            deploy = next((p for p in self.population.principals_in(account) if p.category == "web-identity"),
                          None)
            if deploy is not None and size < 3:   # a short job works in the deploy role's own session
                return self.issue(plan, deploy, at, size)
            issuer, count, at = self._ci_issuer(plan, principal, deploy, at, size, ip)
        created = format_time(plan.start + timedelta(seconds=at))
        issuer_info = base["sessionContext"]["sessionIssuer"]
        session_name = role_session_name(principal, plan.start + timedelta(seconds=at), rng)
        role_arn, role_id = issuer_info["arn"], issuer_info["principalId"]
        assumed_arn = f"arn:aws:sts::{account}:assumed-role/{issuer_info['userName']}/{session_name}"
        identity = with_session(base, key, created, mfa, f"{role_id}:{session_name}", assumed_arn)
        session = Session(principal, identity, ip, self.work.working_set(rng, account, assumed_arn))
        assumed = assumed_role(account, role_arn, role_id, session_name, assumed_arn, key, session_seconds(principal))
        if category in ("sso", "sso-console"):
            saml_user = self._saml_user(principal)
            plan.add(at, Session(saml_user, None, ip, None), self.saml, False, None,
                     saml_patch(saml_user, assumed, principal.username or session_name))
            if category == "sso-console" and size >= 2:
                plan.add(at + 1, session, self.console_login, False, None, console_login_patch(False))
                return Issued(session, 2, at + 1)
            return Issued(session, 1, at)
        if category == "web-identity":
            self._plan_web_identity(plan, principal, at, assumed, ip)
            return Issued(session, 1, at)
        if category in ("instance", "lambda"):
            host = "ec2.amazonaws.com" if category == "instance" else "lambda.amazonaws.com"
            issuer = self.own_session(self._service_principal(account, host))
        elif issuer is None:
            issuer = Session(self._person_user(principal), None, ip, None)
        plan.add(at, issuer, self.assume_role, False, None, assume_role_patch(assumed))
        return Issued(session, count + 1, at)

    def _address(self, principal: Principal, epoch: int, rng: random.Random) -> str | None:
        """The address a session calls from; None for workloads (each call from its region's address)."""
        addresses = principal.addresses
        if addresses is not None:
            return None if addresses.per_call else addresses.pick(None, epoch, rng.random())
        return principal.source_ips[int(rng.random() * len(principal.source_ips))]

    def _failed_logins(self, plan: UnitPlan, principal: Principal, at: int, size: int, ip: str | None,
                       mfa: bool) -> int:
        """A mistyped password (or MFA code) before an IAM user's sign-in: plans the failures, returns how many.

        Some people fumble more than others (`fumble_rate`); a failure is followed by the success ~20 s
        later, at most two in a row, so a baseline never looks like password guessing.
        """
        rng = plan.rng
        if principal.category != "console-user" or rng.random() >= fumble_rate(principal.key):
            return 0
        count = 2 if rng.random() < 0.2 else 1
        if size < count + 2:   # the session's size counts its sign-in attempts
            return 0
        failing = Session(principal, None, ip, None)
        for i in range(count):
            wrong_mfa = mfa and rng.random() < 0.25
            plan.add(at + 20 * i + int(rng.random() * 8), failing, self.console_login, False, None,
                     failed_login_patch(wrong_mfa))
        return count

    def _ci_issuer(self, plan: UnitPlan, principal: Principal, deploy: Principal | None, at: int, size: int,
                   ip: str) -> tuple[Session, int, int]:
        """A pipeline run's start: OIDC into the deploy role and a check of it (when the run has room).

        Returns the session that assumes the CI role, the calls planned and the time to assume it. In
        an account without a deploy role a person's key assumes the role.
        """
        if deploy is None:
            return Session(self._person_user(principal), None, ip, None), 0, at
        first = self.issue(plan, deploy, at, 2)
        step = first.last + 1 + int(plan.rng.random() * 3)
        if size < 4:
            return first.session, first.count, step
        plan.add(step, first.session, self.work.caller_identity, False, first.session.values)
        return first.session, first.count + 1, step + 1

    def _plan_web_identity(self, plan: UnitPlan, principal: Principal, at: int, assumed: dict, ip: str) -> None:
        """GitHub Actions' OIDC token exchanged for the deploy role's session."""
        provider = principal.user_identity["sessionContext"]["webIdFederationData"].get(
            "federatedProvider", f"arn:aws:iam::{plan.account}:oidc-provider/token.actions.githubusercontent.com")
        repos = self.factory.pool(plan.account, "repo")
        org = self.work.aliases.get(plan.account, "org").split("-")[0]
        subject = f"repo:{org}/{repos[int(plan.rng.random() * len(repos))]}:ref:refs/heads/main"
        user = self._issuer(f"{plan.account}:web-identity-user/{principal.key}", "WebIdentityUser", plan.account, {
            "type": "WebIdentityUser", "principalId": f"{provider}:sts.amazonaws.com:{subject}",
            "userName": subject, "identityProvider": provider}, principal)
        identity = {**user.user_identity, "principalId": f"{provider}:sts.amazonaws.com:{subject}", "userName": subject}
        plan.add(at, Session(user, identity, ip, None), self.web_identity, False, None,
                 web_identity_patch(assumed, subject, provider))

    def _issuer(self, key: str, kind: str, account: str, identity: dict, like: Principal) -> Principal:
        """A caller outside the population (an OIDC or SAML user), made once per key."""
        found = self._issuers.get(key)
        if found is None:
            found = self._issuers[key] = outside_caller(key, kind, account, identity, like)
        return found

    def _saml_user(self, principal: Principal) -> Principal:
        """The Identity Center user behind a permission-set session (made once per principal)."""
        key = saml_user_key(principal)
        found = self._issuers.get(key)
        if found is None:
            found = self._issuers[key] = saml_user(self.population.seed, principal)
        return found

    def _person_user(self, principal: Principal) -> Principal:
        """The IAM user (long-term key) of the person behind a role session, else any such user."""
        login = principal.key.rsplit("/", 1)[-1]
        users = [p for p in self.population.principals_in(principal.account_id) if p.category == "user"]
        mine = [p for p in users if p.username == login]
        if not (mine or users):
            raise GeneratorError(f"account {principal.account_id} has no IAM user to assume roles")
        return (mine or users)[0]

    def _issuer_user(self, principal: Principal, key: str) -> Principal:
        """The population's principal ``key`` (e.g. the federation broker), else the person's IAM user."""
        try:
            return self.population.principal(key)
        except GeneratorError:
            return self._person_user(principal)

    def _service_principal(self, account: str, host: str) -> Principal:
        """The AWS service that hands an instance or function its role's credentials."""
        return self.population.principal(f"{account}:service/{host}")
