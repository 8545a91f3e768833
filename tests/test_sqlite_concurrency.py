"""SQLite under concurrent use: a CSV export streaming while other admins sign in, edit records
and run actions, and another process writes; every one of them succeeds, and afterwards nothing
holds a lock. A transaction that fails gives its connection back clean."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import insert, select

from admin_app.actions.adjust_credits import adjust_credits, credit_balance
from admin_app.clock import utcnow
from admin_app.extensions import db
from admin_app.jobs.engine import _in_app_context
from admin_app.models import AdminUser, Contact, Payment, PaymentStatus, Service
from tests.factories import make_admin, make_contact, make_payment, make_service

pytestmark = [pytest.mark.fresh_database, pytest.mark.backends("sqlite")]

EXPORTED_PAYMENTS = 3000


def _sqlite_path() -> str:
    assert db.engine.dialect.name == "sqlite"
    return db.engine.url.database


def _nothing_locked(path: str) -> None:
    """A new connection that does not wait at all can take the write lock and read."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        assert probe.execute("SELECT count(*) FROM contact").fetchone()[0] > 0
    finally:
        probe.close()


def _many_payments(contact: Contact) -> None:
    now = utcnow()
    db.session.execute(insert(Payment), [
        {"contact_id": contact.id, "amount_minor": 1000 + n, "currency": "USD",
         "status": PaymentStatus.SUCCEEDED, "method": "cash", "purpose": "custom_bill",
         "created_at": now,
         "updated_at": now} for n in range(EXPORTED_PAYMENTS)])
    db.session.commit()


def test_export_streams_while_others_sign_in_edit_and_act(app):
    path = _sqlite_path()
    assert db.session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    ada = make_contact(first_name="Ada", last_name="Byron")
    service = make_service(name="Physio")
    make_payment(contact=ada, amount_minor=500)
    db.session.commit()
    _many_payments(ada)
    owner, cashier = make_admin(role="owner"), make_admin(role="cashier")
    newcomers = [make_admin(role="viewer") for _ in range(3)]
    contact_id, service_id = ada.id, service.id
    owner_email, cashier_id = owner.email, cashier.id
    emails = [user.email for user in newcomers]
    db.session.remove()

    exporter = app.test_client()
    assert exporter.post("/admin/login", data={"email": owner_email,
                                               "password": "secret-pw"}).status_code == 302
    export = exporter.get("/admin/payment/export/csv/", buffered=False)
    chunks = iter(export.response)
    received = [next(chunks), next(chunks)]  # the export's read is now open, mid-stream

    def sign_in(email: str) -> int:
        return app.test_client().post("/admin/login", data={
            "email": email, "password": "secret-pw"}).status_code

    def edit_contact() -> int:
        editor = app.test_client()
        editor.post("/admin/login", data={"email": owner_email, "password": "secret-pw"})
        return editor.post(f"/admin/contact/edit/?id={contact_id}", data={
            "first_name": "Augusta", "last_name": "Byron", "email": "ada@example.com",
            "phone": "555-0101", "status": "active"}).status_code

    def add_credits() -> int:
        with app.app_context():
            contact = db.session.get(Contact, contact_id)
            service = db.session.get(Service, service_id)
            adjust_credits(contact, service=service, quantity=3, reason="Goodwill",
                           actor=db.session.get(AdminUser, cashier_id), idempotency_key=uuid4().hex,
                           expires_at=utcnow() + timedelta(days=30))
            return credit_balance(contact_id, service_id)

    def other_process_writes() -> int:
        return subprocess.run([sys.executable, "-c", (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=20); "
            "c.execute(\"UPDATE contact SET notes = 'from the worker' WHERE id = ?\", "
            "(int(sys.argv[2]),)); c.commit()"), path, str(contact_id)],
            capture_output=True, text=True, timeout=60).returncode

    with ThreadPoolExecutor(max_workers=6) as pool:
        signed_in = [pool.submit(sign_in, email) for email in emails]
        edited = pool.submit(edit_contact)
        credited = pool.submit(add_credits)
        written = pool.submit(other_process_writes)
        assert [f.result(timeout=60) for f in signed_in] == [302, 302, 302]
        assert edited.result(timeout=60) == 302
        assert credited.result(timeout=60) == 3
        assert written.result(timeout=60) == 0

    received.extend(chunks)  # the export goes on to its end, unharmed
    export.close()
    lines = b"".join(received).decode().splitlines()
    assert len(lines) == 1 + 1 + EXPORTED_PAYMENTS

    contact = db.session.get(Contact, contact_id)
    assert (contact.first_name, contact.notes) == ("Augusta", "from the worker")
    _nothing_locked(path)


def test_a_failed_transaction_gives_its_connection_back_unlocked(app):
    """A job that wrote and then failed (as a write refused by the database would) leaves no
    lock behind: the next writer, in any process, does not wait at all."""
    path = _sqlite_path()
    make_contact(first_name="Ada")
    db.session.commit()

    @_in_app_context
    def failing_job():
        db.session.execute(Contact.__table__.update().values(notes="half done"))
        raise RuntimeError("the write after it failed")

    done = threading.Event()

    def run() -> None:
        with pytest.raises(RuntimeError):
            failing_job()
        done.set()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=30)
    assert done.is_set()
    _nothing_locked(path)
    assert db.session.scalar(select(Contact.notes)) is None
