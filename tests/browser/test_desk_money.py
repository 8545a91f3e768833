"""Workflows 9, 5, 1 and 12 at the desk, in a real browser with CSRF on: add a card on the
contact card, charge a custom bill to it, refund part of it through the Transactions tab's ⋯
menu, then charge a no-show fee from the Appointments list's ⋯ menu."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.test_contact_card import sign_in


def _open_row_menu(page: Page, row_text: str):
    row = page.locator("tr", has_text=row_text).first
    page.wait_for_load_state("load")  # Bootstrap's dropdown script loads last
    row.locator(".row-menu-toggle").click()
    return row


def add_card_at_the_desk(page: Page, live_server, shot=None) -> None:
    """Workflow 9: Grace's contact card → Payment methods → Add card (a Visa)."""
    card_url = f"{live_server.url}/admin/contact/details/?id={live_server.data.grace_id}"
    page.goto(f"{card_url}&tab=payment_methods")
    page.locator("#add-card").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    expect(page.get_by_label("Expiry")).to_have_attribute("placeholder", "MM/YY")
    page.get_by_label("Expiry").fill("11/31")
    page.get_by_label("CVC").fill("123")
    if shot:
        shot(page, "desk_add_card")
    page.get_by_role("button", name="Save card").click()
    expect(page.locator(".alert-success")).to_contain_text("as the default card")


def test_card_charge_refund_and_no_show_fee(page: Page, live_server, shot):
    data = live_server.data
    sign_in(page, live_server)
    add_card_at_the_desk(page, live_server, shot)

    # Workflow 5: contact card → Charge, to the saved card.
    page.locator("#charge-contact").click()
    expect(page.get_by_label(re.compile("Saved card: Visa •••• 4242"))).to_be_checked()
    page.get_by_label("Amount").fill("45.00")
    page.get_by_label("Description").fill("Massage oil")
    shot(page, "desk_charge")
    page.get_by_role("button", name="Review the charge").click()
    expect(page.locator("h2")).to_have_text(re.compile(r"Review: charge \$45\.00 to "))
    expect(page.locator(".action-facts")).to_contain_text("Saved card Visa •••• 4242")
    shot(page, "desk_charge_review")
    page.get_by_role("button", name="Charge $45.00").click()
    expect(page.locator(".alert-success")).to_contain_text("Charged $45.00 to Visa •••• 4242")
    expect(page.locator(".alert-success")).to_contain_text("Receipt RCT-")

    # Workflow 1: Transactions tab → ⋯ → Refund, partial, back on the card.
    row = _open_row_menu(page, "Massage oil")
    row.get_by_role("link", name="Refund").click()
    expect(page.get_by_label("Amount to refund")).to_have_value("45.00")
    page.get_by_label("Amount to refund").fill("20.00")
    page.get_by_label("Reason").select_option(label="Service not provided")
    shot(page, "desk_refund")
    page.get_by_role("button", name="Refund").click()
    expect(page).to_have_url(re.compile(r"/admin/contact/details/.*tab=transactions"))
    expect(page.locator(".alert-success")).to_contain_text("now partially refunded")
    expect(page.locator("tr", has_text="Massage oil")).to_contain_text("Partially refunded")
    shot(page, "desk_after_refund")

    # Workflow 12: Appointments → ⋯ → No-show fee, on an appointment that has passed.
    with live_server.app.app_context():
        from admin_app.clock import utcnow
        from admin_app.extensions import db
        from admin_app.models import Appointment
        from tests.factories import make_appointment

        booked = db.session.query(Appointment).filter_by(contact_id=data.grace_id).first()
        missed = make_appointment(contact=booked.contact, service=booked.service,
                                  starts_at=utcnow() - timedelta(hours=3))
        db.session.commit()
        missed_id = missed.id
        db.session.remove()
    page.goto(f"{live_server.url}/admin/appointment/")
    row = page.locator("tr", has=page.locator(f"input[value='{missed_id}']"))
    page.wait_for_load_state("load")  # Bootstrap's dropdown script loads last
    row.locator(".row-menu-toggle").click()
    row.get_by_role("link", name="No-show fee").click()
    expect(page.get_by_label("No-show fee")).to_have_value("75.00")
    page.get_by_label(re.compile("confirm the no-show")).check()
    shot(page, "desk_no_show_fee")
    page.get_by_role("button", name="Charge no-show fee").click()
    expect(page.locator(".alert-success")).to_contain_text("Charged the no-show fee of $75.00")
