"""The member's sign-up page behind a plan's link, through the test client (offline gateway):
what it shows, the promo box, field errors, the refusals on the page, the thank-you page, the
switched-off link, and the rate limit."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from admin_app import create_app
from admin_app.extensions import db
from admin_app.models import (
    CashierSettings,
    Contact,
    PlanLinkCounter,
    SignupAttempt,
    Subscription,
)
from tests.factories import cashier_settings_form, make_plan, make_promo


@pytest.fixture
def plan(app):
    plan = make_plan(name="Swim Club", price_minor=6000, activation_fee_minor=1000, credits=4,
                     description="Lane swimming, any day.")
    make_promo(code="FRIEND", percent_off=50)
    CashierSettings.get().business_name = "Harbour Clinic"
    db.session.commit()
    return plan


def _form(**kw):
    return {"first_name": "Ivo", "last_name": "Petrov", "email": "ivo@example.com",
            "phone": "+44 20 7946 0000", "promo_code": "", "number": "4242 4242 4242 4242",
            "expiry": "12/31", "cvc": "123", "idempotency_key": kw.pop("key", "k-1"), **kw}


def test_the_page_shows_the_plan_and_what_is_due_and_counts_the_opening(plan, client):
    html = client.get(f"/join/{plan.public_token}").get_data(as_text=True)
    for text in ("Swim Club", "Lane swimming", "$60.00", "4 × ", "One-time activation fee",
                 "$10.00", "Total due today", "$70.00", "Pay $70.00 and join", "Harbour Clinic",
                 'name="number"', 'name="promo_code"'):
        assert text in html
    assert "navbar" not in html and "I accept" not in html  # no admin chrome, no terms set
    assert db.session.scalar(select(PlanLinkCounter.opened)) == 1


def test_the_page_shows_the_clinics_uploaded_logo(plan, client):
    """One logo for everything a member sees: Cashier settings' upload, served at /logo."""
    assert 'id="clinic-logo"' not in client.get(f"/join/{plan.public_token}").get_data(
        as_text=True)
    CashierSettings.get().logo, CashierSettings.get().logo_type = b"\x89PNG\r\n\x1a\nlogo", \
        "image/png"
    db.session.commit()
    html = client.get(f"/join/{plan.public_token}").get_data(as_text=True)
    src = re.search(r'<img src="([^"]+)" alt="" class="clinic-logo"', html).group(1)
    assert src.startswith("/logo?v=")
    assert client.get(src).data == b"\x89PNG\r\n\x1a\nlogo"


def test_the_promo_box_shows_the_discounted_total_before_paying(plan, client):
    url = f"/join/{plan.public_token}"
    html = client.post(url, data=_form(promo_code="friend", apply_promo="1",
                                       number="")).get_data(as_text=True)
    assert "FRIEND applied: $30.00 off" in html and "Pay $40.00 and join" in html
    bad = client.post(url, data=_form(promo_code="NOPE", apply_promo="1")).get_data(
        as_text=True)
    assert "There is no promo code “NOPE”" in bad and "Pay $70.00 and join" in bad
    assert db.session.scalar(select(func.count()).select_from(SignupAttempt)) == 0


def test_paying_signs_up_and_thanks(plan, client):
    url = f"/join/{plan.public_token}"
    done = client.post(url, data=_form(promo_code="FRIEND", expected_total="4000"))
    assert done.status_code == 302 and "/join/welcome/" in done.location
    welcome = client.get(done.location).get_data(as_text=True)
    assert "Welcome, Ivo!" in welcome and "$40.00" in welcome and "Visa •••• 4242" in welcome
    assert "What happens next" in welcome
    again = client.post(url, data=_form(promo_code="FRIEND", expected_total="4000"))
    assert again.status_code == 302 and again.location == done.location  # double submit
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1


def test_field_errors_and_refusals_show_on_the_page(plan, client):
    url = f"/join/{plan.public_token}"
    page = client.post(url, data=_form(email="not-an-email", number="4242"))
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "Enter a valid email address" in html
    declined = client.post(url, data=_form(number="4000 0000 0000 0341", key="k-2"))
    assert declined.status_code == 402
    assert "Your card was declined" in declined.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    junk = client.post(url, data=_form(first_name="A\x00", key="k-3"))
    assert junk.status_code == 400


def test_terms_must_be_accepted_when_the_clinic_sets_them(plan, client):
    CashierSettings.get().terms_url = "https://clinic.example/terms"
    db.session.commit()
    url = f"/join/{plan.public_token}"
    assert "https://clinic.example/terms" in client.get(url).get_data(as_text=True)
    refused = client.post(url, data=_form())
    assert refused.status_code == 400 and "Please accept the clinic" in refused.get_data(
        as_text=True)
    assert client.post(url, data=_form(consent="y", key="k-4")).status_code == 302


def test_a_switched_off_link_is_friendly(plan, client):
    plan.is_public_link_enabled = False
    db.session.commit()
    page = client.get(f"/join/{plan.public_token}")
    assert page.status_code == 404 and "This link is no longer active" in page.get_data(
        as_text=True)
    assert client.get("/join/welcome/junk").status_code == 404


def test_a_full_plan_says_so_without_a_form(plan, client):
    from tests.factories import make_subscription

    plan.max_members = 1
    make_subscription(plan=plan)
    db.session.commit()
    html = client.get(f"/join/{plan.public_token}").get_data(as_text=True)
    assert "Swim Club is full" in html and 'name="number"' not in html


@contextmanager
def _limiter_on(app_config, **limits):
    from admin_app.extensions import limiter

    app = create_app({**app_config, "RATELIMIT_ENABLED": True, **limits})
    try:
        with app.app_context():
            yield app
    finally:
        limiter.reset()
        limiter.enabled = False


def test_payment_attempts_are_rate_limited_per_address_and_logged(app_config, plan, caplog):
    url = f"/join/{plan.public_token}"
    db.session.commit()
    with _limiter_on(app_config, SIGNUP_RATE_LIMIT="2 per minute") as app:
        client = app.test_client()
        codes = [client.post(url, data=_form(number="4000000000000341",
                                             key=f"r{n}")).status_code for n in range(3)]
        assert codes == [402, 402, 429]
        refused = client.post(url, data=_form(key="r9"))
        assert refused.status_code == 429 and b"Too many attempts" in refused.data
        assert client.get(url).status_code == 200  # showing the page is not limited
        assert "sign-up refused: rate limit" in caplog.text
        db.session.remove()


def test_cashier_settings_take_only_web_addresses_for_terms(app, client, login):
    CashierSettings.get()
    db.session.commit()
    login("owner")
    for bad in ("javascript:alert(1)", "terms.html", "https://"):
        page = client.post("/admin/cashier_settings/edit/?id=1",
                           data=cashier_settings_form(terms_url=bad))
        assert "Enter a web address starting with https://" in page.get_data(as_text=True)
    client.post("/admin/cashier_settings/edit/?id=1",
                data=cashier_settings_form(terms_url="https://clinic.example/terms"))
    db.session.expire_all()
    assert CashierSettings.get().terms_url == "https://clinic.example/terms"


def test_no_input_on_the_sign_up_page_is_a_500(plan, client):
    """Hostile values into every field of the page (and its promo box, and the Stripe steps'
    fields), on the plan link and an invitation link: never a 5xx."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.views.test_fuzz import EXAMPLES, HOSTILE_VALUES, PHASES

    fields = ["first_name", "last_name", "email", "phone", "promo_code", "number", "expiry",
              "cvc", "consent", "expected_total", "idempotency_key", "apply_promo", "step",
              "attempt", "setup_intent", "payment_intent"]
    urls = [f"/join/{plan.public_token}", "/join/invite/nope", "/join/welcome/x.y"]

    @settings(max_examples=EXAMPLES * 3, deadline=None, phases=PHASES,
              suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(fields), HOSTILE_VALUES), st.sampled_from(urls))
    def post(data, url):
        response = client.post(url, data=data)
        assert response.status_code < 500, (url, data, response.status_code)

    post()
