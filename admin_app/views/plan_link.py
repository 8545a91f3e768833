"""Directories → Subscription plans → plan → Subscription Link (workflow 7): the plan's public
link with a copy button, "Regenerate link", the on/off switch, and "Send invitation"."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.model.fields import AjaxSelectField
from flask_login import current_user
from wtforms import DateField, RadioField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ..actions.regenerate_plan_link import regenerate_plan_link
from ..actions.runner import MANAGERS, STAFF
from ..actions.send_plan_invitation import send_plan_invitation
from ..actions.set_plan_link_enabled import set_plan_link_enabled
from ..billing.plan_link_stats import invitation_stats, link_stats, recent_invitations
from ..billing.plan_links import public_plan_url
from ..clinic_time import clinic_zone
from ..clock import utcnow
from ..extensions import db
from ..models import Contact, DeliveryChannel
from .action_forms import ActionForm
from .action_pages import ActionPage, load_record
from .ajax_lookups import StrictAjaxModelLoader
from .row_menu import MenuItem
from .subscriptions import CONTACT_LOOKUP

INVITE_CONTACT = "invite_contact"


class ContactLoader(StrictAjaxModelLoader):
    """Contacts by name, email or phone for the invitation's select box, read strictly as
    every contact picker is (``ajax_lookups``)."""


def invitation_form_class(loader: QueryAjaxModelLoader) -> type[ActionForm]:
    class InvitationForm(ActionForm):
        contact = AjaxSelectField(loader, "Contact", validators=[InputRequired()],
                                  description="Type a name, email or phone to find the member.")
        channel = RadioField("Send by", choices=[(c.value, c.label) for c in DeliveryChannel],
                             default=DeliveryChannel.EMAIL.value, validators=[InputRequired()])
        promo_code = StringField("Promo code", validators=[Optional(), Length(max=40)],
                                 description="Optional: applied on the member's page.")
        expires_on = DateField("Link works until", validators=[Optional()],
                               description="Optional: the end of that day, clinic time. "
                                           "Empty: until it is used.")

    return InvitationForm


def end_of_day(day) -> datetime | None:
    """The end of ``day`` on the clinic's calendar (an invitation's last day), or None."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=clinic_zone())


class PlanLinkMixin:
    """Mixed into the Subscription plans view."""

    def _process_ajax_references(self):
        references = super()._process_ajax_references()
        references[INVITE_CONTACT] = ContactLoader(INVITE_CONTACT, db, Contact, **CONTACT_LOOKUP)
        self._invitation_form = invitation_form_class(references[INVITE_CONTACT])
        return references

    def plan_link_menu_item(self, row) -> MenuItem:
        return MenuItem("Subscription Link", url_for(f"{self.endpoint}.plan_link_view",
                                                     id=row.id), "fa-link")

    def _open_link_action(self, doing: str, roles) -> ActionPage:
        return ActionPage.open(self, doing=doing, roles=roles,
                               back=lambda plan: url_for(".plan_link_view", id=plan.id))

    @expose("/link/", methods=("GET",))
    def plan_link_view(self, form=None):
        plan = load_record(self)
        may_invite = current_user.role in STAFF
        if form is None and may_invite:
            form = self._invitation_form(formdata=None)
        state = "On" if plan.is_public_link_enabled else "Off"
        warnings = []
        if not plan.is_public_link_enabled:
            warnings.append("The link is off: members who open it see “not found”.")
        elif not plan.is_active:
            warnings.append(f"{plan} is inactive: members who open the link see “not found”.")
        stats = link_stats(plan)
        now = utcnow()
        invitations = [(invitation, invitation.state(now), invitation_stats(invitation))
                       for invitation in recent_invitations(plan)]
        return self.render(
            "admin/plan_link.html", title=f"Subscription Link · {plan}", plan=plan,
            intro="Copy the plan's public link and send it to the member, or send them a "
                  "personal invitation by Email or SMS from here.",
            facts=[("Plan", plan), ("Link", state), ("Opened", stats.opened),
                   ("Sign-ups started", stats.started), ("Paid", stats.paid),
                   ("Conversion (paid ÷ opened)", stats.conversion)], warnings=warnings,
            invitations=invitations,
            public_url=public_plan_url(plan), may_manage=current_user.role in MANAGERS,
            form=form if may_invite else None, submit_label="Send invitation",
            form_action=url_for(".plan_link_invite_view", id=plan.id),
            cancel_url=url_for(".details_view", id=plan.id))

    @expose("/link/invite/", methods=("POST",))
    def plan_link_invite_view(self):
        page = self._open_link_action("send subscription invitations", STAFF)
        form = self._invitation_form()
        done = page.submit(form, lambda key: send_plan_invitation(
            page.record, contact=form.contact.data, channel=DeliveryChannel(form.channel.data),
            promo_code=(form.promo_code.data or "").strip() or None,
            expires_at=end_of_day(form.expires_on.data), actor=current_user,
            idempotency_key=key))
        return done or self.plan_link_view(form=form)

    @expose("/link/regenerate/", methods=("POST",))
    def plan_link_regenerate_view(self):
        page = self._open_link_action("regenerate a subscription link", MANAGERS)
        return page.submit(ActionForm(), lambda key: regenerate_plan_link(
            page.record, actor=current_user, idempotency_key=key)) or redirect(page.back)

    @expose("/link/switch/", methods=("POST",))
    def plan_link_switch_view(self):
        page = self._open_link_action("switch a subscription link on or off", MANAGERS)
        is_enabled = request.form.get("is_enabled") == "1"
        return page.submit(ActionForm(), lambda key: set_plan_link_enabled(
            page.record, is_enabled=is_enabled, actor=current_user,
            idempotency_key=key)) or redirect(page.back)
