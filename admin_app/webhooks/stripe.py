"""``POST /stripe/webhook``: Stripe telling the panel what happened to its payments.

Each delivery is verified first (``Stripe-Signature`` against ``STRIPE_WEBHOOK_SECRET``, see
``stripe_gateway.verify_webhook``): a missing or forged signature gets 400 and changes nothing.
A verified event is then handled in one transaction that starts by inserting its
``StripeEvent`` row, so a replayed event id (Stripe retries, a replay attack inside the
signature's tolerance) is answered 200 "already handled" and changes nothing.

- ``payment_intent.succeeded``: the local payment of that PaymentIntent (by ``gateway_id``,
  or by the ``reference`` our charge put in its metadata, for a charge whose answer was
  lost), if pending, is settled as succeeded with its receipt (``billing.settling``).
- ``payment_intent.payment_failed``: that payment, if pending, is settled as failed with the
  intent's ``last_payment_error`` code as ``failure_reason``.
- ``charge.refunded`` (real Stripe sends it; localstripe does not): pending refunds of that
  payment are settled by asking Stripe, and an amount refunded outside the panel (in Stripe's
  dashboard) is recorded as a refund with its credit note.
- ``setup_intent.succeeded`` of the member's payment-method page (its metadata says so):
  a card the member confirmed but whose page never reported back is recorded as their
  default card, as the page would have.
- Anything else: acknowledged (200), recorded with ``handled=False`` and a note, logged.

What an event needs to ask Stripe (a refund's outcome, the card a setup saved) is asked
before the event's transaction opens (``LOOKUPS``): Stripe is never called inside a
transaction. An event that changed something is ``handled``; the settlement leaves its audit
entry (the system actor). One that changed nothing (no such local payment, or it was no
longer pending: the charge action already recorded Stripe's synchronous answer) is recorded
unhandled with a note saying why.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..actors import SYSTEM
from ..billing.cards import record_member_card
from ..billing.locks import lock
from ..billing.processor_calls import UNANSWERED
from ..billing.refunding import pending_refunds_minor
from ..billing.settling import record_refund_made_outside, settle_payment, settle_refund
from ..extensions import csrf, db
from ..models import (
    Contact,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeEvent,
)
from ..payments import GatewayUnavailable, get_gateway
from ..payments.gateway import CardRejected, ChargeResult, ChargeStatus
from ..payments.stripe_gateway import PAYMENT_METHOD_LINK, InvalidWebhook, verify_webhook

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
    try:
        note = handle_event(event)
    except GatewayUnavailable:  # Stripe could not be asked what the event needs: it retries
        return jsonify(error="Stripe did not answer a lookup: retry later."), 503
    return jsonify(received=True, note=note), 200


def handle_event(event: dict) -> str:
    """Apply one verified event in its own transaction; return what was done."""
    event_id, event_type = str(event["id"]), str(event["type"])
    if db.session.get(StripeEvent, event_id) is not None:
        return ALREADY_HANDLED
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    obj = obj if isinstance(obj, dict) else {}
    look_up = LOOKUPS.get(event_type)
    answers = look_up(obj) if look_up is not None else None
    db.session.rollback()  # the lookups' reads end here: the event's transaction starts anew
    record = StripeEvent(id=event_id, type=event_type, handled=False)
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:  # the same event delivered concurrently, committed first
        db.session.rollback()
        return ALREADY_HANDLED
    try:
        handler = HANDLERS.get(event_type)
        if handler is None:
            note = "Unknown event type: acknowledged, nothing done."
            current_app.logger.info("Stripe webhook %s (%s): %s", event_id, event_type, note)
        else:
            note = handler(event_id, event_type, obj, record, answers)
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
    reference = str((intent.get("metadata") or {}).get("reference") or "")[:40]
    if reference:
        query = select(Payment).where(or_(Payment.gateway_id == intent_id,
                                          Payment.reference == reference))
    payment = db.session.execute(
        query.order_by(Payment.id).limit(1).with_for_update()
        .execution_options(populate_existing=True)).scalars().first()
    if payment is None:
        return None, f"No local payment has gateway id {intent_id}: nothing changed."
    if payment.status is not PaymentStatus.PENDING:
        return None, (f"Payment #{payment.id} is already {payment.status.value}: "
                      "nothing changed.")
    return payment, None


def _intent_succeeded(event_id: str, event_type: str, intent: dict, record: StripeEvent,
                      _answers: None) -> str:
    payment, why_not = _payment_of_intent(intent)
    if payment is None:
        return why_not
    result = ChargeResult(ChargeStatus.SUCCEEDED, intent.get("id"))
    return _settled(record, event_id, event_type, settle_payment(
        payment, result, actor=SYSTEM, source=f"Stripe webhook {event_type} {event_id}"))


def _intent_failed(event_id: str, event_type: str, intent: dict, record: StripeEvent,
                   _answers: None) -> str:
    payment, why_not = _payment_of_intent(intent)
    if payment is None:
        return why_not
    error = intent.get("last_payment_error") or {}
    result = ChargeResult(ChargeStatus.DECLINED, intent.get("id"),
                          str(error.get("code") or error.get("decline_code")
                              or "payment_failed"),
                          error.get("message"))
    return _settled(record, event_id, event_type, settle_payment(
        payment, result, actor=SYSTEM, source=f"Stripe webhook {event_type} {event_id}"))


def _payment_of_charge(charge: dict) -> Payment | None:
    intent_id = charge.get("payment_intent")
    if not intent_id or not isinstance(intent_id, str):
        return None
    return db.session.scalars(select(Payment).where(Payment.gateway_id == intent_id)).first()


def _look_up_pending_refunds(charge: dict) -> dict[int, object]:
    """What Stripe says of each pending refund of the charge's payment (by the reference it was
    asked with), asked with no transaction open."""
    payment = _payment_of_charge(charge)
    if payment is None or not payment.gateway_id:
        return {}
    asks = [(refund.id, refund.reference) for refund in payment.refunds
            if refund.status is RefundStatus.PENDING]
    charge_id = payment.gateway_id
    db.session.rollback()
    answers: dict[int, object] = {}
    for refund_id, reference in asks:
        try:
            answers[refund_id] = get_gateway().find_refund(charge_gateway_id=charge_id,
                                                           idempotency_key=reference)
        except GatewayUnavailable:
            answers[refund_id] = UNANSWERED
    return answers


def _charge_refunded(event_id: str, event_type: str, charge: dict, record: StripeEvent,
                     answers: dict[int, object]) -> str:
    """Stripe says a charge was refunded (by the panel, or in Stripe's dashboard). Pending
    refunds of its payment are settled with what Stripe said of each (looked up before the
    transaction); what Stripe refunded beyond every refund the panel knows of was refunded
    outside the panel, and is recorded as a refund with its credit note, so the panel's books
    match the processor's."""
    payment = _payment_of_charge(charge)
    if payment is None:
        return f"No local payment has gateway id {charge.get('payment_intent')}: nothing changed."
    payment = lock(Payment, payment.id)
    source = f"Stripe webhook {event_type} {event_id}"
    said = []
    for refund_id, answer in answers.items():
        refund = lock(Refund, refund_id)
        if refund.status is not RefundStatus.PENDING:
            continue  # settled meanwhile (by the action's phase 2, or reconcile)
        if answer is UNANSWERED or answer is None:
            said.append(f"Refund #{refund.id} is not known to the processor yet: it stays "
                        "pending.")
        else:
            said.append(settle_refund(refund, payment, answer, actor=SYSTEM, source=source))
    outside = int(charge.get("amount_refunded") or 0) - payment.amount_refunded_minor \
        - pending_refunds_minor(payment)
    if outside > 0:
        said.append(record_refund_made_outside(payment, min(outside, payment.amount_minor
                                                            - payment.amount_refunded_minor),
                                               actor=SYSTEM, source=source))
    if not said:
        return (f"Payment #{payment.id}: every refund Stripe reports is already recorded: "
                "nothing changed.")
    return _settled(record, event_id, event_type, " ".join(said))


def _contact_of_setup(setup: dict) -> Contact | None:
    customer_id = setup.get("customer")
    if not customer_id or not isinstance(customer_id, str):
        return None
    return db.session.scalars(select(Contact).where(
        Contact.stripe_customer_id == customer_id)).first()


def _look_up_setup_card(setup: dict):
    """The card a setup of the payment-method page saved (or why none), asked of Stripe with no
    transaction open; None when there is nothing to ask."""
    if (setup.get("metadata") or {}).get("source") != PAYMENT_METHOD_LINK:
        return None
    contact = _contact_of_setup(setup)
    if contact is None or _card_recorded(contact, setup.get("payment_method")):
        return None
    customer_id = contact.stripe_customer_id
    db.session.rollback()
    try:
        return get_gateway().finish_card_setup(customer_id, str(setup.get("id")))
    except CardRejected as rejected:
        return rejected
    except GatewayUnavailable:
        return UNANSWERED


def _card_recorded(contact: Contact, card_id) -> bool:
    return db.session.scalar(select(PaymentMethod.id).where(
        PaymentMethod.contact_id == contact.id, PaymentMethod.gateway_id == card_id)) is not None


def _setup_succeeded(event_id: str, event_type: str, setup: dict, record: StripeEvent,
                     saved) -> str:
    """A card the member confirmed on their payment-method page, whose page did not report
    back (the tab closed after the bank's check...): recorded as their default card, as the
    page would have. Only SetupIntents of that page count; a card already recorded is left
    as it is."""
    if (setup.get("metadata") or {}).get("source") != PAYMENT_METHOD_LINK:
        return "Not a SetupIntent of the payment-method page: nothing changed."
    contact = _contact_of_setup(setup)
    if contact is None:
        return f"No contact has Stripe customer {setup.get('customer')}: nothing changed."
    contact = lock(Contact, contact.id)
    if _card_recorded(contact, setup.get("payment_method")):
        return f"The card {setup.get('payment_method')} of {contact} is already recorded: " \
               "nothing changed."
    if saved is UNANSWERED:
        raise GatewayUnavailable("Stripe did not answer: the event is retried")
    if isinstance(saved, CardRejected) or saved is None:
        why = saved.message if saved is not None else "no card"
        return f"SetupIntent {setup.get('id')} saved no card: {why}"
    method, message = record_member_card(
        contact, saved, actor=SYSTEM,
        how="by the member via the payment-method link (reported by Stripe)")
    return _settled(record, event_id, event_type, message)


def _settled(record: StripeEvent, event_id: str, event_type: str, note: str) -> str:
    record.handled = True
    current_app.logger.info("Stripe webhook %s (%s): %s", event_id, event_type, note)
    return note


LOOKUPS: dict[str, Callable[[dict], object]] = {
    "charge.refunded": _look_up_pending_refunds,
    "setup_intent.succeeded": _look_up_setup_card,
}

HANDLERS: dict[str, Callable[[str, str, dict, StripeEvent, object], str]] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
    "setup_intent.succeeded": _setup_succeeded,
}
