"""Workflows 10–11: add and remove credits by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from admin_app.actions.adjust_credits import adjust_credits, credit_balance
from admin_app.actions.runner import AlreadyDone
from admin_app.clock import utcnow
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import CreditEntry, CreditReason
from tests.actions.conftest import audit_entries
from tests.factories import make_contact, make_credit, make_service


@pytest.fixture
def grace(app):
    contact, service = make_contact(first_name="Grace"), make_service(name="Physio")
    make_credit(contact=contact, service=service, quantity=2, reason=CreditReason.PERIOD_GRANT)
    db.session.commit()
    return contact, service


def test_add_and_remove_write_ledger_and_audit(grace, cashier, key):
    contact, service = grace
    added = adjust_credits(contact, service=service, quantity=3, reason="Goodwill",
                           actor=cashier, idempotency_key=key(),
                           expires_at=utcnow() + timedelta(days=30)).record
    assert added.reason is CreditReason.MANUAL_ADD and added.created_by_id == cashier.id
    removed = adjust_credits(contact, service=service, quantity=-4, reason="Used at desk",
                             actor=cashier, idempotency_key=key()).record
    assert removed.reason is CreditReason.MANUAL_REMOVE
    assert credit_balance(contact.id, service.id) == 1
    entries = audit_entries("adjust_credits")
    assert [(e.before["balance"], e.after["balance"]) for e in entries] == [(2, 5), (5, 1)]
    assert entries[0].actor_id == cashier.id


@pytest.mark.parametrize(("quantity", "reason", "expires_in", "code"), [
    (0, "x", None, "zero_quantity"),
    (5000, "x", None, "quantity_too_large"),
    (1, "  ", None, "reason_required"),
    (1, "x", -1, "expiry_in_past"),
    (-3, "x", None, "insufficient_credits"),
])
def test_refusals_change_nothing(grace, cashier, key, quantity, reason, expires_in, code):
    contact, service = grace
    expires_at = utcnow() + timedelta(days=expires_in) if expires_in else None
    with pytest.raises(ActionError) as refused:
        adjust_credits(contact, service=service, quantity=quantity, reason=reason,
                       expires_at=expires_at, actor=cashier, idempotency_key=key())
    assert refused.value.code == code
    assert credit_balance(contact.id, service.id) == 2
    assert db.session.query(CreditEntry).count() == 1
    assert audit_entries("adjust_credits") == []


def test_double_submit_adjusts_once(grace, cashier, key):
    contact, service = grace
    same = key()
    adjust_credits(contact, service=service, quantity=1, reason="x", actor=cashier,
                   idempotency_key=same)
    with pytest.raises(AlreadyDone):
        adjust_credits(contact, service=service, quantity=1, reason="x", actor=cashier,
                       idempotency_key=same)
    assert credit_balance(contact.id, service.id) == 3


def test_viewer_may_not_adjust(grace, viewer, key):
    contact, service = grace
    with pytest.raises(ActionError) as refused:
        adjust_credits(contact, service=service, quantity=1, reason="x", actor=viewer,
                       idempotency_key=key())
    assert refused.value.code == "not_permitted"
    assert credit_balance(contact.id, service.id) == 2


def test_adjust_from_the_contact_card(client, login, grace):
    contact, service = grace
    login("cashier")
    card = client.get(f"/admin/contact/details/?id={contact.id}&tab=credits")
    assert b"/admin/contact/credits/adjust/" in card.data
    form = {"service": str(service.id), "quantity": "-1", "reason": "Walk-in visit",
            "idempotency_key": "k-1"}
    response = client.post(f"/admin/contact/credits/adjust/?id={contact.id}", data=form)
    assert response.status_code == 302 and "tab=credits" in response.location
    again = client.post(f"/admin/contact/credits/adjust/?id={contact.id}", data=form,
                        follow_redirects=True)
    assert b"Already done" in again.data
    assert credit_balance(contact.id, service.id) == 1
    too_many = client.post(f"/admin/contact/credits/adjust/?id={contact.id}",
                           data={**form, "quantity": "-5", "idempotency_key": "k-2"})
    assert too_many.status_code == 200 and b"cannot remove 5" in too_many.data


def test_bulk_adjust_reports_per_row(client, login, grace):
    contact, service = grace
    empty = make_contact(first_name="Empty")
    db.session.commit()
    login("manager")
    page = client.post("/admin/contact/action/", data={
        "action": "adjust_credits", "rowid": [str(contact.id), str(empty.id)],
        "url": "/admin/contact/"})
    assert page.status_code == 200 and b"Adjust credits of 2 contacts" in page.data
    done = client.post("/admin/contact/bulk/adjust_credits/", data={
        "row_ids": f"{contact.id},{empty.id}", "service": str(service.id),
        "quantity": "-1", "reason": "Bulk fix", "idempotency_key": "bulk-1"},
        follow_redirects=True)
    assert b"1 adjusted, 1 refused" in done.data, done.get_data(as_text=True)[:3000]
    assert credit_balance(contact.id, service.id) == 1
    assert credit_balance(empty.id, service.id) == 0


def test_bulk_all_matching_rows(client, login, app):
    service = make_service(name="Yoga")
    for first in ("Ann", "Amy", "Bob"):
        make_contact(first_name=first, last_name="Smith", email=f"{first.lower()}@x.example")
    db.session.commit()
    login("owner")
    page = client.post("/admin/contact/action/", data={
        "action": "adjust_credits", "rowid": ["1"], "select_all_matching": "1",
        "url": "/admin/contact/?search=a"})
    assert b"Adjust credits of 2 contacts" in page.data  # Ann and Amy, not Bob
    assert service.id
