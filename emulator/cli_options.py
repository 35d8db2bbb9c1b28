"""Argument parsing shared by the subcommands: one-line errors, argument types, and the table of
environment variables that set `serve` and `seed` options (README "Environment variables").

An option's environment variable replaces its default (the command line still wins); `--help`
shows the variable and the default in effect. Flags take `1/true/yes/on` or `0/false/no/off`;
repeatable options take a comma-separated list (added to by the command line).
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

#: (subcommand, option) -> environment variable; the one table the parsers, `--help` and README use
ENV_VARS: dict[str, dict[str, str]] = {
    "serve": {
        "--host": "CTEMU_HOST",
        "--port": "CTEMU_PORT",
        "--data-dir": "CTEMU_DATA_DIR",
        "--log-level": "CTEMU_LOG_LEVEL",
        "--seed": "CTEMU_SEED",
        "--default-account": "CTEMU_DEFAULT_ACCOUNT",
        "--relax-bucket-policy": "CTEMU_RELAX_BUCKET_POLICY",
        "--throttle-lookup": "CTEMU_THROTTLE_LOOKUP",
        "--lookup-delay": "CTEMU_LOOKUP_DELAY",
        "--delivery-interval": "CTEMU_DELIVERY_INTERVAL",
        "--digest-interval": "CTEMU_DIGEST_INTERVAL",
        "--auth": "CTEMU_AUTH",
        "--access-key": "CTEMU_ACCESS_KEYS",
        "--external-bucket": "CTEMU_EXTERNAL_BUCKETS",
    },
    "seed": {
        "--data-dir": "CTEMU_DATA_DIR",
        "--accounts": "CTEMU_SEED_ACCOUNTS",
        "--days": "CTEMU_SEED_DAYS",
        "--count": "CTEMU_SEED_COUNT",
        "--regions": "CTEMU_SEED_REGIONS",
        "--scenarios": "CTEMU_SEED_SCENARIOS",
        "--scenario": "CTEMU_SEED_SCENARIO_NAMES",
        "--seed": "CTEMU_SEED_NUMBER",
        "--access-style": "CTEMU_SEED_ACCESS_STYLE",
        "--noisy-admin": "CTEMU_SEED_NOISY_ADMIN",
    },
}

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}
LOG_LEVELS = ("debug", "info", "warning", "error")


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like the rest of the CLI's; a bad value in an
    option's environment variable is such an error too, once this (sub)command is the one parsed."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.env_errors: list[str] = []

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: Any = None):  # type: ignore[override]
        parsed = super().parse_known_args(args, namespace)
        if self.env_errors:
            self.error(self.env_errors[0])
        return parsed


#: `--access-style` of the commands that generate activity (generate, seed)
ACCESS_STYLE_HELP = ("how the organisation's people and pipelines reach AWS, in every account: iam-users (their "
                     "IAM users' access keys and console passwords, Terraform from laptops and CI with a deploy "
                     "user's keys: the style of the reference trails the realism figures are measured against), "
                     "identity-center (permission-set sessions, OIDC pipelines), mixed (both), per-account "
                     "(each account draws one from the seed)")
#: `--noisy-admin` of the commands that generate activity
NOISY_ADMIN_HELP = ("add admins' rare chores that detection rules flag (trail maintenance, Run Command, key "
                    "rotation, snapshot sharing, root sign-ins); the default baseline has none")


def env_option(parser: Parser, command: str, flag: str, *, help: str, **kwargs: Any) -> None:
    """`parser.add_argument(flag, ...)` whose default comes from its variable in ENV_VARS when set;
    `help` gets the default and the variable appended."""
    var = ENV_VARS[command][flag]
    action, convert = kwargs.get("action"), kwargs.get("type") or str
    raw = os.environ.get(var)
    try:
        if raw is not None and action == "store_true":
            kwargs["default"] = _flag(raw)
        elif raw is not None and action == "append":
            kwargs["default"] = [convert(part.strip()) for part in raw.split(",") if part.strip()]
        elif raw is not None:
            value = convert(raw)         # checked now; argparse converts the string default itself
            if "choices" in kwargs and value not in kwargs["choices"]:
                raise argparse.ArgumentTypeError(f"expected one of {', '.join(kwargs['choices'])}")
            kwargs["default"] = raw
    except (argparse.ArgumentTypeError, ValueError) as exc:
        parser.env_errors.append(f"{var}={raw!r}: {exc}")
    if action == "store_true":
        suffix = f"env {var}=1"
    elif action == "append":
        suffix = f"repeatable; env {var}, comma-separated"
    else:
        suffix = f"default: %(default)s; env {var}"
    parser.add_argument(flag, help=f"{help} ({suffix})", **kwargs)


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE | FALSE:
        return value in TRUE
    raise argparse.ArgumentTypeError("expected 1/true/yes/on or 0/false/no/off")


# -- argument types --------------------------------------------------------------------------------

def count(text: str) -> int:
    """A whole number, zero or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, not {value}")
    return value


def regions(text: str) -> list[str]:
    """A comma-separated list of regions."""
    return [part.strip() for part in text.split(",") if part.strip()]


def port(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    if not text.strip().isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535 (0: any free port), not {text!r}")
    return int(text)


def _seconds(check: Callable[[float], bool], wanted: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not check(value):
            raise argparse.ArgumentTypeError(f"expected {wanted} seconds, not {text!r}")
        return value
    parse.__name__ = "seconds"
    return parse


positive_seconds = _seconds(lambda v: 0 < v < float("inf"), "a positive number of")
non_negative_seconds = _seconds(lambda v: 0 <= v < float("inf"), "zero or more")


def digest_seconds(text: str) -> int:
    """Whole seconds from 1 to 3600 (a digest period)."""
    if not text.isdigit() or not 1 <= int(text) <= 3600:
        raise argparse.ArgumentTypeError(f"expected whole seconds from 1 to 3600, not {text!r}")
    return int(text)


def log_level(text: str) -> str:
    value = text.strip().lower()
    if value not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return value


def external_bucket(text: str) -> tuple[str, str]:
    """`BUCKET=ENDPOINT_URL`."""
    bucket, sep, url = text.partition("=")
    if not sep or not bucket or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected BUCKET=http(s)://endpoint, not {text!r}")
    return bucket, url


def access_key(text: str):
    """`ID:SECRET[:ACCOUNT]` as an AccessKey."""
    from cloudtrail_emulator.emulator.config import AccessKey

    try:
        return AccessKey.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
