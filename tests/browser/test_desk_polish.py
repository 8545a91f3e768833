"""The desk's rough edges, gone, as an admin sees them in Chromium: a date typed as typed with
the calendar never over the Save button, the ⋯ menu of a subscription on the top plan, a
no-show fee said in the clinic's time (America/New_York), promo codes that cannot be used
marked with why, the Cancel page's words, the card expiry as MM/YY, the guide's words."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.test_contact_card import sign_in
from tests.browser.test_desk_money import add_card_at_the_desk


def _in_app(live_server, work):
    """Run ``work()`` against the served app's database, committed."""
    from admin_app.extensions import db

    with live_server.app.app_context():
        result = work()
        db.session.commit()
        db.session.remove()
    return result


def _set_zone(live_server, name: str) -> None:
    from admin_app.models import CashierSettings

    def work():
        CashierSettings.get().time_zone = name

    _in_app(live_server, work)


def _covers(page: Page, locator) -> str:
    """What the page shows at the centre of ``locator``: the element a click there lands on."""
    box = locator.bounding_box()
    return page.evaluate(
        "([x, y]) => { const e = document.elementFromPoint(x, y);"
        " const c = e && (e.closest('button, a, input') || e);"
        " return c ? (c.value || c.textContent).trim() : ''; }",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])


def test_a_date_is_typed_as_typed_and_the_calendar_leaves_save_visible(page: Page, live_server,
                                                                        shot):
    _set_zone(live_server, "America/New_York")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/appointment/")
    row = page.locator("tr", has_text="Grace Hopper").first
    page.wait_for_load_state("load")
    row.locator(".row-menu-toggle").click()
    row.get_by_role("link", name="Edit").click()
    expect(page).to_have_url(re.compile(r"/admin/appointment/edit/"))
    page.wait_for_load_state("load")  # the date field's script is attached

    field = page.locator("#starts_at")
    expect(field).to_have_attribute("placeholder", "YYYY-MM-DD HH:MM")
    expect(page.locator("text=Clinic time (America/New_York)")).to_be_visible()
    field.click()
    field.press("Control+a")
    field.press("Backspace")
    calendar = page.locator(".date-picker-slot .daterangepicker")
    expect(calendar).to_be_visible()
    for key, shown in (("2", "2"), ("0", "20"), ("2", "202"), ("6", "2026")):
        page.keyboard.type(key)
        expect(field).to_have_value(shown)          # never "0002-01-01 00:00:00"
    page.keyboard.type("-12-03 14:30")
    expect(field).to_have_value("2026-12-03 14:30")
    # The open calendar follows what was typed, and pushes the buttons down, not over them.
    expect(calendar.locator("td.active:visible")).to_have_text("3")
    save = page.get_by_role("button", name="Save", exact=True)
    save.scroll_into_view_if_needed()
    assert _covers(page, save) == "Save"
    shot(page, "polish_date_typed")
    save.click()                                       # one click, with the calendar open
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("tr", has_text="Grace Hopper").first).to_contain_text(
        "2026-12-03 14:30 EST")


def test_an_empty_date_left_alone_stays_empty(page: Page, live_server, shot):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/promo_code/new/")
    field = page.locator("#expires_at")
    field.click()
    expect(page.locator(".date-picker-slot .daterangepicker")).to_be_visible()
    shot(page, "polish_empty_date_open")
    page.get_by_label("Code").click()                  # elsewhere: the calendar closes
    expect(page.locator(".date-picker-slot .daterangepicker")).to_be_hidden()
    expect(field).to_have_value("")


def test_the_menu_of_a_top_plan_subscription_offers_only_what_works(page: Page, live_server,
                                                                    shot):
    data = live_server.data

    def cheaper_plan():
        from tests.factories import make_plan

        make_plan(name="Physio Light", price_minor=6000)

    _in_app(live_server, cheaper_plan)                 # Monthly Physio is now the top plan
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/contact/details/?id={data.grace_id}&tab=subscriptions")
    page.wait_for_load_state("load")
    row = page.locator("tr", has_text=data.plan_name).first
    row.locator(".row-menu-toggle").click()
    menu = row.locator(".dropdown-menu")
    expect(menu.get_by_role("link", name="Downgrade")).to_be_visible()
    expect(menu.get_by_role("link", name="Upgrade")).to_have_count(0)
    shot(page, "polish_top_plan_menu")

    # Cancel: the way back says what it does; once cancelled at once: when, by whom, access ended.
    menu.get_by_role("link", name="Cancel").click()
    expect(page.locator("#action-keep")).to_have_text("Keep the subscription")
    page.get_by_role("button", name="Confirm cancellation").click()
    expect(page.locator(".alert-success")).to_contain_text("is cancelled")
    page.goto(f"{live_server.url}/admin/subscription/cancel/?id={data.subscription_id}")
    facts = page.locator(".action-facts")
    shot(page, "polish_cancelled_subscription")
    expect(facts).to_contain_text(re.compile(rf"Cancelled\s*\d{{4}}-\d\d-\d\d \d\d:\d\d \w+ by "
                                             rf"{re.escape(data.admin_email)}"))
    expect(facts).to_contain_text("Access ended")


def test_a_no_show_fee_is_said_in_the_clinic_time(page: Page, live_server, shot):
    from zoneinfo import ZoneInfo

    _set_zone(live_server, "America/New_York")
    sign_in(page, live_server)
    add_card_at_the_desk(page, live_server)

    def missed_appointment():
        from admin_app.clock import utcnow
        from admin_app.models import Appointment
        from tests.factories import make_appointment

        booked = Appointment.query.filter_by(contact_id=live_server.data.grace_id).first()
        at = (utcnow() - timedelta(hours=3)).replace(minute=30, second=0, microsecond=0)
        missed = make_appointment(contact=booked.contact, service=booked.service, starts_at=at)
        from admin_app.extensions import db

        db.session.flush()
        return missed.id, at

    missed_id, at = _in_app(live_server, missed_appointment)
    local = at.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M %Z")
    page.goto(f"{live_server.url}/admin/appointment/")
    row = page.locator("tr", has=page.locator(f"input[value='{missed_id}']"))
    page.wait_for_load_state("load")
    row.locator(".row-menu-toggle").click()
    row.get_by_role("link", name="No-show fee").click()
    page.get_by_label(re.compile("confirm the no-show")).check()
    page.get_by_role("button", name="Charge no-show fee").click()
    message = page.locator(".alert-success")
    expect(message).to_contain_text(f"on {local}")
    assert "UTC" not in message.inner_text()
    shot(page, "polish_no_show_clinic_time")
    # The fee's payment: described in clinic time, and linked from the Appointments tab.
    page.goto(f"{live_server.url}/admin/contact/details/?id={live_server.data.grace_id}"
              "&tab=appointments")
    fee_link = page.locator("tr", has_text=local).get_by_role("link", name=re.compile(r"#\d+"))
    fee_link.click()
    expect(page.locator("table")).to_contain_text(f"No-show fee: appointment #{missed_id}")
    expect(page.locator("table")).to_contain_text(local)


def test_promo_codes_that_cannot_be_used_are_marked_with_why(page: Page, live_server, shot):
    def promos():
        from admin_app.clock import utcnow
        from tests.factories import make_promo

        make_promo(code="WELCOME10", percent_off=10)
        make_promo(code="OLDSALE", percent_off=30, expires_at=utcnow() - timedelta(days=3))
        make_promo(code="FULL5", percent_off=5, max_redemptions=2, times_redeemed=2)

    _in_app(live_server, promos)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/subscription/apply-promo/?id="
              f"{live_server.data.subscription_id}")
    options = page.locator("#promo_code option")
    expect(options.first).to_contain_text("WELCOME10")
    expired = page.locator("#promo_code option", has_text="OLDSALE")
    expect(expired).to_contain_text("not usable: expired")
    expect(expired).to_be_disabled()
    expect(page.locator("#promo_code option", has_text="FULL5")).to_contain_text(
        "not usable: used up (2 of 2)")
    shot(page, "polish_promo_picker")

    page.goto(f"{live_server.url}/admin/subscription/new/")
    page.wait_for_load_state("load")
    expect(page.locator("#promo_code option").first).to_have_text("No promo code")
    expect(page.locator("#s2id_contact, .select2-container").first).to_contain_text(
        "Choose a contact")
    shot(page, "polish_new_subscription")


def test_the_desk_card_form_and_the_guide_words(page: Page, live_server, shot):
    sign_in(page, live_server)
    search = page.locator("#quick-search")
    expect(search).to_have_attribute("placeholder", "Choose patient: name, email or phone")
    expect(search).to_have_attribute("aria-label", re.compile("New touch"))
    search.fill("Grace")
    page.locator("#quick-search-results .suggestion").click()
    expect(page.locator(".breadcrumb")).to_contain_text("Contact card (complex form)")
    page.goto(f"{live_server.url}/admin/contact/payment-methods/add/?id="
              f"{live_server.data.grace_id}")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry").fill("13/31")
    page.get_by_role("button", name="Save card").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("Enter the expiry as MM/YY.")
    shot(page, "polish_card_expiry")
    page.goto(f"{live_server.url}/admin/document/")
    expect(page.locator("input[name=search]")).to_have_attribute(
        "placeholder", "Number (INV-000012 or 12), contact, or amount (75.00)")
    page.goto(f"{live_server.url}/admin/plan/")
    page.get_by_role("link", name=live_server.data.plan_name).first.click()
    expect(page).to_have_url(re.compile(r"/admin/plan/details/\?id="))
