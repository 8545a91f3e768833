"""The demo clinic's 200 members and their stories: leads, pay-as-you-go visitors, and
subscribers (``demo_subscriptions``); then refunds, no-show fees and documents
(``demo_money``). Primitives and shared state are in ``demo_base``.

Everything is built as ORM objects in memory, in time order per member, then added at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from admin_app.models import (
    AppointmentStatus,
    Contact,
    ContactStatus,
    CreditReason,
    PaymentPurpose,
    PaymentStatus,
    Role,
)

from .demo_base import DemoBase
from .demo_money import MoneyMixin
from .demo_subscriptions import SubscriptionsMixin

# How many of the 200 contacts live each story.
SCENARIOS = {"active": 74, "cancel_at_period_end": 8, "scheduled_change": 2, "past_due": 12,
             "incomplete": 8, "canceled": 26, "drop_in": 45, "lead": 25}
RETAIL = (("Kinesiology tape (roll)", 1500), ("Foam roller", 3500), ("Resistance band set", 2500),
          ("Private reformer session", 9000), ("Posture assessment report", 4500),
          ("Late cancellation fee", 2500), ("Massage ball set", 1800))


class DemoHistory(MoneyMixin, SubscriptionsMixin, DemoBase):
    """All 200 members' stories; ``build()`` then ``objects`` holds every new row."""

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
        pack = self.payment(contact, 16000, PaymentPurpose.CUSTOM_BILL, when,
                            description="5-class reformer pack")
        self.credit(contact, reformer, 5, CreditReason.MANUAL_ADD, when, actor=cashier,
                    note="5-class reformer pack", payment=pack)
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
