"""The front desk's path in a real browser: sign in, find a contact from the top bar, walk the
contact card's tabs and open a row's ⋯ menu. CSRF is on, as in production.

Screenshots of the pages an admin sees go to tests/browser/screenshots/ for a visual review.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

# True when the element's centre and its four corners (inset 2px) are the topmost thing on
# the page at those points: nothing covers it and no overflow container clips it.
FULLY_VISIBLE_JS = """el => {
  const r = el.getBoundingClientRect(), i = 2;
  const points = [[r.left + r.width / 2, r.top + r.height / 2],
                  [r.left + i, r.top + i], [r.right - i, r.top + i],
                  [r.left + i, r.bottom - i], [r.right - i, r.bottom - i]];
  return points.every(([x, y]) => { const hit = document.elementFromPoint(x, y);
                                    return hit !== null && (hit === el || el.contains(hit)); });
}"""


def sign_in(page: Page, live_server, shot=None) -> None:
    page.goto(f"{live_server.url}/admin/")
    # Not signed in: the admin sends us to the login page, remembering where we were going.
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    expect(page.get_by_role("heading", name="Clinic Billing")).to_be_visible()
    expect(page.locator("input[name=csrf_token]")).to_have_count(1)
    if shot:
        shot(page, "01_login")
    page.get_by_label("Email").fill(live_server.data.admin_email)
    page.get_by_label("Password").fill(live_server.data.admin_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#user-menu")).to_contain_text(live_server.data.admin_email)
    # The page's scripts (the top-bar search) are wired once it has loaded.
    page.wait_for_load_state("load")


def test_wrong_password_stays_on_login(page: Page, live_server):
    page.goto(f"{live_server.url}/admin/login")
    page.get_by_label("Email").fill(live_server.data.admin_email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".alert-danger")).to_have_text("Wrong email or password.")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    expect(page.locator("#quick-search")).to_have_count(0)


def test_find_contact_and_walk_the_card(page: Page, live_server, shot):
    data = live_server.data
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.on("response", lambda r: console_errors.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)

    sign_in(page, live_server, shot)

    # Dashboard: the latest transactions show money formatted, not minor units.
    recent = page.locator("h3:has-text('Latest transactions') + table")
    expect(recent).to_contain_text("$75.00")
    expect(recent).to_contain_text("Grace Hopper")
    shot(page, "02_dashboard")

    # Quick search: suggestions while typing.
    search = page.locator("#quick-search")
    # Wide enough for its placeholder ("Choose patient: name, email or phone") on a laptop.
    assert search.bounding_box()["width"] >= 300, search.bounding_box()
    search.fill("Grace")
    suggestion = page.locator("#quick-search-results .suggestion")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_be_visible()
    expect(suggestion).to_contain_text("Grace Hopper")
    expect(suggestion.locator("small")).to_contain_text("grace@example.com")
    shot(page, "03_quick_search_suggestions")
    suggestion.click()

    # The contact card, on its first tab: Transactions.
    expect(page).to_have_url(re.compile(rf"/admin/contact/details/\?id={data.grace_id}$"))
    expect(page.locator("h2#contact-name")).to_contain_text("Grace Hopper")
    expect(page.locator(".contact-facts")).to_contain_text("grace@example.com")
    active = page.locator("ul.nav-tabs a.nav-link.active")
    expect(active).to_have_count(1)
    expect(active).to_have_attribute("data-tab", "transactions")
    expect(active).to_contain_text("3")           # the count badge
    panel = page.locator("#tab-transactions")
    rows = panel.locator("table.card-tab-table tbody tr")
    expect(rows).to_have_count(3)
    expect(panel).to_contain_text("$75.00")
    expect(panel).to_contain_text("$120.00")
    expect(panel).to_contain_text("Failed")
    expect(panel).to_contain_text("Activation fee")
    expect(panel).not_to_contain_text("7500")
    expect(panel).not_to_contain_text("ACTIVATION_FEE")
    expect(panel).not_to_contain_text("None")
    shot(page, "04_card_transactions")

    # Subscriptions tab: the plan, linked, with its status.
    page.locator("a[data-tab=subscriptions]").click()
    expect(page).to_have_url(re.compile(r"tab=subscriptions"))
    expect(page.locator("ul.nav-tabs a.nav-link.active")).to_have_attribute(
        "data-tab", "subscriptions")
    panel = page.locator("#tab-subscriptions")
    sub_rows = panel.locator("table.card-tab-table tbody tr")
    expect(sub_rows).to_have_count(1)
    expect(sub_rows.first.get_by_role("link", name=data.plan_name)).to_be_visible()
    expect(sub_rows.first).to_contain_text("Active")
    expect(panel).not_to_contain_text("None")
    shot(page, "05_card_subscriptions")

    # Credits tab: balance per service (4 granted, 1 used) and the ledger.
    page.locator("a[data-tab=credits]").click()
    expect(page.locator("ul.nav-tabs a.nav-link.active")).to_have_attribute("data-tab", "credits")
    balance = page.locator("#tab-credits .credit-balance")
    expect(balance).to_have_count(1)
    expect(balance).to_be_visible()
    expect(balance).to_contain_text(data.service_name)
    expect(balance.locator("td").nth(1)).to_have_text("3")
    expect(page.locator("a[data-tab=credits] .badge")).to_have_text("3")
    expect(page.locator("#tab-credits table.card-tab-table tbody tr")).to_have_count(2)
    shot(page, "06_card_credits")

    # The ⋯ menu of the first subscription row: View and Edit, visible and not clipped.
    page.locator("a[data-tab=subscriptions]").click()
    first_row = page.locator("#tab-subscriptions table.card-tab-table tbody tr").first
    menu = first_row.locator(".row-menu .dropdown-menu")
    expect(menu).to_be_hidden()
    page.wait_for_load_state("load")  # Bootstrap's dropdown script loads last
    first_row.locator("button.row-menu-toggle").click()
    expect(menu).to_be_visible()
    view_item = menu.get_by_role("link", name="View")
    edit_item = menu.get_by_role("link", name="Edit")
    expect(view_item).to_be_visible()
    expect(edit_item).to_be_visible()
    # Not clipped by the table's scroll container (.table-responsive) nor covered: every
    # corner and the centre of the menu and of each item hit-test to the menu itself, and the
    # menu opens below its ⋯ button instead of flipping over it.
    box = menu.bounding_box()
    viewport = page.viewport_size
    assert box and box["height"] > 30 and box["width"] > 60, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    toggle_box = first_row.locator("button.row-menu-toggle").bounding_box()
    assert box["y"] >= toggle_box["y"] + toggle_box["height"] - 1, (box, toggle_box)
    for element in (menu, view_item, edit_item):
        assert element.evaluate(FULLY_VISIBLE_JS), f"clipped or covered: {element}"
    shot(page, "07_card_row_menu_open")
    view_item.click()
    expect(page).to_have_url(
        re.compile(rf"/admin/subscription/details/\?id={data.subscription_id}$"))
    details = page.locator("table.table")
    expect(details).to_contain_text(data.plan_name)
    expect(details).to_contain_text("Grace Hopper")
    shot(page, "08_subscription_details")

    # The other tabs, for the visual review.
    for key in ("appointments", "payment_methods", "documents"):
        page.goto(f"{live_server.url}/admin/contact/details/?id={data.grace_id}&tab={key}")
        expect(page.locator(f"#tab-{key} table.card-tab-table tbody tr")).to_have_count(1)
        shot(page, f"09_card_{key}")

    # The browser's own favicon request is not the page's doing (the app has no favicon).
    errors = [e for e in console_errors if not e.endswith("/favicon.ico")]
    assert not errors, errors


def test_enter_in_quick_search(page: Page, live_server, shot):
    data = live_server.data
    sign_in(page, live_server)

    # Several contacts match: a results page lists them all.
    search = page.locator("#quick-search")
    search.fill("Alan")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/search/\?q=Alan$"))
    expect(page.get_by_role("heading", name=re.compile("Contacts matching"))).to_contain_text(
        "Alan")
    result_rows = page.locator("table tbody tr")
    expect(result_rows).to_have_count(2)
    expect(result_rows.nth(0)).to_contain_text("Alan Kay")        # by last name
    expect(result_rows.nth(1)).to_contain_text("Alan Turing")
    shot(page, "10_search_results")
    result_rows.nth(1).get_by_role("link", name="Alan Turing").click()
    expect(page.locator("h2#contact-name")).to_have_text("Alan Turing")

    # Exactly one matches: its card opens directly.
    search = page.locator("#quick-search")
    search.fill("Hopper")
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"/admin/contact/details/\?id={data.grace_id}$"))
    expect(page.locator("h2#contact-name")).to_contain_text("Grace Hopper")

    # Nothing matches: a friendly message, not an empty table.
    search = page.locator("#quick-search")
    search.fill("Zyxwv")
    search.press("Enter")
    expect(page.get_by_text("No contact matches.")).to_be_visible()


def test_other_pages_for_visual_review(page: Page, live_server, shot):
    """Contacts list, a plan's edit form (inline services, activation fee) and the cashier
    settings, rendered with CSRF on and saved for the visual review."""
    data = live_server.data
    sign_in(page, live_server)

    page.goto(f"{live_server.url}/admin/contact/")
    rows = page.locator("table.model-list tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator("table.model-list")).to_contain_text("Hopper")
    shot(page, "11_contacts_list")

    page.goto(f"{live_server.url}/admin/plan/edit/?id={data.plan_id}")
    expect(page.locator("input#name")).to_have_value(data.plan_name)
    expect(page.locator("input#price_minor")).to_have_value("120.00")
    expect(page.locator("input#activation_fee_minor")).to_have_value("25.00")
    # The interval picker shows the plan's interval by its label (not the first raw value).
    expect(page.locator("select#interval")).to_have_value("month")
    expect(page.locator("#s2id_interval .select2-chosen")).to_have_text("Month")
    expect(page.locator("input[name=csrf_token]").first).to_be_attached()
    inline = page.locator(".inline-field").filter(has=page.locator("select"))
    expect(inline.first).to_be_visible()
    expect(page.locator("#s2id_services-0-service .select2-chosen")).to_have_text(
        data.service_name)
    expect(page.locator("input#services-0-credits_per_period")).to_have_value("4")
    shot(page, "12_plan_edit")

    page.goto(f"{live_server.url}/admin/cashier_settings/")
    expect(page).to_have_url(re.compile(r"/admin/cashier_settings/edit/\?id=1"))
    expect(page.locator("select#time_zone")).to_have_value("UTC")
    expect(page.locator("input#no_show_fee_minor")).to_have_value("75.00")
    shot(page, "13_cashier_settings")
