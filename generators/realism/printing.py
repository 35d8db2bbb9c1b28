"""The realism report as text: a table of figures side by side, then the details of each set."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

Getter = Callable[[dict], Any]
LABEL_WIDTH, COLUMN_WIDTH = 46, 16
#: how many items a detail line lists before "..."
TOP = 5


def _count(value: Any) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _ratio(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


#: (section, [(label, getter, format)]): the figures printed for both sets, in order
ROWS: list[tuple[str, list[tuple[str, Getter, Callable[[Any], str]]]]] = [
    ("files", [
        ("log files", lambda f: f["files"]["log_files"], _count),
        ("records", lambda f: f["files"]["records"], _count),
        ("records per log file, median", lambda f: f["files"]["records_per_file_median"], _count),
        ("single-record log files", lambda f: f["files"]["single_record_file_share"], _pct),
        ("Insights events (Start records)", lambda f: f["files"]["insight_events"], _count),
        ("Insights records", lambda f: f["files"]["insight_records"], _count),
    ]),
    ("volumes", [
        ("UTC days (weekdays + weekend days)",
         lambda f: f"{len(f['volumes']['days'])} ({f['volumes']['weekdays']}+{f['volumes']['weekend_days']})", _text),
        ("records per weekday, CV", lambda f: f["volumes"]["weekday_cv"], _ratio),
        ("records per weekend day, CV", lambda f: f["volumes"]["weekend_cv"], _ratio),
        ("records per account (totals), CV", lambda f: f["volumes"]["account_totals_cv"], _ratio),
        ("hours of day identical on every weekday",
         lambda f: f"{f['volumes']['hours_identical_across_weekdays']}/{f['volumes']['hours_compared']}", _text),
        ("account pairs with identical daily counts", lambda f: len(f["volumes"]["identical_account_pairs"]), _count),
    ]),
    ("portfolio", [
        ("distinct eventSources", lambda f: f["portfolio"]["event_sources"], _count),
        ("distinct (eventSource, eventName) pairs", lambda f: f["portfolio"]["pairs"], _count),
        ("pairs seen once", lambda f: f["portfolio"]["pairs_seen_once"], _count),
        ("eventSources per account, min-max", lambda f: _span(f["portfolio"]["sources_per_account"].values()), _text),
    ]),
    ("user agents", [
        ("console agents off their service (records)", lambda f: f["agents"]["console_off_service_records"], _count),
        ("AWS Internal agents on sts/signin (records)", lambda f: f["agents"]["aws_internal_agent_on_sts_signin"],
         _count),
        ("ConsoleLogin records", lambda f: f["agents"]["console_logins"], _count),
        ("ConsoleLogin with a browser agent",
         lambda f: _part(f["agents"]["console_login_families"].get("browser", 0), f["agents"]["console_logins"]),
         _pct),
        ("ConsoleLogin failed", lambda f: f["agents"]["console_login_failed_share"], _pct),
    ]),
    ("sourceIPAddress", [
        ("AWS Internal", lambda f: f["addresses"]["aws_internal_share"], _pct),
        ("service-hosted (*.amazonaws.com)", lambda f: f["addresses"]["service_hosted_share"], _pct),
        ("public IP / private IP",
         lambda f: f"{_pct(f['addresses']['public_ip_share'])} / {_pct(f['addresses']['private_ip_share'])}", _text),
        ("distinct values (IPs and service names)", lambda f: f["addresses"]["distinct_source_addresses"], _count),
        ("distinct IPs", lambda f: f["addresses"]["distinct_ips"], _count),
        ("top IP's share of records", lambda f: f["addresses"]["top_ip_share"], _pct),
        ("distinct userIdentity ARNs", lambda f: f["addresses"]["distinct_arns"], _count),
        ("AWS Internal agent with an IP (records)", lambda f: f["addresses"]["aws_internal_agent_with_ip"], _count),
        ("EC2/Lambda sessions (records)", lambda f: f["addresses"]["workload_session_records"], _count),
        ("  of which from an IP (approx. outside AWS)", lambda f: f["addresses"]["workload_sessions_from_ip"], _count),
    ]),
    ("identities and calls", [
        ("sts.amazonaws.com share", lambda f: f["identity"]["sts_share"], _pct),
        ("AssumeRole share", lambda f: f["identity"]["assume_role_share"], _pct),
        ("readOnly true (of records with readOnly)", lambda f: f["identity"]["read_only_share"], _pct),
        ("errorCode share", lambda f: f["identity"]["error_share"], _pct),
        ("root records", lambda f: f["identity"]["root_records"], _count),
        ("root ConsoleLogins", lambda f: f["identity"]["root_console_logins"], _count),
        ("AWSService calls failing unauthorized", lambda f: f["identity"]["service_calls_unauthorized"], _count),
        ("requestIDs shared between records", lambda f: f["request_ids"]["shared_ids"], _count),
        ("  records carrying them", lambda f: f["request_ids"]["records_sharing"], _count),
    ]),
]


def render(report: dict) -> str:
    """The whole report: the side-by-side table, the comparison, then each set's details."""
    gen, ref = report["generated"], report["reference"]
    lines = [f"realism report: {gen['path']} ({gen['figures']['files']['records']:,} records) "
             f"vs reference {ref['path']} ({ref['figures']['files']['records']:,} records)", "",
             f"{'':{LABEL_WIDTH}}{'generated':>{COLUMN_WIDTH}}{'reference':>{COLUMN_WIDTH}}"]
    for section, rows in ROWS:
        lines.append(section)
        for label, get, fmt in rows:
            lines.append(f"  {label:{LABEL_WIDTH - 2}}{fmt(get(gen['figures'])):>{COLUMN_WIDTH}}"
                         f"{fmt(get(ref['figures'])):>{COLUMN_WIDTH}}")
    lines += _comparison_lines(report["comparison"])
    lines += _distribution_lines("identity types", gen["figures"]["identity"]["types"],
                                 ref["figures"]["identity"]["types"])
    lines += _distribution_lines("attack-indicator calls (benign baseline: rare)", gen["figures"]["indicators"],
                                 ref["figures"]["indicators"], _count)
    for name, part in (("generated", gen), ("reference", ref)):
        lines += ["", f"== {name}: {part['path']}"] + _detail_lines(part["figures"])
    return "\n".join(lines)


def _comparison_lines(comparison: dict) -> list[str]:
    missing = comparison["reference_pairs_not_producible"]
    return ["comparison",
            f"  {'identity-type total variation distance':{LABEL_WIDTH - 2}}"
            f"{_ratio(comparison['identity_type_tvd']):>{COLUMN_WIDTH}}",
            f"  {'reference (source, name) pairs':{LABEL_WIDTH - 2}}{comparison['reference_pairs']:>{COLUMN_WIDTH},}",
            f"  {'  present in the generated set':{LABEL_WIDTH - 2}}"
            f"{_pct(comparison['reference_pairs_present_share']):>{COLUMN_WIDTH}}",
            f"  {'  producible (in the catalog)':{LABEL_WIDTH - 2}}"
            f"{_pct(comparison['reference_pairs_producible_share']):>{COLUMN_WIDTH}}",
            f"  not producible ({len(missing)}): {_listing(missing) or 'none'}"]


def _distribution_lines(title: str, gen: dict[str, Any], ref: dict[str, Any],
                        fmt: Callable[[Any], str] = _pct) -> list[str]:
    lines = [title]
    for key in dict.fromkeys([*gen, *ref]):
        lines.append(f"  {key:{LABEL_WIDTH - 2}}{fmt(gen.get(key, 0)):>{COLUMN_WIDTH}}{fmt(ref.get(key, 0)):>{COLUMN_WIDTH}}")
    return lines


def _detail_lines(figures: dict) -> list[str]:
    volumes, agents = figures["volumes"], figures["agents"]
    lines = ["records per UTC day: " + ", ".join(
        f"{day} {date.fromisoformat(day):%a} {n:,}" for day, n in volumes["days"].items())]
    width = max([5] + [len(f"{n:,}") for series in volumes["accounts"].values() for n in series.values()])
    lines.append(f"records per account per day ({' '.join(f'{day[5:]:>{width}}' for day in volumes['days'])}):")
    for account, series in volumes["accounts"].items():
        lines.append(f"  {account}: " + " ".join(f"{n:>{width},}" for n in series.values()) +
                     f"  (weekday CV {_ratio(volumes['account_weekday_cv'][account])},"
                     f" {figures['portfolio']['sources_per_account'].get(account, 0)} eventSources)")
    if volumes["identical_account_pairs"]:
        lines.append("  identical daily counts: " + ", ".join(" = ".join(p) for p in volumes["identical_account_pairs"]))
    lines.append("user-agent families (records; eventSources; top eventSources):")
    for family, by_source in agents["families_by_source"].items():
        top = ", ".join(f"{_short(s)} {n:,}" for s, n in list(by_source.items())[:TOP])
        lines.append(f"  {family}: {agents['families'][family]:,}; {len(by_source)}; {top}")
    lines.append("console agents off their service: " + (
        "; ".join(f"{family} on " + _listing([f"{_short(s)} {n:,}" for s, n in by_source.items()])
                  for family, by_source in agents["console_off_service"].items()) or "none"))
    lines.append("ConsoleLogin agents: " + (", ".join(
        f"{family} {n:,}" for family, n in agents["console_login_families"].items()) or "none"))
    lines.append("eventVersion per year (the commonest version: how many eventSources; others: which):")
    lines += [f"  {line}" for line in _version_lines(figures["versions"])]
    return lines


def _version_lines(versions: dict[str, dict[str, list[str]]]) -> list[str]:
    """Per year: the version most eventSources have (a count), and the eventSources with any other."""
    years = sorted({year for by_year in versions.values() for year in by_year})
    lines = []
    for year in years:
        sets = {source: tuple(by_year[year]) for source, by_year in versions.items() if year in by_year}
        common, count = Counter(sets.values()).most_common(1)[0]
        others: dict[tuple[str, ...], list[str]] = {}
        for source, seen in sets.items():
            if seen != common:
                others.setdefault(seen, []).append(_short(source))
        lines.append(f"{year}: {'+'.join(common)} on {count} eventSources" + "".join(
            f"; {'+'.join(seen)}: {', '.join(sources)}" for seen, sources in sorted(others.items())))
    return lines


def _span(values: Any) -> str:
    values = list(values)
    return f"{min(values)}-{max(values)}" if values else "-"


def _part(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _short(source: str) -> str:
    return source.removesuffix(".amazonaws.com")


def _listing(items: list[str], limit: int = 2 * TOP) -> str:
    return ", ".join(items[:limit]) + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")
