"""Small interfaces the CloudTrail model asks other parts (S3, SNS, delivery) through."""
from __future__ import annotations

from typing import Protocol


class BucketDirectory(Protocol):
    """What CloudTrail needs from the S3 side: does a bucket exist, and what is its policy."""

    def bucket_exists(self, name: str) -> bool: ...

    def bucket_policy(self, name: str) -> str | None: ...


class TopicDirectory(Protocol):
    """What CloudTrail needs from the SNS side."""

    def topic_exists(self, arn: str) -> bool: ...


class NoTopics:
    """The SNS seam until an SNS endpoint exists: no topic exists."""

    def topic_exists(self, arn: str) -> bool:
        return False


class StoreBuckets:
    """Buckets of an ObjectStore; policies from `policies` (the S3 side's state) when it has one."""

    def __init__(self, store, policies: BucketDirectory | None = None):
        self._store = store
        self._policies = policies

    def bucket_exists(self, name: str) -> bool:
        return self._store.bucket_exists(name)

    def bucket_policy(self, name: str) -> str | None:
        return None if self._policies is None else self._policies.bucket_policy(name)
