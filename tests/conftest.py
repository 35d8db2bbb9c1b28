"""Shared fixtures: each fixtures_*.py module beside this file owns one kind of fixture."""
from fixtures_moto import *  # noqa: F401,F403
from fixtures_server import *  # noqa: F401,F403
from fixtures_paths import *  # noqa: F401,F403
from fixtures_faults import *  # noqa: F401,F403
