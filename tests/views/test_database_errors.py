"""A database's refusal of a hand edit reads as a sentence, never the driver's message, and
nothing is saved; invoice lines with junk are a form error, not a 500."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DataError, IntegrityError

from admin_app.extensions import db
from admin_app.models import Document, Service
from admin_app.views.database_errors import explain
from tests.factories import make_contact, make_service


@pytest.mark.all_databases
def test_a_duplicate_name_is_said_in_words(client, login, app):
    login("owner")
    make_service(name="Physio 45")
    db.session.commit()
    response = client.post("/admin/service/new/", data={
        "name": "Physio 45", "price_minor": "90.00", "currency": "USD", "is_active": "y"},
        follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # The form's own check ("already exists") or, past it, the database's refusal in words.
    assert "Already exists" in html or "Another service already has this name" in html
    assert "Integrity error" not in html and "psycopg" not in html and "sqlite3" not in html
    assert db.session.query(Service).filter_by(name="Physio 45").count() == 1


@pytest.mark.parametrize(("orig", "said"), [
    ('duplicate key value violates unique constraint "uq_promo_code_code"',
     "Another promo code already has this code"),
    ("UNIQUE constraint failed: service.name", "Another service already has this name"),
    ('new row for relation "payment" violates check constraint '
     '"ck_payment_refunded_within_paid"', "more cannot be refunded than was paid"),
    ("CHECK constraint failed: ck_document_line_quantity_positive",
     "the quantity must be at least 1"),
    ("NOT NULL constraint failed: contact.first_name", "first name is required"),
])
def test_constraints_are_named_in_words(app, orig, said):
    assert said in explain(IntegrityError("INSERT ...", {}, Exception(orig)))


def test_a_value_the_column_cannot_hold_is_explained():
    assert "out of range" in explain(DataError("SELECT", {}, Exception("integer out of range")))
    assert explain(ValueError("x")) is None


@pytest.mark.all_databases
@pytest.mark.parametrize("quantity", ["", "0", "-3", "99999999999999999999", "1e3", "x"])
def test_invoice_lines_with_junk_are_a_form_error(client, login, app, quantity):
    login("owner")
    contact = make_contact()
    db.session.commit()
    response = client.post("/admin/document/new/", data={
        "doc_type": "invoice", "contact": str(contact.id), "currency": "USD",
        "lines-0-description": "Massage", "lines-0-quantity": quantity,
        "lines-0-unit_amount_minor": "75.00"})
    assert response.status_code in (200, 302)
    assert db.session.query(Document).count() == 0


def test_a_viewer_opening_adjust_credits_is_sent_back(client, login, app):
    contact = make_contact()
    db.session.commit()
    login("viewer")
    response = client.get(f"/admin/contact/credits/adjust/?id={contact.id}",
                          follow_redirects=True)
    assert response.request.path == "/admin/contact/details/"
    assert b"may not adjust credits" in response.data
