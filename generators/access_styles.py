"""Access styles: how an organisation's people and pipelines reach AWS (``generate --access-style``)."""
from __future__ import annotations

import random

from cloudtrail_emulator.generators.errors import GeneratorError

#: people's IAM users (access keys, console passwords; Terraform from laptops) and CI with a deploy
#: user's access keys, as in the reference trails; IAM Identity Center permission sets with OIDC
#: pipelines; or both
ACCESS_STYLES = ("iam-users", "identity-center", "mixed")
#: each account draws its own style from the seed, with these chances
PER_ACCOUNT = "per-account"
PER_ACCOUNT_CHANCES = {"iam-users": 0.4, "identity-center": 0.3, "mixed": 0.3}
#: the reference trails' style: the issue's identity-type figures are measured against them
DEFAULT_ACCESS_STYLE = "iam-users"
#: what ``--access-style`` accepts
ACCESS_STYLE_CHOICES = (*ACCESS_STYLES, PER_ACCOUNT)


def account_style(style: str, seed: int, account: str) -> str:
    """The style of one account (one of ACCESS_STYLES): the run's, or drawn per (seed, account)."""
    if style in ACCESS_STYLES:
        return style
    if style != PER_ACCOUNT:
        raise GeneratorError(f"unknown access style {style!r} (one of {', '.join(ACCESS_STYLE_CHOICES)})")
    rng = random.Random(f"{seed}:{account}:access")
    return rng.choices(list(PER_ACCOUNT_CHANCES), weights=list(PER_ACCOUNT_CHANCES.values()))[0]
