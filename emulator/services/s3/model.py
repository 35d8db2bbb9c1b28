"""S3's buckets, objects and multipart uploads over an ObjectStore: state and rules, testable
without HTTP. Bucket-level state the store does not hold lives in `S3State` (emulator/services/s3/state.py)."""
from __future__ import annotations

import hashlib
import io
import os
import random
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from cloudtrail_emulator.emulator.config import Clock, EmulatorConfig, SystemClock
from cloudtrail_emulator.emulator.services.s3.exceptions import (
    S3Error, invalid_argument, malformed_xml, no_such_bucket, no_such_key, no_such_upload, unstorable)
from cloudtrail_emulator.emulator.services.s3.spool import Spooled
from cloudtrail_emulator.emulator.services.s3.state import Part, S3State, Upload, check_policy
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores import (InvalidBucketName, NoSuchBucket, NoSuchKey, ObjectStore, StoredObject,
                                                   check_bucket_name)
from cloudtrail_emulator.generators.stores.names import check_key

MAX_OBJECT_SIZE = 5 * 1024**3           # one PutObject or UploadPart body
MAX_MULTIPART_SIZE = 5 * 1024**4        # a completed multipart object
MIN_PART_SIZE = 5 * 1024**2             # every part but the last
MAX_PART_NUMBER = 10000
COPY_CHUNK = 1024 * 1024
MAX_LIST_KEYS = 1000
AFTER_EVERY_SUFFIX = "\U0010ffff"  # sorts after any character a key can continue with
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


@dataclass(frozen=True)
class BucketInfo:
    name: str
    created: datetime
    region: str
    owner: str   # account id


def canonical_id(account_id: str) -> str:
    """The account's S3 canonical user id (64 hex digits, stable per account)."""
    return hashlib.sha256(f"canonical-user:{account_id}".encode()).hexdigest()


class S3Backend:
    """Buckets and objects in `store`; bucket-level state in `state_dir` (None: memory). Buckets
    made behind the API's back (files in the store) belong to `default_owner`."""

    def __init__(self, store: ObjectStore, state_dir: Path | None, *, clock: Clock | None = None,
                 rng: random.Random | None = None, max_object_size: int = MAX_OBJECT_SIZE,
                 default_owner: str = EmulatorConfig.default_account):
        self.store = store
        self.rng = rng if rng is not None else random.Random()
        self.state = S3State(state_dir, clock or SystemClock(), self.rng, default_owner)
        self.max_object_size = max_object_size

    # -- buckets -------------------------------------------------------------------------------

    def bucket_exists(self, name: str) -> bool:
        try:
            check_bucket_name(name)
        except InvalidBucketName:
            return False
        return self.store.bucket_exists(name)

    def bucket_policy(self, name: str) -> str | None:
        """The bucket's policy document as it was put, or None (also for a missing bucket)."""
        return self.state.policy(name) if self.bucket_exists(name) else None

    def require_bucket(self, bucket: str) -> None:
        if not self.bucket_exists(bucket):
            raise no_such_bucket(bucket)

    def buckets(self, owner: str) -> list[BucketInfo]:
        """The buckets `owner` (an account id) owns, by name."""
        found = [BucketInfo(name, self.state.creation_date(name), self.state.region(name), self.state.owner(name))
                 for name in self.store.list_buckets()]
        return [info for info in found if info.owner == owner]

    def owner(self, bucket: str) -> str:
        """The account that owns `bucket`."""
        return self.state.owner(bucket)

    @staticmethod
    def region_of_constraint(constraint: str) -> str:
        """The region a CreateBucket LocationConstraint names (`EU` is eu-west-1)."""
        region = "eu-west-1" if constraint == "EU" else constraint
        if not _REGION_RE.match(region):
            raise S3Error("InvalidLocationConstraint", 400, "The specified location-constraint is not valid",
                          LocationConstraint=constraint)
        return region

    def create_bucket(self, bucket: str, region: str, owner: str) -> None:
        """Make `bucket` in `region`, owned by account `owner` (bucket names are global: another
        account's bucket of that name is BucketAlreadyExists)."""
        try:
            check_bucket_name(bucket)
        except InvalidBucketName as exc:
            raise S3Error("InvalidBucketName", 400, f"The specified bucket is not valid: {exc}",
                          BucketName=bucket) from None
        if self.store.bucket_exists(bucket):
            if self.state.owner(bucket) != owner:
                raise S3Error("BucketAlreadyExists", 409, "The requested bucket name is not available. The bucket "
                              "namespace is shared by all users of the system. Please select a different name "
                              "and try again.", BucketName=bucket)
            raise S3Error("BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket "
                          "succeeded and you already own it.", BucketName=bucket)
        self.store.create_bucket(bucket)
        self.state.bucket_created(bucket, region, owner)

    def region(self, bucket: str) -> str:
        return self.state.region(bucket)

    def delete_bucket(self, bucket: str) -> None:
        self.store.delete_bucket(bucket)
        self.state.forget_bucket(bucket)

    def put_policy(self, bucket: str, document: bytes) -> None:
        self.require_bucket(bucket)
        try:
            text = document.decode("utf-8")
        except UnicodeDecodeError:
            raise S3Error("MalformedPolicy", 400, "Policies must be valid UTF-8 JSON") from None
        check_policy(text, bucket)
        self.state.set_policy(bucket, text)

    def policy(self, bucket: str) -> str:
        policy = self.state.policy(bucket)
        if policy is None:
            raise S3Error("NoSuchBucketPolicy", 404, "The bucket policy does not exist", BucketName=bucket)
        return policy

    def delete_policy(self, bucket: str) -> None:
        self.state.set_policy(bucket, None)

    # -- listing -------------------------------------------------------------------------------

    def _entries(self, bucket: str, prefix: str, delimiter: str, after: str) -> Iterator[tuple[str, bool]]:
        """(key, False) and (common prefix, True) in ascending order, all sorting after `after`."""
        start = after
        rolled_up = None
        while True:
            for key in self.store.list(bucket, prefix, start_after=start):
                if rolled_up is not None and key.startswith(rolled_up):
                    continue
                cut = key.find(delimiter, len(prefix)) if delimiter else -1
                if cut < 0:
                    yield key, False
                    continue
                rolled_up = key[:cut + len(delimiter)]
                if rolled_up > after:
                    yield rolled_up, True
                start = rolled_up + AFTER_EVERY_SUFFIX
                break
            else:
                return

    def page(self, bucket: str, prefix: str, delimiter: str, after: str,
             max_keys: int) -> tuple[list[tuple[str, bool]], bool]:
        """Up to `max_keys` entries after `after`, and whether more follow."""
        entries: list[tuple[str, bool]] = []
        for entry in self._entries(bucket, prefix, delimiter, after):
            if len(entries) >= max_keys:
                return entries, max_keys > 0
            entries.append(entry)
        return entries, False

    # -- objects -------------------------------------------------------------------------------

    def etag(self, bucket: str, key: str, obj: StoredObject) -> str:
        """The object's quoted S3 ETag (multipart ones included)."""
        return f'"{self.state.etag(bucket, key, obj.etag)}"'

    def check_storable(self, bucket: str, key: str, metadata: dict[str, str]) -> None:
        """Refuse, before any body is read, a key the store cannot hold (InvalidArgument naming why)."""
        check = getattr(self.store, "check_storable", None)
        try:
            if check is not None:
                check(bucket, key, bool(metadata))
            else:
                check_key(key)
        except NoSuchBucket:
            raise no_such_bucket(bucket) from None
        except GeneratorError as exc:
            raise unstorable(exc) from None

    def temp_dir(self, bucket: str) -> str:
        """Where a body for `bucket` streams to before it commits (the store's temp area)."""
        temp_dir = getattr(self.store, "temp_dir", None)
        return temp_dir(bucket) if temp_dir is not None else tempfile.gettempdir()

    def _commit(self, bucket: str, key: str, path: str, md5: str, metadata: dict[str, str]) -> None:
        """Commit the body file at `path` as the object (moved into the store; removed on failure)."""
        try:
            put_file = getattr(self.store, "put_file", None)
            if put_file is not None:
                put_file(bucket, key, path, metadata, md5)
            else:
                self.store.put(bucket, key, Path(path).read_bytes(), metadata)
        except GeneratorError as exc:
            raise unstorable(exc) from None
        finally:
            if os.path.exists(path):
                os.unlink(path)

    def put_object(self, bucket: str, key: str, body: Spooled, metadata: dict[str, str]) -> str:
        """Store a streamed-in object; its quoted ETag."""
        self._commit(bucket, key, body.path, body.md5, metadata)
        self.state.forget_etag(bucket, key)
        return f'"{body.md5}"'

    def open_object(self, bucket: str, key: str) -> tuple[StoredObject, BinaryIO]:
        """The object's head (body b"") and its body opened for reading (the caller closes it)."""
        open_body = getattr(self.store, "open", None)
        if open_body is not None:
            return open_body(bucket, key)
        obj = self.store.get(bucket, key)
        return obj, io.BytesIO(obj.body)

    def read_source(self, bucket: str, key: str) -> tuple[StoredObject, BinaryIO]:
        """A copy source, opened (NoSuchBucket / NoSuchKey naming it)."""
        self.require_bucket(bucket)
        try:
            return self.open_object(bucket, key)
        except NoSuchKey:
            raise no_such_key(key) from None

    def _copy_to_temp(self, source: BinaryIO, directory: str, first: int, size: int) -> Spooled:
        """`size` bytes of `source` from `first` into a new file in `directory`, in pieces."""
        digest = hashlib.md5()
        fd, path = tempfile.mkstemp(dir=directory, prefix="copy-")
        try:
            with os.fdopen(fd, "wb") as out:
                source.seek(first)
                left = size
                while left > 0 and (piece := source.read(min(left, COPY_CHUNK))):
                    digest.update(piece)
                    out.write(piece)
                    left -= len(piece)
        except BaseException:
            os.unlink(path)
            raise
        return Spooled(path, size - left, digest.hexdigest())

    def copy_object(self, bucket: str, key: str, source_bucket: str, source_key: str, directive: str,
                    metadata: dict[str, str]) -> StoredObject:
        """Copy with the source's metadata (`COPY`) or `metadata` (`REPLACE`); the copy's head."""
        if directive not in ("COPY", "REPLACE"):
            raise invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", directive)
        source, body = self.read_source(source_bucket, source_key)
        with body:
            if (source_bucket, source_key) == (bucket, key) and directive == "COPY":
                raise S3Error("InvalidRequest", 400, "This copy request is illegal because it is trying to copy "
                              "an object to itself without changing the object's metadata, storage class, website "
                              "redirect location or encryption attributes.")
            chosen = source.metadata if directive == "COPY" else metadata
            self.check_storable(bucket, key, chosen)
            copied = self._copy_to_temp(body, self.temp_dir(bucket), 0, source.size)
        self._commit(bucket, key, copied.path, copied.md5, chosen)
        self.state.forget_etag(bucket, key)
        return self.store.head(bucket, key)

    def delete_object(self, bucket: str, key: str) -> None:
        self.store.delete(bucket, key)
        self.state.forget_etag(bucket, key)

    def delete_objects(self, bucket: str, keys: list[str]) -> list[tuple[str, str | None]]:
        """Delete each key: (key, None) when deleted, (key, why) when the store refused."""
        if not keys or len(keys) > MAX_LIST_KEYS:
            raise malformed_xml()
        if not all(keys):
            raise malformed_xml("Every Object needs a non-empty Key")
        results: list[tuple[str, str | None]] = []
        for key in keys:
            try:
                self.delete_object(bucket, key)
            except GeneratorError as exc:
                results.append((key, str(exc)))
                continue
            results.append((key, None))
        return results

    # -- multipart uploads ---------------------------------------------------------------------

    def create_upload(self, bucket: str, key: str, metadata: dict[str, str]) -> Upload:
        """A new upload, once the store is known to be able to hold `key` (refused now, not at Complete)."""
        self.check_storable(bucket, key, metadata)
        return self.state.create_upload(bucket, key, metadata)

    def upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        """The upload in progress `upload_id` of this object (NoSuchUpload otherwise)."""
        upload = self.state.upload(upload_id)
        if upload is None or (upload.bucket, upload.key) != (bucket, key):
            raise no_such_upload(upload_id)
        return upload

    @staticmethod
    def part_number(text: str) -> int:
        if not text.isdigit() or not 1 <= int(text) <= MAX_PART_NUMBER:
            raise invalid_argument(f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
                                   "partNumber", text)
        return int(text)

    def part_dir(self, upload: Upload) -> str:
        """Where a part body streams to."""
        return self.state.part_dir(upload.upload_id)

    def put_part(self, upload: Upload, number: int, body: Spooled) -> Part:
        return self.state.put_part(upload.upload_id, number, body.path, body.size, body.md5)

    def copy_part(self, upload: Upload, number: int, source: BinaryIO, first: int, size: int) -> Part:
        """Part `number` from `size` bytes of an open copy source, from byte `first`."""
        return self.put_part(upload, number, self._copy_to_temp(source, self.part_dir(upload), first, size))

    def complete_upload(self, upload: Upload, wanted: list[tuple[str, str]]) -> str:
        """Join the parts named by (part number, ETag) into the object; its multipart ETag (unquoted)."""
        if not wanted:
            raise malformed_xml()
        numbers: list[int] = []
        for number_text, etag in wanted:
            if not number_text.isdigit():
                raise malformed_xml("Every Part needs a numeric PartNumber")
            number = int(number_text)
            if numbers and number <= numbers[-1]:
                raise S3Error("InvalidPartOrder", 400, "The list of parts was not in ascending order. "
                              "Parts must be ordered by part number.", UploadId=upload.upload_id)
            stored = upload.parts.get(number)
            if stored is None or stored.etag != etag:
                raise S3Error("InvalidPart", 400, "One or more of the specified parts could not be found. The "
                              "part may not have been uploaded, or the specified entity tag may not match the "
                              "part's entity tag.", UploadId=upload.upload_id, PartNumber=str(number), ETag=etag)
            numbers.append(number)
        for number in numbers[:-1]:
            if upload.parts[number].size < MIN_PART_SIZE:
                raise S3Error("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed "
                              "object size.", ProposedSize=str(upload.parts[number].size),
                              MinSizeAllowed=str(MIN_PART_SIZE), PartNumber=str(number))
        total = sum(upload.parts[n].size for n in numbers)
        if total > MAX_MULTIPART_SIZE:
            raise S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size",
                          ProposedSize=str(total), MaxSizeAllowed=str(MAX_MULTIPART_SIZE))
        joined = self._join_parts(upload, numbers)
        digests = b"".join(bytes.fromhex(upload.parts[n].etag) for n in numbers)
        etag = f"{hashlib.md5(digests).hexdigest()}-{len(numbers)}"
        self._commit(upload.bucket, upload.key, joined.path, joined.md5, upload.metadata)
        self.state.remember_etag(upload.bucket, upload.key, joined.md5, etag)
        self.state.finish_upload(upload.upload_id)
        return etag

    def _join_parts(self, upload: Upload, numbers: list[int]) -> Spooled:
        """The parts, in order, copied piece by piece into one new file in the store's temp area."""
        digest = hashlib.md5()
        fd, path = tempfile.mkstemp(dir=self.temp_dir(upload.bucket), prefix="join-")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for number in numbers:
                    with open(self.state.part_path(upload.upload_id, number), "rb") as part:
                        while piece := part.read(COPY_CHUNK):
                            digest.update(piece)
                            out.write(piece)
                            size += len(piece)
        except BaseException:
            os.unlink(path)
            raise
        return Spooled(path, size, digest.hexdigest())

    def abort_upload(self, upload: Upload) -> None:
        self.state.finish_upload(upload.upload_id)

    def uploads(self, bucket: str, prefix: str) -> list[Upload]:
        return [u for u in self.state.uploads(bucket) if u.key.startswith(prefix)]
