"""`cloudtrail-emulator` as a user types it: errors as one line, --version, help, environment
variables, the request log; all through the venv's console script."""
from __future__ import annotations

import errno
import re
import signal
import socket
import subprocess
import tomllib
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from fixtures_serve import CLI, Serve, cli_env, run_cli

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The single stderr line of a refused command (no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_version_is_the_package_version():
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"cloudtrail-emulator {version}"


def test_no_arguments_print_usage_and_exit_2():
    result = run_cli()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: cloudtrail-emulator ") and "serve" in result.stderr


def flat(text: str) -> str:
    return " ".join(text.split())


def test_every_serve_and_seed_option_has_help_and_shows_its_default_and_variable():
    wide = cli_env(COLUMNS="1000")           # no line breaks inside the texts
    serve_help, seed_help = run_cli("serve", "--help", env=wide).stdout, run_cli("seed", "--help", env=wide).stdout
    serve, seed = flat(serve_help), flat(seed_help)
    assert "(default: 127.0.0.1; env CTEMU_HOST)" in serve
    assert "(default: 4566; env CTEMU_PORT)" in serve
    assert "(default: .cloudtrail-emulator; env CTEMU_DATA_DIR)" in serve
    assert "(default: info; env CTEMU_LOG_LEVEL)" in serve
    assert "(default: 0.0; env CTEMU_LOOKUP_DELAY)" in serve
    assert "(default: us-east-1; env CTEMU_SEED_REGIONS)" in seed
    assert "(default: 3; env CTEMU_SEED_ACCOUNTS)" in seed
    for text in (serve_help, seed_help):
        options = re.findall(r"^  (--[a-z-]+)(.*?)(?=^  -|\Z)", text, re.M | re.S)
        assert len(options) >= 8
        for flag, described in options:
            described = " ".join(described.split())
            assert "default" in described or "env CTEMU_" in described or flag in ("--endpoint-url", "--bucket"), flag


def test_environment_sets_defaults_and_help_shows_them():
    env = cli_env(CTEMU_PORT="4999", CTEMU_SEED_REGIONS="eu-west-1,us-east-1", COLUMNS="1000")
    assert "(default: 4999; env CTEMU_PORT)" in flat(run_cli("serve", "--help", env=env).stdout)
    assert "(default: eu-west-1,us-east-1; env CTEMU_SEED_REGIONS)" in flat(run_cli("seed", "--help", env=env).stdout)


@pytest.mark.parametrize("args, env, message", [
    (["--port", "70000"], {}, "argument --port: expected a port from 0 to 65535 (0: any free port), not '70000'"),
    (["--port", "http"], {}, "argument --port: expected a port from 0 to 65535 (0: any free port), not 'http'"),
    ([], {"CTEMU_PORT": "abc"}, "CTEMU_PORT='abc': expected a port from 0 to 65535 (0: any free port), not 'abc'"),
    ([], {"CTEMU_RELAX_BUCKET_POLICY": "maybe"}, "CTEMU_RELAX_BUCKET_POLICY='maybe': expected 1/true/yes/on or 0/false/no/off"),
    ([], {"CTEMU_AUTH": "basic"}, "CTEMU_AUTH='basic': expected one of none, sigv4"),
    ([], {"CTEMU_ACCESS_KEYS": "AKIA1:s1,broken"}, "CTEMU_ACCESS_KEYS='AKIA1:s1,broken': expected ID:SECRET[:ACCOUNT], not 'broken'"),
    (["--lookup-delay", "-1"], {}, "argument --lookup-delay: expected zero or more seconds, not '-1'"),
    (["--log-level", "loud"], {}, "argument --log-level: expected one of debug, info, warning, error, not 'loud'"),
])
def test_bad_options_are_one_line_and_exit_2(args, env, message):
    result = run_cli("serve", *args, env=cli_env(**env))
    assert result.returncode == 2
    assert one_error_line(result) == f"cloudtrail-emulator serve: error: {message}"


@pytest.fixture
def taken_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_port_in_use_is_one_line(taken_port):
    result = run_cli("serve", "--port", str(taken_port), "--data-dir", ":memory:")
    assert result.returncode == 1
    assert one_error_line(result) == (f"cloudtrail-emulator: error: port {taken_port} on 127.0.0.1 is already "
                                      "in use; --port 0 picks a free port")


def test_port_4566_in_use_names_localstack():
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("127.0.0.1", 4566))
        holder.listen()
    except OSError as exc:          # something else holds 4566 already: in use all the same
        assert exc.errno == errno.EADDRINUSE
    try:
        result = run_cli("serve", "--data-dir", ":memory:")
    finally:
        holder.close()
    assert result.returncode == 1
    line = one_error_line(result)
    assert "port 4566 on 127.0.0.1 is already in use (4566 is LocalStack's port too" in line


def test_data_dir_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    result = run_cli("serve", "--port", "0", "--data-dir", str(tmp_path / "a-file" / "data"))
    assert result.returncode == 1
    assert one_error_line(result) == f"cloudtrail-emulator: error: cannot use data dir {tmp_path / 'a-file' / 'data'}: Not a directory"


def test_unknown_host_is_one_line():
    result = run_cli("serve", "--host", "no-such-host.invalid", "--port", "0", "--data-dir", ":memory:")
    assert result.returncode == 1
    assert one_error_line(result).startswith("cloudtrail-emulator: error: cannot listen on no-such-host.invalid: ")


def cloudtrail(url: str):
    return boto3.client("cloudtrail", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))


def test_port_0_serves_on_the_printed_url_and_logs_each_request():
    server = Serve(env=cli_env(CTEMU_PORT="0", CTEMU_DATA_DIR=":memory:"))
    try:
        server.serving()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url) and server.port != 0
        assert cloudtrail(server.url).describe_trails()["trailList"] == []
        line = server.wait_for_line(r"POST cloudtrail DescribeTrails 200 [0-9.]+ms$").string
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO POST cloudtrail DescribeTrails 200 [0-9.]+ms", line)
        with pytest.raises(Exception):
            cloudtrail(server.url).get_trail(Name="missing")
        server.wait_for_line(r"INFO POST cloudtrail GetTrail 400 [0-9.]+ms$")
        boto3.client("s3", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").list_buckets()
        server.wait_for_line(r"INFO GET s3 ListBuckets 200 [0-9.]+ms$")
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.stderr
    assert not any("health" in line for line in server.lines)         # probes log at debug only


def test_log_level_warning_keeps_request_lines_out():
    server = Serve("--port", "0", "--data-dir", ":memory:", env=cli_env(CTEMU_LOG_LEVEL="warning"))
    try:
        cloudtrail(server.serving().url).describe_trails()
    finally:
        assert server.stop(signal.SIGTERM) == 0, server.stderr
    assert not any("DescribeTrails" in line for line in server.lines), server.stderr


def test_readme_documents_every_environment_variable():
    from cloudtrail_emulator.emulator.cli_options import ENV_VARS

    text = README.read_text()
    rows = dict(re.findall(r"^\| `(CTEMU_[A-Z_]+)` \| `(--[a-z-]+)", text, re.M))
    documented = {(var, flag) for var, flag in rows.items()}
    wanted = {(var, flag) for table in ENV_VARS.values() for flag, var in table.items()}
    assert documented == wanted


def test_closed_stdout_is_not_a_traceback():
    proc = subprocess.Popen([CLI, "scenarios", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cli_env())
    proc.stdout.close()                        # the reader is gone before the first line (`| head -0`)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141        # as a program killed by SIGPIPE
    assert stderr == ""
