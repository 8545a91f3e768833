"""Send a contact an invitation carrying a plan's Subscription Link (workflow 7)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.locks import lock
from ..billing.plan_links import public_plan_url
from ..errors import ActionError
from ..extensions import db
from ..models import CashierSettings, Contact, DeliveryChannel, OutboundMessage, Plan
from .runner import STAFF, ActionResult, ActionRun


def send_plan_invitation(plan: Plan, *, contact: Contact, channel: DeliveryChannel,
                         actor: Actor, idempotency_key: str) -> ActionResult[OutboundMessage]:
    """Queue an invitation to ``contact`` by Email or SMS carrying the plan's public link.

    Only a working link is sent: the link must be on and the plan still sold. The message is
    queued here; delivering it is the outbound queue's job.

    Error codes: ``not_permitted`` (staff only), ``link_disabled``, ``plan_inactive``,
    ``no_email``, ``no_phone``, ``opted_out`` (the contact declined invitations by that
    channel), ``already_done``.
    """
    with ActionRun("send_plan_invitation", actor=actor, key=idempotency_key, target=plan,
                   roles=STAFF, doing="send subscription invitations") as run:
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
        if (contact.email_opt_out if channel is DeliveryChannel.EMAIL
                else contact.sms_opt_out):
            raise ActionError("opted_out",
                              f"{contact} asked not to get invitations by {channel.label}: "
                              "nothing was sent.")
        business = CashierSettings.get().business_name or "our clinic"
        link = public_plan_url(plan)
        invitation = OutboundMessage(
            contact_id=contact.id, channel=channel, recipient=recipient, is_marketing=True,
            subject=f"Join {plan} at {business}"[:200],
            body=f"Hello {contact.first_name}, you are invited to subscribe to {plan} at "
                 f"{business}: {link}")
        db.session.add(invitation)
        db.session.flush()
        message = f"Invitation to {plan} queued for {contact} by {channel.label} ({recipient})."
        return run.done(invitation, message,
                        after={"contact_id": contact.id,
                               "channel": channel.value,
                               "outbound_message_id": invitation.id})
