"""What a member receives: the email (plain and HTML body, the PDF attached) or the SMS
(a short text with a signed link to the document's public page)."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr

from flask import current_app, render_template
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from ..clock import utcnow
from ..links import public_url
from ..models import CashierSettings, DeliveryChannel, Document, OutboundMessage
from ..money import format_money
from .providers import Composed
from .rendering import pdf_filename, render_pdf

LINK_SALT = "document-link"


class _ClockSigner(TimestampSigner):
    """Signs with the billing clock's time, so links expire by ``clock.utcnow()``."""

    def get_timestamp(self) -> int:
        return int(utcnow().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT,
                                  signer=_ClockSigner)


def link_max_age() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("DOCUMENT_LINK_MAX_AGE",
                                                        30 * 24 * 3600)))


def document_token(document: Document) -> str:
    return _serializer().dumps(document.id)


def open_document_token(token: str) -> int | None:
    """The document id a public link names; None when tampered with or expired."""
    try:
        value = _serializer().loads(token, max_age=int(link_max_age().total_seconds()))
    except (SignatureExpired, BadSignature):
        return None
    return value if isinstance(value, int) else None


def public_document_url(document: Document, *, pdf: bool = False) -> str:
    endpoint = "public_document.pdf" if pdf else "public_document.page"
    return public_url(endpoint, token=document_token(document))


def _from_address(settings: CashierSettings) -> str:
    sender = current_app.config.get("MAIL_FROM") or settings.business_email \
        or "billing@localhost"
    name, address = parseaddr(sender)
    return formataddr((name or settings.business_name or "", address))


def compose(message: OutboundMessage) -> Composed:
    """Build ``message`` for its channel. A document's message carries the document (PDF for
    email, link for SMS); other messages (invitations, links) carry their queued body."""
    settings = CashierSettings.get()
    document = message.document
    business = settings.business_name or "the clinic"
    if document is None:
        text = message.body or message.subject
        html = None
    else:
        link = public_document_url(document)
        amount = format_money(document.total_minor, document.currency)
        text = (f"{business}: your {document.doc_type.label.lower()} "
                f"{document.display_number} ({amount}): {link}")
        if message.channel is DeliveryChannel.EMAIL:
            text = render_template("documents/email.txt", document=document,
                                   business=business, amount=amount, link=link,
                                   contact=message.contact)
        html = render_template("documents/email.html", document=document, business=business,
                               amount=amount, link=link, contact=message.contact)
    if message.channel is DeliveryChannel.SMS:
        if document is not None:
            text = f"{text} ref {message.reference}" if message.reference not in text else text
        else:
            text = f"{text} ({message.reference})"
        return Composed(DeliveryChannel.SMS, message.recipient, message.subject, text)
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = _from_address(settings)
    email["To"] = message.recipient
    email["Date"] = formatdate(localtime=False)
    domain = parseaddr(email["From"])[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = f"<{message.reference}@{domain}>"
    email.set_content(text)
    if html:
        email.add_alternative(html, subtype="html")
    if document is not None:
        email.add_attachment(render_pdf(document), maintype="application", subtype="pdf",
                             filename=pdf_filename(document))
    return Composed(DeliveryChannel.EMAIL, message.recipient, message.subject, text, email)
