"""A bucket's ACL as PutBucketAcl sets it: a canned ACL (`x-amz-acl`), grant headers
(`x-amz-grant-read: id="...", uri="..."`) or an `AccessControlPolicy` body, and the rules S3 applies
(Object Ownership `BucketOwnerEnforced` allows no ACL but the owner's; Block Public Access refuses
public grants). Values are `{"Grants": [{"Grantee": {...}, "Permission": ...}]}` in the model's
member names; the owner is the bucket's, never stored."""
from __future__ import annotations

import re

from cloudtrail_emulator.emulator.services.s3.exceptions import MALFORMED_XML, S3Error, invalid_argument
from cloudtrail_emulator.emulator.services.s3.model import canonical_id
from cloudtrail_emulator.emulator.services.s3.wire import S3Request

GROUPS = "http://acs.amazonaws.com/groups/"
ALL_USERS = GROUPS + "global/AllUsers"
AUTHENTICATED_USERS = GROUPS + "global/AuthenticatedUsers"
LOG_DELIVERY = GROUPS + "s3/LogDelivery"
PUBLIC_GROUPS = frozenset({ALL_USERS, AUTHENTICATED_USERS})
# canned ACL -> grants besides the owner's FULL_CONTROL (bucket-owner-* are object ACLs: on a bucket
# they leave the owner alone, as `private`)
CANNED = {
    "private": (), "bucket-owner-read": (), "bucket-owner-full-control": (),
    "public-read": ((ALL_USERS, "READ"),),
    "public-read-write": ((ALL_USERS, "READ"), (ALL_USERS, "WRITE")),
    "authenticated-read": ((AUTHENTICATED_USERS, "READ"),),
    "log-delivery-write": ((LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")),
}
GRANT_HEADERS = {"x-amz-grant-full-control": "FULL_CONTROL", "x-amz-grant-read": "READ",
                 "x-amz-grant-read-acp": "READ_ACP", "x-amz-grant-write": "WRITE", "x-amz-grant-write-acp": "WRITE_ACP"}
_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*"?([^",]*)"?\s*(?:,|$)')
_CANONICAL_ID = re.compile(r"^[0-9a-f]{64}$")


def owner_grant(account_id: str) -> dict:
    """FULL_CONTROL for the account (a new bucket's whole ACL)."""
    return {"Grantee": {"ID": canonical_id(account_id), "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}


def group_grant(uri: str, permission: str) -> dict:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def malformed_acl() -> S3Error:
    return S3Error("MalformedACLError", 400, MALFORMED_XML)


def requested(c: S3Request, body: dict | None, owner: str) -> dict:
    """The ACL a PutBucketAcl asks for (headers or body; not both), checked grantee by grantee."""
    canned = c.headers.get("x-amz-acl")
    granted = {name: c.headers[name] for name in GRANT_HEADERS if name in c.headers}
    if canned is not None and granted:
        raise S3Error("InvalidRequest", 400, "Specifying both Canned ACLs and Header Grants is not allowed")
    if (canned is not None or granted) and body is not None:
        raise S3Error("UnexpectedContent", 400, "This request does not support content")
    if canned is not None:
        if canned not in CANNED:
            raise invalid_argument("", "x-amz-acl", canned)
        return {"Grants": [owner_grant(owner), *(group_grant(uri, p) for uri, p in CANNED[canned])]}
    if granted:
        return {"Grants": [{"Grantee": grantee, "Permission": GRANT_HEADERS[name]}
                           for name, header in granted.items() for grantee in _header_grantees(header)]}
    if body is None:
        raise S3Error("MissingSecurityHeader", 400, "Your request was missing a required header",
                      MissingHeaderName="x-amz-acl")
    stated = body.get("Owner", {}).get("ID")
    if stated is None:
        raise malformed_acl()
    if stated != canonical_id(owner):
        raise S3Error("AccessDenied", 403, "Access Denied")
    grants = []
    for grant in body.get("Grants", []):
        if "Grantee" not in grant or "Permission" not in grant:
            raise malformed_acl()
        grants.append({"Grantee": _grantee(grant["Grantee"]), "Permission": grant["Permission"]})
    return {"Grants": grants}


def _header_grantees(header: str) -> list[dict]:
    """The grantees of a grant header (`id="a", uri="b"`); InvalidArgument when it is not that form."""
    grantees, pos = [], 0
    while pos < len(header):
        match = _GRANTEE.match(header, pos)
        if not match:
            raise invalid_argument("Invalid grant header", "x-amz-grant", header)
        kind, value = match[1], match[2]
        grantees.append(_grantee({"id": {"Type": "CanonicalUser", "ID": value},
                                  "uri": {"Type": "Group", "URI": value},
                                  "emailAddress": {"Type": "AmazonCustomerByEmail", "EmailAddress": value}}[kind]))
        pos = match.end()
    return grantees


def _grantee(grantee: dict) -> dict:
    """A grantee as stored (type and id or uri), after S3's checks."""
    kind = grantee.get("Type")
    if kind == "CanonicalUser":
        if not _CANONICAL_ID.match(grantee.get("ID", "")):
            raise invalid_argument("Invalid id", "CanonicalUser/ID", grantee.get("ID", ""))
        return {"ID": grantee["ID"], "Type": kind}
    if kind == "Group":
        if grantee.get("URI") not in (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY):
            raise invalid_argument("Invalid group uri", "Group/URI", grantee.get("URI", ""))
        return {"Type": kind, "URI": grantee["URI"]}
    # AmazonCustomerByEmail: S3 stopped accepting new e-mail grantees on October 1, 2025 (HTTP 405)
    raise S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.",
                  Method="PUT", ResourceType="ACL")


def check(acl: dict, owner: str, ownership: dict | None, public_access: dict | None) -> None:
    """S3's refusals: any ACL but the owner's under BucketOwnerEnforced (AccessControlListNotSupported),
    a public grant while BlockPublicAcls is on (AccessDenied)."""
    rules = (ownership or {}).get("Rules") or [{}]
    if rules[0].get("ObjectOwnership") == "BucketOwnerEnforced" and grants_others(acl, owner):
        raise S3Error("AccessControlListNotSupported", 400, "The bucket does not allow ACLs")
    public = any(g["Grantee"].get("URI") in PUBLIC_GROUPS for g in acl["Grants"])
    if public and (public_access or {}).get("BlockPublicAcls"):
        raise S3Error("AccessDenied", 403, "Access Denied")


def grants_others(acl: dict | None, owner: str) -> bool:
    """Whether the ACL grants anyone but the owner (which BucketOwnerEnforced does not allow)."""
    return acl is not None and acl["Grants"] != [owner_grant(owner)]
