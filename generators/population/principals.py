"""The principals of each account: people's users, roles and sessions, automation, AWS services."""
from __future__ import annotations

import random

from faker import Faker

from cloudtrail_emulator.generators.population.addresses import (
    AZURE_PREFIXES,
    CloudAddresses,
    RunnerAddresses,
    address_in,
)
from cloudtrail_emulator.generators.population.agents import (
    boto3_agent,
    cli_agent,
    console_agents,
    java_agent,
    ssm_agent,
    terraform_agents,
)
from cloudtrail_emulator.generators.population.identifiers import alnum_string, aws_id, hex_string
from cloudtrail_emulator.generators.population.identities import role_identity, session_attributes, user_identity
from cloudtrail_emulator.generators.population.model import Account, Principal
from cloudtrail_emulator.generators.population.people import Person, slug

_PERMISSION_SETS = ("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "ViewOnlyAccess",
                    "DeveloperAccess", "SecurityAudit")
_APP_SUFFIXES = ("api", "worker", "web", "etl", "jobs", "sync")

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
#: IAM users whose access keys CI pipelines hold (secrets of the CI system): (name, GitHub runner's CLI, weight)
_DEPLOY_USERS = (("terraform-ci", False, 4.0), ("github-actions-deploy", True, 3.0))
_ORG_ROLE = ("AWSServiceRoleForOrganizations", "organizations.amazonaws.com", "AWSOrganizations", 0.3)


class PrincipalBuilder:
    """Makes the principals of each account from the organisation's people."""

    def __init__(self, rng: random.Random, fake: Faker, people: list[Person], sso_region: str | None):
        self.rng = rng
        self.fake = fake
        self.people = people
        self.sso_path = "aws-reserved/sso.amazonaws.com/" + (f"{sso_region}/" if sso_region else "")
        # GitHub-hosted runners: a fresh Azure VM per job, so many addresses over a week
        self.runners = RunnerAddresses(tuple(address_in(rng, AZURE_PREFIXES) for _ in range(40)))
        self.terraform = terraform_agents(rng)
        runner_os = f"os/linux#6.5.0-{rng.randrange(1015, 1030)}-azure"
        self.runner_cli = cli_agent(rng, runner_os, "x86_64", "ubuntu.22")

    def account(self, account: Account, seed: int, style: str) -> list[Principal]:
        """The account's principals; an ``iam-users`` account's pipelines also get deploy users."""
        acct = account.account_id
        rng = self.rng
        users = rng.sample(self.people, k=min(len(self.people), rng.randint(2, 5)))
        if style == "iam-users" and not any(person.admin for person in users):
            users.append(rng.choice([person for person in self.people if person.admin]))   # no other way in
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
        if style == "iam-users":   # no IAM Identity Center, so no service-linked role of it
            roles = tuple(spec for spec in roles if spec[1] != "sso.amazonaws.com")
        out += [self._service_role(acct, *spec) for spec in roles]
        if style == "iam-users":
            deploy_rng = random.Random(f"{seed}:{acct}:deploy-users")
            out += [self._deploy_user(acct, deploy_rng, *spec) for spec in _DEPLOY_USERS]
        return out

    # -- humans --------------------------------------------------------------------------------

    def _iam_user(self, acct: str, person: Person) -> list[Principal]:
        rng = self.rng
        user_id = aws_id("AIDA", acct, rng, 21)
        key_id = aws_id("AKIA", acct, rng, 20)
        agents = [person.device.cli(rng), person.device.cli(rng), person.device.boto3(rng)]
        if rng.random() < 0.4:
            agents += self.terraform
        cli = Principal(
            f"{acct}:user/{person.login}", "IAMUser", acct,
            user_identity(acct, user_id, person.login, key_id, None), key_id, person.login,
            person.ips, tuple(agents), False, None, 2.0 if person.admin else 3.0, person.addresses, person.admin)
        if not (person.admin or rng.random() < 0.5):
            return [cli]
        session_key = aws_id("ASIA", acct, rng, 20)
        console = Principal(
            f"{acct}:console-user/{person.login}", "IAMUser", acct,
            user_identity(acct, user_id, person.login, session_key, rng.random() < 0.8), session_key,
            person.login, person.ips, self._console_agents(person), True, None, 1.5, person.addresses)
        return [cli, console]

    def _console_agents(self, person: Person) -> tuple[str, ...]:
        return console_agents(self.rng, person.device.browser)

    def _user_role(self, acct: str, person: Person) -> Principal:
        rng = self.rng
        role = rng.choice(("Admin", "ReadOnly", "PowerUser", "DeployRole", "OrganizationAccountAccessRole"))
        session = person.login if rng.random() < 0.6 else \
            f"botocore-session-{rng.randrange(1_690_000_000, 1_710_000_000)}"
        key_id = aws_id("ASIA", acct, rng, 20)
        identity = role_identity(acct, role, "", aws_id("AROA", acct, rng, 21), session, key_id, mfa=True)
        return Principal(f"{acct}:role/{role}/{person.login}", "AssumedRole", acct, identity, key_id, session,
                         person.ips, (person.device.cli(rng), person.device.boto3(rng)), False, None, 1.5,
                         person.addresses, role in ("Admin", "OrganizationAccountAccessRole"))

    def _sso(self, acct: str, person: Person) -> list[Principal]:
        rng = self.rng
        permission_set = "AdministratorAccess" if person.admin else rng.choice(_PERMISSION_SETS[1:])
        role = f"AWSReservedSSO_{permission_set}_{hex_string(rng, 16)}"
        role_id = aws_id("AROA", acct, rng, 21)
        out = []
        for category, console, weight in (("sso", False, 2.0), ("sso-console", True, 1.5)):
            key_id = aws_id("ASIA", acct, rng, 20)
            identity = role_identity(acct, role, self.sso_path, role_id, person.email, key_id)
            agents = self._console_agents(person) if console else \
                (person.device.cli(rng), person.device.boto3(rng))
            out.append(Principal(f"{acct}:{category}/{permission_set}/{person.email}", "AssumedRole", acct,
                                 identity, key_id, person.email, person.ips, agents, console, None, weight,
                                 person.addresses, permission_set == "AdministratorAccess"))
        return out

    def _federated(self, acct: str) -> list[Principal]:
        """A federation broker (IAM user) and the federated users it issues tokens to."""
        rng = self.rng
        broker, broker_id = "federation-broker", aws_id("AIDA", acct, rng, 21)
        broker_key = aws_id("AKIA", acct, rng, 20)
        server = CloudAddresses(f"{acct}:user/{broker}", 1)   # the broker runs on an EC2 instance
        out = [Principal(f"{acct}:user/{broker}", "IAMUser", acct,
                         user_identity(acct, broker_id, broker, broker_key, None), broker_key, broker,
                         server.all(), (java_agent(rng),), False, None, 0.3, server)]
        for person in rng.sample(self.people, k=rng.randint(1, 2)):
            name = person.login
            key_id = aws_id("ASIA", acct, rng, 20)
            identity = {
                "type": "FederatedUser", "principalId": f"{acct}:{name}",
                "arn": f"arn:aws:sts::{acct}:federated-user/{name}", "accountId": acct, "accessKeyId": key_id,
                "sessionContext": {
                    "sessionIssuer": {"type": "IAMUser", "principalId": broker_id,
                                      "arn": f"arn:aws:iam::{acct}:user/{broker}", "accountId": acct,
                                      "userName": broker},
                    "webIdFederationData": {},
                    "attributes": session_attributes(False)}}
            out.append(Principal(f"{acct}:federated/{name}", "FederatedUser", acct, identity, key_id, name,
                                 person.ips, (person.device.boto3(rng), java_agent(rng)), False, None, 0.5,
                                 person.addresses))
        return out

    def _root(self, acct: str, admin: Person) -> Principal:
        key_id = aws_id("ASIA", acct, self.rng, 20)
        identity = {"type": "Root", "principalId": acct, "arn": f"arn:aws:iam::{acct}:root",
                    "accountId": acct, "accessKeyId": key_id,
                    "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {},
                                       "attributes": session_attributes(True)}}
        return Principal(f"{acct}:root", "Root", acct, identity, key_id, "root", admin.ips,
                         console_agents(self.rng, admin.device.browser), True, None, 0.4, admin.addresses)

    # -- automation ----------------------------------------------------------------------------

    def _ci_role(self, acct: str) -> Principal:
        rng = self.rng
        role, session = "terraform-ci", f"aws-go-sdk-{rng.randrange(10**18, 10**19)}"
        key_id = aws_id("ASIA", acct, rng, 20)
        identity = role_identity(acct, role, "", aws_id("AROA", acct, rng, 21), session, key_id)
        return Principal(f"{acct}:ci/{role}", "AssumedRole", acct, identity, key_id, session,
                         self.runners.all(), self.terraform, False, None, 4.0, self.runners)

    def _deploy_user(self, acct: str, rng: random.Random, name: str, runner_cli: bool, weight: float) -> Principal:
        """An IAM user with a long-term access key that a pipeline runs Terraform (and the CLI) with."""
        user_id, key_id = aws_id("AIDA", acct, rng, 21), aws_id("AKIA", acct, rng, 20)
        agents = (self.runner_cli, *self.terraform) if runner_cli else self.terraform
        return Principal(f"{acct}:ci-user/{name}", "IAMUser", acct, user_identity(acct, user_id, name, key_id, None),
                         key_id, name, self.runners.all(), agents, False, None, weight, self.runners)

    def _github_role(self, acct: str) -> Principal:
        rng = self.rng
        role, session = "github-actions-deploy", "GitHubActions"
        key_id = aws_id("ASIA", acct, rng, 20)
        web = {"federatedProvider": f"arn:aws:iam::{acct}:oidc-provider/token.actions.githubusercontent.com",
               "attributes": {}}
        identity = role_identity(acct, role, "", aws_id("AROA", acct, rng, 21), session, key_id,
                                  web_identity=web)
        return Principal(f"{acct}:web-identity/{role}", "AssumedRole", acct, identity, key_id, session,
                         self.runners.all(), (self.runner_cli, *self.terraform), False, None, 3.0, self.runners)

    def _app_name(self) -> str:
        return f"{slug(self.fake.word())}-{self.rng.choice(_APP_SUFFIXES)}"

    def _instance(self, acct: str) -> Principal:
        rng = self.rng
        role, session = f"{self._app_name()}-ec2-role", f"i-0{hex_string(rng, 16)}"
        key_id = aws_id("ASIA", acct, rng, 20)
        identity = role_identity(acct, role, "", aws_id("AROA", acct, rng, 21), session, key_id,
                                  ec2_delivery=True)
        kernel = (f"os/linux#6.1.{rng.randrange(50, 80)}-{rng.randrange(60, 99)}."
                  f"{rng.randrange(100, 140)}.amzn2023.x86_64")
        agents = (ssm_agent(rng), boto3_agent(rng, kernel, "x86_64"))
        where = CloudAddresses(f"{acct}:instance/{session}", 1)   # its public address in each region
        return Principal(f"{acct}:instance/{session}", "AssumedRole", acct, identity, key_id, session,
                         where.all(), agents, False, None, 2.0, where)

    def _lambda(self, acct: str) -> Principal:
        rng = self.rng
        function = f"{self._app_name()}-handler"
        role = f"{function}-role-{alnum_string(rng, 8)}"
        key_id = aws_id("ASIA", acct, rng, 20)
        identity = role_identity(acct, role, "service-role/", aws_id("AROA", acct, rng, 21), function,
                                  key_id)
        kernel = (f"os/linux#5.10.{rng.randrange(200, 240)}-{rng.randrange(200, 240)}."
                  f"{rng.randrange(800, 999)}.amzn2.x86_64")
        agent = boto3_agent(rng, kernel, "x86_64", extra="exec-env/AWS_Lambda_python3.11 ")
        where = CloudAddresses(f"{acct}:lambda/{role}", 4)   # execution environments come and go
        return Principal(f"{acct}:lambda/{role}", "AssumedRole", acct, identity, key_id, function,
                         where.all(), (agent,), False, None, 1.5, where)

    def _service(self, acct: str, host: str, weight: float) -> Principal:
        identity = {"type": "AWSService", "invokedBy": host}
        return Principal(f"{acct}:service/{host}", "AWSService", acct, identity, None, None,
                         (host,), (host,), False, host, weight)

    def _service_role(self, acct: str, role: str, host: str, session: str, weight: float) -> Principal:
        session = session.format(digits=self.rng.randrange(10**18, 10**19))
        role_id = aws_id("AROA", acct, self.rng, 21)
        identity = role_identity(acct, role, f"aws-service-role/{host}/", role_id, session, None,
                                  invoked_by=host)
        return Principal(f"{acct}:service-role/{role}", "AssumedRole", acct, identity, None, session,
                         (host,), (host,), False, host, weight)
