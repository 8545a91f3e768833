"""Cashier → Accounting documents: a document's page as it prints, its PDF, its delivery
history, and the selected documents' PDFs in one zip."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from flask import Response
from flask_admin import expose
from markupsafe import Markup
from sqlalchemy import select

from ..documents.rendering import logo_data_uri, pdf_filename, render_paper, render_pdf
from ..extensions import db
from ..models import DeliveryAttempt, Document, MessageStatus, OutboundMessage
from .action_pages import load_record
from .formatting import format_datetime

OUTCOMES = {"sent": "Sent", "retry": "Temporary failure: will retry",
            "failed": "Failed", "sending": "Sending…", "unconfirmed": "Not confirmed"}


@dataclass(frozen=True)
class HistoryRow:
    queued: str
    channel: str
    recipient: str
    attempt: str
    time: str
    provider: str
    outcome: str
    error: str | None
    css: str


def delivery_history(document: Document) -> list[HistoryRow]:
    """Every message of the document, newest first, each with its attempts (a message not yet
    tried shows as one row waiting)."""
    messages = db.session.scalars(select(OutboundMessage)
                                  .where(OutboundMessage.document_id == document.id)
                                  .order_by(OutboundMessage.id.desc())).all()
    rows = []
    for message in messages:
        attempts = db.session.scalars(select(DeliveryAttempt)
                                      .where(DeliveryAttempt.message_id == message.id)
                                      .order_by(DeliveryAttempt.id.desc())).all()
        base = dict(queued=format_datetime(message.created_at), channel=message.channel.label,
                    recipient=message.recipient)
        if not attempts:
            waiting = "Waiting for the worker" if message.status is MessageStatus.QUEUED \
                else message.status.label
            rows.append(HistoryRow(**base, attempt="—", time="", provider="",
                                   outcome=waiting, error=message.error, css=""))
        for number, attempt in zip(range(len(attempts), 0, -1), attempts, strict=True):
            css = {"sent": "table-success", "failed": "table-danger",
                   "unconfirmed": "table-warning", "retry": "table-warning"}.get(
                attempt.outcome, "")
            outcome = OUTCOMES.get(attempt.outcome, attempt.outcome)
            if attempt.outcome == "retry" and message.status is MessageStatus.QUEUED \
                    and number == len(attempts) and message.next_attempt_at:
                outcome += f" at {format_datetime(message.next_attempt_at)}"
            rows.append(HistoryRow(**base, attempt=str(number),
                                   time=format_datetime(attempt.finished_at or attempt.started_at),
                                   provider=attempt.provider, outcome=outcome,
                                   error=attempt.error, css=css))
    return rows


def pdf_response(document: Document, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(render_pdf(document), mimetype="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="{pdf_filename(document)}"',
        "Cache-Control": "private, no-store"})


def zip_of_pdfs(documents) -> bytes:
    """The documents' PDFs in one zip, one file per document named by its number."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for document in documents:
            archive.writestr(pdf_filename(document), render_pdf(document))
    return buffer.getvalue()


class DocumentPagesMixin:
    """Mixed into the Accounting documents view (read access is enough for all of it)."""

    def paper_html(self, document: Document) -> Markup:
        return Markup(render_paper(document, logo_src=logo_data_uri()))

    def delivery_history(self, document: Document) -> list[HistoryRow]:
        return delivery_history(document)

    @expose("/pdf/")
    def pdf_view(self):
        """Download PDF (``?id=``): the document as it prints."""
        return pdf_response(load_record(self))
