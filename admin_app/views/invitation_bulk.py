"""Contacts list → With selected → Send plan invitation: a personal invitation to one plan
for each selected contact (or every matching one), by Email or SMS, optionally with a promo
code and an expiry; more than ``BULK_INLINE_MAX`` rows run as a background job."""

from __future__ import annotations

from flask_admin.actions import action
from sqlalchemy import select
from wtforms import DateField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ..extensions import db
from ..models import DeliveryChannel, Plan
from .action_forms import ActionForm
from .bulk_pages import BulkFlow
from .plan_link import end_of_day


class BulkInvitationForm(ActionForm):
    plan = SelectField("Plan", coerce=int, validators=[InputRequired("Choose a plan.")])
    channel = RadioField("Send by", choices=[(c.value, c.label) for c in DeliveryChannel],
                         default=DeliveryChannel.EMAIL.value, validators=[InputRequired()])
    promo_code = StringField("Promo code", validators=[Optional(), Length(max=40)],
                             description="Optional: applied on each member's page.")
    expires_on = DateField("Links work until", validators=[Optional()],
                           description="Optional: the end of that day, clinic time.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan.choices = [(plan.id, plan.name) for plan in db.session.scalars(
            select(Plan).where(Plan.is_active.is_(True), Plan.is_public_link_enabled.is_(True))
            .order_by(Plan.name))]

    def params(self) -> dict:
        expires = end_of_day(self.expires_on.data)
        return {"plan_id": self.plan.data, "channel": self.channel.data,
                "promo_code": (self.promo_code.data or "").strip() or None,
                "expires_at": expires.isoformat() if expires else None}


SEND_PLAN_INVITATIONS = BulkFlow(
    name="send_plan_invitations", form=BulkInvitationForm, noun="contacts",
    doing="send subscription invitations", title="Invite {count} contacts to a plan",
    intro="A personal, single-use invitation for each selected contact; a contact without an "
          "email address (or phone, for SMS) is skipped and reported.",
    submit_label="Send {count} invitations", action="send_plan_invitation",
    params=lambda form: form.params())


class InvitationBulkMixin:
    """Mixed into the Contacts view."""

    @action("send_plan_invitations", "Send plan invitation")
    def action_send_plan_invitations(self, ids):
        return self.bulk_page(SEND_PLAN_INVITATIONS, ids)
