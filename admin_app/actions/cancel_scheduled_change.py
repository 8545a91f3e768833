"""Cancel a plan change scheduled for the end of the period (workflow 4)."""

from __future__ import annotations

from ..models import AdminUser, Subscription, record_audit
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work


def cancel_scheduled_change(subscription: Subscription, *, actor: AdminUser,
                            idempotency_key: str) -> Subscription:
    """Drop the scheduled plan change: the subscription renews on its current plan.

    Error codes: ``not_permitted``, ``nothing_scheduled``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="change subscriptions")
        request = claim("cancel_scheduled_change", idempotency_key, actor=actor,
                        target=subscription)
        subscription = lock(Subscription, subscription.id)
        scheduled = subscription.scheduled_plan
        if scheduled is None:
            raise ActionError("nothing_scheduled",
                              f"Subscription {subscription} has no scheduled plan change.")
        subscription.scheduled_plan = None
        message = (f"Scheduled change of subscription {subscription} to {scheduled} cancelled: "
                   f"it renews on {subscription.plan}.")
        record_audit(actor=actor, action="cancel_scheduled_change", target=subscription,
                     summary=message[:300], before={"scheduled_plan_id": scheduled.id},
                     after={"scheduled_plan_id": None})
        finish(request, message=message, result=subscription)
    return subscription
