"""In a real browser: the one bulk action page (Subscriptions → With selected → Cancel
subscriptions, all matching rows), the subscription forms that leave business changes to the
actions, and a ⋯ POST item (Issue a draft document) carrying its idempotency key."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from admin_app.extensions import db
from admin_app.models import Contact, Plan, Subscription
from tests.browser.test_contact_card import sign_in
from tests.factories import make_contact, make_document, make_subscription


def test_bulk_cancel_of_all_matching_subscriptions(page: Page, live_server, shot):
    with live_server.app.app_context():
        plan = db.session.get(Plan, live_server.data.plan_id)
        for name in ("Ada", "Alan"):
            make_subscription(contact=make_contact(first_name=name), plan=plan)
        db.session.commit()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/subscription/")
    page.wait_for_load_state("load")
    page.locator("#select-all-matching").check()
    page.get_by_role("button", name="With selected").click()
    page.get_by_text("Cancel subscriptions").click()

    expect(page.locator("h2")).to_have_text("Cancel 3 subscriptions")
    expect(page.locator(".bulk-scope")).to_contain_text(
        "Applies to all 3 subscriptions matching the list")
    page.get_by_label("At period end (stays active until then)").check()
    shot(page, "30_bulk_cancel_page")
    page.get_by_role("button", name="Cancel 3 subscriptions").click()

    expect(page).to_have_url(re.compile(r"/admin/subscription/"))
    expect(page.locator(".alert-success")).to_contain_text("3 cancelled.")
    shot(page, "31_bulk_cancel_report")
    with live_server.app.app_context():
        assert all(s.cancel_at_period_end for s in db.session.query(Subscription))


def test_subscription_forms_leave_business_changes_to_the_actions(page: Page, live_server,
                                                                   shot):
    data = live_server.data
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/subscription/edit/?id={data.subscription_id}")
    box = page.locator(".subscription-read-only")
    expect(box).to_contain_text("Changed only through the subscription's actions")
    expect(box).to_contain_text("Active")
    expect(box).to_contain_text(data.plan_name)
    expect(page.locator("select[name=status], input[name=current_period_end]")).to_have_count(0)
    page.wait_for_load_state("load")
    box.locator(".row-menu-toggle").click()
    expect(box.locator(".dropdown-menu")).to_contain_text("Apply Promo")
    shot(page, "32_subscription_edit")

    page.goto(f"{live_server.url}/admin/subscription/new/")
    expect(page.locator(".subscription-create-note")).to_contain_text("Subscribe to a")
    expect(page.locator("select[name=status]")).to_have_count(0)
    shot(page, "33_subscription_create")


def test_issue_a_draft_from_the_row_menu(page: Page, live_server, shot):
    with live_server.app.app_context():
        make_document(contact=db.session.get(Contact, live_server.data.grace_id))
        db.session.commit()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/document/?flt0_status_equals=draft")
    row = page.locator("table.model-list tbody tr", has_text="Draft").first
    page.wait_for_load_state("load")  # Bootstrap's dropdown script loads last
    row.locator(".row-menu-toggle").click()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Issue").click()
    expect(page.locator(".alert-success")).to_contain_text("Issued Invoice")
    expect(page).to_have_url(re.compile(r"/admin/document/\?flt0_status_equals=draft"))
    shot(page, "34_document_issued")
