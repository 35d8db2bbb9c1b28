"""SNS's errors as the Query protocol answers them; each carries its wire code and status."""
from __future__ import annotations

from cloudtrail_emulator.emulator.protocols.errors import AwsError


class SnsError(AwsError):
    """Base of SNS's errors."""


class InvalidParameter(SnsError):
    code = "InvalidParameter"

    def __init__(self, what: str):
        super().__init__(f"Invalid parameter: {what}")


class NotFound(SnsError):
    code = "NotFound"
    status = 404

    def __init__(self, what: str):
        super().__init__(f"{what} does not exist")


class ResourceNotFound(SnsError):
    code = "ResourceNotFound"
    status = 404


class AuthorizationError(SnsError):
    code = "AuthorizationError"
    status = 403


class TagLimitExceeded(SnsError):
    code = "TagLimitExceeded"
