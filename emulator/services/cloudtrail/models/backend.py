"""CloudTrailBackend: the trails of every account and region, their rules and state, thread-safe.

Trails are keyed by ARN. A multi-region trail is visible (as a shadow trail) in every region; only its
home region may change it. The organization trail is visible to every member account too (by ARN for
reads; only the management account may change it). Listeners hear about lifecycle changes (the delivery scheduler's seam), and
the delivery code reports back through `record_delivery` and friends (GetTrailStatus shows them).
"""
from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import datetime

from cloudtrail_emulator.emulator.config import Clock
from cloudtrail_emulator.emulator.persistence import JsonStateFile
from cloudtrail_emulator.emulator.seams import BucketDirectory, TopicDirectory
from cloudtrail_emulator.emulator.services.cloudtrail import selectors as sel
from cloudtrail_emulator.emulator.services.cloudtrail import validation as v
from cloudtrail_emulator.emulator.services.cloudtrail.exceptions import (
    CloudTrailARNInvalidException,
    InsightNotEnabledException,
    InvalidHomeRegionException,
    InvalidParameterCombinationException,
    InvalidTagParameterException,
    InvalidTokenException,
    MaximumNumberOfTrailsExceededException,
    ResourceNotFoundException,
    TagsLimitExceededException,
    TrailAlreadyExistsException,
    TrailNotFoundException,
)
from cloudtrail_emulator.emulator.services.cloudtrail.models.persistence import load_trails, save_trails
from cloudtrail_emulator.emulator.services.cloudtrail.models.settings import SettingsRules, TrailSettings
from cloudtrail_emulator.emulator.services.cloudtrail.models.trail import Trail, TrailChange, TrailListener

MAX_TRAILS_PER_REGION = 5
MAX_TAGS = 50


class CloudTrailBackend:
    """All trails of every account and region in one emulator; thread-safe."""

    def __init__(self, *, clock: Clock, buckets: BucketDirectory, topics: TopicDirectory,
                 management_account: str, organization_id: str, relax_bucket_policy: bool = False,
                 state_file: JsonStateFile | None = None, page_size: int = 50,
                 event_position: Callable[[], int] | None = None):
        self._clock = clock
        self._rules = SettingsRules(buckets=buckets, topics=topics, management_account=management_account,
                                    organization_id=organization_id, relax_bucket_policy=relax_bucket_policy)
        self._state_file = state_file
        self._page_size = page_size
        self._event_position = event_position
        self._lock = threading.RLock()
        self._trails: dict[str, Trail] = load_trails(state_file) if state_file is not None else {}
        self._listeners: list[TrailListener] = []

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
        """The account's own trails in `region` (home or shadow): what its names address."""
        return [t for _, t in sorted(self._trails.items())
                if t.account_id == account_id and t.visible_in(region)]

    @staticmethod
    def _shown_to(trail: Trail, account_id: str) -> bool:
        """The account's own trail, or the organization's trail that every member account sees (every
        account is a member of the emulator's one organization)."""
        return trail.account_id == account_id or trail.is_organization

    def _shown(self, account_id: str, region: str) -> list[Trail]:
        """What DescribeTrails lists in `region`: own trails and shadows, and organization trails."""
        return [t for _, t in sorted(self._trails.items())
                if self._shown_to(t, account_id) and t.visible_in(region)]

    def _find(self, account_id: str, region: str, name_or_arn: str) -> Trail | None:
        """A trail by ARN (own, or the organization's: members must use its ARN), or an own trail by name."""
        if name_or_arn.startswith("arn:"):
            v.parse_trail_arn(name_or_arn)
            trail = self._trails.get(name_or_arn)
            return trail if trail is not None and self._shown_to(trail, account_id) else None
        v.check_trail_name(name_or_arn)
        return next((t for t in self._visible(account_id, region) if t.name == name_or_arn), None)

    def _get(self, account_id: str, region: str, name_or_arn: str, *, as_given: bool = False) -> Trail:
        """The trail or TrailNotFoundException naming it as AWS does: GetTrail as given, other
        operations by the ARN a name would have in the caller's account and region."""
        trail = self._find(account_id, region, name_or_arn)
        if trail is None:
            named = name_or_arn if as_given or name_or_arn.startswith("arn:") \
                else v.trail_arn(region, account_id, name_or_arn)
            raise TrailNotFoundException(f"Unknown trail: {named} for the user: {account_id}")
        return trail

    def _get_home(self, account_id: str, region: str, name_or_arn: str) -> Trail:
        """A trail the caller may change: its own (a member cannot change the organization's trail),
        addressed from its home region."""
        trail = self._get(account_id, region, name_or_arn)
        if trail.account_id != account_id:
            raise self._rules.not_management(account_id)
        if trail.home_region != region:
            raise InvalidHomeRegionException(
                f"This operation must be called from the trail's home region, {trail.home_region}.")
        return trail

    def _by_arn_for_tags(self, account_id: str, arn: str) -> Trail:
        _, owner, _ = v.parse_trail_arn(arn)
        if owner != account_id:      # the organization's trail too, as AWS answers a member
            raise CloudTrailARNInvalidException(
                f"AccountID in ARN is wrong, you can only access resources with AccountID {account_id}.")
        trail = self._trails.get(arn)
        if trail is None:
            raise ResourceNotFoundException(f"Resource {arn} not found.")
        return trail

    # -- trail lifecycle -----------------------------------------------------------------------

    def create_trail(self, account_id: str, region: str, name: str, settings: TrailSettings,
                     tags: list[dict] | None = None) -> Trail:
        v.check_trail_name(name)
        with self._lock:
            trail = Trail(name=name, account_id=account_id, home_region=region,
                          s3_bucket=settings.s3_bucket or "")
            self._rules.apply(trail, settings, creating=True)
            if any(t.name == name for t in self._visible(account_id, region)) or (
                    trail.is_multi_region and any(t.name == name and t.account_id == account_id
                                                  for t in self._trails.values())):
                raise TrailAlreadyExistsException(
                    f"Trail {name} already exists for customer: {account_id}")
            regions = None if trail.is_multi_region else {region}
            for other in self._all_regions_with_trails(account_id, regions):
                if len(self._visible(account_id, other)) >= MAX_TRAILS_PER_REGION:
                    raise MaximumNumberOfTrailsExceededException(
                        f"User: {account_id} already has {MAX_TRAILS_PER_REGION} trails in {other}")
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
            self._rules.apply(updated, settings, creating=False)
            self._trails[updated.arn] = updated
            self._save()
            return self._notify("updated", updated)

    def delete_trail(self, account_id: str, region: str, name_or_arn: str) -> None:
        with self._lock:
            trail = self._get_home(account_id, region, name_or_arn)
            del self._trails[trail.arn]
            self._save()
            self._notify("deleted", trail)

    # -- reads ---------------------------------------------------------------------------------

    def describe_trails(self, account_id: str, region: str, names: list[str] | None,
                        include_shadow: bool = True) -> list[Trail]:
        with self._lock:
            if names:
                found = [self._find(account_id, region, n) for n in names]
                trails = list({t.arn: t for t in found if t is not None}.values())
            else:
                trails = self._shown(account_id, region)
            if not include_shadow:      # neither other regions' trails nor the organization's in a member
                trails = [t for t in trails if t.home_region == region and t.account_id == account_id]
            return [t.copy() for t in trails]

    def get_trail(self, account_id: str, region: str, name_or_arn: str, *, as_given: bool = False) -> Trail:
        """A trail the caller sees (`as_given`: an unknown one named as given, as GetTrail does)."""
        with self._lock:
            return self._get(account_id, region, name_or_arn, as_given=as_given).copy()

    def list_trails(self, account_id: str, next_token: str | None) -> tuple[list[Trail], str | None]:
        """Every trail of the account in every region and the organization's, a page at a time (ARN order)."""
        with self._lock:
            trails = [t for _, t in sorted(self._trails.items()) if self._shown_to(t, account_id)]
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
        if len({v.parse_trail_arn(arn)[1] for arn in arns}) > 1:
            raise CloudTrailARNInvalidException("You cannot have resources belonging to multiple owners")
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
            save_trails(self._state_file, self._trails)


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

