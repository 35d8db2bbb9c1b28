"""A fast yes/no checker compiled from the subset of JSON Schema 2020-12 that this package's schemas use.

`jsonschema` walks the schema for every instance (about 0.4 ms per CloudTrail record); a checker made
of nested closures answers the same question some ten times faster. It only says valid or not: the
error messages still come from `jsonschema`. A keyword outside the subset is refused when compiling,
so a schema edit can never be silently ignored by the fast path.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import urljoin

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry

Check = Callable[[object], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description"})
_TYPES: dict[str, Callable[[object], bool]] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "integer": lambda value: (isinstance(value, int) and not isinstance(value, bool))
    or (isinstance(value, float) and value.is_integer()),
}


def _json_equal(left: object, right: object) -> bool:
    """Equality as JSON Schema means it: true is not 1, key order and list types matter as JSON does."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right))
    if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
        return False
    return left == right


class _Compiler:
    """Turns a schema (local `$ref`s already inlined) into a `Check`; cross-document refs via `schemas`."""

    def __init__(self, schemas_by_id: Mapping[str, dict]):
        self._schemas_by_id = schemas_by_id
        self._by_id: dict[str, Check] = {}

    def document(self, schema: dict) -> Check:
        """The check of a whole schema document, compiled once per `$id`."""
        schema_id = schema["$id"]
        if schema_id not in self._by_id:
            self._by_id[schema_id] = self.node(schema, schema_id)
        return self._by_id[schema_id]

    def node(self, schema: object, base: str) -> Check:
        if schema is True:
            return lambda value: True
        if schema is False:
            return lambda value: False
        if not isinstance(schema, dict):
            raise ValueError(f"not a schema: {schema!r}")
        checks = [self._keyword(keyword, schema, base) for keyword in schema if keyword not in _ANNOTATIONS]
        checks = [check for check in checks if check is not None]
        if not checks:
            return lambda value: True
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks
            return lambda value: first(value) and second(value)

        def check_all(value: object) -> bool:
            for check in checks:
                if not check(value):
                    return False
            return True

        return check_all

    def _keyword(self, keyword: str, schema: dict, base: str) -> Check | None:
        arg = schema[keyword]
        if keyword == "type":
            tests = [_TYPES[name] for name in ([arg] if isinstance(arg, str) else arg)]
            if len(tests) == 1:
                return tests[0]
            return lambda value: any(test(value) for test in tests)
        if keyword == "enum":
            return lambda value: any(_json_equal(value, option) for option in arg)
        if keyword == "const":
            return lambda value: _json_equal(value, arg)
        if keyword == "pattern":
            search = re.compile(arg).search
            return lambda value: not isinstance(value, str) or search(value) is not None
        if keyword == "minLength":
            return lambda value: not isinstance(value, str) or len(value) >= arg
        if keyword == "minItems":
            return lambda value: not isinstance(value, list) or len(value) >= arg
        if keyword == "maxItems":
            return lambda value: not isinstance(value, list) or len(value) <= arg
        if keyword == "required":
            return lambda value: not isinstance(value, dict) or all(key in value for key in arg)
        if keyword == "properties":
            return self._properties(arg, base)
        if keyword == "additionalProperties":
            return self._additional(arg, set(schema.get("properties", {})), base)
        if keyword == "items":
            each = self.node(arg, base)
            return lambda value: not isinstance(value, list) or all(each(item) for item in value)
        if keyword in ("allOf", "anyOf"):
            parts = [self.node(part, base) for part in arg]
            combine = all if keyword == "allOf" else any
            return lambda value: combine(part(value) for part in parts)
        if keyword == "not":
            inner = self.node(arg, base)
            return lambda value: not inner(value)
        if keyword == "if":
            return self._conditional(schema, base)
        if keyword in ("then", "else"):
            return None  # compiled together with "if"; alone they mean nothing
        if keyword == "$ref":
            return self._reference(urljoin(base, arg))
        raise ValueError(f"keyword {keyword!r} is not supported by the fast checker")

    def _properties(self, properties: dict, base: str) -> Check:
        compiled = {name: self.node(sub, base) for name, sub in properties.items()}
        lookup = compiled.get

        def check(value: object) -> bool:
            if not isinstance(value, dict):
                return True
            if len(value) > len(compiled):  # walk the shorter of the two
                return all(check_one(value[name]) for name, check_one in compiled.items() if name in value)
            for key, item in value.items():
                check_one = lookup(key)
                if check_one is not None and not check_one(item):
                    return False
            return True

        return check

    def _additional(self, schema: object, known: set[str], base: str) -> Check:
        extra = self.node(schema, base)
        return lambda value: not isinstance(value, dict) or all(
            extra(item) for key, item in value.items() if key not in known)

    def _conditional(self, schema: dict, base: str) -> Check:
        condition = self.node(schema["if"], base)
        then = self.node(schema.get("then", True), base)
        otherwise = self.node(schema.get("else", True), base)
        return lambda value: then(value) if condition(value) else otherwise(value)

    def _reference(self, uri: str) -> Check:
        if "#" in uri:
            raise ValueError(f"only whole-document references are supported, not {uri!r}")
        target = self._schemas_by_id[uri]

        def check(value: object) -> bool:  # resolved on first use: documents may refer to each other
            return self.document(target)(value)

        return check


class FastValidator:
    """A `Draft202012Validator` whose yes/no answers come from a compiled checker.

    `is_valid`, `validate` and `iter_errors` behave as jsonschema's; errors are jsonschema's own.
    The wrapped validator is `.jsonschema`.
    """

    def __init__(self, schema: dict, schemas_by_id: Mapping[str, dict], registry: Registry):
        self.schema = schema
        self.jsonschema = Draft202012Validator(schema, registry=registry)
        self._check = _Compiler(schemas_by_id).document(schema)

    def is_valid(self, instance: object) -> bool:
        return self._check(instance)

    def iter_errors(self, instance: object) -> Iterator[ValidationError]:
        if self._check(instance):
            return iter(())
        return self.jsonschema.iter_errors(instance)

    def validate(self, instance: object) -> None:
        """Raise the most relevant `jsonschema.ValidationError` unless `instance` is valid."""
        if not self._check(instance):
            self.jsonschema.validate(instance)
