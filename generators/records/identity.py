"""The userIdentity a principal's record carries: console variant, session creation time."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cloudtrail_emulator.generators.population import Principal

MAX_SESSION_SECONDS = 12 * 3600


def base_identity(principal: Principal, console: bool) -> tuple[dict, bool]:
    """The principal's userIdentity as written for this kind of call, and whether it holds a session."""
    ui = principal.user_identity
    if console:
        ui = {k: v for k, v in ui.items() if k not in ("accessKeyId", "invokedBy")
              and not (k == "sessionContext" and ui.get("type") != "AssumedRole")}
    context = ui.get("sessionContext")
    return ui, bool(context and "attributes" in context)


def with_session_created(ui: dict, created: str) -> dict:
    """A copy of ``ui`` with sessionContext.attributes.creationDate set (the rest stays shared)."""
    context = ui["sessionContext"]  # updating existing keys keeps their places in the copies
    return {**ui, "sessionContext": {**context, "attributes": {**context["attributes"], "creationDate": created}}}
