"""The `/_emulator/` control API (docs/control-api.md) and the same operations for Python callers.

`reset`, `add_records`, `seed_history` and `deliver_now` take the Flask app made by `create_app`;
the endpoints wrap them. Errors are JSON `{"__type": code, "message": ...}` like the JSON services.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import metadata
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from jsonschema import ValidationError

from cloudtrail_emulator import schemas
from cloudtrail_emulator.emulator.services.cloudtrail.models import Trail
from cloudtrail_emulator.emulator.pipeline.delivery import HistoryConflict
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.emulator.state import EXTENSION_KEY, EmulatorState
from cloudtrail_emulator.generators.access_styles import ACCESS_STYLE_CHOICES, DEFAULT_ACCESS_STYLE
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.pipeline import TrailTarget, plan_run, write_trail
from cloudtrail_emulator.generators.times import format_time

control = Blueprint("control", __name__, url_prefix="/_emulator")
#: moto's server-mode API, as far as test suites written for moto call it: `POST /moto-api/reset`
moto_api = Blueprint("moto_api", __name__, url_prefix="/moto-api")
#: seeded history stops this long before the live chain starts, so its last files are delivered by then
HISTORY_MARGIN = timedelta(minutes=6, seconds=1)


def _version() -> str:
    try:
        return metadata.version("cloudtrail-emulator")
    except metadata.PackageNotFoundError:
        return "unknown"


def _state(app: Flask) -> EmulatorState:
    return app.extensions[EXTENSION_KEY]


def _bad(message: str, code: str = "ValidationException", status: int = 400) -> AwsError:
    return AwsError(message, code=code, status=status)


# -- operations ----------------------------------------------------------------------------------

def reset(app: Flask) -> dict:
    """Delete every trail (no final digests), forget every event and all delivery state.
    Buckets and their objects, SNS topics and the keyring stay."""
    state = _state(app)
    with state.delivery.lock:
        trails = state.cloudtrail.trails()
        for trail in trails:
            state.cloudtrail.delete_trail(trail.account_id, trail.home_region, trail.arn)
        state.delivery.reset()
        state.events.clear()
    return {"trails_deleted": len(trails)}


def add_records(app: Flask, records: Any) -> dict:
    """Check records against the record schema, then index them for LookupEvents and delivery."""
    if isinstance(records, dict):
        records = records.get("Records")
    if not isinstance(records, list):
        raise _bad('expected {"Records": [...]} or a JSON list of records')
    for i, record in enumerate(records):
        try:
            schemas.validate_record(record)
        except ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "(record)"
            raise _bad(f"record {i}: {where}: {exc.message}") from None
    first, last = _state(app).events.add(records, deliver=True)
    return {"received": len(records), "added": max(last - first + 1, 0),
            "first_seq": first if last >= first else None, "last_seq": last if last >= first else None}


@dataclass(frozen=True)
class HistoryRequest:
    """What `seed_history` makes; `accounts` are extra member accounts (organization trails only)."""

    trail: str
    days: float = 1.0
    count: int | None = None
    seed: int = 0
    regions: tuple[str, ...] | None = None
    accounts: tuple[str, ...] = ()
    account_id: str | None = None
    access_style: str = DEFAULT_ACCESS_STYLE    # see generators.access_styles
    noisy_admin: bool = False

    @classmethod
    def from_json(cls, data: Any) -> "HistoryRequest":
        if not isinstance(data, dict) or not isinstance(data.get("trail"), str):
            raise _bad('expected a JSON object with "trail" (name or ARN)')
        unknown = set(data) - {"trail", "days", "count", "seed", "regions", "accounts", "account_id",
                               "access_style", "noisy_admin"}
        if unknown:
            raise _bad(f"unknown history field(s): {', '.join(sorted(unknown))}")
        try:
            days = float(data.get("days", 1))
            count = None if data.get("count") is None else int(data["count"])
            seed = int(data.get("seed", 0))
        except (TypeError, ValueError):
            raise _bad("days must be a number, count and seed integers") from None
        if not 0 < days <= 90:
            raise _bad(f"days must be more than 0 and at most 90, not {days}")
        regions, accounts, account_id = data.get("regions"), data.get("accounts"), data.get("account_id")
        for name, value in (("regions", regions), ("accounts", accounts)):
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise _bad(f"{name} must be a list of strings")
        if account_id is not None and not isinstance(account_id, str):
            raise _bad("account_id must be a string")
        style, noisy = data.get("access_style", DEFAULT_ACCESS_STYLE), data.get("noisy_admin", False)
        if style not in ACCESS_STYLE_CHOICES:
            raise _bad(f"access_style must be one of {', '.join(ACCESS_STYLE_CHOICES)}")
        if not isinstance(noisy, bool):
            raise _bad("noisy_admin must be true or false")
        return cls(data["trail"], days, count, seed, None if regions is None else tuple(regions),
                   tuple(accounts or ()), account_id, style, noisy)


def _find_trail(state: EmulatorState, name_or_arn: str, account_id: str | None) -> Trail:
    account = account_id or state.config.default_account
    for trail in state.cloudtrail.trails():
        if trail.arn == name_or_arn or (trail.name == name_or_arn and trail.account_id == account):
            return trail
    raise _bad(f"no trail {name_or_arn} in account {account}", "TrailNotFoundException", 404)


def seed_history(app: Flask, ask: HistoryRequest) -> dict:
    """Write `ask.days` of generated history for a trail, ending where its live chains start (now
    when it is not logging), index the records in the same pass (deliver=False), and link the live
    chains to it."""
    state = _state(app)
    trail = _find_trail(state, ask.trail, ask.account_id)
    regions = ask.regions or (trail.home_region,)
    if not trail.is_multi_region and set(regions) != {trail.home_region}:
        raise _bad(f"trail {trail.name} is single-region: history regions must be {trail.home_region}")
    if ask.accounts and not trail.is_organization:
        raise _bad(f"trail {trail.name} is not an organization trail: it takes no other accounts")
    accounts = [trail.account_id, *(a for a in ask.accounts if a != trail.account_id)]
    org_id = state.config.organization if trail.is_organization else None
    with state.delivery.lock:
        state.delivery.run()       # apply a queued StartLogging first: history ends where its live chains start
        close_at = state.delivery.history_end(trail, state.config.clock.now())
        end = close_at - HISTORY_MARGIN
        start = end - timedelta(days=ask.days)
        options, population = plan_run(count=ask.count, start=start, end=end, seed=ask.seed,
                                       accounts=accounts, regions=regions, now=close_at,
                                       access_style=ask.access_style, noisy_admin=ask.noisy_admin)
        target = TrailTarget(bucket=trail.s3_bucket, prefix=trail.s3_prefix or "",
                             trail_name=trail.name, home_region=trail.home_region)
        summary = write_trail(state.store, target, options, keyring=state.keyring, population=population,
                              workers=1, validation=trail.log_file_validation, org_id=org_id,
                              close_at=close_at, sink=index_sink(state))
        if trail.log_file_validation:
            state.delivery.adopt_history(trail, summary.chain_ends)
    return {"trail": trail.arn, "records": summary.records, "log_files": summary.log_files,
            "digests": summary.digests, "start": format_time(options.plan.start), "end": format_time(close_at),
            "accounts": list(summary.accounts), "regions": list(summary.regions),
            "organization_id": org_id}


def index_sink(state: EmulatorState) -> Callable[[list[dict]], None]:
    """A history writer's record sink: the records in the event index for LookupEvents, in the same
    pass that writes their files, without delivering them again."""
    def index(records: list[dict]) -> None:
        state.events.add(records, deliver=False)
    return index


def deliver_now(app: Flask) -> dict:
    """Deliver pending log files and close every logging trail's open digest period now."""
    delivery = _state(app).delivery
    delivery.deliver_now()
    with delivery.lock:
        return {"trails": {arn: {"cursor": td.cursor,
                                 "chains": {key: format_time(c.period_start) for key, c in td.writer.chains.items()}}
                           for arn, td in sorted(delivery.state.trails.items())}}


# -- endpoints -----------------------------------------------------------------------------------

def _json_body() -> Any:
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise _bad("the body is not valid JSON: nested too deeply") from None
    if data is None and request.get_data():
        raise _bad("the body is not valid JSON")
    return data


def _run(operation, *args) -> Any:
    try:
        return jsonify(operation(current_app, *args))
    except GeneratorError as exc:
        conflict = isinstance(exc, HistoryConflict)
        raise _bad(str(exc), "ConflictException" if conflict else "InvalidRequest",
                   409 if conflict else 400) from None


@control.get("/health")
def health():
    state = _state(current_app)
    return jsonify({
        "status": "ok",
        "version": _version(),
        "data_dir": str(state.config.data_dir) if state.config.data_dir else ":memory:",
        "services": {"cloudtrail": sorted(state.cloudtrail_api.implemented),
                     "organizations": sorted(state.organizations_api.implemented),
                     "s3": state.s3_api is not None},
    })


@control.post("/reset")
def reset_endpoint():
    return _run(reset)


@control.post("/records")
def records_endpoint():
    return _run(add_records, _json_body())


@control.post("/history")
def history_endpoint():
    return _run(seed_history, HistoryRequest.from_json(_json_body() or {}))


@control.post("/deliver")
def deliver_endpoint():
    return _run(deliver_now)


@moto_api.route("/reset", methods=["GET", "POST"])
def moto_reset_endpoint():
    """moto's reset, answered as moto answers it: `reset` above (trails, events, delivery state)."""
    if request.method != "POST":
        return jsonify({"Error": "Need to POST to reset Moto"}), 400
    reset(current_app)
    return jsonify({"status": "ok"})
