"""Undo a cancellation scheduled for the end of the period (workflow 2)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.cancellation import undo_refusal
from ..billing.locks import lock
from ..clinic_time import format_day
from ..models import Subscription
from .runner import STAFF, ActionResult, ActionRun


def undo_cancellation(subscription: Subscription, *, actor: Actor,
                      idempotency_key: str) -> ActionResult[Subscription]:
    """Take back a cancellation at period end: the subscription renews again as usual.

    Only while the cancellation is still ahead: the subscription is not cancelled yet, is set
    to cancel at period end, and that end has not come.

    Error codes: ``not_permitted``, ``nothing_to_undo``, ``already_done``.
    """
    with ActionRun("undo_cancellation", actor=actor, key=idempotency_key, target=subscription,
                   roles=STAFF, doing="undo cancellations") as run:
        subscription = lock(Subscription, subscription.id)
        refusal = undo_refusal(subscription)
        if refusal is not None:
            raise refusal
        subscription.cancel_at_period_end = False
        message = (f"Cancellation of subscription {subscription} of {subscription.contact} "
                   f"undone: it renews on {format_day(subscription.current_period_end)}.")
        return run.done(subscription, message,
                        before={"cancel_at_period_end": True},
                        after={"cancel_at_period_end": False})
