"""Send a contact a personal invitation to a plan (workflow 7): a single-use link to the plan's
sign-up page for that contact, optionally with a promo code preset and an expiry date."""

from __future__ import annotations

from datetime import datetime

from ..actors import Actor
from ..billing.locks import lock
from ..billing.plan_links import invitation_url
from ..billing.promo_rules import describe_promo, find_promo
from ..billing.subscribing import check_promo_for
from ..clinic_time import format_clinic
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import (
    CashierSettings,
    Contact,
    DeliveryChannel,
    OutboundMessage,
    Plan,
    PlanInvitation,
    PromoCode,
)
from .runner import STAFF, ActionResult, ActionRun


def send_plan_invitation(plan: Plan, *, contact: Contact, channel: DeliveryChannel,
                         actor: Actor, idempotency_key: str,
                         promo_code: PromoCode | str | None = None,
                         expires_at: datetime | None = None) -> ActionResult[PlanInvitation]:
    """Queue a personal invitation to ``contact`` by Email or SMS: a single-use link to the
    plan's sign-up page (``/join/invite/<token>``), which opens prefilled with the contact's
    details and ``promo_code`` (checked now by the Apply Promo rules), and works until
    ``expires_at`` (no expiry when ``None``). The message is queued here (``outbound_message``);
    delivering it is the outbound queue's job.

    Only a working link is sent: the plan's link must be on and the plan still sold.

    Error codes: ``not_permitted`` (staff only), ``link_disabled``, ``plan_inactive``,
    ``no_email``, ``no_phone``, ``opted_out`` (the contact declined invitations by that
    channel), ``expiry_in_past``, ``promo_not_found`` and the Apply Promo refusals,
    ``already_done``.
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
        if expires_at is not None and expires_at <= utcnow():
            raise ActionError("expiry_in_past", "The invitation would have expired already: "
                                                "choose a later date.")
        promo = find_promo(promo_code) if isinstance(promo_code, str) and promo_code.strip() \
            else (promo_code or None)
        if promo is not None:
            check_promo_for(promo, plan, at=utcnow())
        invitation = PlanInvitation(plan_id=plan.id, contact_id=contact.id, channel=channel,
                                    promo_code_id=promo.id if promo else None,
                                    expires_at=expires_at,
                                    created_by_id=actor.id)
        db.session.add(invitation)
        db.session.flush()
        business = CashierSettings.get().business_name or "our clinic"
        link = invitation_url(invitation)
        extra = f" Your promo code {promo} ({describe_promo(promo)}) is applied." if promo else ""
        until = f" The link works until {format_clinic(expires_at, '%d %b %Y')}." \
            if expires_at else ""
        message = OutboundMessage(
            contact_id=contact.id, channel=channel, recipient=recipient, is_marketing=True,
            subject=f"Join {plan} at {business}"[:200],
            body=f"Hello {contact.first_name}, you are invited to subscribe to {plan} at "
                 f"{business}: {link}{extra}{until}")
        db.session.add(message)
        db.session.flush()
        invitation.outbound_message_id = message.id
        sentence = (f"Invitation to {plan} queued for {contact} by {channel.label} "
                    f"({recipient})" + (f", promo code {promo}" if promo else "")
                    + (f", until {format_clinic(expires_at, '%d %b %Y')}" if expires_at
                       else "") + ".")
        return run.done(invitation, sentence,
                        after={"contact_id": contact.id, "channel": channel.value,
                               "invitation_id": invitation.id,
                               "outbound_message_id": message.id,
                               "promo_code_id": invitation.promo_code_id,
                               "expires_at": expires_at.isoformat() if expires_at else None})
