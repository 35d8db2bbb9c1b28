"""Object stores: LocalStore on disk (layout, atomicity under SIGKILL, escapes, order) and S3Store on moto."""
from __future__ import annotations

import gzip
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timezone
from pathlib import Path

import pytest

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores import (
    Credentials,
    DEFAULT_BUCKET,
    InvalidBucketName,
    LocalStore,
    NoSuchBucket,
    NoSuchKey,
    S3Store,
    check_bucket_name,
    open_target,
)

REPO = Path(__file__).resolve().parents[1]
BUCKET = "trail-bucket"


@pytest.fixture
def store(tmp_path) -> LocalStore:
    s = LocalStore(tmp_path / "s3")
    s.create_bucket(BUCKET)
    return s


def _files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


# -- LocalStore basics ------------------------------------------------------------------------


def test_round_trip_plain_file_and_lowercase_metadata(store, tmp_path):
    body = gzip.compress(b'{"Records":[]}')
    store.put(BUCKET, "AWSLogs/1/x.json.gz", body, {"Signature": "abc", "signature-algorithm": "SHA256withRSA"})
    obj = store.get(BUCKET, "AWSLogs/1/x.json.gz")
    assert obj.body == body
    assert obj.metadata == {"signature": "abc", "signature-algorithm": "SHA256withRSA"}
    assert obj.etag == hashlib.md5(body).hexdigest() and obj.size == len(body)
    assert obj.last_modified.tzinfo == timezone.utc
    head = store.head(BUCKET, "AWSLogs/1/x.json.gz")
    assert head.body == b"" and head.size == len(body) and head.etag == obj.etag and head.metadata == obj.metadata
    path = tmp_path / "s3" / BUCKET / "AWSLogs" / "1" / "x.json.gz"
    assert gzip.decompress(path.read_bytes()) == b'{"Records":[]}'  # what gunzip sees
    store.put(BUCKET, "AWSLogs/1/x.json.gz", b"new", {})
    assert (store.get(BUCKET, "AWSLogs/1/x.json.gz").body, store.get(BUCKET, "AWSLogs/1/x.json.gz").metadata) == (b"new", {})


def test_missing_things(store):
    with pytest.raises(NoSuchKey):
        store.get(BUCKET, "nope")
    with pytest.raises(NoSuchKey):
        store.head(BUCKET, ".hidden")
    store.put(BUCKET, "dir/file", b"x")
    with pytest.raises(NoSuchKey):
        store.get(BUCKET, "dir")  # a directory is no object
    with pytest.raises(NoSuchBucket):
        store.get("other-bucket", "dir/file")
    with pytest.raises(NoSuchBucket):
        store.put("other-bucket", "k", b"")
    store.delete(BUCKET, "never-existed")


def test_buckets(store, tmp_path):
    store.create_bucket("second.bucket-2")
    store.create_bucket("second.bucket-2")
    assert store.list_buckets() == ["second.bucket-2", BUCKET]
    store.put("second.bucket-2", "a/b/c", b"1")
    with pytest.raises(GeneratorError, match="not empty"):
        store.delete_bucket("second.bucket-2")
    store.delete("second.bucket-2", "a/b/c")
    assert not (tmp_path / "s3" / "second.bucket-2" / "a").exists()  # empty folders pruned
    store.delete_bucket("second.bucket-2")
    assert store.list_buckets() == [BUCKET] and not store.bucket_exists("second.bucket-2")


@pytest.mark.parametrize("name", ["ab", "A-bucket", "a..b", "192.168.1.1", "-abc", "abc-", "xn--abc",
                                  "bucket-s3alias", "a" * 64, "a_b", ""])
def test_bad_bucket_names(name):
    with pytest.raises(InvalidBucketName):
        check_bucket_name(name)


def test_good_bucket_names():
    for name in ["abc", "my.bucket-1", "a" * 63, "123"]:
        check_bucket_name(name)


@pytest.mark.parametrize("key", ["../escape", "a/../../escape", "/etc/passwd", "a//b", "a/./b", "a/",
                                 "..\\..\\escape", "a\\b", "x\x00y", "", ".", "..", ".ctemu/lock",
                                 ".ctemu/meta/k.meta", "a" * 201, "é" * 600])
def test_escaping_keys_refused(store, tmp_path, key):
    before = _files_under(tmp_path)
    with pytest.raises(GeneratorError):
        store.put(BUCKET, key, b"x")
    with pytest.raises(GeneratorError):
        store.get(BUCKET, key)
    assert _files_under(tmp_path) == before


def test_key_conflicting_with_a_folder(store):
    store.put(BUCKET, "a/b", b"1")
    with pytest.raises(GeneratorError, match="a/b"):
        store.put(BUCKET, "a/b/c", b"2")
    with pytest.raises(GeneratorError, match="'a'"):
        store.put(BUCKET, "a", b"2")
    assert list(store.list(BUCKET)) == ["a/b"]


# -- listing ------------------------------------------------------------------------------------


def test_list_is_s3_byte_order_with_prefix_and_start_after(store):
    rng = random.Random(3)
    alphabet = ["a", "b", "-", ".", "0", "/", "é", "Z", "~"]
    stored: list[str] = []
    while len(stored) < 150:
        key = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7)))
        try:
            store.put(BUCKET, key, key.encode())
        except GeneratorError:
            continue  # invalid key, or a file/folder clash a directory cannot hold
        if key not in stored:
            stored.append(key)
    ordered = sorted(stored, key=lambda k: k.encode())
    assert list(store.list(BUCKET)) == ordered
    probes = ["", "a", "a/", "a/b", "é", "Z/", "-", "~~", "a.", "b/0"] + rng.sample(stored, 20)
    for prefix in probes:
        for after in rng.sample(probes, 6) + [""]:
            expected = [k for k in ordered if k.startswith(prefix) and k.encode() > after.encode()]
            assert list(store.list(BUCKET, prefix, after)) == expected, (prefix, after)


def test_listing_reads_only_the_prefix_folder(store, tmp_path, monkeypatch):
    for day in range(1, 8):
        for n in range(3):
            store.put(BUCKET, f"AWSLogs/1/CloudTrail/us-east-1/2024/01/{day:02}/f{n}", b"")
    scanned: list[str] = []
    real_scandir = os.scandir

    def recording_scandir(path):
        scanned.append(os.fsdecode(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording_scandir)
    keys = list(store.list(BUCKET, "AWSLogs/1/CloudTrail/us-east-1/2024/01/03/"))
    assert keys == [f"AWSLogs/1/CloudTrail/us-east-1/2024/01/03/f{n}" for n in range(3)]
    assert all(p.endswith("/01/03") for p in scanned) and scanned
    scanned.clear()
    keys = list(store.list(BUCKET, "AWSLogs/1/", start_after="AWSLogs/1/CloudTrail/us-east-1/2024/01/06/f2"))
    assert keys == [f"AWSLogs/1/CloudTrail/us-east-1/2024/01/07/f{n}" for n in range(3)]
    assert not any(p.endswith(("/01/01", "/01/02", "/01/05")) for p in scanned)


def test_internal_files_never_listed(store, tmp_path):
    store.put(BUCKET, "k", b"1", {"a": "b"})
    # the store's files sit in the hidden sibling .<bucket>.ctemu/ (issue 10), the bucket holds only "k"
    assert (tmp_path / "s3" / f".{BUCKET}.ctemu" / "meta" / "k.meta").is_file()
    assert [p.name for p in (tmp_path / "s3" / BUCKET).iterdir()] == ["k"]
    assert list(store.list(BUCKET)) == ["k"]
    assert list(store.list(BUCKET, ".ct")) == []


# -- crash safety and concurrency ---------------------------------------------------------------

CRASH_WRITER = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    from cloudtrail_emulator.generators.stores import LocalStore
    root, bucket, key, version, crash_at = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
    calls = 0
    def crashing(real):
        def call(*args, **kwargs):
            global calls
            calls += 1
            if calls == crash_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return call
    os.replace, os.fsync = crashing(os.replace), crashing(os.fsync)
    LocalStore(root).put(bucket, key, version.encode() * 1000, {"version": version})
""")

LOOP_WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from cloudtrail_emulator.generators.stores import LocalStore
    store = LocalStore(sys.argv[2])
    i = 0
    while True:
        i += 1
        store.put(sys.argv[3], "k", str(i).encode() * (1 + i % 5000), {"version": str(i)})
        print(i, flush=True)
""")


def _consistent(obj) -> str:
    """The version an object claims, after checking body, metadata and etag agree."""
    version = obj.metadata["version"]
    assert obj.body == version.encode() * (len(obj.body) // len(version)) and obj.body
    assert obj.etag == hashlib.md5(obj.body).hexdigest()
    return version


def test_sigkill_at_every_step_of_a_put(store, tmp_path, monkeypatch):
    """Kill the writer at each os.replace/os.fsync of an overwrite: old pair or new pair, nothing else."""
    root = str(tmp_path / "s3")
    steps = range(1, 9)
    for step in steps:
        store.put(BUCKET, f"obj{step}", b"old" * 1000, {"version": "old"})
    procs = {step: subprocess.Popen([sys.executable, "-c", CRASH_WRITER, str(REPO), root, BUCKET,
                                     f"obj{step}", "new", str(step)]) for step in steps}
    outcome = {}
    for step, proc in procs.items():
        code = proc.wait(timeout=30)
        obj = store.get(BUCKET, f"obj{step}")
        outcome[step] = (code == -signal.SIGKILL, _consistent(obj))
        assert store.head(BUCKET, f"obj{step}").metadata == obj.metadata
    assert list(store.list(BUCKET)) == [f"obj{step}" for step in steps]
    with monkeypatch.context() as m:  # heads find the matching record without hashing bodies
        m.setattr(hashlib, "md5", None)
        assert [store.head(BUCKET, f"obj{s}").metadata["version"] for s in steps] == [v for _, v in outcome.values()]
    # the body rename (the 4th call) is the commit point: killed up to it -> old, after it -> new
    assert {s: outcome[s] for s in steps} == {s: (s < 8, "old" if s <= 4 else "new") for s in steps}
    for step in steps:  # leftovers do not get in the way of the next write
        store.put(BUCKET, f"obj{step}", b"again", {"version": "again"})
        assert _consistent(store.get(BUCKET, f"obj{step}")) == "again"


def test_sigkill_in_a_write_loop_never_tears_an_object(store, tmp_path):
    rng = random.Random(11)
    last_seen = 0
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", LOOP_WRITER, str(REPO), str(tmp_path / "s3"), BUCKET],
                                stdout=subprocess.PIPE, text=True)
        proc.stdout.readline()  # running: at least one put done
        time.sleep(rng.uniform(0.01, 0.15))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        version = int(_consistent(store.get(BUCKET, "k")))
        assert version >= 1
        last_seen = version
        assert list(store.list(BUCKET)) == ["k"]
    assert last_seen >= 1


def test_threads_read_whole_objects_while_others_write(tmp_path):
    store = LocalStore(tmp_path / "s3", fsync=False)
    store.create_bucket(BUCKET)
    store.put(BUCKET, "k", b"0", {"version": "0"})
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(n: int) -> None:
        for i in range(40):
            v = str(n * 1000 + i)
            store.put(BUCKET, "k", v.encode() * (1 + i * 50), {"version": v})

    def reader() -> None:
        try:
            while not done.is_set():
                _consistent(store.get(BUCKET, "k"))
                head = store.head(BUCKET, "k")
                assert head.etag and head.metadata["version"]
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(1, 4)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in readers:
        t.join()
    assert not errors, errors[0]
    _consistent(store.get(BUCKET, "k"))


def test_copied_tree_keeps_metadata_and_outside_rewrites_lose_it(store, tmp_path):
    store.put(BUCKET, "d/sig", b"digest", {"signature": "00ff"})
    shutil.copytree(tmp_path / "s3", tmp_path / "copy")  # new inodes
    copy = LocalStore(tmp_path / "copy")
    assert copy.get(BUCKET, "d/sig").metadata == {"signature": "00ff"}
    (tmp_path / "copy" / BUCKET / "d" / "sig").write_bytes(b"tampered")
    obj = copy.get(BUCKET, "d/sig")
    assert (obj.body, obj.metadata, obj.etag) == (b"tampered", {}, hashlib.md5(b"tampered").hexdigest())


# -- directory mode and open_target -------------------------------------------------------------


def test_directory_mode_writes_keys_directly(tmp_path):
    out = tmp_path / "out"
    store = LocalStore.directory(out, "my-logs")
    store.create_bucket("my-logs")
    store.put("my-logs", "AWSLogs/123456789012/CloudTrail/x.json.gz", b"x")
    assert (out / "AWSLogs" / "123456789012" / "CloudTrail" / "x.json.gz").read_bytes() == b"x"
    assert store.list_buckets() == ["my-logs"]
    assert list(store.list("my-logs")) == ["AWSLogs/123456789012/CloudTrail/x.json.gz"]
    with pytest.raises(NoSuchBucket):
        store.put("other-logs", "k", b"")


def test_open_target_local_directory(tmp_path):
    store, bucket, prefix = open_target(str(tmp_path / "out" / "deeper"), data_dir=tmp_path / "data",
                                        endpoint_url=None, bucket=None)
    assert (bucket, prefix) == (DEFAULT_BUCKET, "")
    store.put(bucket, "AWSLogs/a", b"1")
    assert (tmp_path / "out" / "deeper" / "AWSLogs" / "a").exists()
    assert not (tmp_path / "data").exists()


def test_open_target_embedded_s3(tmp_path):
    store, bucket, prefix = open_target("s3://my-trail-bucket/team/a/", data_dir=tmp_path / "data",
                                        endpoint_url=None, bucket=None)
    assert (bucket, prefix) == ("my-trail-bucket", "team/a")
    assert isinstance(store, LocalStore) and store.bucket_exists("my-trail-bucket")
    store.put(bucket, f"{prefix}/AWSLogs/k", b"1")
    assert (tmp_path / "data" / "s3" / "my-trail-bucket" / "team" / "a" / "AWSLogs" / "k").exists()


@pytest.mark.parametrize("target", ["s3://Bad_Bucket/x", "s3://", "s3://ok-bucket/../x", "gs://bucket", ""])
def test_open_target_bad_targets(tmp_path, target):
    with pytest.raises(GeneratorError):
        open_target(target, data_dir=tmp_path / "data", endpoint_url=None, bucket=None)
    assert not (tmp_path / "data").exists()


def test_open_target_unwritable_directory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(GeneratorError, match="cannot write to"):
        open_target(str(blocker / "out"), data_dir=tmp_path / "data", endpoint_url=None, bucket=None)
    with pytest.raises(GeneratorError, match="cannot write to"):
        open_target("/proc/cloudtrail-emulator-out", data_dir=tmp_path / "data", endpoint_url=None, bucket=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


# -- S3Store on moto ----------------------------------------------------------------------------


def test_s3store_round_trip_and_order(moto_s3):
    s3 = S3Store(moto_s3, region="us-east-1")
    s3.create_bucket("moto-bucket")
    s3.create_bucket("moto-bucket")
    assert s3.bucket_exists("moto-bucket") and not s3.bucket_exists("not-there-bucket")
    s3.put("moto-bucket", "digest/1", b"body", {"Signature": "ab12", "Signature-Algorithm": "SHA256withRSA"})
    obj = s3.get("moto-bucket", "digest/1")
    assert obj.body == b"body" and obj.metadata == {"signature": "ab12", "signature-algorithm": "SHA256withRSA"}
    assert obj.etag == hashlib.md5(b"body").hexdigest() and obj.size == 4
    head = s3.head("moto-bucket", "digest/1")
    assert (head.body, head.size, head.metadata) == (b"", 4, obj.metadata)
    keys = ["a/b", "a.b", "a0", "é", "Z", "a-b"]
    for key in keys:
        s3.put("moto-bucket", f"order/{key}", b"")
    ordered = [f"order/{k}" for k in sorted(keys, key=lambda k: k.encode())]
    assert list(s3.list("moto-bucket", "order/")) == ordered
    assert list(s3.list("moto-bucket", "order/", start_after="order/a.b")) == ordered[3:]
    assert "moto-bucket" in s3.list_buckets()
    with pytest.raises(NoSuchKey, match="s3://moto-bucket/missing"):
        s3.get("moto-bucket", "missing")
    with pytest.raises(NoSuchKey):
        s3.head("moto-bucket", "missing")
    with pytest.raises(NoSuchBucket):
        s3.get("no-such-bucket-here", "k")
    s3.delete("moto-bucket", "digest/1")
    with pytest.raises(NoSuchKey):
        s3.get("moto-bucket", "digest/1")


def test_open_target_s3_endpoint(moto_s3, tmp_path):
    S3Store(moto_s3).create_bucket("target-bucket")
    store, bucket, prefix = open_target("s3://target-bucket/p", data_dir=tmp_path, endpoint_url=moto_s3, bucket=None)
    assert isinstance(store, S3Store) and (bucket, prefix) == ("target-bucket", "p")
    with pytest.raises(GeneratorError, match="does not exist"):
        open_target("s3://absent-bucket", data_dir=tmp_path, endpoint_url=moto_s3, bucket=None)


def test_unreachable_endpoint_fails_fast():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s3 = S3Store(f"http://127.0.0.1:{port}", credentials=Credentials("x", "y"), region="us-east-1")
    started = time.monotonic()
    with pytest.raises(GeneratorError, match=rf"cannot reach S3 endpoint http://127.0.0.1:{port}"):
        s3.get("some-bucket", "k")
    assert time.monotonic() - started < 5
