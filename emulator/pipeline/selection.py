"""Which records a trail logs: account or organization, regions, global services, event selectors."""
from __future__ import annotations

from collections.abc import Callable

from cloudtrail_emulator.emulator.pipeline.trail_snapshot import (
    OPERATORS,
    AdvancedEventSelector,
    EventSelector,
    FieldSelector,
    TrailSnapshot,
)

GLOBAL_SOURCES = frozenset({"iam.amazonaws.com", "sts.amazonaws.com", "signin.amazonaws.com",
                            "cloudfront.amazonaws.com", "route53.amazonaws.com"})


def trail_selects(trail: TrailSnapshot, record: dict) -> bool:
    """Does `trail` log `record`: its account (any, for organization trails), region, selectors."""
    if record.get("recipientAccountId") != trail.account_id and trail.destination.organization_id is None:
        return False
    if record.get("awsRegion") != trail.home_region and not trail.is_multi_region:
        return False
    if not trail.include_global_service_events and record.get("eventSource") in GLOBAL_SOURCES:
        return False
    if trail.advanced_event_selectors is not None:
        return any(_advanced_selects(s, record) for s in trail.advanced_event_selectors)
    return _basic_selects(trail.event_selectors, record)


def _is_management(record: dict) -> bool:
    return record.get("managementEvent", True) is not False and record.get("eventCategory") != "Data"


def _read_write_ok(kind: str, record: dict) -> bool:
    return kind == "All" or (kind == "ReadOnly") == bool(record.get("readOnly"))


def _data_resource_arns(record: dict) -> list[tuple[str | None, str]]:
    """(type, ARN) of a record's resources. An S3 data event on a bucket alone (ListObjects) also
    stands for the bucket's objects, `arn:aws:s3:::<bucket>/`: object selectors covering the whole
    bucket log it, as AWS does."""
    arns = [(r.get("type"), r.get("ARN") or "") for r in record.get("resources") or ()]
    if record.get("eventSource") == "s3.amazonaws.com" and all(t != "AWS::S3::Object" for t, _ in arns):
        arns += [("AWS::S3::Object", arn + "/") for t, arn in arns if t == "AWS::S3::Bucket"]
    return arns


def _basic_selects(selectors: tuple[EventSelector, ...], record: dict) -> bool:
    if record.get("eventCategory") in ("Insight", "NetworkActivity"):
        return False
    management = _is_management(record)
    arns = _data_resource_arns(record)
    for s in selectors:
        if not _read_write_ok(s.read_write_type, record):
            continue
        if management:
            if s.include_management_events and \
                    record.get("eventSource") not in s.exclude_management_event_sources:
                return True
            continue
        for resource in s.data_resources:
            if any(kind == resource.type and any(arn.startswith(v) for v in resource.values)
                   for kind, arn in arns):
                return True
    return False


def _field_values(name: str, record: dict) -> list[str]:
    if name == "resources.type":
        return [r.get("type") or "" for r in record.get("resources") or ()]
    if name == "resources.ARN":
        return [r.get("ARN") or "" for r in record.get("resources") or ()]
    if name == "userIdentity.arn":
        return [str((record.get("userIdentity") or {}).get("arn", ""))]
    value = record.get(name)
    if name == "eventCategory" and value is None:
        value = "Management" if _is_management(record) else "Data"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return [] if value is None else [str(value)]


_TESTS: dict[str, Callable[[str, str], bool]] = {
    "Equals": str.__eq__, "StartsWith": str.startswith, "EndsWith": str.endswith,
    "NotEquals": lambda v, x: v != x, "NotStartsWith": lambda v, x: not v.startswith(x),
    "NotEndsWith": lambda v, x: not v.endswith(x),
}


def _field_matches(field: FieldSelector, record: dict) -> bool:
    """Some value of the field meets every operator (positive ones: any listed value; Not*: all)."""
    def meets(value: str) -> bool:
        for op, attr in OPERATORS:
            wanted = getattr(field, attr)
            if not wanted:
                continue
            results = [_TESTS[op](value, w) for w in wanted]
            if not (all(results) if op.startswith("Not") else any(results)):
                return False
        return True
    return any(meets(v) for v in _field_values(field.field, record))


def _advanced_selects(selector: AdvancedEventSelector, record: dict) -> bool:
    return all(_field_matches(f, record) for f in selector.field_selectors)
