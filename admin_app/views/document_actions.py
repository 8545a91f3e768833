"""Cashier → Accounting documents → ⋯ → Issue (drafts), Send by Email / Send by SMS (issued
documents): workflow 6."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from ..actions.issue_document import issue_draft_document
from ..actions.send_document import send_document
from ..models import DeliveryChannel, DocumentStatus
from .action_forms import new_idempotency_key, perform
from .row_menu import MenuItem


class DocumentActionsMixin:
    """Mixed into the Accounting documents view. The ⋯ items are POST forms; each rendered
    menu carries its own idempotency key in the URL, so a double click runs once."""

    def document_menu_items(self, row) -> list[MenuItem]:
        if not self.may_write:
            return []
        endpoint = self.endpoint
        if row.status is DocumentStatus.DRAFT:
            return [MenuItem("Issue", url_for(f"{endpoint}.issue_document_view", id=row.id,
                                              key=new_idempotency_key()),
                             "fa-check-square-o", method="POST",
                             confirm=f"Issue this draft {row.doc_type.label.lower()}? It gets "
                                     "the next number and can no longer be edited.")]
        if row.status is DocumentStatus.ISSUED:
            return [MenuItem(f"Send by {channel.label}",
                             url_for(f"{endpoint}.send_document_view", id=row.id,
                                     channel=channel.value, key=new_idempotency_key()),
                             "fa-envelope" if channel is DeliveryChannel.EMAIL else "fa-mobile",
                             method="POST", confirm=self._send_question(row, channel))
                    for channel in DeliveryChannel]
        return []

    @staticmethod
    def _send_question(row, channel: DeliveryChannel) -> str:
        recipient = row.contact.email if channel is DeliveryChannel.EMAIL else row.contact.phone
        return f"Send {row} to {recipient or row.contact} by {channel.label}?"

    def _back(self, document_id):
        """Back where the admin clicked (the list with its filters, the contact card)."""
        referrer = request.referrer or ""
        if referrer.startswith(request.host_url):
            return redirect(referrer)
        return redirect(url_for(".details_view", id=document_id))

    @expose("/issue/", methods=("POST",))
    def issue_document_view(self):
        document = self.get_one(request.args.get("id", ""))
        if document is None:
            return redirect(url_for(".index_view"))
        perform(lambda: issue_draft_document(
            document, actor=current_user, idempotency_key=request.args.get("key")))
        return self._back(document.id)

    @expose("/send/", methods=("POST",))
    def send_document_view(self):
        document = self.get_one(request.args.get("id", ""))
        if document is None:
            return redirect(url_for(".index_view"))
        try:
            channel = DeliveryChannel(request.args.get("channel", ""))
        except ValueError:
            flash("Choose Email or SMS.", "error")
            return self._back(document.id)
        perform(lambda: send_document(
            document, channel=channel, actor=current_user,
            idempotency_key=request.args.get("key")))
        return self._back(document.id)
