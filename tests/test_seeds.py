"""The demo clinic and the scale seeder produce data that keeps every invariant."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    AdminUser,
    Appointment,
    AppointmentStatus,
    Contact,
    CreditEntry,
    Document,
    DocumentStatus,
    Payment,
    PaymentStatus,
    Plan,
    Refund,
    RefundStatus,
    Subscription,
    SubscriptionStatus,
)


def _assert_invariants():
    for payment in db.session.scalars(select(Payment)):
        refunded = sum(r.amount_minor for r in payment.refunds
                       if r.status is RefundStatus.SUCCEEDED)
        assert payment.amount_refunded_minor == refunded <= payment.amount_minor
        if payment.status is PaymentStatus.REFUNDED:
            assert refunded == payment.amount_minor
    balances = db.session.execute(
        select(CreditEntry.contact_id, CreditEntry.service_id, func.sum(CreditEntry.quantity))
        .group_by(CreditEntry.contact_id, CreditEntry.service_id)).all()
    assert all(total >= 0 for *_, total in balances)
    numbers = defaultdict(list)
    for doc in db.session.scalars(select(Document).where(Document.status != DocumentStatus.DRAFT)):
        numbers[doc.doc_type].append(doc.number)
    for found in numbers.values():
        assert sorted(found) == list(range(1, len(found) + 1))


def test_demo_clinic(app, demo_data):
    from seeds import load_demo

    assert demo_data.loaded is True  # the first load_demo(), into the empty database
    assert load_demo() is False  # only into an empty database
    admin = db.session.scalar(select(AdminUser).where(AdminUser.email == "admin@example.com"))
    assert admin.check_password("admin") and admin.role.value == "owner"
    assert 150 <= db.session.scalar(select(func.count()).select_from(Contact)) <= 250
    assert 4 <= db.session.scalar(select(func.count()).select_from(Plan)) <= 6
    statuses = set(db.session.scalars(select(Subscription.status).distinct()))
    assert statuses == set(SubscriptionStatus)
    payment_statuses = set(db.session.scalars(select(Payment.status).distinct()))
    assert {PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED,
            PaymentStatus.FAILED} <= payment_statuses
    assert db.session.scalar(select(func.count()).select_from(Refund)) > 0
    assert db.session.scalar(select(func.count()).select_from(Appointment)
                             .where(Appointment.status == AppointmentStatus.NO_SHOW)) > 0
    assert all(p.services for p in db.session.scalars(select(Plan)))
    _assert_invariants()


def test_demo_pages_render(client, app, demo_data):
    from seeds import load_demo

    load_demo()
    client.post("/admin/login", data={"email": "admin@example.com", "password": "admin"})
    contact_id = db.session.scalar(select(func.min(Contact.id)))
    for url in ["/admin/", "/admin/contact/", "/admin/subscription/", "/admin/payment/",
                "/admin/document/", "/admin/appointment/", "/admin/plan/",
                "/admin/promo_code/", "/admin/credit_entry/", "/admin/audit_entry/"] + [
            f"/admin/contact/details/?id={contact_id}&tab={tab}" for tab in (
                "transactions", "subscriptions", "credits", "appointments", "payment_methods",
                "documents")]:
        assert client.get(url).status_code == 200, url


def test_scale_seeder(app):
    from seeds import load_scale

    counts = load_scale(500, batch_size=200, progress=False)
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 500
    assert counts["contact"] == 500
    assert db.session.scalar(select(func.count()).select_from(Payment)) > 500
    assert db.session.scalar(select(func.count()).select_from(Subscription)) > 100
    _assert_invariants()
    # Ids were assigned by the seeder: the database must still hand out fresh ones after it.
    contact = Contact(first_name="After", last_name="Seed")
    db.session.add(contact)
    db.session.commit()
    assert contact.id > 500


def test_large_load_finds_the_indexes_it_rebuilds(app):
    """A load of 10,000 contacts or more drops the seeded tables' non-unique indexes and builds
    them again at the end: it must find them on each database (on PostgreSQL the query's LIKE
    pattern once broke psycopg's placeholders) and never a unique one."""
    from seeds.scale import _droppable_indexes

    found = dict(_droppable_indexes(db.session, ("payment", "contact_search_key")))
    assert "ix_payment_status_created" in found
    assert all("UNIQUE" not in create.upper() for create in found.values())
    assert all(create.upper().startswith("CREATE INDEX") for create in found.values())
