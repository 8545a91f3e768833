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


def test_cells_a_spreadsheet_would_run_are_made_text(client, login, app):
    from admin_app.csv_cells import safe_cell

    login("viewer")
    make_contact(first_name="=HYPERLINK(\"http://evil.example\")", last_name="@SUM(A1)")
    db.session.commit()
    (row,) = _rows(client.get("/admin/contact/export/csv/"))
    assert row["First name"].startswith("'=HYPERLINK") and row["Last name"] == "'@SUM(A1)"
    assert [safe_cell(v) for v in ("+1 555", "-2+3", "\tx", "\rx", "-3.00", "12", None)] == \
        ["'+1 555", "'-2+3", "'\tx", "'\rx", "-3.00", "12", ""]


def test_exports_give_their_connection_back_finished_or_abandoned(client, login, app, backend):
    from sqlalchemy import text

    login("viewer")
    for n in range(2500):
        db.session.add(make_contact(first_name=f"Row{n}"))
    db.session.commit()
    for _ in range(3):  # read to the end
        assert len(_rows(client.get("/admin/contact/export/csv/"))) == 2500
    for _ in range(12):  # more at once than the pool holds, each dropped after its first lines
        response = client.get("/admin/contact/export/csv/", buffered=False)
        next(response.response)
        response.close()
    db.session.remove()
    assert db.engine.pool.checkedout() == 0
    assert client.get("/admin/contact/").status_code == 200
    if backend == "postgresql":
        busy = db.session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'idle in transaction' AND pid <> pg_backend_pid()")).scalar()
        assert busy == 0


def test_every_list_exports_the_same_through_sql_rows_as_through_objects(
        client, login, demo_data, monkeypatch):
    """The fast export (plain SQL rows, per-column formatters) writes byte for byte what the
    export through ORM objects and Flask-Admin's formatters writes, on every list."""
    from admin_app.views import base

    login("owner")
    admin = client.application.extensions["admin"][0]
    lists = [v for v in admin._views if isinstance(v, base.AppModelView) and v.can_export]
    fast = {v.endpoint: client.get(f"/admin/{v.endpoint}/export/csv/").get_data(as_text=True)
            for v in lists}
    monkeypatch.setattr(base, "column_plan", lambda *args: None)
    for view in lists:
        slow = client.get(f"/admin/{view.endpoint}/export/csv/").get_data(as_text=True)
        assert fast[view.endpoint] == slow, view.endpoint
    assert fast["payment"].count("\n") > 100 and fast["contact"].count("\n") > 100
