"""TrailSnapshot: frozen, and its JSON (selectors in the CloudTrail API's shape) reads back equal."""
from __future__ import annotations

import dataclasses
import json

import pytest

from cloudtrail_emulator.emulator.pipeline.trail_snapshot import TrailSnapshot
from cloudtrail_emulator.emulator.services.cloudtrail.models import Trail

ADVANCED = [{"Name": "writes to logs/", "FieldSelectors": [
    {"Field": "eventCategory", "Equals": ["Data"]},
    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::b/logs/"], "NotEndsWith": [".tmp"]}]}]
BASIC = [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
          "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::b/"]}],
          "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]


@pytest.mark.parametrize("selectors", [{"advanced_event_selectors": ADVANCED, "event_selectors": None},
                                       {"event_selectors": BASIC}])
def test_json_round_trip_and_api_shape(selectors):
    trail = Trail(name="t", account_id="123456789012", home_region="eu-west-1", s3_bucket="b",
                  s3_prefix="p", sns_topic_arn="arn:aws:sns:eu-west-1:123456789012:topic",
                  is_multi_region=True, log_file_validation=True, is_organization=True,
                  insight_selectors=[{"InsightType": "ApiCallRateInsight"}], **selectors)
    snapshot = TrailSnapshot.of(trail, "o-abcdefghij")
    data = json.loads(json.dumps(snapshot.to_json()))
    assert TrailSnapshot.from_json(data) == snapshot
    assert snapshot.arn == "arn:aws:cloudtrail:eu-west-1:123456789012:trail/t"
    assert snapshot.destination.organization_id == "o-abcdefghij" and snapshot.destination.prefix == "p"
    assert snapshot.insight_types == ("ApiCallRateInsight",)
    if "advanced_event_selectors" in selectors:
        assert data["advanced_event_selectors"] == ADVANCED and data["event_selectors"] is None
    else:
        assert data["event_selectors"] == BASIC and data["advanced_event_selectors"] is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.name = "other"       # type: ignore[misc]
    assert hash(snapshot) == hash(TrailSnapshot.from_json(data))
