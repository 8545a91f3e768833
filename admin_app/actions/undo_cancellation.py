"""Undo a cancellation scheduled for the end of the period (workflow 2)."""

from __future__ import annotations

from ..clock import utcnow
from ..models import AdminUser, Subscription, SubscriptionStatus, record_audit
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work


def undo_cancellation(subscription: Subscription, *, actor: AdminUser,
                      idempotency_key: str) -> Subscription:
    """Take back a cancellation at period end: the subscription renews again as usual.

    Only while the cancellation is still ahead: the subscription is not cancelled yet, is set
    to cancel at period end, and that end has not come.

    Error codes: ``not_permitted``, ``nothing_to_undo``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="undo cancellations")
        request = claim("undo_cancellation", idempotency_key, actor=actor, target=subscription)
        subscription = lock(Subscription, subscription.id)
        if (subscription.status is SubscriptionStatus.CANCELED
                or not subscription.cancel_at_period_end
                or utcnow() >= subscription.current_period_end):
            raise ActionError("nothing_to_undo",
                              f"Subscription {subscription} has no cancellation waiting for its "
                              "period end: there is nothing to undo.")
        subscription.cancel_at_period_end = False
        message = (f"Cancellation of subscription {subscription} of {subscription.contact} "
                   f"undone: it renews on {subscription.current_period_end:%d %b %Y}.")
        record_audit(actor=actor, action="undo_cancellation", target=subscription,
                     summary=message, before={"cancel_at_period_end": True},
                     after={"cancel_at_period_end": False})
        finish(request, message=message, result=subscription)
    return subscription
