"""The record, log-file and digest schemas: real CloudTrail output passes, broken copies fail."""
from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable

import pytest
from jsonschema import Draft202012Validator, ValidationError

from cloudtrail_emulator import schemas
from fixtures_paths import REAL_LOGS

REAL_LOG_FILES = sorted(REAL_LOGS.glob("*/*.json.gz"))
DIGEST_PREFIX = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/03/04/"
LOG_PREFIX = "AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/04/"
PREVIOUS_DIGEST_KEYS = ("previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue",
                        "previousDigestHashAlgorithm", "previousDigestSignature")


def _checked_both_ways(validator: schemas.FastValidator, instance: object) -> bool:
    """The compiled verdict, after making sure plain jsonschema agrees with it."""
    fast = validator.is_valid(instance)
    assert fast == validator.jsonschema.is_valid(instance), "compiled checker and jsonschema disagree"
    return fast


# ---------------------------------------------------------------- loader

@pytest.mark.parametrize("name", schemas.NAMES)
def test_each_schema_is_draft_2020_12_with_an_id(name):
    schema = schemas.load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{name}.schema.json")
    Draft202012Validator.check_schema(schema)


def test_load_returns_a_fresh_copy_and_refuses_unknown_names():
    first = schemas.load("record")
    first["required"].clear()
    assert schemas.load("record")["required"]
    with pytest.raises(ValueError, match="unknown schema 'records'"):
        schemas.load("records")


def test_validators_are_cached():
    assert schemas.record_validator() is schemas.record_validator()
    assert schemas.digest_validator() is schemas.digest_validator()


def test_log_file_reference_resolves_through_the_registry():
    log_id = schemas.load("logfile")["$id"]
    record_id = schemas.load("record")["$id"]
    resolved = schemas.registry().resolver(base_uri=log_id).lookup("record.schema.json")
    assert resolved.contents["$id"] == record_id


# ---------------------------------------------------------------- records

def test_every_real_record_validates(real_records):
    validator = schemas.record_validator()
    bad = [(r["eventID"], e.message) for r in real_records for e in validator.jsonschema.iter_errors(r)]
    assert not bad, bad[:5]
    assert all(validator.is_valid(r) for r in real_records)


@pytest.mark.parametrize("path", REAL_LOG_FILES, ids=lambda p: p.name)
def test_every_real_log_file_validates(path):
    with gzip.open(path, "rb") as fh:
        body = json.load(fh)
    assert _checked_both_ways(schemas.log_file_validator(), body)
    schemas.validate_log_file(body)


@pytest.fixture(scope="module")
def api_call(real_records) -> dict:
    """A real API call by an assumed role, with a session context and TLS details."""
    return next(r for r in real_records
                if r["eventType"] == "AwsApiCall" and "sessionContext" in r["userIdentity"]
                and "tlsDetails" in r and "errorCode" not in r)


INSIGHT = {
    "eventVersion": "1.08",
    "eventTime": "2023-01-02T02:51:00Z",
    "awsRegion": "us-east-1",
    "eventID": "654ccbc0-ba0d-486a-9076-dbf7274677a7",
    "eventType": "AwsCloudTrailInsight",
    "recipientAccountId": "123456789012",
    "sharedEventID": "bcbfc56e-a41b-4d3b-b9b8-3c3d5b7c5e0a",
    "insightDetails": {
        "state": "Start",
        "eventSource": "ssm.amazonaws.com",
        "eventName": "UpdateInstanceInformation",
        "insightType": "ApiCallRateInsight",
        "insightContext": {
            "statistics": {"baseline": {"average": 85.42}, "insight": {"average": 664},
                           "insightDuration": 5, "baselineDuration": 11636},
            "attributions": [{"attribute": "errorCode", "insight": [{"value": "null", "average": 664}],
                              "baseline": [{"value": "null", "average": 85.42}]}],
        },
    },
    "eventCategory": "Insight",
}

REQUIRED_FOR_CALLS = ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                      "sourceIPAddress", "requestParameters", "responseElements", "eventID", "eventType",
                      "recipientAccountId", "eventCategory")


@pytest.mark.parametrize("key", REQUIRED_FOR_CALLS)
def test_api_call_without_a_required_key_is_rejected(api_call, key):
    record = copy.deepcopy(api_call)
    del record[key]
    assert not _checked_both_ways(schemas.record_validator(), record)
    with pytest.raises(ValidationError):
        schemas.validate_record(record)


def _set(path: str, value: object) -> Callable[[dict], None]:
    """A mutation writing `value` at the dotted `path` of a record."""
    *parents, leaf = path.split(".")

    def mutate(record: dict) -> None:
        node = record
        for part in parents:
            node = node[part]
        node[leaf] = value

    return mutate


BAD_RECORDS = {
    "readOnly as a string": _set("readOnly", "true"),
    "managementEvent as a string": _set("managementEvent", "true"),
    "mfaAuthenticated as a boolean": _set("userIdentity.sessionContext.attributes.mfaAuthenticated", False),
    "fractional eventTime": _set("eventTime", "2023-07-10T12:00:00.123Z"),
    "eventTime with an offset": _set("eventTime", "2023-07-10T12:00:00+00:00"),
    "creationDate not a time": _set("userIdentity.sessionContext.attributes.creationDate", "yesterday"),
    "eventID not a UUID": _set("eventID", "not-a-uuid"),
    "eventID in upper case": _set("eventID", "654CCBC0-BA0D-486A-9076-DBF7274677A7"),
    "recipientAccountId of 11 digits": _set("recipientAccountId", "12345678901"),
    "userIdentity.accountId of 13 digits": _set("userIdentity.accountId", "1234567890123"),
    "unknown userIdentity.type": _set("userIdentity.type", "Robot"),
    "eventVersion as a number": _set("eventVersion", 1.08),
    "unknown eventType": _set("eventType", "AwsApiCalls"),
    "unknown eventCategory": _set("eventCategory", "Everything"),
    "Insight category on an API call": _set("eventCategory", "Insight"),
    "requestParameters as a string": _set("requestParameters", "{}"),
    "responseElements as a list": _set("responseElements", []),
    "errorCode as a number": _set("errorCode", 403),
    "sessionCredentialFromConsole as a boolean": _set("sessionCredentialFromConsole", True),
    "sessionCredentialFromConsole false": _set("sessionCredentialFromConsole", "false"),
    "resource without ARN": _set("resources", [{"accountId": "123456789012", "type": "AWS::S3::Bucket"}]),
    "resource with an extra key": _set("resources", [{"ARN": "arn:aws:s3:::b", "name": "b"}]),
    "unknown tlsDetails key": _set("tlsDetails.sni", "x"),
    "region in capitals": _set("awsRegion", "US-EAST-1"),
    "sharedEventID not a UUID": _set("sharedEventID", "x"),
}


@pytest.mark.parametrize("mutate", BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_broken_record_is_rejected(api_call, mutate):
    record = copy.deepcopy(api_call)
    mutate(record)
    assert not _checked_both_ways(schemas.record_validator(), record)
    with pytest.raises(ValidationError):
        schemas.validate_record(record)


def test_api_call_needs_a_user_identity_type_but_a_service_event_does_not(api_call, real_records):
    record = copy.deepcopy(api_call)
    del record["userIdentity"]["type"]
    assert not _checked_both_ways(schemas.record_validator(), record)
    service_event = next(r for r in real_records if r["eventType"] == "AwsServiceEvent"
                         and "type" not in r["userIdentity"])
    assert _checked_both_ways(schemas.record_validator(), service_event)


def test_unknown_top_level_keys_are_allowed(api_call):
    record = {**api_call, "someFieldAwsAddsNextYear": {"anything": [1, 2]}}
    assert _checked_both_ways(schemas.record_validator(), record)


def test_insight_record_validates_without_caller_fields():
    assert _checked_both_ways(schemas.record_validator(), INSIGHT)


@pytest.mark.parametrize("change", [
    {"insightDetails": None},
    {"eventCategory": "Management"},
    {"insightDetails": {**INSIGHT["insightDetails"], "state": "Ongoing"}},
], ids=["no insightDetails", "Management category", "unknown state"])
def test_broken_insight_record_is_rejected(change):
    record = {key: value for key, value in {**INSIGHT, **change}.items() if value is not None}
    assert not _checked_both_ways(schemas.record_validator(), record)


def test_api_call_may_not_carry_insight_details(api_call):
    record = {**api_call, "insightDetails": INSIGHT["insightDetails"]}
    assert not _checked_both_ways(schemas.record_validator(), record)


@pytest.mark.parametrize("body", [
    {"Records": []},
    {"Records": [{}]},
    {"records": []},
], ids=["no records", "empty record", "wrong key"])
def test_broken_log_file_is_rejected(body):
    assert not _checked_both_ways(schemas.log_file_validator(), body)


def test_log_file_with_one_bad_record_is_rejected(api_call):
    body = {"Records": [api_call, {**api_call, "readOnly": "false"}]}
    assert not _checked_both_ways(schemas.log_file_validator(), body)
    with pytest.raises(ValidationError, match="'false' is not of type 'boolean'"):
        schemas.validate_log_file(body)


def test_log_file_with_an_extra_top_level_key_is_rejected(api_call):
    assert not _checked_both_ways(schemas.log_file_validator(), {"Records": [api_call], "Extra": 1})


# ---------------------------------------------------------------- digests

def _digest(*, starting: bool) -> dict:
    """A digest built from FORMATS.md section 2: a starting one (no predecessor, no files) or a chained one."""
    digest = {
        "awsAccountId": "123456789012",
        "digestStartTime": "2024-03-04T10:17:30Z",
        "digestEndTime": "2024-03-04T11:17:30Z",
        "digestS3Bucket": "my-trail-bucket",
        "digestS3Object": DIGEST_PREFIX
        + "123456789012_CloudTrail-Digest_us-east-1_my_trail.v2_us-east-1_20240304T111730Z.json.gz",
        "digestPublicKeyFingerprint": "3c4e1b2f9a8d7c6b5a4f3e2d1c0b9a88",
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": None,
        "oldestEventTime": None,
        "previousDigestS3Bucket": None,
        "previousDigestS3Object": None,
        "previousDigestHashValue": None,
        "previousDigestHashAlgorithm": None,
        "previousDigestSignature": None,
        "logFiles": [],
    }
    if starting:
        return digest
    digest.update({
        "newestEventTime": "2024-03-04T11:12:09Z",
        "oldestEventTime": "2024-03-04T10:14:51Z",
        "previousDigestS3Bucket": "my-trail-bucket",
        "previousDigestS3Object": DIGEST_PREFIX
        + "123456789012_CloudTrail-Digest_us-east-1_my_trail.v2_us-east-1_20240304T101730Z.json.gz",
        "previousDigestHashValue": "ab" * 32,
        "previousDigestHashAlgorithm": "SHA-256",
        "previousDigestSignature": "0f" * 256,
        "logFiles": [{
            "s3Bucket": "my-trail-bucket",
            "s3Object": LOG_PREFIX + "123456789012_CloudTrail_us-east-1_20240304T1115Z_Ab3dEf6hIj9kLm2n.json.gz",
            "hashValue": "cd" * 32,
            "hashAlgorithm": "SHA-256",
            "newestEventTime": "2024-03-04T11:12:09Z",
            "oldestEventTime": "2024-03-04T10:14:51Z",
        }],
    })
    return digest


@pytest.mark.parametrize("starting", [True, False], ids=["starting", "chained"])
def test_hand_built_digest_validates(starting):
    digest = _digest(starting=starting)
    assert _checked_both_ways(schemas.digest_validator(), digest)
    schemas.validate_digest(digest)


def test_digest_in_an_organization_trail_with_a_key_prefix_validates():
    digest = _digest(starting=False)
    org_key = "audit/AWSLogs/o-a1b2c3d4e5/" + digest["digestS3Object"].removeprefix("AWSLogs/")
    digest["digestS3Object"] = org_key
    assert _checked_both_ways(schemas.digest_validator(), digest)


def _without(key: str) -> Callable[[dict], None]:
    return lambda digest: digest.pop(key)


BAD_DIGESTS: dict[str, tuple[bool, Callable[[dict], None]]] = {
    "missing logFiles": (False, _without("logFiles")),
    "missing digestS3Object": (False, _without("digestS3Object")),
    "missing previousDigestSignature": (True, _without("previousDigestSignature")),
    "fingerprint of 31 chars": (False, _set("digestPublicKeyFingerprint", "3c4e1b2f9a8d7c6b5a4f3e2d1c0b9a8")),
    "fingerprint in upper case": (False, _set("digestPublicKeyFingerprint", "3C4E1B2F9A8D7C6B5A4F3E2D1C0B9A88")),
    "other signature algorithm": (False, _set("digestSignatureAlgorithm", "SHA1withRSA")),
    "fractional digestEndTime": (False, _set("digestEndTime", "2024-03-04T11:17:30.000Z")),
    "account id of 11 digits": (False, _set("awsAccountId", "12345678901")),
    "previous hash of 63 chars": (False, _set("previousDigestHashValue", "a" * 63)),
    "previous bucket null alone": (False, _set("previousDigestS3Bucket", None)),
    "previous object null alone": (False, _set("previousDigestS3Object", None)),
    "previous hash null alone": (False, _set("previousDigestHashValue", None)),
    "previous algorithm null alone": (False, _set("previousDigestHashAlgorithm", None)),
    "previous signature null alone": (False, _set("previousDigestSignature", None)),
    "starting digest with a previous bucket": (True, _set("previousDigestS3Bucket", "my-trail-bucket")),
    "event times null with log files": (False, _set("newestEventTime", None)),
    "event times set without log files": (True, _set("oldestEventTime", "2024-03-04T10:14:51Z")),
    "extra key": (False, _set("digestComment", "hello")),
    "log file missing hashValue": (False, lambda d: d["logFiles"][0].pop("hashValue")),
    "log file with an extra key": (False, lambda d: d["logFiles"][0].update(size=10)),
    "log file hashed with SHA-1": (False, lambda d: d["logFiles"][0].update(hashAlgorithm="SHA-1")),
    "log file key not in the AWSLogs layout": (False, lambda d: d["logFiles"][0].update(s3Object="x.json.gz")),
    "digest key not in the digest layout": (False, _set("digestS3Object", LOG_PREFIX + "x.json.gz")),
}


@pytest.mark.parametrize("starting, mutate", BAD_DIGESTS.values(), ids=BAD_DIGESTS.keys())
def test_broken_digest_is_rejected(starting, mutate):
    digest = _digest(starting=starting)
    mutate(digest)
    assert not _checked_both_ways(schemas.digest_validator(), digest)
    with pytest.raises(ValidationError):
        schemas.validate_digest(digest)


def test_digest_keys_match_formats_md_exactly():
    listed = {"awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object",
              "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "newestEventTime", "oldestEventTime",
              *PREVIOUS_DIGEST_KEYS, "logFiles"}
    schema = schemas.load("digest")
    assert set(schema["required"]) == listed == set(schema["properties"])


# ---------------------------------------------------------------- compiled fast path

def _fast(schema: dict) -> schemas.FastValidator:
    full = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:test", **schema}
    return schemas.FastValidator(full, {}, schemas.registry())


@pytest.mark.parametrize("schema, instance", [
    ({"const": 1}, True),
    ({"enum": [0, "false"]}, False),
    ({"type": "integer"}, True),
    ({"type": "integer"}, 2.0),
    ({"type": "number"}, False),
    ({"const": {"a": [1]}}, {"a": [True]}),
    ({"pattern": "^x"}, 5),
], ids=["true is not 1", "false is not 0", "bool not integer", "2.0 is integer", "bool not number",
        "nested bool", "pattern ignores non-strings"])
def test_fast_path_follows_json_semantics_like_jsonschema(schema, instance):
    _checked_both_ways(_fast(schema), instance)
