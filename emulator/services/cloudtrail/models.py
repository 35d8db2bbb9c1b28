"""CloudTrail trails: state and rules, plain Python (no HTTP). Moto-style model layer.

Trails are keyed by ARN. A multi-region trail is visible (as a shadow trail) in every region; only its
home region may change it. Listeners hear about lifecycle changes (the delivery scheduler's seam), and
the delivery code reports back through `record_delivery` and friends (GetTrailStatus shows them).
"""
from __future__ import annotations

import base64
import dataclasses
import threading
from dataclasses import dataclass, field
from collections.abc import Callable
from datetime import datetime
from typing import Literal, Protocol

from cloudtrail_emulator.emulator.services.cloudtrail import selectors as sel
from cloudtrail_emulator.emulator.services.cloudtrail import validation as v
from cloudtrail_emulator.emulator.services.cloudtrail.bucket_policy import policy_allows_cloudtrail
from cloudtrail_emulator.emulator.services.cloudtrail.exceptions import (
    InsightNotEnabledException,
    InsufficientS3BucketPolicyException,
    InsufficientSnsTopicPolicyException,
    InvalidHomeRegionException,
    InvalidParameterCombinationException,
    InvalidTagParameterException,
    InvalidTokenException,
    MaximumNumberOfTrailsExceededException,
    NotOrganizationMasterAccountException,
    ResourceNotFoundException,
    S3BucketDoesNotExistException,
    TagsLimitExceededException,
    TrailAlreadyExistsException,
    TrailNotFoundException,
)
from cloudtrail_emulator.emulator.config import Clock
from cloudtrail_emulator.emulator.persistence import JsonStateFile
from cloudtrail_emulator.emulator.seams import BucketDirectory, TopicDirectory
from cloudtrail_emulator.generators.times import parse_iso

MAX_TRAILS_PER_REGION = 5
MAX_TAGS = 50
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


def _clone(value):
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
    def __call__(self, change: TrailChange) -> None: ...


@dataclass(frozen=True)
class TrailSettings:
    """CreateTrail/UpdateTrail arguments; None means "not given" (UpdateTrail keeps the old value)."""

    s3_bucket: str | None = None
    s3_prefix: str | None = None
    sns_topic: str | None = None
    include_global_service_events: bool | None = None
    is_multi_region: bool | None = None
    log_file_validation: bool | None = None
    cloudwatch_log_group_arn: str | None = None
    cloudwatch_role_arn: str | None = None
    kms_key_id: str | None = None
    is_organization: bool | None = None


class CloudTrailBackend:
    """All trails of every account and region in one emulator; thread-safe."""

    def __init__(self, *, clock: Clock, buckets: BucketDirectory, topics: TopicDirectory,
                 management_account: str, organization_id: str, relax_bucket_policy: bool = False,
                 state_file: JsonStateFile | None = None, page_size: int = 50,
                 event_position: Callable[[], int] | None = None):
        self._clock = clock
        self._buckets = buckets
        self._topics = topics
        self.management_account = management_account
        self.organization_id = organization_id
        self._relax_bucket_policy = relax_bucket_policy
        self._state_file = state_file
        self._page_size = page_size
        self._event_position = event_position
        self._lock = threading.RLock()
        self._trails: dict[str, Trail] = {}
        self._listeners: list[TrailListener] = []
        if state_file is not None:
            document = state_file.load()
            for data in (document or {}).get("trails", []):
                trail = Trail.from_json(data)
                self._trails[trail.arn] = trail

    # -- seams ---------------------------------------------------------------------------------

    def add_listener(self, listener: TrailListener) -> None:
        """Call `listener(TrailChange)` after every create/update/delete/start/stop (under the
        model's lock: a listener must not block on another thread that uses this model)."""
        self._listeners.append(listener)

    def trails(self) -> list[Trail]:
        """Snapshots of every trail (all accounts and regions), in ARN order."""
        with self._lock:
            return [t.copy() for _, t in sorted(self._trails.items())]

    def record_delivery(self, arn: str, at: datetime, error: str | None = None) -> None:
        """The delivery code delivered (or failed to deliver) a log file of trail `arn` at `at`."""
        self._record(arn, at, error, "latest_delivery")

    def record_digest_delivery(self, arn: str, at: datetime, error: str | None = None) -> None:
        self._record(arn, at, error, "latest_digest_delivery")

    def record_notification(self, arn: str, at: datetime, error: str | None = None) -> None:
        self._record(arn, at, error, "latest_notification")

    def _record(self, arn: str, at: datetime, error: str | None, what: str) -> None:
        with self._lock:
            trail = self._trails.get(arn)
            if trail is None:
                return
            if what == "latest_delivery":
                trail.status.latest_delivery_attempt_time = at
            setattr(trail.status, f"{what}_error", error)
            if error is None:
                setattr(trail.status, f"{what}_time", at)
            self._save()

    # -- lookups -------------------------------------------------------------------------------

    def _visible(self, account_id: str, region: str) -> list[Trail]:
        return [t for _, t in sorted(self._trails.items())
                if t.account_id == account_id and t.visible_in(region)]

    def _find(self, account_id: str, region: str, name_or_arn: str) -> Trail | None:
        if name_or_arn.startswith("arn:"):
            _, owner, _ = v.parse_trail_arn(name_or_arn)
            trail = self._trails.get(name_or_arn)
            return trail if trail is not None and owner == account_id else None
        v.check_trail_name(name_or_arn)
        return next((t for t in self._visible(account_id, region) if t.name == name_or_arn), None)

    def _get(self, account_id: str, region: str, name_or_arn: str) -> Trail:
        trail = self._find(account_id, region, name_or_arn)
        if trail is None:
            arn = name_or_arn if name_or_arn.startswith("arn:") else v.trail_arn(region, account_id, name_or_arn)
            raise TrailNotFoundException(f"Unknown trail: {arn} for the user: {account_id}")
        return trail

    def _get_home(self, account_id: str, region: str, name_or_arn: str) -> Trail:
        trail = self._get(account_id, region, name_or_arn)
        if trail.home_region != region:
            raise InvalidHomeRegionException(
                f"This operation must be called from the trail's home region, {trail.home_region}.")
        return trail

    def _by_arn_for_tags(self, account_id: str, arn: str) -> Trail:
        v.parse_trail_arn(arn)
        trail = self._trails.get(arn)
        if trail is None or trail.account_id != account_id:
            raise ResourceNotFoundException(f"Resource {arn} not found.")
        return trail

    # -- trail lifecycle -----------------------------------------------------------------------

    def create_trail(self, account_id: str, region: str, name: str, settings: TrailSettings,
                     tags: list[dict] | None = None) -> Trail:
        v.check_trail_name(name)
        with self._lock:
            trail = Trail(name=name, account_id=account_id, home_region=region,
                          s3_bucket=settings.s3_bucket or "")
            self._apply(trail, settings, creating=True)
            if any(t.name == name for t in self._visible(account_id, region)) or (
                    trail.is_multi_region and any(t.name == name and t.account_id == account_id
                                                  for t in self._trails.values())):
                raise TrailAlreadyExistsException(
                    f"Trail {name} already exists for customer: {account_id}")
            regions = None if trail.is_multi_region else {region}
            for other in self._all_regions_with_trails(account_id, regions):
                if len(self._visible(account_id, other)) >= MAX_TRAILS_PER_REGION:
                    raise MaximumNumberOfTrailsExceededException(
                        f"User: {account_id} already has {MAX_TRAILS_PER_REGION} trails in {other}.")
            self._merge_tags(trail, tags or [])
            self._trails[trail.arn] = trail
            self._save()
            return self._notify("created", trail)

    def _all_regions_with_trails(self, account_id: str, only: set[str] | None) -> set[str]:
        if only is not None:
            return only
        return {t.home_region for t in self._trails.values() if t.account_id == account_id}

    def update_trail(self, account_id: str, region: str, name_or_arn: str,
                     settings: TrailSettings) -> Trail:
        with self._lock:
            current = self._get_home(account_id, region, name_or_arn)
            updated = current.copy()
            self._apply(updated, settings, creating=False)
            self._trails[updated.arn] = updated
            self._save()
            return self._notify("updated", updated)

    def delete_trail(self, account_id: str, region: str, name_or_arn: str) -> None:
        with self._lock:
            trail = self._get_home(account_id, region, name_or_arn)
            del self._trails[trail.arn]
            self._save()
            self._notify("deleted", trail)

    def _apply(self, trail: Trail, s: TrailSettings, *, creating: bool) -> None:
        """Validate settings against the trail they would produce, then set them on `trail`."""
        account, region = trail.account_id, trail.home_region
        if s.s3_bucket is not None:
            trail.s3_bucket = v.check_bucket_name(s.s3_bucket)
        if s.s3_prefix is not None:
            trail.s3_prefix = v.check_prefix(s.s3_prefix) or None
        for name in ("include_global_service_events", "is_multi_region", "log_file_validation",
                     "is_organization"):
            if getattr(s, name) is not None:
                setattr(trail, name, getattr(s, name))
        if trail.is_multi_region and not trail.include_global_service_events:
            raise InvalidParameterCombinationException(
                "Multi-Region trail must include global service events.")
        if trail.is_organization and account != self.management_account:
            raise NotOrganizationMasterAccountException(
                f"The request was made by account {account}, which is not the management account "
                f"of organization {self.organization_id}.")
        if s.kms_key_id is not None:
            trail.kms_key_id = (v.kms_key_arn(v.check_kms_key_id(s.kms_key_id), region, account)
                                if s.kms_key_id else None)
        if s.cloudwatch_log_group_arn is not None or s.cloudwatch_role_arn is not None:
            group = s.cloudwatch_log_group_arn if s.cloudwatch_log_group_arn is not None \
                else trail.cloudwatch_log_group_arn
            role = s.cloudwatch_role_arn if s.cloudwatch_role_arn is not None else trail.cloudwatch_role_arn
            v.check_cloudwatch(group or None, role or None)
            trail.cloudwatch_log_group_arn, trail.cloudwatch_role_arn = group or None, role or None
        if s.sns_topic is not None:
            trail.sns_topic_arn = self._checked_topic(s.sns_topic, region, account) if s.sns_topic else None
        if creating or s.s3_bucket is not None or s.s3_prefix is not None or s.is_organization:
            self._check_bucket(trail)

    def _checked_topic(self, topic: str, region: str, account: str) -> str:
        arn = v.topic_arn(topic, region, account)
        if not self._topics.topic_exists(arn):
            raise InsufficientSnsTopicPolicyException(
                f"SNS topic {arn} does not exist or its policy does not let CloudTrail publish.")
        return arn

    def _check_bucket(self, trail: Trail) -> None:
        if not self._buckets.bucket_exists(trail.s3_bucket):
            raise S3BucketDoesNotExistException(f"S3 bucket {trail.s3_bucket} does not exist.")
        if self._relax_bucket_policy:
            return
        org = self.organization_id if trail.is_organization else None
        if not policy_allows_cloudtrail(self._buckets.bucket_policy(trail.s3_bucket), trail.s3_bucket,
                                        trail.s3_prefix, trail.account_id, org):
            raise InsufficientS3BucketPolicyException(
                f"Incorrect S3 bucket policy is detected for bucket: {trail.s3_bucket}")

    # -- reads ---------------------------------------------------------------------------------

    def describe_trails(self, account_id: str, region: str, names: list[str] | None,
                        include_shadow: bool = True) -> list[Trail]:
        with self._lock:
            if names:
                found = [self._find(account_id, region, n) for n in names]
                trails = list({t.arn: t for t in found if t is not None}.values())
            else:
                trails = self._visible(account_id, region)
            if not include_shadow:
                trails = [t for t in trails if t.home_region == region]
            return [t.copy() for t in trails]

    def get_trail(self, account_id: str, region: str, name_or_arn: str) -> Trail:
        with self._lock:
            return self._get(account_id, region, name_or_arn).copy()

    def list_trails(self, account_id: str, next_token: str | None) -> tuple[list[Trail], str | None]:
        """Every trail of the account in every region, a page at a time (ARN order)."""
        with self._lock:
            trails = [t for _, t in sorted(self._trails.items()) if t.account_id == account_id]
            start = 0
            if next_token:
                after = _decode_token(next_token)
                start = next((i for i, t in enumerate(trails) if t.arn > after), len(trails))
            page = trails[start:start + self._page_size]
            more = start + self._page_size < len(trails)
            token = _encode_token(page[-1].arn) if more else None
            return [t.copy() for t in page], token

    # -- logging -------------------------------------------------------------------------------

    def start_logging(self, account_id: str, region: str, name_or_arn: str) -> None:
        with self._lock:
            trail = self._get_home(account_id, region, name_or_arn)
            if trail.status.is_logging:
                return
            trail.status.is_logging = True
            trail.status.start_logging_time = self._clock.now()
            trail.status.start_logging_seq = self._event_position() if self._event_position else None
            self._save()
            self._notify("started", trail)

    def stop_logging(self, account_id: str, region: str, name_or_arn: str) -> None:
        with self._lock:
            trail = self._get_home(account_id, region, name_or_arn)
            if not trail.status.is_logging:
                return
            trail.status.is_logging = False
            trail.status.stop_logging_time = self._clock.now()
            self._save()
            self._notify("stopped", trail)

    # -- selectors -----------------------------------------------------------------------------

    def put_event_selectors(self, account_id: str, region: str, name_or_arn: str,
                            basic: list[dict] | None, advanced: list[dict] | None) -> Trail:
        if (basic is None) == (advanced is None):
            raise InvalidParameterCombinationException(
                "Specify either EventSelectors or AdvancedEventSelectors, but not both.")
        with self._lock:
            trail = self._get_home(account_id, region, name_or_arn)
            if basic is not None:
                trail.event_selectors = sel.normalise_event_selectors(basic)
                trail.advanced_event_selectors = None
            else:
                trail.advanced_event_selectors = sel.normalise_advanced_event_selectors(advanced or [])
                trail.event_selectors = None
            trail.custom_event_selectors = True
            self._save()
            return self._notify("updated", trail)

    def get_event_selectors(self, account_id: str, region: str, name_or_arn: str) -> Trail:
        return self.get_trail(account_id, region, name_or_arn)

    def put_insight_selectors(self, account_id: str, region: str, name_or_arn: str,
                              selectors: list[dict]) -> Trail:
        with self._lock:
            trail = self._get_home(account_id, region, name_or_arn)
            trail.insight_selectors = sel.normalise_insight_selectors(selectors)
            self._save()
            return self._notify("updated", trail)

    def get_insight_selectors(self, account_id: str, region: str, name_or_arn: str) -> Trail:
        trail = self.get_trail(account_id, region, name_or_arn)
        if not trail.insight_selectors:
            raise InsightNotEnabledException(f"Trail {trail.name} does not have Insights enabled.")
        return trail

    # -- tags ----------------------------------------------------------------------------------

    def add_tags(self, account_id: str, arn: str, tags: list[dict]) -> None:
        with self._lock:
            trail = self._by_arn_for_tags(account_id, arn)
            self._merge_tags(trail, tags)
            self._save()

    def remove_tags(self, account_id: str, arn: str, tags: list[dict]) -> None:
        with self._lock:
            trail = self._by_arn_for_tags(account_id, arn)
            for tag in tags:
                trail.tags.pop(tag["Key"], None)
            self._save()

    def list_tags(self, account_id: str, arns: list[str]) -> list[tuple[str, dict[str, str | None]]]:
        with self._lock:
            return [(arn, dict(self._by_arn_for_tags(account_id, arn).tags)) for arn in arns]

    @staticmethod
    def _merge_tags(trail: Trail, tags: list[dict]) -> None:
        merged = dict(trail.tags)
        for tag in tags:
            if tag["Key"].lower().startswith("aws:"):
                raise InvalidTagParameterException("Tag keys starting with aws: are reserved.")
            merged[tag["Key"]] = tag.get("Value")
        if len(merged) > MAX_TAGS:
            raise TagsLimitExceededException(
                f"A resource can have at most {MAX_TAGS} tags; this request would give it {len(merged)}.")
        trail.tags = merged

    # -- internals -----------------------------------------------------------------------------

    def _notify(self, kind: str, trail: Trail) -> Trail:
        snapshot = trail.copy()
        change = TrailChange(kind, snapshot, self._clock.now())  # type: ignore[arg-type]
        for listener in list(self._listeners):
            listener(change)
        return snapshot

    def _save(self) -> None:
        if self._state_file is not None:
            self._state_file.save({"trails": [t.to_json() for _, t in sorted(self._trails.items())]})


def _encode_token(arn: str) -> str:
    return base64.urlsafe_b64encode(f"after:{arn}".encode()).decode()


def _decode_token(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    if not text.startswith("after:"):
        raise InvalidTokenException("The NextToken is not valid.")
    return text[len("after:"):]

