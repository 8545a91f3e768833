"""The Content-Security-Policy is on in the browser, and the browser fixtures notice a page
that breaks it (so a future inline script fails its test)."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_an_inline_script_is_refused_and_noticed(page: Page, live_server, csp_violations):
    page.goto(f"{live_server.url}/admin/login")
    page.wait_for_load_state("load")
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.injected = true';
        document.body.appendChild(s);
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected === undefined")
    assert any("Content Security Policy" in text for text in csp_violations)
    csp_violations.clear()  # expected here: the fixture's own check must not fail this test


def test_the_login_page_works_under_the_csp(page: Page, live_server):
    page.goto(f"{live_server.url}/admin/login")
    page.fill("input[name=email]", live_server.data.admin_email)
    page.fill("input[name=password]", live_server.data.admin_password)
    page.locator("button[type=submit], input[type=submit]").first.click()
    expect(page).to_have_url(f"{live_server.url}/admin/")


def test_menus_filters_and_row_menus_work_under_the_csp(page: Page, live_server, shot):
    """Flask-Admin's javascript: links and its former inline handlers (filter menu, bulk
    actions) run from admin_app.js: no violation, and they still work."""
    from tests.browser.test_contact_card import sign_in

    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/payment/")
    page.wait_for_load_state("load")
    page.locator("a.dropdown-toggle", has_text="Cashier").click()
    expect(page.get_by_role("link", name="Refunds")).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("a", has_text="Add Filter").click()
    page.locator("a.filter", has_text="Status").first.click()
    expect(page.locator(".filter-op").first).to_be_visible()
    page.locator(".row-menu-toggle").first.click()
    expect(page.locator(".row-menu .dropdown-menu.show")).to_be_visible()
    shot(page, "90_csp_list_menus")
