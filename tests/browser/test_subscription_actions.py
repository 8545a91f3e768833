"""Workflows 3 and 2 in a real browser, as the guide walks them: contact card → Subscriptions
tab → ⋯ → Upgrade → select the plan → review → Upgrade; then ⋯ → Cancel → confirm."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from admin_app.extensions import db
from admin_app.models import Contact, DiscountDuration
from tests.browser.test_contact_card import sign_in
from tests.factories import give_card, make_plan, make_promo


def _open_row_menu(page: Page):
    row = page.locator("#tab-subscriptions table.card-tab-table tbody tr").first
    page.wait_for_load_state("load")  # Bootstrap's dropdown script loads last
    row.locator("button.row-menu-toggle").click()
    menu = row.locator(".row-menu .dropdown-menu")
    expect(menu).to_be_visible()
    return menu


def test_upgrade_then_cancel_through_the_row_menu(page: Page, live_server, shot):
    data = live_server.data
    with live_server.app.app_context():
        give_card(db.session.get(Contact, data.grace_id))
        make_plan(name="Premium Physio", price_minor=20000, credits=8)
        db.session.commit()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/contact/details/?id={data.grace_id}&tab=subscriptions")

    _open_row_menu(page).get_by_role("link", name="Upgrade").click()
    expect(page.get_by_text("Select the subscription plan you want to upgrade to.")) \
        .to_be_visible()
    expect(page.get_by_label("Plan")).to_contain_text("Premium Physio · $200.00")
    page.get_by_label("Plan").select_option(index=0)
    page.get_by_role("button", name="Review").click()
    facts = page.locator("table.action-facts")
    expect(facts).to_contain_text("$200.00 per month")
    expect(facts).to_contain_text("Charged now")
    expect(facts).to_contain_text("Visa •••• 4242")
    shot(page, "20_upgrade_review")
    page.get_by_role("button", name="Upgrade").click()
    expect(page).to_have_url(re.compile(r"/admin/contact/details/.*tab=subscriptions"))
    expect(page.locator(".alert-success")).to_contain_text("upgraded from Monthly Physio to "
                                                           "Premium Physio")
    expect(page.locator("#tab-subscriptions")).to_contain_text("Premium Physio")

    _open_row_menu(page).get_by_role("link", name="Cancel").click()
    expect(page.locator("table.action-facts")).to_contain_text("Status becomes Cancelled")
    shot(page, "21_cancel_confirm")
    page.get_by_role("button", name="Confirm cancellation").click()
    expect(page.locator(".alert-success")).to_contain_text("is cancelled")
    expect(page.locator("#tab-subscriptions")).to_contain_text("Cancelled")


def test_downgrade_review_and_apply_promo_through_the_row_menu(page: Page, live_server, shot):
    data = live_server.data
    with live_server.app.app_context():
        make_plan(name="Lite Physio", price_minor=8000, credits=2)
        make_promo(code="SPRING25", percent_off=25, duration=DiscountDuration.REPEATING,
                   duration_months=2)
        db.session.commit()
    sign_in(page, live_server)
    card = f"{live_server.url}/admin/contact/details/?id={data.grace_id}&tab=subscriptions"
    page.goto(card)

    _open_row_menu(page).get_by_role("link", name="Downgrade").click()
    page.get_by_role("button", name="Review").click()
    expect(page.locator("table.action-facts")).to_contain_text("If applied at period end")
    shot(page, "22_downgrade_review")
    page.get_by_role("button", name="Downgrade").click()
    expect(page.locator(".alert-success")).to_contain_text("switches to Lite Physio at period "
                                                           "end")
    expect(page.locator("#tab-subscriptions")).to_contain_text("Lite Physio")

    _open_row_menu(page).get_by_role("link", name="Apply Promo").click()
    page.get_by_label("Promo code").select_option("SPRING25")
    page.get_by_role("button", name="Review").click()
    facts = page.locator("table.action-facts")
    expect(facts).to_contain_text("$60.00, $60.00, $80.00")  # on the scheduled Lite plan
    shot(page, "23_apply_promo_review")
    page.get_by_role("button", name="Apply Promo").click()
    expect(page.locator(".alert-success")).to_contain_text("Promo code SPRING25")
    expect(page.locator("#tab-subscriptions")).to_contain_text("SPRING25")
