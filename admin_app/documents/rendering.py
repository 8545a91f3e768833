"""An accounting document as it prints: one template for the admin's page, the member's
public page and the PDF (WeasyPrint), so what is seen, downloaded and sent is the same.

Every time on a document is shown in the clinic's time zone (Cashier settings).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import render_template

from ..clock import utcnow
from ..models import CashierSettings, Document, DocumentStatus, DocumentType, credit_balances
from ..money import format_money

STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "document.css"


def clinic_zone(settings: CashierSettings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def clinic_today(settings: CashierSettings | None = None) -> date:
    """Today's date at the clinic (an invoice is overdue the day after its due date there)."""
    settings = settings or CashierSettings.get()
    return utcnow().astimezone(clinic_zone(settings)).date()


def is_overdue(document: Document, today: date | None = None) -> bool:
    """An issued, unpaid invoice whose due date has passed (clinic time)."""
    return (document.doc_type is DocumentType.INVOICE
            and document.status is DocumentStatus.ISSUED and document.paid_at is None
            and document.due_date is not None
            and document.due_date < (today or clinic_today()))


def payment_state(document: Document, today: date | None = None) -> str:
    """What the document says about its payment: Void, Paid, Overdue, Due, Refunded..."""
    if document.status is DocumentStatus.VOID:
        return "Void"
    if document.status is DocumentStatus.DRAFT:
        return "Draft"
    if document.doc_type is DocumentType.RECEIPT:
        return "Paid"
    if document.doc_type is DocumentType.CREDIT_NOTE:
        return "Refunded" if document.refund_id else "Credited"
    if document.paid_at is not None:
        return "Paid"
    return "Overdue" if is_overdue(document, today) else "Due"


@dataclass(frozen=True)
class PrintedLine:
    description: str
    quantity: int
    unit_price: str
    discount: str | None
    amount: str


def _time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    if moment is None:
        return None
    local = moment.astimezone(zone)
    return f"{local:%d %b %Y, %H:%M} {local.tzname()}"


def document_context(document: Document, *, logo_src: str | None = None) -> dict:
    """Everything the printed document shows, formatted (money, clinic-time dates)."""
    settings = CashierSettings.get()
    zone = clinic_zone(settings)
    currency = document.currency

    def money(minor: int) -> str:
        return format_money(minor, currency)

    lines = [PrintedLine(line.description, line.quantity, money(line.unit_amount_minor),
                         money(line.discount_minor) if line.discount_minor else None,
                         money(line.total_minor)) for line in document.lines]
    total = document.total_minor if document.status is not DocumentStatus.DRAFT \
        else document.computed_total_minor()
    credits = []
    if document.doc_type is DocumentType.RECEIPT:
        credits = [(service.name, balance)
                   for service, balance in credit_balances(document.contact_id)]
    return {
        "document": document,
        "title": document.doc_type.label,
        "number": document.display_number,
        "business": {"name": settings.business_name or "Clinic",
                     "address": settings.business_address, "tax_id": settings.business_tax_id,
                     "email": settings.business_email, "phone": settings.business_phone},
        "logo_src": logo_src,
        "contact": document.contact,
        "lines": lines,
        "subtotal": money(document.subtotal_minor),
        "discount": money(document.discount_minor) if document.discount_minor else None,
        "tax": money(document.tax_minor) if document.tax_rate_bp else None,
        "tax_rate": (f"{document.tax_rate_bp / 100:g} %" if document.tax_rate_bp else None),
        "total": money(total),
        "state": payment_state(document),
        "issued_at": _time(document.issued_at, zone),
        "paid_at": _time(document.paid_at, zone),
        "voided_at": _time(document.voided_at, zone),
        "due_date": f"{document.due_date:%d %b %Y}" if document.due_date else None,
        "related": document.related_document,
        "payment": document.payment,
        "credits": credits,
        "paper_size": settings.paper_size,
    }


def logo_data_uri(settings: CashierSettings | None = None) -> str | None:
    settings = settings or CashierSettings.get()
    if not settings.logo:
        return None
    encoded = base64.b64encode(settings.logo).decode("ascii")
    return f"data:{settings.logo_type or 'image/png'};base64,{encoded}"


def render_paper(document: Document, *, logo_src: str | None = None) -> str:
    """The document's paper (an HTML fragment), as the admin's page embeds it."""
    return render_template("documents/paper.html", **document_context(document,
                                                                      logo_src=logo_src))


def render_printable(document: Document, *, logo_src: str | None = None,
                     links: dict | None = None) -> str:
    """A whole HTML page of the document: the PDF's source and the member's public page."""
    context = document_context(document, logo_src=logo_src)
    return render_template("documents/printable.html", links=links or {},
                           stylesheet=STYLESHEET.read_text(), **context)


def render_pdf(document: Document) -> bytes:
    """The document as a PDF (A4 or Letter, Cashier settings), from the printable page."""
    from weasyprint import HTML  # heavy import: only where a PDF is made

    html = render_printable(document, logo_src=logo_data_uri())
    return HTML(string=html, base_url=str(STYLESHEET.parent)).write_pdf()


def pdf_filename(document: Document) -> str:
    name = document.display_number if document.number is not None else f"draft-{document.id}"
    return f"{document.doc_type.value}-{name}.pdf".replace("/", "-")
