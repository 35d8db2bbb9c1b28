"""Personas: who a principal acts as, each persona's share of a unit and its rhythm over day and week."""
from __future__ import annotations

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
#: per access style (the population's ACCESS_STYLES): multipliers of principals' activity weights by
#: category (0: the category does not act), and of personas' shares. An ``iam-users`` organisation
#: works through its people's IAM users and its pipelines' deploy users: roles assumed by people are
#: rare, there is no IAM Identity Center nor OIDC role, and its few workloads and AWS services make a
#: small part of its records (the reference trails: 94 % IAMUser). In an ``identity-center`` one
#: people work through permission sets and pipelines through OIDC: its people's IAM users are kept
#: for break-glass and do not act in a baseline.
STYLE_WEIGHTS: dict[str, tuple[dict[str, float], dict[str, float]]] = {
    "iam-users": ({"user": 6.0, "console-user": 6.0, "role": 0.15, "federated": 0.5, "sso": 0.0,
                   "sso-console": 0.0, "ci": 0.0, "web-identity": 0.0},
                  {"developer": 1.6, "workload": 0.3, "service": 0.3}),
    "identity-center": ({"user": 0.0, "console-user": 0.0, "role": 0.0, "sso": 2.0, "sso-console": 2.0}, {}),
    "mixed": ({}, {}),
}
_RHYTHM_MEAN = sum(HOURLY_RHYTHM) / len(HOURLY_RHYTHM)


def persona_of(principal: Principal) -> str:
    """Which persona a principal acts as (one of PERSONAS)."""
    category = principal.category
    if category in ("service", "service-role"):
        return "service"
    if category in ("instance", "lambda"):
        return "workload"
    if category in ("ci", "ci-user", "web-identity"):
        return "ci"
    if category == "root" or principal.admin:
        return "admin"
    if category in ("console-user", "sso-console"):
        return "console"
    return "developer"


def activity_weight(principal: Principal, style: str) -> float:
    """How much a principal acts in an account of ``style``, relative to its persona's others (0: never)."""
    return principal.weight * STYLE_WEIGHTS[style][0].get(principal.category, 1.0)


def persona_rhythm(persona: str, at: datetime, office_hour: int | None = None) -> float:
    """Relative activity of a persona at a moment: the day curve at the account's office hour (its
    office shift applied; default the UTC hour), shaped per persona."""
    day = HOURLY_RHYTHM[at.hour if office_hour is None else office_hour] / _RHYTHM_MEAN
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
