"""The event catalog: which (eventSource, eventName) pairs exist and the templates their records follow.

The catalog is data (``data/catalog.json.gz``, written by ``tools/build_catalog.py``). Templates are
JSON values whose strings may hold placeholders ``{{name}}`` or ``{{name:arg:arg}}``; a string that is
exactly one placeholder takes the placeholder's value with its JSON type (an int stays an int).
``compile_template`` turns a template once into a fast function of a resolver ``g(name) -> value``;
``records/placeholders.py`` owns the placeholder vocabulary and the resolver.
"""
from __future__ import annotations

import gc
import gzip
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, NamedTuple

import orjson

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.versions import event_version

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "catalog.json.gz"
FORMAT = 1
EVENT_TYPES = ("AwsApiCall", "AwsServiceEvent", "AwsConsoleSignIn")
REQUEST_ID_STYLES = ("uuid", "s3", "none")
DEFAULT_WEIGHT = 0.001
#: weights of the long tail's compact rows, by kind: (read, write, data event)
TAIL_WEIGHTS = (0.001, 0.0002, 0.5)
READ_ONLY, DATA = 1, 2      # bits of a tail row's flags
_VERSIONED_NAME = re.compile(r"\d{8}(v\d+)?$")

PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")

Template = Any  # a JSON value (dict, list, str, int, float, bool, None)
Filler = Callable[[Callable[[str], Any]], Any]


@dataclass(frozen=True, slots=True)
class ErrorCase:
    """One way a call fails: errorCode, errorMessage template (None: AWS writes no message), weight."""

    code: str
    message: str | None
    weight: float


class EntryBrief(NamedTuple):
    """The fields of an entry that drawing needs."""

    index: int
    weight: float
    management: bool
    identity: str
    callers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One (eventSource, eventName) and everything needed to write its records."""

    index: int
    event_source: str
    event_name: str
    read_only: bool
    event_type: str             # AwsApiCall | AwsServiceEvent | AwsConsoleSignIn
    management: bool            # False for data events (S3 object level, Lambda Invoke, ...)
    weight: float               # relative share of activity
    error_rate: float
    errors: tuple[ErrorCase, ...]
    request: Template           # requestParameters template (None -> JSON null)
    response: Template          # responseElements template for successful calls
    additional: Template        # additionalEventData template, or None (key left out)
    resources: Template         # resources template (a list), or None (key left out)
    details: Template           # serviceEventDetails template, or None
    request_id: str             # "uuid" | "s3" | "none"
    host: str | None            # tlsDetails.clientProvidedHostHeader template; None: no tlsDetails
    global_region: bool         # recorded in us-east-1 whatever the calling region
    api_version: str | None
    identity: str               # "principal" | "console" | "service:<host>"
    shared_event: bool          # sharedEventID always written
    vpce_rate: float            # share of calls through a VPC endpoint
    action: str                 # IAM action, e.g. "iam:GetUser" (for AccessDenied messages)
    resource_arn: str           # template of the ARN named in AccessDenied messages
    callers: tuple[str, ...]    # service hosts (AWSService principals) that make this call, "*": any

    @property
    def category(self) -> str:
        """eventCategory as CloudTrail writes it."""
        return "Management" if self.management else "Data"

    @property
    def service(self) -> str:
        """The short service name: the eventSource without ``.amazonaws.com``."""
        return self.event_source.split(".", 1)[0]


class Catalog:
    """All entries, indexed by (eventSource, eventName).

    Entries are kept in their compact JSON form (hand-tuned dicts, then the long tail's rows
    ``[eventName, flags, requestParameters, responseElements, notFoundErrorCode]`` grouped by eventSource)
    and turned into CatalogEntry objects on first use, so loading stays fast.
    """

    def __init__(self, raw_entries: list[dict], services: dict[str, dict], tail: dict[str, list[list]] | None = None):
        self._raw: list[dict | tuple[str, list]] = list(raw_entries)
        for source, rows in (tail or {}).items():
            self._raw.extend((source, row) for row in rows)
        if not self._raw:
            raise GeneratorError("the event catalog is empty")
        self._services = services
        self._built: dict[int, CatalogEntry] = {}
        self._by_pair = {(raw["s"], raw["n"]) if isinstance(raw, dict) else (raw[0], raw[1][0]): i
                         for i, raw in enumerate(self._raw)}

    def __len__(self) -> int:
        return len(self._raw)

    def entry(self, index: int) -> CatalogEntry:
        """The entry at a position of the catalog."""
        built = self._built.get(index)
        if built is None:
            raw = self._raw[index]
            built = self._built[index] = _entry(index, raw if isinstance(raw, dict) else _tail_dict(*raw),
                                                self._services)
        return built

    @property
    def entries(self) -> tuple[CatalogEntry, ...]:
        """Every entry (builds them all: for tests and tools, not the record path)."""
        return tuple(self.entry(i) for i in range(len(self._raw)))

    def briefs(self) -> list[EntryBrief]:
        """What drawing needs of every entry, without building the entries."""
        briefs = []
        for i, raw in enumerate(self._raw):
            if isinstance(raw, dict):
                briefs.append(EntryBrief(i, float(raw.get("w", DEFAULT_WEIGHT)), not raw.get("data", False),
                                         raw.get("id", "principal"), tuple(raw.get("by", ()))))
            else:
                flags = raw[1][1]
                weight = TAIL_WEIGHTS[2 if flags & DATA else 0 if flags & READ_ONLY else 1]
                briefs.append(EntryBrief(i, weight, not flags & DATA, "principal", ()))
        return briefs

    def get(self, event_source: str, event_name: str) -> CatalogEntry:
        """The entry for a pair; GeneratorError when the catalog has none."""
        try:
            return self.entry(self._by_pair[(event_source, event_name)])
        except KeyError:
            raise GeneratorError(f"no catalog entry for {event_source} {event_name}") from None

    def pairs(self) -> set[tuple[str, str]]:
        return set(self._by_pair)

    def services(self) -> set[str]:
        return {source for source, _ in self._by_pair}

    def event_version(self, event_source: str, event_time: datetime | str) -> str:
        """eventVersion CloudTrail wrote for this service at that time (the calendar of ``versions.py``)."""
        return event_version(event_source, event_time[:10] if isinstance(event_time, str)
                             else event_time.strftime("%Y-%m-%d"))


def _tail_dict(source: str, row: list) -> dict:
    """A long-tail row as the dict form of an entry."""
    name, flags, request, response, not_found = row
    raw = {"s": source, "n": name, "ro": bool(flags & READ_ONLY), "req": request, "resp": response,
           "w": TAIL_WEIGHTS[2 if flags & DATA else 0 if flags & READ_ONLY else 1]}
    if flags & DATA:
        raw["data"] = True
    if not_found:
        raw["e"] = [[not_found, None, 1]]
    return raw


def compile_template(template: Template, *, codegen: bool = True) -> Filler:
    """A function ``fill(g)`` building the template's value, placeholders resolved through ``g``.

    With ``codegen`` a template holding placeholders becomes one generated Python expression: the
    fastest fills, but Python's compiler costs ~0.1 ms per template. Without it the filler is a tree
    of small closures, several times cheaper to build and about half as fast to run: the right
    trade for the long tail of rarely drawn entries, which a run meets once or a few times each.
    Constant parts are shared by every filled value.
    """
    filler = _closure(template)
    if filler is None:  # constant: shared by every record
        return lambda g, value=template: value
    if not codegen or isinstance(template, str):  # a string's closure is as fast as generated code
        return filler
    consts: list[Any] = []
    source = _expression(template, consts)
    return eval(f"lambda g: {source}", {"C": consts, "str": str})  # noqa: S307 - our own generated code


def placeholders(template: Template) -> set[str]:
    """Every placeholder name used in a template."""
    return set(PLACEHOLDER.findall(json.dumps(template)))


@lru_cache(maxsize=4096)
def _string_closure(value: str) -> Filler | None:
    """The filler of a string holding placeholders (memoised: hosts, ARNs and messages repeat)."""
    parts = PLACEHOLDER.split(value)
    if len(parts) == 1:
        return None
    if len(parts) == 3 and parts[0] == "" and parts[2] == "":
        name = parts[1]
        return lambda g: g(name)
    head = parts[0]
    if len(parts) == 3:  # the usual shape ("{{bucket}}.s3.amazonaws.com"): no join needed
        name, tail = parts[1], parts[2]
        return lambda g: head + str(g(name)) + tail
    pairs = tuple(zip(parts[1::2], parts[2::2]))  # (placeholder, text after it)
    return lambda g: head + "".join([str(g(name)) + tail for name, tail in pairs])


def _closure(value: Template) -> Filler | None:
    """A closure filler for ``value``, or None when it holds no placeholder."""
    if isinstance(value, str):
        return _string_closure(value) if "{{" in value else None
    if isinstance(value, dict):
        items = tuple((k, v, _closure(v)) for k, v in value.items())
        if all(fill is None for _, _, fill in items):
            return None
        return lambda g: {k: v if fill is None else fill(g) for k, v, fill in items}
    if isinstance(value, list):
        elements = tuple((v, _closure(v)) for v in value)
        if all(fill is None for _, fill in elements):
            return None
        return lambda g: [v if fill is None else fill(g) for v, fill in elements]
    if value is None or isinstance(value, (bool, int, float)):
        return None
    raise GeneratorError(f"catalog template holds a {type(value).__name__}, not a JSON value")


def _expression(value: Template, consts: list[Any]) -> str:
    """Python source for an expression building ``value`` (constants shared through ``C``)."""
    if isinstance(value, str):
        parts = PLACEHOLDER.split(value)
        if len(parts) == 1:
            return repr(value)
        if len(parts) == 3 and parts[0] == "" and parts[2] == "":
            return f"g({parts[1]!r})"
        pieces = [repr(p) if i % 2 == 0 else f"str(g({p!r}))" for i, p in enumerate(parts) if p or i % 2]
        return "(" + " + ".join(pieces) + ")"
    if isinstance(value, (dict, list)):
        if _closure(value) is None:
            consts.append(value)
            return f"C[{len(consts) - 1}]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{str(k)!r}: {_expression(v, consts)}" for k, v in value.items()) + "}"
        return "[" + ", ".join(_expression(v, consts) for v in value) + "]"
    return repr(value)


def _entry(index: int, raw: dict, services: dict[str, dict]) -> CatalogEntry:
    """One CatalogEntry from its compact JSON form, service defaults filled in."""
    source = raw["s"]
    service = services.get(source, {})
    name = raw["n"]
    event_type = raw.get("t", "AwsApiCall")
    request_id = raw.get("rid", service.get("rid", "uuid"))
    if event_type not in EVENT_TYPES or request_id not in REQUEST_ID_STYLES:
        raise GeneratorError(f"catalog entry {source} {name} has a bad eventType or requestID style")
    errors = [ErrorCase(c, m, float(w)) for c, m, w in raw.get("e", [])]
    if raw.get("se", True):
        errors += [ErrorCase(c, m, float(w)) for c, m, w in service.get("errors", [])]
    prefix = source.split(".", 1)[0]
    return CatalogEntry(
        index=index,
        event_source=source,
        event_name=name,
        read_only=bool(raw["ro"]),
        event_type=event_type,
        management=not raw.get("data", False),
        weight=float(raw.get("w", DEFAULT_WEIGHT)),
        error_rate=float(raw.get("er", service.get("er", 0.06))) if errors else 0.0,
        errors=tuple(errors),
        request=raw.get("req"),
        response=raw.get("resp"),
        additional=raw.get("add"),
        resources=raw.get("res"),
        details=raw.get("det"),
        request_id=request_id,
        host=raw.get("host", service.get("host", f"{prefix}.{{{{region}}}}.amazonaws.com")),
        global_region=bool(raw.get("global", service.get("global", False))),
        api_version=raw.get("api", service.get("api")),
        identity=raw.get("id", "principal"),
        shared_event=bool(raw.get("shared", False)),
        vpce_rate=float(raw.get("vpce", service.get("vpce", 0.0))),
        action=raw.get("act", f"{service.get('iam', prefix)}:{_VERSIONED_NAME.sub('', name)}"),
        resource_arn=raw.get("arn", service.get("arn", "*")),
        callers=tuple(raw.get("by", ())),
    )


def parse_catalog(document: dict) -> Catalog:
    """A Catalog from the decoded catalog document."""
    if document.get("format") != FORMAT:
        raise GeneratorError(f"event catalog format {document.get('format')!r} is not {FORMAT}")
    services = document.get("services", {})
    return Catalog(document["entries"], services, document.get("tail"))


def load_catalog(path: Path | str | None = None) -> Catalog:
    """The catalog at ``path`` (default: the one shipped with the package; cached)."""
    return _load(str(Path(path).resolve()) if path else str(DEFAULT_PATH))


@lru_cache(maxsize=4)
def _load(path: str) -> Catalog:
    collecting = gc.isenabled()
    gc.disable()  # a few hundred thousand small objects: collections during parsing only cost time
    try:
        with gzip.open(path, "rb") as fh:
            return parse_catalog(orjson.loads(fh.read()))
    except (OSError, ValueError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise GeneratorError(f"cannot read the event catalog {path}: {exc}") from None
    finally:
        if collecting:
            gc.enable()
