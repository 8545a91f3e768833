"""Small builders for test data: each makes a valid record, overrides by keyword, flushed."""

from __future__ import annotations

import itertools
from datetime import timedelta

from admin_app.clock import utcnow
from admin_app.extensions import db
from admin_app.models import (
    AdminUser,
    Appointment,
    Contact,
    CreditEntry,
    CreditReason,
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Plan,
    PlanService,
    PromoCode,
    Role,
    Service,
    Subscription,
    SubscriptionStatus,
)

_seq = itertools.count(1)


def _save(record):
    db.session.add(record)
    db.session.flush()
    return record


def make_admin(*, role: str = "owner", password: str = "secret-pw", **kw) -> AdminUser:
    n = next(_seq)
    user = AdminUser(email=kw.pop("email", f"{role}{n}@example.com"), role=Role(role), **kw)
    user.set_password(password)
    _save(user)
    db.session.commit()
    return user


def make_contact(**kw) -> Contact:
    n = next(_seq)
    defaults = {"first_name": f"Ada{n}", "last_name": f"Lovelace{n}",
                "email": f"ada{n}@example.com", "phone": f"+1555000{n:04d}"}
    return _save(Contact(**{**defaults, **kw}))


def make_service(**kw) -> Service:
    n = next(_seq)
    defaults = {"name": f"Physiotherapy {n}", "price_minor": 9000, "currency": "USD"}
    return _save(Service(**{**defaults, **kw}))


def make_plan(*, credits: int = 4, service: Service | None = None, **kw) -> Plan:
    n = next(_seq)
    defaults = {"name": f"Monthly {n}", "price_minor": 12000, "currency": "USD",
                "activation_fee_minor": 2500}
    plan = Plan(**{**defaults, **kw})
    plan.services.append(PlanService(service=service or make_service(),
                                     credits_per_period=credits))
    return _save(plan)


def make_subscription(*, contact=None, plan=None, **kw) -> Subscription:
    start = utcnow()
    defaults = {"status": SubscriptionStatus.ACTIVE, "current_period_start": start,
                "current_period_end": start + timedelta(days=30)}
    return _save(Subscription(contact=contact or make_contact(), plan=plan or make_plan(),
                              **{**defaults, **kw}))


def make_payment(*, contact=None, **kw) -> Payment:
    defaults = {"amount_minor": 7500, "currency": "USD", "status": PaymentStatus.SUCCEEDED,
                "purpose": PaymentPurpose.CUSTOM_BILL, "paid_at": utcnow()}
    return _save(Payment(contact=contact or make_contact(), **{**defaults, **kw}))


def make_credit(*, contact, service, quantity: int = 1, **kw) -> CreditEntry:
    return _save(CreditEntry(contact=contact, service=service, quantity=quantity,
                             reason=kw.pop("reason", CreditReason.MANUAL_ADD), **kw))


def make_appointment(*, contact=None, service=None, **kw) -> Appointment:
    return _save(Appointment(contact=contact or make_contact(), service=service or make_service(),
                             starts_at=kw.pop("starts_at", utcnow()), **kw))


def make_promo(**kw) -> PromoCode:
    n = next(_seq)
    defaults = {"code": f"SAVE{n}", "percent_off": 10}
    return _save(PromoCode(**{**defaults, **kw}))


def make_document(*, contact=None, issued_number: int | None = None, **kw) -> Document:
    doc = Document(contact=contact or make_contact(), doc_type=kw.pop("doc_type",
                   DocumentType.INVOICE), currency="USD", total_minor=5000, **kw)
    doc.lines.append(DocumentLine(description="Consultation", quantity=1,
                                  unit_amount_minor=5000))
    if issued_number is not None:
        doc.status, doc.number, doc.issued_at = DocumentStatus.ISSUED, issued_number, utcnow()
    return _save(doc)


def give_card(contact, *, number: str = "4242424242424242", actor=None):
    """Save a card for ``contact`` through the configured gateway, as the default (commits)."""
    from uuid import uuid4

    from admin_app.actions.add_payment_method import add_payment_method
    from admin_app.payments import CardDetails

    actor = actor or make_admin(role="owner")
    return add_payment_method(contact, card=CardDetails(number, 12, 2030, "123"), make_default=True,
                              actor=actor, idempotency_key=uuid4().hex).record


def cashier_settings_form(**changes) -> dict:
    """A complete, valid Settings → Cashier settings form (the defaults), with ``changes``:
    what a test posts to ``/admin/cashier_settings/edit/?id=1``."""
    form = {"business_name": "Harbor Physio", "time_zone": "UTC", "currency": "USD",
            "auto_send_channel": "email", "no_show_fee_minor": "75.00", "paper_size": "A4",
            "invoice_prefix": "INV-", "receipt_prefix": "RCT-", "credit_note_prefix": "CN-",
            "retry_schedule_days": "1,3,5,7", "after_final_retry": "unpaid",
            "invoice_due_days": "14", "credit_use": "attended", "cancel_notice_hours": "24"}
    return {**form, **changes}
