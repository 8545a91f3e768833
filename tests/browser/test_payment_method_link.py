"""Workflow 9 from the member's side, in a real browser, on both gateways: the desk sends the
payment-method link, the member opens it and saves a card (Stripe: localstripe's Stripe.js
confirms a SetupIntent; offline: the plain card form), a declined card is explained on the
page, then the desk retries the member's failed charge on the new card."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_contact_card import sign_in


@pytest.fixture(params=["offline", "stripe"])
def gateway_kind(request) -> str:
    return request.param


@pytest.fixture
def app_config(app_config, gateway_kind, request) -> dict:
    """On Stripe, the panel and the member's browser both talk to localstripe directly (its
    Stripe.js answers the page's origin with CORS headers)."""
    if gateway_kind != "stripe":
        return app_config
    base = request.getfixturevalue("localstripe")
    return {**app_config, "STRIPE_API_BASE": base, "STRIPE_PUBLISHABLE_KEY": "pk_test_x",
            "STRIPE_JS_URL": f"{base}/js.stripe.com/v3/"}


def _fill_card(page: Page, gateway_kind: str, number: str) -> None:
    if gateway_kind == "offline":
        page.get_by_label("Card number").fill(number)
        page.get_by_label("Expiry").fill("11/31")
        page.get_by_label("CVC").fill("123")
        return
    field = page.locator("#card-element")  # localstripe's stand-in for Stripe's card Element
    field.locator("input[placeholder=number]").fill(number.replace(" ", ""))
    field.locator("input[placeholder=exp_month]").fill("11")
    field.locator("input[placeholder=exp_year]").fill("31")
    field.locator("input[placeholder=cvc]").fill("123")
    field.locator("input[placeholder=postal_code]").fill("10001")


def test_member_saves_a_card_through_the_link(page: Page, live_server, shot, gateway_kind):
    data = live_server.data
    page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                   origin=live_server.url)
    sign_in(page, live_server)
    card_url = f"{live_server.url}/admin/contact/details/?id={data.grace_id}"

    # The desk: Payment methods → Send payment-method link → copy it, send it.
    page.goto(f"{card_url}&tab=payment_methods")
    page.locator("#send-payment-method-link").click()
    expect(page.get_by_role("heading", name="Payment-method link for Grace Hopper")) \
        .to_be_visible()
    page.wait_for_load_state("load")  # the copy button's script runs at the end of the page
    link = page.locator("#payment-method-link-url").input_value()
    assert re.fullmatch(rf"{live_server.url}/pay/card/[\w.-]+", link)
    page.locator("#copy-payment-method-link").click()
    page.wait_for_function("expected => navigator.clipboard.readText().then(t => t === expected)",
                           arg=link, timeout=10_000)
    shot(page, f"pm_link_desk_{gateway_kind}")
    page.get_by_role("button", name="Send payment-method link").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Payment-method link queued for Grace Hopper by Email (grace@example.com)")

    # The member: opens the link, a declined card is explained, a good one is saved.
    member = page.context.new_page()
    assert member.goto(link).status == 200
    expect(member.get_by_role("heading", name="Update your payment method")).to_be_visible()
    expect(member.locator("#current-card")).to_contain_text("Visa •••• 4242")
    member.wait_for_load_state("load")
    expect(member.locator("#save-card")).to_be_enabled()
    shot(member, f"pm_link_member_form_{gateway_kind}")
    _fill_card(member, gateway_kind, "4000 0000 0000 0002")
    member.locator("#save-card").click()
    expect(member.locator("#card-error")).to_contain_text("declined")
    shot(member, f"pm_link_member_declined_{gateway_kind}")
    _fill_card(member, gateway_kind, "5555 5555 5555 4444")
    member.locator("#save-card").click()
    expect(member.locator("#card-saved")).to_have_text("Your card is saved")
    expect(member.locator("#saved-card")).to_contain_text("•••• 4444")
    shot(member, f"pm_link_member_saved_{gateway_kind}")

    # A tampered link is a friendly page, never an error.
    assert member.goto(link[:-4] + "abcd").status == 404
    expect(member.locator("#link-problem")).to_have_text("This link does not work")
    shot(member, f"pm_link_member_tampered_{gateway_kind}")
    member.close()

    # The desk: the new card is the default; retry the failed charge on it.
    page.goto(f"{card_url}&tab=payment_methods")
    expect(page.locator("tr", has_text="4444")).to_contain_text("Yes")
    shot(page, f"pm_link_card_tab_{gateway_kind}")
    page.locator("#retry-failed-charges").click()
    expect(page.get_by_role("heading", name="Retry failed charges of Grace Hopper")) \
        .to_be_visible()
    shot(page, f"pm_link_retry_{gateway_kind}")
    page.get_by_role("button", name="Retry 1 charge").click()
    expect(page.locator(".alert-success")).to_contain_text("1 retried and paid")
    expect(page.locator("#retry-failed-charges")).to_have_count(0)
    shot(page, f"pm_link_after_retry_{gateway_kind}")
