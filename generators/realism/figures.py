"""The figures of one set of records (issue 12), and how a generated set compares with the reference.

Every figure is a plain JSON value (numbers, strings, lists, objects with string keys); shares are
fractions of all records unless said otherwise. `docs/realism.md` says what each one means.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable

from cloudtrail_emulator.generators.realism.families import (
    AWS_INTERNAL, agent_family, ip_kind, is_workload_session, service_label,
)
from cloudtrail_emulator.generators.realism.reading import LogSet
from cloudtrail_emulator.generators.realism.volumes import volume_figures

STS = "sts.amazonaws.com"
#: (label, eventSource, eventName) of the attack-indicator calls the issue counts (CreateAccessKey: below)
INDICATORS = (("StopLogging", "cloudtrail.amazonaws.com", "StopLogging"),
              ("DeleteTrail", "cloudtrail.amazonaws.com", "DeleteTrail"),
              ("ModifySnapshotAttribute", "ec2.amazonaws.com", "ModifySnapshotAttribute"),
              ("SendCommand", "ssm.amazonaws.com", "SendCommand"))
OTHER_USER_KEY = "CreateAccessKey for another user"
_UNAUTHORIZED_MARKS = ("AccessDenied", "Unauthorized")


def all_figures(logs: LogSet) -> dict:
    """Every figure of one tree's records, by section."""
    records = logs.records
    return {
        "files": file_figures(logs),
        "volumes": volume_figures(records),
        "portfolio": portfolio_figures(records),
        "agents": agent_figures(records),
        "addresses": address_figures(records),
        "identity": identity_figures(records),
        "versions": version_figures(records),
        "request_ids": request_id_figures(records),
        "indicators": indicator_figures(records),
    }


def comparison(generated: LogSet, reference: LogSet, producible: set[tuple[str, str]],
               generated_figures: dict, reference_figures: dict) -> dict:
    """How the generated set compares with the reference: identity-type TVD, reference pairs covered."""
    reference_pairs = _pairs(reference.records)
    present = reference_pairs & _pairs(generated.records)
    return {
        "identity_type_tvd": total_variation(generated_figures["identity"]["types"],
                                             reference_figures["identity"]["types"]),
        "reference_pairs": len(reference_pairs),
        "reference_pairs_present_share": _share(len(present), len(reference_pairs)),
        "reference_pairs_producible_share": _share(len(reference_pairs & producible), len(reference_pairs)),
        "reference_pairs_not_producible": sorted(f"{s} {n}" for s, n in reference_pairs - producible),
    }


def total_variation(p: dict[str, float], q: dict[str, float]) -> float:
    """Half the sum of absolute differences between two distributions (0 same, 1 disjoint)."""
    return round(sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q)) / 2, 6)


def file_figures(logs: LogSet) -> dict:
    """Log files, records, records per file, Insights records and events."""
    sizes = logs.file_sizes
    starts = [r for r in logs.insight_records if (r.get("insightDetails") or {}).get("state") == "Start"]
    return {
        "log_files": len(sizes),
        "records": len(logs.records),
        "records_per_file_median": statistics.median(sizes),
        "single_record_file_share": _share(sum(1 for n in sizes if n == 1), len(sizes)),
        "insight_records": len(logs.insight_records),
        "insight_events": len(starts),
        "insight_types": dict(Counter(str((r.get("insightDetails") or {}).get("insightType")) for r in starts)),
    }


def portfolio_figures(records: list[dict]) -> dict:
    """Distinct services and (source, name) pairs, pairs seen once, services per account."""
    pairs = Counter((r["eventSource"], r["eventName"]) for r in records)
    per_account: defaultdict[str, set[str]] = defaultdict(set)
    for record in records:
        per_account[str(record.get("recipientAccountId") or "(none)")].add(record["eventSource"])
    return {
        "event_sources": len({source for source, _ in pairs}),
        "pairs": len(pairs),
        "pairs_seen_once": sum(1 for n in pairs.values() if n == 1),
        "sources_per_account": {account: len(per_account[account]) for account in sorted(per_account)},
    }


def agent_figures(records: list[dict]) -> dict:
    """User-agent families by eventSource, console families off their service, ConsoleLogin agents."""
    by_family: defaultdict[str, Counter[str]] = defaultdict(Counter)
    off_service: defaultdict[str, Counter[str]] = defaultdict(Counter)
    internal_on_sts_signin = 0
    logins: Counter[str] = Counter()
    failed_logins = 0
    for record in records:
        source = record["eventSource"]
        family = agent_family(record.get("userAgent"))
        by_family[family.name][source] += 1
        label = service_label(source)
        if family.console and family.console != label:
            off_service[family.name][source] += 1
        if family.name == AWS_INTERNAL and label in ("sts", "signin"):
            internal_on_sts_signin += 1
        if record["eventName"] == "ConsoleLogin":
            logins[family.name] += 1
            failed_logins += _login_failed(record)
    total_logins = sum(logins.values())
    return {
        "families": {name: sum(c.values()) for name, c in _by_size(by_family)},
        "families_by_source": {name: dict(c.most_common()) for name, c in _by_size(by_family)},
        "console_off_service": {name: dict(c.most_common()) for name, c in _by_size(off_service)},
        "console_off_service_records": sum(sum(c.values()) for c in off_service.values()),
        "aws_internal_agent_on_sts_signin": internal_on_sts_signin,
        "console_logins": total_logins,
        "console_login_families": dict(logins.most_common()),
        "console_login_failed_share": _share(failed_logins, total_logins),
    }


def address_figures(records: list[dict]) -> dict:
    """sourceIPAddress kinds and concentration, `AWS Internal` agents with IPs, workload sessions' IPs."""
    kinds: Counter[str] = Counter()
    values: set[str] = set()
    ips: Counter[str] = Counter()
    internal_agent_with_ip = 0
    workload: Counter[str] = Counter()
    arns: set[str] = set()
    for record in records:
        address = str(record.get("sourceIPAddress") or "")
        kind = ip_kind(address)
        kinds[kind] += 1
        values.add(address)
        is_ip = kind in ("public", "private")
        if is_ip:
            ips[address] += 1
        identity = record.get("userIdentity") or {}
        agent = record.get("userAgent")
        if is_ip and agent == AWS_INTERNAL:
            internal_agent_with_ip += 1
        if is_workload_session(identity, agent):
            workload[kind] += 1
        if identity.get("arn"):
            arns.add(identity["arn"])
    total = len(records)
    top = ips.most_common(1)
    return {
        "aws_internal_share": _share(kinds[AWS_INTERNAL], total),
        "service_hosted_share": _share(kinds["service"], total),
        "public_ip_share": _share(kinds["public"], total),
        "private_ip_share": _share(kinds["private"], total),
        "distinct_source_addresses": len(values),
        "distinct_ips": len(ips),
        "top_ip": top[0][0] if top else None,
        "top_ip_share": _share(top[0][1], total) if top else 0.0,
        "aws_internal_agent_with_ip": internal_agent_with_ip,
        "workload_session_records": sum(workload.values()),
        "workload_sessions_from_ip": workload["public"] + workload["private"],
        "workload_sessions_from_public_ip": workload["public"],
        "distinct_arns": len(arns),
    }


def identity_figures(records: list[dict]) -> dict:
    """Identity types, STS and AssumeRole shares, readOnly and error shares, root and service failures."""
    types: Counter[str] = Counter()
    sts = assume_role = errors = root = root_logins = service_unauthorized = 0
    read_only = [0, 0]                       # records with a boolean readOnly, of which true
    for record in records:
        identity = record.get("userIdentity") or {}
        kind = str(identity.get("type") or "(none)")
        types[kind] += 1
        sts += record["eventSource"] == STS
        assume_role += record["eventName"] == "AssumeRole"
        flag = record.get("readOnly")
        if isinstance(flag, bool):
            read_only[0] += 1
            read_only[1] += flag
        error = record.get("errorCode")
        errors += bool(error)
        if kind == "Root":
            root += 1
            root_logins += record["eventName"] == "ConsoleLogin"
        if kind == "AWSService" and error and any(m in str(error) for m in _UNAUTHORIZED_MARKS):
            service_unauthorized += 1
    total = len(records)
    return {
        "types": {kind: _share(n, total) for kind, n in types.most_common()},
        "sts_share": _share(sts, total),
        "assume_role_share": _share(assume_role, total),
        "read_only_share": _share(read_only[1], read_only[0]) if read_only[0] else None,
        "error_share": _share(errors, total),
        "root_records": root,
        "root_console_logins": root_logins,
        "service_calls_unauthorized": service_unauthorized,
    }


def version_figures(records: list[dict]) -> dict[str, dict[str, list[str]]]:
    """The eventVersions seen per eventSource per year of eventTime."""
    seen: defaultdict[str, defaultdict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record in records:
        seen[record["eventSource"]][record["eventTime"][:4]].add(str(record.get("eventVersion")))
    return {source: {year: sorted(seen[source][year]) for year in sorted(seen[source])} for source in sorted(seen)}


def request_id_figures(records: list[dict]) -> dict:
    """requestIDs carried by more than one record, and how many records carry them."""
    counts = Counter(r["requestID"] for r in records if isinstance(r.get("requestID"), str) and r["requestID"])
    shared = [n for n in counts.values() if n > 1]
    return {"shared_ids": len(shared), "records_sharing": sum(shared)}


def indicator_figures(records: list[dict]) -> dict[str, int]:
    """Calls (failed ones too) that detection rules watch, which a benign baseline makes rarely."""
    wanted = {(source, name): label for label, source, name in INDICATORS}
    counts = Counter({label: 0 for label, _, _ in INDICATORS})
    counts[OTHER_USER_KEY] = 0
    for record in records:
        key = (record["eventSource"], record["eventName"])
        if key in wanted:
            counts[wanted[key]] += 1
        elif key == ("iam.amazonaws.com", "CreateAccessKey") and _for_another_user(record):
            counts[OTHER_USER_KEY] += 1
    return dict(counts)


def _for_another_user(record: dict) -> bool:
    """CreateAccessKey naming a userName other than the calling IAM user's own."""
    target = (record.get("requestParameters") or {}).get("userName")
    identity = record.get("userIdentity") or {}
    return bool(target) and not (identity.get("type") == "IAMUser" and identity.get("userName") == target)


def _login_failed(record: dict) -> bool:
    """A ConsoleLogin answered `Failure` (or with an errorMessage)."""
    response = record.get("responseElements") or {}
    return response.get("ConsoleLogin") == "Failure" or bool(record.get("errorMessage"))


def _pairs(records: Iterable[dict]) -> set[tuple[str, str]]:
    return {(r["eventSource"], r["eventName"]) for r in records}


def _by_size(groups: dict[str, Counter[str]]) -> list[tuple[str, Counter[str]]]:
    """Groups by descending total, then name."""
    return sorted(groups.items(), key=lambda item: (-sum(item[1].values()), item[0]))


def _share(part: int, whole: int) -> float:
    """``part / whole`` rounded to 6 places (0.0 for an empty whole)."""
    return round(part / whole, 6) if whole else 0.0
