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

