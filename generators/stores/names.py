"""S3's rules for bucket names, object keys and user metadata, as the stores enforce them."""
from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores.base import InvalidBucketName

DEFAULT_BUCKET = "cloudtrail-emulator-logs"  # the bucket a local output directory stands for
INTERNAL_DIR = ".ctemu"  # LocalStore's own files: the sidecar's suffix; inside a bucket (older trees) a reserved prefix
MAX_KEY_BYTES = 1024
MAX_LAST_SEGMENT_BYTES = 200  # leaves room for ".<inode>.pending" within NAME_MAX (255)
MAX_SEGMENT_BYTES = 255
MAX_METADATA_BYTES = 2048  # S3's limit on user metadata (names + values)

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_META_NAME_RE = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")


def sidecar_dir(bucket_dir: str | os.PathLike) -> str:
    """Where LocalStore keeps a bucket directory's metadata, temp files and lock: the hidden sibling
    ``.<name>.ctemu`` beside it (``./trail`` -> ``./.trail.ctemu``), so the bucket directory holds
    only the objects."""
    path = os.path.abspath(bucket_dir)
    parent, name = os.path.split(path)
    if not name:
        raise GeneratorError(f"cannot use {path} as a bucket directory: it has no parent to keep metadata in")
    return os.path.join(parent, f".{name}{INTERNAL_DIR}")


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
