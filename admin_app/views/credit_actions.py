"""Contact card → Credits → Adjust, and Contacts list → With selected → Adjust credits."""

from __future__ import annotations

from datetime import datetime, time

from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Optional

from ..actions.adjust_credits import adjust_credits
from ..extensions import db
from ..models import Contact, Service
from .action_forms import ActionForm
from .action_pages import ActionPage, contact_tab
from .bulk_pages import BulkFlow
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

    def params(self) -> dict:
        """The adjustment, for each row of a bulk adjustment (``jobs.bulk_actions``)."""
        expires = self.expires_at()
        return {"service_id": self.service.data, "quantity": self.quantity.data,
                "reason": self.reason.data, "expires_at": expires.isoformat() if expires
                else None}

    def adjust(self, contact: Contact, key: str):
        return adjust_credits(contact, service=db.session.get(Service, self.service.data),
                              quantity=self.quantity.data, reason=self.reason.data,
                              expires_at=self.expires_at(), actor=current_user,
                              idempotency_key=key)


ADJUST_CREDITS = BulkFlow(
    name="adjust_credits", form=AdjustCreditsForm, noun="contacts", doing="adjust credits",
    title="Adjust credits of {count} contacts",
    intro="The same adjustment for each selected contact; a contact without enough credits to "
          "remove is skipped and reported.",
    submit_label="Adjust {count} contacts", action="adjust_credits",
    params=lambda form: form.params())


class CreditActionsMixin:
    """Mixed into the Contacts view."""

    @expose("/credits/adjust/", methods=("GET", "POST"))
    def adjust_credits_view(self):
        page = ActionPage.open(self, doing="adjust credits", back=contact_tab("credits"))
        contact = page.record
        form = AdjustCreditsForm()
        done = page.submit(form, lambda key: form.adjust(contact, key))
        if done is not None:
            return done
        return page.render(title=f"Adjust credits · {contact}",
                           intro="Add or remove service credits by hand. Every change is a "
                                 "line in the credit ledger.",
                           facts=[], form=form, submit_label="Save adjustment")

    @action("adjust_credits", "Adjust credits")
    def action_adjust_credits(self, ids):
        return self.bulk_page(ADJUST_CREDITS, ids)
