"""The demo clinic's members and their history: cards, subscriptions, payments, the credit
ledger and appointments. Money side effects (refunds, no-show fees, documents) are in
``demo_money``.

Everything is built as ORM objects in memory, in time order per member, then added at once.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from admin_app.models import (
    AdminUser,
    Appointment,
    AppointmentStatus,
    Contact,
    ContactStatus,
    CreditEntry,
    CreditReason,
    Payment,
    PaymentMethod,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    Plan,
    PromoCode,
    Role,
    Service,
    Subscription,
    SubscriptionStatus,
)

from . import names
from .common import (
    CLINIC_TZ,
    add_interval,
    approx_days,
    clamp_day,
    discounted,
    periods,
    promo_periods,
)
from .demo_money import MoneyMixin

CURRENCY = "USD"

# How many of the 200 contacts live each story.
SCENARIOS = {"active": 74, "cancel_at_period_end": 8, "scheduled_change": 2, "past_due": 12,
             "incomplete": 8, "canceled": 26, "drop_in": 45, "lead": 25}
PLAN_WEIGHTS = {"physio": 34, "reformer": 34, "recovery": 14, "wellness": 10, "legacy": 8}
RETAIL = (("Kinesiology tape (roll)", 1500), ("Foam roller", 3500), ("Resistance band set", 2500),
          ("Private reformer session", 9000), ("Posture assessment report", 4500),
          ("Late cancellation fee", 2500), ("Massage ball set", 1800))
NOTES = ("Prefers morning appointments.", "Referred by Dr. Patel (orthopaedics).",
         "Left knee ACL reconstruction, March 2024.", "Lower back pain; avoid spinal flexion.",
         "Pregnant (2nd trimester): prenatal modifications.", "Marathon training block.",
         "Contact by SMS only.", "Corporate wellness programme (Harbor Tech Inc.).")


class DemoHistory(MoneyMixin):
    def __init__(self, rng: random.Random, now: datetime, *, services: dict[str, Service],
                 plans: dict[str, Plan], promos: dict[str, PromoCode],
                 users: dict[Role, AdminUser], no_show_fee_minor: int) -> None:
        self.rng, self.now = rng, now
        self.services, self.plans, self.promos, self.users = services, plans, promos, users
        self.no_show_fee_minor = no_show_fee_minor
        self.objects: list = []
        self.contacts: list[Contact] = []
        self.default_card: dict[Contact, PaymentMethod] = {}
        self.payments: list[Payment] = []
        self.attended: list[Appointment] = []
        self.canceled_now: list[tuple[Subscription, Payment, datetime]] = []
        self.live_subs: list[Subscription] = []
        self.redeemed = {code: 0 for code in promos}
        self._audit: list[tuple] = []
        self._emails: set[str] = set()
        self._seq = itertools.count(1)

    # -- the whole story -------------------------------------------------------------------

    def build(self) -> None:
        stories = [s for s, n in SCENARIOS.items() for _ in range(n)]
        self.rng.shuffle(stories)
        resubscribers = set(self.rng.sample([i for i, s in enumerate(stories) if s == "active"],
                                            10))
        for index, story in enumerate(stories):
            if story == "lead":
                self._lead()
            elif story == "drop_in":
                self._drop_in()
            else:
                self._member(story, resubscribed=index in resubscribers)
        for code, count in self.redeemed.items():
            self.promos[code].times_redeemed += count
        self._goodwill()
        self.money_stories()

    # -- people ----------------------------------------------------------------------------

    def _contact(self, created_at: datetime, status: ContactStatus) -> Contact:
        rng = self.rng
        first, last = names.person(rng)
        email = None
        if rng.random() > 0.04:
            email = names.email_for(rng, first, last)
            while email in self._emails:
                email = names.email_for(rng, first, last, str(rng.randint(2, 99)))
            self._emails.add(email)
        contact = Contact(first_name=first, last_name=last, email=email,
                          phone=names.phone_for(rng) if rng.random() > 0.06 else None,
                          status=status, notes=rng.choice(NOTES) if rng.random() < 0.15 else None,
                          created_at=created_at, updated_at=created_at)
        self.contacts.append(contact)
        self.objects.append(contact)
        return contact

    def _cards(self, contact: Contact, *, expired_default: bool = False) -> None:
        """A default card, sometimes a second (older, maybe expired) one."""
        rng, when = self.rng, contact.created_at + timedelta(minutes=3)
        year = self.now.year
        exp = (year - 1, rng.randint(1, 12)) if expired_default else (
            year + rng.randint(1, 4), rng.randint(1, 12))
        default = self._card(contact, when, exp, is_default=True)
        self.default_card[contact] = default
        if rng.random() < 0.2:
            self._card(contact, when - timedelta(days=rng.randint(30, 400)),
                       (year + rng.randint(-2, 3), rng.randint(1, 12)), is_default=False)

    def _card(self, contact, when, exp, *, is_default) -> PaymentMethod:
        card = PaymentMethod(contact=contact, brand=names.card_brand(self.rng),
                             last4=f"{self.rng.randrange(10_000):04d}", exp_year=exp[0],
                             exp_month=exp[1], is_default=is_default,
                             gateway_id=self.gateway_id("pm"), created_at=when, updated_at=when)
        self.objects.append(card)
        return card

    def gateway_id(self, prefix: str) -> str:
        return f"{prefix}_demo{next(self._seq):06d}"

    def _lead(self) -> None:
        contact = self._contact(self.now - timedelta(days=self.rng.uniform(1, 60)),
                                ContactStatus.LEAD)
        if self.rng.random() < 0.4:  # booked a first visit, not paid yet
            when = self.slot(self.now + timedelta(hours=4), self.now + timedelta(days=14))
            if when:
                self.appointment(contact, self.services["assessment"], when,
                                 contact.created_at, AppointmentStatus.BOOKED)

    def _drop_in(self) -> None:
        """A pay-as-you-go member: an assessment, maybe a class pack, maybe a retail item."""
        rng = self.rng
        contact = self._contact(self.now - timedelta(days=rng.uniform(20, 540)),
                                ContactStatus.ACTIVE)
        if rng.random() < 0.6:
            self._cards(contact)
        when = self.slot(contact.created_at + timedelta(days=1),
                         min(self.now - timedelta(days=1), contact.created_at + timedelta(days=30)))
        if when is None:
            return
        assessment = self.services["assessment"]
        self.attended.append(self.appointment(contact, assessment, when, contact.created_at,
                                              AppointmentStatus.ATTENDED))
        self.payment(contact, assessment.price_minor, PaymentPurpose.CUSTOM_BILL,
                     when + timedelta(minutes=75), description=assessment.name)
        if rng.random() < 0.45:
            self._class_pack(contact, when + timedelta(minutes=80))
        if rng.random() < 0.35:
            item, price = rng.choice(RETAIL)
            bought = min(self.now - timedelta(hours=1),
                         when + timedelta(days=rng.uniform(1, 60)))
            status = rng.choices([PaymentStatus.SUCCEEDED, PaymentStatus.FAILED,
                                  PaymentStatus.PENDING], weights=[88, 8, 4])[0]
            if contact not in self.default_card:
                status = PaymentStatus.SUCCEEDED  # cash at the desk
            self.payment(contact, price, PaymentPurpose.CUSTOM_BILL, bought, description=item,
                         status=status)

    def _class_pack(self, contact: Contact, when: datetime) -> None:
        rng, reformer = self.rng, self.services["reformer"]
        cashier = self.users[Role.CASHIER]
        self.payment(contact, 16000, PaymentPurpose.CUSTOM_BILL, when,
                     description="5-class reformer pack")
        self.credit(contact, reformer, 5, CreditReason.MANUAL_ADD, when, actor=cashier,
                    note="5-class reformer pack")
        self._audit.append((when, cashier, "adjust_credits", contact,
                            "Added 5 × Pilates reformer class (class pack)", None, {"quantity": 5}))
        self.bookings(contact, reformer, rng.randint(0, 4), when,
                      min(self.now + timedelta(days=14), when + timedelta(days=90)))
        if rng.random() < 0.3:
            removed = min(self.now - timedelta(minutes=5),
                          when + timedelta(days=rng.uniform(1, 30)))
            self.credit(contact, reformer, -1, CreditReason.MANUAL_REMOVE, removed,
                        actor=cashier, note="Walk-in class attended without a booking")
            self._audit.append((removed, cashier, "adjust_credits", contact,
                                "Removed 1 × Pilates reformer class", None, {"quantity": -1}))

    def _goodwill(self) -> None:
        """Front-desk credit adjustments on live subscriptions; one in two is later corrected."""
        rng, manager = self.rng, self.users[Role.MANAGER]
        for number, sub in enumerate(rng.sample(self.live_subs, 8)):
            service = rng.choice(sub.plan.services).service
            added = self.now - timedelta(days=rng.uniform(2, 20))
            quantity = 2 if number % 2 else 1
            self.credit(sub.contact, service, quantity, CreditReason.MANUAL_ADD, added,
                        actor=manager, note="Goodwill: class cancelled by the studio")
            self._audit.append((added, manager, "adjust_credits", sub.contact,
                                f"Added {quantity} × {service.name}", None,
                                {"quantity": quantity}))
            if quantity == 2:
                fixed = added + timedelta(hours=rng.uniform(1, 30))
                self.credit(sub.contact, service, -1, CreditReason.MANUAL_REMOVE, fixed,
                            actor=manager, note="Correction: goodwill credit entered twice")
                self._audit.append((fixed, manager, "adjust_credits", sub.contact,
                                    f"Removed 1 × {service.name}", None, {"quantity": -1}))

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
        return {"physio": self.rng.randint(1, 14), "reformer": self.rng.randint(1, 14),
                "recovery": self.rng.randint(1, 4), "wellness": self.rng.randint(1, 2)}[plan_key]

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
            paid = self._bill_period(sub, story, index, last, begin, price, label)
            if paid is None:
                continue
            if last and story == "canceled" and cancel_at < end:
                self.canceled_now.append((sub, paid, cancel_at))
            self._period_credits(sub, begin, end, paid.paid_at, cancel_at)
        return sub

    def _bill_period(self, sub: Subscription, story: str, index: int, last: bool,
                     begin: datetime, price: int, label: str) -> Payment | None:
        """The payments of one period; returns the successful one, if any."""
        rng, contact, plan = self.rng, sub.contact, sub.plan
        when = begin + timedelta(minutes=rng.randint(1, 30))
        fee_status = PaymentStatus.SUCCEEDED
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
            return None
        retry = when + timedelta(days=1)
        if index > 0 and retry < self.now and rng.random() < 0.05:  # declined, paid on retry
            self.payment(contact, price, PaymentPurpose.SUBSCRIPTION_PERIOD, when,
                         subscription=sub, description=label, status=PaymentStatus.FAILED)
            when = retry
        return self.payment(contact, price, PaymentPurpose.SUBSCRIPTION_PERIOD, when,
                            subscription=sub, description=label)

    def _period_credits(self, sub: Subscription, begin: datetime, end: datetime,
                        granted: datetime, cancel_at: datetime | None) -> None:
        """Grant the plan's credits, book some of them, expire what is left when the period
        ends (or the subscription is cancelled)."""
        rng, now = self.rng, self.now
        closes = min(end, cancel_at) if cancel_at else end
        for line in sub.plan.services:
            credits = line.credits_per_period
            self.credit(sub.contact, line.service, credits, CreditReason.PERIOD_GRANT, granted,
                        subscription=sub, expires_at=end)
            wanted = rng.randint(min(credits, 6) // 3, min(credits, 6))
            used = self.bookings(sub.contact, line.service, wanted, granted,
                                 min(closes, now + timedelta(days=21)), subscription=sub)
            if closes <= now and credits > used:
                note = "Unused credits removed on cancellation" if closes < end else None
                self.credit(sub.contact, line.service, used - credits, CreditReason.EXPIRY,
                            closes, subscription=sub, note=note)

    # -- primitives --------------------------------------------------------------------------

    def slot(self, lo: datetime, hi: datetime) -> datetime | None:
        """A quarter-hour between 7:00 and 19:45 clinic time, within [lo, hi]."""
        if hi - lo < timedelta(hours=3):
            return None
        for _ in range(12):
            day = (lo + (hi - lo) * self.rng.random()).astimezone(CLINIC_TZ)
            local = day.replace(hour=self.rng.randint(7, 19),
                                minute=self.rng.choice((0, 15, 30, 45)), second=0, microsecond=0)
            moment = local.astimezone(UTC)
            if lo <= moment <= hi:
                return moment
        return None

    def bookings(self, contact: Contact, service: Service, wanted: int, lo: datetime,
                 hi: datetime, *, subscription: Subscription | None = None) -> int:
        """Book up to ``wanted`` appointments on credits; returns the credits still used
        (cancelled bookings give theirs back)."""
        rng, now, used = self.rng, self.now, 0
        for _ in range(wanted):
            when = self.slot(lo + timedelta(hours=2), hi - timedelta(hours=1))
            if when is None:
                continue
            booked = max(lo + timedelta(minutes=1),
                         min(when - timedelta(hours=rng.uniform(1, 144)),
                             now - timedelta(minutes=1)))
            self.credit(contact, service, -1, CreditReason.BOOKING, booked,
                        subscription=subscription)
            if rng.random() < 0.08:
                cancelled = booked + (min(when, now) - booked) * rng.random()
                self.appointment(contact, service, when, booked, AppointmentStatus.CANCELLED,
                                 updated_at=cancelled)
                self.credit(contact, service, 1, CreditReason.BOOKING_RETURN, cancelled,
                            subscription=subscription)
                continue
            used += 1
            if when < now:
                self.attended.append(self.appointment(contact, service, when, booked,
                                                      AppointmentStatus.ATTENDED))
            else:
                self.appointment(contact, service, when, booked, AppointmentStatus.BOOKED)
        return used

    def appointment(self, contact: Contact, service: Service, when: datetime, booked: datetime,
                    status: AppointmentStatus, *, updated_at: datetime | None = None
                    ) -> Appointment:
        if updated_at is None:
            updated_at = (when + timedelta(minutes=service.duration_minutes)
                          if status is AppointmentStatus.ATTENDED else booked)
        appointment = Appointment(contact=contact, service=service, starts_at=when,
                                  status=status, created_at=booked, updated_at=updated_at)
        self.objects.append(appointment)
        return appointment

    def credit(self, contact: Contact, service: Service, quantity: int, reason: CreditReason,
               when: datetime, *, subscription: Subscription | None = None,
               actor: AdminUser | None = None, note: str | None = None,
               expires_at: datetime | None = None) -> None:
        self.objects.append(CreditEntry(contact=contact, service=service, quantity=quantity,
                                        reason=reason, subscription=subscription, note=note,
                                        created_by=actor, expires_at=expires_at,
                                        created_at=when))

    def payment(self, contact: Contact, amount: int, purpose: PaymentPurpose, when: datetime, *,
                description: str, status: PaymentStatus = PaymentStatus.SUCCEEDED,
                subscription: Subscription | None = None,
                method: PaymentMethodKind | None = None) -> Payment:
        if method is None:
            has_card = contact in self.default_card
            method = PaymentMethodKind.CARD if has_card else PaymentMethodKind.CASH
        failure = None
        if status is PaymentStatus.FAILED:
            failure = self.rng.choice(names.FAILURE_REASONS)
        payment = Payment(
            contact=contact, subscription=subscription, amount_minor=amount, currency=CURRENCY,
            status=status, amount_refunded_minor=0, purpose=purpose, method=method,
            description=description[:200], failure_reason=failure,
            gateway_id=self.gateway_id("pi") if method is PaymentMethodKind.CARD else None,
            paid_at=when if status is PaymentStatus.SUCCEEDED else None,
            created_at=when, updated_at=when,
        )
        self.payments.append(payment)
        self.objects.append(payment)
        return payment
