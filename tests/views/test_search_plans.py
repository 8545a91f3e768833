"""Searches keep to their indexes whatever the word: the plans of the Contacts list's page
query (``ORDER BY id DESC LIMIT ? OFFSET ?`` bound, as Flask-Admin sends it), of its count, and
of the top bar's lookup, read with EXPLAIN on SQLite and PostgreSQL over many contacts with
the planner's statistics gathered."""

from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import insert, text

from admin_app.contacts_search import contact_search_condition, contacts_page
from admin_app.extensions import db
from admin_app.models import Contact, ContactSearchKey
from admin_app.search_keys import search_tokens
from tests.factories import make_contact
from tests.views.list_rows import row_ids

pytestmark = pytest.mark.all_databases

SPECIAL = [("Zelda", "Reed", "olivia.smith@example.org", "+1 555 0135"),
           ("Chloe", "Van der Berg", "chloe@example.org", "+44 20 7946 0000"),
           ("Nora", "Reed", "nora@example.org", "+44 20 7946 0001")]
QUERIES = ("olivia.smith", "zelda", "nor ree", "van der", "berg chloe", "555-0135",
           "(555) 0135")
COMMON_SQLITE, COMMON_POSTGRESQL = 6_000, 50_000


def _many_contacts() -> None:
    """Many ordinary contacts ("First7 Last42"), and the few the searches look for. PostgreSQL
    plans by statistics, so it gets a table large enough for reading it whole to cost what it
    costs at scale; SQLite (no statistics gathered) plans by the query's shape alone."""
    if db.engine.dialect.name == "postgresql":
        count = COMMON_POSTGRESQL
        db.session.execute(text(
            "INSERT INTO contact (id, first_name, last_name, email, phone, status, created_at, "
            "updated_at) SELECT n, 'First' || (n % 100), 'Last' || ((n / 100) % 100), "
            "'first' || (n % 100) || '.' || n || '@example.org', '+44 20 ' || lpad(n::text, 6, "
            "'0'), 'active', now(), now() FROM generate_series(1, :count) AS n"),
            {"count": count})
        db.session.execute(text(
            "INSERT INTO contact_search_key (token, contact_id) SELECT lower(first_name), id "
            "FROM contact UNION SELECT lower(last_name), id FROM contact"))
    else:
        count = COMMON_SQLITE
        db.session.execute(insert(Contact), [
            {"id": n, "first_name": f"First{n % 100}", "last_name": f"Last{n // 100 % 100}",
             "email": f"first{n % 100}.{n}@example.org", "phone": f"+44 20 {n:06d}"}
            for n in range(1, count + 1)])
        db.session.execute(insert(ContactSearchKey), [
            {"token": token, "contact_id": n} for n in range(1, count + 1)
            for token in (f"first{n % 100}", f"last{n // 100 % 100}")])
    special = [{"id": count + n, "first_name": first, "last_name": last, "email": email,
                "phone": phone} for n, (first, last, email, phone) in enumerate(SPECIAL, 1)]
    db.session.execute(insert(Contact), special)
    db.session.execute(insert(ContactSearchKey), [
        {"token": token, "contact_id": row["id"]} for row in special
        for token in search_tokens(row["first_name"], row["last_name"], row["phone"])])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE contact")
            conn.exec_driver_sql("ANALYZE contact_search_key")


def _plan(statement) -> str:
    """EXPLAIN of ``statement`` with its parameters bound, as the driver sends them."""
    dialect = db.engine.dialect
    compiled = statement.compile(dialect=dialect)
    sql = str(compiled)
    if dialect.name == "sqlite":
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        rows = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(row[-1] for row in rows)
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN {sql}", compiled.params)
    return "\n".join(row[0] for row in rows)


def _contact_list(search: str):
    """The Contacts list's page and count queries, exactly as the view builds them."""
    view = next(v for v in current_app.extensions["admin"][0]._views
                if getattr(v, "endpoint", None) == "contact")
    with current_app.test_request_context("/admin/contact/"):
        page = view.get_list(99, None, False, search, [], execute=False)[1]
        count = view.get_count_query()
        count = view._apply_search(count, count, {}, {}, search)[1]
        return page.statement, count.counting_statement()


def _assert_indexed(plan: str) -> None:
    if db.engine.dialect.name == "sqlite":
        # Not even a scan of a whole index of the contacts ("SCAN contact USING COVERING
        # INDEX ix_contact_email": SQLite had lost the lower(email) index, see migration 0018).
        assert "SCAN contact" not in plan, plan
        assert "USING PRIMARY KEY (token>? AND token<?)" in plan, plan
        assert "USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    else:
        assert "Seq Scan" not in plan, plan
        assert "pk_contact_search_key" in plan, plan


def test_lists_counts_and_quick_search_use_the_indexes_for_every_search(app):
    from sqlalchemy import select

    _many_contacts()
    for search in QUERIES:
        page, count = _contact_list(search)
        assert "LIMIT" in str(page.compile(dialect=db.engine.dialect))
        _assert_indexed(_plan(page))
        _assert_indexed(_plan(count))
        _assert_indexed(_plan(contacts_page(search, limit=8)))
        newest_page = (select(Contact).where(contact_search_condition(search, newest=5000))
                       .order_by(Contact.id.desc()).offset(4950).limit(50))
        _assert_indexed(_plan(newest_page))


def test_a_search_in_id_order_pages_through_the_newest_matches(app, client, login):
    """The Contacts list searched, in its own order: each page reads only the newest matches
    up to its end, and the pages together are every match, newest first, counted whole."""
    matching = [make_contact(first_name=f"Ann{n}", last_name="Vander").id for n in range(45)]
    for n in range(30):
        make_contact(first_name=f"Bob{n}", last_name="Other")
    db.session.commit()
    login("owner")  # (the row checkboxes name each row's id)
    shown = []
    for page in range(3):
        html = client.get(f"/admin/contact/?search=vander&page_size=20&page={page}").get_data(
            as_text=True)
        assert "45" in html  # the count: every match, not the newest the page read
        shown += row_ids(html)
    assert shown == sorted(matching, reverse=True)


def test_the_searches_find_the_rare_contact(app, client, login):
    for first, last, email, phone in SPECIAL:
        make_contact(first_name=first, last_name=last, email=email, phone=phone)
    make_contact(first_name="Olivia", last_name="Smith", phone="+1 617 555 0136")
    db.session.commit()
    login("viewer")
    for search in ("olivia.smith", "zelda", "555-0135", "(555) 0135", "5550135"):
        names = [d["name"] for d in client.get(f"/admin/search/suggest?q={search}").get_json()]
        assert names == ["Zelda Reed"], search
    for search in ("van der", "berg chloe", "Chloe Van der Berg", "chloe berg"):
        names = [d["name"] for d in client.get(f"/admin/search/suggest?q={search}").get_json()]
        assert names == ["Chloe Van der Berg"], search
    names = [d["name"] for d in client.get("/admin/search/suggest?q=ree").get_json()]
    assert names == ["Nora Reed", "Zelda Reed"]


def test_related_lists_join_the_contacts_they_search(app):
    """Transactions searched by a contact's name or an exact gateway ID: PostgreSQL cannot
    turn an ``IN`` under an ``OR`` into a join, and tested every payment of the table against
    the matching contacts (a "hashed SubPlan" over a scan of all payments: 2.8 s at a million
    contacts); as one ``id IN (… UNION ALL …)`` it joins the few payments of those contacts."""
    view = next(v for v in current_app.extensions["admin"][0]._views
                if getattr(v, "endpoint", None) == "payment")
    assert view.exact_search_columns and view.contact_search_column
    with current_app.test_request_context("/admin/payment/"):
        page = view.get_list(0, None, False, "nora reed", [], execute=False)[1]
        count = view.get_count_query()
        count = view._apply_search(count, count, {}, {}, "nora reed")[1]
    for statement in (page.statement, count.counting_statement()):
        plan = _plan(statement)
        assert "SubPlan" not in plan and "SCAN payment\n" not in plan + "\n", plan


def test_several_words_intersect_their_ids_before_reading_contacts(app):
    """A search of several words ("nor ree") intersects the words' id lists, then reads the
    contacts found: one ``IN`` per word made PostgreSQL read every contact the first word
    matched (7,225 for "nora", 59 found with "reed"; 2× slower at a million contacts)."""
    for search in ("nor ree", "berg chloe", "van der"):
        page, count = _contact_list(search)
        for plan in (_plan(page), _plan(count)):
            assert "intersect" in plan.lower(), plan
    page, count = _contact_list("zelda")
    assert "intersect" not in _plan(page).lower()
