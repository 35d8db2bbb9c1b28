"""S3 XML bodies read and written by botocore's S3 model shapes, and request bodies as CloudTrail
writes them into `requestParameters`.

`read(element, shape)` turns a parsed request body into plain Python values keyed by the shape's
member names (what boto3 takes as parameters): structures are dicts, lists are lists, booleans,
integers and timestamps are checked and converted; an element the shape does not know, a missing
required member, a value outside an enum or of the wrong type is `MalformedXML`, as S3 answers a
body that does not validate against its schema. `write(parent, shape, value)` is the inverse, in the
model's member order (lists flattened or wrapped as the model says, `xsi:type` as an attribute).

`as_recorded(body)` is the body as CloudTrail records an S3 call's XML: elements become objects,
repeated siblings a list, attributes keys under their written names (`xmlns`, `xsi:type`), and
texts typed (`true`/`false` booleans, canonical integers numbers), as in the reference records
(`"Value": true` for a tag value of "true", `"Days": 1`).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, NoReturn
from xml.parsers import expat

from botocore.model import Shape

from cloudtrail_emulator.emulator.protocols import restxml as x
from cloudtrail_emulator.emulator.services.s3.exceptions import malformed_xml
from cloudtrail_emulator.generators.times import parse_iso

_INTEGER = re.compile(r"^-?(0|[1-9][0-9]*)$")
_DECIMAL = re.compile(r"^-?(0|[1-9][0-9]*)\.[0-9]+$")
_TEXT_KEY = "content"   # a text beside attributes or child elements


def xml_name(shape: Shape, member: str) -> str:
    """The element (or attribute) name a member is written under."""
    return shape.serialization.get("name", member)


# -- reading ---------------------------------------------------------------------------------------


def read(element: ET.Element, shape: Shape) -> Any:
    """The value of `element` per `shape` (see the module doc); MalformedXML when it does not fit."""
    kind = shape.type_name
    if kind == "structure":
        return _read_structure(element, shape)
    if kind == "list":
        item_tag = xml_name(shape.member, "member")
        if any(_tag(item) != item_tag for item in element):
            _invalid()
        return [read(item, shape.member) for item in element]
    if len(element):
        _invalid()
    return scalar(element.text or "", shape)


def scalar(text: str, shape: Shape) -> Any:
    """A scalar member's text converted to its type (bool, int, ISO timestamp string or str)."""
    kind = shape.type_name
    if kind == "boolean":
        if text.strip() not in ("true", "false"):
            _invalid()
        return text.strip() == "true"
    if kind in ("integer", "long"):
        if not _INTEGER.match(text.strip()):
            _invalid()
        return int(text)
    if kind == "timestamp":
        try:
            return x.iso8601(parse_iso(text.strip()))
        except ValueError:
            _invalid()
    enum = getattr(shape, "enum", None)
    if enum and text not in enum:
        _invalid()
    return text


def _read_structure(element: ET.Element, shape: Shape) -> dict:
    by_tag = {xml_name(member, name): name for name, member in shape.members.items()
              if not member.serialization.get("xmlAttribute") and member.serialization.get("location") is None}
    value: dict[str, Any] = {}
    for name, member in shape.members.items():
        if member.serialization.get("xmlAttribute"):
            local = xml_name(member, name).rpartition(":")[2]
            found = [v for k, v in element.attrib.items() if k.rpartition("}")[2].rpartition(":")[2] == local]
            if found:
                value[name] = scalar(found[0], member)
    for child in element:
        name = by_tag.get(_tag(child))
        if name is None:
            _invalid()
        member = shape.members[name]
        if member.type_name == "list" and member.serialization.get("flattened"):
            value.setdefault(name, []).append(read(child, member.member))
            continue
        if name in value:
            _invalid()
        value[name] = read(child, member)
    missing = [name for name in shape.required_members if name not in value
               and shape.members[name].serialization.get("location") is None]
    if missing:
        _invalid()
    return value


def _tag(element: ET.Element) -> str:
    return element.tag if isinstance(element.tag, str) else ""


def _invalid() -> NoReturn:
    """The body does not validate against the schema: S3's MalformedXML (one fixed message)."""
    raise malformed_xml()


# -- writing ---------------------------------------------------------------------------------------


def write(parent: ET.Element, shape: Shape, value: dict) -> None:
    """Append the members of structure `value` to `parent` in the model's order."""
    namespace = shape.serialization.get("xmlNamespace") or {}
    for name, member in shape.members.items():
        if name not in value or member.serialization.get("location") is not None:
            continue
        item = value[name]
        if member.serialization.get("xmlAttribute"):
            prefix = (member.serialization.get("xmlNamespace") or namespace).get("prefix")
            if prefix:
                parent.set(f"xmlns:{prefix}", (member.serialization.get("xmlNamespace") or namespace)["uri"])
            parent.set(xml_name(member, name), _text(item))
            continue
        tag = xml_name(member, name)
        if member.type_name == "list":
            holder = parent if member.serialization.get("flattened") else x.sub(parent, tag)
            child_tag = tag if member.serialization.get("flattened") else xml_name(member.member, "member")
            for entry in item:
                _write_value(x.sub(holder, child_tag), member.member, entry)
        else:
            _write_value(x.sub(parent, tag), member, item)


def _write_value(element: ET.Element, shape: Shape, value: Any) -> None:
    if shape.type_name == "structure":
        write(element, shape, value)
    else:
        element.text = _text(value)


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


# -- as CloudTrail records a body ------------------------------------------------------------------


def as_recorded(body: bytes) -> dict | None:
    """`{root tag: {...}}` of an XML body as CloudTrail writes it; None when the body is not XML."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[tuple[str, dict, list[str]]] = [("", {}, [])]

    def start(tag: str, attributes: dict[str, str]) -> None:
        stack.append((tag, dict(attributes), []))

    def end(tag: str) -> None:
        _, node, texts = stack.pop()
        text = "".join(texts).strip()
        value: Any
        if node:
            value = node
            if text:
                node[_TEXT_KEY] = _typed(text)
        else:
            value = _typed(text)
        parent = stack[-1][1]
        if tag in parent:
            existing = parent[tag]
            parent[tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            parent[tag] = value

    def no_doctype(*_: object) -> None:
        raise expat.ExpatError("document type declarations are not recorded")

    parser.StartDoctypeDeclHandler = no_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = lambda data: stack[-1][2].append(data)
    try:
        parser.Parse(body, True)
    except expat.ExpatError:
        return None
    return stack[0][1] or None


def _typed(text: str) -> Any:
    """A text as CloudTrail types it: booleans, canonical integers and decimals become JSON values."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INTEGER.match(text):
        return int(text)
    if _DECIMAL.match(text):
        return float(text)
    return text
