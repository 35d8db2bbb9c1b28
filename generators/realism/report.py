"""The realism report of a generated tree against the reference files: figures, then JSON or text."""
from __future__ import annotations

import gc
from pathlib import Path

import orjson

from cloudtrail_emulator.generators.catalog import load_catalog
from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.realism.figures import all_figures, comparison
from cloudtrail_emulator.generators.realism.printing import render
from cloudtrail_emulator.generators.realism.reading import read_tree

#: the real log files beside a checkout of the repository (`../shared/reference/real-cloudtrail`)
DEFAULT_REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "real-cloudtrail"


def build_report(target: Path | str, reference: Path | str | None = None) -> dict:
    """Every figure of ``target``'s log files and of the reference's, and their comparison."""
    reference = Path(reference) if reference is not None else DEFAULT_REFERENCE
    collecting = gc.isenabled()
    gc.disable()           # hundreds of thousands of small objects, none cyclic: collections only cost time
    try:
        generated = read_tree(target)
        if not reference.is_dir():
            raise GeneratorError(f"reference directory {reference} not found (pass --reference DIR: "
                                 "a folder of real CloudTrail log files)")
        real = read_tree(reference)
        gen_figures, ref_figures = all_figures(generated), all_figures(real)
        compared = comparison(generated, real, load_catalog().pairs(), gen_figures, ref_figures)
    finally:
        if collecting:
            gc.enable()
    return {
        "generated": {"path": str(target), "figures": gen_figures},
        "reference": {"path": str(reference), "figures": ref_figures},
        "comparison": compared,
    }


def format_report(report: dict, *, as_json: bool = False) -> str:
    """The report as indented JSON or as text."""
    return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() if as_json else render(report)
