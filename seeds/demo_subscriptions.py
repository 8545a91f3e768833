"""The demo clinic's subscribers: a subscription's periods, what each period billed, and the
credits it granted, used and let expire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from admin_app.models import (
    Contact,
    ContactStatus,
    CreditReason,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    Plan,
    PromoCode,
    PromoRedemption,
    Role,
    Subscription,
    SubscriptionStatus,
)

from .common import (
    add_interval,
    approx_days,
    clamp_day,
    discounted,
    periods,
    promo_periods,
)


@dataclass
class PastPeriod:
    """A period the history billed and paid before the current one (its row is written by
    ``demo_billing.record_past_periods`` once the payments have ids)."""

    subscription: Subscription
    number: int
    starts_at: datetime
    ends_at: datetime
    amount_minor: int
    discount_minor: int
    charges: list[Payment]  # in order; the last one paid it


PLAN_WEIGHTS = {"physio": 34, "reformer": 34, "recovery": 14, "wellness": 10, "legacy": 8}


class SubscriptionsMixin:
    """Mixed into ``DemoHistory``; uses the primitives of ``DemoBase``."""

    # -- members with subscriptions ----------------------------------------------------------

    def _member(self, story: str, *, resubscribed: bool) -> None:
        rng, now = self.rng, self.now
        plan_key = self._plan_for(story)
        plan = self.plans[plan_key]
        days = approx_days(plan.interval, plan.interval_count)
        cancel_at = None
        if story == "canceled":
            cancel_time = now - timedelta(days=rng.uniform(2, 240))
            k = self._period_count(plan_key)
            if rng.random() < 0.5:  # ran to the end of a period
                cancel_at = clamp_day(cancel_time)
                start = add_interval(cancel_at, plan.interval, -k * plan.interval_count)
            else:
                cancel_at = cancel_time
                current = clamp_day(cancel_time - timedelta(days=rng.uniform(1, days - 2)))
                start = add_interval(current, plan.interval, -(k - 1) * plan.interval_count)
        elif story == "incomplete":
            start = now - timedelta(days=rng.uniform(0.05, 3))
        else:
            k = self._period_count(plan_key)
            if story == "past_due":
                k, offset = max(k, 2), rng.uniform(1, 12)
            else:
                offset = rng.uniform(0.5, days - 1)
            current = clamp_day(now - timedelta(days=offset))
            start = add_interval(current, plan.interval, -(k - 1) * plan.interval_count)

        earlier = None
        if resubscribed:  # an older, cancelled subscription on another plan
            old_key = rng.choice(["legacy", "reformer"] if plan_key != "reformer" else ["legacy"])
            ended = clamp_day(start - timedelta(days=rng.uniform(1, 10)))
            earlier = (old_key, add_interval(ended, self.plans[old_key].interval,
                                             -rng.randint(2, 6)), ended)
        first_start = earlier[1] if earlier else start
        status = (ContactStatus.ACTIVE if story != "canceled" else
                  rng.choice([ContactStatus.INACTIVE] * 3 + [ContactStatus.ARCHIVED]))
        contact = self._contact(first_start - timedelta(days=rng.uniform(0.01, 21)), status)
        self._cards(contact, expired_default=story == "past_due" and rng.random() < 0.5)
        if story == "past_due":  # renewals fail because the card on file now declines
            self.declining.add(contact)
        if earlier:
            self.subscribe(contact, self.plans[earlier[0]], "canceled", earlier[1],
                           cancel_at=earlier[2])
        self.subscribe(contact, plan, story, start, cancel_at=cancel_at)

    def _plan_for(self, story: str) -> str:
        weights = dict(PLAN_WEIGHTS)
        if story in ("incomplete", "past_due", "cancel_at_period_end"):
            weights.pop("legacy")
        if story == "scheduled_change":
            return "physio"
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    def _period_count(self, plan_key: str) -> int:
        if plan_key == "legacy":  # sold until the plan was retired, ~8 months ago
            return self.rng.randint(9, 20)
        return {"physio": self.rng.randint(1, 8), "reformer": self.rng.randint(1, 8),
                "recovery": self.rng.randint(1, 3), "wellness": self.rng.randint(1, 2)}[plan_key]

    def _pick_promo(self, plan: Plan, start: datetime) -> PromoCode | None:
        if self.rng.random() > 0.2:
            return None
        eligible = []
        for code, promo in self.promos.items():
            if not promo.is_active or (promo.plans and plan not in promo.plans):
                continue
            if promo.expires_at is not None and start >= promo.expires_at:
                continue
            if promo.currency not in (None, plan.currency):
                continue
            if promo.max_redemptions is not None and (
                    promo.times_redeemed + self.redeemed[code] >= promo.max_redemptions):
                continue
            eligible.append(code)
        if not eligible:
            return None
        code = "LAUNCH50" if "LAUNCH50" in eligible else self.rng.choice(eligible)
        self.redeemed[code] += 1
        return self.promos[code]

    def subscribe(self, contact: Contact, plan: Plan, story: str, start: datetime, *,
                  cancel_at: datetime | None = None) -> Subscription:
        rng, now = self.rng, self.now
        spans = periods(start, plan.interval, plan.interval_count, cancel_at or now)
        promo = None if story == "incomplete" else self._pick_promo(plan, start)
        discounted_periods = None
        if promo is not None:
            discounted_periods = promo_periods(promo.duration, promo.duration_months,
                                               plan.interval, plan.interval_count)
        status = {"incomplete": SubscriptionStatus.INCOMPLETE,
                  "past_due": SubscriptionStatus.PAST_DUE,
                  "canceled": SubscriptionStatus.CANCELED}.get(story, SubscriptionStatus.ACTIVE)
        sub = Subscription(
            contact=contact, plan=plan, status=status,
            current_period_start=spans[-1][0], current_period_end=spans[-1][1],
            cancel_at_period_end=story == "cancel_at_period_end" or (
                story == "canceled" and cancel_at == spans[-1][1]),
            canceled_at=cancel_at,
            scheduled_plan=self.plans["reformer"] if story == "scheduled_change" else None,
            promo_code=promo, created_at=start,
            updated_at=cancel_at or spans[-1][0],
        )
        if promo is not None and discounted_periods is not None:
            sub.promo_periods_left = max(0, discounted_periods - len(spans))
        self.objects.append(sub)
        if promo is not None:
            self.objects.append(PromoRedemption(promo_code=promo, subscription=sub,
                                                created_at=start))
        if status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE):
            self.live_subs.append(sub)
        if cancel_at is not None and rng.random() < 0.5:
            self._audit.append((cancel_at, self.users[rng.choice([Role.OWNER, Role.MANAGER])],
                                "cancel_subscription", sub, "Subscription cancelled",
                                {"status": "active"}, {"status": "canceled"}))

        for index, (begin, end) in enumerate(spans):
            price = plan.price_minor
            if promo is not None and (discounted_periods is None or index < discounted_periods):
                price = discounted(price, promo.discount_type, promo.percent_off,
                                   promo.amount_off_minor)
            label = f"{plan.name}: {begin:%d %b %Y} – {end:%d %b %Y}"
            last = index == len(spans) - 1
            paid, charges = self._bill_period(sub, story, index, last, begin, price, label)
            if paid is None:
                continue
            if not (last and sub in self.live_subs):  # the current one: adopt_current_period
                self.past_periods.append(PastPeriod(sub, index + 1, begin, end, price,
                                                    plan.price_minor - price, charges))
            if last and story == "canceled" and cancel_at < end:
                self.canceled_now.append((sub, paid, cancel_at))
            self._period_credits(sub, begin, end, paid, cancel_at)
        return sub

    def _bill_period(self, sub: Subscription, story: str, index: int, last: bool,
                     begin: datetime, price: int, label: str
                     ) -> tuple[Payment | None, list[Payment]]:
        """The payments of one period: (the successful charge, if any; every charge of the
        period in order, failed ones first)."""
        rng, contact, plan = self.rng, sub.contact, sub.plan
        when = begin + timedelta(minutes=rng.randint(1, 30))
        fee_status = PaymentStatus.SUCCEEDED
        charges: list[Payment] = []
        if story == "incomplete":
            status = rng.choice([PaymentStatus.FAILED] * 2 + [PaymentStatus.PENDING])
            self.payment(contact, price, PaymentPurpose.SUBSCRIPTION_PERIOD, when,
                         subscription=sub, description=label, status=status)
            fee_status = status
        elif story == "past_due" and last:
            self.payment(contact, price, PaymentPurpose.SUBSCRIPTION_PERIOD, when,
                         subscription=sub, description=label, status=PaymentStatus.FAILED)
            retry = when + timedelta(days=3)
            if retry < self.now:
                self.payment(contact, price, PaymentPurpose.SUBSCRIPTION_PERIOD, retry,
                             subscription=sub, description=label, status=PaymentStatus.FAILED)
        if index == 0 and plan.activation_fee_minor:
            cash = fee_status is PaymentStatus.SUCCEEDED and rng.random() < 0.15
            self.payment(contact, plan.activation_fee_minor, PaymentPurpose.ACTIVATION_FEE,
                         when, subscription=sub, description=f"Activation fee: {plan.name}",
                         status=fee_status, method=PaymentMethodKind.CASH if cash else None)
        if story == "incomplete" or (story == "past_due" and last):
            return None, charges
        retry = when + timedelta(days=1)
        if index > 0 and retry < self.now and rng.random() < 0.05:  # declined, paid on retry
            charges.append(self.payment(contact, price, PaymentPurpose.SUBSCRIPTION_PERIOD,
                                        when, subscription=sub, description=label,
                                        status=PaymentStatus.FAILED))
            when = retry
        paid = self.payment(contact, price, PaymentPurpose.SUBSCRIPTION_PERIOD, when,
                            subscription=sub, description=label)
        return paid, [*charges, paid]

    def _period_credits(self, sub: Subscription, begin: datetime, end: datetime,
                        paid: Payment, cancel_at: datetime | None) -> None:
        """Grant the plan's credits, book some of them, expire what is left when the period
        ends (or the subscription is cancelled)."""
        rng, now, granted = self.rng, self.now, paid.paid_at
        closes = min(end, cancel_at) if cancel_at else end
        for line in sub.plan.services:
            credits = line.credits_per_period
            self.credit(sub.contact, line.service, credits, CreditReason.PERIOD_GRANT, granted,
                        subscription=sub, expires_at=end, payment=paid)
            wanted = rng.randint(min(credits, 6) // 3, min(credits, 6))
            used = self.bookings(sub.contact, line.service, wanted, granted,
                                 min(closes, now + timedelta(days=21)), subscription=sub)
            if closes <= now and credits > used:
                note = "Unused credits removed on cancellation" if closes < end else None
                self.credit(sub.contact, line.service, used - credits, CreditReason.EXPIRY,
                            closes, subscription=sub, note=note)
