"""Settings → Outbox: what the panel would have sent while no SMTP server or SMS provider is
configured, each message as the member would see it, attachments downloadable."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass

from flask import Response, abort, request
from flask_admin import expose
from markupsafe import Markup

from ..models import OutboxItem, Role
from .action_pages import load_record
from .base import AppModelView


@dataclass(frozen=True)
class Shown:
    sender: str | None
    text: str
    html: Markup | None
    attachments: list[tuple[int, str, str, int]]  # index, filename, type, size


def _parsed(item: OutboxItem):
    return email.message_from_bytes(item.raw, policy=email.policy.default) if item.raw else None


def shown(item: OutboxItem) -> Shown:
    """The message as received: sender, plain text, HTML version, attachments."""
    parsed = _parsed(item)
    if parsed is None:
        return Shown(None, item.text or "", None, [])
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    attachments = [(index, part.get_filename() or f"attachment-{index}",
                    part.get_content_type(), len(part.get_payload(decode=True) or b""))
                   for index, part in enumerate(parsed.iter_attachments())]
    # The HTML part is the panel's own template (every value escaped when it was made).
    return Shown(parsed["From"], plain.get_content() if plain else item.text or "",
                 Markup(html.get_content()) if html else None, attachments)


class OutboxView(AppModelView):
    read_roles = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER})
    allow_create = False
    allow_edit = False
    allow_delete = False
    can_export = False
    column_list = ["created_at", "channel", "recipient", "subject", "message.document"]
    column_filters = ["channel", "created_at", "recipient"]
    column_searchable_list = ["recipient", "subject"]
    column_labels = {"created_at": "Kept", "message.document": "Document"}
    column_default_sort = ("created_at", True)
    details_template = "admin/model/outbox_details.html"

    def shown(self, item: OutboxItem) -> Shown:
        return shown(item)

    @expose("/attachment/")
    def attachment_view(self):
        """Download attachment ``?n=`` of item ``?id=``."""
        item = load_record(self)
        parsed = _parsed(item)
        parts = list(parsed.iter_attachments()) if parsed else []
        index = request.args.get("n", "")
        if not index.isdigit() or int(index) >= len(parts):
            abort(404)
        part = parts[int(index)]
        name = (part.get_filename() or "attachment").replace('"', "")
        return Response(part.get_payload(decode=True), mimetype=part.get_content_type(),
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
