"""validate_trail on a LocalStore trail: clean chains pass, and each kind of tampering is named."""
from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from cloudtrail_emulator.generators.trail.digests import DigestChain
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.keyring import Keyring, SigningKey
from cloudtrail_emulator.generators.trail.logfiles import LogFile
from cloudtrail_emulator.generators.stores import LocalStore
from cloudtrail_emulator.generators.validate import Verdict, validate_trail

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "audit-logs"
PREFIX = "team"
T0 = datetime(2024, 5, 1, 9, 17, 23, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return Keyring(None)


@pytest.fixture(scope="module")
def foreign_key() -> SigningKey:
    return Keyring(None).key_for(REGION, T0)


def make_log(account: str, region: str, delivered: datetime, tag: str, org: str | None = None) -> LogFile:
    stamp = delivered.strftime("%Y-%m-%dT%H:%M:%SZ")
    raw = json.dumps({"Records": [{"eventTime": stamp, "eventName": "DescribeInstances"}]},
                     separators=(",", ":")).encode()
    minute = delivered.replace(second=0)
    root = f"{PREFIX}/AWSLogs/{org + '/' if org else ''}{account}"
    key = (f"{root}/CloudTrail/{region}/{minute:%Y/%m/%d}/{account}_CloudTrail_{region}_"
           f"{minute:%Y%m%dT%H%MZ}_{tag:0>16}.json.gz")
    return LogFile(key=key, body=gzip.compress(raw, mtime=0), sha256=hashlib.sha256(raw).hexdigest(),
                   delivered_at=delivered, oldest_event_time=stamp, newest_event_time=stamp,
                   account_id=account, region=region, record_count=1)


def write_chain(store: LocalStore, keyring: Keyring, *, account: str = ACCOUNT, region: str = REGION,
                trail: str = "main", started_at: datetime = T0, hours: int = 4,
                org: str | None = None) -> tuple[list[str], list[LogFile]]:
    """A chain of `hours` digests with two log files each; returns (digest keys, log files)."""
    chain = DigestChain(bucket=BUCKET, prefix=PREFIX, account_id=account, region=region,
                        trail_name=trail, home_region=REGION, keyring=keyring, org_id=org,
                        started_at=started_at)
    keys, logs = [], []
    for hour in range(hours):
        for minute in (10, 40):
            log = make_log(account, region, started_at + timedelta(hours=hour, minutes=minute, seconds=7),
                           f"{trail[:4]}{hour}{minute}", org)
            store.put(BUCKET, log.key, log.body)
            chain.add(log)
            logs.append(log)
        digest = chain.close_period(chain.period_end)
        store.put(BUCKET, digest.key, digest.body, digest.metadata)
        keys.append(digest.key)
    return keys, logs


@pytest.fixture
def store(tmp_path) -> LocalStore:
    store = LocalStore(tmp_path / "s3", fsync=False)
    store.create_bucket(BUCKET)
    return store


@pytest.fixture
def trail(store, keyring):
    digests, logs = write_chain(store, keyring)
    return store, digests, logs


def read_doc(store: LocalStore, key: str) -> dict:
    return json.loads(gzip.decompress(store.get(BUCKET, key).body))


def put_signed(store: LocalStore, key: str, doc: dict, signer: SigningKey) -> None:
    """Write a digest document signed as FORMATS.md section 2 says (independent of digests.py)."""
    raw = json.dumps(doc, separators=(",", ":")).encode()
    to_sign = "\n".join([doc["digestEndTime"], f"{doc['digestS3Bucket']}/{doc['digestS3Object']}",
                         hashlib.sha256(raw).hexdigest(), doc["previousDigestSignature"] or "null"])
    signature = signer.sign(to_sign.encode()).hex()
    store.put(BUCKET, key, gzip.compress(raw), {"signature": signature, "signature-algorithm": "SHA256withRSA"})


def verdicts(report, kind: str) -> dict[str, Verdict]:
    return {v.key: v.verdict for v in (report.digests if kind == "digest" else report.logs)}


def only_bad(report) -> dict[str, Verdict]:
    return {v.key: v.verdict for v in report.digests + report.logs if v.verdict is not Verdict.VALID}


def test_untouched_chain_validates_clean(trail, keyring):
    store, digests, logs = trail
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert report.ok and report.exit_code == 0
    assert verdicts(report, "digest") == {k: Verdict.VALID for k in digests}
    assert verdicts(report, "log") == {log.key: Verdict.VALID for log in logs}
    assert report.notes == []
    text = report.render()
    assert "4/4 digest files valid" in text and "8/8 log files valid" in text and "INVALID" not in text
    assert report.found_start == T0 and report.found_end == T0 + timedelta(hours=4)
    threaded = validate_trail(store, BUCKET, PREFIX, keyring=keyring, workers=4)
    assert threaded.digests == report.digests and threaded.logs == report.logs


def test_public_keys_may_be_given_instead_of_a_keyring(trail, keyring):
    store, digests, _ = trail
    key = keyring.key_for(REGION, T0 + timedelta(hours=1))
    assert validate_trail(store, BUCKET, PREFIX, public_keys={key.fingerprint: key.public_der}).ok
    report = validate_trail(store, BUCKET, PREFIX, public_keys={})
    assert set(verdicts(report, "digest").values()) == {Verdict.PUBLIC_KEY_NOT_FOUND}
    report = validate_trail(store, BUCKET, PREFIX, public_keys=[Keyring(None).key_for("eu-west-1", T0)])
    assert not report.ok


def test_changed_byte_in_a_log(trail, keyring):
    store, _, logs = trail
    raw = bytearray(gzip.decompress(logs[3].body))
    raw[raw.index(b"DescribeInstances")] = ord("d")
    store.put(BUCKET, logs[3].key, gzip.compress(bytes(raw)))
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert only_bad(report) == {logs[3].key: Verdict.HASH_MISMATCH}
    assert report.exit_code == 1
    assert f"Log file\ts3://{BUCKET}/{logs[3].key}\tINVALID: hash value doesn't match" in report.render()


def test_deleted_log(trail, keyring):
    store, _, logs = trail
    store.delete(BUCKET, logs[5].key)
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert only_bad(report) == {logs[5].key: Verdict.NOT_FOUND}


def test_log_with_data_after_its_gzip_member(trail, keyring):
    store, _, logs = trail
    store.put(BUCKET, logs[0].key, logs[0].body + gzip.compress(b"{}"))
    assert only_bad(validate_trail(store, BUCKET, PREFIX, keyring=keyring)) == {
        logs[0].key: Verdict.TRAILING_DATA}


def test_deleted_digest(trail, keyring):
    store, digests, logs = trail
    store.delete(BUCKET, digests[1])
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    # the digest is named by the link of the next one; its log files are now listed nowhere
    assert only_bad(report) == {digests[1]: Verdict.NOT_FOUND,
                                logs[2].key: Verdict.NOT_IN_DIGEST, logs[3].key: Verdict.NOT_IN_DIGEST}
    assert not report.ok
    assert [v.key for v in report.problems] == [digests[1]]


def test_digest_moved_to_another_key(trail, keyring):
    store, digests, _ = trail
    original = store.get(BUCKET, digests[1])
    moved = digests[1].replace("T111723Z", "T111800Z")
    store.put(BUCKET, moved, original.body, original.metadata)
    store.delete(BUCKET, digests[1])
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert verdicts(report, "digest") == {digests[0]: Verdict.VALID, moved: Verdict.MOVED,
                                          digests[1]: Verdict.NOT_FOUND, digests[2]: Verdict.VALID,
                                          digests[3]: Verdict.VALID}
    assert "INVALID: has been moved from its original location" in report.render()


def test_digest_signed_by_a_foreign_key(trail, keyring, foreign_key):
    store, digests, _ = trail
    doc = read_doc(store, digests[1])
    doc["digestPublicKeyFingerprint"] = foreign_key.fingerprint
    put_signed(store, digests[1], doc, foreign_key)
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert verdicts(report, "digest")[digests[1]] is Verdict.PUBLIC_KEY_NOT_FOUND
    # stricter than validate-logs: the next digest's hash of its predecessor no longer matches
    assert verdicts(report, "digest")[digests[2]] is Verdict.BROKEN_LINK
    assert {k for k, v in only_bad(report).items()} == {digests[1], digests[2]}


def test_digest_signature_from_a_foreign_key_with_our_fingerprint(trail, keyring, foreign_key):
    store, digests, _ = trail
    put_signed(store, digests[3], read_doc(store, digests[3]), foreign_key)
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert only_bad(report) == {digests[3]: Verdict.SIGNATURE_FAILED}
    assert "INVALID: signature verification failed" in report.render()


def test_digest_whose_previous_link_points_elsewhere(trail, keyring):
    store, digests, _ = trail
    doc = read_doc(store, digests[3])
    first = store.get(BUCKET, digests[1])
    doc["previousDigestS3Object"] = digests[1]
    doc["previousDigestHashValue"] = hashlib.sha256(gzip.decompress(first.body)).hexdigest()
    doc["previousDigestSignature"] = first.metadata["signature"]
    put_signed(store, digests[3], doc, keyring.key_for(REGION, T0 + timedelta(hours=4)))
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert only_bad(report) == {digests[3]: Verdict.BROKEN_LINK}


def test_digest_link_with_a_forged_previous_hash(trail, keyring):
    store, digests, _ = trail
    doc = read_doc(store, digests[2])
    doc["previousDigestHashValue"] = "0" * 64
    put_signed(store, digests[2], doc, keyring.key_for(REGION, T0 + timedelta(hours=3)))
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    # digests[3] links to the rewritten digests[2] by hash too, so it breaks as well
    assert only_bad(report) == {digests[2]: Verdict.BROKEN_LINK, digests[3]: Verdict.BROKEN_LINK}


def test_digest_whose_period_does_not_start_where_the_previous_ends(trail, keyring):
    store, digests, _ = trail
    doc = read_doc(store, digests[3])
    doc["digestStartTime"] = (T0 + timedelta(hours=3, minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    put_signed(store, digests[3], doc, keyring.key_for(REGION, T0 + timedelta(hours=4)))
    assert only_bad(validate_trail(store, BUCKET, PREFIX, keyring=keyring)) == {
        digests[3]: Verdict.PERIOD_GAP}


def test_chain_signed_across_key_rotations(store):
    rotating = Keyring(None, rotation=timedelta(hours=2))
    digests, _ = write_chain(store, rotating, hours=4)
    fingerprints = {read_doc(store, key)["digestPublicKeyFingerprint"] for key in digests}
    assert len(fingerprints) >= 2
    report = validate_trail(store, BUCKET, PREFIX, public_keys=rotating.public_keys(T0, T0 + timedelta(hours=5)))
    assert report.ok and len(report.digests) == 4


def test_digest_without_signature_metadata(trail, keyring):
    store, digests, _ = trail
    store.put(BUCKET, digests[2], store.get(BUCKET, digests[2]).body, {})
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert only_bad(report) == {digests[2]: Verdict.UNSIGNED}


def test_digest_that_is_not_gzip_json(trail, keyring):
    store, digests, logs = trail
    meta = store.get(BUCKET, digests[0]).metadata
    store.put(BUCKET, digests[0], b"not a digest", meta)
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    # its log files are listed by no readable digest
    assert only_bad(report) == {digests[0]: Verdict.INVALID_FORMAT,
                                logs[0].key: Verdict.NOT_IN_DIGEST, logs[1].key: Verdict.NOT_IN_DIGEST}


def test_unlisted_log_files_are_reported_but_not_invalid(trail, keyring):
    store, _, _ = trail
    inserted = make_log(ACCOUNT, REGION, T0 + timedelta(hours=1, minutes=20), "inserted")
    late = make_log(ACCOUNT, REGION, T0 + timedelta(hours=4, minutes=5), "late")
    early = make_log(ACCOUNT, REGION, T0 - timedelta(hours=2), "early")
    for log in (inserted, late, early):
        store.put(BUCKET, log.key, log.body)
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert report.ok
    assert only_bad(report) == {inserted.key: Verdict.NOT_IN_DIGEST, late.key: Verdict.AWAITING_DIGEST,
                                early.key: Verdict.OUTSIDE_COVERAGE}
    text = report.render()
    assert "WARNING: not in any digest" in text and "1 log files not in any digest" in text
    assert late.key not in text and "1 log files awaiting a digest" in text
    assert f"{late.key}\tNOTE: awaiting a digest" in report.render(verbose=True)


def test_discovers_every_chain_and_filters(store, keyring):
    org = "o-abcdefghij"
    main, _ = write_chain(store, keyring, org=org, hours=2)
    other_region, _ = write_chain(store, keyring, org=org, region="eu-west-1", hours=1)
    other_account, _ = write_chain(store, keyring, org=org, account="210987654321", hours=1)
    other_trail, _ = write_chain(store, keyring, org=org, trail="second.trail_x", hours=1,
                                 started_at=T0 + timedelta(minutes=7))
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert report.ok
    assert set(verdicts(report, "digest")) == set(main + other_region + other_account + other_trail)

    narrowed = validate_trail(store, BUCKET, PREFIX, keyring=keyring, trail_name="main",
                              account_ids=[ACCOUNT], regions=[REGION])
    assert set(verdicts(narrowed, "digest")) == set(main)
    timed = validate_trail(store, BUCKET, PREFIX, keyring=keyring, trail_name="main",
                           start=T0 + timedelta(hours=1, minutes=30), end=T0 + timedelta(hours=1, minutes=40))
    assert set(verdicts(timed, "digest")) == {main[1]}
    assert timed.ok


def test_chain_restart_is_a_note_not_an_error(store, keyring):
    first, _ = write_chain(store, keyring, hours=1)
    second, _ = write_chain(store, keyring, hours=1, started_at=T0 + timedelta(hours=5))
    report = validate_trail(store, BUCKET, PREFIX, keyring=keyring)
    assert report.ok and set(verdicts(report, "digest")) == {*first, *second}
    assert report.notes and report.notes[0].startswith(
        "No log files were delivered by CloudTrail between 2024-05-01T10:17:23Z and 2024-05-01T14:17:23Z")


def test_bad_input_raises_generator_error(store, keyring):
    with pytest.raises(GeneratorError, match="does not exist"):
        validate_trail(store, "no-such-bucket", keyring=keyring)
    with pytest.raises(GeneratorError, match="keyring or public keys"):
        validate_trail(store, BUCKET)
    with pytest.raises(GeneratorError):
        validate_trail(store, BUCKET, keyring=keyring, start=T0, end=T0 - timedelta(hours=1))
