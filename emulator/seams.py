"""Small interfaces the CloudTrail model asks other parts (S3, SNS, delivery) through."""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from cloudtrail_emulator.emulator.services.cloudtrail.exceptions import S3BucketDoesNotExistException
from cloudtrail_emulator.generators.errors import GeneratorError

T = TypeVar("T")


class BucketDirectory(Protocol):
    """What CloudTrail needs from the S3 side: does a bucket exist, and what is its policy."""

    def bucket_exists(self, name: str) -> bool: ...

    def bucket_policy(self, name: str) -> str | None: ...


class TopicDirectory(Protocol):
    """What CloudTrail needs from the SNS side."""

    def topic_exists(self, arn: str) -> bool: ...


class StoreBuckets:
    """Buckets of an ObjectStore; policies from `policy_of` (the S3 side's state) when there is one."""

    def __init__(self, store, policy_of: Callable[[str], str | None] | None = None):
        self._store = store
        self._policy_of = policy_of

    def bucket_exists(self, name: str) -> bool:
        return self._reachable(name, lambda: self._store.bucket_exists(name))

    def bucket_policy(self, name: str) -> str | None:
        return None if self._policy_of is None else self._reachable(name, lambda: self._policy_of(name))

    @staticmethod
    def _reachable(name: str, ask: Callable[[], T]) -> T:
        """The answer of a store, or the CloudTrail error a bucket it cannot reach gets (an outside S3
        endpoint that is down), never an internal failure."""
        try:
            return ask()
        except GeneratorError as exc:
            raise S3BucketDoesNotExistException(f"S3 bucket {name} cannot be checked: {exc}") from None
