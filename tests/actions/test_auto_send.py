"""Settings → Cashier settings → Automatically send receipts is honoured by every action that
issues a document: on for a type, its document is queued by the chosen method; off (or the
type left out), nothing is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from admin_app import clock
from admin_app.actions.charge_custom_bill import charge_custom_bill
from admin_app.actions.charge_invoice import charge_invoice
from admin_app.actions.charge_no_show_fee import charge_no_show_fee
from admin_app.actions.issue_document import issue_draft_document
from admin_app.actions.refund_payment import refund_payment
from admin_app.extensions import db
from admin_app.models import (
    CashierSettings,
    DeliveryChannel,
    DocumentType,
    OutboundMessage,
    PaymentMethodKind,
    RefundReason,
)
from tests.factories import give_card, make_appointment, make_contact, make_document

pytestmark = pytest.mark.processor
NOW = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


def _settings(on: bool, channel=DeliveryChannel.EMAIL, **types) -> None:
    settings = CashierSettings.get()
    settings.auto_send_receipts, settings.auto_send_channel = on, channel
    for name, value in types.items():
        setattr(settings, name, value)
    db.session.commit()


def _queued() -> list[tuple[DocumentType, DeliveryChannel, str]]:
    return [(m.document.doc_type, m.channel, m.recipient)
            for m in db.session.query(OutboundMessage).order_by(OutboundMessage.id)]


@pytest.fixture
def ada(app):
    contact = make_contact(first_name="Ada", email="ada@example.com", phone="+15550100")
    db.session.commit()
    give_card(contact)
    return contact


def _charge(ada, cashier, key):
    return charge_custom_bill(ada, amount_minor=4500, currency="USD", description="Oil",
                              method=PaymentMethodKind.CARD, actor=cashier,
                              idempotency_key=key()).record


def _refund(ada, cashier, key):
    payment = _charge(ada, cashier, key)
    db.session.query(OutboundMessage).delete()
    db.session.commit()
    refund_payment(payment, amount_minor=1000, reason=RefundReason.REQUESTED_BY_CUSTOMER,
                   note=None, reverse_credits=False, actor=cashier, idempotency_key=key())


def _no_show(ada, cashier, key):
    clock.freeze(NOW)
    appointment = make_appointment(contact=ada, starts_at=NOW - timedelta(hours=2))
    db.session.commit()
    charge_no_show_fee(appointment, amount_minor=7500, actor=cashier, idempotency_key=key())


def _issue_invoice(ada, cashier, key):
    draft = make_document(contact=ada)
    db.session.commit()
    issue_draft_document(draft, actor=cashier, idempotency_key=key())


def _pay_invoice(ada, cashier, key):
    invoice = make_document(contact=ada)
    db.session.commit()
    issue_draft_document(invoice, actor=cashier, idempotency_key=key())
    db.session.query(OutboundMessage).delete()
    db.session.commit()
    charge_invoice(invoice, method=PaymentMethodKind.CARD, actor=cashier,
                   idempotency_key=key())


ACTIONS = {  # action -> (the type it issues, the setting of that type)
    "charge": (_charge, DocumentType.RECEIPT, "auto_send_receipts_docs"),
    "refund": (_refund, DocumentType.CREDIT_NOTE, "auto_send_credit_notes"),
    "no_show_fee": (_no_show, DocumentType.RECEIPT, "auto_send_receipts_docs"),
    "invoice_issue": (_issue_invoice, DocumentType.INVOICE, "auto_send_invoices"),
    "invoice_charge": (_pay_invoice, DocumentType.RECEIPT, "auto_send_receipts_docs"),
}


@pytest.mark.parametrize(("name", "channel"), [
    *[(name, DeliveryChannel.EMAIL) for name in ACTIONS], ("refund", DeliveryChannel.SMS),
    ("invoice_issue", DeliveryChannel.SMS)])
def test_on_queues_the_document_by_the_chosen_method(name, channel, ada, cashier, key):
    run, doc_type, _ = ACTIONS[name]
    _settings(True, channel)
    run(ada, cashier, key)
    recipient = "ada@example.com" if channel is DeliveryChannel.EMAIL else "+15550100"
    assert _queued() == [(doc_type, channel, recipient)]


@pytest.mark.parametrize("name", ACTIONS)
def test_off_or_type_left_out_queues_nothing(name, ada, cashier, key):
    run, _, setting = ACTIONS[name]
    _settings(False)
    run(ada, cashier, key)
    assert _queued() == []
    _settings(True, **{setting: False})
    run(ada, cashier, key)
    assert _queued() == []
