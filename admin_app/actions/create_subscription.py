"""Subscribe a contact to a plan by hand (Subscriptions → Create), with a promo code if one was
chosen (workflow 8, "also on a new subscription's form")."""

from __future__ import annotations

from ..actors import Actor
from ..billing.periods import first_period
from ..billing.promo_rules import describe_promo, redeem_promo
from ..clinic_time import format_day
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import Contact, Plan, PromoCode, Subscription, SubscriptionStatus
from .runner import STAFF, ActionResult, ActionRun


def create_subscription(contact: Contact, *, plan: Plan, promo_code: PromoCode | None = None,
                        actor: Actor, idempotency_key: str) -> ActionResult[Subscription]:
    """Subscribe ``contact`` to ``plan`` from now: the subscription is active and its first
    period lasts one billing interval of the plan (``billing.periods``). Nothing is charged
    here. From then on its status, period, plan, cancellation and promo code change only
    through their actions.

    A ``promo_code`` is checked by the Apply Promo rules (``promo_rules.check_promo``) and
    redeemed in the same transaction: if a rule refuses it, nothing is created and the refusal
    names the rule.

    Error codes: ``not_permitted``, ``plan_inactive``, ``promo_inactive``, ``promo_expired``,
    ``promo_exhausted``, ``promo_not_for_plan``, ``promo_currency_mismatch``,
    ``already_done``.
    """
    with ActionRun("create_subscription", actor=actor, key=idempotency_key, target=contact,
                   roles=STAFF, doing="create subscriptions") as run:
        plan = db.session.get(Plan, plan.id)
        if not plan.is_active:
            raise ActionError("plan_inactive", f"{plan} is no longer sold (inactive).")
        start, end = first_period(plan, utcnow())
        subscription = Subscription(contact_id=contact.id, plan=plan,
                                    status=SubscriptionStatus.ACTIVE,
                                    current_period_start=start, current_period_end=end,
                                    billing_anchor_at=start)
        db.session.add(subscription)
        db.session.flush()
        run.audit_target = subscription
        after = {"contact_id": contact.id, "plan_id": plan.id,
                 "status": subscription.status.value,
                 "current_period_start": start.isoformat(),
                 "current_period_end": end.isoformat()}
        message = (f"Subscription {subscription} created for {contact}: active until "
                   f"{format_day(end)}, then renews")
        if promo_code is not None:
            redemption = redeem_promo(promo_code, subscription, actor=actor)
            after.update(promo_code_id=promo_code.id,
                         promo_periods_left=subscription.promo_periods_left,
                         promo_redemption_id=redemption.id)
            message += f"; promo code {promo_code} ({describe_promo(promo_code)}) applied"
        return run.done(subscription, message + ".", after=after)
