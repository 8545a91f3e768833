"""Downgrade a subscription to a cheaper plan, at period end or now (workflow 4)."""

from __future__ import annotations

from typing import Literal

from ..actors import Actor
from ..billing.locks import lock
from ..billing.period_credits import describe_credit_changes, write_credit_changes
from ..billing.period_money import add_account_credit, period_payment, refund_period_payment
from ..billing.plan_change import PlanChangeQuote, check_plan_change, check_review, switch_plan
from ..clinic_time import format_day
from ..errors import ActionError
from ..extensions import db
from ..models import (
    AccountCreditReason,
    Contact,
    CreditReason,
    Plan,
    RefundReason,
    Subscription,
)
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun

When = Literal["period_end", "now"]
CreditAs = Literal["refund", "account_credit"]


def downgrade_subscription(subscription: Subscription, *, new_plan: Plan,
                           review_token: str, actor: Actor, idempotency_key: str,
                           when: When = "period_end",
                           credit_as: CreditAs = "account_credit") -> ActionResult[Subscription]:
    """Move ``subscription`` to the cheaper ``new_plan``, as its review page showed.

    At period end (the default): the change is scheduled (``scheduled_plan``, shown as
    "Scheduled plan change"); the billing cycle switches the plan when the period renews.
    Nothing is charged or credited. A new scheduled change replaces the previous one.

    Now: the plan switches at once (a scheduled change is dropped); the unused time of the
    price difference (``billing.prorate_plan_change``, pinned by the review) is given back,
    as the admin chooses, as a refund of the period payment (through the processor, with a credit
    note; asked first, a refusal keeps the failed refund, no answer keeps it pending, and
    nothing else changes) or as account credit; credits follow the new plan for the rest of the
    period.

    Error codes: ``not_permitted``, ``invalid_option``, ``subscription_not_active``,
    ``plan_inactive``, ``currency_mismatch``, ``interval_mismatch``, ``not_a_downgrade``,
    ``review_outdated``, ``cancellation_scheduled``, ``change_already_scheduled``,
    ``no_period_payment``, ``payment_not_refundable``, ``refund_exceeds_remaining``,
    ``gateway_refused``, ``gateway_unavailable``, ``already_done``.
    """
    with ActionRun("downgrade_subscription", actor=actor, key=idempotency_key,
                   target=subscription, roles=STAFF, doing="downgrade subscriptions") as run:
        if when not in ("period_end", "now") or credit_as not in ("refund", "account_credit"):
            raise ActionError("invalid_option",
                              "Choose when the change applies and how unused time is credited.")
        subscription = lock(Subscription, subscription.id)
        new_plan = db.session.get(Plan, new_plan.id)
        check_plan_change(subscription, new_plan, is_upgrade=False)
        quote = check_review(subscription, new_plan, review_token)
        run.before = {"plan_id": subscription.plan_id,
                      "scheduled_plan_id": subscription.scheduled_plan_id}
        if when == "period_end":
            message = _schedule(subscription, new_plan)
            after = {"plan_id": subscription.plan_id, "scheduled_plan_id": new_plan.id}
        else:
            subscription, message, after = _downgrade_now(subscription, quote, credit_as,
                                                          actor=actor)
        return run.done(subscription, message, after=after)


def _schedule(subscription: Subscription, new_plan: Plan) -> str:
    if subscription.cancel_at_period_end:
        raise ActionError("cancellation_scheduled",
                          f"Subscription {subscription} is cancelled at period end: undo the "
                          "cancellation before scheduling a plan change.")
    replaced = subscription.scheduled_plan
    if replaced is not None and replaced.id == new_plan.id:
        raise ActionError("change_already_scheduled",
                          f"Subscription {subscription} already switches to {new_plan} at "
                          "period end.")
    subscription.scheduled_plan = new_plan
    db.session.flush()
    return (f"Subscription {subscription} of {subscription.contact} switches to {new_plan} at "
            f"period end ({format_day(subscription.current_period_end)})"
            + (f", replacing the scheduled change to {replaced}." if replaced else "."))


def _downgrade_now(subscription: Subscription, quote: PlanChangeQuote, credit_as: CreditAs, *,
                   actor: Actor) -> tuple[Subscription, str, dict]:
    """Switch now and give back the unused time. A refund is asked first (two phases around
    the processor): a refusal keeps the failed refund and switches nothing; once it is made,
    the subscription is locked again and switched only if it did not change meanwhile."""
    old_plan, new_plan = subscription.plan, quote.new_plan
    subscription_id, old_plan_id = subscription.id, subscription.plan_id
    amount, currency = -quote.proration.net_minor, old_plan.currency
    given = "nothing to credit for unused time"
    refund = account_credit = None
    if amount > 0 and credit_as == "refund":
        payment = period_payment(subscription)
        if payment is None:
            raise ActionError("no_period_payment",
                              f"Subscription {subscription} has no payment for the current "
                              "period to refund: credit the unused time to the account instead.")
        note = (f"Unused time after downgrade {old_plan} → {new_plan} "
                f"({quote.proration.share.describe()})")
        refunded = refund_period_payment(payment, amount_minor=amount,
                                         reason=RefundReason.OTHER, note=note, actor=actor)
        refund = refunded.refund
        given = f"refunded {format_money(amount, currency)} ({refunded.settlement.document} issued)"
        subscription = lock(Subscription, subscription_id)
        if subscription.plan_id != old_plan_id:
            raise ActionError(
                "subscription_changed",
                f"Subscription {subscription} changed while the refund was being made, so the "
                f"plan was not switched. {refund} was made: finish the change by hand.",
                keep_changes=True, after={"refund_id": refund.id})
    elif amount > 0:
        account_credit = add_account_credit(
            subscription, amount_minor=amount, currency=currency,
            reason=AccountCreditReason.DOWNGRADE, actor=actor,
            note=f"Unused time after downgrade {old_plan} → {new_plan}")
        given = f"{format_money(amount, currency)} added to the account credit"
    promo_dropped = switch_plan(subscription, new_plan)
    lock(Contact, subscription.contact_id)  # serialises with credit adjustments
    credits = write_credit_changes(subscription, quote.credits, reason=CreditReason.PLAN_CHANGE,
                                   note=f"Downgrade {old_plan} → {new_plan}", actor=actor)
    message = (f"Subscription {subscription} of {subscription.contact} downgraded from "
               f"{old_plan} to {new_plan} now: {given}; credits "
               f"{describe_credit_changes(quote.credits)}."
               + (" Its promo code does not apply to the new plan and was removed."
                  if promo_dropped else ""))
    return subscription, message, {
        "plan_id": new_plan.id, "scheduled_plan_id": None, "credited_minor": amount,
        "refund_id": refund.id if refund else None,
        "account_credit_entry_id": account_credit.id if account_credit else None,
        "credit_changes": credits, "promo_dropped": promo_dropped}
