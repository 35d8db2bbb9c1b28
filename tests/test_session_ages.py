"""Session creationDate against eventTime in generated records, by kind of session, as the reference has it."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from fixtures_paths import load_real_records

from cloudtrail_emulator.generators.pipeline import generate

START = datetime(2024, 6, 4, tzinfo=timezone.utc)


def _age(record: dict) -> int | None:
    """Seconds from the session's creation to the call, None without a session."""
    created = record["userIdentity"].get("sessionContext", {}).get("attributes", {}).get("creationDate")
    if created is None:
        return None
    parse = lambda text: datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return int((parse(record["eventTime"]) - parse(created)).total_seconds())


def _service_linked(record: dict) -> bool:
    issuer = record["userIdentity"].get("sessionContext", {}).get("sessionIssuer", {})
    return "/aws-service-role/" in issuer.get("arn", "")


def test_service_linked_role_sessions_are_created_for_the_call():
    real = [_age(r) for r in load_real_records() if _service_linked(r)]
    generated = Counter(_age(r) for r in generate(count=20_000, start=START, end=START + timedelta(days=1),
                                                  seed=3, accounts=2) if _service_linked(r))
    assert real and max(real) <= 1            # the reference: RDS, Inspector2, Spot Fleet sessions, 0-1 s
    assert sum(generated.values()) > 200
    assert set(generated) <= {0, 1}, generated
    assert generated[0] > 2 * generated[1] > 0   # mostly the same second, as 5 of the 6 real ones


def test_sessions_are_never_older_than_aws_lets_them_be():
    for record in generate(count=20_000, start=START, end=START + timedelta(days=1), seed=4, accounts=2):
        age = _age(record)
        if age is None:
            continue
        assert age >= 0, record
        identity = record["userIdentity"]
        instance = identity.get("principalId", "").split(":")[-1].startswith("i-")
        # instance-profile credentials live ~6 h, other role sessions STS's default hour, users' console 12 h
        longest = (6 if instance else 1 if identity["type"] == "AssumedRole" else 12) * 3600
        assert age <= longest, record
