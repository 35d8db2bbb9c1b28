"""Issue 12 items 3-6 on a generated output directory: user agents by service, sign-ins, source addresses.

Usage: python bench/identity_figures.py OUTPUT_DIR [REFERENCE_DIR]
Reads the delivered log files as a consumer does (gzip JSON) and prints the figures the issue names.
"""
from __future__ import annotations

import gzip
import ipaddress
import json
import sys
from collections import Counter
from pathlib import Path

# published EC2 prefixes per region (the generator's table, repeated here as literals on purpose)
AWS_PREFIXES = [ipaddress.ip_network(p) for p in (
    "3.224.0.0/12", "44.192.0.0/11", "52.44.0.0/15", "54.144.0.0/14", "98.80.0.0/12",    # us-east-1
    "34.240.0.0/13", "52.208.0.0/13", "3.248.0.0/13")]                                  # eu-west-1


def records(root: Path) -> list[dict]:
    out: list[dict] = []
    for path in sorted(root.rglob("*.json.gz")):
        if "CloudTrail-Digest" in path.parts or "CloudTrail-Insight" in str(path):
            continue
        out += json.loads(gzip.decompress(path.read_bytes()))["Records"]
    return out


def family(agent: str) -> str:
    if agent.startswith("[S3Console"):
        return "S3Console"
    if agent == "AWS Internal":
        return "AWS Internal"
    if agent.startswith("Mozilla/"):
        return "browser"
    return "other"


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def figures(recs: list[dict]) -> None:
    n = len(recs)
    print(f"records: {n}")
    by_family: dict[str, Counter] = {}
    for r in recs:
        by_family.setdefault(family(r.get("userAgent", "")), Counter())[r["eventSource"].split(".")[0]] += 1
    for fam in ("S3Console", "AWS Internal", "browser"):
        c = by_family.get(fam, Counter())
        print(f"UA {fam}: {sum(c.values())} records, services {dict(c.most_common(12))}")
    logins = [r for r in recs if r["eventName"] == "ConsoleLogin"]
    fams = Counter(family(r["userAgent"]) for r in logins)
    failed = [r for r in logins if (r.get("responseElements") or {}).get("ConsoleLogin") == "Failure"]
    print(f"ConsoleLogin: {len(logins)}, agents {dict(fams)}, failed {len(failed)} "
          f"({len(failed) / max(1, len(logins)):.1%})")
    internal_ip = sum(r["sourceIPAddress"] == "AWS Internal" for r in recs)
    print(f"sourceIPAddress 'AWS Internal': {internal_ip} ({internal_ip / n:.1%})")
    pairs = Counter((r["userAgent"] == "AWS Internal", r["sourceIPAddress"] == "AWS Internal",
                     is_ip(r["sourceIPAddress"])) for r in recs if r["userAgent"] == "AWS Internal")
    print(f"'AWS Internal' agent with (ip AWS Internal, a real IP): "
          f"{sum(v for k, v in pairs.items() if k[1])}, {sum(v for k, v in pairs.items() if k[2])}")
    ips = Counter(r["sourceIPAddress"] for r in recs if is_ip(r["sourceIPAddress"]))
    top, top_n = ips.most_common(1)[0]
    arns = {r["userIdentity"].get("arn") for r in recs if r["userIdentity"].get("arn")}
    accounts = {r["recipientAccountId"] for r in recs}
    print(f"distinct IPs {len(ips)}, accounts {len(accounts)}, ARNs {len(arns)}; top IP {top} "
          f"{top_n / n:.1%} of records")
    workload = [r for r in recs if r["userIdentity"].get("type") == "AssumedRole" and
                ("ec2RoleDelivery" in r["userIdentity"].get("sessionContext", {}) or
                 "/service-role/" in r["userIdentity"].get("sessionContext", {}).get("sessionIssuer", {}).get("arn", ""))
                and is_ip(r["sourceIPAddress"])]
    outside = [r for r in workload if not any(ipaddress.ip_address(r["sourceIPAddress"]) in p for p in AWS_PREFIXES)]
    print(f"instance/Lambda role records from an IP: {len(workload)}, outside the tabled AWS prefixes: {len(outside)}")


def main() -> None:
    figures(records(Path(sys.argv[1])))
    if len(sys.argv) > 2:
        print("--- reference")
        figures(records(Path(sys.argv[2])))


if __name__ == "__main__":
    main()
