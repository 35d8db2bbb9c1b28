"""The realism report (`cloudtrail-emulator realism DIR`): population-level figures of a tree of log
files (volumes, service portfolio, user agents, source addresses, identities, eventVersions, file
sizes, attack indicators) beside the same figures for real CloudTrail files; `docs/realism.md`.

`reading.py` reads trees of log files (also what tests use to read the reference files),
`families.py` classifies user agents, addresses and workload sessions, `volumes.py` and `figures.py`
compute the figures, `printing.py` renders them as text, `report.py` puts it together.
"""
from cloudtrail_emulator.generators.realism.reading import LogSet, load_records, read_log_file, read_tree
from cloudtrail_emulator.generators.realism.report import DEFAULT_REFERENCE, build_report, format_report

__all__ = ["DEFAULT_REFERENCE", "LogSet", "build_report", "format_report", "load_records", "read_log_file",
           "read_tree"]
