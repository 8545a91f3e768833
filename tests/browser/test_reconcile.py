"""A charge whose answer was lost, in a real browser: the desk is told it is pending, the
next charge is held back, and Transactions → ⋯ → Check with the processor settles it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_contact_card import sign_in
from tests.browser.test_desk_money import _open_row_menu, add_card_at_the_desk


def test_a_lost_answer_is_pending_then_checked_with_the_processor(page: Page, live_server,
                                                                  shot, processor):
    data = live_server.data
    sign_in(page, live_server)
    add_card_at_the_desk(page, live_server)

    def charge(amount: str, what: str) -> None:
        page.goto(f"{live_server.url}/admin/contact/charge/?id={data.grace_id}")
        page.get_by_label("Amount").fill(amount)
        page.get_by_label("Description").fill(what)
        page.get_by_role("button", name="Review the charge").click()
        page.get_by_role("button", name=f"Charge ${amount}").click()

    with processor.losing_answers():
        charge("45.00", "Massage oil")
    expect(page.locator(".alert-danger")).to_contain_text(
        "not known whether $45.00 was charged")
    shot(page, "reconcile_charge_unanswered")
    charge("10.00", "Towel")  # the first may have gone through: not charged twice
    expect(page.locator(".alert-danger")).to_contain_text("still waiting for the payment "
                                                          "processor's answer")

    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#unsettled")).to_contain_text("1 payment")
    shot(page, "reconcile_dashboard")
    page.locator("#unsettled a").click()  # Transactions, filtered to the pending ones
    row = _open_row_menu(page, "Massage oil")
    expect(row).to_contain_text("Pending")
    row.get_by_role("link", name="Check with the processor").click()
    expect(page.get_by_role("heading", name=re.compile("Check payment #"))).to_be_visible()
    shot(page, "reconcile_check_page")
    page.get_by_role("button", name="Check with the processor").click()
    expect(page.locator(".alert-success")).to_contain_text("succeeded at the processor")
    expect(page.locator("tr", has_text="Massage oil")).to_have_count(0)  # no longer pending
    page.goto(f"{live_server.url}/admin/payment/")
    expect(page.locator("tr", has_text="Massage oil")).to_contain_text("Succeeded")
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#unsettled")).to_have_count(0)
    shot(page, "reconcile_settled")
