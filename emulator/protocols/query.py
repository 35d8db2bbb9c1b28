"""The AWS Query protocol (SNS), driven by botocore's model: flat form parameters -> input structure,
output structure -> `<OpResponse><OpResult>` XML, `AwsError` -> `<ErrorResponse>`."""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel, ServiceModel, Shape
from flask import Request, Response

from cloudtrail_emulator.emulator.protocols.context import RequestContext, camel
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.emulator.protocols.restxml import XML_ILLEGAL


def xml_text(value: str) -> str:
    """`value` escaped for XML character data; characters XML cannot carry become U+FFFD."""
    return escape(XML_ILLEGAL.sub("\ufffd", value))


def _invalid(what: str) -> AwsError:
    return AwsError(f"Invalid parameter: {what}", code="InvalidParameter")


def _missing(path: str) -> AwsError:
    return AwsError(f"1 validation error detected: Value null at '{path[:1].lower() + path[1:]}' failed to "
                    "satisfy constraint: Member must not be null", code="ValidationError")


def parse_structure(shape: Shape, values: Mapping[str, str], prefix: str = "") -> dict:
    """Members of `shape` from flat Query parameters (`Name.member.N`, `Name.entry.N.key`...)."""
    out = {}
    for name, member in shape.members.items():
        key = prefix + member.serialization.get("name", name)
        value = _parse(member, values, key)
        if value is not None:
            out[name] = value
        elif name in shape.required_members:
            raise _missing(key)
    return out


def _parse(shape: Shape, values: Mapping[str, str], key: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        nested = key + "."
        return parse_structure(shape, values, nested) if any(k.startswith(nested) for k in values) else None
    if kind == "list":
        head = key + "." if shape.serialization.get("flattened") else \
            f"{key}.{shape.member.serialization.get('name', 'member')}."
        items = list(_indexed(lambda i: _parse(shape.member, values, f"{head}{i}")))
        return items if items or key in values else None
    if kind == "map":
        head = key + "." if shape.serialization.get("flattened") else key + ".entry."
        k_name, v_name = shape.key.serialization.get("name", "key"), shape.value.serialization.get("name", "value")
        pairs = _indexed(lambda i: _map_entry(shape, values, f"{head}{i}.", k_name, v_name))
        return dict(pairs) if pairs or key in values else None
    raw = values.get(key)
    return None if raw is None else _scalar(shape, raw, key)


def _indexed(item: Callable[[int], Any]) -> list:
    """item(1), item(2), ... up to the first missing one."""
    found, index = [], 1
    while (value := item(index)) is not None:
        found.append(value)
        index += 1
    return found


def _map_entry(shape: Shape, values: Mapping[str, str], head: str, k_name: str, v_name: str):
    key = values.get(head + k_name)
    if key is None:
        return None
    value = _parse(shape.value, values, head + v_name)
    if value is None:
        raise _invalid(f"{head + v_name}: missing value for map entry {key!r}")
    return key, value


def _scalar(shape: Shape, raw: str, key: str) -> Any:
    kind = shape.type_name
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise _invalid(f"{key}: expected true or false, got {raw!r}")
        return raw.lower() == "true"
    if kind in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise _invalid(f"{key}: expected an integer, got {raw!r}") from None
    if kind == "blob":
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid(f"{key}: not valid base64") from None
    return raw


def shape_xml(shape: Shape, value: Any, name: str, item: str = "member") -> str:
    """`value` as the XML element `name` by botocore's `shape`; a list's items are named by its member's
    `locationName`, else `item` (Query: `member`, EC2: `item`)."""
    kind = shape.type_name
    if kind == "structure":
        inner = "".join(shape_xml(m, value[n], m.serialization.get("name", n), item)
                        for n, m in shape.members.items() if value.get(n) is not None)
    elif kind == "list":
        member = shape.member.serialization.get("name", item)
        inner = "".join(shape_xml(shape.member, v, member, item) for v in value)
    elif kind == "map":
        k_name, v_name = shape.key.serialization.get("name", "key"), shape.value.serialization.get("name", "value")
        inner = "".join(f"<entry>{shape_xml(shape.key, k, k_name, item)}{shape_xml(shape.value, v, v_name, item)}"
                        "</entry>" for k, v in value.items())
    elif kind == "boolean":
        inner = "true" if value else "false"
    elif kind == "timestamp" and isinstance(value, datetime):
        inner = value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    else:
        inner = xml_text(str(value))
    return f"<{name}>{inner}</{name}>"


def namespace(model: ServiceModel) -> str:
    """The XML namespace of a Query service's documents."""
    return metadata_namespace(model.metadata)


def metadata_namespace(metadata: Mapping[str, Any]) -> str:
    """The XML namespace a botocore model's `metadata` names (else the endpoint's `/doc/<version>/`)."""
    found = metadata.get("xmlNamespace")
    if isinstance(found, dict):
        found = found.get("uri")
    return found or f"http://{metadata.get('endpointPrefix')}.amazonaws.com/doc/{metadata.get('apiVersion')}/"


def query_response(operation: OperationModel, result: dict, request_id: str) -> Response:
    """`<OpResponse><OpResult>..</OpResult><ResponseMetadata>..</ResponseMetadata></OpResponse>`."""
    shape = operation.output_shape
    body = "" if shape is None else shape_xml(shape, result, shape.serialization["resultWrapper"])
    text = (f'<?xml version="1.0"?>\n<{operation.name}Response xmlns="{namespace(operation.service_model)}">'
            f"{body}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{operation.name}Response>")
    return Response(text, status=200, headers={"Content-Type": "text/xml", "x-amzn-RequestId": request_id})


def query_error(error: AwsError, request_id: str, namespace: str) -> Response:
    """The Query protocol's error document."""
    body = (f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{namespace}">'
            f"<Error><Type>{'Sender' if error.sender_fault else 'Receiver'}</Type>"
            f"<Code>{xml_text(error.code)}</Code><Message>{xml_text(error.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return Response(body, status=error.status, headers={**error.headers, "Content-Type": "text/xml",
                                                        "x-amzn-RequestId": request_id})


#: one Query operation's handler: (caller, parsed input) -> output structure
QueryHandler = Callable[[RequestContext, dict], dict]


class QueryService:
    """One Query service: `Action=` -> a handler, input parsed and output written by the model.
    A modelled action without a handler answers `InvalidAction`, or the error `unsupported` makes
    for it (then the call is not recorded: see `errors.not_available`)."""

    def __init__(self, model: ServiceModel, handlers: Mapping[str, QueryHandler],
                 unsupported: Callable[[str], AwsError] | None = None):
        unknown = set(handlers) - set(model.operation_names)
        if unknown:
            raise ValueError(f"handlers for operations not in the {model.service_name} model: {unknown}")
        self.model = model
        self.event_source = f"{model.endpoint_prefix}.amazonaws.com"
        self.namespace = namespace(model)
        self._handlers = dict(handlers)
        self._unsupported = unsupported

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        """Answer one Query request (form POST or GET with `Action=`); `ctx` records the call."""
        values = request.values
        action = values.get("Action")
        ctx.addressed(self.event_source, action if action in self.model.operation_names else None)
        try:
            if not action:
                raise AwsError("Could not find operation: the request has no Action", code="MissingAction")
            if ctx.operation is None:
                raise AwsError(f"The action {action} is not valid for this web service.", code="InvalidAction")
            ctx.request_parameters = camel({k: v for k, v in values.items() if k not in ("Action", "Version")}) or None
            handler = self._handlers.get(action)
            if handler is None and self._unsupported is not None:
                ctx.addressed(self.event_source, None)
                raise self._unsupported(action)
            if handler is None:
                raise AwsError(f"The action {action} is not supported by cloudtrail-emulator",
                               code="InvalidAction")
            operation = self.model.operation_model(action)
            params = parse_structure(operation.input_shape, values) if operation.input_shape else {}
            ctx.request_parameters = camel(params) or None
            result = handler(ctx, params)
        except AwsError as error:
            ctx.failed(error)
            return query_error(error, ctx.request_id, self.namespace)
        ctx.response_elements = camel(result) or None
        return query_response(operation, result, ctx.request_id)
