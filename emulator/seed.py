"""`cloudtrail-emulator seed`: a demo organization with trails, buckets, topics and signed history.

Offline (the default) the seed runs the emulator in-process on a free loopback port over
`--data-dir`, makes buckets (with the bucket policy CloudTrail needs), SNS topics and trails through
the real AWS APIs (so the calls are recorded like any other), then writes each new trail's history
the way `POST /_emulator/history` does: ending where the trail's live chain starts, which is then
linked to it, so `serve` on the same data dir continues every chain and `aws cloudtrail
validate-logs` walks history and live files as one chain.

Trails: `org-trail` (organization, in the management account) and `account-trail` in each member
account, all multi-region with log-file validation. The organization's records are generated once
(and indexed for LookupEvents in the same pass): the organization trail's history holds every
account's activity and the scenarios; a member trail's history holds the same records of its
account, scenarios included (identical records, eventIDs too, as AWS delivers one event to every
trail that logs it).

Idempotent: a trail the seed made before (listed in `<data_dir>/state/seed.json`) and its history
are left alone; only what is missing is made. It holds the data dir's lock (emulator/data_dir_lock.py)
while it runs: it refuses a data dir a running `serve` holds. With `endpoint_url` the history goes to `bucket` on
that S3 endpoint instead (one key prefix per trail, ending now, no emulator state): live delivery
there is not supported by `serve`; check it with `cloudtrail-emulator validate`.
"""
from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cloudtrail_emulator.emulator.app import state_of
from cloudtrail_emulator.emulator.services.cloudtrail.bucket_policy import cloudtrail_bucket_policy
from cloudtrail_emulator.emulator.services.cloudtrail.models import Trail
from cloudtrail_emulator.emulator.config import Clock, EmulatorConfig, SystemClock
from cloudtrail_emulator.emulator.control import HISTORY_MARGIN, index_sink
from cloudtrail_emulator.emulator.data_dir_lock import hold_data_dir
from cloudtrail_emulator.emulator.server import RunningServer, start_in_thread
from cloudtrail_emulator.emulator.state import EmulatorState
from cloudtrail_emulator.generators.access_styles import DEFAULT_ACCESS_STYLE
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.pipeline import HistoryTrail, TrailTarget, plan_run, write_history
from cloudtrail_emulator.generators.population import Population, build_population
from cloudtrail_emulator.generators.scenarios import all_scenarios, get_scenario
from cloudtrail_emulator.generators.scenarios.plan import ScenarioSpec
from cloudtrail_emulator.generators.stores import LocalStore, ObjectStore, open_target
from cloudtrail_emulator.generators.timeline import check_regions
from cloudtrail_emulator.generators.trail.layout import DIGEST, LOG, awslogs_root, parse_key

ORG_TRAIL = "org-trail"
ACCOUNT_TRAIL = "account-trail"
MANIFEST = "seed.json"


@dataclass(frozen=True)
class SeedOptions:
    """What `seed` makes; `scenario_names` wins over `scenarios` (a number of random ones)."""

    data_dir: Path
    accounts: int = 3
    days: float = 2.0
    regions: tuple[str, ...] = ("us-east-1",)
    seed: int = 0
    count: int = 20_000
    scenarios: int = 3
    scenario_names: tuple[str, ...] = ()
    endpoint_url: str | None = None
    bucket: str | None = None
    access_style: str = DEFAULT_ACCESS_STYLE   # see generators.access_styles
    noisy_admin: bool = False


@dataclass
class SeededTrail:
    """One trail of the demo and its history (`created`: made by this run)."""

    name: str
    arn: str
    account_id: str
    organization: bool
    bucket: str
    prefix: str
    topic_arn: str | None
    records: int = 0
    log_files: int = 0
    digests: int = 0
    created: bool = False


@dataclass
class SeedSummary:
    organization_id: str
    accounts: list[str]
    regions: list[str]
    scenarios: list[str]
    trails: list[SeededTrail] = field(default_factory=list)
    objects: dict[str, tuple[int, int]] = field(default_factory=dict)   # bucket -> (log files, digests)

    def render(self) -> str:
        """The summary `seed` prints."""
        made = sum(t.created for t in self.trails)
        lines = [f"organization {self.organization_id}: accounts {', '.join(self.accounts)} "
                 f"(management {self.accounts[0]}); regions {', '.join(self.regions)}",
                 f"trails ({made} new, {len(self.trails) - made} already there):"]
        for t in self.trails:
            topic = f", topic {t.topic_arn}" if t.topic_arn else ""
            history = (f"{t.records} records, {t.log_files} log files, {t.digests} digests"
                       if t.created or t.records else "already there")
            lines.append(f"  {t.arn}  ->  s3://{t.bucket}/{t.prefix}{topic}; history: {history}")
        for bucket, (logs, digests) in sorted(self.objects.items()):
            lines.append(f"bucket {bucket}: {logs} log files, {digests} digest files")
        lines.append(f"scenarios: {', '.join(self.scenarios) or 'none'}")
        return "\n".join(lines)


def check_options(options: SeedOptions) -> None:
    """GeneratorError for options that cannot make a demo."""
    if options.accounts < 1:
        raise GeneratorError(f"--accounts must be at least 1, not {options.accounts}")
    if not 0 < options.days <= 90:
        raise GeneratorError(f"--days must be more than 0 and at most 90, not {options.days}")
    if options.count < 0:
        raise GeneratorError(f"--count must be zero or more, not {options.count}")
    if options.scenarios < 0:
        raise GeneratorError(f"--scenarios must be zero or more, not {options.scenarios}")
    check_regions(options.regions)
    for name in options.scenario_names:
        get_scenario(name)
    if options.endpoint_url and not options.bucket:
        raise GeneratorError("--endpoint-url needs --bucket: the bucket the history goes to")


def pick_scenarios(options: SeedOptions, accounts: Sequence[str]) -> list[ScenarioSpec]:
    """The named scenarios, else `options.scenarios` random ones; each in an account drawn from the seed."""
    rng = random.Random(f"{options.seed}:seed-scenarios")
    names = list(options.scenario_names) or rng.sample(
        sorted(s.name for s in all_scenarios()), min(options.scenarios, len(all_scenarios())))
    return [ScenarioSpec(name, account_id=rng.choice(list(accounts))) for name in names]


def seed(options: SeedOptions, *, clock: Clock | None = None) -> SeedSummary:
    """Make (or complete) the demo environment described by `options`."""
    check_options(options)
    clock = clock or SystemClock()
    if options.endpoint_url:
        return _seed_external(options, clock)
    with hold_data_dir(options.data_dir, "seed"):
        running = start_in_thread(EmulatorConfig(data_dir=Path(options.data_dir), clock=clock), "127.0.0.1", 0)
        try:
            return _Seeder(options, running).run()
        finally:
            running.stop()


# -- offline, into the emulator's data dir -------------------------------------------------------

def topic_policy(topic_arn: str) -> str:
    """The SNS topic policy that lets CloudTrail publish."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailSNSPolicy", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish",
         "Resource": topic_arn}]})


@dataclass(frozen=True)
class _TrailPlan:
    """A trail to exist: owner, name, bucket, and the accounts its history covers."""

    name: str
    account_id: str
    organization: bool
    bucket: str
    history_accounts: tuple[str, ...]


class _Seeder:
    """One offline seed run over a running in-process emulator."""

    def __init__(self, options: SeedOptions, running: RunningServer):
        self.options = options
        self.running = running
        self.state: EmulatorState = state_of(running.app)
        self.home = options.regions[0]
        self.manifest_path = Path(options.data_dir) / "state" / MANIFEST
        self.manifest: dict = json.loads(self.manifest_path.read_text()) if self.manifest_path.exists() else {}

    def client(self, service: str, account: str):
        import boto3
        from botocore.config import Config

        return boto3.client(service, endpoint_url=self.running.url, region_name=self.home,
                            aws_access_key_id=account, aws_secret_access_key="seed",
                            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))

    def run(self) -> SeedSummary:
        options, org_id = self.options, self.state.config.organization
        population = build_population(options.seed, options.accounts, options.access_style)
        accounts = [a.account_id for a in population.accounts]
        if accounts[0] != self.state.config.management_account_id:
            raise GeneratorError(f"the population's management account {accounts[0]} is not the "
                                 f"emulator's ({self.state.config.management_account_id})")
        specs = pick_scenarios(options, accounts)
        plans = [_TrailPlan(ORG_TRAIL, accounts[0], True, f"cloudtrail-{org_id}", tuple(accounts))]
        plans += [_TrailPlan(ACCOUNT_TRAIL, a, False, f"cloudtrail-{a}", (a,)) for a in accounts[1:]]
        trails = [self.ensure_trail(p) for p in plans]
        fresh = [(p, t) for p, t in zip(plans, trails) if t.arn not in self.manifest.get("history", {})]
        self.state.delivery.run()          # apply the StartLogging changes: the live chains begin
        if fresh:
            self.write_history(fresh, population, specs)
        self.state.delivery.run(force_logs=True)   # the recorded setup calls: nothing left pending
        summary = SeedSummary(org_id, accounts, list(options.regions), [s.name for s in specs])
        for t in trails:
            history = self.manifest["history"][t.arn]
            summary.trails.append(dataclasses.replace(t, records=history["records"],
                                                      log_files=history["log_files"], digests=history["digests"]))
        summary.objects = {t.bucket: _count_objects(self.state.store, t.bucket) for t in trails}
        return summary

    def ensure_trail(self, plan: _TrailPlan) -> SeededTrail:
        """The trail, its bucket (with policy) and topic; made through the API when missing."""
        existing = next((t for t in self.state.cloudtrail.trails()
                         if t.name == plan.name and t.account_id == plan.account_id), None)
        if existing is not None:
            if existing.arn not in self.manifest.get("trails", []):
                raise GeneratorError(f"trail {existing.arn} exists but seed did not make it: "
                                     "seed another --data-dir")
            return _seeded(existing, created=False)
        s3 = self.client("s3", plan.account_id)
        if not self.state.store.bucket_exists(plan.bucket):
            s3.create_bucket(Bucket=plan.bucket)
        owner = self.state.config.organization if plan.organization else plan.account_id
        s3.put_bucket_policy(Bucket=plan.bucket, Policy=cloudtrail_bucket_policy(plan.bucket, [owner]))
        sns = self.client("sns", plan.account_id)
        topic = sns.create_topic(Name=f"cloudtrail-{plan.name}")["TopicArn"]
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=topic_policy(topic))
        ct = self.client("cloudtrail", plan.account_id)
        arn = ct.create_trail(Name=plan.name, S3BucketName=plan.bucket, SnsTopicName=topic,
                              IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True,
                              EnableLogFileValidation=True, IsOrganizationTrail=plan.organization)["TrailARN"]
        ct.start_logging(Name=arn)
        self.manifest.setdefault("trails", []).append(arn)
        self._save()
        trail = next(t for t in self.state.cloudtrail.trails() if t.arn == arn)
        return _seeded(trail, created=True)

    def write_history(self, fresh: list[tuple[_TrailPlan, SeededTrail]], population: Population,
                      specs: list[ScenarioSpec]) -> None:
        """History for the new trails: one organization-wide run, generated once, ending before every
        new live chain; each trail takes its accounts' records, the event index all of them."""
        state, options = self.state, self.options
        with state.delivery.lock:
            trails = {t.arn: self._trail(t.arn) for _, t in fresh}
            ends = {arn: state.delivery.history_end(trail, state.config.clock.now()) for arn, trail in trails.items()}
            end = min(ends.values()) - HISTORY_MARGIN
            full, _ = plan_run(count=options.count, start=end - timedelta(days=options.days), end=end,
                               seed=options.seed, accounts=options.accounts, regions=options.regions, scenarios=specs,
                               noisy_admin=options.noisy_admin, access_style=options.access_style)
            history = [_history_trail(trails[seeded.arn], plan, state.config.organization, ends[seeded.arn])
                       for plan, seeded in fresh]
            # bulk history skips per-object fsyncs (still atomic), as `generate` does
            bulk = LocalStore(Path(self.options.data_dir) / "s3", fsync=False)
            summaries = write_history(bulk, history, full, keyring=state.keyring, population=population,
                                      workers=1, sink=index_sink(state))
            for (_, seeded), summary in zip(fresh, summaries):
                state.delivery.adopt_history(trails[seeded.arn], summary.chain_ends)
                self.manifest.setdefault("history", {})[seeded.arn] = {
                    "records": summary.records, "log_files": summary.log_files, "digests": summary.digests}
            self._save()

    def _trail(self, arn: str) -> Trail:
        return next(t for t in self.state.cloudtrail.trails() if t.arn == arn)

    def _save(self) -> None:
        self.manifest_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.manifest, indent=1, sort_keys=True))
        tmp.replace(self.manifest_path)


def _seeded(trail: Trail, *, created: bool) -> SeededTrail:
    return SeededTrail(trail.name, trail.arn, trail.account_id, trail.is_organization, trail.s3_bucket,
                       trail.s3_prefix or "", trail.sns_topic_arn, created=created)


def _history_trail(trail: Trail, plan: _TrailPlan, organization_id: str, close_at: datetime) -> HistoryTrail:
    """Where a seeded trail's history goes and whose records it takes."""
    target = TrailTarget(bucket=trail.s3_bucket, prefix=trail.s3_prefix or "", trail_name=trail.name,
                         home_region=trail.home_region)
    return HistoryTrail(target, organization_id if trail.is_organization else None,
                        None if plan.organization else plan.history_accounts, close_at=close_at)


def _count_objects(store: ObjectStore, bucket: str, prefix: str = "") -> tuple[int, int]:
    """(log files, digest files) in a bucket."""
    logs = digests = 0
    for key in store.list(bucket, prefix):
        kind = getattr(parse_key(key), "kind", None)
        digests += kind == DIGEST
        logs += kind == LOG
    return logs, digests


# -- into an external S3-compatible endpoint -----------------------------------------------------

def _seed_external(options: SeedOptions, clock: Clock) -> SeedSummary:
    """History for every trail of the demo into `options.bucket` at `options.endpoint_url`, one key
    prefix per trail, ending now; a trail whose prefix already holds files is left alone."""
    store, bucket, _ = open_target(f"s3://{options.bucket}", data_dir=Path(options.data_dir),
                                   endpoint_url=options.endpoint_url)
    population = build_population(options.seed, options.accounts, options.access_style)
    accounts = [a.account_id for a in population.accounts]
    org_id = EmulatorConfig(management_account=accounts[0]).organization
    specs = pick_scenarios(options, accounts)
    end = clock.now().replace(microsecond=0)
    full, _ = plan_run(count=options.count, start=end - timedelta(days=options.days), end=end,
                       seed=options.seed, accounts=options.accounts, regions=options.regions, scenarios=specs,
                       noisy_admin=options.noisy_admin, access_style=options.access_style)
    home = options.regions[0]
    summary = SeedSummary(org_id, accounts, list(options.regions), [s.name for s in specs])
    trails = [(ORG_TRAIL, accounts[0], ORG_TRAIL, None, org_id)]
    trails += [(ACCOUNT_TRAIL, a, f"{ACCOUNT_TRAIL}-{a}", (a,), None) for a in accounts[1:]]
    fresh: list[tuple[SeededTrail, HistoryTrail]] = []
    for name, account, prefix, takes, trail_org in trails:
        seeded = SeededTrail(name, f"arn:aws:cloudtrail:{home}:{account}:trail/{name}", account,
                             trail_org is not None, bucket, prefix, None)
        if next(iter(store.list(bucket, awslogs_root(prefix))), None) is None:
            fresh.append((seeded, HistoryTrail(TrailTarget(bucket, prefix, name, home), trail_org, takes)))
        summary.trails.append(seeded)
    if fresh:
        written = write_history(store, [h for _, h in fresh], full, keyring=Keyring(Path(options.data_dir)),
                                population=population, workers=1)
        for (seeded, _), result in zip(fresh, written):
            seeded.records, seeded.log_files, seeded.digests = result.records, result.log_files, result.digests
            seeded.created = True
    for seeded in summary.trails:
        summary.objects[f"{bucket}/{seeded.prefix}"] = _count_objects(store, bucket, f"{seeded.prefix}/")
    return summary
