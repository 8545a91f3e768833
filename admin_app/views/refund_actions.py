"""Cashier → Transactions → ⋯ → Refund, and the same on the contact card's Transactions tab
(workflow 1)."""

from __future__ import annotations

from flask import has_request_context, request, url_for
from flask_admin import expose
from flask_login import current_user
from wtforms import BooleanField, HiddenField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Optional

from ..actions.refund_payment import refund_payment
from ..billing.refunding import (
    has_credits_to_take_back,
    is_refund_candidate,
    pending_refunds_minor,
    refund_refusal,
    refundable_remainder,
)
from ..models import RefundReason
from ..money import format_money
from .action_forms import ActionForm
from .action_pages import ActionPage, contact_tab
from .fields import MoneyField
from .row_menu import MenuItem


class RefundForm(ActionForm):
    currency = HiddenField()
    amount = MoneyField("Amount to refund", validators=[InputRequired()],
                        description="Prefilled with everything that is left: a full refund. "
                                    "Lower it for a partial refund.")
    reason = SelectField("Reason", choices=[(r.value, r.label) for r in RefundReason],
                         default=RefundReason.REQUESTED_BY_CUSTOMER.value)
    note = TextAreaField("Note", validators=[Optional()],
                         description="Kept with the refund (required for reason “Other”).")
    reverse_credits = BooleanField("Also take back the credits this payment granted")


class RefundActionsMixin:
    """Mixed into the Transactions (payments) view."""

    details_template = "admin/model/actions_details.html"

    def details_menu_items(self, row) -> list[MenuItem]:
        """The actions shown on the record's details page."""
        return self.refund_menu_items(row)

    def refund_menu_items(self, row) -> list[MenuItem]:
        """⋯ → Refund on a payment with money left to refund, for roles that may refund."""
        if not self.may_write or not is_refund_candidate(row):
            return []
        back = request.full_path if has_request_context() else None
        return [MenuItem("Refund", url_for(f"{self.endpoint}.refund_view", id=row.id, url=back),
                         "fa-undo")]

    @expose("/refund/", methods=("GET", "POST"))
    def refund_view(self):
        page = ActionPage.open(self, doing="refund payments", back=contact_tab("transactions"))
        payment = page.record
        form = RefundForm(currency=payment.currency, amount=refundable_remainder(payment))
        form.amount.currency = payment.currency
        if not has_credits_to_take_back(payment):  # offered only where it does something
            del form.reverse_credits
        done = page.submit(form, lambda key: refund_payment(
            payment, amount_minor=form.amount.data, reason=RefundReason(form.reason.data),
            note=form.note.data,
            reverse_credits="reverse_credits" in form and form.reverse_credits.data,
            currency=form.currency.data or None, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        return self._render_refund(page, form)

    @staticmethod
    def _render_refund(page: ActionPage, form: RefundForm):
        payment = page.record
        money = lambda amount: format_money(amount, payment.currency)  # noqa: E731
        pending = pending_refunds_minor(payment)
        facts = [("Payment", f"#{payment.id} · {payment.purpose.label}"
                  + (f" · {payment.description}" if payment.description else "")),
                 ("Contact", payment.contact.full_name),
                 ("Paid", f"{money(payment.amount_minor)} by {payment.method.label.lower()}"),
                 ("Refunded so far", money(payment.amount_refunded_minor))]
        if pending:
            facts.append(("Refunds still pending", money(pending)))
        facts.append(("Remaining", money(refundable_remainder(payment))))
        refusal = refund_refusal(payment)
        warnings = [refusal.message] if refusal is not None else []
        intro = ("The refund goes back to the card through the payment processor."
                 if payment.method.value == "card" else
                 f"This payment was taken by {payment.method.label.lower()}: pay the money back "
                 "at the desk; the refund is recorded here.")
        return page.render(title=f"Refund payment #{payment.id}",
                           intro=intro + " A credit note is issued for it.", facts=facts,
                           warnings=warnings, form=form, submit_label="Refund", is_danger=True)
