"""AWS JSON 1.1 protocol driven by a botocore service model: parse + validate input, serialise output.

botocore validates only some constraints client-side (required members, minimums); the server
checks the rest (types, maximums, enums, ranges, patterns) the way AWS's front end does.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from cloudtrail_emulator.emulator.protocols.context import RequestContext, camel
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.generators.times import parse_iso

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
Handler = Callable[[RequestContext, dict], dict]


class ValidationFailure(AwsError):
    """A constraint of the model is violated; `member` is the top-level input member concerned."""

    code = "InvalidParameterException"

    def __init__(self, message: str, member: str):
        super().__init__(message)
        self.member = member


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None       # a Java-only construct: leave that constraint to the model layer


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _constraint(path: str, value: Any, text: str) -> ValidationFailure:
    member = path.split(".", 1)[0].split("[", 1)[0]
    shown = "null" if value is None else repr(value) if not isinstance(value, str) else f"'{value}'"
    return ValidationFailure(
        f"1 validation error detected: Value {shown} at '{_lower_first(path)}' failed to satisfy "
        f"constraint: {text}",
        member,
    )


def _type_error(path: str, expected: str) -> AwsError:
    return AwsError(f"Unexpected value type at '{_lower_first(path)}': expected {expected}",
                    code="SerializationException")


def _check_length(shape: Shape, path: str, value: Any, size: int, what: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        raise _constraint(path, value, f"Member must have {what} greater than or equal to {low}")
    if high is not None and size > high:
        raise _constraint(path, value, f"Member must have {what} less than or equal to {high}")


def _parse_timestamp(value: Any, path: str) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or abs(value) > 253402300799:
            raise _type_error(path, "a timestamp")
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        try:
            return _parse_timestamp(float(value), path)
        except ValueError:
            pass
        try:
            return parse_iso(value)
        except ValueError:
            raise _type_error(path, "a timestamp") from None
    raise _type_error(path, "a timestamp")


def parse_value(shape: Shape, value: Any, path: str) -> Any:
    """Check `value` against `shape`; return it with timestamps as datetimes and blobs as bytes."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _type_error(path, "an object")
        out = {}
        for name in shape.required_members:
            if value.get(name) is None:
                raise _constraint(f"{path}.{name}" if path else name, None, "Member must not be null")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                out[name] = parse_value(member, value[name], f"{path}.{name}" if path else name)
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise _type_error(path, "a list")
        _check_length(shape, path, value, len(value), "length")
        return [parse_value(shape.member, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise _type_error(path, "a map")
        _check_length(shape, path, value, len(value), "length")
        return {parse_value(shape.key, k, f"{path}.key"): parse_value(shape.value, v, f"{path}.{k}")
                for k, v in value.items()}
    if kind == "string":
        if not isinstance(value, str):
            raise _type_error(path, "a string")
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            raise _constraint(path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        _check_length(shape, path, value, len(value), "length")
        pattern = shape.metadata.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and not compiled.search(value):
            raise _constraint(path, value, f"Member must satisfy regular expression pattern: {pattern}")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(path, "an integer")
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            raise _constraint(path, value, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            raise _constraint(path, value, f"Member must have value less than or equal to {high}")
        return value
    if kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(path, "a number")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _type_error(path, "a boolean")
        return value
    if kind == "timestamp":
        return _parse_timestamp(value, path)
    if kind == "blob":
        if not isinstance(value, str):
            raise _type_error(path, "a base64 string")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _type_error(path, "a base64 string") from None
    return value


def _epoch(at: datetime) -> int | float:
    stamp = at.timestamp()
    return int(stamp) if stamp == int(stamp) else round(stamp, 3)


def serialise_value(shape: Shape, value: Any) -> Any:
    """Model value -> JSON value: timestamps as epoch seconds, blobs base64, None members dropped."""
    kind = shape.type_name
    if kind == "structure":
        return {name: serialise_value(member, value[name])
                for name, member in shape.members.items() if value.get(name) is not None}
    if kind == "list":
        return [serialise_value(shape.member, item) for item in value]
    if kind == "map":
        return {k: serialise_value(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return _epoch(value) if isinstance(value, datetime) else value
    if kind == "blob":
        return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
    return value


@dataclass(frozen=True)
class JsonResponse:
    status: int
    body: bytes
    headers: dict[str, str]


def error_response(error: AwsError, request_id: str) -> JsonResponse:
    """`{"__type", "message"}` with `x-amzn-ErrorType` and `x-amzn-RequestId`, as AWS answers."""
    body = json.dumps({"__type": error.code, "message": error.message}).encode()
    return JsonResponse(error.status, body, {
        **error.headers, "Content-Type": JSON_CONTENT_TYPE, "x-amzn-RequestId": request_id,
        "x-amzn-ErrorType": error.code,
    })


def target_prefixes(model: ServiceModel) -> tuple[str, ...]:
    """The `X-Amz-Target` prefixes AWS accepts for a JSON 1.1 service: the model's `targetPrefix`
    (botocore, the CLI: `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`) and its last dotted
    part, the Smithy service name that the SDKs generated from Smithy models send (JavaScript v3,
    Java v2, .NET, Go v2: `CloudTrail_20131101`). Organizations' prefix has no dots: one form."""
    full = model.metadata["targetPrefix"]
    return tuple(dict.fromkeys((full, full.rpartition(".")[2])))


class JsonService:
    """One JSON 1.1 service: routes `<prefix>.<Operation>` (every prefix of `target_prefixes`) to
    handlers, model-validated."""

    def __init__(self, model: ServiceModel, handlers: Mapping[str, Handler],
                 validation_errors: Mapping[str, Mapping[str, str]] | None = None,
                 unsupported_code: str = "UnsupportedOperationException"):
        unknown = set(handlers) - set(model.operation_names)
        if unknown:
            raise ValueError(f"handlers for operations not in the {model.service_name} model: {unknown}")
        self.model = model
        self.target_prefixes = target_prefixes(model)
        self._handlers = dict(handlers)
        self._validation_errors = validation_errors or {}
        self._unsupported_code = unsupported_code

    def register(self, operation: str, handler: Handler) -> None:
        """Add or replace the handler of one modelled operation (the seam for later features)."""
        if operation not in self.model.operation_names:
            raise ValueError(f"{operation} is not an operation of {self.model.service_name}")
        self._handlers[operation] = handler

    @property
    def implemented(self) -> frozenset[str]:
        return frozenset(self._handlers)

    @property
    def event_source(self) -> str:
        return f"{self.model.metadata['endpointPrefix']}.amazonaws.com"

    def operation_for(self, target: str) -> str | None:
        """The operation `target` names, in any accepted form; None for anything else."""
        prefix, _, operation = target.rpartition(".")
        if prefix not in self.target_prefixes or operation not in self.model.operation_names:
            return None
        return operation

    def address(self, target: str, ctx: RequestContext) -> None:
        """Note on `ctx` the service and the operation `target` names (before the body is read)."""
        ctx.addressed(self.event_source, self.operation_for(target))

    def parse(self, operation: OperationModel, body: bytes, ctx: RequestContext) -> dict:
        """The validated input; `ctx` gets the parameters as sent, then as validated."""
        if not body.strip():
            raw: Any = {}
        else:
            try:
                raw = json.loads(body)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise AwsError("Start of structure or map found where not expected, or the body "
                               "is not valid JSON", code="SerializationException") from None
        if not isinstance(raw, dict):
            raise AwsError("The request body must be a JSON object", code="SerializationException")
        ctx.request_parameters = camel(raw) or None
        if operation.input_shape is None:
            return {}
        try:
            params = parse_value(operation.input_shape, raw, "")
        except ValidationFailure as failure:
            overrides = self._validation_errors.get(operation.name, {})
            failure.code = overrides.get(failure.member, failure.code)
            raise
        ctx.request_parameters = camel(params) or None
        return params

    def handle(self, target: str, body: bytes, ctx: RequestContext) -> JsonResponse:
        """Answer one request; every failure becomes a modelled JSON error. `ctx` records the call."""
        self.address(target, ctx)
        name = ctx.operation
        try:
            if name is None:
                raise AwsError(f"Unknown operation {target or '(no X-Amz-Target header)'}",
                               code="UnknownOperationException")
            operation = self.model.operation_model(name)
            params = self.parse(operation, body, ctx)
            handler = self._handlers.get(name)
            if handler is None:
                raise AwsError(f"{name} is not supported by cloudtrail-emulator yet",
                               code=self._unsupported_code)
            result = handler(ctx, params) or {}
        except AwsError as error:
            ctx.failed(error)
            return error_response(error, ctx.request_id)
        out = serialise_value(operation.output_shape, result) if operation.output_shape else {}
        ctx.response_elements = camel(out) or None
        return JsonResponse(200, json.dumps(out).encode(), {
            "Content-Type": JSON_CONTENT_TYPE, "x-amzn-RequestId": ctx.request_id,
        })
