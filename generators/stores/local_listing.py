"""Listing the keys of a LocalStore bucket directory: only the folder a prefix names is read, in S3's
order (ascending UTF-8 bytes), skipping the subtrees that sort at or before `start_after`."""
from __future__ import annotations

import errno
import os
from collections.abc import Iterator

from cloudtrail_emulator.generators.stores.names import INTERNAL_DIR, MAX_SEGMENT_BYTES


def list_keys(bdir: str, prefix: str, start_after: str) -> Iterator[str]:
    """Keys under `bdir` starting with `prefix` and greater than `start_after`; a prefix no file can
    match (a NUL, a segment longer than a file name, `.`/`..` folders) lists nothing."""
    head, sep, tail = prefix.encode("utf-8", "surrogatepass").rpartition(b"/")
    segments = head.split(b"/") if head else []
    if b"\x00" in head or any(s in (b"", b".", b"..") or len(s) > MAX_SEGMENT_BYTES for s in segments):
        return iter(())
    if segments and segments[0] == INTERNAL_DIR.encode():
        return iter(())
    start = os.path.join(os.fsencode(bdir), head) if head else os.fsencode(bdir)
    return _walk(start, head + sep, tail, start_after.encode("utf-8", "surrogatepass"), top=not head)


def _walk(directory: bytes, base: bytes, name_prefix: bytes, after: bytes, top: bool) -> Iterator[str]:
    try:
        scan = os.scandir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return
        raise
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
            yield from _walk(path, key, b"", after, top=False)
        elif key > after and b"\\" not in key:
            try:
                yield key.decode("utf-8")
            except UnicodeDecodeError:
                continue  # a foreign file name that is no S3 key
