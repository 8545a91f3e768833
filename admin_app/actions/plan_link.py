"""A plan's public subscription link (workflow 7): regenerate it, switch it on or off, and send
it to a contact as an invitation."""

from __future__ import annotations

from ..extensions import db
from ..links import public_url
from ..models import (
    AdminUser,
    CashierSettings,
    Contact,
    DeliveryChannel,
    OutboundMessage,
    Plan,
    record_audit,
)
from ..models.catalog import new_public_token
from .base import MANAGERS, STAFF, ActionError, claim, finish, lock, require_role, unit_of_work


def public_plan_url(plan: Plan) -> str:
    """The full address of the plan's public page, under ``PUBLIC_BASE_URL``."""
    return public_url("public.subscribe", token=plan.public_token)


def _token_ending(token: str) -> str:
    # NOTE: the audit log names a link by its last characters only: a full token in the log
    # would be a working link for anyone who can read the log.
    return f"…{token[-4:]}"


def regenerate_plan_link(plan: Plan, *, actor: AdminUser, idempotency_key: str) -> Plan:
    """Give the plan a new public token: the old link stops working at once, for everyone
    who has it. Whether the link is on or off does not change.

    Error codes: ``not_permitted`` (owners and managers only), ``already_done``.
    """
    with unit_of_work():
        require_role(actor, MANAGERS, doing="regenerate a subscription link")
        request = claim("regenerate_plan_link", idempotency_key, actor=actor, target=plan)
        plan = lock(Plan, plan.id)
        old_token = plan.public_token
        plan.public_token = new_public_token()
        db.session.flush()
        message = (f"New subscription link for {plan}: the old link "
                   f"({_token_ending(old_token)}) no longer works.")
        record_audit(actor=actor, action="regenerate_plan_link", target=plan, summary=message,
                     before={"token_ending": _token_ending(old_token)},
                     after={"token_ending": _token_ending(plan.public_token)})
        finish(request, message=message, result=plan)
    return plan


def set_plan_link_enabled(plan: Plan, *, is_enabled: bool, actor: AdminUser,
                          idempotency_key: str) -> Plan:
    """Switch the plan's public link on or off. While off, the link shows "not found" and no
    invitation can be sent; switching it back on revives the same link.

    Error codes: ``not_permitted`` (owners and managers only), ``link_unchanged`` (already in
    that state: nothing to do), ``already_done``.
    """
    with unit_of_work():
        require_role(actor, MANAGERS, doing="switch a subscription link on or off")
        request = claim("set_plan_link_enabled", idempotency_key, actor=actor, target=plan)
        plan = lock(Plan, plan.id)
        state = "on" if is_enabled else "off"
        if plan.is_public_link_enabled == is_enabled:
            raise ActionError("link_unchanged",
                              f"The subscription link of {plan} is already {state}: "
                              "nothing changed.")
        plan.is_public_link_enabled = is_enabled
        message = f"The subscription link of {plan} is now {state}."
        record_audit(actor=actor, action="set_plan_link_enabled", target=plan, summary=message,
                     before={"is_public_link_enabled": not is_enabled},
                     after={"is_public_link_enabled": is_enabled})
        finish(request, message=message, result=plan)
    return plan


def send_plan_invitation(plan: Plan, *, contact: Contact, channel: DeliveryChannel,
                         actor: AdminUser, idempotency_key: str) -> OutboundMessage:
    """Queue an invitation to ``contact`` by Email or SMS carrying the plan's public link.

    Only a working link is sent: the link must be on and the plan still sold. The message is
    queued here; delivering it is the outbound queue's job.

    Error codes: ``not_permitted`` (staff only), ``link_disabled``, ``plan_inactive``,
    ``no_email``, ``no_phone``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="send subscription invitations")
        request = claim("send_plan_invitation", idempotency_key, actor=actor, target=plan)
        plan = lock(Plan, plan.id)
        if not plan.is_public_link_enabled:
            raise ActionError("link_disabled",
                              f"The subscription link of {plan} is off: switch it on before "
                              "sending invitations.")
        if not plan.is_active:
            raise ActionError("plan_inactive",
                              f"{plan} is no longer sold (inactive): no invitation was sent.")
        recipient = contact.email if channel is DeliveryChannel.EMAIL else contact.phone
        if not recipient:
            code, what = (("no_email", "email address") if channel is DeliveryChannel.EMAIL
                          else ("no_phone", "phone number"))
            raise ActionError(code, f"{contact} has no {what}: add it on the contact card, "
                                    "or send the invitation the other way.")
        business = CashierSettings.get().business_name or "our clinic"
        link = public_plan_url(plan)
        invitation = OutboundMessage(
            contact_id=contact.id, channel=channel, recipient=recipient,
            subject=f"Join {plan} at {business}"[:200],
            body=f"Hello {contact.first_name}, you are invited to subscribe to {plan} at "
                 f"{business}: {link}")
        db.session.add(invitation)
        db.session.flush()
        message = f"Invitation to {plan} queued for {contact} by {channel.label} ({recipient})."
        record_audit(actor=actor, action="send_plan_invitation", target=plan, summary=message,
                     after={"contact_id": contact.id, "channel": channel.value,
                            "outbound_message_id": invitation.id})
        finish(request, message=message, result=invitation)
    return invitation
