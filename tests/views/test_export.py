"""CSV export: what the list shows, filtered like the list, money in major units."""

from __future__ import annotations

import csv
import io

import pytest

from admin_app.extensions import db
from admin_app.models import PaymentStatus
from tests.factories import make_contact, make_payment

pytestmark = pytest.mark.all_databases  # the list's search, filters and sort, in SQL


def _rows(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_payments_export_respects_filters_and_formats_money(client, login, app):
    login("cashier")
    ada = make_contact(first_name="Ada", last_name="Byron")
    make_payment(contact=ada, amount_minor=7500)
    make_payment(contact=ada, amount_minor=1999, status=PaymentStatus.FAILED,
                 failure_reason="card_declined")
    db.session.commit()
    response = client.get("/admin/payment/export/csv/")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _rows(response)
    assert len(rows) == 2
    assert {r["Amount"] for r in rows} == {"75.00", "19.99"}
    assert {r["Status"] for r in rows} == {"Succeeded", "Failed"}
    assert all(r["Contact"] == "Ada Byron" for r in rows)
    filtered = _rows(client.get("/admin/payment/export/csv/?flt0_status_equals=failed"))
    assert [r["Amount"] for r in filtered] == ["19.99"]


def test_contacts_export_follows_search_and_sort(client, login, app):
    login("viewer")
    for first in ("Zoe", "Amy", "Mia"):
        make_contact(first_name=first, last_name="Smith")
    make_contact(first_name="Bob", last_name="Jones")
    db.session.commit()
    rows = _rows(client.get("/admin/contact/export/csv/?search=smith&sort=1"))
    assert [r["First name"] for r in rows] == ["Amy", "Mia", "Zoe"]
    assert "ID" in rows[0] and "Email" in rows[0]
