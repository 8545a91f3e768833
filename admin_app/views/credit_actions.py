"""Contact card → Credits → Adjust, and Contacts list → With selected → Adjust credits."""

from __future__ import annotations

from datetime import datetime, time

from flask import redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Optional

from ..actions.adjust_credits import adjust_credits
from ..extensions import db
from ..models import Contact, Service
from .action_forms import ActionForm, perform
from .bulk import run_bulk, selected_ids
from .formatting import clinic_zone


class AdjustCreditsForm(ActionForm):
    service = SelectField("Service", coerce=int, validators=[InputRequired()])
    quantity = IntegerField("Credits to add (negative to remove)", validators=[InputRequired()],
                            description="For example 2 to add two sessions, -1 to take one away.")
    reason = StringField("Reason", validators=[DataRequired()],
                         description="Shown in the credit ledger, e.g. “Goodwill: cancelled "
                                     "class”.")
    expires_on = DateField("Expires on (optional)", validators=[Optional()],
                           description="Added credits expire at the end of this day.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.service.choices = [(s.id, s.name) for s in
                                db.session.query(Service).filter_by(is_active=True)
                                .order_by(Service.name)]

    def expires_at(self) -> datetime | None:
        if not self.expires_on.data:
            return None
        return datetime.combine(self.expires_on.data, time(23, 59, 59), tzinfo=clinic_zone())


class BulkAdjustCreditsForm(AdjustCreditsForm):
    contact_ids = HiddenField()


class CreditActionsMixin:
    """Mixed into the Contacts view."""

    def _card_url(self, contact_id: int) -> str:
        return url_for(".details_view", id=contact_id, tab="credits")

    @expose("/credits/adjust/", methods=("GET", "POST"))
    def adjust_credits_view(self):
        contact = self.get_one(request.args.get("id", ""))
        if contact is None:
            return redirect(url_for(".index_view"))
        form = AdjustCreditsForm()
        if form.validate_on_submit():
            service = db.session.get(Service, form.service.data)
            entry = perform(lambda: adjust_credits(
                contact, service=service, quantity=form.quantity.data,
                reason=form.reason.data, expires_at=form.expires_at(), actor=current_user,
                idempotency_key=form.idempotency_key.data))
            if entry is not None:
                return redirect(self._card_url(contact.id))
        return self.render("admin/action_form.html", title=f"Adjust credits · {contact}",
                           intro="Add or remove service credits by hand. Every change is a "
                                 "line in the credit ledger.",
                           facts=[], form=form, submit_label="Save adjustment",
                           cancel_url=self._card_url(contact.id))

    @action("adjust_credits", "Adjust credits")
    def action_adjust_credits(self, ids):
        ticked = selected_ids(self, ids)
        form = BulkAdjustCreditsForm(formdata=None, contact_ids=",".join(map(str, ticked)))
        return self._render_bulk_credits(form, len(ticked))

    def _render_bulk_credits(self, form, count: int):
        return self.render("admin/action_form.html", title=f"Adjust credits of {count} contacts",
                           intro="The same adjustment for each selected contact; a contact "
                                 "without enough credits to remove is skipped and reported.",
                           facts=[], form=form, submit_label=f"Adjust {count} contacts",
                           form_action=url_for(".adjust_credits_bulk_view"),
                           cancel_url=url_for(".index_view"))

    @expose("/credits/adjust-bulk/", methods=("POST",))
    def adjust_credits_bulk_view(self):
        form = BulkAdjustCreditsForm()
        ids = [int(i) for i in (form.contact_ids.data or "").split(",") if i.strip()]
        if not form.validate_on_submit():
            return self._render_bulk_credits(form, len(ids))
        service = db.session.get(Service, form.service.data)

        def adjust_one(contact_id: int, key: str):
            return adjust_credits(db.session.get(Contact, contact_id), service=service,
                                  quantity=form.quantity.data, reason=form.reason.data,
                                  expires_at=form.expires_at(), actor=current_user,
                                  idempotency_key=key)

        run_bulk(ids, adjust_one, bulk_key=form.idempotency_key.data, done_word="adjusted")
        return redirect(url_for(".index_view"))
