"""REST-XML (S3) wire format: XML bodies in the 2006-03-01 namespace, the `<Error>` document every
`AwsError` is answered with, dates, url encoding and Range headers."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import quote_plus

from cloudtrail_emulator.generators.times import format_millis
from cloudtrail_emulator.emulator.protocols.errors import AwsError

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
#: characters XML 1.0 cannot carry, not even as references (a key may hold them; clients' parsers reject them)
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def error_body(error: AwsError, resource: str, request_id: str) -> bytes:
    """`<Error><Code/><Message/>[fields]<Resource/><RequestId/></Error>` as S3 writes it (no namespace)."""
    root = ET.Element("Error")
    sub(root, "Code", error.code)
    sub(root, "Message", error.message)
    for name, value in error.fields.items():
        sub(root, name, value)
    sub(root, "Resource", resource)
    sub(root, "RequestId", request_id)
    return XML_DECLARATION + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def new_root(tag: str) -> ET.Element:
    """A response root element in the S3 namespace."""
    return ET.Element(tag, xmlns=NS)


def sub(parent: ET.Element, tag: str, text: str | int | bool | None = None) -> ET.Element:
    """Append a child element; booleans become `true`/`false`."""
    child = ET.SubElement(parent, tag)
    if isinstance(text, bool):
        child.text = "true" if text else "false"
    elif text is not None:
        child.text = XML_ILLEGAL.sub("\ufffd", str(text))
    return child


def to_bytes(root: ET.Element) -> bytes:
    return XML_DECLARATION + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def parse(body: bytes) -> ET.Element:
    """Parse a request body; namespaces are dropped from tags. MalformedXML on anything odd."""
    if not body.strip():
        raise AwsError("The XML you provided was not well-formed or did not validate against our published "
                       "schema", code="MalformedXML")
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise AwsError("Document type declarations are not allowed", code="MalformedXML")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise AwsError(f"The XML you provided was not well-formed: {exc}", code="MalformedXML") from None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def child_text(element: ET.Element, tag: str) -> str | None:
    """Text of the first child named `tag` ("" when empty), None when absent."""
    found = element.find(tag)
    if found is None:
        return None
    return found.text or ""


def iso8601(moment: datetime) -> str:
    """`2024-01-02T03:04:05.678Z`, the timestamp format of S3 XML bodies."""
    return format_millis(moment)


def http_date(moment: datetime) -> str:
    """RFC 7231 IMF-fixdate (`Tue, 02 Jan 2024 03:04:05 GMT`)."""
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0), usegmt=True)


def url_encode(value: str) -> str:
    """S3's `encoding-type=url` form: UTF-8 percent-encoding, space as `+`, `/` kept."""
    return quote_plus(value, safe="/")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a `bytes=` range; None when S3 would ignore the header; InvalidRange."""
    match = RANGE_RE.match(header.strip())
    if not match or (not match[1] and not match[2]):
        return None
    unsatisfiable = AwsError("The requested range is not satisfiable", code="InvalidRange", status=416,
                             fields={"RangeRequested": header, "ActualObjectSize": str(size)},
                             headers={"Content-Range": f"bytes */{size}"})
    if not match[1]:
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            raise unsatisfiable
        return max(0, size - suffix), size - 1
    first = int(match[1])
    if match[2] and int(match[2]) < first:
        return None
    if first >= size:
        raise unsatisfiable
    return first, min(int(match[2]) if match[2] else size - 1, size - 1)
