"""Regenerate a plan's Subscription Link (workflow 7): the old link stops working."""

from __future__ import annotations

from ..actors import Actor
from ..billing.locks import lock
from ..billing.plan_links import token_ending
from ..extensions import db
from ..models import Plan
from ..models.catalog import new_public_token
from .runner import MANAGERS, ActionResult, ActionRun


def regenerate_plan_link(plan: Plan, *, actor: Actor, idempotency_key: str) -> ActionResult[Plan]:
    """Give the plan a new public token: the old link stops working at once, for everyone
    who has it. Whether the link is on or off does not change.

    Error codes: ``not_permitted`` (owners and managers only), ``already_done``.
    """
    with ActionRun("regenerate_plan_link", actor=actor, key=idempotency_key, target=plan,
                   roles=MANAGERS, doing="regenerate a subscription link") as run:
        plan = lock(Plan, plan.id)
        old_token = plan.public_token
        plan.public_token = new_public_token()
        db.session.flush()
        message = (f"New subscription link for {plan}: the old link no longer works (it ended "
                   f"in {token_ending(old_token)}).")
        return run.done(plan, message,
                        before={"token_ending": token_ending(old_token)},
                        after={"token_ending": token_ending(plan.public_token)})
