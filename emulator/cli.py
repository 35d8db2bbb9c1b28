"""The ``cloudtrail-emulator`` command line."""
from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.logfiles import DEFAULT_COMPRESSLEVEL
from cloudtrail_emulator.generators.times import format_time, parse_iso

PROG = "cloudtrail-emulator"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like the rest of the CLI's."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _timestamp(text: str) -> datetime:
    """Parses an ISO 8601 time (``2024-05-01``, ``2024-05-01T12:00:00Z``); naive means UTC."""
    try:
        return parse_iso(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, not {value}")
    return value


def _accounts(text: str) -> int | list[str]:
    """A number of accounts, or a comma-separated list of 12-digit account ids."""
    if text.isdigit() and len(text) != 12:
        value = int(text)
        if value < 1:
            raise argparse.ArgumentTypeError("needs at least one account")
        return value
    ids = [part.strip() for part in text.split(",") if part.strip()]
    bad = [i for i in ids if not (i.isdigit() and len(i) == 12)]
    if bad or not ids:
        raise argparse.ArgumentTypeError(f"account ids are 12 digits: {', '.join(bad) or text!r}")
    return ids


def _regions(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path(".cloudtrail-emulator"),
                        help="state directory: keyring and embedded object store (default: %(default)s)")
    parser.add_argument("--endpoint-url", help="S3-compatible endpoint for s3:// targets "
                        "(default: the embedded store in --data-dir)")
    parser.add_argument("--bucket", help="bucket name recorded in digests when the target is a local "
                        "directory (default: cloudtrail-emulator-logs)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Local AWS CloudTrail emulator and test-fixture generator.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = commands.add_parser("generate", help="write realistic log files and signed digests",
                              description="Generate CloudTrail records and deliver them as gzipped log "
                              "files in the AWSLogs/ layout with an hourly signed digest chain.")
    gen.add_argument("--count", type=_count, help="number of records (default: ~600/hour/account/region "
                     "over the range)")
    gen.add_argument("--start", type=_timestamp, help="first moment, ISO 8601 (default: one day before --end)")
    gen.add_argument("--end", type=_timestamp, help="end of the range, ISO 8601 (default: now)")
    gen.add_argument("--accounts", type=_accounts, default=1,
                     help="number of accounts (an organization when more than one) or a comma list of ids")
    gen.add_argument("--regions", type=_regions, default=["us-east-1"], help="comma-separated regions")
    gen.add_argument("--trail-name", default="management-events")
    gen.add_argument("--prefix", default="", help="S3 key prefix in front of AWSLogs/")
    gen.add_argument("--seed", type=int, default=0, help="same seed and options, same output")
    gen.add_argument("--output", required=True, help="local directory (it receives only the bucket's objects; "
                     "their S3 metadata goes to the hidden .DIR.ctemu beside it) or s3://bucket[/prefix]")
    gen.add_argument("--workers", type=int, help="processes (default: all cores for large runs)")
    gen.add_argument("--no-digests", action="store_true", help="log files only, no digest chain")
    gen.add_argument("--scenario", action="append", default=[], metavar="NAME",
                     help="play an attack scenario inside the baseline (repeatable; see `scenarios list`); "
                     "ground-truth labels go to DIR.labels.jsonl beside a local --output DIR, "
                     "to [prefix/]labels.jsonl in a bucket")
    gen.add_argument("--scenario-time", action="append", default=[], type=_timestamp, metavar="TIME",
                     help="start of the n-th --scenario (repeatable, in order; default: drawn from the seed)")
    gen.add_argument("--gzip-level", type=int, choices=range(0, 10), default=DEFAULT_COMPRESSLEVEL,
                     metavar="0-9", help="log-file compression (default: %(default)s, the fastest; AWS writes 9)")
    gen.add_argument("--insights", action="store_true",
                     help="also write CloudTrail Insights files (CloudTrail-Insight/) for unusual API call "
                     "and error rates")
    _add_store_options(gen)

    val = commands.add_parser("validate", help="check a trail's digests and log files",
                              description="Verify digest signatures, chain links and log-file hashes; "
                              "names every bad file and exits 1 if any.")
    val.add_argument("target", help="local directory or s3://bucket[/prefix]")
    val.add_argument("--trail-name", help="only this trail (default: every trail found)")
    val.add_argument("--start", type=_timestamp, help="ignore digests that end before this time")
    val.add_argument("--end", type=_timestamp, help="ignore digests that end after this time")
    val.add_argument("--verbose", action="store_true", help="list valid files too")
    _add_store_options(val)

    pub = commands.add_parser("publish", help="copy a trail with its object metadata into a bucket",
                              description="Copy every object of a trail (a directory written by generate, or "
                              "s3://bucket[/prefix] in the embedded store) into a bucket with its S3 metadata (the "
                              "digests' signatures), so that `aws cloudtrail validate-logs` accepts the bucket. "
                              "Digests must land where they were signed for: the bucket (generate --bucket) and "
                              "key prefix they name.")
    pub.add_argument("source", help="local directory written by generate, or s3://bucket[/prefix] in the "
                     "embedded store in --data-dir")
    pub.add_argument("destination", help="s3://bucket[/prefix] (at --endpoint-url, or the embedded store in "
                     "--data-dir without it) or a local directory")
    pub.add_argument("--workers", type=int, default=8, help="parallel uploads (default: %(default)s)")
    _add_store_options(pub)

    scen = commands.add_parser("scenarios", help="attack scenarios for generate --scenario")
    scen_commands = scen.add_subparsers(dest="scenarios_command", required=True, parser_class=_Parser)
    scen_commands.add_parser("list", help="name, ATT&CK tactic and technique, description of each scenario")

    _add_seed_parser(commands)

    srv = commands.add_parser("serve", help="run the emulator server",
                              description="Serve CloudTrail's API, an S3-compatible endpoint and the "
                              "control API on one port.")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=4566)
    srv.add_argument("--data-dir", default=".cloudtrail-emulator",
                     help="state directory, or :memory: for throwaway state (default: %(default)s)")
    srv.add_argument("--default-account", default="123456789012",
                     help="account of requests whose access key id is not a 12-digit account id")
    srv.add_argument("--relax-bucket-policy", action="store_true",
                     help="let CreateTrail/UpdateTrail accept a bucket whose policy does not let "
                     "CloudTrail write (the bucket must still exist)")
    srv.add_argument("--throttle-lookup", action="store_true",
                     help="apply AWS's LookupEvents limit of 2 requests per second per account and region")
    srv.add_argument("--delivery-interval", type=_positive_seconds, default=300.0, metavar="SECONDS",
                     help="seconds between live log-file deliveries (default: %(default)s, as AWS)")
    srv.add_argument("--digest-interval", type=_digest_seconds, default=3600, metavar="SECONDS",
                     help="seconds per digest period, 1-3600 (default: %(default)s, as AWS; shorter for demos)")
    srv.add_argument("--auth", choices=["none", "sigv4"], default="none",
                     help="none: accept any credentials (default); sigv4: verify AWS Signature Version 4 "
                     "against the --access-key credentials (the /_emulator/ control API stays open)")
    srv.add_argument("--access-key", action="append", type=_access_key, default=[], metavar="ID:SECRET[:ACCOUNT]",
                     help="a credential --auth sigv4 accepts (repeatable); ACCOUNT (12 digits) is the account "
                     "its calls act in (default: --default-account)")
    srv.add_argument("--external-bucket", action="append", type=_external_bucket, default=[],
                     metavar="BUCKET=ENDPOINT_URL",
                     help="deliver trails that name BUCKET into that bucket on an outside S3-compatible "
                     "endpoint (repeatable; credentials from the AWS_* environment variables)")
    return parser


def _external_bucket(text: str) -> tuple[str, str]:
    """`BUCKET=ENDPOINT_URL`."""
    bucket, sep, url = text.partition("=")
    if not sep or not bucket or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected BUCKET=http(s)://endpoint, not {text!r}")
    return bucket, url


def _access_key(text: str):
    from cloudtrail_emulator.emulator.config import AccessKey

    try:
        return AccessKey.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_seed_parser(commands) -> None:
    sd = commands.add_parser("seed", help="make a demo organization: trails, buckets, topics, signed history",
                             description="Create an organization of accounts with an organization trail, a "
                             "trail per member account (multi-region, log-file validation), buckets with "
                             "CloudTrail's bucket policy, an SNS topic per trail and days of signed history "
                             "with attack scenarios, in --data-dir for `serve`. Running it again leaves what "
                             "exists alone.")
    sd.add_argument("--accounts", type=int, default=3, help="accounts in the organization (default: %(default)s)")
    sd.add_argument("--days", type=float, default=2.0, help="days of history (default: %(default)s)")
    sd.add_argument("--count", type=_count, default=20_000,
                    help="records in the organization's history (default: %(default)s)")
    sd.add_argument("--regions", type=_regions, default=["us-east-1"],
                    help="comma-separated regions; the first is the trails' home region")
    sd.add_argument("--scenarios", type=_count, default=3, metavar="N",
                    help="random attack scenarios from the library (default: %(default)s)")
    sd.add_argument("--scenario", action="append", default=[], metavar="NAME",
                    help="a named scenario instead (repeatable; see `scenarios list`)")
    sd.add_argument("--seed", type=int, default=0, help="same seed, same accounts and history")
    sd.add_argument("--data-dir", type=Path, default=Path(".cloudtrail-emulator"),
                    help="state directory that `serve` uses (default: %(default)s)")
    sd.add_argument("--endpoint-url", help="write the history to --bucket at this S3-compatible endpoint "
                    "instead (one prefix per trail; no trails or live delivery there)")
    sd.add_argument("--bucket", help="the bucket at --endpoint-url")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return value


def _digest_seconds(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 3600:
        raise argparse.ArgumentTypeError(f"expected whole seconds from 1 to 3600, not {text!r}")
    return int(text)


def _run_generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from cloudtrail_emulator.generators.pipeline import generate_trail, plan_run

    from cloudtrail_emulator.generators.scenarios.plan import ScenarioSpec

    if len(args.scenario_time) > len(args.scenario):
        raise GeneratorError("more --scenario-time than --scenario options")
    times = args.scenario_time + [None] * (len(args.scenario) - len(args.scenario_time))
    scenarios = [ScenarioSpec(name, at) for name, at in zip(args.scenario, times)]
    options, _ = plan_run(count=args.count, start=args.start, end=args.end, seed=args.seed,
                          accounts=args.accounts, regions=args.regions, scenarios=scenarios)
    with tqdm(total=options.plan.count, unit="rec", unit_scale=True, file=sys.stderr,
              disable=None, leave=False) as bar:
        summary = generate_trail(
            args.output,
            prefix=args.prefix,
            data_dir=args.data_dir,
            endpoint_url=args.endpoint_url,
            bucket=args.bucket,
            trail_name=args.trail_name,
            count=options.plan.count,
            start=options.plan.start,
            end=options.plan.end,
            seed=args.seed,
            accounts=args.accounts,
            regions=args.regions,
            workers=args.workers,
            validation=not args.no_digests,
            compresslevel=args.gzip_level,
            progress=bar.update,
            scenarios=options.scenarios,
            insights=args.insights,
        )
    org = f", organization {summary.organization_id}" if summary.organization_id else ""
    print(
        f"{summary.records} records in {summary.log_files} log files ({summary.log_bytes / 1e6:.1f} MB) "
        f"and {summary.digests} digest files for trail {args.trail_name}{org}\n"
        f"accounts {', '.join(summary.accounts)}; regions {', '.join(summary.regions)}; "
        f"{format_time(summary.start)} to {format_time(summary.end)}\n"
        f"written to {args.output} in {summary.seconds:.1f} s ({summary.records_per_second():,.0f} records/s)"
    )
    if summary.labels:
        print(f"scenarios {', '.join(s.name for s in options.scenarios)}; "
              f"labels in {summary.labels_file or summary.labels_key}")
    if args.insights:
        print(f"{summary.insight_records} insight records in {summary.insight_files} insight files")
    return 0


def _run_validate(args: argparse.Namespace) -> int:
    from cloudtrail_emulator.generators.trail.keyring import Keyring
    from cloudtrail_emulator.generators.stores import open_source
    from cloudtrail_emulator.generators.validate import validate_trail

    store, bucket, prefix = open_source(args.target, data_dir=args.data_dir,
                                        endpoint_url=args.endpoint_url, bucket=args.bucket)
    report = validate_trail(store, bucket, prefix, keyring=Keyring(args.data_dir),
                            trail_name=args.trail_name, start=args.start, end=args.end)
    if not report.digests and not report.logs:
        scope = " ".join(f"{name} {value}" for name, value in (
            ("of trail", args.trail_name), ("from", args.start and format_time(args.start)),
            ("to", args.end and format_time(args.end))) if value)
        raise GeneratorError(f"no CloudTrail digests or log files {scope + ' ' if scope else ''}"
                             f"under {args.target} (nothing in AWSLogs/ to validate)")
    print(report.render(verbose=args.verbose))
    return 0 if report.ok else 1


def _run_publish(args: argparse.Namespace) -> int:
    from cloudtrail_emulator.generators.stores import local_directory, open_source, open_target, target_location
    from cloudtrail_emulator.generators.stores.publish import plan_publish, publish

    source_dir, target_dir = local_directory(args.source), local_directory(args.destination)
    if source_dir and target_dir and source_dir.resolve() == target_dir.resolve():
        raise GeneratorError("the source and the destination are the same directory")
    source, source_bucket, source_prefix = open_source(args.source, data_dir=args.data_dir)
    plan = plan_publish(source, source_bucket, source_prefix, *target_location(args.destination, args.bucket))
    destination, bucket, prefix = open_target(args.destination, data_dir=args.data_dir,
                                              endpoint_url=args.endpoint_url, bucket=args.bucket)
    done = publish(plan, destination, workers=args.workers)
    if target_dir is not None:
        where = f"{target_dir} (bucket {bucket})"
    else:
        where = (f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}") + (
            f" at {args.endpoint_url}" if args.endpoint_url else f" in {args.data_dir / 's3'}")
    print(f"published {done.objects} objects ({done.digests} digests, {done.size / 1e6:.1f} MB) to {where}")
    return 0


def _run_scenarios(args: argparse.Namespace) -> int:
    from cloudtrail_emulator.generators.scenarios import all_scenarios

    for s in all_scenarios():
        techniques = ", ".join(t.id for t in s.techniques)
        print(f"{s.name:38} {s.tactic:21} {techniques:32} {s.description}")
    return 0


def _run_seed(args: argparse.Namespace) -> int:
    from cloudtrail_emulator.emulator.seed import SeedOptions, seed

    summary = seed(SeedOptions(
        data_dir=args.data_dir, accounts=args.accounts, days=args.days, regions=tuple(args.regions),
        seed=args.seed, count=args.count, scenarios=args.scenarios, scenario_names=tuple(args.scenario),
        endpoint_url=args.endpoint_url, bucket=args.bucket))
    print(summary.render())
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    from cloudtrail_emulator.emulator.config import EmulatorConfig
    from cloudtrail_emulator.emulator.server import serve

    config = EmulatorConfig.from_data_dir(
        args.data_dir, default_account=args.default_account,
        relax_bucket_policy=args.relax_bucket_policy, throttle_lookup=args.throttle_lookup,
        delivery_interval=args.delivery_interval, digest_interval=args.digest_interval,
        auth=args.auth, access_keys=tuple(args.access_key), external_buckets=dict(args.external_bucket),
    )
    if args.auth == "sigv4" and not args.access_key:
        raise GeneratorError("--auth sigv4 needs at least one --access-key ID:SECRET[:ACCOUNT]")
    print(f"cloudtrail-emulator serving on http://{args.host}:{args.port} (data: {args.data_dir})",
          file=sys.stderr, flush=True)
    # a server started as a background job inherits an ignored SIGINT, and Python then installs no
    # KeyboardInterrupt handler: Ctrl-C and `kill -INT` (docker's STOPSIGNAL) must still stop it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    serve(config, host=args.host, port=args.port)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    runners = {"generate": _run_generate, "validate": _run_validate, "publish": _run_publish, "serve": _run_serve,
               "scenarios": _run_scenarios, "seed": _run_seed}
    try:
        return runners[args.command](args)
    except GeneratorError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
