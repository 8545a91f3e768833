"""A contact's customer and saved cards at the processor, each asked in two phases
(``processor_calls``): the processor is never called inside a transaction.

A card is saved at the processor first, then recorded here; one whose answer was lost (a crash
between the phases) is simply saved again by the next attempt: no money moves with a card.
"""

from __future__ import annotations

from sqlalchemy import select, update

from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import Contact, PaymentMethod, record_audit
from ..payments import CardDetails, GatewayRefused, SavedCard, get_gateway
from .locks import lock
from .processor_calls import UNANSWERED, ask_processor

NOTHING_SAVED = ("The payment processor is not answering: no card was saved. Try again in a "
                 "few minutes.")


def customer_key(contact: Contact) -> str:
    """The idempotency key of the contact's customer at the processor: the contact's id and
    the moment it was created, so a later contact that gets the same id again (SQLite hands
    out the id of a deleted last row again) never gets this one's customer."""
    return f"customer-{contact.id}-{contact.created_at:%Y%m%d%H%M%S%f}"


def ensure_customer(contact_id: int, *, unanswered: str = NOTHING_SAVED) -> str:
    """The contact's customer id at the processor, created on first need: asked with no
    transaction open, then recorded on the contact (a customer recorded meanwhile by someone
    else wins: the processor returns the same customer for the same key anyway).

    Error codes: ``gateway_unavailable`` (with the ``unanswered`` sentence),
    ``gateway_refused``."""
    contact = db.session.get(Contact, contact_id)
    if contact.stripe_customer_id:
        return contact.stripe_customer_id
    try:
        answer = ask_processor(get_gateway().create_customer, email=contact.email,
                               name=contact.full_name, idempotency_key=customer_key(contact))
    except GatewayRefused as refused:
        raise ActionError("gateway_refused", f"The payment processor refused to create the "
                                             f"customer: {refused}") from None
    if answer is UNANSWERED:
        raise ActionError("gateway_unavailable", unanswered)
    contact = lock(Contact, contact_id)
    if not contact.stripe_customer_id:
        contact.stripe_customer_id = answer
    return contact.stripe_customer_id


def check_card_dates(card: CardDetails | None) -> None:
    """Refuse a card with no number (``card_missing``), or an expiry that is not a month and
    year or has passed (``card_expired``)."""
    if card is None or not card.number.strip():
        raise ActionError("card_missing", "Enter the card number.")
    if not 1 <= card.exp_month <= 12 or card.exp_year < 2000:
        raise ActionError("card_expired", "Enter a valid expiry month and year.")
    now = utcnow()
    if (card.exp_year, card.exp_month) < (now.year, now.month):
        raise ActionError("card_expired", "This card has expired: use a card that is still "
                                          "valid.")


def record_card(contact: Contact, saved: SavedCard, *, make_default: bool) -> PaymentMethod:
    """Record the card the processor saved for ``contact`` (locked by the caller); a card
    already on record under the same processor id is not added again. A default card
    replaces the previous default (one default per contact), and the contact's past due and
    unpaid billing periods become due for a retry at once (``period_retries.retry_now``)."""
    method = db.session.scalar(select(PaymentMethod).where(
        PaymentMethod.gateway_id == saved.gateway_id, PaymentMethod.contact_id == contact.id))
    if make_default:
        db.session.execute(update(PaymentMethod).where(PaymentMethod.contact_id == contact.id)
                           .values(is_default=False))
    if method is None:
        method = PaymentMethod(contact_id=contact.id, brand=saved.brand, last4=saved.last4,
                               exp_month=saved.exp_month, exp_year=saved.exp_year,
                               gateway_id=saved.gateway_id, is_default=False)
        db.session.add(method)
    method.is_default = method.is_default or make_default
    db.session.flush()
    if make_default:
        from .period_retries import retry_now  # NOTE: period_retries needs the links module

        retry_now(contact.id)
    return method


BY_THE_MEMBER = "by the member via the payment-method link"


def record_member_card(contact: Contact, saved: SavedCard, *, actor,
                       how: str = BY_THE_MEMBER) -> tuple[PaymentMethod, str]:
    """Record the card the member saved at the processor as ``contact``'s default (the
    contact locked by the caller, inside its transaction), with the audit entry; a card
    already on record under the same processor id is made the default, not added again.
    Shared by the member's page and the processor's webhook, whichever reports it first."""
    method = record_card(contact, saved, make_default=True)
    message = f"Saved {method} as the default card of {contact}, {how}."
    record_audit(actor=actor, action="save_card_from_link", target=contact, summary=message,
                 after={"payment_method_id": method.id, "is_default": True,
                        "gateway_id": method.gateway_id})
    return method, message
