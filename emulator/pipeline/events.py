"""The event index: every record (generated history or a recorded API call) stored once, in SQLite.

Rows keep the compact JSON of the record exactly as given plus indexed columns for LookupEvents;
a record's resources (its `resources` ARNs and the names its request parameters address) live in a
side table. `since()` feeds live delivery in sequence order.

Durability: WAL with synchronous=NORMAL: a committed `add` survives the process dying (SIGKILL);
the last commits before a power loss may be lost (no fsync per API call: recording stays cheap).
One connection in exclusive locking mode serves every thread (under a lock): SQLite then keeps the
WAL index in heap memory instead of a memory-mapped `-shm` file, so a data dir that turns read-only
or fills up gives write errors, never a SIGBUS from a shared mapping the kernel cannot back.

Writability: a failed write marks the store unwritable (`StoreUnwritable`); `writable()` answers
at once while the store is healthy and, once marked, probes (writes a row) on each call until a
probe succeeds. The recorder asks it before a call takes effect (see recorder.py). Only the event
store's own writes count: a data dir whose other files cannot be written (delivery, state files)
while SQLite still writes its WAL keeps answering, and GetTrailStatus shows the delivery error.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from cloudtrail_emulator.generators.times import parse_iso

# `kind` column: which LookupEvents category a row belongs to (data events belong to none).
KIND_OTHER, KIND_MANAGEMENT, KIND_INSIGHT = 0, 1, 2

# Lookup attribute key -> indexed column (ResourceType/ResourceName go through `resources`).
ATTRIBUTE_COLUMNS = {"EventId": "event_id", "EventName": "event_name", "ReadOnly": "read_only",
                     "Username": "username", "EventSource": "event_source",
                     "AccessKeyId": "access_key_id"}
RESOURCE_COLUMNS = {"ResourceType": "type", "ResourceName": "name"}

# Request parameters that name a resource, per event source: (parameter, LookupEvents resource type).
_PARAMETER_RESOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "cloudtrail.amazonaws.com": (("name", "AWS::CloudTrail::Trail"), ("trailName", "AWS::CloudTrail::Trail"),
                                 ("s3BucketName", "AWS::S3::Bucket")),
    "s3.amazonaws.com": (("bucketName", "AWS::S3::Bucket"),),
    "sns.amazonaws.com": (("topicArn", "AWS::SNS::Topic"),),
    "iam.amazonaws.com": (("userName", "AWS::IAM::User"), ("roleName", "AWS::IAM::Role"),
                          ("policyArn", "AWS::IAM::Policy")),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    event_time INTEGER NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    kind INTEGER NOT NULL,
    event_name TEXT,
    event_source TEXT,
    read_only TEXT,
    username TEXT,
    access_key_id TEXT,
    management INTEGER,
    category TEXT,
    deliver INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    kind INTEGER NOT NULL,
    event_time INTEGER NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events (account, region, kind, event_time, seq);
CREATE INDEX IF NOT EXISTS events_name ON events (account, region, kind, event_name, event_time, seq);
CREATE INDEX IF NOT EXISTS events_source ON events (account, region, kind, event_source, event_time, seq);
CREATE INDEX IF NOT EXISTS events_read_only ON events (account, region, kind, read_only, event_time, seq);
CREATE INDEX IF NOT EXISTS events_username ON events (account, region, kind, username, event_time, seq);
CREATE INDEX IF NOT EXISTS events_key ON events (account, region, kind, access_key_id, event_time, seq);
CREATE INDEX IF NOT EXISTS events_deliver ON events (deliver, seq);
CREATE INDEX IF NOT EXISTS resources_seq ON resources (seq);
CREATE INDEX IF NOT EXISTS resources_type ON resources (account, region, kind, type, event_time, seq);
CREATE INDEX IF NOT EXISTS resources_name ON resources (account, region, kind, name, event_time, seq);
"""


def lookup_username(identity: dict | None) -> str | None:
    """LookupEvents' Username: the IAM user name, an assumed role's session name, "root"..."""
    if not identity:
        return None
    kind = identity.get("type")
    if kind == "Root":
        return "root"
    arn = identity.get("arn") or ""
    if kind in ("AssumedRole", "FederatedUser") and "/" in arn:
        return arn.rsplit("/", 1)[1]
    return identity.get("userName") or None


def _resource_name(arn: str) -> str:
    """S3 ARNs show their bucket/object path; other ARNs show whole, as LookupEvents does."""
    return arn[len("arn:aws:s3:::"):] if arn.startswith("arn:aws:s3:::") else arn


def lookup_resources(record: dict) -> list[tuple[str, str]]:
    """(ResourceType, ResourceName) pairs of a record, without duplicates, in order."""
    pairs: list[tuple[str, str]] = []
    for resource in record.get("resources") or ():
        arn = resource.get("ARN")
        if arn:
            pairs.append((resource.get("type") or "", _resource_name(arn)))
    params = record.get("requestParameters")
    if isinstance(params, dict):
        for param, kind in _PARAMETER_RESOURCES.get(record.get("eventSource", ""), ()):
            value = params.get(param)
            if isinstance(value, str) and value:
                pairs.append((kind, value))
    return list(dict.fromkeys(pairs))


def _high_water(db: sqlite3.Connection) -> int:
    """The last sequence number ever used: rows present, or the mark `clear()` left."""
    return db.execute("SELECT MAX(COALESCE((SELECT MAX(seq) FROM events), 0), "
                      "COALESCE((SELECT value FROM meta WHERE name = 'cleared_at'), 0))").fetchone()[0]


def _epoch(text: str) -> int:
    return int(parse_iso(text).timestamp())


def _kind(record: dict) -> int:
    if record.get("eventCategory") == "Insight":
        return KIND_INSIGHT
    return KIND_MANAGEMENT if record.get("managementEvent", True) is not False else KIND_OTHER


def _row(record: dict, body: bytes, deliver: bool) -> tuple:
    identity = record.get("userIdentity") or {}
    read_only = record.get("readOnly")
    return (record["eventID"], _epoch(record["eventTime"]), record["recipientAccountId"],
            record["awsRegion"], _kind(record), record.get("eventName"), record.get("eventSource"),
            None if read_only is None else ("true" if read_only else "false"),
            lookup_username(identity), identity.get("accessKeyId"),
            None if record.get("managementEvent") is None else int(bool(record["managementEvent"])),
            record.get("eventCategory"), int(deliver), body)


@dataclass(frozen=True)
class Query:
    """One LookupEvents page request against the index (times in epoch seconds, inclusive)."""

    account: str
    region: str
    kind: int
    start: int
    end: int
    limit: int
    attribute: tuple[str, str] | None = None     # (AttributeKey, AttributeValue)
    after: tuple[int, int] | None = None         # (event_time, seq) of the last row already returned


@dataclass(frozen=True)
class Found:
    """One row a lookup found."""

    seq: int
    event_time: int
    body: bytes
    resources: list[tuple[str, str]]


class StoreUnwritable(Exception):
    """The event store could not write (read-only or full data dir); the store is marked unwritable."""


class EventStore:
    """The SQLite event index; `path=None` keeps it in memory. One connection, shared by the
    server's threads under a lock."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._lock = threading.Lock()
        self._unwritable = False
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(":memory:" if path is None else str(path), check_same_thread=False,
                                   isolation_level=None)
        if path is not None:
            # before WAL: exclusive mode keeps the WAL index in heap memory (no mmap'd -shm file)
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("PRAGMA mmap_size=0")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA cache_size=-65536")
        with self._using() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _using(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate write transaction; a failed write rolls back and marks the store unwritable."""
        with self._using() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
                yield db
                db.execute("COMMIT")
            except (sqlite3.OperationalError, OSError) as exc:   # read-only, full, I/O error
                if db.in_transaction:      # SQLite rolls back by itself on SQLITE_FULL
                    db.execute("ROLLBACK")
                self._unwritable = True
                raise StoreUnwritable(f"event store {self.path or ':memory:'}: {exc}") from exc
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    # -- writability ---------------------------------------------------------------------------

    def writable(self) -> bool:
        """True while healthy (no I/O); once marked unwritable, True again only after a probe writes."""
        if not self._unwritable:
            return True
        try:
            self._probe()
        except StoreUnwritable:
            return False
        self._unwritable = False
        return True

    def _probe(self) -> None:
        """Write a row (what a record needs: a WAL frame)."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('probe', COALESCE("
                       "(SELECT value FROM meta WHERE name = 'probe'), 0) + 1)")

    # -- writing -------------------------------------------------------------------------------

    def add(self, records: Iterable[dict], *, deliver: bool = True) -> tuple[int, int]:
        """Store records (duplicate eventIDs ignored); (first, last) new seq, (0, -1) if none."""
        first = last = None
        with self._transaction() as db:
            seq = _high_water(db)
            for record in records:
                body = orjson.dumps(record)
                row = _row(record, body, deliver)
                cur = db.execute(
                    "INSERT OR IGNORE INTO events (seq, event_id, event_time, account, region, kind, "
                    "event_name, event_source, read_only, username, access_key_id, management, "
                    "category, deliver, body) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (seq + 1, *row))
                if cur.rowcount == 0:
                    continue
                seq += 1
                first = seq if first is None else first
                last = seq
                pairs = lookup_resources(record)
                if pairs:
                    db.executemany("INSERT INTO resources VALUES (?,?,?,?,?,?,?)",
                                   [(seq, row[2], row[3], row[4], row[1], t, n) for t, n in pairs])
        if first is None:
            return (0, -1)
        return (first, last)

    def clear(self) -> None:
        """Forget every event (control reset); sequence numbers keep growing."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('cleared_at', ?)", (_high_water(db),))
            db.execute("DELETE FROM resources")
            db.execute("DELETE FROM events")

    # -- reading -------------------------------------------------------------------------------

    def since(self, seq: int, limit: int) -> list[tuple[int, bytes]]:
        """Rows to deliver with seq > `seq`, ascending, at most `limit`."""
        with self._using() as db:
            return db.execute("SELECT seq, body FROM events WHERE deliver = 1 AND seq > ? "
                              "ORDER BY seq LIMIT ?", (seq, limit)).fetchall()

    def max_seq(self) -> int:
        """The highest sequence number stored (0 when empty)."""
        with self._using() as db:
            return db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def count(self) -> int:
        with self._using() as db:
            return db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def lookup(self, query: Query) -> list[Found]:
        """Rows of `query`, newest first (ties: higher seq first)."""
        table, where, args = "events", ["account = ?", "region = ?", "kind = ?",
                                        "event_time BETWEEN ? AND ?"], \
            [query.account, query.region, query.kind, query.start, query.end]
        if query.attribute is not None:
            key, value = query.attribute
            if key in RESOURCE_COLUMNS:
                table = "resources"
                where.append(f"{RESOURCE_COLUMNS[key]} = ?")
            else:
                where.append(f"{ATTRIBUTE_COLUMNS[key]} = ?")
            args.append(value)
        if query.after is not None:
            where.append("(event_time, seq) < (?, ?)")
            args.extend(query.after)
        sql = (f"SELECT DISTINCT event_time, seq FROM {table} WHERE {' AND '.join(where)} "
               "ORDER BY event_time DESC, seq DESC LIMIT ?")
        with self._using() as db:
            keys = db.execute(sql, (*args, query.limit)).fetchall()
            if not keys:
                return []
            marks = ",".join("?" * len(keys))
            seqs = [seq for _, seq in keys]
            bodies = dict(db.execute(f"SELECT seq, body FROM events WHERE seq IN ({marks})", seqs))
            resources: dict[int, list[tuple[str, str]]] = {}
            for seq, kind, name in db.execute(
                    f"SELECT seq, type, name FROM resources WHERE seq IN ({marks}) ORDER BY rowid", seqs):
                resources.setdefault(seq, []).append((kind, name))
        return [Found(seq, at, bodies[seq], resources.get(seq, [])) for at, seq in keys]

    def close(self) -> None:
        with self._lock:
            self._db.close()
