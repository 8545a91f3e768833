"""``POST /stripe/webhook``: signature checks, idempotency by event id, and the events handled.

Deterministic tests sign their own payloads (Stripe's scheme: ``t=<ts>,v1=<hex HMAC-SHA256 of
"<ts>.<payload>" with the endpoint secret>``); one test gets real signed deliveries from
localstripe, posting to the app served on a free port.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.request
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from werkzeug.serving import WSGIRequestHandler, make_server

from admin_app import create_app
from admin_app.actions.charge_custom_bill import charge_custom_bill
from admin_app.actions.refund_payment import refund_payment
from admin_app.actions.save_card_from_link import save_card_from_link
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    AuditEntry,
    Document,
    DocumentType,
    Payment,
    PaymentMethod,
    PaymentMethodKind,
    PaymentStatus,
    RefundReason,
    RefundStatus,
    StripeEvent,
)
from tests.factories import give_card, make_admin, make_contact, make_payment
from tests.localstripe import wait_for_owed_deliveries

SECRET = "whsec_test"


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "STRIPE_WEBHOOK_SECRET": SECRET}


def _event(event_type: str, obj: dict, event_id: str | None = None) -> bytes:
    return json.dumps({"id": event_id or f"evt_{uuid4().hex[:24]}", "object": "event",
                       "type": event_type, "created": int(time.time()),
                       "data": {"object": obj}}).encode()


def _sign(payload: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload,
                         hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def _post(client, payload: bytes, signature: str | None):
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    return client.post("/stripe/webhook", data=payload, headers=headers,
                       content_type="application/json")


def _pending(gateway_id: str | None = None) -> Payment:
    payment = make_payment(status=PaymentStatus.PENDING, paid_at=None,
                           gateway_id=gateway_id or f"pi_{uuid4().hex[:24]}")
    db.session.commit()
    return payment


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _fresh(payment: Payment) -> Payment:
    db.session.expire_all()
    return db.session.get(Payment, payment.id)


def _succeeded(payment: Payment, event_id: str | None = None) -> bytes:
    return _event("payment_intent.succeeded",
                  {"id": payment.gateway_id, "object": "payment_intent", "status": "succeeded"},
                  event_id)


# --- refused deliveries ----------------------------------------------------------------------
@pytest.mark.parametrize("signature", [
    pytest.param(lambda payload: _sign(payload, secret="whsec_wrong"), id="wrong-secret"),
    pytest.param(lambda payload: _sign(payload + b" "), id="other-payload"),
    pytest.param(lambda payload: _sign(payload, timestamp=int(time.time()) - 3600), id="stale"),
    pytest.param(lambda payload: "t=1,v0=abc", id="malformed"),
    pytest.param(lambda payload: "", id="empty"),
    pytest.param(lambda payload: None, id="missing"),
])
def test_an_unsigned_or_forged_delivery_is_refused_and_changes_nothing(client, signature):
    payment = _pending()
    payload = _succeeded(payment)
    response = _post(client, payload, signature(payload))
    assert response.status_code == 400
    assert _fresh(payment).status is PaymentStatus.PENDING
    assert _count(StripeEvent) == 0 and _count(AuditEntry) == 0


def test_without_a_configured_secret_every_delivery_is_refused(app, client):
    app.config["STRIPE_WEBHOOK_SECRET"] = None
    payment = _pending()
    payload = _succeeded(payment)
    assert _post(client, payload, _sign(payload)).status_code == 400
    assert _fresh(payment).status is PaymentStatus.PENDING and _count(StripeEvent) == 0


# --- handled events ------------------------------------------------------------------------
def test_payment_intent_succeeded_marks_the_pending_payment_paid(client):
    payment = _pending()
    payload = _succeeded(payment, "evt_ok_1")
    response = _post(client, payload, _sign(payload))
    assert response.status_code == 200, response.data
    payment = _fresh(payment)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.paid_at is not None
    event = db.session.get(StripeEvent, "evt_ok_1")
    assert (event.type, event.handled) == ("payment_intent.succeeded", True)
    assert event.received_at is not None and f"#{payment.id}" in event.note
    audit = db.session.scalars(select(AuditEntry)).one()
    assert (audit.action, audit.actor_id, audit.target_type, audit.target_id) == \
        ("settle_payment", None, "payment", str(payment.id))
    assert audit.before == {"status": "pending"} and audit.after["status"] == "succeeded"
    assert audit.summary.startswith("Stripe webhook payment_intent.succeeded evt_ok_1")
    (receipt,) = db.session.scalars(select(Document).where(Document.payment_id == payment.id))
    assert receipt.doc_type is DocumentType.RECEIPT and receipt.total_minor == payment.amount_minor


def test_payment_intent_payment_failed_records_the_reason(client):
    payment = _pending()
    payload = _event("payment_intent.payment_failed", {
        "id": payment.gateway_id, "object": "payment_intent", "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."}})
    assert _post(client, payload, _sign(payload)).status_code == 200
    payment = _fresh(payment)
    assert (payment.status, payment.failure_reason, payment.paid_at) == \
        (PaymentStatus.FAILED, "card_declined", None)
    assert db.session.scalars(select(StripeEvent)).one().handled
    assert db.session.scalars(select(AuditEntry)).one().after == \
        {"status": "failed", "failure_reason": "card_declined"}


def test_a_replayed_event_changes_nothing(client):
    payment = _pending()
    payload = _succeeded(payment, "evt_replayed")
    signature = _sign(payload)
    assert _post(client, payload, signature).status_code == 200
    assert _fresh(payment).status is PaymentStatus.SUCCEEDED
    # Put the payment back to pending: only the event id can stop the replay now.
    payment.status, payment.paid_at = PaymentStatus.PENDING, None
    db.session.commit()

    response = _post(client, payload, signature)
    assert response.status_code == 200 and response.json["note"] == "already handled"
    assert _fresh(payment).status is PaymentStatus.PENDING
    assert _count(StripeEvent) == 1 and _count(AuditEntry) == 1


def test_an_event_for_a_payment_no_longer_pending_changes_nothing(client):
    payment = make_payment(status=PaymentStatus.FAILED, paid_at=None, gateway_id="pi_done",
                           failure_reason="card_declined")
    db.session.commit()
    payload = _succeeded(payment, "evt_late")
    assert _post(client, payload, _sign(payload)).status_code == 200
    assert _fresh(payment).status is PaymentStatus.FAILED
    event = db.session.get(StripeEvent, "evt_late")
    assert not event.handled and "already failed" in event.note
    assert _count(AuditEntry) == 0


def test_an_event_for_an_unknown_payment_is_acknowledged(client):
    payload = _event("payment_intent.succeeded", {"id": "pi_elsewhere"}, "evt_elsewhere")
    assert _post(client, payload, _sign(payload)).status_code == 200
    event = db.session.get(StripeEvent, "evt_elsewhere")
    assert not event.handled and "pi_elsewhere" in event.note


def _card_payment_through_stripe(amount_minor: int = 7500) -> Payment:
    """A custom bill charged through the panel's Stripe gateway (localstripe)."""
    contact = make_contact()
    give_card(contact)
    return charge_custom_bill(contact, amount_minor=amount_minor, currency="USD",
                              description="Massage", method=PaymentMethodKind.CARD,
                              actor=make_admin(role="owner"), idempotency_key=uuid4().hex).record


def _refunded_event(payment: Payment, amount_refunded: int, event_id: str) -> bytes:
    return _event("charge.refunded", {"id": "ch_x", "object": "charge",
                                      "payment_intent": payment.gateway_id,
                                      "amount_refunded": amount_refunded}, event_id)


def test_a_refund_made_in_stripes_dashboard_is_recorded_with_its_credit_note(client,
                                                                               processor):
    payment = _card_payment_through_stripe(7500)
    processor.refund_directly(payment.gateway_id, 2500)  # an admin in Stripe's dashboard
    payload = _refunded_event(payment, 2500, "evt_refund")
    assert _post(client, payload, _sign(payload)).status_code == 200
    payment = _fresh(payment)
    assert (payment.status, payment.amount_refunded_minor) == \
        (PaymentStatus.PARTIALLY_REFUNDED, 2500)
    (refund,) = payment.refunds
    assert (refund.status, refund.amount_minor, refund.reason) == \
        (RefundStatus.SUCCEEDED, 2500, RefundReason.OTHER)
    assert "outside the panel" in refund.note
    notes = db.session.scalars(select(Document).where(
        Document.refund_id == refund.id, Document.doc_type == DocumentType.CREDIT_NOTE)).all()
    assert len(notes) == 1 and notes[0].total_minor == 2500
    assert db.session.get(StripeEvent, "evt_refund").handled
    # Stripe's retry of the same event, and a later event for the same total, change nothing.
    assert _post(client, payload, _sign(payload)).json["note"] == "already handled"
    again = _refunded_event(payment, 2500, "evt_refund_2")
    assert _post(client, again, _sign(again)).status_code == 200
    assert _fresh(payment).amount_refunded_minor == 2500 and len(payment.refunds) == 1
    assert processor.charge(payment.gateway_id).refunded_minor == 2500


def test_charge_refunded_settles_a_refund_whose_answer_was_lost(client, processor):
    payment = _card_payment_through_stripe(7500)
    with processor.losing_answers(), pytest.raises(ActionError) as refused:
        refund_payment(payment, amount_minor=3000, reason=RefundReason.REQUESTED_BY_CUSTOMER,
                       note=None, reverse_credits=False, actor=make_admin(role="cashier"),
                       idempotency_key=uuid4().hex)
    assert refused.value.code == "gateway_unavailable"
    (refund,) = _fresh(payment).refunds
    assert refund.status is RefundStatus.PENDING
    payload = _refunded_event(payment, 3000, "evt_lost_refund")
    assert _post(client, payload, _sign(payload)).status_code == 200
    payment = _fresh(payment)
    (refund,) = payment.refunds  # settled, not recorded a second time
    assert refund.status is RefundStatus.SUCCEEDED and refund.gateway_id
    assert (payment.status, payment.amount_refunded_minor) == \
        (PaymentStatus.PARTIALLY_REFUNDED, 3000)
    assert processor.charge(payment.gateway_id).refunded_minor == 3000


def test_an_unknown_event_type_is_acknowledged_and_recorded(client):
    payload = _event("customer.created", {"id": "cus_1", "object": "customer"}, "evt_cust")
    response = _post(client, payload, _sign(payload))
    assert response.status_code == 200 and response.json["received"] is True
    event = db.session.get(StripeEvent, "evt_cust")
    assert (event.type, event.handled) == ("customer.created", False)
    assert "Unknown event type" in event.note
    assert _count(AuditEntry) == 0


def test_the_webhook_only_takes_post(client):
    assert client.get("/stripe/webhook").status_code == 405


# --- real deliveries from localstripe --------------------------------------------------------
class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


def _configure_webhook(localstripe: str, url: str, events: list[str] | None = None) -> None:
    body = {"url": url, "secret": SECRET, **({"events": events} if events is not None else {})}
    request = urllib.request.Request(f"{localstripe}/_config/webhooks/test",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture
def webhook_target(app_config, localstripe):
    """The app (CSRF on, as in production) served on 127.0.0.1 on a free port in a thread, with
    localstripe's webhook pointed at its /stripe/webhook. The webhook is muted afterwards
    (localstripe cannot delete one), so later tests' events go nowhere."""
    served = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    server = make_server("127.0.0.1", 0, served, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="webhook-target", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/stripe/webhook"
    wait_for_owed_deliveries()  # earlier tests' events are not this test's
    _configure_webhook(localstripe, url)
    try:
        yield url
    finally:
        _configure_webhook(localstripe, url, events=[])
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with served.app_context():
            db.engine.dispose()


def _wait_for(payment: Payment, status: PaymentStatus, seconds: float = 8) -> Payment:
    deadline = time.monotonic() + seconds
    while True:
        fresh = _fresh(payment)
        current = fresh.status
        db.session.rollback()  # no read transaction left open while the server writes
        if current is status or time.monotonic() > deadline:
            return _fresh(payment)
        time.sleep(0.1)


def test_signed_deliveries_from_localstripe_update_pending_payments(app, webhook_target,
                                                                    stripe_gateway):
    customer = stripe_gateway.create_customer(email="rita@example.com", name="Rita Mora",
                                              idempotency_key=uuid4().hex)
    card = stripe_gateway.save_card(customer, _card("4242424242424242"),
                                    idempotency_key=uuid4().hex)
    result = stripe_gateway.charge(customer_id=customer, card_gateway_id=card.gateway_id,
                                   amount_minor=4500, currency="USD", description="Massage",
                                   idempotency_key=uuid4().hex)
    assert result.succeeded
    # localstripe delivers about a second after the charge: record the pending payment now,
    # as if the charge's answer had been lost (a timeout), and let the webhook settle it.
    payment = _pending(result.gateway_id)

    payment = _wait_for(payment, PaymentStatus.SUCCEEDED)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.paid_at is not None
    event = db.session.scalars(
        select(StripeEvent).where(StripeEvent.type == "payment_intent.succeeded")).one()
    assert event.handled and event.id.startswith("evt_")
    audit = db.session.scalars(select(AuditEntry)).one()
    assert (audit.action, audit.actor_id, audit.target_id) == \
        ("settle_payment", None, str(payment.id))


def test_a_decline_delivered_by_localstripe_fails_the_pending_payment(app, webhook_target,
                                                                      stripe_gateway):
    customer = stripe_gateway.create_customer(email="rita@example.com", name="Rita Mora",
                                              idempotency_key=uuid4().hex)
    card = stripe_gateway.save_card(customer, _card("4000000000000341"),
                                    idempotency_key=uuid4().hex)
    result = stripe_gateway.charge(customer_id=customer, card_gateway_id=card.gateway_id,
                                   amount_minor=4500, currency="USD", description="Massage",
                                   idempotency_key=uuid4().hex)
    assert not result.succeeded and result.failure_code == "card_declined"
    # localstripe's 402 names no PaymentIntent (real Stripe's does): find it in the listing.
    intents = stripe_gateway.client.v1.payment_intents.list().data
    assert len(intents) == 1
    payment = _pending(result.gateway_id or intents[0].id)

    payment = _wait_for(payment, PaymentStatus.FAILED)
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "card_declined")


def _card(number: str):
    from admin_app.payments import CardDetails

    return CardDetails(number, 12, 2030, "123")


def test_a_charge_whose_answer_was_lost_is_settled_by_localstripes_delivery(
        app, webhook_target, processor):
    contact = make_contact()
    give_card(contact)
    with processor.losing_answers(), pytest.raises(ActionError) as refused:
        charge_custom_bill(contact, amount_minor=4500, currency="USD", description="Massage",
                           method=PaymentMethodKind.CARD, actor=make_admin(role="owner"),
                           idempotency_key=uuid4().hex)
    assert refused.value.code == "gateway_unavailable"
    payment = db.session.scalars(select(Payment)).one()
    assert payment.status is PaymentStatus.PENDING and payment.gateway_id is None
    # The PaymentIntent's metadata carries the payment's reference: the delivery finds it.
    payment = _wait_for(payment, PaymentStatus.SUCCEEDED)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.gateway_id.startswith("pi_")
    assert processor.charge(payment.gateway_id).amount_minor == 4500
    assert processor.count_charges() == 1


# --- setup_intent.succeeded: a member's card whose page never reported back --------------------
def _member_setup(processor) -> tuple:
    """A contact whose payment-method page had a card confirmed at Stripe, but never posted
    back; the SetupIntent as Stripe holds it."""
    from admin_app.payments import get_gateway

    contact = make_contact()
    contact.stripe_customer_id = get_gateway().create_customer(
        email=contact.email, name=contact.full_name, idempotency_key=uuid4().hex)
    db.session.commit()
    setup = get_gateway().start_card_setup(contact.stripe_customer_id,
                                           idempotency_key=uuid4().hex)
    return contact, processor.confirm_card_setup(setup.id)


def test_a_card_confirmed_on_the_member_page_is_recorded_from_stripes_event(client,
                                                                             processor):
    contact, setup = _member_setup(processor)
    assert setup["status"] == "succeeded"
    payload = _event("setup_intent.succeeded", setup, "evt_setup")
    assert _post(client, payload, _sign(payload)).status_code == 200
    (method,) = db.session.scalars(select(PaymentMethod).where(
        PaymentMethod.contact_id == contact.id)).all()
    assert method.is_default and method.gateway_id == setup["payment_method"]
    assert (method.brand, method.last4) == ("visa", "4242")
    assert db.session.get(StripeEvent, "evt_setup").handled
    assert "reported by Stripe" in db.session.scalars(select(AuditEntry)).one().summary
    # Another delivery about it, then the page's late post-back: still one card.
    again = _event("setup_intent.succeeded", setup, "evt_setup_2")
    assert "already recorded" in _post(client, again, _sign(again)).json["note"]
    save_card_from_link(contact, idempotency_key=uuid4().hex, setup_id=setup["id"])
    assert db.session.scalar(select(func.count()).select_from(PaymentMethod)) == 1


def test_a_setup_intent_not_started_by_the_member_page_changes_nothing(client, processor):
    contact, setup = _member_setup(processor)
    payload = _event("setup_intent.succeeded", {**setup, "metadata": {}}, "evt_other_setup")
    response = _post(client, payload, _sign(payload))
    assert response.status_code == 200 and "Not a SetupIntent" in response.json["note"]
    assert _count(PaymentMethod) == 0
