"""Appointments → ⋯ → No-show fee / Waive fee, and Appointments → With selected → Charge
no-show fee (workflow 12). The same ⋯ menu shows on the contact card's Appointments tab."""

from __future__ import annotations

from flask import flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_login import current_user
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Regexp

from ..actions.charge_no_show_fee import charge_no_show_fee
from ..actions.waive_no_show_fee import waive_no_show_fee
from ..billing.charging import default_card
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import Appointment, AppointmentStatus, CashierSettings, NoShowFeeStatus
from ..money import format_money
from .action_forms import ActionForm, submit
from .bulk import run_bulk, selected_ids
from .fields import MoneyField
from .formatting import format_datetime
from .row_menu import MenuItem

CONFIRM_LABEL = "The member did not come: confirm the no-show"


class NoShowFeeForm(ActionForm):
    currency = HiddenField()
    amount = MoneyField("No-show fee", validators=[InputRequired()],
                        description="Prefilled from Settings → Cashier settings.")
    confirm = BooleanField(CONFIRM_LABEL, validators=[DataRequired(CONFIRM_LABEL + ".")])


class WaiveFeeForm(ActionForm):
    reason = StringField("Reason", validators=[DataRequired("Say why the fee is waived.")],
                         description="E.g. “Called in sick, first time”. Kept on the "
                                     "appointment.")


class BulkNoShowFeeForm(ActionForm):
    appointment_ids = HiddenField()
    fee_minor = HiddenField(validators=[Regexp(r"^\d+$")])
    confirm = BooleanField("The members did not come: confirm these no-shows",
                           validators=[DataRequired("Confirm the no-shows.")])


def _fee_is_open(row: Appointment) -> bool:
    return (row.no_show_fee_status in (NoShowFeeStatus.NONE, NoShowFeeStatus.FAILED)
            and row.no_show_fee_payment_id is None
            and row.status in (AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW)
            and row.starts_at <= utcnow())


class NoShowActionsMixin:
    """Mixed into the Appointments view."""

    details_template = "admin/model/actions_details.html"

    def details_menu_items(self, row) -> list[MenuItem]:
        """The actions shown on the record's details page."""
        return self.no_show_menu_items(row)

    def no_show_menu_items(self, row) -> list[MenuItem]:
        if not self.may_write or not _fee_is_open(row):
            return []
        back = request.full_path if has_request_context() else None
        label = "Retry no-show fee" if row.no_show_fee_status is NoShowFeeStatus.FAILED \
            else "No-show fee"
        return [MenuItem(label, url_for(f"{self.endpoint}.no_show_fee_view", id=row.id,
                                        url=back), "fa-user-times"),
                MenuItem("Waive fee", url_for(f"{self.endpoint}.waive_fee_view", id=row.id,
                                              url=back), "fa-handshake-o")]

    def _appointment_and_back(self):
        appointment = self.get_one(request.args.get("id", ""))
        if appointment is None:
            flash("That appointment no longer exists.", "error")
            return None, redirect(url_for(".index_view"))
        back = get_redirect_target() or url_for(".index_view")
        if not self.may_write:
            flash(f"Your role ({current_user.role.label}) may not charge or waive no-show "
                  "fees.", "error")
            return None, redirect(back)
        return appointment, back

    def _appointment_facts(self, appointment: Appointment) -> list[tuple[str, str]]:
        card = default_card(appointment.contact)
        return [("Contact", appointment.contact.full_name),
                ("Service", str(appointment.service)),
                ("Time", format_datetime(appointment.starts_at)),
                ("Status", appointment.status.label),
                ("No-show fee", appointment.no_show_fee_status.label),
                ("Saved card", str(card) if card else "none: the fee cannot be charged")]

    @expose("/no-show-fee/", methods=("GET", "POST"))
    def no_show_fee_view(self):
        appointment, back = self._appointment_and_back()
        if appointment is None:
            return back
        settings = CashierSettings.get()
        form = NoShowFeeForm(currency=settings.currency, amount=settings.no_show_fee_minor)
        form.amount.currency = settings.currency
        if submit(form, lambda key: charge_no_show_fee(
                appointment, amount_minor=form.amount.data, actor=current_user,
                idempotency_key=key)):
            return redirect(back)
        if form.is_submitted():
            db.session.refresh(appointment)  # refused: a declined card is on record
        return self.render("admin/action_form.html",
                           title=f"No-show fee · {appointment.contact}",
                           intro="Confirm that the member missed this appointment and charge "
                                 "the fee to their saved card. A receipt is issued. An "
                                 "appointment carries at most one fee.",
                           facts=self._appointment_facts(appointment), form=form,
                           submit_label="Charge no-show fee", cancel_url=back)

    @expose("/waive-fee/", methods=("GET", "POST"))
    def waive_fee_view(self):
        appointment, back = self._appointment_and_back()
        if appointment is None:
            return back
        form = WaiveFeeForm()
        if submit(form, lambda key: waive_no_show_fee(
                appointment, reason=form.reason.data, actor=current_user, idempotency_key=key)):
            return redirect(back)
        return self.render("admin/action_form.html", title=f"Waive no-show fee · "
                                                           f"{appointment.contact}",
                           intro="Confirm the no-show without charging a fee. Once waived, "
                                 "no fee can be charged for this appointment.",
                           facts=self._appointment_facts(appointment), form=form,
                           submit_label="Waive fee", cancel_url=back)

    @action("charge_no_show_fee", "Charge no-show fee")
    def action_charge_no_show_fee(self, ids):
        ticked = selected_ids(self, ids)
        settings = CashierSettings.get()
        form = BulkNoShowFeeForm(formdata=None, appointment_ids=",".join(map(str, ticked)),
                                 fee_minor=str(settings.no_show_fee_minor))
        return self._render_bulk_no_show(form, len(ticked))

    def _render_bulk_no_show(self, form, count: int):
        settings = CashierSettings.get()
        fee_minor = form.fee_minor.data if (form.fee_minor.data or "").isdigit() else "0"
        fee = format_money(int(fee_minor), settings.currency)
        return self.render("admin/action_form.html",
                           title=f"Charge the no-show fee for {count} appointment(s)",
                           intro="Each selected appointment is confirmed as a no-show and its "
                                 "member's saved card is charged the default fee. Appointments "
                                 "already charged or waived, cancelled, attended, in the "
                                 "future, or whose card declines are skipped and reported.",
                           facts=[("Appointments", str(count)), ("Fee each", fee)],
                           form=form, submit_label=f"Charge {count} no-show fee(s)",
                           form_action=url_for(".no_show_fee_bulk_view"),
                           cancel_url=url_for(".index_view"))

    @expose("/no-show-fee-bulk/", methods=("POST",))
    def no_show_fee_bulk_view(self):
        form = BulkNoShowFeeForm()
        ids = [int(i) for i in (form.appointment_ids.data or "").split(",") if i.strip()]
        if not form.validate_on_submit():
            return self._render_bulk_no_show(form, len(ids))
        fee_minor = int(form.fee_minor.data or 0)

        def charge_one(appointment_id: int, key: str):
            appointment = db.session.get(Appointment, appointment_id)
            if appointment is None:
                raise ActionError("not_found", f"Appointment #{appointment_id} no longer "
                                               "exists.")
            return charge_no_show_fee(appointment, amount_minor=fee_minor, actor=current_user,
                                      idempotency_key=key)

        run_bulk(ids, charge_one, bulk_key=form.idempotency_key.data, done_word="charged")
        return redirect(url_for(".index_view"))

