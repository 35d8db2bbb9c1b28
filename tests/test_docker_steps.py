"""docker/: the image's steps run for real without a Docker engine.

The Dockerfile is parsed, its COPY lines fill a stand-in image root, its `pip install` runs into a
fresh virtualenv, its CMD serves (on a free loopback port, a temporary data dir as the /data volume),
its HEALTHCHECK command probes that server, its STOPSIGNAL stops it by pid, and a restart on the same
data dir finds the state again. The container's settings are the Dockerfile's ENV (CTEMU_* variables,
with the port, host and /data swapped for a free loopback port and a temporary directory); CTEMU_SEED=1
seeds on start. Not run here: the base image, `useradd`/USER (needs root), and the
build's own dependency download: the virtualenv borrows the test virtualenv's packages and installs
the project with `--no-deps --no-build-isolation --no-index` (offline). `test_image_in_docker` does
the whole thing with an engine when `CTEMU_DOCKER_TESTS=1`.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.config import Config
from fixtures_server import free_port

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"
CMD = ["cloudtrail-emulator", "serve"]
SETTINGS = {"CTEMU_HOST": "0.0.0.0", "CTEMU_PORT": "4566", "CTEMU_DATA_DIR": "/data", "CTEMU_SEED": "0"}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined; comments and blank lines dropped."""
    instructions, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
        pending = ""
    return instructions


def exec_form(args: str) -> list[str]:
    """JSON (exec) form as a list; shell form as `/bin/sh -c`."""
    return json.loads(args) if args.startswith("[") else ["/bin/sh", "-c", args]


def only(instructions: list[Instruction], keyword: str) -> Instruction:
    [found] = [i for i in instructions if i.keyword == keyword]
    return found


def env_settings(instructions: list[Instruction]) -> dict[str, str]:
    """Every ENV instruction's `KEY=value` pairs, in order."""
    pairs = [word.partition("=") for i in instructions if i.keyword == "ENV" for word in shlex.split(i.args)]
    assert all(sep for _, sep, _ in pairs), pairs
    return {key: value for key, _, value in pairs}


def healthcheck_command(args: str) -> list[str]:
    """The CMD of `HEALTHCHECK [--option=value ...] CMD ...`."""
    match = re.fullmatch(r"((?:--[a-z-]+=\S+\s+)*)CMD\s+(.+)", args)
    assert match, args
    return exec_form(match.group(2))


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((DOCKER / "Dockerfile").read_text())


def test_dockerfile_contract(dockerfile):
    assert only(dockerfile, "FROM").args == "python:3.11-slim"
    keywords = [i.keyword for i in dockerfile]
    user = only(dockerfile, "USER").args
    assert user not in ("root", "0") and keywords.index("USER") < keywords.index("CMD")
    assert exec_form(only(dockerfile, "VOLUME").args) == ["/data"]
    assert only(dockerfile, "EXPOSE").args == "4566"
    assert only(dockerfile, "STOPSIGNAL").args == "SIGTERM"                  # docker stop's default
    assert exec_form(only(dockerfile, "CMD").args) == CMD
    assert SETTINGS.items() <= env_settings(dockerfile).items()
    probe = healthcheck_command(only(dockerfile, "HEALTHCHECK").args)
    assert probe[:2] == ["python", "-c"] and "urllib.request" in probe[2]
    assert "http://127.0.0.1:%s/_emulator/health" in probe[2] and "CTEMU_PORT" in probe[2]
    assert "curl" not in probe[2]


def test_dockerignore_sends_what_the_copies_need(dockerfile):
    rules = [line for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]

    def sent(path: str) -> bool:
        verdict = True
        for rule in rules:
            negated = rule.startswith("!")
            if fnmatch(path, rule.lstrip("!")) or path.startswith(rule.lstrip("!") + "/"):
                verdict = negated
        return verdict

    sources = [s for i in dockerfile if i.keyword == "COPY" for s in shlex.split(i.args)[:-1]]
    assert sources and all(sent(s) and (REPO / s).exists() for s in sources)
    assert not sent(".venv") and not sent("tests") and not sent(".git")


def test_compose_file():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    [service] = compose["services"].values()
    assert (DOCKER / service["build"]["context"]).resolve() == REPO
    assert (REPO / service["build"]["dockerfile"]) == DOCKER / "Dockerfile"
    [volume] = service["volumes"]
    name, target = volume.split(":")
    assert target == "/data" and name in compose["volumes"]
    assert any(str(port).endswith(":4566") for port in service["ports"])


@pytest.fixture(scope="module")
def image(dockerfile, tmp_path_factory) -> Path:
    """A virtualenv made by the Dockerfile's COPY and `pip install` steps; returns its bin directory."""
    root = tmp_path_factory.mktemp("image")
    for copy in (i for i in dockerfile if i.keyword == "COPY"):
        *sources, dest = shlex.split(copy.args)
        for source in sources:
            target = root / dest.lstrip("/") / (Path(source).name if dest.endswith("/") else "")
            if (REPO / source).is_dir():
                shutil.copytree(REPO / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(REPO / source, target)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    # the image downloads the dependencies; here they come from the test virtualenv, appended to sys.path
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "test-venv-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    [run] = [i for i in dockerfile if i.keyword == "RUN" and "pip install" in i.args]
    for step in (s.split() for s in run.args.split("&&")):
        if step[:2] == ["pip", "install"]:
            command = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                       "--no-build-isolation", "--no-index", *(str(root / a.lstrip("/")) for a in step[2:])]
            done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=root)
            assert done.returncode == 0, done.stderr
        else:
            assert step[:2] == ["rm", "-rf"], step
            for path in step[2:]:
                shutil.rmtree(root / path.lstrip("/"))
    return venv / "bin"


def image_env(bin_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_", "VIRTUAL_ENV"))}
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}


def container_env(dockerfile, bin_dir: Path, port: int, data: Path, **extra: str) -> dict[str, str]:
    """The image's environment with the Dockerfile's ENV, the container's port, host and /data swapped
    for a free loopback port and `data`, then `extra` (as `docker run -e`)."""
    swap = {"4566": str(port), "0.0.0.0": "127.0.0.1", "/data": str(data)}
    settings = {key: swap.get(value, value) for key, value in env_settings(dockerfile).items()
                if not key.startswith(("PYTHON", "PIP_"))}
    return {**image_env(bin_dir), **settings, **extra}


def probe(dockerfile, bin_dir: Path, port: int) -> int:
    """Run the HEALTHCHECK command in the container's environment on `port`; its exit code."""
    command = healthcheck_command(only(dockerfile, "HEALTHCHECK").args)
    env = {**image_env(bin_dir), "CTEMU_PORT": str(port)}
    return subprocess.run(command, env=env, capture_output=True, timeout=30).returncode


def start(dockerfile, bin_dir: Path, data: Path, log: Path, **extra: str) -> tuple[subprocess.Popen, int]:
    """Run the CMD as the container would, wait until the HEALTHCHECK passes."""
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(exec_form(only(dockerfile, "CMD").args), cwd=data,
                                env=container_env(dockerfile, bin_dir, port, data, **extra),
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60 if extra.get("CTEMU_SEED") == "1" else time.monotonic() + 20
    while probe(dockerfile, bin_dir, port) != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc, signal.SIGKILL)
            pytest.fail(f"server did not become healthy:\n{log.read_text()}")
        time.sleep(0.1)
    return proc, port


def stop(proc: subprocess.Popen, signum: int) -> int:
    """Send `signum` to the server's pid; kill it if it has not exited after 10 s."""
    if proc.poll() is None:
        os.kill(proc.pid, signum)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def trails(port: int) -> list[str]:
    client = boto3.client("cloudtrail", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          config=Config(retries={"max_attempts": 1}))
    return [t["Name"] for t in client.describe_trails()["trailList"]]


def test_image_steps_install_serve_probe_stop_restart(dockerfile, image, tmp_path):
    assert (image / "cloudtrail-emulator").exists()
    located = subprocess.run([str(image / "python"), "-c", "import cloudtrail_emulator.emulator as e; print(e.__file__)"],
                             cwd=tmp_path, env=image_env(image), capture_output=True, text=True, check=True)
    assert located.stdout.startswith(str(image.parent))          # the installed copy, not the repo
    data, log = tmp_path / "data", tmp_path / "server.log"
    data.mkdir()
    stop_signal = getattr(signal, only(dockerfile, "STOPSIGNAL").args)
    proc, port = start(dockerfile, image, data, log)
    try:
        from cloudtrail_emulator.emulator.testing import cloudtrail_bucket_policy
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        s3.create_bucket(Bucket="volume-logs")
        s3.put_bucket_policy(Bucket="volume-logs", Policy=cloudtrail_bucket_policy("volume-logs", ["123456789012"]))
        boto3.client("cloudtrail", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing").create_trail(
            Name="on-the-volume", S3BucketName="volume-logs")
    finally:
        code = stop(proc, stop_signal)
    assert code == 0, log.read_text()                            # SIGTERM: a clean stop
    assert "stopped cleanly (SIGTERM)" in log.read_text()
    assert probe(dockerfile, image, port) != 0                   # unhealthy once stopped
    assert (data / "state").is_dir() and (data / "s3" / "volume-logs").is_dir()
    proc, port = start(dockerfile, image, data, log)              # a new container on the same volume
    try:
        assert trails(port) == ["on-the-volume"]
    finally:
        stop(proc, stop_signal)


def test_image_seeds_on_start_when_asked(dockerfile, image, tmp_path):
    data, log = tmp_path / "data", tmp_path / "server.log"
    data.mkdir()
    small = {"CTEMU_SEED": "1", "CTEMU_SEED_ACCOUNTS": "2", "CTEMU_SEED_COUNT": "300", "CTEMU_SEED_DAYS": "0.2",
             "CTEMU_SEED_SCENARIOS": "1"}
    for run, made in enumerate(["trails (2 new, 0 already there)", "trails (0 new, 2 already there)"]):
        proc, port = start(dockerfile, image, data, log, **small)     # the second: a restarted container
        try:
            assert trails(port) == ["org-trail"]         # the management account's view
        finally:
            assert stop(proc, signal.SIGTERM) == 0, log.read_text()
        assert log.read_text().count(made) == 1, log.read_text()


@pytest.mark.skipif(os.environ.get("CTEMU_DOCKER_TESTS") != "1" or shutil.which("docker") is None,
                    reason="needs a Docker engine: set CTEMU_DOCKER_TESTS=1")
def test_image_in_docker(tmp_path):
    tag = "cloudtrail-emulator:test"
    subprocess.run(["docker", "build", "-f", str(DOCKER / "Dockerfile"), "-t", tag, str(REPO)],
                   check=True, timeout=900)
    container = subprocess.run(["docker", "run", "-d", "-p", "127.0.0.1::4566", tag], check=True,
                               capture_output=True, text=True).stdout.strip()
    try:
        deadline = time.monotonic() + 60
        status = ""
        while status != "healthy" and time.monotonic() < deadline:
            time.sleep(1)
            status = subprocess.run(["docker", "inspect", "-f", "{{.State.Health.Status}}", container],
                                    capture_output=True, text=True, check=True).stdout.strip()
        assert status == "healthy"
        mapped = subprocess.run(["docker", "port", container, "4566/tcp"], capture_output=True, text=True,
                                check=True).stdout.split()[0]
        assert trails(int(mapped.rsplit(":", 1)[1])) == []
        began = time.monotonic()
        subprocess.run(["docker", "stop", container], check=True, capture_output=True, timeout=60)
        assert time.monotonic() - began < 8                     # STOPSIGNAL reached the server
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
