"""Workflow 12: charge a no-show fee (or waive it), at most one fee per appointment, ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from admin_app import clock
from admin_app.actions.charge_no_show_fee import charge_no_show_fee
from admin_app.actions.runner import AlreadyDone
from admin_app.actions.waive_no_show_fee import waive_no_show_fee
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentStatus,
    CashierSettings,
    Document,
    DocumentType,
    NoShowFeeStatus,
    Payment,
    PaymentPurpose,
    PaymentStatus,
)
from tests.actions.conftest import audit_entries
from tests.factories import give_card, make_appointment, make_contact, make_service

# No-show fees are charged to saved cards at the processor.
pytestmark = pytest.mark.processor

NOW = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOW)
    try:
        yield
    finally:
        clock.freeze(None)


@pytest.fixture
def missed(app):
    """An appointment two hours ago that the member did not come to; they have a card."""
    contact = make_contact(first_name="Noah")
    appointment = make_appointment(contact=contact, service=make_service(name="Physio"),
                                   starts_at=NOW - timedelta(hours=2))
    db.session.commit()
    give_card(contact)
    return appointment


def _charge(appointment, actor, key, amount=7500):
    return charge_no_show_fee(appointment, amount_minor=amount, actor=actor,
                              idempotency_key=key()).record


def _fresh(appointment) -> Appointment:
    db.session.expire_all()
    return db.session.get(Appointment, appointment.id)


def _receipts():
    return db.session.query(Document).filter_by(doc_type=DocumentType.RECEIPT).all()


def test_charge_confirms_the_no_show_and_issues_a_receipt(missed, cashier, key):
    payment = _charge(missed, cashier, key)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.purpose is PaymentPurpose.NO_SHOW_FEE and payment.currency == "USD"
    appointment = _fresh(missed)
    assert appointment.status is AppointmentStatus.NO_SHOW
    assert appointment.no_show_fee_status is NoShowFeeStatus.CHARGED
    assert appointment.no_show_fee_payment_id == payment.id
    (receipt,) = _receipts()
    assert receipt.payment_id == payment.id and receipt.total_minor == 7500
    (entry,) = audit_entries("charge_no_show_fee")
    assert entry.before == {"status": "booked", "no_show_fee_status": "none"}
    assert entry.after["no_show_fee_status"] == "charged" and entry.actor_id == cashier.id
    assert "$75.00" in entry.summary


def test_the_default_fee_is_seventy_five_dollars(app):
    assert CashierSettings.get().no_show_fee_minor == 7500


def test_a_second_fee_is_refused_ever(missed, owner, key):
    _charge(missed, owner, key)
    with pytest.raises(ActionError) as refused:
        _charge(missed, owner, key)
    assert refused.value.code == "fee_already_charged"
    with pytest.raises(ActionError) as refused:
        waive_no_show_fee(missed, reason="Sorry", actor=owner, idempotency_key=key())
    assert refused.value.code == "fee_already_charged"
    assert db.session.query(Payment).count() == 1 and len(_receipts()) == 1


@pytest.mark.parametrize(("change", "code"), [
    ({"starts_at": NOW + timedelta(minutes=5)}, "appointment_in_future"),
    ({"status": AppointmentStatus.CANCELLED}, "appointment_cancelled"),
    ({"status": AppointmentStatus.ATTENDED}, "appointment_attended"),
    ({"no_show_fee_status": NoShowFeeStatus.WAIVED}, "fee_waived"),
    ({"no_show_fee_status": NoShowFeeStatus.CHARGED}, "fee_already_charged"),
    ({}, "amount_not_positive"),
])
def test_refusals_change_nothing(missed, owner, key, change, code):
    for name, value in change.items():
        setattr(missed, name, value)
    db.session.commit()
    before = (missed.status, missed.no_show_fee_status)
    with pytest.raises(ActionError) as refused:
        _charge(missed, owner, key, amount=0 if not change else 7500)
    assert refused.value.code == code
    appointment = _fresh(missed)
    assert (appointment.status, appointment.no_show_fee_status) == before
    assert db.session.query(Payment).count() == 0
    assert audit_entries("charge_no_show_fee") == []


def test_no_saved_card_changes_nothing(app, owner, key):
    appointment = make_appointment(starts_at=NOW - timedelta(days=1))
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        _charge(appointment, owner, key)
    assert refused.value.code == "no_payment_method"
    assert _fresh(appointment).status is AppointmentStatus.BOOKED


def test_a_declined_card_marks_the_fee_failed_and_can_be_retried(app, owner, key):
    contact = make_contact()
    appointment = make_appointment(contact=contact, starts_at=NOW - timedelta(hours=1))
    db.session.commit()
    give_card(contact, number="4000000000000341")
    with pytest.raises(ActionError) as refused:
        _charge(appointment, owner, key)
    assert refused.value.code == "card_declined"
    appointment = _fresh(appointment)
    assert appointment.status is AppointmentStatus.NO_SHOW
    assert appointment.no_show_fee_status is NoShowFeeStatus.FAILED
    assert appointment.no_show_fee_payment_id is None
    (failed,) = db.session.query(Payment).all()
    assert failed.status is PaymentStatus.FAILED and _receipts() == []
    assert audit_entries("charge_no_show_fee")[0].after["no_show_fee_status"] == "failed"
    give_card(contact)  # the member gives a new card
    payment = _charge(appointment, owner, key)
    appointment = _fresh(appointment)
    assert appointment.no_show_fee_status is NoShowFeeStatus.CHARGED
    assert appointment.no_show_fee_payment_id == payment.id


def test_waive_with_a_reason(missed, owner, key):
    with pytest.raises(ActionError) as refused:
        waive_no_show_fee(missed, reason="  ", actor=owner, idempotency_key=key())
    assert refused.value.code == "reason_required"
    waive_no_show_fee(missed, reason="Called in sick", actor=owner, idempotency_key=key())
    appointment = _fresh(missed)
    assert appointment.status is AppointmentStatus.NO_SHOW
    assert appointment.no_show_fee_status is NoShowFeeStatus.WAIVED
    assert appointment.no_show_waive_reason == "Called in sick"
    (entry,) = audit_entries("waive_no_show_fee")
    assert entry.after["reason"] == "Called in sick"
    with pytest.raises(ActionError) as refused:
        _charge(appointment, owner, key)
    assert refused.value.code == "fee_waived"
    with pytest.raises(ActionError) as refused:
        waive_no_show_fee(appointment, reason="Again", actor=owner, idempotency_key=key())
    assert refused.value.code == "fee_waived"
    assert db.session.query(Payment).count() == 0


def test_double_submit_charges_once(missed, owner, key, processor):
    same = key()
    charge_no_show_fee(missed, amount_minor=7500, actor=owner, idempotency_key=same)
    with pytest.raises(AlreadyDone):
        charge_no_show_fee(missed, amount_minor=7500, actor=owner, idempotency_key=same)
    assert db.session.query(Payment).count() == 1 and processor.count_charges() == 1


def test_viewer_may_not_charge_or_waive(missed, viewer, key):
    for act in (lambda: _charge(missed, viewer, key),
                lambda: waive_no_show_fee(missed, reason="x", actor=viewer,
                                          idempotency_key=key())):
        with pytest.raises(ActionError) as refused:
            act()
        assert refused.value.code == "not_permitted"
    assert _fresh(missed).no_show_fee_status is NoShowFeeStatus.NONE


# --- through the admin -----------------------------------------------------------------------

def test_no_show_fee_from_the_menu(client, login, missed):
    settings = CashierSettings.get()
    settings.no_show_fee_minor = 6000
    db.session.commit()
    login("cashier")
    listing = client.get("/admin/appointment/").get_data(as_text=True)
    assert f"/admin/appointment/no-show-fee/?id={missed.id}" in listing
    assert f"/admin/appointment/waive-fee/?id={missed.id}" in listing
    card = client.get(f"/admin/contact/details/?id={missed.contact_id}&tab=appointments")
    assert f"/admin/appointment/no-show-fee/?id={missed.id}".encode() in card.data
    details = client.get(f"/admin/appointment/details/?id={missed.id}")
    assert f"/admin/appointment/waive-fee/?id={missed.id}".encode() in details.data
    url = f"/admin/appointment/no-show-fee/?id={missed.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="60.00"' in page and "Visa •••• 4242" in page
    unconfirmed = client.post(url, data={"amount": "60.00", "idempotency_key": "ns-0"})
    assert unconfirmed.status_code == 200 and b"confirm the no-show." in unconfirmed.data
    large = client.post(url, data={"amount": "12,000.00", "confirm": "y",
                                   "idempotency_key": "ns-big"})
    assert large.status_code == 200 and b"This is a large fee" in large.data
    assert db.session.query(Payment).count() == 0
    form = {"amount": "70.00", "confirm": "y", "idempotency_key": "ns-1"}
    done = client.post(url, data=form)
    assert done.status_code == 302
    assert "Charged the no-show fee of $70.00" in client.get(done.location).get_data(
        as_text=True)
    again = client.post(url, data=form, follow_redirects=True)
    assert b"Already done" in again.data
    second = client.post(url, data={**form, "idempotency_key": "ns-2"})
    assert second.status_code == 200 and b"was already charged" in second.data
    assert db.session.query(Payment).one().amount_minor == 7000
    listing = client.get("/admin/appointment/").get_data(as_text=True)
    assert f"/admin/appointment/no-show-fee/?id={missed.id}" not in listing


def test_waive_from_the_menu(client, login, missed):
    login("owner")
    url = f"/admin/appointment/waive-fee/?id={missed.id}"
    assert client.get(url).status_code == 200
    empty = client.post(url, data={"reason": "", "idempotency_key": "w-0"})
    assert b"Say why the fee is waived." in empty.data
    done = client.post(url, data={"reason": "First time", "idempotency_key": "w-1"},
                       follow_redirects=True)
    assert b"Waived the no-show fee" in done.data
    assert _fresh(missed).no_show_fee_status is NoShowFeeStatus.WAIVED


def test_viewer_sees_no_fee_items_and_is_refused(client, login, missed):
    login("viewer")
    listing = client.get("/admin/appointment/").get_data(as_text=True)
    assert "/admin/appointment/no-show-fee/" not in listing
    page = client.post(f"/admin/appointment/no-show-fee/?id={missed.id}", data={
        "amount": "75", "confirm": "y", "idempotency_key": "v-1"}, follow_redirects=True)
    assert b"may not charge or waive no-show fees" in page.data
    assert db.session.query(Payment).count() == 0


def test_bulk_no_show_fee_reports_per_row(client, login, missed):
    future = make_appointment(contact=missed.contact, starts_at=NOW + timedelta(days=1))
    no_card = make_appointment(starts_at=NOW - timedelta(days=1))
    db.session.commit()
    ids = [missed.id, future.id, no_card.id]
    login("manager")
    page = client.post("/admin/appointment/action/", data={
        "action": "charge_no_show_fee", "rowid": [str(i) for i in ids],
        "url": "/admin/appointment/"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "no-show fee for 3 appointment(s)" in html
    assert "$75.00" in html
    form = {"row_ids": ",".join(map(str, ids)), "fee_minor": "7500", "confirm": "y",
            "idempotency_key": "bulk-1"}
    done = client.post("/admin/appointment/bulk/charge_no_show_fee/", data=form,
                       follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "1 charged, 2 refused" in text
    assert f"#{future.id}: Appointment #{future.id}" in text and "has not started yet" in text
    assert "has no saved card" in text
    again = client.post("/admin/appointment/bulk/charge_no_show_fee/", data=form,
                        follow_redirects=True)
    assert b"0 charged, 1 already done before, 2 refused" in again.data
    assert db.session.query(Payment).count() == 1


def test_bulk_all_matching_rows(client, login, missed):
    other = make_appointment(starts_at=NOW - timedelta(days=3))
    db.session.commit()
    login("owner")
    page = client.post("/admin/appointment/action/", data={
        "action": "charge_no_show_fee", "rowid": [str(missed.id)], "select_all_matching": "1",
        "url": "/admin/appointment/"})
    assert b"no-show fee for 2 appointment(s)" in page.data
    assert other.id
