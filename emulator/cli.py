"""The ``cloudtrail-emulator`` command line."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path

from cloudtrail_emulator.emulator.cli_options import ACCESS_STYLE_HELP, NOISY_ADMIN_HELP
from cloudtrail_emulator.emulator.cli_options import Parser as _Parser
from cloudtrail_emulator.emulator.cli_options import count as _count
from cloudtrail_emulator.emulator.cli_options import regions as _regions
from cloudtrail_emulator.emulator.cli_serve import add_seed_parser, add_serve_parser, run_seed, run_serve
from cloudtrail_emulator.emulator.stop_signals import Terminated
from cloudtrail_emulator.generators.access_styles import ACCESS_STYLE_CHOICES, DEFAULT_ACCESS_STYLE
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.logfiles import DEFAULT_COMPRESSLEVEL
from cloudtrail_emulator.generators.times import format_time, parse_iso

PROG = "cloudtrail-emulator"


def _timestamp(text: str) -> datetime:
    """Parses an ISO 8601 time (``2024-05-01``, ``2024-05-01T12:00:00Z``); naive means UTC."""
    try:
        return parse_iso(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None


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


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path(".cloudtrail-emulator"),
                        help="state directory: keyring and embedded object store (default: %(default)s)")
    parser.add_argument("--endpoint-url", help="S3-compatible endpoint for s3:// targets "
                        "(default: the embedded store in --data-dir)")
    parser.add_argument("--bucket", help="bucket name recorded in digests when the target is a local "
                        "directory (default: cloudtrail-emulator-logs)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Local AWS CloudTrail emulator and test-fixture generator.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
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
                     help="play an attack scenario inside the baseline, by its name or its Stratus Red Team id "
                     "(repeatable; see `scenarios list`); "
                     "ground-truth labels go to DIR.labels.jsonl beside a local --output DIR, "
                     "to [prefix/]labels.jsonl in a bucket")
    gen.add_argument("--noisy-admin", action="store_true", help=NOISY_ADMIN_HELP)
    gen.add_argument("--access-style", choices=ACCESS_STYLE_CHOICES, default=DEFAULT_ACCESS_STYLE,
                     help=f"{ACCESS_STYLE_HELP} (default: %(default)s)")
    gen.add_argument("--scenario-time", action="append", default=[], type=_timestamp, metavar="TIME",
                     help="start of the n-th --scenario (repeatable, in order; default: drawn from the seed)")
    gen.add_argument("--scenario-actor", action="append", default=[], metavar="TYPE",
                     help="who plays the n-th --scenario: user (stolen IAM user key), role (a role session: "
                     "assumed with a stolen key, or stolen instance credentials), federated (GetFederationToken "
                     "by a stolen key), sso (a stolen Identity Center session), root (repeatable, in order; "
                     "default: drawn from the seed among those the scenario lists)")
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
    scen_commands.add_parser("list", help="name, ATT&CK tactic and techniques, Stratus Red Team id, actor types "
                             "and description of each scenario")

    real = commands.add_parser("realism", help="compare generated log files with real ones, figure by figure",
                               description="Print population-level figures (volumes, services, user agents, "
                               "source addresses, identities, eventVersions, file sizes, attack indicators) of "
                               "the log files under DIR beside the same figures for real CloudTrail files "
                               "(docs/realism.md).")
    real.add_argument("target", metavar="DIR", help="a directory of log files, e.g. one `generate --output` wrote")
    real.add_argument("--reference", type=Path, metavar="DIR", help="real CloudTrail log files (default: "
                      "../shared/reference/real-cloudtrail beside the repository checkout)")
    real.add_argument("--json", action="store_true", help="every figure as JSON")

    add_seed_parser(commands)
    add_serve_parser(commands)
    return parser


def _run_generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from cloudtrail_emulator.generators.pipeline import generate_trail, plan_run

    from cloudtrail_emulator.generators.scenarios.plan import ScenarioSpec

    n = len(args.scenario)
    if len(args.scenario_time) > n:
        raise GeneratorError("more --scenario-time than --scenario options")
    if len(args.scenario_actor) > n:
        raise GeneratorError("more --scenario-actor than --scenario options")
    times = args.scenario_time + [None] * (n - len(args.scenario_time))
    actors = args.scenario_actor + [None] * (n - len(args.scenario_actor))
    scenarios = [ScenarioSpec(name, at, actor=actor) for name, at, actor in zip(args.scenario, times, actors)]
    options, _ = plan_run(count=args.count, start=args.start, end=args.end, seed=args.seed,
                          accounts=args.accounts, regions=args.regions, scenarios=scenarios,
                          noisy_admin=args.noisy_admin, access_style=args.access_style)
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
            noisy_admin=args.noisy_admin,
            access_style=args.access_style,
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
        techniques = ",".join(t.id for t in s.techniques)
        actors = "|".join(s.actors)
        print(f"{s.name:36} {s.tactic:20} {techniques:28} {s.stratus or '-':58} {actors:24} {s.description}")
    return 0


def _run_realism(args: argparse.Namespace) -> int:
    from cloudtrail_emulator.generators.realism import build_report, format_report

    print(format_report(build_report(args.target, args.reference), as_json=args.json))
    return 0


def _version() -> str:
    try:
        return metadata.version("cloudtrail-emulator")
    except metadata.PackageNotFoundError:      # running from a checkout that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: a command is required (see {PROG} --help)", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    runners = {"generate": _run_generate, "validate": _run_validate, "publish": _run_publish,
               "serve": run_serve, "scenarios": _run_scenarios, "seed": run_seed,
               "realism": _run_realism}
    try:
        code = runners[args.command](args)
        sys.stdout.flush()           # a closed pipe shows here, not as a traceback at exit
        return code
    except GeneratorError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except BrokenPipeError:
        # the reader went away (`... | head -1`): stop quietly, as a program killed by SIGPIPE does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except OSError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print(f"{PROG}: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM


if __name__ == "__main__":
    sys.exit(main())
