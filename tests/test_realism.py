"""Generated records against the real ones in ../shared/reference/real-cloudtrail, event by event.

For every (eventSource, eventName) found both in the reference files and in the catalog, records are
generated at the reference's date and compared with the real records of that pair:

- keys: top-level and requestParameters keys of a generated record are among the keys the real
  records of that pair use, and it has every key all of them have (context keys that depend on the
  caller or the outcome rather than on the event, such as errorCode or tlsDetails, are left out);
  userIdentity keys are compared per identity type over all real records; requestParameters is an
  object or null as some real record of that pair has it (IAM GetUser is logged with null when it
  names no user, with ``{"userName": ...}`` when it does);
- order: no two keys appear in the opposite order of the real records of that event (pairwise, at
  every level), nor, outside requestParameters and responseElements, of any real record. A pair of
  keys the real records themselves write in both orders has no order to contradict: services that
  serialise from hash maps (IAM, KMS, RDS, Health) do that, and either order is then as real;
- types: a key's JSON type matches the type the real records give it;
- eventVersion: the same as the real records of that service on that date.

The reference set comes from an attack simulation, so its mix of identities and errors is not a
target: only the shape of each event is.
"""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timezone

import pytest
from fixtures_paths import load_real_records

from cloudtrail_emulator.generators.catalog import load_catalog
from cloudtrail_emulator.generators.population import build_population
from cloudtrail_emulator.generators.records import RecordFactory

SAMPLES = 12
#: top-level keys set by the caller, the outcome or the network path rather than by the event
CONTEXT_KEYS = {"errorCode", "errorMessage", "tlsDetails", "sessionCredentialFromConsole", "vpcEndpointId",
                "vpcEndpointAccountId", "sharedEventID", "userIdentity", "resources", "additionalEventData"}


def _json_type(value: object) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", type(None): "null",
            list: "array", dict: "object"}[type(value)]


def _orders(obj: object, path: str, into: dict[str, set[tuple[str, str]]]) -> None:
    """Every (earlier key, later key) pair of every object, by the object's path."""
    if isinstance(obj, dict):
        keys = list(obj)
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                into[path].add((a, b))
        for key, value in obj.items():
            _orders(value, f"{path}.{key}" if path else key, into)
    elif isinstance(obj, list):
        for item in obj:
            _orders(item, f"{path}[]", into)


def _contradicts(a: str, b: str, real: set[tuple[str, str]]) -> bool:
    """True when the real records write b before a and never a before b."""
    return (b, a) in real and (a, b) not in real


def _types(obj: object, path: str, into: dict[str, set[str]]) -> None:
    into[path].add(_json_type(obj))
    if isinstance(obj, dict):
        for key, value in obj.items():
            _types(value, f"{path}.{key}" if path else key, into)
    elif isinstance(obj, list):
        for item in obj:
            _types(item, f"{path}[]", into)


class Reference:
    """What the real records say, per pair and overall."""

    def __init__(self, records: list[dict]):
        self.by_pair: dict[tuple[str, str], list[dict]] = defaultdict(list)
        self.orders: dict[str, set[tuple[str, str]]] = defaultdict(set)     # envelope, all records
        self.pair_orders: dict[tuple[str, str], dict[str, set[tuple[str, str]]]] = defaultdict(
            lambda: defaultdict(set))                                        # every level, per event
        self.types: dict[str, set[str]] = defaultdict(set)
        self.identity_keys: dict[str, set[str]] = defaultdict(set)
        self.versions: dict[tuple[str, str], set[str]] = defaultdict(set)
        for record in records:
            pair = (record["eventSource"], record["eventName"])
            self.by_pair[pair].append(record)
            _orders(record, "", self.pair_orders[pair])
            envelope = {k: v for k, v in record.items() if k not in ("requestParameters", "responseElements")}
            _orders(envelope, "", self.orders)
            _types(record, "", self.types)
            identity = record.get("userIdentity") or {}
            self.identity_keys[identity.get("type", "")] |= set(identity)
            self.versions[(record["eventSource"], record["eventTime"][:10])].add(record["eventVersion"])

    def problems(self, pair: tuple[str, str], record: dict) -> list[str]:
        real = self.by_pair[pair]
        found = []
        top_union = set().union(*(r.keys() for r in real)) - CONTEXT_KEYS
        top_common = set.intersection(*(set(r) for r in real)) - CONTEXT_KEYS
        top = set(record) - CONTEXT_KEYS
        if not top_common <= top <= top_union:
            found.append(f"top-level keys: missing {sorted(top_common - top)}, extra {sorted(top - top_union)}")
        params = [r["requestParameters"] for r in real if isinstance(r.get("requestParameters"), dict)]
        generated = record.get("requestParameters")
        if params and isinstance(generated, dict):
            union, common = set().union(*params), set.intersection(*(set(p) for p in params))
            if not common <= set(generated) <= union:
                found.append(f"requestParameters keys: missing {sorted(common - set(generated))}, "
                             f"extra {sorted(set(generated) - union)}")
        kinds = {isinstance(r.get("requestParameters"), dict) for r in real}
        if isinstance(generated, dict) not in kinds and "errorCode" not in record:
            found.append(f"requestParameters is {type(generated).__name__}, real ones are not")
        identity = record.get("userIdentity") or {}
        allowed = self.identity_keys.get(identity.get("type", ""))
        if allowed is not None and not set(identity) <= allowed:
            found.append(f"userIdentity keys: extra {sorted(set(identity) - allowed)}")
        orders: dict[str, set[tuple[str, str]]] = defaultdict(set)
        _orders(record, "", orders)
        own = self.pair_orders[pair]
        for path, seen in orders.items():
            flipped = {(a, b) for a, b in seen if _contradicts(a, b, own.get(path, ())) or
                       _contradicts(a, b, self.orders.get(path, ()))}
            if flipped:
                found.append(f"key order at {path or 'top level'}: {sorted(flipped)[:3]}")
        types: dict[str, set[str]] = defaultdict(set)
        _types(record, "", types)
        for path in ("readOnly", "managementEvent", "eventTime", "eventVersion", "requestParameters",
                     "responseElements", "userIdentity.sessionContext.attributes.mfaAuthenticated",
                     "sessionCredentialFromConsole", "resources", "additionalEventData"):
            if path in types and path in self.types and not types[path] & self.types[path]:
                found.append(f"type of {path}: {sorted(types[path])} vs real {sorted(self.types[path])}")
        versions = self.versions.get((record["eventSource"], record["eventTime"][:10]))
        if versions and record["eventVersion"] not in versions:
            found.append(f"eventVersion {record['eventVersion']} vs real {sorted(versions)}")
        return found


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(load_real_records())


def test_generated_events_match_the_real_ones(reference: Reference):
    catalog = load_catalog()
    factory = RecordFactory(build_population(5, 1), catalog)
    shared = sorted(pair for pair in reference.by_pair if pair in catalog.pairs())
    failing: dict[tuple[str, str], list[str]] = {}
    for pair in shared:
        first = reference.by_pair[pair][0]
        when = datetime.fromisoformat(first["eventTime"].replace("Z", "+00:00")).astimezone(timezone.utc)
        rng = random.Random(f"realism:{pair}")
        entry = catalog.get(*pair)
        for _ in range(SAMPLES):
            record = factory.make(rng, when, "123456789012", first["awsRegion"], entry=entry)
            problems = reference.problems(pair, record)
            if problems:
                failing[pair] = problems
                break
    matching = len(shared) - len(failing)
    print(f"\nreference pairs: {len(reference.by_pair)}; in the catalog: {len(shared)}; "
          f"matching the real records: {matching} ({matching / len(reference.by_pair):.1%} of the reference)")
    for pair, problems in sorted(failing.items()):
        print(f"  {pair[0]} {pair[1]}: {'; '.join(problems)}")
    assert matching >= 0.9 * len(reference.by_pair), f"{len(failing)} pairs differ from the real records"
