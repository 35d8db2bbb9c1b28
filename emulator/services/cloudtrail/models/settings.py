"""TrailSettings (CreateTrail/UpdateTrail arguments) and the rules that check them and set them on a trail."""
from __future__ import annotations

from dataclasses import dataclass

from cloudtrail_emulator.emulator.seams import BucketDirectory, TopicDirectory
from cloudtrail_emulator.emulator.services.cloudtrail import validation as v
from cloudtrail_emulator.emulator.services.cloudtrail.bucket_policy import policy_allows_cloudtrail
from cloudtrail_emulator.emulator.services.cloudtrail.exceptions import (
    InsufficientS3BucketPolicyException,
    InsufficientSnsTopicPolicyException,
    InvalidParameterCombinationException,
    NotOrganizationMasterAccountException,
    S3BucketDoesNotExistException,
)
from cloudtrail_emulator.emulator.services.cloudtrail.models.trail import Trail


@dataclass(frozen=True)
class TrailSettings:
    """CreateTrail/UpdateTrail arguments; None means "not given" (UpdateTrail keeps the old value)."""

    s3_bucket: str | None = None
    s3_prefix: str | None = None
    sns_topic: str | None = None
    include_global_service_events: bool | None = None
    is_multi_region: bool | None = None
    log_file_validation: bool | None = None
    cloudwatch_log_group_arn: str | None = None
    cloudwatch_role_arn: str | None = None
    kms_key_id: str | None = None
    is_organization: bool | None = None


class SettingsRules:
    """Checks settings against the trail they would give, the buckets, the topics and the organization."""

    def __init__(self, *, buckets: BucketDirectory, topics: TopicDirectory, management_account: str,
                 organization_id: str, relax_bucket_policy: bool = False):
        self._buckets = buckets
        self._topics = topics
        self.management_account = management_account
        self.organization_id = organization_id
        self._relax_bucket_policy = relax_bucket_policy

    def apply(self, trail: Trail, s: TrailSettings, *, creating: bool) -> None:
        """Validate settings against the trail they would produce, then set them on `trail`."""
        account, region = trail.account_id, trail.home_region
        if s.s3_bucket is not None:
            trail.s3_bucket = v.check_bucket_name(s.s3_bucket)
        if s.s3_prefix is not None:
            trail.s3_prefix = v.check_prefix(s.s3_prefix) or None
        for name in ("include_global_service_events", "is_multi_region", "log_file_validation",
                     "is_organization"):
            if getattr(s, name) is not None:
                setattr(trail, name, getattr(s, name))
        if trail.is_multi_region and not trail.include_global_service_events:
            raise InvalidParameterCombinationException(
                "Multi-Region trail must include global service events.")
        if trail.is_organization and account != self.management_account:
            raise self.not_management(account)
        if s.kms_key_id is not None:
            trail.kms_key_id = (v.kms_key_arn(v.check_kms_key_id(s.kms_key_id), region, account)
                                if s.kms_key_id else None)
        if s.cloudwatch_log_group_arn is not None or s.cloudwatch_role_arn is not None:
            group = s.cloudwatch_log_group_arn if s.cloudwatch_log_group_arn is not None \
                else trail.cloudwatch_log_group_arn
            role = s.cloudwatch_role_arn if s.cloudwatch_role_arn is not None else trail.cloudwatch_role_arn
            v.check_cloudwatch(group or None, role or None)
            trail.cloudwatch_log_group_arn, trail.cloudwatch_role_arn = group or None, role or None
        if s.sns_topic is not None:
            trail.sns_topic_arn = self._checked_topic(s.sns_topic, region, account) if s.sns_topic else None
        if creating or s.s3_bucket is not None or s.s3_prefix is not None or s.is_organization:
            self._check_bucket(trail)

    def not_management(self, account: str) -> NotOrganizationMasterAccountException:
        """A member account tried to make or change an organization trail."""
        return NotOrganizationMasterAccountException(
            f"The request was made by account {account}, which is not the management account "
            f"of organization {self.organization_id}.")

    def _checked_topic(self, topic: str, region: str, account: str) -> str:
        arn = v.topic_arn(topic, region, account)
        if not self._topics.topic_exists(arn):
            raise InsufficientSnsTopicPolicyException("SNS Topic does not exist or the topic policy is incorrect!")
        return arn

    def _check_bucket(self, trail: Trail) -> None:
        if not self._buckets.bucket_exists(trail.s3_bucket):
            raise S3BucketDoesNotExistException(f"S3 bucket {trail.s3_bucket} does not exist!")
        if self._relax_bucket_policy:
            return
        org = self.organization_id if trail.is_organization else None
        if not policy_allows_cloudtrail(self._buckets.bucket_policy(trail.s3_bucket), trail.s3_bucket,
                                        trail.s3_prefix, trail.account_id, org):
            raise InsufficientS3BucketPolicyException(
                f"Incorrect S3 bucket policy is detected for bucket: {trail.s3_bucket}")
