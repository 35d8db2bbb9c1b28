"""CloudTrail trails: state and rules, plain Python (no HTTP). Moto-style model layer.

`trail` (Trail, TrailStatus, TrailChange), `settings` (TrailSettings and the rules that check them),
`backend` (CloudTrailBackend: every trail, its lifecycle, reads, logging, selectors, tags),
`persistence` (the state file).
"""
from __future__ import annotations

from cloudtrail_emulator.emulator.services.cloudtrail.models.backend import (
    MAX_TAGS,
    MAX_TRAILS_PER_REGION,
    CloudTrailBackend,
)
from cloudtrail_emulator.emulator.services.cloudtrail.models.settings import TrailSettings
from cloudtrail_emulator.emulator.services.cloudtrail.models.trail import Trail, TrailChange, TrailListener, TrailStatus

__all__ = ["MAX_TAGS", "MAX_TRAILS_PER_REGION", "CloudTrailBackend", "Trail", "TrailChange", "TrailListener",
           "TrailSettings", "TrailStatus"]
