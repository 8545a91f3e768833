"""Hand edits through the admin forms: money typed in major units, times in the clinic's zone,
inline plan services, frozen records, and an audit entry for every change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from admin_app.extensions import db
from admin_app.models import (
    AdminUser,
    Appointment,
    AuditEntry,
    CashierSettings,
    Contact,
    ContactStatus,
    Document,
    Payment,
    Plan,
    PromoCode,
    Service,
)
from tests.factories import make_service


def _audit(action, target_type):
    return db.session.query(AuditEntry).filter_by(action=action, target_type=target_type).all()


def test_create_contact_writes_audit(client, login, app):
    user = login("cashier")
    response = client.post("/admin/contact/new/", data={
        "first_name": "Mary", "last_name": "Seacole", "email": "mary@example.com",
        "status": "lead"})
    assert response.status_code == 302
    contact = db.session.query(Contact).filter_by(last_name="Seacole").one()
    assert contact.status is ContactStatus.LEAD
    (entry,) = _audit("create", "contact")
    assert entry.actor_id == user.id and entry.target_id == str(contact.id)
    assert entry.after["email"] == "mary@example.com"


def test_edit_records_before_and_after(client, login, records):
    login("manager")
    grace = records["contact"]
    response = client.post(f"/admin/contact/edit/?id={grace.id}", data={
        "first_name": "Grace", "last_name": "Hopper", "email": "admiral@navy.example",
        "phone": grace.phone, "status": "inactive"})
    assert response.status_code == 302
    (entry,) = _audit("edit", "contact")
    assert entry.before == {"email": "grace@navy.example", "status": "active"}
    assert entry.after == {"email": "admiral@navy.example", "status": "inactive"}


def test_money_is_typed_in_major_units(client, login, app):
    login("owner")
    response = client.post("/admin/service/new/", data={
        "name": "Sports massage", "duration_minutes": "60", "price_minor": "90.50",
        "currency": "USD", "is_active": "y"})
    assert response.status_code == 302
    assert db.session.query(Service).filter_by(name="Sports massage").one().price_minor == 9050
    bad = client.post("/admin/service/new/", data={
        "name": "Bad", "duration_minutes": "60", "price_minor": "90.505", "currency": "USD"})
    assert bad.status_code == 200 and b"at most 2 decimal places" in bad.data
    assert db.session.query(Service).filter_by(name="Bad").count() == 0
    edit = client.get(f"/admin/service/edit/?id={db.session.query(Service).one().id}")
    assert b'value="90.50"' in edit.data


def test_plan_with_inline_services_and_activation_fee(client, login, app):
    login("owner")
    physio, pilates = make_service(name="Physio"), make_service(name="Pilates")
    db.session.commit()
    response = client.post("/admin/plan/new/", data={
        "name": "Rehab Plus", "price_minor": "149", "currency": "USD", "interval": "month",
        "interval_count": "1", "activation_fee_minor": "35.00", "is_active": "y",
        "services-0-service": str(physio.id), "services-0-credits_per_period": "4",
        "services-1-service": str(pilates.id), "services-1-credits_per_period": "2"})
    assert response.status_code == 302, response.data
    plan = db.session.query(Plan).filter_by(name="Rehab Plus").one()
    assert (plan.price_minor, plan.activation_fee_minor) == (14900, 3500)
    assert sorted((ps.service.name, ps.credits_per_period) for ps in plan.services) == [
        ("Physio", 4), ("Pilates", 2)]
    page = client.get(f"/admin/plan/edit/?id={plan.id}").get_data(as_text=True)
    assert "One time activation fee" in page and "Credits per period" in page


def test_times_are_typed_in_the_clinic_time_zone(client, login, records):
    login("owner")
    settings = CashierSettings.get()
    settings.time_zone = "America/New_York"
    db.session.commit()
    appointment = records["appointment"]
    response = client.post(f"/admin/appointment/edit/?id={appointment.id}", data={
        "contact": str(appointment.contact_id), "service": str(appointment.service_id),
        "starts_at": "2026-03-01 09:00:00", "status": "booked"})
    assert response.status_code == 302, response.data
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment.id)
    assert appointment.starts_at == datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    html = client.get("/admin/appointment/").get_data(as_text=True)
    assert "2026-03-01 09:00 EST" in html


def test_money_records_are_read_only(client, login, records):
    login("owner")
    payment = records["payment"]
    assert client.get("/admin/payment/new/").status_code == 302
    response = client.post(f"/admin/payment/edit/?id={payment.id}",
                           data={"amount_minor": "1.00"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).amount_minor == 12000
    for endpoint in ("refund", "credit_entry", "payment_method", "audit_entry"):
        assert client.get(f"/admin/{endpoint}/new/").status_code == 302


def test_viewer_cannot_change_anything(client, login, records):
    login("viewer")
    grace = records["contact"]
    client.post(f"/admin/contact/edit/?id={grace.id}", data={"first_name": "Changed",
                                                              "last_name": "X",
                                                              "status": "active"})
    client.post("/admin/contact/new/", data={"first_name": "New", "status": "active"})
    db.session.expire_all()
    assert db.session.get(Contact, grace.id).first_name == "Grace"
    assert db.session.query(Contact).count() == 1


def test_draft_documents_edit_and_issued_ones_are_frozen(client, login, records):
    login("cashier")
    draft, issued = records["draft"], records["document"]
    response = client.post(f"/admin/document/edit/?id={draft.id}", data={
        "doc_type": "invoice", "contact": str(draft.contact_id), "currency": "USD",
        "lines-0-id": str(draft.lines[0].id), "lines-0-description": "Assessment",
        "lines-0-quantity": "2", "lines-0-unit_amount_minor": "45.00"})
    assert response.status_code == 302, response.data
    db.session.expire_all()
    assert db.session.get(Document, draft.id).total_minor == 9000
    page = client.get(f"/admin/document/edit/?id={issued.id}")
    assert page.status_code == 302 and "details" in page.location
    client.post(f"/admin/document/edit/?id={issued.id}", data={
        "doc_type": "invoice", "contact": str(issued.contact_id), "currency": "EUR"})
    db.session.expire_all()
    assert db.session.get(Document, issued.id).currency == "USD"


def test_promo_code_rules_are_explained(client, login, app):
    login("owner")
    response = client.post("/admin/promo_code/new/", data={
        "code": "spring", "discount_type": "percent", "duration": "repeating"})
    assert b"percent off between 1 and 100" in response.data
    ok = client.post("/admin/promo_code/new/", data={
        "code": "spring", "discount_type": "percent", "percent_off": "20",
        "duration": "repeating", "duration_months": "3", "is_active": "y"})
    assert ok.status_code == 302
    assert db.session.query(PromoCode).one().code == "SPRING"


def test_owner_creates_admin_users_with_hashed_passwords(client, login, app):
    login("owner")
    response = client.post("/admin/admin_user/new/", data={
        "email": "Desk@Clinic.example", "name": "Front desk", "role": "cashier",
        "is_enabled": "y", "new_password": "front-desk-pw"})
    assert response.status_code == 302
    user = db.session.query(AdminUser).filter_by(email="desk@clinic.example").one()
    assert user.password_hash != "front-desk-pw" and user.check_password("front-desk-pw")
    assert "password_hash" not in (_audit("create", "admin_user")[0].after or {})


@pytest.mark.all_databases  # date filters compare stored times in SQL
def test_filters_by_status_and_date(client, login, records):
    login("viewer")
    html = client.get("/admin/payment/?flt0_status_equals=partially_refunded").get_data(
        as_text=True)
    assert "$120.00" in html
    none = client.get("/admin/payment/?flt0_status_equals=failed").get_data(as_text=True)
    assert "$120.00" not in none
    later = client.get("/admin/payment/?flt0_date_greater_than=2099-01-01+00:00:00")
    assert later.status_code == 200 and "$120.00" not in later.get_data(as_text=True)


def test_required_money_is_asked_for_in_place(client, login, app):
    login("owner")
    response = client.post("/admin/plan/new/", data={
        "name": "No price", "price_minor": "", "currency": "USD", "interval": "month",
        "interval_count": "1", "activation_fee_minor": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "This field is required." in html
    assert "IntegrityError" not in html and db.session.query(Plan).count() == 0
    # Price comes before the one-time activation fee, as declared in form_columns.
    assert html.index('id="price_minor"') < html.index('id="activation_fee_minor"')
