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


def test_an_export_filtered_by_date_binds_the_clinic_times(client, login, app):
    """A date filter's bound times reach the database as the list binds them, on the
    export's own path (on PostgreSQL the parameters of its ``COPY``)."""
    from datetime import UTC, datetime

    login("cashier")
    for day in (3, 5, 9):
        make_payment(amount_minor=100 * day,
                     created_at=datetime(2026, 6, day, 12, 0, tzinfo=UTC))
    db.session.commit()
    between = _rows(client.get("/admin/payment/export/csv/?flt0_date_between="
                               "2026-06-04+00:00:00+to+2026-06-10+00:00:00"))
    assert sorted(r["Amount"] for r in between) == ["5.00", "9.00"]
    after = _rows(client.get("/admin/payment/export/csv/?flt0_date_greater_than="
                             "2026-06-06+00:00:00"))
    assert [r["Amount"] for r in after] == ["9.00"]


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


def test_every_list_exports_the_same_through_sql_lines_sql_rows_and_objects(
        client, login, demo_data, monkeypatch, app):
    """The fastest export (each CSV line written by the SELECT, ``csv_lines``; on SQLite by
    several processes in blocks of keys, ``csv_blocks``, here however small the table), the
    fast one (plain SQL rows, per-column formatters in Python) and the export through ORM
    objects and Flask-Admin's formatters write the same bytes, on every list."""
    from admin_app.views import base

    login("owner")
    admin = client.application.extensions["admin"][0]
    lists = [v for v in admin._views if isinstance(v, base.AppModelView) and v.can_export]

    def exports() -> dict[str, str]:
        return {v.endpoint: client.get(f"/admin/{v.endpoint}/export/csv/").get_data(as_text=True)
                for v in lists}

    by_lines = exports()
    monkeypatch.setitem(app.config, "EXPORT_PROCESSES", 2)
    monkeypatch.setitem(app.config, "EXPORT_BLOCK_KEYS", 7)
    monkeypatch.setitem(app.config, "EXPORT_SPLIT_FROM_KEYS", 1)
    by_blocks = exports()
    monkeypatch.setattr(base, "line_plan", lambda *args: None)
    by_rows = exports()
    monkeypatch.setattr(base, "column_plan", lambda *args: None)
    by_objects = exports()
    for view in lists:
        assert by_lines[view.endpoint] == by_objects[view.endpoint], view.endpoint
        assert by_blocks[view.endpoint] == by_objects[view.endpoint], view.endpoint
        assert by_rows[view.endpoint] == by_objects[view.endpoint], view.endpoint
    assert by_lines["payment"].count("\n") > 100 and by_lines["contact"].count("\n") > 100


def test_the_lines_written_in_sql_quote_guard_and_convert_like_python(
        client, login, app, monkeypatch):
    """Cells that CSV must quote, formulas, plain signed numbers, every currency's decimals and
    the clinic's wall clock across a daylight-saving change (to the second, not rounded): the
    lines the SELECT writes and the ORM export agree."""
    from datetime import UTC, datetime

    from admin_app.models import CashierSettings
    from admin_app.views import base

    login("owner")
    CashierSettings.get().time_zone = "America/New_York"
    names = [("Ann, Jr.", 'Say "hi"'), ("=1+2", "-12"), ("+1 555", "Line\nbreak"),
             ("Cr\rlf", "-3.50"), ("@home", "plain"), ("", "@last"), (" -lead", "space"),
             ("Tab\t", "End\t")]
    for hour, (first, last) in enumerate(names, start=6):
        contact = make_contact(first_name=first, last_name=last)
        for currency, amount in (("USD", 1250), ("JPY", 1200), ("KWD", 12345), ("EUR", 5)):
            make_payment(contact=contact, amount_minor=amount, currency=currency,
                         description=last, failure_reason=first,
                         created_at=datetime(2026, 3, 8, hour, 59, 59, 999_999, tzinfo=UTC))
    db.session.commit()
    planned = []
    real_plan = base.line_plan
    monkeypatch.setattr(base, "line_plan", lambda *args: planned.append(real_plan(*args))
                        or planned[-1])
    by_lines = {name: client.get(f"/admin/{name}/export/csv/").get_data(as_text=True)
                for name in ("payment", "contact")}
    assert len(planned) == 2 and None not in planned
    monkeypatch.setattr(base, "line_plan", lambda *args: None)
    monkeypatch.setattr(base, "column_plan", lambda *args: None)
    for name, written in by_lines.items():
        assert written == client.get(f"/admin/{name}/export/csv/").get_data(as_text=True), name

    rows = list(csv.DictReader(io.StringIO(by_lines["payment"])))
    assert {r["Amount"] for r in rows} == {"12.50", "1200", "12.345", "0.05"}
    assert sorted({r["Date (America/New_York)"] for r in rows})[:2] == ["2026-03-08 01:59:59",
                                                      "2026-03-08 03:59:59"]
    assert {r["Contact"] for r in rows} >= {'Ann, Jr. Say "hi"', "'=1+2 -12", "'@last",
                                             "'-lead space", "Tab\t End"}
    assert {r["Description"] for r in rows} == {'Say "hi"', "-12", "Line\nbreak", "-3.50",
                                                "plain", "'@last", "space", "End\t"}
    assert {r["Failure reason"] for r in rows} == {"Ann, Jr.", "'=1+2", "'+1 555", "Cr\rlf",
                                                   "'@home", "", " -lead", "Tab\t"}


def test_money_in_sql_reads_as_in_python(app, backend):
    """Every sign, size and number of decimals: the SQL the lines use and ``major`` agree."""
    from sqlalchemy import BigInteger, String, literal, select

    from admin_app.views.csv_columns import major
    from admin_app.views.csv_lines import sql_major_units

    cases = [(amount, currency) for currency in ("USD", "JPY", "KWD", "HUF")
             for amount in (0, 5, -5, 99, 100, -1250, 12345, -100_000_001, None)]
    in_sql = db.session.execute(select(*(
        sql_major_units(backend, literal(amount, BigInteger), literal(currency, String))
        for amount, currency in cases))).one()
    assert [value or "" for value in in_sql] == [major(*case) for case in cases]
