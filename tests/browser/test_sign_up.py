"""Issue 13 from the member's side, in Chromium at a 375 px phone viewport, on both gateways
(offline: the card form; Stripe: localstripe's Stripe.js confirms a card setup, and its 3-D
Secure stand-in authenticates the charge): plain, with a promo code, a declined card, the
authentication card, a double submit, a switched-off link, a full plan, an existing member
matched by email. Then the desk sees the member, the subscription and the link's counters."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    CashierSettings,
    Contact,
    Plan,
    PromoCode,
    SignupAttempt,
    Subscription,
    SubscriptionStatus,
)
from tests.browser.test_contact_card import sign_in

PHONE = {"width": 375, "height": 740}


@pytest.fixture(params=["offline", "stripe"])
def gateway_kind(request) -> str:
    return request.param


@pytest.fixture
def app_config(app_config, gateway_kind, request) -> dict:
    if gateway_kind != "stripe":
        return app_config
    base = request.getfixturevalue("localstripe")
    return {**app_config, "STRIPE_API_BASE": base, "STRIPE_PUBLISHABLE_KEY": "pk_test_x",
            "STRIPE_JS_URL": f"{base}/js.stripe.com/v3/"}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "is_mobile": True, "has_touch": True}


@pytest.fixture
def join(live_server):
    """The plan's link, with a promo code and the clinic's terms set."""
    with live_server.app.app_context():
        plan = db.session.get(Plan, live_server.data.plan_id)
        plan.description = "Four physiotherapy sessions a month with our team."
        db.session.add(PromoCode(code="WELCOME", percent_off=50))
        settings = CashierSettings.get()
        settings.business_name = "Riverside Physio"
        settings.terms_url = "https://riverside.example/terms"
        db.session.commit()
        token = plan.public_token
    return f"{live_server.url}/join/{token}"


def _count(live_server, model, *where) -> int:
    with live_server.app.app_context():
        count = db.session.scalar(select(func.count()).select_from(model).where(*where))
        db.session.remove()
        return count


def _fill(page: Page, gateway_kind: str, *, number="4242424242424242",
          email="maya.lind@example.com", promo: str | None = None) -> None:
    if promo:
        page.get_by_label("Promo code").fill(promo)
        page.locator("#apply-promo").click()
        expect(page.locator("#promo-applied")).to_be_visible()
    page.get_by_label("First name").fill("Maya")
    page.get_by_label("Last name").fill("Lind")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Phone").fill("+1 555 010 0199")
    if gateway_kind == "offline":
        page.get_by_label("Card number").fill(number)
        page.get_by_label("Expiry").fill("11/31")
        page.get_by_label("CVC").fill("123")
    else:
        field = page.locator("#card-element")
        field.locator("input[placeholder=number]").fill(number)
        field.locator("input[placeholder=exp_month]").fill("11")
        field.locator("input[placeholder=exp_year]").fill("31")
        field.locator("input[placeholder=cvc]").fill("123")
        field.locator("input[placeholder=postal_code]").fill("10001")
    page.locator("#consent").check()


def _no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_sign_up_with_a_promo_then_the_desk_sees_it(page: Page, live_server, join, shot,
                                                    gateway_kind):
    assert page.goto(join).status == 200
    expect(page.locator("#plan-name")).to_have_text(live_server.data.plan_name)
    expect(page.locator("#total-due")).to_have_text("$145.00")
    _no_horizontal_scroll(page)
    shot(page, f"signup_page_{gateway_kind}")
    _fill(page, gateway_kind, promo="welcome")
    expect(page.locator("#total-due")).to_have_text("$85.00")
    expect(page.locator("#pay")).to_have_text("Pay $85.00 and join")
    shot(page, f"signup_promo_applied_{gateway_kind}")
    page.locator("#pay").click()
    expect(page.locator("#welcome")).to_have_text("Welcome, Maya!")
    expect(page.locator("#welcome-amount")).to_have_text("$85.00")
    _no_horizontal_scroll(page)
    shot(page, f"signup_welcome_{gateway_kind}")
    with live_server.app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.email
                                                          == "maya.lind@example.com"))
        sub = db.session.scalar(select(Subscription).where(Subscription.contact_id
                                                           == contact.id))
        assert sub.status is SubscriptionStatus.ACTIVE and sub.promo_code.code == "WELCOME"
        contact_id = contact.id
        db.session.remove()

    desk = page.context.browser.new_context(viewport={"width": 1366, "height": 800})
    admin = desk.new_page()
    sign_in(admin, live_server)
    admin.goto(f"{live_server.url}/admin/contact/details/?id={contact_id}&tab=subscriptions")
    expect(admin.locator("#tab-subscriptions")).to_contain_text("Active")
    shot(admin, f"signup_desk_contact_{gateway_kind}")
    admin.goto(f"{live_server.url}/admin/contact/details/?id={contact_id}&tab=credits")
    expect(admin.locator(".credit-balance")).to_contain_text("4")
    admin.goto(f"{live_server.url}/admin/plan/link/?id={live_server.data.plan_id}")
    expect(admin.locator(".action-facts")).to_contain_text("Paid")
    shot(admin, f"signup_desk_link_stats_{gateway_kind}")
    desk.close()


def test_declined_card_explained_and_nothing_created(page: Page, live_server, join, shot,
                                                     gateway_kind):
    contacts = _count(live_server, Contact)
    page.goto(join)
    _fill(page, gateway_kind, number="4000000000000341")
    page.locator("#pay").click()
    expect(page.locator("#signup-error")).to_contain_text("declined")
    shot(page, f"signup_declined_{gateway_kind}")
    assert _count(live_server, Contact) == contacts
    assert _count(live_server, SignupAttempt, SignupAttempt.status == "failed") == 1
    _fill(page, gateway_kind, number="4242424242424242")
    page.locator("#pay").click()
    expect(page.locator("#welcome")).to_be_visible()


def test_the_authentication_card(page: Page, live_server, join, shot, gateway_kind):
    page.goto(join)
    _fill(page, gateway_kind, number="4000002500003155")
    page.locator("#pay").click()
    if gateway_kind == "offline":
        expect(page.locator("#signup-error")).to_contain_text("confirm this card")
        shot(page, "signup_authentication_refused_offline")
        assert _count(live_server, Subscription, Subscription.contact_id.isnot(None)) == 1
        return
    for attempt in range(2):  # localstripe asks at the card setup, then for the charge
        expect(page.get_by_role("button", name="Complete authentication")).to_be_visible()
        shot(page, f"signup_authentication_modal_{attempt}_stripe")
        page.get_by_role("button", name="Complete authentication").click()
        if page.locator("#welcome").count():
            break
        expect(page.get_by_role("button", name="Complete authentication").or_(
            page.locator("#welcome"))).to_be_visible()
    expect(page.locator("#welcome")).to_have_text("Welcome, Maya!")


def test_double_submit_charges_once(page: Page, live_server, join, gateway_kind):
    page.goto(join)
    _fill(page, gateway_kind)
    page.locator("#pay").dblclick()
    expect(page.locator("#welcome")).to_be_visible()
    assert _count(live_server, SignupAttempt) == 1
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription).join(Contact)
                                 .where(Contact.email == "maya.lind@example.com")) == 1
        db.session.remove()


def test_existing_member_matched_by_email(page: Page, live_server, join, gateway_kind):
    contacts = _count(live_server, Contact)
    page.goto(join)
    _fill(page, gateway_kind, email="Alan.Kay@example.com")
    page.locator("#pay").click()
    expect(page.locator("#welcome")).to_be_visible()
    assert _count(live_server, Contact) == contacts


def test_switched_off_link_and_full_plan(page: Page, live_server, join, shot, gateway_kind):
    with live_server.app.app_context():
        plan = db.session.get(Plan, live_server.data.plan_id)
        plan.max_members = 1  # Grace holds the one place
        db.session.commit()
    page.goto(join)
    expect(page.locator("#plan-problem")).to_contain_text("is full")
    expect(page.locator("#pay")).to_have_count(0)
    shot(page, f"signup_full_{gateway_kind}")
    with live_server.app.app_context():
        db.session.get(Plan, live_server.data.plan_id).is_public_link_enabled = False
        db.session.commit()
    assert page.goto(join).status == 404
    expect(page.locator("#link-problem")).to_have_text("This link is no longer active")
    shot(page, f"signup_link_off_{gateway_kind}")
