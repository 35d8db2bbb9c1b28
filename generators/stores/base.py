"""What every object store shares: the ObjectStore interface, StoredObject and the store errors."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cloudtrail_emulator.generators.errors import GeneratorError


class NoSuchBucket(GeneratorError):
    """The bucket does not exist."""


class NoSuchKey(GeneratorError):
    """The object does not exist."""


class BucketNotEmpty(GeneratorError):
    """A bucket that still holds objects cannot be deleted."""


class InvalidBucketName(GeneratorError):
    """The name breaks S3's bucket naming rules."""


@dataclass(frozen=True)
class StoredObject:
    """One object as a store returns it (from get, or from head without the body)."""

    body: bytes
    metadata: dict[str, str]  # user metadata, lower-case names, without the x-amz-meta- prefix
    last_modified: datetime
    etag: str  # hex MD5 of the body, unquoted
    size: int  # length of the body in bytes (also for head, whose body is b"")


class ObjectStore(Protocol):
    """The bucket-and-key operations every store offers (LocalStore, S3Store, BucketRouter)."""

    def create_bucket(self, bucket: str) -> None: ...
    def bucket_exists(self, bucket: str) -> bool: ...
    def list_buckets(self) -> list[str]: ...
    def delete_bucket(self, bucket: str) -> None: ...
    def put(self, bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> None: ...
    def get(self, bucket: str, key: str) -> StoredObject: ...
    def head(self, bucket: str, key: str) -> StoredObject: ...
    def delete(self, bucket: str, key: str) -> None: ...
    def list(self, bucket: str, prefix: str = "", start_after: str = "") -> Iterator[str]: ...
