"""What validation found: a verdict per file (`Verdict`, `FileVerdict`) and the `ValidationReport`."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from cloudtrail_emulator.generators.times import format_time


class Severity(enum.Enum):
    """How a verdict counts: only INVALID fails the report."""

    OK = "valid"
    INVALID = "INVALID"
    WARNING = "WARNING"
    NOTICE = "NOTE"


class Verdict(enum.Enum):
    """What the validator concluded about one file; the value is (message, severity)."""

    VALID = ("valid", Severity.OK)
    NOT_FOUND = ("not found", Severity.INVALID)
    INVALID_FORMAT = ("invalid format", Severity.INVALID)
    UNSIGNED = ("signature metadata missing", Severity.INVALID)
    MOVED = ("has been moved from its original location", Severity.INVALID)
    PUBLIC_KEY_NOT_FOUND = ("public key not found", Severity.INVALID)
    SIGNATURE_FAILED = ("signature verification failed", Severity.INVALID)
    BROKEN_LINK = ("previous digest link does not match the previous digest", Severity.INVALID)
    PERIOD_GAP = ("period does not start where the previous digest ends", Severity.INVALID)
    HASH_MISMATCH = ("hash value doesn't match", Severity.INVALID)
    TRAILING_DATA = ("unexpected data after end of compressed stream", Severity.INVALID)
    OUTSIDE_TREE = ("symbolic link out of the trail directory, not read", Severity.INVALID)
    NOT_IN_DIGEST = ("not in any digest", Severity.WARNING)
    AWAITING_DIGEST = ("awaiting a digest", Severity.NOTICE)
    OUTSIDE_COVERAGE = ("outside digest coverage", Severity.NOTICE)

    @property
    def message(self) -> str:
        return self.value[0]

    @property
    def severity(self) -> Severity:
        return self.value[1]


@dataclass(frozen=True)
class FileVerdict:
    """The verdict on one digest or log file."""

    kind: str                  # "digest" | "log"
    bucket: str
    key: str
    verdict: Verdict
    detail: str = ""

    def line(self) -> str:
        """`Digest file<TAB>s3://b/k<TAB>INVALID: reason`, the way validate-logs prints it."""
        label = "Digest file" if self.kind == "digest" else "Log file"
        if self.verdict is Verdict.VALID:
            status = "valid"
        else:
            status = f"{self.verdict.severity.value}: {self.verdict.message}"
        if self.detail:
            status += f" ({self.detail})"
        return f"{label}\ts3://{self.bucket}/{self.key}\t{status}"


@dataclass
class ValidationReport:
    """Every verdict of one validation run, with its notes and the time range it found."""

    bucket: str
    prefix: str
    start: datetime | None
    end: datetime | None
    digests: list[FileVerdict] = field(default_factory=list)
    logs: list[FileVerdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    found_start: datetime | None = None
    found_end: datetime | None = None

    @property
    def problems(self) -> list[FileVerdict]:
        """Every invalid verdict, digests first."""
        return [v for v in self.digests + self.logs if v.verdict.severity is Severity.INVALID]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        """0 when nothing is invalid, 1 otherwise (as validate-logs)."""
        return 0 if self.ok else 1

    def count(self, kind: str, verdict: Verdict) -> int:
        return sum(1 for v in (self.digests if kind == "digest" else self.logs) if v.verdict is verdict)

    def render(self, verbose: bool = False) -> str:
        """Text for a terminal: invalid files and warnings (every file when verbose), notes, totals."""
        location = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        lines = [f"Validating digests and log files in {location}", ""]
        shown = (Severity.INVALID, Severity.WARNING)
        for item in self.digests + self.logs:
            if verbose or item.verdict.severity in shown:
                lines.append(item.line())
        lines += self.notes
        if self.start or self.end:
            lines.append(f"\nResults requested for {show_time(self.start)} to {show_time(self.end)}")
        if not self.digests:
            lines.append("No digests found")
        elif self.found_start and self.found_end:
            lines.append(f"Results found for {show_time(self.found_start)} to {show_time(self.found_end)}:")
        lines.append("")
        lines += _ratio(self.digests, "digest") + _ratio(self.logs, "log")
        for verdict in (Verdict.NOT_IN_DIGEST, Verdict.AWAITING_DIGEST, Verdict.OUTSIDE_COVERAGE):
            if n := self.count("log", verdict):
                lines.append(f"{n} log files {verdict.message}")
        return "\n".join(lines) + "\n"


def show_time(at: datetime | None) -> str:
    """`at` as a report prints it, "-" when unknown."""
    return "-" if at is None else format_time(at)


def _ratio(items: list[FileVerdict], name: str) -> list[str]:
    judged = [v for v in items if v.verdict.severity in (Severity.OK, Severity.INVALID)]
    if not judged:
        return []
    valid = sum(1 for v in judged if v.verdict is Verdict.VALID)
    text = f"{valid}/{len(judged)} {name} files valid"
    if valid < len(judged):
        text += f", {len(judged) - valid}/{len(judged)} {name} files INVALID"
    return [text]
