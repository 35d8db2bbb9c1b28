"""The trail types: Trail with its status and JSON form, the lifecycle changes listeners hear."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from cloudtrail_emulator.emulator.services.cloudtrail import selectors as sel
from cloudtrail_emulator.emulator.services.cloudtrail import validation as v
from cloudtrail_emulator.generators.times import parse_iso

_TIMES = ("start_logging_time", "stop_logging_time", "latest_delivery_time",
          "latest_digest_delivery_time", "latest_notification_time", "latest_delivery_attempt_time")


@dataclass
class TrailStatus:
    """What GetTrailStatus reports; the delivery code fills the `latest_*` fields."""

    is_logging: bool = False
    start_logging_time: datetime | None = None
    start_logging_seq: int | None = None   # the event index's position at StartLogging: delivery starts
                                           # there even if the process died before it saw the change
    stop_logging_time: datetime | None = None
    latest_delivery_time: datetime | None = None
    latest_delivery_error: str | None = None
    latest_delivery_attempt_time: datetime | None = None
    latest_digest_delivery_time: datetime | None = None
    latest_digest_delivery_error: str | None = None
    latest_notification_time: datetime | None = None
    latest_notification_error: str | None = None


@dataclass
class Trail:
    """A trail as the model keeps it (the API shapes it in responses.py)."""

    name: str
    account_id: str
    home_region: str
    s3_bucket: str
    s3_prefix: str | None = None
    sns_topic_arn: str | None = None
    include_global_service_events: bool = True
    is_multi_region: bool = False
    log_file_validation: bool = False
    cloudwatch_log_group_arn: str | None = None
    cloudwatch_role_arn: str | None = None
    kms_key_id: str | None = None
    is_organization: bool = False
    event_selectors: list[dict] | None = field(default_factory=sel.default_event_selectors)
    advanced_event_selectors: list[dict] | None = None
    custom_event_selectors: bool = False
    insight_selectors: list[dict] = field(default_factory=list)
    tags: dict[str, str | None] = field(default_factory=dict)
    status: TrailStatus = field(default_factory=TrailStatus)

    @property
    def arn(self) -> str:
        return v.trail_arn(self.home_region, self.account_id, self.name)

    def copy(self) -> "Trail":
        """A deep copy (what callers outside the lock get), far cheaper than the generic deepcopy."""
        return dataclasses.replace(
            self, event_selectors=_clone(self.event_selectors),
            advanced_event_selectors=_clone(self.advanced_event_selectors),
            insight_selectors=_clone(self.insight_selectors), tags=dict(self.tags),
            status=dataclasses.replace(self.status))

    def visible_in(self, region: str) -> bool:
        return self.home_region == region or self.is_multi_region

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["status"] = {k: (val.isoformat() if isinstance(val, datetime) else val)
                          for k, val in data["status"].items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Trail":
        status = {k: (parse_iso(val) if k in _TIMES and val else val)
                  for k, val in data.pop("status").items()}
        return cls(**data, status=TrailStatus(**status))


def _clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, immutable leaves)."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


@dataclass(frozen=True)
class TrailChange:
    """A lifecycle event for listeners; `trail` is a snapshot taken after the change."""

    kind: Literal["created", "updated", "deleted", "started", "stopped"]
    trail: Trail
    at: datetime


class TrailListener(Protocol):
    """Hears every TrailChange (see CloudTrailBackend.add_listener)."""

    def __call__(self, change: TrailChange) -> None: ...
