"""Publishing a trail: copy every object of a trail, with its S3 user metadata (the digests'
signatures), from one store into another (typically a local directory written by ``generate`` into
any S3 bucket), so that ``aws cloudtrail validate-logs`` accepts the bucket afterwards.

Digests name their own location (``digestS3Bucket``, ``digestS3Object``) and validate-logs rejects a
digest found elsewhere ("has been moved from its original location"), so before anything is written
every digest's recorded location is checked against where it would land; a digest without its
signature metadata (a directory copied without its ``.DIR.ctemu`` sidecar) stops the run too.
Objects keep their keys below the destination prefix; digests go after every other object, as
CloudTrail delivers a digest after the files it lists. ``.json.gz`` objects are written to an S3 endpoint with
``Content-Type: application/json`` and ``Content-Encoding: gzip``.
"""
from __future__ import annotations

import gzip
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores.base import ObjectStore
from cloudtrail_emulator.generators.stores.s3 import S3Store
from cloudtrail_emulator.generators.trail.layout import DIGEST, parse_key

CONTENT_TYPE = "application/json"          # what CloudTrail writes its .json.gz objects with
CONTENT_ENCODING = "gzip"
SIGNATURE_METADATA = ("signature", "signature-algorithm")


@dataclass(frozen=True)
class PublishPlan:
    """What `plan_publish` checked: which source key goes to which destination key."""

    source: ObjectStore
    source_bucket: str
    bucket: str
    targets: dict[str, str]     # source key -> destination key, digests last
    digests: int


@dataclass(frozen=True)
class Published:
    """What `publish` copied."""

    objects: int
    digests: int
    size: int       # bytes of every body copied


def _is_digest(key: str) -> bool:
    return getattr(parse_key(key), "kind", None) == DIGEST


def _check_digest(source: ObjectStore, bucket: str, key: str, relative: str, to_bucket: str, to_key: str) -> None:
    """GeneratorError unless the digest is signed and records `to_bucket`/`to_key` as its location."""
    stored = source.get(bucket, key)
    missing = [name for name in SIGNATURE_METADATA if name not in stored.metadata]
    if missing:
        raise GeneratorError(f"digest {key} has no {' or '.join(missing)} metadata in the source (a directory "
                             "copied without its .<name>.ctemu sidecar?): nothing published")
    try:
        data = json.loads(gzip.decompress(stored.body))
        signed_bucket, signed_key = data["digestS3Bucket"], data["digestS3Object"]
    except (OSError, EOFError, ValueError, KeyError, TypeError):
        raise GeneratorError(f"digest {key} is not a readable digest file: nothing published") from None
    if (signed_bucket, signed_key) != (to_bucket, to_key):
        if signed_key.endswith(relative):
            signed = _location(signed_bucket, signed_key[:-len(relative)])
            wanted = _location(to_bucket, to_key[:-len(relative)])
        else:
            signed, wanted = f"s3://{signed_bucket}/{signed_key}", f"s3://{to_bucket}/{to_key}"
        raise GeneratorError(f"the digests were signed for {signed} (e.g. {key}), not {wanted}, and validate-logs "
                             "rejects a moved digest: publish there, or generate the trail with --bucket and "
                             "--prefix for this destination; nothing published")


def _location(bucket: str, prefix: str) -> str:
    return f"s3://{bucket}/{prefix.strip('/')}" if prefix.strip("/") else f"s3://{bucket}"


def plan_publish(source: ObjectStore, source_bucket: str, source_prefix: str, bucket: str,
                 prefix: str = "") -> PublishPlan:
    """The copy of every object under `source_prefix` to `prefix` of `bucket`, checked before anything
    is written: GeneratorError when there is nothing to copy, or a digest would land where it was
    not signed for, or lacks its signature metadata."""
    source_prefix, prefix = source_prefix.strip("/"), prefix.strip("/")
    keys = list(source.list(source_bucket, f"{source_prefix}/" if source_prefix else ""))
    if not keys:
        raise GeneratorError(f"nothing to publish: no objects in the source{' under ' + source_prefix if source_prefix else ''}")
    digests = [key for key in keys if _is_digest(key)]
    relative = {key: key[len(source_prefix) + 1:] if source_prefix else key for key in keys}
    targets = {key: f"{prefix}/{relative[key]}" if prefix else relative[key]
               for key in [k for k in keys if k not in set(digests)] + digests}
    for key in digests:
        _check_digest(source, source_bucket, key, relative[key], bucket, targets[key])
    return PublishPlan(source, source_bucket, bucket, targets, len(digests))


def publish(plan: PublishPlan, destination: ObjectStore, *, workers: int = 8) -> Published:
    """Copies the plan's objects with their metadata into `destination` (its bucket must exist);
    every other object first, then the digests (CloudTrail delivers a digest after its files)."""
    if not destination.bucket_exists(plan.bucket):
        raise GeneratorError(f"bucket {plan.bucket} does not exist at the destination: create it first")
    headers = isinstance(destination, S3Store)

    def copy(key: str) -> int:
        stored = plan.source.get(plan.source_bucket, key)
        if headers and key.endswith(".json.gz"):
            destination.put(plan.bucket, plan.targets[key], stored.body, stored.metadata,
                            content_type=CONTENT_TYPE, content_encoding=CONTENT_ENCODING)
        else:
            destination.put(plan.bucket, plan.targets[key], stored.body, stored.metadata)
        return len(stored.body)

    keys = list(plan.targets)
    split = len(keys) - plan.digests
    size = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for batch in (keys[:split], keys[split:]):
            size += sum(pool.map(copy, batch))
    return Published(objects=len(keys), digests=plan.digests, size=size)
