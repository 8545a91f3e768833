"""``POST /stripe/webhook``: Stripe telling the panel what happened to its payments.

Each delivery is verified first (``Stripe-Signature`` against ``STRIPE_WEBHOOK_SECRET``, see
``stripe_gateway.verify_webhook``): a missing or forged signature gets 400 and changes nothing.
A verified event is then handled in one transaction that starts by inserting its
``StripeEvent`` row, so a replayed event id (Stripe retries, a replay attack inside the
signature's tolerance) is answered 200 "already handled" and changes nothing.

- ``payment_intent.succeeded``: the local payment of that PaymentIntent (by ``gateway_id``,
  or by the ``reference`` our charge put in its metadata, for a charge whose answer was
  lost), if pending, is settled as succeeded with its receipt (``actions.settling``).
- ``payment_intent.payment_failed``: that payment, if pending, is settled as failed with the
  intent's ``last_payment_error`` code as ``failure_reason``.
- ``charge.refunded`` (real Stripe sends it; localstripe does not): pending refunds of that
  payment are settled by asking Stripe, and an amount refunded outside the panel (in Stripe's
  dashboard) is recorded as a refund with its credit note.
- ``setup_intent.succeeded`` of the member's payment-method page (its metadata says so):
  a card the member confirmed but whose page never reported back is recorded as their
  default card, as the page would have.
- Anything else: acknowledged (200), recorded with ``handled=False`` and a note, logged.

An event that changed something is ``handled``; the settlement leaves its audit entry (no
actor). One that changed nothing (no such local payment, or it was no longer pending: the
charge action already recorded Stripe's synchronous answer) is recorded unhandled with a
note saying why.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..actions.refunding import pending_refunds_minor
from ..actions.save_card_from_link import record_member_card
from ..actions.settling import record_refund_made_outside, settle_payment, settle_pending_refund
from ..extensions import csrf, db
from ..models import Contact, Payment, PaymentMethod, PaymentStatus, RefundStatus, StripeEvent
from . import get_gateway
from .gateway import CardRejected, ChargeResult, ChargeStatus
from .stripe_gateway import PAYMENT_METHOD_LINK, InvalidWebhook, verify_webhook

bp = Blueprint("stripe", __name__, url_prefix="/stripe")
csrf.exempt(bp)

ALREADY_HANDLED = "already handled"


@bp.post("/webhook")
def webhook():
    try:
        event = verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"),
                               current_app.config.get("STRIPE_WEBHOOK_SECRET"))
    except InvalidWebhook as error:
        current_app.logger.warning("Stripe webhook refused: %s", error)
        return jsonify(error=str(error)), 400
    if len(str(event["id"])) > 80 or len(str(event["type"])) > 80:
        return jsonify(error="The event id or type is too long."), 400
    note = handle_event(event)
    return jsonify(received=True, note=note), 200


def handle_event(event: dict) -> str:
    """Apply one verified event in its own transaction; return what was done."""
    event_id, event_type = str(event["id"]), str(event["type"])
    if db.session.get(StripeEvent, event_id) is not None:
        return ALREADY_HANDLED
    record = StripeEvent(id=event_id, type=event_type, handled=False)
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:  # the same event delivered concurrently, committed first
        db.session.rollback()
        return ALREADY_HANDLED
    try:
        handler = HANDLERS.get(event_type)
        obj = (event.get("data") or {}).get("object") or {}
        if handler is None:
            note = "Unknown event type: acknowledged, nothing done."
            current_app.logger.info("Stripe webhook %s (%s): %s", event_id, event_type, note)
        else:
            note = handler(event_id, event_type, obj, record)
        record.note = note[:300]
        db.session.commit()
    except BaseException:
        db.session.rollback()  # no StripeEvent row either: Stripe's retry is handled afresh
        raise
    return note


def _payment_of_intent(intent: dict) -> tuple[Payment | None, str | None]:
    """The local payment of a PaymentIntent (by its id, else by the reference our charge put
    in its metadata: the answer to the charge may have been lost), locked, if it is still
    pending; else why not."""
    intent_id = intent.get("id")
    if not intent_id:
        return None, "The event names no PaymentIntent."
    query = select(Payment).where(Payment.gateway_id == intent_id)
    reference = str((intent.get("metadata") or {}).get("reference") or "")
    if reference.startswith("payment-") and reference[8:].isdigit():
        query = select(Payment).where(or_(Payment.gateway_id == intent_id,
                                          Payment.id == int(reference[8:])))
    payment = db.session.execute(
        query.order_by(Payment.id).limit(1).with_for_update()
        .execution_options(populate_existing=True)).scalars().first()
    if payment is None:
        return None, f"No local payment has gateway id {intent_id}: nothing changed."
    if payment.status is not PaymentStatus.PENDING:
        return None, (f"Payment #{payment.id} is already {payment.status.value}: "
                      "nothing changed.")
    return payment, None


def _intent_succeeded(event_id: str, event_type: str, intent: dict,
                      record: StripeEvent) -> str:
    payment, why_not = _payment_of_intent(intent)
    if payment is None:
        return why_not
    result = ChargeResult(ChargeStatus.SUCCEEDED, intent.get("id"))
    return _settled(record, event_id, event_type, settle_payment(
        payment, result, actor=None, source=f"Stripe webhook {event_type} {event_id}"))


def _intent_failed(event_id: str, event_type: str, intent: dict, record: StripeEvent) -> str:
    payment, why_not = _payment_of_intent(intent)
    if payment is None:
        return why_not
    error = intent.get("last_payment_error") or {}
    result = ChargeResult(ChargeStatus.DECLINED, intent.get("id"),
                          str(error.get("code") or error.get("decline_code")
                              or "payment_failed"),
                          error.get("message"))
    return _settled(record, event_id, event_type, settle_payment(
        payment, result, actor=None, source=f"Stripe webhook {event_type} {event_id}"))


def _charge_refunded(event_id: str, event_type: str, charge: dict,
                     record: StripeEvent) -> str:
    """Stripe says a charge was refunded (by the panel, or in Stripe's dashboard). Pending
    refunds of its payment are settled by asking Stripe about each; what Stripe refunded
    beyond every refund the panel knows of was refunded outside the panel, and is recorded
    as a refund with its credit note, so the panel's books match the processor's."""
    intent_id = charge.get("payment_intent")
    payment = db.session.execute(
        select(Payment).where(Payment.gateway_id == intent_id).with_for_update()
        .execution_options(populate_existing=True)).scalars().first() if intent_id else None
    if payment is None:
        return f"No local payment has gateway id {intent_id}: nothing changed."
    source = f"Stripe webhook {event_type} {event_id}"
    said = [settle_pending_refund(refund, payment, source=source)
            for refund in payment.refunds if refund.status is RefundStatus.PENDING]
    outside = int(charge.get("amount_refunded") or 0) - payment.amount_refunded_minor \
        - pending_refunds_minor(payment)
    if outside > 0:
        said.append(record_refund_made_outside(payment, min(outside, payment.amount_minor
                                                            - payment.amount_refunded_minor),
                                               source=source))
    if not said:
        return (f"Payment #{payment.id}: every refund Stripe reports is already recorded: "
                "nothing changed.")
    return _settled(record, event_id, event_type, " ".join(said))


def _setup_succeeded(event_id: str, event_type: str, setup: dict, record: StripeEvent) -> str:
    """A card the member confirmed on their payment-method page, whose page did not report
    back (the tab closed after the bank's check...): recorded as their default card, as the
    page would have. Only SetupIntents of that page count; a card already recorded is left
    as it is."""
    if (setup.get("metadata") or {}).get("source") != PAYMENT_METHOD_LINK:
        return "Not a SetupIntent of the payment-method page: nothing changed."
    customer_id, card_id = setup.get("customer"), setup.get("payment_method")
    contact = db.session.execute(
        select(Contact).where(Contact.stripe_customer_id == customer_id).with_for_update()
        .execution_options(populate_existing=True)).scalars().first() if customer_id else None
    if contact is None:
        return f"No contact has Stripe customer {customer_id}: nothing changed."
    if db.session.scalar(select(PaymentMethod.id).where(
            PaymentMethod.contact_id == contact.id, PaymentMethod.gateway_id == card_id)):
        return f"The card {card_id} of {contact} is already recorded: nothing changed."
    try:
        saved = get_gateway().finish_card_setup(customer_id, str(setup.get("id")))
    except CardRejected as rejected:
        return f"SetupIntent {setup.get('id')} saved no card: {rejected.message}"
    method, message = record_member_card(
        contact, saved, how="by the member via the payment-method link (reported by Stripe)")
    return _settled(record, event_id, event_type, message)


def _settled(record: StripeEvent, event_id: str, event_type: str, note: str) -> str:
    record.handled = True
    current_app.logger.info("Stripe webhook %s (%s): %s", event_id, event_type, note)
    return note


HANDLERS: dict[str, Callable[[str, str, dict, StripeEvent], str]] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
    "setup_intent.succeeded": _setup_succeeded,
}
