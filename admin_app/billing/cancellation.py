"""When a cancellation at period end can still be taken back: while it is ahead (the
subscription is not cancelled yet, is set to cancel at period end, and that end has not come).
Shared by Undo cancellation and the ⋯ menu that offers it. And who cancelled a subscription,
read from the audit log (the entry that made it cancelled, or set it to cancel)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import AuditEntry, Subscription, SubscriptionStatus

LOOK_BACK = 50  # audit entries of one subscription read to find its cancellation


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


def cancellation_entry(subscription: Subscription) -> AuditEntry | None:
    """The audit entry that cancelled ``subscription`` (or set it to cancel at period end):
    its ``created_at`` and ``actor`` (``None``: the panel itself) say when and by whom."""
    if subscription.status is not SubscriptionStatus.CANCELED \
            and not subscription.cancel_at_period_end:
        return None
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.target_type == Subscription.__tablename__,
                                 AuditEntry.target_id == str(subscription.id))
        .order_by(AuditEntry.id.desc()).limit(LOOK_BACK))
    for entry in entries:
        after = entry.after if isinstance(entry.after, dict) else {}
        if after.get("status") == SubscriptionStatus.CANCELED.value \
                or after.get("cancel_at_period_end") is True:
            return entry
    return None


def access_ends_at(subscription: Subscription) -> datetime:
    """When the member's access ends (or ended): a subscription cancelled at once ends when it
    was cancelled (its unused share refunded or kept as account credit); one cancelled at, or
    set to cancel at, period end keeps access to the end of its period."""
    if subscription.status is SubscriptionStatus.CANCELED and subscription.canceled_at and \
            subscription.canceled_at < subscription.current_period_end:
        return subscription.canceled_at
    return subscription.current_period_end
