"""SNS over the Query protocol: parsed input -> SnsBackend calls -> output structures (botocore's
SNS model parses and writes the wire, emulator/protocols/query.py); plus the signing certificate route."""
from __future__ import annotations

from flask import Blueprint, Request, Response

from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.protocols.service_models import load_service_model
from cloudtrail_emulator.emulator.protocols.query import QueryHandler, QueryService
from cloudtrail_emulator.emulator.services.sns.exceptions import InvalidParameter
from cloudtrail_emulator.emulator.services.sns.models import SnsBackend
from cloudtrail_emulator.emulator.services.sns.publishing import CERT_PATH


def _tags(p: dict, member: str = "Tags") -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in p.get(member) or []}


class SnsResponses:
    """One method per implemented operation; `handle` answers a Query request."""

    def __init__(self, backend: SnsBackend):
        self.backend = backend
        self.service = QueryService(load_service_model("sns"), self.handlers())

    def handlers(self) -> dict[str, QueryHandler]:
        names = ("CreateTopic", "DeleteTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes",
                 "Subscribe", "Unsubscribe", "ListSubscriptions", "ListSubscriptionsByTopic",
                 "ConfirmSubscription", "Publish", "TagResource", "UntagResource", "ListTagsForResource")
        return {name: getattr(self, name) for name in names}

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        with self.backend.lock:
            self.backend.notifier.base_url = request.host_url.rstrip("/")
            return self.service.handle(request, ctx)

    def CreateTopic(self, ctx: RequestContext, p: dict) -> dict:
        topic = self.backend.create_topic(ctx.account_id, ctx.region, p["Name"], p.get("Attributes") or {},
                                          _tags(p))
        return {"TopicArn": topic.arn}

    def DeleteTopic(self, ctx: RequestContext, p: dict) -> dict:
        self.backend.delete_topic(ctx.account_id, p["TopicArn"])
        return {}

    def ListTopics(self, ctx: RequestContext, p: dict) -> dict:
        topics = self.backend.topics_of(ctx.account_id, ctx.region)
        page, token = self.backend.page(topics, lambda t: t.arn, p.get("NextToken"))
        return {"Topics": [{"TopicArn": t.arn} for t in page], "NextToken": token}

    def GetTopicAttributes(self, ctx: RequestContext, p: dict) -> dict:
        return {"Attributes": self.backend.topic_attributes(ctx.account_id, p["TopicArn"])}

    def SetTopicAttributes(self, ctx: RequestContext, p: dict) -> dict:
        self.backend.set_topic_attribute(ctx.account_id, p["TopicArn"], p["AttributeName"],
                                         p.get("AttributeValue", ""))
        return {}

    def TagResource(self, ctx: RequestContext, p: dict) -> dict:
        self.backend.tag(ctx.account_id, p["ResourceArn"], _tags(p))
        return {}

    def UntagResource(self, ctx: RequestContext, p: dict) -> dict:
        self.backend.untag(ctx.account_id, p["ResourceArn"], p["TagKeys"])
        return {}

    def ListTagsForResource(self, ctx: RequestContext, p: dict) -> dict:
        topic = self.backend.tagged(p["ResourceArn"], ctx.account_id, "ListTagsForResource")
        return {"Tags": [{"Key": k, "Value": v} for k, v in topic.tags.items()]}

    def Subscribe(self, ctx: RequestContext, p: dict) -> dict:
        sub = self.backend.subscribe(ctx.account_id, p["TopicArn"], p["Protocol"], p.get("Endpoint"),
                                     p.get("Attributes") or {})
        shown = sub.confirmed or p.get("ReturnSubscriptionArn")
        return {"SubscriptionArn": sub.arn if shown else "pending confirmation"}

    def ConfirmSubscription(self, ctx: RequestContext, p: dict) -> dict:
        return {"SubscriptionArn": self.backend.confirm(p["TopicArn"], p["Token"]).arn}

    def Unsubscribe(self, ctx: RequestContext, p: dict) -> dict:
        self.backend.unsubscribe(p["SubscriptionArn"])
        return {}

    def ListSubscriptions(self, ctx: RequestContext, p: dict) -> dict:
        subs = self.backend.subscriptions_of(ctx.account_id, ctx.region)
        page, token = self.backend.page(subs, lambda s: s.arn, p.get("NextToken"))
        return {"Subscriptions": [s.listing() for s in page], "NextToken": token}

    def ListSubscriptionsByTopic(self, ctx: RequestContext, p: dict) -> dict:
        subs = self.backend.subscriptions_to(ctx.account_id, p["TopicArn"])
        page, token = self.backend.page(subs, lambda s: s.arn, p.get("NextToken"))
        return {"Subscriptions": [s.listing() for s in page], "NextToken": token}

    def Publish(self, ctx: RequestContext, p: dict) -> dict:
        if p.get("PhoneNumber"):
            raise InvalidParameter("PhoneNumber: SMS is not supported by cloudtrail-emulator")
        arn = p.get("TopicArn") or p.get("TargetArn")
        if not arn:
            raise InvalidParameter("TopicArn or TargetArn Reason: no value for required parameter")
        return self.backend.publish(ctx.account_id, arn, p["Message"], p.get("Subject"), p.get("MessageStructure"),
                                    p.get("MessageAttributes") or {}, p.get("MessageGroupId"),
                                    p.get("MessageDeduplicationId"))


def certificate_routes(backend: SnsBackend) -> Blueprint:
    """The route serving the certificate whose key signs every message (SigningCertURL)."""
    routes = Blueprint("sns", __name__)

    @routes.get(CERT_PATH)
    def signing_certificate() -> Response:
        return Response(backend.notifier.signer.certificate_pem, mimetype="application/x-x509-ca-cert")

    return routes
