"""A fast yes/no check for bulk validation, compiled to Python code by fastjsonschema.

`jsonschema` walks the schema for every instance (about 0.4 ms per CloudTrail record); fastjsonschema
generates a Python function from the schema once (about 30 µs per record). Error messages still come
from `jsonschema`, which stays the reference: the tests check that both give the same verdict.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

import fastjsonschema
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry


class FastValidator:
    """`is_valid` through generated code; `validate` and `iter_errors` through jsonschema."""

    def __init__(self, schema: dict, schemas_by_id: Mapping[str, dict], registry: Registry):
        self.schema = schema
        self.jsonschema = Draft202012Validator(schema, registry=registry)
        handlers = {scheme: schemas_by_id.__getitem__ for scheme in ("http", "https", "urn")}
        self._check = fastjsonschema.compile(schema, handlers=handlers, use_default=False)

    def is_valid(self, instance: object) -> bool:
        try:
            self._check(instance)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def validate(self, instance: object) -> None:
        """Raises the first `jsonschema.ValidationError` of an invalid instance."""
        if not self.is_valid(instance):
            self.jsonschema.validate(instance)

    def iter_errors(self, instance: object) -> Iterator[ValidationError]:
        return self.jsonschema.iter_errors(instance)
