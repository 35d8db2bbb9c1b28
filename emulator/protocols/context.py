"""The request context: who calls where, and what the call was. Each protocol handler fills in the
operation, its parameters and its result or error; the recorder turns the finished context into a
CloudTrail record (emulator/pipeline/recorder.py) without reading the wire again."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context

from cloudtrail_emulator.emulator.protocols.errors import AwsError

_G_KEY = "emulator_request_context"


@dataclass
class RequestContext:
    """One API call: caller and place (from the request), then what the handler made of it."""

    account_id: str
    region: str
    request_id: str
    access_key: str | None = None          # the SigV4 access key id; None: an unsigned call
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    event_source: str | None = None        # `cloudtrail.amazonaws.com`...; None: no service spoke
    operation: str | None = None           # the eventName; None: no operation was addressed
    request_parameters: dict | None = None  # as CloudTrail writes them (lowerCamelCase for most services)
    response_elements: dict | None = None
    error: AwsError | None = None          # the error the client was answered with
    read_only: bool | None = None          # the protocol's own verdict where it has one (REST: GET/HEAD)
    data_event: bool | None = None         # likewise (S3: object level)
    resources: list[dict] | None = None
    additional: dict | None = None         # additionalEventData

    def addressed(self, event_source: str, operation: str | None) -> None:
        """The service and operation the request turned out to address."""
        self.event_source, self.operation = event_source, operation

    def failed(self, error: AwsError) -> None:
        """Note the error answer the client gets."""
        self.error = error


def bind(ctx: RequestContext) -> None:
    """Make `ctx` the current request's context."""
    setattr(g, _G_KEY, ctx)


def current() -> RequestContext | None:
    """The current request's context, if a protocol handler made one."""
    return getattr(g, _G_KEY, None) if has_request_context() else None


def camel(value: Any) -> Any:
    """AWS wire keys -> CloudTrail's lowerCamelCase keys, recursively; bytes as base64, times as ISO."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()
    return value
