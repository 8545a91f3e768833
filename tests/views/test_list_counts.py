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
