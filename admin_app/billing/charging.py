"""Charging a contact's saved card, in two phases around the processor call
(``processor_calls``), the way every money action does it.

Phase 1, in the caller's transaction (after its own checks and locks): the card and the
contact's unsettled charges are checked and the pending payment is written with its reference.
The processor is then asked with no transaction open. Phase 2, a new transaction: the payment
is locked again and the answer applied through ``settling.apply_charge_answer``. The caller's
locks end with phase 1: what it still changes afterwards, it locks again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from ..actors import SYSTEM
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import (
    Contact,
    Document,
    Payment,
    PaymentMethod,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
)
from ..money import format_money, is_currency_code
from ..payments import ChargeStatus, get_gateway
from .locks import lock
from .payment_method_links import link_sent_sentence, queue_payment_method_link
from .processor_calls import UNANSWERED, ask_processor
from .settling import Settlement, apply_charge_answer, record_paid

PROCESSOR_DOWN = ("The payment processor is not answering: nothing was charged. "
                  "Try again in a few minutes.")


class ChargeNotMade(ActionError):
    """The processor declined the charge, or did not answer: ``payment`` stays on record,
    failed or pending, and the calling action keeps it (its audit says which)."""

    def __init__(self, code: str, message: str, payment: Payment) -> None:
        super().__init__(code, message, keep_changes=True,
                         after={"payment_id": payment.id, "status": payment.status.value})
        self.payment = payment


@dataclass(frozen=True)
class Charged:
    """A paid charge: the payment (succeeded, locked in the current transaction), the name of
    the card it was charged to, and what settling it did (receipt, what it was owed for)."""

    payment: Payment
    card: str
    settlement: Settlement


def checked_money(amount_minor: int, currency: str, *, signed: bool = False) -> str:
    """Refuse an amount that is not above zero (``amount_not_positive``; with ``signed``, one
    that is zero: ``zero_amount``) or a currency that is not a three-letter code
    (``currency_invalid``); returns the currency, upper-case."""
    if signed and not amount_minor:
        raise ActionError("zero_amount",
                          "Enter the amount to add, or a negative amount to take away.")
    if not signed and amount_minor <= 0:
        raise ActionError("amount_not_positive", "Enter an amount greater than zero.")
    currency = (currency or "").strip().upper()
    if not is_currency_code(currency):
        raise ActionError("currency_invalid",
                          "Enter the currency as its three-letter code, e.g. USD.")
    return currency


def unsettled_card_payment(contact: Contact) -> Payment | None:
    """A card payment of the contact still waiting for the processor's answer, if any."""
    return db.session.scalar(select(Payment).where(
        Payment.contact_id == contact.id, Payment.method == PaymentMethodKind.CARD,
        Payment.status == PaymentStatus.PENDING).order_by(Payment.id).limit(1))


def default_card(contact: Contact) -> PaymentMethod | None:
    return db.session.scalar(select(PaymentMethod).where(
        PaymentMethod.contact_id == contact.id, PaymentMethod.is_default.is_(True)))


def check_chargeable(contact: Contact) -> PaymentMethod:
    """The default card a charge of ``contact`` goes to.

    Refused without a saved card (``no_payment_method``), and while a card payment of the
    contact waits for the processor's answer (``payment_pending``): it may have been charged,
    and charging again could charge the member twice."""
    card = default_card(contact)
    if card is None or not card.gateway_id or not contact.stripe_customer_id:
        raise ActionError("no_payment_method",
                          f"{contact} has no saved card. Add one under Payment methods, or "
                          "record the payment as cash / other.")
    unsettled = unsettled_card_payment(contact)
    if unsettled is not None:
        raise ActionError(
            "payment_pending",
            f"Payment #{unsettled.id} of "
            f"{format_money(unsettled.amount_minor, unsettled.currency)} to {contact}'s card is "
            "still waiting for the payment processor's answer, so it may have been charged. "
            "Reconcile it first (Cashier → Transactions, its ⋯ menu → Check with the processor), "
            "so the member is not charged twice.")
    return card


def charge_saved_card(contact: Contact, *, amount_minor: int, currency: str,
                      purpose: PaymentPurpose, description: str,
                      subscription_id: int | None = None, retry_of_id: int | None = None,
                      idempotency_key: str | None = None, reference: str | None = None,
                      attach: Callable[[Payment], None] | None = None) -> Charged:
    """Charge the contact's default card (see the module's phases) and return it, paid.

    A decline or a card needing authentication is recorded as a failed payment with the
    processor's reason, then refused (``card_declined``, ``authentication_required``) with the
    record kept; a card needing authentication also sends the member their payment-method link,
    since an off-session charge cannot ask them. A processor that does not answer (down,
    timeout, 5xx) may or may not have charged: the payment is kept **pending** and refused with
    ``gateway_unavailable``; reconcile (or a webhook) settles it later. Refusals before
    anything is written: ``no_payment_method``, ``payment_pending`` (``check_chargeable``).

    ``attach(payment)`` links the pending payment to what it pays for in phase 1, so the link
    is committed with it (a no-show fee's appointment, a billing period); settling undoes it
    if it fails. ``reference``: the processor's idempotency key when the caller derives it
    from what is charged (a renewal: subscription, period, attempt), else a random one.
    """
    card = check_chargeable(contact)
    payment = Payment(contact_id=contact.id, subscription_id=subscription_id,
                      amount_minor=amount_minor, currency=currency, purpose=purpose,
                      method=PaymentMethodKind.CARD, description=description[:200],
                      status=PaymentStatus.PENDING, retry_of_id=retry_of_id,
                      idempotency_key=idempotency_key)
    if reference is not None:
        payment.reference = reference
    db.session.add(payment)
    db.session.flush()
    if attach is not None:
        attach(payment)
    payment_id, card_name, card_display = payment.id, str(card), card.display_name
    answer = ask_processor(
        get_gateway().charge, customer_id=contact.stripe_customer_id,
        card_gateway_id=card.gateway_id, amount_minor=amount_minor, currency=currency,
        description=description, idempotency_key=payment.reference)
    payment = lock(Payment, payment_id)
    amount = format_money(amount_minor, currency)
    if answer is UNANSWERED:
        # NOTE: unknown is not "failed": the request may have reached the processor.
        raise ChargeNotMade(
            "gateway_unavailable",
            f"The payment processor did not answer, so it is not known whether {amount} was "
            f"charged. Payment #{payment.id} is kept as pending until the processor's answer is "
            "known (Cashier → Transactions, its ⋯ menu → Check with the processor); nothing "
            "else was changed.", payment)
    settlement = apply_charge_answer(payment, answer)
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED,
                          PaymentStatus.REFUNDED):
        return Charged(payment, card_display, settlement)
    if payment.status is PaymentStatus.PENDING:  # pragma: no cover - settle never leaves it
        raise RuntimeError(f"payment #{payment.id} was not settled")
    if answer is not None and answer.status is ChargeStatus.REQUIRES_ACTION:
        # NOTE: an off-session charge cannot ask the member to authenticate: the member gets
        # the payment-method link, whose page sets the card up with them present.
        contact = db.session.get(Contact, payment.contact_id)
        try:
            sent = link_sent_sentence(queue_payment_method_link(
                contact, actor=SYSTEM, why=f"the card {card_name} needs the card holder's "
                                         "authentication"))
        except ActionError as nowhere:
            sent = nowhere.message
        raise ChargeNotMade("authentication_required",
                            f"The card {card_name} needs the card holder's authentication: "
                            f"nothing was charged. {sent}", payment)
    reason = (answer.failure_message if answer is not None else None) or "no reason given"
    raise ChargeNotMade("card_declined",
                        f"The card {card_name} was declined: {reason} Nothing was charged.",
                        payment)


def record_offline_payment(contact: Contact, *, amount_minor: int, currency: str,
                           purpose: PaymentPurpose, description: str,
                           method: PaymentMethodKind,
                           idempotency_key: str | None = None,
                           attach: Callable[[Payment], None] | None = None,
                           part_of: Document | None = None,
                           ) -> tuple[Payment, Settlement]:
    """A payment taken outside the processor (cash, bank transfer, account credit...),
    succeeded now, with its receipt, settled as a processor's "paid" is (``attach`` links it
    first, as for a card; ``part_of``: the invoice it pays part of, named on the receipt)."""
    payment = Payment(contact_id=contact.id, amount_minor=amount_minor, currency=currency,
                      purpose=purpose, method=method, description=description[:200],
                      status=PaymentStatus.SUCCEEDED, paid_at=utcnow(),
                      idempotency_key=idempotency_key)
    db.session.add(payment)
    db.session.flush()
    if attach is not None:
        attach(payment)
    return payment, record_paid(payment, part_of=part_of)
