"""AWS Organizations, just enough for organization trails and `validate-logs --account-id`."""
from __future__ import annotations

from cloudtrail_emulator.emulator.protocols.json11 import Handler, RequestContext


class OrganizationsResponses:
    """The emulator's one organization: every account belongs to it; features ALL."""

    def __init__(self, organization_id: str, management_account: str):
        self.organization_id = organization_id
        self.management_account = management_account

    def handlers(self) -> dict[str, Handler]:
        return {"DescribeOrganization": self.DescribeOrganization}

    def DescribeOrganization(self, ctx: RequestContext, p: dict) -> dict:
        org, mgmt = self.organization_id, self.management_account
        return {"Organization": {
            "Id": org,
            "Arn": f"arn:aws:organizations::{mgmt}:organization/{org}",
            "FeatureSet": "ALL",
            "MasterAccountArn": f"arn:aws:organizations::{mgmt}:account/{org}/{mgmt}",
            "MasterAccountId": mgmt,
            "MasterAccountEmail": f"management+{mgmt}@example.com",
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
        }}
