"""Personas: who a principal acts as, each persona's share of a unit and its rhythm over day and week."""
from __future__ import annotations

import random
from datetime import datetime

from cloudtrail_emulator.generators.population import Principal
from cloudtrail_emulator.generators.volumes import HOURLY_RHYTHM

PERSONAS = ("developer", "admin", "console", "ci", "workload", "service")
#: share of the records per persona at an average moment, before the persona's rhythm
BASE_SHARES = {"developer": 0.28, "admin": 0.07, "console": 0.12, "ci": 0.18, "workload": 0.15,
               "service": 0.20}
#: mean records per session (issuing calls included), per persona
SESSION_SIZE = {"developer": 30, "admin": 20, "console": 40, "ci": 60}
#: mean seconds between two calls of a session
CALL_GAP = {"developer": 20.0, "admin": 25.0, "console": 12.0, "ci": 1.5}
#: how people reach an account, drawn per (seed, account) with these chances: their IAM users' access
#: keys and console passwords, Terraform run from their laptops (an older or smaller account, as in
#: the reference trails), IAM Identity Center permission sets and OIDC pipelines, or both. Each
#: multiplies the activity weight of principals by category, and personas' shares.
ACCESS_STYLES: dict[str, tuple[float, dict[str, float], dict[str, float]]] = {
    "iam-users": (0.4, {"user": 6.0, "console-user": 6.0, "role": 0.5, "sso": 0.1, "sso-console": 0.1},
                  {"ci": 0.25, "developer": 1.6}),
    "identity-center": (0.3, {"user": 0.3, "console-user": 0.2, "sso": 2.0, "sso-console": 2.0}, {}),
    "mixed": (0.3, {}, {}),
}
_ADMIN_MARKERS = ("AdministratorAccess", ":role/Admin/", "OrganizationAccountAccessRole")
_RHYTHM_MEAN = sum(HOURLY_RHYTHM) / len(HOURLY_RHYTHM)


def persona_of(principal: Principal) -> str:
    """Which persona a principal acts as (one of PERSONAS)."""
    category = principal.category
    if category in ("service", "service-role"):
        return "service"
    if category in ("instance", "lambda"):
        return "workload"
    if category in ("ci", "web-identity"):
        return "ci"
    if category == "root" or any(marker in principal.key for marker in _ADMIN_MARKERS):
        return "admin"
    if category in ("console-user", "sso-console"):
        return "console"
    return "developer"


def access_style(seed: int, account: str) -> str:
    """How people reach the account (one of ACCESS_STYLES), stable per seed and account."""
    rng = random.Random(f"{seed}:{account}:access")
    return rng.choices(list(ACCESS_STYLES), weights=[style[0] for style in ACCESS_STYLES.values()])[0]


def persona_rhythm(persona: str, at: datetime) -> float:
    """Relative activity of a persona at a moment: timeline's day curve, shaped per persona."""
    day = HOURLY_RHYTHM[at.hour] / _RHYTHM_MEAN
    weekend = at.weekday() >= 5
    if persona in ("developer", "console"):
        return day ** 2 * (0.1 if weekend else 1.0)
    if persona == "admin":
        return day ** 1.5 * (0.25 if weekend else 1.0)
    if persona == "ci":
        return (0.4 + 0.6 * day) * (0.5 if weekend else 1.0)
    return 1.0


def apportion(total: int, weights: list[float]) -> list[int]:
    """Integer shares of ``total`` proportional to ``weights`` (largest remainder, stable ties)."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    shares = [int(x) for x in exact]
    for i in sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))[:total - sum(shares)]:
        shares[i] += 1
    return shares
