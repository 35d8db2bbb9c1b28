"""Who calls from where, read back from a generated week: agents by service, sign-ins, source addresses.

Issue 12, items 3-6. Figures are compared with literals (AWS's published facts) or with figures the
test computes itself from the reference files.
"""
from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from datetime import datetime, timezone

import pytest

from cloudtrail_emulator.generators.run import generate

RUN = dict(count=30000, start=datetime(2024, 6, 3, tzinfo=timezone.utc),
           end=datetime(2024, 6, 10, tzinfo=timezone.utc), seed=12, accounts=3,
           regions=["us-east-1", "eu-west-1"])
#: services whose console pages call from the browser (the reference shows browser agents on these) and
#: sign-in / STS
BROWSER_SERVICES = {"signin", "sts", "notifications", "resource-explorer-2", "ce", "ram", "securityhub",
                    "servicecatalog-appregistry"}
#: EC2 ranges of AWS's ip-ranges.json for the two regions of the run
EC2 = {"us-east-1": ("3.224.0.0/12", "44.192.0.0/11", "52.44.0.0/15", "54.144.0.0/14", "98.80.0.0/12"),
       "eu-west-1": ("34.240.0.0/13", "52.208.0.0/13", "3.248.0.0/13")}
#: Azure blocks where GitHub-hosted runners run
AZURE = ("13.64.0.0/11", "20.36.0.0/14", "40.74.0.0/15", "52.224.0.0/11", "104.208.0.0/13")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(generate(**RUN))


def _service(record: dict) -> str:
    return record["eventSource"].split(".")[0]


def _inside(ip: str, prefixes: tuple[str, ...]) -> bool:
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(p) for p in prefixes)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def test_console_agent_families_stay_on_their_services(records, real_records):
    # the reference's S3 console agent is on S3 only
    assert {_service(r) for r in real_records if r["userAgent"].startswith("[S3Console/")} == {"s3"}
    s3_console = Counter(_service(r) for r in records if r["userAgent"].startswith("[S3Console/"))
    browser = Counter(_service(r) for r in records if r["userAgent"].startswith("Mozilla/5.0 "))
    internal = Counter(_service(r) for r in records if r["userAgent"] == "AWS Internal")
    assert set(s3_console) == {"s3"} and s3_console["s3"] > 50
    assert set(browser) <= BROWSER_SERVICES and browser["signin"] > 50
    assert not set(internal) & {"signin", "sts"} and internal
    # the console backend's agent from the user's own address only for console sessions
    for r in records:
        if r["userAgent"] == "AWS Internal" and _is_ip(r["sourceIPAddress"]):
            assert r.get("sessionCredentialFromConsole") == "true", r


def test_console_logins_come_from_current_browsers(records):
    logins = [r for r in records if r["eventName"] == "ConsoleLogin"]
    assert len(logins) > 100
    for r in logins:
        agent = r["userAgent"]
        assert agent.startswith("Mozilla/5.0 ("), agent
        versions = [int(agent.split(name)[1].split(".")[0]) for name in ("Chrome/", "Firefox/") if name in agent]
        if versions:   # June 2024: Chrome/Edge 125-126, Firefox 126-127 were current
            assert all(123 <= v <= 127 for v in versions), agent
        else:
            assert "Version/17." in agent and "Safari/" in agent, agent


def test_some_logins_fail_as_aws_logs_them(records):
    logins = [r for r in records if r["eventName"] == "ConsoleLogin" and r["userIdentity"]["type"] == "IAMUser"]
    failed = [r for r in logins if r["responseElements"] == {"ConsoleLogin": "Failure"}]
    assert 0.01 <= len(failed) / len(logins) <= 0.1, (len(failed), len(logins))
    for r in failed:
        assert list(r["userIdentity"]) == ["type", "principalId", "accountId", "accessKeyId", "userName"]
        assert r["userIdentity"]["accessKeyId"] == ""
        keys = list(r)
        assert keys[keys.index("userAgent") + 1:keys.index("requestParameters")] == ["errorMessage"]
        assert r["errorMessage"] == "Failed authentication" and "errorCode" not in r
        assert r["requestParameters"] is None
        assert set(r["additionalEventData"]) >= {"LoginTo", "MobileVersion", "MFAUsed"}
        assert r["userAgent"].startswith("Mozilla/5.0 (")
    # a mistyped password, then the same person signs in: at most two failures, the success within minutes
    success = defaultdict(list)
    for r in logins:
        if r["responseElements"] == {"ConsoleLogin": "Success"}:
            success[r["userIdentity"]["userName"]].append(r["eventTime"])
    per_user_hour = Counter((r["userIdentity"]["userName"], r["eventTime"][:13]) for r in failed)
    assert max(per_user_hour.values()) <= 2
    for r in failed:
        stamp = datetime.fromisoformat(r["eventTime"].replace("Z", "+00:00"))
        later = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in success[r["userIdentity"]["userName"]]]
        assert any(0 <= (t - stamp).total_seconds() <= 120 for t in later), r["eventTime"]


def test_aws_internal_source_addresses_as_often_as_in_real_trails(records, real_records):
    def share(recs: list[dict]) -> float:
        return sum(r["sourceIPAddress"] == "AWS Internal" for r in recs) / len(recs)

    assert share(real_records) / 2 <= share(records) <= share(real_records) * 2
    for r in records:
        if r["sourceIPAddress"] == "AWS Internal":   # a service calling with the user's credentials
            assert r["userAgent"] == "AWS Internal" and r["userIdentity"]["invokedBy"] == "AWS Internal"
            assert "tlsDetails" not in r
        if r["userIdentity"].get("invokedBy") == "AWS Internal":
            assert r["sourceIPAddress"] == "AWS Internal"


def test_workloads_call_from_their_regions_aws_addresses(records):
    workload = 0
    for r in records:
        context = r["userIdentity"].get("sessionContext", {})
        issuer = context.get("sessionIssuer", {}).get("arn", "")
        if r["userIdentity"].get("type") != "AssumedRole" or not _is_ip(r["sourceIPAddress"]):
            continue
        if "ec2RoleDelivery" in context or ":role/service-role/" in issuer:
            workload += 1
            if r["awsRegion"] == "eu-west-1":
                assert _inside(r["sourceIPAddress"], EC2["eu-west-1"]), r
            else:   # us-east-1 also records global services' calls, whatever region the caller is in
                assert _inside(r["sourceIPAddress"], EC2["us-east-1"] + EC2["eu-west-1"]), r
        elif "/github-actions-deploy/" in r["userIdentity"]["arn"] or "/terraform-ci/" in r["userIdentity"]["arn"]:
            assert _inside(r["sourceIPAddress"], AZURE), r
    assert workload > 500     # instances and functions are a minority in the default (IAM users') organisation


def test_no_address_dominates_and_people_move(records):
    addresses = Counter(r["sourceIPAddress"] for r in records if _is_ip(r["sourceIPAddress"]))
    # an IAM-users organisation's people carry most records: one laptop may carry a tenth of them
    # (the reference files: 74 % from one address)
    assert addresses.most_common(1)[0][1] / len(records) < 0.15
    assert len(addresses) > 60
    # an office's NAT address is shared by several people; each person calls from several addresses
    people_of = defaultdict(set)
    addresses_of = defaultdict(set)
    for r in records:
        ui = r["userIdentity"]
        # the federation broker is a server on EC2; a CI run without OIDC assumes its role with a user's key;
        # deploy users are pipelines on CI runners
        if ui.get("type") == "IAMUser" and _is_ip(r["sourceIPAddress"]) and "invokedBy" not in ui \
                and ui["userName"] not in ("federation-broker", "terraform-ci", "github-actions-deploy") \
                and r["eventName"] != "AssumeRole":
            people_of[r["sourceIPAddress"]].add(ui["userName"])
            addresses_of[ui["userName"]].add(r["sourceIPAddress"])
    assert max(len(p) for p in people_of.values()) >= 2
    assert not any(_inside(ip, EC2["us-east-1"] + EC2["eu-west-1"] + AZURE) for ip in people_of if ":" not in ip)
    movers = [name for name, seen in addresses_of.items() if len(seen) >= 2]
    assert len(movers) >= len(addresses_of) // 2
