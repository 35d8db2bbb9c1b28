"""One port, several protocols: tell them apart by the request, answer errors in each one's shape."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from flask import Request, Response

from cloudtrail_emulator.emulator.protocols import restxml
from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.emulator.protocols.json11 import JsonResponse, error_response
from cloudtrail_emulator.emulator.protocols.service_models import load_service_model
from cloudtrail_emulator.emulator.protocols.query import namespace, query_error

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_ACCOUNT = re.compile(r"^\d{12}$")
CONTROL_PREFIX = "/_emulator/"
#: the account of a request's verified access key (emulator/auth.py sets it when one is configured)
AUTH_ACCOUNT_KEY = "emulator.auth.account_id"


class Protocol(Enum):
    CLOUDTRAIL = "cloudtrail"          # JSON 1.1
    ORGANIZATIONS = "organizations"    # JSON 1.1
    JSON_UNKNOWN = "json"              # JSON-looking request for no service we speak
    QUERY = "query"                    # form `Action=` (SNS)
    S3 = "s3"                          # REST, path-style
    CONTROL = "control"                # /_emulator/...


@dataclass(frozen=True)
class Credential:
    access_key: str | None
    region: str | None
    service: str | None


def credential_of(request: Request) -> Credential:
    """Access key, region and service of the SigV4 credential scope (header or presigned query)."""
    text = request.headers.get("Authorization", "")
    match = _CREDENTIAL.search(text)
    if match is None and request.args.get("X-Amz-Credential"):
        match = _CREDENTIAL.search("Credential=" + request.args["X-Amz-Credential"])
    if match is None:
        return Credential(None, None, None)
    return Credential(*match.groups())


def target_prefix(service: str) -> str:
    """`<targetPrefix>.` of a JSON service's `X-Amz-Target`, from its botocore model."""
    return load_service_model(service).metadata["targetPrefix"] + "."


def classify(request: Request) -> Protocol:
    if request.path.startswith(CONTROL_PREFIX):
        return Protocol.CONTROL
    target = request.headers.get("X-Amz-Target", "")
    service = credential_of(request).service
    if target.startswith(target_prefix("cloudtrail")) or (not target and service == "cloudtrail"):
        return Protocol.CLOUDTRAIL
    if target.startswith(target_prefix("organizations")) or (not target and service == "organizations"):
        return Protocol.ORGANIZATIONS
    if target or "amz-json" in request.headers.get("Content-Type", ""):
        return Protocol.JSON_UNKNOWN
    if service == "sns" or "Action" in request.args or (
            request.mimetype == "application/x-www-form-urlencoded" and service != "s3"):
        return Protocol.QUERY
    return Protocol.S3


def context_of(request: Request, default_account: str, default_region: str, request_id: str) -> RequestContext:
    """Caller and place of a request. Region from the credential scope; account = the verified key's
    account, a 12-digit access key id, else the default."""
    cred = credential_of(request)
    account = cred.access_key if cred.access_key and _ACCOUNT.match(cred.access_key) else default_account
    account = request.environ.get(AUTH_ACCOUNT_KEY) or account
    return RequestContext(account_id=account, region=cred.region or default_region, request_id=request_id,
                          access_key=cred.access_key, source_ip=request.remote_addr or "127.0.0.1",
                          user_agent=request.headers.get("User-Agent", ""))


def to_flask(response: JsonResponse) -> Response:
    return Response(response.body, status=response.status, headers=response.headers)


def error_for(protocol: Protocol, error: AwsError, request: Request, request_id: str) -> Response:
    """The error in the shape the request's protocol expects."""
    if protocol is Protocol.S3:
        body = b"" if request.method == "HEAD" else restxml.error_body(error, request.path, request_id)
        return Response(body, status=error.status, headers={**error.headers, "Content-Type": "application/xml",
                                                            "x-amz-request-id": request_id})
    if protocol is Protocol.QUERY:
        return query_error(error, request_id, namespace(load_service_model("sns")))
    return to_flask(error_response(error, request_id))
