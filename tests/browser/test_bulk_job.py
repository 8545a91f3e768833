"""In a real browser, with a real worker: a bulk cancel of more rows than run inline goes to
the worker; the admin lands on the job's page and watches the bar move to the end."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect
from sqlalchemy import func, insert, select

from admin_app.clock import utcnow
from admin_app.extensions import db
from admin_app.models import Contact, Subscription, SubscriptionStatus
from tests.browser.test_contact_card import sign_in

ROWS = 300


def _many_subscriptions(app, plan_id: int) -> None:
    with app.app_context():
        now = utcnow()
        # ORM rows: a contact's search keys are written with it (the list below searches)
        db.session.add_all([Contact(first_name=f"Bulk{n}", last_name="Member")
                            for n in range(ROWS)])
        db.session.flush()
        ids = db.session.scalars(select(Contact.id).where(Contact.last_name == "Member")).all()
        db.session.execute(insert(Subscription), [
            {"contact_id": cid, "plan_id": plan_id, "status": SubscriptionStatus.ACTIVE,
             "current_period_start": now, "current_period_end": now.replace(year=now.year + 1)}
            for cid in ids])
        db.session.commit()


def test_a_large_bulk_cancel_runs_on_the_worker_with_a_progress_bar(page: Page, live_server,
                                                                    start_worker, shot):
    _many_subscriptions(live_server.app, live_server.data.plan_id)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/subscription/?search=Member")
    page.wait_for_load_state("load")
    page.locator("#select-all-matching").check()
    page.get_by_role("button", name="With selected").click()
    page.get_by_text("Cancel subscriptions").click()
    expect(page.locator("h2")).to_have_text(f"Cancel {ROWS} subscriptions")
    page.get_by_label("At period end (stays active until then)").check()
    page.get_by_role("button", name=f"Cancel {ROWS} subscriptions").click()

    expect(page).to_have_url(re.compile(r"/admin/bulk_job/details/\?id=\d+"))
    expect(page.locator(".alert-info")).to_contain_text("being done in the background")
    expect(page.locator("#job-state")).to_have_text("Queued")
    shot(page, "40_bulk_job_queued")

    start_worker(threads=1)
    seen = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = page.locator("#job-state").text_content()
        seen.add(page.locator("#job-count").text_content())
        if state == "Running" and len(seen) == 2:
            shot(page, "41_bulk_job_running")
        if state == "Done":
            break
        page.wait_for_timeout(250)
    expect(page.locator("#job-state")).to_have_text("Done")
    expect(page.locator("#job-summary")).to_contain_text(f"{ROWS} cancelled")
    expect(page.locator("#job-bar")).to_have_attribute("aria-valuenow", "100.0")
    shot(page, "42_bulk_job_done")
    counts = {text.split(" of ")[0].replace(",", "") for text in seen}
    assert any(0 < int(count) < ROWS for count in counts), seen  # the bar moved on the way
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription).where(
            Subscription.cancel_at_period_end.is_(True))) == ROWS

    page.goto(f"{live_server.url}/admin/bulk_job/")
    expect(page.locator(".job-schedule")).to_contain_text("Reconcile payments")
    expect(page.locator("body")).to_contain_text(f"Cancel {ROWS} subscriptions")
    shot(page, "43_background_jobs")
