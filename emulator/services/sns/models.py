"""SNS topics and subscriptions: state and rules, testable without HTTP.

Topics and subscriptions persist in `<state_dir>/sns.json`; messages go out through
`emulator/services/sns/publishing.py`."""
from __future__ import annotations

import base64
import json
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cloudtrail_emulator.emulator.config import Clock
from cloudtrail_emulator.emulator.persistence import JsonStateFile
from cloudtrail_emulator.emulator.services.sns.exceptions import (
    AuthorizationError, InvalidParameter, NotFound, ResourceNotFound, TagLimitExceeded)
from cloudtrail_emulator.emulator.services.sns.http_delivery import HttpDelivery
from cloudtrail_emulator.emulator.services.sns.publishing import Notifier
from cloudtrail_emulator.generators.errors import GeneratorError

PAGE_SIZE = 100
MAX_TAGS = 50
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$")
_SUBSCRIPTION_ARN = re.compile(r"^(arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}):[0-9a-f-]{36}$")
_FEEDBACK = tuple(f"{p}{kind}" for p in ("HTTP", "Application", "Lambda", "SQS", "Firehose")
                  for kind in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn"))
SETTABLE_ATTRIBUTES = frozenset(("DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId", "SignatureVersion",
                                 "TracingConfig", "ContentBasedDeduplication", "ArchivePolicy") + _FEEDBACK)
SNS_PROTOCOLS = frozenset(("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda",
                           "firehose"))
EFFECTIVE_DELIVERY_POLICY = json.dumps({"http": {
    "defaultHealthyRetryPolicy": {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                                  "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                                  "backoffFunction": "linear"},
    "disableSubscriptionOverrides": False,
    "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}}, separators=(",", ":"))


@dataclass
class Topic:
    arn: str
    attributes: dict[str, str] = field(default_factory=dict)    # the settable ones, FifoTopic
    tags: dict[str, str] = field(default_factory=dict)
    subscriptions_deleted: int = 0
    sequence: int = 0

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[1]

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoTopic") == "true"


@dataclass
class Subscription:
    arn: str
    topic_arn: str
    owner: str
    protocol: str
    endpoint: str
    token: str
    confirmed: bool = False
    raw: bool = False
    base_url: str = ""         # the emulator URL the subscriber saw last (SubscribeURL, cert, unsubscribe)

    def listing(self) -> dict:
        return {"SubscriptionArn": self.arn if self.confirmed else "PendingConfirmation", "Owner": self.owner,
                "Protocol": self.protocol, "Endpoint": self.endpoint, "TopicArn": self.topic_arn}


def partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def default_policy(arn: str, account: str) -> str:
    actions = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
               "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"]
    return json.dumps({"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [{
        "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": actions,
        "Resource": arn, "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]}, separators=(",", ":"))


def checked_attribute(name: str, value: str, fifo: bool) -> str:
    """`value` if SNS accepts it for topic attribute `name`; raises InvalidParameter."""
    if name not in SETTABLE_ATTRIBUTES:
        raise InvalidParameter("AttributeName")
    if name in ("Policy", "DeliveryPolicy", "ArchivePolicy"):
        try:
            if not isinstance(json.loads(value), dict):
                raise ValueError
        except (ValueError, RecursionError):
            raise InvalidParameter(f"{name}: not a JSON object") from None
    elif name == "SignatureVersion" and value not in ("1", "2"):
        raise InvalidParameter("SignatureVersion: must be 1 or 2")
    elif name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise InvalidParameter("TracingConfig: must be PassThrough or Active")
    elif name == "ContentBasedDeduplication" and (not fifo or value not in ("true", "false")):
        raise InvalidParameter("ContentBasedDeduplication: only true or false on a FIFO topic")
    elif name == "DisplayName" and len(value) > 100:
        raise InvalidParameter("DisplayName: at most 100 characters")
    return value


class SnsBackend:
    """All topics and subscriptions; thread-safe. Also the CloudTrail seams (`topic_exists`,
    `publish_delivery`)."""

    def __init__(self, *, clock: Clock, rng: random.Random, state_dir: Path | None = None,
                 delivery: HttpDelivery | None = None):
        self._rng = rng
        self.lock = threading.RLock()
        self._file = None if state_dir is None else JsonStateFile(state_dir / "sns.json")
        self.notifier = Notifier(clock=clock, rng=rng, delivery=delivery or HttpDelivery(),
                                 signer_path=None if state_dir is None else state_dir / "sns-signing.pem")
        self.topics: dict[str, Topic] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self._load()

    # persistence

    def _load(self) -> None:
        document = self._file.load() if self._file is not None else None
        try:
            for item in (document or {}).get("topics", []):
                self.topics[item["arn"]] = Topic(**item)
            for item in (document or {}).get("subscriptions", []):
                self.subscriptions[item["arn"]] = Subscription(**item)
        except (TypeError, KeyError, AttributeError) as exc:
            raise GeneratorError(f"state file {self._file.path} does not hold SNS topics: {exc}") from None

    def save(self) -> None:
        if self._file is not None:
            self._file.save({"topics": [asdict(t) for t in self.topics.values()],
                             "subscriptions": [asdict(s) for s in self.subscriptions.values()]})

    # seams

    def topic_exists(self, arn_or_name: str) -> bool:
        """A topic with this ARN, or (given a bare name) with this name in any account/region, exists."""
        with self.lock:
            if arn_or_name.startswith("arn:"):
                return arn_or_name in self.topics
            return any(topic.name == arn_or_name for topic in self.topics.values())

    def publish_delivery(self, topic_arn: str, bucket: str, keys: list[str]) -> None:
        """CloudTrail's log delivery notification `{"s3Bucket": .., "s3ObjectKey": [..]}` to the topic;
        raises NotFound when the topic is gone."""
        message = json.dumps({"s3Bucket": bucket, "s3ObjectKey": list(keys)}, separators=(",", ":"))
        with self.lock:
            topic = self.topic(topic_arn)
            self.notifier.publish(topic, self._confirmed(topic), message, None, {}, None)

    def close(self) -> None:
        self.notifier.delivery.close()

    # lookups

    def topic(self, arn: str, account: str | None = None, action: str = "") -> Topic:
        """The topic `arn`; `account` (the caller) must own it."""
        if _TOPIC_ARN.match(arn) is None:
            raise InvalidParameter("TopicArn")
        topic = self.topics.get(arn)
        if topic is None:
            raise NotFound("Topic")
        if account is not None and account != topic.account:
            raise AuthorizationError(f"User: arn:{partition(topic.region)}:iam::{account}:root is not authorized to "
                                     f"perform: SNS:{action} on resource: {arn}")
        return topic

    def tagged(self, arn: str, account: str, action: str) -> Topic:
        if arn not in self.topics:
            raise ResourceNotFound("Resource does not exist")
        return self.topic(arn, account, action)

    def _confirmed(self, topic: Topic) -> list[Subscription]:
        return [s for s in self.subscriptions.values() if s.topic_arn == topic.arn and s.confirmed]

    @staticmethod
    def page(items: Iterable[Any], key: Callable[[Any], str], token: str | None) -> tuple[list, str | None]:
        """One page of `items` in `key` order after the one `token` names, and the next token."""
        ordered = sorted(items, key=key)
        if token:
            try:
                after = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True).decode("utf-8")
            except (ValueError, UnicodeError):
                raise InvalidParameter("NextToken") from None
            if not after.startswith("arn:"):
                raise InvalidParameter("NextToken")
            ordered = [item for item in ordered if key(item) > after]
        page = ordered[:PAGE_SIZE]
        more = len(ordered) > PAGE_SIZE
        return page, base64.urlsafe_b64encode(key(page[-1]).encode()).decode("ascii") if more else None

    # topics

    def create_topic(self, account: str, region: str, name: str, attributes: dict[str, str],
                     tags: dict[str, str]) -> Topic:
        attributes = dict(attributes)
        fifo = attributes.pop("FifoTopic", "false").lower()
        if fifo not in ("true", "false"):
            raise InvalidParameter("Attributes: FifoTopic must be true or false")
        if not (_FIFO_NAME if fifo == "true" else _TOPIC_NAME).match(name):
            raise InvalidParameter("Topic Name")
        for attr, value in attributes.items():
            checked_attribute(attr, value, fifo == "true")
        if fifo == "true":
            attributes["FifoTopic"] = "true"
        arn = f"arn:{partition(region)}:sns:{region}:{account}:{name}"
        existing = self.topics.get(arn)
        if existing is not None:
            if any(existing.attributes.get(k) != v for k, v in attributes.items()):
                raise InvalidParameter("Attributes Reason: Topic already exists with different attributes")
            return existing
        topic = self.topics[arn] = Topic(arn, attributes, dict(tags))
        self.save()
        return topic

    def delete_topic(self, account: str, arn: str) -> None:
        if _TOPIC_ARN.match(arn) is None:
            raise InvalidParameter("TopicArn")
        if arn in self.topics:
            self.topic(arn, account, "DeleteTopic")
            del self.topics[arn]
            for sub in [s for s in self.subscriptions.values() if s.topic_arn == arn]:
                del self.subscriptions[sub.arn]
            self.save()

    def topic_attributes(self, account: str, arn: str) -> dict[str, str]:
        topic = self.topic(arn, account, "GetTopicAttributes")
        subs = [s for s in self.subscriptions.values() if s.topic_arn == topic.arn]
        attributes = {
            "Policy": default_policy(topic.arn, topic.account), "Owner": topic.account,
            "SubscriptionsPending": str(sum(not s.confirmed for s in subs)), "TopicArn": topic.arn,
            "EffectiveDeliveryPolicy": EFFECTIVE_DELIVERY_POLICY,
            "SubscriptionsConfirmed": str(sum(s.confirmed for s in subs)), "DisplayName": "",
            "SubscriptionsDeleted": str(topic.subscriptions_deleted),
        }
        if topic.fifo:
            attributes["ContentBasedDeduplication"] = "false"
        attributes.update(topic.attributes)
        return attributes

    def set_topic_attribute(self, account: str, arn: str, name: str, value: str) -> None:
        topic = self.topic(arn, account, "SetTopicAttributes")
        topic.attributes[name] = checked_attribute(name, value, topic.fifo)
        self.save()

    def tag(self, account: str, arn: str, tags: dict[str, str]) -> None:
        topic = self.tagged(arn, account, "TagResource")
        merged = {**topic.tags, **tags}
        if len(merged) > MAX_TAGS:
            raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")
        topic.tags = merged
        self.save()

    def untag(self, account: str, arn: str, keys: list[str]) -> None:
        topic = self.tagged(arn, account, "UntagResource")
        topic.tags = {k: v for k, v in topic.tags.items() if k not in keys}
        self.save()

    # subscriptions

    def subscribe(self, account: str, arn: str, protocol: str, endpoint: str | None,
                  attributes: dict[str, str]) -> Subscription:
        """The subscription (an existing one for the same endpoint, else a new pending one)."""
        topic = self.topic(arn, account, "Subscribe")
        if protocol not in SNS_PROTOCOLS:
            raise InvalidParameter(f"Amazon SNS does not support this protocol string: {protocol}")
        if protocol not in ("http", "https") or topic.fifo:
            raise InvalidParameter(f"Protocol: cloudtrail-emulator delivers to http and https endpoints of "
                                   f"standard topics only, not {protocol}{' on a FIFO topic' if topic.fifo else ''}")
        if not endpoint or not endpoint.lower().startswith(protocol + "://") or len(endpoint) > 2048:
            raise InvalidParameter("Endpoint must match the specified protocol")
        unknown = set(attributes) - {"RawMessageDelivery"}
        raw = attributes.get("RawMessageDelivery", "false").lower()
        if unknown or raw not in ("true", "false"):
            raise InvalidParameter(f"Attributes Reason: supported: RawMessageDelivery=true|false, "
                                   f"got {sorted(attributes)}")
        for sub in self.subscriptions.values():
            if (sub.topic_arn, sub.protocol, sub.endpoint) == (topic.arn, protocol, endpoint):
                return sub
        sub = Subscription(arn=f"{topic.arn}:{uuid.UUID(int=self._rng.getrandbits(128), version=4)}",
                           topic_arn=topic.arn, owner=account, protocol=protocol, endpoint=endpoint,
                           token=f"{self._rng.getrandbits(1024):0256x}", raw=raw == "true", base_url=self.notifier.base_url)
        self.subscriptions[sub.arn] = sub
        self.save()
        self.notifier.confirmation(topic, sub)
        return sub

    def confirm(self, arn: str, token: str) -> Subscription:
        topic = self.topic(arn)
        for sub in self.subscriptions.values():
            if sub.topic_arn == topic.arn and sub.token == token:
                if not sub.confirmed:
                    sub.confirmed = True
                    self.save()
                return sub
        raise InvalidParameter("Token")

    def unsubscribe(self, arn: str) -> None:
        match = _SUBSCRIPTION_ARN.match(arn)
        if match is None:
            raise InvalidParameter("SubscriptionArn")
        if self.subscriptions.pop(arn, None) is None:
            raise NotFound("Subscription")
        topic = self.topics.get(match.group(1))
        if topic is not None:
            topic.subscriptions_deleted += 1
        self.save()

    def topics_of(self, account: str, region: str) -> list[Topic]:
        return [t for t in self.topics.values() if t.account == account and t.region == region]

    def subscriptions_of(self, account: str, region: str) -> list[Subscription]:
        return [s for s in self.subscriptions.values()
                if self.topics[s.topic_arn].account == account and self.topics[s.topic_arn].region == region]

    def subscriptions_to(self, account: str, arn: str) -> list[Subscription]:
        topic = self.topic(arn, account, "ListSubscriptionsByTopic")
        return [s for s in self.subscriptions.values() if s.topic_arn == topic.arn]

    # messages

    def publish(self, account: str, arn: str, message: str, subject: str | None, structure: str | None,
                attributes: dict[str, dict], group_id: str | None, deduplication_id: str | None) -> dict[str, str]:
        """Publish to a topic: {"MessageId"} (plus "SequenceNumber" on a FIFO topic)."""
        topic = self.topic(arn, account, "Publish")
        if not message:
            raise InvalidParameter("Empty message")
        if len(message.encode("utf-8")) > Notifier.MAX_MESSAGE_BYTES:
            raise InvalidParameter("Message too long")
        if subject is not None and (not subject or len(subject) > 100
                                    or any(c in subject for c in "\r\n") or not subject.isprintable()):
            raise InvalidParameter("Subject")
        if structure not in (None, "json"):
            raise InvalidParameter("MessageStructure")
        per_protocol = Notifier.structured(message) if structure == "json" else None
        shown = {name: Notifier.attribute(name, value) for name, value in attributes.items()}
        result: dict[str, str] = {}
        if topic.fifo:
            if not group_id:
                raise InvalidParameter("The MessageGroupId parameter is required for FIFO topics")
            if not deduplication_id and topic.attributes.get("ContentBasedDeduplication") != "true":
                raise InvalidParameter("The topic should either have ContentBasedDeduplication enabled or "
                                       "MessageDeduplicationId provided explicitly")
            topic.sequence += 1
            self.save()
            result["SequenceNumber"] = f"{topic.sequence:020d}"
        result["MessageId"] = self.notifier.publish(topic, self._confirmed(topic), message, subject, shown,
                                                    per_protocol)
        return result
