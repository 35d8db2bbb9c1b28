"""Log files: key layout, gzip/JSON encoding read back with outside tools, CloudTrail-like batching."""
from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import uuid
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.logfiles import (
    LogFileBatcher,
    encode_log_file,
    iter_log_files,
)
from cloudtrail_emulator.generators.trail.layout import log_file_key

ACCOUNT = "123456789012"
KEY_RE = re.compile(
    r"^(?:(?P<prefix>.+)/)?AWSLogs/(?:(?P<org>o-[a-z0-9]{10,32})/)?(?P<acct>\d{12})/CloudTrail/"
    r"(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/"
    r"(?P=acct)_CloudTrail_(?P=region)_(?P<stamp>\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$")
UTC = timezone.utc


def _t(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _name_time(key: str) -> datetime:
    return datetime.strptime(KEY_RE.match(key)["stamp"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


def _gunzip_one_member(body: bytes) -> bytes:
    """Decompress and insist on exactly one gzip member with nothing after it."""
    decomp = zlib.decompressobj(wbits=31)
    raw = decomp.decompress(body) + decomp.flush()
    assert decomp.eof and decomp.unused_data == b""
    assert gzip.decompress(body) == raw
    return raw


def _stream(seed: int, start: datetime, minutes: int, mean_per_minute: float) -> list[dict]:
    """Time-ordered synthetic records with bursts and quiet gaps."""
    rng = random.Random(seed)
    records, t = [], start
    end = start + timedelta(minutes=minutes)
    while t < end:
        rate = mean_per_minute * (0.004 if (t.minute // 20) % 3 == 2 else 1.0)  # a quiet stretch
        t += timedelta(seconds=rng.expovariate(rate / 60))
        records.append({"eventVersion": "1.08", "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "eventName": "DescribeInstances", "eventID": str(uuid.UUID(int=rng.getrandbits(128)))})
    return records[:-1]


@pytest.fixture(scope="module")
def stream() -> list[dict]:
    return _stream(7, datetime(2024, 2, 28, 22, 1, 3, tzinfo=UTC), 240, 40)


@pytest.fixture(scope="module")
def files(stream) -> list:
    return list(iter_log_files(stream, ACCOUNT, "eu-west-1", random.Random(42), "logs/team", "o-abcde12345"))


def test_key_layout_with_prefix_and_org():
    key = log_file_key("my/prefix/", ACCOUNT, "us-east-1", datetime(2024, 3, 5, 7, 9, 59, tzinfo=UTC),
                       "AbCdEfGh12345678", "o-a1b2c3d4e5")
    assert key == ("my/prefix/AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail/us-east-1/2024/03/05/"
                   "123456789012_CloudTrail_us-east-1_20240305T0705Z_AbCdEfGh12345678.json.gz")
    assert KEY_RE.match(key)


def test_key_layout_plain_and_bad_inputs():
    key = log_file_key("", ACCOUNT, "ap-south-1", datetime(2023, 12, 31, 23, 55, tzinfo=UTC), "0" * 16)
    assert key.startswith("AWSLogs/123456789012/CloudTrail/ap-south-1/2023/12/31/")
    for bad in [dict(account_id="12345"), dict(suffix="short"), dict(delivered=datetime(2024, 1, 1)),
                dict(org_id="org-1")]:
        args = dict(prefix="", account_id=ACCOUNT, region="us-east-1",
                    delivered=datetime(2024, 1, 1, tzinfo=UTC), suffix="A" * 16) | bad
        with pytest.raises(GeneratorError):
            log_file_key(**args)


def test_encoding_is_one_member_of_compact_json(real_records):
    records = real_records[:50]
    body, sha = encode_log_file(records)
    raw = _gunzip_one_member(body)
    assert body[4:8] == b"\0\0\0\0"  # gzip mtime 0
    assert hashlib.sha256(raw).hexdigest() == sha
    assert json.loads(raw) == {"Records": records}
    assert raw == json.dumps({"Records": records}, separators=(",", ":"), ensure_ascii=False).encode()
    assert b"\n" not in raw
    assert encode_log_file(records) == (body, sha)
    best, _ = encode_log_file(records, compresslevel=9)
    assert best[8] == 2 and gzip.decompress(best) == raw
    with pytest.raises(GeneratorError):
        encode_log_file([{"x": object()}])


def test_every_record_delivered_once(stream, files):
    ids = Counter(r["eventID"] for f in files for r in json.loads(_gunzip_one_member(f.body))["Records"])
    assert ids == Counter(r["eventID"] for r in stream)
    assert sum(f.record_count for f in files) == len(stream)
    assert len({f.key for f in files}) == len(files)


def test_file_times_follow_cloudtrail(files):
    for f in files:
        m = KEY_RE.match(f.key)
        assert m and m["prefix"] == "logs/team" and m["org"] == "o-abcde12345" and m["region"] == "eu-west-1"
        name_time = _name_time(f.key)
        assert name_time.minute % 5 == 0
        assert (m["y"], m["m"], m["d"]) == (f"{name_time:%Y}", f"{name_time:%m}", f"{name_time:%d}")
        records = json.loads(_gunzip_one_member(f.body))["Records"]
        times = [_t(r["eventTime"]) for r in records]
        assert f.record_count == len(records)
        assert (f.oldest_event_time, f.newest_event_time) == (min(r["eventTime"] for r in records),
                                                              max(r["eventTime"] for r in records))
        assert timedelta(0) < name_time - max(times) <= timedelta(minutes=5)
        assert name_time - min(times) <= timedelta(minutes=10)
        assert timedelta(seconds=5) <= f.delivered_at - name_time <= timedelta(seconds=60)
    delivered = [f.delivered_at for f in files]
    assert delivered == sorted(delivered)


def test_batching_looks_like_real_delivery(stream, files):
    late = sum(1 for f in files for r in json.loads(gzip.decompress(f.body))["Records"]
               if _name_time(f.key) - _t(r["eventTime"]) > timedelta(minutes=5))
    assert 0.01 * len(stream) < late < 0.06 * len(stream)
    per_window = Counter(_name_time(f.key) for f in files)
    assert max(per_window.values()) >= 3 and min(per_window.values()) == 1
    unsorted = [f for f in files if [r["eventTime"] for r in json.loads(gzip.decompress(f.body))["Records"]]
                != sorted(r["eventTime"] for r in json.loads(gzip.decompress(f.body))["Records"])]
    assert 0 < len(unsorted) < len(files)
    # the quiet stretch (a record every few minutes) leaves windows without files: no activity, no file
    windows = sorted(per_window)
    assert any(b - a > timedelta(minutes=5) for a, b in zip(windows, windows[1:]))


def test_deterministic_for_a_seed(stream, files):
    again = list(iter_log_files(stream, ACCOUNT, "eu-west-1", random.Random(42), "logs/team", "o-abcde12345"))
    assert again == files
    other = list(iter_log_files(stream, ACCOUNT, "eu-west-1", random.Random(43), "logs/team", "o-abcde12345"))
    assert [f.key for f in other] != [f.key for f in files]


def test_streaming_emits_windows_as_they_close(stream):
    batcher = LogFileBatcher(ACCOUNT, "us-east-1", random.Random(1))
    pending_max = 0
    delivered = 0
    for i, record in enumerate(stream, 1):
        out = batcher.add(record)
        delivered += sum(f.record_count for f in out)
        for f in out:  # a closing window never waits for records newer than the next window
            assert _name_time(f.key) <= _t(record["eventTime"]) + timedelta(seconds=1)
        pending_max = max(pending_max, i - delivered)
    delivered += sum(f.record_count for f in batcher.flush())
    assert delivered == len(stream)
    assert pending_max < 800  # about two windows of the busiest rate, not the whole stream
    assert batcher.flush() == []


def test_large_windows_are_split():
    start = datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
    records = [{"eventTime": (start + timedelta(seconds=i // 10)).strftime("%Y-%m-%dT%H:%M:%SZ"), "n": i}
               for i in range(2500)]
    files = list(iter_log_files(records, ACCOUNT, "us-east-1", random.Random(3), max_records_per_file=400))
    assert len(files) >= 7
    assert max(f.record_count for f in files) <= 450  # late arrivals may top up a file a little


def test_bad_streams_are_refused():
    batcher = LogFileBatcher(ACCOUNT, "us-east-1", random.Random(1))
    batcher.add({"eventTime": "2024-01-01T00:10:00Z"})
    with pytest.raises(GeneratorError, match="time order"):
        batcher.add({"eventTime": "2024-01-01T00:04:59Z"})
    with pytest.raises(GeneratorError, match="eventTime"):
        batcher.add({"eventTime": "2024-01-01T00:12:00.123Z"})
    with pytest.raises(GeneratorError):
        LogFileBatcher("not-an-account", "us-east-1", random.Random(1))


@pytest.mark.parametrize("text", [
    "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z", "2023-02-29T00:00:00Z",
    "2024-13-01T00:00:00Z", "2024-01-01T00:00:00Z\n", "2024-01-01 00:00:00Z", "\u0662024-01-01T00:00:00Z", None,
])
def test_impossible_event_times_are_refused(text):
    batcher = LogFileBatcher(ACCOUNT, "us-east-1", random.Random(1))
    batcher.add({"eventTime": "2023-12-31T23:59:59Z"})
    with pytest.raises(GeneratorError, match="eventTime"):
        batcher.add({"eventTime": text})


@pytest.mark.parametrize("text", ["", None, "2024-01-01T24:00:00Z"])
def test_an_impossible_first_event_time_is_refused(text):
    with pytest.raises(GeneratorError, match="eventTime"):
        LogFileBatcher(ACCOUNT, "us-east-1", random.Random(1)).add({"eventTime": text})


def test_windows_across_day_month_and_year_ends():
    """Each record lands in the file named by the 5-minute mark after it, whatever date it is on."""
    times = ["2023-12-31T23:56:01Z", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z", "2024-01-01T00:04:59Z",
             "2024-02-28T23:59:59Z", "2024-02-29T00:00:00Z", "2024-02-29T23:55:00Z", "2024-03-01T00:00:01Z"]
    files = list(iter_log_files([{"eventTime": t} for t in times], ACCOUNT, "us-east-1", random.Random(2),
                                late_fraction=0))
    named = {r["eventTime"]: _name_time(f.key) for f in files
             for r in json.loads(_gunzip_one_member(f.body))["Records"]}
    assert named == {t: datetime.fromtimestamp((int(_t(t).timestamp()) // 300 + 1) * 300, UTC) for t in times}


def test_real_records_rebatched(real_records):
    invictus = sorted((r for r in real_records if r["recipientAccountId"] == "123837392027"),
                      key=lambda r: r["eventTime"])
    files = list(iter_log_files(invictus, "123837392027", "us-east-1", random.Random(5)))
    assert len(invictus) > 2000
    assert sum(f.record_count for f in files) == len(invictus)
    for f in files:
        raw = _gunzip_one_member(f.body)
        assert hashlib.sha256(raw).hexdigest() == f.sha256
        assert raw.startswith(b'{"Records":[{"eventVersion":')
