"""LocalStore: buckets as directories of plain files.

Layout and crash safety
-----------------------
A bucket is a directory (``<root>/<bucket>/``, or the user's output directory in directory mode)
holding only its objects, ``key`` as the plain file ``<bucket dir>/<key>``. The store's own files
sit in the hidden sibling ``.<bucket dir name>.ctemu/`` (``names.sidecar_dir``)::

    lock                            flock(2): exclusive while committing, shared while reading
    tmp/body-*                      bodies being written
    meta/<key>.meta                 the committed metadata record of <key>
    meta/<key>.<inode>.pending      a metadata record waiting for the body with that inode

The sidecar shares the bucket directory's file system (bodies are renamed from ``tmp/``): a mount
point as bucket directory is refused. Older trees keep these files in ``<bucket dir>/.ctemu/``: used
in place (never listed) until ``create_bucket`` moves them out to the sidecar.

A metadata record is JSON: the user metadata, the etag (MD5 hex) and the *identity* of the body
file it describes: (inode, size, mtime_ns), which a rename preserves. ``put``:

1. writes the body to ``tmp/``, fsyncs it and takes its identity;
2. under the exclusive lock, writes ``<key>.<inode>.pending`` and fsyncs it and its directory;
3. renames the body onto ``<key>``: the commit point; fsyncs the directory;
4. renames the pending record onto ``<key>.meta``.

A reader (under the shared lock) opens the body, fstats it and takes the record whose identity
matches: ``<key>.meta``, else ``<key>.<inode>.pending`` (a writer killed between steps 3 and 4).
Killed before step 3, the old body and old record stay; after it, the new body and its record are
found. No state pairs a body with another body's metadata, and a matching identity means no
hashing on head or get. Leftovers (temp bodies, stale pending records) are never listed.

An object put without metadata (every log file) gets no record: steps 2 and 4 are skipped and an
old ``<key>.meta`` is removed after step 3, saving a file creation per object; reads take its
etag from the body, as below.

When no identity matches (the tree was copied, which changes inodes, or an outside tool rewrote
the file), the reader hashes the body and takes a record with the same MD5 and size; failing
that, the file is served as an outside tool left it: with no user metadata.

Locking uses ``fcntl.flock`` on the sidecar's ``lock`` (POSIX): it orders threads and processes alike,
because every acquisition opens its own file description. The fsyncs (``fsync=False`` skips them,
for throwaway trees) make the steps durable in order against power loss too; freshly created
parent folders rely on the filesystem's journal for their own entries.
"""
from __future__ import annotations

import dataclasses
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores.base import (BucketNotEmpty, InvalidBucketName, NoSuchBucket, NoSuchKey,
                                                        StoredObject)
from cloudtrail_emulator.generators.stores.local_listing import list_keys
from cloudtrail_emulator.generators.stores.names import (DEFAULT_BUCKET, INTERNAL_DIR, check_bucket_name, check_key,
                                                         clean_metadata, sidecar_dir)

READ_CHUNK = 1024 * 1024


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _identity(st: os.stat_result) -> list[int]:
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def _load_record(path: str) -> dict | None:
    """A metadata record, or None when missing or unreadable (a torn leftover)."""
    try:
        with open(path, "rb") as fh:
            record = json.loads(fh.read())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "etag" in record else None


class LocalStore:
    """Buckets as directories of plain files; see the module docstring for layout and atomicity."""

    def __init__(self, root: Path | str, *, fsync: bool = True):
        self.root = Path(root)
        self.fsync = fsync
        self._single: tuple[str, Path] | None = None
        self._internals: dict[str, str] = {}  # bucket dir -> its store files' directory, once it exists

    @classmethod
    def directory(cls, path: Path | str, bucket: str = DEFAULT_BUCKET, *, fsync: bool = True) -> LocalStore:
        """A store with one bucket, `bucket`, whose objects sit directly under `path` (path/<key>)."""
        check_bucket_name(bucket)
        store = cls(path, fsync=fsync)
        store._single = (bucket, Path(path))
        return store

    # -- buckets -------------------------------------------------------------------------------

    def _bucket_dir(self, bucket: str) -> str:
        if self._single is not None:
            if bucket != self._single[0]:
                raise NoSuchBucket(f"no such bucket: {bucket} (this directory holds bucket {self._single[0]})")
            return str(self._single[1])
        check_bucket_name(bucket)
        return os.path.join(self.root, bucket)

    def _existing_bucket_dir(self, bucket: str) -> str:
        bdir = self._bucket_dir(bucket)
        if not os.path.isdir(bdir):
            raise NoSuchBucket(f"no such bucket: {bucket}")
        return bdir

    def bucket_path(self, bucket: str) -> Path:
        """The directory holding `bucket`'s objects (NoSuchBucket when there is none)."""
        return Path(self._existing_bucket_dir(bucket))

    def _internal(self, bdir: str) -> str:
        """The directory of the store's own files for a bucket directory: its sidecar, or the
        ``.ctemu/`` inside it in a tree written before the sidecar (and not moved out yet)."""
        known = self._internals.get(bdir)
        if known is not None:
            return known
        sidecar = sidecar_dir(bdir)
        legacy = os.path.join(bdir, INTERNAL_DIR)
        chosen = legacy if not os.path.isdir(sidecar) and os.path.isdir(legacy) else sidecar
        if os.path.isdir(chosen):
            self._internals[bdir] = chosen
        return chosen

    def create_bucket(self, bucket: str) -> None:
        """Create the bucket's directory and its sidecar (moving an older tree's ``.ctemu/`` there);
        no-op when both exist."""
        bdir = self._bucket_dir(bucket)
        sidecar = sidecar_dir(bdir)
        legacy = os.path.join(bdir, INTERNAL_DIR)
        try:
            os.makedirs(bdir, exist_ok=True)
            if os.stat(bdir).st_dev != os.stat(os.path.dirname(sidecar)).st_dev:
                raise GeneratorError(
                    f"cannot keep object metadata beside {bdir} in {sidecar}: {bdir} is a mount point "
                    "(another file system); write into a directory below it")
            if os.path.isdir(legacy) and not os.path.isdir(sidecar):
                os.rename(legacy, sidecar)
            self._internals.pop(bdir, None)
            os.makedirs(os.path.join(sidecar, "tmp"), exist_ok=True)
            os.close(os.open(os.path.join(sidecar, "lock"), os.O_RDWR | os.O_CREAT, 0o644))
        except OSError as exc:
            raise GeneratorError(f"cannot create bucket directory {bdir} and its metadata directory {sidecar}: "
                                 f"{exc.strerror}") from None

    def bucket_exists(self, bucket: str) -> bool:
        try:
            return os.path.isdir(self._bucket_dir(bucket))
        except NoSuchBucket:
            return False

    def list_buckets(self) -> list[str]:
        if self._single is not None:
            return [self._single[0]] if self._single[1].is_dir() else []
        try:
            entries = os.scandir(self.root)
        except (FileNotFoundError, NotADirectoryError):
            return []
        with entries:
            names = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
        valid = []
        for name in names:
            try:
                check_bucket_name(name)
            except InvalidBucketName:
                continue
            valid.append(name)
        return sorted(valid)

    def delete_bucket(self, bucket: str) -> None:
        """Remove an empty bucket (its directory and the store's files); BucketNotEmpty otherwise."""
        bdir = self._existing_bucket_dir(bucket)
        if next(self.list(bucket), None) is not None:
            raise BucketNotEmpty(f"bucket {bucket} is not empty")
        internal = self._internal(bdir)
        self._internals.pop(bdir, None)
        shutil.rmtree(bdir)
        shutil.rmtree(internal, ignore_errors=True)

    # -- objects -------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, bdir: str, exclusive: bool) -> Iterator[None]:
        path = os.path.join(self._internal(bdir), "lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT if exclusive else os.O_RDONLY, 0o644)
        except FileNotFoundError:
            if exclusive:
                raise
            yield  # nothing was ever written here through a LocalStore: no writer to wait for
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def _paths(self, bdir: str, segments: list[str]) -> tuple[str, str]:
        """(body path, committed metadata path) of a key."""
        body = os.path.join(bdir, *segments)
        meta = os.path.join(self._internal(bdir), "meta", *segments) + ".meta"
        return body, meta

    @staticmethod
    def _pending(meta_path: str, inode: int) -> str:
        return f"{meta_path[:-len('.meta')]}.{inode}.pending"

    def temp_dir(self, bucket: str) -> str:
        """Where a body for `bucket` is written before `put_file` commits it (the bucket's file system)."""
        tmpdir = os.path.join(self._internal(self._existing_bucket_dir(bucket)), "tmp")
        os.makedirs(tmpdir, exist_ok=True)
        return tmpdir

    def put(self, bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> None:
        """Write an object and its metadata atomically (both new, or both as before)."""
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise GeneratorError(f"cannot store {key!r}: the body must be bytes, not {type(body).__name__}")
        check_key(key)
        fd, tmp = tempfile.mkstemp(dir=self.temp_dir(bucket), prefix="body-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            self.put_file(bucket, key, tmp, metadata, hashlib.md5(body).hexdigest())
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def put_file(self, bucket: str, key: str, path: str, metadata: Mapping[str, str] | None, etag: str) -> None:
        """Commit the written body file `path` (made in `temp_dir(bucket)`, MD5 hex `etag`) as `key`,
        by renaming it: atomically, as `put`. The caller removes `path` if this raises."""
        bdir = self._existing_bucket_dir(bucket)
        segments = check_key(key)
        record = {"metadata": clean_metadata(metadata), "etag": etag}
        with open(path, "rb") as fh:
            if self.fsync:
                os.fsync(fh.fileno())
            record["identity"] = _identity(os.fstat(fh.fileno()))
        self._commit(bdir, key, segments, path, record)

    def check_storable(self, bucket: str, key: str, with_metadata: bool = True) -> None:
        """GeneratorError naming why `key` cannot be stored here now (a key this directory tree cannot
        hold, a parent path that is an object, keys below it, a key below `<key>.meta/`)."""
        bdir = self._existing_bucket_dir(bucket)
        body_path, meta_path = self._paths(bdir, check_key(key))
        self._blocked(key, body_path, meta_path, with_metadata)
        parent = os.path.dirname(body_path)
        while len(parent) > len(bdir):
            if os.path.lexists(parent) and not os.path.isdir(parent):
                raise GeneratorError(f"cannot store {key!r}: a parent path is already an object")
            parent = os.path.dirname(parent)

    @staticmethod
    def _blocked(key: str, body_path: str, meta_path: str, with_metadata: bool) -> None:
        """GeneratorError when a folder holds the place of the key's body or metadata file."""
        if os.path.isdir(body_path):
            raise GeneratorError(f"cannot store {key!r}: keys exist below it ({key}/...)")
        if with_metadata and os.path.isdir(meta_path):
            raise GeneratorError(f"cannot store {key!r} with metadata: keys exist below {key}.meta/, whose "
                                 "metadata directory takes the place of its metadata file")

    def _commit(self, bdir: str, key: str, segments: list[str], tmp: str, record: dict) -> None:
        body_path, meta_path = self._paths(bdir, segments)
        with_metadata = bool(record["metadata"])
        with self._locked(bdir, exclusive=True):
            self._blocked(key, body_path, meta_path, with_metadata)   # parents: makedirs refuses below
            try:
                os.makedirs(os.path.dirname(body_path), exist_ok=True)
                if with_metadata:
                    os.makedirs(os.path.dirname(meta_path), exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise GeneratorError(f"cannot store {key!r}: a parent path of it or of its metadata is already "
                                     "an object") from None
            if with_metadata:
                self._commit_with_record(tmp, body_path, meta_path, record)
            else:
                self._commit_plain(tmp, body_path, meta_path)

    def _commit_with_record(self, tmp: str, body_path: str, meta_path: str, record: dict) -> None:
        pending = self._pending(meta_path, record["identity"][0])
        with open(pending, "wb") as fh:
            fh.write(json.dumps(record, separators=(",", ":")).encode())
            fh.flush()
            if self.fsync:
                os.fsync(fh.fileno())
        if self.fsync:
            _fsync_dir(os.path.dirname(meta_path))
        os.replace(tmp, body_path)
        if self.fsync:
            _fsync_dir(os.path.dirname(body_path))
        os.replace(pending, meta_path)
        if self.fsync:
            _fsync_dir(os.path.dirname(meta_path))

    def _commit_plain(self, tmp: str, body_path: str, meta_path: str) -> None:
        """An object without metadata keeps no record (one file fewer to create: reads take its ETag
        from the body); a previous record goes after the body is in place, so a crash in between
        leaves the new body, whose identity that record no longer matches."""
        os.replace(tmp, body_path)
        if self.fsync:
            _fsync_dir(os.path.dirname(body_path))
        try:
            os.unlink(meta_path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            pass

    def get(self, bucket: str, key: str) -> StoredObject:
        head, fh = self.open(bucket, key)
        with fh:
            return dataclasses.replace(head, body=fh.read())

    def head(self, bucket: str, key: str) -> StoredObject:
        """Metadata, etag, size and last_modified; body is b"" (read only if the identity check fails)."""
        head, fh = self.open(bucket, key)
        fh.close()
        return head

    def open(self, bucket: str, key: str) -> tuple[StoredObject, BinaryIO]:
        """The object's head (body b"") and its body opened for reading: the caller closes it. The
        open file keeps reading the version it opened, whatever is put meanwhile."""
        bdir = self._existing_bucket_dir(bucket)
        body_path, meta_path = self._paths(bdir, check_key(key))
        with self._locked(bdir, exclusive=False):
            try:
                fh = open(body_path, "rb")
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise NoSuchKey(f"no such key: s3://{bucket}/{key}") from None
            st = os.fstat(fh.fileno())
            record = None
            if stat.S_ISREG(st.st_mode):
                for candidate in (meta_path, self._pending(meta_path, st.st_ino)):
                    record = _load_record(candidate)
                    if record is not None and record.get("identity") == _identity(st):
                        break
                    record = None
        if not stat.S_ISREG(st.st_mode):
            fh.close()
            raise NoSuchKey(f"no such key: s3://{bucket}/{key}")
        if record is None:
            record = self._record_by_content(meta_path, fh, st.st_size)
        head = StoredObject(body=b"", metadata=dict(record["metadata"]), etag=record["etag"], size=st.st_size,
                            last_modified=datetime.fromtimestamp(st.st_mtime_ns / 1e9, tz=timezone.utc))
        return head, fh

    @staticmethod
    def _record_by_content(meta_path: str, fh: BinaryIO, size: int) -> dict:
        """Slow path: the record (committed or pending) whose MD5 matches the body, else no metadata."""
        digest = hashlib.md5()
        while chunk := fh.read(READ_CHUNK):
            digest.update(chunk)
        fh.seek(0)
        etag = digest.hexdigest()
        meta_dir, meta_name = os.path.split(meta_path)
        stem = meta_name[: -len(".meta")] + "."
        try:
            names = [n for n in os.listdir(meta_dir) if n.startswith(stem) and n.endswith(".pending")]
        except OSError:
            names = []
        for candidate in [meta_path, *(os.path.join(meta_dir, n) for n in sorted(names))]:
            record = _load_record(candidate)
            if record is not None and record["etag"] == etag and record["identity"][1] == size:
                return record
        return {"metadata": {}, "etag": etag}

    def delete(self, bucket: str, key: str) -> None:
        """Remove the object (no error when it is missing) and prune directories left empty."""
        bdir = self._existing_bucket_dir(bucket)
        body_path, meta_path = self._paths(bdir, check_key(key))
        with self._locked(bdir, exclusive=True):
            for path in (body_path, meta_path):
                try:
                    os.unlink(path)
                except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    pass
            self._prune(os.path.dirname(body_path), bdir)
            self._prune(os.path.dirname(meta_path), os.path.join(self._internal(bdir), "meta"))

    @staticmethod
    def _prune(directory: str, stop: str) -> None:
        while len(directory) > len(stop):
            try:
                os.rmdir(directory)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                    return
                raise
            directory = os.path.dirname(directory)

    def list(self, bucket: str, prefix: str = "", start_after: str = "") -> Iterator[str]:
        """Keys starting with `prefix` and greater than `start_after`, in ascending UTF-8 byte order
        (generators/stores/local_listing.py: only the directory the prefix names is read)."""
        return list_keys(self._existing_bucket_dir(bucket), prefix, start_after)
