"""The member's sign-up through a plan's Subscription Link, around the processor call.

Phase 1 (``record_attempt``): the attempt — who, what is due, its reference — is written and
committed. The processor is then asked with no transaction open: the member's customer
(theirs when the email matches a contact who has one), the card, and the charge, each with a
key derived from the attempt's reference. Phase 2 (``complete_paid`` / ``fail_attempt``): the
attempt locked again and the answer applied. Paid: the contact (matched by email, or new), the
card as their default, the subscription with its first period, and the payment settled through
``settling.apply_charge_answer`` — receipt included — then the period through the period API.
Declined: the attempt alone says so. No answer: the attempt stays pending, holding its place,
and ``reconcile_attempt`` settles it by looking the charge up (never charging again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..actors import Actor
from ..clock import utcnow
from ..extensions import db
from ..models import (
    Contact,
    ContactStatus,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    PlanInvitation,
    SignupAttempt,
    SignupStatus,
    record_audit,
)
from ..payments import ChargeResult, ChargeStatus, SavedCard
from .cards import record_card
from .locks import lock
from .settling import apply_charge_answer
from .subscribing import SubscriptionQuote, activate_paid, begin_subscription, quote_subscription

SIGNED_UP = "signed up via the plan link"


@dataclass(frozen=True)
class NewMember:
    """The member as they typed themselves on the sign-up page."""

    first_name: str
    last_name: str
    email: str
    phone: str | None = None


def contact_by_email(email: str) -> Contact | None:
    """The contact with this email (case-insensitive; the oldest when several share it)."""
    wanted = (email or "").strip().lower()
    if not wanted:
        return None
    return db.session.scalar(select(Contact).where(func.lower(Contact.email) == wanted,
                                                   Contact.status != ContactStatus.ARCHIVED)
                             .order_by(Contact.id).limit(1))


def recent_declines(client_address: str | None, *, since: datetime) -> int:
    """Failed sign-up attempts from this address since ``since`` (card-testing bots)."""
    if not client_address:
        return 0
    return db.session.scalar(select(func.count()).select_from(SignupAttempt).where(
        SignupAttempt.client_address == client_address,
        SignupAttempt.status == SignupStatus.FAILED,
        SignupAttempt.created_at > since))


def fail_attempt(attempt: SignupAttempt, reason: str, gateway_id: str | None = None) -> None:
    """The attempt (locked) did not pay: kept as failed with why; nothing else exists."""
    if attempt.status is not SignupStatus.PENDING:
        return
    attempt.status, attempt.settled_at = SignupStatus.FAILED, utcnow()
    attempt.failure_reason = reason[:200]
    attempt.gateway_id = gateway_id or attempt.gateway_id


def attempt_quote(attempt: SignupAttempt, *, starts_at: datetime) -> SubscriptionQuote:
    return quote_subscription(attempt.plan, promo=attempt.promo_code, starts_at=starts_at)


@dataclass(frozen=True)
class Completed:
    contact: Contact
    payment: Payment | None
    is_new_contact: bool


def complete_paid(attempt: SignupAttempt, answer: ChargeResult | None, card: SavedCard | None,
                  *, actor: Actor) -> Completed:
    """The attempt (locked, pending) was paid (``answer``; ``None`` when nothing was due):
    everything a sign-up makes, in the caller's one transaction."""
    contact = contact_by_email(attempt.email)
    is_new = contact is None
    if is_new:
        contact = Contact(first_name=attempt.first_name, last_name=attempt.last_name,
                          email=attempt.email, phone=attempt.phone,
                          status=ContactStatus.ACTIVE, stripe_customer_id=attempt.customer_id)
        db.session.add(contact)
        db.session.flush()
    else:
        contact = lock(Contact, contact.id)
        contact.phone = contact.phone or attempt.phone
        if not contact.stripe_customer_id:
            contact.stripe_customer_id = attempt.customer_id
    if card is not None and contact.stripe_customer_id == attempt.customer_id:
        record_card(contact, card, make_default=True)
    quote = attempt_quote(attempt, starts_at=utcnow())
    subscription, period = begin_subscription(contact, quote, actor=actor, is_paid=True)
    payment = None
    if answer is not None:
        payment = Payment(contact_id=contact.id, subscription_id=subscription.id,
                          amount_minor=attempt.amount_minor, currency=attempt.currency,
                          purpose=PaymentPurpose.SUBSCRIPTION_PERIOD,
                          method=PaymentMethodKind.CARD, status=PaymentStatus.PENDING,
                          description=f"Sign-up: {quote.describe()}"[:200],
                          reference=attempt.reference, period_id=period.id, period_attempt=1)
        db.session.add(payment)
        db.session.flush()
        period.payment_id, period.attempts = payment.id, 1
        apply_charge_answer(payment, answer)  # the shared settle code: succeeded, receipt
    activate_paid(subscription, period, payment, actor=actor)
    attempt.status, attempt.settled_at = SignupStatus.PAID, utcnow()
    attempt.contact_id, attempt.subscription_id = contact.id, subscription.id
    attempt.payment_id = payment.id if payment is not None else None
    if attempt.invitation_id is not None:
        invitation = lock(PlanInvitation, attempt.invitation_id)
        invitation.signed_up_at, invitation.subscription_id = utcnow(), subscription.id
    record_audit(actor=actor, action="sign_up_via_link", target=subscription,
                 summary=f"{contact} {SIGNED_UP}: {subscription}, {quote.describe()}"[:300],
                 after={"contact_id": contact.id, "is_new_contact": is_new,
                        "subscription_id": subscription.id, "signup_attempt_id": attempt.id,
                        "payment_id": attempt.payment_id,
                        "invitation_id": attempt.invitation_id})
    return Completed(contact, payment, is_new)


def apply_answer(attempt: SignupAttempt, answer: ChargeResult | None, card: SavedCard | None,
                 *, actor: Actor) -> Completed | None:
    """Phase 2 for the attempt (locked): paid → ``complete_paid``; declined, needing an
    authentication this page cannot do, or never made (``None``) → failed."""
    if attempt.status is not SignupStatus.PENDING:
        return None
    if answer is not None and answer.succeeded:
        attempt.gateway_id = answer.gateway_id
        return complete_paid(attempt, answer, card, actor=actor)
    if answer is None:
        fail_attempt(attempt, "not_at_processor")
    elif answer.status is ChargeStatus.REQUIRES_ACTION:
        fail_attempt(attempt, "authentication_required", answer.gateway_id)
    else:
        fail_attempt(attempt, answer.failure_message or answer.failure_code or "declined",
                     answer.gateway_id)
    return None


def pending_attempts(*, older_than: timedelta) -> list[SignupAttempt]:
    return list(db.session.scalars(select(SignupAttempt).where(
        SignupAttempt.status == SignupStatus.PENDING,
        SignupAttempt.created_at <= utcnow() - older_than).order_by(SignupAttempt.id)))
