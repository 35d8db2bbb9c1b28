"""Event and insight selector rules (AWS's limits and field checks) for PutEventSelectors/PutInsightSelectors."""
from __future__ import annotations

from cloudtrail_emulator.emulator.services.cloudtrail.exceptions import (
    InvalidEventSelectorsException,
    InvalidInsightSelectorsException,
)

MAX_EVENT_SELECTORS = 5
MAX_DATA_RESOURCES = 250
MAX_ADVANCED_VALUES = 500

DATA_RESOURCE_PREFIXES = {
    "AWS::S3::Object": "arn:aws:s3",
    "AWS::Lambda::Function": "arn:aws:lambda",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb",
}
EXCLUDABLE_SOURCES = ("kms.amazonaws.com", "rdsdata.amazonaws.com")
ADVANCED_FIELDS = frozenset({
    "eventCategory", "eventSource", "eventName", "eventType", "readOnly", "resources.type",
    "resources.ARN", "sessionCredentialFromConsole", "userIdentity.arn", "errorCode", "vpcEndpointId",
})
EQUALS_ONLY = {"eventCategory": ("Management", "Data", "NetworkActivity"), "readOnly": ("true", "false")}
OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")


def default_event_selectors() -> list[dict]:
    """What a new trail logs: all management events, no data events."""
    return [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
             "ExcludeManagementEventSources": []}]


def _fail(message: str) -> InvalidEventSelectorsException:
    return InvalidEventSelectorsException(message)


def _check_data_resource(resource: dict) -> dict:
    kind = resource.get("Type")
    if kind not in DATA_RESOURCE_PREFIXES:
        raise _fail(f"Invalid DataResource type {kind!r}; valid types are "
                    f"{', '.join(DATA_RESOURCE_PREFIXES)}")
    values = resource.get("Values") or []
    if not values:
        raise _fail(f"DataResource of type {kind} needs at least one value")
    prefix = DATA_RESOURCE_PREFIXES[kind]
    for value in values:
        if value != prefix and not value.startswith(prefix + ":"):
            raise _fail(f"Value {value} for DataResources.Values is invalid.")
    return {"Type": kind, "Values": list(values)}


def normalise_event_selectors(selectors: list[dict]) -> list[dict]:
    """Validate basic selectors and fill AWS's defaults; raises InvalidEventSelectorsException."""
    if len(selectors) > MAX_EVENT_SELECTORS:
        raise _fail(f"A trail can have at most {MAX_EVENT_SELECTORS} event selectors; "
                    f"{len(selectors)} were given")
    total = sum(len(s.get("DataResources") or []) for s in selectors)
    if total > MAX_DATA_RESOURCES:
        raise _fail(f"A trail can have at most {MAX_DATA_RESOURCES} data resources across all "
                    f"event selectors; {total} were given")
    out = []
    for selector in selectors:
        excluded = list(selector.get("ExcludeManagementEventSources") or [])
        for source in excluded:
            if source not in EXCLUDABLE_SOURCES:
                raise _fail(f"Invalid ExcludeManagementEventSources value {source}; valid values "
                            f"are {', '.join(EXCLUDABLE_SOURCES)}")
        out.append({
            "ReadWriteType": selector.get("ReadWriteType", "All"),
            "IncludeManagementEvents": selector.get("IncludeManagementEvents", True),
            "DataResources": [_check_data_resource(r) for r in selector.get("DataResources") or []],
            "ExcludeManagementEventSources": excluded,
        })
    return out


def _check_field_selector(field: dict) -> int:
    name = field["Field"]
    if name not in ADVANCED_FIELDS:
        raise _fail(f"Invalid field {name!r} in an advanced event selector")
    used = [op for op in OPERATORS if field.get(op)]
    if not used:
        raise _fail(f"Field selector {name} needs at least one operator")
    if name in EQUALS_ONLY:
        if used != ["Equals"]:
            raise _fail(f"Field {name} supports only the Equals operator")
        for value in field["Equals"]:
            if value not in EQUALS_ONLY[name]:
                raise _fail(f"Invalid value {value!r} for field {name}; valid values are "
                            f"{', '.join(EQUALS_ONLY[name])}")
    return sum(len(field[op]) for op in used)


def normalise_advanced_event_selectors(selectors: list[dict]) -> list[dict]:
    """Validate advanced selectors; raises InvalidEventSelectorsException."""
    values = 0
    for selector in selectors:
        fields = selector["FieldSelectors"]
        names = [f["Field"] for f in fields]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            raise _fail(f"Field {sorted(duplicated)[0]} appears more than once in one advanced "
                        "event selector")
        values += sum(_check_field_selector(f) for f in fields)
        by_name = {f["Field"]: f for f in fields}
        if "eventCategory" not in by_name:
            raise _fail("Each advanced event selector needs an eventCategory field selector")
        if "Data" in by_name["eventCategory"]["Equals"]:
            kinds = by_name.get("resources.type", {}).get("Equals") or []
            if len(kinds) != 1:
                raise _fail("An advanced event selector for data events needs a resources.type "
                            "field selector with exactly one Equals value")
    if values > MAX_ADVANCED_VALUES:
        raise _fail(f"A trail can have at most {MAX_ADVANCED_VALUES} values across all advanced "
                    f"event selector conditions; {values} were given")
    return [dict(s) for s in selectors]


def normalise_insight_selectors(selectors: list[dict]) -> list[dict]:
    """Validate insight selectors; raises InvalidInsightSelectorsException."""
    kinds = []
    for selector in selectors:
        kind = selector.get("InsightType")
        if kind is None:
            raise InvalidInsightSelectorsException("Each insight selector needs an InsightType")
        if kind in kinds:
            raise InvalidInsightSelectorsException(f"InsightType {kind} is given more than once")
        kinds.append(kind)
    return [dict(s) for s in selectors]
