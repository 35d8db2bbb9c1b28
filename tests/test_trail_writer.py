"""One generated record stream feeds several trails and a record sink in one pass (write_history)."""
from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime, timezone

from cloudtrail_emulator.generators.pipeline import HistoryTrail, TrailTarget, generate, plan_run, write_history
from cloudtrail_emulator.generators.stores import LocalStore
from cloudtrail_emulator.generators.trail.keyring import Keyring

START, END = datetime(2024, 3, 4, 8, tzinfo=timezone.utc), datetime(2024, 3, 4, 11, 30, tzinfo=timezone.utc)
CLOSE = datetime(2024, 3, 4, 11, 41, 7, tzinfo=timezone.utc)


def objects(store: LocalStore, bucket: str, kind: str) -> dict[str, bytes]:
    return {k: store.get(bucket, k).body for k in store.list(bucket) if f"/{kind}/" in k}


def test_one_stream_feeds_two_trails_and_the_sink(tmp_path):
    options, population = plan_run(count=900, start=START, end=END, seed=5, accounts=2,
                                    regions=("us-east-1", "eu-west-1"), scenarios=["discovery-burst"])
    org, member = population.organization_id, options.plan.accounts[1]
    store = LocalStore(tmp_path, fsync=False)
    sunk: list[dict] = []
    trails = [HistoryTrail(TrailTarget("org-bucket", "", "org-trail"), org, close_at=CLOSE),
              HistoryTrail(TrailTarget("member-bucket", "m", "account-trail"), None, (member,), close_at=CLOSE)]
    org_summary, member_summary = write_history(store, trails, options, keyring=Keyring(None),
                                                population=population, workers=1, sink=sunk.extend)

    # the sink saw the run's records, in generation order, once
    assert sunk == list(generate(count=900, start=START, end=END, seed=5, accounts=2,
                                 regions=("us-east-1", "eu-west-1"), scenarios=["discovery-burst"]))
    # the member trail holds exactly the organization trail's files of its account, byte for byte
    org_logs, member_logs = objects(store, "org-bucket", "CloudTrail"), objects(store, "member-bucket", "CloudTrail")
    mine = {k.split(f"AWSLogs/{org}/", 1)[1]: body for k, body in org_logs.items() if f"/{org}/{member}/" in k}
    assert {k.split("m/AWSLogs/", 1)[1]: body for k, body in member_logs.items()} == mine
    records = [r for body in member_logs.values() for r in json.loads(gzip.decompress(body))["Records"]]
    assert sorted(r["eventID"] for r in records) == sorted(r["eventID"] for r in sunk
                                                           if r["recipientAccountId"] == member)
    assert (member_summary.records, member_summary.log_files) == (len(records), len(member_logs))
    assert (org_summary.records, org_summary.log_files) == (len(sunk), len(org_logs))

    # each chain lists each of its log files once, with its hash, and ends at CLOSE
    for bucket, logs, summary in (("org-bucket", org_logs, org_summary), ("member-bucket", member_logs, member_summary)):
        digests = objects(store, bucket, "CloudTrail-Digest")
        assert len(digests) == summary.digests
        listed = [(f["s3Object"], f["hashValue"]) for body in digests.values()
                  for f in json.loads(gzip.decompress(body))["logFiles"]]
        assert sorted(listed) == sorted((k, hashlib.sha256(gzip.decompress(b)).hexdigest()) for k, b in logs.items())
        ends = {json.loads(gzip.decompress(store.get(bucket, d.key).body))["digestEndTime"]
                for d in summary.chain_ends.values()}
        assert ends == {"2024-03-04T11:41:07Z"}
        assert set(summary.chain_ends) == {(a, r) for a in summary.accounts for r in ("us-east-1", "eu-west-1")}
