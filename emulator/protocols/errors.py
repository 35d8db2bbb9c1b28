"""The one error base type: every protocol renders an `AwsError` in its own wire shape (JSON 1.1
`__type`, REST-XML `<Error><Code>`, Query `<ErrorResponse>`); each service's exceptions subclass it."""
from __future__ import annotations

from collections.abc import Mapping


class AwsError(Exception):
    """An error with its wire code, message and HTTP status; `fields` are extra elements of a
    REST-XML error document (S3's `Key`, `BucketName`...), `headers` extra response headers."""

    code = "InternalFailure"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 fields: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields: dict[str, str] = dict(fields or {})
        self.headers: dict[str, str] = dict(headers or {})

    @property
    def sender_fault(self) -> bool:
        """The caller's fault (4xx) rather than the server's (5xx): Query's `<Type>`."""
        return self.status < 500



#: the HTTP status of "not available in this emulator": 501 Not Implemented, which no AWS SDK retries
#: (botocore, the JS SDK v3, Java v2, Go v2 and .NET retry 500, 502, 503 and 504 only)
NOT_AVAILABLE_STATUS = 501


def not_available(service: str, operation: str | None = None) -> AwsError:
    """A service (or one operation of it) the emulator does not serve; such calls are not recorded."""
    what = f"{service} {operation}" if operation else service
    return AwsError(f"{what} is not available in cloudtrail-emulator: it serves cloudtrail, s3, sns, "
                    "organizations, sts GetCallerIdentity and ec2 DescribeRegions",
                    code="NotImplemented", status=NOT_AVAILABLE_STATUS)
