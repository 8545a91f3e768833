"""Send the member their payment-method link (workflow 9)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.payment_method_links import describe_max_age, queue_payment_method_link
from ..extensions import db
from ..models import Contact, OutboundMessage
from .runner import STAFF, ActionResult, ActionRun


def send_payment_method_link(contact: Contact, *, actor: Actor,
                             idempotency_key: str) -> ActionResult[OutboundMessage]:
    """Queue a new payment-method link to ``contact`` (Email, else SMS): the member opens it
    and saves a card, which becomes their default. Earlier links keep working until they
    expire. The audit entry is the link's own (``queue_payment_method_link``).

    Error codes: ``not_permitted`` (staff only), ``no_email_or_phone``, ``already_done``.
    """
    with ActionRun("send_payment_method_link", actor=actor, key=idempotency_key,
                   target=contact, roles=STAFF, doing="send payment-method links") as run:
        contact = db.session.get(Contact, contact.id)
        message = queue_payment_method_link(contact, actor=actor, why="sent by the desk")
        return run.finish_without_audit(
            message, f"Payment-method link queued for {contact} by {message.channel.label} "
                     f"({message.recipient}); it works for {describe_max_age()}.")
