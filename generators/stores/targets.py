"""Where objects go and come from: `open_target` (to write) and `open_source` (to read) for a CLI target
(s3:// or a directory), `BucketRouter` per bucket."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores.base import ObjectStore, StoredObject
from cloudtrail_emulator.generators.stores.local import LocalStore
from cloudtrail_emulator.generators.stores.names import DEFAULT_BUCKET, check_bucket_name, check_key
from cloudtrail_emulator.generators.stores.s3 import S3Store


class BucketRouter:
    """An ObjectStore that sends the named buckets to their own stores and every other one to a
    default store: a server's trails can deliver into buckets on outside S3-compatible endpoints."""

    def __init__(self, default: ObjectStore, routes: Mapping[str, ObjectStore]):
        self.default = default
        self.routes = dict(routes)

    def store_for(self, bucket: str) -> ObjectStore:
        return self.routes.get(bucket, self.default)

    def create_bucket(self, bucket: str) -> None:
        self.store_for(bucket).create_bucket(bucket)

    def bucket_exists(self, bucket: str) -> bool:
        return self.store_for(bucket).bucket_exists(bucket)

    def list_buckets(self) -> list[str]:
        return sorted({*self.default.list_buckets(), *self.routes})

    def delete_bucket(self, bucket: str) -> None:
        self.store_for(bucket).delete_bucket(bucket)

    def put(self, bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> None:
        self.store_for(bucket).put(bucket, key, body, metadata)

    def get(self, bucket: str, key: str) -> StoredObject:
        return self.store_for(bucket).get(bucket, key)

    def head(self, bucket: str, key: str) -> StoredObject:
        return self.store_for(bucket).head(bucket, key)

    def delete(self, bucket: str, key: str) -> None:
        self.store_for(bucket).delete(bucket, key)

    def list(self, bucket: str, prefix: str = "", start_after: str = "") -> Iterator[str]:
        return self.store_for(bucket).list(bucket, prefix, start_after)


def local_directory(target: str) -> Path | None:
    """The local directory a target names, or None for an ``s3://`` target."""
    return None if "://" in target else Path(target).expanduser()


def target_location(target: str, bucket: str | None = None) -> tuple[str, str]:
    """(bucket, key prefix) a target names, checked, without touching it: ``s3://bucket[/prefix]``, or
    for a local directory `bucket` (default cloudtrail-emulator-logs) and no prefix."""
    if not target:
        raise GeneratorError("empty target: give s3://bucket[/prefix] or a directory")
    if local_directory(target) is not None:
        name = bucket or DEFAULT_BUCKET
        check_bucket_name(name)
        return name, ""
    scheme, _, rest = target.partition("://")
    if scheme != "s3":
        raise GeneratorError(f"unsupported target {target!r}: use s3://bucket[/prefix] or a directory")
    name, _, prefix = rest.partition("/")
    check_bucket_name(name)
    prefix = prefix.strip("/")
    if prefix:
        check_key(prefix)
    return name, prefix


def open_target(target: str, *, data_dir: Path, endpoint_url: str | None = None,
                bucket: str | None = None, fsync: bool = True) -> tuple[ObjectStore, str, str]:
    """(store, bucket, key prefix) for `s3://bucket[/prefix]` or a local output directory, to write to.

    `fsync=False` gives a local store that stays atomic but skips the fsyncs: a killed writer still
    leaves whole objects, only a power loss could lose recent ones (bulk generation uses it).

    `s3://` goes to the endpoint at `endpoint_url`, or without one to the embedded store in
    `<data_dir>/s3/` (the bucket is created when missing). Any other target is a directory that
    receives the objects as plain files (`<dir>/<key>`), for the bucket named `bucket`
    (default cloudtrail-emulator-logs); their metadata goes to its sidecar (`names.sidecar_dir`).
    Unwritable directories fail before anything is written.
    """
    name, prefix = target_location(target, bucket)
    path = local_directory(target)
    if path is None:
        if endpoint_url:
            return _existing_s3_bucket(endpoint_url, name), name, prefix
        root = Path(data_dir) / "s3"
        _ensure_writable_dir(root)
        local = LocalStore(root, fsync=fsync)
        if not local.bucket_exists(name):
            local.create_bucket(name)
        return local, name, prefix
    _ensure_writable_dir(path)
    store = LocalStore.directory(path, name, fsync=fsync)
    store.create_bucket(name)
    return store, name, ""


def open_source(target: str, *, data_dir: Path, endpoint_url: str | None = None,
                bucket: str | None = None) -> tuple[ObjectStore, str, str]:
    """(store, bucket, key prefix) of an existing target, to read from: as `open_target`, but nothing
    is created, and a missing directory or bucket (or an unreachable endpoint) is a one-line
    GeneratorError."""
    name, prefix = target_location(target, bucket)
    path = local_directory(target)
    if path is None:
        if endpoint_url:
            return _existing_s3_bucket(endpoint_url, name), name, prefix
        local = LocalStore(Path(data_dir) / "s3")
        if not local.bucket_exists(name):
            raise GeneratorError(f"bucket {name} does not exist in the embedded store {Path(data_dir) / 's3'} "
                                 "(--endpoint-url names another S3 endpoint)")
        return local, name, prefix
    if not path.is_dir():
        raise GeneratorError(f"{path}: {'not a directory' if path.exists() else 'no such directory'}")
    return LocalStore.directory(path, name), name, ""


def _existing_s3_bucket(endpoint_url: str, bucket: str) -> S3Store:
    s3 = S3Store(endpoint_url)
    if not s3.bucket_exists(bucket):
        raise GeneratorError(f"bucket {bucket} does not exist at S3 endpoint {s3.endpoint_url}")
    return s3


def _ensure_writable_dir(path: Path) -> None:
    """Create `path` if needed and prove a file can be made in it, or raise GeneratorError."""
    existing = path
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise GeneratorError(f"cannot write to {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise GeneratorError(f"cannot write to {path}: permission denied on {existing}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".ctemu-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise GeneratorError(f"cannot write to {path}: {exc.strerror or exc}") from None
