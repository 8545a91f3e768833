"""Switch a plan's Subscription Link on or off (workflow 7)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.locks import lock
from ..errors import ActionError
from ..models import Plan
from .runner import MANAGERS, ActionResult, ActionRun


def set_plan_link_enabled(plan: Plan, *, is_enabled: bool, actor: Actor,
                          idempotency_key: str) -> ActionResult[Plan]:
    """Switch the plan's public link on or off. While off, the link shows "not found" and no
    invitation can be sent; switching it back on revives the same link.

    Error codes: ``not_permitted`` (owners and managers only), ``link_unchanged`` (already in
    that state: nothing to do), ``already_done``.
    """
    with ActionRun("set_plan_link_enabled", actor=actor, key=idempotency_key, target=plan,
                   roles=MANAGERS, doing="switch a subscription link on or off") as run:
        plan = lock(Plan, plan.id)
        state = "on" if is_enabled else "off"
        if plan.is_public_link_enabled == is_enabled:
            raise ActionError("link_unchanged",
                              f"The subscription link of {plan} is already {state}: "
                              "nothing changed.")
        plan.is_public_link_enabled = is_enabled
        message = f"The subscription link of {plan} is now {state}."
        return run.done(plan, message,
                        before={"is_public_link_enabled": not is_enabled},
                        after={"is_public_link_enabled": is_enabled})
