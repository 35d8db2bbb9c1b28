"""The README's pytest example in a fresh virtualenv where only the README's install line for it ran
(issue 10): the wheel built offline from the checkout (test_wheel_install's helpers) stands for
`path/to/cloudtrail-emulator`, everything else comes from the package registry as for a user."""
from __future__ import annotations

import re
import shlex
import sys

from test_readme_examples import README, examples
from test_wheel_install import clean_env, run, wheel  # noqa: F401  (fixture)

SECTION = "## pytest fixtures"
PACKAGE = "path/to/cloudtrail-emulator"


def section_examples() -> tuple[str, str]:
    """(the install command, the python example) of the README's pytest section."""
    text = README.read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    first_line = text.count("\n", 0, start) + 1
    last_line = text.count("\n", 0, end) + 1
    found = [e for e in examples(text) if first_line <= e.line <= last_line]
    [install] = [e.code for e in found if e.language == "sh"]
    [example] = [e.code for e in found if e.language == "python"]
    return install, example


def test_readme_pytest_example_in_a_fresh_venv(wheel, tmp_path):  # noqa: F811
    install, example = section_examples()
    command = shlex.split(install.split("#")[0])
    assert command[:4] == ["python", "-m", "pip", "install"] and PACKAGE in command, install
    root = tmp_path / "venv"
    run([sys.executable, "-m", "venv", root], timeout=120)
    bin_dir = root / "bin"
    env = clean_env(bin_dir)
    run([bin_dir / "python", *command[1:4], "--quiet", *[str(wheel) if c == PACKAGE else c for c in command[4:]]],
        timeout=900, env=env, cwd=tmp_path)

    project = tmp_path / "project"
    project.mkdir()
    (project / "test_readme_example.py").write_text(example)
    done = run([bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_readme_example.py"],
               timeout=300, env=env, cwd=project)
    assert re.search(r"\b1 passed\b", done.stdout), done.stdout
