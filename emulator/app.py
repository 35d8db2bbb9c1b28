"""The Flask app factory: one port for CloudTrail and Organizations (JSON 1.1), S3 (REST) and the
SNS seam (Query), plus the `/_emulator/` control API. No module-level state: it hangs off the app."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Request, Response, current_app, request
from werkzeug.exceptions import HTTPException

from cloudtrail_emulator.emulator.protocols.sigv4 import SigV4Verifier
from cloudtrail_emulator.emulator.control import control, moto_api
from cloudtrail_emulator.emulator.config import EmulatorConfig
from cloudtrail_emulator.emulator.protocols import context
from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.protocols.dispatch import (Protocol, Route, context_of, error_for, route_of,
                                                             to_flask)
from cloudtrail_emulator.emulator.protocols.errors import AwsError, not_available
from cloudtrail_emulator.emulator.seams import TopicDirectory
from cloudtrail_emulator.emulator.services.s3.spool import DRAIN_LIMIT
from cloudtrail_emulator.emulator.services.sns.responses import certificate_routes
from cloudtrail_emulator.emulator.state import EXTENSION_KEY, EmulatorState, build_state
from cloudtrail_emulator.generators.stores import ObjectStore

log = logging.getLogger(__name__)
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
_HTTP_CODES = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed", 411: "MissingContentLength",
               413: "RequestEntityTooLarge", 414: "RequestURITooLong", 431: "RequestHeaderFieldsTooLarge"}


def state_of(app: Flask) -> EmulatorState:
    """The emulator state of an app made by `create_app`."""
    return app.extensions[EXTENSION_KEY]


def create_app(config: EmulatorConfig | None = None, *, store: ObjectStore | None = None,
               topics: TopicDirectory | None = None) -> Flask:
    """A new emulator app; `store`/`topics` override the embedded object store / SNS seam."""
    config = config or EmulatorConfig()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    app.extensions[EXTENSION_KEY] = build_state(config, store, topics)
    app.register_blueprint(control)
    app.register_blueprint(moto_api)
    app.register_blueprint(certificate_routes(state_of(app).sns))
    app.add_url_rule("/", "dispatch", _dispatch, methods=ALL_METHODS, defaults={"path": ""})
    app.add_url_rule("/<path:path>", "dispatch", _dispatch, methods=ALL_METHODS)
    app.register_error_handler(AwsError, _aws_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.after_request(_record)
    if config.auth == "sigv4":
        keys = {key.access_key_id: key for key in config.access_keys}
        SigV4Verifier(keys, config.clock, config.max_request_bytes).install(app)
    state_of(app).delivery.start()
    return app


def _state() -> EmulatorState:
    return state_of(current_app)


def _dispatch(path: str) -> Response:
    state = _state()
    route = route_of(request)
    if route.protocol is Protocol.CONTROL:
        known = any(rule.rule == request.path for rule in current_app.url_map.iter_rules()
                    if rule.endpoint.startswith((f"{control.name}.", f"{moto_api.name}.")))
        if known:
            raise AwsError(f"{request.method} is not allowed on {request.path}",
                           code="MethodNotAllowed", status=405)
        raise AwsError(f"No control endpoint {request.path}", code="NotFound", status=404)
    ctx = context_of(request, state.config.default_account, state.config.region, state.request_id())
    context.bind(ctx)
    if state.recorder is not None:        # nothing takes effect that could not be recorded
        state.recorder.admit(s3=route.protocol is Protocol.S3)
    if not route.served:
        raise not_available(route.service or "this service")
    if route.conflict is not None:
        raise route.conflict
    if route.protocol is Protocol.JSON:
        # a JSON request for no served service: CloudTrail's endpoint answers UnknownOperationException
        service = state.organizations_api if route.service == "organizations" else state.cloudtrail_api
        target = request.headers.get("X-Amz-Target", "")
        service.address(target, ctx)
        if request.method != "POST":
            raise AwsError(f"{request.method} is not allowed: the JSON protocol takes POST /",
                           code="UnknownOperationException", status=405)
        body = _json_body(request, state.config.max_json_request_bytes)
        return to_flask(service.handle(target, body, ctx))
    return _endpoint(state, route)(request, ctx)


def _endpoint(state: EmulatorState, route: Route) -> Callable[[Request, RequestContext], Response]:
    """The handler of a served non-JSON service (dispatch.SERVED lists them)."""
    endpoints = {"s3": state.s3_api, "sns": state.query_api, "sts": state.sts_api, "ec2": state.ec2_api}
    return endpoints[route.service].handle


def _record(response: Response) -> Response:
    """Every answered AWS API call becomes a CloudTrail record (emulator/pipeline/recorder.py)."""
    recorder = _state().recorder
    ctx = context.current()
    if recorder is not None and ctx is not None:
        try:
            recorder.observe(ctx, s3=route_of(request).protocol is Protocol.S3)
        except AwsError as unrecorded:       # never 2xx without the record
            response.close()
            return _respond(unrecorded)
    return response


def _json_body(req: Request, limit: int) -> bytes:
    """The body, refused with an AWS error past `limit` bytes (with or without Content-Length)."""
    if req.content_length is not None and req.content_length > limit:
        _drain(req)
        raise _too_large(req.content_length, limit)
    # read what was announced: read(n) allocates an n-byte buffer, and most bodies are tiny
    body = req.stream.read(req.content_length if req.content_length is not None else limit + 1)
    if len(body) > limit:
        _drain(req)
        raise _too_large(None, limit)
    return body


def _drain(req: Request) -> None:
    left = DRAIN_LIMIT
    while left > 0 and (chunk := req.stream.read(min(left, 65536))):
        left -= len(chunk)


def _too_large(size: int | None, limit: int) -> AwsError:
    shown = f"{size} bytes" if size is not None else "more bytes"
    return AwsError(f"Request body of {shown} exceeds the limit of {limit} bytes",
                    code="RequestEntityTooLargeException", status=413)


def _respond(error: AwsError) -> Response:
    """The error in the request's protocol; the request context (when there is one) notes it."""
    try:
        route = route_of(request)
    except Exception:      # a request too broken to route still gets an AWS-shaped answer
        route = Route(Protocol.S3, "s3")
    ctx = context.current()
    if ctx is not None:
        ctx.failed(error)
    return error_for(route, error, request, ctx.request_id if ctx is not None else _state().request_id())


def _aws_error(error: AwsError) -> Response:
    return _respond(error)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 400
    if status >= 500:
        return _unexpected_error(error)
    code = _HTTP_CODES.get(status, "BadRequest")
    if status == 413:
        code = "EntityTooLarge" if route_of(request).protocol is Protocol.S3 else "RequestEntityTooLargeException"
    return _respond(AwsError(error.description or code, code=code, status=status))


def _unexpected_error(error: Exception) -> Response:
    log.exception("unexpected error answering %s %s", request.method, request.path)
    return _respond(AwsError(f"Internal failure: {type(error).__name__}", code="InternalFailure",
                             status=500))
