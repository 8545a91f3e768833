"""Documents as they print: the HTML page and the PDF come from one template and agree."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from admin_app.clock import freeze
from admin_app.documents import credit_note_for_refund, issue_document, receipt_for_payment
from admin_app.documents.rendering import is_overdue, payment_state, render_paper, render_pdf
from admin_app.extensions import db
from admin_app.models import (
    CashierSettings,
    Document,
    DocumentLine,
    DocumentType,
    Refund,
    RefundReason,
    RefundStatus,
)
from tests.documents.pdf_text import pdf_text
from tests.factories import make_contact, make_credit, make_payment, make_service

pytestmark = pytest.mark.backends("sqlite")


def _business():
    settings = CashierSettings.get()
    settings.business_name, settings.business_address = "Harbor Physio", "1 Quay St\nBoston"
    settings.business_tax_id, settings.time_zone = "TAX-77", "America/New_York"
    db.session.commit()


def _invoice(contact=None, **kw) -> Document:
    invoice = Document(doc_type=DocumentType.INVOICE, contact=contact or make_contact(),
                       currency="USD", tax_rate_bp=825, notes="Thank you", **kw)
    invoice.lines.append(DocumentLine(description="Physio session", quantity=2,
                                      unit_amount_minor=7500, discount_minor=500))
    invoice.lines.append(DocumentLine(description="Massage", quantity=1,
                                      unit_amount_minor=6000))
    db.session.add(invoice)
    return issue_document(invoice)


def _all_types():
    contact = make_contact(first_name="Grace", last_name="Hopper")
    service = make_service(name="Pilates")
    make_credit(contact=contact, service=service, quantity=3)
    payment = make_payment(contact=contact, amount_minor=4500)
    receipt = receipt_for_payment(payment, description="Pilates class")
    refund = Refund(payment=payment, amount_minor=1500, currency="USD",
                    reason=RefundReason.REQUESTED_BY_CUSTOMER, status=RefundStatus.SUCCEEDED)
    db.session.add(refund)
    note = credit_note_for_refund(refund, description="Refund: Pilates class")
    invoice = _invoice(contact)
    db.session.commit()
    return invoice, receipt, note


def _html_total(html: str) -> str:
    return re.search(r"data-total>([^<]+)<", html).group(1)


def test_every_type_prints_and_the_pdf_agrees_with_the_html(app):
    _business()
    freeze(datetime(2026, 3, 5, 15, 30, tzinfo=UTC))
    invoice, receipt, note = _all_types()
    expected = {invoice: "$221.91", receipt: "$45.00", note: "$15.00"}
    for document, total in expected.items():
        html = render_paper(document)
        assert _html_total(html) == total
        text, pages = pdf_text(render_pdf(document))
        assert pages == 1
        assert total in text and document.display_number in text
        assert "Harbor Physio" in text and "TAX-77" in text and "Grace Hopper" in text
        # Times in the clinic's zone: 15:30 UTC is 10:30 in Boston in March.
        assert "05 Mar 2026, 10:30 EST" in text
    text, _ = pdf_text(render_pdf(invoice))
    assert "Tax (8.25 %)" in text and "$16.91" in text and "Discounts" in text
    receipt_text, _ = pdf_text(render_pdf(receipt))
    assert "remaining credits" in receipt_text.lower() and "Pilates" in receipt_text
    note_text, _ = pdf_text(render_pdf(note))
    assert "Corrects" in note_text and receipt.display_number in note_text


def test_prefixes_from_settings_are_kept_with_the_number(app):
    settings = CashierSettings.get()
    settings.invoice_prefix = "F-2026/"
    db.session.commit()
    first = _invoice()
    settings.invoice_prefix = "X-"
    db.session.commit()
    second = _invoice()
    db.session.commit()
    assert first.display_number == "F-2026/000001" and second.display_number == "X-000002"


def test_an_open_invoice_past_its_due_date_is_overdue(app):
    invoice = _invoice(due_date=date(2026, 3, 1))
    db.session.commit()
    assert not is_overdue(invoice, today=date(2026, 3, 1))
    assert is_overdue(invoice, today=date(2026, 3, 2))
    assert payment_state(invoice, today=date(2026, 3, 2)) == "Overdue"
    invoice.paid_at = datetime(2026, 3, 2, tzinfo=UTC)
    assert payment_state(invoice, today=date(2026, 3, 9)) == "Paid"


def test_letter_paper_size(app):
    settings = CashierSettings.get()
    settings.paper_size = "Letter"
    db.session.commit()
    from io import BytesIO

    from pypdf import PdfReader

    page = PdfReader(BytesIO(render_pdf(_invoice()))).pages[0]
    assert round(float(page.mediabox.width)) == 612  # 8.5 in at 72 pt
