"""Cancel a plan change scheduled for the end of the period (workflow 4)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.locks import lock
from ..errors import ActionError
from ..models import Subscription
from .runner import STAFF, ActionResult, ActionRun


def cancel_scheduled_change(subscription: Subscription, *, actor: Actor,
                            idempotency_key: str) -> ActionResult[Subscription]:
    """Drop the scheduled plan change: the subscription renews on its current plan.

    Error codes: ``not_permitted``, ``nothing_scheduled``, ``already_done``.
    """
    with ActionRun("cancel_scheduled_change", actor=actor, key=idempotency_key, target=subscription,
                   roles=STAFF, doing="change subscriptions") as run:
        subscription = lock(Subscription, subscription.id)
        scheduled = subscription.scheduled_plan
        if scheduled is None:
            raise ActionError("nothing_scheduled",
                              f"Subscription {subscription} has no scheduled plan change.")
        subscription.scheduled_plan = None
        message = (f"Scheduled change of subscription {subscription} to {scheduled} cancelled: "
                   f"it renews on {subscription.plan}.")
        return run.done(subscription, message,
                        before={"scheduled_plan_id": scheduled.id},
                        after={"scheduled_plan_id": None})
