"""Builders of hostile SigV4 requests, sent as raw HTTP (http.client sends what boto3 would refuse to).

Two classes, each a list of `Hostile` (the request and the refusal AWS answers), reusable by the fuzz:
- `service_mismatch_replays`: requests signed for one service (captured S3 presigned URLs and
  header-signed S3 requests, SNS or CloudTrail signatures) replayed with an added `X-Amz-Target` and a
  new JSON body, unsigned headers added, `host` left unsigned, scope regions outside the partition;
- `cross_account_requests`: correctly signed S3 requests from another account's key on a bucket
  it does not own (objects, listings, settings, policy, copies out of it);
- `ambiguous_credentials`: valid signatures whose Authorization header could be read two ways (a
  second `Credential=` put before the signed one, a scope date that is not YYYYMMDD).
Signatures come from botocore's signers (SigV4Auth, S3SigV4Auth, S3SigV4QueryAuth).
"""
from __future__ import annotations

import http.client
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

JSON_TYPE = "application/x-amz-json-1.1"
SCOPED_TO_CLOUDTRAIL = "Credential should be scoped to correct service: 'cloudtrail'. "


@dataclass(frozen=True)
class Raw:
    """One request exactly as sent: method, target (path and query), headers, body."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Answer:
    status: int
    code: str | None          # JSON `__type` or XML `<Code>` (None: no body, a HEAD)
    message: str | None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hostile:
    """A hostile request and the refusal expected: status, code and message (None: not checked)."""

    name: str
    request: Raw
    status: int
    code: str | None
    message: str | None = None


def send(url: str, raw: Raw) -> Answer:
    """Send `raw` to the server at `url` (http://host:port) over one fresh connection."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(raw.method, raw.target, skip_host=True, skip_accept_encoding=True)
        headers = {"Host": parts.netloc, **raw.headers} if not any(n.lower() == "host" for n in raw.headers) \
            else raw.headers
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(raw.body)))
        connection.endheaders(raw.body)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if not body:
        return Answer(response.status, None, None)
    if body.lstrip().startswith(b"{"):
        data = json.loads(body)
        return Answer(response.status, data.get("__type"), data.get("message") or data.get("Message"))
    root = ET.fromstring(body)
    fields = {child.tag: child.text or "" for child in root}
    return Answer(response.status, root.findtext(".//{*}Code"), root.findtext(".//{*}Message"), fields)


class _HostUnsigned(SigV4Auth):
    """botocore's signer leaving `host` out of the signed headers (AWS refuses that)."""

    def headers_to_sign(self, request):
        headers = super().headers_to_sign(request)
        del headers["host"]
        return headers


def sign(url: str, method: str, path: str, service: str, key: str, secret: str, *, region: str = "us-east-1",
         headers: dict[str, str] | None = None, body: bytes = b"", presign: bool = False,
         signer: type[SigV4Auth] | None = None) -> Raw:
    """A request signed by botocore for `service` (S3: header-signed, or presigned with `presign`)."""
    request = AWSRequest(method, url.rstrip("/") + path, data=body, headers=dict(headers or {}))
    credentials = Credentials(key, secret)
    if presign:
        S3SigV4QueryAuth(credentials, "s3", region, expires=300).add_auth(request)
    else:
        (signer or (S3SigV4Auth if service == "s3" else SigV4Auth))(credentials, service, region).add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return Raw(method, target, {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}, body)


def _with(raw: Raw, method: str | None = None, headers: dict[str, str] | None = None,
          body: bytes | None = None) -> Raw:
    """A captured request replayed with another method, added headers or another body."""
    return Raw(method or raw.method, raw.target, {**raw.headers, **(headers or {})},
               raw.body if body is None else body)


def service_mismatch_replays(url: str, key: str, secret: str, bucket: str, trail: str) -> list[Hostile]:
    """Requests whose signature does not cover the service, headers or region they would act with;
    none may touch `trail` (DeleteTrail/StopLogging bodies name it) or `bucket`'s objects."""
    delete = {"X-Amz-Target": "CloudTrail_20131101.DeleteTrail", "Content-Type": JSON_TYPE}
    stop = {"X-Amz-Target": "CloudTrail_20131101.StopLogging", "Content-Type": JSON_TYPE}
    name = json.dumps({"Name": trail}).encode()
    presigned_get = sign(url, "GET", f"/{bucket}/k", "s3", key, secret, presign=True)
    presigned_list = sign(url, "GET", f"/{bucket}?list-type=2", "s3", key, secret, presign=True)
    s3_post = sign(url, "POST", "/", "s3", key, secret)
    bad_region = "xx-nowhere-1"
    ct_unsigned_target = sign(url, "POST", "/", "cloudtrail", key, secret, body=name,
                              headers={"Content-Type": JSON_TYPE})
    return [
        Hostile("presigned-s3-get-as-post-with-target", _with(presigned_get, "POST", delete, name),
                400, "InvalidSignatureException", SCOPED_TO_CLOUDTRAIL),
        Hostile("presigned-s3-get-with-target", _with(presigned_get, None, stop, name),
                400, "InvalidSignatureException", SCOPED_TO_CLOUDTRAIL),
        Hostile("presigned-s3-list-with-target", _with(presigned_list, "POST", delete, name),
                400, "InvalidSignatureException", SCOPED_TO_CLOUDTRAIL),
        Hostile("header-signed-s3-with-added-target", _with(s3_post, None, delete, name),
                400, "InvalidSignatureException", SCOPED_TO_CLOUDTRAIL),
        Hostile("header-signed-s3-signing-the-target",
                sign(url, "POST", "/", "s3", key, secret, headers=delete, body=name),
                400, "InvalidSignatureException", SCOPED_TO_CLOUDTRAIL),
        Hostile("sns-signed-cloudtrail-target", sign(url, "POST", "/", "sns", key, secret, headers=delete, body=name),
                400, "InvalidSignatureException", SCOPED_TO_CLOUDTRAIL),
        Hostile("cloudtrail-signed-organizations-target",
                sign(url, "POST", "/", "cloudtrail", key, secret, body=b"{}", headers={
                    "X-Amz-Target": "AWSOrganizationsV20161128.DescribeOrganization", "Content-Type": JSON_TYPE}),
                400, "InvalidSignatureException", "Credential should be scoped to correct service: 'organizations'. "),
        Hostile("cloudtrail-signed-target-added-unsigned", _with(ct_unsigned_target, None, delete),
                400, "InvalidSignatureException", "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."),
        Hostile("cloudtrail-host-unsigned",
                sign(url, "POST", "/", "cloudtrail", key, secret, headers=stop, body=name, signer=_HostUnsigned),
                400, "InvalidSignatureException",
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."),
        Hostile("cloudtrail-region-outside-the-partition",
                sign(url, "POST", "/", "cloudtrail", key, secret, headers=stop, body=name, region=bad_region),
                400, "InvalidSignatureException", f"Credential should be scoped to a valid region, not '{bad_region}'. "),
        Hostile("sts-region-outside-the-partition",
                sign(url, "POST", "/", "sts", key, secret, body=b"Action=GetCallerIdentity&Version=2011-06-15",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}, region=bad_region),
                403, "SignatureDoesNotMatch", f"Credential should be scoped to a valid region, not '{bad_region}'. "),
        Hostile("s3-header-region-outside-the-partition",
                sign(url, "DELETE", f"/{bucket}/k", "s3", key, secret, region=bad_region),
                400, "AuthorizationHeaderMalformed",
                f"The authorization header is malformed; the region '{bad_region}' is wrong; expecting 'us-east-1'"),
        Hostile("s3-presigned-region-outside-the-partition",
                sign(url, "DELETE", f"/{bucket}/k", "s3", key, secret, region=bad_region, presign=True),
                400, "AuthorizationQueryParametersError",
                f"Error parsing the X-Amz-Credential parameter; the region '{bad_region}' is wrong; "
                "expecting 'us-east-1'"),
        Hostile("s3-put-with-added-copy-source",
                _with(sign(url, "PUT", f"/{bucket}/copied", "s3", key, secret),
                      headers={"x-amz-copy-source": f"/{bucket}/k"}),
                403, "AccessDenied", "There were headers present in the request which were not signed"),
        Hostile("s3-presigned-put-with-added-acl",
                _with(sign(url, "PUT", f"/{bucket}/k", "s3", key, secret, presign=True),
                      headers={"x-amz-acl": "public-read"}, body=b"replaced"),
                403, "AccessDenied", "There were headers present in the request which were not signed"),
    ]


def cross_account_requests(url: str, key: str, secret: str, bucket: str, own_bucket: str) -> list[Hostile]:
    """S3 requests correctly signed by a key of another account than `bucket`'s owner (which has an
    object `k`); `own_bucket` is a bucket of that other account (copy target)."""
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*"}]}).encode()

    def signed(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
               presign: bool = False) -> Raw:
        return sign(url, method, path, "s3", key, secret, body=body, headers=headers, presign=presign)

    denied = [
        ("get-object", signed("GET", f"/{bucket}/k")),
        ("presigned-get-object", signed("GET", f"/{bucket}/k", presign=True)),
        ("put-object", signed("PUT", f"/{bucket}/planted", b"planted")),
        ("delete-object", signed("DELETE", f"/{bucket}/k")),
        ("list-objects-v2", signed("GET", f"/{bucket}?list-type=2")),
        ("list-objects", signed("GET", f"/{bucket}")),
        ("list-uploads", signed("GET", f"/{bucket}?uploads")),
        ("create-upload", signed("POST", f"/{bucket}/planted?uploads")),
        ("get-policy", signed("GET", f"/{bucket}?policy")),
        ("put-policy", signed("PUT", f"/{bucket}?policy", policy)),
        ("delete-policy", signed("DELETE", f"/{bucket}?policy")),
        ("get-versioning", signed("GET", f"/{bucket}?versioning")),
        ("get-acl", signed("GET", f"/{bucket}?acl")),
        ("put-tagging", signed("PUT", f"/{bucket}?tagging",
                               b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>")),
        ("get-location", signed("GET", f"/{bucket}?location")),
        ("delete-bucket", signed("DELETE", f"/{bucket}")),
        ("copy-out-of-the-bucket", signed("PUT", f"/{own_bucket}/stolen",
                                          headers={"x-amz-copy-source": f"/{bucket}/k"})),
    ]
    found = [Hostile(f"cross-account-{name}", raw, 403, "AccessDenied", "Access Denied") for name, raw in denied]
    found += [Hostile("cross-account-head-object", signed("HEAD", f"/{bucket}/k"), 403, None),
              Hostile("cross-account-head-bucket", signed("HEAD", f"/{bucket}"), 403, None)]
    return found


class _ShortScopeDate(S3SigV4Auth):
    """botocore's S3 signer with a 4-digit scope date (YYYY instead of YYYYMMDD), signed with it."""

    def credential_scope(self, request):
        stamp = request.context["timestamp"]
        return super().credential_scope(request).replace(stamp[:8], stamp[:4], 1)

    def scope(self, request):
        return f"{self.credentials.access_key}/{self.credential_scope(request)}"

    def signature(self, string_to_sign, request):
        key = self._sign(f"AWS4{self.credentials.secret_key}".encode(), request.context["timestamp"][:4])
        for part in (self._region_name, self._service_name, "aws4_request"):
            key = self._sign(key, part)
        return self._sign(key, string_to_sign, hex=True)


def _credential_first(raw: Raw, credential: str) -> Raw:
    """`raw` with another `Credential=` field before the signed one (the header is not signed)."""
    algorithm, _, fields = raw.headers["Authorization"].partition(" ")
    return _with(raw, headers={"Authorization": f"{algorithm} Credential={credential}, {fields}"})


def ambiguous_credentials(url: str, key: str, secret: str, bucket: str, account: str) -> list[Hostile]:
    """Requests signed by `key` (another account than `bucket`'s owner `account`) whose Authorization
    header names a second credential or an odd scope date: each must be refused as malformed, not
    routed or attributed by one reading and verified by another."""
    get_object = sign(url, "GET", f"/{bucket}/k", "s3", key, secret)
    topic = sign(url, "POST", "/", "sns", key, secret, body=b"Action=CreateTopic&Name=replayed&Version=2010-03-31",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    date = get_object.headers["X-Amz-Date"][:8]
    return [
        Hostile("scope-date-of-four-digits", sign(url, "GET", f"/{bucket}/k", "s3", key, secret,
                                                  signer=_ShortScopeDate), 400, "AuthorizationHeaderMalformed"),
        Hostile("owner-account-credential-first",
                _credential_first(get_object, f"{account}/{date}/us-east-1/s3/aws4_request"),
                400, "AuthorizationHeaderMalformed"),
        Hostile("other-region-credential-first",
                _credential_first(topic, f"{key}/{date}/eu-west-3/sns/aws4_request"), 400, "IncompleteSignature"),
    ]
