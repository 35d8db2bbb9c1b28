"""The records of credential-issuing calls: session identities, STS responses, ConsoleLogin's MFA flag.

The patches here are applied to a record after the factory made it (see `plan.Patch`).
"""
from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta

from cloudtrail_emulator.generators.activity.plan import Patch
from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.records import uuid4
from cloudtrail_emulator.generators.records.identity import ROLE_SESSION_SECONDS

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def sts_time(t: datetime) -> str:
    """STS's expiration style: "Mar 6, 2025, 3:28:21 AM"."""
    return (f"{_MONTHS[t.month - 1]} {t.day}, {t.year}, {t.hour % 12 or 12}:{t.minute:02d}:{t.second:02d} "
            f"{'AM' if t.hour < 12 else 'PM'}")


def role_session_name(principal: Principal, at: datetime, rng: random.Random) -> str:
    """The role session name a client picks: SDK defaults carry the time, people their login."""
    name = principal.username or "session"
    epoch = int(at.timestamp())
    if name.startswith("botocore-session-"):
        return f"botocore-session-{epoch}"
    if name.startswith("aws-go-sdk-"):
        return f"aws-go-sdk-{epoch}{rng.randrange(10**9):09d}"
    return name


def with_session(base: dict, key: str, created: str, mfa: str, principal_id: str | None = None,
                 arn: str | None = None) -> dict:
    """``base`` with the session's key, creation time and, for role sessions, its id and ARN."""
    out: dict = {}
    for k, v in base.items():
        if k == "accessKeyId":
            v = key
        elif k == "principalId" and principal_id:
            v = principal_id
        elif k == "arn" and arn:
            v = arn
        elif k == "sessionContext" and "attributes" in v:
            v = {**v, "attributes": {**v["attributes"], "creationDate": created, "mfaAuthenticated": mfa}}
        out[k] = v
    return out


def assumed_role(account: str, role_arn: str, role_id: str, name: str, assumed_arn: str,
                 key: str, lifetime: int = ROLE_SESSION_SECONDS) -> dict:
    """What the assume-role patches write: the role, the session's name, key, assumed-role user and
    how long its credentials live (seconds)."""
    return {"account": account, "roleArn": role_arn, "sessionName": name, "key": key, "lifetime": lifetime,
            "assumedRoleUser": {"assumedRoleId": f"{role_id}:{name}", "arn": assumed_arn}}


def _credentials(rng: random.Random, when: datetime, key: str, lifetime: int = ROLE_SESSION_SECONDS) -> dict:
    return {"accessKeyId": key, "sessionToken": base64.b64encode(rng.randbytes(96)).decode(),
            "expiration": sts_time(when + timedelta(seconds=lifetime))}


def _role_resources(record: dict, assumed: dict) -> None:
    if "resources" in record:
        record["resources"] = [{"accountId": assumed["account"], "type": "AWS::IAM::Role", "ARN": assumed["roleArn"]}]


def assume_role_patch(assumed: dict) -> Patch:
    """Writes the session's role, name and key into an AssumeRole record."""
    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        request = record["requestParameters"] or {}
        record["requestParameters"] = {**request, "roleArn": assumed["roleArn"],
                                       "roleSessionName": assumed["sessionName"]}
        response = record["responseElements"] or {}
        credentials = _credentials(rng, when, assumed["key"], assumed["lifetime"])
        record["responseElements"] = {**response, "credentials": credentials,
                                      "assumedRoleUser": assumed["assumedRoleUser"]}
        _role_resources(record, assumed)
    return patch


def web_identity_patch(assumed: dict, subject: str, provider: str) -> Patch:
    """An AssumeRoleWithWebIdentity record: AssumeRole's, plus the token's subject and provider."""
    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        assume_role_patch(assumed)(record, rng, when)
        response = record["responseElements"]
        record["responseElements"] = {**response, "subjectFromWebIdentityToken": subject, "provider": provider}
    return patch


def saml_patch(saml_user: Principal, assumed: dict, subject: str) -> Patch:
    """An AssumeRoleWithSAML record of Identity Center's SAML provider."""
    provider = saml_user.user_identity["identityProvider"]
    qualifier = saml_user.user_identity["principalId"].split(":", 1)[0]

    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        record["requestParameters"] = {"sAMLAssertionID": "_" + uuid4(rng), "roleSessionName": assumed["sessionName"],
                                       "roleArn": assumed["roleArn"], "principalArn": provider,
                                       "durationSeconds": assumed["lifetime"]}
        record["responseElements"] = {
            "credentials": _credentials(rng, when, assumed["key"], assumed["lifetime"]),
            "assumedRoleUser": assumed["assumedRoleUser"],
            "subject": subject, "subjectType": "persistent",
            "issuer": f"https://portal.sso.us-east-1.amazonaws.com/saml/assertion/{uuid4(rng)}",
            "audience": "https://signin.aws.amazon.com/saml", "nameQualifier": qualifier}
        _role_resources(record, assumed)
    return patch


def federation_token_patch(account: str, name: str, key: str) -> Patch:
    """A GetFederationToken record issuing `key` to federated user `name`."""
    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        record["requestParameters"] = {"name": name, "durationSeconds": ROLE_SESSION_SECONDS}
        record["responseElements"] = {
            "credentials": _credentials(rng, when, key),
            "federatedUser": {"federatedUserId": f"{account}:{name}",
                              "arn": f"arn:aws:sts::{account}:federated-user/{name}"},
            "packedPolicySize": 6}
    return patch


def console_login_patch(mfa: bool) -> Patch:
    """A ConsoleLogin record saying whether MFA was used."""
    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        additional = record.get("additionalEventData")
        if additional is not None:
            record["additionalEventData"] = {**additional, "MFAUsed": "Yes" if mfa else "No"}
    return patch


def fumble_rate(key: str) -> float:
    """How often this person mistypes a password or MFA code at sign-in (stable per principal): most
    rarely, a few often; 5 % of sign-ins on average."""
    u = random.Random(f"fumble:{key}").random()
    return 0.02 + 0.12 * u ** 3


def failed_login_patch(wrong_mfa: bool) -> Patch:
    """A failed ConsoleLogin as AWS logs it: no ARN, an empty access key, "Failed authentication".

    A wrong password fails before the MFA step (MFAUsed "No"); a wrong MFA code after it ("Yes").
    """
    def patch(record: dict, rng: random.Random, when: datetime) -> None:
        ui = record["userIdentity"]
        identity = {"type": ui["type"], "principalId": ui["principalId"], "accountId": ui["accountId"],
                    "accessKeyId": "", "userName": ui["userName"]}
        out: dict = {}
        for k, v in record.items():
            if k == "userIdentity":
                v = identity
            elif k == "requestParameters":
                out["errorMessage"] = "Failed authentication"
            elif k == "responseElements":
                v = {"ConsoleLogin": "Failure"}
            elif k == "additionalEventData" and v is not None:
                v = {**v, "MFAUsed": "Yes" if wrong_mfa else "No"}
            out[k] = v
        record.clear()
        record.update(out)
    return patch
