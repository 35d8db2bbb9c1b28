"""Every API call the emulator answers becomes one CloudTrail record in the event store.

Who called: the SigV4 access key. A 12-digit key id acts as that account (see dispatch.context_of);
every signed caller is the IAM user `emulator` of its account, with the key as its accessKeyId when
it looks like one (16-128 of A-Z0-9) or else a stable `AKIA...` id derived from the key (so the
dummy key `testing` always shows as the same AKIA id). Unsigned requests are recorded the way S3
records anonymous calls (`AWSAccount`, accountId `ANONYMOUS_PRINCIPAL`).

Not recorded: the control API (`/_emulator/`), requests for services the emulator does not speak.
LookupEvents calls are recorded (AWS does: management read events), so they show up in later
lookups; a test that counts events should filter by an attribute or a time range.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Request, Response, g

from cloudtrail_emulator.emulator.config import Clock
from cloudtrail_emulator.emulator.protocols.dispatch import Protocol, classify, context_of, credential_of
from cloudtrail_emulator.emulator.pipeline.events import EventStore
from cloudtrail_emulator.generators.times import format_time

EVENT_VERSION = "1.09"
USER_NAME = "emulator"
_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")
_XML_CODE = re.compile(rb"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")
_READ_PREFIXES = ("Describe", "Get", "List", "Lookup", "Head")
_STATUS_CODES = {301: "PermanentRedirect", 400: "BadRequest", 403: "AccessDenied", 404: "NotFound",
                 405: "MethodNotAllowed", 409: "Conflict", 412: "PreconditionFailed",
                 416: "InvalidRange", 500: "InternalError", 501: "NotImplemented"}
_SOURCES = {Protocol.CLOUDTRAIL: "cloudtrail.amazonaws.com",
            Protocol.ORGANIZATIONS: "organizations.amazonaws.com", Protocol.QUERY: "sns.amazonaws.com",
            Protocol.S3: "s3.amazonaws.com"}
# S3 calls CloudTrail logs as data events (object level, plus object listings).
S3_DATA_EVENTS = frozenset({
    "GetObject", "HeadObject", "PutObject", "CopyObject", "DeleteObject", "DeleteObjects",
    "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
    "AbortMultipartUpload", "ListParts", "ListObjects", "ListMultipartUploads",
})
BODY_KEY = "recorder_json_body"     # flask.g attribute: the JSON request body the dispatcher read


def remember_body(body: bytes) -> None:
    """Keep the JSON body the dispatcher consumed for the recorder (the stream is read once)."""
    setattr(g, BODY_KEY, body)


def camel(value: Any) -> Any:
    """AWS wire keys -> CloudTrail's lowerCamelCase keys, recursively."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


@functools.lru_cache(maxsize=4096)
def _derived(prefix: str, text: str, length: int) -> str:
    digest = base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()
    return prefix + digest[:length]


def user_identity(access_key: str | None, account: str) -> dict:
    """The userIdentity of a caller signing with `access_key` in `account` (see the module doc)."""
    if not access_key:
        return {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}
    key_id = access_key if _KEY_ID.match(access_key) else _derived("AKIA", f"key:{access_key}", 16)
    return {"type": "IAMUser", "principalId": _derived("AIDA", f"user:{account}", 17),
            "arn": f"arn:aws:iam::{account}:user/{USER_NAME}", "accountId": account,
            "accessKeyId": key_id, "userName": USER_NAME}


def s3_operation(method: str, bucket: str, key: str | None, args: dict, headers) -> str:
    """S3's operation (CloudTrail eventName) from the method, path and query of a path-style call."""
    copy = "x-amz-copy-source" in headers
    if not bucket:
        return "ListBuckets"
    if key is None:
        sub = next((a for a in ("policy", "location", "uploads", "delete", "acl", "versioning",
                                "tagging", "cors", "lifecycle", "encryption") if a in args), None)
        if method == "POST" and sub == "delete":
            return "DeleteObjects"
        if method == "GET" and sub == "uploads":
            return "ListMultipartUploads"
        if sub is not None:
            noun = "Bucket" + {"location": "Location"}.get(sub, sub.capitalize())
            return {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, method.title()) + noun
        return {"GET": "ListObjects", "HEAD": "HeadBucket", "PUT": "CreateBucket",
                "DELETE": "DeleteBucket"}.get(method, f"{method.title()}Bucket")
    if "uploadId" in args:
        return {"GET": "ListParts", "PUT": "UploadPartCopy" if copy else "UploadPart",
                "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload"}.get(method, "UploadPart")
    if method == "POST" and "uploads" in args:
        return "CreateMultipartUpload"
    return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "CopyObject" if copy else "PutObject",
            "DELETE": "DeleteObject"}.get(method, f"{method.title()}Object")


@dataclass(frozen=True)
class Call:
    """What one answered request was, protocol aside."""

    source: str
    name: str
    read_only: bool
    request_parameters: dict | None
    response_elements: dict | None
    error: tuple[str, str] | None
    request_id: str
    data_event: bool = False
    resources: list[dict] | None = None
    additional: dict | None = None


class Recorder:
    """Turns answered requests into records and adds them to the event store."""

    def __init__(self, store: EventStore, clock: Clock, default_account: str, default_region: str):
        self.store = store
        self.clock = clock
        self.default_account = default_account
        self.default_region = default_region
        self._readers: dict[Protocol, Callable[[Request, Response, str], Call | None]] = {
            Protocol.CLOUDTRAIL: self._json_call, Protocol.ORGANIZATIONS: self._json_call,
            Protocol.S3: self._s3_call, Protocol.QUERY: self._query_call,
        }

    def observe(self, request: Request, response: Response) -> None:
        """Record `request` (answered by `response`) if it is an AWS API call."""
        protocol = classify(request)
        reader = self._readers.get(protocol)
        if reader is None:
            return
        call = reader(request, response, _SOURCES[protocol])
        if call is not None:
            self.store.add([self.record(request, call)])

    def record(self, request: Request, call: Call) -> dict:
        """The CloudTrail record of `call`, in CloudTrail's key order."""
        ctx = context_of(request, self.default_account, self.default_region, call.request_id)
        record: dict[str, Any] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": user_identity(credential_of(request).access_key, ctx.account_id),
            "eventTime": format_time(self.clock.now()),
            "eventSource": call.source,
            "eventName": call.name,
            "awsRegion": ctx.region,
            "sourceIPAddress": request.remote_addr or "127.0.0.1",
            "userAgent": request.headers.get("User-Agent", ""),
        }
        if call.error is not None:
            record["errorCode"], record["errorMessage"] = call.error
        record["requestParameters"] = call.request_parameters
        record["responseElements"] = None if call.error or call.read_only else call.response_elements
        if call.additional:
            record["additionalEventData"] = call.additional
        record["requestID"] = call.request_id
        # from the OS, never from the configured seed: a seeded sequence would start over after a
        # restart, and the event index drops a repeated eventID (the call would be lost)
        record["eventID"] = str(uuid.uuid4())
        record["readOnly"] = call.read_only
        if call.resources:
            record["resources"] = call.resources
        record["eventType"] = "AwsApiCall"
        record["managementEvent"] = not call.data_event
        record["recipientAccountId"] = ctx.account_id
        record["eventCategory"] = "Data" if call.data_event else "Management"
        return record

    # -- per protocol --------------------------------------------------------------------------

    def _json_call(self, request: Request, response: Response, source: str) -> Call | None:
        name = request.headers.get("X-Amz-Target", "").rpartition(".")[2]
        if not name or not response.status_code:
            return None
        params = _json_object(getattr(g, BODY_KEY, b""))
        out = _json_object(response.get_data()) if "json" in response.mimetype else None
        error = None
        if response.status_code >= 400:
            out = out or {}
            error = (str(out.get("__type", "InternalFailure")).rpartition("#")[2],
                     str(out.get("message", out.get("Message", ""))))
        return Call(source, name, name.startswith(_READ_PREFIXES), camel(params) or None,
                    camel(out) or None, error, response.headers.get("x-amzn-RequestId", ""))

    def _s3_call(self, request: Request, response: Response, source: str) -> Call | None:
        bucket, sep, key = request.path.lstrip("/").partition("/")
        key_or_none = key if sep and key else None
        args = {name: request.args.get(name, "") for name in request.args}
        name = s3_operation(request.method, bucket, key_or_none, args, request.headers)
        params: dict[str, Any] = {}
        if bucket:
            params["bucketName"] = bucket
        params["Host"] = request.host
        params.update({k: v for k, v in args.items() if not k.startswith("X-Amz-")})
        if key_or_none is not None:
            params["key"] = key_or_none
        error = None
        if response.status_code >= 400:
            body = b"" if request.method == "HEAD" else response.get_data()
            code, message = _XML_CODE.search(body), _XML_MESSAGE.search(body)
            error = (code.group(1).decode() if code else _STATUS_CODES.get(response.status_code, "Error"),
                     message.group(1).decode() if message else "")
        data = name in S3_DATA_EVENTS
        resources = None
        if data and bucket:
            ctx = context_of(request, self.default_account, self.default_region, "")
            resources = ([{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}]
                         if key_or_none is not None else [])
            resources.append({"accountId": ctx.account_id, "type": "AWS::S3::Bucket",
                              "ARN": f"arn:aws:s3:::{bucket}"})
        sent = 0 if request.method == "HEAD" else response.content_length or 0
        additional = {"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader",
                      "bytesTransferredIn": request.content_length or 0, "bytesTransferredOut": sent}
        if response.headers.get("x-amz-id-2"):
            additional["x-amz-id-2"] = response.headers["x-amz-id-2"]
        return Call(source, name, request.method in ("GET", "HEAD"), params, None, error,
                    response.headers.get("x-amz-request-id", ""), data, resources, additional)

    def _query_call(self, request: Request, response: Response, source: str) -> Call | None:
        values = request.values.to_dict()
        name = values.pop("Action", "")
        if not name:
            return None
        values.pop("Version", None)
        body = response.get_data()
        error = None
        if response.status_code >= 400:
            code, message = _XML_CODE.search(body), _XML_MESSAGE.search(body)
            error = (code.group(1).decode() if code else _STATUS_CODES.get(response.status_code, "Error"),
                     message.group(1).decode() if message else "")
        request_id = response.headers.get("x-amzn-RequestId", "")
        return Call(source, name, name.startswith(_READ_PREFIXES), camel(values) or None, None, error,
                    request_id)


def _json_object(body: bytes) -> dict:
    try:
        value = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
