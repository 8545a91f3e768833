"""Lists count their rows up to a cap: past it the page says "more than N rows" (next/previous
instead of page numbers) with the exact count one click away; bulk actions on "all matching
rows" and the CSV export still take every matching row."""

from __future__ import annotations

import csv
import io

import pytest

from admin_app.extensions import db
from admin_app.views import base
from tests.factories import make_contact
from tests.views.list_rows import row_ids

pytestmark = pytest.mark.all_databases  # the counting SQL is the database's


@pytest.fixture
def seven_smiths(app, monkeypatch):
    monkeypatch.setattr(base, "LIST_COUNT_CAP", 3)
    for n in range(7):
        make_contact(first_name=f"Ann{n}", last_name="Smith")
    make_contact(first_name="Bob", last_name="Jones")
    db.session.commit()


def test_past_the_cap_the_list_says_more_and_counts_on_request(client, login, seven_smiths):
    login("manager")
    html = client.get("/admin/contact/?search=smith&page_size=20").get_data(as_text=True)
    assert "More than 3 rows" in html and "Count them" in html
    assert "All matching rows (more than 3)" in html
    assert "List (" not in html
    assert 'href="/admin/contact/?search=smith&amp;count=exact&amp;page_size=20"' in html
    exact = client.get("/admin/contact/?search=smith&page_size=20&count=exact").get_data(
        as_text=True)
    assert "List (7)" in exact and "All 7 matching rows" in exact
    assert "More than" not in exact


def test_under_the_cap_the_count_is_exact(client, login, seven_smiths):
    login("manager")
    html = client.get("/admin/contact/?search=jones").get_data(as_text=True)
    assert "List (1)" in html and "More than" not in html


def test_pages_past_the_cap_still_page(client, login, seven_smiths):
    login("viewer")
    first = client.get("/admin/contact/?search=smith&page_size=20").get_data(as_text=True)
    assert first.count("Ann") == 7  # one page holds them all: no next page offered
    assert 'href="/admin/contact/?search=smith&amp;page_size=20&amp;page=1"' not in first


def test_all_matching_and_export_take_every_row(client, login, seven_smiths):
    login("manager")
    page = client.post("/admin/contact/action/", data={
        "action": "adjust_credits", "rowid": ["1"], "select_all_matching": "1",
        "url": "/admin/contact/?search=smith"})
    assert "Applies to all 7 contacts matching the list" in page.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(client.get(
        "/admin/contact/export/csv/?search=smith").get_data(as_text=True))))
    assert len(rows) == 7


def test_rows_that_tie_on_the_sorted_column_keep_one_order_across_pages(client, login, app):
    """Payments made at the same moment, listed by date 20 to a page: the pages together are
    every payment once, ties in id order (the key follows the sorted column), and the export
    writes them in the same order; contacts sharing a last name follow their first names."""
    from datetime import UTC, datetime

    from tests.factories import make_payment

    at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    paid = [make_payment(created_at=at).id for _ in range(45)]
    db.session.commit()
    login("owner")
    listed = []
    for page in range(3):
        html = client.get(f"/admin/payment/?sort=1&page_size=20&page={page}").get_data(
            as_text=True)
        listed += row_ids(html)
    assert listed == sorted(paid)
    exported = list(csv.DictReader(io.StringIO(
        client.get("/admin/payment/export/csv/?sort=1").get_data(as_text=True))))
    assert [int(r["ID"]) for r in exported] == sorted(paid)

    for first in ("Zoe", "Amy", "Mia"):
        make_contact(first_name=first, last_name="Tie")
    db.session.commit()
    names = [r["First name"] for r in csv.DictReader(io.StringIO(client.get(
        "/admin/contact/export/csv/?sort=2&search=tie").get_data(as_text=True)))]
    assert names == ["Amy", "Mia", "Zoe"]
