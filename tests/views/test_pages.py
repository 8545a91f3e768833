"""Every admin page renders for every role that may open it, and is refused to the others."""

from __future__ import annotations

import pytest

from admin_app.models import CashierSettings

ROLES = ["owner", "manager", "cashier", "viewer"]
# endpoint -> roles that may open it
ACCESS = {
    "contact": ROLES, "service": ROLES, "plan": ROLES, "promo_code": ROLES,
    "subscription": ROLES, "appointment": ROLES, "payment": ROLES, "refund": ROLES,
    "document": ROLES, "payment_method": ROLES, "credit_entry": ROLES,
    "audit_entry": ["owner", "manager"], "admin_user": ["owner"],
    "stripe_event": ["owner", "manager"],
}
# endpoint -> key of the `records` fixture for its details page
RECORD_KEYS = {"contact": "contact", "service": "service", "plan": "plan",
               "promo_code": "promo_code", "subscription": "subscription",
               "appointment": "appointment", "payment": "payment", "refund": "refund",
               "document": "document", "payment_method": "payment_method",
               "credit_entry": "credit_entry", "audit_entry": "audit_entry",
               "stripe_event": "stripe_event"}
WRITABLE = {"contact", "service", "plan", "promo_code", "subscription", "appointment",
            "document", "admin_user"}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_or_is_refused(client, login, records, role):
    user = login(role)
    assert client.get("/admin/").status_code == 200
    for endpoint, roles in ACCESS.items():
        record_id = records[RECORD_KEYS[endpoint]].id if endpoint in RECORD_KEYS else user.id
        pages = [f"/admin/{endpoint}/", f"/admin/{endpoint}/details/?id={record_id}",
                 f"/admin/{endpoint}/export/csv/"]
        for url in pages:
            response = client.get(url)
            if role in roles:
                assert response.status_code == 200, (url, response.status_code)
            else:
                assert response.status_code == 302, url
                assert response.location.endswith("/admin/")
        if endpoint == "document":  # issued documents are frozen: edit the draft
            record_id = records["draft"].id
        for url in (f"/admin/{endpoint}/new/", f"/admin/{endpoint}/edit/?id={record_id}"):
            response = client.get(url)
            if role in roles and role != "viewer" and endpoint in WRITABLE:
                assert response.status_code == 200, (url, response.status_code)
            else:
                assert response.status_code == 302, url


@pytest.mark.parametrize("role", ROLES)
def test_settings_page_opens_for_every_role(client, login, app, role):
    login(role)
    response = client.get("/admin/cashier_settings/", follow_redirects=True)
    assert response.status_code == 200
    assert b"Automatically send receipts" in response.data
    assert b"Default no-show fee" in response.data
    assert CashierSettings.get().no_show_fee_minor == 7500


def test_menu_uses_the_guides_words(client, login):
    login("owner")
    html = client.get("/admin/").get_data(as_text=True)
    for word in ("Directories", "Contacts", "Services", "Subscription plans", "Promo codes",
                 "Subscriptions", "Appointments", "Cashier", "Transactions", "Refunds",
                 "Accounting documents", "Settings", "Cashier settings", "Admin users",
                 "Audit log"):
        assert f">{word}<" in html.replace("\n", "").replace("  ", "") or word in html, word


def test_viewer_menu_hides_admin_users(client, login):
    login("viewer")
    html = client.get("/admin/").get_data(as_text=True)
    assert "Admin users" not in html
    assert "Audit log" not in html


def test_lists_show_money_statuses_and_links(client, login, records):
    login("owner")
    html = client.get("/admin/payment/").get_data(as_text=True)
    assert "$120.00" in html and "$20.00" in html
    assert "Partially refunded" in html
    assert f'/admin/contact/details/?id={records["contact"].id}' in html
    plans = client.get("/admin/plan/").get_data(as_text=True)
    assert "$25.00" in plans and "One time activation fee" in plans


def test_row_menu_offers_view_and_edit(client, login, records):
    login("owner")
    html = client.get("/admin/subscription/").get_data(as_text=True)
    assert 'class="dropdown row-menu"' in html
    sid = records["subscription"].id
    assert f"/admin/subscription/details/?id={sid}" in html
    assert f"/admin/subscription/edit/?id={sid}" in html


def test_viewer_row_menu_has_no_edit(client, login, records):
    login("viewer")
    html = client.get("/admin/subscription/").get_data(as_text=True)
    assert "/admin/subscription/edit/" not in html


def test_stripe_ids_link_to_the_stripe_dashboard(client, login, records, app):
    login("viewer")
    payment, grace = records["payment"], records["contact"]
    payment.gateway_id, grace.stripe_customer_id = "pi_3Abc", "cus_9Xyz"
    from admin_app.extensions import db

    db.session.commit()
    app.config.update(PAYMENT_GATEWAY="stripe", STRIPE_SECRET_KEY="sk_test_x")
    details = client.get(f"/admin/payment/details/?id={payment.id}").get_data(as_text=True)
    assert 'href="https://dashboard.stripe.com/test/payments/pi_3Abc"' in details
    card = client.get(f"/admin/contact/details/?id={grace.id}").get_data(as_text=True)
    assert 'href="https://dashboard.stripe.com/test/customers/cus_9Xyz"' in card
    app.config.update(PAYMENT_GATEWAY="offline")
    offline = client.get(f"/admin/payment/details/?id={payment.id}").get_data(as_text=True)
    assert "dashboard.stripe.com" not in offline and "pi_3Abc" in offline
