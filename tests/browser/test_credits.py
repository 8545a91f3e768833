"""Credits over time and account credit at the desk, in a real browser with CSRF on: the
Credits tab's balance and next expiry, an appointment marked attended from the contact card's
Appointments tab using a credit, then account credit added by hand and spent first by a custom
bill ("paid from account credit")."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from admin_app.clock import utcnow
from admin_app.extensions import db
from tests.browser.test_contact_card import sign_in


def _grant_expiring_credits(live_server) -> None:
    """Two more Physio credits for Grace, expiring in ten days."""
    from admin_app.models import Contact, CreditReason, Service
    from tests.factories import make_credit

    with live_server.app.app_context():
        grace = db.session.get(Contact, live_server.data.grace_id)
        service = db.session.query(Service).filter_by(name=live_server.data.service_name).one()
        make_credit(contact=grace, service=service, quantity=2,
                    reason=CreditReason.PERIOD_GRANT,
                    expires_at=utcnow() + timedelta(days=10))
        db.session.commit()
        db.session.remove()


def test_credits_tab_and_account_credit(page: Page, live_server, shot):
    data = live_server.data
    _grant_expiring_credits(live_server)
    sign_in(page, live_server)
    card = f"{live_server.url}/admin/contact/details/?id={data.grace_id}"

    # Credits: 3 that never expire + 2 expiring in ten days; the badge is the total.
    page.goto(f"{card}&tab=credits")
    row = page.locator("#tab-credits tr.credit-balance")
    expect(row.locator("td").nth(1)).to_have_text("5")
    expect(row.locator("td.next-expiry")).to_contain_text(re.compile(r"^2 expire \d{4}-"))
    expect(page.locator("a[data-tab=credits] .badge")).to_have_text("5")
    shot(page, "credits_tab")

    # The appointment booked for Grace: ⋯ → Mark attended takes the earliest-expiring credit.
    page.goto(f"{card}&tab=appointments")
    appointment = page.locator("#tab-appointments table.card-tab-table tbody tr").first
    page.wait_for_load_state("load")
    appointment.locator(".row-menu-toggle").click()
    appointment.get_by_role("link", name="Mark attended").click()
    expect(page.locator("h1, h2, h3").filter(has_text="Mark attended")).to_be_visible()
    shot(page, "credits_mark_attended")
    page.get_by_role("button", name="Mark attended").click()
    expect(page.locator(".alert-success")).to_contain_text("Used 1 Physiotherapy 45 min credit")
    page.goto(f"{card}&tab=credits")
    expect(row.locator("td").nth(1)).to_have_text("4")
    expect(row.locator("td.next-expiry")).to_contain_text(re.compile(r"^1 expires "))
    ledger = page.locator("#tab-credits table.card-tab-table tbody tr").first
    expect(ledger).to_contain_text("Booking")
    shot(page, "credits_after_attended")

    # Account credit: none yet; add $50.00 by hand with a reason.
    page.goto(f"{card}&tab=account_credit")
    expect(page.locator("#tab-account_credit")).to_contain_text("No account credit.")
    page.locator("#adjust-account-credit").click()
    page.get_by_label("Amount").fill("50.00")
    page.get_by_label("Reason").fill("Goodwill: studio closed")
    shot(page, "account_credit_adjust")
    page.get_by_role("button", name="Save adjustment").click()
    expect(page.locator(".alert-success")).to_contain_text("balance $0.00 → $50.00")
    expect(page.locator("a[data-tab=account_credit] .badge")).to_have_text("$50.00")

    # A custom bill of $30.00 is paid from the account credit first.
    page.locator("#charge-contact").click()
    page.get_by_label("Amount").fill("30.00")
    page.get_by_label("Description").fill("Kinesio tape")
    page.get_by_label("Cash, taken at the desk").check()
    page.get_by_role("button", name=re.compile("Review")).click()
    expect(page.locator("table")).to_contain_text("Paid from account credit first")
    shot(page, "account_credit_charge_review")
    page.get_by_role("button", name="Pay $30.00 from account credit").click()
    expect(page.locator(".alert-success")).to_contain_text("Paid $30.00 from account credit")
    page.goto(f"{card}&tab=account_credit")
    expect(page.locator(".account-credit-balance")).to_have_text("$20.00")
    history = page.locator("#tab-account_credit table.card-tab-table tbody tr")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("Paid from account credit")
    expect(history.first).to_contain_text("-$30.00")
    shot(page, "account_credit_tab")
    page.goto(f"{card}&tab=transactions")
    expect(page.locator("#tab-transactions tbody tr").first).to_contain_text(
        "(paid from account credit)")
