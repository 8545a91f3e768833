"""The Stripe gateway against localstripe, a Stripe-compatible server, and the panel's money
actions run end to end through it."""

from __future__ import annotations

from uuid import uuid4

import pytest
import stripe

from admin_app.payments import (
    CardDetails,
    CardRejected,
    ChargeStatus,
    GatewayUnavailable,
    get_gateway,
)
from admin_app.payments.stripe_gateway import StripeGateway
from tests.localstripe import free_port


def _key() -> str:
    return uuid4().hex


def _customer(gateway: StripeGateway) -> str:
    return gateway.create_customer(email="rita@example.com", name="Rita Mora",
                                   idempotency_key=_key())


def _card(gateway: StripeGateway, customer_id: str, number: str = "4242424242424242"):
    return gateway.save_card(customer_id, CardDetails(number, 12, 2030, "123"),
                             idempotency_key=_key())


def _charge(gateway: StripeGateway, customer_id: str, card_id: str, amount: int = 4500):
    return gateway.charge(customer_id=customer_id, card_gateway_id=card_id,
                          amount_minor=amount, currency="USD", description="Massage",
                          idempotency_key=_key())


def test_create_customer(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    assert customer_id.startswith("cus_")
    customer = stripe_gateway.client.v1.customers.retrieve(customer_id)
    assert (customer.name, customer.email) == ("Rita Mora", "rita@example.com")


def test_save_card_attaches_it_to_the_customer(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    saved = _card(stripe_gateway, customer_id, "4242 4242 4242 4242")
    assert saved.gateway_id.startswith("pm_")
    assert (saved.brand, saved.last4, saved.exp_month, saved.exp_year) == \
        ("visa", "4242", 12, 2030)
    method = stripe_gateway.client.v1.payment_methods.retrieve(saved.gateway_id)
    assert method.customer == customer_id


def test_a_test_token_is_attached_as_is(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    saved = stripe_gateway.save_card(customer_id, CardDetails("pm_card_visa", 12, 2030),
                                     idempotency_key=_key())
    assert saved.gateway_id.startswith("pm_") and saved.last4 == "4242"


def test_charge_succeeds(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    card = _card(stripe_gateway, customer_id)
    result = _charge(stripe_gateway, customer_id, card.gateway_id, 4500)
    assert result.status is ChargeStatus.SUCCEEDED and result.succeeded
    assert result.gateway_id.startswith("pi_")
    intent = stripe_gateway.client.v1.payment_intents.retrieve(result.gateway_id)
    assert (intent.status, intent.amount, intent.currency, intent.customer) == \
        ("succeeded", 4500, "usd", customer_id)
    assert intent.metadata["description"] == "Massage"


def test_a_card_declining_when_charged_saves_then_declines(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    card = _card(stripe_gateway, customer_id, "4000000000000341")
    result = _charge(stripe_gateway, customer_id, card.gateway_id)
    assert result.status is ChargeStatus.DECLINED and not result.succeeded
    assert result.failure_code == "card_declined"
    assert result.failure_message


def test_a_card_needing_authentication_requires_action(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    card = _card(stripe_gateway, customer_id, "4000002500003155")
    result = _charge(stripe_gateway, customer_id, card.gateway_id)
    assert result.status is ChargeStatus.REQUIRES_ACTION
    assert result.gateway_id.startswith("pi_")
    assert result.failure_code == "authentication_required"


def test_a_card_declined_when_saved_is_rejected(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    with pytest.raises(CardRejected) as rejected:
        _card(stripe_gateway, customer_id, "4000000000000002")
    assert rejected.value.code == "card_declined"
    assert "declined" in rejected.value.message


def test_a_card_stripe_refuses_as_invalid_is_rejected(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    with pytest.raises(CardRejected) as rejected:
        stripe_gateway.save_card(customer_id, CardDetails("4242424242424242", 12, 2015, "123"),
                                 idempotency_key=_key())
    assert rejected.value.code == "invalid_expiry_year"


def test_partial_then_full_refund(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    card = _card(stripe_gateway, customer_id)
    charge = _charge(stripe_gateway, customer_id, card.gateway_id, 10000)
    first = stripe_gateway.refund(charge_gateway_id=charge.gateway_id, amount_minor=2500,
                                  currency="USD", idempotency_key=_key())
    rest = stripe_gateway.refund(charge_gateway_id=charge.gateway_id, amount_minor=7500,
                                 currency="USD", idempotency_key=_key())
    assert first.succeeded and rest.succeeded
    assert first.gateway_id.startswith("re_") and rest.gateway_id != first.gateway_id
    refunds = stripe_gateway.client.v1.refunds.list({"payment_intent": charge.gateway_id})
    assert sorted(r.amount for r in refunds.data) == [2500, 7500]


def test_refunding_a_declined_charge_fails_with_the_reason(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    card = _card(stripe_gateway, customer_id, "4000000000000341")
    charge = _charge(stripe_gateway, customer_id, card.gateway_id)
    intent_id = charge.gateway_id or stripe_gateway.client.v1.payment_intents.list().data[0].id
    result = stripe_gateway.refund(charge_gateway_id=intent_id, amount_minor=100,
                                   currency="USD", idempotency_key=_key())
    assert not result.succeeded and result.gateway_id is None
    assert "failed payment" in result.failure_message


def test_detach_card(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    card = _card(stripe_gateway, customer_id)
    stripe_gateway.detach_card(card.gateway_id)
    assert stripe_gateway.client.v1.payment_methods.retrieve(card.gateway_id).customer is None
    stripe_gateway.detach_card(card.gateway_id)  # again: still fine


def test_an_unreachable_stripe_is_unavailable(localstripe):
    gateway = StripeGateway(secret_key="sk_test_x", api_base=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(GatewayUnavailable):
        gateway.create_customer(email=None, name="Nobody", idempotency_key=_key())
    with pytest.raises(GatewayUnavailable):
        gateway.charge(customer_id="cus_x", card_gateway_id="pm_x", amount_minor=100,
                       currency="USD", description="x", idempotency_key=_key())
    with pytest.raises(GatewayUnavailable):
        gateway.refund(charge_gateway_id="pi_x", amount_minor=100, currency="USD",
                       idempotency_key=_key())


def test_the_panel_charges_and_refunds_through_stripe(app, localstripe):
    """The real actions, with PAYMENT_GATEWAY=stripe: save a card at the desk, charge a
    custom bill to it, refund part of it; Stripe (localstripe) holds the matching objects."""
    from admin_app.actions.charge_custom_bill import charge_custom_bill
    from admin_app.actions.refund_payment import refund_payment
    from admin_app.models import PaymentMethodKind, PaymentStatus, RefundReason, RefundStatus
    from tests.factories import give_card, make_admin, make_contact

    gateway = get_gateway()
    assert isinstance(gateway, StripeGateway) and get_gateway() is gateway
    actor = make_admin(role="owner")
    contact = make_contact(first_name="Rita")
    method = give_card(contact, actor=actor)
    assert contact.stripe_customer_id.startswith("cus_")
    assert method.gateway_id.startswith("pm_") and method.last4 == "4242"

    payment = charge_custom_bill(contact, amount_minor=6000, currency="USD",
                                 description="Private lesson", method=PaymentMethodKind.CARD,
                                 actor=actor, idempotency_key=_key()).record
    assert payment.status is PaymentStatus.SUCCEEDED and payment.gateway_id.startswith("pi_")
    intent = gateway.client.v1.payment_intents.retrieve(payment.gateway_id)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 6000, "usd")
    assert (intent.customer, intent.payment_method) == \
        (contact.stripe_customer_id, method.gateway_id)

    refund = refund_payment(payment, amount_minor=1500,
                            reason=RefundReason.REQUESTED_BY_CUSTOMER, note=None,
                            reverse_credits=False, actor=actor, idempotency_key=_key()).record
    assert refund.status is RefundStatus.SUCCEEDED and refund.gateway_id.startswith("re_")
    at_stripe = gateway.client.v1.refunds.retrieve(refund.gateway_id)
    assert (at_stripe.amount, at_stripe.payment_intent, at_stripe.status) == \
        (1500, payment.gateway_id, "succeeded")
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED


def test_a_declined_custom_bill_is_kept_as_failed(app, localstripe):
    from admin_app.actions.charge_custom_bill import charge_custom_bill
    from admin_app.errors import ActionError
    from admin_app.extensions import db
    from admin_app.models import Payment, PaymentMethodKind, PaymentStatus
    from tests.factories import give_card, make_admin, make_contact

    actor = make_admin(role="owner")
    contact = make_contact()
    give_card(contact, number="4000000000000341", actor=actor)
    with pytest.raises(ActionError) as refused:
        charge_custom_bill(contact, amount_minor=2000, currency="USD", description="Fee",
                           method=PaymentMethodKind.CARD, actor=actor, idempotency_key=_key())
    assert refused.value.code == "card_declined"
    payment = db.session.query(Payment).one()
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "card_declined")


class _RecordingHTTPClient(stripe.RequestsClient):
    """The SDK's own HTTP client, noting the idempotency key of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[tuple[str, str | None]] = []

    def request(self, method, url, headers, post_data=None):
        self.keys.append((url.split("/v1/", 1)[1], (headers or {}).get("Idempotency-Key")))
        return super().request(method, url, headers, post_data)


def test_every_call_carries_an_idempotency_key_derived_from_the_callers(localstripe):
    gateway = StripeGateway(secret_key="sk_test_x", api_base=localstripe)
    recorder = _RecordingHTTPClient()
    gateway.client = stripe.StripeClient("sk_test_x", base_addresses={"api": localstripe},
                                         max_network_retries=0, http_client=recorder)
    customer_id = gateway.create_customer(email=None, name="Rita", idempotency_key="contact-1")
    card = gateway.save_card(customer_id, CardDetails("4242424242424242", 12, 2030, "123"),
                             idempotency_key="card-abc")
    charge = gateway.charge(customer_id=customer_id, card_gateway_id=card.gateway_id,
                            amount_minor=100, currency="USD", description="x",
                            idempotency_key="payment-42")
    gateway.refund(charge_gateway_id=charge.gateway_id, amount_minor=100, currency="USD",
                   idempotency_key="refund-7")
    gateway.detach_card(card.gateway_id)
    assert recorder.keys == [
        ("customers", "customer:contact-1"),
        ("payment_methods", "card:card-abc"),
        (f"payment_methods/{card.gateway_id}/attach", "card-attach:card-abc"),
        ("payment_intents", "charge:payment-42"),
        ("refunds", "refund:refund-7"),
        (f"payment_methods/{card.gateway_id}/detach", f"card-detach:{card.gateway_id}"),
    ]


def test_a_stripe_answering_5xx_or_429_is_unavailable():
    import http.server
    import threading

    class Failing(http.server.BaseHTTPRequestHandler):
        status = 500

        def do_POST(self):  # noqa: N802 (the stdlib's name)
            body = b'{"error": {"type": "api_error", "message": "Something broke."}}'
            self.send_response(Failing.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gateway = StripeGateway(secret_key="sk_test_x",
                                api_base=f"http://127.0.0.1:{server.server_port}")
        for status in (500, 503, 429):
            Failing.status = status
            with pytest.raises(GatewayUnavailable):
                gateway.charge(customer_id="cus_x", card_gateway_id="pm_x", amount_minor=100,
                               currency="USD", description="x", idempotency_key=_key())
    finally:
        server.shutdown()
        server.server_close()
