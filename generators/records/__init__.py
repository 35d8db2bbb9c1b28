"""CloudTrail records from the event catalog: `RecordFactory` and what it draws on.

`factory` (RecordFactory), `placeholders` (the template vocabulary, resolved per record), `pools`
(an account's named resources), `identity` (userIdentity per call), `randoms` (UUIDs, random strings).
"""
from cloudtrail_emulator.generators.records.factory import GLOBAL_REGION, RecordFactory
from cloudtrail_emulator.generators.records.identity import MAX_SESSION_SECONDS
from cloudtrail_emulator.generators.records.placeholders import VOCABULARY
from cloudtrail_emulator.generators.records.pools import POOLS
from cloudtrail_emulator.generators.records.randoms import uuid4

__all__ = ["GLOBAL_REGION", "MAX_SESSION_SECONDS", "POOLS", "RecordFactory", "VOCABULARY", "uuid4"]
