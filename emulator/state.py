"""Everything one emulator app holds: built by `create_app`, hung off `app.extensions`."""
from __future__ import annotations

import random
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from cloudtrail_emulator.emulator.protocols.json11 import JsonService
from cloudtrail_emulator.emulator.protocols.service_models import load_service_model
from cloudtrail_emulator.emulator.services.cloudtrail.models import CloudTrailBackend
from cloudtrail_emulator.emulator.services.cloudtrail.responses import VALIDATION_ERRORS, CloudTrailResponses
from cloudtrail_emulator.emulator.config import EmulatorConfig
from cloudtrail_emulator.emulator.pipeline.delivery import Delivery
from cloudtrail_emulator.emulator.pipeline.delivery_state import DeliveryState
from cloudtrail_emulator.emulator.pipeline.events import EventStore
from cloudtrail_emulator.emulator.pipeline.lookup import LookupEvents, Throttle
from cloudtrail_emulator.emulator.services import organizations
from cloudtrail_emulator.emulator.services.ec2 import Ec2Responses
from cloudtrail_emulator.emulator.persistence import JsonStateFile
from cloudtrail_emulator.emulator.pipeline.recorder import Recorder
from cloudtrail_emulator.emulator.seams import BucketDirectory, StoreBuckets, TopicDirectory
from cloudtrail_emulator.emulator.services.s3.model import S3Backend
from cloudtrail_emulator.emulator.services.s3.responses import S3Responses
from cloudtrail_emulator.emulator.services.sns.models import SnsBackend
from cloudtrail_emulator.emulator.services.sns.responses import SnsResponses
from cloudtrail_emulator.emulator.services.sts import StsResponses
from cloudtrail_emulator.generators.trail.keyring import Keyring
from cloudtrail_emulator.generators.stores import BucketRouter, LocalStore, ObjectStore, S3Store

EXTENSION_KEY = "cloudtrail_emulator"


@dataclass
class EmulatorState:
    config: EmulatorConfig
    store: ObjectStore
    keyring: Keyring
    buckets: BucketDirectory
    topics: TopicDirectory
    cloudtrail: CloudTrailBackend
    cloudtrail_api: JsonService
    organizations_api: JsonService
    s3: S3Backend                       # buckets and objects (the embedded object store's S3 side)
    s3_api: S3Responses                 # the S3 REST-XML endpoint
    sns: SnsBackend                     # topics and subscriptions
    query_api: SnsResponses             # the SNS Query endpoint
    sts_api: StsResponses               # STS (Query): GetCallerIdentity
    ec2_api: Ec2Responses               # EC2: DescribeRegions
    rng: random.Random
    events: EventStore | None = None   # the event index (LookupEvents, delivery)
    recorder: Recorder | None = None   # answered API calls -> records in `events`
    delivery: Delivery | None = None    # live log-file and digest delivery (emulator/delivery.py)
    _scratch: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    def request_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def close(self) -> None:
        """Write or log the records still kept, stop delivery, close the event index; drop the scratch
        object store of a `:memory:` emulator."""
        if self.recorder is not None:
            self.recorder.close()
        if self.delivery is not None:
            self.delivery.stop()
        if self.events is not None:
            self.events.close()
        self.sns.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


def _trail_buckets(config: EmulatorConfig, store: ObjectStore,
                   local_policy: Callable[[str], str | None]) -> tuple[ObjectStore, StoreBuckets]:
    """Where trails deliver, and how CloudTrail checks their buckets: the emulator's own store, except
    for the buckets `config.external_buckets` places on outside S3-compatible endpoints."""
    outside = {bucket: S3Store(url) for bucket, url in config.external_buckets.items()}
    if not outside:
        return store, StoreBuckets(store, local_policy)

    def policy_of(bucket: str) -> str | None:
        if bucket in outside:
            return outside[bucket].bucket_policy(bucket)
        return local_policy(bucket)

    router = BucketRouter(store, outside)
    return router, StoreBuckets(router, policy_of)


def _known_accounts(config: EmulatorConfig, backend: CloudTrailBackend) -> set[str]:
    """The accounts the emulator knows: configured ones and every trail's owner."""
    return {config.management_account_id, config.default_account,
            *(key.account_id for key in config.access_keys if key.account_id),
            *(trail.account_id for trail in backend.trails())}


def build_state(config: EmulatorConfig, store: ObjectStore | None = None,
                topics: TopicDirectory | None = None) -> EmulatorState:
    """Wire the parts: object store, keyring, S3 endpoint, CloudTrail model and JSON services."""
    scratch = None
    if store is None:
        if config.data_dir is None:
            scratch = tempfile.TemporaryDirectory(prefix="cloudtrail-emulator-s3-")
            store = LocalStore(scratch.name, fsync=False)
        else:
            store = LocalStore(config.data_dir / "s3")
    s3 = S3Backend(store, config.state_dir, default_owner=config.management_account_id,
                   max_object_size=config.max_object_bytes)
    trail_store, buckets = _trail_buckets(config, store, s3.bucket_policy)
    sns = SnsBackend(clock=config.clock, state_dir=config.state_dir,
                     rng=random.Random(None if config.seed is None else f"{config.seed}:sns"))
    topics = topics or sns
    events = EventStore(None if config.state_dir is None else config.state_dir / "events.sqlite")
    state_file = None if config.state_dir is None else JsonStateFile(config.state_dir / "cloudtrail.json")
    backend = CloudTrailBackend(
        clock=config.clock, buckets=buckets, topics=topics,
        management_account=config.management_account_id, organization_id=config.organization,
        relax_bucket_policy=config.relax_bucket_policy, state_file=state_file,
        page_size=config.api_page_size, event_position=events.max_seq,
    )
    keyring = Keyring(config.data_dir)
    cloudtrail_api = JsonService(load_service_model("cloudtrail"),
                                 CloudTrailResponses(backend, keyring, config.clock).handlers(),
                                 VALIDATION_ERRORS)
    organizations_api = JsonService(
        load_service_model("organizations"),
        organizations.OrganizationsResponses(config.organization, config.management_account_id,
                                             lambda: _known_accounts(config, backend)).handlers(),
        organizations.VALIDATION_ERRORS)
    throttle = Throttle(2) if config.throttle_lookup else None
    cloudtrail_api.register("LookupEvents", LookupEvents(
        events, config.clock, throttle=throttle, delay=timedelta(seconds=config.lookup_delay_seconds)))
    recorder = Recorder(events, config.clock)
    state = EmulatorState(config=config, store=store, keyring=keyring, buckets=buckets, topics=topics,
                          cloudtrail=backend, cloudtrail_api=cloudtrail_api,
                          organizations_api=organizations_api, s3=s3, s3_api=S3Responses(s3),
                          sns=sns, query_api=SnsResponses(sns), sts_api=StsResponses(),
                          ec2_api=Ec2Responses(), rng=random.Random(config.seed),
                          events=events, recorder=recorder, _scratch=scratch)
    state.delivery = Delivery(
        backend=backend, events=events, store=trail_store, keyring=keyring, clock=config.clock,
        organization_id=config.organization,
        state=DeliveryState(None if config.state_dir is None else JsonStateFile(config.state_dir / "delivery.json")),
        delivery_interval=timedelta(seconds=config.delivery_interval),
        digest_interval=timedelta(seconds=config.digest_interval),
        publisher=lambda: sns.publish_delivery)
    return state
