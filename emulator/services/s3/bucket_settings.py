"""Bucket sub-resource settings (`?acl`, `?versioning`, `?encryption`...): Put, Get and Delete.

One table (`SETTINGS`) says, per sub-resource, its operations, AWS's default for a bucket that never
had it put, and the error Get answers when there is none. Bodies are read and written by botocore's
model shapes (emulator/services/s3/xmlshapes.py): the Put operation's payload member gives the root
element and its shape, the Get operation's output (or output payload) shape the answer's layout.
Values are stored per bucket in `S3State` (persisted in the state dir); the rules each setting must
follow are in emulator/services/s3/setting_rules.py, the ACL's in emulator/services/s3/bucket_acl.py.

Defaults follow AWS for buckets created since April 2023: Block Public Access on (all four flags),
Object Ownership `BucketOwnerEnforced` (ACLs disabled), default encryption SSE-S3 (since January
2023; DeleteBucketEncryption returns to it), the owner's FULL_CONTROL grant as the ACL, versioning,
logging and notifications off (empty documents).
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

import flask
from botocore.model import Shape

from cloudtrail_emulator.emulator.protocols import restxml as x
from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.emulator.protocols.service_models import load_service_model
from cloudtrail_emulator.emulator.services.s3 import bucket_acl, setting_rules, spool, xmlshapes
from cloudtrail_emulator.emulator.services.s3.exceptions import S3Error, malformed_xml
from cloudtrail_emulator.emulator.services.s3.model import S3Backend, canonical_id
from cloudtrail_emulator.emulator.services.s3.wire import S3Request

MAX_SETTING_BYTES = 1024 * 1024
SSE_S3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}
BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}
OWNER_ENFORCED = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}

Handler = Callable[[S3Request, RequestContext], flask.Response]


@dataclass(frozen=True)
class Setting:
    """One bucket sub-resource: its operations, default and missing error."""

    subresource: str                          # the query-string name: `acl`, `object-lock`...
    put: str                                  # API operation names (botocore's)
    get: str
    delete: str | None = None
    missing: tuple[str, str] | None = None    # Get's (code, message) when there is no setting
    default: Callable[[str], dict] | None = None   # owner account -> the value of a never-set bucket
    delete_resets: bool = True                # Delete returns to the default (else: missing)
    put_status: int = 200
    header_defaults: dict[str, str] = field(default_factory=dict)   # output header members

    def __post_init__(self) -> None:
        if self.missing is None and (self.default is None or not self.delete_resets):
            raise ValueError(f"setting {self.subresource} can be absent but has no missing error")


SETTINGS: tuple[Setting, ...] = (
    Setting("acl", "PutBucketAcl", "GetBucketAcl", default=lambda owner: {"Grants": [bucket_acl.owner_grant(owner)]}),
    Setting("versioning", "PutBucketVersioning", "GetBucketVersioning", default=lambda _: {}),
    Setting("logging", "PutBucketLogging", "GetBucketLogging", default=lambda _: {}),
    Setting("publicAccessBlock", "PutPublicAccessBlock", "GetPublicAccessBlock", "DeletePublicAccessBlock",
            ("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"),
            default=lambda _: dict(BLOCK_ALL), delete_resets=False),
    Setting("encryption", "PutBucketEncryption", "GetBucketEncryption", "DeleteBucketEncryption",
            default=lambda _: SSE_S3),
    Setting("ownershipControls", "PutBucketOwnershipControls", "GetBucketOwnershipControls",
            "DeleteBucketOwnershipControls",
            ("OwnershipControlsNotFoundError", "The bucket ownership controls were not found"),
            default=lambda _: OWNER_ENFORCED, delete_resets=False),
    Setting("tagging", "PutBucketTagging", "GetBucketTagging", "DeleteBucketTagging",
            ("NoSuchTagSet", "The TagSet does not exist"), put_status=204),
    Setting("lifecycle", "PutBucketLifecycleConfiguration", "GetBucketLifecycleConfiguration",
            "DeleteBucketLifecycle", ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
            header_defaults={"TransitionDefaultMinimumObjectSize": "all_storage_classes_128K"}),
    Setting("notification", "PutBucketNotificationConfiguration", "GetBucketNotificationConfiguration",
            default=lambda _: {}),
    Setting("object-lock", "PutObjectLockConfiguration", "GetObjectLockConfiguration",
            missing=("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")),
    Setting("replication", "PutBucketReplication", "GetBucketReplication", "DeleteBucketReplication",
            ("ReplicationConfigurationNotFoundError", "The replication configuration was not found")),
)
SUBRESOURCES = frozenset(s.subresource for s in SETTINGS)
PUT_OPERATIONS = frozenset(s.put for s in SETTINGS)


@dataclass(frozen=True)
class Layout:
    """Where a setting's XML comes from in the model."""

    root: str                 # the document element (the Put payload's name; Get answers the same)
    put_shape: Shape          # the Put payload's shape
    get_shape: Shape          # the Get answer's shape (the output, or its payload member)
    put_headers: dict[str, str]   # member -> header of Put input members Get echoes as headers
    get_headers: dict[str, str]   # member -> header of the Get output's header members


def layout(setting: Setting) -> Layout:
    """The setting's XML layout, from botocore's S3 model."""
    return _layout(setting.put, setting.get)


@lru_cache(maxsize=None)
def _layout(put_operation: str, get_operation: str) -> Layout:
    model = load_service_model("s3")
    put = model.operation_model(put_operation).input_shape
    payload = put.members[put.serialization["payload"]]
    output = model.operation_model(get_operation).output_shape
    body = output.serialization.get("payload")
    get_headers = {name: m.serialization["name"] for name, m in output.members.items()
                   if m.serialization.get("location") == "header"}
    put_headers = {name: m.serialization["name"] for name, m in put.members.items() if name in get_headers}
    return Layout(xmlshapes.xml_name(payload, put.serialization["payload"]), payload,
                  output.members[body] if body else output, put_headers, get_headers)


class BucketSettings:
    """The sub-resource settings of the buckets of an `S3Backend`."""

    def __init__(self, backend: S3Backend):
        self.backend = backend
        self._by_name = {s.subresource: s for s in SETTINGS}

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler, for every Put, Get and Delete of `SETTINGS`."""
        found: dict[str, Handler] = {}
        for setting in SETTINGS:
            found[setting.put] = partial(self._put, setting)
            found[setting.get] = partial(self._get, setting)
            if setting.delete:
                found[setting.delete] = partial(self._delete, setting)
        return found

    def current(self, bucket: str, subresource: str) -> dict | None:
        """The setting in force on `bucket` (AWS's default if never put); None when there is none."""
        setting = self._by_name[subresource]
        known, value = self.backend.state.setting(bucket, subresource)
        if not known:
            value = setting.default(self.backend.owner(bucket)) if setting.default else None
        return copy.deepcopy(value)

    def store(self, bucket: str, subresource: str, value: dict | None) -> None:
        """Put a setting's value; None: deleted (Get answers the missing error)."""
        self.backend.state.set_setting(bucket, subresource, value)

    # -- handlers -------------------------------------------------------------------------------

    def _get(self, setting: Setting, c: S3Request, ctx: RequestContext) -> flask.Response:
        value = self.current(c.bucket, setting.subresource)
        if value is None and setting.missing is not None:
            code, message = setting.missing
            raise S3Error(code, 404, message, BucketName=c.bucket)
        if setting.subresource == "acl":
            value = {"Owner": {"ID": canonical_id(self.backend.owner(c.bucket))}, **value}
        shapes = layout(setting)
        root = x.new_root(shapes.root)
        xmlshapes.write(root, shapes.get_shape, value)
        response = flask.Response(x.to_bytes(root), 200, content_type="application/xml")
        for member, header in shapes.get_headers.items():
            text = value.get(member, setting.header_defaults.get(member))
            if text is not None:
                response.headers[header] = str(text)
        return response

    def _put(self, setting: Setting, c: S3Request, ctx: RequestContext) -> flask.Response:
        body = c.body      # read (and checked) by spool.read_small
        if len(body) > MAX_SETTING_BYTES:
            raise spool.too_large(len(body), MAX_SETTING_BYTES)
        if setting.subresource == "acl":
            try:
                value = self._read(setting, body, ctx) if body.strip() else None
            except AwsError as error:
                raise bucket_acl.malformed_acl() if error.code == "MalformedXML" else error from None
            value = bucket_acl.requested(c, value, self.backend.owner(c.bucket))
            bucket_acl.check(value, self.backend.owner(c.bucket), self.current(c.bucket, "ownershipControls"),
                             self.current(c.bucket, "publicAccessBlock"))
        else:
            value = setting_rules.check(setting.subresource, self._read(setting, body, ctx), c.bucket, self)
        shapes = layout(setting)
        for member, header in shapes.put_headers.items():
            value[member] = c.headers.get(header, setting.header_defaults.get(member))
        self.store(c.bucket, setting.subresource, value)
        response = flask.Response(b"", setting.put_status)
        for member, header in shapes.get_headers.items():
            if value.get(member) is not None:
                response.headers[header] = str(value[member])
        return response

    @staticmethod
    def _read(setting: Setting, body: bytes, ctx: RequestContext) -> dict:
        """The Put body per the model; recorded on the call as CloudTrail writes it."""
        root = x.parse(body)
        shapes = layout(setting)
        recorded = xmlshapes.as_recorded(body)
        if recorded and ctx.request_parameters is not None:
            ctx.request_parameters.update(recorded)
        if root.tag != shapes.root:
            raise malformed_xml()
        value: Any = xmlshapes.read(root, shapes.put_shape)
        return value

    def _delete(self, setting: Setting, c: S3Request, ctx: RequestContext) -> flask.Response:
        if setting.delete_resets:
            self.backend.state.reset_setting(c.bucket, setting.subresource)
        else:
            self.store(c.bucket, setting.subresource, None)
        return flask.Response(b"", 204)

    def bucket_created(self, bucket: str, object_lock: bool) -> None:
        """CreateBucket with `x-amz-bucket-object-lock-enabled: true`: Object Lock on, versioning enabled."""
        if object_lock:
            self.store(bucket, "versioning", {"Status": "Enabled"})
            self.store(bucket, "object-lock", {"ObjectLockEnabled": "Enabled"})
