"""Cashier → Accounting documents → ⋯ → Issue (drafts), Send by Email / Send by SMS (issued
documents): workflow 6."""

from __future__ import annotations

from flask import flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from ..actions.issue_document import issue_draft_document
from ..actions.send_document import send_document
from ..models import DeliveryChannel, DocumentStatus
from .action_forms import ActionForm, new_idempotency_key
from .action_pages import ActionPage
from .invoice_actions import InvoiceActionsMixin
from .row_menu import MenuItem


def _document_page(view, doing: str) -> ActionPage:
    """Back where the admin clicked (``?url=``: the list with its filters, the contact card),
    else the document's details."""
    return ActionPage.open(view, doing=doing,
                           back=lambda document: url_for(".details_view", id=document.id))


class DocumentActionsMixin(InvoiceActionsMixin):
    """Mixed into the Accounting documents view. The ⋯ items are POST forms, confirmed in the
    browser; each rendered item carries its own idempotency key, so a double click runs once."""

    def document_menu_items(self, row) -> list[MenuItem]:
        endpoint = self.endpoint
        download = MenuItem("Download PDF", url_for(f"{endpoint}.pdf_view", id=row.id),
                            "fa-download")
        if not self.may_write:
            return [download]
        back = request.full_path if has_request_context() else None
        if row.status is DocumentStatus.DRAFT:
            return [download,
                    MenuItem("Issue", url_for(f"{endpoint}.issue_document_view", id=row.id,
                                              url=back),
                             "fa-check-square-o", method="POST",
                             confirm=f"Issue this draft {row.doc_type.label.lower()}? It gets "
                                     "the next number and can no longer be edited.",
                             idempotency_key=new_idempotency_key())]
        if row.status is DocumentStatus.ISSUED:
            again = "Resend" if row.sent_at is not None else "Send"
            return [download,
                    *[MenuItem(f"{again} by {channel.label}",
                               url_for(f"{endpoint}.send_document_view", id=row.id,
                                       channel=channel.value, url=back),
                               "fa-envelope" if channel is DeliveryChannel.EMAIL
                               else "fa-mobile",
                               method="POST", confirm=self._send_question(row, channel),
                               idempotency_key=new_idempotency_key())
                      for channel in DeliveryChannel],
                    *self.invoice_menu_items(row, back)]
        return [download]


    @staticmethod
    def _send_question(row, channel: DeliveryChannel) -> str:
        recipient = row.contact.email if channel is DeliveryChannel.EMAIL else row.contact.phone
        return f"Send {row} to {recipient or row.contact} by {channel.label}?"

    @expose("/issue/", methods=("POST",))
    def issue_document_view(self):
        page = _document_page(self, "issue accounting documents")
        # Done or refused, it was flashed: the ⋯ item has no page to show again.
        return page.submit(ActionForm(), lambda key: issue_draft_document(
            page.record, actor=current_user, idempotency_key=key)) or redirect(page.back)

    @expose("/send/", methods=("POST",))
    def send_document_view(self):
        page = _document_page(self, "send accounting documents")
        try:
            channel = DeliveryChannel(request.args.get("channel", ""))
        except ValueError:
            flash("Choose Email or SMS.", "error")
            return redirect(page.back)
        return page.submit(ActionForm(), lambda key: send_document(
            page.record, channel=channel, actor=current_user, idempotency_key=key)) \
            or redirect(page.back)
