"""The `serve` and `seed` subcommands: their options (each also an environment variable, see
cli_options.ENV_VARS), the request log's setup, and how a stop signal ends the process."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from pathlib import Path

from cloudtrail_emulator.emulator.cli_options import (
    ACCESS_STYLE_HELP, LOG_LEVELS, NOISY_ADMIN_HELP, Parser, access_key, count, digest_seconds, env_option,
    external_bucket, log_level, non_negative_seconds, port, positive_seconds, regions)
from cloudtrail_emulator.emulator.stop_signals import catch_stop_signals
from cloudtrail_emulator.generators.access_styles import ACCESS_STYLE_CHOICES, DEFAULT_ACCESS_STYLE
from cloudtrail_emulator.generators.errors import GeneratorError

PROG = "cloudtrail-emulator"
DATA_DIR = ".cloudtrail-emulator"
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def add_seed_parser(commands: argparse._SubParsersAction) -> None:
    sd = commands.add_parser("seed", help="make a demo organization: trails, buckets, topics, signed history",
                             description="Create an organization of accounts with an organization trail, a "
                             "trail per member account (multi-region, log-file validation), buckets with "
                             "CloudTrail's bucket policy, an SNS topic per trail and days of signed history "
                             "with attack scenarios, in --data-dir for `serve`. Running it again leaves what "
                             "exists alone. Refuses while a `serve` holds --data-dir.")
    seed_arguments(sd)


def seed_arguments(sd: Parser) -> None:
    """The `seed` options (also read by `serve --seed`)."""
    env_option(sd, "seed", "--accounts", type=int, default=3, help="accounts in the organization")
    env_option(sd, "seed", "--days", type=float, default=2.0, help="days of history")
    env_option(sd, "seed", "--count", type=count, default=20_000, help="records in the organization's history")
    env_option(sd, "seed", "--regions", type=regions, default="us-east-1",
               help="comma-separated regions; the first is the trails' home region")
    env_option(sd, "seed", "--scenarios", type=count, default=3, metavar="N",
               help="random attack scenarios from the library")
    env_option(sd, "seed", "--scenario", action="append", default=[], metavar="NAME",
               help="a named scenario instead of random ones, by its name or Stratus Red Team id "
               "(see `scenarios list`)")
    env_option(sd, "seed", "--seed", type=int, default=0, help="same seed, same accounts and history")
    env_option(sd, "seed", "--access-style", choices=ACCESS_STYLE_CHOICES, default=DEFAULT_ACCESS_STYLE,
               help=ACCESS_STYLE_HELP)
    env_option(sd, "seed", "--noisy-admin", action="store_true", help=NOISY_ADMIN_HELP)
    env_option(sd, "seed", "--data-dir", type=Path, default=Path(DATA_DIR), help="state directory that `serve` uses")
    sd.add_argument("--endpoint-url", help="write the history to --bucket at this S3-compatible endpoint "
                    "instead (one prefix per trail; no trails or live delivery there) (default: none, "
                    "the embedded store in --data-dir)")
    sd.add_argument("--bucket", help="the bucket at --endpoint-url (default: none)")


def add_serve_parser(commands: argparse._SubParsersAction) -> None:
    srv = commands.add_parser("serve", help="run the emulator server",
                              description="Serve CloudTrail's API, an S3-compatible endpoint, SNS and the "
                              "control API on one port until SIGINT (Ctrl-C, exit 130) or SIGTERM (exit 0); "
                              "either stops cleanly. One log line per request at level info.")
    env_option(srv, "serve", "--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all)")
    env_option(srv, "serve", "--port", type=port, default=4566, help="port to listen on (0: any free port)")
    env_option(srv, "serve", "--data-dir", default=DATA_DIR,
               help="state directory, held by one process at a time; :memory: for throwaway state")
    env_option(srv, "serve", "--log-level", type=log_level, default="info", choices=LOG_LEVELS,
               help="info: one line per request; debug adds health probes; warning and error: problems only")
    env_option(srv, "serve", "--seed", action="store_true",
               help="run `seed` on --data-dir first, with its defaults or the CTEMU_SEED_* variables "
               "(a seeded data dir is left as it is)")
    env_option(srv, "serve", "--default-account", default="123456789012",
               help="account of requests whose access key id is not a 12-digit account id")
    env_option(srv, "serve", "--relax-bucket-policy", action="store_true",
               help="let CreateTrail/UpdateTrail accept a bucket whose policy does not let CloudTrail "
               "write (the bucket must still exist)")
    env_option(srv, "serve", "--throttle-lookup", action="store_true",
               help="apply AWS's LookupEvents limit of 2 requests per second per account and region")
    env_option(srv, "serve", "--lookup-delay", type=non_negative_seconds, default=0.0, metavar="SECONDS",
               help="seconds before a call shows in LookupEvents (0: at once; AWS takes minutes)")
    env_option(srv, "serve", "--delivery-interval", type=positive_seconds, default=300.0, metavar="SECONDS",
               help="seconds between live log-file deliveries (AWS: about 300)")
    env_option(srv, "serve", "--digest-interval", type=digest_seconds, default=3600, metavar="SECONDS",
               help="seconds per digest period, 1-3600 (AWS: 3600; shorter for demos)")
    env_option(srv, "serve", "--auth", choices=["none", "sigv4"], default="none",
               help="none: accept any credentials; sigv4: verify AWS Signature Version 4 against the "
               "--access-key credentials (the /_emulator/ control API stays open)")
    env_option(srv, "serve", "--access-key", action="append", type=access_key, default=[],
               metavar="ID:SECRET[:ACCOUNT]",
               help="a credential --auth sigv4 accepts; ACCOUNT (12 digits) is the account its calls act "
               "in (default: --default-account)")
    env_option(srv, "serve", "--external-bucket", action="append", type=external_bucket, default=[],
               metavar="BUCKET=ENDPOINT_URL",
               help="deliver trails that name BUCKET into that bucket on an outside S3-compatible "
               "endpoint (credentials from the AWS_* environment variables)")


def run_seed(args: argparse.Namespace) -> int:
    from cloudtrail_emulator.emulator.seed import SeedOptions, seed

    summary = seed(SeedOptions(
        data_dir=args.data_dir, accounts=args.accounts, days=args.days, regions=tuple(args.regions),
        seed=args.seed, count=args.count, scenarios=args.scenarios, scenario_names=tuple(args.scenario),
        endpoint_url=args.endpoint_url, bucket=args.bucket, access_style=args.access_style,
        noisy_admin=args.noisy_admin))
    print(summary.render(), flush=True)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from cloudtrail_emulator.emulator.config import EmulatorConfig
    from cloudtrail_emulator.emulator.data_dir_lock import hold_data_dir
    from cloudtrail_emulator.emulator.server import serve

    if args.auth == "sigv4" and not args.access_key:
        raise GeneratorError("--auth sigv4 needs at least one --access-key ID:SECRET[:ACCOUNT]")
    config = EmulatorConfig.from_data_dir(
        args.data_dir, default_account=args.default_account,
        relax_bucket_policy=args.relax_bucket_policy, throttle_lookup=args.throttle_lookup,
        lookup_delay_seconds=args.lookup_delay,
        delivery_interval=args.delivery_interval, digest_interval=args.digest_interval,
        auth=args.auth, access_keys=tuple(args.access_key), external_buckets=dict(args.external_bucket),
    )
    if args.seed and config.data_dir is None:
        raise GeneratorError("--seed needs a --data-dir to seed, not :memory:")
    catch_stop_signals()                 # the process is the server's from here on
    configure_logging(args.log_level)

    def ready(url: str) -> None:
        print(f"{PROG} serving on {url} (data: {args.data_dir})", file=sys.stderr, flush=True)

    with hold_data_dir(config.data_dir, "serve"):
        if args.seed:
            seed_args = Parser(prog=f"{PROG} serve --seed")
            seed_arguments(seed_args)
            run_seed(seed_args.parse_args(["--data-dir", str(config.data_dir)]))
        signum = serve(config, args.host, args.port, ready=ready)
    print(f"{PROG}: stopped cleanly ({signal.Signals(signum).name})", file=sys.stderr, flush=True)
    return 130 if signum == signal.SIGINT else 0


def configure_logging(level: str) -> None:
    """The emulator's loggers at `level`, other libraries' at warning or above, to stderr in UTC."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    numeric = logging.getLevelName(level.upper())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(max(numeric, logging.WARNING))
    logging.getLogger("cloudtrail_emulator").setLevel(numeric)
