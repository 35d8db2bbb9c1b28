"""AWS Organizations, as far as organization trails, `validate-logs --account-id` and the tools
around CloudTrail need it: DescribeOrganization, DescribeAccount, ListAccounts.

The emulator has one organization (all features) whose management account is the configured one.
Its accounts are the ones the emulator knows: the management account, the default account, the
accounts of configured access keys and every account that owns a trail (`seed` makes a trail in
each member account). Every account joined when the organization was made (`CREATED_AT`, fixed):
the management account by invitation (it existed first), the members by being created.
DescribeAccount and ListAccounts answer the management account only, as AWS does for an
organization without delegated administrators.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.emulator.protocols.json11 import Handler, RequestContext

#: when the emulator's organization was made (a fixed instant: it has no history of its own)
CREATED_AT = datetime(2020, 1, 1, tzinfo=timezone.utc)
#: ListAccounts' page size without MaxResults (the model's maximum)
PAGE_SIZE = 20
#: DescribeAccount/ListAccounts validation failures answer Organizations' own code
VALIDATION_ERRORS = {"DescribeAccount": {"AccountId": "InvalidInputException"},
                     "ListAccounts": {"MaxResults": "InvalidInputException", "NextToken": "InvalidInputException"}}


class AccountNotFound(AwsError):
    code = "AccountNotFoundException"

    def __init__(self) -> None:
        super().__init__("You specified an account that doesn't exist.")


class AccessDenied(AwsError):
    code = "AccessDeniedException"

    def __init__(self) -> None:
        super().__init__("You don't have permissions to access this resource.")


class InvalidNextToken(AwsError):
    code = "InvalidInputException"

    def __init__(self) -> None:
        super().__init__("You specified an invalid value for nextToken. You must get the value from the "
                         "response to a previous call to the API.")


def email(account_id: str, management: bool) -> str:
    """The e-mail address of an account of the emulator's organization."""
    return f"{'management' if management else 'member'}+{account_id}@example.com"


class OrganizationsResponses:
    """The emulator's one organization; `known_accounts` lists the accounts it holds (any order,
    repeats allowed), the management account always among them."""

    def __init__(self, organization_id: str, management_account: str,
                 known_accounts: Callable[[], Iterable[str]]):
        self.organization_id = organization_id
        self.management_account = management_account
        self.known_accounts = known_accounts

    def handlers(self) -> dict[str, Handler]:
        return {"DescribeOrganization": self.DescribeOrganization, "DescribeAccount": self.DescribeAccount,
                "ListAccounts": self.ListAccounts}

    def accounts(self) -> list[str]:
        """The organization's account ids, ascending."""
        return sorted({self.management_account, *self.known_accounts()})

    def account(self, account_id: str) -> dict:
        """The `Account` structure of one member."""
        org, mgmt = self.organization_id, self.management_account
        management = account_id == mgmt
        return {
            "Id": account_id,
            "Arn": f"arn:aws:organizations::{mgmt}:account/{org}/{account_id}",
            "Email": email(account_id, management),
            "Name": "management" if management else f"member-{account_id}",
            "Status": "ACTIVE",
            "State": "ACTIVE",
            "JoinedMethod": "INVITED" if management else "CREATED",
            "JoinedTimestamp": CREATED_AT,
        }

    def _management_only(self, ctx: RequestContext) -> None:
        if ctx.account_id != self.management_account:
            raise AccessDenied()

    def DescribeOrganization(self, ctx: RequestContext, p: dict) -> dict:
        org, mgmt = self.organization_id, self.management_account
        return {"Organization": {
            "Id": org,
            "Arn": f"arn:aws:organizations::{mgmt}:organization/{org}",
            "FeatureSet": "ALL",
            "MasterAccountArn": f"arn:aws:organizations::{mgmt}:account/{org}/{mgmt}",
            "MasterAccountId": mgmt,
            "MasterAccountEmail": email(mgmt, True),
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
        }}

    def DescribeAccount(self, ctx: RequestContext, p: dict) -> dict:
        self._management_only(ctx)
        if p["AccountId"] not in self.accounts():
            raise AccountNotFound()
        return {"Account": self.account(p["AccountId"])}

    def ListAccounts(self, ctx: RequestContext, p: dict) -> dict:
        self._management_only(ctx)
        accounts = self.accounts()
        start = _start_of(p.get("NextToken"), accounts)
        end = start + p.get("MaxResults", PAGE_SIZE)
        page = accounts[start:end]
        token = _token(accounts[end - 1]) if end < len(accounts) else None
        return {"Accounts": [self.account(a) for a in page], "NextToken": token}


def _token(last_account: str) -> str:
    """An opaque token naming the last account of a page."""
    return base64.urlsafe_b64encode(f"after:{last_account}".encode()).decode()


def _start_of(token: str | None, accounts: list[str]) -> int:
    """Index of the first account after the one `token` names (accounts joined since stay in order)."""
    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, ValueError):
        raise InvalidNextToken() from None
    kind, _, last = text.partition(":")
    if kind != "after" or not last.isdigit() or len(last) != 12:
        raise InvalidNextToken()
    return sum(1 for a in accounts if a <= last)
