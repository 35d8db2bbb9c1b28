"""What a trail delivers and where, frozen: the snapshot live delivery keeps per trail.

A `TrailSnapshot` is taken from a trail when it starts logging and again at each change delivery
applies. A stopped or deleted trail keeps the snapshot it had, so its pending events are delivered by
its last regions, selectors and destination. It is persisted in the delivery state as JSON; selectors
are written in the CloudTrail API's own shape (`EventSelectors`, `AdvancedEventSelectors`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cloudtrail_emulator.emulator.services.cloudtrail.models import Trail
from cloudtrail_emulator.emulator.services.cloudtrail.validation import trail_arn

ReadWriteType = Literal["ReadOnly", "WriteOnly", "All"]
#: advanced field selector operators: (API name, attribute)
OPERATORS = (("Equals", "equals"), ("StartsWith", "starts_with"), ("EndsWith", "ends_with"),
             ("NotEquals", "not_equals"), ("NotStartsWith", "not_starts_with"),
             ("NotEndsWith", "not_ends_with"))


@dataclass(frozen=True)
class DataResource:
    """Data events of one resource type whose ARN starts with one of `values`."""

    type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class EventSelector:
    """A basic event selector."""

    read_write_type: ReadWriteType = "All"
    include_management_events: bool = True
    data_resources: tuple[DataResource, ...] = ()
    exclude_management_event_sources: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"ReadWriteType": self.read_write_type,
                "IncludeManagementEvents": self.include_management_events,
                "DataResources": [{"Type": r.type, "Values": list(r.values)} for r in self.data_resources],
                "ExcludeManagementEventSources": list(self.exclude_management_event_sources)}

    @classmethod
    def from_json(cls, data: dict) -> "EventSelector":
        return cls(data.get("ReadWriteType", "All"), data.get("IncludeManagementEvents", True),
                   tuple(DataResource(r["Type"], tuple(r.get("Values") or ()))
                         for r in data.get("DataResources") or ()),
                   tuple(data.get("ExcludeManagementEventSources") or ()))


@dataclass(frozen=True)
class FieldSelector:
    """One field condition of an advanced selector: positive operators take any listed value, Not* all."""

    field: str
    equals: tuple[str, ...] = ()
    starts_with: tuple[str, ...] = ()
    ends_with: tuple[str, ...] = ()
    not_equals: tuple[str, ...] = ()
    not_starts_with: tuple[str, ...] = ()
    not_ends_with: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"Field": self.field, **{name: list(getattr(self, attr)) for name, attr in OPERATORS
                                        if getattr(self, attr)}}

    @classmethod
    def from_json(cls, data: dict) -> "FieldSelector":
        return cls(data["Field"], **{attr: tuple(data.get(name) or ()) for name, attr in OPERATORS})


@dataclass(frozen=True)
class AdvancedEventSelector:
    """Every field selector must hold."""

    field_selectors: tuple[FieldSelector, ...]
    name: str | None = None

    def to_json(self) -> dict:
        return {**({"Name": self.name} if self.name else {}),
                "FieldSelectors": [f.to_json() for f in self.field_selectors]}

    @classmethod
    def from_json(cls, data: dict) -> "AdvancedEventSelector":
        return cls(tuple(FieldSelector.from_json(f) for f in data["FieldSelectors"]), data.get("Name"))


@dataclass(frozen=True)
class Destination:
    """Where a trail's files go and how they are named: a change of any of these starts new chains."""

    bucket: str
    prefix: str = ""                       # "" for none
    organization_id: str | None = None     # organization trails: o-... in the key layout
    log_file_validation: bool = False


@dataclass(frozen=True)
class TrailSnapshot:
    """A trail's delivery settings: regions, account/organization, selectors, destination, topic."""

    name: str
    account_id: str
    home_region: str
    destination: Destination
    is_multi_region: bool = False
    include_global_service_events: bool = True
    sns_topic_arn: str | None = None
    event_selectors: tuple[EventSelector, ...] = (EventSelector(),)
    advanced_event_selectors: tuple[AdvancedEventSelector, ...] | None = None   # rule when present
    insight_types: tuple[str, ...] = ()

    @property
    def arn(self) -> str:
        return trail_arn(self.home_region, self.account_id, self.name)

    @classmethod
    def of(cls, trail: Trail, organization_id: str) -> "TrailSnapshot":
        """The snapshot of a trail as it is now (`organization_id`: the emulator's organization)."""
        return cls.from_json({
            "name": trail.name, "account_id": trail.account_id, "home_region": trail.home_region,
            "bucket": trail.s3_bucket, "prefix": trail.s3_prefix or "",
            "organization_id": organization_id if trail.is_organization else None,
            "log_file_validation": trail.log_file_validation, "is_multi_region": trail.is_multi_region,
            "include_global_service_events": trail.include_global_service_events,
            "sns_topic_arn": trail.sns_topic_arn, "event_selectors": trail.event_selectors,
            "advanced_event_selectors": trail.advanced_event_selectors,
            "insight_types": sorted({s["InsightType"] for s in trail.insight_selectors or ()})})

    def to_json(self) -> dict:
        d = self.destination
        return {"name": self.name, "account_id": self.account_id, "home_region": self.home_region,
                "bucket": d.bucket, "prefix": d.prefix, "organization_id": d.organization_id,
                "log_file_validation": d.log_file_validation, "is_multi_region": self.is_multi_region,
                "include_global_service_events": self.include_global_service_events,
                "sns_topic_arn": self.sns_topic_arn,
                "event_selectors": None if self.advanced_event_selectors is not None else
                [s.to_json() for s in self.event_selectors],
                "advanced_event_selectors": None if self.advanced_event_selectors is None else
                [s.to_json() for s in self.advanced_event_selectors],
                "insight_types": list(self.insight_types)}

    @classmethod
    def from_json(cls, data: dict) -> "TrailSnapshot":
        advanced = data.get("advanced_event_selectors")
        return cls(
            data["name"], data["account_id"], data["home_region"],
            Destination(data["bucket"], data.get("prefix") or "", data.get("organization_id"),
                        bool(data.get("log_file_validation"))),
            bool(data.get("is_multi_region")), data.get("include_global_service_events", True) is not False,
            data.get("sns_topic_arn"),
            () if advanced is not None else tuple(EventSelector.from_json(s)
                                                  for s in data.get("event_selectors") or ()),
            None if advanced is None else tuple(AdvancedEventSelector.from_json(s) for s in advanced),
            tuple(data.get("insight_types") or ()))
