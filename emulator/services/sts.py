"""AWS STS, as far as the tools around CloudTrail need it: `GetCallerIdentity` (Query protocol).

The caller is who the recorder says it is (`pipeline.recorder.user_identity`): the IAM user
`emulator` of the request's account, so the answer and the CloudTrail record name the same
principal. CloudTrail records the call (sts.amazonaws.com, a read-only management event); the other
STS actions are not available here.
"""
from __future__ import annotations

from flask import Request, Response

from cloudtrail_emulator.emulator.pipeline.recorder import user_identity
from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.protocols.errors import AwsError, not_available
from cloudtrail_emulator.emulator.protocols.query import QueryService
from cloudtrail_emulator.emulator.protocols.service_models import load_service_model


class StsResponses:
    """The STS Query endpoint."""

    def __init__(self) -> None:
        self.service = QueryService(load_service_model("sts"), {"GetCallerIdentity": self.GetCallerIdentity},
                                    unsupported=lambda action: not_available("sts", action))

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        return self.service.handle(request, ctx)

    def GetCallerIdentity(self, ctx: RequestContext, p: dict) -> dict:
        if ctx.access_key is None:
            # an unsigned call has no identity; AWS refuses it before the service (no record)
            ctx.addressed(self.service.event_source, None)
            raise AwsError("Request is missing Authentication Token", code="MissingAuthenticationToken",
                           status=403)
        identity = user_identity(ctx.access_key, ctx.account_id)
        return {"UserId": identity["principalId"], "Account": identity["accountId"], "Arn": identity["arn"]}
