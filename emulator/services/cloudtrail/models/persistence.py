"""The trails on disk: CloudTrailBackend's state file (`<data_dir>/state/cloudtrail.json`)."""
from __future__ import annotations

from cloudtrail_emulator.emulator.persistence import JsonStateFile
from cloudtrail_emulator.emulator.services.cloudtrail.models.trail import Trail


def load_trails(state_file: JsonStateFile) -> dict[str, Trail]:
    """The saved trails by ARN; none before the first save."""
    document = state_file.load()
    trails = (Trail.from_json(data) for data in (document or {}).get("trails", []))
    return {trail.arn: trail for trail in trails}


def save_trails(state_file: JsonStateFile, trails: dict[str, Trail]) -> None:
    """Saves every trail, in ARN order."""
    state_file.save({"trails": [t.to_json() for _, t in sorted(trails.items())]})
