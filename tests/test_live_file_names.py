"""Live log-file names: the time in a delivered file's name is the 5-minute mark after its newest record
(FORMATS.md section 1: every record 3-297 s older than its file's name in the reference files), the
rule generated history follows; the digests over those names still validate with `aws cloudtrail
validate-logs`."""
from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone

from cloudtrail_emulator.emulator.config import ManualClock
from test_server_delivery import BUCKET, control, digests, log_records, make_trail, objects, start
from test_server_validate_logs import all_valid, validate_logs

BEGIN = datetime(2025, 3, 1, 23, 51, 5, tzinfo=timezone.utc)
NAME_TIME = "%Y%m%dT%H%MZ"


def name_time(key: str) -> datetime:
    """The time in a log file's name: `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<suffix>.json.gz`."""
    stamp = key.rsplit("/", 1)[1].split("_")[3]
    return datetime.strptime(stamp, NAME_TIME).replace(tzinfo=timezone.utc)


def event_time(record: dict) -> datetime:
    return datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def test_live_files_are_named_after_their_newest_record(tmp_path):
    clock = ManualClock(BEGIN)
    # only /_emulator/deliver delivers: the scheduler's 5-minute run would split the batches by wall time
    server = start(tmp_path, clock=clock, delivery_interval=86400)
    try:
        arn = make_trail(server)                                  # StartLogging at 23:51:05
        ct = server.cloudtrail()
        clock.advance(timedelta(minutes=2, seconds=30))
        ct.describe_trails()                                      # 23:53:35
        clock.advance(timedelta(seconds=20))
        assert control(server, "deliver").status_code == 200      # delivered at 23:53:55
        first = log_records(server)
        assert [key.rsplit("/", 1)[1][:48] for key in first] == [
            "123456789012_CloudTrail_us-east-1_20250301T2355Z"]
        assert list(first)[0].startswith("AWSLogs/123456789012/CloudTrail/us-east-1/2025/03/01/")

        clock.advance(timedelta(minutes=6, seconds=10))
        ct.list_trails()                                          # 00:00:05 the next day
        clock.advance(timedelta(seconds=3))
        assert control(server, "deliver").status_code == 200      # delivered at 00:00:08
        files = log_records(server)
        [second] = set(files) - set(first)
        assert second.startswith("AWSLogs/123456789012/CloudTrail/us-east-1/2025/03/02/"
                                 "123456789012_CloudTrail_us-east-1_20250302T0005Z_")
        for key, records in files.items():
            newest = max(event_time(r) for r in records)
            assert newest <= name_time(key) <= newest + timedelta(seconds=300), key

        listed = {f["s3Object"] for _, digest, _ in digests(server) for f in digest["logFiles"]}
        assert listed == set(files)
        total_digests, total_logs = all_valid(validate_logs(server, arn))
        assert total_logs == 2 and total_digests >= 2
    finally:
        server.running.stop()


def test_a_record_on_a_five_minute_mark_names_the_next_mark(tmp_path):
    clock = ManualClock(datetime(2025, 3, 1, 10, 4, 59, tzinfo=timezone.utc))
    server = start(tmp_path, clock=clock, delivery_interval=86400)
    try:
        make_trail(server)                                        # StartLogging at 10:04:59
        clock.advance(1)
        server.cloudtrail().describe_trails()                     # 10:05:00
        assert control(server, "deliver").status_code == 200
        [(key, body)] = objects(server, "CloudTrail", BUCKET).items()
        records = json.loads(gzip.decompress(body["Body"].read()))["Records"]
        assert max(r["eventTime"] for r in records) == "2025-03-01T10:05:00Z"
        assert "_20250301T1010Z_" in key
    finally:
        server.running.stop()
