"""Apply a promo code to a subscription (workflow 8)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.locks import lock
from ..billing.promo_rules import describe_promo, find_promo, redeem_promo, upcoming_prices
from ..models import PromoCode, PromoRedemption, Subscription
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun


def apply_promo(subscription: Subscription, *, promo_code: PromoCode | str, actor: Actor,
                idempotency_key: str) -> ActionResult[PromoRedemption]:
    """Apply ``promo_code`` (a code or its text) to ``subscription``: its next renewals are
    discounted for the code's duration, replacing any promo the subscription had.

    The rules are ``promo_rules.check_promo``'s, the same as when a subscription is created
    with a code: the refusal names the rule. The redemption is recorded and the code's use
    counted under its row lock.

    Error codes: ``not_permitted``, ``promo_not_found``, ``subscription_cancelled``,
    ``promo_inactive``, ``promo_expired``, ``promo_exhausted``, ``promo_not_for_plan``,
    ``promo_currency_mismatch``, ``promo_already_applied``, ``already_done``.
    """
    with ActionRun("apply_promo", actor=actor, key=idempotency_key, target=subscription,
                   roles=STAFF, doing="apply promo codes") as run:
        subscription = lock(Subscription, subscription.id)
        promo = find_promo(promo_code) if isinstance(promo_code, str) else promo_code
        before = {"promo_code_id": subscription.promo_code_id,
                  "promo_periods_left": subscription.promo_periods_left}
        redemption = redeem_promo(promo, subscription, actor=actor)
        prices = ", ".join(format_money(p, subscription.plan.currency)
                           for p in upcoming_prices(subscription))
        message = (f"Promo code {promo} ({describe_promo(promo)}) applied to subscription "
                   f"{subscription} of {subscription.contact}: next invoices {prices}.")
        return run.done(redemption, message,
                        before=before,
                        after={"promo_code_id": promo.id,
                               "promo_periods_left": subscription.promo_periods_left,
                               "promo_redemption_id": redemption.id})
