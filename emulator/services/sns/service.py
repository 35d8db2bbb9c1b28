"""SNS over the Query protocol: topics, http(s) subscriptions, Publish and signed HTTP delivery.

Parameters are parsed and checked against botocore's SNS model; answers are XML in SNS's namespace.
Topics and subscriptions persist in `<data_dir>/state/sns.json`. Messages go to subscribers from one
background thread (`HttpDelivery`), signed with the emulator's key (`emulator/sns_signing.py`) whose
certificate is served at `/_emulator/sns/SimpleNotificationService.pem`.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import queue
import random
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from botocore.model import OperationModel, ServiceModel, Shape
from flask import Blueprint, Request, Response, current_app

from cloudtrail_emulator.emulator.protocols.json11 import load_service_model
from cloudtrail_emulator.emulator.config import Clock
from cloudtrail_emulator.emulator.protocols.dispatch import xml_text
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.emulator.persistence import JsonStateFile
from cloudtrail_emulator.emulator.services.sns.signing import SnsSigner
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.times import format_millis

log = logging.getLogger(__name__)
NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"
CERT_PATH = "/_emulator/sns/SimpleNotificationService.pem"
PAGE_SIZE = 100
MAX_MESSAGE_BYTES = 256 * 1024
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


def invalid(what: str) -> AwsError:
    return AwsError(f"Invalid parameter: {what}", code="InvalidParameter")


def not_found(what: str) -> AwsError:
    return AwsError(f"{what} does not exist", code="NotFound", status=404)


def _validation_error(path: str) -> AwsError:
    return AwsError(f"1 validation error detected: Value null at '{path[:1].lower() + path[1:]}' failed to "
                    "satisfy constraint: Member must not be null", code="ValidationError")


# --- the Query protocol, driven by the model ---------------------------------------------------

def parse_structure(shape: Shape, values: Mapping[str, str], prefix: str = "") -> dict:
    """Members of `shape` from flat Query parameters (`Name.member.N`, `Name.entry.N.key`...)."""
    out = {}
    for name, member in shape.members.items():
        key = prefix + member.serialization.get("name", name)
        value = _parse(member, values, key)
        if value is not None:
            out[name] = value
        elif name in shape.required_members:
            raise _validation_error(key)
    return out


def _parse(shape: Shape, values: Mapping[str, str], key: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        nested = key + "."
        return parse_structure(shape, values, nested) if any(k.startswith(nested) for k in values) else None
    if kind == "list":
        head = key + "." if shape.serialization.get("flattened") else \
            f"{key}.{shape.member.serialization.get('name', 'member')}."
        items = list(_indexed(lambda i: _parse(shape.member, values, f"{head}{i}")))
        return items if items or key in values else None
    if kind == "map":
        head = key + "." if shape.serialization.get("flattened") else key + ".entry."
        k_name, v_name = shape.key.serialization.get("name", "key"), shape.value.serialization.get("name", "value")
        pairs = _indexed(lambda i: _map_entry(shape, values, f"{head}{i}.", k_name, v_name))
        return dict(pairs) if pairs or key in values else None
    raw = values.get(key)
    return None if raw is None else _scalar(shape, raw, key)


def _indexed(item: Callable[[int], Any]) -> list:
    """item(1), item(2), ... up to the first missing one."""
    found, index = [], 1
    while (value := item(index)) is not None:
        found.append(value)
        index += 1
    return found


def _map_entry(shape: Shape, values: Mapping[str, str], head: str, k_name: str, v_name: str):
    key = values.get(head + k_name)
    if key is None:
        return None
    value = _parse(shape.value, values, head + v_name)
    if value is None:
        raise invalid(f"{head + v_name}: missing value for map entry {key!r}")
    return key, value


def _scalar(shape: Shape, raw: str, key: str) -> Any:
    kind = shape.type_name
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise invalid(f"{key}: expected true or false, got {raw!r}")
        return raw.lower() == "true"
    if kind in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise invalid(f"{key}: expected an integer, got {raw!r}") from None
    if kind == "blob":
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise invalid(f"{key}: not valid base64") from None
    return raw


def _xml(shape: Shape, value: Any, name: str) -> str:
    kind = shape.type_name
    if kind == "structure":
        inner = "".join(_xml(m, value[n], m.serialization.get("name", n))
                        for n, m in shape.members.items() if value.get(n) is not None)
    elif kind == "list":
        inner = "".join(_xml(shape.member, v, shape.member.serialization.get("name", "member")) for v in value)
    elif kind == "map":
        k_name, v_name = shape.key.serialization.get("name", "key"), shape.value.serialization.get("name", "value")
        inner = "".join(f"<entry>{_xml(shape.key, k, k_name)}{_xml(shape.value, v, v_name)}</entry>"
                        for k, v in value.items())
    elif kind == "boolean":
        inner = "true" if value else "false"
    else:
        inner = xml_text(str(value))
    return f"<{name}>{inner}</{name}>"


def query_response(operation: OperationModel, result: dict, request_id: str) -> Response:
    """`<OpResponse><OpResult>..</OpResult><ResponseMetadata>..</ResponseMetadata></OpResponse>`."""
    shape = operation.output_shape
    body = "" if shape is None else _xml(shape, result, shape.serialization["resultWrapper"])
    text = (f'<?xml version="1.0"?>\n<{operation.name}Response xmlns="{NAMESPACE}">{body}'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{operation.name}Response>")
    return Response(text, status=200, headers={"Content-Type": "text/xml", "x-amzn-RequestId": request_id})


# --- the model ----------------------------------------------------------------------------------

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


def _checked_attribute(name: str, value: str, fifo: bool) -> str:
    """`value` if SNS accepts it for topic attribute `name`; raises InvalidParameter."""
    if name not in SETTABLE_ATTRIBUTES:
        raise invalid("AttributeName")
    if name in ("Policy", "DeliveryPolicy", "ArchivePolicy"):
        try:
            if not isinstance(json.loads(value), dict):
                raise ValueError
        except (ValueError, RecursionError):
            raise invalid(f"{name}: not a JSON object") from None
    elif name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid("SignatureVersion: must be 1 or 2")
    elif name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise invalid("TracingConfig: must be PassThrough or Active")
    elif name == "ContentBasedDeduplication" and (not fifo or value not in ("true", "false")):
        raise invalid("ContentBasedDeduplication: only true or false on a FIFO topic")
    elif name == "DisplayName" and len(value) > 100:
        raise invalid("DisplayName: at most 100 characters")
    return value


# --- delivery -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    url: str
    headers: dict[str, str]
    body: bytes


class HttpDelivery:
    """POSTs queued messages from one daemon thread: `attempts` tries, `timeout` seconds each."""

    def __init__(self, attempts: int = 3, timeout: float = 2.0, backoff: float = 0.2):
        self.attempts, self.timeout, self.backoff = attempts, timeout, backoff
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def submit(self, delivery: Delivery) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sns-delivery", daemon=True)
                self._thread.start()
        self._queue.put(delivery)

    def close(self) -> None:
        """Stop the thread after the messages already queued."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=self.timeout * self.attempts + 1)

    def _run(self) -> None:
        while (delivery := self._queue.get()) is not None:
            self._send(delivery)

    def _send(self, delivery: Delivery) -> None:
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(delivery.url, data=delivery.body, headers=delivery.headers,
                                             method="POST")
            try:
                with self._opener.open(request, timeout=self.timeout) as answer:
                    answer.read()
                return
            except (urllib.error.URLError, OSError, ValueError) as exc:
                log.warning("SNS delivery to %s failed (attempt %d/%d): %s", delivery.url, attempt,
                            self.attempts, exc)
            if attempt < self.attempts:
                time.sleep(self.backoff * attempt)


# --- the service --------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _sns_model() -> ServiceModel:
    return load_service_model("sns")


class SnsService:
    """The SNS Query endpoint (`handle`), the CloudTrail seams (`topic_exists`, `publish_delivery`)."""

    IMPLEMENTED = ("CreateTopic", "DeleteTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes",
                   "Subscribe", "Unsubscribe", "ListSubscriptions", "ListSubscriptionsByTopic",
                   "ConfirmSubscription", "Publish", "TagResource", "UntagResource", "ListTagsForResource")

    def __init__(self, *, clock: Clock, rng: random.Random, state_dir: Path | None = None,
                 delivery: HttpDelivery | None = None):
        self.model = _sns_model()
        self._clock = clock
        self._rng = rng
        self._lock = threading.RLock()
        self._file = None if state_dir is None else JsonStateFile(state_dir / "sns.json")
        self._signer_path = None if state_dir is None else state_dir / "sns-signing.pem"
        self._signer: SnsSigner | None = None
        self.delivery = delivery or HttpDelivery()
        self._base_url = ""
        self.topics: dict[str, Topic] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self._load()

    @property
    def signer(self) -> SnsSigner:
        """The signing key and certificate, made (or loaded) on first use."""
        with self._lock:
            if self._signer is None:
                self._signer = SnsSigner.load_or_create(self._signer_path, self._clock.now())
            return self._signer

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

    def _save(self) -> None:
        if self._file is not None:
            self._file.save({"topics": [asdict(t) for t in self.topics.values()],
                             "subscriptions": [asdict(s) for s in self.subscriptions.values()]})

    # seams

    def topic_exists(self, arn_or_name: str) -> bool:
        """A topic with this ARN, or (given a bare name) with this name in any account/region, exists."""
        with self._lock:
            if arn_or_name.startswith("arn:"):
                return arn_or_name in self.topics
            return any(topic.name == arn_or_name for topic in self.topics.values())

    def publish_delivery(self, topic_arn: str, bucket: str, keys: list[str]) -> None:
        """CloudTrail's log delivery notification `{"s3Bucket": .., "s3ObjectKey": [..]}` to the topic;
        raises AwsError NotFound when the topic is gone."""
        message = json.dumps({"s3Bucket": bucket, "s3ObjectKey": list(keys)}, separators=(",", ":"))
        with self._lock:
            topic = self._topic(topic_arn)
            self._publish(topic, message, None, {}, None)

    def close(self) -> None:
        self.delivery.close()

    # the Query endpoint

    def handle(self, request: Request, region: str, account_id: str) -> Response:
        """Answer one Query request (form POST or GET with `Action=`)."""
        values = request.values
        action = values.get("Action")
        if not action:
            raise AwsError("Could not find operation: the request has no Action", code="MissingAction")
        if action not in self.model.operation_names:
            raise AwsError(f"The action {action} is not valid for this web service.", code="InvalidAction")
        if action not in self.IMPLEMENTED:
            raise AwsError(f"The action {action} is not supported by cloudtrail-emulator", code="InvalidAction")
        operation = self.model.operation_model(action)
        params = parse_structure(operation.input_shape, values) if operation.input_shape else {}
        handler = getattr(self, "_op_" + re.sub(r"(?<!^)([A-Z])", r"_\1", action).lower())
        with self._lock:
            self._base_url = request.host_url.rstrip("/")
            result = handler(params, region, account_id)
        return query_response(operation, result, str(uuid.UUID(int=self._rng.getrandbits(128), version=4)))

    def _topic(self, arn: str, account: str | None = None, action: str = "") -> Topic:
        """The topic `arn`; `account` (the caller) must own it."""
        match = _TOPIC_ARN.match(arn)
        if match is None:
            raise invalid("TopicArn")
        topic = self.topics.get(arn)
        if topic is None:
            raise not_found("Topic")
        if account is not None and account != topic.account:
            raise AwsError(f"User: arn:{partition(topic.region)}:iam::{account}:root is not authorized to "
                           f"perform: SNS:{action} on resource: {arn}", code="AuthorizationError", status=403)
        return topic

    def _page(self, items: Iterable[Any], key: Callable[[Any], str], token: str | None) -> tuple[list, str | None]:
        ordered = sorted(items, key=key)
        if token:
            try:
                after = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True).decode("utf-8")
            except (ValueError, UnicodeError):
                raise invalid("NextToken") from None
            if not after.startswith("arn:"):
                raise invalid("NextToken")
            ordered = [item for item in ordered if key(item) > after]
        page = ordered[:PAGE_SIZE]
        more = len(ordered) > PAGE_SIZE
        return page, base64.urlsafe_b64encode(key(page[-1]).encode()).decode("ascii") if more else None

    def _op_create_topic(self, p: dict, region: str, account: str) -> dict:
        attributes = dict(p.get("Attributes") or {})
        fifo = attributes.pop("FifoTopic", "false").lower()
        if fifo not in ("true", "false"):
            raise invalid("Attributes: FifoTopic must be true or false")
        name = p["Name"]
        if not (_FIFO_NAME if fifo == "true" else _TOPIC_NAME).match(name):
            raise invalid("Topic Name")
        for attr, value in attributes.items():
            _checked_attribute(attr, value, fifo == "true")
        if fifo == "true":
            attributes["FifoTopic"] = "true"
        arn = f"arn:{partition(region)}:sns:{region}:{account}:{name}"
        existing = self.topics.get(arn)
        if existing is not None:
            if any(existing.attributes.get(k) != v for k, v in attributes.items()):
                raise invalid("Attributes Reason: Topic already exists with different attributes")
            return {"TopicArn": arn}
        tags = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
        self.topics[arn] = Topic(arn, attributes, tags)
        self._save()
        return {"TopicArn": arn}

    def _op_delete_topic(self, p: dict, region: str, account: str) -> dict:
        arn = p["TopicArn"]
        if _TOPIC_ARN.match(arn) is None:
            raise invalid("TopicArn")
        if arn in self.topics:
            self._topic(arn, account, "DeleteTopic")
            del self.topics[arn]
            for sub in [s for s in self.subscriptions.values() if s.topic_arn == arn]:
                del self.subscriptions[sub.arn]
            self._save()
        return {}

    def _op_list_topics(self, p: dict, region: str, account: str) -> dict:
        mine = (t for t in self.topics.values() if t.account == account and t.region == region)
        page, token = self._page(mine, lambda t: t.arn, p.get("NextToken"))
        return {"Topics": [{"TopicArn": t.arn} for t in page], "NextToken": token}

    def _op_get_topic_attributes(self, p: dict, region: str, account: str) -> dict:
        topic = self._topic(p["TopicArn"], account, "GetTopicAttributes")
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
        return {"Attributes": attributes}

    def _op_set_topic_attributes(self, p: dict, region: str, account: str) -> dict:
        topic = self._topic(p["TopicArn"], account, "SetTopicAttributes")
        name, value = p["AttributeName"], p.get("AttributeValue", "")
        topic.attributes[name] = _checked_attribute(name, value, topic.fifo)
        self._save()
        return {}

    def _tagged(self, arn: str, account: str, action: str) -> Topic:
        if arn not in self.topics:
            raise AwsError("Resource does not exist", code="ResourceNotFound", status=404)
        return self._topic(arn, account, action)

    def _op_tag_resource(self, p: dict, region: str, account: str) -> dict:
        topic = self._tagged(p["ResourceArn"], account, "TagResource")
        tags = {**topic.tags, **{t["Key"]: t["Value"] for t in p["Tags"]}}
        if len(tags) > 50:
            raise AwsError("Could not complete request: tag quota of per resource exceeded", code="TagLimitExceeded")
        topic.tags = tags
        self._save()
        return {}

    def _op_untag_resource(self, p: dict, region: str, account: str) -> dict:
        topic = self._tagged(p["ResourceArn"], account, "UntagResource")
        topic.tags = {k: v for k, v in topic.tags.items() if k not in p["TagKeys"]}
        self._save()
        return {}

    def _op_list_tags_for_resource(self, p: dict, region: str, account: str) -> dict:
        topic = self._tagged(p["ResourceArn"], account, "ListTagsForResource")
        return {"Tags": [{"Key": k, "Value": v} for k, v in topic.tags.items()]}

    def _op_subscribe(self, p: dict, region: str, account: str) -> dict:
        topic = self._topic(p["TopicArn"], account, "Subscribe")
        protocol, endpoint = p["Protocol"], p.get("Endpoint")
        if protocol not in SNS_PROTOCOLS:
            raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
        if protocol not in ("http", "https") or topic.fifo:
            raise invalid(f"Protocol: cloudtrail-emulator delivers to http and https endpoints of standard "
                          f"topics only, not {protocol}{' on a FIFO topic' if topic.fifo else ''}")
        if not endpoint or not endpoint.lower().startswith(protocol + "://") or len(endpoint) > 2048:
            raise invalid("Endpoint must match the specified protocol")
        attributes = p.get("Attributes") or {}
        unknown = set(attributes) - {"RawMessageDelivery"}
        raw = attributes.get("RawMessageDelivery", "false").lower()
        if unknown or raw not in ("true", "false"):
            raise invalid(f"Attributes Reason: supported: RawMessageDelivery=true|false, got {sorted(attributes)}")
        for sub in self.subscriptions.values():
            if (sub.topic_arn, sub.protocol, sub.endpoint) == (topic.arn, protocol, endpoint):
                return {"SubscriptionArn": sub.arn if sub.confirmed or p.get("ReturnSubscriptionArn")
                        else "pending confirmation"}
        sub = Subscription(arn=f"{topic.arn}:{uuid.UUID(int=self._rng.getrandbits(128), version=4)}",
                           topic_arn=topic.arn, owner=account, protocol=protocol, endpoint=endpoint,
                           token=f"{self._rng.getrandbits(1024):0256x}", raw=raw == "true",
                           base_url=self._base_url)
        self.subscriptions[sub.arn] = sub
        self._save()
        self._send_confirmation(topic, sub)
        return {"SubscriptionArn": sub.arn if p.get("ReturnSubscriptionArn") else "pending confirmation"}

    def _op_confirm_subscription(self, p: dict, region: str, account: str) -> dict:
        topic = self._topic(p["TopicArn"])
        for sub in self.subscriptions.values():
            if sub.topic_arn == topic.arn and sub.token == p["Token"]:
                if not sub.confirmed:
                    sub.confirmed = True
                    self._save()
                return {"SubscriptionArn": sub.arn}
        raise invalid("Token")

    def _op_unsubscribe(self, p: dict, region: str, account: str) -> dict:
        arn = p["SubscriptionArn"]
        match = _SUBSCRIPTION_ARN.match(arn)
        if match is None:
            raise invalid("SubscriptionArn")
        sub = self.subscriptions.pop(arn, None)
        if sub is None:
            raise not_found("Subscription")
        topic = self.topics.get(match.group(1))
        if topic is not None:
            topic.subscriptions_deleted += 1
        self._save()
        return {}

    def _op_list_subscriptions(self, p: dict, region: str, account: str) -> dict:
        mine = (s for s in self.subscriptions.values()
                if self.topics[s.topic_arn].account == account and self.topics[s.topic_arn].region == region)
        page, token = self._page(mine, lambda s: s.arn, p.get("NextToken"))
        return {"Subscriptions": [s.listing() for s in page], "NextToken": token}

    def _op_list_subscriptions_by_topic(self, p: dict, region: str, account: str) -> dict:
        topic = self._topic(p["TopicArn"], account, "ListSubscriptionsByTopic")
        subs = (s for s in self.subscriptions.values() if s.topic_arn == topic.arn)
        page, token = self._page(subs, lambda s: s.arn, p.get("NextToken"))
        return {"Subscriptions": [s.listing() for s in page], "NextToken": token}

    def _op_publish(self, p: dict, region: str, account: str) -> dict:
        if p.get("PhoneNumber"):
            raise invalid("PhoneNumber: SMS is not supported by cloudtrail-emulator")
        arn = p.get("TopicArn") or p.get("TargetArn")
        if not arn:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        topic = self._topic(arn, account, "Publish")
        message, subject = p["Message"], p.get("Subject")
        if not message:
            raise invalid("Empty message")
        if len(message.encode("utf-8")) > MAX_MESSAGE_BYTES:
            raise invalid("Message too long")
        if subject is not None and (not subject or len(subject) > 100
                                    or any(c in subject for c in "\r\n") or not subject.isprintable()):
            raise invalid("Subject")
        per_protocol = self._structured(message) if p.get("MessageStructure") == "json" else None
        if p.get("MessageStructure") not in (None, "json"):
            raise invalid("MessageStructure")
        attributes = {name: self._attribute(name, value) for name, value in (p.get("MessageAttributes") or {}).items()}
        result: dict[str, str] = {}
        if topic.fifo:
            if not p.get("MessageGroupId"):
                raise invalid("The MessageGroupId parameter is required for FIFO topics")
            if not p.get("MessageDeduplicationId") and topic.attributes.get("ContentBasedDeduplication") != "true":
                raise invalid("The topic should either have ContentBasedDeduplication enabled or "
                              "MessageDeduplicationId provided explicitly")
            topic.sequence += 1
            self._save()
            result["SequenceNumber"] = f"{topic.sequence:020d}"
        result["MessageId"] = self._publish(topic, message, subject, attributes, per_protocol)
        return result

    @staticmethod
    def _structured(message: str) -> dict[str, str]:
        try:
            document = json.loads(message)
        except (ValueError, RecursionError):
            raise invalid("Message Structure - JSON message body failed to parse") from None
        if not isinstance(document, dict) or not isinstance(document.get("default"), str):
            raise invalid("Message Structure - No default entry in JSON message body")
        return document

    @staticmethod
    def _attribute(name: str, value: dict) -> dict[str, str]:
        kind = value.get("DataType", "")
        base = kind.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise invalid(f"The message attribute '{name}' has an invalid message attribute type")
        if base == "Binary":
            if "BinaryValue" not in value:
                raise invalid(f"The message attribute '{name}' must contain non-empty message attribute value")
            return {"Type": kind, "Value": base64.b64encode(value["BinaryValue"]).decode("ascii")}
        if not value.get("StringValue"):
            raise invalid(f"The message attribute '{name}' must contain non-empty message attribute value")
        return {"Type": kind, "Value": value["StringValue"]}

    # messages to subscribers

    def _publish(self, topic: Topic, message: str, subject: str | None, attributes: dict,
                 per_protocol: dict[str, str] | None) -> str:
        message_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        timestamp = format_millis(self._clock.now())
        for sub in self.subscriptions.values():
            if sub.topic_arn != topic.arn or not sub.confirmed:
                continue
            text = per_protocol.get(sub.protocol, per_protocol["default"]) if per_protocol else message
            if sub.raw:
                headers = self._headers("Notification", message_id, topic.arn, sub.arn)
                headers["x-amz-sns-rawdelivery"] = "true"
                self.delivery.submit(Delivery(sub.endpoint, headers, text.encode("utf-8")))
                continue
            base = self._base_url or sub.base_url
            body = {"Type": "Notification", "MessageId": message_id, "TopicArn": topic.arn}
            if subject is not None:
                body["Subject"] = subject
            body.update({"Message": text, "Timestamp": timestamp})
            self._sign(topic, body, base)
            body["UnsubscribeURL"] = f"{base}/?" + urlencode({"Action": "Unsubscribe", "SubscriptionArn": sub.arn},
                                                              safe=":")
            if attributes:
                body["MessageAttributes"] = attributes
            self._submit(sub, body)
        return message_id

    def _send_confirmation(self, topic: Topic, sub: Subscription) -> None:
        base = sub.base_url
        body = {"Type": "SubscriptionConfirmation",
                "MessageId": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                "Token": sub.token, "TopicArn": topic.arn,
                "Message": f"You have chosen to subscribe to the topic {topic.arn}.\n"
                           "To confirm the subscription, visit the SubscribeURL included in this message.",
                "SubscribeURL": f"{base}/?" + urlencode({"Action": "ConfirmSubscription", "TopicArn": topic.arn,
                                                         "Token": sub.token}, safe=":"),
                "Timestamp": format_millis(self._clock.now())}
        self._sign(topic, body, base)
        self._submit(sub, body)

    def _sign(self, topic: Topic, body: dict, base: str) -> None:
        version = topic.attributes.get("SignatureVersion", "1")
        body["SignatureVersion"] = version
        body["Signature"] = self.signer.sign(body, version)
        body["SigningCertURL"] = base + CERT_PATH

    def _submit(self, sub: Subscription, body: dict) -> None:
        headers = self._headers(body["Type"], body["MessageId"], body["TopicArn"], sub.arn)
        self.delivery.submit(Delivery(sub.endpoint, headers, json.dumps(body, indent=2).encode("utf-8")))

    @staticmethod
    def _headers(kind: str, message_id: str, topic_arn: str, subscription_arn: str) -> dict[str, str]:
        headers = {"Content-Type": "text/plain; charset=UTF-8", "User-Agent": "Amazon Simple Notification Service Agent",
                   "x-amz-sns-message-type": kind, "x-amz-sns-message-id": message_id,
                   "x-amz-sns-topic-arn": topic_arn}
        if kind == "Notification":
            headers["x-amz-sns-subscription-arn"] = subscription_arn
        return headers


sns_routes = Blueprint("sns", __name__)


@sns_routes.get(CERT_PATH)
def signing_certificate() -> Response:
    """The certificate whose key signs every message (SigningCertURL)."""
    from cloudtrail_emulator.emulator.state import EXTENSION_KEY    # emulator.state imports this module
    service = current_app.extensions[EXTENSION_KEY].query_api
    return Response(service.signer.certificate_pem, mimetype="application/x-x509-ca-cert")
