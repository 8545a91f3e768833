"""Contact card → Subscriptions → Subscribe to a plan, in Chromium at the desk: the form, the
review (activation fee, first period after the promo, due today, credits), the confirmation."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from admin_app.extensions import db
from admin_app.models import Contact, PromoCode
from tests.browser.test_contact_card import sign_in


def test_subscribe_a_contact_at_the_desk(page: Page, live_server, shot):
    with live_server.app.app_context():
        db.session.add(PromoCode(code="DESK20", percent_off=20))
        alan = db.session.query(Contact).filter_by(last_name="Kay").one()
        alan_id = alan.id
        db.session.commit()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/contact/details/?id={alan_id}&tab=subscriptions")
    page.locator("#subscribe-to-plan").click()
    expect(page.get_by_role("heading", name="Subscribe Alan Kay to a plan")).to_be_visible()
    page.get_by_label("Promo code").fill("desk20")
    page.get_by_label("Cash, taken at the desk").check()
    shot(page, "subscribe_desk_form")
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_role("heading", name="Review: subscribe Alan Kay to Monthly Physio")) \
        .to_be_visible()
    facts = page.locator(".action-facts")
    expect(facts).to_contain_text("$25.00")
    expect(facts).to_contain_text("$96.00 ($120.00 less promo code DESK20, $24.00 off)")
    expect(facts).to_contain_text("$121.00")
    expect(facts).to_contain_text("4 × Physiotherapy 45 min")
    shot(page, "subscribe_desk_review")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Alan Kay subscribed to Monthly Physio")
    expect(page.locator("#tab-subscriptions")).to_contain_text("Active")
    shot(page, "subscribe_desk_done")
