"""The member's payment-method link (workflow 9): a signed, expiring address of a public page
where the member saves a card themselves, and sending it to them.

**The link** carries the contact's id and the moment it was made, signed with the app's
``SECRET_KEY`` under its own salt (a link cannot be forged or pointed at another contact). It
works for ``PAYMENT_METHOD_LINK_MAX_AGE`` seconds (7 days by default), counted on the app's
clock. It stays usable until then, however often it is used: each use saves one more card,
which becomes the default (a member who mistyped can simply do it again). A tampered or
expired link, or one of an archived or deleted contact, saves nothing.

**Sending it** queues an Email to the contact, or an SMS when they have no email address, in
the caller's transaction, with an audit entry. It is sent by the desk (``send_payment_method_
link``) and automatically when a charge finds that the card needs the card holder's
authentication (``charging.charge_saved_card``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..actors import Actor
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..links import public_url
from ..models import (
    CashierSettings,
    Contact,
    ContactStatus,
    DeliveryChannel,
    OutboundMessage,
    record_audit,
)

_SALT = "payment-method-link"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def link_max_age() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("PAYMENT_METHOD_LINK_MAX_AGE",
                                                        7 * 24 * 3600)))


def make_link_token(contact: Contact) -> str:
    """A new signed token for ``contact``'s payment-method link, made now."""
    return _serializer().dumps({"c": contact.id, "t": utcnow().isoformat()})


@dataclass(frozen=True)
class OpenedLink:
    contact: Contact
    expires_at: datetime


def open_link(token: str) -> OpenedLink:
    """The contact a payment-method link was made for, and when the link stops working,
    while it works.

    Error codes: ``link_invalid`` (tampered, unknown contact, archived contact),
    ``link_expired`` (older than ``PAYMENT_METHOD_LINK_MAX_AGE``).
    """
    invalid = ActionError("link_invalid", "This link does not work: it may have been copied "
                                          "incompletely. Ask the clinic for a new one.")
    try:
        data = _serializer().loads(token or "")
        contact_id, made_at = int(data["c"]), datetime.fromisoformat(data["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise invalid from None
    if made_at.tzinfo is None:
        made_at = made_at.replace(tzinfo=UTC)
    expires_at = made_at + link_max_age()
    if utcnow() > expires_at:
        raise ActionError("link_expired", "This link has expired. Ask the clinic for a new "
                                          "one.")
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.status is ContactStatus.ARCHIVED:
        raise invalid
    return OpenedLink(contact, expires_at)


def payment_method_link_url(contact: Contact) -> str:
    """A new payment-method link for ``contact``: the full address of the public page, under
    ``PUBLIC_BASE_URL``."""
    return public_url("public_card.card_page", token=make_link_token(contact))


def describe_max_age() -> str:
    """ "7 days", "12 hours": how long a new link works, for messages."""
    seconds = int(link_max_age().total_seconds())
    days, hours = seconds // 86400, seconds // 3600
    if days >= 1 and seconds % 86400 == 0:
        return f"{days} day{'s' if days > 1 else ''}"
    if hours >= 1:
        return f"{hours} hour{'s' if hours > 1 else ''}"
    return f"{max(seconds // 60, 1)} minutes"


def queue_payment_method_link(contact: Contact, *, actor: Actor,
                              why: str) -> OutboundMessage:
    """Queue a new payment-method link to ``contact`` by Email, else SMS, with an audit entry
    saying ``why``. Runs inside the caller's unit of work (it does not commit).

    Error code: ``no_email_or_phone`` (nowhere to send it: copy the link instead).
    """
    channel = DeliveryChannel.EMAIL if contact.email else DeliveryChannel.SMS
    recipient = contact.email or contact.phone
    if not recipient:
        raise ActionError("no_email_or_phone",
                          f"{contact} has no email address or phone number: copy the "
                          "payment-method link from the Payment methods tab and give it to "
                          "them, or add an email address on the contact card.")
    business = CashierSettings.get().business_name or "the clinic"
    link = payment_method_link_url(contact)
    message = OutboundMessage(
        contact_id=contact.id, channel=channel, recipient=recipient,
        subject=f"Update your payment method at {business}"[:200],
        body=f"Hello {contact.first_name}, please add or update the card {business} charges "
             f"for your membership and fees: {link} (the link works for "
             f"{describe_max_age()}).")
    db.session.add(message)
    db.session.flush()
    summary = (f"Payment-method link queued for {contact} by {channel.label} ({recipient}): "
               f"{why}")
    record_audit(actor=actor, action="send_payment_method_link", target=contact,
                 summary=summary[:300],
                 after={"channel": channel.value, "outbound_message_id": message.id,
                        "expires_at": (utcnow() + link_max_age()).isoformat()})
    return message


def link_sent_sentence(message: OutboundMessage) -> str:
    return (f"A payment-method link was queued to the member by {message.channel.label} "
            f"({message.recipient}).")
