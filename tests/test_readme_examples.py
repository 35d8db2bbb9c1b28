"""Every example in README.md runs as written, in README order, in one scratch working directory.

- ```python blocks run with the venv's python; ```sh / ```bash and indented blocks with
  `bash -e`, the venv's bin first on PATH, dummy AWS credentials in the environment.
- A block preceded by `<!-- not-tested: reason -->` is skipped with that reason (docker, the suite itself).
- A block preceded by `<!-- long-running: server -->` is started in the background and the test
  waits for `/_emulator/health`; it serves the blocks after it until the next long-running block
  or the end of the module. `make` blocks run in the repository (with `DATA_DIR` in the scratch
  directory and `--assume-old` for the venv stamp: the venv is installed already, and reinstalling
  would need the network).
- Ports: `4566` in an example becomes a free port; `127.0.0.1:9000` (an outside S3 server) becomes a
  moto S3 server the test starts, with the bucket `my-bucket` the README says must exist.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests
from fixtures_server import free_port

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
BIN = Path(sys.executable).parent
MARKER = re.compile(r"<!--\s*(not-tested|long-running):\s*(.*?)\s*-->")
SHELL = {"sh", "bash", "shell", "console"}


@dataclass(frozen=True)
class Example:
    line: int
    language: str        # "python" or "sh"
    code: str
    marker: tuple[str, str] | None

    @property
    def id(self) -> str:
        return f"line{self.line}-{self.language}"


def examples(text: str) -> list[Example]:
    """The README's fenced python/shell blocks and indented blocks, with the marker line before each."""
    lines = text.splitlines()
    found: list[Example] = []
    i = 0

    def marker_before(index: int) -> tuple[str, str] | None:
        j = index - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        match = MARKER.fullmatch(lines[j].strip()) if j >= 0 else None
        return (match.group(1), match.group(2)) if match else None

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            info = line[3:].strip().split()
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            language = info[0] if info else ""
            if language == "python" or language in SHELL:
                marker = marker_before(i)
                if "docker-only" in info:
                    marker = ("not-tested", "docker")
                found.append(Example(i + 1, "python" if language == "python" else "sh",
                                     "\n".join(lines[i + 1:end]) + "\n", marker))
            i = end + 1
        elif line.startswith("    ") and (i == 0 or not lines[i - 1].strip() or MARKER.fullmatch(lines[i - 1].strip())):
            end = i
            while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
                end += 1
            block = [text_line[4:] for text_line in lines[i:end]]
            found.append(Example(i + 1, "sh", "\n".join(block).strip() + "\n", marker_before(i)))
            i = end
        else:
            i += 1
    return found


EXAMPLES = examples(README.read_text())


class Workspace:
    """The scratch directory, the environment, the servers the examples need."""

    def __init__(self, root: Path, s3_url: str):
        self.root = root
        self.port = free_port()
        self.s3_url = s3_url
        self.env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                    "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
                    "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        self.server: subprocess.Popen | None = None

    def rewrite(self, code: str) -> str:
        return code.replace("127.0.0.1:9000", self.s3_url.removeprefix("http://")).replace("4566", str(self.port))

    def command(self, example: Example) -> tuple[list[str], Path]:
        code = self.rewrite(example.code)
        if example.language == "python":
            script = self.root / f"example_{example.line}.py"
            script.write_text(code)
            return [sys.executable, str(script)], self.root
        if code.lstrip().startswith("make "):
            make = code.split("#")[0].split()
            return [*make, "--assume-old=.venv/.installed", f"PORT={self.port}",
                    f"DATA_DIR={self.root / 'make-data'}"], REPO
        return ["bash", "-e", "-o", "pipefail", "-c", code], self.root

    def run(self, example: Example) -> subprocess.CompletedProcess:
        argv, cwd = self.command(example)
        return subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=120)

    def start_server(self, example: Example) -> None:
        self.stop_server()
        argv, cwd = self.command(example)
        log = open(self.root / f"server_{example.line}.log", "w")
        self.server = subprocess.Popen(argv, cwd=cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.server.poll() is None, (self.root / f"server_{example.line}.log").read_text()
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/_emulator/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server of the example at line {example.line} did not come up")

    def stop_server(self) -> None:
        """SIGINT to the process group the test started (make and the server under it), then wait."""
        if self.server is None:
            return
        try:
            os.killpg(self.server.pid, signal.SIGINT)
            self.server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()
        except ProcessLookupError:
            pass
        self.server = None


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, moto_s3) -> Iterator[Workspace]:
    boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1").create_bucket(Bucket="my-bucket")
    space = Workspace(tmp_path_factory.mktemp("readme"), moto_s3)
    try:
        yield space
    finally:
        space.stop_server()


def test_readme_has_examples_of_every_kind():
    kinds = {(e.language, e.marker[0] if e.marker else None) for e in EXAMPLES}
    assert {("python", None), ("sh", None), ("sh", "long-running")} <= kinds
    assert all(e.marker[1] for e in EXAMPLES if e.marker and e.marker[0] == "not-tested")   # a reason each


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_readme_example_runs(example: Example, workspace: Workspace):
    if example.marker and example.marker[0] == "not-tested":
        pytest.skip(f"README marks it not tested: {example.marker[1]}")
    if example.marker and example.marker[0] == "long-running":
        workspace.start_server(example)
        return
    result = workspace.run(example)
    assert result.returncode == 0, f"README line {example.line}:\n{example.code}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
