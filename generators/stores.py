"""Object stores: a directory of plain files (LocalStore) and any S3 endpoint (S3Store).

LocalStore layout and crash safety
----------------------------------
A bucket is a directory (``<root>/<bucket>/``, or the user's output directory in directory mode);
object ``key`` is the plain file ``<bucket dir>/<key>``, so gunzip, ls and friends read it as is.
Everything else the store keeps sits in ``<bucket dir>/.ctemu/`` (the key prefix ``.ctemu/`` is
reserved and never listed)::

    .ctemu/lock                            flock(2): exclusive while committing, shared while reading
    .ctemu/tmp/body-*                      bodies being written
    .ctemu/meta/<key>.meta                 the committed metadata record of <key>
    .ctemu/meta/<key>.<inode>.pending      a metadata record waiting for the body with that inode

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

Locking uses ``fcntl.flock`` on ``.ctemu/lock`` (POSIX): it orders threads and processes alike,
because every acquisition opens its own file description. The fsyncs (``fsync=False`` skips them,
for throwaway trees) make the steps durable in order against power loss too; freshly created
parent folders rely on the filesystem's journal for their own entries.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import boto3
import botocore.exceptions
from botocore.config import Config

from cloudtrail_emulator.generators.errors import GeneratorError

DEFAULT_BUCKET = "cloudtrail-emulator-logs"
INTERNAL_DIR = ".ctemu"
MAX_KEY_BYTES = 1024
MAX_LAST_SEGMENT_BYTES = 200  # leaves room for ".<inode>.pending" within NAME_MAX (255)
MAX_SEGMENT_BYTES = 255
MAX_METADATA_BYTES = 2048  # S3's limit on user metadata (names + values)
CONNECT_TIMEOUT = 1.5
READ_TIMEOUT = 30
MAX_ATTEMPTS = 2

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_META_NAME_RE = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")


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
    body: bytes
    metadata: dict[str, str]  # user metadata, lower-case names, without the x-amz-meta- prefix
    last_modified: datetime
    etag: str  # hex MD5 of the body, unquoted
    size: int  # length of the body in bytes (also for head, whose body is b"")


class ObjectStore(Protocol):
    def create_bucket(self, bucket: str) -> None: ...
    def bucket_exists(self, bucket: str) -> bool: ...
    def list_buckets(self) -> list[str]: ...
    def delete_bucket(self, bucket: str) -> None: ...
    def put(self, bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> None: ...
    def get(self, bucket: str, key: str) -> StoredObject: ...
    def head(self, bucket: str, key: str) -> StoredObject: ...
    def delete(self, bucket: str, key: str) -> None: ...
    def list(self, bucket: str, prefix: str = "", start_after: str = "") -> Iterator[str]: ...


def check_bucket_name(name: str) -> None:
    """Raise InvalidBucketName unless `name` follows S3's general-purpose bucket naming rules."""
    problem = None
    if not isinstance(name, str) or not _BUCKET_RE.match(name):
        problem = "3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit"
    elif ".." in name:
        problem = "no two adjacent periods"
    elif _looks_like_ip(name):
        problem = "not formatted as an IP address"
    elif name.startswith(_BUCKET_BAD_PREFIXES) or name.endswith(_BUCKET_BAD_SUFFIXES):
        problem = "reserved prefix or suffix"
    if problem:
        raise InvalidBucketName(f"invalid bucket name {name!r}: {problem}")


def _looks_like_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def check_key(key: str) -> list[str]:
    """The key's path segments; GeneratorError for keys a directory of plain files cannot hold safely."""
    if not isinstance(key, str) or not key:
        raise GeneratorError(f"invalid object key {key!r}: empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise GeneratorError(f"invalid object key {key!r}: not valid UTF-8") from None
    if size > MAX_KEY_BYTES:
        raise GeneratorError(f"invalid object key {key[:40]!r}...: longer than {MAX_KEY_BYTES} bytes")
    if "\x00" in key or "\\" in key:
        raise GeneratorError(f"invalid object key {key!r}: NUL and backslash are not allowed")
    if key.startswith("/"):
        raise GeneratorError(f"invalid object key {key!r}: absolute path")
    segments = key.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise GeneratorError(f"invalid object key {key!r}: empty, '.' or '..' path segment")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise GeneratorError(f"invalid object key {key!r}: a path segment exceeds {MAX_SEGMENT_BYTES} bytes")
    if len(segments[-1].encode("utf-8")) > MAX_LAST_SEGMENT_BYTES:
        raise GeneratorError(f"invalid object key {key!r}: file name exceeds {MAX_LAST_SEGMENT_BYTES} bytes")
    if segments[0] == INTERNAL_DIR:
        raise GeneratorError(f"invalid object key {key!r}: the prefix {INTERNAL_DIR}/ is reserved")
    return segments


def clean_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """User metadata with lower-case names, checked against S3's rules (token names, 2 KB in all)."""
    cleaned: dict[str, str] = {}
    for name, value in (metadata or {}).items():
        lower = str(name).lower()
        if not _META_NAME_RE.match(lower):
            raise GeneratorError(f"invalid metadata name {name!r}")
        if not isinstance(value, str) or any(c in value for c in "\r\n\x00"):
            raise GeneratorError(f"invalid value for metadata {name!r}: a one-line string is required")
        cleaned[lower] = value
    if sum(len(k.encode()) + len(v.encode()) for k, v in cleaned.items()) > MAX_METADATA_BYTES:
        raise GeneratorError(f"user metadata exceeds {MAX_METADATA_BYTES} bytes")
    return cleaned


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

    def create_bucket(self, bucket: str) -> None:
        """Create the bucket's directory and the store's files in it; no-op when it exists."""
        bdir = self._bucket_dir(bucket)
        try:
            os.makedirs(os.path.join(bdir, INTERNAL_DIR, "tmp"), exist_ok=True)
            os.close(os.open(os.path.join(bdir, INTERNAL_DIR, "lock"), os.O_RDWR | os.O_CREAT, 0o644))
        except OSError as exc:
            raise GeneratorError(f"cannot create bucket directory {bdir}: {exc.strerror}") from None

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
        shutil.rmtree(bdir)

    # -- objects -------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, bdir: str, exclusive: bool) -> Iterator[None]:
        path = os.path.join(bdir, INTERNAL_DIR, "lock")
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

    @staticmethod
    def _paths(bdir: str, segments: list[str]) -> tuple[str, str]:
        """(body path, committed metadata path) of a key."""
        body = os.path.join(bdir, *segments)
        meta = os.path.join(bdir, INTERNAL_DIR, "meta", *segments) + ".meta"
        return body, meta

    @staticmethod
    def _pending(meta_path: str, inode: int) -> str:
        return f"{meta_path[:-len('.meta')]}.{inode}.pending"

    def put(self, bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> None:
        """Write an object and its metadata atomically (both new, or both as before)."""
        bdir = self._existing_bucket_dir(bucket)
        segments = check_key(key)
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise GeneratorError(f"cannot store {key!r}: the body must be bytes, not {type(body).__name__}")
        record = {"metadata": clean_metadata(metadata), "etag": hashlib.md5(body).hexdigest()}
        tmpdir = os.path.join(bdir, INTERNAL_DIR, "tmp")
        os.makedirs(tmpdir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=tmpdir, prefix="body-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
                record["identity"] = _identity(os.fstat(fh.fileno()))
            self._commit(bdir, key, segments, tmp, record)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _commit(self, bdir: str, key: str, segments: list[str], tmp: str, record: dict) -> None:
        body_path, meta_path = self._paths(bdir, segments)
        if not record["metadata"]:
            self._commit_plain(bdir, key, tmp, body_path, meta_path)
            return
        pending = self._pending(meta_path, record["identity"][0])
        with self._locked(bdir, exclusive=True):
            try:
                os.makedirs(os.path.dirname(body_path), exist_ok=True)
                os.makedirs(os.path.dirname(meta_path), exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise GeneratorError(f"cannot store {key!r}: a parent path is already an object") from None
            with open(pending, "wb") as fh:
                fh.write(json.dumps(record, separators=(",", ":")).encode())
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
            if self.fsync:
                _fsync_dir(os.path.dirname(meta_path))
            try:
                os.replace(tmp, body_path)
            except IsADirectoryError:
                os.unlink(pending)
                raise GeneratorError(f"cannot store {key!r}: keys exist below it ({key}/...)") from None
            if self.fsync:
                _fsync_dir(os.path.dirname(body_path))
            os.replace(pending, meta_path)
            if self.fsync:
                _fsync_dir(os.path.dirname(meta_path))

    def _commit_plain(self, bdir: str, key: str, tmp: str, body_path: str, meta_path: str) -> None:
        """An object without metadata keeps no record (one file fewer to create: reads take its ETag
        from the body); a previous record goes after the body is in place, so a crash in between
        leaves the new body, whose identity that record no longer matches."""
        with self._locked(bdir, exclusive=True):
            try:
                os.makedirs(os.path.dirname(body_path), exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise GeneratorError(f"cannot store {key!r}: a parent path is already an object") from None
            try:
                os.replace(tmp, body_path)
            except IsADirectoryError:
                raise GeneratorError(f"cannot store {key!r}: keys exist below it ({key}/...)") from None
            if self.fsync:
                _fsync_dir(os.path.dirname(body_path))
            try:
                os.unlink(meta_path)
            except (FileNotFoundError, NotADirectoryError):
                pass

    def get(self, bucket: str, key: str) -> StoredObject:
        return self._read(bucket, key, with_body=True)

    def head(self, bucket: str, key: str) -> StoredObject:
        """Metadata, etag, size and last_modified; body is b"" (read only if the identity check fails)."""
        return self._read(bucket, key, with_body=False)

    def _read(self, bucket: str, key: str, with_body: bool) -> StoredObject:
        bdir = self._existing_bucket_dir(bucket)
        body_path, meta_path = self._paths(bdir, check_key(key))
        with self._locked(bdir, exclusive=False):
            try:
                fd = os.open(body_path, os.O_RDONLY)
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise NoSuchKey(f"no such key: s3://{bucket}/{key}") from None
            st = os.fstat(fd)
            record = None
            if stat.S_ISREG(st.st_mode):
                for candidate in (meta_path, self._pending(meta_path, st.st_ino)):
                    record = _load_record(candidate)
                    if record is not None and record.get("identity") == _identity(st):
                        break
                    record = None
        try:
            if not stat.S_ISREG(st.st_mode):
                raise NoSuchKey(f"no such key: s3://{bucket}/{key}")
            data = b""
            if with_body or record is None:
                with os.fdopen(os.dup(fd), "rb") as fh:
                    data = fh.read()
        finally:
            os.close(fd)
        if record is None:
            record = self._record_by_content(meta_path, data)
        return StoredObject(
            body=data if with_body else b"",
            metadata=dict(record["metadata"]),
            last_modified=datetime.fromtimestamp(st.st_mtime_ns / 1e9, tz=timezone.utc),
            etag=record["etag"],
            size=st.st_size,
        )

    @staticmethod
    def _record_by_content(meta_path: str, data: bytes) -> dict:
        """Slow path: the record (committed or pending) whose MD5 matches the body, else no metadata."""
        etag = hashlib.md5(data).hexdigest()
        meta_dir, meta_name = os.path.split(meta_path)
        stem = meta_name[: -len(".meta")] + "."
        try:
            names = [n for n in os.listdir(meta_dir) if n.startswith(stem) and n.endswith(".pending")]
        except OSError:
            names = []
        for candidate in [meta_path, *(os.path.join(meta_dir, n) for n in sorted(names))]:
            record = _load_record(candidate)
            if record is not None and record["etag"] == etag and record["identity"][1] == len(data):
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
            self._prune(os.path.dirname(meta_path), os.path.join(bdir, INTERNAL_DIR, "meta"))

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
        """Keys starting with `prefix` and greater than `start_after`, in ascending UTF-8 byte order.

        Only the directory the prefix names is read (``AWSLogs/1/CloudTrail/us-east-1/2024/01/``
        opens just that folder), and subtrees wholly at or before `start_after` are skipped.
        """
        bdir = self._existing_bucket_dir(bucket)
        head, sep, tail = prefix.encode("utf-8").rpartition(b"/")
        if head and any(s in (b"", b".", b"..") for s in head.split(b"/")):
            return iter(())
        if head.split(b"/")[0] == INTERNAL_DIR.encode():
            return iter(())
        start = os.path.join(os.fsencode(bdir), head) if head else os.fsencode(bdir)
        return self._walk(start, head + sep, tail, start_after.encode("utf-8"), top=not head)

    def _walk(self, directory: bytes, base: bytes, name_prefix: bytes, after: bytes, top: bool) -> Iterator[str]:
        try:
            scan = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return
        with scan:
            entries = []
            for entry in scan:
                name = entry.name
                if not name.startswith(name_prefix) or (top and name == INTERNAL_DIR.encode()):
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                if is_dir or entry.is_file():
                    entries.append((name + b"/" if is_dir else name, entry.path, is_dir))
        entries.sort(key=lambda item: item[0])
        for sort_name, path, is_dir in entries:
            key = base + sort_name
            if is_dir:
                if after >= key and not after.startswith(key):
                    continue  # every key below sorts at or before start_after
                yield from self._walk(path, key, b"", after, top=False)
            elif key > after and b"\\" not in key:
                try:
                    yield key.decode("utf-8")
                except UnicodeDecodeError:
                    continue  # a foreign file name that is no S3 key


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


class S3Store:
    """Any S3 endpoint through boto3: path-style addressing, short timeouts, few retries."""

    def __init__(self, endpoint_url: str | None = None, region: str | None = None,
                 credentials: Credentials | None = None):
        config = Config(
            s3={"addressing_style": "path"},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        )
        session = boto3.session.Session(
            aws_access_key_id=credentials.access_key_id if credentials else None,
            aws_secret_access_key=credentials.secret_access_key if credentials else None,
            aws_session_token=credentials.session_token if credentials else None,
            region_name=region,
        )
        try:
            self._client = session.client("s3", endpoint_url=endpoint_url, config=config)
        except ValueError as exc:
            raise GeneratorError(f"invalid S3 endpoint {endpoint_url!r}: {exc}") from None
        self.endpoint_url: str = self._client.meta.endpoint_url
        self.region: str = self._client.meta.region_name

    @contextmanager
    def _translate(self, bucket: str | None = None, key: str | None = None) -> Iterator[None]:
        """Turn botocore failures into one-line GeneratorErrors."""
        where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}" if bucket else self.endpoint_url
        try:
            yield
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code == "NoSuchBucket":
                raise NoSuchBucket(f"no such bucket: {bucket}") from None
            if code in ("NoSuchKey", "404") and key is not None:
                raise NoSuchKey(f"no such key: {where}") from None
            if code == "BucketNotEmpty":
                raise BucketNotEmpty(f"bucket {bucket} is not empty") from None
            message = error.get("Message") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise GeneratorError(f"S3 request for {where} failed: {code}: {message}") from None
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as exc:
            raise GeneratorError(f"cannot reach S3 endpoint {self.endpoint_url}: {exc}") from None
        except botocore.exceptions.NoCredentialsError:
            raise GeneratorError(
                f"no AWS credentials for S3 endpoint {self.endpoint_url}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (any values for a local endpoint)") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise GeneratorError(f"S3 request for {where} failed: {exc}") from None

    def bucket_policy(self, bucket: str) -> str | None:
        """The bucket's policy document, or None when it has none."""
        try:
            with self._translate(bucket):
                return self._client.get_bucket_policy(Bucket=bucket)["Policy"]
        except GeneratorError as exc:
            if "NoSuchBucketPolicy" in str(exc):
                return None
            raise

    def create_bucket(self, bucket: str) -> None:
        check_bucket_name(bucket)
        kwargs: dict = {"Bucket": bucket}
        if self.region and self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with self._translate(bucket):
            try:
                self._client.create_bucket(**kwargs)
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise

    def bucket_exists(self, bucket: str) -> bool:
        with self._translate(bucket):
            try:
                self._client.head_bucket(Bucket=bucket)
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
                    return False
                raise
        return True

    def list_buckets(self) -> list[str]:
        with self._translate():
            return sorted(b["Name"] for b in self._client.list_buckets().get("Buckets", []))

    def delete_bucket(self, bucket: str) -> None:
        with self._translate(bucket):
            self._client.delete_bucket(Bucket=bucket)

    def put(self, bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> None:
        with self._translate(bucket, key):
            self._client.put_object(Bucket=bucket, Key=key, Body=body, Metadata=clean_metadata(metadata))

    def get(self, bucket: str, key: str) -> StoredObject:
        with self._translate(bucket, key):
            response = self._client.get_object(Bucket=bucket, Key=key)
            body = response["Body"].read()
        return self._stored(response, body)

    def head(self, bucket: str, key: str) -> StoredObject:
        with self._translate(bucket, key):
            response = self._client.head_object(Bucket=bucket, Key=key)
        return self._stored(response, b"")

    @staticmethod
    def _stored(response: dict, body: bytes) -> StoredObject:
        return StoredObject(
            body=body,
            metadata={k.lower(): v for k, v in response.get("Metadata", {}).items()},
            last_modified=response["LastModified"].astimezone(timezone.utc),
            etag=response["ETag"].strip('"'),
            size=int(response["ContentLength"]),
        )

    def delete(self, bucket: str, key: str) -> None:
        with self._translate(bucket, key):
            self._client.delete_object(Bucket=bucket, Key=key)

    def list(self, bucket: str, prefix: str = "", start_after: str = "") -> Iterator[str]:
        """Keys in S3's order (ascending UTF-8 bytes), page by page (ListObjectsV2)."""
        paginator = self._client.get_paginator("list_objects_v2")
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        with self._translate(bucket):
            for page in paginator.paginate(**kwargs):
                for item in page.get("Contents", []):
                    yield item["Key"]


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


def open_target(target: str, *, data_dir: Path, endpoint_url: str | None = None,
                bucket: str | None = None, fsync: bool = True) -> tuple[ObjectStore, str, str]:
    """(store, bucket, key prefix) for `s3://bucket[/prefix]` or a local output directory.

    `fsync=False` gives a local store that stays atomic but skips the fsyncs: a killed writer still
    leaves whole objects, only a power loss could lose recent ones (bulk generation uses it).

    `s3://` goes to the endpoint at `endpoint_url`, or without one to the embedded store in
    `<data_dir>/s3/` (the bucket is created when missing). Any other target is a directory that
    receives the objects as plain files (`<dir>/<key>`), for the bucket named `bucket`
    (default cloudtrail-emulator-logs). Unwritable directories fail before anything is written.
    """
    if "://" in target:
        scheme, _, rest = target.partition("://")
        if scheme != "s3":
            raise GeneratorError(f"unsupported target {target!r}: use s3://bucket[/prefix] or a directory")
        name, _, prefix = rest.partition("/")
        check_bucket_name(name)
        prefix = prefix.strip("/")
        if prefix:
            check_key(prefix)
        if endpoint_url:
            s3 = S3Store(endpoint_url)
            if not s3.bucket_exists(name):
                raise GeneratorError(f"bucket {name} does not exist at S3 endpoint {s3.endpoint_url}")
            return s3, name, prefix
        root = Path(data_dir) / "s3"
        _ensure_writable_dir(root)
        local = LocalStore(root, fsync=fsync)
        if not local.bucket_exists(name):
            local.create_bucket(name)
        return local, name, prefix
    if not target:
        raise GeneratorError("empty target: give s3://bucket[/prefix] or a directory")
    name = bucket or DEFAULT_BUCKET
    check_bucket_name(name)
    path = Path(target).expanduser()
    _ensure_writable_dir(path)
    store = LocalStore.directory(path, name, fsync=fsync)
    store.create_bucket(name)
    return store, name, ""


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
