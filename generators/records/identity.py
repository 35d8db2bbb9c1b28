"""The userIdentity a principal's record carries: console variant, session creation time.

Calls whose session no issuing call of the activity model made (service-linked roles, scenario
actors, a principal called on its own) get a ``creationDate`` drawn by the kind of session:

- a service-linked role (``aws-service-role/`` path, ``invokedBy`` the service): the service assumes
  the role for the operation, so the session is created in the second of the call or the one
  before; the reference trails' six such records (RDS ``SLRManagement``, Inspector2
  ``MandoService...``, Spot Fleet ``sfr-...``) are 0 s after creation five times and 1 s once;
- any other role session: at most an hour old, STS's default ``DurationSeconds`` (3600) that SDKs
  and instance profiles refresh before it runs out;
- an IAM user's or root's console session: at most 12 hours, the console's longest session.

Within that span the age is ``span * u**3`` (u uniform in [0, 1)): most calls come early in a
session (reference role sessions: median 0 s, 90 % within 3 minutes), a few late.
"""
from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cloudtrail_emulator.generators.population import Principal

#: the longest age, in seconds, of a session at a call, by kind of session
SERVICE_LINKED_SESSION_SECONDS = 1
ROLE_SESSION_SECONDS = 3600          # also the lifetime of the credentials the issuing calls hand out
#: instance-profile credentials EC2 hands out live about six hours (rotated hourly, each kept ~6 h)
INSTANCE_SESSION_SECONDS = 6 * 3600
MAX_SESSION_SECONDS = 12 * 3600
#: exponent of the age's skew towards the session's start
AGE_SKEW = 3


def base_identity(principal: Principal, console: bool) -> tuple[dict, int | None]:
    """The principal's userIdentity as written for this kind of call, and its session's longest age.

    The age is None when the identity holds no session (no ``sessionContext.attributes``).
    """
    ui = principal.user_identity
    if console:
        ui = {k: v for k, v in ui.items() if k not in ("accessKeyId", "invokedBy")
              and not (k == "sessionContext" and ui.get("type") != "AssumedRole")}
    context = ui.get("sessionContext")
    if not (context and "attributes" in context):
        return ui, None
    if ui.get("type") != "AssumedRole":
        return ui, MAX_SESSION_SECONDS
    if principal.invoked_by and "/aws-service-role/" in context.get("sessionIssuer", {}).get("arn", ""):
        return ui, SERVICE_LINKED_SESSION_SECONDS
    return ui, session_seconds(principal)


def session_seconds(principal: Principal) -> int:
    """How long the credentials of the principal's role sessions live: an instance profile's ~6 h,
    any other role's STS default of one hour."""
    return INSTANCE_SESSION_SECONDS if principal.category == "instance" else ROLE_SESSION_SECONDS


def session_age(rng: random.Random, longest: int) -> int:
    """Seconds between a session's creation and a call in it, at most ``longest``."""
    return int(rng.random() ** AGE_SKEW * (longest + 1))


def with_session_created(ui: dict, created: str) -> dict:
    """A copy of ``ui`` with sessionContext.attributes.creationDate set (the rest stays shared)."""
    context = ui["sessionContext"]  # updating existing keys keeps their places in the copies
    return {**ui, "sessionContext": {**context, "attributes": {**context["attributes"], "creationDate": created}}}
