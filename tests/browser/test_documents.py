"""Workflow 6 in a real browser: Cashier → Accounting documents → open a document (as it
prints), Download PDF, Send by Email, and its delivery history once the worker sent it; the
member's view in Settings → Outbox."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from admin_app.documents.sending import deliver_due
from admin_app.extensions import db
from admin_app.models import CashierSettings
from tests.browser.test_contact_card import sign_in
from tests.documents.pdf_text import pdf_text


def _business(live_server) -> None:
    with live_server.app.app_context():
        settings = CashierSettings.get()
        settings.business_name = "Harbor Physio"
        settings.business_address = "1 Quay Street\nBoston, MA 02110"
        settings.business_tax_id = "EIN 12-3456789"
        settings.time_zone = "America/New_York"
        db.session.commit()
        db.session.remove()


def test_open_download_send_and_see_the_history(page: Page, live_server, shot):
    _business(live_server)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/document/")
    row = page.locator("tr", has_text="INV-001001")
    expect(row).to_contain_text("Grace Hopper")
    shot(page, "documents_list")
    page.wait_for_load_state("load")
    row.locator(".row-menu-toggle").click()
    row.get_by_role("link", name="View").click()

    paper = page.locator(".doc-paper")
    expect(paper).to_contain_text("INV-001001")
    expect(paper).to_contain_text("Harbor Physio")
    expect(paper.locator("[data-total]")).to_have_text("$50.00")
    expect(page.locator(".delivery-history")).to_have_count(0)
    shot(page, "document_page")

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download PDF").first.click()
    download = downloading.value
    assert download.suggested_filename == "invoice-INV-001001.pdf"
    text, pages = pdf_text(Path(download.path()).read_bytes())
    assert pages == 1 and "INV-001001" in text and "$50.00" in text and "Harbor Physio" in text

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".doc-toolbar").get_by_role("button", name="Send by Email").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "queued for sending by Email to grace@example.com")
    expect(page.locator(".delivery-history")).to_contain_text("Waiting for the worker")

    with live_server.app.app_context():  # the worker's every-minute sweep
        assert deliver_due() == "1 sent"
        db.session.remove()
    page.reload()
    history = page.locator(".delivery-history")
    expect(history).to_contain_text("grace@example.com")
    expect(history).to_contain_text("outbox")
    expect(history.locator("tr.table-success")).to_have_count(1)
    expect(page.locator(".doc-toolbar")).to_contain_text("Resend by Email")
    shot(page, "document_sent_history")

    page.goto(f"{live_server.url}/admin/outbox/")
    page.wait_for_load_state("load")
    outbox_row = page.locator("tr", has_text="grace@example.com")
    outbox_row.locator(".row-menu-toggle").click()
    outbox_row.get_by_role("link", name="View").click()
    expect(page.locator(".outbox-message")).to_contain_text("Hello Grace")
    expect(page.locator(".outbox-attachments")).to_contain_text("invoice-INV-001001.pdf")
    expect(page).to_have_url(re.compile(r"/admin/outbox/details/"))
    shot(page, "outbox_message")

    # Workflow 6 starts here: Accounting documents → Create (a custom invoice's draft).
    page.goto(f"{live_server.url}/admin/document/new/")
    expect(page.get_by_label("Due date")).to_be_visible()
    expect(page.get_by_label("Tax rate (%)")).to_be_visible()
    shot(page, "document_create")
