"""Digest chain: fields, key names, links and signatures, checked the way an outside tool would."""
from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from awscli.customizations.cloudtrail.validation import Sha256RSADigestValidator

from cloudtrail_emulator import schemas
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from cloudtrail_emulator.generators.trail.digests import DigestChain
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.trail.logfiles import LogFile
from cloudtrail_emulator.generators.trail.writer import TrailTarget, TrailWriter, WriterState
from cloudtrail_emulator.generators.stores import LocalStore

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "trail-bucket"
T0 = datetime(2024, 5, 1, 9, 17, 23, tzinfo=timezone.utc)   # validation turned on, not on the hour
FIELDS = [
    "awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object",
    "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "newestEventTime", "oldestEventTime",
    "previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue",
    "previousDigestHashAlgorithm", "previousDigestSignature", "logFiles",
]


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return Keyring(None)


def make_log(delivered: datetime, oldest: str, newest: str, tag: str = "a") -> LogFile:
    raw = json.dumps({"Records": [{"eventTime": oldest}, {"eventTime": newest}]},
                     separators=(",", ":")).encode()
    minute = delivered.replace(second=0)
    key = (f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{minute:%Y/%m/%d}/{ACCOUNT}_CloudTrail_{REGION}_"
           f"{minute:%Y%m%dT%H%MZ}_{tag * 16}.json.gz")
    return LogFile(key=key, body=gzip.compress(raw, mtime=0), sha256=hashlib.sha256(raw).hexdigest(),
                   delivered_at=delivered, oldest_event_time=oldest, newest_event_time=newest,
                   account_id=ACCOUNT, region=REGION, record_count=2)


def new_chain(keyring: Keyring, **kw) -> DigestChain:
    args = dict(bucket=BUCKET, prefix="", account_id=ACCOUNT, region=REGION,
                trail_name="org_trail-1", home_region="us-west-2", keyring=keyring, started_at=T0)
    args.update(kw)
    return DigestChain(**args)


@dataclass(frozen=True)
class Stored:
    """A digest as read back from the store."""

    key: str
    body: bytes
    metadata: dict[str, str]

    @property
    def signature(self) -> str:
        return self.metadata["signature"]

    @property
    def raw_sha256(self) -> str:
        return hashlib.sha256(gzip.decompress(self.body)).hexdigest()

    @property
    def end(self) -> datetime:
        end = json.loads(gzip.decompress(self.body))["digestEndTime"]
        return datetime.strptime(end, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def new_writer(keyring: Keyring, tmp_path, state: WriterState | None = None) -> tuple[TrailWriter, LocalStore]:
    store = LocalStore(tmp_path, fsync=False)
    if not store.bucket_exists(BUCKET):
        store.create_bucket(BUCKET)
    return TrailWriter(store, TrailTarget(BUCKET, "", "org_trail-1", "us-west-2"), keyring, state=state), store


def stored_digests(store: LocalStore) -> list[Stored]:
    """The bucket's digests, oldest first (key names end with the period end)."""
    keys = sorted(k for k in store.list(BUCKET) if "/CloudTrail-Digest/" in k)
    return [Stored(k, (obj := store.get(BUCKET, k)).body, dict(obj.metadata)) for k in keys]


def verify_signature(keyring: Keyring, body: bytes, metadata: dict[str, str]) -> dict:
    """Check a digest as FORMATS.md section 2 describes, with cryptography only."""
    raw = gzip.decompress(body)
    doc = json.loads(raw)
    assert metadata["signature-algorithm"] == "SHA256withRSA"
    public = keyring.by_fingerprint(doc["digestPublicKeyFingerprint"]).public_der
    assert hashlib.md5(public).hexdigest() == doc["digestPublicKeyFingerprint"]
    to_sign = "\n".join([
        doc["digestEndTime"], f"{doc['digestS3Bucket']}/{doc['digestS3Object']}",
        hashlib.sha256(raw).hexdigest(), doc["previousDigestSignature"] or "null",
    ]).encode()
    serialization.load_der_public_key(public).verify(
        bytes.fromhex(metadata["signature"]), to_sign, padding.PKCS1v15(), hashes.SHA256())
    return doc


def test_chain_fields_links_and_signatures(keyring, tmp_path):
    writer, store = new_writer(keyring, tmp_path)
    writer.open_chain(ACCOUNT, REGION, T0)
    first_log = make_log(T0 + timedelta(minutes=8), "2024-05-01T09:20:01Z", "2024-05-01T09:24:59Z", "a")
    second_log = make_log(T0 + timedelta(minutes=28), "2024-05-01T09:19:00Z", "2024-05-01T09:41:00Z", "b")
    late_log = make_log(T0 + timedelta(hours=2, minutes=3), "2024-05-01T11:15:00Z",
                        "2024-05-01T11:18:00Z", "c")
    writer.add_files([late_log, second_log, first_log])
    writer.close_until(T0 + timedelta(hours=3, minutes=59))
    digests = stored_digests(store)
    assert len(digests) == 3
    docs = [verify_signature(keyring, d.body, d.metadata) for d in digests]
    for doc in docs:
        schemas.validate_digest(doc)

    first, empty, third = docs
    assert list(first) == FIELDS
    assert digests[0].key == (
        f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/05/01/{ACCOUNT}_CloudTrail-Digest_"
        f"{REGION}_org_trail-1_us-west-2_20240501T101723Z.json.gz")
    assert first["awsAccountId"] == ACCOUNT
    assert (first["digestStartTime"], first["digestEndTime"]) == ("2024-05-01T09:17:23Z", "2024-05-01T10:17:23Z")
    assert (first["digestS3Bucket"], first["digestS3Object"]) == (BUCKET, digests[0].key)
    assert first["digestSignatureAlgorithm"] == "SHA256withRSA"
    assert all(first[k] is None for k in FIELDS if k.startswith("previousDigest"))
    assert (first["oldestEventTime"], first["newestEventTime"]) == ("2024-05-01T09:19:00Z", "2024-05-01T09:41:00Z")
    assert first["logFiles"] == [
        {"s3Bucket": BUCKET, "s3Object": log.key, "hashValue": hashlib.sha256(gzip.decompress(log.body)).hexdigest(),
         "hashAlgorithm": "SHA-256", "newestEventTime": log.newest_event_time,
         "oldestEventTime": log.oldest_event_time}
        for log in (first_log, second_log)
    ]
    assert empty["logFiles"] == [] and empty["newestEventTime"] is None and empty["oldestEventTime"] is None
    assert [log["s3Object"] for log in third["logFiles"]] == [late_log.key]

    for prev, digest, doc in zip(digests, digests[1:], docs[1:]):
        assert doc["digestStartTime"] == prev.end.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert doc["previousDigestS3Bucket"] == BUCKET
        assert doc["previousDigestS3Object"] == prev.key
        assert doc["previousDigestHashValue"] == hashlib.sha256(gzip.decompress(prev.body)).hexdigest()
        assert doc["previousDigestHashAlgorithm"] == "SHA-256"
        assert doc["previousDigestSignature"] == prev.metadata["signature"] == prev.signature
    for digest in digests:
        raw = gzip.decompress(digest.body)
        assert digest.raw_sha256 == hashlib.sha256(raw).hexdigest()
        assert raw == json.dumps(json.loads(raw), separators=(",", ":")).encode()   # compact
        assert digest.body[4:8] == b"\0\0\0\0"                                     # gzip mtime 0
    assert writer.state.chains[f"{ACCOUNT}/{REGION}"].period_start == T0 + timedelta(hours=3)


def test_same_input_gives_the_same_bytes(keyring):
    def build():
        chain = new_chain(keyring)
        chain.add(make_log(T0 + timedelta(minutes=3), "2024-05-01T09:18:00Z", "2024-05-01T09:19:00Z"))
        return chain.close_period(T0 + timedelta(hours=1))
    assert build() == build()


def test_final_digest_may_end_early_and_org_keys(keyring):
    chain = new_chain(keyring, prefix="logs/", org_id="o-abcdefghij")
    end = T0 + timedelta(minutes=41, seconds=5)
    digest = chain.close_period(end)
    assert digest.key == (
        f"logs/AWSLogs/o-abcdefghij/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/05/01/{ACCOUNT}_"
        f"CloudTrail-Digest_{REGION}_org_trail-1_us-west-2_20240501T095828Z.json.gz")
    doc = verify_signature(keyring, digest.body, digest.metadata)
    assert (doc["digestStartTime"], doc["digestEndTime"]) == ("2024-05-01T09:17:23Z", "2024-05-01T09:58:28Z")
    assert (digest.start, digest.end) == (T0, end)
    assert chain.period_start == end


def test_resume_links_to_the_stored_chain(keyring, tmp_path):
    writer, store = new_writer(keyring, tmp_path)
    writer.open_chain(ACCOUNT, REGION, T0)
    writer.close_until(T0 + timedelta(hours=2))
    stored_last = stored_digests(store)[-1]
    saved = json.dumps(writer.state.to_json())        # what a crash-safe caller persists

    resumed, _ = new_writer(keyring, tmp_path, WriterState.from_json(json.loads(saved)))
    assert resumed.state.chains[f"{ACCOUNT}/{REGION}"].period_start == T0 + timedelta(hours=2)
    resumed.close_until(T0 + timedelta(hours=3))
    nxt = stored_digests(store)[-1]
    doc = verify_signature(keyring, nxt.body, nxt.metadata)
    assert doc["previousDigestS3Object"] == stored_last.key
    assert doc["previousDigestHashValue"] == hashlib.sha256(gzip.decompress(stored_last.body)).hexdigest()
    assert doc["previousDigestSignature"] == stored_last.metadata["signature"]

    restarted, _ = new_writer(keyring, tmp_path / "restarted")
    restarted.open_chain(ACCOUNT, REGION, T0 + timedelta(hours=5))
    restarted.close_until(T0 + timedelta(hours=6))
    [digest] = stored_digests(restarted.store)
    doc = json.loads(gzip.decompress(digest.body))
    assert doc["previousDigestS3Object"] is None and doc["digestStartTime"] == "2024-05-01T14:17:23Z"

    with pytest.raises(GeneratorError, match="outside the trail"):
        resumed.add_files([dataclasses.replace(make_log(T0 + timedelta(hours=3, minutes=3), "2024-05-01T12:18:00Z",
                                                        "2024-05-01T12:19:00Z"), region="eu-west-1")])


def test_an_interrupted_close_is_written_again_with_the_same_bytes(keyring, tmp_path):
    """A crash after the early end was journalled: the resumed writer re-writes that digest."""
    saved: list[str] = []
    store = LocalStore(tmp_path, fsync=False)
    store.create_bucket(BUCKET)
    writer = TrailWriter(store, TrailTarget(BUCKET, "", "org_trail-1", "us-west-2"), keyring,
                         persist=lambda: saved.append(json.dumps(writer.state.to_json())))
    writer.open_chain(ACCOUNT, REGION, T0)
    writer.add_files([make_log(T0 + timedelta(minutes=3), "2024-05-01T09:18:00Z", "2024-05-01T09:19:00Z")])
    key = f"{ACCOUNT}/{REGION}"
    end = T0 + timedelta(minutes=41, seconds=5)
    writer.close({key: end})
    journalled, moved = saved           # persisted before the digest was written, and after
    [first] = stored_digests(store)

    resumed, _ = new_writer(keyring, tmp_path / "again", WriterState.from_json(json.loads(journalled)))
    assert resumed.state.journalled() == {key: end}
    assert resumed.close(resumed.state.journalled()) == {key: None}
    [again] = stored_digests(resumed.store)
    assert (again.key, again.body, again.metadata) == (first.key, first.body, first.metadata)
    assert resumed.state.chains[key].period_start == end and resumed.state.chains[key].closing is None
    assert json.loads(moved) == writer.state.to_json() == resumed.state.to_json()


def test_an_explicit_batch_written_twice_is_listed_once(keyring, tmp_path):
    writer, store = new_writer(keyring, tmp_path)
    records = [{"eventTime": "2024-05-01T09:18:00Z", "recipientAccountId": ACCOUNT, "awsRegion": REGION},
               {"eventTime": "2024-05-01T09:19:00Z", "recipientAccountId": ACCOUNT, "awsRegion": REGION}]
    at = T0 + timedelta(minutes=5)
    first = writer.write_file(records, at, "A" * 16)
    again = writer.write_file(records, at, "A" * 16)     # a re-run after a crash
    assert first == again and first.key.endswith("_20240501T0920Z_AAAAAAAAAAAAAAAA.json.gz")  # 09:22:23, floored
    writer.finish(at + timedelta(minutes=1))
    [digest] = stored_digests(store)
    doc = verify_signature(keyring, digest.body, digest.metadata)
    assert [f["s3Object"] for f in doc["logFiles"]] == [first.key]
    assert doc["logFiles"][0]["hashValue"] == hashlib.sha256(
        gzip.decompress(store.get(BUCKET, first.key).body)).hexdigest()
    assert (doc["digestStartTime"], doc["digestEndTime"]) == ("2024-05-01T09:22:23Z", "2024-05-01T09:23:23Z")


def test_bad_input_raises_generator_error(keyring):
    chain = new_chain(keyring)
    with pytest.raises(GeneratorError):
        chain.close_period(T0 + timedelta(hours=1, seconds=1))
    with pytest.raises(GeneratorError):
        chain.close_period(T0)
    with pytest.raises(GeneratorError):
        chain.add(make_log(T0 - timedelta(minutes=1), "2024-05-01T09:10:00Z", "2024-05-01T09:11:00Z"))
    with pytest.raises(GeneratorError):
        new_chain(keyring, started_at=datetime(2024, 5, 1))
    previous = chain.close_period(chain.period_end)
    with pytest.raises(GeneratorError, match="tile"):
        new_chain(keyring, previous=previous, started_at=previous.end + timedelta(minutes=1))


def test_awscli_validator_accepts_the_chain(keyring, tmp_path):
    """The signature check of `aws cloudtrail validate-logs` itself, run in-process."""
    writer, store = new_writer(keyring, tmp_path)
    writer.open_chain(ACCOUNT, REGION, T0)
    writer.add_files([make_log(T0 + timedelta(minutes=3), "2024-05-01T09:18:00Z", "2024-05-01T09:19:00Z")])
    writer.close_until(T0 + timedelta(hours=2))
    for digest in stored_digests(store):
        raw = gzip.decompress(digest.body)
        data = json.loads(raw)
        data["_signature"] = digest.metadata["signature"]
        public = keyring.by_fingerprint(data["digestPublicKeyFingerprint"]).public_der
        Sha256RSADigestValidator().validate(BUCKET, digest.key, base64.b64encode(public), data, raw)
