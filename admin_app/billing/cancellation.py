"""When a cancellation at period end can still be taken back: while it is ahead (the
subscription is not cancelled yet, is set to cancel at period end, and that end has not come).
Shared by Undo cancellation and the ⋯ menu that offers it."""

from __future__ import annotations

from datetime import datetime

from ..clock import utcnow
from ..errors import ActionError
from ..models import Subscription, SubscriptionStatus


def undo_refusal(subscription: Subscription, *, at: datetime | None = None) -> ActionError | None:
    """Why the cancellation of ``subscription`` cannot be undone at ``at`` (now):
    ``nothing_to_undo``; ``None`` while it can."""
    at = at or utcnow()
    if (subscription.status is SubscriptionStatus.CANCELED
            or not subscription.cancel_at_period_end
            or at >= subscription.current_period_end):
        return ActionError("nothing_to_undo",
                           f"Subscription {subscription} has no cancellation waiting for its "
                           "period end: there is nothing to undo.")
    return None
