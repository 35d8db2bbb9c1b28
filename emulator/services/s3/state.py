"""Bucket-level S3 state the object store does not hold: regions, creation dates, owner accounts,
policies (with the rules a policy must follow, `check_policy`), the settings of bucket
sub-resources (`acl`, `versioning`...: emulator/services/s3/bucket_settings.py), multipart ETags of
completed uploads, and multipart uploads in progress (parts included).

With a state directory everything survives a restart: ``<state_dir>/s3.json`` (buckets and
ETags, rewritten atomically on change) and ``<state_dir>/s3-uploads/<upload id>/`` (``upload.json``
plus one ``part-<n>`` file per part). Without one, all of it lives in memory, except the parts:
they sit in a private temporary directory (removed at exit), never in memory.
"""
from __future__ import annotations

import json
import random
import re
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cloudtrail_emulator.emulator.config import Clock
from cloudtrail_emulator.emulator.services.s3.exceptions import S3Error, no_such_upload
from cloudtrail_emulator.generators.atomic_file import write_atomic
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.times import parse_iso

DEFAULT_REGION = "us-east-1"
MAX_POLICY_BYTES = 20 * 1024
_UPLOAD_ID_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Part:
    number: int
    etag: str  # hex MD5 of the part, unquoted
    size: int
    last_modified: datetime


@dataclass
class Upload:
    upload_id: str
    bucket: str
    key: str
    metadata: dict[str, str]
    initiated: datetime
    parts: dict[int, Part] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "upload_id": self.upload_id, "bucket": self.bucket, "key": self.key,
            "metadata": self.metadata, "initiated": self.initiated.isoformat(),
            "parts": [[p.number, p.etag, p.size, p.last_modified.isoformat()] for p in self.parts.values()],
        }

    @classmethod
    def from_json(cls, data: dict) -> Upload:
        parts = {n: Part(n, etag, size, parse_iso(t)) for n, etag, size, t in data["parts"]}
        return cls(data["upload_id"], data["bucket"], data["key"], dict(data["metadata"]),
                   parse_iso(data["initiated"]), parts)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


def check_policy(text: str, bucket: str) -> None:
    """Raise MalformedPolicy unless `text` is a bucket policy S3 would accept for `bucket`."""
    def malformed(message: str) -> S3Error:
        return S3Error("MalformedPolicy", 400, message)

    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise S3Error("PolicyTooLarge", 400, f"Policy exceeds the maximum allowed document size ({MAX_POLICY_BYTES} bytes)")
    if not text.lstrip().startswith("{"):
        raise malformed("Policies must be valid JSON and the first byte must be '{'")
    try:
        policy = json.loads(text)
    except (ValueError, RecursionError):
        raise malformed("This policy contains invalid Json") from None
    if not isinstance(policy, dict):
        raise malformed("Policies must be valid JSON and the first byte must be '{'")
    if policy.get("Version", "2012-10-17") not in ("2012-10-17", "2008-10-17"):
        raise malformed("Policy has an invalid version")
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not statements or not isinstance(statements, list):
        raise malformed("Missing required field Statement")
    for statement in statements:
        if not isinstance(statement, dict):
            raise malformed("Statement must be a JSON object")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise malformed(f"Invalid effect: {statement.get('Effect')}")
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise malformed("Missing required field Principal")
        if "Action" not in statement and "NotAction" not in statement:
            raise malformed("Missing required field Action")
        resources = statement.get("Resource", statement.get("NotResource"))
        if resources is None:
            raise malformed("Missing required field Resource")
        for resource in [resources] if isinstance(resources, str) else resources:
            arn = f"arn:aws:s3:::{bucket}"
            if not isinstance(resource, str) or not (resource == arn or resource.startswith(arn + "/")):
                raise malformed("Policy has invalid resource")


class S3State:
    """Thread-safe bucket-level state; `clock` and `rng` make dates and upload ids reproducible."""

    def __init__(self, state_dir: Path | None, clock: Clock, rng: random.Random, default_owner: str):
        self._dir = Path(state_dir) if state_dir is not None else None
        self._clock = clock
        self._rng = rng
        self._default_owner = default_owner   # owns buckets made behind the API's back
        self._lock = threading.RLock()
        # name -> {"region", "created", "policy", "owner", "settings": {sub-resource: value | None}}
        self._buckets: dict[str, dict] = {}
        self._etags: dict[str, dict[str, list[str]]] = {}  # bucket -> key -> [body md5, multipart etag]
        self._uploads: dict[str, Upload] = {}
        self._scratch = tempfile.TemporaryDirectory(prefix="ctemu-s3-parts-") if self._dir is None else None
        if self._dir is not None:
            self._load()

    # -- persistence ---------------------------------------------------------------------------

    def _load(self) -> None:
        doc_path = self._dir / "s3.json"
        try:
            if doc_path.exists():
                doc = json.loads(doc_path.read_bytes())
                self._buckets = doc["buckets"]
                self._etags = doc["etags"]
            uploads = self._dir / "s3-uploads"
            if uploads.is_dir():
                for entry in sorted(uploads.iterdir()):
                    meta = entry / "upload.json"
                    if _UPLOAD_ID_RE.match(entry.name) and meta.exists():
                        self._uploads[entry.name] = Upload.from_json(json.loads(meta.read_bytes()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GeneratorError(f"unreadable S3 state in {self._dir}: {exc}") from None

    def _save(self) -> None:
        if self._dir is not None:
            doc = {"buckets": self._buckets, "etags": self._etags}
            _write_atomic(self._dir / "s3.json", json.dumps(doc, sort_keys=True).encode())

    def _upload_dir(self, upload_id: str) -> Path:
        root = self._dir / "s3-uploads" if self._dir is not None else Path(self._scratch.name)
        return root / upload_id

    def _save_upload(self, upload: Upload) -> None:
        if self._dir is not None:
            _write_atomic(self._upload_dir(upload.upload_id) / "upload.json", json.dumps(upload.to_json()).encode())

    # -- buckets -------------------------------------------------------------------------------

    def bucket_created(self, bucket: str, region: str, owner: str) -> None:
        """Record a bucket made through the S3 API: its region, creation date and owner account."""
        with self._lock:
            self._buckets[bucket] = self._new_record(region, owner)
            self._save()

    def _new_record(self, region: str, owner: str) -> dict:
        return {"region": region, "created": self._clock.now().isoformat(), "policy": None, "owner": owner,
                "settings": {}}

    def _bucket(self, bucket: str) -> dict:
        """The bucket's record; buckets made behind the API's back are adopted on first sight (owned by
        the default owner), records of older state files get the fields they lack."""
        record = self._buckets.get(bucket)
        if record is None:
            record = self._buckets[bucket] = self._new_record(DEFAULT_REGION, self._default_owner)
            self._save()
        record.setdefault("owner", self._default_owner)
        record.setdefault("settings", {})
        return record

    def owner(self, bucket: str) -> str:
        """The account that owns the bucket."""
        with self._lock:
            return self._bucket(bucket)["owner"]

    def region(self, bucket: str) -> str:
        with self._lock:
            return self._bucket(bucket)["region"]

    def creation_date(self, bucket: str) -> datetime:
        with self._lock:
            return parse_iso(self._bucket(bucket)["created"])

    def forget_bucket(self, bucket: str) -> None:
        """Drop everything held for a deleted bucket, uploads in progress included."""
        with self._lock:
            self._buckets.pop(bucket, None)
            self._etags.pop(bucket, None)
            for upload in [u for u in self._uploads.values() if u.bucket == bucket]:
                self.finish_upload(upload.upload_id)
            self._save()

    def policy(self, bucket: str) -> str | None:
        with self._lock:
            return self._bucket(bucket)["policy"]

    def set_policy(self, bucket: str, policy: str | None) -> None:
        with self._lock:
            self._bucket(bucket)["policy"] = policy
            self._save()

    # -- sub-resource settings -----------------------------------------------------------------

    def setting(self, bucket: str, name: str) -> tuple[bool, object]:
        """(whether the setting was ever put or deleted, its value: None once deleted)."""
        with self._lock:
            settings = self._bucket(bucket)["settings"]
            return name in settings, settings.get(name)

    def set_setting(self, bucket: str, name: str, value: object) -> None:
        """Store a setting's value (JSON-able); None records that it was deleted."""
        with self._lock:
            self._bucket(bucket)["settings"][name] = value
            self._save()

    def reset_setting(self, bucket: str, name: str) -> None:
        """Back to the setting's default, as if it had never been put."""
        with self._lock:
            settings = self._bucket(bucket)["settings"]
            if name in settings:
                del settings[name]
                self._save()

    # -- multipart ETags of completed uploads --------------------------------------------------

    def remember_etag(self, bucket: str, key: str, body_md5: str, etag: str) -> None:
        """`etag` ("<md5 of md5s>-N") stands for the object while its body's MD5 is `body_md5`."""
        with self._lock:
            self._etags.setdefault(bucket, {})[key] = [body_md5, etag]
            self._save()

    def etag(self, bucket: str, key: str, body_md5: str) -> str:
        """The object's S3 ETag: the remembered multipart one if the body is unchanged, else its MD5."""
        with self._lock:
            remembered = self._etags.get(bucket, {}).get(key)
        return remembered[1] if remembered and remembered[0] == body_md5 else body_md5

    def forget_etag(self, bucket: str, key: str) -> None:
        with self._lock:
            if self._etags.get(bucket, {}).pop(key, None) is not None:
                self._save()

    # -- multipart uploads ---------------------------------------------------------------------

    def create_upload(self, bucket: str, key: str, metadata: dict[str, str]) -> Upload:
        with self._lock:
            upload_id = f"{self._rng.getrandbits(256):064x}"
            upload = Upload(upload_id, bucket, key, dict(metadata), self._clock.now())
            self._uploads[upload_id] = upload
            self._upload_dir(upload_id).mkdir(parents=True, exist_ok=True)
            self._save_upload(upload)
            return upload

    def upload(self, upload_id: str) -> Upload | None:
        with self._lock:
            return self._uploads.get(upload_id) if _UPLOAD_ID_RE.match(upload_id) else None

    def uploads(self, bucket: str) -> list[Upload]:
        """Uploads in progress in `bucket`, by key then initiation time."""
        with self._lock:
            found = [u for u in self._uploads.values() if u.bucket == bucket]
        return sorted(found, key=lambda u: (u.key, u.initiated))

    def part_dir(self, upload_id: str) -> str:
        """Where a part of the upload is written before `put_part` takes it (same file system)."""
        return str(self._upload_dir(upload_id))

    def put_part(self, upload_id: str, number: int, path: str, size: int, md5: str) -> Part:
        """Take the part body written at `path` (in `part_dir`) as part `number`, replacing any before."""
        with self._lock:
            upload = self._uploads.get(upload_id)
            if upload is None:       # completed or aborted while the part streamed in (its folder is gone)
                Path(path).unlink(missing_ok=True)
                raise no_such_upload(upload_id)
            part = Part(number, md5, size, self._clock.now())
            try:
                if self._dir is not None:       # a part kept across restarts is on disk before it is listed
                    with open(path, "rb") as fh:
                        os.fsync(fh.fileno())
                os.replace(path, self.part_path(upload_id, number))
            except OSError:
                Path(path).unlink(missing_ok=True)
                raise
            upload.parts[number] = part
            self._save_upload(upload)
            return part

    def part_path(self, upload_id: str, number: int) -> Path:
        return self._upload_dir(upload_id) / f"part-{number}"

    def finish_upload(self, upload_id: str) -> None:
        """Forget an upload (completed or aborted) and its parts."""
        with self._lock:
            if self._uploads.pop(upload_id, None) is not None:
                shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)
