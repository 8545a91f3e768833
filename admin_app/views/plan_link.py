"""Directories → Subscription plans → plan → Subscription Link (workflow 7): the plan's public
link with a copy button, "Regenerate link", the on/off switch, and "Send invitation"."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.model.fields import AjaxSelectField
from flask_login import current_user
from wtforms import RadioField
from wtforms.validators import InputRequired

from ..actions.regenerate_plan_link import regenerate_plan_link
from ..actions.runner import MANAGERS, STAFF
from ..actions.send_plan_invitation import send_plan_invitation
from ..actions.set_plan_link_enabled import set_plan_link_enabled
from ..billing.plan_links import public_plan_url
from ..extensions import db
from ..models import Contact, DeliveryChannel
from .action_forms import ActionForm, perform
from .row_menu import MenuItem
from .subscriptions import CONTACT_LOOKUP

INVITE_CONTACT = "invite_contact"


class ContactLoader(QueryAjaxModelLoader):
    """Contacts by name, email or phone for the select box; a posted id that is not a number
    finds nobody (PostgreSQL would refuse to compare it with an integer column)."""

    def get_one(self, pk):
        return super().get_one(pk) if str(pk).isdigit() else None


def invitation_form_class(loader: QueryAjaxModelLoader) -> type[ActionForm]:
    class InvitationForm(ActionForm):
        contact = AjaxSelectField(loader, "Contact", validators=[InputRequired()],
                                  description="Type a name, email or phone to find the member.")
        channel = RadioField("Send by", choices=[(c.value, c.label) for c in DeliveryChannel],
                             default=DeliveryChannel.EMAIL.value, validators=[InputRequired()])

    return InvitationForm


class PlanLinkMixin:
    """Mixed into the Subscription plans view."""

    def _process_ajax_references(self):
        references = super()._process_ajax_references()
        options = {k: v for k, v in CONTACT_LOOKUP.items() if k != "placeholder"}
        references[INVITE_CONTACT] = ContactLoader(INVITE_CONTACT, db, Contact, **options)
        self._invitation_form = invitation_form_class(references[INVITE_CONTACT])
        return references

    def plan_link_menu_item(self, row) -> MenuItem:
        return MenuItem("Subscription Link", url_for(f"{self.endpoint}.plan_link_view",
                                                     id=row.id), "fa-link")

    def _link_url(self, plan_id) -> str:
        return url_for(".plan_link_view", id=plan_id)

    def _plan_or_none(self):
        return self.get_one(request.args.get("id", ""))

    @expose("/link/", methods=("GET",))
    def plan_link_view(self, form=None):
        plan = self._plan_or_none()
        if plan is None:
            return redirect(url_for(".index_view"))
        may_invite = current_user.role in STAFF
        if form is None and may_invite:
            form = self._invitation_form(formdata=None)
        state = "On" if plan.is_public_link_enabled else "Off"
        warnings = []
        if not plan.is_public_link_enabled:
            warnings.append("The link is off: members who open it see “not found”.")
        elif not plan.is_active:
            warnings.append(f"{plan} is inactive: members who open the link see “not found”.")
        return self.render(
            "admin/plan_link.html", title=f"Subscription Link · {plan}", plan=plan,
            intro="Copy the plan's public link and send it to the member, or send them an "
                  "invitation by Email or SMS from here.",
            facts=[("Plan", plan), ("Link", state)], warnings=warnings,
            public_url=public_plan_url(plan), may_manage=current_user.role in MANAGERS,
            form=form if may_invite else None, submit_label="Send invitation",
            form_action=url_for(".plan_link_invite_view", id=plan.id),
            cancel_url=url_for(".details_view", id=plan.id))

    @expose("/link/invite/", methods=("POST",))
    def plan_link_invite_view(self):
        plan = self._plan_or_none()
        if plan is None:
            return redirect(url_for(".index_view"))
        form = self._invitation_form()
        if not form.validate_on_submit():
            return self.plan_link_view(form=form)
        channel = DeliveryChannel(form.channel.data)
        sent = perform(lambda: send_plan_invitation(
            plan, contact=form.contact.data, channel=channel, actor=current_user,
            idempotency_key=form.idempotency_key.data))
        if sent is None:
            return self.plan_link_view(form=form)
        return redirect(self._link_url(plan.id))

    @expose("/link/regenerate/", methods=("POST",))
    def plan_link_regenerate_view(self):
        plan = self._plan_or_none()
        if plan is None:
            return redirect(url_for(".index_view"))
        perform(lambda: regenerate_plan_link(
            plan, actor=current_user, idempotency_key=request.form.get("idempotency_key")))
        return redirect(self._link_url(plan.id))

    @expose("/link/switch/", methods=("POST",))
    def plan_link_switch_view(self):
        plan = self._plan_or_none()
        if plan is None:
            return redirect(url_for(".index_view"))
        is_enabled = request.form.get("is_enabled") == "1"
        perform(lambda: set_plan_link_enabled(
            plan, is_enabled=is_enabled, actor=current_user,
            idempotency_key=request.form.get("idempotency_key")))
        return redirect(self._link_url(plan.id))
