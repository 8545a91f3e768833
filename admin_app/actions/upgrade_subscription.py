"""Upgrade a subscription to a pricier plan, charging the proration now (workflow 3)."""

from __future__ import annotations

from ..documents import queue_if_auto_send, receipt_for_payment
from ..extensions import db
from ..models import (
    AdminUser,
    Contact,
    CreditReason,
    PaymentPurpose,
    Plan,
    Subscription,
    record_audit,
)
from ..money import format_money
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work
from .charging import charge_saved_card
from .period_credits import describe_credit_changes, write_credit_changes
from .plan_change import check_plan_change, check_review, switch_plan


def upgrade_subscription(subscription: Subscription, *, new_plan: Plan, review_token: str,
                         actor: AdminUser, idempotency_key: str) -> Subscription:
    """Move ``subscription`` to the pricier ``new_plan`` now, as its review page showed.

    Charged now, to the member's default card: the new price for the rest of the period less
    the unused time of the old price (``billing.prorate_plan_change``, the figure the signed
    review pinned), as a "subscription period" payment with a receipt. No activation fee: the
    member is already subscribed. Then the plan switches (a scheduled plan change is dropped)
    and credits follow the new plan for the rest of the period (``period_credits``: the
    difference per service, prorated, as plan-change ledger entries). A decline keeps the
    failed payment and switches nothing.

    Error codes: ``not_permitted``, ``subscription_not_active``, ``plan_inactive``,
    ``currency_mismatch``, ``interval_mismatch``, ``not_an_upgrade``, ``review_outdated``,
    ``no_payment_method``, ``card_declined``, ``authentication_required``,
    ``gateway_unavailable``, ``payment_pending``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="upgrade subscriptions")
        request = claim("upgrade_subscription", idempotency_key, actor=actor,
                        target=subscription)
        subscription = lock(Subscription, subscription.id)
        new_plan = db.session.get(Plan, new_plan.id)
        check_plan_change(subscription, new_plan, is_upgrade=True)
        quote = check_review(subscription, new_plan, review_token)
        old_plan, contact = subscription.plan, subscription.contact
        before = {"plan_id": old_plan.id, "scheduled_plan_id": subscription.scheduled_plan_id}
        amount = quote.proration.net_minor
        payment = receipt = None
        if amount > 0:
            try:
                payment = charge_saved_card(
                    contact, amount_minor=amount, currency=new_plan.currency,
                    purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, subscription_id=subscription.id,
                    description=f"Upgrade {old_plan} → {new_plan}: rest of the period to "
                                f"{subscription.current_period_end:%d %b %Y}")
            except ActionError as refused:
                refusal = ActionError(refused.code, f"{refused.message} The plan was not "
                                      "changed.", keep_changes=refused.keep_changes)
                if refused.keep_changes:  # the failed payment stays on record, and its audit
                    record_audit(actor=actor, action="upgrade_subscription",
                                 target=subscription, summary=refusal.message[:300],
                                 before=before, after=before)
                    finish(request, message=refusal.message, error_code=refusal.code)
                raise refusal from None
            receipt = receipt_for_payment(payment, description=payment.description)
            queue_if_auto_send(receipt)
        promo_dropped = switch_plan(subscription, new_plan)
        lock(Contact, contact.id)  # serialises with credit adjustments
        credits = write_credit_changes(subscription, quote.credits,
                                       reason=CreditReason.PLAN_CHANGE,
                                       note=f"Upgrade {old_plan} → {new_plan}", actor=actor)
        message = (f"Subscription {subscription} of {contact} upgraded from {old_plan} to "
                   f"{new_plan}: charged {format_money(amount, new_plan.currency)} now"
                   + (f" ({receipt} issued)" if receipt else "")
                   + f"; credits {describe_credit_changes(quote.credits)}."
                   + (" Its promo code does not apply to the new plan and was removed."
                      if promo_dropped else ""))
        record_audit(actor=actor, action="upgrade_subscription", target=subscription,
                     summary=message[:300], before=before,
                     after={"plan_id": new_plan.id, "charged_minor": amount,
                            "payment_id": payment.id if payment else None,
                            "credit_changes": credits, "promo_dropped": promo_dropped})
        db.session.flush()
        finish(request, message=message, result=subscription)
    return subscription
