"""S3's errors: `AwsError`s whose extra `fields` become elements of the REST-XML error document."""
from __future__ import annotations

from cloudtrail_emulator.emulator.protocols.errors import AwsError

MALFORMED_XML = "The XML you provided was not well-formed or did not validate against our published schema"


class S3Error(AwsError):
    """An S3 error answer: code, HTTP status, message, plus extra elements (Key, BucketName...)."""

    def __init__(self, code: str, status: int, message: str, **fields: str):
        super().__init__(message, code=code, status=status, fields=fields)


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", 404, "The specified bucket does not exist", BucketName=bucket)


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", 404, "The specified key does not exist.", Key=key)


def no_such_upload(upload_id: str) -> S3Error:
    return S3Error("NoSuchUpload", 404, "The specified upload does not exist. The upload ID may be "
                   "invalid, or the upload may have been aborted or completed.", UploadId=upload_id)


def invalid_argument(message: str, name: str | None = None, value: str | None = None) -> S3Error:
    extra = {"ArgumentName": name, "ArgumentValue": value or ""} if name else {}
    return S3Error("InvalidArgument", 400, message, **extra)


def unstorable(problem: Exception) -> S3Error:
    """A key S3 allows but this emulator's object store cannot hold (a directory tree of plain files:
    a segment over 255 bytes, `a` beside `a/b`...): InvalidArgument naming the reason."""
    return invalid_argument(f"This request cannot be served by the object store: {problem}")


def malformed_xml(message: str = MALFORMED_XML) -> S3Error:
    return S3Error("MalformedXML", 400, message)


def method_not_allowed(method: str, resource_type: str, allow: str) -> S3Error:
    error = S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.",
                    Method=method, ResourceType=resource_type)
    error.headers["Allow"] = allow
    return error


def not_implemented(what: str, header: str) -> S3Error:
    return S3Error("NotImplemented", 501, "A header or query you provided requested a function that is not "
                   f"implemented: {what}", Header=header)
