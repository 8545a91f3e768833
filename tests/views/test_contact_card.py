"""The contact card: the guide's tabs, each a paginated list of that contact's records."""

from __future__ import annotations

from admin_app.extensions import db
from tests.factories import make_contact, make_payment

TABS = {"transactions": "$120.00", "subscriptions": "Physio Monthly", "credits": "Period grant",
        "appointments": "No-show", "payment_methods": "4242", "documents": "INV-000001"}


def test_card_has_every_tab_with_the_contacts_records(client, login, records):
    login("cashier")
    grace = records["contact"]
    other = make_contact(first_name="Someone", last_name="Else")
    make_payment(contact=other, amount_minor=99900)
    db.session.commit()
    card = client.get(f"/admin/contact/details/?id={grace.id}").get_data(as_text=True)
    for label in ("Transactions", "Subscriptions", "Credits", "Appointments", "Payment methods",
                  "Documents"):
        assert label in card
    assert "Grace Hopper" in card and "grace@navy.example" in card
    for tab, expected in TABS.items():
        html = client.get(f"/admin/contact/details/?id={grace.id}&tab={tab}").get_data(
            as_text=True)
        assert expected in html, tab
        assert "$999.00" not in html  # another contact's payment never shows
        assert 'class="dropdown row-menu"' in html


def test_credits_tab_shows_balance_per_service(client, login, records):
    login("viewer")
    html = client.get(
        f"/admin/contact/details/?id={records['contact'].id}&tab=credits").get_data(as_text=True)
    row = html.split(f'data-service="{records["service"].id}"', 1)[1].split("</tr>", 1)[0]
    assert records["service"].name in row and ">4</span>" in row


def test_tabs_paginate(client, login, records):
    login("owner")
    grace = records["contact"]
    for i in range(25):
        make_payment(contact=grace, amount_minor=100 + i)
    db.session.commit()
    first = client.get(f"/admin/contact/details/?id={grace.id}&tab=transactions")
    second = client.get(f"/admin/contact/details/?id={grace.id}&tab=transactions&page=1")
    first_html, second_html = first.get_data(as_text=True), second.get_data(as_text=True)
    assert first_html.count('class="dropdown row-menu"') == 20
    assert second_html.count('class="dropdown row-menu"') == 6
    assert "page=1" in first_html


def test_unknown_contact_is_404(client, login):
    login("owner")
    assert client.get("/admin/contact/details/?id=424242").status_code == 404


def test_empty_tab_says_so(client, login):
    login("owner")
    contact = make_contact()
    db.session.commit()
    html = client.get(f"/admin/contact/details/?id={contact.id}&tab=documents").get_data(
        as_text=True)
    assert "No documents for this contact yet." in html
