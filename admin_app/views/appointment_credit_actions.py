"""Appointments → ⋯ → Mark attended / Cancel appointment / Charge the appointment (one with no
credit left), and Appointments → Create, which books through ``book_appointment``. The same ⋯
menu shows on the contact card's Appointments tab."""

from __future__ import annotations

from flask import has_request_context, request, url_for
from flask_admin import expose
from flask_login import current_user
from wtforms import RadioField

from ..actions.book_appointment import book_appointment
from ..actions.cancel_appointment import cancel_appointment
from ..actions.charge_appointment import charge_appointment
from ..actions.mark_attended import mark_attended
from ..billing.appointment_credits import is_cancelled_in_time
from ..billing.charging import default_card
from ..models import (
    Appointment,
    AppointmentCredit,
    AppointmentStatus,
    CashierSettings,
    PaymentMethodKind,
)
from ..money import format_money
from .action_forms import ActionForm
from .action_pages import ActionPage, create_through
from .formatting import format_datetime
from .row_menu import MenuItem


class ChargeAppointmentForm(ActionForm):
    charge_to = RadioField("Charge to", choices=[], default=PaymentMethodKind.CARD.value)

    def offer_methods(self, appointment: Appointment) -> None:
        card = default_card(appointment.contact)
        self.charge_to.choices = [
            (PaymentMethodKind.CARD.value, f"Saved card: {card.display_name}" if card else
             "Saved card: none saved yet"),
            (PaymentMethodKind.CASH.value, "Cash, taken at the desk"),
            (PaymentMethodKind.OTHER.value, "Other, taken outside the panel")]
        if card is None and not self.is_submitted():
            self.charge_to.data = PaymentMethodKind.CASH.value


class AppointmentCreditActionsMixin:
    """Mixed into the Appointments view."""

    def credit_menu_items(self, row) -> list[MenuItem]:
        if not self.may_write:
            return []
        back = request.full_path if has_request_context() else None
        items = []
        if row.status is AppointmentStatus.BOOKED:
            items += [MenuItem("Mark attended", url_for(f"{self.endpoint}.attend_view",
                                                        id=row.id, url=back), "fa-check"),
                      MenuItem("Cancel appointment", url_for(f"{self.endpoint}.cancel_view",
                                                             id=row.id, url=back), "fa-ban")]
        if row.credit_status is AppointmentCredit.MISSING:
            items.append(MenuItem("Charge the appointment",
                                  url_for(f"{self.endpoint}.charge_view", id=row.id, url=back),
                                  "fa-credit-card"))
        return items

    def _credit_facts(self, appointment: Appointment) -> list[tuple[str, str]]:
        return [("Contact", appointment.contact.full_name),
                ("Service", str(appointment.service)),
                ("Time", format_datetime(appointment.starts_at)),
                ("Status", appointment.status.label),
                ("Credit", appointment.credit_status.label)]

    def _open_credit_page(self, doing: str) -> ActionPage:
        return ActionPage.open(self, doing=doing)

    @expose("/attend/", methods=("GET", "POST"))
    def attend_view(self):
        page = self._open_credit_page("mark appointments attended")
        appointment, form = page.record, ActionForm()
        done = page.submit(form, lambda key: mark_attended(appointment, actor=current_user,
                                                           idempotency_key=key))
        if done is not None:
            return done
        use = CashierSettings.get().credit_use.label.lower()
        return page.render(title=f"Mark attended · {appointment.contact}",
                           intro=f"The member came. Credits are used {use} (Cashier settings): "
                                 "one credit of the service, the earliest-expiring first. "
                                 "Without a credit left the appointment is flagged “No credit "
                                 "left” and can be charged.",
                           facts=self._credit_facts(appointment), form=form,
                           submit_label="Mark attended")

    @expose("/cancel/", methods=("GET", "POST"))
    def cancel_view(self):
        page = self._open_credit_page("cancel appointments")
        appointment, form = page.record, ActionForm()
        done = page.submit(form, lambda key: cancel_appointment(
            appointment, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        hours = CashierSettings.get().cancel_notice_hours
        in_time = is_cancelled_in_time(appointment)
        facts = self._credit_facts(appointment) + [(
            "Its credit", "given back (cancelled in time)" if in_time else
            f"stays used (less than {hours} hours before it starts)")]
        return page.render(title=f"Cancel appointment · {appointment.contact}",
                           intro=f"An appointment cancelled at least {hours} hours before it "
                                 "starts gives its credit back (Cashier settings); a later "
                                 "cancellation keeps it used.",
                           facts=facts, form=form, submit_label="Cancel appointment")

    @expose("/charge/", methods=("GET", "POST"))
    def charge_view(self):
        page = self._open_credit_page("charge appointments")
        appointment = page.record
        form = ChargeAppointmentForm()
        form.offer_methods(appointment)
        done = page.submit(form, lambda key: charge_appointment(
            appointment, method=form.charge_to.data, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        service = appointment.service
        facts = self._credit_facts(appointment) + [
            ("Amount", format_money(service.price_minor, service.currency))]
        return page.render(title=f"Charge the appointment · {appointment.contact}",
                           intro="The member had no credit left for this appointment: charge "
                                 "the service's price instead. A receipt is issued.",
                           facts=facts, form=form, submit_label="Charge")

    def create_model(self, form):
        """Book through ``book_appointment`` (credits taken at booking when Cashier settings
        say so), said as every action page says it; a refusal keeps the form."""
        return create_through(lambda: book_appointment(
            form.contact.data, service=form.service.data, starts_at=form.starts_at.data,
            notes=form.notes.data, actor=current_user,
            idempotency_key=form.idempotency_key.data), form, Appointment)
