"""The member's payment-method link on the Stripe gateway, against localstripe: SetupIntents
started and finished by the gateway, and the public page that confirms them with Stripe.js."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest

from admin_app.billing.payment_method_links import make_link_token
from admin_app.extensions import db
from admin_app.models import PaymentMethod
from admin_app.payments import CardRejected
from tests.factories import make_contact
from tests.member_card import confirm_like_stripe_js


def _customer(gateway) -> str:
    return gateway.create_customer(email="rita@example.com", name="Rita Mora",
                                   idempotency_key=uuid4().hex)


def _confirmed_setup(gateway, localstripe, customer_id, number="4242424242424242", **kw):
    setup = gateway.start_card_setup(customer_id, idempotency_key=uuid4().hex)
    confirm_like_stripe_js(localstripe, setup.client_secret, number, **kw)
    return setup


# --- the gateway ---------------------------------------------------------------------------------

def test_start_card_setup_makes_a_setup_intent_for_the_customer(stripe_gateway):
    customer_id = _customer(stripe_gateway)
    setup = stripe_gateway.start_card_setup(customer_id, idempotency_key=uuid4().hex)
    assert setup.id.startswith("seti_") and setup.client_secret.startswith(f"{setup.id}_secret_")
    intent = stripe_gateway.client.v1.setup_intents.retrieve(setup.id)
    assert (intent.customer, intent.usage, intent.status) == \
        (customer_id, "off_session", "requires_payment_method")


def test_finish_attaches_the_confirmed_card_localstripe_left_unattached(stripe_gateway,
                                                                         localstripe):
    customer_id = _customer(stripe_gateway)
    setup = _confirmed_setup(stripe_gateway, localstripe, customer_id, "5555555555554444",
                             exp=(11, 2031))
    intent = stripe_gateway.client.v1.setup_intents.retrieve(setup.id)
    assert intent.status == "succeeded"
    assert stripe_gateway.client.v1.payment_methods.retrieve(intent.payment_method).customer \
        is None  # localstripe does not attach on confirm (real Stripe does)
    saved = stripe_gateway.finish_card_setup(customer_id, setup.id)
    assert (saved.gateway_id, saved.last4, saved.exp_month, saved.exp_year) == \
        (intent.payment_method, "4444", 11, 2031)
    method = stripe_gateway.client.v1.payment_methods.retrieve(saved.gateway_id)
    assert method.customer == customer_id


def test_finish_accepts_a_card_stripe_already_attached(stripe_gateway, localstripe):
    customer_id = _customer(stripe_gateway)
    setup = _confirmed_setup(stripe_gateway, localstripe, customer_id)
    intent = stripe_gateway.client.v1.setup_intents.retrieve(setup.id)
    stripe_gateway.client.v1.payment_methods.attach(intent.payment_method,
                                                    {"customer": customer_id})  # as Stripe does
    assert stripe_gateway.finish_card_setup(customer_id, setup.id).gateway_id == \
        intent.payment_method


@pytest.mark.parametrize(("number", "authenticate", "code"), [
    ("4000000000000002", True, "card_declined"),
    ("4000002500003155", False, "authentication_required"),
])
def test_finish_refuses_a_setup_that_did_not_succeed(stripe_gateway, localstripe, number,
                                                     authenticate, code):
    customer_id = _customer(stripe_gateway)
    setup = _confirmed_setup(stripe_gateway, localstripe, customer_id, number,
                             authenticate=authenticate)
    with pytest.raises(CardRejected) as rejected:
        stripe_gateway.finish_card_setup(customer_id, setup.id)
    assert rejected.value.code == code


def test_a_card_authenticated_at_setup_is_saved(stripe_gateway, localstripe):
    customer_id = _customer(stripe_gateway)
    setup = _confirmed_setup(stripe_gateway, localstripe, customer_id, "4000002500003155")
    assert stripe_gateway.finish_card_setup(customer_id, setup.id).last4 == "3155"


def test_finish_refuses_another_customers_or_an_unknown_setup(stripe_gateway, localstripe):
    customer_id, other_id = _customer(stripe_gateway), _customer(stripe_gateway)
    setup = _confirmed_setup(stripe_gateway, localstripe, other_id)
    with pytest.raises(CardRejected) as rejected:
        stripe_gateway.finish_card_setup(customer_id, setup.id)
    assert rejected.value.code == "setup_not_for_customer"
    with pytest.raises(CardRejected) as rejected:
        stripe_gateway.finish_card_setup(customer_id, "seti_nope")
    assert rejected.value.code == "setup_unknown"
    unconfirmed = stripe_gateway.start_card_setup(customer_id, idempotency_key=uuid4().hex)
    with pytest.raises(CardRejected) as rejected:
        stripe_gateway.finish_card_setup(customer_id, unconfirmed.id)
    assert rejected.value.code == "setup_not_finished"


# --- the public page on the Stripe gateway -------------------------------------------------------

@pytest.fixture
def app_config(app_config, localstripe):
    return {**app_config, "STRIPE_PUBLISHABLE_KEY": "pk_test_x",
            "STRIPE_JS_URL": f"{localstripe}/js.stripe.com/v3/"}


@pytest.fixture
def grace(app):
    contact = make_contact(first_name="Grace", email="grace@example.com")
    db.session.commit()
    return contact


def _open_page(client, contact) -> tuple[str, str]:
    url = f"/pay/card/{make_link_token(contact)}"
    html = client.get(url).get_data(as_text=True)
    return url, html


def test_page_mounts_stripe_js_on_a_setup_intent_of_the_contact(client, grace, localstripe,
                                                                stripe_gateway):
    url, html = _open_page(client, grace)
    assert f'src="{localstripe}/js.stripe.com/v3/"' in html
    assert 'data-publishable-key="pk_test_x"' in html and 'name="number"' not in html
    secret = re.search(r'data-client-secret="(seti_\w+?_secret_\w+)"', html).group(1)
    db.session.refresh(grace)
    intent = stripe_gateway.client.v1.setup_intents.retrieve(secret.split("_secret_")[0])
    assert intent.customer == grace.stripe_customer_id  # created on first need


def test_page_allows_stripe_js_in_its_csp_and_only_there(client, grace, localstripe):
    response = client.get(f"/pay/card/{make_link_token(grace)}")
    policy = {part.split()[0]: part.split()[1:]
              for part in response.headers["Content-Security-Policy"].split(";")}
    for directive in ("script-src", "frame-src", "connect-src"):
        assert localstripe in policy[directive], directive
    assert "'none'" not in policy["frame-src"]
    assert policy["frame-ancestors"] == ["'none'"] and "'unsafe-inline'" not in policy["script-src"]
    assert localstripe not in client.get("/admin/login").headers["Content-Security-Policy"]


def test_page_saves_the_confirmed_card_once(client, grace, localstripe, stripe_gateway):
    url, html = _open_page(client, grace)
    secret = re.search(r'data-client-secret="([^"]+)"', html).group(1)
    setup_id = confirm_like_stripe_js(localstripe, secret, "4242424242424242")["id"]
    form = {"setup_intent": setup_id, "idempotency_key": uuid4().hex}
    response = client.post(url, data=form)
    assert response.status_code == 302 and response.location.endswith("/saved")
    assert client.post(url, data=form).status_code == 302
    assert client.post(url, data={**form, "idempotency_key": uuid4().hex}).status_code == 302
    (card,) = db.session.query(PaymentMethod).filter_by(contact_id=grace.id).all()
    assert card.is_default and card.last4 == "4242"
    method = stripe_gateway.client.v1.payment_methods.retrieve(card.gateway_id)
    assert method.customer == grace.stripe_customer_id


def test_page_refuses_a_setup_of_another_member(client, grace, localstripe):
    other = make_contact()
    db.session.commit()
    _, other_html = _open_page(client, other)
    secret = re.search(r'data-client-secret="([^"]+)"', other_html).group(1)
    setup_id = confirm_like_stripe_js(localstripe, secret, "4242424242424242")["id"]
    url, _ = _open_page(client, grace)
    page = client.post(url, data={"setup_intent": setup_id, "idempotency_key": uuid4().hex})
    assert page.status_code == 200 and "does not belong to this link" in page.get_data(
        as_text=True)
    assert db.session.query(PaymentMethod).count() == 0


def test_page_says_when_authentication_was_not_completed(client, grace, localstripe):
    url, html = _open_page(client, grace)
    secret = re.search(r'data-client-secret="([^"]+)"', html).group(1)
    setup_id = confirm_like_stripe_js(localstripe, secret, "4000002500003155",
                                      authenticate=False)["id"]
    page = client.post(url, data={"setup_intent": setup_id, "idempotency_key": uuid4().hex})
    assert "asked you to confirm the card" in page.get_data(as_text=True)
    assert db.session.query(PaymentMethod).count() == 0


def test_page_when_stripe_is_down_or_not_configured(app, client, grace, processor):
    processor.set_down(True)
    try:
        page = client.get(f"/pay/card/{make_link_token(grace)}")
    finally:
        processor.set_down(False)
    assert page.status_code == 503 and "not answering" in page.get_data(as_text=True)
    app.config["STRIPE_PUBLISHABLE_KEY"] = None
    page = client.get(f"/pay/card/{make_link_token(grace)}")
    assert page.status_code == 503 and "not available" in page.get_data(as_text=True)
