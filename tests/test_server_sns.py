"""The SNS Query endpoint over boto3 and raw HTTP, and signed HTTP delivery to a local subscriber."""
from __future__ import annotations

import base64
import json
import queue
import random
import socket
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from cloudtrail_emulator.emulator.config import EmulatorConfig, FixedClock
from cloudtrail_emulator.emulator.services.sns.exceptions import AuthorizationError, InvalidParameter, TagLimitExceeded
from cloudtrail_emulator.emulator.services.sns.models import SnsBackend
from fixtures_server import start_emulator

NS = "{http://sns.amazonaws.com/doc/2010-03-31/}"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Subscriber:
    """An HTTP endpoint on 127.0.0.1 that records every POST (path, lower-cased headers, body)."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[str, dict[str, str], bytes]] = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.put((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def next(self, timeout: float = 5.0) -> tuple[str, dict[str, str], bytes]:
        return self.received.get(timeout=timeout)

    def next_json(self) -> tuple[dict[str, str], dict]:
        _, headers, body = self.next()
        return headers, json.loads(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    endpoint = Subscriber()
    try:
        yield endpoint
    finally:
        endpoint.close()


def canonical_string(message: dict) -> bytes:
    """AWS's documented string to sign, written from the SNS docs (Verifying message signatures)."""
    if message["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:   # SubscriptionConfirmation, UnsubscribeConfirmation
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{name}\n{message[name]}\n" for name in names if name in message).encode("utf-8")


def verify(message: dict) -> None:
    """Check Signature with the certificate downloaded from SigningCertURL; raises if it fails."""
    pem = OPENER.open(message["SigningCertURL"], timeout=5).read()
    certificate = x509.load_pem_x509_certificate(pem)
    digest = {"1": hashes.SHA1(), "2": hashes.SHA256()}[message["SignatureVersion"]]
    certificate.public_key().verify(base64.b64decode(message["Signature"]), canonical_string(message),
                                    padding.PKCS1v15(), digest)


def error_code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def raw(server, body: bytes | None = None, query: str = "", method: str = "POST") -> tuple[int, ET.Element]:
    """A hand-made Query request; returns (status, parsed XML root)."""
    request = urllib.request.Request(f"{server.url}/{'?' + query if query else ''}", data=body, method=method,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with OPENER.open(request, timeout=5) as answer:
            return answer.status, ET.fromstring(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, ET.fromstring(exc.read())


def assert_sns_error(status: int, root: ET.Element, code: str, http_status: int = 400) -> None:
    assert status == http_status
    assert root.tag == f"{NS}ErrorResponse"
    assert root.findtext(f"{NS}Error/{NS}Type") == "Sender"
    assert root.findtext(f"{NS}Error/{NS}Code") == code
    assert root.findtext(f"{NS}Error/{NS}Message")
    assert root.findtext(f"{NS}RequestId")


# --- topics -------------------------------------------------------------------------------------

def test_create_topic_is_idempotent_by_name_and_checks_names(emulator_server):
    sns = emulator_server.client("sns")
    arn = sns.create_topic(Name="orders")["TopicArn"]
    assert arn == "arn:aws:sns:us-east-1:123456789012:orders"
    assert sns.create_topic(Name="orders")["TopicArn"] == arn
    fifo = sns.create_topic(Name="orders.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    assert fifo.endswith(":orders.fifo")
    for bad in ("has space", "x" * 257, "dot.ted", "plain.fifo"):
        with pytest.raises(ClientError) as exc:
            sns.create_topic(Name=bad)
        assert error_code(exc) == "InvalidParameter"
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name="orders", Attributes={"DisplayName": "other"})
    assert error_code(exc) == "InvalidParameter"
    other_account = emulator_server.client("sns", access_key="210987654321")
    assert other_account.create_topic(Name="orders")["TopicArn"] == "arn:aws:sns:us-east-1:210987654321:orders"


def test_topic_attributes_get_and_set(emulator_server):
    sns = emulator_server.client("sns")
    arn = sns.create_topic(Name="attrs", Attributes={"DisplayName": "First"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["TopicArn"] == arn and attributes["Owner"] == "123456789012"
    assert attributes["DisplayName"] == "First"
    assert (attributes["SubscriptionsConfirmed"], attributes["SubscriptionsPending"],
            attributes["SubscriptionsDeleted"]) == ("0", "0", "0")
    assert json.loads(attributes["Policy"])["Statement"][0]["Resource"] == arn
    json.loads(attributes["EffectiveDeliveryPolicy"])
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish", "Resource": arn}]})
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Second")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["Policy"] == policy and attributes["DisplayName"] == "Second"
    for name, value in (("NoSuchAttribute", "x"), ("Policy", "not json"), ("SignatureVersion", "3")):
        with pytest.raises(ClientError) as exc:
            sns.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)
        assert error_code(exc) == "InvalidParameter"
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_topic_attributes(TopicArn=arn + "-missing")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.get_topic_attributes(TopicArn="not-an-arn")
    with pytest.raises(sns.exceptions.AuthorizationErrorException):
        emulator_server.client("sns", access_key="210987654321").get_topic_attributes(TopicArn=arn)


def test_list_topics_pages_of_100_per_account_and_region(emulator_server):
    sns = emulator_server.client("sns", region="eu-west-3")
    created = sorted(sns.create_topic(Name=f"page-{i:03d}")["TopicArn"] for i in range(205))
    pages = list(sns.get_paginator("list_topics").paginate())
    assert [len(page["Topics"]) for page in pages] == [100, 100, 5]
    assert [t["TopicArn"] for page in pages for t in page["Topics"]] == created
    assert "page-000" not in str(emulator_server.client("sns", region="eu-west-2").list_topics())
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.list_topics(NextToken="%%%not-a-token")


def test_delete_topic_drops_its_subscriptions_and_is_idempotent(emulator_server, subscriber):
    sns = emulator_server.client("sns")
    arn = sns.create_topic(Name="short-lived")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=subscriber.url + "/gone")
    assert len(sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]) == 1
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)
    assert arn not in str(sns.list_topics()) and arn not in str(sns.list_subscriptions())
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.list_subscriptions_by_topic(TopicArn=arn)


def test_topic_tags(emulator_server):
    sns = emulator_server.client("sns")
    arn = sns.create_topic(Name="tagged", Tags=[{"Key": "team", "Value": "qa"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "ops"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ops"}]
    with pytest.raises(sns.exceptions.ResourceNotFoundException):
        sns.list_tags_for_resource(ResourceArn=arn + "-missing")
    with pytest.raises(sns.exceptions.TagLimitExceededException):
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])


# --- subscriptions and delivery -----------------------------------------------------------------

def test_subscribe_confirm_publish_and_cloudtrail_notification_are_signed(emulator_server, subscriber):
    sns = emulator_server.client("sns")
    arn = sns.create_topic(Name="trail-notices")["TopicArn"]
    assert sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=subscriber.url + "/hook")["SubscriptionArn"] \
        == "pending confirmation"

    headers, confirmation = subscriber.next_json()
    assert list(confirmation) == ["Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL",
                                  "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"]
    assert confirmation["Type"] == headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-message-id"] == confirmation["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == confirmation["TopicArn"] == arn
    assert confirmation["SignatureVersion"] == "1"
    assert confirmation["SigningCertURL"].startswith(emulator_server.url)
    verify(confirmation)
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsPending"] == "1"

    # the subscriber confirms by visiting SubscribeURL, as SNS asks
    root = ET.fromstring(OPENER.open(confirmation["SubscribeURL"], timeout=5).read())
    subscription_arn = root.findtext(f"{NS}ConfirmSubscriptionResult/{NS}SubscriptionArn")
    assert subscription_arn.startswith(arn + ":")
    assert {"SubscriptionArn": subscription_arn, "Owner": "123456789012", "Protocol": "http",
            "Endpoint": subscriber.url + "/hook", "TopicArn": arn} in sns.list_subscriptions()["Subscriptions"]
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsConfirmed"] == "1"

    message_id = sns.publish(TopicArn=arn, Message="hello subscriber", Subject="Greetings",
                             MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}})["MessageId"]
    path, headers, body = subscriber.next()
    notification = json.loads(body)
    assert path == "/hook" and headers["content-type"].startswith("text/plain")
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == subscription_arn
    assert list(notification)[:10] == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                                       "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"]
    assert (notification["MessageId"], notification["Message"], notification["Subject"]) == \
        (message_id, "hello subscriber", "Greetings")
    assert notification["MessageAttributes"] == {"kind": {"Type": "String", "Value": "test"}}
    verify(notification)

    emulator_server.state.sns.publish_delivery(arn, "trail-bucket", ["AWSLogs/123456789012/x.json.gz"])
    _, delivery = subscriber.next_json()
    assert "Subject" not in delivery
    assert json.loads(delivery["Message"]) == {"s3Bucket": "trail-bucket",
                                               "s3ObjectKey": ["AWSLogs/123456789012/x.json.gz"]}
    verify(delivery)
    tampered = dict(delivery, Message=delivery["Message"].replace("trail-bucket", "other-bucket"))
    with pytest.raises(InvalidSignature):
        verify(tampered)

    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    sns.publish(TopicArn=arn, Message="sha256 now")
    _, signed_v2 = subscriber.next_json()
    assert signed_v2["SignatureVersion"] == "2"
    verify(signed_v2)

    OPENER.open(notification["UnsubscribeURL"], timeout=5).read()
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsDeleted"] == "1"
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.unsubscribe(SubscriptionArn=subscription_arn)


def test_raw_delivery_and_message_structure(emulator_server, subscriber):
    sns = emulator_server.client("sns")
    arn = sns.create_topic(Name="raw-topic")["TopicArn"]
    sub_arn = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=subscriber.url + "/raw",
                            Attributes={"RawMessageDelivery": "true"}, ReturnSubscriptionArn=True)["SubscriptionArn"]
    _, confirmation = subscriber.next_json()
    assert sns.confirm_subscription(TopicArn=arn, Token=confirmation["Token"])["SubscriptionArn"] == sub_arn
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.confirm_subscription(TopicArn=arn, Token="0" * 256)
    sns.publish(TopicArn=arn, Message=json.dumps({"default": "fallback", "http": "for http"}),
                MessageStructure="json")
    _, headers, body = subscriber.next()
    assert body == b"for http" and headers["x-amz-sns-rawdelivery"] == "true"


def test_delivery_retries_are_bounded_and_do_not_block_requests(emulator_server, subscriber):
    sns = emulator_server.client("sns")
    arn = sns.create_topic(Name="unreachable")["TopicArn"]
    with socket.socket() as probe:          # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/nobody"
    started = time.monotonic()
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=dead)
    assert time.monotonic() - started < 1.0
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=subscriber.url + "/alive")
    path, _, _ = subscriber.next(timeout=8)
    assert path == "/alive"


def test_list_subscriptions_paginators(emulator_server, subscriber):
    sns = emulator_server.client("sns", region="ap-south-1")
    arn = sns.create_topic(Name="many-subscribers")["TopicArn"]
    for i in range(101):
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=f"{subscriber.url}/s/{i}")
    assert sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=f"{subscriber.url}/s/0")["SubscriptionArn"] \
        == "pending confirmation"
    by_topic = list(sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn))
    assert [len(page["Subscriptions"]) for page in by_topic] == [100, 1]
    endpoints = {s["Endpoint"] for page in sns.get_paginator("list_subscriptions").paginate()
                 for s in page["Subscriptions"]}
    assert endpoints == {f"{subscriber.url}/s/{i}" for i in range(101)}


def test_subscribe_and_publish_errors(emulator_server, subscriber):
    sns = emulator_server.client("sns")
    arn = sns.create_topic(Name="strict")["TopicArn"]
    fifo = sns.create_topic(Name="strict.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    for protocol, endpoint in (("carrier-pigeon", "x"), ("sqs", "arn:aws:sqs:us-east-1:123456789012:q"),
                               ("https", subscriber.url), ("http", "ftp://example"), ("http", None)):
        kwargs = {"Endpoint": endpoint} if endpoint else {}
        with pytest.raises(sns.exceptions.InvalidParameterException):
            sns.subscribe(TopicArn=arn, Protocol=protocol, **kwargs)
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.subscribe(TopicArn=fifo, Protocol="http", Endpoint=subscriber.url)
    for kwargs in ({"Message": ""}, {"Message": "x", "Subject": "line\nbreak"}, {"Message": "x" * 262145},
                   {"Message": "{}", "MessageStructure": "json"}, {"Message": "x", "MessageStructure": "xml"},
                   {"Message": "x", "MessageAttributes": {"a": {"DataType": "Weird", "StringValue": "v"}}}):
        with pytest.raises(sns.exceptions.InvalidParameterException):
            sns.publish(TopicArn=arn, **kwargs)
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(PhoneNumber="+15555550100", Message="sms")
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=arn + "-missing", Message="x")
    with pytest.raises(sns.exceptions.AuthorizationErrorException):
        emulator_server.client("sns", access_key="210987654321").publish(TopicArn=arn, Message="x")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=fifo, Message="x")
    assert sns.publish(TopicArn=fifo, Message="x", MessageGroupId="g",
                       MessageDeduplicationId="d")["SequenceNumber"] == "1".zfill(20)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.unsubscribe(SubscriptionArn=arn + ":00000000-0000-4000-8000-000000000000")


# --- CloudTrail's use of topics -----------------------------------------------------------------

def test_create_trail_with_sns_topic(emulator_server):
    emulator_server.client("s3").create_bucket(Bucket="sns-trail-bucket")
    arn = emulator_server.client("sns").create_topic(Name="trail-topic")["TopicArn"]
    cloudtrail = emulator_server.cloudtrail()
    trail = cloudtrail.create_trail(Name="with-topic", S3BucketName="sns-trail-bucket", SnsTopicName="trail-topic")
    assert trail["SnsTopicARN"] == arn
    by_arn = cloudtrail.create_trail(Name="with-topic-arn", S3BucketName="sns-trail-bucket", SnsTopicName=arn)
    assert by_arn["SnsTopicARN"] == arn
    with pytest.raises(cloudtrail.exceptions.InsufficientSnsTopicPolicyException):
        cloudtrail.create_trail(Name="missing-topic", S3BucketName="sns-trail-bucket", SnsTopicName="no-such-topic")


# --- raw input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "code"), [
    (b"Version=2010-03-31", "MissingAction"),
    (b"Action=DoSomethingElse&Version=2010-03-31", "InvalidAction"),
    (b"Action=CreatePlatformApplication&Version=2010-03-31", "InvalidAction"),
    (b"Action=CreateTopic&Version=2010-03-31", "ValidationError"),
    (b"Action=CreateTopic&Name=%ff%fe", "InvalidParameter"),
    (b"Action=CreateTopic&Name=t&Attributes.entry.1.key=DisplayName", "InvalidParameter"),
    (b"Action=Subscribe&TopicArn=arn:aws:sns:us-east-1:123456789012:x&Protocol=http&ReturnSubscriptionArn=maybe",
     "InvalidParameter"),
    (b"Action=Publish&TopicArn=arn:aws:sns:us-east-1:123456789012:x&Message=m"
     b"&MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=Binary"
     b"&MessageAttributes.entry.1.Value.BinaryValue=!!!", "InvalidParameter"),
    (b"Action=ListTopics&NextToken=%00%01", "InvalidParameter"),
    (b"\xff\xfe\x00garbage=&&==", "MissingAction"),
])
def test_bad_form_input_gets_sns_xml_errors(emulator_server, body, code):
    assert_sns_error(*raw(emulator_server, body), code)


def test_raw_query_forms_and_get(emulator_server):
    body = urlencode({"Action": "CreateTopic", "Version": "2010-03-31", "Name": "raw-form",
                      "Attributes.entry.1.key": "DisplayName", "Attributes.entry.1.value": "Raw",
                      "Tags.member.1.Key": "team", "Tags.member.1.Value": "qa"}).encode()
    status, root = raw(emulator_server, body)
    assert status == 200 and root.tag == f"{NS}CreateTopicResponse"
    arn = root.findtext(f"{NS}CreateTopicResult/{NS}TopicArn")
    assert root.findtext(f"{NS}ResponseMetadata/{NS}RequestId")
    status, root = raw(emulator_server, query=urlencode({"Action": "GetTopicAttributes", "TopicArn": arn}),
                       method="GET")
    entries = {e.findtext(f"{NS}key"): e.findtext(f"{NS}value")
               for e in root.iter(f"{NS}entry")}
    assert status == 200 and entries["DisplayName"] == "Raw" and entries["TopicArn"] == arn
    assert_sns_error(*raw(emulator_server, query="Action=GetTopicAttributes&TopicArn=" + arn + "x",
                          method="GET"), "NotFound", 404)


# --- persistence --------------------------------------------------------------------------------

def test_topics_subscriptions_and_certificate_survive_a_restart(tmp_path, subscriber):
    first = start_emulator(EmulatorConfig(data_dir=tmp_path, seed=1))
    try:
        sns = first.client("sns")
        arn = sns.create_topic(Name="kept", Attributes={"DisplayName": "Kept"})["TopicArn"]
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=subscriber.url + "/kept")
        _, confirmation = subscriber.next_json()
        certificate = OPENER.open(confirmation["SigningCertURL"], timeout=5).read()
    finally:
        first.running.stop()
    assert json.loads((tmp_path / "state" / "sns.json").read_text())["topics"][0]["arn"] == arn
    second = start_emulator(EmulatorConfig(data_dir=tmp_path, seed=2))
    try:
        sns = second.client("sns")
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Kept"
        sns.confirm_subscription(TopicArn=arn, Token=confirmation["Token"])
        assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"][0]["Endpoint"] == \
            subscriber.url + "/kept"
        assert OPENER.open(second.url + "/_emulator/sns/SimpleNotificationService.pem", timeout=5).read() \
            == certificate
        assert second.state.topics.topic_exists("kept") and second.state.topics.topic_exists(arn)
    finally:
        second.running.stop()


def test_backend_rules_hold_without_http():
    """The SNS model enforces its rules on its own: idempotent CreateTopic, ownership, tag quota."""
    backend = SnsBackend(clock=FixedClock(datetime(2024, 5, 1, tzinfo=timezone.utc)), rng=random.Random(1))
    try:
        topic = backend.create_topic("111122223333", "eu-west-1", "rules", {"DisplayName": "A"}, {})
        assert topic.arn == "arn:aws:sns:eu-west-1:111122223333:rules"
        assert backend.create_topic("111122223333", "eu-west-1", "rules", {"DisplayName": "A"}, {}) is topic
        with pytest.raises(InvalidParameter):
            backend.create_topic("111122223333", "eu-west-1", "rules", {"DisplayName": "B"}, {})
        with pytest.raises(AuthorizationError) as denied:
            backend.topic_attributes("444455556666", topic.arn)
        assert denied.value.status == 403
        with pytest.raises(TagLimitExceeded):
            backend.tag("111122223333", topic.arn, {f"k{i}": "v" for i in range(51)})
        assert backend.publish("111122223333", topic.arn, "hello", None, None, {}, None, None)["MessageId"]
    finally:
        backend.close()
