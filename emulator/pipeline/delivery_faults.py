"""What live delivery does when it cannot write: the trail status shows it, the scheduler retries.

A log file or digest that the bucket refuses (NoSuchBucket...) is a per-trail error (see delivery.py).
A data dir that cannot be written (read-only, disk full: an `OSError` from the object store or a state
file) stops the whole run: nothing after the failed write happens, so the delivery state on disk
never lags an object in the bucket, and the next run (retried every `RETRY_AFTER_OS_ERROR`) picks up
where the last one stopped; once the data dir writes again every pending event is delivered once.
Meanwhile each following trail's GetTrailStatus shows `LatestDeliveryError` `InternalError` (the
code S3 answers when it cannot store an object), and the server log has one line when delivery stops and one when it
resumes.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from cloudtrail_emulator.emulator.services.cloudtrail.models import CloudTrailBackend
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores import NoSuchBucket, NoSuchKey

log = logging.getLogger(__name__)
RETRY_AFTER_OS_ERROR = timedelta(milliseconds=500)
#: LatestDeliveryError while the data dir cannot be written: S3's code for an object it cannot store
DATA_DIR_ERROR = "InternalError"


def status_error(exc: GeneratorError | OSError) -> str:
    """A failed write as GetTrailStatus shows it: the S3 error code where the store names one (AWS
    shows S3's error, e.g. NoSuchBucket), `InternalError` for a data dir that cannot be written,
    else the store's message."""
    if isinstance(exc, OSError):
        return DATA_DIR_ERROR
    return type(exc).__name__ if isinstance(exc, (NoSuchBucket, NoSuchKey)) else str(exc)


class WriteFaults:
    """Whether delivery's last run stopped on an OSError; reports the failure and the recovery."""

    def __init__(self, backend: CloudTrailBackend):
        self.backend = backend
        self.failing: str | None = None       # the OSError text while delivery cannot write

    def failed(self, exc: OSError, trails: Iterable[str], at: datetime) -> None:
        """A run stopped on `exc`: every followed trail's status shows the error."""
        if self.failing is None:
            log.warning("delivery cannot write the data dir, retrying: %s", exc)
        self.failing = str(exc)
        for arn in trails:
            try:
                self.backend.record_delivery(arn, at, error=status_error(exc))
            except OSError:       # kept in memory; the trails' state file is saved with a later change
                pass

    def succeeded(self) -> None:
        if self.failing is not None:
            log.info("delivery writes again (it failed with: %s)", self.failing)
            self.failing = None
