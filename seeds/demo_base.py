"""The demo clinic's building blocks: state shared by the demo builders, people and cards,
and the primitives that add a payment, a ledger entry or an appointment."""

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
)

from . import names
from .common import (
    CLINIC_TZ,
)

CURRENCY = "USD"
NOTES = ("Prefers morning appointments.", "Referred by Dr. Patel (orthopaedics).",
         "Left knee ACL reconstruction, March 2024.", "Lower back pain; avoid spinal flexion.",
         "Pregnant (2nd trimester): prenatal modifications.", "Marathon training block.",
         "Contact by SMS only.", "Corporate wellness programme (Harbor Tech Inc.).")


class DemoBase:
    def __init__(self, rng: random.Random, now: datetime, *, services: dict[str, Service],
                 plans: dict[str, Plan], promos: dict[str, PromoCode],
                 users: dict[Role, AdminUser], no_show_fee_minor: int) -> None:
        self.rng, self.now = rng, now
        self.services, self.plans, self.promos, self.users = services, plans, promos, users
        self.no_show_fee_minor = no_show_fee_minor
        self.objects: list = []  # every new row but the credit ledger
        self._ledger: list[tuple[CreditEntry, Payment | None]] = []  # entry, payment it came from
        self.contacts: list[Contact] = []
        self.default_card: dict[Contact, PaymentMethod] = {}
        self.cards: list[PaymentMethod] = []
        self.declining: set[Contact] = set()  # their default card now declines
        self.payments: list[Payment] = []
        self.attended: list[Appointment] = []
        self.canceled_now: list[tuple[Subscription, Payment, datetime]] = []
        self.live_subs: list[Subscription] = []
        self.past_periods: list = []  # demo_subscriptions.PastPeriod, before the current one
        self.redeemed = {code: 0 for code in promos}
        self._audit: list[tuple] = []
        self._emails: set[str] = set()
        self._seq = itertools.count(1)

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
            self._card(contact, when + timedelta(minutes=rng.randint(1, 9)),
                       (year + rng.randint(-2, 3), rng.randint(1, 12)), is_default=False)

    def _card(self, contact, when, exp, *, is_default) -> PaymentMethod:
        card = PaymentMethod(contact=contact, brand=names.card_brand(self.rng),
                             last4=f"{self.rng.randrange(10_000):04d}", exp_year=exp[0],
                             exp_month=exp[1], is_default=is_default,
                             gateway_id=self.gateway_id("pm"), created_at=when, updated_at=when)
        self.objects.append(card)
        self.cards.append(card)
        return card

    def gateway_id(self, prefix: str) -> str:
        return f"{prefix}_demo{next(self._seq):06d}"

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
            if when + timedelta(minutes=service.duration_minutes) < now:  # over, not running
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
               expires_at: datetime | None = None, payment: Payment | None = None) -> None:
        entry = CreditEntry(contact=contact, service=service, quantity=quantity, reason=reason,
                            subscription=subscription, note=note, created_by=actor,
                            expires_at=expires_at, created_at=when)
        self._ledger.append((entry, payment))

    def ledger(self) -> list[CreditEntry]:
        """The credit entries, once ``objects`` are flushed: ``CreditEntry`` has a
        ``payment_id`` column but no relationship, so the paying payment's id must exist."""
        for entry, payment in self._ledger:
            entry.payment_id = payment.id if payment is not None else None
        return [entry for entry, _ in self._ledger]

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
