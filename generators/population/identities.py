"""userIdentity objects as CloudTrail writes them: IAM users, their console sessions, role sessions.

Where a session exists, `sessionContext.attributes.creationDate` holds `CREATION_DATE_PLACEHOLDER`;
the record factory writes the real session start per event.
"""
from __future__ import annotations

CREATION_DATE_PLACEHOLDER = "1970-01-01T00:00:00Z"


def session_attributes(mfa: bool) -> dict:
    """`sessionContext.attributes` of a session, its creationDate a placeholder."""
    return {"creationDate": CREATION_DATE_PLACEHOLDER, "mfaAuthenticated": "true" if mfa else "false"}


def role_identity(account_id: str, role: str, role_path: str, role_id: str, session: str,
                  access_key: str | None, mfa: bool = False, web_identity: dict | None = None,
                  ec2_delivery: bool = False, invoked_by: str | None = None) -> dict:
    """An AssumedRole identity: session `session` of role `role_path + role`."""
    context: dict = {
        "sessionIssuer": {"type": "Role", "principalId": role_id,
                          "arn": f"arn:aws:iam::{account_id}:role/{role_path}{role}",
                          "accountId": account_id, "userName": role},
        "webIdFederationData": web_identity or {},
        "attributes": session_attributes(mfa),
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


def user_identity(account_id: str, user_id: str, name: str, access_key: str,
                  console_mfa: bool | None) -> dict:
    """An IAM user's identity; with `console_mfa` set, that of its console session."""
    identity: dict = {"type": "IAMUser", "principalId": user_id,
                      "arn": f"arn:aws:iam::{account_id}:user/{name}",
                      "accountId": account_id, "accessKeyId": access_key, "userName": name}
    if console_mfa is not None:
        identity["sessionContext"] = {"sessionIssuer": {}, "webIdFederationData": {},
                                      "attributes": session_attributes(console_mfa)}
    return identity
