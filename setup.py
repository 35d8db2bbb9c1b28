"""The design card's top-level folders install under one namespace, `cloudtrail_emulator`.

Nothing named `emulator`, `generators` or `schemas` lands at the top of a user's sys.path, where a
project's own `generators.py` or `schemas/` would shadow it. Everything else is in pyproject.toml.
"""
from setuptools import find_packages, setup

NAMESPACE = "cloudtrail_emulator"
FOLDERS = ("emulator", "generators", "schemas")

setup(
    packages=[f"{NAMESPACE}.{name}" for name in find_packages(include=[f"{f}*" for f in FOLDERS])],
    package_dir={f"{NAMESPACE}.{folder}": folder for folder in FOLDERS},
)
