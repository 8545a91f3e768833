"""Home and every report in Chromium, under the CSP: the charts are drawn by the vendored
Chart.js from the static reports.js (no inline script), the table under each chart, the
range and plan choices."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from admin_app.extensions import db
from admin_app.reports.catalog import REPORTS
from tests.browser.test_contact_card import sign_in
from tests.reports.history import build_history


def test_home_and_each_report(page: Page, live_server, shot):
    with live_server.app.app_context():
        build_history()  # January–March 2026, the clock at April 10
        db.session.remove()
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server)
    expect(page.locator("#headlines")).to_contain_text("MRR")
    expect(page.locator("#headlines")).to_contain_text("$443.33")
    expect(page.locator("#todo")).to_contain_text("Renewals in the next 7 days")
    shot(page, "reports_home")

    page.locator("a.dropdown-toggle", has_text="Reports").click()
    page.get_by_role("link", name="MRR", exact=True).click()
    for slug, report in REPORTS.items():
        page.goto(f"{live_server.url}/admin/reports/{slug}/?from=2026-01&to=2026-04")
        expect(page.locator(".nav-link.active")).to_have_text(report.title)
        expect(page.locator(".report-scope")).to_contain_text("Jan 2026 – Apr 2026 · All plans")
        canvases = page.locator("canvas[data-chart]")
        expect(canvases.first).to_be_visible()
        drawn = page.evaluate("() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
                              ".map(c => !!Chart.getChart(c))")
        assert drawn and all(drawn), slug
        expect(page.locator("table.report-table").first).to_contain_text("Mar 2026")
        shot(page, f"reports_{slug}")

    page.goto(f"{live_server.url}/admin/reports/mrr/?from=2026-01&to=2026-03")
    page.get_by_label("Plan").select_option(label="Basic")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".report-scope")).to_contain_text("Basic")
    expect(page.locator("table.report-table").first).to_contain_text("Feb 2026")
    shot(page, "reports_mrr_basic_plan")
