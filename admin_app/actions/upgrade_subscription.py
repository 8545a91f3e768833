"""Upgrade a subscription to a pricier plan, charging the proration now (workflow 3)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.charging import charge_saved_card
from ..billing.locks import lock
from ..billing.period_credits import describe_credit_changes, write_credit_changes
from ..billing.plan_change import check_plan_change, check_review, switch_plan
from ..clinic_time import format_day
from ..errors import ActionError
from ..extensions import db
from ..models import (
    Contact,
    CreditReason,
    PaymentPurpose,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun


def upgrade_subscription(subscription: Subscription, *, new_plan: Plan, review_token: str,
                         actor: Actor, idempotency_key: str) -> ActionResult[Subscription]:
    """Move ``subscription`` to the pricier ``new_plan`` now, as its review page showed.

    Charged now, to the member's default card: the new price for the rest of the period less
    the unused time of the old price (``billing.prorate_plan_change``, the figure the signed
    review pinned), as a "subscription period" payment with a receipt. No activation fee: the
    member is already subscribed. Once paid the plan switches (a scheduled plan change is
    dropped) and credits follow the new plan for the rest of the period (``period_credits``:
    the difference per service, prorated, as plan-change ledger entries). A decline keeps the
    failed payment and switches nothing. If the subscription changed while the processor was
    asked (``subscription_changed``), the payment is kept and nothing is switched: the admin
    finishes the change or refunds it.

    Error codes: ``not_permitted``, ``subscription_not_active``, ``plan_inactive``,
    ``currency_mismatch``, ``interval_mismatch``, ``not_an_upgrade``, ``review_outdated``,
    ``no_payment_method``, ``card_declined``, ``authentication_required``,
    ``gateway_unavailable``, ``payment_pending``, ``subscription_changed``, ``already_done``.
    """
    with ActionRun("upgrade_subscription", actor=actor, key=idempotency_key,
                   target=subscription, roles=STAFF, doing="upgrade subscriptions") as run:
        subscription = lock(Subscription, subscription.id)
        new_plan = db.session.get(Plan, new_plan.id)
        check_plan_change(subscription, new_plan, is_upgrade=True)
        quote = check_review(subscription, new_plan, review_token)
        old_plan, contact = subscription.plan, subscription.contact
        ids = (subscription.id, old_plan.id, new_plan.id, contact.id)
        run.before = {"plan_id": old_plan.id, "scheduled_plan_id": subscription.scheduled_plan_id}
        amount = quote.proration.net_minor
        charged = None
        if amount > 0:
            try:
                charged = charge_saved_card(
                    contact, amount_minor=amount, currency=new_plan.currency,
                    purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, subscription_id=subscription.id,
                    description=f"Upgrade {old_plan} → {new_plan}: rest of the period to "
                                f"{format_day(subscription.current_period_end)}",
                    idempotency_key=idempotency_key)
            except ActionError as refused:
                refused.message = f"{refused.message} The plan was not changed."
                raise
            subscription = lock(Subscription, ids[0])
            if subscription.plan_id != ids[1] or \
                    subscription.status is not SubscriptionStatus.ACTIVE:
                raise ActionError(
                    "subscription_changed",
                    f"Subscription {subscription} changed while the card was being charged, so "
                    f"the plan was not switched. Payment #{charged.payment.id} of "
                    f"{format_money(amount, new_plan.currency)} was charged: finish the change "
                    "by hand or refund it.", keep_changes=True,
                    after={**run.before, "payment_id": charged.payment.id})
        promo_dropped = switch_plan(subscription, db.session.get(Plan, ids[2]))
        lock(Contact, ids[3])  # serialises with credit adjustments
        credits = write_credit_changes(subscription, quote.credits,
                                       reason=CreditReason.PLAN_CHANGE,
                                       note=f"Upgrade {old_plan} → {new_plan}", actor=actor)
        receipt = charged.settlement.document if charged else None
        message = (f"Subscription {subscription} of {subscription.contact} upgraded from "
                   f"{old_plan} to {new_plan}: charged "
                   f"{format_money(amount, new_plan.currency)} now"
                   + (f" ({receipt} issued)" if receipt else "")
                   + f"; credits {describe_credit_changes(quote.credits)}."
                   + (" Its promo code does not apply to the new plan and was removed."
                      if promo_dropped else ""))
        db.session.flush()
        return run.done(subscription, message, after={
            "plan_id": ids[2], "charged_minor": amount,
            "payment_id": charged.payment.id if charged else None,
            "credit_changes": credits, "promo_dropped": promo_dropped})
