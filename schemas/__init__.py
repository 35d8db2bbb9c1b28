"""JSON Schemas (draft 2020-12) of a CloudTrail record, log file and digest file, with a small loader.

`load("record" | "logfile" | "digest")` returns a schema as a dict. The `*_validator()` functions return
cached validators: a `jsonschema.Draft202012Validator` (`.jsonschema`) whose `$ref`s resolve offline
through a `referencing` registry of all three schemas, answering `is_valid` / `validate` /
`iter_errors` through a compiled fast path (see `schemas.compiler`).
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from schemas.compiler import FastValidator

NAMES = ("record", "logfile", "digest")
_LOCAL_DEF = "#/$defs/"

__all__ = [
    "NAMES",
    "FastValidator",
    "load",
    "registry",
    "record_validator",
    "log_file_validator",
    "digest_validator",
    "validate_record",
    "validate_log_file",
    "validate_digest",
]


def load(name: str) -> dict:
    """The schema called `name` ("record", "logfile" or "digest") as a fresh dict."""
    if name not in NAMES:
        raise ValueError(f"unknown schema {name!r}; expected one of {', '.join(NAMES)}")
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _inline_local_refs(node: object, defs: dict) -> object:
    """Copy of `node` with every `{"$ref": "#/$defs/<name>"}` replaced by that definition.

    Same meaning; the compiled checker needs it, and jsonschema runs about a quarter faster without the
    registry lookup per reference.
    """
    if isinstance(node, list):
        return [_inline_local_refs(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_LOCAL_DEF):
        target = _inline_local_refs(defs[ref[len(_LOCAL_DEF):]], defs)
        siblings = {key: _inline_local_refs(value, defs) for key, value in node.items() if key != "$ref"}
        return {"allOf": [target], **siblings} if siblings else target
    return {key: _inline_local_refs(value, defs) for key, value in node.items()}


@cache
def _compiled(name: str) -> dict:
    """The schema checked against the draft 2020-12 meta-schema, local references inlined."""
    schema = load(name)
    Draft202012Validator.check_schema(schema)
    return _inline_local_refs(schema, schema.get("$defs", {}))


@cache
def registry() -> Registry:
    """A registry holding every schema under its `$id`, so references never touch the network."""
    resources_ = [(_compiled(name)["$id"], Resource.from_contents(_compiled(name))) for name in NAMES]
    return Registry().with_resources(resources_)


@cache
def _validator(name: str) -> FastValidator:
    schemas_by_id = {_compiled(other)["$id"]: _compiled(other) for other in NAMES}
    return FastValidator(_compiled(name), schemas_by_id, registry())


def record_validator() -> FastValidator:
    """Validator of one CloudTrail record."""
    return _validator("record")


def log_file_validator() -> FastValidator:
    """Validator of a whole log file, `{"Records": [...]}`."""
    return _validator("logfile")


def digest_validator() -> FastValidator:
    """Validator of a digest file's JSON."""
    return _validator("digest")


def validate_record(obj: object) -> None:
    """Raise `jsonschema.ValidationError` unless `obj` is a valid CloudTrail record."""
    record_validator().validate(obj)


def validate_log_file(obj: object) -> None:
    """Raise `jsonschema.ValidationError` unless `obj` is a valid log file body."""
    log_file_validator().validate(obj)


def validate_digest(obj: object) -> None:
    """Raise `jsonschema.ValidationError` unless `obj` is a valid digest file body."""
    digest_validator().validate(obj)
