"""Every API call the emulator answers becomes one CloudTrail record in the event store.

The protocol handlers leave the call on the request context (emulator/protocols/context.py):
service, operation, parameters, result or error, request id, caller. The recorder turns that into a
record; the event catalog (`cloudtrail_emulator.generators.catalog`) says whether the call is
read-only, a management or a data event, and which eventVersion the service wrote on that date.
For an operation the catalog does not list, the protocol's own verdict stands (S3: GET and HEAD read,
object-level calls are data events), else a management write.

Who called: the SigV4 access key. A 12-digit key id acts as that account (see dispatch.context_of);
every signed caller is the IAM user `emulator` of its account, with the key as its accessKeyId when
it looks like one (16-128 of A-Z0-9) or else a stable `AKIA...` id derived from the key (so the
dummy key `testing` always shows as the same AKIA id). Unsigned requests are recorded the way S3
records anonymous calls (`AWSAccount`, accountId `ANONYMOUS_PRINCIPAL`).

Nothing answered that is not recorded: before a call takes effect the dispatcher asks `admit`; an
event store known to be unwritable (a write failed and the re-probe fails too: read-only or full
data dir) refuses the call with 503 `ServiceUnavailable`, so the action does not happen. If the
record write then fails after the action (the disk filled in between), `observe` raises and the
call is answered 500 (`InternalFailure`; S3 `InternalError`), never 2xx; its record stays in memory
and is written before the next record once the store writes again (the action happened, so the trail
shows it; a client's retry is a call of its own). Both are 5xx, which SDKs retry.

Not recorded: the control API (`/_emulator/`), requests that address no operation of a service the
emulator speaks, requests refused by SigV4 verification before any handler saw them. LookupEvents calls are recorded (AWS does: management read events), so they show
up in later lookups; a test that counts events should filter by an attribute or a time range.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
import threading
import uuid
from typing import Any

from cloudtrail_emulator.emulator.config import Clock
from cloudtrail_emulator.emulator.pipeline.events import EventStore, StoreUnwritable
from cloudtrail_emulator.generators.times import format_time
from cloudtrail_emulator.emulator.protocols.context import RequestContext
from cloudtrail_emulator.emulator.protocols.errors import AwsError
from cloudtrail_emulator.generators.catalog import Catalog, CatalogEntry, load_catalog
from cloudtrail_emulator.generators.errors import GeneratorError

log = logging.getLogger(__name__)
USER_NAME = "emulator"
_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")


@functools.lru_cache(maxsize=4096)
def _derived(prefix: str, text: str, length: int) -> str:
    digest = base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()
    return prefix + digest[:length]


def user_identity(access_key: str | None, account: str) -> dict:
    """The userIdentity of a caller signing with `access_key` in `account` (see the module doc)."""
    if not access_key:
        return {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}
    key_id = access_key if _KEY_ID.match(access_key) else _derived("AKIA", f"key:{access_key}", 16)
    return {"type": "IAMUser", "principalId": _derived("AIDA", f"user:{account}", 17),
            "arn": f"arn:aws:iam::{account}:user/{USER_NAME}", "accountId": account,
            "accessKeyId": key_id, "userName": USER_NAME}


def _storable(value: Any) -> Any:
    """`value` as JSON can store it: every lone surrogate in its strings (keys included) replaced by
    U+FFFD, integers outside 64 bits (a JSON body's 1e30 written out) as floats, as JSON parsers read them."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -2**63 <= value < 2**64:
        return float(value)
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def unavailable(s3: bool) -> AwsError:
    """The answer to a call refused before it took effect: the event store cannot be written."""
    if s3:
        return AwsError("Service is unable to handle request.", code="ServiceUnavailable", status=503)
    return AwsError("The request has failed due to a temporary failure of the server.",
                    code="ServiceUnavailable", status=503)


def unrecorded(s3: bool) -> AwsError:
    """The answer to a call whose record could not be written after it took effect."""
    if s3:
        return AwsError("We encountered an internal error. Please try again.", code="InternalError", status=500)
    return AwsError("The request processing has failed because of an unknown error, exception or failure.",
                    code="InternalFailure", status=500)


class Recorder:
    """Turns finished request contexts into records and adds them to the event store."""

    def __init__(self, store: EventStore, clock: Clock, catalog: Catalog | None = None):
        self.store = store
        self.clock = clock
        self.catalog = catalog or load_catalog()
        self._unwritten: list[dict] = []     # records of answered calls whose write failed, in order
        self._lock = threading.Lock()

    def admit(self, *, s3: bool) -> None:
        """Before a call takes effect: raise `unavailable` while the event store cannot be written."""
        if not self.store.writable():
            raise unavailable(s3)
        if self._unwritten:
            try:
                self._write([])
            except StoreUnwritable:
                raise unavailable(s3) from None

    def observe(self, ctx: RequestContext, *, s3: bool = False) -> None:
        """Record the call of `ctx` if it addressed an operation of a service; `unrecorded` when the
        record cannot be written (it is kept and written with the next record)."""
        if ctx.event_source is not None and ctx.operation is not None:
            try:
                record = self.record(ctx)
            except Exception as exc:
                log.exception("call %s %s not recorded", ctx.operation, ctx.request_id)
                raise unrecorded(s3) from exc
            try:
                self._write([record])
            except StoreUnwritable as exc:
                log.error("call %s %s not recorded yet: %s", ctx.operation, ctx.request_id, exc)
                raise unrecorded(s3) from exc
            except Exception as exc:
                log.exception("call %s %s not recorded", ctx.operation, ctx.request_id)
                raise unrecorded(s3) from exc

    def _write(self, records: list[dict]) -> None:
        """Add the records not written before, then `records`; keep all of them when that fails."""
        with self._lock:
            batch = self._unwritten + records
            try:
                if batch:
                    self._add(batch)
            except StoreUnwritable:
                self._unwritten = batch
                raise
            self._unwritten = []

    def close(self) -> None:
        """A last try to write the records kept from failed writes; log the ones that stay unwritten."""
        try:
            self._write([])
        except StoreUnwritable as exc:
            ids = ", ".join(str(r.get("requestID")) for r in self._unwritten)
            log.error("%d record(s) of calls answered 500 were never written (%s): %s",
                      len(self._unwritten), exc, ids)
            self._unwritten = []

    def _add(self, batch: list[dict]) -> None:
        try:
            self.store.add(batch)
        except TypeError:        # a lone surrogate (JSON "\ud800") or a huge integer orjson refuses
            self.store.add([_storable(record) for record in batch])

    def _entry(self, ctx: RequestContext) -> CatalogEntry | None:
        try:
            return self.catalog.get(ctx.event_source, ctx.operation)
        except GeneratorError:
            return None

    def record(self, ctx: RequestContext) -> dict:
        """The CloudTrail record of the call, in CloudTrail's key order."""
        now = self.clock.now()
        entry = self._entry(ctx)
        read_only = entry.read_only if entry is not None else bool(ctx.read_only)
        management = entry.management if entry is not None else not ctx.data_event
        record: dict[str, Any] = {
            "eventVersion": self.catalog.event_version(ctx.event_source, now),
            "userIdentity": user_identity(ctx.access_key, ctx.account_id),
            "eventTime": format_time(now),
            "eventSource": ctx.event_source,
            "eventName": ctx.operation,
            "awsRegion": ctx.region,
            "sourceIPAddress": ctx.source_ip,
            "userAgent": ctx.user_agent,
        }
        if ctx.error is not None:
            record["errorCode"], record["errorMessage"] = ctx.error.code, ctx.error.message
        record["requestParameters"] = ctx.request_parameters
        record["responseElements"] = None if ctx.error is not None or read_only else ctx.response_elements
        if ctx.additional:
            record["additionalEventData"] = ctx.additional
        record["requestID"] = ctx.request_id
        # from the OS, never from the configured seed: a seeded sequence would start over after a
        # restart, and the event index drops a repeated eventID (the call would be lost)
        record["eventID"] = str(uuid.uuid4())
        record["readOnly"] = read_only
        if ctx.resources:
            record["resources"] = ctx.resources
        record["eventType"] = "AwsApiCall"
        record["managementEvent"] = management
        record["recipientAccountId"] = ctx.account_id
        record["eventCategory"] = "Management" if management else "Data"
        return record
