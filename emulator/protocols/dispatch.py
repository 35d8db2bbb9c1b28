"""One port, several services: route a request to the service it is signed for, answer errors in
each service's own wire shape.

A signed request (SigV4 `Authorization` header or presigned `X-Amz-Credential`) is executed by the
service named in its credential scope, and only there: a service the emulator does not serve gets that
service's protocol error (`errors.not_available`). One port serves every service, so an `X-Amz-Target`
addresses the JSON 1.1 service owning its prefix (an unknown one: CloudTrail's endpoint, which answers
unknown targets): signed for another service, the request is refused with the error that service's
endpoint answers ("Credential should be scoped to correct service: 'cloudtrail'."), never executed.
The scope's region must be a region of the `aws` partition (every region is served on the one port).
Only unsigned requests are routed by their shape: `X-Amz-Target` (JSON 1.1), an `Action=` form
(Query: SNS, STS or EC2 by `Version`, else by action name), else S3.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.loaders import Loader
from flask import Request, Response
from werkzeug.exceptions import HTTPException

from cloudtrail_emulator.emulator.protocols import restxml
from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.protocols.ec2 import ec2_error
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.emulator.protocols.json11 import JsonResponse, error_response, target_prefixes
from cloudtrail_emulator.emulator.protocols.query import metadata_namespace, namespace, query_error
from cloudtrail_emulator.emulator.protocols.service_models import load_service_model

_SCOPE_DATE = re.compile(r"[0-9]{8}")
_ACCOUNT = re.compile(r"^\d{12}$")
_SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
#: the regions of the `aws` partition (botocore's endpoints.json regionRegex): every one is served
_REGION = re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$")
GLOBAL_REGION = "us-east-1"
#: paths the emulator answers itself, never an AWS service: its control API and moto's `/moto-api/`
CONTROL_PREFIXES = ("/_emulator/", "/moto-api/")
#: the account of a request's verified access key (emulator/auth.py sets it when one is configured)
AUTH_ACCOUNT_KEY = "emulator.auth.account_id"
_ROUTE_KEY = "emulator.route"


class Protocol(Enum):
    """The wire shape of a request and of its errors."""

    JSON = "json"                      # JSON 1.1 (`X-Amz-Target`); also the error shape of REST-JSON
    QUERY = "query"                    # form `Action=` (SNS, STS, IAM...); also non-S3 REST-XML errors
    EC2 = "ec2"                        # EC2's Query dialect, `<Response><Errors>` errors
    S3 = "s3"                          # REST-XML, path-style
    CONTROL = "control"                # /_emulator/..., /moto-api/...


#: the services the emulator serves (botocore name = SigV4 signing name) and their protocols:
#: the one routing table
SERVED: dict[str, Protocol] = {
    "cloudtrail": Protocol.JSON, "organizations": Protocol.JSON, "s3": Protocol.S3,
    "sns": Protocol.QUERY, "sts": Protocol.QUERY, "ec2": Protocol.EC2,
}
#: the JSON 1.1 endpoint answering targets no served service owns (UnknownOperationException)
JSON_FALLBACK = "cloudtrail"
_MODEL_PROTOCOLS = {"json": Protocol.JSON, "rest-json": Protocol.JSON, "query": Protocol.QUERY,
                    "rest-xml": Protocol.QUERY, "ec2": Protocol.EC2}


@dataclass(frozen=True)
class Route:
    """Where a request goes: a protocol and the service (botocore name; None: none addressed)."""

    protocol: Protocol
    service: str | None
    served: bool = True
    conflict: AwsError | None = None   # why the credential scope does not fit the executing service


@dataclass(frozen=True)
class Credential:
    access_key: str | None
    region: str | None
    service: str | None
    presigned: bool = False


def auth_fields(text: str) -> dict[str, str]:
    """The `name=value` fields after `AWS4-HMAC-SHA256 ` in an Authorization header; ValueError when a
    name repeats (routing and the signature check must read the same credential)."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            if name.strip() in fields:
                raise ValueError(f"{name.strip()} is given twice")
            fields[name.strip()] = value.strip()
    return fields


def scope_parts(credential: str) -> list[str] | None:
    """`<key>/<YYYYMMDD>/<region>/<service>/aws4_request` split, or None when it is not one."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts) or not _SCOPE_DATE.fullmatch(parts[1]):
        return None
    return parts


def credential_of(request: Request) -> Credential:
    """Access key, region and service of the SigV4 credential scope (the Authorization header when
    there is one, else the presigned query), read the way sigv4.py reads it."""
    header = request.headers.get("Authorization")
    if header is not None:
        try:
            scope = scope_parts(auth_fields(header.strip().partition(" ")[2]).get("Credential", ""))
        except ValueError:
            scope = None
        presigned = False
    else:
        scope, presigned = scope_parts(request.args.get("X-Amz-Credential", "")), True
    if scope is None:
        return Credential(None, None, None)
    return Credential(scope[0], scope[2], scope[3], presigned=presigned)


@lru_cache(maxsize=256)
def _model_metadata(service: str) -> dict | None:
    """The metadata of botocore's model named `service` (None: no such model); only the metadata is
    kept, so requests signed for many services do not keep their whole models in memory."""
    if not _SERVICE_NAME.match(service):
        return None
    try:
        return dict(Loader().load_service_model(service, "service-2")["metadata"])
    except (UnknownServiceError, DataNotFoundError):
        return None


def _model_protocol(service: str) -> Protocol | None:
    """The protocol of botocore's model named `service`, None when there is no such model."""
    metadata = _model_metadata(service)
    return None if metadata is None else _MODEL_PROTOCOLS.get(metadata.get("protocol", ""))


def _shape_protocol(request: Request) -> Protocol:
    """The protocol a request looks like: what an unsigned request, or one signed for an unknown
    service, is answered in."""
    if request.headers.get("X-Amz-Target") or "amz-json" in request.headers.get("Content-Type", ""):
        return Protocol.JSON
    if "Action" in request.args or request.mimetype == "application/x-www-form-urlencoded":
        return Protocol.QUERY
    return Protocol.S3


def _json_service(target: str) -> str | None:
    """The served JSON 1.1 service whose accepted `X-Amz-Target` forms include `target`'s prefix."""
    prefix = target.rpartition(".")[0]
    return next((name for name, protocol in SERVED.items() if protocol is Protocol.JSON
                 and prefix in target_prefixes(load_service_model(name))), None)


def _query_service(request: Request) -> str:
    """The served Query-style service an unsigned `Action=` request is for: by its `Version`, else by
    the action's name, else SNS (which answers an unknown action)."""
    try:
        values = request.values
        version, action = values.get("Version"), values.get("Action")
    except HTTPException:      # a body too large or broken to parse: SNS answers the error
        return "sns"
    candidates = [name for name, protocol in SERVED.items() if protocol in (Protocol.QUERY, Protocol.EC2)]
    models = {name: load_service_model(name) for name in candidates}
    return (next((n for n, m in models.items() if version and m.api_version == version), None)
            or next((n for n, m in models.items() if action in m.operation_names), None)
            or "sns")


def _route(request: Request) -> Route:
    if request.path.startswith(CONTROL_PREFIXES):
        return Route(Protocol.CONTROL, None)
    target = request.headers.get("X-Amz-Target", "")
    credential = credential_of(request)
    signed = credential.service
    if signed is not None:
        protocol = SERVED.get(signed)
        addressed = _json_service(target) if target else None
        if target and addressed is None and protocol not in (None, Protocol.JSON):
            addressed = JSON_FALLBACK
        if addressed is not None and addressed != signed:
            return Route(Protocol.JSON, addressed, conflict=scope_error(Protocol.JSON, addressed, credential))
        if protocol is None:
            return Route(_model_protocol(signed) or _shape_protocol(request), signed, served=False)
        return Route(protocol, signed, conflict=scope_error(protocol, signed, credential))
    shape = _shape_protocol(request)
    if shape is Protocol.JSON:
        return Route(Protocol.JSON, _json_service(target))
    if shape is Protocol.QUERY:
        service = _query_service(request)
        return Route(SERVED[service], service)
    return Route(Protocol.S3, "s3")


def scope_error(protocol: Protocol, service: str, credential: Credential) -> AwsError | None:
    """AWS's error when a credential scope does not fit `service` (speaking `protocol`): scoped to
    another service (only an `X-Amz-Target` can address one) or to a region outside the `aws`
    partition; None when it fits."""
    region = credential.region or ""
    if credential.service != service:
        return AwsError(f"Credential should be scoped to correct service: '{service}'. ",
                        code="InvalidSignatureException", status=400)
    if _REGION.match(region):
        return None
    if protocol is Protocol.S3:
        # S3 names the region it expects (the global endpoint's), so that SDKs sign again
        what = f"the region '{region}' is wrong; expecting '{GLOBAL_REGION}'"
        if credential.presigned:
            return AwsError(f"Error parsing the X-Amz-Credential parameter; {what}",
                            code="AuthorizationQueryParametersError", fields={"Region": GLOBAL_REGION})
        return AwsError(f"The authorization header is malformed; {what}", code="AuthorizationHeaderMalformed",
                        fields={"Region": GLOBAL_REGION})
    message = f"Credential should be scoped to a valid region, not '{region}'. "
    if protocol is Protocol.JSON:
        return AwsError(message, code="InvalidSignatureException", status=400)
    return AwsError(message, code="SignatureDoesNotMatch", status=403)


def route_of(request: Request) -> Route:
    """Where `request` goes (worked out once per request)."""
    found = request.environ.get(_ROUTE_KEY)
    if found is None:
        found = request.environ[_ROUTE_KEY] = _route(request)
    return found


def classify(request: Request) -> Protocol:
    """The wire protocol of a request (and of its error answers)."""
    return route_of(request).protocol


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


def _namespace(service: str | None) -> str:
    """The XML namespace of a Query service's error documents (SNS's when the service has no model)."""
    metadata = None if service is None else _model_metadata(service)
    return metadata_namespace(metadata) if metadata is not None else namespace(load_service_model("sns"))


def error_for(route: Route, error: AwsError, request: Request, request_id: str) -> Response:
    """The error in the shape the request's service expects."""
    if route.protocol is Protocol.S3:
        body = b"" if request.method == "HEAD" else restxml.error_body(error, request.path, request_id)
        return Response(body, status=error.status, headers={**error.headers, "Content-Type": "application/xml",
                                                            "x-amz-request-id": request_id})
    if route.protocol is Protocol.QUERY:
        return query_error(error, request_id, _namespace(route.service))
    if route.protocol is Protocol.EC2:
        return ec2_error(error, request_id)
    return to_flask(error_response(error, request_id))
