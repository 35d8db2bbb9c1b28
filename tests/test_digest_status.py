"""GetTrailStatus of a trail with log-file validation: LatestDigestDeliveryTime once a digest was delivered
(absent before), LatestDigestDeliveryError / LatestDeliveryError with S3's error code when the bucket is
gone, as AWS reports them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cloudtrail_emulator.emulator.config import ManualClock
from test_server_delivery import ACCOUNT, BUCKET, cloudtrail_policy, control, make_trail, start

BEGIN = datetime(2025, 4, 2, 9, 0, 5, tzinfo=timezone.utc)


def test_digest_delivery_time_and_error(tmp_path):
    clock = ManualClock(BEGIN)
    server = start(tmp_path, clock=clock, delivery_interval=86400)
    try:
        make_trail(server)
        ct = server.cloudtrail()
        status = ct.get_trail_status(Name="live")
        assert status["IsLogging"] is True
        assert "LatestDigestDeliveryTime" not in status and "LatestDigestDeliveryError" not in status
        assert "LatestDeliveryTime" not in status

        clock.advance(timedelta(minutes=3))
        assert control(server, "deliver").status_code == 200          # 09:03:05: files and a digest
        status = ct.get_trail_status(Name="live")
        delivered = datetime(2025, 4, 2, 9, 3, 5, tzinfo=timezone.utc)
        assert status["LatestDigestDeliveryTime"] == delivered
        assert status["LatestDeliveryTime"] == delivered
        assert "LatestDigestDeliveryError" not in status and "LatestDeliveryError" not in status

        s3 = server.client("s3")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
        s3.delete_bucket(Bucket=BUCKET)
        clock.advance(timedelta(minutes=5))
        ct.describe_trails()
        assert control(server, "deliver").status_code == 200          # 09:08:05: the bucket is gone
        status = ct.get_trail_status(Name="live")
        assert status["LatestDeliveryError"] == "NoSuchBucket"
        assert status["LatestDigestDeliveryError"] == "NoSuchBucket"
        assert status["LatestDigestDeliveryTime"] == delivered      # the last success stays
        assert status["LatestDeliveryAttemptTime"] == "2025-04-02T09:08:05Z"
    finally:
        server.running.stop()


def test_no_digest_time_without_validation(tmp_path):
    clock = ManualClock(BEGIN)
    server = start(tmp_path, clock=clock, delivery_interval=86400)
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET, ACCOUNT))
        ct = server.cloudtrail()
        ct.create_trail(Name="plain", S3BucketName=BUCKET)
        ct.start_logging(Name="plain")
        clock.advance(60)
        assert control(server, "deliver").status_code == 200
        status = ct.get_trail_status(Name="plain")
        assert status["LatestDeliveryTime"] == datetime(2025, 4, 2, 9, 1, 5, tzinfo=timezone.utc)
        assert "LatestDigestDeliveryTime" not in status
    finally:
        server.running.stop()
