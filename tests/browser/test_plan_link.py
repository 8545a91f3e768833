"""Workflow 7 in a real browser: plan → ⋯ → Subscription Link, copy the link, send an
invitation to a contact picked by name, regenerate the link. CSRF is on, as in production."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_contact_card import sign_in


def test_subscription_link_page(page: Page, live_server, shot):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                   origin=live_server.url)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/plan/")
    row = page.locator("tr", has_text=live_server.data.plan_name)
    page.wait_for_load_state("load")  # Bootstrap's dropdown script loads last
    row.locator(".row-menu-toggle").click()
    row.get_by_role("link", name="Subscription Link").click()
    expect(page.get_by_role("heading", name=re.compile("Subscription Link"))).to_be_visible()
    page.wait_for_load_state("load")  # the copy button's script runs at the end of the page
    link = page.locator("#plan-link-url").input_value()
    assert re.fullmatch(rf"{live_server.url}/join/[\w-]+", link)

    page.locator("#copy-plan-link").click()
    expect(page.locator("#copy-plan-link-done")).to_be_visible()
    # The clipboard is written asynchronously: give a busy machine a few seconds.
    page.wait_for_function("expected => navigator.clipboard.readText().then(t => t === expected)",
                           arg=link, timeout=10_000)

    page.locator(".select2-container").first.click()
    page.keyboard.type("Grace")
    page.locator(".select2-result", has_text="Grace Hopper").click()
    page.get_by_label("SMS").check()
    shot(page, "plan_link_page")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".alert-success")).to_contain_text("queued for Grace Hopper by SMS")

    public = page.context.new_page()
    assert public.goto(link).status == 200
    expect(public.locator("#plan-name")).to_have_text(live_server.data.plan_name)
    shot(public, "plan_public_page")
    public.close()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#regenerate-plan-link").click()
    expect(page.locator(".alert-success")).to_contain_text("old link no longer works")
    assert page.locator("#plan-link-url").input_value() != link
    assert page.goto(link).status == 404
