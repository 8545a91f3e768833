"""Appointments → ⋯ → No-show fee / Waive fee, and Appointments → With selected → Charge
no-show fee (workflow 12). The same ⋯ menu shows on the contact card's Appointments tab."""

from __future__ import annotations

from flask import has_request_context, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from wtforms import BooleanField, HiddenField, StringField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Regexp

from ..actions.charge_no_show_fee import charge_no_show_fee
from ..actions.waive_no_show_fee import waive_no_show_fee
from ..billing.charging import default_card
from ..billing.no_show_rules import fee_decision_refusal
from ..models import Appointment, CashierSettings, NoShowFeeStatus
from ..money import format_money
from .action_forms import ActionForm
from .action_pages import ActionPage
from .bulk_pages import BulkFlow
from .fields import MoneyField, is_large_amount
from .formatting import format_datetime
from .row_menu import MenuItem

CONFIRM_LABEL = "The member did not come: confirm the no-show"


class NoShowFeeForm(ActionForm):
    currency = HiddenField()
    amount = MoneyField("No-show fee", validators=[InputRequired()],
                        description="Prefilled from Settings → Cashier settings.")
    confirm = BooleanField(CONFIRM_LABEL, validators=[DataRequired(CONFIRM_LABEL + ".")])
    confirm_large = BooleanField("The fee is above the amount that asks for a confirmation "
                                 "(Settings: LARGE_AMOUNT): charge it all the same")

    def validate_confirm_large(self, field) -> None:
        if is_large_amount(self.amount.data, self.currency.data or "") and not field.data:
            raise ValidationError("This is a large fee: tick the box to confirm it.")


class WaiveFeeForm(ActionForm):
    reason = StringField("Reason", validators=[DataRequired("Say why the fee is waived.")],
                         description="E.g. “Called in sick, first time”. Kept on the "
                                     "appointment.")


def _default_fee() -> str:
    return str(CashierSettings.get().no_show_fee_minor)


class BulkNoShowFeeForm(ActionForm):
    """The default fee, as the page showed it, for every row."""

    fee_minor = HiddenField(default=_default_fee, validators=[Regexp(r"^[0-9]{1,12}$")])
    confirm = BooleanField("The members did not come: confirm these no-shows",
                           validators=[DataRequired("Confirm the no-shows.")])

    def fee(self) -> int:
        text = self.fee_minor.data or ""
        return int(text) if text.isascii() and text.isdecimal() else 0


def _fee_each(form: BulkNoShowFeeForm) -> list[tuple[str, str]]:
    return [("Fee each", format_money(form.fee(), CashierSettings.get().currency))]


CHARGE_NO_SHOW_FEES = BulkFlow(
    name="charge_no_show_fee", form=BulkNoShowFeeForm, noun="appointments",
    doing="charge or waive no-show fees",
    title="Charge the no-show fee for {count} appointment(s)",
    intro="Each selected appointment is confirmed as a no-show and its member's saved card is "
          "charged the default fee. Appointments already charged or waived, cancelled, "
          "attended, in the future, or whose card declines are skipped and reported.",
    submit_label="Charge {count} no-show fee(s)", action="charge_no_show_fee",
    params=lambda form: {"amount_minor": form.fee()}, facts=_fee_each)


class NoShowActionsMixin:
    """Mixed into the Appointments view."""

    details_template = "admin/model/actions_details.html"

    def details_menu_items(self, row) -> list[MenuItem]:
        """The actions shown on the record's details page."""
        return self.no_show_menu_items(row)

    def no_show_menu_items(self, row) -> list[MenuItem]:
        if not self.may_write or fee_decision_refusal(row) is not None:
            return []
        back = request.full_path if has_request_context() else None
        label = "Retry no-show fee" if row.no_show_fee_status is NoShowFeeStatus.FAILED \
            else "No-show fee"
        return [MenuItem(label, url_for(f"{self.endpoint}.no_show_fee_view", id=row.id,
                                        url=back), "fa-user-times"),
                MenuItem("Waive fee", url_for(f"{self.endpoint}.waive_fee_view", id=row.id,
                                              url=back), "fa-handshake-o")]

    def _open_appointment_page(self) -> ActionPage:
        return ActionPage.open(self, doing="charge or waive no-show fees")

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
        page = self._open_appointment_page()
        appointment, settings = page.record, CashierSettings.get()
        form = NoShowFeeForm(currency=settings.currency, amount=settings.no_show_fee_minor)
        form.amount.currency = settings.currency
        done = page.submit(form, lambda key: charge_no_show_fee(
            appointment, amount_minor=form.amount.data, actor=current_user,
            idempotency_key=key))
        if done is not None:
            return done
        return page.render(title=f"No-show fee · {appointment.contact}",
                           intro="Confirm that the member missed this appointment and charge "
                                 "the fee to their saved card. A receipt is issued. An "
                                 "appointment carries at most one fee.",
                           facts=self._appointment_facts(appointment), form=form,
                           submit_label="Charge no-show fee")

    @expose("/waive-fee/", methods=("GET", "POST"))
    def waive_fee_view(self):
        page = self._open_appointment_page()
        appointment = page.record
        form = WaiveFeeForm()
        done = page.submit(form, lambda key: waive_no_show_fee(
            appointment, reason=form.reason.data, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        return page.render(title=f"Waive no-show fee · {appointment.contact}",
                           intro="Confirm the no-show without charging a fee. Once waived, "
                                 "no fee can be charged for this appointment.",
                           facts=self._appointment_facts(appointment), form=form,
                           submit_label="Waive fee")

    @action("charge_no_show_fee", "Charge no-show fee")
    def action_charge_no_show_fee(self, ids):
        return self.bulk_page(CHARGE_NO_SHOW_FEES, ids)
