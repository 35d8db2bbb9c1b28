"""Thin JSON 1.1 layer: parsed CloudTrail input -> model calls -> output dicts (botocore shapes)."""
from __future__ import annotations

from datetime import timedelta

from cloudtrail_emulator.emulator.protocols.json11 import Handler, RequestContext
from cloudtrail_emulator.emulator.services.cloudtrail.exceptions import (
    InvalidParameterCombinationException,
    InvalidTimeRangeException,
    TrailNotProvidedException,
)
from cloudtrail_emulator.emulator.services.cloudtrail.models import CloudTrailBackend, Trail, TrailSettings
from cloudtrail_emulator.emulator.config import Clock
from cloudtrail_emulator.generators.times import format_time

# Which modelled error a failed shape constraint becomes, per operation and top-level member
# (InvalidParameterException otherwise).
VALIDATION_ERRORS: dict[str, dict[str, str]] = {
    "LookupEvents": {"MaxResults": "InvalidMaxResultsException",
                     "EventCategory": "InvalidEventCategoryException",
                     "LookupAttributes": "InvalidLookupAttributesException"},
    "PutEventSelectors": {"EventSelectors": "InvalidEventSelectorsException",
                          "AdvancedEventSelectors": "InvalidEventSelectorsException"},
    "PutInsightSelectors": {"InsightSelectors": "InvalidInsightSelectorsException"},
    "AddTags": {"TagsList": "InvalidTagParameterException"},
    "RemoveTags": {"TagsList": "InvalidTagParameterException"},
    "CreateTrail": {"TagsList": "InvalidTagParameterException"},
}


def trail_shape(trail: Trail) -> dict:
    """A `Trail` structure as DescribeTrails/GetTrail return it."""
    return {
        "Name": trail.name,
        "S3BucketName": trail.s3_bucket,
        "S3KeyPrefix": trail.s3_prefix,
        "SnsTopicName": trail.sns_topic_arn.rsplit(":", 1)[1] if trail.sns_topic_arn else None,
        "SnsTopicARN": trail.sns_topic_arn,
        "IncludeGlobalServiceEvents": trail.include_global_service_events,
        "IsMultiRegionTrail": trail.is_multi_region,
        "HomeRegion": trail.home_region,
        "TrailARN": trail.arn,
        "LogFileValidationEnabled": trail.log_file_validation,
        "CloudWatchLogsLogGroupArn": trail.cloudwatch_log_group_arn,
        "CloudWatchLogsRoleArn": trail.cloudwatch_role_arn,
        "KmsKeyId": trail.kms_key_id,
        "HasCustomEventSelectors": trail.custom_event_selectors,
        "HasInsightSelectors": bool(trail.insight_selectors),
        "IsOrganizationTrail": trail.is_organization,
    }


def _write_shape(trail: Trail) -> dict:
    """CreateTrail/UpdateTrail output: the trail minus HomeRegion and the selector flags."""
    shape = trail_shape(trail)
    for key in ("HomeRegion", "HasCustomEventSelectors", "HasInsightSelectors"):
        shape.pop(key)
    return shape


def _settings(p: dict) -> TrailSettings:
    return TrailSettings(
        s3_bucket=p.get("S3BucketName"), s3_prefix=p.get("S3KeyPrefix"), sns_topic=p.get("SnsTopicName"),
        include_global_service_events=p.get("IncludeGlobalServiceEvents"),
        is_multi_region=p.get("IsMultiRegionTrail"), log_file_validation=p.get("EnableLogFileValidation"),
        cloudwatch_log_group_arn=p.get("CloudWatchLogsLogGroupArn"),
        cloudwatch_role_arn=p.get("CloudWatchLogsRoleArn"), kms_key_id=p.get("KmsKeyId"),
        is_organization=p.get("IsOrganizationTrail"),
    )


def _iso(at) -> str | None:
    return format_time(at) if at else None


def _trail_name(p: dict, member: str) -> str:
    name = p.get(member)
    if not name:
        raise TrailNotProvidedException("A trail name or ARN is required.")
    return name


class CloudTrailResponses:
    """One method per implemented operation; `handlers()` gives them to the JSON service."""

    def __init__(self, backend: CloudTrailBackend, keyring, clock: Clock):
        self.backend = backend
        self.keyring = keyring
        self.clock = clock

    def handlers(self) -> dict[str, Handler]:
        names = ("CreateTrail", "UpdateTrail", "DeleteTrail", "DescribeTrails", "GetTrail",
                 "GetTrailStatus", "ListTrails", "StartLogging", "StopLogging", "PutEventSelectors",
                 "GetEventSelectors", "PutInsightSelectors", "GetInsightSelectors", "AddTags",
                 "RemoveTags", "ListTags", "ListPublicKeys")
        return {name: getattr(self, name) for name in names}

    def CreateTrail(self, ctx: RequestContext, p: dict) -> dict:
        trail = self.backend.create_trail(ctx.account_id, ctx.region, p["Name"], _settings(p),
                                          p.get("TagsList"))
        return _write_shape(trail)

    def UpdateTrail(self, ctx: RequestContext, p: dict) -> dict:
        trail = self.backend.update_trail(ctx.account_id, ctx.region, _trail_name(p, "Name"), _settings(p))
        return _write_shape(trail)

    def DeleteTrail(self, ctx: RequestContext, p: dict) -> dict:
        self.backend.delete_trail(ctx.account_id, ctx.region, _trail_name(p, "Name"))
        return {}

    def DescribeTrails(self, ctx: RequestContext, p: dict) -> dict:
        trails = self.backend.describe_trails(ctx.account_id, ctx.region, p.get("trailNameList"),
                                              p.get("includeShadowTrails", True))
        return {"trailList": [trail_shape(t) for t in trails]}

    def GetTrail(self, ctx: RequestContext, p: dict) -> dict:
        trail = self.backend.get_trail(ctx.account_id, ctx.region, _trail_name(p, "Name"), as_given=True)
        return {"Trail": trail_shape(trail)}

    def GetTrailStatus(self, ctx: RequestContext, p: dict) -> dict:
        s = self.backend.get_trail(ctx.account_id, ctx.region, _trail_name(p, "Name")).status
        return {
            "IsLogging": s.is_logging,
            "LatestDeliveryError": s.latest_delivery_error,
            "LatestNotificationError": s.latest_notification_error,
            "LatestDeliveryTime": s.latest_delivery_time,
            "LatestNotificationTime": s.latest_notification_time,
            "StartLoggingTime": s.start_logging_time,
            "StopLoggingTime": s.stop_logging_time,
            "LatestDigestDeliveryTime": s.latest_digest_delivery_time,
            "LatestDigestDeliveryError": s.latest_digest_delivery_error,
            "LatestDeliveryAttemptTime": _iso(s.latest_delivery_attempt_time),
            "LatestDeliveryAttemptSucceeded": _iso(s.latest_delivery_time),
            "LatestNotificationAttemptTime": _iso(s.latest_notification_time),
            "LatestNotificationAttemptSucceeded": _iso(s.latest_notification_time),
            "TimeLoggingStarted": _iso(s.start_logging_time),
            "TimeLoggingStopped": _iso(s.stop_logging_time),
        }

    def ListTrails(self, ctx: RequestContext, p: dict) -> dict:
        trails, token = self.backend.list_trails(ctx.account_id, p.get("NextToken"))
        return {"Trails": [{"TrailARN": t.arn, "Name": t.name, "HomeRegion": t.home_region}
                           for t in trails], "NextToken": token}

    def StartLogging(self, ctx: RequestContext, p: dict) -> dict:
        self.backend.start_logging(ctx.account_id, ctx.region, _trail_name(p, "Name"))
        return {}

    def StopLogging(self, ctx: RequestContext, p: dict) -> dict:
        self.backend.stop_logging(ctx.account_id, ctx.region, _trail_name(p, "Name"))
        return {}

    def PutEventSelectors(self, ctx: RequestContext, p: dict) -> dict:
        trail = self.backend.put_event_selectors(ctx.account_id, ctx.region, _trail_name(p, "TrailName"),
                                                 p.get("EventSelectors"), p.get("AdvancedEventSelectors"))
        return {"TrailARN": trail.arn, "EventSelectors": trail.event_selectors,
                "AdvancedEventSelectors": trail.advanced_event_selectors}

    def GetEventSelectors(self, ctx: RequestContext, p: dict) -> dict:
        trail = self.backend.get_event_selectors(ctx.account_id, ctx.region, _trail_name(p, "TrailName"))
        return {"TrailARN": trail.arn, "EventSelectors": trail.event_selectors,
                "AdvancedEventSelectors": trail.advanced_event_selectors}

    def _insight_trail_name(self, p: dict) -> str:
        if p.get("EventDataStore"):
            raise InvalidParameterCombinationException(
                "Event data stores are not supported by cloudtrail-emulator; specify TrailName.")
        return _trail_name(p, "TrailName")

    def PutInsightSelectors(self, ctx: RequestContext, p: dict) -> dict:
        trail = self.backend.put_insight_selectors(ctx.account_id, ctx.region, self._insight_trail_name(p),
                                                   p["InsightSelectors"])
        return {"TrailARN": trail.arn, "InsightSelectors": trail.insight_selectors}

    def GetInsightSelectors(self, ctx: RequestContext, p: dict) -> dict:
        trail = self.backend.get_insight_selectors(ctx.account_id, ctx.region, self._insight_trail_name(p))
        return {"TrailARN": trail.arn, "InsightSelectors": trail.insight_selectors}

    def AddTags(self, ctx: RequestContext, p: dict) -> dict:
        self.backend.add_tags(ctx.account_id, p["ResourceId"], p["TagsList"])
        return {}

    def RemoveTags(self, ctx: RequestContext, p: dict) -> dict:
        self.backend.remove_tags(ctx.account_id, p["ResourceId"], p["TagsList"])
        return {}

    def ListTags(self, ctx: RequestContext, p: dict) -> dict:
        found = self.backend.list_tags(ctx.account_id, p["ResourceIdList"])
        return {"ResourceTagList": [
            {"ResourceId": arn, "TagsList": [{"Key": k, "Value": val} for k, val in tags.items()]}
            for arn, tags in found]}

    def ListPublicKeys(self, ctx: RequestContext, p: dict) -> dict:
        """Every key of the region whose validity overlaps [StartTime, EndTime] (default: now)."""
        now = self.clock.now()
        end = p.get("EndTime") or now
        start = p.get("StartTime") or min(end, now)
        if start > end:
            raise InvalidTimeRangeException()
        if start <= now <= end + timedelta(seconds=1):
            self.keyring.key_for(ctx.region, now)      # AWS always has a current key
        keys = self.keyring.public_keys(start, end, ctx.region)
        # Value is the PKCS#1 DER, base64 once on the wire (a blob). The AWS CLI leaves blobs undecoded,
        # which is why validate-logs base64-decodes Value itself.
        return {"PublicKeyList": [{"Value": k.public_der, "ValidityStartTime": k.valid_from,
                                   "ValidityEndTime": k.valid_to, "Fingerprint": k.fingerprint}
                                  for k in keys]}
