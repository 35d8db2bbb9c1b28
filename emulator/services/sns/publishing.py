"""What SNS sends to subscribers: notifications and subscription confirmations, signed with the
emulator's key (emulator/services/sns/signing.py) whose certificate is served at `CERT_PATH`."""
from __future__ import annotations

import base64
import json
import random
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from cloudtrail_emulator.emulator.config import Clock
from cloudtrail_emulator.emulator.services.sns.exceptions import InvalidParameter
from cloudtrail_emulator.emulator.services.sns.http_delivery import Delivery, HttpDelivery
from cloudtrail_emulator.emulator.services.sns.signing import SnsSigner
from cloudtrail_emulator.generators.times import format_millis

if TYPE_CHECKING:
    from cloudtrail_emulator.emulator.services.sns.models import Subscription, Topic

CERT_PATH = "/_emulator/sns/SimpleNotificationService.pem"


class Notifier:
    """Builds, signs and queues the messages of topics; `base_url` is the emulator's URL as the
    latest caller saw it (SubscribeURL, SigningCertURL, UnsubscribeURL)."""

    MAX_MESSAGE_BYTES = 256 * 1024

    def __init__(self, *, clock: Clock, rng: random.Random, delivery: HttpDelivery, signer_path: Path | None):
        self._clock = clock
        self._rng = rng
        self.delivery = delivery
        self._signer_path = signer_path
        self._signer: SnsSigner | None = None
        self._lock = threading.Lock()
        self.base_url = ""

    @property
    def signer(self) -> SnsSigner:
        """The signing key and certificate, made (or loaded) on first use."""
        with self._lock:
            if self._signer is None:
                self._signer = SnsSigner.load_or_create(self._signer_path, self._clock.now())
            return self._signer

    @staticmethod
    def structured(message: str) -> dict[str, str]:
        """A `MessageStructure=json` message: one text per protocol, `default` required."""
        try:
            document = json.loads(message)
        except (ValueError, RecursionError):
            raise InvalidParameter("Message Structure - JSON message body failed to parse") from None
        if not isinstance(document, dict) or not isinstance(document.get("default"), str):
            raise InvalidParameter("Message Structure - No default entry in JSON message body")
        return document

    @staticmethod
    def attribute(name: str, value: dict) -> dict[str, str]:
        """A message attribute as notifications show it: {"Type", "Value"}."""
        kind = value.get("DataType", "")
        base = kind.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise InvalidParameter(f"The message attribute '{name}' has an invalid message attribute type")
        if base == "Binary":
            if "BinaryValue" not in value:
                raise InvalidParameter(f"The message attribute '{name}' must contain non-empty message "
                                       "attribute value")
            return {"Type": kind, "Value": base64.b64encode(value["BinaryValue"]).decode("ascii")}
        if not value.get("StringValue"):
            raise InvalidParameter(f"The message attribute '{name}' must contain non-empty message attribute value")
        return {"Type": kind, "Value": value["StringValue"]}

    def publish(self, topic: Topic, subscriptions: list[Subscription], message: str, subject: str | None,
                attributes: dict, per_protocol: dict[str, str] | None) -> str:
        """Queue one notification per confirmed subscription; the message id."""
        message_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        timestamp = format_millis(self._clock.now())
        for sub in subscriptions:
            text = per_protocol.get(sub.protocol, per_protocol["default"]) if per_protocol else message
            if sub.raw:
                headers = self._headers("Notification", message_id, topic.arn, sub.arn)
                headers["x-amz-sns-rawdelivery"] = "true"
                self.delivery.submit(Delivery(sub.endpoint, headers, text.encode("utf-8")))
                continue
            base = self.base_url or sub.base_url
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

    def confirmation(self, topic: Topic, sub: Subscription) -> None:
        """Queue the SubscriptionConfirmation message of a new subscription."""
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
        headers = {"Content-Type": "text/plain; charset=UTF-8",
                   "User-Agent": "Amazon Simple Notification Service Agent",
                   "x-amz-sns-message-type": kind, "x-amz-sns-message-id": message_id,
                   "x-amz-sns-topic-arn": topic_arn}
        if kind == "Notification":
            headers["x-amz-sns-subscription-arn"] = subscription_arn
        return headers
