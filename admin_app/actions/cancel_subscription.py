"""Cancel a subscription, now or at the end of its period (workflow 2)."""

from __future__ import annotations

from typing import Literal

from ..actors import Actor
from ..billing.locks import lock
from ..billing.period_credits import remaining_period_credits, write_credit_changes
from ..billing.period_money import period_payments, refund_period_payment, unused_time_refunds
from ..clinic_time import format_day
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import (
    Contact,
    CreditReason,
    Refund,
    RefundReason,
    Subscription,
    SubscriptionStatus,
)
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun

CreditsChoice = Literal["keep", "remove"]
REMOVAL_NOTE = "Unused credits removed on cancellation"


def _state(subscription: Subscription) -> dict:
    return {"status": subscription.status.value,
            "cancel_at_period_end": subscription.cancel_at_period_end,
            "canceled_at": subscription.canceled_at.isoformat() if subscription.canceled_at
            else None}


def cancel_subscription(subscription: Subscription, *, at_period_end: bool,
                        credits: CreditsChoice = "keep", refund_unused: bool = False,
                        actor: Actor, idempotency_key: str) -> ActionResult[Subscription]:
    """Cancel ``subscription``.

    At period end: it stays active (its credits too) until ``current_period_end``, then the
    billing cycle ends it instead of renewing; until then Undo cancellation takes it back.
    Now: it is cancelled at once (any scheduled plan change is dropped), and the admin decides
    what happens to the period's remaining credits (``keep``, or ``remove``: negative ledger
    entries bringing them to zero, never below; ``period_credits``) and whether the unused time
    of the period payments is refunded (prorated by the second, less what was already refunded
    of it; through the processor, with a credit note; ``period_money``). The refunds are asked
    first: if the processor says no, the refunds made and the failed one are kept and the
    subscription is not cancelled.

    Error codes: ``not_permitted``, ``already_cancelled`` (a no-op, shown as information),
    ``cancellation_already_scheduled``, ``invalid_option``, ``option_needs_cancel_now``,
    ``no_period_payment``, ``gateway_refused``, ``gateway_unavailable``, ``already_done``.
    """
    with ActionRun("cancel_subscription", actor=actor, key=idempotency_key,
                   target=subscription, roles=STAFF, doing="cancel subscriptions") as run:
        subscription = lock(Subscription, subscription.id)
        if subscription.status is SubscriptionStatus.CANCELED:
            raise ActionError("already_cancelled",
                              f"Subscription {subscription} is already cancelled.")
        if credits not in ("keep", "remove"):
            raise ActionError("invalid_option", "Choose to keep or to remove the credits.")
        if at_period_end and (credits == "remove" or refund_unused):
            raise ActionError("option_needs_cancel_now",
                              "Removing credits and refunding unused time apply only when "
                              "cancelling now: at period end the member keeps the period they "
                              "paid for.")
        if at_period_end and subscription.cancel_at_period_end:
            raise ActionError("cancellation_already_scheduled",
                              f"Subscription {subscription} already cancels at period end "
                              f"({format_day(subscription.current_period_end)}).")
        run.before, now = _state(subscription), utcnow()
        if at_period_end:
            subscription.cancel_at_period_end = True
            message = (f"Subscription {subscription} of {subscription.contact} will be cancelled "
                       f"at period end ({format_day(subscription.current_period_end)}); it stays "
                       "active until then.")
            after = _state(subscription)
        else:
            refunds, refund_message = [], ""
            if refund_unused:
                refunds, refund_message = _refund_unused_time(subscription, actor=actor)
                subscription = lock(Subscription, subscription.id)
            removed = {}
            if credits == "remove":
                lock(Contact, subscription.contact_id)  # serialises with credit adjustments
                removed = write_credit_changes(
                    subscription, {service: -left for service, left
                                   in remaining_period_credits(subscription).items()},
                    reason=CreditReason.EXPIRY, note=REMOVAL_NOTE, actor=actor)
            subscription.status, subscription.canceled_at = SubscriptionStatus.CANCELED, now
            subscription.cancel_at_period_end, subscription.scheduled_plan = False, None
            message = (f"Subscription {subscription} of {subscription.contact} is cancelled."
                       + refund_message
                       + (f" Removed {sum(-q for q in removed.values())} unused credit(s)."
                          if removed else ""))
            after = {**_state(subscription), "credits_removed": removed,
                     "refund_ids": [r.id for r in refunds],
                     "refund_minor": sum(r.amount_minor for r in refunds)}
        db.session.flush()
        return run.done(subscription, message, after=after)


def _refund_unused_time(subscription: Subscription, *,
                        actor: Actor) -> tuple[list[Refund], str]:
    """Refund the unused time of the period payments (``period_money``), each in two phases
    around the processor; returns the refunds and a sentence. A processor's "no" (or no
    answer) keeps the refunds made so far and the failed one, and cancels nothing: a retry
    refunds only what is still unused and unrefunded."""
    payments = period_payments(subscription, lock_rows=True)
    if not payments:
        raise ActionError("no_period_payment",
                          f"Subscription {subscription} has no payment for the current period "
                          "to refund: cancel without a refund.")
    plan, subscription_id = str(subscription.plan), subscription.id
    refunds: list[Refund] = []
    for quote in unused_time_refunds(subscription, payments, at=utcnow()):
        note = (f"Unused time of {plan} ({quote.share.describe()}) after "
                f"cancelling subscription #{subscription_id}")
        try:
            refunded = refund_period_payment(quote.payment, amount_minor=quote.amount_minor,
                                             reason=RefundReason.SUBSCRIPTION_CANCELED,
                                             note=note, actor=actor)
        except ActionError as refused:
            made = f"Refunded {_total(refunds)} first; then: " if refunds else ""
            refused.message = f"{made}{refused.message} The subscription was not cancelled."
            refused.after = {"refund_ids": [r.id for r in refunds]}
            raise
        refunds.append(refunded.refund)
    if not refunds:
        return refunds, " Nothing was left to refund."
    return refunds, (f" Refunded {_total(refunds)} of unused time (credit note"
                     f"{'s' if len(refunds) > 1 else ''} issued).")


def _total(refunds: list[Refund]) -> str:
    return format_money(sum(r.amount_minor for r in refunds), refunds[0].currency)
