"""``POST /stripe/webhook``: Stripe telling the panel what happened to its payments.

Each delivery is verified first (``Stripe-Signature`` against ``STRIPE_WEBHOOK_SECRET``, see
``stripe_gateway.verify_webhook``): a missing or forged signature gets 400 and changes nothing.
A verified event is then handled in one transaction that starts by inserting its
``StripeEvent`` row, so a replayed event id (Stripe retries, a replay attack inside the
signature's tolerance) is answered 200 "already handled" and changes nothing.

- ``payment_intent.succeeded``: the local payment with that ``gateway_id``, if pending,
  becomes succeeded with ``paid_at``.
- ``payment_intent.payment_failed``: that payment, if pending, becomes failed with the
  intent's ``last_payment_error`` code as ``failure_reason``.
- ``charge.refunded``: acknowledged and logged only; refunds are recorded by the panel's own
  refund action (localstripe does not send it).
- Anything else: acknowledged (200), recorded with ``handled=False`` and a note, logged.

An event that changed a payment is ``handled`` and leaves an audit entry (``stripe_webhook``,
no actor). One that changed nothing (no such local payment, or it was no longer pending:
the charge action already recorded Stripe's synchronous answer) is recorded unhandled with a
note saying why.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import csrf, db
from ..models import Payment, PaymentStatus, StripeEvent, record_audit
from .stripe_gateway import InvalidWebhook, verify_webhook

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


def _pending_payment(intent_id: str | None) -> tuple[Payment | None, str | None]:
    """The local payment of a PaymentIntent, locked, if it is still pending; else why not."""
    if not intent_id:
        return None, "The event names no PaymentIntent."
    payment = db.session.execute(
        select(Payment).where(Payment.gateway_id == intent_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalars().first()
    if payment is None:
        return None, f"No local payment has gateway id {intent_id}: nothing changed."
    if payment.status is not PaymentStatus.PENDING:
        return None, (f"Payment #{payment.id} is already {payment.status.value}: "
                      "nothing changed.")
    return payment, None


def _intent_succeeded(event_id: str, event_type: str, intent: dict,
                      record: StripeEvent) -> str:
    payment, why_not = _pending_payment(intent.get("id"))
    if payment is None:
        return why_not
    payment.status = PaymentStatus.SUCCEEDED
    payment.paid_at = utcnow()
    payment.failure_reason = None
    return _handled(record, payment, event_id, event_type,
                    after={"status": "succeeded", "paid_at": payment.paid_at.isoformat()})


def _intent_failed(event_id: str, event_type: str, intent: dict, record: StripeEvent) -> str:
    payment, why_not = _pending_payment(intent.get("id"))
    if payment is None:
        return why_not
    error = intent.get("last_payment_error") or {}
    reason = error.get("code") or error.get("decline_code") or "payment_failed"
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = str(reason)[:200]
    return _handled(record, payment, event_id, event_type,
                    after={"status": "failed", "failure_reason": payment.failure_reason})


def _charge_refunded(event_id: str, event_type: str, charge: dict,
                     record: StripeEvent) -> str:
    note = (f"Refund of {charge.get('payment_intent') or charge.get('id')} acknowledged: "
            "refunds are recorded by the panel's refund action.")
    current_app.logger.info("Stripe webhook %s (%s): %s", event_id, event_type, note)
    return note


def _handled(record: StripeEvent, payment: Payment, event_id: str, event_type: str, *,
             after: dict) -> str:
    record.handled = True
    note = f"Payment #{payment.id}: pending → {after['status']}."
    record_audit(actor=None, action="stripe_webhook", target=payment,
                 summary=f"{event_type} {event_id}: {note}"[:300],
                 before={"status": "pending"}, after=after)
    current_app.logger.info("Stripe webhook %s (%s): %s", event_id, event_type, note)
    return note


HANDLERS: dict[str, Callable[[str, str, dict, StripeEvent], str]] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
}
