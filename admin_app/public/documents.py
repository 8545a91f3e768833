"""The member's page of a document sent by SMS: ``/d/<token>`` (HTML) and ``/d/<token>/pdf``.

No sign-in: the signed token names the document and expires (``DOCUMENT_LINK_MAX_AGE``). A
tampered or expired link, or a draft, is a plain 404 / 410 page.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, url_for

from ..documents.composing import open_document_token
from ..documents.rendering import pdf_filename, render_pdf, render_printable
from ..extensions import db
from ..models import CashierSettings, Document, DocumentStatus
from .logo import logo_url

bp = Blueprint("public_document", __name__, url_prefix="/d")


def _document(token: str) -> Document:
    if len(token) > 200:
        abort(404)
    document_id = open_document_token(token)
    if document_id is None:
        abort(410, "This link has expired or is not valid: ask the clinic to send it again.")
    document = db.session.get(Document, document_id)
    if document is None or document.status is DocumentStatus.DRAFT:
        abort(404)
    return document


@bp.route("/<token>")
def page(token: str):
    document = _document(token)
    return render_printable(document, logo_src=logo_url(CashierSettings.get()),
                            links={"pdf": url_for(".pdf", token=token)})


@bp.route("/<token>/pdf")
def pdf(token: str):
    document = _document(token)
    return Response(render_pdf(document), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{pdf_filename(document)}"',
        "Cache-Control": "private, no-store"})
