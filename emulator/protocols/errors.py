"""The one error type every protocol layer turns into an AWS-shaped response."""
from __future__ import annotations


class AwsError(Exception):
    """An error with its wire code (`__type` / S3 `Code`), message and HTTP status."""

    code = "InternalFailure"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
