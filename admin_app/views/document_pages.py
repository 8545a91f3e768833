"""Cashier → Accounting documents: a document's page as it prints, its PDF, its delivery
history, and the selected documents' PDFs in one zip."""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import Response, abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.actions import action
from markupsafe import Markup
from sqlalchemy import select

from ..documents.archive import (
    EXPORT_RETENTION,
    NAME_RE,
    export_path,
    has_expired,
    new_export_name,
    write_zip,
)
from ..documents.rendering import logo_data_uri, pdf_filename, render_paper, render_pdf
from ..extensions import db
from ..models import DeliveryAttempt, Document, MessageStatus, OutboundMessage
from .action_forms import new_idempotency_key
from .action_pages import load_record
from .bulk import run_bulk_action, selection
from .formatting import format_datetime
from .record_ids import BadRowIds

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

    def is_action_allowed(self, name: str) -> bool:
        """Downloading changes nothing: every role that reads documents may."""
        return name == "download_zip" or super().is_action_allowed(name)

    def _selected(self, ids):
        back = request.form.get("url") or url_for(".index_view")
        try:
            return selection(self, ids), back
        except BadRowIds as bad:
            flash(bad.message, "error")
            abort(redirect(back))

    @action("send_documents", "Send selected",
            "Send the selected documents, each by its contact's preferred channel (else the "
            "delivery method of Cashier settings)?")
    def action_send_documents(self, ids):
        """Each selected issued document queued to its contact (drafts are refused and
        reported); many run as a background job."""
        if not self.may_write:
            flash("Your role may not send accounting documents.", "error")
            return redirect(url_for(".index_view"))
        rows, back = self._selected(ids)
        key = request.form.get("idempotency_key") or new_idempotency_key()
        return run_bulk_action("send_document", {}, rows.ids, key=key, back=back,
                               label=f"Send {len(rows.ids)} accounting documents")

    @action("download_zip", "Download selected (zip of PDFs)")
    def action_download_zip(self, ids):
        """A few documents: the zip at once. More than ``ZIP_INLINE_MAX``: made on the
        worker, and this page tells where to download it."""
        from ..jobs.tasks import zip_documents

        rows, back = self._selected(ids)
        if len(rows.ids) <= current_app.config.get("ZIP_INLINE_MAX", 50):
            buffer = io.BytesIO()
            write_zip(rows.ids, buffer)
            buffer.seek(0)
            return send_file(buffer, mimetype="application/zip", as_attachment=True,
                             download_name="accounting-documents.zip")
        name = new_export_name()
        zip_documents(rows.ids, name)
        flash(f"The zip of {len(rows.ids):,} documents is being made in the background.",
              "info")
        return redirect(url_for(".zip_view", export=name))

    @expose("/zip/<export>")
    def zip_view(self, export: str):
        """The background zip: downloaded when ready, else a page that looks again."""
        name = export
        path = export_path(name)
        if path is not None:
            return send_file(path, mimetype="application/zip", as_attachment=True,
                             download_name="accounting-documents.zip")
        if not NAME_RE.match(name):
            abort(404)
        return self.render("admin/zip_waiting.html", name=name, expired=has_expired(name),
                           kept_days=EXPORT_RETENTION.days, back=url_for(".index_view"))
