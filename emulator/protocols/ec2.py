"""The EC2 protocol (botocore's `ec2`), driven by the model: Query-style form input named by EC2's
rules (a member's `queryName`, else its `locationName` capitalised, else its name; every list flat,
`Name.N`), XML output without a result wrapper (`<OpResponse><requestId>`, lists of `<item>`), and
errors as `<Response><Errors><Error>`. CloudTrail writes an EC2 error code with its fault class
(`Client.InvalidParameterValue`); the wire carries it bare."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape
from flask import Request, Response

from cloudtrail_emulator.emulator.protocols.context import RequestContext, camel
from cloudtrail_emulator.emulator.protocols.errors import AwsError, not_available
from cloudtrail_emulator.emulator.protocols.query import shape_xml, xml_text

CONTENT_TYPE = "text/xml;charset=UTF-8"
#: one EC2 operation's handler: (caller, parsed input) -> output structure
Ec2Handler = Callable[[RequestContext, dict], dict]


def _invalid(message: str) -> AwsError:
    return AwsError(message, code="InvalidParameterValue")


def input_name(member: str, shape: Shape) -> str:
    """The form name of a structure member in an EC2 request."""
    if "queryName" in shape.serialization:
        return shape.serialization["queryName"]
    located = shape.serialization.get("name")
    return located[:1].upper() + located[1:] if located else member


def parse_structure(shape: Shape, values: Mapping[str, str], prefix: str = "") -> dict:
    """Members of `shape` from flat EC2 form parameters."""
    out = {}
    for name, member in shape.members.items():
        key = prefix + input_name(name, member)
        value = _parse(member, values, key)
        if value is not None:
            out[name] = value
        elif name in shape.required_members:
            raise AwsError(f"The request must contain the parameter {key}", code="MissingParameter")
    return out


def _parse(shape: Shape, values: Mapping[str, str], key: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        nested = key + "."
        return parse_structure(shape, values, nested) if any(k.startswith(nested) for k in values) else None
    if kind == "list":
        items, index = [], 1
        while (item := _parse(shape.member, values, f"{key}.{index}")) is not None:
            items.append(item)
            index += 1
        return items or None
    raw = values.get(key)
    if raw is None:
        return None
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise _invalid(f"Value ({raw}) for parameter {key} is invalid. Expected: 'true' or 'false'.")
        return raw.lower() == "true"
    if kind in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise _invalid(f"Value ({raw}) for parameter {key} is invalid. Expected an integer.") from None
    return raw


def _namespace(model: ServiceModel) -> str:
    return model.metadata["xmlNamespace"].rstrip("/") + "/"


def ec2_response(operation: OperationModel, result: dict, request_id: str) -> Response:
    """`<OpResponse xmlns=...><requestId>..</requestId>members</OpResponse>`."""
    shape = operation.output_shape
    members = "" if shape is None else "".join(
        shape_xml(m, result[n], m.serialization.get("name", n), "item") for n, m in shape.members.items()
        if result.get(n) is not None)
    text = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation.name}Response '
            f'xmlns="{_namespace(operation.service_model)}"><requestId>{request_id}</requestId>'
            f"{members}</{operation.name}Response>")
    return Response(text, status=200, headers={"Content-Type": CONTENT_TYPE})


def ec2_error(error: AwsError, request_id: str) -> Response:
    """EC2's error document."""
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{xml_text(error.code)}'
            f"</Code><Message>{xml_text(error.message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>")
    return Response(body, status=error.status, headers={**error.headers, "Content-Type": CONTENT_TYPE})


def recorded_error(error: AwsError) -> AwsError:
    """The error as CloudTrail writes it for EC2: its code prefixed with `Client.` or `Server.`."""
    fault = "Client" if error.sender_fault else "Server"
    return AwsError(error.message, code=f"{fault}.{error.code}", status=error.status)


class Ec2Service:
    """The EC2 endpoint: `Action=` -> a handler; a modelled action without one is not available here
    (and not recorded). A handler may set `ctx.request_parameters` in CloudTrail's EC2 style."""

    def __init__(self, model: ServiceModel, handlers: Mapping[str, Ec2Handler]):
        unknown = set(handlers) - set(model.operation_names)
        if unknown:
            raise ValueError(f"handlers for operations not in the {model.service_name} model: {unknown}")
        self.model = model
        self.event_source = f"{model.endpoint_prefix}.amazonaws.com"
        self._handlers = dict(handlers)

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        """Answer one EC2 request; `ctx` records the call of an operation served here."""
        action = request.values.get("Action")
        handler = self._handlers.get(action or "")
        try:
            if not action:
                raise AwsError("The request must contain the parameter Action", code="MissingAction")
            if action not in self.model.operation_names:
                raise AwsError(f"The action {action} is not valid for this web service.", code="InvalidAction")
            if handler is None:
                raise not_available("ec2", action)
            ctx.addressed(self.event_source, action)
            operation = self.model.operation_model(action)
            params = parse_structure(operation.input_shape, request.values) if operation.input_shape else {}
            ctx.request_parameters = camel(params) or None
            result = handler(ctx, params)
        except AwsError as error:
            ctx.failed(recorded_error(error))
            return ec2_error(error, ctx.request_id)
        ctx.response_elements = camel(result) or None
        return ec2_response(operation, result, ctx.request_id)
