"""The built wheel as a stranger installs it: into a fresh virtualenv (its dependencies from the package
registry), used from a project directory that has its own `generators.py`, `emulator.py` and
`schemas/` package, and through its console script.

The wheel is built offline from a clean copy of the sources (`pip wheel --no-deps --no-build-isolation`
with the test virtualenv's setuptools), so no stale `build/` of the checkout leaks into it. Issue 9's
bug: the plugin imported top-level `generators...`, which a project's own `generators.py` shadowed
(`ModuleNotFoundError: No module named 'generators.errors'`).
"""
from __future__ import annotations

import configparser
import csv
import gzip
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from fixtures_server import free_port
from botocore.exceptions import EndpointConnectionError

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("emulator", "generators", "schemas")        # the design card's top-level folders
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", *FOLDERS)
NAMESPACE = "cloudtrail_emulator"
PACKAGE_DATA = ("generators/data/catalog.json.gz", "schemas/record.schema.json",
                "schemas/logfile.schema.json", "schemas/digest.schema.json")
NOT_SOURCES = ("__pycache__", "*.pyc", "*.pyo")

# The user's project: modules named like the card's folders, imported before any fixture runs.
PROJECT_FILES = {
    "pytest.ini": "[pytest]\n",
    "generators.py": 'OWNER = "user-project"\n\n\ndef generate(count):\n    return list(range(count))\n',
    "emulator.py": 'OWNER = "user-project"\n\n\nclass Emulator:\n    """The project\'s own, not the plugin\'s."""\n',
    "schemas/__init__.py": 'OWNER = "user-project"\nRECORD = {"type": "object"}\n',
    "conftest.py": "import emulator\nimport generators\nimport schemas\n\nassert generators.generate(2) == [0, 1]\n",
    "test_uses_plugin.py": '''
import gzip
import json
import sys
from pathlib import Path

import emulator
import generators
import schemas

HERE = Path(__file__).resolve().parent
BUCKET = "user-trail-logs"
ACCOUNT = "123456789012"
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
     "Resource": f"arn:aws:s3:::{BUCKET}"},
    {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
     "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]}


def own_modules_still_imported():
    for name, module in (("generators", generators), ("emulator", emulator), ("schemas", schemas)):
        assert sys.modules[name] is module and module.OWNER == "user-project"
        assert Path(module.__file__).resolve().is_relative_to(HERE), module.__file__


def test_own_modules_and_installed_plugin(request):
    own_modules_still_imported()
    plugin = request.config.pluginmanager.get_plugin("cloudtrail_emulator")
    assert plugin.__name__ == "cloudtrail_emulator.emulator.pytest_plugin"
    assert Path(plugin.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()), plugin.__file__


def test_trail_through_the_fixture(cloudtrail_emulator):
    s3, cloudtrail = cloudtrail_emulator.client("s3"), cloudtrail_emulator.client("cloudtrail")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(POLICY))
    arn = cloudtrail.create_trail(Name="user-trail", S3BucketName=BUCKET)["TrailARN"]
    assert arn == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/user-trail"
    cloudtrail.start_logging(Name="user-trail")
    s3.put_object(Bucket=BUCKET, Key="notes/hello.txt", Body=b"hello")
    assert s3.get_object(Bucket=BUCKET, Key="notes/hello.txt")["Body"].read() == b"hello"
    [trail] = cloudtrail.describe_trails()["trailList"]
    assert (trail["Name"], trail["S3BucketName"], trail["TrailARN"]) == ("user-trail", BUCKET, arn)
    assert cloudtrail.get_trail_status(Name="user-trail")["IsLogging"] is True
    assert arn in cloudtrail_emulator.deliver()["trails"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="AWSLogs/")["Contents"]]
    bodies = [gzip.decompress(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()) for k in keys]
    records = [r for body in bodies for r in json.loads(body)["Records"]]
    assert all(k.startswith(f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/") for k in keys), keys
    assert "DescribeTrails" in {r["eventName"] for r in records}
    own_modules_still_imported()


def test_logs_factory(cloudtrail_logs):
    logs = cloudtrail_logs(count=50, seed=3)
    assert logs.log_keys and logs.digest_keys
    records = []
    for path in logs.paths:
        records += json.loads(gzip.decompress(path.read_bytes()))["Records"]
    assert len(records) == 50
    assert all(r["eventTime"].startswith("2024-05-01T00:") for r in records)
    digest = json.loads(gzip.decompress((logs.directory / logs.digest_keys[0]).read_bytes()))
    assert digest["digestSignatureAlgorithm"] == "SHA256withRSA"
    own_modules_still_imported()
''',
}


def clean_env(bin_dir: Path) -> dict[str, str]:
    """This process's environment without what points at the test virtualenv, pytest or AWS."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PYTEST_", "VIRTUAL_ENV", "AWS_", "COV_CORE"))}
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}


def run(command: list, *, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a clean copy of the sources, offline."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns(*NOT_SOURCES))
        else:
            shutil.copyfile(REPO / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", out, source], timeout=180)
    [built] = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel and pytest installed (dependencies from the registry); its bin."""
    root = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", root], timeout=120)
    bin_dir = root / "bin"
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheel, "pytest"], timeout=600,
        env=clean_env(bin_dir), cwd=root)
    return bin_dir


def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def source_files() -> set[str]:
    """Every file under the card's folders, as its path inside the namespace."""
    found = set()
    for folder in FOLDERS:
        for path in (REPO / folder).rglob("*"):
            relative = path.relative_to(REPO)
            if path.is_file() and "__pycache__" not in relative.parts and path.suffix not in (".pyc", ".pyo"):
                found.add(f"{NAMESPACE}/{relative.as_posix()}")
    return found


def test_wheel_has_one_namespace_and_every_source_file(wheel):
    names = wheel_names(wheel)
    tops = {name.split("/")[0] for name in names}
    [dist_info] = [t for t in tops if t.endswith(".dist-info")]
    assert tops == {NAMESPACE, dist_info}
    assert not tops & set(FOLDERS)
    with zipfile.ZipFile(wheel) as archive:
        record = list(csv.reader(io.TextIOWrapper(archive.open(f"{dist_info}/RECORD"), "utf-8")))
        assert archive.read(f"{dist_info}/top_level.txt").decode().split() == [NAMESPACE]
        for data in PACKAGE_DATA:
            body = archive.read(f"{NAMESPACE}/{data}")
            assert json.loads(gzip.decompress(body) if data.endswith(".gz") else body), data
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(f"{dist_info}/entry_points.txt").decode())
    assert sorted(row[0] for row in record) == sorted(names)
    assert not {row[0].split("/")[0] for row in record} & set(FOLDERS)
    shipped, sources = {n for n in names if n.startswith(f"{NAMESPACE}/")}, source_files()
    assert shipped == sources, (f"not in the wheel: {sorted(sources - shipped)}; "
                                f"only in the wheel: {sorted(shipped - sources)}")
    assert dict(entry_points["console_scripts"]) == {"cloudtrail-emulator": f"{NAMESPACE}.emulator.cli:main"}
    assert dict(entry_points["pytest11"]) == {NAMESPACE: f"{NAMESPACE}.emulator.pytest_plugin"}


def test_installed_venv_has_nothing_named_like_the_folders(venv):
    purelib = run([venv / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                  timeout=60, env=clean_env(venv)).stdout.strip()
    installed = {p.name for p in Path(purelib).iterdir()}
    assert NAMESPACE in installed and not installed & {*FOLDERS, *(f"{f}.py" for f in FOLDERS)}


def test_plugin_in_a_project_with_its_own_generators_emulator_schemas(venv, tmp_path):
    project = tmp_path / "project"
    for name, text in PROJECT_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    done = subprocess.run([str(venv / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
                          env=clean_env(venv), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout, done.stdout


def answered(server: subprocess.Popen, log: Path, call):
    """`call()`'s answer once the server accepts connections; fails if it exits or 60 s pass first."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return call()
        except EndpointConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server never answered:\n{log.read_text()}")
            time.sleep(0.1)


def test_console_script_generate_validate_serve(venv, tmp_path):
    cli, env = str(venv / "cloudtrail-emulator"), clean_env(venv)
    assert "generate" in run([cli, "--help"], timeout=60, env=env, cwd=tmp_path).stdout
    run([cli, "generate", "--output", "logs", "--count", "200", "--start", "2024-05-01T00:00:00Z",
         "--end", "2024-05-01T02:00:00Z", "--data-dir", "keys"], timeout=120, env=env, cwd=tmp_path)
    checked = run([cli, "validate", "logs", "--data-dir", "keys"], timeout=120, env=env, cwd=tmp_path).stdout
    assert re.search(r"^(\d+)/\1 digest files valid$", checked, re.M), checked
    assert re.search(r"^([1-9]\d*)/\1 log files valid$", checked, re.M), checked
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([cli, "serve", "--port", str(port), "--data-dir", ":memory:"], cwd=tmp_path,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        cloudtrail = boto3.client("cloudtrail", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing",
                                  config=Config(retries={"max_attempts": 1}, connect_timeout=2))
        assert answered(server, log, cloudtrail.describe_trails)["trailList"] == []
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGINT)
        try:
            code = server.wait(timeout=30)
        except subprocess.TimeoutExpired:       # a server that ignores SIGINT must not outlive the test
            server.kill()
            server.wait()
            raise
    assert code == 130, log.read_text()                  # SIGINT: a clean KeyboardInterrupt exit
